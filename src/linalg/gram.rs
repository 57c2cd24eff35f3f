//! ZᵀZ of a row-major block Z, the symmetric product BLAS calls `dsyrk`.

use std::ops::Range;

/// `out` (k×k, row-major) ← ZᵀZ for a row-major block Z of `z.len() / k` rows.
pub fn gram_into(z: &[f64], k: usize, out: &mut [f64]) {
    gram(z, k, 0.0, out);
}

/// `out` (k×k, row-major) ← `out` + ZᵀZ for a row-major block Z of `z.len() / k` rows.
pub fn gram_accumulate(z: &[f64], k: usize, out: &mut [f64]) {
    gram(z, k, 1.0, out);
}

/// The narrowest column panel [`gram_into`] and [`gram_accumulate`] split ZᵀZ into. Every panel
/// is packed once for each block it takes part in, so narrow panels trade saved flops for packing:
/// at k = 100 two panels (56 + 44 columns, 0.75 of the flops) beat four (0.65 of the flops, but
/// half again as much time packing as multiplying).
const GRAM_PANEL_MIN: usize = 48;

/// Column panels for a k×k Gram matrix: ⌊k/48⌋ (at least one) of equal width, rounded up to the
/// 8-wide micro-kernel.
fn gram_panels(k: usize) -> Vec<Range<usize>> {
    let count = (k / GRAM_PANEL_MIN).max(1);
    let width = k.div_ceil(count).div_ceil(8) * 8;
    (0..k)
        .step_by(width.max(1))
        .map(|a| a..(a + width).min(k))
        .collect()
}

/// `out` ← β·`out` + ZᵀZ (β = 0 overwrites, whatever `out` held).
///
/// ZᵀZ is symmetric, so like BLAS's `dsyrk` only the column-panel blocks on and above the
/// diagonal are multiplied — (p + 1)/2p of the full product's flops for p panels
/// ([`gram_panels`]) — and the lower triangle is copied from the upper, which also makes `out`
/// exactly symmetric.
fn gram(z: &[f64], k: usize, beta: f64, out: &mut [f64]) {
    assert_eq!(out.len(), k * k, "gram_into: output must be k×k");
    let rows = z.len().checked_div(k).unwrap_or(0);
    assert_eq!(rows * k, z.len(), "gram_into: z must hold whole rows");
    if rows == 0 || k == 0 {
        if beta == 0.0 {
            out.iter_mut().for_each(|v| *v = 0.0);
        }
        return;
    }
    let panels = gram_panels(k);
    for (index, left) in panels.iter().enumerate() {
        for right in &panels[index..] {
            // C[left, right] (row stride k) = A B with A = Z[:, left]ᵀ (row stride 1, column
            // stride k) and B = Z[:, right] (row stride k, column stride 1).
            // SAFETY: the asserts above keep every offset and stride inside z (rows × k) and out
            // (k × k), which do not alias.
            unsafe {
                matrixmultiply::dgemm(
                    left.len(),
                    rows,
                    right.len(),
                    1.0,
                    z.as_ptr().add(left.start),
                    1,
                    k as isize,
                    z.as_ptr().add(right.start),
                    k as isize,
                    1,
                    beta,
                    out.as_mut_ptr().add(left.start * k + right.start),
                    k as isize,
                    1,
                );
            }
        }
    }
    for i in 1..k {
        for j in 0..i {
            out[i * k + j] = out[j * k + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panelled_gram_matches_the_definition_for_ragged_panels() {
        // k = 150: panels of 56, 56 and 38 columns; accumulating twice doubles the sums.
        let (rows, k) = (37, 150);
        assert_eq!(
            gram_panels(k),
            vec![0..56, 56..112, 112..150],
            "three ragged panels"
        );
        let z: Vec<f64> = (0..rows * k)
            .map(|i| ((i * 7919) % 211) as f64 / 100.0 - 1.0)
            .collect();
        let mut out = vec![f64::NAN; k * k];
        gram_into(&z, k, &mut out);
        gram_accumulate(&z, k, &mut out);
        for a in 0..k {
            for b in 0..k {
                let direct: f64 = (0..rows).map(|i| z[i * k + a] * z[i * k + b]).sum();
                let got = out[a * k + b];
                assert!((got - 2.0 * direct).abs() <= 1e-12 * direct.abs().max(1.0));
                assert_eq!(got, out[b * k + a]);
            }
        }
    }

    #[test]
    fn gram_matches_the_definition() {
        let z = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 3 rows, k = 2
        let mut out = [0.0; 4];
        gram_into(&z, 2, &mut out);
        assert_eq!(
            out,
            [
                1.0 + 9.0 + 25.0,
                2.0 + 12.0 + 30.0,
                2.0 + 12.0 + 30.0,
                4.0 + 16.0 + 36.0
            ]
        );
    }
}
