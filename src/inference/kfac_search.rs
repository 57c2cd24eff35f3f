//! The search for a network's posterior mode above [`KFAC_SEARCH_ABOVE`] parameters, never
//! forming a P × P matrix (issue 19 item 2; math.md §9).
//!
//! The strategy of [`super::network_mode`] (a plain L-BFGS phase, then L-BFGS rounds in
//! coordinates where the curvature is about I), with the KFAC form K + Λ̄ of the GGN + Λ in place of
//! the dense factored one: each round starts at θ₀, forms the per-layer Kronecker factors there
//! (one forward and backward pass, O(n·Σ widths²) work, O(Σ widths²) memory), decomposes them
//! (O(Σ widths³)) and runs L-BFGS on u with
//!
//!   θ(u) = θ₀ + (K + Λ̄)^{-1/2} u,   ∇ᵤ = (K + Λ̄)^{-1/2} ∇f,
//!
//! where per layer (G ⊗ Ã + ᾱI)^{-1/2} vec(X) = vec(V [(VᵀXU) ⊘ √(gaᵀ + ᾱ)] Uᵀ) (G = V diag(g) Vᵀ,
//! Ã = U diag(a) Uᵀ; ᾱ the layer's mean prior precision, see
//! [`crate::model::mlp::Kfac::preconditioner`]): O(Σ fan_out·fan_in·(fan_out + fan_in)) per
//! product. Memory: the L-BFGS history (2 × 20 vectors of P), a few P-vectors and the factors —
//! O(P + n·width) with the forward/backward buffers.
//!
//! The round stops where ‖∇f(θ)‖ ≤ the target (see [`Whitened::stopping_at`]); the caller
//! ([`crate::fit::mlp`]'s search) checks ‖∇f‖ against the same tolerance as for the dense search,
//! so a search that stalls is reported as such, never as a mode.

use super::argmin_problem::ArgminProblem;
use super::curvature::{Whitened, WhiteningMap};
use super::map::{run_lbfgs, LbfgsOptions};
use super::network_mode::SearchEnd;
use crate::error::Result;
use crate::model::mlp::{KfacPosterior, MlpProblem};
use nalgebra::DVector;

/// Above this many parameters the mode search is KFAC-whitened (no P × P matrix); up to it, the
/// dense GGN-whitened search of [`super::network_mode`]. Chosen by measurement (bench/README.md,
/// "KFAC search"): on the benchmark data the dense search of 10-32-32-1 (P = 1441) is faster than
/// the KFAC one, that of 10-64-64-1 (P = 4929) slower.
pub const KFAC_SEARCH_ABOVE: usize = 3000;

/// Plain L-BFGS iterations before the whitened rounds.
pub const PLAIN_ITERATIONS: u64 = 300;
/// At most this many KFAC-whitened rounds per search (each refreshes the factors once).
pub const ROUNDS: usize = 40;
/// L-BFGS iterations per round.
const ROUND_ITERATIONS: u64 = 100;
/// Eigenvalues of K + Λ̄ below this fraction of the largest are raised to it in the whitening (a
/// layer whose prior is flat, ᾱ ≈ 0, can leave exact zeros).
const RELATIVE_FLOOR: f64 = 1e-12;

/// A = (K + Λ̄)^{-1/2}, symmetric, applied block by block in the factors' eigenbases.
#[derive(Debug, Clone)]
pub struct KfacWhitening {
    posterior: KfacPosterior,
    floor: f64,
}

impl KfacWhitening {
    /// The whitening of the decomposed K + Λ̄.
    pub fn new(posterior: KfacPosterior) -> Self {
        let largest = posterior.eigenvalue_range()[1];
        let floor = if largest.is_finite() && largest > 0.0 {
            RELATIVE_FLOOR * largest
        } else {
            f64::MIN_POSITIVE
        };
        KfacWhitening { posterior, floor }
    }
}

impl WhiteningMap for KfacWhitening {
    fn dim(&self) -> usize {
        self.posterior.dim()
    }
    fn mul(&self, v: &DVector<f64>) -> DVector<f64> {
        let floor = self.floor;
        self.posterior
            .apply_function(v, |e| 1.0 / e.max(floor).sqrt())
    }
    fn transpose_mul(&self, u: &DVector<f64>) -> DVector<f64> {
        self.mul(u)
    }
}

/// One start's search without a P × P matrix: L-BFGS for [`PLAIN_ITERATIONS`] iterations, then
/// up to [`ROUNDS`] KFAC-whitened rounds, each from the factors at its starting point, until
/// ‖∇f‖ ≤ `target` or a round stops making progress. Unchecked, like
/// [`super::network_mode::search_network_mode`].
pub fn search_kfac_mode(
    problem: &MlpProblem,
    start: DVector<f64>,
    target: f64,
) -> Result<SearchEnd> {
    let p = problem.n_params();
    let plain = LbfgsOptions {
        memory: 20,
        max_iters: PLAIN_ITERATIONS,
        gradient_tolerance: target,
    };
    let plain_end = {
        let _step = crate::progress::step(format!(
            "the network's mode (P = {p}): plain L-BFGS, {PLAIN_ITERATIONS} iterations"
        ));
        run_lbfgs(ArgminProblem(problem.fused()), start, plain)?
    };
    let (mut params, mut iterations) = (plain_end.params, plain_end.iterations);
    let (mut objective, gradient) = problem.objective_and_gradient(&params);
    let mut norm = gradient.norm();
    for round in 0..ROUNDS {
        if !(norm > target && objective.is_finite()) {
            break;
        }
        let _step = crate::progress::step(format!(
            "the network's mode (P = {p}): KFAC-whitened round {} of at most {ROUNDS}, ‖∇f‖ = {norm:.2e} (target {target:.2e})",
            round + 1
        ));
        let Ok(posterior) = problem.kfac(&params).preconditioner(problem.precision()) else {
            break;
        };
        let whitened = Whitened::new(
            ArgminProblem(problem.fused()),
            params.clone(),
            KfacWhitening::new(posterior),
        )
        .stopping_at(target);
        let options = LbfgsOptions {
            memory: 20,
            max_iters: ROUND_ITERATIONS,
            gradient_tolerance: f64::MIN_POSITIVE,
        };
        let Ok(end) = run_lbfgs(whitened.clone(), DVector::zeros(p), options) else {
            break;
        };
        iterations += end.iterations;
        let candidate = whitened.params(&end.params);
        let (f, g) = problem.objective_and_gradient(&candidate);
        if !(f.is_finite() && f <= objective) {
            break;
        }
        let (previous, before) = (norm, objective);
        (params, objective, norm) = (candidate, f, g.norm());
        if before - f <= 1e-14 * f.abs().max(1.0) && norm > 0.5 * previous {
            break;
        }
    }
    Ok(SearchEnd { params, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mlp::{Activation, Architecture, Task};
    use crate::random::Stream;
    use nalgebra::DMatrix;

    fn data(n: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut s = Stream::from_seed(seed);
        let z: Vec<f64> = (0..n * k).map(|_| s.normal()).collect();
        let y = z
            .chunks_exact(k)
            .map(|r| (r[0] - 0.5 * r[1]).tanh() + 0.3 * s.normal())
            .collect();
        (z, y)
    }

    #[test]
    fn the_whitening_is_the_inverse_square_root_of_the_dense_kronecker_form() {
        let arch = Architecture::new(3, vec![4, 3], Activation::Tanh, Task::Regression).unwrap();
        let (z, y) = data(40, 3, 5);
        let p = arch.n_params();
        let center = DVector::zeros(p);
        // Λ varying inside a layer: the preconditioner uses the layer's mean.
        let precision = DVector::from_fn(p, |i, _| 1.0 + (i % 3) as f64);
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, 4.0);
        let theta = crate::model::mlp::initial_parameters(&arch, 9);
        let kfac = problem.kfac(&theta);
        let w = KfacWhitening::new(kfac.preconditioner(&precision).unwrap());
        // Dense: K + Λ̄ with Λ̄ the per-layer means, then its inverse square root.
        let mut dense = kfac.dense(crate::model::mlp::BiasBlock::WithInputs);
        let mut offset = 0;
        for (fan_in, fan_out) in [(3, 4), (4, 3), (3, 1)] {
            let len = (fan_in + 1) * fan_out;
            let mean = precision.rows(offset, len).mean();
            for j in offset..offset + len {
                dense[(j, j)] += mean;
            }
            offset += len;
        }
        assert_eq!(offset, p);
        let eigen = dense.clone().symmetric_eigen();
        let root = &eigen.eigenvectors
            * DMatrix::from_diagonal(&eigen.eigenvalues.map(|e| 1.0 / e.sqrt()))
            * eigen.eigenvectors.transpose();
        let v = DVector::from_fn(p, |i, _| (0.37 * i as f64).sin());
        let expected = &root * &v;
        let err = (w.mul(&v) - &expected).amax() / expected.amax();
        assert!(err < 1e-10, "{err:e}");
        assert_eq!(w.transpose_mul(&v), w.mul(&v));
        // A² (K + Λ̄) = I: applied twice after the forward product gives v back.
        let back = w.mul(&w.mul(&(&dense * &v)));
        assert!((back - &v).amax() < 1e-10 * v.amax());
    }

    #[test]
    fn the_kfac_search_reaches_the_same_mode_as_the_dense_one() {
        let arch = Architecture::new(3, vec![5], Activation::Tanh, Task::Regression).unwrap();
        let (z, y) = data(200, 3, 11);
        let p = arch.n_params();
        let center = DVector::zeros(p);
        let precision = DVector::from_element(p, 2.0);
        let problem = MlpProblem::new(&arch, &z, &y, &center, &precision, 10.0);
        let start = crate::model::mlp::initial_parameters(&arch, 3);
        let target = 1e-8 * problem.gradient_scale();
        let kfac = search_kfac_mode(&problem, start.clone(), target).unwrap();
        let (f, g) = problem.objective_and_gradient(&kfac.params);
        assert!(g.norm() <= target, "‖∇f‖ = {:e} > {target:e}", g.norm());
        // The dense search from the same start: the same point (a strict local minimum).
        let dense = super::super::network_mode::search_network_mode(
            &problem,
            start,
            target,
            100.0 * target,
        )
        .unwrap();
        let f_dense = problem.objective(&dense.params);
        assert!((f - f_dense).abs() < 1e-9 * f.abs(), "{f} vs {f_dense}");
        assert!((&kfac.params - &dense.params).amax() < 1e-5);
    }
}
