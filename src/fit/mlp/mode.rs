//! A network's mode with its Laplace evidence, and MacKay's update of the noise precision.

use super::search::BestStart;
use super::{HessianKind, MlpMode, MlpStudy, Subset};
use crate::error::{Message, OccamError, Result};
use crate::fit::EvidenceMethod;
use crate::inference::curvature::Factored;
use crate::inference::kfac::{structured_evidence, Structure};
use crate::inference::laplace::log_prior_density;
use crate::inference::last_layer::last_layer_evidence;
use crate::model::mlp::{symmetry_log_count, BiasBlock, MlpProblem};
use crate::prior::SdSpec;
use nalgebra::DVector;
use std::f64::consts::PI;

/// Up to this many parameters the curvature's eigenvalues are all computed (nalgebra, O(P³) with
/// a large constant); beyond, its extreme eigenvalues come from Lanczos.
const EXACT_EIGENVALUES_UP_TO: usize = 400;

impl MlpStudy {
    /// The mode and its Laplace evidence at prior sd s (and β for regression).
    pub(super) fn mode_at(
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
                                Message::from("from the previous mode: ")
                                    .then(warm_error.message())
                                    .and("; and then from the random starts: ")
                                    .then(e.message()),
                            )
                        })
                }),
            None => self.map(rows, center, &precision, beta, &self.random_starts(center)),
        };
        self.evidence_at(
            center,
            alpha,
            beta,
            found?,
            self.options.mlp.hessian,
            self.options.mlp.subset,
        )
    }

    /// The Laplace evidence at a mode already found (`found`), prior N(`center`, I/α), noise
    /// precision β, with the curvature `hessian` over the parameters `subset`: ln p(y_z), before
    /// the target's Jacobian.
    pub(super) fn evidence_at(
        &self,
        center: &DVector<f64>,
        alpha: f64,
        beta: f64,
        found: BestStart,
        hessian: HessianKind,
        subset: Subset,
    ) -> Result<MlpMode> {
        let p = self.arch.n_params();
        let precision = DVector::from_element(p, alpha);
        let BestStart {
            params,
            gradient_norm,
            iterations,
            start: restart,
            ..
        } = found;
        let problem = MlpProblem::new(&self.arch, &self.z, &self.y, center, &precision, beta);
        let log_likelihood = -problem.negative_log_likelihood(&params);
        let log_prior = log_prior_density(&params, center, &precision);
        let symmetry = symmetry_log_count(&self.arch, &params);
        let gradient_tolerance = self.mode_tolerance() * problem.gradient_scale();
        let _step = crate::progress::step(format!("the network's Laplace evidence (P = {p})"));
        if subset == Subset::LastLayer {
            // A GLM on the features h_L(x; θ̂) (math.md §9): its own evidence, with no symmetry
            // term — its features are fixed, so no permutation of them is another mode of it.
            let evidence = last_layer_evidence(&problem, &params, center)?;
            return Ok(MlpMode {
                log_evidence: evidence.log_evidence,
                params,
                gradient_norm,
                gradient_tolerance,
                iterations,
                restart,
                log_likelihood: evidence.log_likelihood,
                log_prior: evidence.log_prior,
                half_log_det: 0.5 * evidence.log_det_hessian,
                effective_parameters: evidence.effective_parameters,
                method: EvidenceMethod::LaplaceLastLayer,
                eigenvalue_range: evidence.eigenvalue_range,
                nonpositive_eigenvalues: 0,
                noise_precision: beta,
                structured: Some(evidence),
            });
        }
        let structure = match hessian {
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
            return Ok(MlpMode {
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
            });
        }
        let mut method = EvidenceMethod::LaplaceGgn;
        let mut nonpositive = 0;
        // The exact Hessian when asked for and positive definite, else the GGN (formed only then).
        let mut chosen = None;
        let mut exact_range = None;
        if hessian == HessianKind::Exact {
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
        Ok(MlpMode {
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
            effective_parameters: p as f64 - alpha * trace_inverse,
            method,
            eigenvalue_range,
            nonpositive_eigenvalues: nonpositive,
            noise_precision: beta,
            structured: None,
        })
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
}
