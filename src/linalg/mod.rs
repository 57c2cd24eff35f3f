//! Dense kernels shared by the models: Gram matrices of row-major blocks, and deterministic
//! parallel sums over blocks of rows.
//!
//! One operation per file: [`Real`] (the two precisions), `gemm` (strided matrix products),
//! [`gram_into`] / [`gram_accumulate`] (ZᵀZ), `add_gram_upper` (the upper triangle of JᵀJ by
//! bands), `map_biased_rows` (φ(a + b) row by row, vectorised by CPU) and [`parallel`] (the
//! fan-out of independent jobs over the cores).

mod gemm;
mod gram;
mod gram_upper;
mod map_biased_rows;
pub mod parallel;
mod real;

pub(crate) use gemm::{gemm, Operand};
pub use gram::{gram_accumulate, gram_into};
pub(crate) use gram_upper::add_gram_upper;
pub(crate) use map_biased_rows::map_biased_rows;
pub(crate) use parallel::{chunks, map_columns, map_sub_blocks};
pub use parallel::{map_dealt, map_in_parallel, map_row_blocks, threads};
pub use real::Real;

/// Rows per block in every blocked computation. Fixed, so the order of floating-point sums — and
/// hence every printed digit — does not depend on the number of threads.
pub const BLOCK_ROWS: usize = 8192;
