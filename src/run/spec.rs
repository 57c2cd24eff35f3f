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

use crate::codelength::{CodeKind, CodeSelection, RowOrder};
use crate::compare::parse_sds;
use crate::data::{builtin, builtin_names, ColumnSelection};
use crate::error::{Message, OccamError, Part, Result, Setting};
use crate::fit::{FitOptions, HessianKind, MlpOptions};
use crate::model::mlp::{Activation, Task};
use crate::model::Intercept;
use crate::prior::{CenterPath, CenterSpec, SdSpec};
use crate::run::flags::Flags;
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
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

    /// Re-raises a bad-input error from the library (which names the setting at fault first) at this
    /// location; computation failures (exit 1) pass through unchanged.
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

/// The models a spec can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Linear regression, exact evidence.
    Linear,
    /// Logistic regression, Laplace evidence.
    Logistic,
    /// A multilayer perceptron, Laplace evidence.
    Mlp,
}

impl ModelKind {
    /// The name used in specs and commands.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Logistic => "logistic",
            ModelKind::Mlp => "mlp",
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
    pub model: ModelKind,
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

// ---------------------------------------------------------------------------------------------
// The raw TOML shape. Every table denies unknown keys; values that need checking keep their span.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    title: Option<String>,
    description: Option<String>,
    formats: Option<Spanned<Vec<Spanned<String>>>>,
    // The single-study form: the study's tables at the top level.
    id: Option<Spanned<String>>,
    text: Option<String>,
    data: Option<Spanned<RawData>>,
    model: Option<RawModel>,
    priors: Option<Spanned<RawPriors>>,
    codes: Option<RawCodes>,
    outputs: Option<RawOutputs>,
    // The several-study form.
    #[serde(default)]
    study: Vec<Spanned<RawStudy>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStudy {
    id: Option<Spanned<String>>,
    title: Option<String>,
    text: Option<String>,
    data: Spanned<RawData>,
    model: Option<RawModel>,
    priors: Spanned<RawPriors>,
    codes: Option<RawCodes>,
    outputs: Option<RawOutputs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    path: Option<Spanned<String>>,
    builtin: Option<Spanned<String>>,
    target: Option<String>,
    features: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    rows: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    kind: Option<Spanned<String>>,
    intercept: Option<Spanned<String>>,
    standardize: Option<bool>,
    hidden: Option<Spanned<Vec<usize>>>,
    activation: Option<Spanned<String>>,
    task: Option<Spanned<String>>,
    restarts: Option<Spanned<usize>>,
    seed: Option<u64>,
    hessian: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriors {
    #[serde(alias = "centres")]
    centers: Option<Spanned<Vec<Spanned<String>>>>,
    sds: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    noise_sd: Option<Spanned<toml::Value>>,
    along: Option<Spanned<RawAlong>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlong {
    directions: Spanned<Vec<Spanned<String>>>,
    offsets: Spanned<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodes {
    compute: Option<Spanned<toml::Value>>,
    rank_by: Option<Spanned<String>>,
    shuffle: Option<u64>,
    first_block: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutputs {
    order: Option<Spanned<String>>,
    figures: Option<Vec<Spanned<String>>>,
}

// ---------------------------------------------------------------------------------------------

/// Turns byte offsets of the spec into locations.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn location(&self, span: &Range<usize>, key: &str) -> Location {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, rest)| rest)
            .chars()
            .count()
            + 1;
        Location {
            path: self.path.to_path_buf(),
            line,
            column,
            key: key.to_string(),
        }
    }

    fn error(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> OccamError {
        self.location(span, key).error(message)
    }
}

/// The dotted key whose key or value covers byte `at`, found by walking the parsed document with
/// its spans (a recoverable parse, so it works on documents with syntax errors too).
fn key_at(text: &str, at: usize) -> String {
    use toml::de::{DeTable, DeValue};
    fn walk(table: &DeTable<'_>, prefix: &str, at: usize) -> Option<String> {
        let join = |key: &str| {
            if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            }
        };
        for (key, value) in table.iter() {
            let name = join(key.get_ref());
            if key.span().contains(&at) {
                return Some(name);
            }
            match value.get_ref() {
                DeValue::Table(inner) => {
                    if let Some(found) = walk(inner, &name, at) {
                        return Some(found);
                    }
                }
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let indexed = format!("{name}[{}]", i + 1);
                        if let DeValue::Table(inner) = item.get_ref() {
                            if let Some(found) = walk(inner, &indexed, at) {
                                return Some(found);
                            }
                        }
                        if item.span().contains(&at) {
                            return Some(indexed);
                        }
                    }
                }
                _ => {}
            }
            if value.span().contains(&at) {
                return Some(name);
            }
        }
        None
    }
    let (document, _) = DeTable::parse_recoverable(text);
    walk(document.get_ref(), "", at).unwrap_or_default()
}

/// The Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(&word.to_lowercase(), c), *c))
        .min()
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .map(|(_, c)| c)
}

/// The words between backticks in a serde message.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// A `toml` deserialisation error as a spec error: the key found from the span, and for unknown
/// keys the closest valid one.
fn toml_error(source: &Source<'_>, error: &toml::de::Error) -> OccamError {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim().replace('\n', "; ");
    let mut key = key_at(source.text, span.start);
    let message = if let Some(rest) = message.strip_prefix("unknown field ") {
        let words = backticked(rest);
        let (unknown, valid) = words.split_first().map_or(("", &[][..]), |(u, v)| (*u, v));
        let hint = match closest(unknown, valid) {
            Some(best) => format!("did you mean `{best}`? "),
            None => String::new(),
        };
        format!(
            "unknown key `{unknown}`; {hint}the keys allowed here are {} (docs/run.md)",
            valid.join(", ")
        )
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        let missing = backticked(rest).first().copied().unwrap_or("");
        key = if key.is_empty() {
            missing.to_string()
        } else {
            format!("{key}.{missing}")
        };
        format!("`{missing}` is required here (docs/run.md)")
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        format!("wrong type: {message}")
    } else {
        if key.is_empty() {
            key = "(toml)".into();
        }
        format!("TOML syntax error: {message}")
    };
    source.error(&span, &key, message)
}

/// An optional enum-like string: the value among `choices` (case-insensitive), else an error
/// naming the closest.
fn choose<T: Copy>(
    source: &Source<'_>,
    value: &Spanned<String>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<T> {
    let text = value.get_ref().trim().to_lowercase();
    if let Some((_, v)) = choices.iter().find(|(name, _)| *name == text) {
        return Ok(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let hint = closest(&text, &names).map_or(String::new(), |b| format!("did you mean '{b}'? "));
    Err(source.error(
        &value.span(),
        key,
        format!(
            "unknown value '{}'; {hint}use one of {}",
            value.get_ref(),
            names.join(", ")
        ),
    ))
}

/// A spec path resolved against the spec's folder (absolute paths stay as they are).
fn resolve_path(base: &Path, text: &str) -> PathBuf {
    let path = Path::new(text);
    if path.is_absolute() || base.as_os_str().is_empty() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Reads and validates `SPEC.toml`.
pub fn load_spec(path: &Path) -> Result<RunSpec> {
    let text = crate::files::read_text_bounded(path, crate::files::MAX_SPEC_BYTES, "a study spec")?;
    parse_spec(path, &text)
}

/// Parses and validates a spec's text; `path` names it in errors and anchors relative paths.
pub fn parse_spec(path: &Path, text: &str) -> Result<RunSpec> {
    let source = Source { path, text };
    let raw: RawSpec = toml::from_str(text).map_err(|e| toml_error(&source, &e))?;
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
            let prefix = format!("study[{}].", i + 1);
            let s = study.get_ref();
            let id = match &s.id {
                Some(id) => id.clone(),
                None => Spanned::new(study.span(), format!("{stem}-{}", i + 1)),
            };
            studies.push(build_study(
                &source,
                &base,
                &prefix,
                &id,
                s.title.clone(),
                s.text.clone(),
                &s.data,
                s.model.as_ref(),
                &s.priors,
                s.codes.as_ref(),
                s.outputs.as_ref(),
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
            "",
            &id,
            raw.title.clone(),
            raw.text.clone(),
            data,
            raw.model.as_ref(),
            priors,
            raw.codes.as_ref(),
            raw.outputs.as_ref(),
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

/// A sd value of the spec: a number, "auto", "auto:zero" or (for sds) "logspace:LO:HI:N".
fn sd_values(
    source: &Source<'_>,
    value: &Spanned<toml::Value>,
    key: &str,
    allow_logspace: bool,
) -> Result<Vec<SdChoice>> {
    let span = value.span();
    let text = match value.get_ref() {
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::String(s) => s.trim().to_string(),
        other => {
            return Err(source.error(
                &span,
                key,
                format!(
                    "wrong type: expected a number or a string such as \"auto\", found a {}",
                    other.type_str()
                ),
            ))
        }
    };
    if text.eq_ignore_ascii_case("auto:zero") {
        return Ok(vec![SdChoice::AutoZero]);
    }
    if text.starts_with("logspace:") && !allow_logspace {
        return Err(source.error(
            &span,
            key,
            "logspace: is for the list of prior sds; give one number, \"auto\" or \"auto:zero\"",
        ));
    }
    let parsed = parse_sds(&text).map_err(|e| {
        let message = match e {
            OccamError::InvalidArgument { message, .. } => message.render(&Flags),
            other => other.render(&Flags),
        };
        source.error(
            &span,
            key,
            format!(
                "{message} (a sd is a positive number, \"auto\", \"auto:zero\"{})",
                if allow_logspace {
                    " or \"logspace:LO:HI:N\""
                } else {
                    ""
                }
            ),
        )
    })?;
    Ok(parsed.into_iter().map(SdChoice::Spec).collect())
}

/// One study's tables → a validated [`RunStudy`].
#[allow(clippy::too_many_arguments)]
fn build_study(
    source: &Source<'_>,
    base: &Path,
    prefix: &str,
    id: &Spanned<String>,
    title: Option<String>,
    text: Option<String>,
    data: &Spanned<RawData>,
    model: Option<&RawModel>,
    priors: &Spanned<RawPriors>,
    codes: Option<&RawCodes>,
    outputs: Option<&RawOutputs>,
) -> Result<RunStudy> {
    let key = |k: &str| format!("{prefix}{k}");
    let id_text = id.get_ref().trim().to_string();
    if id_text.is_empty()
        || !id_text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(source.error(
            &id.span(),
            &key("id"),
            format!("'{id_text}' cannot name files; use letters, digits, '-' and '_' only, e.g. id = \"why-zero\""),
        ));
    }

    // [data]
    let d = data.get_ref();
    let data_location = source.location(&data.span(), &key("data"));
    let data_source = match (&d.path, &d.builtin) {
        (Some(_), Some(b)) => {
            return Err(source.error(
                &b.span(),
                &key("data.builtin"),
                "give either path or builtin, not both",
            ))
        }
        (None, None) => {
            return Err(data_location.error(
                "no data: add path = \"FILE.csv\" (relative to the spec's folder) or builtin = \"NAME\" (see `occam datasets`)",
            ))
        }
        (Some(p), None) => {
            let resolved = resolve_path(base, p.get_ref());
            // A folder, FIFO or device is refused here, before any study runs (the shared check).
            if let Ok(meta) = std::fs::metadata(&resolved) {
                crate::files::check_regular(&meta, crate::files::MAX_DATA_BYTES, "a data file")
                    .map_err(|why| {
                        source.error(
                            &p.span(),
                            &key("data.path"),
                            format!("{} {why}", resolved.display()),
                        )
                    })?;
            }
            if !resolved.is_file() {
                return Err(source.error(
                    &p.span(),
                    &key("data.path"),
                    format!(
                        "no data file {} (paths are relative to the spec's folder); for a built-in data set write builtin = \"{}\"",
                        resolved.display(),
                        p.get_ref()
                    ),
                ));
            }
            DataSource::Path {
                read: resolved,
                shown: p.get_ref().clone(),
            }
        }
        (None, Some(b)) => match builtin(b.get_ref().trim()) {
            Some(found) => DataSource::Builtin(found.name.to_string()),
            None => {
                return Err(source.error(
                    &b.span(),
                    &key("data.builtin"),
                    format!(
                        "no built-in data set '{}'; the built-ins are {} (for a file write path = \"…\")",
                        b.get_ref(),
                        builtin_names()
                    ),
                ))
            }
        },
    };
    if d.features.is_some() && d.exclude.is_some() {
        return Err(data_location.error("give either features or exclude, not both"));
    }
    let rows = match &d.rows {
        None => Rows::All,
        Some(r) => {
            Rows::parse(r.get_ref()).map_err(|m| source.error(&r.span(), &key("data.rows"), m))?
        }
    };
    let selection = ColumnSelection {
        target: d.target.clone(),
        features: d.features.clone(),
        exclude: d.exclude.clone().unwrap_or_default(),
    };

    // [model]
    let default_model = RawModel::default();
    let m = model.unwrap_or(&default_model);
    let kind = match &m.kind {
        None => ModelKind::Linear,
        Some(k) => choose(
            source,
            k,
            &key("model.kind"),
            &[
                ("linear", ModelKind::Linear),
                ("logistic", ModelKind::Logistic),
                ("mlp", ModelKind::Mlp),
            ],
        )?,
    };
    let intercept = match &m.intercept {
        Some(text) => Intercept::parse(text.get_ref()).map_err(|e| {
            source.error(
                &text.span(),
                &key("model.intercept"),
                fault_message(e, Setting::Intercept),
            )
        })?,
        None if kind == ModelKind::Linear => Intercept::Centered,
        None => Intercept::Shared,
    };
    if let (Some(text), ModelKind::Linear) = (&m.intercept, kind) {
        if !matches!(intercept, Intercept::Centered | Intercept::None) {
            return Err(source.error(
                &text.span(),
                &key("model.intercept"),
                format!("'{}' is for logistic and MLP models; the linear model centres the data (\"centered\", its default) or has no intercept (\"none\")", text.get_ref()),
            ));
        }
    }

    let mlp_only = [
        ("hidden", m.hidden.as_ref().map(|h| h.span())),
        ("activation", m.activation.as_ref().map(|h| h.span())),
        ("task", m.task.as_ref().map(|h| h.span())),
        ("restarts", m.restarts.as_ref().map(|h| h.span())),
        ("hessian", m.hessian.as_ref().map(|h| h.span())),
    ];
    if kind != ModelKind::Mlp {
        if let Some((name, Some(span))) = mlp_only.iter().find(|(_, s)| s.is_some()) {
            return Err(source.error(
                span,
                &key(&format!("model.{name}")),
                format!(
                    "{name} applies to kind = \"mlp\" only; this study's model is {}",
                    kind.name()
                ),
            ));
        }
    }
    let mut mlp = MlpOptions::default();
    if let Some(h) = &m.hidden {
        if h.get_ref().is_empty() || h.get_ref().contains(&0) {
            return Err(source.error(
                &h.span(),
                &key("model.hidden"),
                "hidden needs at least one layer and every width ≥ 1, e.g. hidden = [16, 16]",
            ));
        }
        mlp.hidden = h.get_ref().clone();
    }
    if let Some(a) = &m.activation {
        mlp.activation = choose(
            source,
            a,
            &key("model.activation"),
            &[
                ("tanh", Activation::Tanh),
                ("sigmoid", Activation::Sigmoid),
                ("relu", Activation::Relu),
            ],
        )?;
    }
    if let Some(t) = &m.task {
        mlp.task = Some(choose(
            source,
            t,
            &key("model.task"),
            &[
                ("regression", Task::Regression),
                ("classification", Task::Classification),
            ],
        )?);
    }
    if let Some(r) = &m.restarts {
        if *r.get_ref() == 0 {
            return Err(source.error(
                &r.span(),
                &key("model.restarts"),
                "restarts must be at least 1",
            ));
        }
        mlp.restarts = *r.get_ref();
    }
    if let Some(seed) = m.seed {
        mlp.seed = seed;
    }
    if let Some(h) = &m.hessian {
        mlp.hessian = choose(
            source,
            h,
            &key("model.hessian"),
            &[("ggn", HessianKind::Ggn), ("exact", HessianKind::Exact)],
        )?;
    }

    // [codes]
    let default_codes = RawCodes::default();
    let c = codes.unwrap_or(&default_codes);
    let code_selection = match &c.compute {
        None => CodeSelection::default(),
        Some(v) => {
            let text = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                other => {
                    return Err(source.error(
                        &v.span(),
                        &key("codes.compute"),
                        format!("wrong type: expected \"all\", \"none\" or a list of strings such as [\"prequential\", \"bic\"], found a {}", other.type_str()),
                    ))
                }
            };
            CodeSelection::parse(&text).map_err(|e| {
                source.error(
                    &v.span(),
                    &key("codes.compute"),
                    fault_message(e, Setting::Codes),
                )
            })?
        }
    };
    let rank_by = match &c.rank_by {
        None => CodeKind::Mixture,
        Some(r) => choose(
            source,
            r,
            &key("codes.rank_by"),
            &[
                ("mixture", CodeKind::Mixture),
                ("prequential", CodeKind::Prequential),
                ("two_part", CodeKind::TwoPart),
                ("bic", CodeKind::Bic),
            ],
        )?,
    };
    let first_block = match &c.first_block {
        None => 16,
        Some(f) if *f.get_ref() == 0 => {
            return Err(source.error(
                &f.span(),
                &key("codes.first_block"),
                "the first prequential block needs at least one row",
            ))
        }
        Some(f) => *f.get_ref(),
    };

    // [priors]
    let p = priors.get_ref();
    let along = match &p.along {
        None => None,
        Some(a) => Some(build_along(source, base, prefix, a)?),
    };
    let mut centers = Vec::new();
    match &p.centers {
        None if along.is_some() => {}
        None => {
            return Err(source.error(
                &priors.span(),
                &key("priors.centers"),
                "no centres: add centers = [\"zero\", \"const:0.5\", …] (or a [priors.along] sweep)",
            ))
        }
        Some(list) if list.get_ref().is_empty() => {
            return Err(source.error(
                &list.span(),
                &key("priors.centers"),
                "the centre list is empty; give at least one, e.g. centers = [\"zero\", \"sha256:occam\"]",
            ))
        }
        Some(list) => {
            for (i, item) in list.get_ref().iter().enumerate() {
                let k = key(&format!("priors.centers[{}]", i + 1));
                let location = source.location(&item.span(), &k);
                let choice = parse_center(item.get_ref(), base, rows)
                    .map_err(|message| location.error(message))?;
                centers.push((choice, location));
            }
        }
    }
    let mut sds = Vec::new();
    match &p.sds {
        None => sds.push(SdChoice::Spec(SdSpec::Auto)),
        Some(list) if list.get_ref().is_empty() => return Err(source.error(
            &list.span(),
            &key("priors.sds"),
            "the sd list is empty; give at least one, e.g. sds = [\"auto\"] or sds = [0.1, 1, 10]",
        )),
        Some(list) => {
            for (i, item) in list.get_ref().iter().enumerate() {
                let k = key(&format!("priors.sds[{}]", i + 1));
                sds.extend(sd_values(source, item, &k, true)?);
            }
        }
    }
    let (noise_sd, noise_auto_zero) = match &p.noise_sd {
        None => (SdSpec::Auto, false),
        Some(v) => {
            let k = key("priors.noise_sd");
            if kind == ModelKind::Logistic {
                return Err(source.error(
                    &v.span(),
                    &k,
                    "the logistic model has no noise sd; remove noise_sd",
                ));
            }
            match sd_values(source, v, &k, false)?.as_slice() {
                [SdChoice::AutoZero] => (SdSpec::Auto, true),
                [SdChoice::Spec(s)] => (*s, false),
                _ => return Err(source.error(&v.span(), &k, "give one noise sd")),
            }
        }
    };
    if let Some(a) = &along {
        if sds.len() != 1 || sds[0] == SdChoice::Spec(SdSpec::Auto) {
            return Err(a.location.error(
                "offsets are in prior sds, so [priors.along] needs exactly one fixed sd: sds = [\"auto:zero\"] or sds = [NUMBER]",
            ));
        }
    }

    // [outputs]
    let default_outputs = RawOutputs::default();
    let o = outputs.unwrap_or(&default_outputs);
    let given_order = match &o.order {
        None => false,
        Some(order) => choose(
            source,
            order,
            &key("outputs.order"),
            &[("rank", false), ("given", true)],
        )?,
    };
    let mut figures = Vec::new();
    for (i, f) in o.figures.iter().flatten().enumerate() {
        let k = key(&format!("outputs.figures[{}]", i + 1));
        let figure = choose(
            source,
            f,
            &k,
            &[
                ("distance", FigureKind::Distance),
                ("log-sd", FigureKind::LogSd),
                ("offset", FigureKind::Offset),
            ],
        )?;
        if figure == FigureKind::Offset && along.is_none() {
            return Err(source.error(
                &f.span(),
                &k,
                "the offset figure plots a [priors.along] sweep; add one or drop the figure",
            ));
        }
        if !figures.contains(&figure) {
            figures.push(figure);
        }
    }

    Ok(RunStudy {
        id: id_text,
        title: title.unwrap_or_else(|| id.get_ref().clone()),
        text,
        data: data_source,
        rows,
        model: kind,
        fit: FitOptions {
            selection,
            noise_sd,
            intercept,
            order: c.shuffle.map_or(RowOrder::AsGiven, RowOrder::Shuffled),
            first_block,
            codes: code_selection,
            standardize: m.standardize.unwrap_or(true),
            mlp,
            ..FitOptions::default()
        },
        noise_auto_zero,
        centers,
        sds,
        along,
        rank_by,
        given_order,
        figures,
        data_location,
    })
}

/// The message of a library error about `setting`, for the spec's key that sets it: without the
/// setting at fault (the key names it), and with the settings its fix mentions spelled as flags,
/// as `occam run` has always printed them.
fn fault_message(error: OccamError, setting: Setting) -> String {
    match error {
        OccamError::InvalidArgument { message, .. } => message.render(&Flags),
        OccamError::Column {
            setting: at_fault,
            message,
        } if at_fault == setting => message.render(&Flags),
        other => other.render(&Flags),
    }
}

/// A centre of the spec: math.md §6's syntax, `fit:@rest`, paths against the spec's folder.
fn parse_center(text: &str, base: &Path, rows: Rows) -> std::result::Result<CenterChoice, String> {
    let text = text.trim();
    if text == "fit:@rest" {
        if rows == Rows::All {
            return Err("fit:@rest fits the rows that data.rows leaves out, but this study codes every row; set rows = \"odd\", \"even\" or \"START:END\" in [data]".into());
        }
        return Ok(CenterChoice::FitRest);
    }
    let spec = CenterSpec::parse(text).map_err(|e| {
        format!(
            "{} (centres: zero, const:V, vec:v1,v2,…, file:PATH, sha256:TEXT[:SCALE], truth, fit:PATH, fit:@rest)",
            fault_message(e, Setting::PriorCenter)
        )
    })?;
    // The file is opened in the spec's folder but shown as the spec wrote it, so labels and
    // commands do not depend on the working directory `occam run` was called from.
    Ok(CenterChoice::Spec(match spec {
        CenterSpec::File(p) => {
            let resolved = resolve_path(base, p.shown());
            if !resolved.is_file() {
                return Err(format!(
                    "no centre file {} (paths are relative to the spec's folder)",
                    resolved.display()
                ));
            }
            CenterSpec::File(CenterPath::shown_as(resolved, p.shown()))
        }
        CenterSpec::Fit(p) => {
            let resolved = resolve_path(base, p.shown());
            if !resolved.is_file() {
                return Err(format!(
                    "no donor data file {} for fit: (paths are relative to the spec's folder)",
                    resolved.display()
                ));
            }
            CenterSpec::Fit(CenterPath::shown_as(resolved, p.shown()))
        }
        other => other,
    }))
}

/// `[priors.along]` → directions and offsets.
fn build_along(
    source: &Source<'_>,
    base: &Path,
    prefix: &str,
    along: &Spanned<RawAlong>,
) -> Result<Along> {
    let a = along.get_ref();
    let location = source.location(&along.span(), &format!("{prefix}priors.along"));
    if a.directions.get_ref().is_empty() {
        return Err(source.error(
            &a.directions.span(),
            &format!("{prefix}priors.along.directions"),
            "no directions; give e.g. directions = [\"sha256:razor-1\", \"w*\"]",
        ));
    }
    let mut directions = Vec::new();
    for (i, d) in a.directions.get_ref().iter().enumerate() {
        let k = format!("{prefix}priors.along.directions[{}]", i + 1);
        let text = d.get_ref().trim();
        let direction = if text == "w*" {
            Direction::MapZero
        } else {
            match parse_center(text, base, Rows::All) {
                Ok(CenterChoice::Spec(CenterSpec::Zero)) => {
                    return Err(source.error(
                        &d.span(),
                        &k,
                        "zero has no direction; use a centre such as sha256:TEXT, vec:…, file:PATH, or w* (the zero-centred MAP)",
                    ))
                }
                Ok(CenterChoice::Spec(spec)) => Direction::Center(spec),
                Ok(CenterChoice::FitRest) => unreachable!("fit:@rest is refused for Rows::All"),
                Err(message) => return Err(source.error(&d.span(), &k, message)),
            }
        };
        directions.push((text.to_string(), direction));
    }
    let k = format!("{prefix}priors.along.offsets");
    let span = a.offsets.span();
    let offsets = match a.offsets.get_ref() {
        toml::Value::Array(items) => items
            .iter()
            .map(|v| match v {
                toml::Value::Integer(i) => Ok(*i as f64),
                toml::Value::Float(f) if f.is_finite() => Ok(*f),
                other => Err(source.error(
                    &span,
                    &k,
                    format!(
                        "wrong type: offsets are finite numbers, found a {}",
                        other.type_str()
                    ),
                )),
            })
            .collect::<Result<Vec<f64>>>()?,
        toml::Value::String(s) => linspace(s).map_err(|m| source.error(&span, &k, m))?,
        other => {
            return Err(source.error(
                &span,
                &k,
                format!(
                    "wrong type: expected a list of numbers or \"linspace:LO:HI:N\", found a {}",
                    other.type_str()
                ),
            ))
        }
    };
    if offsets.is_empty() {
        return Err(source.error(&span, &k, "no offsets; e.g. offsets = \"linspace:-4:4:17\""));
    }
    Ok(Along {
        directions,
        offsets,
        location,
    })
}

/// `linspace:LO:HI:N`: N evenly spaced values from LO to HI, computed as LO + (HI − LO)·i/(N − 1)
/// and rounded to 12 decimals so that e.g. 0.5 steps are exact.
fn linspace(text: &str) -> std::result::Result<Vec<f64>, String> {
    let bad = || {
        format!("'{text}': expected linspace:LO:HI:N with LO ≤ HI and N ≥ 1, e.g. linspace:-4:4:17")
    };
    let rest = text.trim().strip_prefix("linspace:").ok_or_else(bad)?;
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() != 3 {
        return Err(bad());
    }
    let lo: f64 = fields[0].trim().parse().map_err(|_| bad())?;
    let hi: f64 = fields[1].trim().parse().map_err(|_| bad())?;
    let n: usize = fields[2].trim().parse().map_err(|_| bad())?;
    if !(lo.is_finite() && hi.is_finite()) || lo > hi || n == 0 || n > 100_000 {
        return Err(bad());
    }
    Ok((0..n)
        .map(|i| {
            let v = if n == 1 {
                lo
            } else {
                lo + (hi - lo) * i as f64 / (n - 1) as f64
            };
            (v * 1e12).round() / 1e12
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

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
