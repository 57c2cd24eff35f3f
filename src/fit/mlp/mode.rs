//! A network's mode with its Laplace evidence, and MacKay's update of the noise precision.

use super::search::BestStart;
use super::{HessianKind, MlpMode, MlpStudy};
use crate::error::{Message, OccamError, Result};
use crate::fit::EvidenceMethod;
use crate::inference::curvature::Factored;
use crate::inference::kfac::{structured_evidence, Structure};
use crate::inference::laplace::{log_prior_density, LaplaceEvidence, Mode};
use crate::model::mlp::{symmetry_log_count, BiasBlock, MlpProblem};
use crate::prior::SdSpec;
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// Up to this many parameters the curvature's eigenvalues are all computed (nalgebra, O(P³) with
/// a large constant); beyond, its extreme eigenvalues come from Lanczos.
const EXACT_EIGENVALUES_UP_TO: usize = 400;

/// The curvature behind a mode's Laplace evidence, for callers that need more than its scalars
/// (the grouped prior's empirical Bayes: γ_g and the data's curvature per group).
#[derive(Debug, Clone)]
pub(crate) struct ModeCurvature {
    /// H = the GGN (or exact Hessian) + Λ at θ̂; `None` for a structured curvature (KFAC, diag).
    pub(crate) hessian: Option<DMatrix<f64>>,
    /// √diag(H⁻¹).
    pub(crate) posterior_sd: DVector<f64>,
}

impl MlpStudy {
    /// The mode and its Laplace evidence under the per-parameter prior precision Λ = `precision`
    /// (a prior of several groups, math.md §8; Λ = αI for one group), with the curvature H (GGN
    /// or exact, + Λ) it used and √diag(H⁻¹). γ = P − Σⱼ Λⱼ (H⁻¹)ⱼⱼ (computed as P − α tr(H⁻¹)
    /// when Λ = αI, the one-group path's arithmetic).
    pub(super) fn mode_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        beta: f64,
        warm: Option<&DVector<f64>>,
    ) -> Result<(MlpMode, ModeCurvature)> {
        let p = self.arch.n_params();
        let uniform = precision
            .iter()
            .all(|l| *l == precision[0])
            .then(|| precision[0]);
        let precision = precision.clone();
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
                                Message::from("from the previous mode: ")
                                    .then(warm_error.message())
                                    .and("; and then from the random starts: ")
                                    .then(e.message()),
                            )
                        })
                }),
            None => self.map(rows, center, &precision, beta, &self.random_starts(center)),
        };
        let BestStart {
            params,
            gradient_norm,
            iterations,
            start: restart,
            ..
        } = found?;
        let problem = MlpProblem::new(&self.arch, &self.z, &self.y, center, &precision, beta);
        let log_likelihood = -problem.negative_log_likelihood(&params);
        let log_prior = log_prior_density(&params, center, &precision);
        let symmetry = symmetry_log_count(&self.arch, &params);
        let gradient_tolerance = self.mode_tolerance() * problem.gradient_scale();
        let _step = crate::progress::step(format!("the network's Laplace evidence (P = {p})"));
        let structure = match self.options.mlp.hessian {
            HessianKind::Kfac => Some((
                Structure::Kfac(BiasBlock::WithInputs),
                EvidenceMethod::LaplaceKfac,
            )),
            HessianKind::Diag => Some((Structure::Diagonal, EvidenceMethod::LaplaceDiag)),
            HessianKind::Ggn | HessianKind::Exact => None,
        };
        if let Some((structure, method)) = structure {
            // The structured curvature (math.md §9): no P × P matrix at the mode.
            let evidence = structured_evidence(&problem, &params, center, structure)?;
            let curvature = ModeCurvature {
                hessian: None,
                posterior_sd: evidence.posterior_sd.clone(),
            };
            let mode = MlpMode {
                log_evidence: evidence.log_evidence + symmetry,
                params,
                gradient_norm,
                gradient_tolerance,
                iterations,
                restart,
                log_likelihood: evidence.log_likelihood,
                log_prior: evidence.log_prior,
                half_log_det: 0.5 * evidence.log_det_hessian,
                effective_parameters: evidence.effective_parameters,
                method,
                eigenvalue_range: evidence.eigenvalue_range,
                nonpositive_eigenvalues: 0,
                noise_precision: beta,
                structured: Some(evidence),
            };
            return Ok((mode, curvature));
        }
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
        let inverse_diagonal = factor.inverse_diagonal();
        let effective_parameters = match uniform {
            Some(alpha) => p as f64 - alpha * factor.trace_inverse(),
            None => {
                p as f64
                    - precision
                        .iter()
                        .zip(inverse_diagonal.iter())
                        .map(|(l, v)| l * v)
                        .sum::<f64>()
            }
        };
        // All eigenvalues when they are cheap, else the two ends by Lanczos.
        let eigenvalue_range = exact_range.unwrap_or_else(|| {
            if p <= EXACT_EIGENVALUES_UP_TO {
                let eigenvalues = hessian.symmetric_eigenvalues();
                [eigenvalues.min(), eigenvalues.max()]
            } else {
                factor.extremal_eigenvalues()
            }
        });
        let mode = MlpMode {
            log_evidence: log_likelihood + log_prior + 0.5 * p as f64 * (2.0 * PI).ln()
                - half_log_det
                + symmetry,
            params,
            gradient_norm,
            gradient_tolerance,
            iterations,
            restart,
            log_likelihood,
            log_prior,
            half_log_det,
            effective_parameters,
            method,
            eigenvalue_range,
            nonpositive_eigenvalues: nonpositive,
            noise_precision: beta,
            structured: None,
        };
        let curvature = ModeCurvature {
            posterior_sd: inverse_diagonal.map(|v| v.max(0.0).sqrt()),
            hessian: Some(hessian),
        };
        Ok((mode, curvature))
    }

    /// For regression with σ `auto`: MacKay's update β ← (n − γ)/‖y − ŷ‖² at the mode, refitting,
    /// until β settles (at most 30 rounds); otherwise the fixed β.
    pub(super) fn mode_with_noise(
        &self,
        center: &DVector<f64>,
        sd: f64,
        noise: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<MlpMode> {
        let precision = DVector::from_element(self.arch.n_params(), 1.0 / (sd * sd));
        self.mode_with_noise_under(center, &precision, noise, warm, None, NOISE_TOLERANCE)
            .map(|(mode, _)| mode)
    }

    /// [`MlpStudy::mode_with_noise`] under the per-parameter precision Λ, MacKay's update started
    /// from `beta_start` (else 1/var(y)) and stopped once |Δ ln β| < `tolerance`.
    pub(super) fn mode_with_noise_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        noise: SdSpec,
        warm: Option<&DVector<f64>>,
        beta_start: Option<f64>,
        tolerance: f64,
    ) -> Result<(MlpMode, ModeCurvature)> {
        if !self.regression() {
            return self.mode_under(center, precision, 1.0, warm);
        }
        if let SdSpec::Fixed(sigma) = noise {
            return self.mode_under(center, precision, 1.0 / (sigma * sigma), warm);
        }
        let mean = self.y.iter().sum::<f64>() / self.n as f64;
        let variance = self.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / self.n as f64;
        let mut beta = beta_start.unwrap_or(1.0 / variance.max(f64::MIN_POSITIVE));
        let mut mode = self.mode_under(center, precision, beta, warm)?;
        let flat = DVector::zeros(self.arch.n_params());
        for _ in 0..NOISE_ROUNDS {
            let problem = MlpProblem::new(&self.arch, &self.z, &self.y, center, &flat, beta);
            let rss: f64 = problem
                .outputs(&mode.0.params)
                .iter()
                .zip(&self.y)
                .map(|(eta, y)| (y - eta).powi(2))
                .sum();
            // γ is clamped to [0, P]: with the exact Hessian it can fall outside (see the note on
            // a negative γ), and n − γ must stay a count of the residuals' degrees of freedom.
            let gamma = mode
                .0
                .effective_parameters
                .clamp(0.0, self.arch.n_params() as f64);
            let next = (self.n as f64 - gamma).max(1.0) / rss.max(f64::MIN_POSITIVE);
            let settled = ((next / beta).ln()).abs() < tolerance;
            beta = next;
            mode = self.mode_under(center, precision, beta, Some(&mode.0.params))?;
            if settled {
                break;
            }
        }
        Ok(mode)
    }
}

/// The one-group network's MacKay update of β stops once |Δ ln β| falls below this.
pub(super) const NOISE_TOLERANCE: f64 = 1e-6;
/// ... or after this many refits.
pub(super) const NOISE_ROUNDS: usize = 30;

/// |Δ ln β| at which the grouped prior's fits stop MacKay's noise update: tighter than the
/// one-group [`NOISE_TOLERANCE`], since the grouped empirical Bayes differentiates the evidence
/// in ln s_g by central differences (step 1e-3), and a β settled to 1e-6 would leave ~1e-6 nats
/// of jitter in L — 5e-4 in a derivative.
pub(crate) const GROUPED_NOISE_TOLERANCE: f64 = 1e-10;

impl MlpStudy {
    /// The network's mode and Laplace evidence under the per-parameter precision Λ (a prior of
    /// several groups, math.md §8), searched from `init` — from the seeded random starts when
    /// `init` is the centre (a zero centre is a stationary point of a tanh network) or when the
    /// search from `init` fails — with σ fitted by MacKay's update as the one-group network does
    /// (to [`GROUPED_NOISE_TOLERANCE`], MacKay's update started from `beta_start`, e.g. the last
    /// fit's β, so that a nearby Λ needs a round or two) or fixed. Returned as the network's own mode and as the
    /// generic [`Mode`] and [`LaplaceEvidence`] (in the fitted target's units, without the
    /// z-scoring's Jacobian, which does not depend on Λ). For a structured curvature (KFAC,
    /// diag) `Mode::hessian` is the diagonal GGN + Λ (all the grouped search reads of it).
    pub(crate) fn laplace_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        noise: SdSpec,
        init: DVector<f64>,
        beta_start: Option<f64>,
    ) -> Result<(MlpMode, Mode, LaplaceEvidence)> {
        let noise = match noise {
            SdSpec::Fixed(sigma) => SdSpec::Fixed(sigma / self.target.scale),
            SdSpec::Auto => SdSpec::Auto,
        };
        let warm = (init != *center).then_some(&init);
        let (mode, curvature) = self.mode_with_noise_under(
            center,
            precision,
            noise,
            warm,
            beta_start,
            GROUPED_NOISE_TOLERANCE,
        )?;
        let hessian = match curvature.hessian {
            Some(h) => h,
            None => {
                let problem = MlpProblem::new(
                    &self.arch,
                    &self.z,
                    &self.y,
                    center,
                    precision,
                    mode.noise_precision,
                );
                DMatrix::from_diagonal(&(problem.ggn_diagonal(&mode.params) + precision))
            }
        };
        let cholesky = nalgebra::Cholesky::new(hessian.clone()).ok_or_else(|| {
            OccamError::computation(
                "the Laplace evidence",
                "the curvature matrix is not positive definite",
            )
        })?;
        let laplace = LaplaceEvidence {
            log_evidence: mode.log_evidence,
            log_likelihood: mode.log_likelihood,
            log_prior: mode.log_prior,
            log_det_hessian: 2.0 * mode.half_log_det,
            effective_parameters: mode.effective_parameters,
            posterior_sd: curvature.posterior_sd,
        };
        let generic = Mode {
            params: mode.params.clone(),
            cost: -(mode.log_likelihood + mode.log_prior),
            gradient_norm: mode.gradient_norm,
            gradient_tolerance: mode.gradient_tolerance,
            hessian,
            cholesky,
            lbfgs_iterations: mode.iterations,
            newton_iterations: 0,
        };
        Ok((mode, generic, laplace))
    }
}
