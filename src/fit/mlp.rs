//! The MLP study: a network under a Gaussian prior N(μ, s²I) on every weight and bias, its MAP
//! (best of several restarts), the Laplace evidence with the GGN or the exact Hessian, the
//! symmetry term, saturation diagnostics and code lengths (math.md §4–§6).
//!
//! Parameter order: [`crate::model::mlp`] (layer by layer, W row-major with one row per output
//! unit, then the biases; the output layer last). A centre — e.g. pretrained weights for L2-SP —
//! covers every parameter in that order.

use super::{
    charge_note, charged_reals_note, load_donor, load_truth, row_fingerprints, EvidenceMethod,
    FitOptions, PriorEvaluation, ResolvedCenter, Study, StudyInfo,
};
use crate::codelength::{
    bits, doubling_boundaries, estimate_charge_bits, lattice_term, mml87_nats, optional_code,
    reorder, CodeLengths,
};
use crate::data::{Dataset, Design, DesignOptions, Standardization};
use crate::error::{OccamError, Result};
use crate::inference::curvature::{Factored, Whitened, Whitening};
use crate::inference::laplace::{find_mode, log_prior_density, maximize_over_log_sd};
use crate::inference::{run_lbfgs, LbfgsOptions};
use crate::model::logistic::binary_target;
use crate::model::mlp::{
    diagnostics, initial_parameters, symmetry_log_count, Activation, Architecture, Diagnostics,
    MlpProblem, Task,
};
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::{DMatrix, DVector};
use std::cell::RefCell;
use std::collections::HashSet;
use std::f64::consts::PI;

/// A network mode must have ‖∇f‖ at most this fraction of the gradient's scale.
pub const MODE_TOLERANCE: f64 = 1e-6;
/// The same for ReLU networks, whose objective has kinks where the gradient cannot vanish exactly.
/// A ReLU mode that misses even this is kept, and a note says so.
pub const RELU_MODE_TOLERANCE: f64 = 1e-4;

/// Plain L-BFGS iterations of a search before the GGN-whitened rounds take over.
const PLAIN_ITERATIONS: u64 = 300;
/// At most this many GGN-whitened rounds per search (each forms and factors the GGN once).
const WHITENED_ROUNDS: usize = 12;
/// L-BFGS iterations per whitened round: the curvature is refreshed this often.
const WHITENED_ITERATIONS: u64 = 100;
/// Up to this many parameters the curvature's eigenvalues are all computed (nalgebra, O(P³) with
/// a large constant); beyond, its extreme eigenvalues come from Lanczos.
const EXACT_EIGENVALUES_UP_TO: usize = 400;

/// Which curvature the Laplace evidence uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HessianKind {
    /// The generalised Gauss–Newton matrix (always positive semi-definite).
    Ggn,
    /// The exact Hessian (central differences of the analytic gradient).
    Exact,
}

/// The network and how it is fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpOptions {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Regression or classification; `None` infers it (a two-valued target is classification).
    pub task: Option<Task>,
    /// Random restarts of the MAP search; the best log posterior is kept.
    pub restarts: usize,
    /// Seed of the initialisations.
    pub seed: u64,
    /// Curvature of the Laplace evidence.
    pub hessian: HessianKind,
}

impl Default for MlpOptions {
    fn default() -> Self {
        MlpOptions {
            hidden: vec![8],
            activation: Activation::Tanh,
            task: None,
            restarts: 1,
            seed: 0,
            hessian: HessianKind::Ggn,
        }
    }
}

/// A mode of the network's posterior with its Laplace evidence.
#[derive(Debug, Clone)]
pub struct MlpMode {
    /// θ̂.
    pub params: DVector<f64>,
    /// ‖∇f(θ̂)‖.
    pub gradient_norm: f64,
    /// The bound it met.
    pub gradient_tolerance: f64,
    /// L-BFGS iterations of the best restart.
    pub iterations: u64,
    /// The restart that won (0-based).
    pub restart: usize,
    /// ln p(y | θ̂).
    pub log_likelihood: f64,
    /// ln π(θ̂).
    pub log_prior: f64,
    /// ½ ln|H| with the H used.
    pub half_log_det: f64,
    /// γ = P − α tr(H⁻¹).
    pub effective_parameters: f64,
    /// Laplace ln p(y) including the symmetry term.
    pub log_evidence: f64,
    /// Which curvature was used.
    pub method: EvidenceMethod,
    /// Smallest and largest eigenvalue of the Hessian asked for (exact or GGN) + Λ.
    pub eigenvalue_range: [f64; 2],
    /// Eigenvalues of the exact Hessian + Λ that are ≤ 0 (0 for the GGN).
    pub nonpositive_eigenvalues: usize,
    /// β used (regression).
    pub noise_precision: f64,
}

/// How a regression network's target is z-scored (math.md §1): the network fits
/// y_z = (y − shift)/scale, and the evidence and codes are reported for y itself.
///
/// The density of y is that of y_z times the Jacobian 1/scale per row, so
/// ln p(y) = ln p(y_z) − n ln scale, and every code of y is n·log₂ scale bits longer than the same
/// code of y_z. shift and scale are the mean and population sd of the coded rows' target: two real
/// numbers the receiver needs, charged ½ log₂ n bits each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetScaling {
    /// The mean subtracted.
    pub shift: f64,
    /// The sd divided by.
    pub scale: f64,
}

impl TargetScaling {
    /// No scaling: classification, and regression with `--no-standardize`.
    pub const IDENTITY: TargetScaling = TargetScaling {
        shift: 0.0,
        scale: 1.0,
    };

    /// Whether the target is scaled (and its two numbers charged).
    pub fn is_active(&self) -> bool {
        *self != Self::IDENTITY
    }

    /// n ln scale: what the Jacobian takes off ln p(y_z) to give ln p(y), in nats.
    pub fn log_jacobian(&self, n: usize) -> f64 {
        n as f64 * self.scale.ln()
    }
}

/// The data side of an MLP study.
#[derive(Debug, Clone)]
pub struct MlpStudy {
    source: String,
    n: usize,
    feature_names: Vec<String>,
    target_name: String,
    options: FitOptions,
    /// Raw columns → design.
    pub transform: Standardization,
    /// The network.
    pub arch: Architecture,
    target_mapping: Option<(f64, f64)>,
    /// The regression target's z-scoring (identity otherwise).
    pub target: TargetScaling,
    /// The target's text labels (empty for a numeric target).
    target_labels: Vec<String>,
    z: Vec<f64>,
    /// The target as fitted: 0/1 labels, or the z-scored regression target.
    y: Vec<f64>,
    ordered: (Vec<f64>, Vec<f64>),
    boundaries: Vec<usize>,
    fingerprints: HashSet<u64>,
}

/// A fitted network.
#[derive(Debug, Clone)]
pub struct MlpFit {
    /// The data side.
    pub study: MlpStudy,
    /// The prior's scores.
    pub evaluation: PriorEvaluation,
    /// The mode and evidence.
    pub mode: MlpMode,
    /// Saturation, dead units, participation ratios, weight norms.
    pub diagnostics: Diagnostics,
    /// What the reader needs to know.
    pub notes: Vec<String>,
}

impl MlpStudy {
    /// Standardises the inputs and sets up the network.
    pub fn new(dataset: &Dataset, options: &FitOptions) -> Result<Self> {
        match options.intercept {
            Intercept::Shared => {}
            other => {
                return Err(OccamError::invalid(
                    "--intercept",
                    format!("'{other}': every MLP bias shares the weights' prior N(μ, s²) (the default, 'shared')"),
                ))
            }
        }
        let mlp = &options.mlp;
        let binary = binary_target(&dataset.y, &dataset.source, &dataset.target_name);
        let task = mlp.task.unwrap_or(if binary.is_ok() {
            Task::Classification
        } else {
            Task::Regression
        });
        let (y, target_mapping) = match task {
            Task::Classification => {
                let t = binary?;
                (t.labels, Some((t.negative, t.positive)))
            }
            Task::Regression => (dataset.y.clone(), None),
        };
        if task == Task::Classification && options.noise_sd != SdSpec::Auto {
            return Err(OccamError::invalid(
                "--noise-sd",
                "a classification network has no noise sd; drop the flag",
            ));
        }
        if mlp.restarts == 0 {
            return Err(OccamError::invalid(
                "--restarts",
                "at least one start is needed",
            ));
        }
        // Before any matrix is allocated (and before the parameter count, which could overflow):
        // a network too wide for this machine is refused here.
        crate::memory::check_mlp(
            dataset.n(),
            dataset.k(),
            &mlp.hidden,
            crate::model::mlp::GGN_CHUNK_ROWS.min(dataset.n()),
        )?;
        let arch = Architecture::new(dataset.k(), mlp.hidden.clone(), mlp.activation, task)?;
        let design = Design::new(
            dataset,
            DesignOptions {
                standardize: options.standardize,
                center: false,
            },
        )?;
        // After the design, whose checks (e.g. too few rows) say what is wrong first.
        // z-score a regression target like the features (math.md §1): a raw target far from zero
        // otherwise drives the prior sd and saturation.
        let target = if task == Task::Regression && options.standardize {
            let n = y.len().max(1) as f64;
            let mean = y.iter().sum::<f64>() / n;
            let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            if !(sd > 0.0 && sd.is_finite()) {
                return Err(OccamError::invalid(
                    "--target",
                    format!(
                        "the target '{}' of {} is constant, so a regression network has nothing to fit; choose another --target",
                        dataset.target_name, dataset.source
                    ),
                ));
            }
            TargetScaling {
                shift: mean,
                scale: sd,
            }
        } else {
            TargetScaling::IDENTITY
        };
        let y: Vec<f64> = y
            .iter()
            .map(|v| (v - target.shift) / target.scale)
            .collect();
        let ordered = reorder(&design.z, &y, design.k, options.order);
        Ok(MlpStudy {
            source: dataset.source.clone(),
            n: dataset.n(),
            feature_names: dataset.feature_names.clone(),
            target_name: dataset.target_name.clone(),
            options: options.clone(),
            transform: design.transform,
            boundaries: doubling_boundaries(dataset.n(), options.first_block),
            arch,
            target_mapping,
            target,
            target_labels: dataset.target_labels.clone(),
            z: design.z,
            y,
            ordered,
            fingerprints: row_fingerprints(dataset),
        })
    }

    /// The 0/1 label of a raw target value (classification), or the value on the fitted scale
    /// (regression: z-scored unless `--no-standardize`).
    pub fn target_label(&self, value: f64) -> f64 {
        match self.target_mapping {
            Some((_, one)) => f64::from(value == one),
            None => (value - self.target.shift) / self.target.scale,
        }
    }

    fn regression(&self) -> bool {
        self.arch.task == Task::Regression
    }

    /// One start's search: argmin's L-BFGS for [`PLAIN_ITERATIONS`] iterations, then rounds of
    /// L-BFGS whitened by the GGN + Λ at the round's starting point (see [`Whitened`]) until
    /// ‖∇f‖ ≤ `target` or a round stops making progress, and for networks of moderate size damped
    /// Gauss–Newton steps as a last resort. Returns the point and the iterations spent.
    fn search(
        &self,
        problem: &MlpProblem,
        start: DVector<f64>,
        target: f64,
        tolerance: f64,
    ) -> Result<(DVector<f64>, u64)> {
        // Plain L-BFGS makes fast progress from a random start but crawls along a network's
        // ill-conditioned directions; the GGN knows those directions, so after a short plain phase
        // the rest is done in coordinates where the curvature is about I.
        let plain = LbfgsOptions {
            memory: 20,
            max_iters: PLAIN_ITERATIONS,
            gradient_tolerance: target,
        };
        let (mut params, mut iterations, _) = run_lbfgs(problem.fused(), start, plain)?;
        let (mut objective, gradient) = problem.objective_and_gradient(&params);
        let mut norm = gradient.norm();
        for _ in 0..WHITENED_ROUNDS {
            if !(norm > target && objective.is_finite()) {
                break;
            }
            // (A GGN of a subsample of rows is cheaper but, measured on a 10-32-32-1 network,
            // makes the last round grind: the full one pays for itself.)
            // The preconditioner in single precision (half the time; see Whitening), unless the
            // GGN + Λ is too ill-conditioned to factor in it.
            let single = problem.hessian_ggn_single(&params);
            let whitening = match Whitening::single_precision(single, params.len()) {
                Some(w) => w,
                None => {
                    let Some(factor) = Factored::new(&problem.hessian_ggn(&params)) else {
                        break;
                    };
                    Whitening::new(&factor)
                }
            };
            // The round ends where ‖∇f‖ ≤ target (see Whitened::stopping_at), not where argmin's
            // whitened gradient is small.
            let whitened =
                Whitened::new(problem.fused(), params.clone(), whitening).stopping_at(target);
            let options = LbfgsOptions {
                memory: 20,
                max_iters: WHITENED_ITERATIONS,
                gradient_tolerance: f64::MIN_POSITIVE,
            };
            let Ok((u, spent, _)) =
                run_lbfgs(whitened.clone(), DVector::zeros(params.len()), options)
            else {
                break;
            };
            iterations += spent;
            let candidate = whitened.params(&u);
            let (f, g) = problem.objective_and_gradient(&candidate);
            if !(f.is_finite() && f <= objective) {
                break;
            }
            let (previous, before) = (norm, objective);
            (params, objective, norm) = (candidate, f, g.norm());
            // A round that neither lowers f beyond rounding nor shrinks the gradient (a kink of
            // a ReLU network, or the limit of the arithmetic) will not be helped by another.
            if before - f <= 1e-14 * f.abs().max(1.0) && norm > 0.5 * previous {
                break;
            }
        }
        // Damped Gauss–Newton steps (each factorises P×P), for what is left on small networks.
        if norm > tolerance && problem.n_params() <= 1000 {
            if let Ok(mode) = find_mode(problem, params.clone(), tolerance) {
                iterations += mode.lbfgs_iterations + mode.newton_iterations as u64;
                params = mode.params;
            }
        }
        Ok((params, iterations))
    }

    /// The mode at prior sd s and noise precision β from the given starts: [`Self::search`] from
    /// each start, the best log posterior kept, ‖∇f‖ checked. A ReLU network whose best point
    /// misses the tolerance (its objective has kinks) is returned anyway, flagged by its gradient
    /// norm; any other network fails.
    fn map(
        &self,
        rows: (&[f64], &[f64]),
        center: &DVector<f64>,
        precision: &DVector<f64>,
        beta: f64,
        starts: &[DVector<f64>],
    ) -> Result<(DVector<f64>, f64, f64, u64, usize)> {
        let problem = MlpProblem::new(&self.arch, rows.0, rows.1, center, precision, beta);
        // Aim for 1e-2 of the tolerance; accept 1e-6 of the gradient's scale (the Laplace
        // evidence is first-order insensitive to the remaining error). ReLU networks are only
        // piecewise smooth: at a kink the gradient cannot vanish exactly.
        let relative = self.mode_tolerance();
        let tolerance = relative * problem.gradient_scale();
        let mut best: Option<(DVector<f64>, f64, f64, u64, usize)> = None;
        let mut failures = Vec::new();
        for (r, start) in starts.iter().enumerate() {
            let (params, iterations) =
                match self.search(&problem, start.clone(), 1e-2 * tolerance, tolerance) {
                    Ok(found) => found,
                    Err(e) => {
                        failures.push(e.to_string());
                        continue;
                    }
                };
            let (objective, gradient) = problem.objective_and_gradient(&params);
            if !objective.is_finite() {
                failures.push(format!("the log posterior is {objective} at its end point"));
                continue;
            }
            if best.as_ref().is_none_or(|b| objective < b.1) {
                best = Some((params, objective, gradient.norm(), iterations, r));
            }
        }
        let best = best.ok_or_else(|| {
            OccamError::computation(
                "finding the MLP posterior mode (argmin L-BFGS)",
                format!(
                    "every one of {} start(s) failed (first: {}); more random starts may find a mode: raise --restarts, or try another --seed",
                    starts.len(),
                    failures.first().map_or("no reason given", String::as_str)
                ),
            )
        })?;
        if best.2 > tolerance && self.arch.activation != Activation::Relu {
            return Err(OccamError::computation(
                "finding the MLP posterior mode (argmin L-BFGS)",
                format!(
                    "after {} iterations ‖∇f‖ = {:.3e} > {tolerance:.3e} ({relative:e} of the gradient's scale), so the point is not a mode the Laplace evidence can use; try --restarts, another --seed, or a different --prior-sd",
                    best.3, best.2
                ),
            ));
        }
        Ok(best)
    }

    /// The accepted ‖∇f‖ at a mode, as a fraction of the gradient's scale.
    fn mode_tolerance(&self) -> f64 {
        if self.arch.activation == Activation::Relu {
            RELU_MODE_TOLERANCE
        } else {
            MODE_TOLERANCE
        }
    }

    /// The random starts (`--restarts` of them, seeded by `--seed`), spread around the centre so
    /// that an L2-SP centre is also a start.
    fn random_starts(&self, center: &DVector<f64>) -> Vec<DVector<f64>> {
        (0..self.options.mlp.restarts)
            .map(|r| {
                center
                    + initial_parameters(&self.arch, self.options.mlp.seed.wrapping_add(r as u64))
            })
            .collect()
    }

    /// The mode and its Laplace evidence at prior sd s (and β for regression).
    fn mode_at(
        &self,
        center: &DVector<f64>,
        sd: f64,
        beta: f64,
        warm: Option<&DVector<f64>>,
    ) -> Result<MlpMode> {
        let p = self.arch.n_params();
        let alpha = 1.0 / (sd * sd);
        let precision = DVector::from_element(p, alpha);
        let rows = (self.z.as_slice(), self.y.as_slice());
        // A warm start (the mode at a nearby s or β within one search) is tried alone first; where
        // it fails, the random restarts are tried, and the error keeps both reasons.
        let found = match warm.filter(|w| w.len() == p) {
            Some(w) => self
                .map(rows, center, &precision, beta, std::slice::from_ref(w))
                .or_else(|warm_error| {
                    self.map(rows, center, &precision, beta, &self.random_starts(center))
                        .map_err(|e| {
                            OccamError::computation(
                                "finding the MLP posterior mode (argmin L-BFGS)",
                                format!("from the previous mode: {warm_error}; and then from the random starts: {e}"),
                            )
                        })
                }),
            None => self.map(rows, center, &precision, beta, &self.random_starts(center)),
        };
        let (params, _, gradient_norm, iterations, restart) = found?;
        let problem = MlpProblem::new(&self.arch, &self.z, &self.y, center, &precision, beta);
        let log_likelihood = -problem.negative_log_likelihood(&params);
        let log_prior = log_prior_density(&params, center, &precision);
        let mut method = EvidenceMethod::LaplaceGgn;
        let mut nonpositive = 0;
        // The exact Hessian when asked for and positive definite, else the GGN (formed only then).
        let mut chosen = None;
        let mut exact_range = None;
        if self.options.mlp.hessian == HessianKind::Exact {
            let exact = problem.hessian_exact(&params);
            match Factored::new(&exact) {
                Some(f) => {
                    chosen = Some((exact, f));
                    method = EvidenceMethod::LaplaceHessian;
                }
                None => {
                    // Not positive definite: count how far from it (rare, so the slow route).
                    let eigenvalues = exact.symmetric_eigenvalues();
                    nonpositive = eigenvalues.iter().filter(|l| **l <= 0.0).count().max(1);
                    exact_range = Some([eigenvalues.min(), eigenvalues.max()]);
                }
            }
        }
        let (hessian, factor) = match chosen {
            Some(pair) => pair,
            None => {
                let ggn = problem.hessian_ggn(&params);
                let factor = Factored::new(&ggn).ok_or_else(|| {
                    OccamError::computation(
                        "the Laplace evidence",
                        "the curvature matrix is not positive definite",
                    )
                })?;
                (ggn, factor)
            }
        };
        let half_log_det = factor.half_log_det();
        let trace_inverse = factor.trace_inverse();
        // All eigenvalues when they are cheap, else the two ends by Lanczos.
        let eigenvalue_range = exact_range.unwrap_or_else(|| {
            if p <= EXACT_EIGENVALUES_UP_TO {
                let eigenvalues = hessian.symmetric_eigenvalues();
                [eigenvalues.min(), eigenvalues.max()]
            } else {
                factor.extremal_eigenvalues()
            }
        });
        let symmetry = symmetry_log_count(&self.arch, &params);
        Ok(MlpMode {
            log_evidence: log_likelihood + log_prior + 0.5 * p as f64 * (2.0 * PI).ln()
                - half_log_det
                + symmetry,
            params,
            gradient_norm,
            gradient_tolerance: self.mode_tolerance() * problem.gradient_scale(),
            iterations,
            restart,
            log_likelihood,
            log_prior,
            half_log_det,
            effective_parameters: p as f64 - alpha * trace_inverse,
            method,
            eigenvalue_range,
            nonpositive_eigenvalues: nonpositive,
            noise_precision: beta,
        })
    }

    /// For regression with σ `auto`: MacKay's update β ← (n − γ)/‖y − ŷ‖² at the mode, refitting,
    /// until β settles (at most 30 rounds); otherwise the fixed β.
    fn mode_with_noise(
        &self,
        center: &DVector<f64>,
        sd: f64,
        noise: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<MlpMode> {
        if !self.regression() {
            return self.mode_at(center, sd, 1.0, warm);
        }
        if let SdSpec::Fixed(sigma) = noise {
            return self.mode_at(center, sd, 1.0 / (sigma * sigma), warm);
        }
        let mean = self.y.iter().sum::<f64>() / self.n as f64;
        let variance = self.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / self.n as f64;
        let mut beta = 1.0 / variance.max(f64::MIN_POSITIVE);
        let mut mode = self.mode_at(center, sd, beta, warm)?;
        let flat = DVector::zeros(self.arch.n_params());
        for _ in 0..30 {
            let problem = MlpProblem::new(&self.arch, &self.z, &self.y, center, &flat, beta);
            let rss: f64 = problem
                .outputs(&mode.params)
                .iter()
                .zip(&self.y)
                .map(|(eta, y)| (y - eta).powi(2))
                .sum();
            // γ is clamped to [0, P]: with the exact Hessian it can fall outside (see the note on
            // a negative γ), and n − γ must stay a count of the residuals' degrees of freedom.
            let gamma = mode
                .effective_parameters
                .clamp(0.0, self.arch.n_params() as f64);
            let next = (self.n as f64 - gamma).max(1.0) / rss.max(f64::MIN_POSITIVE);
            let settled = ((next / beta).ln()).abs() < 1e-6;
            beta = next;
            mode = self.mode_at(center, sd, beta, Some(&mode.params))?;
            if settled {
                break;
            }
        }
        Ok(mode)
    }

    /// Scores one prior and returns its mode.
    pub fn evaluate_mlp(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<(PriorEvaluation, MlpMode)> {
        let mu = &center.values;
        // σ is given in y's units; the network fits y_z = (y − shift)/scale.
        let noise_sd_given = noise_sd;
        let noise_sd = match noise_sd {
            SdSpec::Fixed(sigma) => SdSpec::Fixed(sigma / self.target.scale),
            SdSpec::Auto => SdSpec::Auto,
        };
        let jacobian = self.target.log_jacobian(self.n);
        let mut eb_notes = Vec::new();
        let (sd, evaluations, eb_mode) = match prior_sd {
            SdSpec::Fixed(s) => (s, 0, None),
            SdSpec::Auto => {
                // Every s is fitted from the same seeded random starts, never from another s's mode:
                // the evidence is then a function of s alone (the search's order, and whatever else
                // is fitted in the same command, cannot change it), and a warm start cannot pin the
                // search to a degenerate mode — from the all-zero mode of a tiny s, a tanh network
                // stays at zero for every s, since there ∇f = 0. The mode at ŝ is the one scored
                // there, not a refit.
                let scored: RefCell<Vec<(f64, MlpMode)>> = RefCell::new(Vec::new());
                let evaluate = |log_sd: f64| -> Result<f64> {
                    let mode = self.mode_with_noise(mu, log_sd.exp(), noise_sd, None)?;
                    let evidence = mode.log_evidence;
                    scored.borrow_mut().push((log_sd, mode));
                    Ok(evidence)
                };
                let optimum = maximize_over_log_sd(&evaluate).map_err(|e| {
                    OccamError::computation(
                        "empirical Bayes for the network's prior sd",
                        format!("{e}; a fixed --prior-sd avoids the search, and --restarts adds random starts at every s"),
                    )
                })?;
                eb_notes = optimum.notes;
                let mode = scored
                    .into_inner()
                    .into_iter()
                    .find(|(log_sd, _)| *log_sd == optimum.log_sd)
                    .map(|(_, mode)| mode);
                (optimum.log_sd.exp(), optimum.evaluations, mode)
            }
        };
        let mut notes = eb_notes;
        let mode = match eb_mode {
            Some(mode) => mode,
            None => self.mode_with_noise(mu, sd, noise_sd, warm)?,
        };
        let fitted = usize::from(prior_sd == SdSpec::Auto)
            + usize::from(self.regression() && noise_sd == SdSpec::Auto)
            + 2 * usize::from(self.target.is_active());
        let charged = self.options.charged_reals;
        let charge_bits = estimate_charge_bits(fitted + center.estimated_reals + charged, self.n);
        notes.extend(charged_reals_note(charged, self.n));
        if mode.nonpositive_eigenvalues > 0 {
            notes.push(format!(
                "the exact Hessian of the negative log posterior at the MAP has {} non-positive eigenvalue(s) (smallest {:.3e}), so it is not a Laplace curvature; the evidence uses the GGN instead",
                mode.nonpositive_eigenvalues, mode.eigenvalue_range[0]
            ));
        }
        let p = self.arch.n_params();
        if !(0.0..=p as f64).contains(&mode.effective_parameters) {
            // γ = P − α·tr(H⁻¹) = tr(H⁻¹(H − Λ)): with the exact Hessian the data's curvature
            // H − Λ can be indefinite, and eigenvalues of H far below α push the sum out of [0, P].
            notes.push(format!(
                "γ is printed as null: P − α·tr(H⁻¹) = {:.1} lies outside [0, P = {p}] — the curvature's smallest eigenvalue ({:.3e}) is far below the prior precision α = {:.3e}, so along those directions the data's own curvature H − αI is negative (the posterior is flatter than the prior there, as for hidden units the prior has switched off that the data would nearly switch on) and γ counts nothing; the GGN's γ (--hessian ggn) is the well-determined-parameter count",
                mode.effective_parameters, mode.eigenvalue_range[0], 1.0 / (sd * sd)
            ));
        }
        if mode.gradient_norm > mode.gradient_tolerance {
            notes.push(format!(
                "the ReLU network's best point has ‖∇f‖ = {:.3e} > {:.3e} (1e-4 of the gradient's scale): its objective has kinks (units switching on or off at some rows) where the gradient need not vanish, so the evidence is a Laplace approximation at a point that is not quite stationary",
                mode.gradient_norm, mode.gradient_tolerance
            ));
        }
        let codes = self.options.codes;
        let precision = DVector::from_element(p, 1.0 / (sd * sd));
        // Prequential: block 0 at the centre; each later block with the MAP on the rows before it
        // at the full-data s and σ (sent first, at the charge above).
        let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
            let (z, y) = (&self.ordered.0, &self.ordered.1);
            let k = self.arch.inputs;
            let mut theta = mu.clone();
            let mut total = 0.0;
            for (j, pair) in self.boundaries.windows(2).enumerate() {
                let (start, end) = (pair[0], pair[1]);
                if j > 0 {
                    if let Ok((fitted, ..)) = self.map(
                        (&z[..start * k], &y[..start]),
                        mu,
                        &precision,
                        mode.noise_precision,
                        std::slice::from_ref(&theta),
                    ) {
                        theta = fitted;
                    }
                }
                let block = MlpProblem::new(
                    &self.arch,
                    &z[start * k..end * k],
                    &y[start..end],
                    mu,
                    &precision,
                    mode.noise_precision,
                );
                total += bits(block.negative_log_likelihood(&theta));
            }
            // Each row's density of y is that of y_z over the scale (the Jacobian).
            Ok(total + bits(jacobian) + charge_bits)
        });
        let mut two_part_code = None;
        let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
            let problem = MlpProblem::new(
                &self.arch,
                &self.z,
                &self.y,
                mu,
                &precision,
                mode.noise_precision,
            );
            // MML87 quantises every parameter to the precision the Fisher information gives it; a
            // direction the data do not determine (relative curvature below 1e-12) has none.
            let singular = || {
                "two_part is undefined: the Fisher information (the GGN without the prior) is singular or nearly so — n < P, dead or redundant units, or saturated outputs leave directions the data do not determine".to_string()
            };
            if self.n < p {
                return Err(singular());
            }
            let fisher: DMatrix<f64> = problem.ggn(&mode.params);
            let code = mml87_nats(
                -mode.log_prior - mode.log_likelihood,
                &fisher,
                &precision,
                singular,
            )?;
            if !self.regression() && code.nats < 0.0 {
                return Err(crate::codelength::logistic::negative_length(&code));
            }
            two_part_code = Some(code);
            Ok(bits(code.nats + jacobian) + charge_bits)
        });
        notes.extend(two_part_code.and_then(|code| code.note()));
        let bic = optional_code(codes.bic, "bic", &mut notes, || {
            Err("bic is undefined for a network: its maximum-likelihood estimate is not unique (hidden units can be permuted) and need not exist (a classifier's likelihood can rise without bound)".to_string())
        });
        if let Some(note) = &center.note {
            notes.push(note.clone());
        }
        let problem = MlpProblem::new(
            &self.arch,
            &self.z,
            &self.y,
            mu,
            &precision,
            mode.noise_precision,
        );
        let diagnostics = diagnostics(&problem, &mode.params);
        if self.target.is_active() {
            notes.push(format!(
                "target z-scored for the network: y_z = (y − {})/{} (its mean and population sd over the coded rows, sent first and charged); σ, the evidence and every code are for y in its own units — the Jacobian adds −n ln sd_y = {:.4} nats to ln p(y_z) — and the prior sd s is on the weights of the standardised features and target",
                self.target.shift, self.target.scale, -jacobian
            ));
        }
        // Reported for y: the log likelihood and evidence with the Jacobian in.
        let mut mode = mode;
        mode.log_likelihood -= jacobian;
        mode.log_evidence -= jacobian;
        let evaluation = PriorEvaluation {
            center_spec: spec.clone(),
            prior_sd_spec: prior_sd,
            noise_sd_spec: noise_sd_given,
            prior_sd: sd,
            noise_sd: self
                .regression()
                .then(|| self.target.scale / mode.noise_precision.sqrt()),
            mode: mode.params.clone(),
            log_evidence: mode.log_evidence,
            evidence_method: mode.method,
            effective_parameters: mode.effective_parameters,
            distance_from_center: (&mode.params - mu).norm(),
            empirical_bayes_iterations: evaluations,
            code_lengths: CodeLengths {
                mixture: Some(bits(-mode.log_evidence) + charge_bits),
                prequential,
                two_part,
                bic,
                two_part_form: two_part_code.map(|code| code.form),
            },
            charge_bits,
            notes,
            symmetry_log_nats: symmetry_log_count(&self.arch, &mode.params),
            diagnostics: serde_json::to_value(&diagnostics).ok(),
            center,
        };
        Ok((evaluation, mode))
    }
}

impl Study for MlpStudy {
    fn info(&self) -> StudyInfo {
        StudyInfo {
            kind: "mlp",
            source: self.source.clone(),
            n: self.n,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            options: self.options.clone(),
            target_mapping: self.target_mapping,
            target_labels: self.target_labels.clone(),
        }
    }

    fn resolve_center(&self, spec: &CenterSpec, prior_sd: SdSpec) -> Result<ResolvedCenter> {
        let p = self.arch.n_params();
        let names = self.arch.parameter_names();
        match spec {
            CenterSpec::Truth => {
                let truth = load_truth(&self.info())?;
                let fits = truth.network.as_ref().is_some_and(|t| {
                    t.hidden == self.arch.hidden && t.activation == self.arch.activation
                }) && truth.parameters.len() == p;
                if !fits {
                    let teacher = truth.network.as_ref().map_or(String::new(), |t| {
                        format!(
                            " (the teacher is --hidden {} --activation {})",
                            t.hidden
                                .iter()
                                .map(|h| h.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                            t.activation.name()
                        )
                    });
                    return Err(OccamError::invalid(
                        "--prior-center",
                        format!("'truth': the teacher network's shape differs from this one{teacher}; fit the same --hidden and --activation"),
                    ));
                }
                // The teacher is a function of the raw columns; map it into this standardisation.
                let identity = Standardization {
                    feature_shift: vec![0.0; self.arch.inputs],
                    feature_scale: vec![1.0; self.arch.inputs],
                    target_shift: 0.0,
                };
                let values = remap_output_layer(
                    &self.arch,
                    &remap_first_layer(
                        &self.arch,
                        &DVector::from_vec(truth.parameters),
                        &identity,
                        &self.transform,
                    ),
                    TargetScaling::IDENTITY,
                    self.target,
                );
                super::truth_center(values.iter().copied().collect())
            }
            CenterSpec::Fit(path) => {
                let (other, shared_rows) = load_donor(path, &self.info(), &self.fingerprints)?;
                let donor = fit_mlp(
                    &other,
                    &FitOptions {
                        center: CenterSpec::Zero,
                        prior_sd: SdSpec::Auto,
                        ..self.options.clone()
                    },
                )?;
                // The donor lives in its own standardisation; a centre is a point in this one.
                // Both are z-scored versions of the same columns, so the first layer maps exactly.
                // So does the output layer between the two targets' z-scorings.
                let values = remap_output_layer(
                    &self.arch,
                    &remap_first_layer(
                        &self.arch,
                        &donor.mode.params,
                        &donor.study.transform,
                        &self.transform,
                    ),
                    donor.study.target,
                    self.target,
                );
                super::donor_center(
                    values.iter().copied().collect(),
                    path,
                    other.n(),
                    shared_rows,
                    self.n,
                )
            }
            CenterSpec::Sha256 { scale: None, .. } => {
                let s = match prior_sd {
                    SdSpec::Fixed(s) => s,
                    SdSpec::Auto => return Err(OccamError::invalid("--prior-center", format!("'{spec}' takes its scale from the prior sd, which is 'auto' here; give the scale, e.g. {spec}:1, or a fixed --prior-sd"))),
                };
                Ok(ResolvedCenter {
                    values: spec.resolve(p, s, &names)?,
                    estimated_reals: 0,
                    note: None,
                })
            }
            other => Ok(ResolvedCenter {
                values: other.resolve(p, f64::NAN, &names)?,
                estimated_reals: 0,
                note: other.truth_file_note(),
            }),
        }
    }

    fn evaluate(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<PriorEvaluation> {
        self.evaluate_mlp(spec, center, prior_sd, noise_sd, warm)
            .map(|(e, _)| e)
    }

    fn code_length_notes(&self, charged: &[&str], charge_bits: Option<f64>) -> Vec<String> {
        let p = self.arch.n_params();
        let (_, tabulated) = lattice_term(p);
        let mut notes = vec![format!(
            "evidence and mixture code: Laplace approximation at the MAP (best of {} start(s), seed {}), with the {} — approximate; the symmetry term counts the distinct modes the unit permutations and sign flips map the MAP onto — ln(h!/Π m_g!) + ln 2 per unit whose flip moves it (tanh, sigmoid), per hidden layer, m_g the sizes of groups of units equal up to sign (equal, for ReLU) within {} of the largest unit's norm of (incoming weights, bias, outgoing weights), a zero unit being its own flip — is included and shown as evidence.symmetry_log_nats, the groups as diagnostics.symmetry",
            self.options.mlp.restarts,
            self.options.mlp.seed,
            if self.options.mlp.hessian == HessianKind::Exact { "exact Hessian (central differences of the analytic gradient, symmetrised)" } else { "generalised Gauss–Newton matrix" },
            crate::model::mlp::CLONE_TOLERANCE,
        )];
        notes.extend(charge_note(
            charged,
            charge_bits,
            self.n,
            "mixture, prequential and two_part",
        ));
        notes.push(format!(
            "prequential: {}, {} doubling block(s) from {} row(s); the first block is coded at the prior centre, each later block with the MAP fitted on all rows before it at the full-data s{} (sent first)",
            self.options.order.describe(),
            self.boundaries.len() - 1,
            self.options.first_block,
            if self.regression() { " and σ" } else { "" }
        ));
        notes.push(format!(
            "two_part: MML87 with F = the GGN at the MAP, P = {p}, F + Λ in its place wherever some eigenvalue of F − Λ is negative (code_length_bits.two_part_form says which), lattice constant {}",
            if tabulated {
                "κ_P tabulated"
            } else {
                "from Wallace's approximation"
            }
        ));
        notes.push(format!(
            "network {}-{}-1, {} hidden units, {} task; every weight and bias under N(μ, s²); parameter order as in the model docs (layer by layer, W row-major with one row per output unit, then biases)",
            self.arch.inputs,
            self.arch.hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-"),
            self.arch.activation.name(),
            if self.regression() { "regression" } else { "classification" }
        ));
        if let Some(classes) = super::class_labels(&self.info()) {
            notes.push(format!(
                "target '{}': {} ↦ 0, {} ↦ 1",
                self.target_name,
                classes.first().map_or("", String::as_str),
                classes.last().map_or("", String::as_str),
            ));
        }
        notes
    }
}

/// Moves a network's first layer from one standardisation to another: the same function of the raw
/// columns. With z = (x − m)/s, W z + b = (W/s) x + (b − W m/s), so W' = W s'/s and
/// b' = b + W (m' − m)/s.
fn remap_first_layer(
    arch: &Architecture,
    theta: &DVector<f64>,
    from: &Standardization,
    to: &Standardization,
) -> DVector<f64> {
    let mut layers = arch.layers(theta);
    if let Some((w, b)) = layers.first_mut() {
        for u in 0..w.nrows() {
            for j in 0..w.ncols() {
                let original = w[(u, j)] / from.feature_scale[j];
                b[u] += original * (to.feature_shift[j] - from.feature_shift[j]);
                w[(u, j)] = original * to.feature_scale[j];
            }
        }
    }
    arch.pack(&layers).unwrap_or_else(|_| theta.clone())
}

/// Moves a regression network's output layer from one target scaling to another: the same
/// function in y's units. y = s·η + m, so η' = (s/s')·η + (m − m')/s': W' = W·s/s' and
/// b' = b·s/s' + (m − m')/s'. Classification networks are left alone.
fn remap_output_layer(
    arch: &Architecture,
    theta: &DVector<f64>,
    from: TargetScaling,
    to: TargetScaling,
) -> DVector<f64> {
    if arch.task != Task::Regression || from == to {
        return theta.clone();
    }
    let ratio = from.scale / to.scale;
    let mut layers = arch.layers(theta);
    if let Some((w, b)) = layers.last_mut() {
        *w *= ratio;
        b.iter_mut()
            .for_each(|v| *v = *v * ratio + (from.shift - to.shift) / to.scale);
    }
    arch.pack(&layers).unwrap_or_else(|_| theta.clone())
}

/// The parameters in raw units: the first layer in raw feature units (divided by each feature's
/// scale, its biases shifted by the features' means) and, for regression, the output layer in the
/// target's own units (times its sd, the bias plus its mean) — the same function of the raw columns.
pub fn to_original_units(
    arch: &Architecture,
    theta: &DVector<f64>,
    transform: &Standardization,
    target: TargetScaling,
) -> DVector<f64> {
    let k = arch.inputs;
    let identity = Standardization {
        feature_shift: vec![0.0; k],
        feature_scale: vec![1.0; k],
        target_shift: 0.0,
    };
    let raw_features = remap_first_layer(arch, theta, transform, &identity);
    remap_output_layer(arch, &raw_features, target, TargetScaling::IDENTITY)
}

/// Fits an MLP to `dataset` under the prior of `options`.
pub fn fit_mlp(dataset: &Dataset, options: &FitOptions) -> Result<MlpFit> {
    let study = MlpStudy::new(dataset, options)?;
    let center = study.resolve_center(&options.center, options.prior_sd)?;
    let (evaluation, mode) = study.evaluate_mlp(
        &options.center,
        center,
        options.prior_sd,
        options.noise_sd,
        None,
    )?;
    let precision = DVector::from_element(
        study.arch.n_params(),
        1.0 / (evaluation.prior_sd * evaluation.prior_sd),
    );
    let problem = MlpProblem::new(
        &study.arch,
        &study.z,
        &study.y,
        &evaluation.center.values,
        &precision,
        mode.noise_precision,
    );
    let diagnostics = diagnostics(&problem, &mode.params);
    let mut charged = Vec::new();
    if options.prior_sd == SdSpec::Auto {
        charged.push("the prior sd s");
    }
    if study.regression() && options.noise_sd == SdSpec::Auto {
        charged.push("the noise sd σ");
    }
    if study.target.is_active() {
        charged.push("the target's mean and sd (its z-scoring)");
    }
    let mut notes = study.code_length_notes(&charged, Some(evaluation.charge_bits));
    notes.extend(evaluation.notes.iter().cloned());
    if study.regression() {
        notes.extend(super::class_like_target_note(dataset));
    }
    Ok(MlpFit {
        study,
        evaluation,
        mode,
        diagnostics,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{self, ColumnSelection, SufficientStats};
    use crate::fit::fit_logistic;
    use crate::inference::{Hyperparameters, LinearGaussian};

    fn options(hidden: Vec<usize>, task: Task) -> FitOptions {
        FitOptions {
            intercept: Intercept::Shared,
            mlp: MlpOptions {
                hidden,
                task: Some(task),
                ..MlpOptions::default()
            },
            codes: crate::codelength::CodeSelection::MIXTURE_ONLY,
            ..FitOptions::default()
        }
    }

    #[test]
    fn without_hidden_units_the_regression_laplace_evidence_is_the_exact_evidence() {
        // y_z = Zw + b + ε with every parameter (the bias too) under N(0, s²), y_z the z-scored
        // target: the linear-Gaussian model on the design [Z, 1] and y_z at noise sd σ/sd_y, whose
        // evidence is exact; the GGN Laplace is exact for it, and ln p(y) = ln p(y_z) − n ln sd_y.
        let diabetes = data::load("diabetes", &ColumnSelection::default()).unwrap();
        let (s, sigma) = (0.3, 55.0);
        let fit = fit_mlp(
            &diabetes,
            &FitOptions {
                prior_sd: SdSpec::Fixed(s),
                noise_sd: SdSpec::Fixed(sigma),
                ..options(vec![], Task::Regression)
            },
        )
        .unwrap();
        let design = Design::new(
            &diabetes,
            DesignOptions {
                standardize: true,
                center: false,
            },
        )
        .unwrap();
        let k = design.k;
        let augmented: Vec<f64> = design
            .z
            .chunks(k)
            .flat_map(|row| row.iter().copied().chain([1.0]))
            .collect();
        // The target's mean and population sd, computed here.
        let n = design.t.len() as f64;
        let mean = design.t.iter().sum::<f64>() / n;
        let sd_y = (design.t.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n).sqrt();
        let t_z: Vec<f64> = design.t.iter().map(|t| (t - mean) / sd_y).collect();
        let stats = SufficientStats::from_rows(&augmented, &t_z, k + 1);
        let exact = LinearGaussian::new(&stats).unwrap().posterior(
            Hyperparameters::from_sds(s, sigma / sd_y),
            &DVector::zeros(k + 1),
        );
        let expected = exact.summary.log_evidence - n * sd_y.ln();
        let rel = ((fit.evaluation.log_evidence - expected) / expected).abs();
        assert!(
            rel < 1e-6,
            "MLP {} vs exact {expected} (relative {rel:e})",
            fit.evaluation.log_evidence,
        );
        assert!((fit.evaluation.noise_sd.unwrap() - sigma).abs() < 1e-9 * sigma);
        assert!(
            (fit.evaluation.effective_parameters - exact.summary.effective_parameters).abs() < 1e-6
        );
    }

    #[test]
    fn without_hidden_units_the_classifier_is_logistic_regression() {
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let fixed = FitOptions {
            prior_sd: SdSpec::Fixed(0.7),
            ..options(vec![], Task::Classification)
        };
        let network = fit_mlp(&cancer, &fixed).unwrap();
        let logistic = fit_logistic(&cancer, &fixed).unwrap();
        let rel = ((network.evaluation.log_evidence - logistic.evaluation.log_evidence)
            / logistic.evaluation.log_evidence)
            .abs();
        assert!(
            rel < 1e-6,
            "MLP {} vs logistic {}",
            network.evaluation.log_evidence,
            logistic.evaluation.log_evidence
        );
        let difference =
            (&network.mode.params - &logistic.mode.params).amax() / logistic.mode.params.amax();
        assert!(difference < 1e-5, "MAPs differ by {difference:e}");
    }

    #[test]
    fn the_same_seed_gives_the_same_fit_and_the_symmetry_term_is_counted() {
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let o = FitOptions {
            prior_sd: SdSpec::Fixed(1.0),
            ..options(vec![3], Task::Classification)
        };
        let a = fit_mlp(&cancer, &o).unwrap();
        let b = fit_mlp(&cancer, &o).unwrap();
        assert_eq!(a.mode.params, b.mode.params);
        assert_eq!(a.evaluation.log_evidence, b.evaluation.log_evidence);
        // 3 tanh units: ln 3! + 3 ln 2.
        assert!((a.evaluation.symmetry_log_nats - (6f64.ln() + 3.0 * 2f64.ln())).abs() < 1e-12);
    }

    /// A teacher network's data: the first `train` rows to fit, the rest held out.
    fn teacher(
        n: usize,
        k: usize,
        hidden: Vec<usize>,
        scale: f64,
        noise: f64,
        seed: u64,
    ) -> (Dataset, crate::simulate::Truth) {
        use crate::simulate::{simulate_mlp, SimulationSpec, Teacher, TeacherNetwork};
        simulate_mlp(
            &SimulationSpec {
                teacher: Teacher::Mlp,
                n,
                k,
                weight_center: 0.0,
                weight_scale: scale,
                intercept: 0.0,
                noise_sd: noise,
                seed,
            },
            &TeacherNetwork {
                hidden,
                activation: Activation::Tanh,
                task: Task::Regression,
            },
        )
        .unwrap()
    }

    fn rows(d: &Dataset, range: std::ops::Range<usize>) -> Dataset {
        let k = d.k();
        Dataset::new(
            d.source.clone(),
            d.feature_names.clone(),
            d.target_name.clone(),
            d.x[range.start * k..range.end * k].to_vec(),
            d.y[range].to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn a_fit_to_a_teachers_rows_predicts_its_held_out_rows() {
        let (all, _) = teacher(900, 4, vec![6], 1.0, 0.1, 3);
        let (train, test) = (rows(&all, 0..600), rows(&all, 600..900));
        let fit = fit_mlp(
            &train,
            &FitOptions {
                prior_sd: SdSpec::Fixed(1.0),
                noise_sd: SdSpec::Fixed(0.1),
                ..options(vec![6], Task::Regression)
            },
        )
        .unwrap();
        let t = &fit.study.transform;
        let errors: Vec<f64> = (0..test.n())
            .map(|i| {
                let z: Vec<f64> = test
                    .row(i)
                    .iter()
                    .zip(t.feature_shift.iter().zip(&t.feature_scale))
                    .map(|(x, (m, s))| (x - m) / s)
                    .collect();
                // The network predicts the z-scored target.
                let target = fit.study.target;
                test.y[i]
                    - (target.shift + target.scale * fit.study.arch.output(&fit.mode.params, &z))
            })
            .collect();
        let mse = errors.iter().map(|e| e * e).sum::<f64>() / test.n() as f64;
        let mean = test.y.iter().sum::<f64>() / test.n() as f64;
        let variance = test.y.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / test.n() as f64;
        // The noise variance is 0.01: the fitted function is the teacher's up to a little.
        assert!(mse < 0.02, "held-out MSE {mse} (noise variance 0.01)");
        assert!(
            mse < 0.02 * variance,
            "held-out MSE {mse}, target variance {variance}"
        );
    }

    #[test]
    fn a_10_32_32_1_network_reaches_a_mode() {
        let (data, _) = teacher(200, 10, vec![32, 32], 0.2, 0.5, 1);
        let fit = fit_mlp(
            &data,
            &FitOptions {
                prior_sd: SdSpec::Fixed(0.2),
                noise_sd: SdSpec::Fixed(0.5),
                ..options(vec![32, 32], Task::Regression)
            },
        )
        .unwrap();
        assert_eq!(fit.mode.params.len(), 1441);
        assert!(
            fit.mode.gradient_norm <= fit.mode.gradient_tolerance,
            "‖∇f‖ = {:e} > {:e}",
            fit.mode.gradient_norm,
            fit.mode.gradient_tolerance
        );
        // Checked again from scratch, outside the search.
        let precision = DVector::from_element(1441, 25.0);
        let problem = MlpProblem::new(
            &fit.study.arch,
            &fit.study.z,
            &fit.study.y,
            &fit.evaluation.center.values,
            &precision,
            // σ = 0.5 in y's units is σ/sd_y on the z-scored target the network fits.
            fit.study.target.scale.powi(2) * 4.0,
        );
        let norm = problem.gradient_at(&fit.mode.params).norm();
        assert!(norm <= 1e-6 * problem.gradient_scale(), "‖∇f‖ = {norm:e}");
    }

    #[test]
    fn the_evidence_does_not_depend_on_the_order_of_hidden_units() {
        // A start and the same start with the hidden units permuted lead to modes that are
        // permutations of each other, with the same evidence (the GGN's determinant included).
        let (data, _) = teacher(400, 3, vec![4, 3], 1.0, 0.2, 5);
        let o = FitOptions {
            prior_sd: SdSpec::Fixed(1.0),
            noise_sd: SdSpec::Fixed(0.2),
            ..options(vec![4, 3], Task::Regression)
        };
        let study = MlpStudy::new(&data, &o).unwrap();
        let arch = study.arch.clone();
        let start = initial_parameters(&arch, 9);
        let mut layers = arch.layers(&start);
        let permute = |layers: &mut Vec<crate::model::mlp::Layer>, l: usize, perm: &[usize]| {
            let (w, b) = layers[l].clone();
            layers[l] = (
                DMatrix::from_fn(w.nrows(), w.ncols(), |o, i| w[(perm[o], i)]),
                DVector::from_fn(b.len(), |o, _| b[perm[o]]),
            );
            let next = layers[l + 1].0.clone();
            layers[l + 1].0 =
                DMatrix::from_fn(next.nrows(), next.ncols(), |o, i| next[(o, perm[i])]);
        };
        permute(&mut layers, 0, &[2, 0, 3, 1]);
        permute(&mut layers, 1, &[1, 2, 0]);
        let moved = arch.pack(&layers).unwrap();
        let evaluate = |warm: &DVector<f64>| {
            let center = study.resolve_center(&CenterSpec::Zero, o.prior_sd).unwrap();
            study
                .evaluate_mlp(
                    &CenterSpec::Zero,
                    center,
                    o.prior_sd,
                    o.noise_sd,
                    Some(warm),
                )
                .unwrap()
                .0
        };
        let (a, b) = (evaluate(&start), evaluate(&moved));
        // Both modes meet ‖∇f‖ ≤ 1e-6 of the scale, not exactly the same point: 1e-5 nats.
        assert!(
            (a.log_evidence - b.log_evidence).abs() < 1e-5,
            "{} vs {}",
            a.log_evidence,
            b.log_evidence
        );
        assert!((a.mode.norm() - b.mode.norm()).abs() < 1e-6 * a.mode.norm());
        assert!(
            (&a.mode - &b.mode).norm() > 0.1,
            "the modes should be different points"
        );
    }

    #[test]
    fn without_hidden_units_the_exact_hessian_evidence_is_the_ggn_evidence() {
        // η is linear in θ, so ∇²ℓ = GGN: the two Laplace evidences agree up to the finite
        // differences of the exact route.
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let ggn = FitOptions {
            prior_sd: SdSpec::Fixed(0.7),
            ..options(vec![], Task::Classification)
        };
        let mut exact = ggn.clone();
        exact.mlp.hessian = HessianKind::Exact;
        let (a, b) = (
            fit_mlp(&cancer, &ggn).unwrap(),
            fit_mlp(&cancer, &exact).unwrap(),
        );
        assert_eq!(b.evaluation.evidence_method, EvidenceMethod::LaplaceHessian);
        let rel = ((a.evaluation.log_evidence - b.evaluation.log_evidence)
            / a.evaluation.log_evidence)
            .abs();
        assert!(
            rel < 1e-6,
            "GGN {} vs exact {}",
            a.evaluation.log_evidence,
            b.evaluation.log_evidence
        );
        assert_eq!(b.mode.nonpositive_eigenvalues, 0);
    }
}
