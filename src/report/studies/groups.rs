//! Study 6 — One prior or many? Priors of several groups (math.md §8) against one shared s.
//!
//! (a) ARD — one s_g per input, fitted by empirical Bayes — against one shared s, on diabetes
//! (linear, exact evidence) and breast_cancer (logistic, Laplace evidence). Each row is the fit
//! `occam fit --prior PRIOR` makes and `occam compare --priors` ranks
//! ([`crate::compare::structures::row_of_fit`]); the mixture code is −log₂ p(y) plus ½ log₂ n bits
//! per fitted real (every s_g, σ), so the k extra scales pay for themselves exactly when
//! ln p(y) rises by more than their (k − 1)·½ ln n nats.

use super::{Section, StudyContext};
use crate::compare::structures::{row_of_fit, StructureRow};
use crate::data::{self, ColumnSelection};
use crate::error::{Result, Setting};
use crate::fit::{FitOptions, ModelFit, ModelKind};
use crate::prior::groups::PriorStructure;
use crate::report::command::Command;
use crate::report::figure::Figure;
use crate::report::table::{Cell, Column, Table};
use std::f64::consts::LN_2;

/// The one shared-s prior of this study, as `--prior` spells it.
pub const SHARED: &str = "all=zero:auto";
/// One s per input.
pub const ARD: &str = "ard";

/// One input's scale under ARD.
struct InputScale {
    name: String,
    /// s_g (0 when pruned).
    sd: f64,
    pruned: bool,
    /// γ_g.
    gamma: f64,
}

/// One data set of part (a): the two rows and ARD's per-input scales.
struct ArdCase {
    name: &'static str,
    model: ModelKind,
    n: usize,
    shared: StructureRow,
    shared_sd: f64,
    ard: StructureRow,
    inputs: Vec<InputScale>,
}

fn fit_row(
    data: &data::Dataset,
    model: ModelKind,
    prior: &str,
) -> Result<(StructureRow, f64, Vec<InputScale>)> {
    let structure = PriorStructure::parse(prior)?;
    // Named as `compare --priors` names it (`ard` is printed `ard=zero:auto`).
    let text = structure.to_string();
    let options = FitOptions::for_kind(model)
        .with_prior(structure)
        .check(model)?;
    let fit = options.fit(data)?;
    let row = row_of_fit(&text, &fit, data.n());
    let (shared_sd, groups) = match &fit {
        ModelFit::Linear(f) => (f.evaluation.prior_sd, Vec::new()),
        ModelFit::Logistic(f) => (f.evaluation.prior_sd, Vec::new()),
        ModelFit::Softmax(f) => (f.evaluation.prior_sd, Vec::new()),
        ModelFit::Mlp(f) => (f.evaluation.prior_sd, Vec::new()),
        ModelFit::GroupedLinear(f) => (f64::NAN, f.groups.clone()),
        ModelFit::GroupedLaplace(f) => (f64::NAN, f.groups.clone()),
    };
    // The inputs' own groups, in the data's column order (the biases' group is not an input).
    let inputs = data
        .feature_names
        .iter()
        .filter_map(|name| groups.iter().find(|g| &g.name == name))
        .map(|g| InputScale {
            name: g.name.clone(),
            sd: g.sd,
            pruned: g.pruned,
            gamma: g.effective_parameters,
        })
        .collect();
    Ok((row, shared_sd, inputs))
}

fn ard_case(name: &'static str, model: ModelKind) -> Result<ArdCase> {
    let data = data::load(name, &ColumnSelection::default())?;
    let (shared, shared_sd, _) = fit_row(&data, model, SHARED)?;
    let (ard, _, inputs) = fit_row(&data, model, ARD)?;
    Ok(ArdCase {
        name,
        model,
        n: data.n(),
        shared,
        shared_sd,
        ard,
        inputs,
    })
}

fn compare_command(ctx: &StudyContext, case: &ArdCase) -> Command {
    let mut command = Command::occam("compare", ctx.names).with(Setting::Data, case.name);
    if case.model != ModelKind::Linear {
        command = command.with(Setting::Model, case.model.name());
    }
    command.with(Setting::Priors, format!("'{SHARED}' {ARD}"))
}

fn fit_command(ctx: &StudyContext, case: &ArdCase) -> Command {
    let mut command = Command::occam("fit", ctx.names).with(Setting::Data, case.name);
    if case.model != ModelKind::Linear {
        command = command.with(Setting::Model, case.model.name());
    }
    command.with(Setting::Prior, ARD)
}

fn structure_row_cells(row: &StructureRow, switched_off: String) -> Vec<Cell> {
    vec![
        Cell::text(row.prior.clone()),
        Cell::num(row.groups as f64, 0),
        Cell::num(row.pruned as f64, 0),
        Cell::num(row.log_evidence, 2),
        Cell::opt(row.effective_parameters, 2),
        Cell::num(row.parameters as f64, 0),
        Cell::num(row.charged_reals as f64, 0),
        Cell::num(row.charge_bits, 2),
        Cell::opt(row.mixture, 2),
        Cell::opt(row.prequential, 2),
        Cell::opt(row.two_part, 2),
        Cell::opt(row.bic, 2),
        Cell::text(if switched_off.is_empty() {
            "—".to_string()
        } else {
            switched_off
        }),
    ]
}

fn ard_table(ctx: &StudyContext, case: &ArdCase) -> Table {
    let mut table = Table::new(
        &format!("groups-ard-{}", case.name.replace('_', "-")),
        &format!(
            "One shared s against one s per input (ARD) on {} ({}, n = {}): each prior's evidence, the bits charged for its fitted scales, and its codes.",
            case.name,
            case.model.name(),
            case.n
        ),
        vec![
            Column::new("prior", "prior"),
            Column::new("groups", "groups"),
            Column::new("pruned", "pruned"),
            Column::with_tex("log_evidence_nats", "ln p", "$\\ln p$"),
            Column::with_tex("effective_parameters", "γ", "$\\gamma$"),
            Column::with_tex("parameters", "P", "$P$"),
            Column::new("charged_reals", "charged reals"),
            Column::new("charged_bits", "charged (bits)"),
            Column::new("mixture_bits", "mixture (bits)"),
            Column::new("prequential_bits", "prequential (bits)"),
            Column::new("two_part_bits", "two-part (bits)"),
            Column::new("bic_bits", "BIC (bits)"),
            Column::new("switched_off", "inputs switched off"),
        ],
        compare_command(ctx, case).to_string(),
    );
    let off: Vec<String> = case
        .inputs
        .iter()
        .filter(|i| i.pruned)
        .map(|i| i.name.clone())
        .collect();
    table.push(structure_row_cells(&case.shared, String::new()));
    table.push(structure_row_cells(&case.ard, off.join(", ")));
    table
}

/// What the two rows of one data set say, computed from them.
fn ard_finding(case: &ArdCase) -> String {
    let (shared, ard) = (&case.shared, &case.ard);
    let off: Vec<&str> = case
        .inputs
        .iter()
        .filter(|i| i.pruned)
        .map(|i| i.name.as_str())
        .collect();
    let k = case.inputs.len();
    let gain_bits = (ard.log_evidence - shared.log_evidence) / LN_2;
    let switched = if off.is_empty() {
        format!("ARD switches off none of the {k} inputs")
    } else if off.len() <= 8 {
        format!(
            "ARD switches off {} of the {k} inputs ({}: s_g → 0, their weights held at zero)",
            off.len(),
            off.join(", ")
        )
    } else {
        format!(
            "ARD switches off {} of the {k} inputs (s_g → 0, their weights held at zero; listed in the tables above)",
            off.len()
        )
    };
    let verdict = match (shared.mixture, ard.mixture) {
        (Some(a), Some(b)) => {
            let delta = b - a;
            if delta < 0.0 {
                format!(
                    "the extra scales pay for their bits: ARD's mixture code is {:.1} bits shorter ({b:.1} against {a:.1})",
                    -delta
                )
            } else {
                format!(
                    "the extra scales do not pay for their bits: ARD's mixture code is {delta:.1} bits longer ({b:.1} against {a:.1})"
                )
            }
        }
        _ => "one of the two mixture codes could not be computed".to_string(),
    };
    // Inputs kept but all but switched off: their weights carry under 1% of a parameter.
    let faint: Vec<&str> = case
        .inputs
        .iter()
        .filter(|i| !i.pruned && i.gamma < 0.01)
        .map(|i| i.name.as_str())
        .collect();
    let switched = if faint.is_empty() {
        switched
    } else {
        format!(
            "{switched}, and keeps {} more with γ_g < 0.01 ({})",
            faint.len(),
            faint.join(", ")
        )
    };
    format!(
        "{}: {switched}. Its evidence is {} by {:.1} bits (ln p {:.2} against {:.2} nats), while its {} fitted reals cost {:.1} bits against the shared prior's {} ({:.1} bits, ½ log₂ {} = {:.2} bits each) — {verdict}.",
        case.name,
        if gain_bits >= 0.0 { "higher" } else { "lower" },
        gain_bits.abs(),
        ard.log_evidence,
        shared.log_evidence,
        ard.charged_reals,
        ard.charge_bits,
        shared.charged_reals,
        shared.charge_bits,
        case.n,
        0.5 * (case.n as f64).log2(),
    )
}

/// Part (a): the tables, the per-input figure and what they show.
fn ard_part(ctx: &StudyContext, section: &mut Section) -> Result<()> {
    section.text(
        "Each input can have its own prior scale s_g, fitted by empirical Bayes (automatic relevance determination, ARD): an input whose s_g goes to 0 is switched off, its weight held at zero. ARD and one shared s are compared on diabetes (linear-Gaussian: exact evidence, σ fitted) and breast_cancer (logistic: Laplace evidence). Every fitted scale (and σ) is a real number read off the coded rows and is charged ½ log₂ n bits in the codes, so ARD's k scales pay for themselves only when the evidence rises by more than what the k − 1 extra ones cost.",
    );
    let cases = [
        ard_case("diabetes", ModelKind::Linear)?,
        ard_case("breast_cancer", ModelKind::Logistic)?,
    ];
    for case in &cases {
        section.table(ard_table(ctx, case));
    }
    let mut inputs = Table::new(
        "groups-ard-inputs",
        "Each input's fitted ARD scale s_g (0 when pruned) and γ_g, beside the one shared s.",
        vec![
            Column::new("data", "data"),
            Column::new("input", "input"),
            Column::with_tex("shared_sd", "shared s", "shared $s$"),
            Column::with_tex("ard_sd", "ARD s_g", "ARD $s_g$"),
            Column::new("pruned", "pruned"),
            Column::with_tex("effective_parameters", "γ_g", "$\\gamma_g$"),
        ],
        cases
            .iter()
            .map(|c| fit_command(ctx, c).to_string())
            .collect::<Vec<_>>()
            .join("; "),
    );
    let mut panels = Vec::new();
    for case in &cases {
        for input in &case.inputs {
            inputs.push(vec![
                Cell::text(case.name),
                Cell::text(input.name.clone()),
                Cell::num(case.shared_sd, 4),
                Cell::num(input.sd, 4),
                Cell::text(if input.pruned { "yes" } else { "no" }),
                Cell::num(input.gamma, 3),
            ]);
        }
        let k = case.inputs.len();
        panels.push(
            Figure::new(
                format!("{} ({})", case.name, case.model.name()),
                "input (column order of the data; see the table)",
                "prior sd",
            )
            .points(
                "ARD s_g (0: pruned)",
                case.inputs
                    .iter()
                    .enumerate()
                    .map(|(j, i)| ((j + 1) as f64, i.sd)),
            )
            .dashed(
                "shared s",
                [(1.0, case.shared_sd), (k as f64, case.shared_sd)],
            ),
        );
    }
    section.table(inputs);
    section.figure(
        "groups-ard-scales",
        "Per input, the fitted ARD scale s_g (pruned inputs at 0) beside the one shared s (dashed), on diabetes and breast_cancer.",
        Figure::stacked("ARD scales against one shared s", panels),
    );
    for case in &cases {
        section.text(ard_finding(case));
    }
    Ok(())
}

/// Runs the study.
pub fn run(ctx: &StudyContext) -> Result<Section> {
    let mut section = Section::new("groups", "One prior or many?");
    section.text(
        "So far one Gaussian N(μ, s²I) has covered every parameter. A prior can instead have groups, each with its own centre and scale (math.md §8): one scale per input, per layer, or a pretrained backbone kept near its weights while a new head starts at zero. Does the extra structure earn its bits?",
    );
    ard_part(ctx, &mut section)?;
    Ok(section)
}
