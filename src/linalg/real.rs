//! The two floating-point precisions of the dense kernels.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

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
