//! The linear-Gaussian study: one data set, any number of priors.
//!
//! [`LinearStudy::new`] does the O(nk²) work once — standardisation, sufficient statistics, one
//! eigendecomposition of XᵀX and one per prequential block boundary (wide data, n < k: the n × n
//! Gram matrix XXᵀ instead, O(n²k), and no k × k matrix). After that,
//! [`LinearStudy::evaluate`] scores a prior (centre, s, σ) in O(k²·log n) or less: empirical Bayes,
//! evidence, γ and all four code lengths, without touching the rows again.

use super::center::{resolve_center, CenterHooks};
use super::{
    charge_note, charged_reals_note, row_fingerprints, EvidenceMethod, FitOptions, ModelKind,
    PriorEvaluation, ResolvedCenter, Study, StudyInfo,
};
use crate::codelength::linear::{bic_bits, mixture_bits, two_part_nats, PrequentialPlan};
use crate::codelength::{
    bits, estimate_charge_bits, lattice_term, optional_code, CodeLengths, CodeSelection,
};
use crate::data::design::Moments;
use crate::data::{
    DataView, Dataset, DesignOptions, ShardStats, Standardization, SufficientStats, UncheckedView,
};
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::{minimize_lbfgs, Hyperparameters, LbfgsOptions, LinearGaussian, Posterior};
use crate::message;
use crate::model::linear::PenalizedLeastSquares;
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use crate::simulate::Truth;
use nalgebra::{DMatrix, DVector};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The data side of a linear-Gaussian study, computed once.
///
/// It keeps the rows (borrowed, or a copy from [`LinearStudy::new`]) only for the row
/// fingerprints of a `fit:PATH` centre, made on first use: hashing every row costs a fifth of a
/// 200k×100 fit, and most studies never need it.
#[derive(Debug, Clone)]
pub struct LinearStudy<'d> {
    /// `None` for a study from merged statistics ([`LinearStudy::from_shards`]), which has no rows.
    data: Option<Rows<'d>>,
    /// The data's source.
    pub source: String,
    /// Rows.
    pub n: usize,
    /// Feature names in weight order.
    pub feature_names: Vec<String>,
    /// Target name.
    pub target_name: String,
    /// The options (centre and scales are the defaults for [`LinearStudy::evaluate`] callers).
    pub options: FitOptions,
    /// Raw columns → design.
    pub transform: Standardization,
    /// `None` on the n × n route of wide data, which never forms the k × k XᵀX.
    stats: Option<SufficientStats>,
    model: LinearGaussian,
    fingerprints: OnceLock<HashSet<u64>>,
    prequential: Option<PrequentialPlan>,
}

impl LinearStudy<'static> {
    /// The study of merged statistics (`data::shard`): the standardisation and the design's
    /// statistics follow from n, the means and the centred co-moments alone —
    /// sⱼ = √(C_jj/n), ZᵀZ = D⁻¹C_xxD⁻¹, Zᵀt = D⁻¹C_xy, tᵀt = C_yy — so every prior is scored
    /// exactly as on the rows. Only the `centered` intercept is possible (the statistics are
    /// centred), and the prequential code, which needs the rows in order, is null.
    pub fn from_shards(stats: &ShardStats, source: &str, options: &FitOptions) -> Result<Self> {
        options.validate(ModelKind::Linear)?;
        if options.intercept != Intercept::Centered {
            return Err(OccamError::invalid(
                Setting::Intercept,
                message![
                    "merged statistics are centred moments, so the intercept can only be ",
                    (Setting::Intercept, "centered"),
                    " (the linear model's default)"
                ],
            ));
        }
        let (n, k) = (stats.n, stats.k());
        if n < 2 {
            return Err(OccamError::Csv {
                source_name: source.to_string(),
                message: format!("only {n} data row: standardising a feature and fitting any prior need at least 2 rows; merge more shards").into(),
            });
        }
        crate::memory::check_design(0, k, 3, crate::memory::fewer_features())?;
        let mean = &stats.mean[..k];
        let feature_scale = if options.standardize {
            let mut sd = Vec::with_capacity(k);
            for (j, m) in mean.iter().enumerate() {
                let s = (stats.comoment[j][j] / n as f64).sqrt();
                // As Standardization::fit: spread at rounding level of the mean is constant.
                if s <= 1e-13 * m.abs() || s == 0.0 || !s.is_finite() {
                    return Err(OccamError::ConstantFeature {
                        source_name: source.to_string(),
                        column: stats.features[j].clone(),
                    });
                }
                sd.push(s);
            }
            sd
        } else {
            vec![1.0; k]
        };
        let d = &feature_scale;
        let design = SufficientStats {
            n,
            xtx: DMatrix::from_fn(k, k, |i, j| stats.comoment[i][j] / (d[i] * d[j])),
            xty: DVector::from_fn(k, |i, _| stats.comoment[i][k] / d[i]),
            yty: stats.comoment[k][k],
        };
        let model = LinearGaussian::new(&design)?;
        Ok(LinearStudy {
            data: None,
            source: source.to_string(),
            n,
            feature_names: stats.features.clone(),
            target_name: stats.target.clone(),
            options: options.clone(),
            transform: Standardization {
                feature_shift: mean.to_vec(),
                feature_scale,
                target_shift: stats.mean[k],
            },
            stats: Some(design),
            model,
            fingerprints: OnceLock::new(),
            prequential: None,
        })
    }
}

/// [`fit_linear`] on merged statistics ([`LinearStudy::from_shards`]): equal to the fit on the
/// concatenated rows but for rounding, with a null prequential code. A `fit:PATH` centre is
/// refused: it checks the donor's rows against these, which the statistics do not hold; so is
/// `truth`, which reads the file beside a CSV the statistics do not name.
pub fn fit_linear_shards(
    stats: &ShardStats,
    source: &str,
    options: &FitOptions,
) -> Result<LinearFit<'static>> {
    if let CenterSpec::Fit(_) = &options.center {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            "a fit: centre checks that the donor shares no rows with these data, which merged statistics do not hold; fit the donor, save its weights and pass them as file:PATH",
        ));
    }
    if let CenterSpec::Truth = &options.center {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            "'truth' reads the truth file beside a simulated CSV, which merged statistics do not name; pass the teacher's weights as vec: or file:PATH",
        ));
    }
    let study = LinearStudy::from_shards(stats, source, options)?;
    fit_study(study, options, None)
}

/// The design's centring from the intercept choice ([`FitOptions::problem`] has already refused
/// the choices the linear model does not offer: it centres the data or has no intercept).
fn design_options(options: &FitOptions) -> DesignOptions {
    DesignOptions {
        standardize: options.standardize,
        center: options.intercept == Intercept::Centered,
    }
}

impl LinearStudy<'static> {
    /// Standardises, computes the sufficient statistics and eigendecomposes: the O(nk²) part, on
    /// a copy of the data set (see [`LinearStudy::borrowing`] to avoid the copy).
    pub fn new(dataset: &Dataset, options: &FitOptions) -> Result<Self> {
        LinearStudy::with_data(Rows::Owned(dataset.clone()), None, options)
    }
}

/// The rows a study keeps: its own copy, or borrowed (a [`Dataset`] or a caller's buffer).
#[derive(Debug, Clone)]
enum Rows<'d> {
    Owned(Dataset),
    Borrowed(DataView<'d>),
}

impl Rows<'_> {
    fn view(&self) -> DataView<'_> {
        match self {
            Rows::Owned(data) => data.into(),
            Rows::Borrowed(view) => *view,
        }
    }
}

impl<'d> LinearStudy<'d> {
    /// [`LinearStudy::new`] on borrowed rows: a [`Dataset`], or a [`DataView`] of rows held in
    /// the caller's memory (read in place, never copied).
    pub fn borrowing(dataset: impl Into<DataView<'d>>, options: &FitOptions) -> Result<Self> {
        LinearStudy::with_data(Rows::Borrowed(dataset.into()), None, options)
    }

    /// [`LinearStudy::borrowing`] on rows whose values are not checked yet: the check is folded
    /// into the standardisation's pass ([`UncheckedView`]), so the rows are read once fewer. The
    /// study, its numbers and its errors are those of `borrowing` on the checked rows (the same
    /// pass, in the same order; a non-finite value refused first, with [`DataView::new`]'s error).
    pub fn from_unchecked(rows: UncheckedView<'d>, options: &FitOptions) -> Result<Self> {
        let (view, moments) = rows.checked_by(Moments::of_view, Moments::is_finite)?;
        LinearStudy::with_data(Rows::Borrowed(view), Some(moments), options)
    }

    /// The study of `data`; `moments`, when given, are [`Moments::of_view`] of its rows (made
    /// while checking them), so the standardisation does not read them again.
    fn with_data(data: Rows<'d>, moments: Option<Moments>, options: &FitOptions) -> Result<Self> {
        let dataset = data.view();
        options.validate(ModelKind::Linear)?;
        // The k×k matrices alive at once: the Gram matrix, the eigendecomposition's copy and its
        // eigenvectors, and with the prequential code one eigendecomposition per block boundary.
        let blocks = if options.codes.prequential {
            crate::codelength::doubling_boundaries(dataset.n(), options.first_block).len() - 1
        } else {
            0
        };
        let (n, k) = (dataset.n(), dataset.k());
        let wide = LinearGaussian::takes_thin_route(n, k);
        if wide {
            crate::memory::check_wide_design(n, k, options.codes.prequential)?;
        } else {
            crate::memory::check_design(
                n,
                k,
                3 + blocks,
                crate::memory::fewer_features()
                    .and(", or ")
                    .and((Setting::Codes, "none"))
                    .and(" (the prequential code keeps one k×k matrix per block)"),
            )?;
        }
        let transform = match moments {
            Some(moments) => {
                Standardization::from_moments(dataset, moments, design_options(options))?
            }
            None => Standardization::fit(dataset, design_options(options))?,
        };
        // The prequential plan sums the statistics block by block anyway; its last prefix is the
        // whole data set, so the O(nk²) pass and the eigendecomposition are done once.
        let _step = crate::progress::step(if wide {
            format!("XXᵀ ({n}²) from {k} columns, eigenpairs by the n × n route")
        } else {
            format!("XᵀX ({k}²) from {n} rows, eigendecomposition")
        });
        let prequential = if options.codes.prequential {
            Some(PrequentialPlan::new(
                dataset,
                &transform,
                options.order,
                options.first_block,
            )?)
        } else {
            None
        };
        let (stats, model) = match &prequential {
            Some(plan) => (plan.full_stats().cloned(), plan.full_model().clone()),
            None if wide => {
                let (z, t) = transform.rows_in_order(dataset, None);
                (None, LinearGaussian::from_wide_rows(&z, &t, k)?)
            }
            None => {
                let stats =
                    SufficientStats::from_dataset(dataset, &transform, None, 0..dataset.n());
                let model = LinearGaussian::new(&stats)?;
                (Some(stats), model)
            }
        };
        Ok(LinearStudy {
            source: dataset.source.to_string(),
            n: dataset.n(),
            feature_names: dataset.feature_names.to_vec(),
            target_name: dataset.target_name.to_string(),
            options: options.clone(),
            transform,
            stats,
            model,
            prequential,
            fingerprints: OnceLock::new(),
            data: Some(data),
        })
    }

    /// The model in the eigenbasis of XᵀX.
    pub fn model(&self) -> &LinearGaussian {
        &self.model
    }

    /// The sufficient statistics; `None` for wide data (n < k, k ≥ 256), whose n × n route
    /// never forms the k × k XᵀX.
    pub fn stats(&self) -> Option<&SufficientStats> {
        self.stats.as_ref()
    }

    /// Scores one prior and returns the exact (α, β) with it: empirical Bayes where asked, the
    /// exact evidence, γ and the four code lengths with their charges (math.md §5).
    pub fn evaluate_linear(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
    ) -> Result<(PriorEvaluation, Hyperparameters)> {
        let eb = self
            .model
            .empirical_bayes(&center.values, prior_sd.fixed(), noise_sd.fixed())?;
        let h = eb.hyperparameters;
        let summary = self.model.summary(h, &self.model.rotate(&center.values));
        let fitted =
            usize::from(prior_sd.fixed().is_none()) + usize::from(noise_sd.fixed().is_none());
        let estimated = fitted + center.estimated_reals + self.options.charged_reals;
        let charge_bits = estimate_charge_bits(estimated, self.n);
        let mut notes: Vec<Message> = charged_reals_note(self.options.charged_reals, self.n)
            .into_iter()
            .collect();
        if let Some((other, log_evidence)) = eb.second_peak {
            notes.push(format!(
                "empirical Bayes: the evidence has a second peak at s = {:.4}, σ = {:.4} (ln p = {log_evidence:.4}, {:.3} nats below the chosen one); the data hardly prefer one to the other",
                other.prior_sd(),
                other.noise_sd(),
                summary.log_evidence - log_evidence
            ).into());
        }

        let codes = self.options.codes;
        let mut refit_failures = 0;
        let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
            let plan = self
                .prequential
                .as_ref()
                .ok_or_else(|| match self.data {
                    Some(_) => CodeSelection::skipped("prequential"),
                    None => Message::from("prequential: null — it codes the rows block after block in order, and merged statistics hold no rows (mixture, two_part and bic need only the statistics)"),
                })?;
            let code = plan.code(&center.values, prior_sd.fixed(), noise_sd.fixed(), h);
            refit_failures = code.blocks.iter().filter(|b| b.refit_failed).count();
            Ok(code.bits + charge_bits)
        });
        if refit_failures > 0 {
            notes.push(format!(
                "prequential: empirical Bayes failed on {refit_failures} prefix(es) (too few rows to fit s or σ); those blocks reuse the previous block's values, which the receiver can reproduce"
            ).into());
        }
        let mut two_part_code = None;
        let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
            let code = two_part_nats(&self.model, h, &summary)?;
            two_part_code = Some(code);
            Ok(bits(code.nats) + charge_bits)
        });
        notes.extend(
            two_part_code
                .and_then(|code| code.note())
                .map(Message::from),
        );
        let bic = optional_code(codes.bic, "bic", &mut notes, || {
            bic_bits(&self.model, noise_sd.fixed()).map_err(Message::from)
        });
        if let Some(note) = &center.note {
            notes.push(note.clone());
        }
        let mode = self.model.posterior_mean(h, &center.values);
        let evaluation = PriorEvaluation {
            center_spec: spec.clone(),
            center,
            prior_sd_spec: prior_sd,
            noise_sd_spec: noise_sd,
            prior_sd: h.prior_sd(),
            noise_sd: Some(h.noise_sd()),
            mode,
            log_evidence: summary.log_evidence,
            evidence_method: EvidenceMethod::Exact,
            effective_parameters: summary.effective_parameters,
            distance_from_center: summary.distance_squared.sqrt(),
            empirical_bayes_iterations: eb.iterations,
            code_lengths: CodeLengths {
                mixture: Some(mixture_bits(&summary, charge_bits)),
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
        Ok((evaluation, h))
    }
}

impl CenterHooks for LinearStudy<'_> {
    fn prior_parameters(&self) -> (usize, Vec<String>) {
        (self.feature_names.len(), self.feature_names.clone())
    }

    fn coded_rows(&self) -> usize {
        self.n
    }

    fn fingerprints(&self) -> &HashSet<u64> {
        self.fingerprints.get_or_init(|| {
            self.data
                .as_ref()
                .map(|rows| row_fingerprints(rows.view()))
                .unwrap_or_default()
        })
    }

    fn truth_values(&self, truth: Truth) -> Result<Vec<f64>> {
        Ok(self.transform.from_original(&truth.weights))
    }

    /// The donor's noise sd is its own: fitted, whatever this study fixes.
    fn donor_values(&self, donor: &Dataset, zero_centred: FitOptions) -> Result<Vec<f64>> {
        let options = FitOptions {
            noise_sd: SdSpec::Auto,
            ..zero_centred
        };
        let (original, _) = fit_linear(donor, &options)?.original_units();
        Ok(self.transform.from_original(&original))
    }

    fn zero_centred_sd(&self, _spec: &CenterSpec) -> Result<f64> {
        let k = self.feature_names.len();
        Ok(self
            .model
            .empirical_bayes(&DVector::zeros(k), None, self.options.noise_sd.fixed())?
            .hyperparameters
            .prior_sd())
    }
}

impl Study for LinearStudy<'_> {
    fn info(&self) -> StudyInfo {
        StudyInfo {
            kind: ModelKind::Linear,
            source: self.source.clone(),
            n: self.n,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            options: self.options.clone(),
            target_mapping: None,
            target_labels: self
                .data
                .as_ref()
                .map(|rows| rows.view().target_labels.to_vec())
                .unwrap_or_default(),
            classes: None,
        }
    }

    /// Resolves a centre spec into design units (`fit:` fits the donor data, `sha256:` without a
    /// scale takes s, or the zero-centred empirical-Bayes s when s is `auto`).
    fn resolve_center(&self, spec: &CenterSpec, prior_sd: SdSpec) -> Result<ResolvedCenter> {
        resolve_center(self, spec, prior_sd)
    }

    fn evaluate(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        _warm_start: Option<&DVector<f64>>,
    ) -> Result<PriorEvaluation> {
        self.evaluate_linear(spec, center, prior_sd, noise_sd)
            .map(|(evaluation, _)| evaluation)
    }

    /// Precision, charges, prequential blocks, the lattice constant.
    fn code_length_notes(&self, charged: &[Message], charge_bits: Option<f64>) -> Vec<Message> {
        let k = self.feature_names.len();
        let (_, tabulated) = lattice_term(k);
        let mut notes = vec![Message::from("continuous targets are coded at unit precision: a precision ε adds n·log₂(1/ε) bits to every model alike, so differences between priors are unaffected")];
        notes.extend(charge_note(
            charged,
            charge_bits,
            self.n,
            "mixture, prequential and two_part",
        ));
        if let Some(plan) = &self.prequential {
            notes.push(format!(
                "prequential: {}, {} doubling block(s) from {} row(s); the first block is coded with the full-data hyperparameters (sent at the charge above when fitted), each later block with empirical Bayes on the rows before it (the previous block's values where the prefix has no more rows than weights); with s and σ fixed it equals the mixture code (chain rule)",
                self.options.order.describe(),
                plan.boundaries().len() - 1,
                self.options.first_block
            ).into());
        }
        notes.push(format!(
            "two_part: MML87 with F = βXᵀX, P = {k}, F + Λ in its place wherever some eigenvalue of F − Λ is negative (code_length_bits.two_part_form says which), lattice constant {}",
            if tabulated { "κ_P tabulated (Conway & Sloane)".to_string() } else { "from Wallace's approximation −(P/2) ln 2π + ½ ln(Pπ) − γ_Euler (within 0.25 nats of the tabulated κ₁₂, κ₁₆, κ₂₄)".to_string() }
        ).into());
        notes
    }
}

/// The argmin L-BFGS minimiser of the penalised objective, compared with the closed form.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerCheck {
    /// max |w_lbfgs − m| / max |m|.
    pub max_relative_difference: f64,
    /// L-BFGS iterations.
    pub iterations: u64,
    /// ‖∇f‖ at the L-BFGS point.
    pub gradient_norm: f64,
}

/// A fitted linear-Gaussian model: one prior, scored and with its full posterior.
#[derive(Debug, Clone)]
pub struct LinearFit<'d> {
    /// The data side.
    pub study: LinearStudy<'d>,
    /// The prior's scores.
    pub evaluation: PriorEvaluation,
    /// The posterior at the chosen hyperparameters.
    pub posterior: Posterior,
    /// The same MAP reached by argmin's L-BFGS, if it converged.
    pub optimizer_check: Option<OptimizerCheck>,
    /// What the reader needs to know about this fit.
    pub notes: Vec<Message>,
}

impl LinearFit<'_> {
    /// The posterior-mean weights and intercept in original units.
    pub fn original_units(&self) -> (Vec<f64>, f64) {
        self.study
            .transform
            .to_original(self.posterior.mean.as_slice(), 0.0)
    }
}

/// Fits the linear-Gaussian model to `dataset` under the prior of `options` (math.md §1–§3, §5–§6):
/// a [`Dataset`], or a [`DataView`] of rows in the caller's memory, read in place.
pub fn fit_linear<'d>(
    dataset: impl Into<DataView<'d>>,
    options: &FitOptions,
) -> Result<LinearFit<'d>> {
    let dataset = dataset.into();
    let study = LinearStudy::borrowing(dataset, options)?;
    fit_study(study, options, super::class_like_target_note(dataset))
}

/// [`fit_linear`] on rows whose values are not checked yet (a caller's own buffer, e.g. the
/// Python package's numpy array): the check is folded into the standardisation's pass
/// ([`LinearStudy::from_unchecked`]). The fit, its output and its errors are `fit_linear`'s on
/// the checked rows.
pub fn fit_linear_unchecked<'d>(
    rows: UncheckedView<'d>,
    options: &FitOptions,
) -> Result<LinearFit<'d>> {
    let study = LinearStudy::from_unchecked(rows, options)?;
    let note = study
        .data
        .as_ref()
        .and_then(|rows| super::class_like_target_note(rows.view()));
    fit_study(study, options, note)
}

/// [`fit_linear`] on a study made: the prior of `options` scored, its posterior, the L-BFGS
/// cross-check and the notes (`target_note` about a class-like target, when there is one).
fn fit_study<'d>(
    study: LinearStudy<'d>,
    options: &FitOptions,
    target_note: Option<Message>,
) -> Result<LinearFit<'d>> {
    let (n, k) = (study.n, study.feature_names.len());
    let center = study.resolve_center(&options.center, options.prior_sd)?;
    let (evaluation, h) =
        study.evaluate_linear(&options.center, center, options.prior_sd, options.noise_sd)?;
    let posterior = study.model.posterior(h, &evaluation.center.values);
    let mut notes = Vec::new();
    // Each L-BFGS step multiplies by the k × k XᵀX: the n × n route never forms it (it would
    // cost more than the whole closed form, minutes at k = 10 000), so the check is left out there.
    let optimizer_check = if let (false, Some(stats)) = (study.model.is_thin(), &study.stats) {
        let _step = crate::progress::step(format!(
            "checking the closed-form MAP with L-BFGS ({k} weights)"
        ));
        check_with_lbfgs(stats, &evaluation.center.values, &posterior, &mut notes)
    } else {
        notes.push(format!(
            "optimizer check: not run on the n × n route (k = {k} > n = {n}), where each L-BFGS step would cost O(k²); the closed form is checked against the n × n Gaussian form in the tests"
        ).into());
        None
    };
    if options.intercept == Intercept::Centered {
        notes.push("intercept: features and target centred; the intercept mean(y) − mean(x)·w is not a parameter, and the evidence and code lengths are those of the centred data (n rows, k weights)".into());
    }
    notes.extend(target_note);
    let mut fitted = Vec::new();
    if options.prior_sd.fixed().is_none() {
        fitted.push("the prior sd s".into());
    }
    if options.noise_sd.fixed().is_none() {
        fitted.push("the noise sd σ".into());
    }
    if evaluation.center.estimated_reals > 0 {
        fitted.push("the centre's scale".into());
    }
    notes.extend(study.code_length_notes(&fitted, Some(evaluation.charge_bits)));
    notes.extend(evaluation.notes.iter().cloned());
    Ok(LinearFit {
        study,
        evaluation,
        posterior,
        optimizer_check,
        notes,
    })
}

/// Minimises the penalised objective with argmin's L-BFGS from the prior centre and compares the
/// result with the closed form; a failure is reported in the notes, not raised.
fn check_with_lbfgs(
    stats: &SufficientStats,
    center: &DVector<f64>,
    posterior: &Posterior,
    notes: &mut Vec<Message>,
) -> Option<OptimizerCheck> {
    let h = posterior.hyperparameters;
    let problem = PenalizedLeastSquares::new(stats, center, h.prior_precision, h.noise_precision);
    // The cost is evaluated from sufficient statistics, so near the mode its changes drown in
    // rounding below ~1e-8 of the gradient's scale; that still pins the MAP to ~1e-8 relative.
    let options = LbfgsOptions {
        gradient_tolerance: 1e-8
            * problem
                .gradient_scale(&posterior.mean)
                .max(f64::MIN_POSITIVE),
        ..Default::default()
    };
    match minimize_lbfgs(problem, center.clone(), options) {
        Ok(map) => {
            let scale = posterior.mean.amax().max(f64::MIN_POSITIVE);
            Some(OptimizerCheck {
                max_relative_difference: (&map.params - &posterior.mean).amax() / scale,
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
