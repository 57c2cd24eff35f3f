//! The Laplace evidence of a network under a structured curvature (math.md §9): KFAC
//! (`laplace-kfac`) or the GGN's diagonal (`laplace-diag`), at a given mode, never forming a P × P
//! matrix.
//!
//! With H ≈ K + Λ (K the structured GGN),
//!
//!   ln p(D) ≈ ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|K + Λ|,
//!
//! γ = tr((K + Λ)⁻¹K) = P − Σⱼ Λⱼ((K + Λ)⁻¹)ⱼⱼ, and the posterior sds √diag((K + Λ)⁻¹). For KFAC
//! the determinant, γ (per layer) and the diagonal come from the eigenvalues of the Kronecker
//! factors ([`crate::model::mlp::KfacPosterior`]); for `diag`, K = diag(d): ln|K + Λ| = Σⱼ
//! ln(dⱼ + Λⱼ), γⱼ = dⱼ/(dⱼ + Λⱼ), sdⱼ = 1/√(dⱼ + Λⱼ).

use super::laplace::log_prior_density;
use crate::error::{OccamError, Result, Setting};
use crate::message;
use crate::model::mlp::{BiasBlock, MlpProblem};
use nalgebra::DVector;
use std::f64::consts::PI;

/// Which structured curvature stands in for the GGN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// Kronecker-factored per layer, with the given bias convention.
    Kfac(BiasBlock),
    /// The GGN's diagonal.
    Diagonal,
}

impl Structure {
    /// The method's label in every output: `laplace-kfac` or `laplace-diag`.
    pub fn method(self) -> &'static str {
        match self {
            Structure::Kfac(_) => "laplace-kfac",
            Structure::Diagonal => "laplace-diag",
        }
    }
}

/// The Laplace evidence under a structured curvature, and what goes into it.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredEvidence {
    /// `laplace-kfac` or `laplace-diag`.
    pub method: &'static str,
    /// ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|K + Λ|.
    pub log_evidence: f64,
    /// ln p(D | θ̂).
    pub log_likelihood: f64,
    /// ln π(θ̂).
    pub log_prior: f64,
    /// ln|K + Λ|.
    pub log_det_hessian: f64,
    /// γ of each layer, from the input (`layer1` … `output`).
    pub layer_effective_parameters: Vec<f64>,
    /// Σ over layers of γ_ℓ.
    pub effective_parameters: f64,
    /// √diag((K + Λ)⁻¹).
    pub posterior_sd: DVector<f64>,
    /// The smallest and largest eigenvalue of K + Λ.
    pub eigenvalue_range: [f64; 2],
    /// The P eigenvalues of K (no prior): gⱼa_k for KFAC, dⱼ for the diagonal — the structured
    /// Fisher information whose ½ ln|F| the two_part code takes (math.md §5 with §9).
    pub curvature_eigenvalues: DVector<f64>,
}

/// The evidence of `problem` at θ̂ = `theta` (a mode the caller has checked) with prior centre
/// `center` (the problem's own), under `structure`. Every Λⱼ must be positive (a flat coordinate
/// has no structured determinant); KFAC also needs Λ constant over each Kronecker block.
pub fn structured_evidence(
    problem: &MlpProblem,
    theta: &DVector<f64>,
    center: &DVector<f64>,
    structure: Structure,
) -> Result<StructuredEvidence> {
    let precision = problem.precision();
    let p = theta.len();
    let arch = problem.architecture();
    let (log_det_hessian, layer_effective_parameters, variance, eigenvalue_range, curvature) =
        match structure {
            Structure::Kfac(bias) => {
                let posterior = problem.kfac(theta).posterior(precision, bias)?;
                (
                    posterior.log_det(),
                    posterior.effective_parameters(),
                    posterior.inverse_diagonal(),
                    posterior.eigenvalue_range(),
                    posterior.curvature_eigenvalues(),
                )
            }
            Structure::Diagonal => {
                if let Some(j) = precision.iter().position(|l| !(*l > 0.0 && l.is_finite())) {
                    return Err(OccamError::invalid(
                        Setting::Hessian,
                        message!(format!(
                        "the diagonal Laplace needs a finite, positive prior precision on every \
                         parameter; {} has {}",
                        arch.parameter_names()[j],
                        precision[j]
                    )),
                    ));
                }
                let d = problem.ggn_diagonal(theta);
                let h = &d + precision;
                let widths = arch.widths();
                let mut gamma = vec![0.0; widths.len() - 1];
                let mut j = 0;
                for (l, w) in widths.windows(2).enumerate() {
                    for _ in 0..(w[0] + 1) * w[1] {
                        gamma[l] += d[j] / h[j];
                        j += 1;
                    }
                }
                let range = [h.min(), h.max()];
                (
                    h.iter().map(|v| v.ln()).sum(),
                    gamma,
                    h.map(|v| 1.0 / v),
                    range,
                    d,
                )
            }
        };
    let log_likelihood = -problem.negative_log_likelihood(theta);
    let log_prior = log_prior_density(theta, center, precision);
    let effective_parameters = layer_effective_parameters.iter().sum();
    Ok(StructuredEvidence {
        method: structure.method(),
        log_evidence: log_likelihood + log_prior + 0.5 * p as f64 * (2.0 * PI).ln()
            - 0.5 * log_det_hessian,
        log_likelihood,
        log_prior,
        log_det_hessian,
        layer_effective_parameters,
        effective_parameters,
        posterior_sd: variance.map(|v| v.max(0.0).sqrt()),
        eigenvalue_range,
        curvature_eigenvalues: curvature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::network_mode::search_network_mode;
    use crate::model::mlp::{Activation, Architecture, Task};
    use crate::testing::random_design;
    use nalgebra::DMatrix;

    fn rows(n: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let (x, y) = random_design(n, k, seed);
        (x.transpose().as_slice().to_vec(), y.as_slice().to_vec())
    }

    /// With no hidden layer, regression: KFAC is the GGN is X̃ᵀX̃β, and the evidence at the mode is
    /// the closed form of the linear-Gaussian model (math.md §8), computed here directly:
    /// A = Λ + βX̃ᵀX̃, m = A⁻¹(Λμ + βX̃ᵀy), ln p = ½ ln|Λ| + (n/2) ln β − E(m) − ½ ln|A| − (n/2) ln 2π.
    #[test]
    fn linear_regression_kfac_evidence_is_the_exact_evidence() {
        let (n, k) = (150, 4);
        let (z, y) = rows(n, k, 21);
        let arch = Architecture::new(k, vec![], Activation::Tanh, Task::Regression).unwrap();
        let p = k + 1;
        let center = DVector::from_fn(p, |j, _| 0.1 * j as f64 - 0.2);
        let (alpha, beta) = (0.7, 2.5);
        let precision = DVector::from_element(p, alpha);
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, beta);
        let x = DMatrix::from_fn(n, p, |i, j| if j < k { z[i * k + j] } else { 1.0 });
        let yv = DVector::from_column_slice(&y);
        let a = DMatrix::from_diagonal(&precision) + x.transpose() * &x * beta;
        let chol = a.clone().cholesky().unwrap();
        let m = chol.solve(&(precision.component_mul(&center) + x.transpose() * &yv * beta));
        let resid = &yv - &x * &m;
        let e = 0.5 * beta * resid.norm_squared() + 0.5 * alpha * (&m - &center).norm_squared();
        let log_det_a = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let exact = 0.5 * p as f64 * alpha.ln() + 0.5 * n as f64 * beta.ln()
            - e
            - 0.5 * log_det_a
            - 0.5 * n as f64 * (2.0 * PI).ln();
        for structure in [Structure::Kfac(BiasBlock::WithInputs)] {
            let ev = structured_evidence(&problem, &m, &center, structure).unwrap();
            assert_eq!(ev.method, "laplace-kfac");
            assert!(
                (ev.log_evidence - exact).abs() < 1e-9 * exact.abs(),
                "{} vs {exact}",
                ev.log_evidence
            );
            // γ = Σ βλ/(βλ + α) over the eigenvalues of X̃ᵀX̃.
            let eig = (x.transpose() * &x * beta).symmetric_eigenvalues();
            let gamma: f64 = eig.iter().map(|l| l / (l + alpha)).sum();
            assert!((ev.effective_parameters - gamma).abs() < 1e-10);
            let inverse = chol.inverse();
            for j in 0..p {
                assert!((ev.posterior_sd[j] - inverse[(j, j)].sqrt()).abs() < 1e-12);
            }
        }
    }

    /// Near a mode of a small network (the search of [`crate::inference::network_mode`]), the KFAC
    /// and diagonal evidences differ from the full-GGN Laplace evidence only through ln|H| (the
    /// same likelihood and prior terms), and the diagonal's determinant is at least the full one
    /// (Hadamard's inequality for the positive definite G + Λ).
    #[test]
    fn structured_evidences_share_everything_but_the_determinant() {
        let (n, k) = (120, 3);
        let (z, y) = rows(n, k, 4);
        let y: Vec<f64> = y.iter().map(|v| f64::from(u8::from(*v > 0.0))).collect();
        let arch = Architecture::new(k, vec![4], Activation::Tanh, Task::Classification).unwrap();
        let p = arch.n_params();
        let center = DVector::zeros(p);
        let precision = DVector::from_element(p, 1.0);
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, 1.0);
        let start = crate::model::mlp::initial_parameters(&arch, 3);
        let tolerance = 1e-6 * problem.gradient_scale();
        let theta = search_network_mode(&problem, start, tolerance, tolerance)
            .unwrap()
            .params;
        assert!(problem.gradient_at(&theta).norm() <= tolerance);
        let h = problem.hessian_ggn(&theta);
        let full_log_det = 2.0
            * h.cholesky()
                .unwrap()
                .l()
                .diagonal()
                .iter()
                .map(|d| d.ln())
                .sum::<f64>();
        let log_likelihood = -problem.negative_log_likelihood(&theta);
        let log_prior = log_prior_density(&theta, &center, &precision);
        for structure in [
            Structure::Kfac(BiasBlock::WithInputs),
            Structure::Kfac(BiasBlock::Separate),
            Structure::Diagonal,
        ] {
            let ev = structured_evidence(&problem, &theta, &center, structure).unwrap();
            assert_eq!(ev.log_likelihood, log_likelihood);
            assert_eq!(ev.log_prior, log_prior);
            let rest = log_likelihood + log_prior + 0.5 * p as f64 * (2.0 * PI).ln();
            assert!((ev.log_evidence + 0.5 * ev.log_det_hessian - rest).abs() < 1e-9 * rest.abs());
            assert!(ev.effective_parameters > 0.0 && ev.effective_parameters < p as f64);
            assert_eq!(ev.layer_effective_parameters.len(), 2);
            if structure == Structure::Diagonal {
                assert_eq!(ev.method, "laplace-diag");
                assert!(ev.log_det_hessian >= full_log_det - 1e-9);
            }
            // The curvature's eigenvalues without the prior: Σ ln(e + α) is ln|K + Λ| (α = 1),
            // and they are the eigenvalues of the dense structured matrix (checked at this size).
            let e = &ev.curvature_eigenvalues;
            assert_eq!(e.len(), p);
            let log_det: f64 = e.iter().map(|v| (v + 1.0).ln()).sum();
            assert!((log_det - ev.log_det_hessian).abs() < 1e-9 * log_det.abs());
            let dense = match structure {
                Structure::Kfac(bias) => problem.kfac(&theta).dense(bias),
                Structure::Diagonal => DMatrix::from_diagonal(&problem.ggn(&theta).diagonal()),
            };
            let mut expected: Vec<f64> = dense.symmetric_eigenvalues().iter().copied().collect();
            let mut got: Vec<f64> = e.iter().copied().collect();
            expected.sort_by(f64::total_cmp);
            got.sort_by(f64::total_cmp);
            let scale = expected[p - 1];
            for (a, b) in got.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-9 * scale, "{structure:?}: {a} vs {b}");
            }
        }
    }
}
