//! `occam run SPEC.toml`: runs a spec's studies (see [`spec`]) through the same comparison
//! machinery as `occam compare` and writes them with the report engine — the same folder shape
//! as `occam report` (report.md, tables/, figures/, data/, manifest.json), atomic and
//! byte-identical on rerun.

pub mod flags;
pub mod spec;

use crate::compare::{compare, CompareOptions, Comparison};
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Result, Setting};
use crate::fit::{FitOptions, ModelKind};
use crate::prior::{CenterPath, CenterSpec, SdSpec};
use crate::report::command::Command;
use crate::report::compare_structures::StructuresReport;
use crate::report::engine::{write_sections, FolderOptions};
use crate::report::figure::Figure;
use crate::report::studies::centres::{add_two_part_notes, comparison_columns, two_part_form_cell};
use crate::report::studies::{Section, StudyContext};
use crate::report::table::{Cell, Column, Table};
use crate::run::flags::Flags;
use crate::simulate::to_csv;
use nalgebra::DVector;
use serde_json::json;
use sha2::{Digest, Sha256};
use spec::{CenterChoice, Direction, FigureKind, Rows, RunSpec, RunStudy, SdChoice};
use std::path::{Path, PathBuf};

/// The default output folder for a spec: `occam-run-STEM` in the working directory (a name of
/// its own, so it never replaces a folder the spec's data live in).
pub fn default_out(spec: &Path) -> PathBuf {
    let stem = spec
        .file_stem()
        .map_or_else(|| "spec".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("occam-run-{stem}"))
}

/// The command report.md and the tables show for a spec: the spec by its file name, run from its
/// own folder (which the paths it gives are relative to), so they do not depend on where occam
/// ran.
fn shown_command(spec: &RunSpec) -> Command {
    Command::occam("run", &Flags).argument(
        spec.path
            .file_name()
            .map_or_else(|| "SPEC.toml".into(), |n| n.to_string_lossy()),
    )
}

/// The name of a study's table: `ID-priors`.
fn table_name(study: &RunStudy) -> String {
    format!("{}-priors", study.id)
}

/// Runs the one study of `spec` that makes table `name` and renders the table as `format` (md,
/// tex, csv or json): what `occam run SPEC --table NAME --format FORMAT` prints, the same bytes
/// as `tables/NAME.FORMAT` of the folder `occam run SPEC` writes (data files staged by
/// [`StudyContext::in_temporary_folder`]).
pub fn render_table(spec: &RunSpec, name: &str, format: &str) -> Result<String> {
    let study = spec
        .studies
        .iter()
        .find(|s| table_name(s) == name)
        .ok_or_else(|| {
            let names: Vec<String> = spec.studies.iter().map(table_name).collect();
            crate::error::OccamError::invalid(
                Setting::Table,
                format!(
                    "{} makes no table '{name}'; its tables are {}",
                    spec.path.display(),
                    names.join(", ")
                ),
            )
        })?;
    let command = shown_command(spec);
    StudyContext::in_temporary_folder(&Flags, |context| run_study(study, context, &command))?
        .blocks
        .iter()
        .find_map(|block| match block {
            crate::report::studies::Block::Table(table) if table.name == name => {
                table.render(format)
            }
            _ => None,
        })
        .ok_or_else(|| {
            crate::error::OccamError::invalid(
                Setting::Format,
                format!(
                    "a table is written as {}, not '{format}'",
                    Table::FORMATS.join(", ")
                ),
            )
        })
}

/// Runs every study of `spec` and writes the folder `out`; returns the files written. `force`
/// lets an occam folder whose files were edited be replaced (see [`crate::files`]).
pub fn run_spec(
    spec: &RunSpec,
    out: &Path,
    command: &str,
    progress: bool,
    force: bool,
) -> Result<Vec<String>> {
    let mut manifest = serde_json::Map::new();
    manifest.insert(
        "spec".into(),
        json!({
            "path": spec.path.display().to_string(),
            "sha256": hex(&Sha256::digest(spec.text.as_bytes())),
            "contents": spec.text,
        }),
    );
    let seeds: serde_json::Map<String, serde_json::Value> = spec
        .studies
        .iter()
        .map(|s| {
            let shuffle = match s.fit.order {
                crate::codelength::RowOrder::Shuffled(seed) => json!(seed),
                crate::codelength::RowOrder::AsGiven => json!(null),
            };
            let mut seeds = json!({ "shuffle": shuffle });
            if s.model == ModelKind::Mlp {
                seeds["mlp_init"] = json!(s.fit.mlp.seed);
            }
            let listed = s.centers.iter().filter_map(|(c, _)| match c {
                CenterChoice::Spec(spec) => Some(spec),
                CenterChoice::FitRest => None,
            });
            let swept = s.along.iter().flat_map(|a| {
                a.directions.iter().filter_map(|(_, d)| match d {
                    Direction::Center(spec) => Some(spec),
                    Direction::MapZero => None,
                })
            });
            let texts: Vec<String> = listed
                .chain(swept)
                .filter_map(|spec| match spec {
                    CenterSpec::Sha256 { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            seeds["sha256_centres"] = json!(texts);
            (s.id.clone(), seeds)
        })
        .collect();
    manifest.insert("seeds".into(), serde_json::Value::Object(seeds));
    let shown_command = shown_command(spec);
    let options = FolderOptions {
        out: out.to_path_buf(),
        progress,
        command: shown_command.clone(),
        typed_command: command.to_string(),
        heading: spec.title.clone(),
        intro: spec.description.clone(),
        manifest,
        table_formats: spec.formats.clone(),
        force,
        merge: None,
        names: &Flags,
    };
    write_sections(&options, spec.studies.len(), |context, bar| {
        let mut sections = Vec::new();
        for study in &spec.studies {
            bar.set_message(study.title.clone());
            let mut section = run_study(study, context, &shown_command)?;
            section.data_files = context.take_data_files();
            sections.push(section);
            bar.inc(1);
        }
        Ok(sections)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The coded data, and the rows left out (staged in the folder's `data/` when `rows` holds
/// rows out, so every table's command reruns).
struct Staged {
    coded: Dataset,
    coded_printed: String,
    rest: Option<(PathBuf, String)>,
}

fn stage(study: &RunStudy, ctx: &StudyContext) -> Result<Staged> {
    let wrap = |e| study.data_location.wrap(e);
    let mut full = data::load(&study.data.load_spec(), &study.fit.selection).map_err(wrap)?;
    if study.rows == Rows::All {
        // Name the data as the spec did, not where this run found it.
        full.source = study.data.shown().to_string();
        return Ok(Staged {
            coded_printed: full.source.clone(),
            coded: full,
            rest: None,
        });
    }
    let n = full.n();
    let pick = |keep: bool| -> Result<Dataset> {
        let rows: Vec<usize> = (0..n)
            .filter(|&i| study.rows.contains(i, n) == keep)
            .collect();
        if rows.is_empty() {
            return Err(study.data_location.error(format!(
                "rows = \"{}\" {} of the {n} rows; choose a selection that codes some rows and, for fit:@rest, leaves some out",
                study.rows.label(),
                if keep { "selects none" } else { "leaves none" }
            )));
        }
        let x = rows
            .iter()
            .flat_map(|&i| full.row(i).iter().copied())
            .collect();
        let y = rows.iter().map(|&i| full.y[i]).collect();
        Dataset::new(
            full.source.clone(),
            full.feature_names.clone(),
            full.target_name.clone(),
            x,
            y,
        )
    };
    let coded = pick(true)?;
    let label = study.rows.label();
    let (coded_path, coded_printed) =
        ctx.data_file(&format!("{}-{label}.csv", study.id), &to_csv(&coded))?;
    let uses_rest = study
        .centers
        .iter()
        .any(|(c, _)| *c == CenterChoice::FitRest);
    let rest = if uses_rest {
        let rest = pick(false)?;
        Some(ctx.data_file(&format!("{}-rest.csv", study.id), &to_csv(&rest))?)
    } else {
        None
    };
    // Code the staged file, as the table's command will: the columns are now exactly the
    // selected features and the target.
    let selection = ColumnSelection {
        target: Some(coded.target_name.clone()),
        features: None,
        exclude: Vec::new(),
    };
    let mut coded = data::load(&coded_path.to_string_lossy(), &selection).map_err(wrap)?;
    coded.source = coded_printed.clone();
    Ok(Staged {
        coded,
        coded_printed,
        rest,
    })
}

/// One row of the study's table, in the order priors were given.
struct Row {
    label: String,
    direction: Option<(String, f64)>,
    evaluation: crate::fit::PriorEvaluation,
    delta_bits: Option<f64>,
    distance_from_w_star: f64,
    rank: usize,
}

fn run_study(study: &RunStudy, ctx: &StudyContext, command: &Command) -> Result<Section> {
    let staged = stage(study, ctx)?;
    let data = &staged.coded;
    let mut fit = study.fit.clone();
    if study.rows != Rows::All {
        fit.selection = ColumnSelection {
            target: Some(data.target_name.clone()),
            features: None,
            exclude: Vec::new(),
        };
    }
    if !study.structures.is_empty() {
        return run_structures(study, &fit, data, &staged);
    }
    let first_center = study.centers.first().map(|(_, l)| l.clone());
    let priors_location = first_center
        .clone()
        .or_else(|| study.along.as_ref().map(|a| a.location.clone()))
        .unwrap_or_else(|| study.data_location.clone());
    let build = |fit: &FitOptions| {
        fit.clone()
            .check(study.model)
            .and_then(|checked| checked.study(data))
            .map_err(|e| study.data_location.wrap(e))
    };
    let mut model = build(&fit)?;

    // auto:zero — empirical Bayes for the zero-centred prior, then shared by every centre; the
    // w* direction is that prior's MAP.
    let needs_zero_eb = study.noise_auto_zero
        || study.sds.contains(&SdChoice::AutoZero)
        || study.along.as_ref().is_some_and(|a| {
            a.directions
                .iter()
                .any(|(_, d)| matches!(d, Direction::MapZero))
        });
    let zero_eb = if needs_zero_eb {
        let noise = fit.noise_sd;
        Some(model.evaluate(
            &CenterSpec::Zero,
            model.resolve_center(&CenterSpec::Zero, SdSpec::Auto)?,
            SdSpec::Auto,
            noise,
            None,
        )?)
    } else {
        None
    };
    // auto:zero values come from the coded rows: when every row uses them they are charged
    // through --charge-reals (so the printed compare command reproduces the table); a mixed list
    // of sds charges its auto:zero rows below.
    let uniform_auto_zero_sd =
        !study.sds.is_empty() && study.sds.iter().all(|s| *s == SdChoice::AutoZero);
    fit.charged_reals += usize::from(uniform_auto_zero_sd);
    if study.noise_auto_zero {
        if let Some(sigma) = zero_eb.as_ref().and_then(|z| z.noise_sd) {
            fit.noise_sd = SdSpec::Fixed(sigma);
            fit.charged_reals += 1;
        }
    }
    if fit.charged_reals > 0 {
        model = build(&fit)?;
    }
    let sds: Vec<SdSpec> = study
        .sds
        .iter()
        .map(|s| match s {
            SdChoice::Spec(spec) => *spec,
            SdChoice::AutoZero => SdSpec::Fixed(zero_eb.as_ref().map_or(f64::NAN, |z| z.prior_sd)),
        })
        .collect();

    // Centres: the listed ones, then any sweep along directions.
    let mut centers: Vec<CenterSpec> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut directions: Vec<Option<(String, f64)>> = Vec::new();
    for (choice, _) in &study.centers {
        let (spec, label) = match choice {
            CenterChoice::Spec(spec) => (spec.clone(), spec.to_string()),
            CenterChoice::FitRest => {
                let (path, printed) = staged
                    .rest
                    .as_ref()
                    .ok_or_else(|| priors_location.error("fit:@rest has no rows left out"))?;
                let spec = CenterSpec::Fit(CenterPath::shown_as(path, printed.as_str()));
                let label = spec.to_string();
                (spec, label)
            }
        };
        centers.push(spec);
        labels.push(label);
        directions.push(None);
    }
    if let Some(along) = &study.along {
        let s = sds[0].fixed().unwrap_or(f64::NAN);
        for (name, direction) in &along.directions {
            let v: DVector<f64> = match direction {
                Direction::MapZero => zero_eb
                    .as_ref()
                    .map(|z| z.mode.clone())
                    .unwrap_or_else(|| DVector::zeros(0)),
                Direction::Center(spec) => {
                    model
                        .resolve_center(spec, SdSpec::Fixed(1.0))
                        .map_err(|e| along.location.wrap(e))?
                        .values
                }
            };
            let norm = v.norm();
            if !(norm > 0.0 && norm.is_finite()) {
                return Err(along.location.error(format!(
                    "the direction '{name}' has no length; choose another"
                )));
            }
            let u = v / norm;
            for &t in &along.offsets {
                let mu = &u * (t * s);
                centers.push(CenterSpec::Vector(mu.iter().copied().collect()));
                labels.push(format!("{name} × {t}"));
                directions.push(Some((name.clone(), t)));
            }
        }
    }

    let options = CompareOptions {
        fit: fit.clone(),
        centers: centers.clone(),
        sds: sds.clone(),
        rank_by: study.rank_by,
    };
    let mut comparison = compare(model.as_ref(), &options).map_err(|e| {
        // Blame the centre the message names, if it names one.
        let text = e.render(&Flags);
        let named = study
            .centers
            .iter()
            .zip(&labels)
            .find(|(_, label)| text.contains(label.as_str()))
            .map(|((_, location), _)| location);
        named.unwrap_or(&priors_location).wrap(e)
    })?;

    charge_data_derived_rows(
        study,
        &mut comparison,
        &centers,
        &directions,
        (!uniform_auto_zero_sd && study.sds.contains(&SdChoice::AutoZero))
            .then(|| zero_eb.as_ref().map(|z| SdSpec::Fixed(z.prior_sd)))
            .flatten(),
    );

    // w*: the zero-centred MAP at each sd (from the comparison when zero is listed).
    let mut w_star: Vec<(SdSpec, DVector<f64>)> = Vec::new();
    for &sd in &sds {
        if w_star.iter().any(|(s, _)| *s == sd) {
            continue;
        }
        let mode = match comparison.rows.iter().find(|r| {
            r.evaluation.center_spec == CenterSpec::Zero && r.evaluation.prior_sd_spec == sd
        }) {
            Some(row) => row.evaluation.mode.clone(),
            None => {
                model
                    .evaluate(
                        &CenterSpec::Zero,
                        model.resolve_center(&CenterSpec::Zero, sd)?,
                        sd,
                        fit.noise_sd,
                        None,
                    )?
                    .mode
            }
        };
        w_star.push((sd, mode));
    }

    let rows = order_rows(
        study,
        &comparison,
        &centers,
        &labels,
        &directions,
        &sds,
        &w_star,
    );
    let mut section = Section::new(&study.id, &study.title);
    if let Some(text) = &study.text {
        section.text(text.clone());
    }
    section.text(describe(
        study,
        &comparison,
        &staged,
        &sds,
        zero_eb.as_ref(),
    ));
    let table = table(study, &comparison, &rows, &staged, &labels, &sds, command);
    section.table(table);
    for kind in &study.figures {
        let (name, caption, figure) = figure(*kind, study, &comparison, &rows);
        section.figure(&name, &caption, figure);
    }
    section.text(summarise(study, &rows));
    Ok(section)
}

/// A study of whole priors (`[priors] structures`): `compare --priors` on the coded rows, one
/// table ranked by the mixture code.
fn run_structures(
    study: &RunStudy,
    fit: &FitOptions,
    data: &Dataset,
    staged: &Staged,
) -> Result<Section> {
    let comparison =
        crate::compare::structures::compare_structures(data, fit, study.model, &study.structures)
            .map_err(|e| study.data_location.wrap(e))?;
    let report = StructuresReport::from_comparison(&comparison, &Flags);
    let mut table = report.table();
    table.name = table_name(study);
    // The compare command with every setting of the study, its priors in place of centres × sds.
    let priors: Vec<String> = study
        .structures
        .iter()
        .map(|p| format!("'{}'", p.to_string().replace('\'', "'\\''")))
        .collect();
    table.command = compare_command(study, staged, &[], &[], fit).replacen(
        " --centers '' --sds ",
        &format!(" --priors {}", priors.join(" ")),
        1,
    );
    let mut section = Section::new(&study.id, &study.title);
    if let Some(text) = &study.text {
        section.text(text.clone());
    }
    section.text(format!(
        "{} whole prior(s) fitted with the {} model on {} ({} rows), each alone, ranked by the mixture code −log₂ p(y) + ½ log₂ n bits per real number estimated from the coded rows (every fitted group sd and σ).",
        study.structures.len(),
        study.model.name(),
        staged.coded_printed,
        data.n()
    ));
    section.table(table);
    if let (Some(best), Some(second)) = (report.rows.first(), report.rows.get(1)) {
        if let (Some(a), Some(b)) = (best.mixture_bits, second.mixture_bits) {
            section.text(format!(
                "Shortest: `{}` ({a:.1} bits), {:.1} bits ahead of `{}`.",
                best.prior,
                b - a,
                second.prior
            ));
        }
    }
    Ok(section)
}

/// Charges what `compare` could not know came from the coded rows, then re-ranks: the k
/// coordinates of a centre along the w* direction (t ≠ 0), and the auto:zero s of rows in a list
/// of sds that also has other values (`mixed_auto_zero`, that s as a fixed spec).
fn charge_data_derived_rows(
    study: &RunStudy,
    comparison: &mut Comparison,
    centers: &[CenterSpec],
    directions: &[Option<(String, f64)>],
    mixed_auto_zero: Option<SdSpec>,
) {
    let n = comparison.study.n;
    let along_w_star: Vec<&String> = study.along.as_ref().map_or(Vec::new(), |a| {
        a.directions
            .iter()
            .filter(|(_, d)| matches!(d, Direction::MapZero))
            .map(|(name, _)| name)
            .collect()
    });
    let mut charged = false;
    for row in &mut comparison.rows {
        let e = &mut row.evaluation;
        let from_w_star = centers.iter().zip(directions).any(|(spec, direction)| {
            *spec == e.center_spec
                && direction
                    .as_ref()
                    .is_some_and(|(name, t)| *t != 0.0 && along_w_star.contains(&name))
        });
        if from_w_star {
            let k = e.center.values.len();
            let bits = e.charge_estimates(k, n, "a centre along the zero-centred MAP w*");
            // The zero centre pays nothing for its centre: Δ grows by the whole charge.
            row.delta_bits = row.delta_bits.map(|d| d + bits);
            charged = true;
        }
        if mixed_auto_zero == Some(e.prior_sd_spec) {
            // The zero centre at this sd pays the same: Δ does not move.
            e.charge_estimates(1, n, "the auto:zero prior sd s");
            charged = true;
        }
    }
    if !charged {
        return;
    }
    let rank_by = comparison.rank_by;
    let key = |r: &crate::compare::CompareRow| rank_by.of(&r.evaluation.code_lengths);
    comparison.rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for row in &comparison.rows {
        for note in &row.evaluation.notes {
            if !comparison.notes.contains(note) {
                comparison.notes.push(note.clone());
            }
        }
    }
}

/// The comparison's rows matched back to the priors as given (sds outer, centres inner), each
/// with its rank, in rank order or given order as the spec asks.
fn order_rows(
    study: &RunStudy,
    comparison: &Comparison,
    centers: &[CenterSpec],
    labels: &[String],
    directions: &[Option<(String, f64)>],
    sds: &[SdSpec],
    w_star: &[(SdSpec, DVector<f64>)],
) -> Vec<Row> {
    let mut used = vec![false; comparison.rows.len()];
    let mut rows = Vec::new();
    for &sd in sds {
        let w = w_star
            .iter()
            .find(|(s, _)| *s == sd)
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| DVector::zeros(0));
        for (c, spec) in centers.iter().enumerate() {
            let Some(index) = comparison.rows.iter().enumerate().position(|(i, r)| {
                !used[i] && r.evaluation.center_spec == *spec && r.evaluation.prior_sd_spec == sd
            }) else {
                continue;
            };
            used[index] = true;
            let r = &comparison.rows[index];
            let mu = &r.evaluation.center.values;
            let distance = if w.len() >= mu.len() {
                (w.rows(0, mu.len()) - mu).norm()
            } else {
                f64::NAN
            };
            rows.push(Row {
                label: labels[c].clone(),
                direction: directions[c].clone(),
                evaluation: r.evaluation.clone(),
                delta_bits: r.delta_bits,
                distance_from_w_star: distance,
                rank: index + 1,
            });
        }
    }
    if !study.given_order {
        rows.sort_by_key(|r| r.rank);
    }
    rows
}

/// What was run, in a paragraph.
fn describe(
    study: &RunStudy,
    comparison: &Comparison,
    staged: &Staged,
    sds: &[SdSpec],
    zero_eb: Option<&crate::fit::PriorEvaluation>,
) -> String {
    let info = &comparison.study;
    let rows = match study.rows {
        Rows::All => "every row".to_string(),
        other => format!(
            "rows {} (staged as {})",
            other.label(),
            staged.coded_printed
        ),
    };
    let mut text = format!(
        "{} model on {} (n = {}, k = {}, target {}), coding {rows}; {} centre(s) × {} sd(s), ranked by the {} code (bits). Δ is that code minus the zero-centred prior's at the same sd; w* is the zero-centred MAP at the same sd.",
        info.kind,
        match study.rows {
            Rows::All => info.source.as_str(),
            _ => staged.coded_printed.as_str(),
        },
        info.n,
        info.feature_names.len(),
        info.target_name,
        comparison.rows.len() / sds.len().max(1),
        sds.len(),
        study.rank_by.name()
    );
    if let Some(z) = zero_eb {
        if study.sds.contains(&SdChoice::AutoZero) {
            text += &format!(
                " auto:zero: every centre shares the empirical-Bayes prior sd of the zero-centred prior, s = {}",
                z.prior_sd
            );
            if study.noise_auto_zero {
                if let Some(sigma) = z.noise_sd {
                    text += &format!(", and its noise sd σ = {sigma}");
                }
            }
            text += ", so every centre buys the same capacity.";
        }
    }
    text
}

#[allow(clippy::too_many_arguments)]
fn table(
    study: &RunStudy,
    comparison: &Comparison,
    rows: &[Row],
    staged: &Staged,
    labels: &[String],
    sds: &[SdSpec],
    command: &Command,
) -> Table {
    let along = study.along.is_some();
    let network = rows.iter().any(|r| r.evaluation.diagnostics.is_some());
    let mut columns = vec![Column::new("rank", "#"), Column::new("center", "centre")];
    if along {
        columns.push(Column::new("direction", "direction"));
        columns.push(Column::with_tex("offset_sd", "t (prior sds)", "$t$ [$s$]"));
    }
    columns.extend([
        Column::with_tex("sd", "s", "$s$"),
        Column::with_tex("noise_sd", "σ", "$\\sigma$"),
    ]);
    columns.extend(comparison_columns());
    columns.extend([
        Column::new("bic_bits", "bic (bits)"),
        Column::with_tex(
            "delta_bits",
            &format!("Δ {} vs zero (bits)", study.rank_by.name()),
            &format!("$\\Delta$ {} [bits]", study.rank_by.name()),
        ),
        Column::new("charged_bits", "charged (bits)"),
    ]);
    if network {
        columns.push(Column::new("saturation_fraction", "saturated"));
        columns.push(Column::new("dead_relu_fraction", "dead ReLU"));
    }
    let info = &comparison.study;
    let caption = format!(
        "{} ({} model, n = {}): {} — ranked by the {} code.",
        study.title,
        info.kind,
        info.n,
        if study.given_order {
            "rows in the order the priors were given"
        } else {
            "rows best first"
        },
        study.rank_by.name()
    );
    let regenerate = if along {
        command.to_string()
    } else {
        compare_command(study, staged, labels, sds, &comparison.study.options)
    };
    let mut table = Table::new(&table_name(study), &caption, columns, regenerate);
    // From the spec's folder, this reprints the table's files byte for byte.
    table.regenerate = Some(command.clone().with(Setting::Table, &table.name));
    for r in rows {
        let e = &r.evaluation;
        let mut cells = vec![Cell::Count(r.rank), Cell::text(r.label.clone())];
        if along {
            let (name, t) = r.direction.clone().unwrap_or_default();
            cells.push(Cell::text(name));
            cells.push(Cell::num(t, 1));
        }
        cells.extend([
            Cell::num(e.prior_sd, 4),
            Cell::opt(e.noise_sd, 4),
            Cell::num(r.distance_from_w_star, 3),
            Cell::opt(e.printed_effective_parameters(), 4),
            Cell::num(e.log_evidence, 3),
            Cell::opt(e.code_lengths.mixture, 2),
            Cell::opt(e.code_lengths.prequential, 2),
            Cell::opt(e.code_lengths.two_part, 2),
            two_part_form_cell(&e.code_lengths),
            Cell::opt(e.code_lengths.bic, 2),
            Cell::opt(r.delta_bits, 2),
            Cell::num(e.charge_bits, 2),
        ]);
        if network {
            let fraction = |key: &str| {
                Cell::opt(
                    e.diagnostics
                        .as_ref()
                        .and_then(|d| d.get(key))
                        .and_then(|v| v.as_f64()),
                    3,
                )
            };
            cells.push(fraction("saturation_fraction"));
            cells.push(fraction("dead_relu_fraction"));
        }
        table.push(cells);
    }
    add_two_part_notes(
        &mut table,
        rows.iter()
            .map(|r| (r.label.as_str(), r.evaluation.notes.as_slice())),
        &Flags,
    );
    // The last-layer evidence is a different model's (math.md §9): said under its table (a
    // study's rows share its options, so every row is one).
    if let Some(note) = rows
        .iter()
        .flat_map(|r| r.evaluation.notes.iter().map(|n| n.render(&Flags)))
        .find(|n| n.starts_with(crate::fit::EvidenceMethod::LaplaceLastLayer.name()))
    {
        table.note(format!("every row — {note}"));
    }
    table
}

/// The `occam compare` command that recomputes a study's numbers.
fn compare_command(
    study: &RunStudy,
    staged: &Staged,
    labels: &[String],
    sds: &[SdSpec],
    fit: &FitOptions,
) -> String {
    let mut command = format!("occam compare --data {}", staged.coded_printed);
    let selection = &fit.selection;
    if let Some(target) = &selection.target {
        command += &format!(" --target {target}");
    }
    if let Some(features) = &selection.features {
        command += &format!(" --features {}", features.join(","));
    }
    if !selection.exclude.is_empty() {
        command += &format!(" --exclude {}", selection.exclude.join(","));
    }
    if study.model != ModelKind::Linear {
        command += &format!(" --model {}", study.model.name());
    }
    command += &format!(" --centers '{}'", labels.join(";"));
    let sds: Vec<String> = sds.iter().map(|s| s.to_string()).collect();
    command += &format!(" --sds {}", sds.join(","));
    if let SdSpec::Fixed(sigma) = fit.noise_sd {
        command += &format!(" --noise-sd {sigma}");
    }
    if fit.charged_reals > 0 {
        command += &format!(" --charge-reals {}", fit.charged_reals);
    }
    if fit.intercept != study.model.default_intercept() {
        command += &format!(" --intercept {}", fit.intercept);
    }
    if !fit.standardize {
        command += " --no-standardize";
    }
    if let crate::codelength::RowOrder::Shuffled(seed) = fit.order {
        command += &format!(" --shuffle {seed}");
    }
    if fit.first_block != 16 {
        command += &format!(" --first-block {}", fit.first_block);
    }
    if fit.codes != crate::codelength::CodeSelection::default() {
        let c = fit.codes;
        let mut list = Vec::new();
        if c.prequential {
            list.push("prequential");
        }
        if c.two_part {
            list.push("two_part");
        }
        if c.bic {
            list.push("bic");
        }
        command += &format!(
            " --codes {}",
            if list.is_empty() {
                "none".to_string()
            } else {
                list.join(",")
            }
        );
    }
    if study.rank_by != crate::codelength::CodeKind::Mixture {
        command += &format!(" --rank-by {}", study.rank_by.name());
    }
    if study.model == ModelKind::Mlp {
        let m = &fit.mlp;
        let hidden: Vec<String> = m.hidden.iter().map(|h| h.to_string()).collect();
        command += &format!(
            " --hidden {} --activation {} --restarts {} --seed {} --hessian {}",
            hidden.join(","),
            m.activation.name(),
            m.restarts,
            m.seed,
            match m.hessian {
                crate::fit::HessianKind::Ggn => "ggn",
                crate::fit::HessianKind::Exact => "exact",
                crate::fit::HessianKind::Kfac => "kfac",
                crate::fit::HessianKind::Diag => "diag",
            }
        );
        if m.subset != crate::fit::Subset::All {
            command += &format!(" --subset {}", m.subset.name());
        }
        if let Some(task) = m.task {
            command += &format!(
                " --task {}",
                match task {
                    crate::model::mlp::Task::Regression => "regression",
                    crate::model::mlp::Task::Classification => "classification",
                }
            );
        }
    }
    command
}

fn figure(
    kind: FigureKind,
    study: &RunStudy,
    comparison: &Comparison,
    rows: &[Row],
) -> (String, String, Figure) {
    let code = study.rank_by.name();
    let name = format!("{}-{}", study.id, kind.name());
    match kind {
        FigureKind::Distance => {
            let mut figure = Figure::new(
                format!(
                    "{}: code length against the centre's distance from w*",
                    study.title
                ),
                "‖μ − w*‖ (w*: zero-centred MAP at the same s)",
                format!("Δ {code} code against zero (bits)"),
            );
            let mut sds: Vec<f64> = Vec::new();
            for r in rows {
                if !sds.contains(&r.evaluation.prior_sd) {
                    sds.push(r.evaluation.prior_sd);
                }
            }
            for s in sds {
                let points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.evaluation.prior_sd == s)
                    .filter_map(|r| r.delta_bits.map(|d| (r.distance_from_w_star, d)))
                    .collect();
                figure = figure.points(format!("s = {s:.4}"), points);
            }
            let caption = format!("Δ {code} code (bits, against the zero centre at the same s) against ‖μ − w*‖; one point per prior.");
            (name, caption, figure)
        }
        FigureKind::LogSd => {
            let mut figure = Figure::new(
                format!("{}: code length against ln s", study.title),
                "ln s",
                format!("{code} code (bits)"),
            );
            let mut labels: Vec<&str> = Vec::new();
            for r in rows {
                if !labels.contains(&r.label.as_str()) {
                    labels.push(&r.label);
                }
            }
            for label in labels {
                let mut points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.label == label)
                    .filter_map(|r| {
                        study
                            .rank_by
                            .of(&r.evaluation.code_lengths)
                            .map(|b| (r.evaluation.prior_sd.ln(), b))
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                figure = figure.line_and_points(label, points);
            }
            let caption = format!(
                "The {code} code (bits) against ln s, one line per centre ({} rows).",
                comparison.rows.len()
            );
            (name, caption, figure)
        }
        FigureKind::Offset => {
            let mut figure = Figure::new(
                format!("{}: code length as the centre moves", study.title),
                "offset t (prior sds)",
                format!("Δ {code} code against zero (bits)"),
            );
            let mut names: Vec<String> = Vec::new();
            for r in rows {
                if let Some((n, _)) = &r.direction {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
            for n in names {
                let mut points: Vec<(f64, f64)> = rows
                    .iter()
                    .filter_map(|r| match (&r.direction, r.delta_bits) {
                        (Some((d, t)), Some(delta)) if *d == n => Some((*t, delta)),
                        _ => None,
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                figure = figure.line_and_points(n, points);
            }
            let caption = format!("Δ {code} code (bits, against the zero centre) against the centre's offset t·s along each direction.");
            (name, caption, figure)
        }
    }
}

/// The result in a sentence, from the numbers.
fn summarise(study: &RunStudy, rows: &[Row]) -> String {
    let Some(best) = rows.iter().min_by_key(|r| r.rank) else {
        return "No priors were scored.".into();
    };
    let gammas: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.evaluation.printed_effective_parameters())
        .collect();
    let (lo, hi) = gammas
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), g| {
            (a.min(*g), b.max(*g))
        });
    let gamma_text = if hi - lo <= 1e-9 * hi.abs().max(1.0) {
        format!("γ = {lo:.4} for every prior")
    } else {
        format!("γ ranges from {lo:.3} to {hi:.3}")
    };
    let zero = rows
        .iter()
        .filter(|r| r.evaluation.center_spec == CenterSpec::Zero)
        .map(|r| r.rank)
        .min()
        .map_or(String::new(), |rank| {
            format!(
                " the best zero-centred prior ranks {rank} of {};",
                rows.len()
            )
        });
    format!(
        "The shortest {} code is {} at s = {:.4} ({} bits against zero);{zero} {gamma_text}.",
        study.rank_by.name(),
        best.label,
        best.evaluation.prior_sd,
        best.delta_bits
            .map_or("—".to_string(), |d| format!("{d:+.2}")),
    )
}
