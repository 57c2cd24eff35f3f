//! MAP estimation through argmin: any problem with a cost and a gradient, minimised by L-BFGS
//! with a Moré–Thuente line search.
//!
//! argmin reports convergence when its cost change is below an *absolute* tolerance or when a
//! line search stalls, neither of which proves a mode. So [`minimize_lbfgs`] recomputes ‖∇f‖ at
//! the point it returns and fails unless the gradient is small against the problem's own scale.

use super::argmin_problem::ArgminProblem;
use crate::error::{OccamError, Result};
use crate::model::problem::Objective;
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;

/// Settings of [`minimize_lbfgs`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOptions {
    /// Number of correction pairs L-BFGS keeps.
    pub memory: usize,
    /// Iteration limit.
    pub max_iters: u64,
    /// The returned point must have ‖∇f‖ ≤ `gradient_tolerance` (an absolute bound; callers scale
    /// it to the problem, e.g. 1e-10 × the size of the gradient's terms).
    pub gradient_tolerance: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            memory: 10,
            max_iters: 10_000,
            gradient_tolerance: 1e-8,
        }
    }
}

/// A minimiser found by [`minimize_lbfgs`], with its checked gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEstimate {
    /// The parameters at the minimum.
    pub params: DVector<f64>,
    /// f at the minimum.
    pub cost: f64,
    /// ‖∇f‖ at the minimum, recomputed after the solver stopped.
    pub gradient_norm: f64,
    /// Solver iterations used.
    pub iterations: u64,
}

/// Cost and gradient evaluations allowed per L-BFGS iteration, on average over a run, line searches
/// included; see [`Guarded`]. A bound that ends a runaway search, not a limit that fits meet:
/// MINPACK's More–Thuente search stops at 20 evaluations, but a network fit at a tiny prior sd
/// (s = 0.00316 on a 4-6-1 tanh network) averages about 100 an iteration and converges.
const EVALUATIONS_PER_ITERATION: u64 = 1000;

/// The problem as argmin's L-BFGS sees it: every cost and gradient checked finite, and their
/// number bounded.
///
/// Why: argmin's More–Thuente line search has no iteration limit of its own, and its termination
/// tests are comparisons that are all false once the cost is NaN (or its bracket collapses to
/// NaN), so from an overflowing trial point it evaluates forever — the hang of the logistic
/// prequential code, where a prefix fit warm-started from a large-s mode of separable rows met a
/// tiny s. A non-finite value or an exhausted budget is returned as an error, which ends the run.
struct Guarded<P> {
    problem: P,
    /// Costs and gradients evaluated so far.
    evaluations: std::cell::Cell<u64>,
    /// The most allowed: [`EVALUATIONS_PER_ITERATION`] × (iterations + 1).
    budget: u64,
    /// Why the guard stopped the run, for the error (argmin may end a run stopped inside its
    /// line search without a point and without passing the reason on).
    stopped: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl<P> Guarded<P> {
    /// Ends the run with `reason`, remembered for the error.
    fn stop<T>(&self, reason: String) -> std::result::Result<T, argmin::core::Error> {
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        stopped.get_or_insert_with(|| reason.clone());
        Err(argmin::core::Error::msg(reason))
    }

    fn count(&self) -> std::result::Result<(), argmin::core::Error> {
        let used = self.evaluations.get() + 1;
        self.evaluations.set(used);
        if used > self.budget {
            return self.stop(format!(
                "{} evaluations, the bound for this search, without converging",
                self.budget
            ));
        }
        Ok(())
    }
}

impl<P: CostFunction<Param = DVector<f64>, Output = f64>> CostFunction for Guarded<P> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &DVector<f64>) -> std::result::Result<f64, argmin::core::Error> {
        self.count()?;
        let cost = self.problem.cost(theta)?;
        if cost.is_finite() {
            Ok(cost)
        } else {
            self.stop(format!(
                "the cost is not finite ({cost}) at a trial point (the step overflowed)"
            ))
        }
    }
}

impl<P: Gradient<Param = DVector<f64>, Gradient = DVector<f64>>> Gradient for Guarded<P> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(
        &self,
        theta: &DVector<f64>,
    ) -> std::result::Result<DVector<f64>, argmin::core::Error> {
        self.count()?;
        let gradient = self.problem.gradient(theta)?;
        if gradient.iter().all(|g| g.is_finite()) {
            Ok(gradient)
        } else {
            self.stop("the gradient is not finite at a trial point (the step overflowed)".into())
        }
    }
}

/// Where an L-BFGS run stopped, unchecked.
#[derive(Debug, Clone)]
pub struct LbfgsEnd {
    /// The point (argmin's current point, else its best).
    pub params: DVector<f64>,
    /// Iterations run.
    pub iterations: u64,
    /// argmin's reason for stopping.
    pub reason: String,
}

/// Runs argmin's L-BFGS from `init` and returns where it stopped, unchecked, with the iteration
/// count and argmin's reason for stopping.
///
/// Every search is bounded without reference to the clock: `options.max_iters` iterations and
/// 1000 × (`max_iters` + 1) evaluations of the cost or gradient in all,
/// line searches included; a non-finite cost or gradient ends the run with an error.
pub fn run_lbfgs<P>(problem: P, init: DVector<f64>, options: LbfgsOptions) -> Result<LbfgsEnd>
where
    P: CostFunction<Param = DVector<f64>, Output = f64>
        + Gradient<Param = DVector<f64>, Gradient = DVector<f64>>,
{
    run_lbfgs_until_stalled(problem, init, options, 0.0)
}

/// [`run_lbfgs`] that also stops once an iteration lowers the cost by less than `stall`
/// (absolute; argmin's `tolerance_cost`, which [`run_lbfgs`] sets to 0).
///
/// Why: near a mode the cost of a sum over many rows is flat to its rounding (≈ 1e-16 relative)
/// well before ‖∇f‖ reaches a mode's tolerance; there every More–Thuente line search spends many
/// evaluations on differences of rounding errors (measured: 100 000 × 50, K = 10 softmax, 302
/// passes for 39 iterations, 260 of them after the cost had stopped changing beyond 1e-14
/// relative). A caller that polishes by Newton afterwards stops here instead.
pub fn run_lbfgs_until_stalled<P>(
    problem: P,
    init: DVector<f64>,
    options: LbfgsOptions,
    stall: f64,
) -> Result<LbfgsEnd>
where
    P: CostFunction<Param = DVector<f64>, Output = f64>
        + Gradient<Param = DVector<f64>, Gradient = DVector<f64>>,
{
    let fail = |message: String| OccamError::computation("MAP estimation (argmin L-BFGS)", message);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), options.memory)
        .with_tolerance_grad(options.gradient_tolerance)
        .and_then(|s| s.with_tolerance_cost(stall))
        .map_err(|e| fail(format!("invalid solver settings: {e}")))?;
    let stopped = std::sync::Arc::new(std::sync::Mutex::new(None));
    let guarded = Guarded {
        problem,
        evaluations: std::cell::Cell::new(0),
        budget: EVALUATIONS_PER_ITERATION.saturating_mul(options.max_iters.saturating_add(1)),
        stopped: stopped.clone(),
    };
    let stopped_reason = || {
        stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .map_or(String::new(), |reason| format!(" ({reason})"))
    };
    let result = Executor::new(guarded, solver)
        .configure(|state| state.param(init).max_iters(options.max_iters))
        .run()
        .map_err(|e| fail(format!("the solver stopped with an error: {e}")))?;
    if let Some(reason) = stopped.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return Err(fail(format!("the search was stopped: {reason}")));
    }
    let reason = result
        .state()
        .get_termination_reason()
        .map_or("no reason given".into(), |r| r.text().to_string());
    // The current point, not `best_param`: near the mode the costs differ by rounding only, so the
    // "best" point can be an earlier one whose gradient is larger. But when a line search fails
    // (e.g. the two-loop recursion gives an ascent direction after a poor curvature pair) argmin's
    // L-BFGS ends without a current point; the best point so far is then where the search got to,
    // and the caller's own checks (the gradient, a Newton polish) decide what it is worth.
    let params = result
        .state()
        .get_param()
        .or_else(|| result.state().get_best_param())
        .cloned()
        .ok_or_else(|| {
            fail(format!(
                "the solver returned no point ({reason}){}",
                stopped_reason()
            ))
        })?;
    Ok(LbfgsEnd {
        params,
        iterations: result.state().get_iter(),
        reason,
    })
}

/// Minimises `problem` from `init` with L-BFGS, then checks ‖∇f‖ ≤ `options.gradient_tolerance`.
pub fn minimize_lbfgs<P>(
    problem: P,
    init: DVector<f64>,
    options: LbfgsOptions,
) -> Result<MapEstimate>
where
    P: Objective + Clone,
{
    let fail = |message: String| OccamError::computation("MAP estimation (argmin L-BFGS)", message);
    let LbfgsEnd {
        params,
        iterations,
        reason,
    } = run_lbfgs(ArgminProblem(problem.clone()), init, options)?;
    let cost = problem.cost(&params);
    let gradient_norm = problem.gradient(&params).norm();
    if gradient_norm.is_nan() || gradient_norm > options.gradient_tolerance {
        return Err(fail(format!(
            "after {iterations} iterations ‖∇f‖ = {gradient_norm:.3e} > {:.3e} ({reason}); the point is not a mode",
            options.gradient_tolerance
        )));
    }
    Ok(MapEstimate {
        params,
        cost,
        gradient_norm,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{Hyperparameters, LinearGaussian};
    use crate::model::linear::PenalizedLeastSquares;
    use crate::testing::random_stats;

    #[test]
    fn lbfgs_agrees_with_the_closed_form() {
        for (n, k, seed) in [(200, 6, 1), (15, 25, 2), (1000, 40, 3)] {
            let (stats, _) = random_stats(n, k, seed);
            let center = DVector::from_fn(k, |i, _| 0.1 * i as f64 - 0.5);
            let hyper = Hyperparameters::new(0.8, 1.7);
            let exact = LinearGaussian::new(&stats)
                .unwrap()
                .posterior(hyper, &center);
            let problem = PenalizedLeastSquares::new(&stats, &center, 0.8, 1.7);
            let init = DVector::zeros(k);
            let tol = 1e-9 * problem.gradient_scale(&exact.mean);
            let map = minimize_lbfgs(
                problem,
                init,
                LbfgsOptions {
                    gradient_tolerance: tol,
                    ..Default::default()
                },
            )
            .unwrap();
            let rel = (&map.params - &exact.mean).norm() / exact.mean.norm();
            assert!(rel < 1e-6, "n={n} k={k}: relative difference {rel}");
        }
    }

    #[test]
    fn an_unreachable_tolerance_is_an_error_not_a_mode() {
        let (stats, _) = random_stats(50, 3, 4);
        let center = DVector::zeros(3);
        let problem = PenalizedLeastSquares::new(&stats, &center, 1.0, 1.0);
        let err = minimize_lbfgs(
            problem,
            DVector::zeros(3),
            LbfgsOptions {
                gradient_tolerance: 0.0,
                max_iters: 3,
                ..Default::default()
            },
        );
        assert!(err.is_err());
    }

    /// f(x) = Σ (xᵢ − 10)² where every xᵢ < 1, NaN beyond: from 0 the first trial step lands in
    /// the NaN region.
    #[derive(Clone)]
    struct NanBeyondOne;

    impl CostFunction for NanBeyondOne {
        type Param = DVector<f64>;
        type Output = f64;
        fn cost(&self, x: &DVector<f64>) -> std::result::Result<f64, argmin::core::Error> {
            Ok(if x.iter().all(|v| *v < 1.0) {
                x.iter().map(|v| (v - 10.0).powi(2)).sum()
            } else {
                f64::NAN
            })
        }
    }

    impl Gradient for NanBeyondOne {
        type Param = DVector<f64>;
        type Gradient = DVector<f64>;
        fn gradient(
            &self,
            x: &DVector<f64>,
        ) -> std::result::Result<DVector<f64>, argmin::core::Error> {
            Ok(if x.iter().all(|v| *v < 1.0) {
                x.map(|v| 2.0 * (v - 10.0))
            } else {
                x.map(|_| f64::NAN)
            })
        }
    }

    #[test]
    fn a_nan_cost_ends_the_search_instead_of_looping_in_the_line_search() {
        // Before the guard, argmin's More–Thuente search evaluated NaN points forever here.
        let started = std::time::Instant::now();
        let result = run_lbfgs(NanBeyondOne, DVector::zeros(2), LbfgsOptions::default());
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("not finite") || message.contains("NaN"),
            "{message}"
        );
        assert!(started.elapsed().as_secs() < 10);
    }
}
