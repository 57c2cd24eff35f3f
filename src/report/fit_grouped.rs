//! The report of a fit under a prior of several groups (math.md §8): the JSON of cli.md with
//! `prior.groups`, rendered like any fit (logistic and softmax through their one-group report).

use super::fit::{
    render_all, DatasetInfo, Diagnostics, EvidenceInfo, FitReport, GroupInfo, LinearDiagnostics,
    MapInfo, MapSection, ModelInfo, OptimizerInfo, PriorInfo, SCHEMA,
};
use crate::error::SettingNames;
use crate::fit::grouped::GroupOutcome;
use crate::fit::{GroupedLinearFit, Study};
use crate::prior::groups::PriorStructure;
use nalgebra::DVector;
use std::f64::consts::LN_2;

impl FitReport {
    /// The report of a linear-Gaussian fit under a grouped prior: `prior.center` is the
    /// structure as given, `prior.center_values` every group's centre at its weights,
    /// `prior.groups` one entry per group; `prior.sd` and `prior.precision` are left out.
    pub fn from_grouped_linear(fit: &GroupedLinearFit, names: &dyn SettingNames) -> Self {
        let study = &fit.study;
        let (weights_original, intercept_original) = fit.original_units();
        let parameters = fit.mean.len();
        FitReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&study.info()),
            model: ModelInfo {
                kind: "linear".into(),
                noise_sd: Some(fit.noise_sd),
                noise_sd_fitted: fit.noise_sd_fitted,
                intercept: study.options.intercept.to_string(),
                standardized: study.options.standardize,
                target_mapping: None,
                classes: None,
            },
            prior: grouped_prior(&fit.structure, &fit.center, &fit.groups),
            map: MapSection::Single(MapInfo {
                weights: fit.mean.iter().copied().collect(),
                intercept: study.transform.target_shift,
                weights_original,
                intercept_original,
                posterior_sd: fit.posterior_sd.iter().copied().collect(),
                posterior_sd_original: fit
                    .posterior_sd
                    .iter()
                    .zip(&study.transform.feature_scale)
                    .map(|(s, scale)| s / scale)
                    .collect(),
                parameter_names: None,
                layers: None,
            }),
            evidence: EvidenceInfo {
                log_nats: fit.log_evidence,
                bits: -fit.log_evidence / LN_2,
                method: "exact".into(),
                effective_parameters: Some(fit.effective_parameters),
                parameters,
                symmetry_log_nats: 0.0,
                layer_effective_parameters: None,
            },
            code_length_bits: fit.code_lengths,
            diagnostics: Diagnostics::Linear(LinearDiagnostics {
                distance_from_center: (&fit.mean - &fit.center).norm(),
                weight_norm: fit.mean.norm(),
                residual_sum_of_squares: fit.residual_sum_of_squares,
                empirical_bayes_iterations: fit.iterations,
                charged_bits: fit.charge_bits,
                optimizer_check: fit.optimizer_check.as_ref().map(|c| OptimizerInfo {
                    solver: "argmin L-BFGS (Moré–Thuente), analytic gradient; pruned weights held at their centre".into(),
                    max_relative_difference: c.max_relative_difference,
                    iterations: c.iterations,
                    gradient_norm: c.gradient_norm,
                }),
            }),
            notes: render_all(&fit.notes, names),
        }
    }
}

impl FitReport {
    /// The report of a logistic (binary or softmax) fit under a grouped prior: the one-group
    /// report of the fit at the final Λ, with `prior` as for the linear model's groups
    /// (`prior.center` the structure, `prior.center_values` μ over all P parameters,
    /// `prior.groups` one entry per group, `prior.sd`/`prior.precision` left out).
    pub fn from_grouped_laplace(
        fit: &crate::fit::grouped_logistic::GroupedLaplaceFit,
        names: &dyn SettingNames,
    ) -> Self {
        use crate::fit::grouped_logistic::GroupedLaplaceInner;
        let mut report = match &fit.inner {
            GroupedLaplaceInner::Binary(f) => FitReport::from_logistic(f, names),
            GroupedLaplaceInner::Softmax(f) => FitReport::from_softmax(f, names),
        };
        report.prior = grouped_prior(&fit.structure, &fit.center, &fit.groups);
        report
    }
}

/// The `prior` section of a fit under a grouped prior: `center` the structure as given,
/// `center_values` μ over all parameters, `groups` one entry per group (with γ_g), and `sd`,
/// `precision` left out (NaN: one number does not describe the prior).
fn grouped_prior(
    structure: &PriorStructure,
    center: &DVector<f64>,
    groups: &[GroupOutcome],
) -> PriorInfo {
    PriorInfo {
        center: structure.to_string(),
        center_values: center.iter().copied().collect(),
        sd: f64::NAN,
        sd_fitted: groups.iter().any(|g| g.sd_fitted),
        precision: f64::NAN,
        groups: Some(
            groups
                .iter()
                .map(|g| GroupInfo {
                    name: g.name.clone(),
                    center: g.center.to_string(),
                    sd: g.sd,
                    sd_fitted: g.sd_fitted,
                    pruned: g.pruned,
                    parameters: g.indices.len(),
                    effective_parameters: g.effective_parameters,
                })
                .collect(),
        ),
    }
}
