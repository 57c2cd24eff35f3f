//! What binary logistic and linear-softmax regression share: scoring one prior — MAP, Laplace
//! evidence, the four codes — from a model's hooks (math.md §4–§7).
//!
//! The two studies differ in their parameters (θ = (w, b) against K class-major blocks), their
//! mode finders and their codes' details; everything else, from empirical Bayes for s to the
//! prequential prefixes and the charges for estimated reals, is the same procedure, written once
//! here as [`evaluate_glm`] over the [`GlmStudy`] hooks.
//!
//! For one prior N(μ, s²I) on the shared parameters:
//!
//! 1. s is fixed, or ŝ maximises the Laplace evidence (each evaluation from the same start);
//! 2. the mode θ̂ is found from the start and rechecked by ‖∇f‖, and the evidence is Laplace's,
//!    ln p(D) ≈ ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H|;
//! 3. mixture = −log₂ p(D) + the charge for the reals estimated from the coded rows; prequential
//!    codes doubling blocks, each with the MAP of the rows before it (s refitted per prefix when
//!    `auto`); two_part is MML87 with F = the data part of H; bic the maximum-likelihood BIC.

use super::prefix_sd::{refit_failure_note, PrefixPriorSd};
use super::{
    charged_reals_note, EvidenceMethod, FitOptions, PriorEvaluation, ResolvedCenter, Study,
};
use crate::codelength::logistic::{Block, PrefixFit};
use crate::codelength::{bits, estimate_charge_bits, optional_code, CodeLengths, TwoPartCode};
use crate::data::Dataset;
use crate::error::{Message, Result};
use crate::inference::laplace::{LaplaceEvidence, LogSdOptimum, Mode};
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;

/// A prior turned into the problem's per-parameter centre μ and precision diag(Λ), over all P
/// parameters (those outside the shared prior at their own centre and precision).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriorArrays {
    /// μ, length P.
    pub center: DVector<f64>,
    /// Λ's diagonal, length P (0 = flat).
    pub precision: DVector<f64>,
}

/// The codes a GLM problem computes on its own rows (codelength::logistic, codelength::softmax).
pub(crate) trait GlmCodes {
    /// The prequential blocks over `boundaries` in the problem's row order, block 0 at `center`.
    fn prequential_blocks(
        &self,
        boundaries: &[usize],
        center: &DVector<f64>,
        fit_prefix: &PrefixFit,
    ) -> Vec<Block>;
    /// MML87 at `mode`, with F = the data part of the Hessian there.
    fn two_part_nats(
        &self,
        mode: &Mode,
        log_likelihood: f64,
        log_prior: f64,
    ) -> std::result::Result<TwoPartCode, String>;
    /// BIC of the maximum-likelihood fit (the problem's prior dropped), its search from `start`.
    fn bic_bits(&self, start: &DVector<f64>) -> std::result::Result<f64, String>;
}

/// The hooks a GLM study gives [`evaluate_glm`].
pub(crate) trait GlmStudy: Study {
    /// The model on some rows under one prior.
    type Problem<'a>: GlmCodes
    where
        Self: 'a;

    /// The data set.
    fn data(&self) -> &Dataset;
    /// The options the study was made with.
    fn options(&self) -> &FitOptions;
    /// The prequential code's block boundaries (rows, increasing, from 0 to n).
    fn boundaries(&self) -> &[usize];
    /// P, all parameters.
    fn n_params(&self) -> usize;
    /// The shared parameters of θ (those under N(μ, s²I)), in the centre's order.
    fn shared_part(&self, theta: &DVector<f64>) -> DVector<f64>;
    /// The per-parameter prior at shared sd `sd` around `shared_center`.
    fn prior(&self, sd: f64, shared_center: &DVector<f64>) -> Result<PriorArrays>;
    /// The model on all rows, in the given order.
    fn problem<'a>(&'a self, prior: &'a PriorArrays) -> Self::Problem<'a>;
    /// The model on all rows, in the prequential visiting order.
    fn ordered_problem<'a>(&'a self, prior: &'a PriorArrays) -> Self::Problem<'a>;
    /// The mode from `init`, checked by ‖∇f‖, and the Laplace evidence there, on all rows.
    fn mode_and_evidence(
        &self,
        prior: &PriorArrays,
        init: DVector<f64>,
    ) -> Result<(Mode, LaplaceEvidence)>;
    /// ŝ maximising the Laplace evidence on all rows, every evaluation from `init`.
    fn empirical_bayes(
        &self,
        shared_center: &DVector<f64>,
        init: &DVector<f64>,
    ) -> Result<LogSdOptimum>;
    /// The MAP on the first `m` rows of the visiting order at prior sd `s`, from `init`; `None`
    /// where the mode cannot be found.
    fn prefix_params(
        &self,
        m: usize,
        s: f64,
        shared_center: &DVector<f64>,
        init: DVector<f64>,
    ) -> Option<DVector<f64>>;
    /// ŝ on the first `m` rows, or `None` where their evidence has no interior maximum in
    /// [1e-4, 1e4] or cannot be evaluated.
    fn prefix_prior_sd(
        &self,
        m: usize,
        shared_center: &DVector<f64>,
        warm: &DVector<f64>,
    ) -> Option<f64>;

    /// The mode from `init` under N(`center`, diag(`precision`)⁻¹) over all P parameters, checked
    /// as the one-group fit's, and its Laplace evidence: the grouped fits' model
    /// ([`super::grouped_logistic`]).
    fn mode_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        init: DVector<f64>,
    ) -> Result<(Mode, LaplaceEvidence)> {
        let prior = PriorArrays {
            center: center.clone(),
            precision: precision.clone(),
        };
        self.mode_and_evidence(&prior, init)
    }

    /// The two-part code (MML87 with this Λ) and BIC at a mode under that prior.
    fn two_part_and_bic_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        mode: &Mode,
        laplace: &LaplaceEvidence,
    ) -> (
        std::result::Result<TwoPartCode, String>,
        std::result::Result<f64, String>,
    ) {
        let prior = PriorArrays {
            center: center.clone(),
            precision: precision.clone(),
        };
        let problem = self.problem(&prior);
        let two_part = problem.two_part_nats(mode, laplace.log_likelihood, laplace.log_prior);
        (two_part, problem.bic_bits(&mode.params))
    }

    /// The note on the prequential code's blocks, the same for both models.
    fn prequential_note(&self) -> Message {
        let options = self.options();
        format!(
            "prequential: {}, {} doubling block(s) from {} row(s); the first block is coded with the parameters at the prior centre, each later block with the MAP fitted on all rows before it (s refitted there when 'auto'), so no hyperparameter is sent",
            options.order.describe(),
            self.boundaries().len() - 1,
            options.first_block
        )
        .into()
    }
}

/// Scores one prior N(μ, s²I) of a GLM study: its evaluation, mode and Laplace evidence.
///
/// `warm_start`, when it has P entries, is where the mode search (and every evaluation of
/// empirical Bayes) starts; otherwise the prior centre at s = 1.
pub(crate) fn evaluate_glm<S: GlmStudy>(
    study: &S,
    spec: &CenterSpec,
    center: ResolvedCenter,
    prior_sd: SdSpec,
    warm_start: Option<&DVector<f64>>,
) -> Result<(PriorEvaluation, Mode, LaplaceEvidence)> {
    let p = study.n_params();
    let init = match warm_start.filter(|w| w.len() == p) {
        Some(w) => w.clone(),
        None => study.prior(1.0, &center.values)?.center,
    };
    let mut notes = Vec::new();
    let (sd, eb_evaluations) = match prior_sd {
        SdSpec::Fixed(s) => (s, 0),
        SdSpec::Auto => {
            let optimum = study.empirical_bayes(&center.values, &init)?;
            notes.extend(optimum.notes);
            (optimum.log_sd.exp(), optimum.evaluations)
        }
    };
    let prior = study.prior(sd, &center.values)?;
    let (mode, laplace) = study.mode_and_evidence(&prior, init)?;
    let problem = study.problem(&prior);
    let n = study.data().n();
    let options = study.options();
    let charged = options.charged_reals;
    notes.extend(charged_reals_note(charged, n));
    let charge_bits = estimate_charge_bits(
        usize::from(prior_sd.fixed().is_none()) + center.estimated_reals + charged,
        n,
    );
    // The prequential code refits s on each prefix and codes block 0 at the centre: only a
    // centre derived from the coded rows, and a fixed s estimated from them, are sent first.
    let mut prequential_charge = estimate_charge_bits(center.estimated_reals + charged, n);

    let codes = options.codes;
    let mut refit_failures = 0;
    // Prefixes whose evidence has no interior maximum code the next block with the s carried
    // from the previous prefix; before any prefix has one, with the full-data ŝ, which is then
    // sent first (docs/codes.md, "prequential").
    let prefix_sds = PrefixPriorSd::new(prior_sd, sd);
    let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
        // Rows in visiting order; block 0 at the prior centre.
        let blocks = study.ordered_problem(&prior).prequential_blocks(
            study.boundaries(),
            &prior.center,
            &|m, warm| {
                let s = prefix_sds.for_prefix(|| study.prefix_prior_sd(m, &center.values, warm));
                study.prefix_params(m, s, &center.values, warm.clone())
            },
        );
        refit_failures = blocks.iter().filter(|b| b.refit_failed).count();
        prequential_charge += estimate_charge_bits(prefix_sds.extra_charged_reals(), n);
        Ok(blocks.iter().map(|b| b.bits).sum::<f64>() + prequential_charge)
    });
    notes.extend(prefix_sds.note(sd, n));
    notes.extend(refit_failure_note(refit_failures));
    let mut two_part_code = None;
    let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
        let code = problem.two_part_nats(&mode, laplace.log_likelihood, laplace.log_prior)?;
        two_part_code = Some(code);
        Ok(bits(code.nats) + charge_bits)
    });
    notes.extend(
        two_part_code
            .and_then(|code| code.note())
            .map(Message::from),
    );
    let bic = optional_code(codes.bic, "bic", &mut notes, || {
        problem.bic_bits(&mode.params).map_err(Message::from)
    });
    if let Some(note) = &center.note {
        notes.push(note.clone());
    }
    let distance = (study.shared_part(&mode.params) - &center.values).norm();
    let evaluation = PriorEvaluation {
        center_spec: spec.clone(),
        center,
        prior_sd_spec: prior_sd,
        noise_sd_spec: SdSpec::Auto,
        prior_sd: sd,
        noise_sd: None,
        mode: mode.params.clone(),
        log_evidence: laplace.log_evidence,
        evidence_method: EvidenceMethod::LaplaceHessian,
        effective_parameters: laplace.effective_parameters,
        distance_from_center: distance,
        empirical_bayes_iterations: eb_evaluations,
        code_lengths: CodeLengths {
            mixture: Some(bits(-laplace.log_evidence) + charge_bits),
            prequential,
            two_part,
            bic,
            two_part_form: two_part_code.map(|code| code.form),
        },
        charge_bits,
        notes,
        symmetry_log_nats: 0.0,
        diagnostics: None,
    };
    Ok((evaluation, mode, laplace))
}

/// A GLM study's fit of `options`' one prior: the study, its evaluation, mode and Laplace
/// evidence, and the notes of the fit (the study's code notes, then the evaluation's).
pub(crate) fn fit_glm<S: GlmStudy>(
    study: &S,
    options: &FitOptions,
) -> Result<(PriorEvaluation, Mode, LaplaceEvidence, Vec<Message>)> {
    let center = study.resolve_center(&options.center, options.prior_sd)?;
    let (evaluation, mode, laplace) =
        evaluate_glm(study, &options.center, center, options.prior_sd, None)?;
    let mut charged = Vec::new();
    if options.prior_sd.fixed().is_none() {
        charged.push("the prior sd s".into());
    }
    if evaluation.center.estimated_reals > 0 {
        charged.push("the centre's scale".into());
    }
    let mut notes = study.code_length_notes(&charged, Some(evaluation.charge_bits));
    notes.extend(evaluation.notes.iter().cloned());
    Ok((evaluation, mode, laplace, notes))
}
