//! The report of one fit: the JSON layout of cli.md and its renderings.

use super::format::{
    csv_field, json_document, md_cell, significant, tex_escape, tex_number, OutputFormat,
};
use crate::codelength::{CodeLengths, MmlForm};
use crate::error::{Message, SettingNames};
use crate::fit::Study;
use crate::fit::{
    LinearFit, LogisticFit, MlpFit, ModelFit, PriorEvaluation, SoftmaxFit, StudyInfo,
};
use serde::Serialize;
use std::f64::consts::LN_2;
use std::fmt::Write;

/// The JSON schema version of cli.md; bump on a breaking change.
pub const SCHEMA: u32 = 1;

/// `dataset` in cli.md.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    /// A path or `builtin:NAME`.
    pub source: String,
    /// Rows.
    pub n: usize,
    /// Feature names in weight order.
    pub features: Vec<String>,
    /// The target column.
    pub target: String,
}

/// `model` in cli.md.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// `linear`, `logistic` or `mlp`.
    pub kind: String,
    /// σ, the noise sd (regression).
    pub noise_sd: Option<f64>,
    /// Whether σ was fitted by empirical Bayes.
    pub noise_sd_fitted: bool,
    /// The intercept treatment.
    pub intercept: String,
    /// Whether the features were z-scored.
    pub standardized: bool,
    /// The target values mapped to 0 and 1 (logistic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_mapping: Option<TargetMapping>,
    /// The class labels in the order of the model's outputs (classification; cli.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
}

/// Which target value became 0 and which 1.
#[derive(Debug, Clone, Serialize)]
pub struct TargetMapping {
    /// The value mapped to 0.
    #[serde(rename = "0")]
    pub zero: f64,
    /// The value mapped to 1.
    #[serde(rename = "1")]
    pub one: f64,
}

/// `diagnostics`: what depends on the model.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Diagnostics {
    /// The linear-Gaussian model.
    Linear(LinearDiagnostics),
    /// Logistic regression.
    Logistic(LogisticDiagnostics),
    /// A network.
    Mlp(MlpDiagnostics),
}

/// `diagnostics` for a network: the saturation question's numbers and the fit's checks.
#[derive(Debug, Clone, Serialize)]
pub struct MlpDiagnostics {
    /// ‖θ̂ − μ‖.
    pub distance_from_center: f64,
    /// Saturation, dead ReLUs, participation ratios, weight norms, symmetry count.
    #[serde(flatten)]
    pub network: crate::model::mlp::Diagnostics,
    /// ‖∇f‖ at the reported mode.
    pub gradient_norm: f64,
    /// The bound it met (1e-6 of the gradient's scale).
    pub gradient_tolerance: f64,
    /// L-BFGS iterations of the winning start.
    pub iterations: u64,
    /// The winning start (0-based).
    pub restart: usize,
    /// Evidence evaluations of the empirical-Bayes search.
    pub empirical_bayes_evaluations: usize,
    /// Smallest and largest eigenvalue of the curvature used (+ prior precision).
    pub hessian_eigenvalue_range: [f64; 2],
    /// Non-positive eigenvalues of the exact Hessian (0 with the GGN).
    pub nonpositive_hessian_eigenvalues: usize,
    /// ln p(y | θ̂).
    pub log_likelihood: f64,
    /// Bits charged for reals estimated from the coded rows.
    pub charged_bits: f64,
}

impl Diagnostics {
    /// ‖mode − μ‖, whatever the model.
    pub fn distance_from_center(&self) -> f64 {
        match self {
            Diagnostics::Linear(d) => d.distance_from_center,
            Diagnostics::Logistic(d) => d.distance_from_center,
            Diagnostics::Mlp(d) => d.distance_from_center,
        }
    }
}

/// `diagnostics` for logistic regression.
#[derive(Debug, Clone, Serialize)]
pub struct LogisticDiagnostics {
    /// ‖θ̂ − μ‖ over the parameters under the shared prior.
    pub distance_from_center: f64,
    /// ‖ŵ‖ over the weights.
    pub weight_norm: f64,
    /// ‖∇f‖ at the reported mode, and the bound it met.
    pub gradient_norm: f64,
    /// The bound ‖∇f‖ had to meet (1e-9 of the gradient's scale).
    pub gradient_tolerance: f64,
    /// L-BFGS then Newton iterations for the final fit.
    pub lbfgs_iterations: u64,
    /// Newton iterations for the final fit.
    pub newton_iterations: usize,
    /// Evidence evaluations of the empirical-Bayes search (0 when s is fixed).
    pub empirical_bayes_evaluations: usize,
    /// Smallest and largest eigenvalue of the Hessian at the mode.
    pub hessian_eigenvalue_range: [f64; 2],
    /// ln p(y | θ̂).
    pub log_likelihood: f64,
    /// Fraction of rows on the right side of p = ½.
    pub training_accuracy: f64,
    /// Bits charged for reals estimated from the coded rows (included in the code lengths).
    pub charged_bits: f64,
}

/// `prior` in cli.md.
#[derive(Debug, Clone, Serialize)]
pub struct PriorInfo {
    /// The centre as specified.
    pub center: String,
    /// The centre's coordinates (design units).
    pub center_values: Vec<f64>,
    /// The prior sd s (absent — NaN — for a prior of several groups: see `groups`).
    #[serde(skip_serializing_if = "is_nan")]
    pub sd: f64,
    /// Whether s was fitted by empirical Bayes (several groups: whether any s_g was).
    pub sd_fitted: bool,
    /// α = 1/s² (absent — NaN — for a prior of several groups).
    #[serde(skip_serializing_if = "is_nan")]
    pub precision: f64,
    /// A prior of several groups (math.md §8): one entry per group; absent for one group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupInfo>>,
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

/// One group of `prior.groups` (cli.md).
#[derive(Debug, Clone, Serialize)]
pub struct GroupInfo {
    /// The selector, or the feature's name for an `ard` group.
    pub name: String,
    /// The group's centre as specified.
    pub center: String,
    /// s_g used (0 for a pruned group).
    pub sd: f64,
    /// Whether s_g was fitted by empirical Bayes.
    pub sd_fitted: bool,
    /// Whether the group was pruned (s_g → 0, its weights at its centre).
    pub pruned: bool,
    /// P_g, its number of parameters.
    pub parameters: usize,
    /// γ_g = P_g − α_g tr(S_gg).
    pub effective_parameters: f64,
}

/// `map` in cli.md.
#[derive(Debug, Clone, Serialize)]
pub struct MapInfo {
    /// Weights on the standardised features, where the prior lives.
    pub weights: Vec<f64>,
    /// The intercept in the standardised parametrisation (prediction = intercept + z·w).
    pub intercept: f64,
    /// Weights in original units.
    pub weights_original: Vec<f64>,
    /// Intercept in original units.
    pub intercept_original: f64,
    /// Posterior sd of each standardised weight.
    pub posterior_sd: Vec<f64>,
    /// Posterior sd of each weight in original units.
    pub posterior_sd_original: Vec<f64>,
    /// MLP only: the name of each entry of `weights`, in the model's parameter order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_names: Option<Vec<String>>,
    /// MLP only: each layer's weights (one row per output unit) and biases, input layer first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerInfo>>,
}

/// `map` in cli.md: one weight vector (linear, binary logistic, MLP) or one per class (the
/// multinomial model, K ≥ 3).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum MapSection {
    /// One weight vector and intercept.
    Single(MapInfo),
    /// K weight vectors (rows = classes) and K intercepts.
    Classes(ClassMapInfo),
}

/// `map` of the multinomial (softmax) model: every matrix K × k, rows = classes in the order of
/// `model.classes`.
#[derive(Debug, Clone, Serialize)]
pub struct ClassMapInfo {
    /// Weights on the standardised features, where the prior lives.
    pub weights: Vec<Vec<f64>>,
    /// The K intercepts in the standardised parametrisation (η_c = intercept_c + z·w_c; 0 with
    /// `none`).
    pub intercept: Vec<f64>,
    /// Weights in original units.
    pub weights_original: Vec<Vec<f64>>,
    /// Intercepts in original units.
    pub intercept_original: Vec<f64>,
    /// Posterior sd of each standardised weight.
    pub posterior_sd: Vec<Vec<f64>>,
    /// Posterior sd of each weight in original units.
    pub posterior_sd_original: Vec<Vec<f64>>,
    /// Posterior sd of each intercept (standardised parametrisation); absent with `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intercept_posterior_sd: Option<Vec<f64>>,
}

/// One coordinate of a multinomial map, for the renderings.
struct ClassEntry {
    name: String,
    value: f64,
    sd: Option<f64>,
    original: f64,
    center: Option<f64>,
}

/// One layer of a network in `map.layers`.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// Rows = output units, columns = inputs.
    pub weights: Vec<Vec<f64>>,
    /// One per output unit.
    pub bias: Vec<f64>,
}

/// `evidence` in cli.md.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceInfo {
    /// ln p(y | X, s, σ, μ).
    pub log_nats: f64,
    /// −log₂ p(y | X, s, σ, μ).
    pub bits: f64,
    /// `exact`, `laplace-ggn` or `laplace-hessian`.
    pub method: String,
    /// γ; null outside [0, P], with the reason in the notes.
    pub effective_parameters: Option<f64>,
    /// P, the number of parameters γ is counted against.
    pub parameters: usize,
    /// The hidden-unit symmetry term (0 for models without hidden units).
    pub symmetry_log_nats: f64,
    /// Networks under a structured curvature (`laplace-kfac`, `laplace-diag`; math.md §9): γ of
    /// each layer, input layer first; absent for every other method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_effective_parameters: Option<Vec<LayerGamma>>,
}

/// One layer of `evidence.layer_effective_parameters`.
#[derive(Debug, Clone, Serialize)]
pub struct LayerGamma {
    /// `layer1` … `output`, as in `map.layers`' renderings.
    pub layer: String,
    /// The layer's parameter count, (fan-in + 1)·fan-out.
    pub parameters: usize,
    /// γ_ℓ = Σ over the layer's eigenvalues e of e/(e + α) (KFAC) or Σⱼ dⱼ/(dⱼ + α) (diagonal).
    pub effective_parameters: f64,
}

/// The L-BFGS cross-check in `diagnostics`.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizerInfo {
    /// The solver.
    pub solver: String,
    /// max |w_lbfgs − m| / max |m|.
    pub max_relative_difference: f64,
    /// Iterations.
    pub iterations: u64,
    /// ‖∇f‖ at the solver's point.
    pub gradient_norm: f64,
}

/// `diagnostics` for the linear model.
#[derive(Debug, Clone, Serialize)]
pub struct LinearDiagnostics {
    /// ‖m − μ‖.
    pub distance_from_center: f64,
    /// ‖m‖.
    pub weight_norm: f64,
    /// ‖y − Xm‖².
    pub residual_sum_of_squares: f64,
    /// Empirical-Bayes fixed-point iterations.
    pub empirical_bayes_iterations: usize,
    /// Bits charged for reals estimated from the coded rows (included in the code lengths).
    pub charged_bits: f64,
    /// The MAP reached again by argmin's L-BFGS, if it converged.
    pub optimizer_check: Option<OptimizerInfo>,
}

/// The full report of `occam fit` (cli.md "JSON of fit").
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    /// Schema version.
    pub schema: u32,
    /// The data.
    pub dataset: DatasetInfo,
    /// The model.
    pub model: ModelInfo,
    /// The prior.
    pub prior: PriorInfo,
    /// The MAP and posterior spread.
    pub map: MapSection,
    /// The evidence.
    pub evidence: EvidenceInfo,
    /// Code lengths in bits.
    pub code_length_bits: CodeLengths,
    /// Model-specific diagnostics.
    pub diagnostics: Diagnostics,
    /// What the reader needs to know.
    pub notes: Vec<String>,
}

impl DatasetInfo {
    /// The data of a study.
    pub fn of(info: &StudyInfo) -> Self {
        DatasetInfo {
            source: info.source.clone(),
            n: info.n,
            features: info.feature_names.clone(),
            target: info.target_name.clone(),
        }
    }
}

impl PriorInfo {
    /// The prior of an evaluation.
    pub fn of(evaluation: &PriorEvaluation) -> Self {
        PriorInfo {
            center: evaluation.center_spec.to_string(),
            center_values: evaluation.center.values.iter().copied().collect(),
            sd: evaluation.prior_sd,
            sd_fitted: evaluation.prior_sd_spec.fixed().is_none(),
            precision: 1.0 / (evaluation.prior_sd * evaluation.prior_sd),
            groups: None,
        }
    }
}

impl EvidenceInfo {
    /// The evidence of an evaluation.
    pub fn of(evaluation: &PriorEvaluation) -> Self {
        EvidenceInfo {
            log_nats: evaluation.log_evidence,
            bits: -evaluation.log_evidence / LN_2,
            method: evaluation.evidence_method.name().into(),
            effective_parameters: evaluation.printed_effective_parameters(),
            parameters: evaluation.mode.len(),
            symmetry_log_nats: evaluation.symmetry_log_nats,
            layer_effective_parameters: None,
        }
    }
}

/// Notes as the front end spells their settings.
pub(crate) fn render_all(notes: &[Message], names: &dyn SettingNames) -> Vec<String> {
    notes.iter().map(|note| note.render(names)).collect()
}

impl FitReport {
    /// The report of a fit, whatever the model; `names` spells the settings its notes mention.
    pub fn from_fit(fit: &ModelFit, names: &dyn SettingNames) -> Self {
        match fit {
            ModelFit::Linear(fit) => FitReport::from_linear(fit, names),
            ModelFit::Logistic(fit) => FitReport::from_logistic(fit, names),
            ModelFit::Mlp(fit) => FitReport::from_mlp(fit, names),
            ModelFit::GroupedLinear(fit) => FitReport::from_grouped_linear(fit, names),
            ModelFit::GroupedLaplace(fit) => FitReport::from_grouped_laplace(fit, names),
            ModelFit::Softmax(fit) => FitReport::from_softmax(fit, names),
        }
    }

    /// The report of a multinomial (softmax) fit: `map` K × k with rows = classes.
    pub fn from_softmax(fit: &SoftmaxFit, names: &dyn SettingNames) -> Self {
        let study = &fit.study;
        let evaluation = &fit.evaluation;
        let info = study.info();
        let k = info.feature_names.len();
        let classes = study.classes();
        let theta = &fit.mode.params;
        let m = theta.len() / classes;
        let has_intercept = m > k;
        let per_class = |v: &nalgebra::DVector<f64>| -> Vec<Vec<f64>> {
            (0..classes)
                .map(|c| v.rows(c * m, k).iter().copied().collect())
                .collect()
        };
        let intercepts = |v: &nalgebra::DVector<f64>| -> Vec<f64> {
            (0..classes)
                .map(|c| if has_intercept { v[c * m + k] } else { 0.0 })
                .collect()
        };
        let (weights_original, intercept_original) = fit.original_units();
        let posterior_sd = per_class(&fit.laplace.posterior_sd);
        let posterior_sd_original = posterior_sd
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&study.transform.feature_scale)
                    .map(|(s, scale)| s / scale)
                    .collect()
            })
            .collect();
        let eigenvalues = fit.mode.hessian.clone().symmetric_eigenvalues();
        let weight_norm = per_class(theta)
            .iter()
            .flatten()
            .map(|w| w * w)
            .sum::<f64>()
            .sqrt();
        FitReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&info),
            model: ModelInfo {
                kind: "logistic".into(),
                noise_sd: None,
                noise_sd_fitted: false,
                intercept: info.options.intercept.to_string(),
                standardized: info.options.standardize,
                target_mapping: None,
                classes: crate::fit::class_labels(&info),
            },
            prior: PriorInfo::of(evaluation),
            map: MapSection::Classes(ClassMapInfo {
                weights: per_class(theta),
                intercept: intercepts(theta),
                weights_original,
                intercept_original,
                posterior_sd,
                posterior_sd_original,
                intercept_posterior_sd: has_intercept
                    .then(|| intercepts(&fit.laplace.posterior_sd)),
            }),
            evidence: EvidenceInfo::of(evaluation),
            code_length_bits: evaluation.code_lengths,
            diagnostics: Diagnostics::Logistic(LogisticDiagnostics {
                distance_from_center: evaluation.distance_from_center,
                weight_norm,
                gradient_norm: fit.mode.gradient_norm,
                gradient_tolerance: fit.mode.gradient_tolerance,
                lbfgs_iterations: fit.mode.lbfgs_iterations,
                newton_iterations: fit.mode.newton_iterations,
                empirical_bayes_evaluations: evaluation.empirical_bayes_iterations,
                hessian_eigenvalue_range: [eigenvalues.min(), eigenvalues.max()],
                log_likelihood: fit.laplace.log_likelihood,
                training_accuracy: study.training_accuracy(theta).unwrap_or(f64::NAN),
                charged_bits: evaluation.charge_bits,
            }),
            notes: render_all(&fit.notes, names),
        }
    }

    /// The report of a linear-Gaussian fit.
    pub fn from_linear(fit: &LinearFit, names: &dyn SettingNames) -> Self {
        let study = &fit.study;
        let evaluation = &fit.evaluation;
        let post = &fit.posterior;
        let h = post.hyperparameters;
        let (weights_original, intercept_original) = fit.original_units();
        let summary = post.summary;
        FitReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&study.info()),
            model: ModelInfo {
                kind: "linear".into(),
                noise_sd: Some(h.noise_sd()),
                noise_sd_fitted: evaluation.noise_sd_spec.fixed().is_none(),
                intercept: study.options.intercept.to_string(),
                standardized: study.options.standardize,
                target_mapping: None,
                classes: None,
            },
            prior: PriorInfo::of(evaluation),
            map: MapSection::Single(MapInfo {
                weights: post.mean.iter().copied().collect(),
                intercept: study.transform.target_shift,
                weights_original,
                intercept_original,
                posterior_sd: post.sd.iter().copied().collect(),
                posterior_sd_original: post
                    .sd
                    .iter()
                    .zip(&study.transform.feature_scale)
                    .map(|(s, scale)| s / scale)
                    .collect(),
                parameter_names: None,
                layers: None,
            }),
            evidence: EvidenceInfo::of(evaluation),
            code_length_bits: evaluation.code_lengths,
            diagnostics: Diagnostics::Linear(LinearDiagnostics {
                distance_from_center: summary.distance_squared.sqrt(),
                weight_norm: post.mean.norm(),
                residual_sum_of_squares: summary.residual_sum_of_squares,
                empirical_bayes_iterations: evaluation.empirical_bayes_iterations,
                charged_bits: evaluation.charge_bits,
                optimizer_check: fit.optimizer_check.as_ref().map(|c| OptimizerInfo {
                    solver: "argmin L-BFGS (Moré–Thuente), analytic gradient".into(),
                    max_relative_difference: c.max_relative_difference,
                    iterations: c.iterations,
                    gradient_norm: c.gradient_norm,
                }),
            }),
            notes: render_all(&fit.notes, names),
        }
    }

    /// The report of a logistic-regression fit.
    pub fn from_logistic(fit: &LogisticFit, names: &dyn SettingNames) -> Self {
        let study = &fit.study;
        let evaluation = &fit.evaluation;
        let info = study.info();
        let k = info.feature_names.len();
        let theta = &fit.mode.params;
        let intercept = if theta.len() > k { theta[k] } else { 0.0 };
        let (weights_original, intercept_original) = fit.original_units();
        let posterior_sd: Vec<f64> = fit.laplace.posterior_sd.iter().take(k).copied().collect();
        let eigenvalues = fit.mode.hessian.clone().symmetric_eigenvalues();
        let problem_accuracy = study.training_accuracy(theta);
        FitReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&info),
            model: ModelInfo {
                kind: "logistic".into(),
                noise_sd: None,
                noise_sd_fitted: false,
                intercept: info.options.intercept.to_string(),
                standardized: info.options.standardize,
                target_mapping: Some(TargetMapping {
                    zero: study.target.negative,
                    one: study.target.positive,
                }),
                classes: crate::fit::class_labels(&info),
            },
            prior: PriorInfo::of(evaluation),
            map: MapSection::Single(MapInfo {
                weights: theta.iter().take(k).copied().collect(),
                intercept,
                weights_original,
                intercept_original,
                posterior_sd_original: posterior_sd
                    .iter()
                    .zip(&study.transform.feature_scale)
                    .map(|(s, scale)| s / scale)
                    .collect(),
                posterior_sd,
                parameter_names: None,
                layers: None,
            }),
            evidence: EvidenceInfo::of(evaluation),
            code_length_bits: evaluation.code_lengths,
            diagnostics: Diagnostics::Logistic(LogisticDiagnostics {
                distance_from_center: evaluation.distance_from_center,
                weight_norm: theta.rows(0, k).norm(),
                gradient_norm: fit.mode.gradient_norm,
                gradient_tolerance: fit.mode.gradient_tolerance,
                lbfgs_iterations: fit.mode.lbfgs_iterations,
                newton_iterations: fit.mode.newton_iterations,
                empirical_bayes_evaluations: evaluation.empirical_bayes_iterations,
                hessian_eigenvalue_range: [eigenvalues.min(), eigenvalues.max()],
                log_likelihood: fit.laplace.log_likelihood,
                training_accuracy: problem_accuracy,
                charged_bits: evaluation.charge_bits,
            }),
            notes: render_all(&fit.notes, names),
        }
    }

    /// The report of a network fit. `weights` lists every parameter in the model's order;
    /// `weights_original` the same with the first layer mapped to raw feature units and, for
    /// regression, the output layer to the target's own units.
    pub fn from_mlp(fit: &MlpFit, names: &dyn SettingNames) -> Self {
        let study = &fit.study;
        let evaluation = &fit.evaluation;
        let info = study.info();
        let theta = &fit.mode.params;
        let arch = &study.arch;
        let layers = arch.layers(theta);
        let output_bias = layers.last().map_or(0.0, |(_, b)| b[0]);
        let original =
            crate::fit::mlp::to_original_units(arch, theta, &study.transform, study.target);
        let structured = fit.mode.structured.as_ref();
        let mut evidence = EvidenceInfo::of(evaluation);
        let last_layer = evaluation.evidence_method == crate::fit::EvidenceMethod::LaplaceLastLayer;
        let p_last = (arch.widths()[arch.hidden.len()] + 1) * arch.outputs;
        if last_layer {
            // γ of the GLM on the last hidden features, counted against its P_L parameters.
            evidence.parameters = p_last;
        }
        evidence.layer_effective_parameters = structured.map(|s| {
            if last_layer {
                return vec![LayerGamma {
                    layer: "output".into(),
                    parameters: p_last,
                    effective_parameters: s.effective_parameters,
                }];
            }
            let count = s.layer_effective_parameters.len();
            arch.widths()
                .windows(2)
                .zip(&s.layer_effective_parameters)
                .enumerate()
                .map(|(l, (w, gamma))| LayerGamma {
                    layer: layer_name(l, count),
                    parameters: (w[0] + 1) * w[1],
                    effective_parameters: *gamma,
                })
                .collect()
        });
        FitReport {
            schema: SCHEMA,
            dataset: DatasetInfo::of(&info),
            model: ModelInfo {
                kind: "mlp".into(),
                noise_sd: evaluation.noise_sd,
                noise_sd_fitted: evaluation.noise_sd.is_some()
                    && evaluation.noise_sd_spec == crate::prior::SdSpec::Auto,
                intercept: "shared".into(),
                standardized: info.options.standardize,
                target_mapping: info
                    .target_mapping
                    .map(|(zero, one)| TargetMapping { zero, one }),
                classes: crate::fit::class_labels(&info),
            },
            prior: PriorInfo::of(evaluation),
            map: MapSection::Single(MapInfo {
                weights: theta.iter().copied().collect(),
                intercept: output_bias,
                weights_original: original.iter().copied().collect(),
                // The (first) output unit's bias, b[0] of the output layer, in raw units.
                intercept_original: original
                    .get(arch.n_params() - arch.outputs)
                    .copied()
                    .unwrap_or(output_bias),
                // The sds of the structured curvatures (√diag((K + Λ)⁻¹), cheap); none under the
                // full GGN or Hessian. Not mapped to original units: a bias there mixes weights,
                // whose covariances the diagonal does not carry.
                // Under laplace-last-layer, the output layer's; the earlier layers are fixed (0).
                posterior_sd: structured.map_or(Vec::new(), |s| {
                    let fixed = arch.n_params() - s.posterior_sd.len();
                    std::iter::repeat_n(0.0, fixed)
                        .chain(s.posterior_sd.iter().copied())
                        .collect()
                }),
                posterior_sd_original: Vec::new(),
                parameter_names: Some(arch.parameter_names()),
                layers: Some(
                    layers
                        .iter()
                        .map(|(w, b)| LayerInfo {
                            weights: (0..w.nrows())
                                .map(|r| w.row(r).iter().copied().collect())
                                .collect(),
                            bias: b.iter().copied().collect(),
                        })
                        .collect(),
                ),
            }),
            evidence,
            code_length_bits: evaluation.code_lengths,
            diagnostics: Diagnostics::Mlp(MlpDiagnostics {
                distance_from_center: evaluation.distance_from_center,
                network: fit.diagnostics.clone(),
                gradient_norm: fit.mode.gradient_norm,
                gradient_tolerance: fit.mode.gradient_tolerance,
                iterations: fit.mode.iterations,
                restart: fit.mode.restart,
                empirical_bayes_evaluations: evaluation.empirical_bayes_iterations,
                hessian_eigenvalue_range: fit.mode.eigenvalue_range,
                nonpositive_hessian_eigenvalues: fit.mode.nonpositive_eigenvalues,
                log_likelihood: fit.mode.log_likelihood,
                charged_bits: evaluation.charge_bits,
            }),
            notes: render_all(&fit.notes, names),
        }
    }

    /// The report in `format`.
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Json => json_document(self),
            OutputFormat::Table => self.render_table(),
            OutputFormat::Md => self.render_markdown(),
            OutputFormat::Tex => self.render_tex(),
            OutputFormat::Csv => self.render_csv(),
        }
    }

    fn fitted(flag: bool) -> &'static str {
        if flag {
            "empirical Bayes"
        } else {
            "fixed"
        }
    }

    /// (label, value) pairs of the summary, shared by every rendering.
    fn summary_rows(&self) -> Vec<(&'static str, String)> {
        let code = |v: Option<f64>| v.map_or("—".to_string(), |b| significant(b, 7));
        let mut rows = vec![
            (
                "data",
                format!(
                    "{} (n = {}, k = {}, target {})",
                    self.dataset.source,
                    self.dataset.n,
                    self.dataset.features.len(),
                    self.dataset.target
                ),
            ),
            (
                "model",
                format!(
                    "{}, intercept {}, {}",
                    self.model.kind,
                    self.model.intercept,
                    if self.model.standardized {
                        "standardised features"
                    } else {
                        "raw features"
                    }
                ),
            ),
            ("prior centre μ", self.prior.center.clone()),
        ];
        match &self.prior.groups {
            None => rows.push((
                "prior sd s",
                format!(
                    "{} ({})",
                    significant(self.prior.sd, 6),
                    Self::fitted(self.prior.sd_fitted)
                ),
            )),
            Some(groups) => rows.extend(groups.iter().map(|g| {
                (
                    "prior group",
                    format!(
                        "{}: centre {}, s = {} ({}{}), γ = {} of {}",
                        g.name,
                        g.center,
                        significant(g.sd, 6),
                        Self::fitted(g.sd_fitted),
                        if g.pruned { ", pruned" } else { "" },
                        significant(g.effective_parameters, 6),
                        g.parameters
                    ),
                )
            })),
        }
        if let (MapSection::Classes(_), Some(classes)) = (&self.map, &self.model.classes) {
            let mapping: Vec<String> = classes
                .iter()
                .enumerate()
                .map(|(c, name)| format!("{c} = {name}"))
                .collect();
            rows.insert(
                2,
                (
                    "classes",
                    format!("{} (multinomial): {}", classes.len(), mapping.join(", ")),
                ),
            );
        }
        if let Some(sigma) = self.model.noise_sd {
            rows.push((
                "noise sd σ",
                format!(
                    "{} ({})",
                    significant(sigma, 6),
                    Self::fitted(self.model.noise_sd_fitted)
                ),
            ));
        }
        rows.extend([
            (
                "log evidence (nats)",
                format!(
                    "{} ({})",
                    significant(self.evidence.log_nats, 9),
                    self.evidence.method
                ),
            ),
            (
                "effective parameters γ",
                format!(
                    "{} of {}",
                    self.evidence
                        .effective_parameters
                        .map_or("— (outside [0, P]: see the notes)".into(), |g| {
                            significant(g, 6)
                        }),
                    self.evidence.parameters
                ),
            ),
        ]);
        if let Some(layers) = &self.evidence.layer_effective_parameters {
            let parts: Vec<String> = layers
                .iter()
                .map(|l| {
                    format!(
                        "{} {} of {}",
                        l.layer,
                        significant(l.effective_parameters, 5),
                        l.parameters
                    )
                })
                .collect();
            rows.push((
                "γ per layer",
                format!("{} ({})", parts.join(", "), self.evidence.method),
            ));
        }
        rows.extend([
            (
                "‖m − μ‖",
                significant(self.diagnostics.distance_from_center(), 6),
            ),
            ("mixture code (bits)", code(self.code_length_bits.mixture)),
            (
                "prequential code (bits)",
                code(self.code_length_bits.prequential),
            ),
            (
                "two-part code (bits)",
                match self.code_length_bits.two_part_form {
                    Some(form @ MmlForm::FisherPlusPrior) => format!(
                        "{} (MML87 with {}: see the notes)",
                        code(self.code_length_bits.two_part),
                        form.label()
                    ),
                    _ => code(self.code_length_bits.two_part),
                },
            ),
            ("BIC code (bits)", code(self.code_length_bits.bic)),
        ]);
        if let Diagnostics::Mlp(d) = &self.diagnostics {
            let fraction = |v: Option<f64>| {
                v.map_or("— (not this activation)".to_string(), |f| {
                    significant(f, 4)
                })
            };
            rows.push((
                "saturated (unit, row) pairs",
                fraction(d.network.saturation_fraction),
            ));
            rows.push(("dead ReLU units", fraction(d.network.dead_relu_fraction)));
            let participation: Vec<String> = d
                .network
                .participation
                .iter()
                .map(|l| {
                    format!(
                        "{} {}",
                        l.layer,
                        l.mean.map_or("—".into(), |m| significant(m, 3))
                    )
                })
                .collect();
            rows.push(("input participation (mean)", participation.join(", ")));
            rows.push((
                "symmetry term (nats)",
                significant(self.evidence.symmetry_log_nats, 6),
            ));
            let groups: Vec<String> = d
                .network
                .symmetry
                .iter()
                .map(|l| {
                    let mut parts: Vec<String> = l
                        .clone_groups
                        .iter()
                        .map(|g| {
                            let units: Vec<String> = g.iter().map(usize::to_string).collect();
                            format!("clones {{{}}}", units.join(","))
                        })
                        .collect();
                    if !l.zero_units.is_empty() {
                        let units: Vec<String> =
                            l.zero_units.iter().map(usize::to_string).collect();
                        parts.push(format!("zero {{{}}}", units.join(",")));
                    }
                    if parts.is_empty() {
                        parts.push("all distinct".into());
                    }
                    format!("{} ({} units): {}", l.layer, l.units, parts.join(" "))
                })
                .collect();
            rows.push(("hidden-unit groups", groups.join("; ")));
        }
        rows
    }

    /// One entry per (class, weight) and per class intercept, named `class:feature`: weight,
    /// posterior sd (none for an absent intercept), original-units value, centre (where the
    /// shared prior covers the coordinate).
    fn class_entries(&self, map: &ClassMapInfo) -> Vec<ClassEntry> {
        let classes = self.model.classes.clone().unwrap_or_default();
        let k = self.dataset.features.len();
        let shared = self.prior.center_values.len() / map.weights.len().max(1);
        let mut entries = Vec::new();
        for (c, class) in classes.iter().enumerate() {
            for (j, feature) in self.dataset.features.iter().enumerate() {
                entries.push(ClassEntry {
                    name: format!("{class}:{feature}"),
                    value: map.weights[c][j],
                    sd: Some(map.posterior_sd[c][j]),
                    original: map.weights_original[c][j],
                    center: Some(self.prior.center_values[c * shared + j]),
                });
            }
            if let Some(sds) = &map.intercept_posterior_sd {
                entries.push(ClassEntry {
                    name: format!("{class}:(intercept)"),
                    value: map.intercept[c],
                    sd: Some(sds[c]),
                    original: map.intercept_original[c],
                    center: (shared > k).then(|| self.prior.center_values[c * shared + k]),
                });
            }
        }
        entries
    }

    /// [`Self::class_entries`] as table cells.
    fn class_rows(&self, map: &ClassMapInfo) -> Vec<[String; 5]> {
        let cell = |v: Option<f64>, digits| v.map_or(String::new(), |v| significant(v, digits));
        self.class_entries(map)
            .into_iter()
            .map(|e| {
                [
                    e.name,
                    significant(e.value, 6),
                    cell(e.sd, 4),
                    significant(e.original, 6),
                    cell(e.center, 4),
                ]
            })
            .collect()
    }

    /// One row per weight and a last row for the intercept: name, weight, sd, original, centre.
    fn weight_rows(&self) -> Vec<[String; 5]> {
        let m = match &self.map {
            MapSection::Single(m) => m,
            MapSection::Classes(map) => return self.class_rows(map),
        };
        if let Some(layers) = &m.layers {
            return layers
                .iter()
                .enumerate()
                .map(|(l, layer)| {
                    let weights: Vec<f64> = layer.weights.iter().flatten().copied().collect();
                    let norm = weights.iter().map(|w| w * w).sum::<f64>().sqrt();
                    let mean_abs =
                        weights.iter().map(|w| w.abs()).sum::<f64>() / weights.len().max(1) as f64;
                    let mean_bias = layer.bias.iter().sum::<f64>() / layer.bias.len().max(1) as f64;
                    let name = layer_name(l, layers.len());
                    let shape = format!(
                        "{}×{}",
                        layer.weights.len(),
                        layer.weights.first().map_or(0, Vec::len)
                    );
                    [
                        name,
                        shape,
                        significant(norm, 5),
                        significant(mean_abs, 4),
                        significant(mean_bias, 4),
                    ]
                })
                .collect();
        }
        let mut rows: Vec<[String; 5]> = (0..m.weights.len())
            .map(|j| {
                [
                    self.dataset.features[j].clone(),
                    significant(m.weights[j], 6),
                    significant(m.posterior_sd[j], 4),
                    significant(m.weights_original[j], 6),
                    significant(self.prior.center_values[j], 4),
                ]
            })
            .collect();
        rows.push([
            "(intercept)".into(),
            significant(m.intercept, 6),
            "".into(),
            significant(m.intercept_original, 6),
            "".into(),
        ]);
        rows
    }

    /// A network's layers, when the map has them.
    fn layers(&self) -> Option<&Vec<LayerInfo>> {
        match &self.map {
            MapSection::Single(m) => m.layers.as_ref(),
            MapSection::Classes(_) => None,
        }
    }

    fn weight_header(&self) -> [&'static str; 5] {
        if self.layers().is_some() {
            ["layer", "units × inputs", "‖W‖", "mean |w|", "mean bias"]
        } else {
            Self::WEIGHT_HEADER
        }
    }

    const WEIGHT_HEADER: [&'static str; 5] = [
        "feature",
        "weight",
        "posterior sd",
        "weight (original units)",
        "prior centre",
    ];

    fn render_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "occam fit — {} model, Gaussian prior on the standardised weights\n",
            self.model.kind
        );
        let summary = self.summary_rows();
        let width = summary
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        for (label, value) in &summary {
            let _ = writeln!(out, "  {label:<width$}  {value}", width = width);
        }
        out.push('\n');
        let rows = self.weight_rows();
        let widths: Vec<usize> = (0..5)
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.weight_header()[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: [&str; 5]| -> String {
            let mut s = format!("  {:<w$}", cells[0], w = widths[0]);
            for c in 1..5 {
                let _ = write!(s, "  {:>w$}", cells[c], w = widths[c]);
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(self.weight_header()));
        for r in &rows {
            let _ = writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
        }
        if !self.notes.is_empty() {
            out.push_str("\nnotes\n");
            for note in &self.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        out
    }

    fn render_markdown(&self) -> String {
        let mut out = String::from("| quantity | value |\n|---|---|\n");
        for (label, value) in self.summary_rows() {
            let _ = writeln!(out, "| {} | {} |", md_cell(label), md_cell(&value));
        }
        let _ = writeln!(
            out,
            "\n| {} |\n|---|---:|---:|---:|---:|",
            self.weight_header().join(" | ")
        );
        for r in self.weight_rows() {
            let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "- {}", note);
            }
        }
        out
    }

    fn render_tex(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "% occam fit: {} model on {} (requires \\usepackage{{booktabs}})",
            self.model.kind,
            tex_escape(&self.dataset.source)
        );
        out.push_str("\\begin{tabular}{ll}\n\\toprule\nQuantity & Value \\\\\n\\midrule\n");
        for (label, value) in self.summary_rows() {
            let _ = writeln!(out, "{} & {} \\\\", tex_escape(label), tex_escape(&value));
        }
        out.push_str("\\bottomrule\n\\end{tabular}\n\n");
        if let MapSection::Classes(_) = &self.map {
            out.push_str("\\begin{tabular}{lrrrr}\n\\toprule\nClass:feature & Weight (std.\\ units) & Posterior sd & Weight (original units) & Prior centre \\\\\n\\midrule\n");
            let MapSection::Classes(map) = &self.map else {
                return out;
            };
            let cell = |v: Option<f64>, digits| v.map_or(String::new(), |v| tex_number(v, digits));
            for e in self.class_entries(map) {
                let _ = writeln!(
                    out,
                    "{} & {} & {} & {} & {} \\\\",
                    tex_escape(&e.name),
                    tex_number(e.value, 6),
                    cell(e.sd, 4),
                    tex_number(e.original, 6),
                    cell(e.center, 4)
                );
            }
            out.push_str("\\bottomrule\n\\end{tabular}\n");
            return out;
        }
        if self.layers().is_some() {
            let header: Vec<String> = self.weight_header().iter().map(|h| tex_escape(h)).collect();
            let _ = writeln!(
                out,
                "\\begin{{tabular}}{{lrrrr}}\n\\toprule\n{} \\\\\n\\midrule",
                header.join(" & ")
            );
            for r in self.weight_rows() {
                let cells: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(c, v)| {
                        if c >= 2 {
                            format!("${v}$")
                        } else {
                            tex_escape(v)
                        }
                    })
                    .collect();
                let _ = writeln!(out, "{} \\\\", cells.join(" & "));
            }
            out.push_str("\\bottomrule\n\\end{tabular}\n");
            return out;
        }
        out.push_str("\\begin{tabular}{lrrrr}\n\\toprule\nFeature & Weight (std.\\ units) & Posterior sd & Weight (original units) & Prior centre \\\\\n\\midrule\n");
        let MapSection::Single(m) = &self.map else {
            return out;
        };
        for j in 0..m.weights.len() {
            let _ = writeln!(
                out,
                "{} & {} & {} & {} & {} \\\\",
                tex_escape(&self.dataset.features[j]),
                tex_number(m.weights[j], 6),
                tex_number(m.posterior_sd[j], 4),
                tex_number(m.weights_original[j], 6),
                tex_number(self.prior.center_values[j], 4)
            );
        }
        let _ = writeln!(
            out,
            "\\midrule\n(intercept) & {} & & {} & \\\\",
            tex_number(m.intercept, 6),
            tex_number(m.intercept_original, 6)
        );
        out.push_str("\\bottomrule\n\\end{tabular}\n");
        out
    }

    fn render_csv(&self) -> String {
        let mut out = String::from("group,name,value\n");
        let mut put = |group: &str, name: &str, value: String| {
            let _ = writeln!(
                out,
                "{},{},{}",
                csv_field(group),
                csv_field(name),
                csv_field(&value)
            );
        };
        let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
        put("dataset", "source", self.dataset.source.clone());
        put("dataset", "n", self.dataset.n.to_string());
        put("dataset", "target", self.dataset.target.clone());
        put("model", "kind", self.model.kind.clone());
        put("model", "noise_sd", opt(self.model.noise_sd));
        put(
            "model",
            "noise_sd_fitted",
            self.model.noise_sd_fitted.to_string(),
        );
        put("model", "intercept", self.model.intercept.clone());
        put("prior", "center", self.prior.center.clone());
        match &self.prior.groups {
            None => {
                put("prior", "sd", self.prior.sd.to_string());
                put("prior", "sd_fitted", self.prior.sd_fitted.to_string());
            }
            Some(groups) => {
                for g in groups {
                    put("prior_group_center", &g.name, g.center.clone());
                    put("prior_group_sd", &g.name, g.sd.to_string());
                    put("prior_group_sd_fitted", &g.name, g.sd_fitted.to_string());
                    put(
                        "prior_group_effective_parameters",
                        &g.name,
                        g.effective_parameters.to_string(),
                    );
                }
            }
        }
        put("evidence", "log_nats", self.evidence.log_nats.to_string());
        put("evidence", "method", self.evidence.method.clone());
        put(
            "evidence",
            "effective_parameters",
            opt(self.evidence.effective_parameters),
        );
        put(
            "code_length_bits",
            "mixture",
            opt(self.code_length_bits.mixture),
        );
        put(
            "code_length_bits",
            "prequential",
            opt(self.code_length_bits.prequential),
        );
        put(
            "code_length_bits",
            "two_part",
            opt(self.code_length_bits.two_part),
        );
        put("code_length_bits", "bic", opt(self.code_length_bits.bic));
        put(
            "code_length_bits",
            "two_part_form",
            self.code_length_bits
                .two_part_form
                .map_or(String::new(), |form| form.key().to_string()),
        );
        let m = match &self.map {
            MapSection::Single(m) => m,
            MapSection::Classes(map) => {
                for e in self.class_entries(map) {
                    put("weight", &e.name, e.value.to_string());
                    if let Some(sd) = e.sd {
                        put("posterior_sd", &e.name, sd.to_string());
                    }
                    put("weight_original", &e.name, e.original.to_string());
                    if let Some(center) = e.center {
                        put("prior_center", &e.name, center.to_string());
                    }
                }
                return out;
            }
        };
        if let Some(layers) = &self.evidence.layer_effective_parameters {
            for l in layers {
                put(
                    "layer_effective_parameters",
                    &l.layer,
                    l.effective_parameters.to_string(),
                );
            }
        }
        if let Some(names) = &m.parameter_names {
            for (j, name) in names.iter().enumerate() {
                put("weight", name, m.weights[j].to_string());
                if let Some(sd) = m.posterior_sd.get(j) {
                    put("posterior_sd", name, sd.to_string());
                }
                put("weight_original", name, m.weights_original[j].to_string());
                put(
                    "prior_center",
                    name,
                    self.prior.center_values[j].to_string(),
                );
            }
            return out;
        }
        for (j, name) in self.dataset.features.iter().enumerate() {
            put("weight", name, m.weights[j].to_string());
            put("posterior_sd", name, m.posterior_sd[j].to_string());
            put("weight_original", name, m.weights_original[j].to_string());
            put(
                "prior_center",
                name,
                self.prior.center_values[j].to_string(),
            );
        }
        put("weight", "(intercept)", m.intercept.to_string());
        put(
            "weight_original",
            "(intercept)",
            m.intercept_original.to_string(),
        );
        out
    }
}

/// A network layer's name in the renderings: `layer1` … for hidden layers' inputs, `output` last.
fn layer_name(l: usize, count: usize) -> String {
    if l + 1 == count {
        "output".to_string()
    } else {
        format!("layer{}", l + 1)
    }
}
