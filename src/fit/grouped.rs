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
//! and `charged_reals`. The prequential code sends doubling blocks, the first with the full-data
//! values (charged as above), each later one with the groups' empirical Bayes on the rows before
//! it: −ln p(y_block | y_prefix) = ln p(y_prefix) − ln p(y_prefix, y_block) at those values. BIC
//! does not depend on the prior and is the linear model's. The two-part code is MML87 over the
//! unpruned weights a (a pruned group's weights sit at its centre and are not sent):
//! −ln π(m_a) − ln p(y | m) + ½ ln|C| + (P_a/2)(1 + ln κ_{P_a}), F = βX_aᵀX_a, C = F where F − Λ_a
//! is positive semi-definite and F + Λ_a where not ([`mml87_nats`]). A group's `file:` centre holds the group's coordinates, or
//! every weight's (occam's fit JSON: its `map.weights`), of which the group's are taken.

use super::{charge_note, charged_reals_note, FitOptions, LinearStudy};
use crate::codelength::linear::bic_bits;
use crate::codelength::{
    bits, estimate_charge_bits, mml87_nats, optional_code, CodeLengths, TwoPartCode,
};
use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::grouped::{fixed_precisions, GroupedLinear};
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

impl GroupOutcome {
    /// The outcome of `group` at precision α_g (`∞` when pruned: s_g = 0), its parameters at
    /// `indices` of the printed order, with γ_g.
    pub fn at_precision(
        group: &crate::prior::groups::Group,
        alpha: f64,
        indices: Vec<usize>,
        effective_parameters: f64,
    ) -> Self {
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
            indices,
            effective_parameters,
        }
    }
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
    /// The same MAP reached by argmin's L-BFGS on f(w) = (β/2)‖y − Xw‖² + ½Σ_j α_j(w_j − μ_j)²
    /// (pruned weights held at their centre), if it converged.
    pub optimizer_check: Option<super::OptimizerCheck>,
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
    let (center, center_notes) = resolve_group_centers(&groups, &params)?;
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
            GroupOutcome::at_precision(
                group,
                eb.precisions[g],
                group.indices.clone(),
                post.effective_parameters[g],
            )
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
        "mixture, prequential and two_part",
    ));
    notes.extend(charged_reals_note(options.charged_reals, n));
    let codes = options.codes;
    let mut refit_failures = 0;
    let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
        let _step = crate::progress::step("the prequential code over the groups");
        let (nats, failures) = prequential_nats(
            dataset,
            &study,
            &groups,
            &center,
            (&eb.precisions, eb.noise_precision),
            noise,
        )
        .map_err(|e| Message::from("prequential: ").then(e.message()))?;
        refit_failures = failures;
        Ok(bits(nats) + charge_bits)
    });
    if refit_failures > 0 {
        notes.push(format!(
            "prequential: empirical Bayes over the groups failed on {refit_failures} prefix(es) (too few rows); those blocks reuse the previous block's values, which the receiver can reproduce"
        ).into());
    }
    if codes.prequential {
        notes.push(format!(
            "prequential: {}, doubling blocks from {} row(s); the first block is coded with the full-data values (charged above), each later block with empirical Bayes over the groups on the rows before it (the previous block's values where the prefix has no more rows than weights); with every sd fixed it equals the mixture code (chain rule)",
            options.order.describe(),
            options.first_block
        ).into());
    }
    let mut two_part_code = None;
    let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
        let code = two_part_nats(stats, &groups, &center, &eb)?;
        two_part_code = Some(code);
        Ok(bits(code.nats) + charge_bits)
    });
    notes.extend(
        two_part_code
            .and_then(|code| code.note())
            .map(Message::from),
    );
    let bic = optional_code(codes.bic, "bic", &mut notes, || {
        bic_bits(study.model(), options.noise_sd.fixed()).map_err(Message::from)
    });
    let code_lengths = CodeLengths {
        mixture: Some(bits(-post.log_evidence) + charge_bits),
        prequential,
        two_part,
        bic,
        two_part_form: two_part_code.map(|code| code.form),
    };
    let optimizer_check = {
        let _step = crate::progress::step(format!(
            "checking the closed-form MAP with L-BFGS ({k} weights)"
        ));
        check_with_lbfgs(
            stats,
            &center,
            &groups,
            (&eb.precisions, eb.noise_precision),
            &post.mean,
            &mut notes,
        )
    };
    Ok(GroupedLinearFit {
        optimizer_check,
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

/// Every group's centre at its parameters' indices (μ over all `params`), and the centres' notes.
/// A group's `file:` centre holds the group's coordinates, or every parameter's (occam's fit JSON of
/// the same model: then the group's are taken).
pub(super) fn resolve_group_centers(
    groups: &[crate::prior::groups::Group],
    params: &[ParameterInfo],
) -> Result<(DVector<f64>, Vec<Message>)> {
    let k = params.len();
    let mut center = DVector::zeros(params.len());
    let mut center_notes: Vec<Message> = Vec::new();
    for group in groups {
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
    Ok((center, center_notes))
}

/// The MML87 two-part code over the unpruned weights (see the module's docs); `Err` with the reason
/// where F is singular on them.
fn two_part_nats(
    stats: &crate::data::SufficientStats,
    groups: &[crate::prior::groups::Group],
    center: &DVector<f64>,
    eb: &crate::inference::grouped::GroupedEmpiricalBayes,
) -> std::result::Result<TwoPartCode, Message> {
    let labels = crate::inference::grouped::group_labels(groups, center.len());
    let active: Vec<usize> = (0..center.len())
        .filter(|&j| eb.precisions[labels[j]].is_finite())
        .collect();
    let beta = eb.noise_precision;
    let m = &eb.posterior.mean;
    let precision = DVector::from_fn(active.len(), |i, _| eb.precisions[labels[active[i]]]);
    let fisher = nalgebra::DMatrix::from_fn(active.len(), active.len(), |i, l| {
        beta * stats.xtx[(active[i], active[l])]
    });
    let neg_log_prior: f64 = active
        .iter()
        .zip(precision.iter())
        .map(|(&j, &a)| {
            0.5 * (2.0 * std::f64::consts::PI / a).ln() + 0.5 * a * (m[j] - center[j]).powi(2)
        })
        .sum();
    let n = stats.n as f64;
    let neg_log_likelihood = 0.5 * n * (2.0 * std::f64::consts::PI / beta).ln()
        + 0.5 * beta * eb.posterior.residual_sum_of_squares;
    mml87_nats(neg_log_prior + neg_log_likelihood, &fisher, &precision, || {
        "two_part is undefined: the Fisher information βX_aᵀX_a over the unpruned weights is singular (n ≤ k after centring, or collinear features)".to_string()
    })
    .map_err(Message::from)
}

/// The prequential code in nats over doubling blocks in the study's visiting order, and the number
/// of prefixes whose empirical Bayes failed (the previous values kept). `first` is the full-data
/// (α_g, β) that codes the first block; `noise` the fixed β, if any.
fn prequential_nats(
    dataset: &Dataset,
    study: &LinearStudy,
    groups: &[crate::prior::groups::Group],
    center: &DVector<f64>,
    first: (&[f64], f64),
    noise: Option<f64>,
) -> Result<(f64, usize)> {
    use crate::codelength::{doubling_boundaries, RowOrder};
    use crate::data::SufficientStats;
    let options = &study.options;
    let (n, k) = (dataset.n(), dataset.k());
    let boundaries = doubling_boundaries(n, options.first_block);
    let permutation = match options.order {
        RowOrder::AsGiven => None,
        order @ RowOrder::Shuffled(_) => Some(order.permutation(n)),
    };
    let fixed = fixed_precisions(groups);
    let fitted = noise.is_none() || fixed.iter().any(Option::is_none);
    let (mut alpha, mut beta) = (first.0.to_vec(), first.1);
    let mut before = SufficientStats::empty(k);
    let mut total = 0.0;
    let mut failures = 0;
    for (j, pair) in boundaries.windows(2).enumerate() {
        let model = GroupedLinear::from_groups(&before, groups, center.clone())?;
        if j > 0 && fitted {
            // With no more rows than weights the fit interpolates and σ̂ → 0: keep the previous
            // values (a rule the receiver applies too), as the one-group code does.
            if before.n <= k + 1 {
                failures += 1;
            } else {
                match model.empirical_bayes(&fixed, noise) {
                    Ok(eb) => {
                        alpha = eb.precisions;
                        beta = eb.noise_precision;
                    }
                    Err(_) => failures += 1,
                }
            }
        }
        let prefix = model.posterior(&alpha, beta)?.log_evidence;
        let mut after = before.clone();
        after.merge(&SufficientStats::from_dataset(
            dataset,
            &study.transform,
            permutation.as_deref(),
            pair[0]..pair[1],
        ));
        let whole = GroupedLinear::from_groups(&after, groups, center.clone())?
            .posterior(&alpha, beta)?
            .log_evidence;
        total += prefix - whole;
        before = after;
    }
    Ok((total, failures))
}

/// f(w) = (β/2)‖y − Xw‖² + ½Σ_j α_j(w_j − μ_j)² from the sufficient statistics, with the pruned
/// weights (α_j = ∞) held at their centre: their gradient is 0 and the search starts there.
#[derive(Clone)]
struct GroupedPenalty<'a> {
    stats: &'a crate::data::SufficientStats,
    center: &'a DVector<f64>,
    precision: DVector<f64>,
    beta: f64,
}

impl crate::model::problem::Objective for GroupedPenalty<'_> {
    fn cost(&self, w: &DVector<f64>) -> f64 {
        let prior: f64 = (0..w.len())
            .filter(|&j| self.precision[j].is_finite())
            .map(|j| self.precision[j] * (w[j] - self.center[j]).powi(2))
            .sum();
        0.5 * self.beta * crate::model::linear::residual_sum_of_squares(self.stats, w) + 0.5 * prior
    }

    fn gradient(&self, w: &DVector<f64>) -> DVector<f64> {
        let likelihood = (&self.stats.xtx * w - &self.stats.xty) * self.beta;
        DVector::from_fn(w.len(), |j, _| {
            if self.precision[j].is_finite() {
                likelihood[j] + self.precision[j] * (w[j] - self.center[j])
            } else {
                0.0
            }
        })
    }
}

/// Minimises [`GroupedPenalty`] with argmin's L-BFGS from the prior centre and compares the result
/// with the closed-form MAP `mean`; a failure is reported in the notes, not raised.
fn check_with_lbfgs(
    stats: &crate::data::SufficientStats,
    center: &DVector<f64>,
    groups: &[crate::prior::groups::Group],
    (alpha, beta): (&[f64], f64),
    mean: &DVector<f64>,
    notes: &mut Vec<Message>,
) -> Option<super::OptimizerCheck> {
    use crate::inference::{minimize_lbfgs, LbfgsOptions};
    let labels = crate::inference::grouped::group_labels(groups, center.len());
    let precision = DVector::from_fn(center.len(), |j, _| alpha[labels[j]]);
    let problem = GroupedPenalty {
        stats,
        center,
        precision,
        beta,
    };
    // The size of the gradient's terms at the mode, as for the one-group check.
    let scale = beta * ((&stats.xtx * mean).norm() + stats.xty.norm())
        + (0..mean.len())
            .filter(|&j| problem.precision[j].is_finite())
            .map(|j| problem.precision[j] * (mean[j].abs() + center[j].abs()))
            .sum::<f64>();
    let options = LbfgsOptions {
        gradient_tolerance: 1e-8 * scale.max(f64::MIN_POSITIVE),
        ..Default::default()
    };
    match minimize_lbfgs(problem, center.clone(), options) {
        Ok(map) => {
            let largest = mean.amax().max(f64::MIN_POSITIVE);
            Some(super::OptimizerCheck {
                max_relative_difference: (&map.params - mean).amax() / largest,
                iterations: map.iterations,
                gradient_norm: map.gradient_norm,
            })
        }
        Err(e) => {
            notes.push(
                Message::from("optimizer check: ")
                    .then(e.message())
                    .and("; the closed-form MAP is reported"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{ModelFit, ModelKind};

    #[test]
    fn checked_options_fit_a_structure_and_refuse_it_as_a_study() {
        let data = crate::data::load("diabetes", &Default::default()).unwrap();
        let checked = FitOptions::default()
            .with_prior(PriorStructure::parse("features:bmi=zero:auto; rest=zero:1").unwrap())
            .check(ModelKind::Linear)
            .unwrap();
        match checked.fit(&data).unwrap() {
            ModelFit::GroupedLinear(fit) => {
                assert_eq!(fit.groups.len(), 2);
                assert_eq!(fit.groups[1].sd, 1.0);
                assert!(!fit.groups[1].sd_fitted);
                let gamma: f64 = fit.groups.iter().map(|g| g.effective_parameters).sum();
                assert!((gamma - fit.effective_parameters).abs() < 1e-12);
            }
            other => panic!("not a grouped fit: {other:?}"),
        }
        let refused = checked
            .study(&data)
            .err()
            .expect("a study refuses a structure");
        assert!(
            matches!(
                refused,
                OccamError::InvalidArgument {
                    setting: Setting::Prior,
                    ..
                }
            ),
            "{refused}"
        );
    }
}
