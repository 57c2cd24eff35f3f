//! The study spec of `occam run SPEC.toml` (docs/run.md): a TOML file that describes one or more
//! studies on the user's own data — data, model, priors, codes and outputs — parsed into the
//! options of the same machinery `occam compare` and `occam report` use.
//!
//! Parsing is strict so that a typo never silently becomes a default: every table denies unknown
//! keys, and every error — a TOML syntax error, an unknown key (with the closest valid one), a
//! value of the wrong type, a bad centre or sd, a data file that is not there — is an
//! [`OccamError::Spec`] naming the file, the line and column, the dotted key and the fix.
//! Relative paths (data files, `file:` and `fit:` centres) resolve against the spec's folder, so a
//! spec runs the same from any working directory.
//!
//! The files: `raw` is the TOML shape serde reads; `source` turns positions into lines, columns
//! and dotted keys; `values` reads the values with their own syntax (sds, centres, sweeps);
//! `study` builds one validated study, step by step.

mod raw;
mod source;
mod study;
mod values;

use crate::codelength::CodeKind;
use crate::error::{Message, OccamError, Part, Result};
use crate::fit::FitOptions;
use crate::prior::{CenterSpec, SdSpec};
use crate::run::flags::Flags;
use source::{toml_error, Source};
use std::path::{Path, PathBuf};
use study::{build_study, StudyTables};
use toml::Spanned;

/// Where a value sits in the spec, for errors raised after parsing (loading the data, resolving a
/// centre): 1-based line and column and the dotted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The spec file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The dotted key.
    pub key: String,
}

impl Location {
    /// An [`OccamError::Spec`] at this location.
    pub fn error(&self, message: impl Into<String>) -> OccamError {
        OccamError::Spec {
            path: self.path.clone(),
            line: self.line,
            column: self.column,
            key: self.key.clone(),
            message: message.into(),
        }
    }

    /// Re-raises a bad-input error from the library (which names the setting at fault first) at
    /// this location; computation failures (exit 1) pass through unchanged.
    pub fn wrap(&self, error: OccamError) -> OccamError {
        match error {
            e @ (OccamError::Computation { .. } | OccamError::Spec { .. }) => e,
            other => {
                // The library names the setting at fault first ("target: …", "prior_center
                // file:…: …"); here the key stands in for it.
                let message = other.message();
                match message.parts().split_first() {
                    Some((Part::Setting(_), rest)) => self.error(
                        Message::from_parts(rest.to_vec())
                            .render(&Flags)
                            .trim_start_matches(':')
                            .trim_start(),
                    ),
                    _ => self.error(message.render(&Flags)),
                }
            }
        }
    }
}

/// Which rows of the data a study codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every row.
    All,
    /// Rows 0, 2, 4, … (0-based).
    Even,
    /// Rows 1, 3, 5, ….
    Odd,
    /// Rows `start..end` (0-based, end exclusive; `None` is the end of the data).
    Range(usize, Option<usize>),
}

impl Rows {
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!("'{text}' is not a row selection; use \"all\", \"even\", \"odd\" or \"START:END\" (0-based, END exclusive, either may be empty), e.g. \"0:221\"")
        };
        match text.trim() {
            "all" => Ok(Rows::All),
            "even" => Ok(Rows::Even),
            "odd" => Ok(Rows::Odd),
            other => {
                let (a, b) = other.split_once(':').ok_or_else(bad)?;
                let start = if a.trim().is_empty() {
                    0
                } else {
                    a.trim().parse().map_err(|_| bad())?
                };
                let end = if b.trim().is_empty() {
                    None
                } else {
                    Some(b.trim().parse::<usize>().map_err(|_| bad())?)
                };
                if end.is_some_and(|e| e <= start) {
                    return Err(format!("'{text}': END must be greater than START"));
                }
                Ok(Rows::Range(start, end))
            }
        }
    }

    /// Whether row `i` of `n` is coded.
    pub fn contains(self, i: usize, n: usize) -> bool {
        match self {
            Rows::All => true,
            Rows::Even => i % 2 == 0,
            Rows::Odd => i % 2 == 1,
            Rows::Range(start, end) => i >= start && i < end.unwrap_or(n),
        }
    }

    /// A short name for staged file names.
    pub fn label(self) -> String {
        match self {
            Rows::All => "all".into(),
            Rows::Even => "even".into(),
            Rows::Odd => "odd".into(),
            Rows::Range(start, Some(end)) => format!("rows-{start}-{end}"),
            Rows::Range(start, None) => format!("rows-{start}-end"),
        }
    }
}

/// A prior sd as a spec gives it: fixed, fitted per prior, or fitted once for the zero-centred
/// prior and then shared by every centre (`auto:zero`, the "same capacity for every centre"
/// comparison of the built-in "Why zero?" study).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SdChoice {
    /// As for `occam compare --sds`.
    Spec(SdSpec),
    /// Empirical Bayes for the zero-centred prior, then fixed for every centre.
    AutoZero,
}

/// A prior centre with the label it gets in tables.
#[derive(Debug, Clone, PartialEq)]
pub enum CenterChoice {
    /// A centre of math.md §6, paths resolved against the spec's folder.
    Spec(CenterSpec),
    /// `fit:@rest`: the MAP fitted on the rows `data.rows` leaves out (transfer).
    FitRest,
}

/// A direction of a `[priors.along]` sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum Direction {
    /// The coordinates of a centre, normalised to unit length.
    Center(CenterSpec),
    /// The zero-centred empirical-Bayes MAP w*, normalised.
    MapZero,
}

/// Centres t·s·u along unit directions u, at offsets t in prior sds (the built-in "razor" study).
#[derive(Debug, Clone, PartialEq)]
pub struct Along {
    /// The directions with their labels as written.
    pub directions: Vec<(String, Direction)>,
    /// The offsets t, in prior sds.
    pub offsets: Vec<f64>,
    /// Where `[priors.along]` is, for errors.
    pub location: Location,
}

/// The figures a study can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// Δ ranking code against ‖μ − w*‖, one point per prior.
    Distance,
    /// The ranking code against ln s, one line per centre.
    LogSd,
    /// Δ ranking code against the offset t of a `[priors.along]` sweep, one line per direction.
    Offset,
}

impl FigureKind {
    /// The name used in specs and file names.
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::Distance => "distance",
            FigureKind::LogSd => "log-sd",
            FigureKind::Offset => "offset",
        }
    }
}

/// Where a study's data come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// A CSV file: opened at `read` (resolved against the spec's folder) and shown as `shown`, the
    /// path as the spec wrote it, so tables and commands do not depend on the working directory.
    Path {
        /// The path occam opens.
        read: PathBuf,
        /// The path as the spec wrote it (relative to the spec's folder).
        shown: String,
    },
    /// A built-in data set.
    Builtin(String),
}

impl DataSource {
    /// The argument `data::load` takes.
    pub fn load_spec(&self) -> String {
        match self {
            DataSource::Path { read, .. } => read.display().to_string(),
            DataSource::Builtin(name) => name.clone(),
        }
    }

    /// The data as tables and commands name them: the path as the spec wrote it, or the built-in
    /// name.
    pub fn shown(&self) -> &str {
        match self {
            DataSource::Path { shown, .. } => shown,
            DataSource::Builtin(name) => name,
        }
    }

    /// A name for staged files and prose: the file stem or the built-in name.
    pub fn stem(&self) -> String {
        match self {
            DataSource::Path { read, .. } => read
                .file_stem()
                .map_or_else(|| "data".into(), |s| s.to_string_lossy().into_owned()),
            DataSource::Builtin(name) => name.clone(),
        }
    }
}

/// One validated study of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStudy {
    /// Id: file-name prefix of its tables and figures.
    pub id: String,
    /// Section heading.
    pub title: String,
    /// A paragraph of the user's own, if any.
    pub text: Option<String>,
    /// The data.
    pub data: DataSource,
    /// Which rows are coded.
    pub rows: Rows,
    /// The model.
    pub model: crate::fit::ModelKind,
    /// Columns, noise sd (when not `auto:zero`), intercept, codes, MLP options.
    pub fit: FitOptions,
    /// `noise_sd = "auto:zero"`.
    pub noise_auto_zero: bool,
    /// The centres, in the order given, each with its location.
    pub centers: Vec<(CenterChoice, Location)>,
    /// The prior sds, in the order given.
    pub sds: Vec<SdChoice>,
    /// A sweep of centres along directions, if any.
    pub along: Option<Along>,
    /// Whole priors (`[priors] structures`, math.md §8): when given, the study is a
    /// `compare --priors` table instead of centres × sds (which are then empty).
    pub structures: Vec<crate::prior::groups::PriorStructure>,
    /// The code that ranks the rows.
    pub rank_by: CodeKind,
    /// Rows of the table in rank order (default) or in the order priors were given.
    pub given_order: bool,
    /// Figures to draw.
    pub figures: Vec<FigureKind>,
    /// `[data]`, for load errors.
    pub data_location: Location,
}

/// A validated spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// The spec file as named on the command line.
    pub path: PathBuf,
    /// Its text (hashed and copied into the manifest).
    pub text: String,
    /// The heading of report.md.
    pub title: String,
    /// An opening paragraph.
    pub description: Option<String>,
    /// Table formats to write.
    pub formats: Vec<String>,
    /// The studies, in order.
    pub studies: Vec<RunStudy>,
}

/// Reads and validates `SPEC.toml`.
pub fn load_spec(path: &Path) -> Result<RunSpec> {
    let text = crate::files::read_text_bounded(path, crate::files::MAX_SPEC_BYTES, "a study spec")?;
    parse_spec(path, &text)
}

/// Parses and validates a spec's text; `path` names it in errors and anchors relative paths.
pub fn parse_spec(path: &Path, text: &str) -> Result<RunSpec> {
    let source = Source { path, text };
    let raw: raw::RawSpec = toml::from_str(text).map_err(|e| toml_error(&source, &e))?;
    let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let stem = path
        .file_stem()
        .map_or_else(|| "study".into(), |s| s.to_string_lossy().into_owned());

    let formats = match &raw.formats {
        None => crate::report::engine::TABLE_FORMATS
            .iter()
            .map(|f| f.to_string())
            .collect(),
        Some(list) => {
            let mut formats = Vec::new();
            for (i, f) in list.get_ref().iter().enumerate() {
                let key = format!("formats[{}]", i + 1);
                let name = f.get_ref().trim().to_lowercase();
                if !crate::report::engine::TABLE_FORMATS.contains(&name.as_str()) {
                    return Err(source.error(
                        &f.span(),
                        &key,
                        format!(
                            "unknown table format '{}'; use any of md, tex, csv, json",
                            f.get_ref()
                        ),
                    ));
                }
                if !formats.contains(&name) {
                    formats.push(name);
                }
            }
            formats
        }
    };

    let single = raw.data.is_some() || raw.priors.is_some();
    let mut studies = Vec::new();
    if !raw.study.is_empty() {
        if single
            || raw.model.is_some()
            || raw.codes.is_some()
            || raw.outputs.is_some()
            || raw.id.is_some()
            || raw.text.is_some()
        {
            let (key, span) = if let Some(d) = &raw.data {
                ("data", d.span())
            } else if let Some(p) = &raw.priors {
                ("priors", p.span())
            } else if let Some(id) = &raw.id {
                ("id", id.span())
            } else {
                ("study", raw.study[0].span())
            };
            return Err(source.error(&span, key, "a spec holds either one study at the top level ([data], [priors], …) or several [[study]] blocks, not both; move these tables into a [[study]] block"));
        }
        for (i, study) in raw.study.iter().enumerate() {
            let s = study.get_ref();
            let id = match &s.id {
                Some(id) => id.clone(),
                None => Spanned::new(study.span(), format!("{stem}-{}", i + 1)),
            };
            studies.push(build_study(
                &source,
                &base,
                &StudyTables {
                    prefix: format!("study[{}].", i + 1),
                    id,
                    title: s.title.clone(),
                    text: s.text.clone(),
                    data: &s.data,
                    model: s.model.as_ref(),
                    priors: &s.priors,
                    codes: s.codes.as_ref(),
                    outputs: s.outputs.as_ref(),
                },
            )?);
        }
    } else {
        let data = raw.data.as_ref().ok_or_else(|| {
            source.error(
                &(0..0),
                "data",
                "the spec has no [data] table (and no [[study]] blocks); add [data] with path = \"FILE.csv\" or builtin = \"NAME\"",
            )
        })?;
        let priors = raw.priors.as_ref().ok_or_else(|| {
            source.error(
                &(0..0),
                "priors",
                "the spec has no [priors] table; add [priors] with centers = [\"zero\", …]",
            )
        })?;
        let id = raw
            .id
            .clone()
            .unwrap_or_else(|| Spanned::new(0..0, stem.clone()));
        studies.push(build_study(
            &source,
            &base,
            &StudyTables {
                prefix: String::new(),
                id,
                title: raw.title.clone(),
                text: raw.text.clone(),
                data,
                model: raw.model.as_ref(),
                priors,
                codes: raw.codes.as_ref(),
                outputs: raw.outputs.as_ref(),
            },
        )?);
    }
    for (i, study) in studies.iter().enumerate() {
        if studies[..i].iter().any(|s| s.id == study.id) {
            return Err(study.data_location.error(format!(
                "two studies have the id '{}'; give each [[study]] its own id",
                study.id
            )));
        }
    }
    Ok(RunSpec {
        path: path.to_path_buf(),
        text: text.to_string(),
        title: raw.title.unwrap_or_else(|| format!("occam run — {stem}")),
        description: raw.description,
        formats,
        studies,
    })
}

#[cfg(test)]
mod tests {
    use super::source::closest;
    use super::values::linspace;
    use super::*;
    use crate::fit::ModelKind;
    use crate::model::mlp::Activation;
    use crate::model::Intercept;

    fn parse(text: &str) -> Result<RunSpec> {
        parse_spec(Path::new("spec.toml"), text)
    }

    fn spec_error(text: &str) -> (usize, String, String) {
        match parse(text) {
            Err(OccamError::Spec {
                line, key, message, ..
            }) => (line, key, message),
            other => panic!("expected a spec error, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_spec_takes_the_documented_defaults() {
        let spec = parse(
            "[data]\nbuiltin = \"diabetes\"\n[priors]\ncenters = [\"zero\", \"const:0.5\"]\n",
        )
        .unwrap();
        let study = &spec.studies[0];
        assert_eq!(study.id, "spec");
        assert_eq!(study.model, ModelKind::Linear);
        assert_eq!(study.sds, vec![SdChoice::Spec(SdSpec::Auto)]);
        assert_eq!(study.rank_by, CodeKind::Mixture);
        assert_eq!(study.fit.intercept, Intercept::Centered);
        assert_eq!(spec.formats, vec!["md", "tex", "csv", "json"]);
        assert_eq!(study.centers.len(), 2);
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_closest_key() {
        let (line, key, message) =
            spec_error("[data]\nbuiltin = \"diabetes\"\n\n[priors]\ncentrs = [\"zero\"]\n");
        assert_eq!(line, 5);
        assert_eq!(key, "priors.centrs");
        assert!(message.contains("did you mean `centers`"), "{message}");
    }

    #[test]
    fn values_are_checked_where_they_are() {
        let (line, key, message) = spec_error(
            "[data]\nbuiltin = \"diabetes\"\n[priors]\ncenters = [\n  \"zero\",\n  \"const:x\",\n]\n",
        );
        assert_eq!((line, key.as_str()), (6, "priors.centers[2]"));
        assert!(message.contains("const"), "{message}");
        let (line, key, _) = spec_error(
            "[[study]]\nid = \"a\"\n[study.data]\nbuiltin = \"diabetes\"\n[study.priors]\ncenters = [\"zero\"]\nsds = [1, -2]\n",
        );
        assert_eq!((line, key.as_str()), (7, "study[1].priors.sds[2]"));
        let (line, key, _) = spec_error("[data]\nbuiltin = 3\n[priors]\ncenters = [\"zero\"]\n");
        assert_eq!((line, key.as_str()), (2, "data.builtin"));
    }

    #[test]
    fn the_two_forms_do_not_mix_and_mlp_options_are_read() {
        let (line, key, message) = spec_error(
            "id = \"x\"\n[[study]]\n[study.data]\nbuiltin = \"iris\"\n[study.priors]\ncenters = [\"zero\"]\n",
        );
        assert_eq!((line, key.as_str()), (1, "id"));
        assert!(message.contains("[[study]]"), "{message}");
        let spec = parse(
            "[[study]]\n[study.data]\nbuiltin = \"breast_cancer\"\n[study.model]\nkind = \"mlp\"\nhidden = [4, 3]\nactivation = \"ReLU\"\nseed = 9\n[study.priors]\ncenters = [\"zero\"]\nsds = [\"logspace:-1:1:3\", 2]\n",
        )
        .unwrap();
        let study = &spec.studies[0];
        assert_eq!(study.id, "spec-1");
        assert_eq!(study.model, ModelKind::Mlp);
        assert_eq!(study.fit.mlp.hidden, vec![4, 3]);
        assert_eq!(study.fit.mlp.activation, Activation::Relu);
        assert_eq!(study.fit.mlp.seed, 9);
        assert_eq!(study.fit.intercept, Intercept::Shared);
        assert_eq!(study.sds.len(), 4);
    }

    #[test]
    fn rows_and_linspace_parse() {
        assert_eq!(Rows::parse("0:221"), Ok(Rows::Range(0, Some(221))));
        assert_eq!(Rows::parse("10:"), Ok(Rows::Range(10, None)));
        assert!(Rows::parse("5:5").is_err());
        assert_eq!(
            linspace("linspace:-4:4:17").unwrap()[..3],
            [-4.0, -3.5, -3.0]
        );
        assert_eq!(closest("centres", &["centers", "sds"]), Some("centers"));
        assert_eq!(closest("zzzzzz", &["centers", "sds"]), None);
    }
}
