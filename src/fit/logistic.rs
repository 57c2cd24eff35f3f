//! The logistic-regression study: a binary target, a Gaussian prior on the weights (and the
//! intercept, by default), Laplace evidence and code lengths.
//!
//! Parameter order: the k standardised weights in column order, then the intercept (when there is
//! one). A centre covers the parameters under the shared prior N(μ, s²I): all k + 1 with the
//! default `shared` intercept, the k weights with `free`, `prior:SD` or `none`.

use super::center::{resolve_center, CenterHooks};
use super::glm::{evaluate_glm, fit_glm, GlmCodes, GlmStudy, PriorArrays};
use super::{
    charge_note, row_fingerprints, FitOptions, ModelKind, PriorEvaluation, ResolvedCenter, Study,
    StudyInfo,
};
use crate::codelength::logistic::{bic_bits, prequential_blocks, two_part_nats, Block, PrefixFit};
use crate::codelength::{doubling_boundaries, lattice_term, reorder, RowOrder, TwoPartCode};
use crate::data::{Dataset, DesignOptions, Standardization};
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::laplace::{
    find_mode_scaled, laplace_evidence, maximize_over_log_sd, scales_from_diagonal,
    LaplaceEvidence, LogSdOptimum, Mode, MODE_TOLERANCE,
};
use crate::message;
use crate::model::logistic::{binary_target, BinaryTarget, LogisticProblem, Rows};
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use crate::simulate::Truth;
use nalgebra::DVector;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

/// The data side of a logistic-regression study.
///
/// It reads the raw rows of the data set (borrowed, or an owned copy) and standardises them on
/// the fly in every pass ([`Rows::standardized`]) rather than materialising an n×k design; a row
/// permutation for the prequential code and the row fingerprints for `fit:PATH` centres are made
/// only when asked for.
#[derive(Debug, Clone)]
pub struct LogisticStudy<'d> {
    data: Cow<'d, Dataset>,
    options: FitOptions,
    /// Raw columns → design.
    pub transform: Standardization,
    /// 1 / feature_scale, the factor each standardised value is made with.
    inv_scale: Vec<f64>,
    /// The 0/1 mapping of the target.
    pub target: BinaryTarget,
    k: usize,
    intercept: Intercept,
    /// Raw rows and labels in the prequential visiting order, when that is not the given order.
    ordered: OnceLock<(Vec<f64>, Vec<f64>)>,
    boundaries: Vec<usize>,
    fingerprints: OnceLock<HashSet<u64>>,
    /// X̃ᵀ(½ − y), ∇ℓ at θ = 0 on all rows: the gradient scale of every fit on these rows.
    zero_gradient: OnceLock<DVector<f64>>,
}

/// A fitted logistic regression.
#[derive(Debug, Clone)]
pub struct LogisticFit<'d> {
    /// The data side.
    pub study: LogisticStudy<'d>,
    /// The prior's scores.
    pub evaluation: PriorEvaluation,
    /// The mode and the Hessian there.
    pub mode: Mode,
    /// The Laplace evidence and posterior sds.
    pub laplace: LaplaceEvidence,
    /// What the reader needs to know.
    pub notes: Vec<Message>,
}

impl LogisticFit<'_> {
    /// Weights and intercept in original units: wⱼ/scaleⱼ and b − Σⱼ shiftⱼ·wⱼ/scaleⱼ.
    pub fn original_units(&self) -> (Vec<f64>, f64) {
        let k = self.study.k;
        let b = if self.study.has_intercept() {
            self.mode.params[k]
        } else {
            0.0
        };
        let (w, shift) = self
            .study
            .transform
            .to_original(&self.mode.params.as_slice()[..k], 0.0);
        (w, b + shift)
    }
}

impl GlmCodes for LogisticProblem<'_> {
    fn prequential_blocks(
        &self,
        boundaries: &[usize],
        center: &DVector<f64>,
        fit_prefix: &PrefixFit,
    ) -> Vec<Block> {
        prequential_blocks(self, boundaries, center, fit_prefix)
    }

    fn two_part_nats(
        &self,
        mode: &Mode,
        log_likelihood: f64,
        log_prior: f64,
    ) -> std::result::Result<TwoPartCode, String> {
        two_part_nats(self, mode, log_likelihood, log_prior)
    }

    fn bic_bits(&self, start: &DVector<f64>) -> std::result::Result<f64, String> {
        let flat = DVector::zeros(self.n_params());
        bic_bits(&self.with_precision(&flat), start)
    }
}

/// The z-scoring of the features with an uncentred target (the intercept is a parameter here):
/// [`Standardization::fit`], which never writes the n×k standardised matrix.
fn feature_standardization(data: &Dataset, standardize: bool) -> Result<Standardization> {
    Standardization::fit(
        data,
        DesignOptions {
            standardize,
            center: false,
        },
    )
}

impl LogisticStudy<'static> {
    /// Standardises the features and maps the target to 0/1, on a copy of the data set (see
    /// [`LogisticStudy::borrowing`] to avoid the copy).
    pub fn new(dataset: &Dataset, options: &FitOptions) -> Result<Self> {
        LogisticStudy::with_data(Cow::Owned(dataset.clone()), options)
    }
}

impl<'d> LogisticStudy<'d> {
    /// Standardises the features and maps the target to 0/1, reading the data set in place.
    pub fn borrowing(dataset: &'d Dataset, options: &FitOptions) -> Result<Self> {
        LogisticStudy::with_data(Cow::Borrowed(dataset), options)
    }

    fn with_data(data: Cow<'d, Dataset>, options: &FitOptions) -> Result<Self> {
        let dataset: &Dataset = &data;
        options.validate(ModelKind::Logistic)?;
        // The (k+1)×(k+1) Hessian, its factor and the Laplace covariance: three at once.
        crate::memory::check_design(
            dataset.n(),
            dataset.k() + 1,
            3,
            crate::memory::fewer_features(),
        )?;
        let intercept = options.intercept;
        if dataset.target_labels.len() > 2 {
            return Err(OccamError::Target {
                source_name: dataset.source.clone(),
                message: message![
                    format!(
                        "the logistic model needs a target with exactly two distinct values, but '{}' has {} text labels ({}); choose a binary column with ",
                        dataset.target_name,
                        dataset.target_labels.len(),
                        dataset.target_labels.join(", ")
                    ),
                    Setting::Target
                ],
            });
        }
        let target = binary_target(&dataset.y, &dataset.source, &dataset.target_name)?;
        let transform = feature_standardization(dataset, options.standardize)?;
        let inv_scale = transform.feature_scale.iter().map(|s| 1.0 / s).collect();
        let (n, k) = (dataset.n(), dataset.k());
        Ok(LogisticStudy {
            options: options.clone(),
            transform,
            inv_scale,
            boundaries: doubling_boundaries(n, options.first_block),
            target,
            k,
            intercept,
            ordered: OnceLock::new(),
            fingerprints: OnceLock::new(),
            zero_gradient: OnceLock::new(),
            data,
        })
    }

    /// The rows of the design (standardised on the fly unless no standardisation was asked for,
    /// when the raw rows are the design).
    fn rows_of<'a>(&'a self, x: &'a [f64]) -> Rows<'a> {
        if self.options.standardize {
            Rows::standardized(x, self.k, &self.transform.feature_shift, &self.inv_scale)
        } else {
            Rows::design(x, self.k)
        }
    }

    /// Raw rows and labels in the prequential visiting order.
    fn ordered(&self) -> (&[f64], &[f64]) {
        match self.options.order {
            RowOrder::AsGiven => (&self.data.x, &self.target.labels),
            order => {
                let (x, y) = self
                    .ordered
                    .get_or_init(|| reorder(&self.data.x, &self.target.labels, self.k, order));
                (x, y)
            }
        }
    }

    /// The fraction of rows on the right side of p = ½ at θ.
    pub fn training_accuracy(&self, theta: &DVector<f64>) -> f64 {
        let arrays = self.prior_arrays(1.0, &DVector::zeros(self.n_shared()));
        let problem = self.problem(&arrays);
        let right = problem
            .linear_predictors(theta)
            .iter()
            .zip(&self.target.labels)
            .filter(|(eta, y)| (**eta > 0.0) == (**y == 1.0))
            .count();
        right as f64 / self.data.n() as f64
    }

    fn has_intercept(&self) -> bool {
        self.intercept != Intercept::None
    }

    /// P, the number of parameters.
    pub fn n_params(&self) -> usize {
        self.k + usize::from(self.has_intercept())
    }

    /// The parameters the shared prior covers: k + 1 with a shared intercept, else k.
    fn n_shared(&self) -> usize {
        self.k + usize::from(self.intercept == Intercept::Shared)
    }

    fn shared_names(&self) -> Vec<String> {
        let mut names = self.data.feature_names.clone();
        if self.intercept == Intercept::Shared {
            names.push("(intercept)".into());
        }
        names
    }

    /// The centre and precision over all P parameters for prior sd s and shared centre μ.
    fn prior_arrays(&self, sd: f64, shared_center: &DVector<f64>) -> PriorArrays {
        let alpha = 1.0 / (sd * sd);
        let p = self.n_params();
        let mut center = DVector::zeros(p);
        center
            .rows_mut(0, shared_center.len())
            .copy_from(shared_center);
        let mut precision = DVector::from_element(p, alpha);
        match self.intercept {
            Intercept::Free => precision[self.k] = 0.0,
            Intercept::Prior(sd0) => precision[self.k] = 1.0 / (sd0 * sd0),
            _ => {}
        }
        PriorArrays { center, precision }
    }

    /// The MAP and its Laplace evidence on the first `m` rows of the visiting order at prior sd
    /// s, from `init`; `None` where the mode cannot be found.
    fn prefix_mode(
        &self,
        m: usize,
        s: f64,
        shared_center: &DVector<f64>,
        init: DVector<f64>,
    ) -> Option<(Mode, f64)> {
        let (x, y) = self.ordered();
        let arrays = self.prior_arrays(s, shared_center);
        let problem = LogisticProblem::on_rows(
            self.rows_of(&x[..m * self.k]),
            &y[..m],
            self.has_intercept(),
            &arrays.center,
            &arrays.precision,
        )
        .fused();
        let scale = scales_from_diagonal(&problem.hessian_diagonal(&init));
        let mode = find_mode_scaled(
            &problem,
            init,
            MODE_TOLERANCE * problem.gradient_scale(),
            Some(&scale),
        )
        .ok()?;
        let evidence = laplace_evidence(
            &mode,
            -problem.negative_log_likelihood(&mode.params),
            &arrays.center,
            &arrays.precision,
        )
        .log_evidence;
        Some((mode, evidence))
    }
}

impl GlmStudy for LogisticStudy<'_> {
    type Problem<'a>
        = LogisticProblem<'a>
    where
        Self: 'a;

    fn data(&self) -> &Dataset {
        &self.data
    }

    fn options(&self) -> &FitOptions {
        &self.options
    }

    fn boundaries(&self) -> &[usize] {
        &self.boundaries
    }

    fn n_params(&self) -> usize {
        LogisticStudy::n_params(self)
    }

    fn shared_part(&self, theta: &DVector<f64>) -> DVector<f64> {
        theta.rows(0, self.n_shared()).into_owned()
    }

    fn prior(&self, sd: f64, shared_center: &DVector<f64>) -> Result<PriorArrays> {
        Ok(self.prior_arrays(sd, shared_center))
    }

    fn problem<'a>(&'a self, arrays: &'a PriorArrays) -> LogisticProblem<'a> {
        LogisticProblem::on_rows(
            self.rows_of(&self.data.x),
            &self.target.labels,
            self.has_intercept(),
            &arrays.center,
            &arrays.precision,
        )
    }

    fn ordered_problem<'a>(&'a self, arrays: &'a PriorArrays) -> LogisticProblem<'a> {
        let (x, y) = self.ordered();
        LogisticProblem::on_rows(
            self.rows_of(x),
            y,
            self.has_intercept(),
            &arrays.center,
            &arrays.precision,
        )
    }

    /// The mode at prior sd s, from `init`, and the Laplace evidence there.
    fn mode_and_evidence(
        &self,
        arrays: &PriorArrays,
        init: DVector<f64>,
    ) -> Result<(Mode, LaplaceEvidence)> {
        let problem = self.problem(arrays);
        let fused = problem.fused();
        let scale = scales_from_diagonal(&fused.hessian_diagonal(&init));
        // From the pass just made when the fit starts at θ = 0 (the prior centre 0).
        let zero_gradient = self.zero_gradient.get_or_init(|| {
            fused
                .likelihood_and_gradient(&DVector::zeros(problem.n_params()))
                .1
        });
        let mode = find_mode_scaled(
            &fused,
            init,
            MODE_TOLERANCE * problem.gradient_scale_from(zero_gradient),
            Some(&scale),
        )?;
        // ℓ at the mode is remembered from the pass that checked the gradient there.
        let laplace = laplace_evidence(
            &mode,
            -fused.negative_log_likelihood(&mode.params),
            &arrays.center,
            &arrays.precision,
        );
        Ok((mode, laplace))
    }

    /// Empirical Bayes: the s maximising the Laplace evidence ([`maximize_over_log_sd`]: a grid in
    /// ln s, then Brent). Every evaluation fits the mode from the same `init`, not from the
    /// previous s's mode: the posterior is strictly log-concave, so the mode is unique, but the
    /// Laplace evidence is first-order in where within the mode tolerance the search stops
    /// (through ½ ln|H|), and chained warm starts made that jitter — and with it ŝ, by ~3e-5
    /// relative on breast_cancer — depend on the order of the search. From one start the evidence
    /// is a function of s alone, and `fit --prior-sd ŝ` reproduces it exactly.
    fn empirical_bayes(
        &self,
        shared_center: &DVector<f64>,
        init: &DVector<f64>,
    ) -> Result<LogSdOptimum> {
        let evaluate = |log_sd: f64| -> Result<f64> {
            let arrays = self.prior_arrays(log_sd.exp(), shared_center);
            let (_, laplace) = self.mode_and_evidence(&arrays, init.clone())?;
            Ok(laplace.log_evidence)
        };
        maximize_over_log_sd(&evaluate)
    }

    fn prefix_params(
        &self,
        m: usize,
        s: f64,
        shared_center: &DVector<f64>,
        init: DVector<f64>,
    ) -> Option<DVector<f64>> {
        self.prefix_mode(m, s, shared_center, init)
            .map(|(mode, _)| mode.params)
    }

    /// Empirical Bayes on the first `m` rows: ŝ of the prefix's Laplace evidence, or `None` where
    /// it has no interior maximum in [1e-4, 1e4] (e.g. separable early rows, whose evidence rises
    /// towards large s) or cannot be evaluated.
    fn prefix_prior_sd(
        &self,
        m: usize,
        shared_center: &DVector<f64>,
        warm: &DVector<f64>,
    ) -> Option<f64> {
        // Every s from the previous block's parameters (see `empirical_bayes` for why not chained).
        let evaluate = |log_sd: f64| -> Result<f64> {
            self.prefix_mode(m, log_sd.exp(), shared_center, warm.clone())
                .map(|(_, evidence)| evidence)
                .ok_or_else(|| OccamError::computation("prefix fit", "no mode"))
        };
        maximize_over_log_sd(&evaluate)
            .ok()
            .map(|optimum| optimum.log_sd.exp())
    }
}

impl LogisticStudy<'_> {
    /// Original-unit weights and intercept as this study's parameters: wⱼ·scaleⱼ, and (when the
    /// intercept is under the prior) b + Σⱼ shiftⱼ·wⱼ — the same function in this standardisation.
    fn parameters_from_original(&self, weights: &[f64], intercept: f64) -> Vec<f64> {
        let mut values = self.transform.from_original(weights);
        if self.n_shared() > self.k {
            values.push(
                intercept
                    + weights
                        .iter()
                        .zip(&self.transform.feature_shift)
                        .map(|(w, m)| w * m)
                        .sum::<f64>(),
            );
        }
        values
    }
}

impl CenterHooks for LogisticStudy<'_> {
    fn prior_parameters(&self) -> (usize, Vec<String>) {
        (self.n_shared(), self.shared_names())
    }

    fn coded_rows(&self) -> usize {
        self.data.n()
    }

    fn fingerprints(&self) -> &HashSet<u64> {
        self.fingerprints
            .get_or_init(|| row_fingerprints(self.data.as_ref()))
    }

    fn truth_values(&self, truth: Truth) -> Result<Vec<f64>> {
        Ok(self.parameters_from_original(&truth.weights, truth.intercept))
    }

    fn donor_values(&self, donor: &Dataset, zero_centred: FitOptions) -> Result<Vec<f64>> {
        let (w_original, b_original) = fit_logistic(donor, &zero_centred)?.original_units();
        Ok(self.parameters_from_original(&w_original, b_original))
    }

    fn zero_centred_sd(&self, _spec: &CenterSpec) -> Result<f64> {
        Ok(self
            .empirical_bayes(
                &DVector::zeros(self.n_shared()),
                &DVector::zeros(self.n_params()),
            )?
            .log_sd
            .exp())
    }
}

impl Study for LogisticStudy<'_> {
    fn info(&self) -> StudyInfo {
        StudyInfo {
            kind: ModelKind::Logistic,
            source: self.data.source.clone(),
            n: self.data.n(),
            feature_names: self.data.feature_names.clone(),
            target_name: self.data.target_name.clone(),
            options: self.options.clone(),
            target_mapping: Some((self.target.negative, self.target.positive)),
            target_labels: self.data.target_labels.clone(),
            classes: None,
        }
    }

    fn resolve_center(&self, spec: &CenterSpec, prior_sd: SdSpec) -> Result<ResolvedCenter> {
        resolve_center(self, spec, prior_sd)
    }

    fn evaluate(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        _noise_sd: SdSpec,
        warm_start: Option<&DVector<f64>>,
    ) -> Result<PriorEvaluation> {
        evaluate_glm(self, spec, center, prior_sd, warm_start).map(|(evaluation, _, _)| evaluation)
    }

    fn code_length_notes(&self, charged: &[Message], charge_bits: Option<f64>) -> Vec<Message> {
        let p = self.n_params();
        let (_, tabulated) = lattice_term(p);
        let mut notes = vec![Message::from("evidence and mixture code: Laplace approximation with the exact Hessian X̃ᵀSX̃ + Λ at the MAP — approximate")];
        notes.extend(charge_note(charged, charge_bits, self.data.n(), "mixture and two_part (prequential refits s on each prefix instead, and pays only for a data-derived centre)"));
        notes.push(self.prequential_note());
        notes.push(format!(
            "two_part: MML87 with F = X̃ᵀSX̃ at the MAP, P = {p}, F + Λ in its place wherever some eigenvalue of F − Λ is negative (code_length_bits.two_part_form says which), lattice constant {}",
            if tabulated { "κ_P tabulated (Conway & Sloane)" } else { "from Wallace's approximation −(P/2) ln 2π + ½ ln(Pπ) − γ_Euler (within 0.25 nats of the tabulated κ₁₂, κ₁₆, κ₂₄)" }
        ).into());
        match self.intercept {
            Intercept::Free => notes.push("intercept: free (flat prior) — the evidence, mixture and two_part omit its prior normaliser, so they are defined up to that constant".into()),
            Intercept::Prior(sd) => notes.push(format!("intercept: its own prior N(0, {sd}²)").into()),
            Intercept::Shared => notes.push("intercept: a parameter under the same prior as the weights (the last coordinate of the centre)".into()),
            _ => {}
        }
        let classes = super::class_labels(&self.info()).unwrap_or_default();
        notes.push(
            format!(
                "target '{}': {} ↦ 0, {} ↦ 1{}",
                self.data.target_name,
                classes.first().map_or("", String::as_str),
                classes.last().map_or("", String::as_str),
                if self.data.target_labels.is_empty() {
                    ""
                } else {
                    " (text labels, in sorted order)"
                }
            )
            .into(),
        );
        notes
    }
}

/// Fits logistic regression to `dataset` under the prior of `options` (math.md §1, §4–§6).
pub fn fit_logistic<'d>(dataset: &'d Dataset, options: &FitOptions) -> Result<LogisticFit<'d>> {
    let study = LogisticStudy::borrowing(dataset, options)?;
    let (evaluation, mode, laplace, notes) = fit_glm(&study, options)?;
    Ok(LogisticFit {
        study,
        evaluation,
        mode,
        laplace,
        notes,
    })
}
