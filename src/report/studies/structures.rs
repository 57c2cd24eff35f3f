//! The saturation study's structured-curvature tables (math.md §9): a wider network scored with
//! KFAC beside the full GGN and the last layer, and how far the KFAC, diagonal and last-layer
//! evidences sit from the full GGN's at one mode on networks small enough for both. Every method
//! is scored at the same θ̂ ([`MlpFit::rescore`]: no new search), so a gap is the curvature's alone.

use super::centres::halves;
use super::{Section, StudyContext};
use crate::codelength::CodeSelection;
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Result, Setting};
use crate::fit::{fit_mlp, FitOptions, HessianKind, MlpFit, MlpOptions, Subset};
use crate::model::mlp::{Activation, Task};
use crate::model::Intercept;
use crate::prior::SdSpec;
use crate::report::command::Command;
use crate::report::table::{Cell, Column, Table};

/// The wider network's hidden widths (tanh, two layers) on breast_cancer. 64-64 (P = 6,209) would
/// hold three full P × P copies (≈ 1 GB) for its GGN evidence; 32-32 (P = 2,081) keeps the report
/// quick on two shared cores (the progress file has the reasoning).
const WIDE: usize = 32;
/// The prior sd of the structured tables (the middle of the saturation sweep).
const SD: f64 = 1.0;

/// The methods set beside the full GGN, in table order.
const METHODS: [(HessianKind, Subset); 3] = [
    (HessianKind::Kfac, Subset::All),
    (HessianKind::Diag, Subset::All),
    (HessianKind::Ggn, Subset::LastLayer),
];

/// One network of the gap table: its name, data, hidden widths, task and fixed noise sd.
struct Case {
    data: &'static str,
    train: Dataset,
    hidden: Vec<usize>,
    task: Task,
    noise_sd: SdSpec,
}

fn options(case: &Case) -> FitOptions {
    FitOptions {
        prior_sd: SdSpec::Fixed(SD),
        noise_sd: case.noise_sd,
        intercept: Intercept::Shared,
        codes: CodeSelection::MIXTURE_ONLY,
        mlp: MlpOptions {
            hidden: case.hidden.clone(),
            activation: Activation::Tanh,
            task: Some(case.task),
            restarts: 1,
            seed: 1,
            ..MlpOptions::default()
        },
        ..FitOptions::default()
    }
}

fn shape(fit: &MlpFit) -> String {
    let widths: Vec<String> = fit
        .study
        .arch
        .widths()
        .iter()
        .map(|w| w.to_string())
        .collect();
    widths.join("-")
}

fn columns() -> Vec<Column> {
    vec![
        Column::new("data", "data"),
        Column::new("network", "network"),
        Column::with_tex("parameters", "P", "$P$"),
        Column::new("method", "method"),
        Column::with_tex("log_evidence_nats", "ln p(y) (nats)", "$\\ln p(y)$ [nats]"),
        Column::with_tex(
            "gap_nats",
            "Δ vs laplace-ggn (nats)",
            "$\\Delta$ vs GGN [nats]",
        ),
        Column::with_tex("effective_parameters", "γ", "$\\gamma$"),
    ]
}

/// The rows of one network: the full GGN, then each method at the same mode, with the gaps.
/// Returns the gaps (method label, Δ nats) for the text.
fn push_rows(
    table: &mut Table,
    data: &str,
    fit: &MlpFit,
    methods: &[(HessianKind, Subset)],
) -> Result<Vec<(&'static str, f64)>> {
    let network = shape(fit);
    let p = fit.study.arch.n_params();
    let ggn = fit.evaluation.log_evidence;
    table.push(vec![
        Cell::text(data),
        Cell::text(network.clone()),
        Cell::num(p as f64, 0),
        Cell::text(fit.evaluation.evidence_method.name()),
        Cell::num(ggn, 2),
        Cell::num(0.0, 2),
        Cell::opt(fit.evaluation.printed_effective_parameters(), 2),
    ]);
    let mut gaps = Vec::new();
    for &(hessian, subset) in methods {
        let mode = fit.rescore(hessian, subset)?;
        let label = mode.method.name();
        let gap = mode.log_evidence - ggn;
        gaps.push((label, gap));
        table.push(vec![
            Cell::text(data),
            Cell::text(network.clone()),
            Cell::num(p as f64, 0),
            Cell::text(label),
            Cell::num(mode.log_evidence, 2),
            Cell::num(gap, 2),
            Cell::num(mode.effective_parameters, 2),
        ]);
    }
    Ok(gaps)
}

/// The structured-curvature tables and their text, added to the saturation section.
pub(super) fn add(section: &mut Section, ctx: &StudyContext, cancer: &Dataset) -> Result<()> {
    let (cancer_train, _) = halves(cancer)?;
    let diabetes = data::load("diabetes", &ColumnSelection::default())?;
    let (diabetes_train, _) = halves(&diabetes)?;
    let fit_command = |hidden: &str, hessian: &str, subset: &str| {
        Command::occam("fit", ctx.names)
            .with(Setting::Data, "<even half>")
            .with(Setting::Model, "mlp")
            .with(Setting::Hidden, hidden)
            .with(Setting::PriorSd, SD)
            .with(Setting::Hessian, hessian)
            .with(Setting::Subset, subset)
    };
    let report = Command::occam("report", ctx.names).with(Setting::Only, "saturation");

    // (i) The wider network.
    let mut wide_table = Table::new(
        "saturation-wide",
        &format!("A wider network, {WIDE}-{WIDE} tanh on breast_cancer (even half) at s = {SD}: the full GGN's evidence beside KFAC's, the diagonal's and the last layer's at the same mode."),
        columns(),
        format!(
            "{report}  (each row: {} at one mode, H = ggn|kfac|diag, U = all|last-layer)",
            fit_command(&format!("{WIDE},{WIDE}"), "H", "U")
        ),
    );
    let wide = Case {
        data: "breast_cancer",
        train: cancer_train.clone(),
        hidden: vec![WIDE, WIDE],
        task: Task::Classification,
        noise_sd: SdSpec::Auto,
    };
    let mut texts = Vec::new();
    match fit_mlp(&wide.train, &options(&wide)) {
        Ok(fit) => {
            let gaps = push_rows(&mut wide_table, wide.data, &fit, &METHODS)?;
            let said: Vec<String> = gaps
                .iter()
                .map(|(label, gap)| format!("{label} {gap:+.2}"))
                .collect();
            texts.push(format!(
                "The {} network (P = {}) at s = {SD}: against the full GGN's ln p(y) = {:.2} nats, {} nats. The last layer's is the evidence of a different model (a logistic GLM on the {WIDE} learned features), shown for scale, not as an approximation of the network's.",
                shape(&fit),
                fit.study.arch.n_params(),
                fit.evaluation.log_evidence,
                said.join(", ")
            ));
        }
        Err(e) => texts.push(format!(
            "The {WIDE}-{WIDE} network found no mode the Laplace evidence could use at s = {SD} ({}); its rows are missing.",
            e.message().render(ctx.names)
        )),
    }
    wide_table.note("every row of one network is scored at the same mode θ̂ (searched once); Δ = ln p(y) − the full GGN's, in nats; laplace-last-layer is the evidence of a GLM on the network's last hidden features (math.md §9), a different model; the ggn, kfac and diag rows include the symmetry term (the same at one mode), the last-layer row has none");

    // (ii) The gaps on networks small enough for the full GGN.
    let mut gap_table = Table::new(
        "saturation-curvature-gaps",
        &format!("How far the KFAC, diagonal and last-layer evidences sit from the full GGN's, at one mode per network (tanh units, s = {SD}; diabetes at σ = 55)."),
        columns(),
        format!(
            "{report}  (each row: {} at one mode, H = ggn|kfac|diag, U = all|last-layer)",
            fit_command("H1,…", "H", "U")
        ),
    );
    let cases = [
        Case {
            data: "breast_cancer",
            train: cancer_train.clone(),
            hidden: vec![4],
            task: Task::Classification,
            noise_sd: SdSpec::Auto,
        },
        Case {
            data: "breast_cancer",
            train: cancer_train.clone(),
            hidden: vec![8],
            task: Task::Classification,
            noise_sd: SdSpec::Auto,
        },
        Case {
            data: "breast_cancer",
            train: cancer_train,
            hidden: vec![8, 8],
            task: Task::Classification,
            noise_sd: SdSpec::Auto,
        },
        Case {
            data: "diabetes",
            train: diabetes_train.clone(),
            hidden: vec![4],
            task: Task::Regression,
            noise_sd: SdSpec::Fixed(55.0),
        },
        Case {
            data: "diabetes",
            train: diabetes_train,
            hidden: vec![8, 8],
            task: Task::Regression,
            noise_sd: SdSpec::Fixed(55.0),
        },
    ];
    let mut all_gaps: Vec<(&'static str, f64)> = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        match fit_mlp(&case.train, &options(case)) {
            Ok(fit) => all_gaps.extend(push_rows(&mut gap_table, case.data, &fit, &METHODS)?),
            Err(_) => failures.push(format!("{} {:?}", case.data, case.hidden)),
        }
    }
    gap_table.note("every row of one network is scored at the same mode θ̂ (searched once); Δ = ln p(y) − the full GGN's, in nats; laplace-last-layer is the evidence of a GLM on the network's last hidden features (math.md §9), a different model; the ggn, kfac and diag rows include the symmetry term (the same at one mode), the last-layer row has none");
    for (hessian, subset) in METHODS {
        let label = match (hessian, subset) {
            (_, Subset::LastLayer) => "laplace-last-layer",
            (HessianKind::Kfac, _) => "laplace-kfac",
            _ => "laplace-diag",
        };
        let gaps: Vec<f64> = all_gaps
            .iter()
            .filter(|(l, _)| *l == label)
            .map(|(_, g)| *g)
            .collect();
        if gaps.is_empty() {
            continue;
        }
        let (low, high) = gaps
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), g| {
                (a.min(*g), b.max(*g))
            });
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let below = gaps.iter().filter(|g| **g < 0.0).count();
        texts.push(format!(
            "{label} against the full GGN over {} networks: Δ from {low:+.2} to {high:+.2} nats (mean {mean:+.2}), below the GGN's on {below} of them.",
            gaps.len()
        ));
    }
    if !failures.is_empty() {
        texts.push(format!(
            "No mode the Laplace evidence could use was found for {} ({}); those rows are missing.",
            failures.len(),
            failures.join("; ")
        ));
    }
    section.text("Structured curvatures (math.md §9). A network's full-GGN evidence needs a P × P matrix; KFAC keeps one Kronecker-factored block per layer (ln|H| and γ from the factors' eigenvalues) and the diagonal keeps one number per parameter; the last-layer Laplace integrates over the output layer only, with the earlier layers fixed at the MAP. Each network below is fitted once and its mode scored by every method, so a gap is the approximation's cost alone.");
    section.table(wide_table);
    section.table(gap_table);
    for text in texts {
        section.text(text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With no hidden layer and one output, a regression network's KFAC is its GGN exactly
    /// (math.md §9), so its row sits 0 nats from the GGN's; the rows say which method they are.
    #[test]
    fn kfac_sits_on_the_ggn_without_hidden_layers() {
        let diabetes = data::load("diabetes", &ColumnSelection::default()).unwrap();
        let (train, _) = halves(&diabetes).unwrap();
        let case = Case {
            data: "diabetes",
            train,
            hidden: vec![],
            task: Task::Regression,
            noise_sd: SdSpec::Fixed(55.0),
        };
        let fit = fit_mlp(&case.train, &options(&case)).unwrap();
        let mut table = Table::new("t", "t", columns(), "c");
        let gaps = push_rows(
            &mut table,
            case.data,
            &fit,
            &[
                (HessianKind::Kfac, Subset::All),
                (HessianKind::Diag, Subset::All),
            ],
        )
        .unwrap();
        assert_eq!(gaps[0].0, "laplace-kfac");
        assert!(gaps[0].1.abs() < 1e-8, "KFAC − GGN = {}", gaps[0].1);
        // The diagonal drops the features' correlations: a gap, here of either sign.
        assert_eq!(gaps[1].0, "laplace-diag");
        assert!(gaps[1].1.abs() > 1e-3, "diag − GGN = {}", gaps[1].1);
    }
}
