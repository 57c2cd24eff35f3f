//! The general matrix product c ← a·b + β·c on strided operands, by matrixmultiply.

use super::Real;

/// A dense matrix operand of [`gemm`]: `rows × cols` elements of `data` at
/// `data[i·row_stride + j·col_stride]`, always inside `data[..rows·cols]`.
#[derive(Clone, Copy)]
pub(crate) struct Operand<'d, T = f64> {
    data: &'d [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'d, T> Operand<'d, T> {
    /// Element (i, j) at `data[i·row_stride + j·col_stride]`; every element must lie in `data`.
    pub(crate) fn strided(
        data: &'d [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            rows == 0
                || cols == 0
                || (rows - 1) * row_stride + (cols - 1) * col_stride < data.len(),
            "operand: elements outside the slice"
        );
        Operand {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// A row-major rows × cols matrix.
    pub(crate) fn row_major(data: &'d [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// The transpose (cols × rows) of a row-major rows × cols matrix.
    pub(crate) fn transposed(data: &'d [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, cols, rows, 1, cols)
    }
}

/// c (a.rows × b.cols, row-major with row stride `ldc` ≥ b.cols) ← a·b + beta·c, by
/// matrixmultiply's kernels (as [`crate::linalg::gram_into`]); `c` is not read when beta = 0.
pub(crate) fn gemm<T: Real>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    beta: T,
    c: &mut [T],
    ldc: usize,
) {
    assert_eq!(a.cols, b.rows, "gemm: inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        n <= ldc && (m == 0 || n == 0 || (m - 1) * ldc + n <= c.len()),
        "gemm: output outside the slice"
    );
    // SAFETY: an Operand's elements lie inside its slice (checked by its constructor), the output's
    // m×n elements with row stride ldc ≥ n lie inside `c` and are distinct (checked above), and
    // `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        T::gemm(
            (m, k, n),
            T::ONE,
            (
                a.data.as_ptr(),
                a.row_stride as isize,
                a.col_stride as isize,
            ),
            (
                b.data.as_ptr(),
                b.row_stride as isize,
                b.col_stride as isize,
            ),
            beta,
            (c.as_mut_ptr(), ldc as isize, 1),
        );
    }
}
