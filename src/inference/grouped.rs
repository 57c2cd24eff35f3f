//! The linear-Gaussian model under a grouped prior (math.md §8): Λ = diag(α_g on group g).
//!
//! With prior w ~ N(μ, Λ⁻¹) and noise precision β, from the sufficient statistics XᵀX, Xᵀy, yᵀy:
//!
//! A = Λ + βXᵀX, m = A⁻¹(Λμ + βXᵀy),
//! ln p(y) = ½ ln|Λ| + (n/2) ln β − E(m) − ½ ln|A| − (n/2) ln 2π,
//! E(m) = (β/2)‖y − Xm‖² + ½(m − μ)ᵀΛ(m − μ),
//!
//! one Cholesky factor of A per hyperparameter setting (O(k³)). Independently,
//! y ~ N(Xμ, σ²I + XΛ⁻¹Xᵀ) (the tests' n × n route).
//!
//! Empirical Bayes is MacKay's per-group fixed point (MacKay 1992; ARD, Tipping 2001):
//! γ_g = P_g − α_g tr(S_gg), S = A⁻¹; α_g ← γ_g/‖m_g − μ_g‖²; β ← (n − Σ_g γ_g)/‖y − Xm‖².
//! At its fixed point the evidence is stationary: ∂ln p/∂ln α_g = ½(γ_g − α_g‖m_g − μ_g‖²) and
//! ∂ln p/∂ln β = ½(n − Σγ_g − β‖y − Xm‖²) vanish (∂/∂ln s_g = −2 ∂/∂ln α_g).
//!
//! Pruning: a group whose α_g runs away (s_g → 0) is pruned, α_g = ∞: its weights sit at its
//! centre, and the evidence is the finite limit — the group's ½P_g ln α_g and its block of
//! ½ln|A| cancel, so the group drops out and X_gμ_g is subtracted from y (with μ_g = 0 the
//! group's columns simply vanish).

use crate::data::SufficientStats;
use crate::error::{OccamError, Result, Setting};
use crate::message;
use crate::prior::groups::Group;
use crate::prior::{SdSpec, MAX_SD, MIN_SD};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// A group is pruned once its precision exceeds this many times the data's precision on its
/// strongest column (β·max_j (XᵀX)_jj): the prior then fixes its weights to ~1e-10 of what
/// the data could move them.
pub const PRUNE_RATIO: f64 = 1e10;

/// The linear-Gaussian model's sufficient statistics with a grouping of its weights and a centre.
#[derive(Debug, Clone)]
pub struct GroupedLinear<'a> {
    stats: &'a SufficientStats,
    /// The design's rows (row-major, k columns) and targets, for the n × n route on wide data.
    rows: Option<(&'a [f64], &'a [f64])>,
    group_of: Vec<usize>,
    groups: usize,
    center: DVector<f64>,
}

/// Everything at one setting of (α_1 … α_G, β).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedPosterior {
    /// ln p(y | Λ, β, μ) in nats (the finite limit for pruned groups).
    pub log_evidence: f64,
    /// The posterior mean m (the MAP); a pruned group's weights equal its centre.
    pub mean: DVector<f64>,
    /// The posterior variance of each weight, diag(A⁻¹); 0 for a pruned group's.
    pub variances: DVector<f64>,
    /// γ_g = P_g − α_g tr(S_gg) per group; 0 for a pruned group.
    pub effective_parameters: Vec<f64>,
    /// ‖m_g − μ_g‖² per group.
    pub distances_squared: Vec<f64>,
    /// ‖y − Xm‖².
    pub residual_sum_of_squares: f64,
}

/// The answer of [`GroupedLinear::empirical_bayes`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedEmpiricalBayes {
    /// α_g per group (∞ for a pruned group).
    pub precisions: Vec<f64>,
    /// β.
    pub noise_precision: f64,
    /// The posterior there.
    pub posterior: GroupedPosterior,
    /// The fixed point's iterations.
    pub iterations: usize,
}

impl<'a> GroupedLinear<'a> {
    /// The model for `stats`, weight j in group `group_of[j]` (groups numbered 0…G−1, each
    /// non-empty), prior centre `center`.
    pub fn new(
        stats: &'a SufficientStats,
        group_of: Vec<usize>,
        center: DVector<f64>,
    ) -> Result<Self> {
        let k = stats.xty.len();
        if group_of.len() != k || center.len() != k {
            return Err(OccamError::computation(
                "grouped linear model",
                format!(
                    "{k} weights, but {} group labels and a centre of {}; this is a bug in the caller",
                    group_of.len(),
                    center.len()
                ),
            ));
        }
        let groups = group_of.iter().map(|&g| g + 1).max().unwrap_or(0);
        if (0..groups).any(|g| !group_of.contains(&g)) {
            return Err(OccamError::computation(
                "grouped linear model",
                "a group has no weight; this is a bug in the caller",
            ));
        }
        Ok(GroupedLinear {
            stats,
            rows: None,
            group_of,
            groups,
            center,
        })
    }

    /// The model for `stats` with the groups of a resolved prior structure
    /// ([`crate::prior::groups::PriorStructure::resolve`]) and the centre `center` (the groups'
    /// centres already resolved and placed at their indices).
    pub fn from_groups(
        stats: &'a SufficientStats,
        groups: &[Group],
        center: DVector<f64>,
    ) -> Result<Self> {
        let labels = group_labels(groups, center.len());
        if labels.contains(&groups.len()) {
            return Err(OccamError::computation(
                "grouped linear model",
                "a weight is in no group; resolve the prior structure first (this is a bug in the caller)",
            ));
        }
        Self::new(stats, labels, center)
    }

    /// Attaches the rows the statistics came from (`z` row-major with k columns, targets `t`):
    /// then, wherever more weights are active than there are rows, the posterior takes the n × n
    /// route, O(n²k) instead of O(k³): C = I/β + X_aΛ_a⁻¹X_aᵀ = LLᵀ,
    /// ln p = −½(n ln 2π + ln|C| + rᵀC⁻¹r) with r = y − Xμ, m_a = μ_a + Λ_a⁻¹X_aᵀC⁻¹r and
    /// S_jj = 1/α_j − x_jᵀC⁻¹x_j/α_j² (Woodbury).
    pub fn with_rows(mut self, z: &'a [f64], t: &'a [f64]) -> Result<Self> {
        let k = self.group_of.len();
        if t.len() != self.stats.n || z.len() != t.len() * k {
            return Err(OccamError::computation(
                "grouped linear model",
                "the rows do not match the statistics; this is a bug in the caller",
            ));
        }
        self.rows = Some((z, t));
        Ok(self)
    }

    /// The number of groups G.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The posterior and evidence at precisions α_g (`f64::INFINITY`: pruned) and noise
    /// precision β.
    pub fn posterior(&self, precisions: &[f64], noise_precision: f64) -> Result<GroupedPosterior> {
        let s = self.stats;
        let k = self.group_of.len();
        let beta = noise_precision;
        let alpha = |j: usize| precisions[self.group_of[j]];
        let active: Vec<usize> = (0..k).filter(|&j| alpha(j).is_finite()).collect();
        let pruned: Vec<usize> = (0..k).filter(|&j| !alpha(j).is_finite()).collect();
        let mu = &self.center;
        // y' = y − X_p μ_p: its statistics against the active columns.
        let mut yty = s.yty;
        for &p in &pruned {
            yty -= 2.0 * mu[p] * s.xty[p];
            for &q in &pruned {
                yty += mu[p] * s.xtx[(p, q)] * mu[q];
            }
        }
        let r = active.len();
        if let Some((z, t)) = self.rows {
            if r > s.n {
                return self.posterior_wide(precisions, beta, &active, z, t);
            }
        }
        let xty = DVector::from_fn(r, |i, _| {
            let a = active[i];
            s.xty[a] - pruned.iter().map(|&p| s.xtx[(a, p)] * mu[p]).sum::<f64>()
        });
        let xtx = DMatrix::from_fn(r, r, |i, l| s.xtx[(active[i], active[l])]);
        let mut a_matrix = &xtx * beta;
        for i in 0..r {
            a_matrix[(i, i)] += alpha(active[i]);
        }
        let rhs = DVector::from_fn(r, |i, _| alpha(active[i]) * mu[active[i]] + beta * xty[i]);
        let chol = a_matrix.cholesky().ok_or_else(|| {
            OccamError::computation(
                "grouped linear model",
                "the posterior precision Λ + βXᵀX is not positive definite in floating point; the prior precisions or the noise precision are out of range",
            )
        })?;
        let m_active = chol.solve(&rhs);
        let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let inverse = chol.inverse();
        let rss = (yty - 2.0 * m_active.dot(&xty) + m_active.dot(&(&xtx * &m_active))).max(0.0);
        let mut mean = mu.clone();
        let mut variances = DVector::zeros(k);
        for (i, &a) in active.iter().enumerate() {
            mean[a] = m_active[i];
            variances[a] = inverse[(i, i)];
        }
        let mut gamma = vec![0.0; self.groups];
        let mut dist = vec![0.0; self.groups];
        let mut log_det_prior = 0.0;
        let mut prior_energy = 0.0;
        for &a in &active {
            let g = self.group_of[a];
            let al = precisions[g];
            gamma[g] += 1.0 - al * variances[a];
            let d = (mean[a] - mu[a]).powi(2);
            dist[g] += d;
            log_det_prior += al.ln();
            prior_energy += al * d;
        }
        let n = s.n as f64;
        let log_evidence = 0.5 * log_det_prior + 0.5 * n * beta.ln()
            - 0.5 * beta * rss
            - 0.5 * prior_energy
            - 0.5 * log_det
            - 0.5 * n * (2.0 * PI).ln();
        Ok(GroupedPosterior {
            log_evidence,
            mean,
            variances,
            effective_parameters: gamma,
            distances_squared: dist,
            residual_sum_of_squares: rss,
        })
    }

    /// The n × n route of [`GroupedLinear::posterior`] (see [`GroupedLinear::with_rows`]).
    fn posterior_wide(
        &self,
        precisions: &[f64],
        beta: f64,
        active: &[usize],
        z: &[f64],
        t: &[f64],
    ) -> Result<GroupedPosterior> {
        let n = t.len();
        let k = self.group_of.len();
        let mu = &self.center;
        let x = DMatrix::from_row_slice(n, k, z);
        let xa = DMatrix::from_fn(n, active.len(), |i, l| x[(i, active[l])]);
        let inv_alpha: Vec<f64> = active
            .iter()
            .map(|&j| 1.0 / precisions[self.group_of[j]])
            .collect();
        let mut scaled = xa.clone();
        for (l, &v) in inv_alpha.iter().enumerate() {
            scaled.column_mut(l).scale_mut(v);
        }
        let mut c = &scaled * xa.transpose();
        for i in 0..n {
            c[(i, i)] += 1.0 / beta;
        }
        let chol = c.cholesky().ok_or_else(|| {
            OccamError::computation(
                "grouped linear model",
                "the marginal covariance I/β + XΛ⁻¹Xᵀ is not positive definite in floating point; the precisions are out of range",
            )
        })?;
        let resid = DVector::from_column_slice(t) - &x * mu;
        let v = chol.solve(&resid);
        let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let log_evidence = -0.5 * (n as f64 * (2.0 * PI).ln() + log_det + resid.dot(&v));
        let shift = scaled.transpose() * &v;
        let whitened = chol.l().solve_lower_triangular(&xa).ok_or_else(|| {
            OccamError::computation(
                "grouped linear model",
                "the Cholesky factor of I/β + XΛ⁻¹Xᵀ has a zero on its diagonal",
            )
        })?;
        let mut mean = mu.clone();
        let mut variances = DVector::zeros(k);
        let mut gamma = vec![0.0; self.groups];
        let mut dist = vec![0.0; self.groups];
        for (l, &j) in active.iter().enumerate() {
            let g = self.group_of[j];
            mean[j] = mu[j] + shift[l];
            let q = whitened.column(l).norm_squared();
            variances[j] = inv_alpha[l] - inv_alpha[l] * inv_alpha[l] * q;
            gamma[g] += q * inv_alpha[l];
            dist[g] += shift[l] * shift[l];
        }
        let residual_sum_of_squares = (DVector::from_column_slice(t) - &x * &mean).norm_squared();
        Ok(GroupedPosterior {
            log_evidence,
            mean,
            variances,
            effective_parameters: gamma,
            distances_squared: dist,
            residual_sum_of_squares,
        })
    }

    /// The evidence's gradient at `post`: ∂ln p/∂ln α_g = ½(γ_g − α_g‖m_g − μ_g‖²) per group
    /// (0 for a pruned group) and ∂ln p/∂ln β = ½(n − Σγ_g − β‖y − Xm‖²).
    pub fn gradient(
        &self,
        post: &GroupedPosterior,
        precisions: &[f64],
        noise_precision: f64,
    ) -> (Vec<f64>, f64) {
        let by_group = (0..self.groups)
            .map(|g| {
                if precisions[g].is_finite() {
                    0.5 * (post.effective_parameters[g] - precisions[g] * post.distances_squared[g])
                } else {
                    0.0
                }
            })
            .collect();
        let gamma: f64 = post.effective_parameters.iter().sum();
        let noise =
            0.5 * (self.stats.n as f64 - gamma - noise_precision * post.residual_sum_of_squares);
        (by_group, noise)
    }

    /// Empirical Bayes by MacKay's per-group fixed point: the groups with `fixed[g] = None` and
    /// the noise precision when `noise` is `None` are fitted, the others kept. Starts at α_g = 1
    /// and β = n/yᵀy (scikit-learn's ARDRegression starts at α = 1, β = 1/var(y)); stops when
    /// every fitted ln α_g and ln β moves by less than 1e-12 in a step. A group is pruned
    /// (α_g = ∞) once α_g exceeds [`PRUNE_RATIO`] times β·max_j∈g (XᵀX)_jj (or 1/MIN_SD²), or when
    /// its weights sit exactly at its centre.
    ///
    /// Pruning inside the fixed point is irreversible, so after it converges each pruned group is
    /// offered back at α_g = β·max_j∈g (XᵀX)_jj·10^t, t = −6…9, the others kept: if some finite α_g
    /// gives a higher evidence than the pruned limit, the fixed point restarts from there (at most
    /// G + 1 rounds; the best answer is kept). The answer is then checked stationary: every
    /// fitted |∂ln p/∂ln α_g| ≤ 1e-6·max(1, P_g) and |∂ln p/∂ln β| ≤ 1e-6·n, or a typed error.
    /// s_g = α_g^−½ stays within [MIN_SD, MAX_SD] (prior::check_sd's range): below, the group is
    /// pruned; above, a typed error.
    pub fn empirical_bayes(
        &self,
        fixed: &[Option<f64>],
        noise: Option<f64>,
    ) -> Result<GroupedEmpiricalBayes> {
        let n = self.stats.n as f64;
        let alpha: Vec<f64> = (0..self.groups).map(|g| fixed[g].unwrap_or(1.0)).collect();
        let beta = noise.unwrap_or(if self.stats.yty > 0.0 {
            n / self.stats.yty
        } else {
            1.0
        });
        let mut best = self.fixed_point(fixed, noise, alpha, beta, 0)?;
        for _round in 0..=self.groups {
            let Some((alpha, beta)) = self.revival(&best, fixed)? else {
                break;
            };
            let next = self.fixed_point(fixed, noise, alpha, beta, best.iterations)?;
            if next.posterior.log_evidence > best.posterior.log_evidence {
                best = next;
            } else {
                best.iterations = next.iterations;
                break;
            }
        }
        self.check_stationary(&best, fixed, noise)?;
        Ok(best)
    }

    /// The strongest column of each group: max_j∈g (XᵀX)_jj.
    fn strongest(&self) -> Vec<f64> {
        (0..self.groups)
            .map(|g| {
                (0..self.group_of.len())
                    .filter(|&j| self.group_of[j] == g)
                    .map(|j| self.stats.xtx[(j, j)])
                    .fold(0.0, f64::max)
            })
            .collect()
    }

    /// MacKay's fixed point from (`alpha`, `beta`); `done` iterations already spent.
    fn fixed_point(
        &self,
        fixed: &[Option<f64>],
        noise: Option<f64>,
        mut alpha: Vec<f64>,
        mut beta: f64,
        done: usize,
    ) -> Result<GroupedEmpiricalBayes> {
        const MAX_ITERATIONS: usize = 100_000;
        let n = self.stats.n as f64;
        let strongest = self.strongest();
        let max_alpha = 1.0 / (MIN_SD * MIN_SD);
        let min_alpha = 1.0 / (MAX_SD * MAX_SD);
        for iteration in done + 1..=done + MAX_ITERATIONS {
            let post = self.posterior(&alpha, beta)?;
            let mut moved = 0.0f64;
            let mut pruned_now = false;
            for g in 0..self.groups {
                if fixed[g].is_some() || !alpha[g].is_finite() {
                    continue;
                }
                let d = post.distances_squared[g];
                let next = post.effective_parameters[g] / d;
                if d == 0.0 || next > PRUNE_RATIO * beta * strongest[g] || next > max_alpha {
                    alpha[g] = f64::INFINITY;
                    pruned_now = true;
                } else {
                    moved = moved.max((next / alpha[g]).ln().abs());
                    alpha[g] = next;
                }
            }
            if noise.is_none() {
                let gamma: f64 = post.effective_parameters.iter().sum();
                let next = (n - gamma) / post.residual_sum_of_squares;
                if !(next.is_finite() && next > 0.0) {
                    return Err(OccamError::computation(
                        "empirical Bayes over the groups",
                        message![
                            format!("the noise precision left (0, ∞) at iteration {iteration}: the model fits the data exactly (‖y − Xm‖² = {:.3e}, n − Σγ_g = {:.3e}); fix ", post.residual_sum_of_squares, n - gamma),
                            (Setting::NoiseSd, "S"),
                            " instead of 'auto'"
                        ],
                    ));
                }
                moved = moved.max((next / beta).ln().abs());
                beta = next;
            }
            if alpha.iter().any(|a| *a < min_alpha || a.is_nan()) {
                return Err(OccamError::computation(
                    "empirical Bayes over the groups",
                    message![
                        format!("a prior precision fell below 1/MAX_SD² (s_g above {MAX_SD:e}): the data put no scale on that group; fix its sd in "),
                        Setting::Prior
                    ],
                ));
            }
            if !pruned_now && moved < 1e-12 {
                let posterior = self.posterior(&alpha, beta)?;
                return Ok(GroupedEmpiricalBayes {
                    precisions: alpha,
                    noise_precision: beta,
                    posterior,
                    iterations: iteration,
                });
            }
        }
        Err(OccamError::computation(
            "empirical Bayes over the groups",
            format!("MacKay's fixed point did not converge in {MAX_ITERATIONS} steps"),
        ))
    }

    /// The best finite α_g for a pruned fitted group, when it beats the pruned limit: the start
    /// of the next round of [`GroupedLinear::empirical_bayes`] (that group revived, the rest as
    /// found), or `None` when no pruned group gains evidence by coming back.
    fn revival(
        &self,
        found: &GroupedEmpiricalBayes,
        fixed: &[Option<f64>],
    ) -> Result<Option<(Vec<f64>, f64)>> {
        let strongest = self.strongest();
        let beta = found.noise_precision;
        let base = found.posterior.log_evidence;
        let slack = 1e-9 * base.abs().max(1.0);
        let mut best: Option<(f64, usize, f64)> = None;
        for g in 0..self.groups {
            if fixed[g].is_some() || found.precisions[g].is_finite() {
                continue;
            }
            for t in -6..=9 {
                let a = beta * strongest[g] * 10f64.powi(t);
                if !(a.is_finite() && a > 0.0) {
                    continue;
                }
                let mut alpha = found.precisions.clone();
                alpha[g] = a;
                let e = self.posterior(&alpha, beta)?.log_evidence;
                if e > base + slack && best.is_none_or(|(b, _, _)| e > b) {
                    best = Some((e, g, a));
                }
            }
        }
        Ok(best.map(|(_, g, a)| {
            let mut alpha = found.precisions.clone();
            alpha[g] = a;
            (alpha, beta)
        }))
    }

    /// Refuses an answer where the evidence's gradient in a fitted ln α_g or ln β is not ~0.
    fn check_stationary(
        &self,
        found: &GroupedEmpiricalBayes,
        fixed: &[Option<f64>],
        noise: Option<f64>,
    ) -> Result<()> {
        let (by_group, by_noise) =
            self.gradient(&found.posterior, &found.precisions, found.noise_precision);
        for (g, d) in by_group.iter().enumerate() {
            let size = self.group_of.iter().filter(|&&l| l == g).count() as f64;
            let within = d.abs() <= 1e-6 * size.max(1.0); // false for NaN
            if fixed[g].is_none() && !within {
                return Err(OccamError::computation(
                    "empirical Bayes over the groups",
                    message![
                        format!("MacKay's fixed point stopped where the evidence is not stationary: ∂ln p/∂ln α = {d:e} for group {}; fix that group's sd in ", g + 1),
                        Setting::Prior
                    ],
                ));
            }
        }
        let within = by_noise.abs() <= 1e-6 * self.stats.n as f64; // false for NaN
        if noise.is_none() && !within {
            return Err(OccamError::computation(
                "empirical Bayes over the groups",
                message![
                    format!("MacKay's fixed point stopped where the evidence is not stationary in the noise: ∂ln p/∂ln β = {by_noise:e}; fix "),
                    (Setting::NoiseSd, "S")
                ],
            ));
        }
        Ok(())
    }
}

/// The group of each of the `k` parameters (groups numbered in the order given); a parameter in
/// no group gets label `groups.len()`, which [`GroupedLinear::from_groups`] refuses (resolved
/// groups cover every parameter).
pub fn group_labels(groups: &[Group], k: usize) -> Vec<usize> {
    let mut labels = vec![groups.len(); k];
    for (g, group) in groups.iter().enumerate() {
        for &j in &group.indices {
            if j < k {
                labels[j] = g;
            }
        }
    }
    labels
}

/// The precision α_g = 1/s_g² of each group with a fixed sd, `None` for `auto`: the `fixed`
/// argument of [`GroupedLinear::empirical_bayes`].
pub fn fixed_precisions(groups: &[Group]) -> Vec<Option<f64>> {
    groups
        .iter()
        .map(|g| match g.sd {
            SdSpec::Fixed(s) => Some(1.0 / (s * s)),
            SdSpec::Auto => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{Hyperparameters, LinearGaussian};
    use crate::testing::random_stats;

    /// ln N(y; Xμ, I/β + XΛ⁻¹Xᵀ) over the unpruned columns, by an n × n Cholesky factor.
    fn nxn(
        x: &DMatrix<f64>,
        y: &DVector<f64>,
        mu: &DVector<f64>,
        alpha_per_weight: &[f64],
        beta: f64,
    ) -> f64 {
        let n = y.len();
        let mut cov = DMatrix::identity(n, n) / beta;
        for (j, &a) in alpha_per_weight.iter().enumerate() {
            if a.is_finite() {
                cov += x.column(j) * x.column(j).transpose() / a;
            }
        }
        let r = y - x * mu;
        let chol = cov.cholesky().unwrap();
        let z = chol.l().solve_lower_triangular(&r).unwrap();
        let log_det = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        -0.5 * (n as f64 * (2.0 * PI).ln() + log_det + z.norm_squared())
    }

    fn per_weight(group_of: &[usize], alpha: &[f64]) -> Vec<f64> {
        group_of.iter().map(|&g| alpha[g]).collect()
    }

    #[test]
    fn evidence_equals_the_nxn_form_and_pruning_is_its_limit() {
        for (n, k, seed) in [(30, 4, 1), (12, 7, 2), (60, 9, 3)] {
            let (stats, (x, y)) = random_stats(n, k, seed);
            let group_of: Vec<usize> = (0..k).map(|j| j % 3).collect();
            let mu = DVector::from_fn(k, |j, _| 0.1 * j as f64 - 0.2);
            let model = GroupedLinear::new(&stats, group_of.clone(), mu.clone()).unwrap();
            for (alpha, beta) in [
                (vec![0.5, 2.0, 30.0], 0.7),
                (vec![1e-3, 1.0, 1e3], 3.0),
                (vec![0.2, f64::INFINITY, 5.0], 1.3),
            ] {
                let ours = model.posterior(&alpha, beta).unwrap().log_evidence;
                let reference = nxn(&x, &y, &mu, &per_weight(&group_of, &alpha), beta);
                let rel = ((ours - reference) / reference).abs();
                assert!(rel < 1e-10, "n={n} k={k}: {ours} vs {reference}");
            }
            // Pruning is the limit α_g → ∞.
            let near = model.posterior(&[0.2, 1e12, 5.0], 1.3).unwrap();
            let limit = model.posterior(&[0.2, f64::INFINITY, 5.0], 1.3).unwrap();
            assert!((near.log_evidence - limit.log_evidence).abs() < 1e-6);
            assert!((near.mean.clone() - &limit.mean).amax() < 1e-6);
            assert_eq!(limit.effective_parameters[1], 0.0);
        }
    }

    #[test]
    fn resolved_groups_label_the_weights_and_fix_their_precisions() {
        use crate::prior::groups::{ParameterInfo, PriorStructure};
        let params: Vec<ParameterInfo> = ["a", "b", "c"]
            .iter()
            .map(|f| ParameterInfo::weight(f, 1, Some(f)))
            .collect();
        let groups = PriorStructure::parse("features:a,c=zero:0.5; rest=zero:auto")
            .unwrap()
            .resolve(&params)
            .unwrap();
        assert_eq!(group_labels(&groups, 3), [0, 1, 0]);
        assert_eq!(fixed_precisions(&groups), [Some(4.0), None]);
        let (stats, _) = random_stats(20, 3, 3);
        let model = GroupedLinear::from_groups(&stats, &groups, DVector::zeros(3)).unwrap();
        assert_eq!(model.groups(), 2);
        // A parameter left out of every group is refused.
        assert_eq!(group_labels(&groups[..1], 3), [0, 1, 0]);
        assert!(GroupedLinear::from_groups(&stats, &groups[1..], DVector::zeros(3)).is_err());
    }

    #[test]
    fn the_wide_route_equals_the_k_by_k_route() {
        for (n, k, seed) in [(8, 30, 1), (15, 40, 2)] {
            let (stats, (x, y)) = random_stats(n, k, seed);
            let z = x.transpose();
            let group_of: Vec<usize> = (0..k).map(|j| j % 4).collect();
            let mu = DVector::from_fn(k, |j, _| 0.05 * (j % 3) as f64);
            let narrow = GroupedLinear::new(&stats, group_of.clone(), mu.clone()).unwrap();
            let wide = GroupedLinear::new(&stats, group_of.clone(), mu.clone())
                .unwrap()
                .with_rows(z.as_slice(), y.as_slice())
                .unwrap();
            for (alpha, beta) in [
                (vec![0.5, 2.0, 30.0, 1.0], 0.7),
                (vec![3.0, f64::INFINITY, 0.1, 1.0], 2.0),
            ] {
                let a = narrow.posterior(&alpha, beta).unwrap();
                let b = wide.posterior(&alpha, beta).unwrap();
                let reference = nxn(&x, &y, &mu, &per_weight(&group_of, &alpha), beta);
                assert!((b.log_evidence - reference).abs() < 1e-9 * reference.abs());
                assert!((a.log_evidence - b.log_evidence).abs() < 1e-8 * a.log_evidence.abs());
                assert!((a.mean.clone() - &b.mean).amax() < 1e-8 * a.mean.amax().max(1.0));
                assert!((a.variances.clone() - &b.variances).amax() < 1e-8);
                for g in 0..4 {
                    assert!((a.effective_parameters[g] - b.effective_parameters[g]).abs() < 1e-8);
                    assert!(
                        (a.distances_squared[g] - b.distances_squared[g]).abs()
                            < 1e-8 * a.distances_squared[g].max(1.0)
                    );
                }
                let rel = (a.residual_sum_of_squares - b.residual_sum_of_squares).abs()
                    / a.residual_sum_of_squares.max(1.0);
                assert!(
                    rel < 1e-7,
                    "rss {} vs {}",
                    a.residual_sum_of_squares,
                    b.residual_sum_of_squares
                );
            }
        }
    }

    #[test]
    fn one_group_is_the_isotropic_model() {
        let (stats, _) = random_stats(50, 6, 7);
        let mu = DVector::from_element(6, 0.3);
        let model = GroupedLinear::new(&stats, vec![0; 6], mu.clone()).unwrap();
        let iso = LinearGaussian::new(&stats).unwrap();
        for (a, b) in [(0.5, 2.0), (10.0, 0.1)] {
            let ours = model.posterior(&[a], b).unwrap();
            let theirs = iso.posterior(Hyperparameters::new(a, b), &mu);
            assert!((ours.log_evidence - theirs.summary.log_evidence).abs() < 1e-9);
            assert!(
                (ours.effective_parameters[0] - theirs.summary.effective_parameters).abs() < 1e-9
            );
            assert!((ours.mean.clone() - &theirs.mean).amax() < 1e-9);
        }
    }

    #[test]
    fn one_group_empirical_bayes_is_the_isotropic_one() {
        for (n, k, seed) in [(50, 6, 7), (200, 12, 8)] {
            let (stats, _) = random_stats(n, k, seed);
            let mu = DVector::from_fn(k, |j, _| 0.1 * j as f64);
            let ours = GroupedLinear::new(&stats, vec![0; k], mu.clone())
                .unwrap()
                .empirical_bayes(&[None], None)
                .unwrap();
            let theirs = LinearGaussian::new(&stats)
                .unwrap()
                .empirical_bayes(&mu, None, None)
                .unwrap()
                .hyperparameters;
            let rel = |a: f64, b: f64| ((a - b) / b).abs();
            assert!(rel(ours.precisions[0], theirs.prior_precision) < 1e-9);
            assert!(rel(ours.noise_precision, theirs.noise_precision) < 1e-9);
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (stats, _) = random_stats(40, 6, 11);
        let group_of = vec![0, 0, 1, 1, 2, 2];
        let mu = DVector::from_vec(vec![0.1, -0.2, 0.0, 0.3, 0.0, 0.0]);
        let model = GroupedLinear::new(&stats, group_of, mu).unwrap();
        let alpha = [0.7, 2.5, 0.05];
        let beta = 0.8;
        let post = model.posterior(&alpha, beta).unwrap();
        let (grad, grad_beta) = model.gradient(&post, &alpha, beta);
        let h = 1e-5;
        for g in 0..3 {
            let at = |t: f64| {
                let mut a = alpha;
                a[g] *= t.exp();
                model.posterior(&a, beta).unwrap().log_evidence
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - grad[g]).abs() < 1e-6 * grad[g].abs().max(1.0),
                "group {g}: {fd} vs {}",
                grad[g]
            );
        }
        let at = |t: f64| {
            model
                .posterior(&alpha, beta * t.exp())
                .unwrap()
                .log_evidence
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!((fd - grad_beta).abs() < 1e-6 * grad_beta.abs().max(1.0));
    }

    #[test]
    fn empirical_bayes_reaches_a_stationary_point_and_prunes_irrelevant_groups() {
        // y depends on the first 3 of 6 columns only; one group per column (ARD).
        let (_, (x, _)) = random_stats(200, 6, 5);
        let w = DVector::from_vec(vec![1.5, -2.0, 0.8, 0.0, 0.0, 0.0]);
        let noise = crate::testing::random_design(200, 1, 99).1;
        let y = &x * &w + noise;
        let stats = SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), 6);
        let model = GroupedLinear::new(&stats, (0..6).collect(), DVector::zeros(6)).unwrap();
        let eb = model.empirical_bayes(&[None; 6], None).unwrap();
        let (grad, grad_beta) = model.gradient(&eb.posterior, &eb.precisions, eb.noise_precision);
        for (g, (d, a)) in grad.iter().zip(&eb.precisions).enumerate() {
            if a.is_finite() {
                assert!(d.abs() < 1e-8, "group {g}: gradient {d}");
            }
        }
        assert!(grad_beta.abs() < 1e-8);
        for g in 0..3 {
            assert!(eb.precisions[g].is_finite(), "relevant column {g} pruned");
        }
        let pruned = (3..6).filter(|&g| !eb.precisions[g].is_finite()).count();
        assert!(
            pruned >= 1,
            "no irrelevant column pruned: {:?}",
            eb.precisions
        );
        // A pruned group: the evidence does not rise as it is brought back at any finite α.
        for g in (0..6).filter(|&g| !eb.precisions[g].is_finite()) {
            for a in [1e-2, 1.0, 1e2, 1e4] {
                let mut alpha = eb.precisions.clone();
                alpha[g] = a;
                let back = model
                    .posterior(&alpha, eb.noise_precision)
                    .unwrap()
                    .log_evidence;
                assert!(
                    back <= eb.posterior.log_evidence + 1e-9,
                    "group {g} at α = {a}"
                );
            }
        }
        // Fixed groups and a fixed noise stay fixed.
        let eb = model
            .empirical_bayes(&[Some(0.5), None, None, None, None, None], Some(1.0))
            .unwrap();
        assert_eq!(eb.precisions[0], 0.5);
        assert_eq!(eb.noise_precision, 1.0);
    }

    #[test]
    fn a_wrongly_pruned_group_is_revived_and_the_answer_is_checked_stationary() {
        let (_, (x, _)) = random_stats(200, 6, 5);
        let w = DVector::from_vec(vec![1.5, -2.0, 0.8, 0.0, 0.0, 0.0]);
        let noise = crate::testing::random_design(200, 1, 99).1;
        let y = &x * &w + noise;
        let stats = SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), 6);
        let model = GroupedLinear::new(&stats, (0..6).collect(), DVector::zeros(6)).unwrap();
        let fixed = [None; 6];
        // The fixed point started with the relevant column 1 pruned stays stuck there.
        let mut start = vec![1.0; 6];
        start[1] = f64::INFINITY;
        let stuck = model.fixed_point(&fixed, None, start, 1.0, 0).unwrap();
        assert!(!stuck.precisions[1].is_finite());
        let (alpha, beta) = model
            .revival(&stuck, &fixed)
            .unwrap()
            .expect("column 1 comes back");
        assert!(alpha[1].is_finite());
        let revived = model.fixed_point(&fixed, None, alpha, beta, 0).unwrap();
        assert!(revived.precisions[1].is_finite());
        assert!(revived.posterior.log_evidence > stuck.posterior.log_evidence + 10.0);
        // The public search ends where no pruned group comes back, and is stationary.
        let eb = model.empirical_bayes(&fixed, None).unwrap();
        assert!(model.revival(&eb, &fixed).unwrap().is_none());
        assert!(eb.posterior.log_evidence >= revived.posterior.log_evidence - 1e-9);
        model.check_stationary(&eb, &fixed, None).unwrap();
        // A point off the fixed point is refused, naming the gradient.
        let mut off = eb.clone();
        off.precisions[0] *= 4.0;
        off.posterior = model
            .posterior(&off.precisions, off.noise_precision)
            .unwrap();
        let err = model.check_stationary(&off, &fixed, None).unwrap_err();
        assert!(err.to_string().contains("not stationary"), "{err}");
        // … but not when that group's sd was fixed there.
        let mut pinned = fixed;
        pinned[0] = Some(off.precisions[0]);
        let refit = model.empirical_bayes(&pinned, None).unwrap();
        assert_eq!(refit.precisions[0], off.precisions[0]);
    }
}
