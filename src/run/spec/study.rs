//! One study's tables → a validated [`RunStudy`], in named steps: the id, `[data]`, `[model]`,
//! `[codes]`, the model's rules (checked once, by [`FitOptions::problem`], and worded here at
//! the key that holds the value), `[priors]` and `[outputs]`.

use super::raw::{RawCodes, RawData, RawModel, RawOutputs, RawPriors};
use super::source::{choose, Source};
use super::values::{build_along, fault_message, parse_center, resolve_path, sd_values};
use super::{Along, CenterChoice, DataSource, FigureKind, Location, Rows, RunStudy, SdChoice};
use crate::codelength::{CodeKind, CodeSelection, RowOrder};
use crate::data::{builtin, builtin_names, ColumnSelection};
use crate::error::{Result, Setting};
use crate::fit::{FitOptions, HessianKind, MlpOptions, ModelKind, OptionsProblem, Subset};
use crate::model::mlp::{Activation, Task};
use crate::model::Intercept;
use crate::prior::groups::PriorStructure;
use crate::prior::{CenterPath, CenterSpec, SdSpec};
use std::path::Path;
use toml::Spanned;

/// One study's tables as the TOML gave them: the top-level tables of a single-study spec, or one
/// `[[study]]` block (then `prefix` is `study[N].`).
pub(super) struct StudyTables<'r> {
    /// Put before every dotted key of this study.
    pub prefix: String,
    /// The id as given, or made from the spec's file stem.
    pub id: Spanned<String>,
    /// The section heading, if given.
    pub title: Option<String>,
    /// A paragraph of the user's own, if given.
    pub text: Option<String>,
    /// `[data]`.
    pub data: &'r Spanned<RawData>,
    /// `[model]`, if given.
    pub model: Option<&'r RawModel>,
    /// `[priors]`.
    pub priors: &'r Spanned<RawPriors>,
    /// `[codes]`, if given.
    pub codes: Option<&'r RawCodes>,
    /// `[outputs]`, if given.
    pub outputs: Option<&'r RawOutputs>,
}

/// `[data]`, checked.
struct DataTable {
    source: DataSource,
    rows: Rows,
    selection: ColumnSelection,
    location: Location,
}

/// `[model]`, checked on its own (its rules against the other tables come later).
struct ModelTable {
    kind: ModelKind,
    intercept: Intercept,
    mlp: MlpOptions,
}

/// `[codes]`, checked.
struct CodesTable {
    selection: CodeSelection,
    rank_by: CodeKind,
    first_block: usize,
}

/// `[priors]`, checked.
struct PriorsTable {
    centers: Vec<(CenterChoice, Location)>,
    sds: Vec<SdChoice>,
    noise_sd: SdSpec,
    noise_auto_zero: bool,
    along: Option<Along>,
    structures: Vec<PriorStructure>,
}

/// `[outputs]`, checked.
struct OutputsTable {
    given_order: bool,
    figures: Vec<FigureKind>,
}

/// What every step needs: the spec's text (for locations), its folder (for paths) and the
/// study's key prefix.
struct Steps<'s> {
    source: &'s Source<'s>,
    base: &'s Path,
    prefix: &'s str,
}

/// One study's tables → a validated [`RunStudy`].
pub(super) fn build_study(
    source: &Source<'_>,
    base: &Path,
    tables: &StudyTables<'_>,
) -> Result<RunStudy> {
    let steps = Steps {
        source,
        base,
        prefix: &tables.prefix,
    };
    let id = steps.id(&tables.id)?;
    let data = steps.data(tables.data)?;
    let default_model = RawModel::default();
    let raw_model = tables.model.unwrap_or(&default_model);
    let model = steps.model(raw_model)?;
    let default_codes = RawCodes::default();
    let raw_codes = tables.codes.unwrap_or(&default_codes);
    let codes = steps.codes(raw_codes)?;
    let fit = FitOptions {
        selection: data.selection,
        intercept: model.intercept,
        order: raw_codes
            .shuffle
            .map_or(RowOrder::AsGiven, RowOrder::Shuffled),
        first_block: codes.first_block,
        codes: codes.selection,
        standardize: raw_model.standardize.unwrap_or(true),
        mlp: model.mlp,
        ..FitOptions::default()
    };
    steps.check_rules(&fit, model.kind, raw_model, raw_codes)?;
    let priors = steps.priors(tables.priors, model.kind, data.rows)?;
    let default_outputs = RawOutputs::default();
    let outputs = steps.outputs(
        tables.outputs.unwrap_or(&default_outputs),
        priors.along.is_some(),
    )?;
    if !priors.structures.is_empty() {
        let key = |k: &str| steps.key(k);
        if let Some(rank) = raw_codes
            .rank_by
            .as_ref()
            .filter(|r| r.get_ref() != "mixture")
        {
            return Err(source.error(
                &rank.span(),
                &key("codes.rank_by"),
                "structures are ranked by the mixture code (the only code every structure has); remove rank_by or set it to \"mixture\"",
            ));
        }
        if outputs.given_order || !outputs.figures.is_empty() {
            let span = tables.priors.span();
            return Err(source.error(
                &span,
                &key("outputs"),
                "a structures study writes one table, ranked by the mixture code: remove outputs.order and outputs.figures",
            ));
        }
    }
    Ok(RunStudy {
        id,
        title: tables
            .title
            .clone()
            .unwrap_or_else(|| tables.id.get_ref().clone()),
        text: tables.text.clone(),
        data: data.source,
        rows: data.rows,
        model: model.kind,
        fit: FitOptions {
            noise_sd: priors.noise_sd,
            ..fit
        },
        noise_auto_zero: priors.noise_auto_zero,
        centers: priors.centers,
        sds: priors.sds,
        along: priors.along,
        structures: priors.structures,
        rank_by: codes.rank_by,
        given_order: outputs.given_order,
        figures: outputs.figures,
        data_location: data.location,
    })
}

impl Steps<'_> {
    /// The dotted key `k` of this study.
    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }

    /// The id, which names files: letters, digits, '-' and '_'.
    fn id(&self, id: &Spanned<String>) -> Result<String> {
        let id_text = id.get_ref().trim().to_string();
        if id_text.is_empty()
            || !id_text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(self.source.error(
                &id.span(),
                &self.key("id"),
                format!("'{id_text}' cannot name files; use letters, digits, '-' and '_' only, e.g. id = \"why-zero\""),
            ));
        }
        Ok(id_text)
    }

    /// `[data]`: a file (resolved against the spec's folder, and there) or a built-in, the
    /// columns and the rows coded.
    fn data(&self, data: &Spanned<RawData>) -> Result<DataTable> {
        let d = data.get_ref();
        let data_location = self.source.location(&data.span(), &self.key("data"));
        let data_source = match (&d.path, &d.builtin) {
            (Some(_), Some(b)) => {
                return Err(self.source.error(
                    &b.span(),
                    &self.key("data.builtin"),
                    "give either path or builtin, not both",
                ))
            }
            (None, None) => {
                return Err(data_location.error(
                    "no data: add path = \"FILE.csv\" (relative to the spec's folder) or builtin = \"NAME\" (see `occam datasets`)",
                ))
            }
            (Some(p), None) => {
                let resolved = resolve_path(self.base, p.get_ref());
                // A folder, FIFO or device is refused here, before any study runs (the shared check).
                if let Ok(meta) = std::fs::metadata(&resolved) {
                    crate::files::check_regular(&meta, crate::files::MAX_DATA_BYTES, "a data file")
                        .map_err(|why| {
                            self.source.error(
                                &p.span(),
                                &self.key("data.path"),
                                format!("{} {why}", resolved.display()),
                            )
                        })?;
                }
                if !resolved.is_file() {
                    return Err(self.source.error(
                        &p.span(),
                        &self.key("data.path"),
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
                    return Err(self.source.error(
                        &b.span(),
                        &self.key("data.builtin"),
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
            Some(r) => Rows::parse(r.get_ref())
                .map_err(|m| self.source.error(&r.span(), &self.key("data.rows"), m))?,
        };
        let selection = ColumnSelection {
            target: d.target.clone(),
            features: d.features.clone(),
            exclude: d.exclude.clone().unwrap_or_default(),
        };

        Ok(DataTable {
            source: data_source,
            rows,
            selection,
            location: data_location,
        })
    }

    /// `[model]`: the kind, the intercept, and the network's keys (refused for other kinds).
    fn model(&self, m: &RawModel) -> Result<ModelTable> {
        let kind = match &m.kind {
            None => ModelKind::Linear,
            Some(k) => choose(
                self.source,
                k,
                &self.key("model.kind"),
                &[
                    ("linear", ModelKind::Linear),
                    ("logistic", ModelKind::Logistic),
                    ("mlp", ModelKind::Mlp),
                ],
            )?,
        };
        let intercept = match &m.intercept {
            Some(text) => Intercept::parse(text.get_ref()).map_err(|e| {
                self.source.error(
                    &text.span(),
                    &self.key("model.intercept"),
                    fault_message(e, Setting::Intercept),
                )
            })?,
            None => kind.default_intercept(),
        };

        let mlp_only = [
            ("hidden", m.hidden.as_ref().map(|h| h.span())),
            ("activation", m.activation.as_ref().map(|h| h.span())),
            ("task", m.task.as_ref().map(|h| h.span())),
            ("restarts", m.restarts.as_ref().map(|h| h.span())),
            ("hessian", m.hessian.as_ref().map(|h| h.span())),
            ("subset", m.subset.as_ref().map(|h| h.span())),
        ];
        if kind != ModelKind::Mlp {
            if let Some((name, Some(span))) = mlp_only.iter().find(|(_, s)| s.is_some()) {
                return Err(self.source.error(
                    span,
                    &self.key(&format!("model.{name}")),
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
                return Err(self.source.error(
                    &h.span(),
                    &self.key("model.hidden"),
                    "hidden needs at least one layer and every width ≥ 1, e.g. hidden = [16, 16]",
                ));
            }
            mlp.hidden = h.get_ref().clone();
        }
        if let Some(a) = &m.activation {
            mlp.activation = choose(
                self.source,
                a,
                &self.key("model.activation"),
                &[
                    ("tanh", Activation::Tanh),
                    ("sigmoid", Activation::Sigmoid),
                    ("relu", Activation::Relu),
                ],
            )?;
        }
        if let Some(t) = &m.task {
            mlp.task = Some(choose(
                self.source,
                t,
                &self.key("model.task"),
                &[
                    ("regression", Task::Regression),
                    ("classification", Task::Classification),
                ],
            )?);
        }
        if let Some(r) = &m.restarts {
            mlp.restarts = *r.get_ref();
        }
        if let Some(seed) = m.seed {
            mlp.seed = seed;
        }
        if let Some(h) = &m.hessian {
            mlp.hessian = choose(
                self.source,
                h,
                &self.key("model.hessian"),
                &[
                    ("ggn", HessianKind::Ggn),
                    ("exact", HessianKind::Exact),
                    ("kfac", HessianKind::Kfac),
                    ("diag", HessianKind::Diag),
                ],
            )?;
        }
        if let Some(subset) = &m.subset {
            mlp.subset = choose(
                self.source,
                subset,
                &self.key("model.subset"),
                &[("all", Subset::All), ("last-layer", Subset::LastLayer)],
            )?;
        }

        Ok(ModelTable {
            kind,
            intercept,
            mlp,
        })
    }

    /// `[codes]`: which codes, which ranks, and the first prequential block.
    fn codes(&self, c: &RawCodes) -> Result<CodesTable> {
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
                        return Err(self.source.error(
                            &v.span(),
                            &self.key("codes.compute"),
                            format!("wrong type: expected \"all\", \"none\" or a list of strings such as [\"prequential\", \"bic\"], found a {}", other.type_str()),
                        ))
                    }
                };
                CodeSelection::parse(&text).map_err(|e| {
                    self.source.error(
                        &v.span(),
                        &self.key("codes.compute"),
                        fault_message(e, Setting::Codes),
                    )
                })?
            }
        };
        let rank_by = match &c.rank_by {
            None => CodeKind::Mixture,
            Some(r) => choose(
                self.source,
                r,
                &self.key("codes.rank_by"),
                &[
                    ("mixture", CodeKind::Mixture),
                    ("prequential", CodeKind::Prequential),
                    ("two_part", CodeKind::TwoPart),
                    ("bic", CodeKind::Bic),
                ],
            )?,
        };
        let first_block = c
            .first_block
            .as_ref()
            .map_or(FitOptions::default().first_block, |f| *f.get_ref());

        Ok(CodesTable {
            selection: code_selection,
            rank_by,
            first_block,
        })
    }

    /// The model's rules against the options these tables give ([`FitOptions::problem`]),
    /// worded at the key that holds the value. (A noise sd for the logistic model is refused
    /// with `[priors]`, as a key that does not apply, like the network's keys.)
    fn check_rules(
        &self,
        fit: &FitOptions,
        kind: ModelKind,
        m: &RawModel,
        c: &RawCodes,
    ) -> Result<()> {
        let Some(problem) = fit.problem(kind) else {
            return Ok(());
        };
        let at = |value: Option<(std::ops::Range<usize>, &str)>, message: String| {
            let (span, key) = value.unwrap_or((0..0, ""));
            self.source.error(&span, &self.key(key), message)
        };
        Err(match problem {
            OptionsProblem::EmptyFirstBlock => at(
                c.first_block
                    .as_ref()
                    .map(|f| (f.span(), "codes.first_block")),
                "the first prequential block needs at least one row".into(),
            ),
            OptionsProblem::NoRestarts => at(
                m.restarts.as_ref().map(|r| (r.span(), "model.restarts")),
                "restarts must be at least 1".into(),
            ),
            OptionsProblem::Intercept(_) => {
                let text = m.intercept.as_ref();
                let message = match (kind, text) {
                    (ModelKind::Linear, Some(text)) => format!("'{}' is for logistic and MLP models; the linear model centres the data (\"centered\", its default) or has no intercept (\"none\")", text.get_ref()),
                    _ => fault_message(problem.into_error(kind), Setting::Intercept),
                };
                at(text.map(|t| (t.span(), "model.intercept")), message)
            }
            OptionsProblem::NoNoiseSd => at(
                None,
                fault_message(problem.into_error(kind), Setting::NoiseSd),
            ),
            OptionsProblem::GroupsLinearOnly => at(
                None,
                fault_message(problem.into_error(kind), Setting::Prior),
            ),
            // model.subset only reaches here for kind = "mlp" (a network-only key otherwise).
            OptionsProblem::SubsetNetworkOnly | OptionsProblem::SubsetWithoutHidden => at(
                m.subset.as_ref().map(|s| (s.span(), "model.subset")),
                fault_message(problem.into_error(kind), Setting::Subset),
            ),
            OptionsProblem::SubsetHessian(_) => at(
                m.hessian.as_ref().map(|h| (h.span(), "model.hessian")),
                fault_message(problem.into_error(kind), Setting::Hessian),
            ),
        })
    }

    /// `[priors]`: the centres (or a sweep along directions), the prior sds and the noise sd.
    fn priors(
        &self,
        priors: &Spanned<RawPriors>,
        kind: ModelKind,
        rows: Rows,
    ) -> Result<PriorsTable> {
        let p = priors.get_ref();
        let structures = self.structures(p, kind)?;
        let along = match &p.along {
            None => None,
            Some(a) => Some(build_along(self.source, self.base, self.prefix, a)?),
        };
        let mut centers = Vec::new();
        match &p.centers {
            None if along.is_some() || !structures.is_empty() => {}
            None => {
                return Err(self.source.error(
                    &priors.span(),
                    &self.key("priors.centers"),
                    "no centres: add centers = [\"zero\", \"const:0.5\", …] (or a [priors.along] sweep)",
                ))
            }
            Some(list) if list.get_ref().is_empty() => {
                return Err(self.source.error(
                    &list.span(),
                    &self.key("priors.centers"),
                    "the centre list is empty; give at least one, e.g. centers = [\"zero\", \"sha256:occam\"]",
                ))
            }
            Some(list) => {
                for (i, item) in list.get_ref().iter().enumerate() {
                    let k = self.key(&format!("priors.centers[{}]", i + 1));
                    let location = self.source.location(&item.span(), &k);
                    let choice = parse_center(item.get_ref(), self.base, rows)
                        .map_err(|message| location.error(message))?;
                    centers.push((choice, location));
                }
            }
        }
        let mut sds = Vec::new();
        match &p.sds {
            None if !structures.is_empty() => {}
            None => sds.push(SdChoice::Spec(SdSpec::Auto)),
            Some(list) if list.get_ref().is_empty() => return Err(self.source.error(
                &list.span(),
                &self.key("priors.sds"),
                "the sd list is empty; give at least one, e.g. sds = [\"auto\"] or sds = [0.1, 1, 10]",
            )),
            Some(list) => {
                for (i, item) in list.get_ref().iter().enumerate() {
                    let k = self.key(&format!("priors.sds[{}]", i + 1));
                    sds.extend(sd_values(self.source, item, &k, true)?);
                }
            }
        }
        let (noise_sd, noise_auto_zero) = match &p.noise_sd {
            None => (SdSpec::Auto, false),
            Some(v) => {
                let k = self.key("priors.noise_sd");
                if kind == ModelKind::Logistic {
                    return Err(self.source.error(
                        &v.span(),
                        &k,
                        "the logistic model has no noise sd; remove noise_sd",
                    ));
                }
                match sd_values(self.source, v, &k, false)?.as_slice() {
                    [SdChoice::AutoZero] if !structures.is_empty() => {
                        return Err(self.source.error(
                            &v.span(),
                            &k,
                            "\"auto:zero\" is for centre × sd studies; with structures give a number or \"auto\"",
                        ))
                    }
                    [SdChoice::AutoZero] => (SdSpec::Auto, true),
                    [SdChoice::Spec(s)] => (*s, false),
                    _ => return Err(self.source.error(&v.span(), &k, "give one noise sd")),
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

        Ok(PriorsTable {
            centers,
            sds,
            noise_sd,
            noise_auto_zero,
            along,
            structures,
        })
    }

    /// `[priors] structures = ["ard", "all=zero:auto", …]`: whole priors (the `--prior`
    /// syntax), each checked against the model; none of centers, sds and along beside them.
    fn structures(&self, p: &RawPriors, kind: ModelKind) -> Result<Vec<PriorStructure>> {
        let Some(list) = &p.structures else {
            return Ok(Vec::new());
        };
        let key = self.key("priors.structures");
        for (present, other) in [
            (p.centers.is_some(), "centers"),
            (p.sds.is_some(), "sds"),
            (p.along.is_some(), "along"),
        ] {
            if present {
                return Err(self.source.error(
                    &list.span(),
                    &key,
                    format!("structures lists whole priors, each with its own centres and sds; remove priors.{other} (centres × sds make the other kind of study)"),
                ));
            }
        }
        if list.get_ref().is_empty() {
            return Err(self.source.error(
                &list.span(),
                &key,
                "the list is empty; give at least one prior, e.g. structures = [\"all=zero:auto\", \"ard\"]",
            ));
        }
        let mut structures = Vec::new();
        for (i, item) in list.get_ref().iter().enumerate() {
            let k = self.key(&format!("priors.structures[{}]", i + 1));
            let mut structure = PriorStructure::parse(item.get_ref()).map_err(|e| {
                self.source
                    .error(&item.span(), &k, fault_message(e, Setting::Prior))
            })?;
            let options = FitOptions::for_kind(kind).with_prior(structure.clone());
            if options.problem(kind) == Some(OptionsProblem::GroupsLinearOnly) {
                return Err(self.source.error(
                    &item.span(),
                    &k,
                    "a prior of several groups is for the linear and logistic models only, for now; use one group (\"all=CENTER:SD\") or model.kind = \"linear\" or \"logistic\"",
                ));
            }
            // A group's `file:` centre is opened in the spec's folder and shown as written,
            // as a `centers` entry is.
            for group in structure.groups_mut() {
                if let CenterSpec::File(p) = &group.center {
                    let resolved = resolve_path(self.base, p.shown());
                    if !resolved.is_file() {
                        return Err(self.source.error(
                            &item.span(),
                            &k,
                            format!(
                                "no centre file {} (paths are relative to the spec's folder)",
                                resolved.display()
                            ),
                        ));
                    }
                    group.center = CenterSpec::File(CenterPath::shown_as(resolved, p.shown()));
                }
            }
            structures.push(structure);
        }
        Ok(structures)
    }

    /// `[outputs]`: the table's order and the figures (the offset figure needs a sweep).
    fn outputs(&self, o: &RawOutputs, has_along: bool) -> Result<OutputsTable> {
        let given_order = match &o.order {
            None => false,
            Some(order) => choose(
                self.source,
                order,
                &self.key("outputs.order"),
                &[("rank", false), ("given", true)],
            )?,
        };
        let mut figures = Vec::new();
        for (i, f) in o.figures.iter().flatten().enumerate() {
            let k = self.key(&format!("outputs.figures[{}]", i + 1));
            let figure = choose(
                self.source,
                f,
                &k,
                &[
                    ("distance", FigureKind::Distance),
                    ("log-sd", FigureKind::LogSd),
                    ("offset", FigureKind::Offset),
                ],
            )?;
            if figure == FigureKind::Offset && !has_along {
                return Err(self.source.error(
                    &f.span(),
                    &k,
                    "the offset figure plots a [priors.along] sweep; add one or drop the figure",
                ));
            }
            if !figures.contains(&figure) {
                figures.push(figure);
            }
        }

        Ok(OutputsTable {
            given_order,
            figures,
        })
    }
}
