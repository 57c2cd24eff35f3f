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

use super::problem::{CostAndCurvature, Curvature, LastEvaluation, NewtonProblem, Objective};
use crate::error::{OccamError, Result, Setting};
use crate::linalg::map_row_blocks;
use crate::message;
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
            message: message![
                format!(
                    "the logistic model needs a target with exactly two distinct values, but '{target_name}' has {}{}; choose a binary column with ",
                    if values.len() > 2 { "more than two: " } else { "only " },
                    shown.join(", ") + if values.len() > 2 { ", …" } else { "" }
                ),
                Setting::Target
            ],
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

    /// The raw values of rows `rows`.
    fn raw(&self, rows: Range<usize>) -> &'a [f64] {
        &self.x[rows.start * self.k..rows.end * self.k]
    }

    /// Number of features k per row.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Row `i` of the design, written into `buffer` when it has to be standardised.
    #[inline(always)]
    pub(crate) fn row<'b>(&'b self, i: usize, buffer: &'b mut [f64]) -> &'b [f64] {
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
#[inline(always)]
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

/// One row's terms at ηᵢ = x̃ᵢᵀθ, from the one exponential e = exp(−|η|) and q = 1/(1 + e). None
/// overflows for any finite η.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowTerms {
    /// The row's loss softplus(η) − yη = (max(η, 0) − yη) + ln(1 + e): the first part.
    pub linear: f64,
    /// e, whose ln(1 + e) is the second part of the loss (summed by `LogOnePlusSum`).
    pub e: f64,
    /// σ(η) − y, the row's weight in ∇ℓ: σ(η) = q for η ≥ 0 and e·q otherwise.
    pub residual: f64,
    /// p(1 − p) = e·q², the row's weight in the Fisher information: no cancellation in 1 − p
    /// when |η| is large.
    pub curvature: f64,
}

impl RowTerms {
    /// The terms at η for the label y.
    #[inline(always)]
    pub fn new(eta: f64, y: f64) -> Self {
        let e = (-eta.abs()).exp();
        let q = 1.0 / (1.0 + e);
        let p = if eta >= 0.0 { q } else { e * q };
        RowTerms {
            linear: eta.max(0.0) - y * eta,
            e,
            residual: p - y,
            curvature: e * q * q,
        }
    }
}

/// Rows per logarithm in [`LogOnePlusSum`]: a product of this many factors in [1, 2] stays below
/// 2²⁵⁶.
const LOG_RUN: usize = 256;

/// Σⱼ ln(1 + eⱼ) over eⱼ ∈ [0, 1], as the sum of the logarithms of products of runs of
/// [`LOG_RUN`] factors 1 + eⱼ: one logarithm per run rather than one `ln_1p` per term (which was a
/// fifth of a pass over the rows).
///
/// Accuracy: rounding 1 + e is a relative error of at most 2⁻⁵³, so ln(fl(1 + e)) is within
/// 1.1e-16 of ln(1 + e) in absolute terms, and each multiplication adds as much: the sum is within
/// about 2.2e-16 per term, the order of the rounding of the plain sum of n terms of size ~1.
#[derive(Debug, Clone, Copy)]
struct LogOnePlusSum {
    sum: f64,
    product: f64,
    count: usize,
}

impl LogOnePlusSum {
    fn new() -> Self {
        LogOnePlusSum {
            sum: 0.0,
            product: 1.0,
            count: 0,
        }
    }

    #[inline(always)]
    fn add(&mut self, e: f64) {
        self.product *= 1.0 + e;
        self.count += 1;
        if self.count == LOG_RUN {
            self.sum += self.product.ln();
            self.product = 1.0;
            self.count = 0;
        }
    }

    fn total(&self) -> f64 {
        self.sum + self.product.ln()
    }
}

/// Rows per panel of the Hessian: a √S-scaled panel of this many rows (≈ 28 kB at a padded
/// width of 56) stays in L1 cache while every output tile of [`gram_lower_accumulate`] reads it.
const PANEL_ROWS: usize = 64;

/// Output tile of [`gram_lower_accumulate`]: [`TILE_ROWS`] rows × [`TILE_COLS`] columns of AᵀA,
/// kept in registers over a panel (eight 4-wide accumulators with AVX2).
const TILE_ROWS: usize = 4;
/// See [`TILE_ROWS`]; a panel's rows are padded with zeros to a multiple of this width.
const TILE_COLS: usize = 8;

/// Cache lines of the next panel prefetched per tile by [`gram_lower_accumulate`]: at P = 51 its
/// 49 tiles cover the 400 lines of 64 raw rows of 50 values.
const PREFETCH_PER_TILE: usize = 10;

/// Whether the CPU has AVX2 (detected once).
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// The lower triangle of `out` (w×w, row-major) += AᵀA for a row-major panel A of `a.len() / w`
/// rows of width w, a multiple of [`TILE_COLS`]: the sum over the panel's rows r of
/// out[i][j] += A[r][i]·A[r][j], by [`TILE_ROWS`]×[`TILE_COLS`] tiles (i₀ ≤ i < i₀ + 4,
/// j₀ ≤ j < j₀ + 8) for the first `p` rows and only the tiles with j₀ ≤ i₀ + 3, those that reach
/// the lower triangle: at p = 51, w = 56, 49 tiles, 1 568 products per row against 2 601 for the
/// full Gram matrix. Entries above the diagonal inside those tiles are computed too and are to be
/// ignored (see [`mirror_lower`]). A tile's accumulators start from `out` and run over the rows in
/// order, so the result does not depend on anything but the panel.
///
/// With AVX2 and FMA (detected at run time) the tile is eight 4-wide fused multiply-adds per row,
/// and the memory of `ahead` (the raw rows of the next panel) is prefetched a few cache lines per
/// tile, so that reading the next panel overlaps this one's arithmetic rather than following it;
/// otherwise the same loops on scalars.
fn gram_lower_accumulate(a: &[f64], w: usize, p: usize, out: &mut [f64], ahead: &[f64]) {
    assert!(w % TILE_COLS == 0 && p <= w && a.len() % w == 0 && out.len() == w * w);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA; the assert above bounds every index.
            unsafe { gram_lower_accumulate_avx2(a, w, p, out, ahead) };
            return;
        }
    }
    gram_lower_accumulate_portable(a, w, p, out);
}

/// The tiles of [`gram_lower_accumulate`]: (i₀, j₀) for i₀ < p in steps of [`TILE_ROWS`] and
/// j₀ ≤ i₀ + [`TILE_ROWS`] − 1 in steps of [`TILE_COLS`].
fn lower_tiles(p: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..p).step_by(TILE_ROWS).flat_map(|i0| {
        (0..=i0 + TILE_ROWS - 1)
            .step_by(TILE_COLS)
            .map(move |j0| (i0, j0))
    })
}

/// [`gram_lower_accumulate`] on scalars.
fn gram_lower_accumulate_portable(a: &[f64], w: usize, p: usize, out: &mut [f64]) {
    for (i0, j0) in lower_tiles(p) {
        let mut c = [[0.0; TILE_COLS]; TILE_ROWS];
        for (ii, ci) in c.iter_mut().enumerate() {
            ci.copy_from_slice(&out[(i0 + ii) * w + j0..][..TILE_COLS]);
        }
        for row in a.chunks_exact(w) {
            let b = &row[j0..j0 + TILE_COLS];
            for (ci, &s) in c.iter_mut().zip(&row[i0..i0 + TILE_ROWS]) {
                for (cij, &bj) in ci.iter_mut().zip(b) {
                    *cij += s * bj;
                }
            }
        }
        for (ii, ci) in c.iter().enumerate() {
            out[(i0 + ii) * w + j0..][..TILE_COLS].copy_from_slice(ci);
        }
    }
}

/// [`gram_lower_accumulate`] with AVX2 and FMA: per row, two 4-wide loads of A[r][j₀..j₀ + 8],
/// four broadcasts of A[r][i₀..i₀ + 4] and eight fused multiply-adds; per tile,
/// [`PREFETCH_PER_TILE`] prefetches of `ahead`.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and `a`, `w`, `p`, `out` must satisfy the assert of
/// [`gram_lower_accumulate`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gram_lower_accumulate_avx2(
    a: &[f64],
    w: usize,
    p: usize,
    out: &mut [f64],
    ahead: &[f64],
) {
    use std::arch::x86_64::{
        _mm256_broadcast_sd, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm_prefetch,
        _MM_HINT_T0,
    };
    let rows = a.len() / w;
    // The cache lines of `ahead`, a few per tile.
    let mut lines = ahead.chunks(8);
    for (i0, j0) in lower_tiles(p) {
        for line in lines.by_ref().take(PREFETCH_PER_TILE) {
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast());
        }
        // SAFETY (all pointer arithmetic below): i₀ + 3 < w and j₀ + 8 ≤ w because w is a
        // multiple of 8 no smaller than p, so every row offset stays inside its row of `a`, and
        // (i₀ + 3)·w + j₀ + 8 ≤ w² inside `out`.
        unsafe {
            let c_ptr = out.as_mut_ptr().add(i0 * w + j0);
            let mut c = [[_mm256_loadu_pd(c_ptr); 2]; TILE_ROWS];
            for (ii, ci) in c.iter_mut().enumerate() {
                ci[0] = _mm256_loadu_pd(c_ptr.add(ii * w));
                ci[1] = _mm256_loadu_pd(c_ptr.add(ii * w + 4));
            }
            let mut row = a.as_ptr();
            for _ in 0..rows {
                let b0 = _mm256_loadu_pd(row.add(j0));
                let b1 = _mm256_loadu_pd(row.add(j0 + 4));
                for (ii, ci) in c.iter_mut().enumerate() {
                    let s = _mm256_broadcast_sd(&*row.add(i0 + ii));
                    ci[0] = _mm256_fmadd_pd(s, b0, ci[0]);
                    ci[1] = _mm256_fmadd_pd(s, b1, ci[1]);
                }
                row = row.add(w);
            }
            for (ii, ci) in c.iter().enumerate() {
                _mm256_storeu_pd(c_ptr.add(ii * w), ci[0]);
                _mm256_storeu_pd(c_ptr.add(ii * w + 4), ci[1]);
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

/// The negative log posterior of logistic regression on a design, as a [`NewtonProblem`].
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
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2.
                return unsafe { self.pass_block_avx2::<DIAGONAL>(w, b, block) };
            }
            self.pass_block::<DIAGONAL>(w, b, block)
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

    /// [`Self::pass_block`] compiled for AVX2: the same operations four lanes wide (no fused
    /// multiply-adds), so the same bits.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn pass_block_avx2<const DIAGONAL: bool>(
        &self,
        w: &[f64],
        b: f64,
        block: Range<usize>,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        self.pass_block::<DIAGONAL>(w, b, block)
    }

    /// One block of rows of [`Self::pass`]: its share of ℓ, ∇ℓ and (when `DIAGONAL`) the Fisher
    /// diagonal.
    #[inline(always)]
    fn pass_block<const DIAGONAL: bool>(
        &self,
        w: &[f64],
        b: f64,
        block: Range<usize>,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        let (k, p) = (self.k, self.n_params());
        let mut buffer = vec![0.0; k];
        let mut g = vec![0.0; p];
        let mut diagonal = vec![0.0; if DIAGONAL { p } else { 0 }];
        let (mut linear, mut logs) = (0.0, LogOnePlusSum::new());
        for i in block {
            let row = self.rows.row(i, &mut buffer);
            let t = RowTerms::new(dot(row, w) + b, self.y[i]);
            linear += t.linear;
            logs.add(t.e);
            for (gj, x) in g[..k].iter_mut().zip(row) {
                *gj += t.residual * x;
            }
            if self.intercept {
                g[k] += t.residual;
            }
            if DIAGONAL {
                for (dj, x) in diagonal[..k].iter_mut().zip(row) {
                    *dj += t.curvature * x * x;
                }
                if self.intercept {
                    diagonal[k] += t.curvature;
                }
            }
        }
        (linear + logs.total(), g, diagonal)
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
    /// scaled by √(pᵢ(1 − pᵢ)), on panels of 64 rows by register tiles, lower triangle only, then
    /// mirrored.
    pub fn fisher_information(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.curvature_pass::<false>(theta).2
    }

    /// ℓ(θ), ∇ℓ(θ) and the Fisher information X̃ᵀSX̃ in one pass over the rows: for a Newton
    /// step's candidate, where the cost decides whether the point is taken and the gradient and
    /// Hessian are then needed there (to check convergence, or for the next step).
    pub fn likelihood_gradient_and_information(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        self.curvature_pass::<true>(theta)
    }

    /// The Fisher information X̃ᵀSX̃ at θ, S = diag(pᵢ(1 − pᵢ)) — and ℓ and ∇ℓ when `GRADIENT`
    /// (zeros otherwise): the Gram matrix of the rows scaled by √(pᵢ(1 − pᵢ)), accumulated
    /// ([`gram_lower_accumulate`]) over panels of 64 scaled rows padded with zeros to a multiple of
    /// 8 wide (small enough to stay in L1 cache between being written and multiplied), lower
    /// triangle only, then mirrored. ℓ and ∇ℓ are summed as in [`Self::likelihood_and_gradient`],
    /// row by row while the row is in cache.
    fn curvature_pass<const GRADIENT: bool>(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        let (k, p) = (self.k, self.n_params());
        let width = p.next_multiple_of(TILE_COLS);
        let (w, b) = (&theta.as_slice()[..k], self.offset(theta));
        let partial = map_row_blocks(self.n(), |block| {
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                // SAFETY: the CPU has AVX2.
                return unsafe { self.curvature_block_avx2::<GRADIENT>(w, b, block) };
            }
            self.curvature_block::<GRADIENT>(w, b, block)
        });
        let mut loss = 0.0;
        let mut g = DVector::zeros(p);
        let mut f = DMatrix::zeros(p, p);
        for (block_loss, block_g, block) in partial {
            if GRADIENT {
                loss += block_loss;
                g += DVector::from_vec(block_g);
            }
            for i in 0..p {
                for j in 0..=i {
                    f[(i, j)] += block[i * width + j];
                }
            }
        }
        mirror_lower(&mut f);
        (loss, g, f)
    }

    /// [`Self::curvature_block`] compiled for AVX2 (as [`Self::pass_block_avx2`]).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn curvature_block_avx2<const GRADIENT: bool>(
        &self,
        w: &[f64],
        b: f64,
        block: Range<usize>,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        self.curvature_block::<GRADIENT>(w, b, block)
    }

    /// One block of rows of [`Self::curvature_pass`]: its share of ℓ and ∇ℓ (when `GRADIENT`)
    /// and of the lower triangle of X̃ᵀSX̃, row-major at the padded width.
    #[inline(always)]
    fn curvature_block<const GRADIENT: bool>(
        &self,
        w: &[f64],
        b: f64,
        block: Range<usize>,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        let (k, p) = (self.k, self.n_params());
        let width = p.next_multiple_of(TILE_COLS);
        let mut buffer = vec![0.0; k];
        // Columns p..width stay zero.
        let mut panel = vec![0.0; PANEL_ROWS * width];
        let mut out = vec![0.0; width * width];
        let mut g = vec![0.0; if GRADIENT { p } else { 0 }];
        let (mut linear, mut logs) = (0.0, LogOnePlusSum::new());
        let mut start = block.start;
        while start < block.end {
            let end = (start + PANEL_ROWS).min(block.end);
            for (i, scaled) in (start..end).zip(panel.chunks_exact_mut(width)) {
                let row = self.rows.row(i, &mut buffer);
                let t = RowTerms::new(dot(row, w) + b, self.y[i]);
                if GRADIENT {
                    linear += t.linear;
                    logs.add(t.e);
                    for (gj, x) in g[..k].iter_mut().zip(row) {
                        *gj += t.residual * x;
                    }
                    if self.intercept {
                        g[k] += t.residual;
                    }
                }
                let s = t.curvature.sqrt();
                for (z, x) in scaled.iter_mut().zip(row) {
                    *z = s * x;
                }
                if self.intercept {
                    scaled[k] = s;
                }
            }
            let next = end..(end + PANEL_ROWS).min(block.end);
            gram_lower_accumulate(
                &panel[..(end - start) * width],
                width,
                p,
                &mut out,
                self.rows.raw(next),
            );
            start = end;
        }
        (linear + logs.total(), g, out)
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

    /// The prior precision Λ's diagonal, one entry per parameter.
    pub fn precision(&self) -> &DVector<f64> {
        self.precision
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

impl Objective for LogisticProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.objective(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.gradient_at(theta)
    }
}

impl NewtonProblem for LogisticProblem<'_> {
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.hessian_at(theta)
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

impl Objective for FusedLogisticProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.negative_log_likelihood(theta) + self.problem.penalty(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_and_gradient(theta).1 + self.problem.penalty_gradient(theta)
    }
}

/// One pass for f, ∇f and ∇²f at a Newton candidate
/// ([`LogisticProblem::likelihood_gradient_and_information`]); ℓ and ∇ℓ are remembered.
impl NewtonProblem for FusedLogisticProblem<'_> {
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.problem.hessian_at(theta)
    }

    fn cost_and_curvature(&self, theta: &DVector<f64>) -> CostAndCurvature {
        let (l, g, mut h) = self.problem.likelihood_gradient_and_information(theta);
        self.last.store(theta, l, g.clone());
        for j in 0..self.problem.n_params() {
            h[(j, j)] += self.problem.precision[j];
        }
        CostAndCurvature {
            cost: l + self.problem.penalty(theta),
            curvature: Some(Curvature {
                gradient: g + self.problem.penalty_gradient(theta),
                hessian: h,
            }),
        }
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

    /// Σ over rows of A[r][i]·A[r][j], directly.
    fn naive_gram(a: &[f64], w: usize) -> Vec<f64> {
        let mut g = vec![0.0; w * w];
        for row in a.chunks_exact(w) {
            for i in 0..w {
                for j in 0..w {
                    g[i * w + j] += row[i] * row[j];
                }
            }
        }
        g
    }

    #[test]
    fn gram_kernels_match_the_definition_on_the_lower_triangle() {
        for (p, rows) in [
            (1usize, 3usize),
            (7, 64),
            (8, 5),
            (13, 1),
            (51, 64),
            (51, 37),
        ] {
            let w = p.next_multiple_of(TILE_COLS);
            let mut a = vec![0.0; rows * w];
            for (r, row) in a.chunks_exact_mut(w).enumerate() {
                for (j, v) in row[..p].iter_mut().enumerate() {
                    *v = ((r * 31 + j * 17) % 23) as f64 / 7.0 - 1.5;
                }
            }
            let start: Vec<f64> = (0..w * w).map(|i| (i % 5) as f64).collect();
            let mut expected = naive_gram(&a, w);
            for (e, s) in expected.iter_mut().zip(&start) {
                *e += s;
            }
            let mut portable = start.clone();
            gram_lower_accumulate_portable(&a, w, p, &mut portable);
            let mut dispatched = start.clone();
            gram_lower_accumulate(&a, w, p, &mut dispatched, &[]);
            for i in 0..p {
                for j in 0..=i {
                    let e = expected[i * w + j];
                    for (name, got) in [("portable", &portable), ("dispatched", &dispatched)] {
                        let g = got[i * w + j];
                        assert!(
                            (g - e).abs() <= 1e-13 * e.abs().max(1.0),
                            "{name} p = {p}, rows = {rows}, [{i},{j}]: {g} vs {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fisher_information_matches_its_definition() {
        for intercept in [true, false] {
            let (k, n) = (11, 300);
            let (z, y) = problem_data(n, k, 9);
            let p = k + usize::from(intercept);
            let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 0.5));
            let problem = LogisticProblem::new(&z, &y, k, intercept, &center, &precision);
            let theta = DVector::from_fn(p, |i, _| 0.3 - 0.07 * i as f64);
            let mut expected = DMatrix::zeros(p, p);
            for (i, row) in z.chunks_exact(k).enumerate() {
                let mut x = row.to_vec();
                if intercept {
                    x.push(1.0);
                }
                let x = DVector::from_vec(x);
                let s = RowTerms::new(problem.linear_predictor(&theta, i), y[i]).curvature;
                expected += s * &x * x.transpose();
            }
            let f = problem.fisher_information(&theta);
            assert!(
                (&f - &expected).amax() <= 1e-12 * expected.amax(),
                "{}",
                (&f - &expected).amax()
            );
            assert_eq!(f, f.transpose());
        }
    }

    #[test]
    fn the_fused_curvature_pass_matches_the_separate_ones() {
        for intercept in [true, false] {
            let (k, n) = (9, 20_000);
            let (z, y) = problem_data(n, k, 4);
            let p = k + usize::from(intercept);
            let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 0.5));
            let problem = LogisticProblem::new(&z, &y, k, intercept, &center, &precision);
            let theta = DVector::from_fn(p, |i, _| 0.5 - 0.11 * i as f64);
            let (l, g, f) = problem.likelihood_gradient_and_information(&theta);
            let (l0, g0) = problem.likelihood_and_gradient(&theta);
            assert!((l - l0).abs() <= 1e-12 * l0.abs(), "{l} vs {l0}");
            let l1 = problem.negative_log_likelihood(&theta);
            assert!((l - l1).abs() <= 1e-12 * l1.abs(), "{l} vs {l1}");
            assert!((&g - &g0).amax() <= 1e-12 * g0.amax().max(1.0));
            assert_eq!(f, problem.fisher_information(&theta));
        }
    }

    #[test]
    fn row_terms_and_the_log_sum_match_softplus_and_sigmoid() {
        let (mut logs, mut direct) = (LogOnePlusSum::new(), 0.0);
        for i in 0..1000 {
            let eta = (i as f64 - 500.0) * 0.09;
            let y = (i % 3 == 0) as u8 as f64;
            let t = RowTerms::new(eta, y);
            let loss = row_negative_log_likelihood(eta, y);
            assert!((t.linear + t.e.ln_1p() - loss).abs() <= 1e-15 * (eta.abs() + 1.0));
            assert!((t.residual - (sigmoid(eta) - y)).abs() <= 1e-15);
            let s = sigmoid(eta) * sigmoid(-eta);
            assert!((t.curvature - s).abs() <= 1e-15 * s, "{eta}");
            logs.add(t.e);
            direct += t.e.ln_1p();
        }
        assert!(
            (logs.total() - direct).abs() <= 1e-12,
            "{} vs {direct}",
            logs.total()
        );
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
