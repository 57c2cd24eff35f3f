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

use super::LastEvaluation;
use crate::error::{OccamError, Result};
use crate::linalg::map_row_blocks;
use argmin::core::{CostFunction, Error as ArgminError, Gradient, Hessian};
use nalgebra::{DMatrix, DVector};
use std::ops::Range;

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

/// The rows a logistic problem reads: row-major features, used as they are (a design already
/// standardised) or standardised on the fly, zᵢⱼ = (xᵢⱼ − shiftⱼ)·inv_scaleⱼ.
///
/// Standardising on the fly lets a study work on the raw data without materialising an n×k copy
/// of the design: the rows are read from memory once per pass either way, and the two extra
/// operations per value are hidden behind that read. The values zᵢⱼ are the same bits a
/// materialised design would hold.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    x: &'a [f64],
    k: usize,
    standardize: Option<(&'a [f64], &'a [f64])>,
}

impl<'a> Rows<'a> {
    /// Rows of a design, used as they are.
    pub fn design(z: &'a [f64], k: usize) -> Self {
        assert!(
            k > 0 && z.len() % k == 0,
            "z must hold whole rows of k features"
        );
        Rows {
            x: z,
            k,
            standardize: None,
        }
    }

    /// Raw rows standardised on the fly: zᵢⱼ = (xᵢⱼ − shiftⱼ)·inv_scaleⱼ.
    pub fn standardized(x: &'a [f64], k: usize, shift: &'a [f64], inv_scale: &'a [f64]) -> Self {
        assert!(
            k > 0 && x.len() % k == 0,
            "x must hold whole rows of k features"
        );
        assert!(
            shift.len() == k && inv_scale.len() == k,
            "one shift and scale per feature"
        );
        Rows {
            x,
            k,
            standardize: Some((shift, inv_scale)),
        }
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.x.len() / self.k
    }

    /// The first `m` rows.
    pub fn prefix(&self, m: usize) -> Self {
        Rows {
            x: &self.x[..m * self.k],
            ..*self
        }
    }

    /// Row `i` of the design, written into `buffer` when it has to be standardised.
    fn row<'b>(&'b self, i: usize, buffer: &'b mut [f64]) -> &'b [f64] {
        let raw = &self.x[i * self.k..(i + 1) * self.k];
        match self.standardize {
            None => raw,
            Some((shift, inv_scale)) => {
                for (((z, x), m), r) in buffer.iter_mut().zip(raw).zip(shift).zip(inv_scale) {
                    *z = (x - m) * r;
                }
                buffer
            }
        }
    }
}

/// xᵀw with eight independent partial sums, so the compiler can keep them in vector registers (a
/// single running sum is a chain of dependent additions that cannot be vectorised).
pub fn dot(x: &[f64], w: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let (xc, wc) = (x.chunks_exact(8), w.chunks_exact(8));
    let (xr, wr) = (xc.remainder(), wc.remainder());
    for (a, b) in xc.zip(wc) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (a, b) in xr.iter().zip(wr) {
        s += a * b;
    }
    s
}

/// One row's share of ℓ and of ∇ℓ: (softplus(η) − yη, σ(η) − y), both from the one exponential
/// e = exp(−|η|): softplus(η) = max(η, 0) + ln(1 + e), σ(η) = 1/(1 + e) for η ≥ 0 and e/(1 + e)
/// otherwise. Neither overflows for any finite η; the same values as [`softplus`] and [`sigmoid`].
pub fn row_loss_and_residual(eta: f64, y: f64) -> (f64, f64) {
    let e = (-eta.abs()).exp();
    let p = if eta >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (eta.max(0.0) + e.ln_1p() - y * eta, p - y)
}

/// One row's curvature weight p(1 − p) = e/(1 + e)², e = exp(−|η|): no cancellation in 1 − p
/// when |η| is large.
pub fn row_curvature(eta: f64) -> f64 {
    let e = (-eta.abs()).exp();
    e / ((1.0 + e) * (1.0 + e))
}

/// Rows per GEMM in the Hessian: a √S-scaled panel of this many rows (≈ 100 kB at P = 51) stays
/// in cache between being written and being multiplied.
const PANEL_ROWS: usize = 256;

/// Columns per GEMM block of the Hessian: a multiple of matrixmultiply's 8×8 f64 micro-tile. At
/// P = 51 the blocks on and below the diagonal cover 34 micro-tiles against 49 for the full
/// product.
const GRAM_CHUNK: usize = 24;

/// The lower triangle of `out` (p×p, row-major) += AᵀA for a row-major panel A of `a.len() / p`
/// rows, by blocks of [`GRAM_CHUNK`] columns: only blocks on or below the diagonal are multiplied,
/// about two thirds of the work of the full product. The strict upper triangle is left alone
/// (see [`mirror_lower`]).
fn gram_lower_accumulate(a: &[f64], p: usize, out: &mut [f64]) {
    let rows = a.len() / p;
    assert!(out.len() == p * p && rows * p == a.len());
    if rows == 0 {
        return;
    }
    for r0 in (0..p).step_by(GRAM_CHUNK) {
        let r1 = (r0 + GRAM_CHUNK).min(p);
        for c0 in (0..=r0).step_by(GRAM_CHUNK) {
            let c1 = (c0 + GRAM_CHUNK).min(p);
            // out[r0..r1, c0..c1] += A[:, r0..r1]ᵀ A[:, c0..c1]; Aᵀ has row stride 1 and column
            // stride p, A has row stride p.
            // SAFETY: r1, c1 ≤ p and the assert above keep every index inside `a` and `out`,
            // which do not alias.
            unsafe {
                matrixmultiply::dgemm(
                    r1 - r0,
                    rows,
                    c1 - c0,
                    1.0,
                    a.as_ptr().add(r0),
                    1,
                    p as isize,
                    a.as_ptr().add(c0),
                    p as isize,
                    1,
                    1.0,
                    out.as_mut_ptr().add(r0 * p + c0),
                    p as isize,
                    1,
                );
            }
        }
    }
}

/// Copies the lower triangle of a square matrix onto its upper triangle.
fn mirror_lower(m: &mut DMatrix<f64>) {
    for j in 0..m.ncols() {
        for i in 0..j {
            m[(i, j)] = m[(j, i)];
        }
    }
}

/// The negative log posterior of logistic regression on a design, as an argmin problem.
///
/// Every pass over the rows runs on a fixed partition into blocks of
/// [`crate::linalg::BLOCK_ROWS`] rows, in parallel, and sums the blocks in order: the same bits
/// on any number of threads.
#[derive(Debug, Clone, Copy)]
pub struct LogisticProblem<'a> {
    rows: Rows<'a>,
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
        assert_eq!(z.len(), y.len() * k, "z must hold n rows of k features");
        Self::on_rows(Rows::design(z, k), y, intercept, center, precision)
    }

    /// The problem on [`Rows`] (a design, or raw rows standardised on the fly).
    pub fn on_rows(
        rows: Rows<'a>,
        y: &'a [f64],
        intercept: bool,
        center: &'a DVector<f64>,
        precision: &'a DVector<f64>,
    ) -> Self {
        let k = rows.k;
        let p = k + usize::from(intercept);
        assert_eq!(center.len(), p, "centre length must be the parameter count");
        assert_eq!(
            precision.len(),
            p,
            "precision length must be the parameter count"
        );
        assert_eq!(rows.n(), y.len(), "one label per row");
        LogisticProblem {
            rows,
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

    fn offset(&self, theta: &DVector<f64>) -> f64 {
        if self.intercept {
            theta[self.k]
        } else {
            0.0
        }
    }

    /// ηᵢ = x̃ᵢᵀθ.
    pub fn linear_predictor(&self, theta: &DVector<f64>, i: usize) -> f64 {
        let mut buffer = vec![0.0; self.k];
        dot(self.rows.row(i, &mut buffer), &theta.as_slice()[..self.k]) + self.offset(theta)
    }

    /// η = X̃θ for every row.
    pub fn linear_predictors(&self, theta: &DVector<f64>) -> Vec<f64> {
        let (w, b) = (&theta.as_slice()[..self.k], self.offset(theta));
        map_row_blocks(self.n(), |block| {
            let mut buffer = vec![0.0; self.k];
            block
                .map(|i| dot(self.rows.row(i, &mut buffer), w) + b)
                .collect::<Vec<f64>>()
        })
        .concat()
    }

    /// ℓ(θ) and ∇ℓ(θ) in one pass over the rows: ℓ = Σᵢ softplus(ηᵢ) − yᵢηᵢ and
    /// ∇ℓ = X̃ᵀ(p − y), p = σ(η), with ηᵢ = x̃ᵢᵀθ.
    ///
    /// Each row is read once: its dot product with θ and its share of the gradient are formed
    /// while the row is in L1 cache.
    pub fn likelihood_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        let (loss, g, _) = self.pass::<false>(theta);
        (loss, g)
    }

    /// ℓ(θ), ∇ℓ(θ) and the diagonal of the Fisher information, Σᵢ pᵢ(1 − pᵢ) x̃ᵢⱼ², in one pass.
    pub fn likelihood_gradient_and_curvature(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DVector<f64>) {
        self.pass::<true>(theta)
    }

    /// The one pass behind [`Self::likelihood_and_gradient`] (and the Fisher diagonal when
    /// `DIAGONAL`; zeros otherwise).
    fn pass<const DIAGONAL: bool>(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DVector<f64>) {
        let (k, p) = (self.k, self.n_params());
        let (w, b) = (&theta.as_slice()[..k], self.offset(theta));
        let partial = map_row_blocks(self.n(), |block| {
            let mut buffer = vec![0.0; k];
            let mut g = vec![0.0; p];
            let mut diagonal = vec![0.0; if DIAGONAL { p } else { 0 }];
            let mut loss = 0.0;
            for i in block {
                let row = self.rows.row(i, &mut buffer);
                let eta = dot(row, w) + b;
                let (l, r) = row_loss_and_residual(eta, self.y[i]);
                loss += l;
                for (gj, x) in g[..k].iter_mut().zip(row) {
                    *gj += r * x;
                }
                if self.intercept {
                    g[k] += r;
                }
                if DIAGONAL {
                    let s = row_curvature(eta);
                    for (dj, x) in diagonal[..k].iter_mut().zip(row) {
                        *dj += s * x * x;
                    }
                    if self.intercept {
                        diagonal[k] += s;
                    }
                }
            }
            (loss, g, diagonal)
        });
        let mut loss = 0.0;
        let mut g = DVector::zeros(p);
        let mut diagonal = DVector::zeros(p);
        for (l, block_g, block_d) in partial {
            loss += l;
            g += DVector::from_vec(block_g);
            if DIAGONAL {
                diagonal += DVector::from_vec(block_d);
            }
        }
        (loss, g, diagonal)
    }

    /// Σᵢ softplus(ηᵢ) − yᵢηᵢ over the rows in `rows`, summed in row order (one block of a
    /// prequential code).
    pub fn rows_negative_log_likelihood(&self, theta: &DVector<f64>, rows: Range<usize>) -> f64 {
        let (w, b) = (&theta.as_slice()[..self.k], self.offset(theta));
        let mut buffer = vec![0.0; self.k];
        rows.map(|i| {
            row_negative_log_likelihood(dot(self.rows.row(i, &mut buffer), w) + b, self.y[i])
        })
        .sum()
    }

    /// ℓ(θ) = Σᵢ softplus(ηᵢ) − yᵢηᵢ.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        let (w, b) = (&theta.as_slice()[..self.k], self.offset(theta));
        map_row_blocks(self.n(), |block| {
            let mut buffer = vec![0.0; self.k];
            block
                .map(|i| {
                    row_negative_log_likelihood(
                        dot(self.rows.row(i, &mut buffer), w) + b,
                        self.y[i],
                    )
                })
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

    /// Λ(θ − μ), the prior's share of ∇f.
    pub fn penalty_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.precision.component_mul(&(theta - self.center))
    }

    /// f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ).
    pub fn objective(&self, theta: &DVector<f64>) -> f64 {
        self.negative_log_likelihood(theta) + self.penalty(theta)
    }

    /// ∇ℓ = X̃ᵀ(p − y).
    pub fn likelihood_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_and_gradient(theta).1
    }

    /// ∇f = X̃ᵀ(p − y) + Λ(θ − μ).
    pub fn gradient_at(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_gradient(theta) + self.penalty_gradient(theta)
    }

    /// The Fisher information X̃ᵀSX̃ at θ, S = diag(pᵢ(1 − pᵢ)): the Gram matrix of the rows
    /// scaled by √(pᵢ(1 − pᵢ)), formed as GEMMs on panels of 256 scaled rows (small enough to
    /// stay in cache between being written and multiplied), lower triangle only, then mirrored.
    pub fn fisher_information(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let (k, p) = (self.k, self.n_params());
        let (w, b) = (&theta.as_slice()[..k], self.offset(theta));
        let partial = map_row_blocks(self.n(), |block| {
            let mut buffer = vec![0.0; k];
            let mut panel = Vec::with_capacity(PANEL_ROWS * p);
            let mut out = vec![0.0; p * p];
            let mut start = block.start;
            while start < block.end {
                let end = (start + PANEL_ROWS).min(block.end);
                panel.clear();
                for i in start..end {
                    let row = self.rows.row(i, &mut buffer);
                    let s = row_curvature(dot(row, w) + b).sqrt();
                    panel.extend(row.iter().map(|x| s * x));
                    if self.intercept {
                        panel.push(s);
                    }
                }
                gram_lower_accumulate(&panel, p, &mut out);
                start = end;
            }
            out
        });
        let mut f = DMatrix::zeros(p, p);
        for block in partial {
            f += DMatrix::from_row_slice(p, p, &block);
        }
        mirror_lower(&mut f);
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
    /// ‖X̃ᵀ(½ − y)‖ + ‖Λμ‖ + 1, from the likelihood gradient at θ = 0.
    pub fn gradient_scale_from(&self, likelihood_gradient_at_zero: &DVector<f64>) -> f64 {
        // At θ = 0, p = ½: X̃ᵀ(½ − y) is the data's own gradient scale.
        likelihood_gradient_at_zero.norm() + self.precision.component_mul(self.center).norm() + 1.0
    }

    /// The size of the gradient's terms, against which a gradient norm counts as small:
    /// ‖X̃ᵀy‖ + ‖Λμ‖ + 1.
    pub fn gradient_scale(&self) -> f64 {
        self.gradient_scale_from(&self.likelihood_gradient(&DVector::zeros(self.n_params())))
    }

    /// The same problem on the first `m` rows (the prefix of a prequential code).
    pub fn prefix(&self, m: usize) -> Self {
        LogisticProblem {
            rows: self.rows.prefix(m),
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
        self.linear_predictors(theta)
            .iter()
            .zip(self.y)
            .all(|(eta, y)| (2.0 * y - 1.0) * eta > 0.0)
    }

    /// This problem with f and ∇f computed together and remembered: see
    /// [`FusedLogisticProblem`].
    pub fn fused(&self) -> FusedLogisticProblem<'a> {
        FusedLogisticProblem {
            problem: *self,
            last: LastEvaluation::default(),
        }
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

/// A [`LogisticProblem`] whose cost and gradient come from one pass over the rows
/// ([`LogisticProblem::likelihood_and_gradient`]), remembered for the next request at the same θ.
///
/// argmin's L-BFGS asks for the cost and then the gradient at every trial point of its line
/// search, and for the gradient again at the accepted point; the Newton polish asks for the
/// gradient where the line search left off, and the Laplace evidence for ℓ at the mode. All of
/// these are then one pass each. What is remembered is the likelihood part only (the prior's part
/// is O(P) and added on each request). Clones share the memory.
#[derive(Debug, Clone)]
pub struct FusedLogisticProblem<'a> {
    problem: LogisticProblem<'a>,
    last: LastEvaluation,
}

impl<'a> FusedLogisticProblem<'a> {
    /// The problem itself.
    pub fn problem(&self) -> &LogisticProblem<'a> {
        &self.problem
    }

    /// (ℓ(θ), ∇ℓ(θ)), remembered.
    pub fn likelihood_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        self.last
            .get_or_compute(theta, |theta| self.problem.likelihood_and_gradient(theta))
    }

    /// The diagonal of ∇²f = X̃ᵀSX̃ + Λ at θ, from one pass that also computes (and remembers)
    /// ℓ(θ) and ∇ℓ(θ): the coordinate scales of [`crate::inference::laplace::find_mode_scaled`].
    pub fn hessian_diagonal(&self, theta: &DVector<f64>) -> DVector<f64> {
        let (l, g, diagonal) = self.problem.likelihood_gradient_and_curvature(theta);
        self.last.store(theta, l, g);
        diagonal + self.problem.precision
    }

    /// ℓ(θ), remembered.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        self.likelihood_and_gradient(theta).0
    }

    /// The gradient scale of [`LogisticProblem::gradient_scale`], from a (remembered) pass at 0.
    pub fn gradient_scale(&self) -> f64 {
        let zero = DVector::zeros(self.problem.n_params());
        self.problem
            .gradient_scale_from(&self.likelihood_and_gradient(&zero).1)
    }
}

impl CostFunction for FusedLogisticProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, ArgminError> {
        Ok(self.negative_log_likelihood(theta) + self.problem.penalty(theta))
    }
}

impl Gradient for FusedLogisticProblem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Self::Gradient, ArgminError> {
        Ok(self.likelihood_and_gradient(theta).1 + self.problem.penalty_gradient(theta))
    }
}

impl Hessian for FusedLogisticProblem<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    fn hessian(&self, theta: &Self::Param) -> std::result::Result<Self::Hessian, ArgminError> {
        Ok(self.problem.hessian_at(theta))
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
