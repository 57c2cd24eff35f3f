//! The best of several starts: one search per start (the strategy is
//! [`crate::inference::network_mode`]'s), the best log posterior kept and its ‖∇f‖ checked.

use super::MlpStudy;
use crate::error::{Message, OccamError, Result, Setting};
use crate::inference::network_mode::search_network_mode;
use crate::message;
use crate::model::mlp::{Activation, MlpProblem};
use nalgebra::DVector;

/// The best point of a network's search from several starts.
#[derive(Debug, Clone)]
pub(super) struct BestStart {
    /// θ̂.
    pub(super) params: DVector<f64>,
    /// f(θ̂), the negative log posterior.
    pub(super) objective: f64,
    /// ‖∇f(θ̂)‖.
    pub(super) gradient_norm: f64,
    /// Iterations the winning start spent.
    pub(super) iterations: u64,
    /// The winning start (0-based).
    pub(super) start: usize,
}

impl MlpStudy {
    /// The mode at prior sd s and noise precision β from the given starts: [`search_network_mode`]
    /// from each start, the best log posterior kept, ‖∇f‖ checked. A ReLU network whose best point
    /// misses the tolerance (its objective has kinks) is returned anyway, flagged by its gradient
    /// norm; any other network fails.
    pub(super) fn map(
        &self,
        rows: (&[f64], &[f64]),
        center: &DVector<f64>,
        precision: &DVector<f64>,
        beta: f64,
        starts: &[DVector<f64>],
    ) -> Result<BestStart> {
        let problem = MlpProblem::new(&self.arch, rows.0, rows.1, center, precision, beta);
        // Aim for 1e-2 of the tolerance; accept 1e-6 of the gradient's scale (the Laplace
        // evidence is first-order insensitive to the remaining error). ReLU networks are only
        // piecewise smooth: at a kink the gradient cannot vanish exactly.
        let relative = self.mode_tolerance();
        let tolerance = relative * problem.gradient_scale();
        let mut best: Option<BestStart> = None;
        let mut failures = Vec::new();
        for (r, start) in starts.iter().enumerate() {
            let _step = crate::progress::step(format!(
                "the network's posterior mode (P = {}), start {} of {}",
                problem.n_params(),
                r + 1,
                starts.len()
            ));
            let end =
                match search_network_mode(&problem, start.clone(), 1e-2 * tolerance, tolerance) {
                    Ok(end) => end,
                    Err(e) => {
                        failures.push(e.message());
                        continue;
                    }
                };
            let (objective, gradient) = problem.objective_and_gradient(&end.params);
            if !objective.is_finite() {
                failures.push(Message::from(format!(
                    "the log posterior is {objective} at its end point"
                )));
                continue;
            }
            if best.as_ref().is_none_or(|b| objective < b.objective) {
                best = Some(BestStart {
                    params: end.params,
                    objective,
                    gradient_norm: gradient.norm(),
                    iterations: end.iterations,
                    start: r,
                });
            }
        }
        let best = best.ok_or_else(|| {
            OccamError::computation(
                "finding the MLP posterior mode (argmin L-BFGS)",
                Message::from(format!(
                    "every one of {} start(s) failed (first: ",
                    starts.len()
                ))
                .then(
                    failures
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "no reason given".into()),
                )
                .then(message![
                    "); more random starts may find a mode: raise ",
                    Setting::Restarts,
                    ", or try another ",
                    Setting::Seed
                ]),
            )
        })?;
        if best.gradient_norm > tolerance && self.arch.activation != Activation::Relu {
            return Err(OccamError::computation(
                "finding the MLP posterior mode (argmin L-BFGS)",
                message![
                    format!(
                        "after {} iterations ‖∇f‖ = {:.3e} > {tolerance:.3e} ({relative:e} of the gradient's scale), so the point is not a mode the Laplace evidence can use; try ",
                        best.iterations, best.gradient_norm
                    ),
                    Setting::Restarts,
                    ", another ",
                    Setting::Seed,
                    ", or a different ",
                    Setting::PriorSd
                ],
            ));
        }
        Ok(best)
    }
}
