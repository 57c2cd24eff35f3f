//! A data set whose rows live in someone else's buffer: what the linear-Gaussian study reads of a
//! [`Dataset`] (its rows, target and names), borrowed rather than owned.
//!
//! The linear model touches the raw rows only in streaming passes (the standardisation, the
//! sufficient statistics XᵀX, Xᵀy, yᵀy, the prequential prefixes and, for a `fit:PATH` centre, the
//! row fingerprints), so it never needs a copy of them. A caller that holds the rows in its own
//! row-major memory — the Python package reading a C-contiguous float64 numpy array — builds a
//! [`DataView`] over that memory with [`DataView::new`] (the checks of [`Dataset::new`]) and fits
//! it with [`crate::fit::fit_linear`] (which takes a view or a `&Dataset`), or, to skip the
//! separate read that checking every value costs, builds an [`UncheckedView`] with
//! [`DataView::unchecked`] and fits it with [`crate::fit::fit_linear_unchecked`], which checks the
//! values in its own first pass. Everyone else keeps using [`Dataset`], which converts with
//! `DataView::from(&dataset)` at no cost.

use super::Dataset;
use crate::error::{OccamError, Result};

/// Borrowed rows, target and names: the read-only part of a [`Dataset`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataView<'a> {
    /// Where the data came from: a path or `builtin:NAME`.
    pub source: &'a str,
    /// The feature names, in column order of `x`.
    pub feature_names: &'a [String],
    /// The target's name.
    pub target_name: &'a str,
    /// Features, row-major: row i is `x[i*k .. (i+1)*k]`.
    pub x: &'a [f64],
    /// The target, one value a row (text labels hold their codes 0…K−1).
    pub y: &'a [f64],
    /// The target's text labels, label c coded c in `y`; empty for a numeric target.
    pub target_labels: &'a [String],
}

impl<'a> DataView<'a> {
    /// A view over rows held elsewhere, with [`Dataset::new`]'s checks and errors (shapes, every
    /// value finite); `target_labels` as [`Dataset::target_labels`].
    pub fn new(
        source: &'a str,
        feature_names: &'a [String],
        target_name: &'a str,
        x: &'a [f64],
        y: &'a [f64],
        target_labels: &'a [String],
    ) -> Result<Self> {
        check(source, feature_names.len(), x, y)?;
        Ok(DataView {
            source,
            feature_names,
            target_name,
            x,
            y,
            target_labels,
        })
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of features.
    pub fn k(&self) -> usize {
        self.feature_names.len()
    }

    /// Row `i` of the features.
    pub fn row(&self, i: usize) -> &'a [f64] {
        let k = self.k();
        &self.x[i * k..(i + 1) * k]
    }

    /// An owned copy (for the callers that keep the rows beyond the borrow).
    pub fn to_dataset(&self) -> Dataset {
        Dataset {
            source: self.source.to_string(),
            feature_names: self.feature_names.to_vec(),
            target_name: self.target_name.to_string(),
            x: self.x.to_vec(),
            y: self.y.to_vec(),
            target_labels: self.target_labels.to_vec(),
        }
    }
}

/// Rows handed over by a caller whose values have not been checked yet: [`DataView::unchecked`]
/// checks only the shapes, and the rows cannot be read until their values are known finite.
///
/// Checking a 200 000 × 100 buffer for NaN and ±∞ is a read of all of it — as long as the
/// linear fit's own first pass. So the linear entries that take an `UncheckedView`
/// ([`crate::fit::fit_linear_unchecked`], [`crate::fit::LinearStudy::from_unchecked`],
/// [`crate::data::ShardStats::from_unchecked`]) fold the check into that pass: it sums every
/// value into column means, and a NaN or ±∞ anywhere in a column makes that column's mean NaN or
/// ±∞ (IEEE sums, divisions by a row count and Chan's merges never turn a non-finite value finite).
/// Only when an accumulated value comes out non-finite are the rows searched, for the first
/// non-finite value ([`DataView::new`]'s error, word for word); when none is found the sums merely
/// overflowed, the values are finite, and the fit goes on exactly as on checked rows (where
/// the overflow is refused as it is for a CSV). Every other use goes through
/// [`UncheckedView::check`], the whole check first. The view inside is private: no code reads
/// the rows of an `UncheckedView` except through one of those two routes.
#[derive(Debug, Clone, Copy)]
pub struct UncheckedView<'a> {
    view: DataView<'a>,
}

impl<'a> DataView<'a> {
    /// Rows whose values are not checked yet (the shapes are, with [`DataView::new`]'s error):
    /// for a caller that hands over its own buffer and fits the linear model, which checks the
    /// values in its first pass ([`UncheckedView`]).
    pub fn unchecked(
        source: &'a str,
        feature_names: &'a [String],
        target_name: &'a str,
        x: &'a [f64],
        y: &'a [f64],
        target_labels: &'a [String],
    ) -> Result<UncheckedView<'a>> {
        check_shapes(source, feature_names.len(), x, y)?;
        Ok(UncheckedView {
            view: DataView {
                source,
                feature_names,
                target_name,
                x,
                y,
                target_labels,
            },
        })
    }
}

impl<'a> UncheckedView<'a> {
    /// Number of rows.
    pub fn n(&self) -> usize {
        self.view.n()
    }

    /// Number of features.
    pub fn k(&self) -> usize {
        self.view.k()
    }

    /// The whole check of [`DataView::new`] (every value finite, one read of the rows), then the
    /// rows: for the callers that do not fold it into a pass of their own.
    pub fn check(self) -> Result<DataView<'a>> {
        let DataView { source, x, y, .. } = self.view;
        check(source, self.view.k(), x, y)?;
        Ok(self.view)
    }

    /// The rows after `pass` has read them, checked by the pass's own result: `pass` must make
    /// an accumulated value that `finite` refuses whenever a value of `x` is NaN or ±∞ (column
    /// sums do). `y` is checked apart (n values). When `finite` refuses, the rows are searched
    /// and the first non-finite value is refused as [`DataView::new`] refuses it; if there is
    /// none, the values are finite and the pass's result stands.
    pub(crate) fn checked_by<T>(
        self,
        pass: impl FnOnce(DataView<'a>) -> T,
        finite: impl FnOnce(&T) -> bool,
    ) -> Result<(DataView<'a>, T)> {
        let result = pass(self.view);
        if !finite(&result) || first_non_finite(self.view.y).is_some() {
            self.check()?;
        }
        Ok((self.view, result))
    }
}

impl<'a> From<&'a Dataset> for DataView<'a> {
    fn from(data: &'a Dataset) -> Self {
        DataView {
            source: &data.source,
            feature_names: &data.feature_names,
            target_name: &data.target_name,
            x: &data.x,
            y: &data.y,
            target_labels: &data.target_labels,
        }
    }
}

/// [`Dataset::new`]'s checks: at least one feature and one row, `x` of length n·k, every value
/// finite (the first one that is not is named by its position in `x` then `y`).
pub(super) fn check(source: &str, k: usize, x: &[f64], y: &[f64]) -> Result<()> {
    check_shapes(source, k, x, y)?;
    if let Some(i) = first_non_finite(x).or_else(|| first_non_finite(y).map(|i| x.len() + i)) {
        return Err(OccamError::Csv {
            source_name: source.to_string(),
            message: format!("value number {i} is not finite").into(),
        });
    }
    Ok(())
}

/// [`check`]'s shapes: at least one feature and one row, `x` of length n·k.
fn check_shapes(source: &str, k: usize, x: &[f64], y: &[f64]) -> Result<()> {
    if k == 0 || y.is_empty() || x.len() != y.len() * k {
        return Err(OccamError::Csv {
            source_name: source.to_string(),
            message: format!(
                "expected at least one feature and one row with x of length n·k, got k = {k}, n = {}, x of length {}",
                y.len(),
                x.len()
            )
            .into(),
        });
    }
    Ok(())
}

/// The position of the first NaN or ±∞ in `values`. Runs of 1024 values are tested with a
/// branch-free fold (which the compiler vectorises: this check is one read of the rows, the
/// read [`UncheckedView`] saves), and only a run that holds one is searched for the position.
fn first_non_finite(values: &[f64]) -> Option<usize> {
    values.chunks(1024).enumerate().find_map(|(c, run)| {
        if run.iter().fold(true, |ok, v| ok & v.is_finite()) {
            None
        } else {
            run.iter()
                .position(|v| !v.is_finite())
                .map(|i| c * 1024 + i)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|j| format!("x{j}")).collect()
    }

    #[test]
    fn a_view_reads_what_the_dataset_holds() {
        let data = Dataset::new(
            "t",
            names(2),
            "y",
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            vec![0.5, 1.5, 2.5],
        )
        .unwrap();
        let view = DataView::from(&data);
        assert_eq!((view.n(), view.k()), (3, 2));
        assert_eq!(view.row(1), &[3.0, 4.0]);
        assert_eq!(view.to_dataset(), data);
        let names = names(2);
        let built = DataView::new("t", &names, "y", &data.x, &data.y, &[]).unwrap();
        assert_eq!(built, view);
    }

    #[test]
    fn a_view_is_refused_as_the_dataset_is() {
        let names = names(2);
        let x = [1.0, f64::NAN, 3.0, 4.0];
        let y = [1.0, 2.0];
        let view_error = DataView::new("s", &names, "y", &x, &y, &[]).unwrap_err();
        let data_error = Dataset::new("s", names.clone(), "y", x.to_vec(), y.to_vec()).unwrap_err();
        assert_eq!(view_error.to_string(), data_error.to_string());
        assert!(view_error
            .to_string()
            .contains("value number 1 is not finite"));
        let short = DataView::new("s", &names, "y", &x[..3], &y, &[]).unwrap_err();
        // The position counts through x and then y, across the runs of the fast check.
        let mut long = vec![1.0; 5000];
        assert_eq!(first_non_finite(&long), None);
        for (i, bad) in [
            (0, f64::NAN),
            (1023, f64::INFINITY),
            (1024, f64::NEG_INFINITY),
            (4999, f64::NAN),
        ] {
            long[i] = bad;
            assert_eq!(first_non_finite(&long), Some(i));
            long[i] = 1.0;
        }
        let ys = [1.0, f64::NAN];
        let in_y = DataView::new("s", &names, "y", &[1.0, 2.0, 3.0, 4.0], &ys, &[]).unwrap_err();
        assert!(
            in_y.to_string().contains("value number 5 is not finite"),
            "{in_y}"
        );
        assert!(short.to_string().contains("x of length n·k"), "{short}");
    }
}
