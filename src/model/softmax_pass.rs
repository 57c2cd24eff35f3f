//! The f + ∇f pass of linear-softmax regression on a packed design (x̃ᵢ of every row held n × m
//! row-major, [`super::softmax::SoftmaxProblem::with_packed`]) as one fused loop: per group of
//! [`ROWS`] rows, the predictors ηᵢ = Θx̃ᵢ, the log-sum-exp and the residuals rᵢ = pᵢ − e_{yᵢ}, then
//! ∇ℓ += rᵢx̃ᵢᵀ while the rows are still in cache — the rows are read once, nothing is packed or
//! allocated per row.
//!
//! Θ is held feature-major (m × K̄, K̄ = K rounded up to [`LANES`], zero columns as padding), so
//! that one feature's K coefficients are contiguous lanes; so is the gradient. Per row and class,
//! η_c = Σ_j x̃_j θ_cj is summed in feature order j = 0, 1, …, m − 1 and ∂ℓ/∂θ_cj = Σᵢ r_ic x̃ᵢⱼ in
//! row order; exp is [`crate::special::exp_nonpositive`]. All plain IEEE arithmetic without fused
//! multiply-add, so the loop compiled for AVX2 and the portable loop give the same bits, and no
//! sum depends on the number of threads (the caller sums fixed row blocks in order).

/// Classes per vector lane group: four f64 (one AVX2 register).
pub(crate) const LANES: usize = 4;

/// Rows per group: their predictors share each load of Θ's lanes.
const ROWS: usize = 4;

/// K rounded up to [`LANES`].
pub(crate) fn padded_classes(classes: usize) -> usize {
    classes.div_ceil(LANES) * LANES
}

/// Class-major θ (K blocks of m) as feature-major m × K̄ ([`padded_classes`]), zero padding.
pub(crate) fn feature_major(theta: &[f64], classes: usize, m: usize) -> Vec<f64> {
    let kp = padded_classes(classes);
    let mut out = vec![0.0; m * kp];
    for (c, block) in theta.chunks_exact(m).enumerate().take(classes) {
        for (j, &v) in block.iter().enumerate() {
            out[j * kp + c] = v;
        }
    }
    out
}

/// Σᵢ Lᵢ − η_{i,yᵢ} over the rows of `x` (r × m row-major, labels `labels`) under the
/// feature-major Θ `theta` (m × K̄), and, when `gradient` is given (m × K̄, feature-major), adds
/// Σᵢ rᵢx̃ᵢᵀ to it in row order (padding columns stay untouched).
pub(crate) fn packed_block_pass(
    x: &[f64],
    m: usize,
    labels: &[usize],
    theta: &[f64],
    classes: usize,
    gradient: Option<&mut [f64]>,
) -> f64 {
    assert_eq!(x.len(), labels.len() * m, "one label per row of m values");
    let kp = padded_classes(classes);
    assert_eq!(theta.len(), m * kp, "Θ is m × K̄");
    if let Some(g) = &gradient {
        assert_eq!(g.len(), m * kp, "∇ℓ is m × K̄");
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { pass_avx2(x, m, labels, theta, classes, gradient) };
        }
    }
    pass_portable(x, m, labels, theta, classes, gradient)
}

/// [`pass_portable`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pass_avx2(
    x: &[f64],
    m: usize,
    labels: &[usize],
    theta: &[f64],
    classes: usize,
    gradient: Option<&mut [f64]>,
) -> f64 {
    pass_portable(x, m, labels, theta, classes, gradient)
}

/// See [`packed_block_pass`] (inlined into each instruction set).
#[inline(always)]
fn pass_portable(
    x: &[f64],
    m: usize,
    labels: &[usize],
    theta: &[f64],
    classes: usize,
    mut gradient: Option<&mut [f64]>,
) -> f64 {
    let kp = padded_classes(classes);
    let mut eta = vec![0.0; ROWS * kp];
    let mut padded = vec![0.0; ROWS * m];
    let mut loss = 0.0;
    for (xs, ys) in x.chunks(ROWS * m).zip(labels.chunks(ROWS)) {
        let rows = ys.len();
        let xs: &[f64] = if rows == ROWS {
            xs
        } else {
            // The last group of a block: missing rows are zeros (their predictors are dropped,
            // their residuals are zero).
            padded[..xs.len()].copy_from_slice(xs);
            padded[xs.len()..].fill(0.0);
            &padded
        };
        let (x0, rest) = xs.split_at(m);
        let (x1, rest) = rest.split_at(m);
        let (x2, x3) = rest.split_at(m);
        // η for the group's rows, LANES classes at a time, summed over j in order.
        for g in (0..kp).step_by(LANES) {
            let mut acc = [[0.0; LANES]; ROWS];
            for j in 0..m {
                let t: &[f64; LANES] = theta[j * kp + g..j * kp + g + LANES]
                    .try_into()
                    .expect("LANES values");
                let xv = [x0[j], x1[j], x2[j], x3[j]];
                for (a, xr) in acc.iter_mut().zip(xv) {
                    for (al, tl) in a.iter_mut().zip(t) {
                        *al += xr * tl;
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                eta[r * kp + g..r * kp + g + LANES].copy_from_slice(a);
            }
        }
        // Log-sum-exp and residuals in place of the predictors.
        for (r, e) in eta.chunks_exact_mut(kp).enumerate() {
            if r < rows {
                let y = ys[r];
                loss += residuals(&mut e[..classes], y);
                e[classes..].fill(0.0);
            } else {
                e.fill(0.0);
            }
        }
        if let Some(g) = gradient.as_deref_mut() {
            let (e0, rest) = eta.split_at(kp);
            let (e1, rest) = rest.split_at(kp);
            let (e2, e3) = rest.split_at(kp);
            for (j, gj) in g.chunks_exact_mut(kp).enumerate() {
                let xv = [x0[j], x1[j], x2[j], x3[j]];
                for ((((gl, a), b), c), d) in gj.iter_mut().zip(e0).zip(e1).zip(e2).zip(e3) {
                    *gl = (((*gl + a * xv[0]) + b * xv[1]) + c * xv[2]) + d * xv[3];
                }
            }
        }
    }
    loss
}

/// One row's loss L − η_y from its predictors η (length K), leaving the residuals p − e_y in
/// `eta`: L = M + ln Σ_c exp(η_c − M), M = max_c η_c, p_c = exp(η_c − M)/Σ_d exp(η_d − M).
#[inline(always)]
fn residuals(eta: &mut [f64], y: usize) -> f64 {
    let top = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let own = eta[y];
    let mut sum = 0.0;
    for e in eta.iter_mut() {
        *e = crate::special::exp_nonpositive(*e - top);
        sum += *e;
    }
    for e in eta.iter_mut() {
        *e /= sum;
    }
    eta[y] -= 1.0;
    top + sum.ln() - own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_major_pads_and_transposes() {
        let theta: Vec<f64> = (0..15).map(f64::from).collect(); // K = 5, m = 3
        let fm = feature_major(&theta, 5, 3);
        assert_eq!(fm.len(), 3 * 8);
        for c in 0..8 {
            for j in 0..3 {
                let expected = if c < 5 { (c * 3 + j) as f64 } else { 0.0 };
                assert_eq!(fm[j * 8 + c], expected);
            }
        }
    }
}
