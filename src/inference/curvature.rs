//! Dense curvature matrices of a few thousand parameters as the solvers use them: a factored
//! H = LLᵀ with L⁻¹ (log-determinant, trace and diagonal of H⁻¹, solves, extremal eigenvalues),
//! and the change of variables that whitens a problem by a curvature matrix so that argmin's
//! L-BFGS sees a Hessian near I. The factorisations themselves are [`crate::linalg`]'s blocked
//! [`Cholesky`] and Lanczos.
//!
//! Why not nalgebra's own `cholesky`, `inverse` and `symmetric_eigenvalues`? They are unblocked
//! (matrix–vector inner loops): for P ≈ 1500 they take seconds where the blocked forms, whose
//! work is matrix products on matrixmultiply's kernels, take tens of milliseconds. (And not faer's:
//! see bench/README.md.) Every routine uses a fixed block size, so the bits do not depend on the
//! machine's thread count.
//!
//! Storage: a P×P matrix is a row-major `Vec<f64>` (for a symmetric matrix row- and column-major
//! coincide, so a [`DMatrix`] can be copied in as is).

use crate::linalg::{lanczos_largest, map_ordered, Cholesky, Par, Real};
use argmin::core::{CostFunction, Error as ArgminError, Gradient};
use nalgebra::{DMatrix, DVector};
use std::sync::{Arc, Mutex};

/// Lanczos steps for an extremal eigenvalue (fewer when P is smaller).
const LANCZOS_STEPS: usize = 120;

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
        let factor = Cholesky::new(a, p, Par::all())?;
        let inverse = factor.lower_inverse(Par::all());
        Some(Factored {
            p,
            lower: factor.into_lower(),
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
        let inverse = Cholesky::new(curvature, p, Par::all())?.lower_inverse(Par::all());
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
        if p >= 256 {
            let split = ((fraction * p as f64) as usize).clamp(1, p - 1);
            let (head, tail) = out.split_at_mut(split);
            map_ordered(Par::all(), [(head, 0), (tail, split)], |(out, start)| {
                fill(out, start)
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

/// A fixed invertible P × P map A, the change of variables θ = θ₀ + Aᵀu of [`Whitened`] (so that
/// ∇ᵤ = A∇f): the dense [`Whitening`] (A = L⁻¹ of a factored curvature matrix), or a structured
/// one that never forms a P × P matrix (the KFAC search's (K + Λ)^{-1/2},
/// [`crate::inference::kfac_search::KfacWhitening`]).
pub trait WhiteningMap {
    /// P.
    fn dim(&self) -> usize;
    /// Av.
    fn mul(&self, v: &DVector<f64>) -> DVector<f64>;
    /// Aᵀu.
    fn transpose_mul(&self, u: &DVector<f64>) -> DVector<f64>;
}

impl WhiteningMap for Whitening {
    fn dim(&self) -> usize {
        self.p
    }
    fn mul(&self, v: &DVector<f64>) -> DVector<f64> {
        Whitening::mul(self, v)
    }
    fn transpose_mul(&self, u: &DVector<f64>) -> DVector<f64> {
        Whitening::transpose_mul(self, u)
    }
}

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
pub struct Whitened<P, W = Whitening> {
    inner: P,
    origin: DVector<f64>,
    whitening: Arc<W>,
    /// Report ∇ᵤ = 0 where ‖∇f‖ ≤ this (0: never).
    stop_at: f64,
    /// The last (u, θ(u)): argmin asks for the cost and the gradient at the same u.
    last: Arc<Mutex<Option<Point>>>,
}

impl<P, W: WhiteningMap> Whitened<P, W> {
    /// `inner` around `origin`, whitened by A (for [`Whitening`], A = L⁻¹ for the curvature LLᵀ
    /// at or near `origin`).
    pub fn new(inner: P, origin: DVector<f64>, whitening: W) -> Self {
        assert_eq!(
            origin.len(),
            whitening.dim(),
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

impl<P, W: WhiteningMap> CostFunction for Whitened<P, W>
where
    P: CostFunction<Param = DVector<f64>, Output = f64>,
{
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, u: &Self::Param) -> std::result::Result<f64, ArgminError> {
        self.inner.cost(&self.params(u))
    }
}

impl<P, W: WhiteningMap> Gradient for Whitened<P, W>
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
    use crate::random::Stream;

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
