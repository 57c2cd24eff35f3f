//! The linear-Gaussian model y = Xw + ε, ε ~ N(0, σ²I), under the prior w ~ N(μ, s²I).
//!
//! Everything here is written on the sufficient statistics (XᵀX, Xᵀy, yᵀy), so evaluating the
//! objective costs O(k²) whatever n is.

use super::problem::{NewtonProblem, Objective};
use crate::data::SufficientStats;
use nalgebra::{DMatrix, DVector};

/// Residual sum of squares ‖y − Xw‖² = yᵀy − 2wᵀXᵀy + wᵀXᵀXw, clamped at 0 against rounding.
pub fn residual_sum_of_squares(stats: &SufficientStats, w: &DVector<f64>) -> f64 {
    (stats.yty - 2.0 * w.dot(&stats.xty) + w.dot(&(&stats.xtx * w))).max(0.0)
}

/// The negative log posterior of w, up to a constant, as a minimisation problem:
///
/// f(w) = (β/2)‖y − Xw‖² + (α/2)‖w − μ‖²,
/// ∇f(w) = β(XᵀXw − Xᵀy) + α(w − μ),
/// ∇²f = βXᵀX + αI,
///
/// with α = 1/s² the prior precision and β = 1/σ² the noise precision (math.md §2–§3).
#[derive(Debug, Clone, Copy)]
pub struct PenalizedLeastSquares<'a> {
    stats: &'a SufficientStats,
    center: &'a DVector<f64>,
    prior_precision: f64,
    noise_precision: f64,
}

impl<'a> PenalizedLeastSquares<'a> {
    /// The problem for the given statistics, prior centre and precisions.
    pub fn new(
        stats: &'a SufficientStats,
        center: &'a DVector<f64>,
        prior_precision: f64,
        noise_precision: f64,
    ) -> Self {
        PenalizedLeastSquares {
            stats,
            center,
            prior_precision,
            noise_precision,
        }
    }

    /// f(w), see the type's docs.
    pub fn objective(&self, w: &DVector<f64>) -> f64 {
        0.5 * self.noise_precision * residual_sum_of_squares(self.stats, w)
            + 0.5 * self.prior_precision * (w - self.center).norm_squared()
    }

    /// ∇f(w) = β(XᵀXw − Xᵀy) + α(w − μ).
    pub fn gradient_at(&self, w: &DVector<f64>) -> DVector<f64> {
        (&self.stats.xtx * w - &self.stats.xty) * self.noise_precision
            + (w - self.center) * self.prior_precision
    }

    /// ∇²f = βXᵀX + αI.
    pub fn hessian_matrix(&self) -> DMatrix<f64> {
        let k = self.stats.k();
        &self.stats.xtx * self.noise_precision + DMatrix::identity(k, k) * self.prior_precision
    }

    /// The size of the gradient's terms at w, against which a gradient norm counts as small.
    pub fn gradient_scale(&self, w: &DVector<f64>) -> f64 {
        self.noise_precision * ((&self.stats.xtx * w).norm() + self.stats.xty.norm())
            + self.prior_precision * (w.norm() + self.center.norm())
    }
}

impl Objective for PenalizedLeastSquares<'_> {
    fn cost(&self, w: &DVector<f64>) -> f64 {
        self.objective(w)
    }

    fn gradient(&self, w: &DVector<f64>) -> DVector<f64> {
        self.gradient_at(w)
    }
}

impl NewtonProblem for PenalizedLeastSquares<'_> {
    fn hessian(&self, _w: &DVector<f64>) -> DMatrix<f64> {
        self.hessian_matrix()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_stats;

    #[test]
    fn gradient_matches_central_differences() {
        let (stats, _) = random_stats(40, 4, 7);
        let center = DVector::from_vec(vec![0.3, -0.2, 1.0, 0.0]);
        let problem = PenalizedLeastSquares::new(&stats, &center, 2.5, 0.7);
        let w = DVector::from_vec(vec![0.5, -1.0, 0.25, 2.0]);
        let g = problem.gradient_at(&w);
        for j in 0..4 {
            let h = 1e-5;
            let mut up = w.clone();
            up[j] += h;
            let mut down = w.clone();
            down[j] -= h;
            let fd = (problem.objective(&up) - problem.objective(&down)) / (2.0 * h);
            assert!(
                (fd - g[j]).abs() <= 1e-6 * g[j].abs().max(1.0),
                "{j}: {fd} vs {}",
                g[j]
            );
        }
        // The Hessian is the derivative of the gradient.
        let hess = problem.hessian_matrix();
        for j in 0..4 {
            let mut up = w.clone();
            up[j] += 1e-4;
            let fd = (problem.gradient_at(&up) - &g) / 1e-4;
            for i in 0..4 {
                assert!((fd[i] - hess[(i, j)]).abs() <= 1e-6 * hess[(i, j)].abs().max(1.0));
            }
        }
    }
}
