//! Dense kernels shared by the models: Gram matrices of row-major blocks, and deterministic
//! parallel sums over blocks of rows.

use std::ops::Range;

/// Rows per block in every blocked computation. Fixed, so the order of floating-point sums — and
/// hence every printed digit — does not depend on the number of threads.
pub const BLOCK_ROWS: usize = 8192;

/// `out` (k×k, row-major) ← ZᵀZ for a row-major block Z of `z.len() / k` rows.
pub fn gram_into(z: &[f64], k: usize, out: &mut [f64]) {
    assert_eq!(out.len(), k * k, "gram_into: output must be k×k");
    let rows = z.len().checked_div(k).unwrap_or(0);
    assert_eq!(rows * k, z.len(), "gram_into: z must hold whole rows");
    if rows == 0 || k == 0 {
        out.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    // C (k×k) = A B with A = Zᵀ (row stride 1, column stride k) and B = Z (row stride k).
    // SAFETY: the asserts above make the strides stay inside z and out, which do not alias.
    unsafe {
        matrixmultiply::dgemm(
            k,
            rows,
            k,
            1.0,
            z.as_ptr(),
            1,
            k as isize,
            z.as_ptr(),
            k as isize,
            1,
            0.0,
            out.as_mut_ptr(),
            k as isize,
            1,
        );
    }
}

/// Runs `f` on consecutive blocks of [`BLOCK_ROWS`] rows out of `n`, on all cores, and returns the
/// results in block order — so that a caller summing them gets the same bits on any machine.
pub fn map_row_blocks<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    let blocks: Vec<Range<usize>> = (0..n.div_ceil(BLOCK_ROWS))
        .map(|b| b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(blocks.len());
    if threads <= 1 {
        return blocks.into_iter().map(&f).collect();
    }
    let per_thread = blocks.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = blocks
            .chunks(per_thread)
            .map(|group| scope.spawn(move || group.iter().cloned().map(f).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_rows_in_order() {
        let n = 3 * BLOCK_ROWS + 5;
        let ranges = map_row_blocks(n, |r| r);
        assert_eq!(ranges.first().map(|r| r.start), Some(0));
        assert_eq!(ranges.last().map(|r| r.end), Some(n));
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        assert!(map_row_blocks(0, |r| r).is_empty());
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
