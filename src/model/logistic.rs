//! Logistic regression P(y = 1 | x) = σ(xᵀw + b) under a Gaussian prior.
//!
//! Parameters θ = (w₁, …, w_k, b): the intercept, when there is one, is the **last** coordinate.
//! The prior is N(μ, Λ⁻¹) with a diagonal precision Λ: α = 1/s² on the weights, and on the
//! intercept α too (shared, the default), 1/SD² (`prior:SD`) or 0 (`free`, a flat prior).
//!
//! With ηᵢ = x̃ᵢᵀθ and x̃ᵢ = (xᵢ, 1):
//!
//! * negative log likelihood ℓ(θ) = Σᵢ softplus(ηᵢ) − yᵢηᵢ, softplus(η) = ln(1 + eᵑ);
//! * gradient ∇ℓ = X̃ᵀ(p − y), p = σ(η);
//! * curvature ∇²ℓ = X̃ᵀSX̃, S = diag(pᵢ(1 − pᵢ)) — the Fisher information, the same at every θ
//!   as the observed information because the logistic link is canonical;
//! * negative log posterior f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ), ∇f = ∇ℓ + Λ(θ − μ), ∇²f = X̃ᵀSX̃ + Λ.

use crate::error::{OccamError, Result};
use crate::linalg::{gram_into, map_row_blocks};
use argmin::core::{CostFunction, Error as ArgminError, Gradient, Hessian};
use nalgebra::{DMatrix, DVector};

pub use crate::special::{sigmoid, softplus};

/// −ln p(y | η) for one row: softplus(η) − yη.
pub fn row_negative_log_likelihood(eta: f64, y: f64) -> f64 {
    softplus(eta) - y * eta
}

/// A binary target mapped to 0/1, with the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryTarget {
    /// 0/1 labels.
    pub labels: Vec<f64>,
    /// The value mapped to 0 (the smaller).
    pub negative: f64,
    /// The value mapped to 1 (the larger).
    pub positive: f64,
}

/// Maps a target with exactly two distinct values to 0 (the smaller) and 1 (the larger).
pub fn binary_target(y: &[f64], source_name: &str, target_name: &str) -> Result<BinaryTarget> {
    let mut values: Vec<f64> = Vec::new();
    for &v in y {
        if !values.contains(&v) {
            values.push(v);
            if values.len() > 2 {
                break;
            }
        }
    }
    if values.len() != 2 {
        values.sort_by(f64::total_cmp);
        let shown: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        return Err(OccamError::Target {
            source_name: source_name.to_string(),
            message: format!(
                "the logistic model needs a target with exactly two distinct values, but '{target_name}' has {}{}; choose a binary column with --target",
                if values.len() > 2 { "more than two: " } else { "only " },
                shown.join(", ") + if values.len() > 2 { ", …" } else { "" }
            ),
        });
    }
    values.sort_by(f64::total_cmp);
    let (negative, positive) = (values[0], values[1]);
    Ok(BinaryTarget {
        labels: y
            .iter()
            .map(|&v| if v == positive { 1.0 } else { 0.0 })
            .collect(),
        negative,
        positive,
    })
}

/// The negative log posterior of logistic regression on a design, as an argmin problem.
#[derive(Debug, Clone, Copy)]
pub struct LogisticProblem<'a> {
    z: &'a [f64],
    y: &'a [f64],
    k: usize,
    intercept: bool,
    center: &'a DVector<f64>,
    precision: &'a DVector<f64>,
}

impl<'a> LogisticProblem<'a> {
    /// The problem for rows `z` (row-major, k columns) with 0/1 labels `y`, an intercept or not,
    /// and the prior centre and diagonal precision over all P = k (+1) parameters.
    pub fn new(
        z: &'a [f64],
        y: &'a [f64],
        k: usize,
        intercept: bool,
        center: &'a DVector<f64>,
        precision: &'a DVector<f64>,
    ) -> Self {
        let p = k + usize::from(intercept);
        assert_eq!(center.len(), p, "centre length must be the parameter count");
        assert_eq!(
            precision.len(),
            p,
            "precision length must be the parameter count"
        );
        assert_eq!(z.len(), y.len() * k, "z must hold n rows of k features");
        LogisticProblem {
            z,
            y,
            k,
            intercept,
            center,
            precision,
        }
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of parameters P.
    pub fn n_params(&self) -> usize {
        self.k + usize::from(self.intercept)
    }

    /// ηᵢ = x̃ᵢᵀθ.
    pub fn linear_predictor(&self, theta: &DVector<f64>, i: usize) -> f64 {
        let row = &self.z[i * self.k..(i + 1) * self.k];
        let dot: f64 = row.iter().zip(theta.iter()).map(|(x, w)| x * w).sum();
        if self.intercept {
            dot + theta[self.k]
        } else {
            dot
        }
    }

    /// ℓ(θ) = Σᵢ softplus(ηᵢ) − yᵢηᵢ.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        map_row_blocks(self.n(), |rows| {
            rows.map(|i| row_negative_log_likelihood(self.linear_predictor(theta, i), self.y[i]))
                .sum::<f64>()
        })
        .iter()
        .sum()
    }

    /// ½(θ − μ)ᵀΛ(θ − μ).
    pub fn penalty(&self, theta: &DVector<f64>) -> f64 {
        0.5 * theta
            .iter()
            .zip(self.center.iter())
            .zip(self.precision.iter())
            .map(|((t, m), l)| l * (t - m) * (t - m))
            .sum::<f64>()
    }

    /// f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ).
    pub fn objective(&self, theta: &DVector<f64>) -> f64 {
        self.negative_log_likelihood(theta) + self.penalty(theta)
    }

    /// ∇ℓ = X̃ᵀ(p − y).
    pub fn likelihood_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        let p = self.n_params();
        let partial = map_row_blocks(self.n(), |rows| {
            let mut g = vec![0.0; p];
            for i in rows {
                let r = sigmoid(self.linear_predictor(theta, i)) - self.y[i];
                let row = &self.z[i * self.k..(i + 1) * self.k];
                for (gj, x) in g.iter_mut().zip(row) {
                    *gj += r * x;
                }
                if self.intercept {
                    g[self.k] += r;
                }
            }
            g
        });
        let mut g = DVector::zeros(p);
        for block in partial {
            g += DVector::from_vec(block);
        }
        g
    }

    /// ∇f = X̃ᵀ(p − y) + Λ(θ − μ).
    pub fn gradient_at(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_gradient(theta) + self.precision.component_mul(&(theta - self.center))
    }

    /// The Fisher information X̃ᵀSX̃ at θ (a Gram matrix of the rows scaled by √(pᵢ(1 − pᵢ))).
    pub fn fisher_information(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let p = self.n_params();
        let partial = map_row_blocks(self.n(), |rows| {
            let mut scaled = Vec::with_capacity(rows.len() * p);
            for i in rows {
                let prob = sigmoid(self.linear_predictor(theta, i));
                let w = (prob * (1.0 - prob)).sqrt();
                scaled.extend(self.z[i * self.k..(i + 1) * self.k].iter().map(|x| w * x));
                if self.intercept {
                    scaled.push(w);
                }
            }
            let mut out = vec![0.0; p * p];
            gram_into(&scaled, p, &mut out);
            out
        });
        let mut f = DMatrix::zeros(p, p);
        for block in partial {
            f += DMatrix::from_row_slice(p, p, &block);
        }
        f
    }

    /// ∇²f = X̃ᵀSX̃ + Λ.
    pub fn hessian_at(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let mut h = self.fisher_information(theta);
        for j in 0..self.n_params() {
            h[(j, j)] += self.precision[j];
        }
        h
    }

    /// The size of the gradient's terms, against which a gradient norm counts as small:
    /// ‖X̃ᵀy‖ + ‖Λμ‖ + 1.
    pub fn gradient_scale(&self) -> f64 {
        let zero = DVector::zeros(self.n_params());
        // At θ = 0, p = ½: X̃ᵀ(½ − y) is the data's own gradient scale.
        self.likelihood_gradient(&zero).norm()
            + self.precision.component_mul(self.center).norm()
            + 1.0
    }

    /// The same problem on the first `m` rows (the prefix of a prequential code).
    pub fn prefix(&self, m: usize) -> Self {
        LogisticProblem {
            z: &self.z[..m * self.k],
            y: &self.y[..m],
            ..*self
        }
    }

    /// The same problem with another prior precision.
    pub fn with_precision(&self, precision: &'a DVector<f64>) -> Self {
        LogisticProblem { precision, ..*self }
    }

    /// The largest prior precision over the parameters.
    pub fn max_precision(&self) -> f64 {
        self.precision.iter().cloned().fold(0.0, f64::max)
    }

    /// The 0/1 label of row `i`.
    pub fn label(&self, i: usize) -> f64 {
        self.y[i]
    }

    /// Whether a parameter vector separates the classes strictly: every row on its own side,
    /// (2yᵢ − 1)ηᵢ > 0. If one does, the maximum-likelihood estimate does not exist.
    pub fn separates(&self, theta: &DVector<f64>) -> bool {
        (0..self.n()).all(|i| (2.0 * self.y[i] - 1.0) * self.linear_predictor(theta, i) > 0.0)
    }
}

impl CostFunction for LogisticProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, ArgminError> {
        Ok(self.objective(theta))
    }
}

impl Gradient for LogisticProblem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Self::Gradient, ArgminError> {
        Ok(self.gradient_at(theta))
    }
}

impl Hessian for LogisticProblem<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    fn hessian(&self, theta: &Self::Param) -> std::result::Result<Self::Hessian, ArgminError> {
        Ok(self.hessian_at(theta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_design;

    fn problem_data(n: usize, k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let (x, y) = random_design(n, k, seed);
        let labels = y.iter().map(|v| if *v > 0.0 { 1.0 } else { 0.0 }).collect();
        (x.transpose().as_slice().to_vec(), labels)
    }

    #[test]
    fn stable_forms_hold_at_the_extremes() {
        for eta in [-700.0, -30.0, -1e-3, 0.0, 2.5, 40.0, 700.0] {
            let naive = (1.0 + f64::exp(eta)).ln();
            if eta.abs() < 30.0 {
                assert!((softplus(eta) - naive).abs() < 1e-14 * naive.max(1.0));
            }
            assert!(softplus(eta).is_finite() && sigmoid(eta).is_finite());
            assert!((sigmoid(eta) + sigmoid(-eta) - 1.0).abs() < 1e-15);
        }
        assert_eq!(row_negative_log_likelihood(700.0, 1.0), 0.0);
        assert_eq!(row_negative_log_likelihood(-700.0, 1.0), 700.0);
    }

    #[test]
    fn gradient_and_hessian_match_finite_differences() {
        for intercept in [true, false] {
            let (z, y) = problem_data(60, 3, 5);
            let p = 3 + usize::from(intercept);
            let center = DVector::from_fn(p, |i, _| 0.2 * i as f64 - 0.3);
            let precision = DVector::from_fn(p, |i, _| if i == 3 { 0.0 } else { 0.7 });
            let problem = LogisticProblem::new(&z, &y, 3, intercept, &center, &precision);
            let theta = DVector::from_fn(p, |i, _| 0.4 - 0.3 * i as f64);
            let g = problem.gradient_at(&theta);
            let h = problem.hessian_at(&theta);
            let e = 1e-6;
            for j in 0..p {
                let mut up = theta.clone();
                up[j] += e;
                let mut down = theta.clone();
                down[j] -= e;
                let fd = (problem.objective(&up) - problem.objective(&down)) / (2.0 * e);
                assert!(
                    (fd - g[j]).abs() < 1e-6 * g[j].abs().max(1.0),
                    "∂f/∂θ{j}: {fd} vs {}",
                    g[j]
                );
                let fd_col = (problem.gradient_at(&up) - problem.gradient_at(&down)) / (2.0 * e);
                for i in 0..p {
                    assert!(
                        (fd_col[i] - h[(i, j)]).abs() < 1e-6 * h[(i, j)].abs().max(1.0),
                        "H[{i},{j}]"
                    );
                }
            }
        }
    }

    #[test]
    fn targets_must_be_binary() {
        let t = binary_target(&[3.0, 5.0, 3.0], "d", "y").unwrap();
        assert_eq!(t.labels, vec![0.0, 1.0, 0.0]);
        assert_eq!((t.negative, t.positive), (3.0, 5.0));
        let e = binary_target(&[0.0, 1.0, 2.0], "d", "species")
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than two") && e.contains("0, 1, 2"), "{e}");
        assert!(binary_target(&[1.0, 1.0], "d", "y")
            .unwrap_err()
            .to_string()
            .contains("only 1"));
    }
}
