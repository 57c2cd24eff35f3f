//! The one fan-out of independent jobs over the cores: [`map_ordered`], with the parallelism an
//! explicit [`Par`] argument (as in faer). Results come back in the jobs' order and each is
//! computed alone, so no bit depends on the number of threads; callers that sum results do so
//! in that order.

use super::BLOCK_ROWS;
use std::num::NonZeroUsize;
use std::ops::Range;

/// How many threads a computation may use: the caller decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Par {
    /// Everything on the calling thread.
    Seq,
    /// The calling thread and up to n − 1 more.
    Threads(NonZeroUsize),
}

impl Par {
    /// Every core: [`threads`] threads.
    pub fn all() -> Self {
        Par::threads(threads())
    }

    /// This parallelism for at least [`MIN_PARALLEL_WORK`] units of work by the caller's measure
    /// (multiply–adds, say), else [`Par::Seq`]: smaller jobs do not pay for a thread.
    pub fn for_work(self, work: usize) -> Self {
        if work >= MIN_PARALLEL_WORK {
            self
        } else {
            Par::Seq
        }
    }

    /// Up to `n` threads ([`Par::Seq`] for n ≤ 1).
    pub fn threads(n: usize) -> Self {
        NonZeroUsize::new(n).map_or(Par::Seq, Par::Threads)
    }

    /// [`Par::all`] if `parallel`, else [`Par::Seq`].
    pub fn all_if(parallel: bool) -> Self {
        if parallel {
            Par::all()
        } else {
            Par::Seq
        }
    }

    /// The number of threads, at least 1.
    pub fn degree(self) -> usize {
        match self {
            Par::Seq => 1,
            Par::Threads(n) => n.get(),
        }
    }
}

/// The work below which [`Par::for_work`] stays on the calling thread: 2²⁰.
pub const MIN_PARALLEL_WORK: usize = 1 << 20;

/// The number of threads of [`Par::all`]: the available parallelism, asked once per process
/// (the question reads cgroup files, and it was asked on every pass of every prefix fit).
/// Results never depend on it.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |t| t.get()))
}

/// `f` applied to every item, the results in the items' order.
///
/// The items are dealt round-robin to min(`par`'s degree, items) threads — the calling thread
/// takes the first share — so that jobs whose cost rises or falls along the list (the block rows
/// of a triangle) balance. Each result is computed by one call of `f` alone, so the results are
/// the same bits for every `par`.
pub fn map_ordered<T, U, F>(par: Par, items: impl IntoIterator<Item = T>, f: F) -> Vec<U>
where
    T: Send,
    U: Send,
    F: Fn(T) -> U + Sync,
{
    let items: Vec<T> = items.into_iter().collect();
    let count = items.len();
    let threads = par.degree().min(count);
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let mut dealt: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        dealt[i % threads].push((i, item));
    }
    let f = &f;
    let run = move |share: Vec<(usize, T)>| -> Vec<(usize, U)> {
        share.into_iter().map(|(i, item)| (i, f(item))).collect()
    };
    let mut results: Vec<Option<U>> = (0..count).map(|_| None).collect();
    std::thread::scope(|scope| {
        let mut shares = dealt.into_iter();
        let here = shares.next().unwrap_or_default();
        let handles: Vec<_> = shares
            .map(|share| scope.spawn(move || run(share)))
            .collect();
        let mut place = |done: Vec<(usize, U)>| {
            for (i, u) in done {
                results[i] = Some(u);
            }
        };
        place(run(here));
        for h in handles {
            place(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
    });
    results.into_iter().flatten().collect()
}

/// The consecutive sub-ranges of `rows` of at most `size` rows.
pub fn chunks(rows: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    rows.clone()
        .step_by(size)
        .map(move |start| start..(start + size).min(rows.end))
}

/// `f` on the consecutive blocks of [`BLOCK_ROWS`] rows out of `n`, on every core, the results
/// in block order — so that a caller summing them gets the same bits on any machine.
pub fn map_row_blocks<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    map_ordered(Par::all(), chunks(0..n, BLOCK_ROWS), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(n: usize) -> Par {
        Par::threads(n)
    }

    #[test]
    fn results_come_back_in_the_items_order_for_every_degree() {
        let items: Vec<usize> = (0..37).collect();
        for par in [Par::Seq, threads(1), threads(2), threads(3), threads(64)] {
            let squares = map_ordered(par, items.iter().copied(), |i| (i, i * i));
            assert_eq!(
                squares,
                items.iter().map(|&i| (i, i * i)).collect::<Vec<_>>(),
                "{par:?}"
            );
        }
        // Mutable, disjoint pieces of one buffer, as the blocked Cholesky uses it.
        let mut buffer = vec![0usize; 40];
        map_ordered(
            threads(3),
            buffer.chunks_mut(8).enumerate(),
            |(b, piece)| piece.iter_mut().for_each(|v| *v = b),
        );
        assert!(buffer.iter().enumerate().all(|(i, v)| *v == i / 8));
        assert!(map_ordered(threads(2), Vec::<usize>::new(), |i| i).is_empty());
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
    fn work_below_the_threshold_stays_on_the_calling_thread() {
        assert_eq!(threads(2).for_work(MIN_PARALLEL_WORK - 1), Par::Seq);
        assert_eq!(threads(2).for_work(MIN_PARALLEL_WORK), threads(2));
        assert_eq!(Par::all_if(false), Par::Seq);
    }
}
