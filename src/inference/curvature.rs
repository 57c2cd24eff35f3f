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
fn gemm_update(
    alpha: f64,
    (a, lda): (&[f64], usize),
    (b, ldb, b_transposed): (&[f64], usize, bool),
    (m, k, n): (usize, usize, usize),
    c: &mut [f64],
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
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            lda as isize,
            1,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            1.0,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
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
    /// Right-looking blocked Cholesky: for each diagonal block of 64 columns, factor it
    /// (unblocked), solve the panel below it (L_ik = A_ik L_kk⁻ᵀ), and subtract the panel's outer
    /// product from the trailing lower triangle, block row by block row, as matrix products.
    /// Then L⁻¹ by blocks: X_ii = L_ii⁻¹ and X_i,<i = −L_ii⁻¹ (L_i,<i X_<i,<i).
    pub fn new(h: &DMatrix<f64>) -> Option<Self> {
        let p = h.nrows();
        assert_eq!(p, h.ncols(), "a square matrix is needed");
        // Column-major storage of a symmetric matrix read as row-major: the same matrix.
        let mut a: Vec<f64> = h.as_slice().to_vec();
        // Use the lower triangle as given by row-major (i, j ≤ i) = column-major (j, i): mirror
        // the column-major lower triangle into it so that only the lower triangle is read.
        for i in 0..p {
            for j in 0..i {
                a[i * p + j] = h[(i, j)];
            }
        }
        for k0 in (0..p).step_by(BLOCK) {
            let k1 = (k0 + BLOCK).min(p);
            for j in k0..k1 {
                let d = a[j * p + j] - (k0..j).map(|t| a[j * p + t] * a[j * p + t]).sum::<f64>();
                if !(d > 0.0 && d.is_finite()) {
                    return None;
                }
                let d = d.sqrt();
                a[j * p + j] = d;
                // Rows below j in this block and in the panel under it.
                for i in j + 1..p {
                    let s: f64 = (k0..j).map(|t| a[i * p + t] * a[j * p + t]).sum();
                    a[i * p + j] = (a[i * p + j] - s) / d;
                }
            }
            // Trailing update of the lower triangle: rows [r0, r1) get
            // A[r, k1..r1] −= L[r, k0..k1] · L[k1..r1, k0..k1]ᵀ.
            for r0 in (k1..p).step_by(BLOCK) {
                let r1 = (r0 + BLOCK).min(p);
                let (top, rest) = a.split_at_mut(r0 * p);
                let panel_rows = &rest[..(r1 - r0) * p];
                // The panel rows of this block row are inside `rest`; copy them (BLOCK×BLOCK) so
                // that the output, also inside `rest`, aliases no input.
                let own: Vec<f64> = panel_rows
                    .chunks_exact(p)
                    .flat_map(|row| row[k0..k1].iter().copied())
                    .collect();
                let w = k1 - k0;
                // Columns k1..r0 come from rows k1..r0 (in `top`), columns r0..r1 from `own`.
                let out = &mut rest[k1..];
                if r0 > k1 {
                    gemm_update(
                        -1.0,
                        (&own, w),
                        (&top[k1 * p + k0..], p, true),
                        (r1 - r0, w, r0 - k1),
                        out,
                        p,
                    );
                }
                let out = &mut rest[r0..];
                gemm_update(
                    -1.0,
                    (&own, w),
                    (&own, w, true),
                    (r1 - r0, w, r1 - r0),
                    out,
                    p,
                );
            }
        }
        for i in 0..p {
            for j in i + 1..p {
                a[i * p + j] = 0.0;
            }
        }
        let inverse = lower_inverse(&a, p);
        Some(Factored {
            p,
            lower: a,
            inverse,
        })
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

    /// λmax(H) from a few Lanczos steps: a Ritz value, so a slight underestimate at worst —
    /// enough to scale a stopping rule.
    pub fn largest_eigenvalue_estimate(&self, steps: usize) -> f64 {
        lanczos_largest(self.p, steps, |v| self.mul(v))
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

/// L⁻¹ for a lower triangular row-major L (p×p) with a positive diagonal, by blocks of
/// [`BLOCK`] rows: X_ii = L_ii⁻¹ by substitution, X_i,<i = −L_ii⁻¹ (L_i,<i X_<i,<i), the bracket
/// one matrix product.
fn lower_inverse(l: &[f64], p: usize) -> Vec<f64> {
    let mut x = vec![0.0; p * p];
    for r0 in (0..p).step_by(BLOCK) {
        let r1 = (r0 + BLOCK).min(p);
        let b = r1 - r0;
        // T = L[r0..r1, 0..r0] · X[0..r0, 0..r0] (X's rows above r0 are final).
        let mut t = vec![0.0; b * r0.max(1)];
        if r0 > 0 {
            gemm_update(
                1.0,
                (&l[r0 * p..], p),
                (&x[..r0 * p], p, false),
                (b, r0, r0),
                &mut t,
                r0,
            );
        }
        // Row i of the block: X[i, ..=i] = (eᵢ − T[i, ..] − Σ_{r0≤s<i} L[i, s] X[s, ..]) / L[i, i]
        // (X[s, c] = 0 for c > s), by contiguous row updates.
        let mut buffer = vec![0.0; r1];
        for i in r0..r1 {
            let row = &mut buffer[..=i];
            row.iter_mut().for_each(|v| *v = 0.0);
            row[i] = 1.0;
            if r0 > 0 {
                let ti = &t[(i - r0) * r0..(i - r0 + 1) * r0];
                row[..r0].iter_mut().zip(ti).for_each(|(v, t)| *v -= t);
            }
            for s in r0..i {
                let c = l[i * p + s];
                row[..=s]
                    .iter_mut()
                    .zip(&x[s * p..=s * p + s])
                    .for_each(|(v, xs)| *v -= c * xs);
            }
            let d = l[i * p + i];
            x[i * p..=i * p + i]
                .iter_mut()
                .zip(row.iter())
                .for_each(|(o, v)| *o = v / d);
        }
    }
    x
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

/// A = L⁻¹ for the factor L of a curvature matrix C = LLᵀ, rounded to single precision and
/// packed by rows (row i holds its i + 1 entries on and below the diagonal): the whitening map
/// of [`Whitened`].
///
/// Why single precision: a whitened evaluation multiplies by A twice, and for P ≈ 1500 the
/// double-precision triangle (8 MB) streams from memory each time — a third as long as the
/// network's forward and backward pass. Half the bytes take half the time, and nothing is lost:
/// θ(u) = θ₀ + Aᵀu with ∇ᵤ = A∇f is a change of variables for any fixed invertible A (both
/// products use the same A, widened to f64 before every multiplication), and a preconditioner
/// accurate to 6e-8 relative is as good as an exact one. (Substitution with a rounded L instead
/// of products with A was measured slower: each row waits for the one before.)
#[derive(Debug, Clone)]
pub struct Whitening {
    p: usize,
    packed: Vec<f32>,
}

impl Whitening {
    /// A from the factor of C = LLᵀ.
    pub fn new(factor: &Factored) -> Self {
        let p = factor.p;
        let packed = factor
            .inverse
            .chunks_exact(p)
            .enumerate()
            .flat_map(|(i, row)| row[..=i].iter().map(|&v| v as f32))
            .collect();
        Whitening { p, packed }
    }

    /// The packed rows of A, row i with i + 1 entries.
    fn rows(&self) -> impl Iterator<Item = &[f32]> {
        (0..self.p).map(|i| {
            let start = i * (i + 1) / 2;
            &self.packed[start..start + i + 1]
        })
    }

    /// Av.
    pub fn mul(&self, v: &DVector<f64>) -> DVector<f64> {
        DVector::from_iterator(
            self.p,
            self.rows().map(|row| dot(row, &v.as_slice()[..row.len()])),
        )
    }

    /// Aᵀu.
    pub fn transpose_mul(&self, u: &DVector<f64>) -> DVector<f64> {
        let mut out = vec![0.0; self.p];
        for (row, ui) in self.rows().zip(u.iter()) {
            for (o, a) in out.iter_mut().zip(row) {
                *o += ui * f64::from(*a);
            }
        }
        DVector::from_vec(out)
    }
}

/// (u, θ(u)).
type Point = (DVector<f64>, DVector<f64>);

/// A problem seen through θ = θ₀ + Aᵀu, with A = L⁻¹ (in single precision, see [`Whitening`])
/// for LLᵀ = C a curvature matrix at θ₀ (for a network, the GGN + Λ): cost f(θ(u)), gradient
/// ∇ᵤ = A∇f(θ(u)), Hessian A∇²f Aᵀ ≈ I where C is close to ∇²f. argmin's L-BFGS on it is L-BFGS
/// preconditioned by C (its first step is the Gauss–Newton step), without the solver knowing
/// anything about the model.
#[derive(Debug, Clone)]
pub struct Whitened<P> {
    inner: P,
    origin: DVector<f64>,
    whitening: Arc<Whitening>,
    /// The last (u, θ(u)): argmin asks for the cost and the gradient at the same u.
    last: Arc<Mutex<Option<Point>>>,
}

impl<P> Whitened<P> {
    /// `inner` around `origin`, whitened by the factor of the curvature at or near `origin`.
    pub fn new(inner: P, origin: DVector<f64>, factor: &Factored) -> Self {
        assert_eq!(origin.len(), factor.dim(), "origin and factor sizes differ");
        Whitened {
            inner,
            origin,
            whitening: Arc::new(Whitening::new(factor)),
            last: Arc::new(Mutex::new(None)),
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
        Ok(self.whitening.mul(&self.inner.gradient(&self.params(u))?))
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
        for p in [1, 5, 63, 64, 65, 130, 200] {
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
        for p in [1, 7, 64, 131] {
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
    }
}
