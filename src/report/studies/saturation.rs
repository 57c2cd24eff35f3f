//! Study 5 — Saturation and balance: does a Gaussian prior centred at zero keep sigmoid units out
//! of saturation and make units use their inputs "in a more balanced fashion"? Networks with
//! sigmoid, tanh and ReLU units on breast_cancer and on simulated data, across prior sds, with a
//! centre away from zero for contrast.

use super::centres::halves;
use super::{Section, StudyContext};
use crate::codelength::CodeSelection;
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Result, Setting};
use crate::fit::{fit_mlp, fit_softmax, FitOptions, MlpFit, MlpOptions, ModelKind, SoftmaxFit};
use crate::model::logistic::row_negative_log_likelihood;
use crate::model::mlp::{Activation, Task};
use crate::model::softmax::log_sum_exp_and_probabilities;
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

/// A sigmoid unit counts as saturated at |pre-activation| ≥ this (math.md §4); a softmax class
/// at |its log-odds against the other classes| ≥ this, the same p ∉ (σ(−4), σ(4)).
const SOFTMAX_SATURATION: f64 = 4.0;

/// The class logits η_c = w_c·z + b_c of one raw row under a linear-softmax fit, z the row
/// standardised as the fit standardised its training rows; θ is class-major, (w_c, b_c) per
/// class (b_c only with an intercept).
fn softmax_logits(fit: &SoftmaxFit, raw: &[f64]) -> Vec<f64> {
    let t = &fit.study.transform;
    let z: Vec<f64> = raw
        .iter()
        .zip(&t.feature_shift)
        .zip(&t.feature_scale)
        .map(|((x, m), s)| (x - m) / s)
        .collect();
    let classes = fit.study.classes();
    let m = fit.mode.params.len() / classes;
    fit.mode
        .params
        .as_slice()
        .chunks_exact(m)
        .map(|theta_c| {
            let w: f64 = theta_c.iter().zip(&z).map(|(w, z)| w * z).sum();
            w + theta_c.get(z.len()).copied().unwrap_or(0.0)
        })
        .collect()
}

/// The linear-softmax analogue of a network row's diagnostics: each class is a unit whose
/// incoming weights are w_c and whose output p_c = σ(η_c − ln Σ_{d≠c} e^{η_d}) is a sigmoid of
/// its log-odds against the other classes (for K = 2, ±(η₁ − η₀), the binary logit).
struct SoftmaxDiagnostics {
    /// The fraction of (class, training row) pairs with |log-odds| ≥ 4.
    saturated: f64,
    /// (Σ_j |w_cj|)²/(k·Σ_j w_cj²) averaged over the classes (intercepts excluded), None when
    /// every weight is 0.
    participation: Option<f64>,
    /// Mean −ln p_{y}(x) over the test rows (nats per row).
    test_loss: f64,
}

fn softmax_diagnostics(fit: &SoftmaxFit, train: &Dataset, test: &Dataset) -> SoftmaxDiagnostics {
    let classes = fit.study.classes();
    let mut saturated = 0usize;
    for i in 0..train.n() {
        let eta = softmax_logits(fit, train.row(i));
        for c in 0..classes {
            let others: Vec<f64> = (0..classes).filter(|&d| d != c).map(|d| eta[d]).collect();
            let mut p = vec![0.0; others.len()];
            let log_odds = eta[c] - log_sum_exp_and_probabilities(&others, &mut p);
            saturated += usize::from(log_odds.abs() >= SOFTMAX_SATURATION);
        }
    }
    let k = train.k();
    let m = fit.mode.params.len() / classes;
    let ratios: Vec<f64> = fit
        .mode
        .params
        .as_slice()
        .chunks_exact(m)
        .filter_map(|theta_c| {
            let w = &theta_c[..k];
            let l1: f64 = w.iter().map(|v| v.abs()).sum();
            let l2: f64 = w.iter().map(|v| v * v).sum();
            (l2 > 0.0).then(|| l1 * l1 / (k as f64 * l2))
        })
        .collect();
    let participation =
        (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
    let total: f64 = (0..test.n())
        .map(|i| {
            let eta = softmax_logits(fit, test.row(i));
            let mut p = vec![0.0; classes];
            let label = fit
                .study
                .target
                .classes
                .iter()
                .position(|v| *v == test.y[i])
                .unwrap_or(0);
            log_sum_exp_and_probabilities(&eta, &mut p) - eta[label]
        })
        .sum();
    SoftmaxDiagnostics {
        saturated: saturated as f64 / (classes * train.n()).max(1) as f64,
        participation,
        test_loss: total / test.n().max(1) as f64,
    }
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
            "{}  (each network row: {}; each iris row, the linear-softmax model on three classes: {})",
            Command::occam("report", ctx.names).with(Setting::Only, "saturation"),
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "<even half>")
                .with(Setting::Model, "mlp")
                .with(Setting::Hidden, 8)
                .with(Setting::Activation, "A")
                .with(Setting::PriorSd, "S")
                .with(Setting::PriorCenter, "C"),
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "<even half>")
                .with(Setting::Model, "logistic")
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
    // Three classes: the linear-softmax model (math.md §7), each class an output unit. Network
    // rows are binary only (no softmax output layer here).
    {
        let name = "iris";
        let iris = data::load(name, &ColumnSelection::default())?;
        let (train, test) = halves(&iris)?;
        let units = "linear softmax";
        let (mut saturation_points, mut participation_points, mut loss_points) =
            (Vec::new(), Vec::new(), Vec::new());
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
                    ..FitOptions::for_kind(ModelKind::Logistic)
                };
                let fit = match fit_softmax(&train, &options) {
                    Ok(fit) => fit,
                    Err(_) => {
                        failures.push(format!("{name} {units} s = {s} ({center})"));
                        continue;
                    }
                };
                let d = softmax_diagnostics(&fit, &train, &test);
                table.push(vec![
                    Cell::text(name),
                    Cell::text(units),
                    Cell::text(center.to_string()),
                    Cell::num(s, 1),
                    Cell::num(fit.evaluation.log_evidence, 2),
                    Cell::opt(fit.evaluation.printed_effective_parameters(), 2),
                    Cell::num(d.saturated, 3),
                    Cell::Empty,
                    Cell::opt(d.participation, 3),
                    Cell::num(d.test_loss, 4),
                ]);
                if center == CenterSpec::Zero {
                    saturation_points.push((s, d.saturated));
                    if let Some(v) = d.participation {
                        participation_points.push((s, v));
                    }
                    loss_points.push((s, d.test_loss));
                }
            }
        }
        if let Some((first, last)) = span(&saturation_points) {
            findings.push(format!(
                "iris (three classes), linear softmax: the fraction of (class, row) pairs whose log-odds against the other classes is beyond ±4 goes from {:.3} at s = {} to {:.3} at s = {}.",
                first.1, first.0, last.1, last.0
            ));
        }
        if let Some((first, last)) = span(&participation_points) {
            findings.push(format!(
                "iris, linear softmax: the mean input participation of the class weights goes from {:.3} at s = {} to {:.3} at s = {}.",
                first.1, first.0, last.1, last.0
            ));
        }
        if let Some(best) = loss_points.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
            findings.push(format!(
                "iris, linear softmax: the held-out log loss is lowest ({:.4} nats/row) at s = {}.",
                best.1, best.0
            ));
        }
        let colour = 3;
        saturation_panels.push(
            Figure::new(
                name,
                "prior sd s",
                "fraction of (class, row) pairs saturated",
            )
            .log_x()
            .line_and_points(units, saturation_points)
            .colour_last(colour),
        );
        participation_panels.push(
            Figure::new(name, "prior sd s", "mean participation ratio")
                .log_x()
                .line_and_points(units, participation_points)
                .colour_last(colour),
        );
        loss_panels.push(
            Figure::new(name, "prior sd s", "test log loss (nats per row)")
                .log_x()
                .line_and_points(units, loss_points)
                .colour_last(colour),
        );
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
        "Network rows: binary only (breast_cancer and the simulated logistic teacher). The iris rows are the linear-softmax model on three classes (math.md §7), the same fit as `logistic` on iris: it has no hidden units, so its units are the K output classes — class c's probability is σ of its log-odds against the other classes, η_c − ln Σ_{d≠c} e^{η_d}, counted saturated beyond ±4 as a sigmoid unit is (on the training rows), and its participation is over the class's k input weights. The dead ReLU column does not apply.",
    );
    section.text(
        "Read the table for the answer on these data: the saturated fraction against s says whether a narrow zero-centred prior keeps units in their near-linear range; the const:1 rows show what the same width does when centred away from zero; the participation column says whether smaller weights spread a unit's dependence over its inputs; and the held-out loss says which of these helped. ReLU modes are accepted at ‖∇f‖ ≤ 1e-4 of the gradient's scale (1e-6 for smooth units), because a ReLU network's objective has kinks.",
    );
    super::structures::add(&mut section, ctx, &cancer)?;
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The iris rows' diagnostics by a second route: logits from the fit's weights in original
    /// units (no standardisation), plain exp-normalised probabilities, a class saturated when
    /// p_c ∉ (σ(−4), σ(4)), the test loss −ln p_y, participation from the standardised weights.
    #[test]
    fn softmax_diagnostics_match_a_direct_computation_in_original_units() {
        let iris = data::load("iris", &ColumnSelection::default()).unwrap();
        let (train, test) = halves(&iris).unwrap();
        for s in [0.3, 3.0] {
            let options = FitOptions {
                prior_sd: SdSpec::Fixed(s),
                codes: CodeSelection::MIXTURE_ONLY,
                ..FitOptions::for_kind(ModelKind::Logistic)
            };
            let fit = fit_softmax(&train, &options).unwrap();
            let (weights, intercepts) = fit.original_units();
            let probabilities = |x: &[f64]| -> Vec<f64> {
                let e: Vec<f64> = weights
                    .iter()
                    .zip(&intercepts)
                    .map(|(w, b)| (w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + b).exp())
                    .collect();
                let total: f64 = e.iter().sum();
                e.iter().map(|v| v / total).collect()
            };
            let sigma4 = 1.0 / (1.0 + (-4.0f64).exp());
            let mut saturated = 0;
            for i in 0..train.n() {
                for p in probabilities(train.row(i)) {
                    saturated += usize::from(p >= sigma4 || p <= 1.0 - sigma4);
                }
            }
            let loss: f64 = (0..test.n())
                .map(|i| -probabilities(test.row(i))[test.y[i] as usize].ln())
                .sum::<f64>()
                / test.n() as f64;
            let d = softmax_diagnostics(&fit, &train, &test);
            assert_eq!(
                d.saturated,
                saturated as f64 / (3 * train.n()) as f64,
                "s = {s}"
            );
            assert!(
                (d.test_loss - loss).abs() <= 1e-10,
                "s = {s}: {} vs {loss}",
                d.test_loss
            );
            // Participation is scale-free per class only on standardised inputs: recompute it
            // from θ directly, class by class (intercept last in each block of k + 1).
            let theta = fit.mode.params.as_slice();
            let ratios: Vec<f64> = theta
                .chunks_exact(5)
                .map(|c| {
                    let l1: f64 = c[..4].iter().map(|v| v.abs()).sum();
                    let l2: f64 = c[..4].iter().map(|v| v * v).sum();
                    l1 * l1 / (4.0 * l2)
                })
                .collect();
            let mean = ratios.iter().sum::<f64>() / 3.0;
            assert!((d.participation.unwrap() - mean).abs() <= 1e-12);
            assert!((0.25..=1.0).contains(&mean));
        }
    }
}
