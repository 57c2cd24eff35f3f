//! The upper triangle of a Gram matrix JᵀJ added band by band, the bands spread over the cores.

use super::gemm::{gemm, Operand};
use super::parallel::{map_ordered, Par};
use super::Real;

/// Rows of the GGN computed by one matrix product (a band of its upper triangle).
const GGN_BAND_ROWS: usize = 64;

/// The upper triangle of `total` (p×p, row-major) += that of JᵀJ for the m×p row-major `jac`: band
/// [r₀, r₁) of rows gets J[:, r₀..r₁]ᵀ·J[:, r₀..p] in one product, bands dealt round-robin to the
/// threads of `par` (each band computed alone, so the same bits for every `par`). (Entries below the diagonal inside a band are also written; the caller mirrors.)
pub(crate) fn add_gram_upper<T: Real>(par: Par, jac: &[T], m: usize, p: usize, total: &mut [T]) {
    let bands = total
        .chunks_mut(GGN_BAND_ROWS * p)
        .enumerate()
        .map(|(b, out)| (b * GGN_BAND_ROWS, out));
    map_ordered(par, bands, |(start, out)| {
        let rows = out.len() / p;
        gemm(
            T::ONE,
            Operand::strided(&jac[start..m * p], rows, m, 1, p),
            Operand::strided(&jac[start..m * p], m, p - start, p, 1),
            T::ONE,
            &mut out[start..],
            p,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bands_do_not_depend_on_the_thread_count() {
        // m·p² ≥ 2²⁰, so the bands leave the calling thread.
        let (m, p) = (64, 130);
        let jac: Vec<f64> = (0..m * p)
            .map(|i| ((i * 7919) % 211) as f64 / 100.0 - 1.0)
            .collect();
        let run = |par: Par| {
            let mut total = vec![0.5; p * p];
            add_gram_upper(par.for_work(m * p * p), &jac, m, p, &mut total);
            total
        };
        let one = run(Par::Seq);
        for n in [2, 3, 5] {
            assert_eq!(run(Par::threads(n)), one, "{n} threads");
        }
        for i in 0..p {
            for j in i..p {
                let direct: f64 = (0..m).map(|r| jac[r * p + i] * jac[r * p + j]).sum();
                assert!((one[i * p + j] - 0.5 - direct).abs() < 1e-12 * direct.abs().max(1.0));
            }
        }
    }
}
