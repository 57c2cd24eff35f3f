//! The blocked Cholesky factorisation A = LLᵀ of a dense symmetric positive definite matrix.

use super::gemm::gemm_update;
use super::parallel::{map_ordered, Par};
use super::Real;

/// Columns per block of the factorisation and of the inversion of its factor (the inner
/// dimension of their products).
pub(super) const BLOCK: usize = 64;

/// A = LLᵀ: L (row-major p×p, zeros above the diagonal) and the inverses of its diagonal blocks
/// of 64 columns (`BLOCK`), which [`Cholesky::lower_inverse`] reuses.
#[derive(Debug, Clone)]
pub struct Cholesky<T> {
    pub(super) p: usize,
    pub(super) lower: Vec<T>,
    pub(super) diagonal_inverses: Vec<Vec<T>>,
}

impl<T: Real> Cholesky<T> {
    /// The factor of A (row-major p×p; only its lower triangle is read), or `None` if A is not
    /// numerically positive definite (a pivot ≤ 0 or not finite).
    ///
    /// Right-looking blocked Cholesky: for each diagonal block, factor it (unblocked) and invert
    /// its factor, solve the panel below it as one product (L_ik = A_ik L_kk⁻ᵀ), and subtract the
    /// panel's outer product from the trailing lower triangle — one product per block row, the
    /// block rows spread over the threads of `par` (each computed alone, so the same bits for
    /// every `par`).
    pub fn new(a: Vec<T>, p: usize, par: Par) -> Option<Self> {
        factor(a, p, par)
    }

    /// P.
    pub fn dim(&self) -> usize {
        self.p
    }

    /// L, row-major, zeros above the diagonal.
    pub fn lower(&self) -> &[T] {
        &self.lower
    }

    /// L, row-major, zeros above the diagonal.
    pub fn into_lower(self) -> Vec<T> {
        self.lower
    }
}

/// See [`Cholesky::new`].
fn factor<T: Real>(mut a: Vec<T>, p: usize, par: Par) -> Option<Cholesky<T>> {
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
            let rows = a[k1 * p..]
                .chunks_mut(BLOCK * p)
                .enumerate()
                .map(|(b, out)| (k1 + b * BLOCK, out));
            let panel = &panel;
            map_ordered(par.for_work(below * below * w / 2), rows, |(r0, out)| {
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
    Some(Cholesky {
        p,
        lower: a,
        diagonal_inverses,
    })
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
pub(super) fn unblocked_lower_inverse<T: Real>(l: &[T], w: usize) -> Vec<T> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Stream;

    #[test]
    fn the_factor_and_its_inverse_do_not_depend_on_the_thread_count() {
        // p = 300: the trailing updates and the inverse's block columns are large enough to
        // leave the calling thread (Par::for_work).
        let p = 300;
        let mut s = Stream::from_seed(5);
        let b: Vec<f64> = (0..p * (p + 3)).map(|_| s.normal()).collect();
        let a: Vec<f64> = (0..p * p)
            .map(|ij| {
                let (i, j) = (ij / p, ij % p);
                let bb: f64 = (0..p + 3)
                    .map(|t| b[i * (p + 3) + t] * b[j * (p + 3) + t])
                    .sum();
                bb + if i == j { 0.1 } else { 0.0 }
            })
            .collect();
        let run = |par: Par| {
            let factor = Cholesky::new(a.clone(), p, par).unwrap();
            let inverse = factor.lower_inverse(par);
            (factor.into_lower(), inverse)
        };
        let one = run(Par::Seq);
        for n in [2, 3, 5] {
            assert_eq!(run(Par::threads(n)), one, "{n} threads");
        }
        // L·L⁻¹ = I.
        let (l, x) = &one;
        for i in [0, 77, 299] {
            for j in [0, 64, 299] {
                let v: f64 = (0..p).map(|t| l[i * p + t] * x[t * p + j]).sum();
                assert!(
                    (v - f64::from(u8::from(i == j))).abs() < 1e-10,
                    "({i}, {j})"
                );
            }
        }
    }
}
