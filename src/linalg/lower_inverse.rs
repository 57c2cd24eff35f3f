//! The inverse L⁻¹ of a blocked Cholesky factor, by blocked forward substitution.

use super::cholesky::{Cholesky, BLOCK};
use super::gemm::gemm_update;
use super::parallel::{map_ordered, Par};
use super::Real;

impl<T: Real> Cholesky<T> {
    /// L⁻¹ (row-major p×p, lower triangular) by column blocks of 64 (`BLOCK`): block column c
    /// solves L X[:, c] = E[:, c] by blocked forward substitution,
    /// X[r, c] = L_rr⁻¹ (E[r, c] − L[r, c..r] X[c..r, c]) — one product for the bracket and one
    /// for L_rr⁻¹ — and the block columns, independent of one another, are spread over the
    /// threads of `par` (each computed alone: the same bits for every `par`).
    pub fn lower_inverse(&self, par: Par) -> Vec<T> {
        let (l, p, diagonal_inverses) = (&self.lower, self.p, &self.diagonal_inverses);
        let starts: Vec<usize> = (0..p).step_by(BLOCK).collect();
        let columns: Vec<Vec<T>> = map_ordered(par.for_work(p * p * p / 6), starts, |c0| {
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
}
