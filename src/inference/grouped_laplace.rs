//! Empirical Bayes over prior groups for models with a Laplace evidence (logistic and softmax
//! regression; math.md §8).
//!
//! The prior is N(μ, Λ⁻¹) with Λ = diag(α_g on group g), α_g = 1/s_g², and, for parameters no
//! group covers (an intercept under `free` or `prior:SD`), a fixed precision of their own. At each
//! Λ the MAP θ̂ is refitted (warm-started from the last mode, its gradient rechecked by the model's
//! own mode finder) and the evidence is Laplace's,
//!
//! L(Λ) = ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H|, H = F + Λ at θ̂.
//!
//! **MacKay's fixed point.** With S = H⁻¹ (the Laplace covariance), γ_g = P_g − α_g tr(S_gg) and
//! α_g ← γ_g / ‖θ̂_g − μ_g‖², iterated to |Δ ln α_g| < [`MACKAY_TOLERANCE`] or
//! [`MACKAY_MAX_ITERATIONS`]. This is the stationarity condition of L when H is held fixed; it
//! ignores that F = F(θ̂) moves with the mode (the third derivatives of the likelihood), so its
//! point is not exactly stationary for L.
//!
//! **Polish.** Coordinate-wise Newton steps in u_g = ln s_g on central finite differences of the
//! whole of L (step [`FD_STEP`]), each step bounded to ±[`MAX_STEP`] and accepted only if L rises
//! (halved otherwise), sweeps bounded by [`MAX_SWEEPS`], until every |∂L/∂u_g| ≤
//! [`STATIONARY_TOLERANCE`]·max(1, P_g). The polish evaluates L from one fixed start (the fixed
//! point's mode), so that L is a function of Λ alone, not of the path.
//!
//! **Pruning.** A group whose α_g exceeds [`PRUNE_RATIO`] times the data's curvature on it
//! (max_{j∈g} F_jj at the mode) is pruned: s_g = 0, its parameters at its centre. Its evidence is
//! evaluated with α_g = [`PRUNED_PRECISION_RATIO`]·max(1, max F_jj), where L differs from the
//! limit α_g → ∞ (the group's parameters dropped: the terms ½ ln α_g of the prior and −½ ln α_g of
//! ½ ln|H| cancel) by O(F_jj/α_g) ≈ 1e-14 relative. After convergence each pruned group is offered
//! back at α_g = F_max·10^t, t = −6…9: if L there beats the pruned limit, the search restarts from
//! the best such point (at most G + 1 rounds), as the linear model's code does.

use super::laplace::{LaplaceEvidence, Mode};
use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use nalgebra::DVector;

/// A group is pruned once α_g exceeds this many times the data's curvature on its parameters:
/// there γ_g ≈ P_g·F/α_g ≤ 1e-6·P_g and its share of the evidence is within ~1e-6 nats of the
/// limit α_g → ∞ (the revival check below undoes a prune that the evidence does not back).
pub const PRUNE_RATIO: f64 = 1e6;
/// The precision a pruned group is evaluated at, relative to max(1, the data's curvature on it).
pub const PRUNED_PRECISION_RATIO: f64 = 1e14;
/// MacKay's fixed point stops once max_g |Δ ln α_g| falls below this.
pub const MACKAY_TOLERANCE: f64 = 1e-6;
/// ... or after this many refits.
pub const MACKAY_MAX_ITERATIONS: usize = 200;
/// The finite-difference step in u_g = ln s_g.
pub const FD_STEP: f64 = 1e-3;
/// The polish's largest step in u_g.
pub const MAX_STEP: f64 = 1.0;
/// The polish's sweeps over the groups.
pub const MAX_SWEEPS: usize = 60;
/// Stationary: |∂L/∂ln s_g| ≤ this × max(1, P_g) nats.
pub const STATIONARY_TOLERANCE: f64 = 1e-4;
/// s_g above this is refused: the evidence keeps rising as the group's prior widens.
pub const LARGEST_SD: f64 = 1e4;

/// The mode and Laplace evidence of the model at a per-parameter precision, from a start.
pub type FitAt<'f> = dyn Fn(&DVector<f64>, DVector<f64>) -> Result<(Mode, LaplaceEvidence)> + 'f;

/// A model with a Laplace evidence and a grouping of (some of) its parameters.
pub struct GroupedLaplace<'f> {
    /// Group of each parameter, `None` for parameters outside every group.
    labels: Vec<Option<usize>>,
    /// P_g.
    sizes: Vec<usize>,
    /// α_g where fixed.
    fixed: Vec<Option<f64>>,
    /// The precision of the parameters outside every group (0 = flat).
    outside: DVector<f64>,
    /// μ over all P parameters.
    center: DVector<f64>,
    fit: &'f FitAt<'f>,
}

/// Everything at one Λ.
#[derive(Debug, Clone)]
pub struct GroupedLaplacePoint {
    /// α_g (∞ for a pruned group).
    pub precisions: Vec<f64>,
    /// The per-parameter precision the model was fitted with (pruned groups at their finite
    /// stand-in).
    pub precision: DVector<f64>,
    /// The mode there.
    pub mode: Mode,
    /// Its Laplace evidence.
    pub laplace: LaplaceEvidence,
    /// γ_g = P_g − α_g tr(S_gg) (0 for a pruned group).
    pub effective_parameters: Vec<f64>,
    /// ‖θ̂_g − μ_g‖².
    pub distances_squared: Vec<f64>,
    /// max_{j∈g} F_jj, the data's curvature on the group at the mode.
    pub curvature: Vec<f64>,
}

/// The answer of [`GroupedLaplace::empirical_bayes`].
#[derive(Debug, Clone)]
pub struct GroupedLaplaceEb {
    /// The point reached.
    pub point: GroupedLaplacePoint,
    /// ∂L/∂ln s_g there by central differences (0 for fixed and pruned groups).
    pub gradient: Vec<f64>,
    /// Refits of the mode in all (fixed point, polish, checks, revival).
    pub evaluations: usize,
    /// Fixed-point iterations.
    pub mackay_iterations: usize,
    /// Remarks for the notes.
    pub notes: Vec<Message>,
}

fn fail(message: impl Into<Message>) -> OccamError {
    OccamError::computation(
        "empirical Bayes over the prior groups (MacKay's fixed point on the Laplace evidence, then a coordinate search in ln s_g)",
        message,
    )
}

impl<'f> GroupedLaplace<'f> {
    /// The model: parameter j in group `labels[j]` (groups 0…G−1, each non-empty) or outside
    /// every group with precision `outside[j]`; `fixed[g]` = α_g where s_g is fixed; `center` μ.
    pub fn new(
        labels: Vec<Option<usize>>,
        fixed: Vec<Option<f64>>,
        outside: DVector<f64>,
        center: DVector<f64>,
        fit: &'f FitAt<'f>,
    ) -> Self {
        let mut sizes = vec![0; fixed.len()];
        for g in labels.iter().flatten() {
            sizes[*g] += 1;
        }
        GroupedLaplace {
            labels,
            sizes,
            fixed,
            outside,
            center,
            fit,
        }
    }

    /// G, the number of groups.
    pub fn groups(&self) -> usize {
        self.sizes.len()
    }

    /// The per-parameter precision at α (∞ → `pruned_at[g]`).
    fn precision(&self, alpha: &[f64], pruned_at: &[f64]) -> DVector<f64> {
        DVector::from_fn(self.labels.len(), |j, _| match self.labels[j] {
            Some(g) if alpha[g].is_finite() => alpha[g],
            Some(g) => pruned_at[g],
            None => self.outside[j],
        })
    }

    /// The mode, evidence and per-group summaries at α (∞ = pruned, evaluated at `pruned_at`).
    pub fn at(
        &self,
        alpha: &[f64],
        pruned_at: &[f64],
        init: DVector<f64>,
    ) -> Result<GroupedLaplacePoint> {
        let precision = self.precision(alpha, pruned_at);
        let (mode, laplace) = (self.fit)(&precision, init)?;
        let g_count = self.groups();
        let mut trace = vec![0.0; g_count];
        let mut distances_squared = vec![0.0; g_count];
        let mut curvature = vec![0.0f64; g_count];
        for (j, label) in self.labels.iter().enumerate() {
            if let Some(g) = *label {
                trace[g] += laplace.posterior_sd[j].powi(2);
                distances_squared[g] += (mode.params[j] - self.center[j]).powi(2);
                curvature[g] = curvature[g].max(mode.hessian[(j, j)] - precision[j]);
            }
        }
        let effective_parameters = (0..g_count)
            .map(|g| {
                if alpha[g].is_finite() {
                    self.sizes[g] as f64 - alpha[g] * trace[g]
                } else {
                    0.0
                }
            })
            .collect();
        Ok(GroupedLaplacePoint {
            precisions: alpha.to_vec(),
            precision,
            mode,
            laplace,
            effective_parameters,
            distances_squared,
            curvature,
        })
    }

    /// L at α from `init`.
    fn evidence(&self, alpha: &[f64], pruned_at: &[f64], init: &DVector<f64>) -> Result<f64> {
        Ok(self
            .at(alpha, pruned_at, init.clone())?
            .laplace
            .log_evidence)
    }

    /// ∂L/∂ln s_g by central differences at α (finite α_g), from `init`; with L(α) given.
    pub fn log_sd_derivatives(
        &self,
        alpha: &[f64],
        pruned_at: &[f64],
        g: usize,
        init: &DVector<f64>,
        here: f64,
    ) -> Result<(f64, f64)> {
        // ln α = −2 ln s.
        let mut shifted = alpha.to_vec();
        shifted[g] = alpha[g] * (-2.0 * FD_STEP).exp();
        let up = self.evidence(&shifted, pruned_at, init)?;
        shifted[g] = alpha[g] * (2.0 * FD_STEP).exp();
        let down = self.evidence(&shifted, pruned_at, init)?;
        Ok((
            (up - down) / (2.0 * FD_STEP),
            (up - 2.0 * here + down) / (FD_STEP * FD_STEP),
        ))
    }

    /// Empirical Bayes over every group whose sd is `auto` (see the module's docs), from the
    /// parameters `init`.
    pub fn empirical_bayes(&self, init: DVector<f64>) -> Result<GroupedLaplaceEb> {
        let g_count = self.groups();
        let free: Vec<usize> = (0..g_count).filter(|&g| self.fixed[g].is_none()).collect();
        let mut alpha: Vec<f64> = self.fixed.iter().map(|a| a.unwrap_or(1.0)).collect();
        let mut evaluations = 0usize;
        let mut point = self.at(&alpha, &vec![f64::INFINITY; g_count], init)?;
        evaluations += 1;
        // The stand-in precision of a pruned group, from the data's curvature at the first mode.
        let pruned_at: Vec<f64> = point
            .curvature
            .iter()
            .map(|c| PRUNED_PRECISION_RATIO * c.max(1.0))
            .collect();
        let min_alpha = 1.0 / (LARGEST_SD * LARGEST_SD);
        let mut notes = Vec::new();

        // MacKay's fixed point.
        let mut mackay_iterations = 0;
        let mut converged = free.is_empty();
        while !converged && mackay_iterations < MACKAY_MAX_ITERATIONS {
            mackay_iterations += 1;
            let mut change = 0.0f64;
            for &g in &free {
                if !alpha[g].is_finite() {
                    continue;
                }
                let gamma = point.effective_parameters[g];
                let d2 = point.distances_squared[g];
                let new = if d2 > 0.0 && gamma > 0.0 {
                    gamma / d2
                } else {
                    f64::INFINITY
                };
                let new = if new > PRUNE_RATIO * point.curvature[g].max(f64::MIN_POSITIVE) {
                    f64::INFINITY
                } else {
                    // Bounded so that one wild step cannot leave the range; the polish and the
                    // final check decide whether the bound binds.
                    new.max(min_alpha)
                };
                change = change.max(if new.is_finite() {
                    (new / alpha[g]).ln().abs()
                } else {
                    f64::INFINITY
                });
                alpha[g] = new;
            }
            point = self.at(&alpha, &pruned_at, point.mode.params.clone())?;
            evaluations += 1;
            converged = change < MACKAY_TOLERANCE;
        }
        if !converged {
            notes.push(Message::from(format!(
                "empirical Bayes over the groups: MacKay's fixed point did not settle in {MACKAY_MAX_ITERATIONS} refits; the coordinate search in ln s_g took over from there"
            )));
        }

        // Polish, then revival rounds.
        let mut rounds = 0;
        loop {
            let start = point.mode.params.clone();
            let (polished, used) = self.polish(alpha.clone(), &pruned_at, &free, &start)?;
            evaluations += used;
            alpha = polished;
            point = self.at(&alpha, &pruned_at, start.clone())?;
            evaluations += 1;
            if rounds > g_count {
                break;
            }
            rounds += 1;
            // Offer each pruned fitted group back.
            let here = point.laplace.log_evidence;
            let mut best: Option<(f64, Vec<f64>)> = None;
            for &g in free.iter().filter(|&&g| !alpha[g].is_finite()) {
                let scale = point.curvature[g].max(f64::MIN_POSITIVE);
                for t in -6..=9 {
                    let mut trial = alpha.clone();
                    trial[g] = (scale * 10f64.powi(t)).max(min_alpha);
                    evaluations += 1;
                    if let Ok(value) = self.evidence(&trial, &pruned_at, &start) {
                        if value > here + 1e-9 * here.abs().max(1.0)
                            && best.as_ref().is_none_or(|(b, _)| value > *b)
                        {
                            best = Some((value, trial));
                        }
                    }
                }
            }
            match best {
                Some((_, trial)) => {
                    alpha = trial;
                    point = self.at(&alpha, &pruned_at, start)?;
                    evaluations += 1;
                }
                None => break,
            }
        }

        // The check: every fitted, unpruned group stationary for L.
        let start = point.mode.params.clone();
        let here = point.laplace.log_evidence;
        let mut gradient = vec![0.0; g_count];
        for &g in free.iter().filter(|&&g| alpha[g].is_finite()) {
            let (d1, _) = self.log_sd_derivatives(&alpha, &pruned_at, g, &start, here)?;
            evaluations += 2;
            gradient[g] = d1;
            let sd = alpha[g].sqrt().recip();
            if alpha[g] <= min_alpha * (1.0 + 1e-12) && d1 > 0.0 {
                return Err(fail(message![
                    format!(
                        "the evidence still rises as group {}'s sd grows past {LARGEST_SD:e} (separable along its parameters?): the data put no scale on it; fix its sd in ",
                        g + 1
                    ),
                    Setting::Prior,
                    ", e.g. GROUP=zero:1"
                ]));
            }
            let tolerance = STATIONARY_TOLERANCE * (self.sizes[g] as f64).max(1.0);
            if d1.abs() > tolerance || !d1.is_finite() {
                return Err(fail(message![
                    format!(
                        "after MacKay's fixed point ({mackay_iterations} refits) and {MAX_SWEEPS} sweeps of a coordinate search in ln s_g, group {} (s = {sd:.6e}) is not stationary: ∂ln p/∂ln s = {d1:.3e}, tolerance {tolerance:.1e}; fix its sd in ",
                        g + 1
                    ),
                    Setting::Prior
                ]));
            }
        }
        Ok(GroupedLaplaceEb {
            point,
            gradient,
            evaluations,
            mackay_iterations,
            notes,
        })
    }

    /// The coordinate search in u_g = ln s_g over the fitted, unpruned groups (see the module's
    /// docs); returns α and the refits used.
    fn polish(
        &self,
        mut alpha: Vec<f64>,
        pruned_at: &[f64],
        free: &[usize],
        start: &DVector<f64>,
    ) -> Result<(Vec<f64>, usize)> {
        let mut used = 0;
        let min_alpha = 1.0 / (LARGEST_SD * LARGEST_SD);
        let mut here = self.evidence(&alpha, pruned_at, start)?;
        used += 1;
        for _ in 0..MAX_SWEEPS {
            let mut worst = 0.0f64;
            for &g in free {
                if !alpha[g].is_finite() {
                    continue;
                }
                let (d1, d2) = self.log_sd_derivatives(&alpha, pruned_at, g, start, here)?;
                used += 2;
                let tolerance = STATIONARY_TOLERANCE * (self.sizes[g] as f64).max(1.0);
                if d1.abs() <= 0.1 * tolerance {
                    continue;
                }
                worst = worst.max(d1.abs() / tolerance);
                // Newton where L is concave in u_g, else a bounded step uphill.
                let mut step = if d2 < 0.0 {
                    -d1 / d2
                } else {
                    d1.signum() * MAX_STEP
                };
                step = step.clamp(-MAX_STEP, MAX_STEP);
                for _ in 0..30 {
                    // ln α = −2u.
                    let mut trial = alpha.clone();
                    trial[g] = (alpha[g] * (-2.0 * step).exp()).max(min_alpha);
                    let pruned = trial[g]
                        > PRUNE_RATIO
                            * (pruned_at[g] / PRUNED_PRECISION_RATIO).max(f64::MIN_POSITIVE);
                    if pruned {
                        trial[g] = f64::INFINITY;
                    }
                    used += 1;
                    match self.evidence(&trial, pruned_at, start) {
                        Ok(value) if value >= here => {
                            alpha = trial;
                            here = value;
                            break;
                        }
                        _ => step *= 0.5,
                    }
                }
            }
            if worst <= 1.0 {
                break;
            }
        }
        Ok((alpha, used))
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use crate::inference::laplace::{find_mode, laplace_evidence, MODE_TOLERANCE};
    use crate::inference::softmax_mode::softmax_mode_and_evidence;
    use crate::model::logistic::{LogisticProblem, Rows};
    use crate::model::softmax::SoftmaxProblem;
    use crate::testing::random_design;

    /// n rows, k features (row-major z), 0/1 labels from the first `relevant` features' scores
    /// plus independent noise.
    fn binary(n: usize, k: usize, relevant: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let (x, _) = random_design(n, k, seed);
        // Noise independent of every column (random_design's own target depends on all of them).
        let (noise, _) = random_design(n, 1, seed + 1000);
        let z: Vec<f64> = x.transpose().as_slice().to_vec();
        let y = (0..n)
            .map(|i| {
                let score: f64 = (0..relevant).map(|j| x[(i, j)] * (1.0 + j as f64)).sum();
                f64::from(score + noise[(i, 0)] > 0.0)
            })
            .collect();
        (z, y)
    }

    fn binary_fit<'a>(
        z: &'a [f64],
        y: &'a [f64],
        k: usize,
        center: &'a DVector<f64>,
    ) -> impl Fn(&DVector<f64>, DVector<f64>) -> Result<(Mode, LaplaceEvidence)> + 'a {
        move |precision: &DVector<f64>, init: DVector<f64>| {
            let problem = LogisticProblem::new(z, y, k, true, center, precision);
            let mode = find_mode(&problem, init, MODE_TOLERANCE * problem.gradient_scale())?;
            let ll = -problem.negative_log_likelihood(&mode.params);
            let laplace = laplace_evidence(&mode, ll, center, precision);
            Ok((mode, laplace))
        }
    }

    /// ∂L/∂ln s_g of the binary model in closed form (an independent route): with S = H⁻¹,
    /// ∂L/∂ln α_g = ½P_g − ½α_g‖θ̂_g − μ_g‖² − ½α_g tr(S_gg) − ½ tᵀv, v = ∂θ̂/∂ln α_g =
    /// −S α_g E_g(θ̂ − μ), t_j = ∂ln|H|/∂θ_j = Σ_i p_i(1 − p_i)(1 − 2p_i) x̃_ij x̃_iᵀSx̃_i; and
    /// ∂/∂ln s = −2 ∂/∂ln α.
    fn analytic_log_sd_gradient(
        z: &[f64],
        y: &[f64],
        k: usize,
        center: &DVector<f64>,
        labels: &[Option<usize>],
        point: &GroupedLaplacePoint,
    ) -> Vec<f64> {
        let p = k + 1;
        let theta = &point.mode.params;
        let s = point.mode.cholesky.inverse();
        let mut t = DVector::zeros(p);
        for (i, _) in y.iter().enumerate() {
            let xt = DVector::from_fn(p, |j, _| if j < k { z[i * k + j] } else { 1.0 });
            let pi = 1.0 / (1.0 + (-xt.dot(theta)).exp());
            let quad = (&s * &xt).dot(&xt);
            t += &xt * (pi * (1.0 - pi) * (1.0 - 2.0 * pi) * quad);
        }
        let groups = point.precisions.len();
        (0..groups)
            .map(|g| {
                let alpha = point.precisions[g];
                let members: Vec<usize> = (0..p).filter(|&j| labels[j] == Some(g)).collect();
                let mut e = DVector::zeros(p);
                for &j in &members {
                    e[j] = alpha * (theta[j] - center[j]);
                }
                let v = -(&s * e);
                let d2: f64 = members
                    .iter()
                    .map(|&j| (theta[j] - center[j]).powi(2))
                    .sum();
                let tr: f64 = members.iter().map(|&j| s[(j, j)]).sum();
                let by_log_alpha = 0.5 * members.len() as f64
                    - 0.5 * alpha * d2
                    - 0.5 * alpha * tr
                    - 0.5 * t.dot(&v);
                -2.0 * by_log_alpha
            })
            .collect()
    }

    #[test]
    fn the_evidence_gradient_in_log_sd_matches_finite_differences_and_vanishes_at_eb() {
        // Every column moves the labels, so neither group heads for pruning (see the progress
        // notes: next to a group at α ≈ 9e9 the closed form and the differences disagree).
        let (n, k) = (80, 4);
        let (z, y) = binary(n, k, 4, 7);
        let center = DVector::from_vec(vec![0.0, 0.0, 0.1, -0.1, 0.0]);
        let fit = binary_fit(&z, &y, k, &center);
        // Groups: {w1, w2}, {w3, w4, b}.
        let labels = vec![Some(0), Some(0), Some(1), Some(1), Some(1)];
        let model = GroupedLaplace::new(
            labels.clone(),
            vec![None, None],
            DVector::zeros(5),
            center.clone(),
            &fit,
        );
        let alpha = [0.5, 3.0];
        let none = [f64::INFINITY; 2];
        let point = model.at(&alpha, &none, center.clone()).unwrap();
        let analytic = analytic_log_sd_gradient(&z, &y, k, &center, &labels, &point);
        for g in 0..2 {
            let (fd, _) = model
                .log_sd_derivatives(
                    &alpha,
                    &none,
                    g,
                    &point.mode.params,
                    point.laplace.log_evidence,
                )
                .unwrap();
            assert!(
                (fd - analytic[g]).abs() <= 1e-5 * analytic[g].abs().max(1.0),
                "group {g}: finite differences {fd}, closed form {}",
                analytic[g]
            );
        }
        // MacKay's fixed point alone is not stationary for L; the answer is.
        let eb = model.empirical_bayes(center.clone()).unwrap();
        let at_eb = analytic_log_sd_gradient(&z, &y, k, &center, &labels, &eb.point);
        for g in 0..2 {
            assert!(eb.point.precisions[g].is_finite());
            assert!(
                at_eb[g].abs() < 2e-4,
                "∂L/∂ln s_{g} = {} at EB; α = {:?}, fd {:?}",
                at_eb[g],
                eb.point.precisions,
                eb.gradient
            );
        }
    }

    /// The answer against a brute-force grid over (ln s_1, ln s_2): no grid point is higher, and
    /// the grid's best is within one step of the answer.
    fn check_against_grid(model: &GroupedLaplace, init: &DVector<f64>) {
        let eb = model.empirical_bayes(init.clone()).unwrap();
        let best = eb.point.laplace.log_evidence;
        let none = [f64::INFINITY; 2];
        let step = 0.1;
        let mut top = (f64::NEG_INFINITY, 0.0, 0.0);
        for a in 0..=60 {
            for b in 0..=60 {
                let (u1, u2) = (-3.0 + step * a as f64, -3.0 + step * b as f64);
                let alpha = [(-2.0 * u1).exp(), (-2.0 * u2).exp()];
                let value = model
                    .at(&alpha, &none, init.clone())
                    .unwrap()
                    .laplace
                    .log_evidence;
                if value > top.0 {
                    top = (value, u1, u2);
                }
            }
        }
        assert!(top.0 <= best + 1e-9, "grid {} above EB {best}", top.0);
        let u: Vec<f64> = eb.point.precisions.iter().map(|a| -0.5 * a.ln()).collect();
        assert!(
            (u[0] - top.1).abs() <= step && (u[1] - top.2).abs() <= step,
            "EB ln s = {u:?}, grid best at ({}, {})",
            top.1,
            top.2
        );
    }

    #[test]
    fn binary_eb_is_the_top_of_a_grid() {
        let (n, k) = (60, 3);
        let (z, y) = binary(n, k, 3, 11);
        let center = DVector::zeros(4);
        let fit = binary_fit(&z, &y, k, &center);
        let model = GroupedLaplace::new(
            vec![Some(0), Some(1), Some(1), Some(0)],
            vec![None, None],
            DVector::zeros(4),
            center.clone(),
            &fit,
        );
        check_against_grid(&model, &center);
    }

    #[test]
    fn softmax_eb_is_the_top_of_a_grid() {
        let (n, k, classes) = (90, 2, 3);
        let (x, noise) = random_design(n, k, 5);
        let z: Vec<f64> = x.transpose().as_slice().to_vec();
        let labels: Vec<usize> = (0..n)
            .map(|i| {
                let s = [0.0, 1.5 * x[(i, 0)], -x[(i, 1)] + 0.3 * noise[i]];
                (0..classes).fold(0, |b, c| if s[c] > s[b] { c } else { b })
            })
            .collect();
        let m = k + 1;
        let center = DVector::zeros(classes * m);
        let fit = |precision: &DVector<f64>, init: DVector<f64>| {
            let problem = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                classes,
                true,
                &center,
                precision,
            );
            softmax_mode_and_evidence(&problem, init)
        };
        // Group 0: every class's weights on feature 1; group 1: feature 2 and the intercepts.
        let group_of: Vec<Option<usize>> = (0..classes * m)
            .map(|t| Some(usize::from(t % m != 0)))
            .collect();
        let model = GroupedLaplace::new(
            group_of,
            vec![None, None],
            DVector::zeros(classes * m),
            center.clone(),
            &fit,
        );
        check_against_grid(&model, &center);
    }

    #[test]
    fn a_group_of_uninformative_columns_is_pruned_and_one_group_fixed_is_the_plain_fit() {
        let (n, k) = (400, 4);
        // Only the first two features move the labels.
        let (z, y) = binary(n, k, 2, 3);
        let center = DVector::zeros(5);
        let fit = binary_fit(&z, &y, k, &center);
        let model = GroupedLaplace::new(
            vec![Some(0), Some(0), Some(1), Some(1), None],
            vec![None, None],
            DVector::from_element(5, 0.25),
            center.clone(),
            &fit,
        );
        let eb = model.empirical_bayes(center.clone()).unwrap();
        assert!(eb.point.precisions[0].is_finite());
        assert!(
            !eb.point.precisions[1].is_finite(),
            "{:?}",
            eb.point.precisions
        );
        assert_eq!(eb.point.effective_parameters[1], 0.0);
        // The pruned limit: the fit without those columns (their weights at the centre 0).
        let z2: Vec<f64> = z.chunks(k).flat_map(|r| r[..2].to_vec()).collect();
        let center2 = DVector::zeros(3);
        let alpha0 = eb.point.precisions[0];
        let precision2 = DVector::from_vec(vec![alpha0, alpha0, 0.25]);
        let problem = LogisticProblem::new(&z2, &y, 2, true, &center2, &precision2);
        let mode = find_mode(
            &problem,
            center2.clone(),
            MODE_TOLERANCE * problem.gradient_scale(),
        )
        .unwrap();
        let ll = -problem.negative_log_likelihood(&mode.params);
        let dropped = laplace_evidence(&mode, ll, &center2, &precision2).log_evidence;
        assert!(
            (eb.point.laplace.log_evidence - dropped).abs() < 1e-8,
            "{} vs {dropped}",
            eb.point.laplace.log_evidence
        );
        // Every sd fixed: one refit, the plain Laplace evidence.
        let fixed = GroupedLaplace::new(
            vec![Some(0); 5],
            vec![Some(2.0)],
            DVector::zeros(5),
            center.clone(),
            &fit,
        );
        let answer = fixed.empirical_bayes(center.clone()).unwrap();
        let plain = fit(&DVector::from_element(5, 2.0), center.clone())
            .unwrap()
            .1;
        assert_eq!(answer.point.laplace.log_evidence, plain.log_evidence);
    }
}
