//! The upper triangle of a Gram matrix JᵀJ added band by band, the bands spread over the cores.

use super::gemm::{gemm, Operand};
use super::parallel::map_dealt;
use super::Real;

/// Rows of the GGN computed by one matrix product (a band of its upper triangle).
const GGN_BAND_ROWS: usize = 64;

/// The upper triangle of `total` (p×p, row-major) += that of JᵀJ for the m×p row-major `jac`: band
/// [r₀, r₁) of rows gets J[:, r₀..r₁]ᵀ·J[:, r₀..p] in one product, bands dealt round-robin to the
/// cores. (Entries below the diagonal inside a band are also written; the caller mirrors.)
pub(crate) fn add_gram_upper<T: Real>(jac: &[T], m: usize, p: usize, total: &mut [T]) {
    let bands: Vec<(usize, &mut [T])> = total
        .chunks_mut(GGN_BAND_ROWS * p)
        .enumerate()
        .map(|(b, out)| (b * GGN_BAND_ROWS, out))
        .collect();
    map_dealt(bands, m * p * p, |(start, out)| {
        let rows = out.len() / p;
        gemm(
            Operand::strided(&jac[start..m * p], rows, m, 1, p),
            Operand::strided(&jac[start..m * p], m, p - start, p, 1),
            T::ONE,
            &mut out[start..],
            p,
        );
    });
}
