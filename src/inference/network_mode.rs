//! The search for a network's posterior mode from one start (math.md §4): the strategy that gets
//! an ill-conditioned, non-convex objective to a point the Laplace evidence can use.
//!
//! Plain L-BFGS makes fast progress from a random start but crawls along a network's
//! ill-conditioned directions; the GGN knows those directions, so after a short plain phase the
//! rest is done in coordinates where the curvature is about I ([`Whitened`]), and damped
//! Gauss–Newton steps ([`find_mode`]) finish what is left on small networks.

use super::argmin_problem::ArgminProblem;
use super::curvature::{Factored, Whitened, Whitening};
use super::kfac_search::{search_kfac_mode, KFAC_SEARCH_ABOVE};
use super::laplace::find_mode;
use super::map::{run_lbfgs, LbfgsOptions};
use crate::error::Result;
use crate::model::mlp::MlpProblem;
use nalgebra::DVector;

/// Plain L-BFGS iterations of a search before the GGN-whitened rounds take over.
const PLAIN_ITERATIONS: u64 = 300;
/// At most this many GGN-whitened rounds per search (each forms and factors the GGN once).
const WHITENED_ROUNDS: usize = 12;
/// L-BFGS iterations per whitened round: the curvature is refreshed this often.
const WHITENED_ITERATIONS: u64 = 100;

/// Where one start's search ended (unchecked: the caller compares ‖∇f‖ with its tolerance).
#[derive(Debug, Clone)]
pub struct SearchEnd {
    /// The point reached.
    pub params: DVector<f64>,
    /// L-BFGS iterations plus Newton steps spent.
    pub iterations: u64,
}

/// One start's search: argmin's L-BFGS for `PLAIN_ITERATIONS` iterations, then rounds of
/// L-BFGS whitened by the GGN + Λ at the round's starting point (see [`Whitened`]) until
/// ‖∇f‖ ≤ `target` or a round stops making progress, and for networks of moderate size damped
/// Gauss–Newton steps as a last resort. Above [`KFAC_SEARCH_ABOVE`] parameters, the KFAC-whitened
/// search of [`search_kfac_mode`] instead (no P × P matrix).
pub fn search_network_mode(
    problem: &MlpProblem,
    start: DVector<f64>,
    target: f64,
    tolerance: f64,
) -> Result<SearchEnd> {
    if problem.n_params() > KFAC_SEARCH_ABOVE {
        // No P × P matrix above the switch size (issue 19).
        return search_kfac_mode(problem, start, target);
    }
    let plain = LbfgsOptions {
        memory: 20,
        max_iters: PLAIN_ITERATIONS,
        gradient_tolerance: target,
    };
    let plain_end = run_lbfgs(ArgminProblem(problem.fused()), start, plain)?;
    let (mut params, mut iterations) = (plain_end.params, plain_end.iterations);
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
        let whitened = Whitened::new(ArgminProblem(problem.fused()), params.clone(), whitening)
            .stopping_at(target);
        let options = LbfgsOptions {
            memory: 20,
            max_iters: WHITENED_ITERATIONS,
            gradient_tolerance: f64::MIN_POSITIVE,
        };
        let Ok(round) = run_lbfgs(whitened.clone(), DVector::zeros(params.len()), options) else {
            break;
        };
        iterations += round.iterations;
        let candidate = whitened.params(&round.params);
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
    Ok(SearchEnd { params, iterations })
}
