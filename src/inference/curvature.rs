//! Dense curvature matrices of a few thousand parameters: a blocked Cholesky factorisation, the
//! inverse of its factor, extremal eigenvalues by Lanczos, and the change of variables that
//! whitens a problem by a curvature matrix so that argmin's L-BFGS sees a Hessian near I.
//!
//! Why not nalgebra's own `cholesky`, `inverse` and `symmetric_eigenvalues`? They are unblocked
//! (matrix–vector inner loops): for P ≈ 1500 they take seconds where the blocked forms below,
//! whose work is matrix products on matrixmultiply's kernels, take tens of milliseconds. Every
//! routine here runs on the calling thread with a fixed block size, so the bits do not depend on
//! the machine's thread count.
//!
//! Storage: a P×P matrix is a row-major `Vec<f64>` (for a symmetric matrix row- and column-major
//! coincide, so a [`DMatrix`] can be copied in as is).

use crate::linalg::Real;
use crate::random::Stream;
use argmin::core::{CostFunction, Error as ArgminError, Gradient};
use nalgebra::{DMatrix, DVector};
use std::sync::{Arc, Mutex};

/// Columns per block of the factorisation and inversion (the inner dimension of their products).
const BLOCK: usize = 64;

/// Lanczos steps for an extremal eigenvalue (fewer when P is smaller).
const LANCZOS_STEPS: usize = 120;

/// c (m×n, row stride ldc) ← alpha·a·b + c for row-major a (m×k, row stride lda) and b (k×n, row
/// stride ldb), or bᵀ when `b_transposed` (b is then n×k with row stride ldb).
#[allow(clippy::too_many_arguments)]
fn gemm_update<T: Real>(
    alpha: T,
    (a, lda): (&[T], usize),
    (b, ldb, b_transposed): (&[T], usize, bool),
    (m, k, n): (usize, usize, usize),
    c: &mut [T],
    ldc: usize,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!((m - 1) * lda + k <= a.len(), "gemm_update: a out of bounds");
    let (rsb, csb) = if b_transposed {
        assert!((n - 1) * ldb + k <= b.len(), "gemm_update: b out of bounds");
        (1, ldb)
    } else {
        assert!((k - 1) * ldb + n <= b.len(), "gemm_update: b out of bounds");
        (ldb, 1)
    };
    assert!((m - 1) * ldc + n <= c.len(), "gemm_update: c out of bounds");
    // SAFETY: the asserts keep every element inside its slice; `c` is borrowed mutably, so it
    // aliases neither input.
    unsafe {
        T::gemm(
            (m, k, n),
            alpha,
            (a.as_ptr(), lda as isize, 1),
            (b.as_ptr(), rsb as isize, csb as isize),
            T::ONE,
            (c.as_mut_ptr(), ldc as isize, 1),
        );
    }
}

/// The factor L of A = LLᵀ (row-major p×p; only A's lower triangle is read, L's upper triangle
/// is zero) and the inverses of its diagonal blocks of [`BLOCK`] columns, or `None` if A is not
/// numerically positive definite (a pivot ≤ 0 or not finite).
///
/// Right-looking blocked Cholesky: for each diagonal block, factor it (unblocked) and invert its
/// factor, solve the panel below it as one product (L_ik = A_ik L_kk⁻ᵀ), and subtract the panel's
/// outer product from the trailing lower triangle — one product per block row, the block rows
/// dealt to the cores (each computed alone, so the bits do not depend on the thread count).
fn cholesky<T: Real>(mut a: Vec<T>, p: usize) -> Option<(Vec<T>, Vec<Vec<T>>)> {
    assert_eq!(a.len(), p * p, "cholesky: a p×p matrix is needed");
    let mut diagonal_inverses = Vec::with_capacity(p.div_ceil(BLOCK));
    for k0 in (0..p).step_by(BLOCK) {
        let k1 = (k0 + BLOCK).min(p);
        let w = k1 - k0;
        let mut block: Vec<T> = (k0..k1)
            .flat_map(|i| a[i * p + k0..i * p + k1].iter().copied())
            .collect();
        if !unblocked_cholesky(&mut block, w) {
            return None;
        }
        let block_inverse = unblocked_lower_inverse(&block, w);
        for (i, row) in (k0..k1).zip(block.chunks_exact(w)) {
            a[i * p + k0..=i * p + i].copy_from_slice(&row[..=i - k0]);
        }
        let below = p - k1;
        if below > 0 {
            let mut panel = vec![T::ZERO; below * w];
            gemm_update(
                T::ONE,
                (&a[k1 * p + k0..], p),
                (&block_inverse, w, true),
                (below, w, w),
                &mut panel,
                w,
            );
            for (i, row) in (k1..p).zip(panel.chunks_exact(w)) {
                a[i * p + k0..i * p + k1].copy_from_slice(row);
            }
            // Block row [r0, r1): A[r0..r1, k1..r1] −= L[r0..r1, k0..k1] · L[k1..r1, k0..k1]ᵀ.
            let rows: Vec<(usize, &mut [T])> = a[k1 * p..]
                .chunks_mut(BLOCK * p)
                .enumerate()
                .map(|(b, out)| (k1 + b * BLOCK, out))
                .collect();
            let panel = &panel;
            crate::linalg::map_dealt(rows, below * below * w / 2, |(r0, out)| {
                let r1 = r0 + out.len() / p;
                gemm_update(
                    -T::ONE,
                    (&panel[(r0 - k1) * w..], w),
                    (panel, w, true),
                    (r1 - r0, w, r1 - k1),
                    &mut out[k1..],
                    p,
                );
            });
        }
        diagonal_inverses.push(block_inverse);
    }
    for i in 0..p {
        a[i * p + i + 1..(i + 1) * p]
            .iter_mut()
            .for_each(|v| *v = T::ZERO);
    }
    Some((a, diagonal_inverses))
}

/// The Cholesky factor of a small dense w×w block in place (row-major; the upper triangle is
/// left as it was); false if a pivot is ≤ 0 or not finite.
fn unblocked_cholesky<T: Real>(a: &mut [T], w: usize) -> bool {
    for j in 0..w {
        let d = a[j * w + j] - (0..j).map(|t| a[j * w + t] * a[j * w + t]).sum::<T>();
        if !(d > T::ZERO && d.to_f64().is_finite()) {
            return false;
        }
        let d = d.sqrt();
        a[j * w + j] = d;
        for i in j + 1..w {
            let s: T = (0..j).map(|t| a[i * w + t] * a[j * w + t]).sum();
            a[i * w + j] = (a[i * w + j] - s) / d;
        }
    }
    true
}

/// L⁻¹ of a small lower triangular w×w block (row-major, only the lower triangle read), by
/// substitution; exact zeros above the diagonal.
fn unblocked_lower_inverse<T: Real>(l: &[T], w: usize) -> Vec<T> {
    let mut x = vec![T::ZERO; w * w];
    for i in 0..w {
        let d = l[i * w + i];
        x[i * w + i] = T::ONE / d;
        for j in 0..i {
            let s: T = (j..i).map(|t| l[i * w + t] * x[t * w + j]).sum();
            x[i * w + j] = -s / d;
        }
    }
    x
}

/// L⁻¹ (row-major p×p, lower triangular) from L and the inverses of its diagonal blocks
/// ([`cholesky`]), by column blocks of [`BLOCK`]: block column c solves L X[:, c] = E[:, c] by
/// blocked forward substitution, X[r, c] = L_rr⁻¹ (E[r, c] − L[r, c..r] X[c..r, c]) — one product
/// for the bracket and one for L_rr⁻¹ — and the block columns, independent of one another, are
/// dealt to the cores.
fn lower_inverse<T: Real>(l: &[T], p: usize, diagonal_inverses: &[Vec<T>]) -> Vec<T> {
    let starts: Vec<usize> = (0..p).step_by(BLOCK).collect();
    let columns = crate::linalg::map_dealt(starts, p * p * p / 6, |c0| {
        let w = (c0 + BLOCK).min(p) - c0;
        // X[c0..p, c0..c1], row-major with row stride w.
        let mut x = vec![T::ZERO; (p - c0) * w];
        for r0 in (c0..p).step_by(BLOCK) {
            let b = (r0 + BLOCK).min(p) - r0;
            if r0 == c0 {
                // X[c, c] = L_cc⁻¹ (E[c, c] = I).
                x[..w * w].copy_from_slice(&diagonal_inverses[c0 / BLOCK]);
                continue;
            }
            let mut rhs = vec![T::ZERO; b * w];
            let (done, _) = x.split_at((r0 - c0) * w);
            gemm_update(
                -T::ONE,
                (&l[r0 * p + c0..], p),
                (done, w, false),
                (b, r0 - c0, w),
                &mut rhs,
                w,
            );
            gemm_update(
                T::ONE,
                (&diagonal_inverses[r0 / BLOCK], b),
                (&rhs, w, false),
                (b, b, w),
                &mut x[(r0 - c0) * w..],
                w,
            );
        }
        x
    });
    let mut inverse = vec![T::ZERO; p * p];
    for (c0, x) in (0..p).step_by(BLOCK).zip(columns) {
        let w = (c0 + BLOCK).min(p) - c0;
        for (i, row) in (c0..p).zip(x.chunks_exact(w)) {
            inverse[i * p + c0..i * p + c0 + w].copy_from_slice(row);
        }
    }
    inverse
}

/// A symmetric positive definite H = LLᵀ with L and L⁻¹ (both lower triangular, row-major).
#[derive(Debug, Clone)]
pub struct Factored {
    p: usize,
    lower: Vec<f64>,
    inverse: Vec<f64>,
}

impl Factored {
    /// Factors the symmetric matrix `h` (only its lower triangle is read), or `None` if it is not
    /// numerically positive definite (a pivot ≤ 0 or not finite).
    ///
    /// A blocked right-looking Cholesky factorisation, then L⁻¹ by block columns; both as
    /// matrix products on all cores, with the same bits on any number of them.
    pub fn new(h: &DMatrix<f64>) -> Option<Self> {
        let p = h.nrows();
        assert_eq!(p, h.ncols(), "a square matrix is needed");
        // Row-major with the lower triangle taken from the column-major one, so that only the
        // lower triangle is read.
        let a: Vec<f64> = (0..p)
            .flat_map(|i| (0..p).map(move |j| (i, j)))
            .map(|(i, j)| if j <= i { h[(i, j)] } else { 0.0 })
            .collect();
        let (lower, diagonal_inverses) = cholesky(a, p)?;
        let inverse = lower_inverse(&lower, p, &diagonal_inverses);
        Some(Factored { p, lower, inverse })
    }

    /// P.
    pub fn dim(&self) -> usize {
        self.p
    }

    /// ½ ln|H| = Σ ln Lᵢᵢ.
    pub fn half_log_det(&self) -> f64 {
        (0..self.p).map(|i| self.lower[i * self.p + i].ln()).sum()
    }

    /// tr(H⁻¹) = ‖L⁻¹‖²_F.
    pub fn trace_inverse(&self) -> f64 {
        self.inverse.iter().map(|v| v * v).sum()
    }

    /// diag(H⁻¹)ⱼ = Σᵢ (L⁻¹)ᵢⱼ².
    pub fn inverse_diagonal(&self) -> DVector<f64> {
        let p = self.p;
        let mut d = DVector::zeros(p);
        for row in self.inverse.chunks_exact(p) {
            for (dj, v) in d.iter_mut().zip(row) {
                *dj += v * v;
            }
        }
        d
    }

    /// L⁻¹v.
    pub fn inverse_factor_mul(&self, v: &DVector<f64>) -> DVector<f64> {
        let p = self.p;
        DVector::from_iterator(
            p,
            self.inverse
                .chunks_exact(p)
                .enumerate()
                .map(|(i, row)| dot(&row[..=i], &v.as_slice()[..=i])),
        )
    }

    /// L⁻ᵀu.
    pub fn inverse_factor_transpose_mul(&self, u: &DVector<f64>) -> DVector<f64> {
        let p = self.p;
        let mut out = vec![0.0; p];
        for (i, (row, ui)) in self.inverse.chunks_exact(p).zip(u.iter()).enumerate() {
            for (o, x) in out[..=i].iter_mut().zip(&row[..=i]) {
                *o += ui * x;
            }
        }
        DVector::from_vec(out)
    }

    /// H⁻¹v = L⁻ᵀ(L⁻¹v).
    pub fn solve(&self, v: &DVector<f64>) -> DVector<f64> {
        self.inverse_factor_transpose_mul(&self.inverse_factor_mul(v))
    }

    /// Hv = L(Lᵀv).
    pub fn mul(&self, v: &DVector<f64>) -> DVector<f64> {
        let p = self.p;
        let mut t = vec![0.0; p];
        for (i, row) in self.lower.chunks_exact(p).enumerate() {
            for (o, x) in t[..=i].iter_mut().zip(&row[..=i]) {
                *o += v[i] * x;
            }
        }
        DVector::from_iterator(
            p,
            self.lower
                .chunks_exact(p)
                .enumerate()
                .map(|(i, row)| dot(&row[..=i], &t[..=i])),
        )
    }

    /// The smallest and largest eigenvalue of H by Lanczos (120 steps with full
    /// reorthogonalisation) on H⁻¹ for the smallest and on H for the largest: Ritz values, which
    /// lie inside the spectrum and converge to its ends first (exact when P ≤ 120
    /// up to rounding).
    pub fn extremal_eigenvalues(&self) -> [f64; 2] {
        let p = self.p;
        let largest_inverse = lanczos_largest(p, LANCZOS_STEPS, |v| self.solve(v));
        let largest = lanczos_largest(p, LANCZOS_STEPS, |v| self.mul(v));
        [1.0 / largest_inverse, largest]
    }
}

/// Σ aᵢbᵢ with four running sums (so that the loop vectorises; a fixed order, so fixed bits),
/// each aᵢ widened to f64 first (for the single-precision [`Whitening`]).
fn dot<T: Copy + Into<f64>>(a: &[T], b: &[f64]) -> f64 {
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| (*x).into() * y)
        .sum();
    let mut s = [0.0; 4];
    for (x, y) in a4.zip(b4) {
        for j in 0..4 {
            s[j] += x[j].into() * y[j];
        }
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// The largest eigenvalue of a symmetric positive semi-definite operator on ℝᵖ by Lanczos from a
/// fixed pseudo-random start (so the same bits every time), with full reorthogonalisation: the
/// largest eigenvalue of the tridiagonal matrix after min(p, `steps`) steps, or sooner once it
/// has moved by at most 1e-13 relative over [`RITZ_CHECK_EVERY`] steps (the Ritz value rises
/// monotonically to the eigenvalue, so a stalled one has arrived; each step applies the operator
/// once, for a P ≈ 1500 factor a pass over 8 MB).
fn lanczos_largest<F>(p: usize, steps: usize, apply: F) -> f64
where
    F: Fn(&DVector<f64>) -> DVector<f64>,
{
    let steps = p.min(steps);
    let mut stream = Stream::from_seed(0x1a2c_305e);
    let mut v = DVector::from_fn(p, |_, _| stream.normal());
    v /= v.norm();
    let mut basis: Vec<DVector<f64>> = Vec::with_capacity(steps);
    let (mut alphas, mut betas) = (Vec::new(), Vec::new());
    let mut ritz = f64::NAN;
    for step in 1..=steps {
        let mut w = apply(&v);
        let alpha = w.dot(&v);
        alphas.push(alpha);
        basis.push(v.clone());
        for q in &basis {
            let c = w.dot(q);
            w.axpy(-c, q, 1.0);
        }
        let beta = w.norm();
        // An invariant subspace (or a NaN) ends the recursion.
        if beta.is_nan() || beta <= 1e-12 * alpha.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        if step % RITZ_CHECK_EVERY == 0 {
            let next = largest_ritz_value(&alphas, &betas);
            if (next - ritz).abs() <= 1e-13 * next.abs() {
                return next;
            }
            ritz = next;
        }
        betas.push(beta);
        v = w / beta;
    }
    largest_ritz_value(&alphas, &betas)
}

/// Lanczos steps between checks of the largest Ritz value.
const RITZ_CHECK_EVERY: usize = 4;

/// The largest eigenvalue of the symmetric tridiagonal matrix with diagonal `alphas` and
/// off-diagonal `betas` (one fewer, or as many: a trailing one is ignored).
fn largest_ritz_value(alphas: &[f64], betas: &[f64]) -> f64 {
    let m = alphas.len();
    let t = DMatrix::from_fn(m, m, |i, j| {
        if i == j {
            alphas[i]
        } else if i + 1 == j {
            betas[i]
        } else if j + 1 == i {
            betas[j]
        } else {
            0.0
        }
    });
    t.symmetric_eigenvalues().max()
}

/// A = L⁻¹ for the factor L of a curvature matrix C = LLᵀ, held in single precision and
/// packed by rows (row i holds its i + 1 entries on and below the diagonal): the whitening map
/// of [`Whitened`]. Either rounded from a double-precision [`Factored`] ([`Whitening::new`]) or
/// factored in single precision from C itself ([`Whitening::single_precision`]).
///
/// Why single precision: a whitened evaluation multiplies by A twice, and for P ≈ 1500 the
/// double-precision triangle (8 MB) streams from memory each time — a third as long as the
/// network's forward and backward pass. Half the bytes take half the time, and nothing is lost:
/// θ(u) = θ₀ + Aᵀu with ∇ᵤ = A∇f is a change of variables for any fixed invertible A (both
/// products use the same A, widened to f64 before every multiplication), so A's own error only
/// makes the whitened Hessian A∇²fAᵀ a little less close to I — 6e-8 relative when rounded,
/// about 1e-5 when factored in single precision, against the GGN's own departure from ∇²f.
/// (Substitution with a rounded L instead of products with A was measured slower: each row
/// waits for the one before.)
#[derive(Debug, Clone)]
pub struct Whitening {
    p: usize,
    packed: Vec<f32>,
}

impl Whitening {
    /// A from the factor of C = LLᵀ.
    pub fn new(factor: &Factored) -> Self {
        Self::packed(&factor.inverse, factor.p)
    }

    /// A = L⁻¹ for C = LLᵀ factored in single precision from C itself (row-major P×P, lower
    /// triangle read): for a search's preconditioner formed in single precision (see
    /// [`crate::model::mlp::MlpProblem::hessian_ggn_single`]), at twice the rate of [`Factored`].
    /// `None` if C is not positive definite to single precision (the caller can fall back on
    /// [`Factored`]).
    pub fn single_precision(curvature: Vec<f32>, p: usize) -> Option<Self> {
        let (lower, diagonal_inverses) = cholesky(curvature, p)?;
        let inverse = lower_inverse(&lower, p, &diagonal_inverses);
        inverse
            .iter()
            .all(|v| v.is_finite())
            .then(|| Self::packed(&inverse, p))
    }

    /// The lower triangle of a row-major P×P inverse factor, rounded to f32 and packed by rows.
    fn packed<T: Real>(inverse: &[T], p: usize) -> Self {
        let packed = inverse
            .chunks_exact(p)
            .enumerate()
            .flat_map(|(i, row)| row[..=i].iter().map(|v| v.to_f64() as f32))
            .collect();
        Whitening { p, packed }
    }

    /// Av: entry i is Σⱼ Aᵢⱼvⱼ over j ≤ i. Two cores share the rows, split where the triangle's
    /// entries halve (every row computed alone, so the same bits on one core).
    pub fn mul(&self, v: &DVector<f64>) -> DVector<f64> {
        let v = v.as_slice();
        self.on_two_cores(std::f64::consts::FRAC_1_SQRT_2, |out, start| {
            for (i, o) in (start..).zip(out.iter_mut()) {
                *o = dot(self.row(i), &v[..=i]);
            }
        })
    }

    /// Aᵀu: (Aᵀu)ⱼ = Σᵢ Aᵢⱼuᵢ, summed in increasing i. Two cores share the columns, split
    /// where the triangle's entries halve; each column's sum keeps its order, so the same bits on
    /// one core.
    pub fn transpose_mul(&self, u: &DVector<f64>) -> DVector<f64> {
        // Columns [start, start + out.len()) from every row that reaches them.
        self.on_two_cores(1.0 - std::f64::consts::FRAC_1_SQRT_2, |out, start| {
            let end = start + out.len();
            for (i, ui) in u.iter().enumerate().skip(start) {
                let row = &self.row(i)[start..(i + 1).min(end)];
                for (o, a) in out.iter_mut().zip(row) {
                    *o += ui * f64::from(*a);
                }
            }
        })
    }

    /// A P-vector whose entries [start, start + len) `fill(out, start)` computes from zeros: the
    /// entries below `fraction`·P on a second thread and the rest on this one, or all here (one
    /// core, or a triangle too small to pay for a thread). `fill` computes each entry alone, so
    /// the split does not change the bits.
    fn on_two_cores<F>(&self, fraction: f64, fill: F) -> DVector<f64>
    where
        F: Fn(&mut [f64], usize) + Sync,
    {
        let p = self.p;
        let mut out = vec![0.0; p];
        if p >= 256 && crate::linalg::threads() > 1 {
            let split = ((fraction * p as f64) as usize).clamp(1, p - 1);
            let (head, tail) = out.split_at_mut(split);
            let fill = &fill;
            std::thread::scope(|scope| {
                scope.spawn(move || fill(head, 0));
                fill(tail, split);
            });
        } else {
            fill(&mut out, 0);
        }
        DVector::from_vec(out)
    }

    /// Row i of A (its i + 1 entries on and below the diagonal).
    fn row(&self, i: usize) -> &[f32] {
        let start = i * (i + 1) / 2;
        &self.packed[start..=start + i]
    }
}

/// (u, θ(u)).
type Point = (DVector<f64>, DVector<f64>);

/// A problem seen through θ = θ₀ + Aᵀu, with A = L⁻¹ (in single precision, see [`Whitening`])
/// for LLᵀ = C a curvature matrix at θ₀ (for a network, the GGN + Λ): cost f(θ(u)), gradient
/// ∇ᵤ = A∇f(θ(u)), Hessian A∇²f Aᵀ ≈ I where C is close to ∇²f. argmin's L-BFGS on it is L-BFGS
/// preconditioned by C (its first step is the Gauss–Newton step), without the solver knowing
/// anything about the model.
///
/// The stopping rule belongs to θ, not u: argmin's test sees only ‖∇ᵤ‖, and ‖∇f‖ = ‖L∇ᵤ‖ can be
/// anywhere between √λmin‖∇ᵤ‖ and √λmax‖∇ᵤ‖ — a test strict enough for the worst case runs on
/// into rounding, where each Moré–Thuente step costs a handful of evaluations (measured: 460
/// evaluations for the last 91 iterations of a 10-32-32-1 search). So with
/// [`Whitened::stopping_at`] the gradient is reported as zero at the first point where
/// ‖∇f‖ ≤ the given target, and argmin stops there.
#[derive(Debug, Clone)]
pub struct Whitened<P> {
    inner: P,
    origin: DVector<f64>,
    whitening: Arc<Whitening>,
    /// Report ∇ᵤ = 0 where ‖∇f‖ ≤ this (0: never).
    stop_at: f64,
    /// The last (u, θ(u)): argmin asks for the cost and the gradient at the same u.
    last: Arc<Mutex<Option<Point>>>,
}

impl<P> Whitened<P> {
    /// `inner` around `origin`, whitened by A = L⁻¹ for the curvature LLᵀ at or near `origin`.
    pub fn new(inner: P, origin: DVector<f64>, whitening: Whitening) -> Self {
        assert_eq!(
            origin.len(),
            whitening.p,
            "origin and whitening sizes differ"
        );
        Whitened {
            inner,
            origin,
            stop_at: 0.0,
            whitening: Arc::new(whitening),
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The same problem, its gradient reported as zero wherever ‖∇f(θ)‖ ≤ `target` (so that L-BFGS
    /// with any positive gradient tolerance stops at the first such point).
    pub fn stopping_at(self, target: f64) -> Self {
        Whitened {
            stop_at: target,
            ..self
        }
    }

    /// θ(u) = θ₀ + Aᵀu.
    pub fn params(&self, u: &DVector<f64>) -> DVector<f64> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, theta)) = last.as_ref() {
            if at == u {
                return theta.clone();
            }
        }
        let theta = &self.origin + self.whitening.transpose_mul(u);
        *last = Some((u.clone(), theta.clone()));
        theta
    }
}

impl<P> CostFunction for Whitened<P>
where
    P: CostFunction<Param = DVector<f64>, Output = f64>,
{
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, u: &Self::Param) -> std::result::Result<f64, ArgminError> {
        self.inner.cost(&self.params(u))
    }
}

impl<P> Gradient for Whitened<P>
where
    P: Gradient<Param = DVector<f64>, Gradient = DVector<f64>>,
{
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, u: &Self::Param) -> std::result::Result<Self::Gradient, ArgminError> {
        let gradient = self.inner.gradient(&self.params(u))?;
        if gradient.norm() <= self.stop_at {
            return Ok(DVector::zeros(u.len()));
        }
        Ok(self.whitening.mul(&gradient))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(p: usize, seed: u64) -> DMatrix<f64> {
        let mut s = Stream::from_seed(seed);
        let a = DMatrix::from_fn(p, p + 3, |_, _| s.normal());
        &a * a.transpose() + DMatrix::identity(p, p) * 0.1
    }

    #[test]
    fn blocked_factor_agrees_with_nalgebra() {
        // (300: the trailing updates and the block columns of the inverse go to several cores.)
        for p in [1, 5, 63, 64, 65, 130, 200, 300] {
            let h = spd(p, p as u64);
            let f = Factored::new(&h).unwrap();
            let c = h.clone().cholesky().unwrap();
            let half: f64 = c.l_dirty().diagonal().iter().map(|d| d.ln()).sum();
            assert!(
                (f.half_log_det() - half).abs() < 1e-9 * half.abs().max(1.0),
                "p={p}"
            );
            let inv = c.inverse();
            let tr = inv.trace();
            assert!((f.trace_inverse() - tr).abs() < 1e-9 * tr, "p={p}");
            let diag = f.inverse_diagonal();
            assert!((diag - inv.diagonal()).amax() < 1e-9 * inv.diagonal().amax());
            let v = DVector::from_fn(p, |i, _| 1.0 + (i as f64).sin());
            let err = (f.solve(&v) - &inv * &v).amax() / (&inv * &v).amax();
            assert!(err < 1e-8, "p={p}: solve {err:e}");
            assert!((f.mul(&v) - &h * &v).amax() < 1e-10 * (&h * &v).amax());
            let e = h.clone().symmetric_eigenvalues();
            let [lo, hi] = f.extremal_eigenvalues();
            assert!(
                (lo - e.min()).abs() < 1e-7 * e.min(),
                "p={p}: {lo} vs {}",
                e.min()
            );
            assert!(
                (hi - e.max()).abs() < 1e-9 * e.max(),
                "p={p}: {hi} vs {}",
                e.max()
            );
        }
    }

    #[test]
    fn the_whitening_is_the_rounded_inverse_factor_and_its_own_adjoint() {
        // (300: the products are split between two cores.)
        for p in [1, 7, 64, 131, 300] {
            let h = spd(p, 10 + p as u64);
            let f = Factored::new(&h).unwrap();
            let w = Whitening::new(&f);
            // The dense A: L⁻¹ rounded entry by entry.
            let l_inv = h.clone().cholesky().unwrap().l().try_inverse().unwrap();
            let a = DMatrix::from_fn(p, p, |i, j| {
                if j <= i {
                    f64::from(f.inverse[i * p + j] as f32)
                } else {
                    0.0
                }
            });
            assert!((&a - &l_inv).amax() <= 1e-6 * l_inv.amax(), "p={p}");
            let v = DVector::from_fn(p, |i, _| (1.3 * i as f64).cos());
            let u = DVector::from_fn(p, |i, _| 1.0 / (1.0 + i as f64));
            let (av, atu) = (w.mul(&v), w.transpose_mul(&u));
            assert!((&av - &a * &v).amax() <= 1e-13 * (&a * &v).amax(), "p={p}");
            let dense_atu = a.transpose() * &u;
            assert!(
                (&atu - &dense_atu).amax() <= 1e-13 * dense_atu.amax(),
                "p={p}"
            );
            // ⟨Aᵀu, v⟩ = ⟨u, Av⟩: θ = θ₀ + Aᵀu and ∇ᵤ = A∇f are one change of variables.
            assert!((atu.dot(&v) - u.dot(&av)).abs() <= 1e-13 * u.norm() * av.norm());
        }
    }

    #[test]
    fn an_indefinite_matrix_is_refused() {
        let mut h = spd(70, 3);
        h[(69, 69)] = -1.0;
        assert!(Factored::new(&h).is_none());
        let single: Vec<f32> = h.iter().map(|v| *v as f32).collect();
        assert!(Whitening::single_precision(single, 70).is_none());
    }

    #[test]
    fn the_single_precision_whitening_is_the_inverse_factor_to_single_precision() {
        for p in [1, 9, 64, 150, 300] {
            let h = spd(p, 40 + p as u64);
            let single: Vec<f32> = h.iter().map(|v| *v as f32).collect();
            let w = Whitening::single_precision(single, p).unwrap();
            let l_inv = h.clone().cholesky().unwrap().l().try_inverse().unwrap();
            let v = DVector::from_fn(p, |i, _| (0.7 * i as f64).sin() + 0.5);
            let exact = &l_inv * &v;
            // Factored in f32 (condition number up to ≈ 10⁴ here): measured ≤ 4e-5 at p = 300.
            let err = (w.mul(&v) - &exact).amax() / exact.amax();
            assert!(err < 2e-4, "p={p}: {err:e}");
            // And AᵀA = H⁻¹ to the same accuracy: the whitened Hessian is close to I.
            let solve = h.clone().cholesky().unwrap().solve(&v);
            let err = (w.transpose_mul(&w.mul(&v)) - &solve).amax() / solve.amax();
            assert!(err < 2e-4, "p={p}: {err:e}");
        }
    }

    /// f(θ) = ½‖θ − c‖², whose gradient θ − c shows what the whitened problem reports.
    #[derive(Clone)]
    struct Bowl(DVector<f64>);

    impl CostFunction for Bowl {
        type Param = DVector<f64>;
        type Output = f64;
        fn cost(&self, t: &DVector<f64>) -> std::result::Result<f64, ArgminError> {
            Ok(0.5 * (t - &self.0).norm_squared())
        }
    }

    impl Gradient for Bowl {
        type Param = DVector<f64>;
        type Gradient = DVector<f64>;
        fn gradient(&self, t: &DVector<f64>) -> std::result::Result<DVector<f64>, ArgminError> {
            Ok(t - &self.0)
        }
    }

    #[test]
    fn a_whitened_gradient_is_zero_only_where_the_true_gradient_meets_the_target() {
        let p = 5;
        let h = spd(p, 77);
        let f = Factored::new(&h).unwrap();
        let centre = DVector::from_fn(p, |i, _| i as f64);
        let origin = DVector::zeros(p);
        let whitened =
            Whitened::new(Bowl(centre.clone()), origin, Whitening::new(&f)).stopping_at(1e-3);
        // u with θ(u) = θ₀ + Aᵀu far from the centre: the whitened gradient A∇f, unchanged.
        let u = DVector::from_element(p, 0.25);
        let theta = whitened.params(&u);
        let expected = Whitening::new(&f).mul(&(&theta - &centre));
        assert_eq!(whitened.gradient(&u).unwrap(), expected);
        // u with θ(u) within 1e-4 of the centre: reported as exactly zero.
        let a_t_inverse = DMatrix::from_fn(p, p, |i, j| {
            if j <= i {
                f.inverse[i * p + j] as f32 as f64
            } else {
                0.0
            }
        })
        .transpose()
        .try_inverse()
        .unwrap();
        let near = &a_t_inverse * (&centre + DVector::from_element(p, 1e-5));
        assert!((whitened.params(&near) - &centre).norm() <= 1e-3);
        assert_eq!(whitened.gradient(&near).unwrap(), DVector::zeros(p));
    }
}
