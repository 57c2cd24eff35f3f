//! The linear-softmax (multinomial logistic) study: a target with K ≥ 3 classes, K weight vectors
//! (and K intercepts) under one Gaussian prior, Laplace evidence and the four codes (math.md §7).
//!
//! `--model logistic` comes here when the target has three or more distinct values
//! ([`is_multiclass`]); two classes stay with the binary study ([`super::logistic`]).
//!
//! Parameter order: **class-major**, θ = (θ₀, …, θ_{K−1}), θ_c = (w_c, b_c) with the k
//! standardised weights of class c in column order and then its intercept (when there is one);
//! P = K·m, m = k + 1 (or k with `none`). A centre covers the parameters under the shared prior
//! N(μ, s²I), class-major too: K·(k + 1) with the default `shared` intercept, K·k with
//! `prior:SD` (intercepts under N(0, SD²)) or `none`. `free` is refused (math.md §7: a constant
//! added to every intercept changes no probability, so a flat prior leaves no mode).

use super::center::{resolve_center, CenterHooks};
use super::glm::{evaluate_glm, fit_glm, GlmCodes, GlmStudy, PriorArrays};
use super::{
    charge_note, row_fingerprints, FitOptions, ModelKind, PriorEvaluation, ResolvedCenter, Study,
    StudyInfo,
};
use crate::codelength::logistic::{Block, PrefixFit};
use crate::codelength::softmax::{bic_bits, prequential_blocks, two_part_nats};
use crate::codelength::{doubling_boundaries, lattice_term, reorder, RowOrder, TwoPartCode};
use crate::data::{Dataset, DesignOptions, Standardization};
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::laplace::{LaplaceEvidence, LogSdOptimum, Mode};
use crate::inference::softmax_mode::{
    softmax_empirical_bayes, softmax_mode_and_evidence, softmax_mode_and_evidence_from,
};
use crate::message;
use crate::model::logistic::Rows;
use crate::model::softmax::{
    class_target, original_units, prior_arrays, shared_width, ClassTarget, SoftmaxPrior,
    SoftmaxProblem,
};
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use crate::simulate::Truth;
use nalgebra::DVector;
use std::collections::HashSet;
use std::sync::OnceLock;

impl GlmCodes for SoftmaxProblem<'_> {
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

/// Whether `data`'s target has three or more distinct values (text labels or numbers): the
/// multinomial model's target under `--model logistic`.
pub fn is_multiclass(data: &Dataset) -> bool {
    if !data.target_labels.is_empty() {
        return data.target_labels.len() > 2;
    }
    let mut seen: Vec<f64> = Vec::with_capacity(3);
    for &v in &data.y {
        if !seen.iter().any(|s| s.total_cmp(&v).is_eq()) {
            seen.push(v);
            if seen.len() > 2 {
                return true;
            }
        }
    }
    false
}

/// The most classes a multinomial target may have: more distinct values than this are taken for a
/// continuous target, not class labels (P = K(k + 1) grows with them, and the Hessian with K²).
pub const MAX_CLASSES: usize = 100;

/// Refuses a numeric target that does not look like class labels: a value that is not a whole
/// number, or more than [`MAX_CLASSES`] distinct values (text labels are classes whatever their
/// count, up to the same limit). The linear-softmax study and the network's K-output head both
/// check their target here.
pub(crate) fn check_class_target(data: &Dataset, network: bool) -> Result<()> {
    let refuse = |what: String| {
        let (takes, fix) = if network {
            (
                "a classification network takes 2 classes, or 3 to {MAX_CLASSES} softmax outputs",
                (Setting::Task, "regression"),
            )
        } else {
            (
                "logistic takes 2 classes, or 3 to {MAX_CLASSES} for the multinomial model",
                (Setting::Model, "linear"),
            )
        };
        let takes = takes.replace("{MAX_CLASSES}", &MAX_CLASSES.to_string());
        Err(OccamError::Target {
            source_name: data.source.clone(),
            message: message![
                format!(
                    "'{}' {what}, so it does not look like class labels ({takes}); for a continuous target use ",
                    data.target_name
                ),
                fix,
                ", or choose a class column with ",
                Setting::Target
            ],
        })
    };
    if data.target_labels.is_empty() {
        if let Some(v) = data.y.iter().find(|v| v.fract() != 0.0) {
            return refuse(format!("has values that are not whole numbers (e.g. {v})"));
        }
    }
    let mut distinct = data.y.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|a, b| a.total_cmp(b).is_eq());
    if distinct.len() > MAX_CLASSES {
        return refuse(format!("has {} distinct values", distinct.len()));
    }
    Ok(())
}

/// The data side of a linear-softmax study (raw rows read in place, standardised on the fly).
#[derive(Debug, Clone)]
pub struct SoftmaxStudy<'d> {
    data: &'d Dataset,
    options: FitOptions,
    /// Raw columns → design.
    pub transform: Standardization,
    inv_scale: Vec<f64>,
    /// Each row's class and the sorted class values.
    pub target: ClassTarget,
    /// The class names in order (text labels, or the numbers).
    pub class_names: Vec<String>,
    k: usize,
    intercept: Intercept,
    /// Raw rows and classes in the prequential visiting order, when that is not the given order.
    ordered: OnceLock<(Vec<f64>, Vec<usize>)>,
    boundaries: Vec<usize>,
    fingerprints: OnceLock<HashSet<u64>>,
    /// ∇ℓ at θ = 0 on all rows: the gradient scale of every fit on these rows.
    zero_gradient: OnceLock<DVector<f64>>,
    /// x̃ᵢ of every row (given order), n × m, formed once for the passes over all rows; `None`
    /// when it does not fit in memory (the passes then standardise the rows on the fly: the same
    /// values).
    packed: OnceLock<Option<Vec<f64>>>,
}

/// A fitted linear-softmax regression.
#[derive(Debug, Clone)]
pub struct SoftmaxFit<'d> {
    /// The data side.
    pub study: SoftmaxStudy<'d>,
    /// The prior's scores.
    pub evaluation: PriorEvaluation,
    /// The mode and the Hessian there.
    pub mode: Mode,
    /// The Laplace evidence and posterior sds.
    pub laplace: LaplaceEvidence,
    /// What the reader needs to know.
    pub notes: Vec<Message>,
}

impl SoftmaxFit<'_> {
    /// Weights (K × k, rows = classes) and the K intercepts (0 with `none`) in original units:
    /// w_cj/scale_j and b_c − Σ_j shift_j·w_cj/scale_j ([`original_units`]).
    pub fn original_units(&self) -> (Vec<Vec<f64>>, Vec<f64>) {
        let study = &self.study;
        let (weights, intercepts) = original_units(
            &self.mode.params,
            study.classes(),
            study.has_intercept(),
            &study.transform.feature_shift,
            &study.transform.feature_scale,
        );
        let intercepts = intercepts.unwrap_or_else(|| vec![0.0; study.classes()]);
        (weights, intercepts)
    }
}

impl<'d> SoftmaxStudy<'d> {
    /// Standardises the features and maps the target to classes 0…K−1 (sorted), reading the data
    /// set in place.
    pub fn borrowing(data: &'d Dataset, options: &FitOptions) -> Result<Self> {
        options.validate(ModelKind::Logistic)?;
        check_class_target(data, false)?;
        let target = class_target(&data.y, &data.source, &data.target_name)?;
        let classes = target.classes.len();
        let k = data.k();
        // `free` and `centered` are refused here with math.md §7's reason (typed, naming the flag).
        prior_arrays(
            k,
            classes,
            options.intercept,
            1.0,
            &DVector::zeros(classes * shared_width(k, options.intercept)),
        )?;
        // The P×P Hessian, its factor and the Laplace covariance, P = K(k + 1), and the n × K
        // class probabilities (training accuracy): 8·(3P² + nK) bytes.
        let p = (classes * (k + 1)) as f64;
        crate::memory::check_fits(
            8.0 * (3.0 * p * p + (data.n() * classes) as f64),
            Setting::Data,
            &format!(
                "three {P}×{P} matrices of a {classes}-class model (P = K(k + 1)) and the n × K class probabilities",
                P = classes * (k + 1)
            ),
            crate::memory::fewer_features(),
        )?;
        let class_names = target
            .classes
            .iter()
            .map(|&code| {
                data.target_labels
                    .get(code as usize)
                    .cloned()
                    .unwrap_or_else(|| code.to_string())
            })
            .collect();
        let transform = Standardization::fit(
            data,
            DesignOptions {
                standardize: options.standardize,
                center: false,
            },
        )?;
        let inv_scale = transform.feature_scale.iter().map(|s| 1.0 / s).collect();
        Ok(SoftmaxStudy {
            data,
            options: options.clone(),
            transform,
            inv_scale,
            target,
            class_names,
            k,
            intercept: options.intercept,
            ordered: OnceLock::new(),
            boundaries: doubling_boundaries(data.n(), options.first_block),
            fingerprints: OnceLock::new(),
            zero_gradient: OnceLock::new(),
            packed: OnceLock::new(),
        })
    }

    /// K, the number of classes.
    pub fn classes(&self) -> usize {
        self.target.classes.len()
    }

    fn has_intercept(&self) -> bool {
        self.intercept != Intercept::None
    }

    /// m, the parameters per class.
    fn width(&self) -> usize {
        self.k + usize::from(self.has_intercept())
    }

    /// P = K·m.
    pub fn n_params(&self) -> usize {
        self.classes() * self.width()
    }

    /// The parameters the shared prior covers: K·(k + 1) with a shared intercept, else K·k.
    fn n_shared(&self) -> usize {
        self.classes() * shared_width(self.k, self.intercept)
    }

    /// The shared coordinates of θ (class-major), the space of a centre.
    fn shared_part(&self, theta: &DVector<f64>) -> DVector<f64> {
        let (m, shared) = (self.width(), shared_width(self.k, self.intercept));
        DVector::from_iterator(
            self.n_shared(),
            (0..self.classes()).flat_map(|c| (0..shared).map(move |j| theta[c * m + j])),
        )
    }

    fn shared_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_shared());
        for class in &self.class_names {
            for feature in &self.data.feature_names {
                names.push(format!("{class}:{feature}"));
            }
            if self.intercept == Intercept::Shared {
                names.push(format!("{class}:(intercept)"));
            }
        }
        names
    }

    fn rows_of<'a>(&'a self, x: &'a [f64]) -> Rows<'a> {
        if self.options.standardize {
            Rows::standardized(x, self.k, &self.transform.feature_shift, &self.inv_scale)
        } else {
            Rows::design(x, self.k)
        }
    }

    /// Raw rows and classes in the prequential visiting order.
    fn ordered(&self) -> (&[f64], &[usize]) {
        match self.options.order {
            RowOrder::AsGiven => (&self.data.x, &self.target.labels),
            order => {
                let (x, y) = self.ordered.get_or_init(|| {
                    let codes: Vec<f64> = self.target.labels.iter().map(|&c| c as f64).collect();
                    let (x, y) = reorder(&self.data.x, &codes, self.k, order);
                    (x, y.iter().map(|&c| c as usize).collect())
                });
                (x, y)
            }
        }
    }

    /// The fraction of rows whose most probable class (first on ties) is their own.
    pub fn training_accuracy(&self, theta: &DVector<f64>) -> Result<f64> {
        let prior = self.prior(1.0, &DVector::zeros(self.n_shared()))?;
        let problem = self.problem(&prior);
        let p = problem.probabilities(theta);
        let kk = self.classes();
        let right = p
            .chunks_exact(kk)
            .zip(&self.target.labels)
            .filter(|(row, &y)| {
                let best = (0..kk).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                best == y
            })
            .count();
        Ok(right as f64 / self.data.n().max(1) as f64)
    }

    /// Original-unit weights (K × k) and intercepts (K) as this study's shared parameters
    /// (class-major): w_cj·scale_j and, when the intercepts are under the shared prior,
    /// b_c + Σ_j shift_j·w_cj — the same linear predictors in this standardisation.
    fn parameters_from_original(&self, weights: &[Vec<f64>], intercepts: &[f64]) -> Vec<f64> {
        let mut values = Vec::with_capacity(self.n_shared());
        for (w, b) in weights.iter().zip(intercepts) {
            values.extend(self.transform.from_original(w));
            if self.intercept == Intercept::Shared {
                values.push(
                    b + w
                        .iter()
                        .zip(&self.transform.feature_shift)
                        .map(|(w, m)| w * m)
                        .sum::<f64>(),
                );
            }
        }
        values
    }
}

impl GlmStudy for SoftmaxStudy<'_> {
    type Problem<'a>
        = SoftmaxProblem<'a>
    where
        Self: 'a;

    fn data(&self) -> &Dataset {
        self.data
    }

    fn options(&self) -> &FitOptions {
        &self.options
    }

    fn boundaries(&self) -> &[usize] {
        &self.boundaries
    }

    fn n_params(&self) -> usize {
        SoftmaxStudy::n_params(self)
    }

    fn shared_part(&self, theta: &DVector<f64>) -> DVector<f64> {
        SoftmaxStudy::shared_part(self, theta)
    }

    fn prior(&self, sd: f64, shared_center: &DVector<f64>) -> Result<PriorArrays> {
        let SoftmaxPrior { center, precision } =
            prior_arrays(self.k, self.classes(), self.intercept, sd, shared_center)?;
        Ok(PriorArrays { center, precision })
    }

    /// The problem on all rows under `prior`, reading the packed design
    /// ([`SoftmaxProblem::with_packed`]) when it fits in memory ([`crate::memory::check_fits`]).
    fn problem<'a>(&'a self, prior: &'a PriorArrays) -> SoftmaxProblem<'a> {
        let problem = SoftmaxProblem::new(
            self.rows_of(&self.data.x),
            &self.target.labels,
            self.classes(),
            self.has_intercept(),
            &prior.center,
            &prior.precision,
        );
        let packed = self.packed.get_or_init(|| {
            crate::memory::check_fits(
                problem.packed_bytes(),
                Setting::Data,
                "the standardised design",
                crate::memory::fewer_features(),
            )
            .ok()
            .map(|()| problem.packed_design())
        });
        match packed {
            Some(packed) => problem.with_packed(packed),
            None => problem,
        }
    }

    fn ordered_problem<'a>(&'a self, prior: &'a PriorArrays) -> SoftmaxProblem<'a> {
        let (x, y) = self.ordered();
        SoftmaxProblem::new(
            self.rows_of(x),
            y,
            self.classes(),
            self.has_intercept(),
            &prior.center,
            &prior.precision,
        )
    }

    /// The mode from `init` and the Laplace evidence there, on all rows.
    fn mode_and_evidence(
        &self,
        prior: &PriorArrays,
        init: DVector<f64>,
    ) -> Result<(Mode, LaplaceEvidence)> {
        let problem = self.problem(prior);
        let zero = self.zero_gradient.get_or_init(|| {
            problem
                .likelihood_and_gradient(&DVector::zeros(problem.n_params()))
                .1
        });
        softmax_mode_and_evidence_from(&problem, init, zero)
    }

    /// Empirical Bayes for s on all rows, every evaluation from `init`
    /// ([`softmax_empirical_bayes`]).
    fn empirical_bayes(
        &self,
        shared_center: &DVector<f64>,
        init: &DVector<f64>,
    ) -> Result<LogSdOptimum> {
        softmax_empirical_bayes(
            self.rows_of(&self.data.x),
            &self.target.labels,
            self.classes(),
            self.intercept,
            shared_center,
            init,
        )
    }

    /// The MAP on the first `m` rows of the visiting order at prior sd s, from `init`; `None`
    /// where the mode cannot be found.
    fn prefix_params(
        &self,
        m: usize,
        s: f64,
        shared_center: &DVector<f64>,
        init: DVector<f64>,
    ) -> Option<DVector<f64>> {
        let (x, y) = self.ordered();
        let prior = self.prior(s, shared_center).ok()?;
        let problem = SoftmaxProblem::new(
            self.rows_of(&x[..m * self.k]),
            &y[..m],
            self.classes(),
            self.has_intercept(),
            &prior.center,
            &prior.precision,
        );
        softmax_mode_and_evidence(&problem, init)
            .ok()
            .map(|(mode, _)| mode.params)
    }

    /// ŝ of the first `m` rows' Laplace evidence, or `None` where it has no interior maximum in
    /// [1e-4, 1e4] or cannot be evaluated.
    fn prefix_prior_sd(
        &self,
        m: usize,
        shared_center: &DVector<f64>,
        warm: &DVector<f64>,
    ) -> Option<f64> {
        let (x, y) = self.ordered();
        softmax_empirical_bayes(
            self.rows_of(&x[..m * self.k]),
            &y[..m],
            self.classes(),
            self.intercept,
            shared_center,
            warm,
        )
        .ok()
        .map(|optimum| optimum.log_sd.exp())
    }
}

impl CenterHooks for SoftmaxStudy<'_> {
    fn prior_parameters(&self) -> (usize, Vec<String>) {
        (self.n_shared(), self.shared_names())
    }

    fn coded_rows(&self) -> usize {
        self.data.n()
    }

    fn fingerprints(&self) -> &HashSet<u64> {
        self.fingerprints
            .get_or_init(|| row_fingerprints(self.data))
    }

    fn truth_values(&self, truth: Truth) -> Result<Vec<f64>> {
        let Some(classes) = truth.classes.as_ref() else {
            return Err(OccamError::invalid(
                Setting::PriorCenter,
                message![
                    format!("'truth': the truth file holds a binary teacher, but this target has {} classes; simulate the data with ", self.classes()),
                    (Setting::Classes, self.classes().to_string())
                ],
            ));
        };
        if classes.weights.len() != self.classes()
            || classes.weights.iter().any(|w| w.len() != self.k)
        {
            return Err(OccamError::invalid(
                Setting::PriorCenter,
                format!(
                    "'truth': the truth file's teacher has {} classes × {} features, but these data have {} × {} (were columns or rows excluded?)",
                    classes.weights.len(),
                    classes.weights.first().map_or(0, Vec::len),
                    self.classes(),
                    self.k
                ),
            ));
        }
        Ok(self.parameters_from_original(&classes.weights, &classes.intercepts))
    }

    fn donor_values(&self, donor: &Dataset, zero_centred: FitOptions) -> Result<Vec<f64>> {
        let fit = fit_softmax(donor, &zero_centred)?;
        if fit.study.target.classes != self.target.classes {
            return Err(OccamError::invalid(
                Setting::PriorCenter,
                format!(
                    "the donor's target has classes [{}] but these data have [{}]; a fit: centre needs the same classes",
                    fit.study.class_names.join(", "),
                    self.class_names.join(", ")
                ),
            ));
        }
        let (weights, intercepts) = fit.original_units();
        Ok(self.parameters_from_original(&weights, &intercepts))
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

impl Study for SoftmaxStudy<'_> {
    fn info(&self) -> StudyInfo {
        StudyInfo {
            kind: ModelKind::Logistic,
            source: self.data.source.clone(),
            n: self.data.n(),
            feature_names: self.data.feature_names.clone(),
            target_name: self.data.target_name.clone(),
            options: self.options.clone(),
            target_mapping: None,
            target_labels: self.data.target_labels.clone(),
            classes: Some(self.class_names.clone()),
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
        let kk = self.classes();
        let m = self.width();
        let mapping: Vec<String> = self
            .class_names
            .iter()
            .enumerate()
            .map(|(c, name)| format!("{name} ↦ {c}"))
            .collect();
        let mut notes = vec![
            Message::from(format!(
                "multinomial (softmax) model: target '{}' has {kk} classes, {}{}; one weight vector per class (P = K·m = {kk}·{m} = {p}, class-major)",
                self.data.target_name,
                mapping.join(", "),
                if self.data.target_labels.is_empty() { "" } else { " (text labels, in sorted order)" }
            )),
            Message::from("evidence and mixture code: Laplace approximation with the exact Hessian Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ + Λ at the MAP — approximate"),
        ];
        notes.extend(charge_note(charged, charge_bits, self.data.n(), "mixture and two_part (prequential refits s on each prefix instead, and pays only for a data-derived centre)"));
        notes.push(self.prequential_note());
        notes.push(format!(
            "two_part: MML87 with F = the data part of the Hessian at the MAP, P = {p}; F always has {m} zero directions (shifting every class's parameters alike changes no probability), where F < Λ, so the F + Λ form applies throughout (docs/codes.md); lattice constant {}",
            if tabulated { "κ_P tabulated (Conway & Sloane)" } else { "from Wallace's approximation −(P/2) ln 2π + ½ ln(Pπ) − γ_Euler (within 0.25 nats of the tabulated κ₁₂, κ₁₆, κ₂₄)" }
        ).into());
        notes.push(format!(
            "bic: maximum likelihood with Σ_c θ_c = 0 (the {m} structural directions pinned), P_eff = (K − 1)·m = {}",
            (kk - 1) * m
        ).into());
        match self.intercept {
            Intercept::Prior(sd) => notes.push(format!("intercepts: each under its own prior N(0, {sd}²)").into()),
            Intercept::Shared => notes.push("intercepts: one per class, under the same prior as the weights (the last coordinate of each class's block of the centre)".into()),
            _ => {}
        }
        notes
    }
}

/// Fits linear-softmax regression to `dataset` under the prior of `options` (math.md §7).
pub fn fit_softmax<'d>(dataset: &'d Dataset, options: &FitOptions) -> Result<SoftmaxFit<'d>> {
    let study = SoftmaxStudy::borrowing(dataset, options)?;
    let (evaluation, mode, laplace, notes) = fit_glm(&study, options)?;
    Ok(SoftmaxFit {
        study,
        evaluation,
        mode,
        laplace,
        notes,
    })
}

impl SoftmaxStudy<'_> {
    /// Whether each class has an intercept parameter.
    pub(crate) fn intercept_is_parameter(&self) -> bool {
        self.has_intercept()
    }
}
