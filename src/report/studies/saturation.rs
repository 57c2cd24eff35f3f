//! Study 5 — Saturation and balance: does a Gaussian prior centred at zero keep sigmoid units out
//! of saturation and make units use their inputs "in a more balanced fashion"? Networks with
//! sigmoid, tanh and ReLU units on breast_cancer and on simulated data, across prior sds, with a
//! centre away from zero for contrast.

use super::centres::halves;
use super::{Section, StudyContext};
use crate::codelength::CodeSelection;
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Result, Setting};
use crate::fit::{fit_mlp, FitOptions, MlpFit, MlpOptions};
use crate::model::logistic::row_negative_log_likelihood;
use crate::model::mlp::{Activation, Task};
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use crate::report::command::Command;
use crate::report::figure::Figure;
use crate::report::table::{Cell, Column, Table};
use crate::simulate::{simulate, SimulationSpec, Teacher};

/// Prior sds swept.
const SDS: [f64; 5] = [0.1, 0.3, 1.0, 3.0, 10.0];
/// Hidden units.
const HIDDEN: usize = 8;

/// Mean log loss (nats per row) of a fitted classifier on held-out rows.
fn test_loss(fit: &MlpFit, test: &Dataset) -> f64 {
    let t = &fit.study.transform;
    let total: f64 = (0..test.n())
        .map(|i| {
            let z: Vec<f64> = test
                .row(i)
                .iter()
                .zip(&t.feature_shift)
                .zip(&t.feature_scale)
                .map(|((x, m), s)| (x - m) / s)
                .collect();
            let eta = fit.study.arch.output(&fit.mode.params, &z);
            let label = fit.study.target_label(test.y[i]);
            row_negative_log_likelihood(eta, label)
        })
        .sum();
    total / test.n() as f64
}

/// The first and last points of a series with at least two points.
fn span(points: &[(f64, f64)]) -> Option<((f64, f64), (f64, f64))> {
    match points {
        [first, .., last] => Some((*first, *last)),
        _ => None,
    }
}

/// Runs the study.
pub fn run(ctx: &StudyContext) -> Result<Section> {
    let mut section = Section::new("saturation", "Saturation and balance");
    section.text(format!(
        "The question behind weight decay in networks: does a prior centred at zero keep sigmoid units out of saturation, and make units use their inputs in a more balanced fashion? One hidden layer of {HIDDEN} units (sigmoid, tanh, ReLU), a logistic output, every weight and bias under N(μ, s²); trained on the even rows, the log loss measured on the odd rows. Saturated: the fraction of (unit, row) pairs with |pre-activation| ≥ 4 (sigmoid) or ≥ 2 (tanh); dead: ReLU units inactive on every training row; participation: (Σ|w|)²/(k·Σw²) over a unit's incoming weights, averaged over units (1 = every input weighs the same)."
    ));
    let mut table = Table::new(
        "saturation",
        "Networks across prior sds and centres: evidence, saturation, dead units, input participation and held-out log loss.",
        vec![
            Column::new("data", "data"),
            Column::new("activation", "units"),
            Column::new("center", "centre"),
            Column::with_tex("prior_sd", "s", "$s$"),
            Column::with_tex("log_evidence_nats", "ln p(y) (nats)", "$\\ln p(y)$ [nats]"),
            Column::with_tex("effective_parameters", "γ", "$\\gamma$"),
            Column::new("saturated_fraction", "saturated"),
            Column::new("dead_relu_fraction", "dead ReLU"),
            Column::new("participation", "participation"),
            Column::new("test_log_loss", "test log loss (nats/row)"),
        ],
        format!(
            "{}  (each row: {})",
            Command::occam("report", ctx.names).with(Setting::Only, "saturation"),
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "<even half>")
                .with(Setting::Model, "mlp")
                .with(Setting::Hidden, 8)
                .with(Setting::Activation, "A")
                .with(Setting::PriorSd, "S")
                .with(Setting::PriorCenter, "C")
        ),
    );
    let cancer = data::load("breast_cancer", &ColumnSelection::default())?;
    let spec = SimulationSpec {
        teacher: Teacher::Logistic,
        n: 800,
        k: 10,
        weight_center: 0.0,
        weight_scale: 1.0,
        intercept: 0.0,
        noise_sd: 0.0,
        seed: 11,
    };
    let (simulated, _) = simulate(&spec)?;
    // One panel per data set of the table, in each of the three figures.
    let (mut saturation_panels, mut participation_panels, mut loss_panels) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut findings = Vec::new();
    let mut failures = Vec::new();
    for (name, data) in [("breast_cancer", &cancer), ("simulated", &simulated)] {
        let mut saturation_figure = Figure::new(
            name,
            "prior sd s",
            "fraction of (unit, row) pairs saturated",
        )
        .log_x();
        let mut participation_figure =
            Figure::new(name, "prior sd s", "mean participation ratio").log_x();
        let mut loss_figure =
            Figure::new(name, "prior sd s", "test log loss (nats per row)").log_x();
        let (train, test) = halves(data)?;
        for activation in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
            let mut saturation_points = Vec::new();
            let mut participation_points = Vec::new();
            let mut loss_points = Vec::new();
            for center in [CenterSpec::Zero, CenterSpec::Const(1.0)] {
                for &s in &SDS {
                    if center != CenterSpec::Zero && s != 1.0 {
                        continue;
                    }
                    let options = FitOptions {
                        center: center.clone(),
                        prior_sd: SdSpec::Fixed(s),
                        intercept: Intercept::Shared,
                        codes: CodeSelection::MIXTURE_ONLY,
                        mlp: MlpOptions {
                            hidden: vec![HIDDEN],
                            activation,
                            task: Some(Task::Classification),
                            restarts: 2,
                            seed: 1,
                            ..MlpOptions::default()
                        },
                        ..FitOptions::default()
                    };
                    let fit = match fit_mlp(&train, &options) {
                        Ok(fit) => fit,
                        Err(_) => {
                            failures
                                .push(format!("{name} {} s = {s} ({center})", activation.name()));
                            continue;
                        }
                    };
                    let d = &fit.diagnostics;
                    let participation = d.participation.first().and_then(|l| l.mean);
                    let loss = test_loss(&fit, &test);
                    table.push(vec![
                        Cell::text(name),
                        Cell::text(activation.name()),
                        Cell::text(center.to_string()),
                        Cell::num(s, 1),
                        Cell::num(fit.evaluation.log_evidence, 2),
                        Cell::opt(fit.evaluation.printed_effective_parameters(), 2),
                        Cell::opt(d.saturation_fraction, 3),
                        Cell::opt(d.dead_relu_fraction, 3),
                        Cell::opt(participation, 3),
                        Cell::num(loss, 4),
                    ]);
                    if center == CenterSpec::Zero {
                        if let Some(v) = d.saturation_fraction {
                            saturation_points.push((s, v));
                        }
                        if let Some(v) = participation {
                            participation_points.push((s, v));
                        }
                        loss_points.push((s, loss));
                    }
                }
            }
            if name == "breast_cancer" {
                if let Some((first, last)) = span(&saturation_points) {
                    findings.push(format!(
                        "breast_cancer, {} units: the saturated fraction goes from {:.3} at s = {} to {:.3} at s = {}.",
                        activation.name(), first.1, first.0, last.1, last.0
                    ));
                }
                if let Some((first, last)) = span(&participation_points) {
                    findings.push(format!(
                        "breast_cancer, {} units: the mean input participation goes from {:.3} at s = {} to {:.3} at s = {}.",
                        activation.name(), first.1, first.0, last.1, last.0
                    ));
                }
                if let Some(best) = loss_points.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
                    findings.push(format!("breast_cancer, {} units: the held-out log loss is lowest ({:.4} nats/row) at s = {}.", activation.name(), best.1, best.0));
                }
            }
            // Series by activation, coloured alike in every panel.
            let colour = activation as usize;
            if !saturation_points.is_empty() {
                saturation_figure = saturation_figure
                    .line_and_points(activation.name(), saturation_points)
                    .colour_last(colour);
            }
            participation_figure = participation_figure
                .line_and_points(activation.name(), participation_points)
                .colour_last(colour);
            loss_figure = loss_figure
                .line_and_points(activation.name(), loss_points)
                .colour_last(colour);
        }
        saturation_panels.push(saturation_figure);
        participation_panels.push(participation_figure);
        loss_panels.push(loss_figure);
    }
    let saturation_figure = Figure::stacked(
        "Saturation of the hidden units against the prior sd",
        saturation_panels,
    );
    let participation_figure = Figure::stacked(
        "Input participation of the hidden units against the prior sd",
        participation_panels,
    );
    let loss_figure = Figure::stacked("Held-out log loss against the prior sd", loss_panels);
    section.table(table);
    if !failures.is_empty() {
        findings.push(format!(
            "No mode the Laplace evidence could use was found for {} of the fits ({}): L-BFGS stalls on the kinks of ReLU networks before the gradient is small; those rows are missing.",
            failures.len(),
            failures.join("; ")
        ));
    }
    for line in findings {
        section.text(line);
    }
    section.figure("saturation-fraction", "Fraction of (unit, row) pairs saturated against the prior sd s, zero-centred prior, one panel per data set (sigmoid and tanh units; ReLUs do not saturate).", saturation_figure);
    section.figure(
        "saturation-participation",
        "Mean input participation ratio of the hidden units against s (1 = balanced inputs), one panel per data set.",
        participation_figure,
    );
    section.figure(
        "saturation-test-loss",
        "Held-out log loss against s, one panel per data set.",
        loss_figure,
    );
    section.text(
        "Read the table for the answer on these data: the saturated fraction against s says whether a narrow zero-centred prior keeps units in their near-linear range; the const:1 rows show what the same width does when centred away from zero; the participation column says whether smaller weights spread a unit's dependence over its inputs; and the held-out loss says which of these helped. ReLU modes are accepted at ‖∇f‖ ≤ 1e-4 of the gradient's scale (1e-6 for smooth units), because a ReLU network's objective has kinks.",
    );
    Ok(section)
}
