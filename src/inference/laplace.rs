//! Modes and Laplace evidence for models without a closed form (math.md §4).
//!
//! **Solver: L-BFGS, then Newton.** argmin's L-BFGS is a robust global method that needs only
//! gradients, so it brings the parameters near the mode cheaply; but its cost tolerance is
//! absolute and it reports convergence when a line search stalls, so its point is not trusted as a
//! mode. Newton steps on the exact Hessian — which the Laplace evidence needs anyway — then
//! converge quadratically (one to three steps), with backtracking for safety, until ‖∇f‖ is small
//! against the problem's own gradient scale; that check is ours, not argmin's.
//!
//! Why not Newton from the start: on n = 100 000 rows and P = 51 parameters a Hessian (a GEMM over
//! all rows) costs about two passes over the data, and from θ = 0 Newton needs about six steps
//! (as scikit-learn's newton-cholesky does there). L-BFGS in Hessian-diagonal-scaled coordinates
//! ([`find_mode_scaled`]) reaches the hand-off in 7 one-pass iterations, and one Newton step
//! finishes: a Hessian at the hand-off, and one pass at the step's candidate that forms f, ∇f and
//! the Hessian together ([`NewtonProblem::cost_and_curvature`]) — the Hessian the Laplace evidence
//! needs at the mode.
//!
//! **Laplace evidence.** ln p(D) ≈ ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H|, with H the
//! Hessian of the negative log posterior at the mode θ̂ and P the number of parameters.

use super::argmin_problem::ArgminProblem;
use super::map::{run_lbfgs, run_lbfgs_until_stalled, LbfgsEnd, LbfgsOptions};
use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use crate::model::problem::{CostAndCurvature, Curvature, NewtonProblem, Objective};
use argmin::core::{CostFunction, Executor, State};
use argmin::solver::brent::BrentOpt;
use nalgebra::{Cholesky, DMatrix, DVector, Dyn};
use std::cell::RefCell;
use std::f64::consts::PI;

/// A mode θ̂ with the Hessian there, checked: ‖∇f(θ̂)‖ ≤ tolerance.
#[derive(Debug, Clone)]
pub struct Mode {
    /// θ̂.
    pub params: DVector<f64>,
    /// f(θ̂).
    pub cost: f64,
    /// ‖∇f(θ̂)‖.
    pub gradient_norm: f64,
    /// The bound it had to meet.
    pub gradient_tolerance: f64,
    /// H = ∇²f(θ̂).
    pub hessian: DMatrix<f64>,
    /// Its Cholesky factor (H is positive definite at a strict minimum).
    pub cholesky: Cholesky<f64, Dyn>,
    /// L-BFGS iterations.
    pub lbfgs_iterations: u64,
    /// Newton iterations.
    pub newton_iterations: usize,
}

/// A Newton step whose decrement λ² = ∇fᵀH⁻¹∇f is at most this asks for f, ∇f and ∇²f together
/// at its full step ([`NewtonProblem::cost_and_curvature`]): near the mode (where the predicted
/// decrease ½λ² is well under a nat) the full step is taken, so the curvature computed with the
/// cost is rarely wasted on a rejected point.
const FUSED_DECREMENT: f64 = 1.0;

/// Relative gradient tolerance for a mode: ‖∇f‖ ≤ 1e-9 × the gradient's scale.
pub const MODE_TOLERANCE: f64 = 1e-9;

/// Finds the minimum of a smooth, strictly convex problem from `init`: L-BFGS to a loose
/// tolerance (skipped when `init` is already close), then Newton until ‖∇f‖ ≤ `tolerance`.
pub fn find_mode<P>(problem: &P, init: DVector<f64>, tolerance: f64) -> Result<Mode>
where
    P: NewtonProblem + Clone,
{
    find_mode_scaled(problem, init, tolerance, None)
}

/// Where [`find_mode_scaled`] hands over from L-BFGS to Newton: ‖∇f‖ at 1e-5 of its starting
/// value. Newton converges quadratically, a relative gradient r going to about r² (0.45 r² measured
/// on a 100 000-row logistic fit), so one step from here lands below [`MODE_TOLERANCE`] and the
/// Hessian is formed twice (once for the step, once at the mode for the evidence); stopping L-BFGS
/// at 1e-3 there took a second Newton step, i.e. a third Hessian, each costing ~4 passes over the
/// data, while near the mode an L-BFGS iteration is one pass.
const SCALED_HANDOFF: f64 = 1e-5;

/// At most this many L-BFGS iterations in [`find_mode_scaled`] before Newton takes over from
/// wherever L-BFGS got to. On a well-conditioned problem L-BFGS reaches [`SCALED_HANDOFF`] in a
/// handful (7 on 100 000 × 50); on an ill-conditioned one — a few rows, or a nearly flat prior
/// while empirical Bayes searches over s — it converges linearly and could take hundreds, where
/// Newton needs a few steps. Without this cap the report's `centres` study (prequential codes
/// with s refitted on every prefix) took over 100× longer.
const SCALED_MAX_ITERS: u64 = 20;

/// A problem in the coordinates u = θ / d (θ = d ∘ u) for a fixed positive `d`: f̃(u) = f(d ∘ u),
/// ∇f̃(u) = d ∘ ∇f(d ∘ u). With dⱼ ≈ 1/√Hⱼⱼ the Hessian in u has a unit diagonal, so the first
/// L-BFGS step — plain steepest descent, since argmin's L-BFGS has no curvature pairs yet and
/// takes −∇f̃ with a unit trial step — is already of the right length.
#[derive(Clone)]
struct Rescaled<P> {
    problem: P,
    d: DVector<f64>,
}

impl<P: Objective> Objective for Rescaled<P> {
    fn cost(&self, u: &DVector<f64>) -> f64 {
        self.problem.cost(&self.d.component_mul(u))
    }

    fn gradient(&self, u: &DVector<f64>) -> DVector<f64> {
        self.d
            .component_mul(&self.problem.gradient(&self.d.component_mul(u)))
    }
}

/// The coordinate scales for [`find_mode_scaled`] from a positive Hessian diagonal: 1/√Hⱼⱼ,
/// rounded to a power of two so that θ → θ/d → d ∘ (θ/d) gives back θ bit for bit (a problem
/// that remembers its last evaluation then recognises the point).
pub fn scales_from_diagonal(diagonal: &DVector<f64>) -> DVector<f64> {
    diagonal.map(|h| {
        if h > 0.0 && h.is_finite() {
            (-0.5 * h.log2()).round().exp2()
        } else {
            1.0
        }
    })
}

/// [`lbfgs_scaled_to_tolerance`] stops once an iteration lowers f by less than this fraction of
/// |f(init)|: a few hundred roundings of a sum's terms (f64's 2.2e-16 relative each).
pub const COST_STALL_RELATIVE: f64 = 1e-14;

/// L-BFGS alone, in the coordinates u = θ / `scale` (as [`find_mode_scaled`]'s first stage), run
/// toward ‖∇f(θ)‖ ≤ `tolerance` itself rather than to the loose hand-off: since ∇f̃(u) = d ∘ ∇f(θ),
/// ‖∇f(θ)‖ ≤ ‖∇f̃(u)‖ / minⱼ dⱼ, so L-BFGS is asked for ‖∇f̃‖ ≤ `tolerance` · minⱼ dⱼ. At most
/// `max_iters` iterations. Returns where it stopped (`init` if it failed or left the finite
/// numbers) and the iterations run; the caller hands that point to [`find_mode_scaled`], which
/// then needs only the Hessian at the mode when the bound was met (and falls back to its own
/// L-BFGS and Newton otherwise).
///
/// It also stops when an iteration lowers f by less than [`COST_STALL_RELATIVE`] · |f(init)|: the
/// cost of a sum over many rows is flat to its rounding before ‖∇f‖ reaches a mode's tolerance,
/// and the line searches there only spend passes ([`run_lbfgs_until_stalled`]).
///
/// Why: when one Hessian costs as much as many passes over the data (the softmax Fisher
/// information, P × P with P = K·m), the L-BFGS passes to the mode are cheaper than a Newton step
/// that needs a Hessian of its own besides the one at the mode for the Laplace evidence.
pub fn lbfgs_scaled_to_tolerance<P>(
    problem: &P,
    init: DVector<f64>,
    tolerance: f64,
    scale: &DVector<f64>,
    max_iters: u64,
) -> (DVector<f64>, u64)
where
    P: Objective + Clone,
{
    let smallest = scale.iter().copied().fold(f64::INFINITY, f64::min);
    if !(smallest > 0.0 && smallest.is_finite()) || max_iters == 0 {
        return (init, 0);
    }
    let options = LbfgsOptions {
        gradient_tolerance: tolerance * smallest,
        max_iters,
        ..Default::default()
    };
    // An iteration that lowers f by less than this is rounding: the Newton polish takes over.
    let stall = COST_STALL_RELATIVE * problem.cost(&init).abs();
    let rescaled = Rescaled {
        problem: problem.clone(),
        d: scale.clone(),
    };
    match run_lbfgs_until_stalled(
        ArgminProblem(rescaled),
        init.component_div(scale),
        options,
        stall,
    ) {
        Ok(end) => {
            let theta = scale.component_mul(&end.params);
            if theta.iter().all(|v| v.is_finite()) {
                (theta, end.iterations)
            } else {
                (init, end.iterations)
            }
        }
        Err(_) => (init, 0),
    }
}

/// [`find_mode`] with L-BFGS run in the coordinates u = θ / `scale` (each entry positive, e.g.
/// [`scales_from_diagonal`] of the Hessian diagonal at `init`); `None` runs it on θ itself.
///
/// Why: argmin's L-BFGS starts with a steepest-descent step of trial length 1, and on a sum over n
/// rows the gradient is O(n), so unscaled its first line search spends several passes over the
/// data shrinking a step of the size of the gradient (7 of 18 passes at n = 100 000). The Newton
/// polish and the returned mode are in θ and do not depend on the scaling beyond rounding.
pub fn find_mode_scaled<P>(
    problem: &P,
    init: DVector<f64>,
    tolerance: f64,
    scale: Option<&DVector<f64>>,
) -> Result<Mode>
where
    P: NewtonProblem + Clone,
{
    let fail = |message: String| {
        OccamError::computation("finding the posterior mode (L-BFGS, then Newton)", message)
    };
    let mut theta = init;
    let mut lbfgs_iterations = 0;
    // Newton converges from close by in a few steps; far away L-BFGS is cheaper per step.
    let start_gradient = problem.gradient(&theta);
    if start_gradient.norm() > 1e3 * tolerance {
        let lbfgs = match scale {
            None => {
                let loose = LbfgsOptions {
                    gradient_tolerance: 1e-3 * start_gradient.norm(),
                    max_iters: 500,
                    ..Default::default()
                };
                run_lbfgs(ArgminProblem(problem.clone()), theta.clone(), loose)
            }
            Some(d) => {
                // Relative to the starting gradient in u, d ∘ ∇f.
                let loose = LbfgsOptions {
                    gradient_tolerance: SCALED_HANDOFF * d.component_mul(&start_gradient).norm(),
                    max_iters: SCALED_MAX_ITERS,
                    ..Default::default()
                };
                let rescaled = Rescaled {
                    problem: problem.clone(),
                    d: d.clone(),
                };
                run_lbfgs(ArgminProblem(rescaled), theta.component_div(d), loose).map(|end| {
                    LbfgsEnd {
                        params: d.component_mul(&end.params),
                        ..end
                    }
                })
            }
        };
        if let Ok(end) = lbfgs {
            if end.params.iter().all(|v| v.is_finite()) {
                theta = end.params;
            }
            lbfgs_iterations = end.iterations;
        }
    }
    let mut cost = problem.cost(&theta);
    let mut gradient = problem.gradient(&theta);
    let mut hessian = problem.hessian(&theta);
    for newton_iterations in 0..=100 {
        let gradient_norm = gradient.norm();
        let cholesky = hessian.clone().cholesky().ok_or_else(|| {
            fail(format!("the Hessian is not positive definite at iteration {newton_iterations}; the posterior has no strict mode (is the prior proper?)"))
        })?;
        if gradient_norm <= tolerance {
            return Ok(Mode {
                params: theta,
                cost,
                gradient_norm,
                gradient_tolerance: tolerance,
                hessian,
                cholesky,
                lbfgs_iterations,
                newton_iterations,
            });
        }
        if !gradient_norm.is_finite() {
            return Err(fail("the gradient is not finite".into()));
        }
        let step = cholesky.solve(&gradient);
        let decrement = gradient.dot(&step);
        let mut t = 1.0;
        loop {
            let candidate = &theta - &step * t;
            let CostAndCurvature {
                cost: candidate_cost,
                curvature,
            } = if t == 1.0 && decrement <= FUSED_DECREMENT {
                problem.cost_and_curvature(&candidate)
            } else {
                CostAndCurvature {
                    cost: problem.cost(&candidate),
                    curvature: None,
                }
            };
            // At rounding level the cost cannot rank the points; the full step is then the best bet.
            let negligible = decrement <= 1e-13 * cost.abs().max(1.0);
            if candidate_cost <= cost - 1e-4 * t * decrement || (negligible && t == 1.0) {
                (gradient, hessian) = match curvature {
                    Some(Curvature { gradient, hessian }) => (gradient, hessian),
                    None => (problem.gradient(&candidate), problem.hessian(&candidate)),
                };
                theta = candidate;
                cost = candidate_cost;
                break;
            }
            t *= 0.5;
            if t < 1e-12 {
                return Err(fail(format!(
                    "the Newton line search stalled at ‖∇f‖ = {gradient_norm:.3e} (needed ≤ {tolerance:.3e}) after {newton_iterations} iterations"
                )));
            }
        }
    }
    Err(fail(format!(
        "no convergence to ‖∇f‖ ≤ {tolerance:.3e} in 100 Newton iterations"
    )))
}

/// The Laplace approximation of ln p(D) and what goes into it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaplaceEvidence {
    /// ln p(D) ≈ ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H|.
    pub log_evidence: f64,
    /// ln p(D | θ̂).
    pub log_likelihood: f64,
    /// ln π(θ̂) (flat coordinates contribute nothing: their normaliser is omitted).
    pub log_prior: f64,
    /// ln|H|.
    pub log_det_hessian: f64,
    /// γ = tr(H⁻¹F) with F = H − Λ the data's curvature: P − Σⱼ Λⱼ (H⁻¹)ⱼⱼ.
    pub effective_parameters: f64,
    /// √diag(H⁻¹), the posterior sd of each parameter.
    pub posterior_sd: DVector<f64>,
}

/// ln N(θ; μ, Λ⁻¹) over the coordinates with Λⱼ > 0 (flat coordinates are omitted).
pub fn log_prior_density(
    theta: &DVector<f64>,
    center: &DVector<f64>,
    precision: &DVector<f64>,
) -> f64 {
    theta
        .iter()
        .zip(center.iter())
        .zip(precision.iter())
        .filter(|(_, l)| **l > 0.0)
        .map(|((t, m), l)| 0.5 * (l / (2.0 * PI)).ln() - 0.5 * l * (t - m) * (t - m))
        .sum()
}

/// The Laplace evidence at a mode, for a prior with diagonal precision Λ.
pub fn laplace_evidence(
    mode: &Mode,
    log_likelihood: f64,
    center: &DVector<f64>,
    precision: &DVector<f64>,
) -> LaplaceEvidence {
    let p = mode.params.len();
    let log_det_hessian = 2.0
        * mode
            .cholesky
            .l_dirty()
            .diagonal()
            .iter()
            .map(|d| d.ln())
            .sum::<f64>();
    let log_prior = log_prior_density(&mode.params, center, precision);
    let covariance = mode.cholesky.inverse();
    let effective_parameters = p as f64
        - (0..p)
            .map(|j| precision[j] * covariance[(j, j)])
            .sum::<f64>();
    LaplaceEvidence {
        log_evidence: log_likelihood + log_prior + 0.5 * p as f64 * (2.0 * PI).ln()
            - 0.5 * log_det_hessian,
        log_likelihood,
        log_prior,
        log_det_hessian,
        effective_parameters,
        posterior_sd: DVector::from_fn(p, |j, _| covariance[(j, j)].max(0.0).sqrt()),
    }
}

/// The interval of ln s searched by [`maximize_over_log_sd`]: s from 1e-4 to 1e4 on standardised
/// weights.
pub const LOG_SD_RANGE: (f64, f64) = (-9.210_340_371_976_182, 9.210_340_371_976_182);

/// A 1-D function of ln s, minimised by argmin's Brent method.
///
/// argmin carries a failed evaluation as text; the first failure's typed message is kept here so
/// that the settings it names reach the front end as settings, not as the library's spelling.
struct NegativeLogEvidence<'f> {
    evaluate: &'f dyn Fn(f64) -> Result<f64>,
    first_failure: &'f RefCell<Option<Message>>,
}

impl CostFunction for NegativeLogEvidence<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, log_sd: &f64) -> std::result::Result<f64, argmin::core::Error> {
        (self.evaluate)(*log_sd).map(|e| -e).map_err(|e| {
            let text = e.to_string();
            self.first_failure.borrow_mut().get_or_insert(e.message());
            argmin::core::Error::msg(text)
        })
    }
}

/// The grid [`maximize_over_log_sd`] scans before refining: two points a decade,
/// ln s = ln 10⁻⁴, ln 10⁻³·⁵, …, ln 10⁴ (17 points). The evidence is smooth in ln s on this
/// scale (its peaks are at least a decade wide wherever the data determine s at all), so a peak
/// between two grid points shows as a grid point higher than both neighbours.
pub fn log_sd_grid() -> Vec<f64> {
    let (lo, hi) = LOG_SD_RANGE;
    let steps = 16;
    (0..=steps)
        .map(|i| lo + (hi - lo) * i as f64 / steps as f64)
        .collect()
}

/// Where [`maximize_over_log_sd`] found the highest evidence, and what else it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSdOptimum {
    /// ln ŝ.
    pub log_sd: f64,
    /// ln p(D | ŝ).
    pub log_evidence: f64,
    /// Evaluations of the evidence, grid and refinement.
    pub evaluations: usize,
    /// Remarks for the notes: another peak within [`SECOND_PEAK_NATS`] of the highest, grid
    /// points where the evaluation failed.
    pub notes: Vec<Message>,
}

/// A second local maximum of the evidence at least this close (in nats) to the highest is
/// reported: the data hardly prefer one s to the other.
pub const SECOND_PEAK_NATS: f64 = 1.0;

/// Brent's method for the maximum of `log_evidence` over ln s ∈ [lo, hi] (to 1e-7 in ln s, at
/// most 100 evaluations). Returns ln s, ln p there and the evaluations used.
fn refine_log_sd(
    log_evidence: &dyn Fn(f64) -> Result<f64>,
    lo: f64,
    hi: f64,
) -> std::result::Result<(f64, f64, usize), Message> {
    let first_failure = RefCell::new(None);
    let problem = NegativeLogEvidence {
        evaluate: log_evidence,
        first_failure: &first_failure,
    };
    let result = Executor::new(problem, BrentOpt::new(lo, hi).set_tolerance(1e-8, 1e-7))
        .configure(|state| state.max_iters(100))
        .run()
        .map_err(|e| {
            // The evaluation's own message when an evaluation failed; argmin's otherwise.
            first_failure
                .take()
                .unwrap_or_else(|| Message::from(e.to_string()))
        })?;
    let state = result.state();
    let best = *state
        .get_best_param()
        .ok_or_else(|| Message::from("no point evaluated"))?;
    Ok((best, -state.get_best_cost(), state.get_iter() as usize))
}

/// Empirical Bayes for s: the ln s in [`LOG_SD_RANGE`] that maximises `log_evidence(ln s)`.
///
/// First the evidence on [`log_sd_grid`] (in ascending order), then Brent's method between the
/// neighbours of every grid point that is a local maximum within [`SECOND_PEAK_NATS`] + 1 nats
/// of the highest; the highest refined peak wins, and any other within [`SECOND_PEAK_NATS`] of
/// it is reported in the notes. A grid point whose evaluation fails counts as −∞ (and is
/// reported); if every one fails the error carries the first reason. The highest grid point at
/// an edge of the range is an error: the evidence has no interior maximum. The number of
/// evaluations is bounded (17 + 100 per refined peak) whatever the function.
pub fn maximize_over_log_sd(log_evidence: &dyn Fn(f64) -> Result<f64>) -> Result<LogSdOptimum> {
    let fail = |message: Message| {
        OccamError::computation(
            "empirical Bayes for the prior sd (a grid in ln s, then Brent)",
            message,
        )
    };
    let grid = log_sd_grid();
    let mut values = Vec::with_capacity(grid.len());
    let mut failures: Vec<(f64, Message)> = Vec::new();
    for &log_sd in &grid {
        match log_evidence(log_sd) {
            Ok(v) if v.is_finite() => values.push(v),
            Ok(v) => {
                failures.push((log_sd, format!("the evidence is {v}").into()));
                values.push(f64::NEG_INFINITY);
            }
            Err(e) => {
                failures.push((log_sd, e.message()));
                values.push(f64::NEG_INFINITY);
            }
        }
    }
    let mut evaluations = grid.len();
    let Some((top, &top_value)) = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
    else {
        let (log_sd, reason) = &failures[0];
        return Err(fail(
            Message::from(format!(
                "the evidence could not be evaluated at any of the {} grid points from s = 1e-4 to 1e4; at s = {:.3e}: ",
                grid.len(),
                log_sd.exp()
            ))
            .then(reason.clone()),
        ));
    };
    if top == 0 || top == grid.len() - 1 {
        return Err(fail(message![
            format!(
                "the evidence keeps rising towards s = {:.3e}, the edge of the searched range [1e-4, 1e4]; fix ",
                grid[top].exp()
            ),
            Setting::PriorSd
        ]));
    }
    let mut peaks: Vec<(f64, f64)> = Vec::new();
    for i in 1..grid.len() - 1 {
        let is_peak = values[i] > values[i - 1] && values[i] >= values[i + 1];
        if !is_peak || values[i] < top_value - SECOND_PEAK_NATS - 1.0 {
            continue;
        }
        match refine_log_sd(log_evidence, grid[i - 1], grid[i + 1]) {
            Ok((log_sd, value, used)) => {
                evaluations += used;
                // Brent keeps the best point it saw, which is never below the grid point.
                peaks.push(if value >= values[i] {
                    (log_sd, value)
                } else {
                    (grid[i], values[i])
                });
            }
            Err(reason) if i == top => {
                return Err(fail(
                    Message::from(format!(
                        "refining the peak near s = {:.3e} failed: ",
                        grid[i].exp()
                    ))
                    .then(reason),
                ))
            }
            Err(_) => peaks.push((grid[i], values[i])),
        }
    }
    let (log_sd, best) = peaks
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((grid[top], top_value));
    let mut notes = Vec::new();
    for &(other, value) in &peaks {
        if other != log_sd && best - value <= SECOND_PEAK_NATS {
            notes.push(format!(
                "empirical Bayes: the evidence has a second peak at s = {:.4} (ln p = {value:.4}, {:.3} nats below the chosen s = {:.4}); the data hardly prefer one to the other",
                other.exp(),
                best - value,
                log_sd.exp()
            ).into());
        }
    }
    if let Some((at, reason)) = failures.first() {
        notes.push(
            Message::from(format!(
                "empirical Bayes: the evidence could not be evaluated at {} of the {} grid points in ln s (first at s = {:.3e}: ",
                failures.len(),
                grid.len(),
                at.exp()
            ))
            .then(reason.clone())
            .and("); they were skipped"),
        );
    }
    Ok(LogSdOptimum {
        log_sd,
        log_evidence: best,
        evaluations,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::logistic::LogisticProblem;
    use crate::testing::random_design;

    /// ln p(D) by quadrature: ln ∫ p(D | θ) π(θ) dθ on a grid in the Hessian-whitened coordinates
    /// u = Lᵀ(θ − θ̂), composite Simpson over [−R, R]^P — the independent route.
    fn quadrature_log_evidence(
        problem: &LogisticProblem,
        precision: &DVector<f64>,
        mode: &Mode,
    ) -> f64 {
        let p = mode.params.len();
        let (radius, points) = (12.0, if p == 1 { 2001 } else { 241 });
        let h = 2.0 * radius / (points - 1) as f64;
        let simpson = |i: usize| {
            if i == 0 || i == points - 1 {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            }
        };
        let l_inv_t = mode.cholesky.l().transpose().try_inverse().unwrap();
        let log_normaliser: f64 = precision.iter().map(|l| 0.5 * (l / (2.0 * PI)).ln()).sum();
        let f0 = problem.objective(&mode.params);
        let mut terms = Vec::with_capacity(points.pow(p as u32));
        let mut index = vec![0usize; p];
        loop {
            let u = DVector::from_fn(p, |j, _| -radius + h * index[j] as f64);
            let theta = &mode.params + &l_inv_t * u;
            let weight: f64 = index.iter().map(|&i| simpson(i) * h / 3.0).product();
            terms.push(weight.ln() - (problem.objective(&theta) - f0));
            let mut j = 0;
            while j < p {
                index[j] += 1;
                if index[j] < points {
                    break;
                }
                index[j] = 0;
                j += 1;
            }
            if j == p {
                break;
            }
        }
        let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_integral = top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln();
        // dθ = |L⁻ᵀ| du = du / √|H|.
        log_normaliser - f0 + log_integral
            - 0.5
                * mode
                    .cholesky
                    .l()
                    .diagonal()
                    .iter()
                    .map(|d| 2.0 * d.ln())
                    .sum::<f64>()
    }

    fn laplace_error(n: usize, k: usize, intercept: bool, seed: u64) -> (f64, f64) {
        let (x, y) = random_design(n, k, seed);
        let z = x.transpose().as_slice().to_vec();
        let labels: Vec<f64> = y.iter().map(|v| if *v > 0.0 { 1.0 } else { 0.0 }).collect();
        let p = k + usize::from(intercept);
        let center = DVector::from_element(p, 0.3);
        let precision = DVector::from_element(p, 0.5);
        let problem = LogisticProblem::new(&z, &labels, k, intercept, &center, &precision);
        let mode = find_mode(
            &problem,
            DVector::zeros(p),
            MODE_TOLERANCE * problem.gradient_scale(),
        )
        .unwrap();
        let laplace = laplace_evidence(
            &mode,
            -problem.negative_log_likelihood(&mode.params),
            &center,
            &precision,
        )
        .log_evidence;
        (
            laplace,
            quadrature_log_evidence(&problem, &precision, &mode),
        )
    }

    #[test]
    fn laplace_evidence_is_close_to_quadrature_and_closes_in_with_n() {
        // P = 1 (one weight, no intercept) and P = 2 (one weight and an intercept).
        for (k, intercept) in [(1, false), (1, true)] {
            let mut errors = Vec::new();
            for n in [20, 200, 1000] {
                let (laplace, quadrature) = laplace_error(n, k, intercept, 3);
                let error = laplace - quadrature;
                println!("P = {}, n = {n}: Laplace {laplace:.6}, quadrature {quadrature:.6}, error {error:+.2e} nats", k + usize::from(intercept));
                errors.push(error.abs());
            }
            // The Laplace error is O(1/n) in ln p: small already at n = 20, and shrinking.
            assert!(errors[0] < 0.05, "{errors:?}");
            assert!(
                errors[2] < errors[1] && errors[1] < errors[0] && errors[2] < 3e-3,
                "{errors:?}"
            );
        }
    }

    /// Two Gaussian bumps in ln s: a lower one at ln s = −2 (height `low`) and a higher, narrower
    /// one at ln s = 3 (height 0) on a flat floor of −10.
    fn two_peaks(log_sd: f64, low: f64) -> f64 {
        let bump = |centre: f64, width: f64, height: f64| {
            (height + 10.0) * (-0.5 * ((log_sd - centre) / width).powi(2)).exp()
        };
        -10.0 + bump(-2.0, 1.5, low).max(bump(3.0, 0.8, 0.0))
    }

    #[test]
    fn empirical_bayes_finds_the_highest_peak_and_notes_a_close_second() {
        // Brent on the whole range from its golden-section start stops on the lower peak; the
        // grid sees both and the higher one wins.
        let brent_alone =
            refine_log_sd(&|l| Ok(two_peaks(l, -3.0)), LOG_SD_RANGE.0, LOG_SD_RANGE.1).unwrap();
        assert!((brent_alone.0 + 2.0).abs() < 1e-3, "{brent_alone:?}");
        let far = maximize_over_log_sd(&|l| Ok(two_peaks(l, -3.0))).unwrap();
        assert!(
            (far.log_sd - 3.0).abs() < 1e-5 && far.log_evidence.abs() < 1e-9,
            "{far:?}"
        );
        assert!(
            far.notes.is_empty(),
            "3 nats apart is no second peak: {:?}",
            far.notes
        );
        let close = maximize_over_log_sd(&|l| Ok(two_peaks(l, -0.5))).unwrap();
        assert!((close.log_sd - 3.0).abs() < 1e-5, "{close:?}");
        assert_eq!(close.notes.len(), 1, "{:?}", close.notes);
        assert!(
            close.notes[0]
                .to_string()
                .contains("second peak at s = 0.1353"),
            "{}",
            close.notes[0]
        );
        // 17 grid points and two bounded refinements.
        assert!(close.evaluations <= 17 + 2 * 100);
    }

    #[test]
    fn empirical_bayes_says_why_it_has_no_answer() {
        let rising = maximize_over_log_sd(&|l| Ok(l)).unwrap_err().to_string();
        assert!(
            rising.contains("keeps rising towards s = 1.000e4") && rising.ends_with("fix prior_sd"),
            "{rising}"
        );
        let broken = maximize_over_log_sd(&|_| Err(OccamError::computation("a mode", "no luck")))
            .unwrap_err()
            .to_string();
        assert!(
            broken.contains("any of the 17 grid points") && broken.contains("no luck"),
            "{broken}"
        );
        // Failed grid points away from the peak are skipped and reported.
        let patchy = maximize_over_log_sd(&|l| {
            if l > 6.0 {
                Err(OccamError::computation("a mode", "diverged"))
            } else {
                Ok(-(l - 1.0).powi(2))
            }
        })
        .unwrap();
        assert!((patchy.log_sd - 1.0).abs() < 1e-5, "{patchy:?}");
        assert!(
            patchy
                .notes
                .iter()
                .any(|n| n.to_string().contains("diverged")),
            "{:?}",
            patchy.notes
        );
    }
}
