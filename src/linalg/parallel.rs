//! Deterministic fan-out of independent jobs over the cores: results come back in the jobs'
//! order, and each is computed alone, so no bit depends on the number of threads.

use super::BLOCK_ROWS;
use nalgebra::DVector;
use std::ops::Range;

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

/// The consecutive sub-ranges of `rows` of at most `size` rows.
pub(crate) fn chunks(rows: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    rows.clone()
        .step_by(size)
        .map(move |start| start..(start + size).min(rows.end))
}

/// Rows per sub-block: a block of [`map_row_blocks`] is cut into fixed sub-blocks whose sums are
/// added in order, so that data in a single block (n ≤ [`BLOCK_ROWS`], where `map_row_blocks`
/// runs on one thread) can still use every core — with the same bits on any number of threads.
const SUB_BLOCK_ROWS: usize = 512;

/// `f` on the consecutive sub-blocks of [`SUB_BLOCK_ROWS`] rows of `rows`, results in order; on
/// all cores if `parallel`, else on the calling thread — the same values either way.
pub(crate) fn map_sub_blocks<T, F>(rows: Range<usize>, parallel: bool, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    let subs: Vec<Range<usize>> = chunks(rows, SUB_BLOCK_ROWS).collect();
    let threads = if parallel {
        threads().min(subs.len())
    } else {
        1
    };
    if threads <= 1 {
        return subs.into_iter().map(&f).collect();
    }
    let per_thread = subs.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = subs
            .chunks(per_thread)
            .map(|group| scope.spawn(move || group.iter().cloned().map(f).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// `f(j)` for j in 0..p, on all cores in contiguous groups, returned in order. Each value is
/// computed by one call alone, so the result does not depend on the number of threads.
pub(crate) fn map_columns<F>(p: usize, f: F) -> Vec<DVector<f64>>
where
    F: Fn(usize) -> DVector<f64> + Sync,
{
    let threads = threads().min(p);
    if threads <= 1 {
        return (0..p).map(&f).collect();
    }
    let per_thread = p.div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..p)
            .step_by(per_thread)
            .map(|start| {
                scope.spawn(move || {
                    (start..(start + per_thread).min(p))
                        .map(f)
                        .collect::<Vec<_>>()
                })
            })
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
}
