//! The linear-Gaussian model under a grouped prior (math.md §8): one fit, end to end.
//!
//! The prior structure ([`PriorStructure`]) is matched to the weights (one per feature; the
//! linear model's intercept is not a parameter: the data are centred, or it has none), each
//! group's centre is resolved on its own coordinates, and [`GroupedLinear::empirical_bayes`]
//! fits every `auto` sd s_g = α_g^−½ (and σ when `auto`) by MacKay's per-group fixed point. The
//! evidence is exact:
//!
//! ln p(y) = ½ ln|Λ| + (n/2) ln β − E(m) − ½ ln|A| − (n/2) ln 2π, A = Λ + βXᵀX,
//!
//! and the mixture code is −log₂ p(y) plus ½ log₂ n bits per real number estimated from the coded
//! rows: each fitted s_g (a pruned group's s_g = 0 included: it was estimated), σ when fitted,
//! and `charged_reals`. A group's `file:` centre holds the group's coordinates, or every
//! weight's (occam's fit JSON: its `map.weights`), of which the group's are taken. BIC does not depend on the prior and is the linear model's. The
//! prequential and two-part codes are not computed for a grouped prior yet (a note says so).

use super::{charge_note, charged_reals_note, FitOptions, LinearStudy};
use crate::codelength::linear::bic_bits;
use crate::codelength::{bits, estimate_charge_bits, optional_code, CodeLengths};
use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::grouped::{fixed_precisions, GroupedLinear};
use crate::message;
use crate::model::Intercept;
use crate::prior::groups::{ParameterInfo, PriorStructure};
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;

/// One group of a fitted grouped prior.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOutcome {
    /// Its name: the selector, or the feature's name for an `ard` group.
    pub name: String,
    /// Its centre as specified.
    pub center: CenterSpec,
    /// s_g used: fixed, fitted, or 0 for a pruned group.
    pub sd: f64,
    /// Whether s_g was fitted by empirical Bayes.
    pub sd_fitted: bool,
    /// Whether the group was pruned (s_g → 0: its weights at its centre).
    pub pruned: bool,
    /// The indices of its weights.
    pub indices: Vec<usize>,
    /// γ_g = P_g − α_g tr(S_gg) (0 when pruned).
    pub effective_parameters: f64,
}

/// A linear-Gaussian fit under a grouped prior.
#[derive(Debug, Clone)]
pub struct GroupedLinearFit<'d> {
    /// The data side (standardisation, statistics).
    pub study: LinearStudy<'d>,
    /// The prior structure as given.
    pub structure: PriorStructure,
    /// The groups, in the order resolved.
    pub groups: Vec<GroupOutcome>,
    /// μ, every group's centre at its indices (design units).
    pub center: DVector<f64>,
    /// The posterior mean m (the MAP).
    pub mean: DVector<f64>,
    /// √diag(A⁻¹) (0 for a pruned group's weights).
    pub posterior_sd: DVector<f64>,
    /// σ used.
    pub noise_sd: f64,
    /// Whether σ was fitted.
    pub noise_sd_fitted: bool,
    /// ln p(y | X, prior) in nats (the finite limit for pruned groups).
    pub log_evidence: f64,
    /// Σ_g γ_g.
    pub effective_parameters: f64,
    /// ‖y − Xm‖².
    pub residual_sum_of_squares: f64,
    /// Fixed-point iterations (all rounds).
    pub iterations: usize,
    /// The code lengths in bits, charges included.
    pub code_lengths: CodeLengths,
    /// Bits charged for reals estimated from the coded rows.
    pub charge_bits: f64,
    /// What the reader needs to know.
    pub notes: Vec<Message>,
}

impl GroupedLinearFit<'_> {
    /// The posterior-mean weights and intercept in original units.
    pub fn original_units(&self) -> (Vec<f64>, f64) {
        self.study.transform.to_original(self.mean.as_slice(), 0.0)
    }
}

fn invalid(message: impl Into<Message>) -> OccamError {
    OccamError::invalid(Setting::Prior, message)
}

/// Fits the linear-Gaussian model to `dataset` under the grouped prior `structure` (math.md §8);
/// the other settings come from `options` (its single-group centre and sd are not used).
pub fn fit_grouped_linear<'d>(
    dataset: &'d Dataset,
    options: &FitOptions,
    structure: &PriorStructure,
) -> Result<GroupedLinearFit<'d>> {
    // The study without the prequential plan, which a grouped prior does not use yet.
    let mut study_options = options.clone();
    study_options.codes.prequential = false;
    let mut study = LinearStudy::borrowing(dataset, &study_options)?;
    study.options = options.clone();
    let Some(stats) = study.stats() else {
        return Err(invalid(format!(
            "a grouped prior on wide data (n = {} rows < k = {} features) is not wired yet: its k × k statistics are not formed on the n × n route; use the one-group prior",
            dataset.n(),
            dataset.k()
        )));
    };
    let k = study.feature_names.len();
    let params = ParameterInfo::glm(&study.feature_names, false);
    let groups = structure.resolve(&params)?;
    let mut center = DVector::zeros(k);
    let mut center_notes: Vec<Message> = Vec::new();
    for group in &groups {
        let names: Vec<String> = group
            .indices
            .iter()
            .map(|&j| params[j].name.clone())
            .collect();
        let scale = match (&group.center, group.sd) {
            (CenterSpec::Sha256 { scale: None, .. }, SdSpec::Auto) => {
                return Err(invalid(format!(
                    "group '{}': a sha256:TEXT centre takes its scale from a fixed sd; with sd auto give sha256:TEXT:SCALE",
                    group.name
                )))
            }
            (_, SdSpec::Fixed(s)) => s,
            (_, SdSpec::Auto) => f64::NAN,
        };
        // A file may hold the group's coordinates or every weight's (occam's fit JSON of the
        // same model: then the group's are taken).
        let whole = match &group.center {
            CenterSpec::File(_) if group.indices.len() != k => {
                let all_names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
                match group.center.resolve(k, scale, &all_names) {
                    Ok(all) => Some(DVector::from_fn(group.indices.len(), |i, _| {
                        all[group.indices[i]]
                    })),
                    Err(OccamError::CenterLength { .. }) => None,
                    Err(e) => {
                        return Err(invalid(
                            Message::from(format!("group '{}': ", group.name)).then(e.message()),
                        ))
                    }
                }
            }
            _ => None,
        };
        center_notes.extend(group.center.truth_file_note());
        let values = match whole {
            Some(values) => Ok(values),
            None => group.center.resolve(group.indices.len(), scale, &names),
        }
        .map_err(|e| match e {
                OccamError::CenterLength {
                    spec,
                    expected,
                    found,
                    detail,
                } => invalid(format!(
                    "group '{}': the centre {spec} has {found} coordinate(s) but the group has {expected} parameter(s) ({detail}); a group's centre covers that group only",
                    group.name
                )),
                other => {
                    invalid(Message::from(format!("group '{}': ", group.name)).then(other.message()))
                }
            })?;
        for (&j, v) in group.indices.iter().zip(values.iter()) {
            center[j] = *v;
        }
    }
    let model = GroupedLinear::from_groups(stats, &groups, center.clone())?;
    let noise = options.noise_sd.fixed().map(|s| 1.0 / (s * s));
    let eb = {
        let _step = crate::progress::step(format!(
            "empirical Bayes over {} prior group(s) ({k} weights)",
            groups.len()
        ));
        model.empirical_bayes(&fixed_precisions(&groups), noise)?
    };
    let post = &eb.posterior;
    let outcomes: Vec<GroupOutcome> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let alpha = eb.precisions[g];
            GroupOutcome {
                name: group.name.clone(),
                center: group.center.clone(),
                sd: if alpha.is_finite() {
                    1.0 / alpha.sqrt()
                } else {
                    0.0
                },
                sd_fitted: group.sd == SdSpec::Auto,
                pruned: !alpha.is_finite(),
                indices: group.indices.clone(),
                effective_parameters: post.effective_parameters[g],
            }
        })
        .collect();

    let n = study.n;
    let fitted_sds = outcomes.iter().filter(|g| g.sd_fitted).count();
    let noise_fitted = noise.is_none();
    let estimated = fitted_sds + usize::from(noise_fitted) + options.charged_reals;
    let charge_bits = estimate_charge_bits(estimated, n);
    let mut notes: Vec<Message> = vec![format!(
        "prior structure {structure}: {} group(s) over {k} weights, Λ = diag(α_g), evidence exact (math.md §8)",
        outcomes.len()
    )
    .into()];
    for group in outcomes.iter().filter(|g| g.pruned) {
        notes.push(format!(
            "group '{}' pruned: s = 0 (α → ∞), its {} weight(s) sit at its centre and the evidence is the finite limit, where the group drops out",
            group.name,
            group.indices.len()
        ).into());
    }
    if options.intercept == Intercept::Centered {
        notes.push("intercept: features and target centred; the intercept mean(y) − mean(x)·w is not a parameter, and the evidence and code lengths are those of the centred data (n rows, k weights)".into());
    }
    notes.extend(center_notes);
    notes.extend(super::class_like_target_note(dataset));
    notes.push(Message::from("continuous targets are coded at unit precision: a precision ε adds n·log₂(1/ε) bits to every model alike, so differences between priors are unaffected"));
    let mut charged: Vec<Message> = Vec::new();
    if fitted_sds > 0 {
        charged.push(format!("{fitted_sds} group sd(s) s_g").into());
    }
    if noise_fitted {
        charged.push("the noise sd σ".into());
    }
    notes.extend(charge_note(
        &charged,
        Some(charge_bits),
        n,
        "mixture (the prequential and two-part codes are not computed for a grouped prior)",
    ));
    notes.extend(charged_reals_note(options.charged_reals, n));
    let codes = options.codes;
    let not_yet = |name: &str| {
        Err(message![
            format!("{name}: not computed for a grouped prior yet (only for the one-group prior, "),
            (Setting::Prior, "all=CENTER:SD"),
            ")"
        ])
    };
    let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
        not_yet("prequential")
    });
    let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
        not_yet("two_part")
    });
    let bic = optional_code(codes.bic, "bic", &mut notes, || {
        bic_bits(study.model(), options.noise_sd.fixed()).map_err(Message::from)
    });
    let code_lengths = CodeLengths {
        mixture: Some(bits(-post.log_evidence) + charge_bits),
        prequential,
        two_part,
        bic,
        two_part_form: None,
    };
    Ok(GroupedLinearFit {
        structure: structure.clone(),
        groups: outcomes,
        center,
        mean: post.mean.clone(),
        posterior_sd: post.variances.map(|v| v.max(0.0).sqrt()),
        noise_sd: 1.0 / eb.noise_precision.sqrt(),
        noise_sd_fitted: noise_fitted,
        log_evidence: post.log_evidence,
        effective_parameters: post.effective_parameters.iter().sum(),
        residual_sum_of_squares: post.residual_sum_of_squares,
        iterations: eb.iterations,
        code_lengths,
        charge_bits,
        notes,
        study,
    })
}
