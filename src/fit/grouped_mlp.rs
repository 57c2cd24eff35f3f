//! A network (regression, binary or softmax) under a prior of several groups (math.md §8): one
//! centre μ_g and sd s_g per group of parameters — per layer (`layer1`, `output`), per kind
//! (`weights`, `biases`), per layer and kind (`layer1.weights`), or per input feature (`ard`,
//! `features:`) — with the Laplace evidence at Λ = diag(α_g), the MAP refitted at each Λ, and
//! empirical Bayes over every `auto` group jointly ([`GroupedLaplace::empirical_bayes`]: MacKay's
//! fixed point, then a bounded coordinate search in ln s_g, pruning as math.md §8 says).
//!
//! **Parameters.** θ in [`crate::model::mlp`]'s order (layer by layer, W row-major, then the
//! biases; the output layer last); [`crate::model::mlp::Architecture::parameter_info`] gives each
//! its layer, kind and (first layer) input feature. Every parameter must be in a group (`rest`
//! claims what the others leave).
//!
//! **Centres.** Per group: `zero`, `const:`, `vec:` (the group's length), `file:` (the group's
//! coordinates, or a file covering every parameter — e.g. occam's fit JSON of the same network —
//! of which the group's are taken), `sha256:`; `truth` and `fit:` are resolved over the whole
//! network as for one group and the group's coordinates taken (a `fit:` donor sharing coded rows
//! charges the group's coordinates).
//!
//! **Searches.** Empirical Bayes starts at the one-group answer: ŝ of Λ = s²I by the one-group
//! network's search in ln s (every s from the seeded random starts), every `auto` group at
//! α_g = 1/ŝ², from its mode. Each later Λ's mode is searched from the previous mode (the fixed
//! start of the coordinate search, so that L is a function of Λ).
//!
//! **Noise (regression).** σ `auto` is fitted inside every evaluation by MacKay's update
//! β ← (n − γ)/‖y − ŷ‖² at the mode, as the one-group network does (so L(Λ) is the evidence with
//! β at its fixed point for that Λ), to |Δ ln β| < 1e-10, each update started from the last fit's
//! β (L depends on that start only through the 1e-10 left); a fixed σ stays fixed.
//!
//! **Codes.** mixture = −log₂ p̂(y) (Laplace, the z-scoring's Jacobian in) + ½ log₂ n per fitted
//! s_g (pruned ones included) and per other fitted real (σ, the target's z-scoring, a charged
//! centre, `charged_reals`); prequential and two_part as for one group, at the fitted Λ (the
//! prequential's prefixes use the full-data Λ and σ, sent first); bic is undefined for a network.
//!
//! **Curvatures.** `ggn` (default) and `exact` as for one group; `diag` with any groups; `kfac`
//! needs one precision per layer's Kronecker block (each layer's weights and biases in one group),
//! and is refused otherwise with the fix named.

use super::grouped::{resolve_group_centers, GroupOutcome};
use super::grouped_logistic::{GroupedLaplaceFit, GroupedLaplaceInner};
use super::mlp::{MlpMode, ScoredPrior};
use super::{FitOptions, HessianKind, MlpFit, MlpStudy, ResolvedCenter, Study};
use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::grouped_laplace::{GroupedLaplace, GroupedLaplaceEb};
use crate::inference::laplace::{maximize_over_log_sd, LaplaceEvidence, LogSdOptimum, Mode};
use crate::message;
use crate::model::mlp::{diagnostics, MlpProblem};
use crate::prior::groups::{Group, PriorStructure};
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;
use std::cell::RefCell;

/// A network's empirical Bayes is stationary once |∂ln p/∂ln s_g| ≤ this × max(1, P_g): its
/// modes meet ‖∇f‖ ≤ 1e-6 of the gradient's scale (not the GLMs' 1e-9), so L is smooth in ln s_g
/// only to that standard and the GLMs' 1e-4 cannot always be certified by central differences
/// (a 3-3-1 regression on `occam simulate mlp` stalled at 5.6e-4 against 4e-4); at 1e-3 a step of
/// 0.01 in ln s_g changes L by at most ~1e-5·P_g nats.
pub const NETWORK_STATIONARY_TOLERANCE: f64 = 1e-3;

/// KFAC's blocks are whole layers (weights and biases): every layer's parameters must share one
/// group, else the fit is refused naming the fix.
fn check_kfac_blocks(study: &MlpStudy, groups: &[Group]) -> Result<()> {
    let p = study.arch.n_params();
    let mut label = vec![0usize; p];
    for (g, group) in groups.iter().enumerate() {
        for &j in &group.indices {
            label[j] = g;
        }
    }
    let widths = study.arch.widths();
    let names = study.arch.layer_names();
    let mut start = 0;
    for (l, w) in widths.windows(2).enumerate() {
        let end = start + (w[0] + 1) * w[1];
        if label[start..end].iter().any(|&g| g != label[start]) {
            return Err(OccamError::invalid(
                Setting::Hessian,
                message![
                    format!(
                        "KFAC's Kronecker blocks are whole layers, but the groups split layer '{}' (its weights and biases must share one prior sd); group by layer (e.g. ",
                        names[l]
                    ),
                    (Setting::Prior, "layer1=zero:auto; output=zero:auto"),
                    "), or use ",
                    (Setting::Hessian, "ggn"),
                    " or ",
                    (Setting::Hessian, "diag")
                ],
            ));
        }
        start = end;
    }
    Ok(())
}

/// The centre of every parameter: `truth` and `fit:` groups over the whole network (their
/// group's coordinates taken), every other group as the logistic model's groups; with the reals
/// estimated from coded rows (a `fit:` donor's shared rows) and the notes.
fn resolve_centers(
    study: &MlpStudy,
    groups: &[Group],
    feature_names: &[String],
) -> Result<(DVector<f64>, usize, Vec<Message>)> {
    let params = study.arch.parameter_info(feature_names)?;
    let (plain, whole): (Vec<Group>, Vec<Group>) = groups
        .iter()
        .cloned()
        .partition(|g| !matches!(g.center, CenterSpec::Truth | CenterSpec::Fit(_)));
    let (mut center, mut notes) = resolve_group_centers(&plain, &params)?;
    let mut estimated = 0;
    for group in &whole {
        let resolved = study
            .resolve_center(&group.center, SdSpec::Auto)
            .map_err(|e| {
                OccamError::invalid(
                    Setting::Prior,
                    Message::from(format!("group '{}': ", group.name)).then(e.message()),
                )
            })?;
        for &j in &group.indices {
            center[j] = resolved.values[j];
        }
        if resolved.estimated_reals > 0 {
            estimated += group.indices.len();
        }
        notes.extend(resolved.note);
    }
    Ok((center, estimated, notes))
}

/// The start of the grouped search: the one-group prior's empirical Bayes (ŝ of Λ = s²I with the
/// groups' centres, by the one-group network's search in ln s, every s from the seeded random
/// starts) and its mode.
fn one_group_start(
    study: &MlpStudy,
    center: &DVector<f64>,
    noise: SdSpec,
    group_count: usize,
) -> Result<(LogSdOptimum, DVector<f64>)> {
    let _step = crate::progress::step(format!(
        "the one-group prior's empirical Bayes, where the {group_count} group(s) start"
    ));
    let p = center.len();
    // σ's MacKay update starts from the last evaluation's β.
    let modes: RefCell<Vec<(f64, DVector<f64>, f64)>> = RefCell::new(Vec::new());
    let evaluate = |log_sd: f64| -> Result<f64> {
        let precision = DVector::from_element(p, (-2.0 * log_sd).exp());
        let beta = modes.borrow().last().map(|m| m.2);
        let (mlp, mode, laplace) =
            study.laplace_under(center, &precision, noise, center.clone(), beta)?;
        modes
            .borrow_mut()
            .push((log_sd, mode.params, mlp.noise_precision));
        Ok(laplace.log_evidence)
    };
    let optimum = maximize_over_log_sd(&evaluate).map_err(|e| {
        OccamError::computation(
            "empirical Bayes over the network's prior groups (started at the one-group prior's ŝ)",
            e.message().then(message![
                "; fixed sds in ",
                Setting::Prior,
                " avoid the search, and ",
                Setting::Restarts,
                " adds random starts"
            ]),
        )
    })?;
    let mode = modes
        .into_inner()
        .into_iter()
        .find(|(log_sd, _, _)| *log_sd == optimum.log_sd)
        .map(|(_, params, _)| params)
        .unwrap_or_else(|| center.clone());
    Ok((optimum, mode))
}

/// Fits a network to `dataset` under the grouped prior `structure` (see the module's docs); the
/// other settings come from `options`.
pub fn fit_grouped_mlp<'d>(
    dataset: &'d Dataset,
    options: &FitOptions,
    structure: &PriorStructure,
) -> Result<GroupedLaplaceFit<'d>> {
    let study = MlpStudy::new(dataset, options)?;
    let params = study.arch.parameter_info(&dataset.feature_names)?;
    let groups = structure.resolve(&params)?;
    if options.mlp.hessian == HessianKind::Kfac {
        check_kfac_blocks(&study, &groups)?;
    }
    let (center, estimated_reals, center_notes) =
        resolve_centers(&study, &groups, &dataset.feature_names)?;
    let p = center.len();
    let mut labels: Vec<Option<usize>> = vec![None; p];
    for (g, group) in groups.iter().enumerate() {
        for &j in &group.indices {
            labels[j] = Some(g);
        }
    }
    let fixed: Vec<Option<f64>> = groups
        .iter()
        .map(|g| g.sd.fixed().map(|s| 1.0 / (s * s)))
        .collect();
    let noise = options.noise_sd;

    // Every mode found, with the Λ it was found at, to score the answer's own mode (not a refit).
    // σ's MacKay update starts from the last fit's β (see the module's docs).
    let found: RefCell<Vec<(DVector<f64>, MlpMode)>> = RefCell::new(Vec::new());
    let fit_at =
        |precision: &DVector<f64>, init: DVector<f64>| -> Result<(Mode, LaplaceEvidence)> {
            let beta = found.borrow().last().map(|(_, m)| m.noise_precision);
            let (mode, generic, laplace) =
                study.laplace_under(&center, precision, noise, init, beta)?;
            found.borrow_mut().push((precision.clone(), mode));
            Ok((generic, laplace))
        };
    let model = GroupedLaplace::new(labels, fixed, DVector::zeros(p), center.clone(), &fit_at)
        .with_stationary_tolerance(NETWORK_STATIONARY_TOLERANCE);
    // The search starts at the one-group answer: ŝ of Λ = s²I (centres as grouped) by the
    // one-group network's search in ln s, every s from the seeded random starts, and its mode.
    // From α_g = 1 and the random starts' first mode, MacKay's updates can drive a hidden layer to
    // zero, where a tanh network is stationary and stays (a local optimum far below the one-group
    // fit); from the one-group answer the groups move only where the evidence asks.
    let free = groups.iter().filter(|g| g.sd == SdSpec::Auto).count();
    let shared = match free {
        0 => None,
        _ => Some(one_group_start(&study, &center, noise, groups.len())?),
    };
    let eb: GroupedLaplaceEb = {
        let _step = crate::progress::step(format!(
            "empirical Bayes over {} prior group(s) of the network ({p} parameters, Laplace evidence)",
            groups.len()
        ));
        match &shared {
            Some((optimum, mode)) => {
                model.empirical_bayes_from(mode.clone(), (-2.0 * optimum.log_sd).exp())?
            }
            None => model.empirical_bayes(center.clone())?,
        }
    };
    let point = &eb.point;
    let mut mode = found
        .into_inner()
        .into_iter()
        .rev()
        .find(|(precision, mode)| *precision == point.precision && mode.params == point.mode.params)
        .map(|(_, mode)| mode)
        .ok_or_else(|| {
            OccamError::computation(
                "empirical Bayes over the network's prior groups",
                "the answer's mode was not among the modes found; this is a bug",
            )
        })?;
    let outcomes: Vec<GroupOutcome> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            GroupOutcome::at_precision(
                group,
                point.precisions[g],
                group.indices.clone(),
                point.effective_parameters[g],
            )
        })
        .collect();
    // A pruned group's parameters are reported at its centre (the limit; the stand-in precision
    // leaves them within ~1e-14 relative of it).
    for group in outcomes.iter().filter(|g| g.pruned) {
        for &j in &group.indices {
            mode.params[j] = center[j];
        }
    }
    // γ over all P: Σ_g γ_g (0 for a pruned group, whose stand-in precision would add ~1e-14).
    mode.effective_parameters = point.effective_parameters.iter().sum();

    let fitted_sds = outcomes.iter().filter(|g| g.sd_fitted).count();
    let mut notes: Vec<Message> = vec![format!(
        "prior structure {structure}: {} group(s) over the network's {p} parameters, Λ = diag(α_g); evidence and mixture code: Laplace approximation at the MAP, refitted at each Λ — approximate (math.md §8)",
        outcomes.len()
    )
    .into()];
    if fitted_sds > 0 {
        notes.push(format!(
            "empirical Bayes over the groups, started at the one-group prior's ŝ = {:.6} ({} evaluations, each from the seeded random starts) and its mode: MacKay's fixed point ({} refits), then a coordinate search in ln s_g until |∂ln p/∂ln s_g| ≤ 1e-3·max(1, P_g) by central differences (largest {:.1e}); {} mode fits in all, each searched from the previous mode{}",
            shared.as_ref().map_or(f64::NAN, |s| s.0.log_sd.exp()),
            shared.as_ref().map_or(0, |s| s.0.evaluations),
            eb.mackay_iterations,
            eb.gradient.iter().fold(0.0f64, |a, g| a.max(g.abs())),
            eb.evaluations,
            if study.regression() && noise == SdSpec::Auto {
                "; σ fitted inside every fit by MacKay's update to |Δ ln β| < 1e-10"
            } else {
                ""
            }
        ).into());
    }
    notes.extend(eb.notes.iter().cloned());
    for group in outcomes.iter().filter(|g| g.pruned) {
        notes.push(format!(
            "group '{}' pruned: s = 0 (α → ∞), its {} parameter(s) sit at its centre and the evidence is the finite limit, where the group drops out",
            group.name,
            group.indices.len()
        ).into());
    }
    let resolved = ResolvedCenter {
        values: center.clone(),
        estimated_reals,
        note: None,
    };
    let prior = ScoredPrior {
        spec: SdSpec::Auto,
        sd: f64::NAN,
        precision: &point.precision,
        fitted_sds,
        evaluations: eb.evaluations + shared.as_ref().map_or(0, |s| s.0.evaluations),
    };
    let (mut evaluation, mode) =
        study.score_mode(&CenterSpec::Zero, resolved, prior, noise, mode, Vec::new())?;
    evaluation.prior_sd_spec = SdSpec::Auto;
    let problem = MlpProblem::new(
        &study.arch,
        &study.z,
        &study.y,
        &center,
        &point.precision,
        mode.noise_precision,
    );
    let diagnostics = diagnostics(&problem, &mode.params);
    let mut charged: Vec<Message> = Vec::new();
    if fitted_sds > 0 {
        charged.push(format!("{fitted_sds} group sd(s) s_g").into());
    }
    if study.regression() && noise == SdSpec::Auto {
        charged.push("the noise sd σ".into());
    }
    if study.target.is_active() {
        charged.push("the target's mean and sd (its z-scoring)".into());
    }
    let mut all_notes = study.code_length_notes(&charged, Some(evaluation.charge_bits));
    all_notes.extend(notes);
    all_notes.extend(evaluation.notes.iter().cloned());
    all_notes.extend(center_notes);
    if study.regression() {
        all_notes.extend(crate::fit::class_like_target_note(dataset));
    }
    let (gradient, mackay_iterations) = (eb.gradient.clone(), eb.mackay_iterations);
    Ok(GroupedLaplaceFit {
        inner: GroupedLaplaceInner::Mlp(Box::new(MlpFit {
            study,
            evaluation,
            mode,
            diagnostics,
            notes: all_notes,
        })),
        structure: structure.clone(),
        groups: outcomes,
        center,
        gradient,
        mackay_iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OccamError;
    use crate::fit::{fit_mlp, MlpOptions};
    use crate::model::mlp::{Activation, Task};
    use crate::model::Intercept;
    use crate::simulate::{simulate_mlp, SimulationSpec, Teacher, TeacherNetwork};

    /// n rows of a 2-3-1 tanh teacher (noise sd 0.3 for regression).
    fn tiny(task: Task, n: usize, seed: u64) -> Dataset {
        simulate_mlp(
            &SimulationSpec {
                teacher: Teacher::Mlp,
                n,
                k: 2,
                weight_center: 0.0,
                weight_scale: 1.5,
                intercept: 0.0,
                noise_sd: 0.3,
                seed,
            },
            &TeacherNetwork {
                hidden: vec![3],
                activation: Activation::Tanh,
                task,
                outputs: 1,
            },
        )
        .unwrap()
        .0
    }

    fn options(task: Task) -> FitOptions {
        FitOptions {
            intercept: Intercept::Shared,
            noise_sd: if task == Task::Regression {
                SdSpec::Fixed(0.3)
            } else {
                SdSpec::Auto
            },
            mlp: MlpOptions {
                hidden: vec![3],
                task: Some(task),
                ..MlpOptions::default()
            },
            codes: crate::codelength::CodeSelection::MIXTURE_ONLY,
            ..FitOptions::default()
        }
    }

    /// Groups layer1 / output on the 2-3-1 network: empirical Bayes against a 41 × 41 grid over
    /// (ln s₁, ln s₂), step 0.1, centred on the answer, the MAP refitted at every point (from the
    /// answer's mode): no grid point above the answer's evidence (− 1e-6), the grid's best within
    /// one step of it.
    fn eb_is_the_top_of_a_grid(task: Task, seed: u64) {
        let data = tiny(task, 80, seed);
        let o = options(task);
        let study = MlpStudy::new(&data, &o).unwrap();
        let params = study.arch.parameter_info(&data.feature_names).unwrap();
        let groups = PriorStructure::parse("layer1=zero:auto; output=zero:auto")
            .unwrap()
            .resolve(&params)
            .unwrap();
        let p = params.len();
        let center = DVector::zeros(p);
        let fit_at = |precision: &DVector<f64>, init: DVector<f64>| {
            study
                .laplace_under(&center, precision, o.noise_sd, init, None)
                .map(|(_, mode, laplace)| (mode, laplace))
        };
        let mut labels = vec![None; p];
        for (g, group) in groups.iter().enumerate() {
            for &j in &group.indices {
                labels[j] = Some(g);
            }
        }
        let model = GroupedLaplace::new(
            labels,
            vec![None, None],
            DVector::zeros(p),
            center.clone(),
            &fit_at,
        )
        .with_stationary_tolerance(NETWORK_STATIONARY_TOLERANCE);
        let (shared, mode) = one_group_start(&study, &center, o.noise_sd, 2).unwrap();
        let eb = model
            .empirical_bayes_from(mode, (-2.0 * shared.log_sd).exp())
            .unwrap();
        assert!(
            eb.point.precisions.iter().all(|a| a.is_finite()),
            "{:?}",
            eb.point.precisions
        );
        let best = eb.point.laplace.log_evidence;
        let u: Vec<f64> = eb.point.precisions.iter().map(|a| -0.5 * a.ln()).collect();
        let start = eb.point.mode.params.clone();
        let none = [f64::INFINITY; 2];
        let step = 0.1;
        let mut top = (f64::NEG_INFINITY, 0.0, 0.0);
        for a in 0..41 {
            for b in 0..41 {
                let (u1, u2) = (
                    u[0] + step * (a as f64 - 20.0),
                    u[1] + step * (b as f64 - 20.0),
                );
                let alpha = [(-2.0 * u1).exp(), (-2.0 * u2).exp()];
                let value = model
                    .at(&alpha, &none, start.clone())
                    .unwrap()
                    .laplace
                    .log_evidence;
                if value > top.0 {
                    top = (value, u1, u2);
                }
            }
        }
        assert!(top.0 <= best + 1e-6, "grid {} above EB {best}", top.0);
        assert!(
            (u[0] - top.1).abs() <= step + 1e-12 && (u[1] - top.2).abs() <= step + 1e-12,
            "EB ln s = {u:?}, grid best at ({}, {})",
            top.1,
            top.2
        );
    }

    #[test]
    fn regression_layer_eb_is_the_top_of_a_grid() {
        eb_is_the_top_of_a_grid(Task::Regression, 3);
    }

    #[test]
    fn binary_layer_eb_is_the_top_of_a_grid() {
        eb_is_the_top_of_a_grid(Task::Classification, 4);
    }

    #[test]
    fn one_group_all_by_the_grouped_route_is_the_one_group_fit() {
        let data = tiny(Task::Regression, 80, 5);
        let o = options(Task::Regression);
        let structure = PriorStructure::parse("all=zero:auto").unwrap();
        let grouped = fit_grouped_mlp(&data, &o, &structure).unwrap();
        let single = fit_mlp(&data, &o).unwrap();
        let s = grouped.groups[0].sd;
        assert!(
            (s / single.evaluation.prior_sd - 1.0).abs() < 1e-3,
            "grouped ŝ {s}, one-group ŝ {}",
            single.evaluation.prior_sd
        );
        // The one-group evaluation at the grouped ŝ, from the grouped mode: the same evidence.
        let GroupedLaplaceInner::Mlp(fit) = &grouped.inner else {
            panic!("a network's grouped fit")
        };
        let study = MlpStudy::new(&data, &o).unwrap();
        let center = study
            .resolve_center(&CenterSpec::Zero, SdSpec::Fixed(s))
            .unwrap();
        let (at_s, _) = study
            .evaluate_mlp(
                &CenterSpec::Zero,
                center,
                SdSpec::Fixed(s),
                o.noise_sd,
                Some(&fit.mode.params),
            )
            .unwrap();
        let (a, b) = (fit.evaluation.log_evidence, at_s.log_evidence);
        assert!(
            ((a - b) / b).abs() < 1e-9,
            "grouped {a}, one group at its ŝ {b}"
        );
        assert!((fit.evaluation.effective_parameters - at_s.effective_parameters).abs() < 1e-6);
        // And the grouped answer is no worse than the one-group search's own optimum.
        assert!(a >= single.evaluation.log_evidence - 1e-6 * b.abs());
    }

    #[test]
    fn kfac_with_groups_that_split_a_layer_is_refused_naming_the_fix() {
        let data = tiny(Task::Regression, 40, 6);
        let mut o = options(Task::Regression);
        o.mlp.hessian = HessianKind::Kfac;
        let structure = PriorStructure::parse("layer1.weights=zero:auto; rest=zero:auto").unwrap();
        let err = fit_grouped_mlp(&data, &o, &structure).unwrap_err();
        assert!(
            matches!(
                err,
                OccamError::InvalidArgument {
                    setting: Setting::Hessian,
                    ..
                }
            ),
            "{err}"
        );
    }
}
