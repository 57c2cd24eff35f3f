//! Dense kernels shared by the models: Gram matrices of row-major blocks, and deterministic
//! parallel sums over blocks of rows.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Range, Sub, SubAssign};

/// The two precisions of the dense kernels: `f64` for every number occam prints, `f32` for a
/// network search's preconditioner (where only the change of variables matters, and half the
/// bytes are twice the matrix-product throughput).
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Send
    + Sync
    + std::fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + std::iter::Sum
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// `v` rounded to this precision.
    fn from_f64(v: f64) -> Self;
    /// The value, exactly, as `f64`.
    fn to_f64(self) -> f64;
    /// √self.
    fn sqrt(self) -> Self;
    /// c ← α·a·b + β·c by matrixmultiply's `dgemm` or `sgemm` (m×k times k×n, each operand
    /// given by its pointer and its row and column strides).
    ///
    /// # Safety
    /// As for matrixmultiply's `dgemm`: every element addressed must lie in its allocation, and
    /// `c`'s elements must be distinct and alias neither input.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        mkn: (usize, usize, usize),
        alpha: Self,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
}

/// `Real` for a float type and matrixmultiply's product for it.
macro_rules! impl_real {
    ($t:ty, $gemm:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            unsafe fn gemm(
                (m, k, n): (usize, usize, usize),
                alpha: Self,
                a: (*const Self, isize, isize),
                b: (*const Self, isize, isize),
                beta: Self,
                c: (*mut Self, isize, isize),
            ) {
                // SAFETY: the caller's contract is the product's.
                unsafe {
                    $gemm(
                        m, k, n, alpha, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2,
                    )
                }
            }
        }
    };
}

impl_real!(f64, matrixmultiply::dgemm);
impl_real!(f32, matrixmultiply::sgemm);

/// Rows per block in every blocked computation. Fixed, so the order of floating-point sums — and
/// hence every printed digit — does not depend on the number of threads.
pub const BLOCK_ROWS: usize = 8192;

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

/// The number of threads the blocked computations use: the available parallelism, asked once
/// per process (the question reads cgroup files, and it was asked on every pass of every prefix
/// fit). Results never depend on it: work is split into fixed blocks summed in order.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

/// `f` applied to every item, the items split into contiguous runs across [`threads`]; the
/// results in the items' order. For a handful of independent, equally costly jobs (the
/// eigendecompositions of a prequential plan's prefixes): each result is computed alone, so it does
/// not depend on the thread count.
pub fn map_in_parallel<T, U, F>(items: &[T], f: F) -> Vec<U>
where
    T: Sync,
    U: Send,
    F: Fn(&T) -> U + Sync,
{
    let threads = threads().min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|run| scope.spawn(move || run.iter().map(f).collect::<Vec<U>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// `f` applied to every item, the items dealt round-robin to [`threads`] (so that jobs whose
/// cost falls or rises along the list — the block rows of a triangle — balance), the results in
/// the items' order. Each result is computed alone, so it does not depend on the thread count;
/// small jobs (`work` below 2²⁰ by the caller's measure) stay on the calling thread.
pub fn map_dealt<T, U, F>(items: Vec<T>, work: usize, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    let threads = threads().min(items.len());
    if threads <= 1 || work < 1 << 20 {
        return items.into_iter().map(f).collect();
    }
    let count = items.len();
    let mut dealt: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        dealt[i % threads].push((i, item));
    }
    let f = &f;
    let mut results: Vec<Option<U>> = (0..count).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = dealt
            .into_iter()
            .map(|items| {
                scope.spawn(move || {
                    items
                        .into_iter()
                        .map(|(i, item)| (i, f(item)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, u) in h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                results[i] = Some(u);
            }
        }
    });
    results.into_iter().flatten().collect()
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
    let threads = threads().min(blocks.len());
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
    fn dealt_jobs_come_back_in_the_items_order() {
        let items: Vec<usize> = (0..37).collect();
        // Above and below the size at which the jobs leave the calling thread.
        for work in [0, 1 << 30] {
            let squares = map_dealt(items.clone(), work, |i| (i, i * i));
            assert_eq!(
                squares,
                items.iter().map(|&i| (i, i * i)).collect::<Vec<_>>()
            );
        }
        // Mutable, disjoint pieces of one buffer, as the blocked Cholesky uses it.
        let mut buffer = vec![0usize; 40];
        let pieces: Vec<(usize, &mut [usize])> = buffer.chunks_mut(8).enumerate().collect();
        map_dealt(pieces, 1 << 30, |(b, piece)| {
            piece.iter_mut().for_each(|v| *v = b)
        });
        assert!(buffer.iter().enumerate().all(|(i, v)| *v == i / 8));
    }

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
