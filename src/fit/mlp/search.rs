//! The search for a network's posterior mode from each start, and the best of several starts.

use super::MlpStudy;
use crate::error::{OccamError, Result};
use crate::inference::curvature::{Factored, Whitened, Whitening};
use crate::inference::laplace::find_mode;
use crate::inference::{run_lbfgs, LbfgsOptions};
use crate::model::mlp::{Activation, MlpProblem};
use nalgebra::DVector;

/// Plain L-BFGS iterations of a search before the GGN-whitened rounds take over.
const PLAIN_ITERATIONS: u64 = 300;
/// At most this many GGN-whitened rounds per search (each forms and factors the GGN once).
const WHITENED_ROUNDS: usize = 12;
/// L-BFGS iterations per whitened round: the curvature is refreshed this often.
const WHITENED_ITERATIONS: u64 = 100;

impl MlpStudy {
    /// One start's search: argmin's L-BFGS for [`PLAIN_ITERATIONS`] iterations, then rounds of
    /// L-BFGS whitened by the GGN + Λ at the round's starting point (see [`Whitened`]) until
    /// ‖∇f‖ ≤ `target` or a round stops making progress, and for networks of moderate size damped
    /// Gauss–Newton steps as a last resort. Returns the point and the iterations spent.
    pub(super) fn search(
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
    pub(super) fn map(
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
}
