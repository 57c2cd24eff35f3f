//! The largest eigenvalue of a symmetric positive semi-definite operator by Lanczos.

use crate::random::Stream;
use nalgebra::{DMatrix, DVector};

/// The largest eigenvalue of a symmetric positive semi-definite operator on ℝᵖ by Lanczos from a
/// fixed pseudo-random start (so the same bits every time), with full reorthogonalisation: the
/// largest eigenvalue of the tridiagonal matrix after min(p, `steps`) steps, or sooner once it
/// has moved by at most 1e-13 relative over 4 steps (`RITZ_CHECK_EVERY`) (the Ritz value rises
/// monotonically to the eigenvalue, so a stalled one has arrived; each step applies the operator
/// once, for a P ≈ 1500 factor a pass over 8 MB).
pub fn lanczos_largest<F>(p: usize, steps: usize, apply: F) -> f64
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
