//! Dense kernels shared by the models: Gram matrices of row-major blocks, and deterministic
//! parallel sums over blocks of rows.
//!
//! One operation per file: [`Real`] (the two precisions), `gemm` (strided matrix products),
//! [`gram_into`] / [`gram_accumulate`] (ZᵀZ), `add_gram_upper` (the upper triangle of JᵀJ by
//! bands), [`Cholesky`] (blocked factorisation; its `lower_inverse` in `lower_inverse.rs`),
//! [`lanczos_largest`] (an extremal eigenvalue), `map_biased_rows` (φ(a + b) row by row, vectorised by CPU) and [`map_ordered`] (the
//! one fan-out of independent jobs over the cores, its parallelism a [`Par`] argument).

mod cholesky;
mod gemm;
mod gram;
mod gram_upper;
mod lanczos;
mod lower_inverse;
mod map_biased_rows;
mod parallel;
mod real;

pub use cholesky::Cholesky;
pub(crate) use gemm::{gemm, Operand};
pub use gram::{gram_accumulate, gram_into};
pub(crate) use gram_upper::add_gram_upper;
pub use lanczos::lanczos_largest;
pub(crate) use map_biased_rows::map_biased_rows;
pub use parallel::{chunks, map_ordered, map_row_blocks, threads, Par, MIN_PARALLEL_WORK};
pub use real::Real;

/// Rows per block in every blocked computation. Fixed, so the order of floating-point sums — and
/// hence every printed digit — does not depend on the number of threads.
pub const BLOCK_ROWS: usize = 8192;
