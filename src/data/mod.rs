//! Data: CSV files and built-in data sets, column selection, standardisation and the sufficient
//! statistics of the linear-Gaussian model.
//!
//! Conventions (math.md §1): rows with a missing or non-finite value are an error naming the row
//! and column, never dropped; features are z-scored with the population sd; a constant feature is
//! an error naming the column.

pub mod builtin;
mod csv_reader;
pub mod design;
pub mod shard;
pub mod shard_file;
pub mod view;

pub use builtin::{builtin, builtin_names, BuiltinDataset, BUILTINS};
pub use design::{Design, DesignOptions, Standardization, SufficientStats};
pub use shard::ShardStats;
pub use view::{DataView, UncheckedView};

use crate::error::{OccamError, Result};
use std::path::Path;

/// Which columns are the target and the features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnSelection {
    /// The target column; `None` means the last column.
    pub target: Option<String>,
    /// The feature columns, in this order; `None` means every column but the target and `exclude`.
    pub features: Option<Vec<String>>,
    /// Columns to leave out when `features` is `None`.
    pub exclude: Vec<String>,
}

/// A numeric data set: n rows of k features and one target, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Where the data came from: a path or `builtin:NAME`.
    pub source: String,
    /// The feature names, in column order of `x`.
    pub feature_names: Vec<String>,
    /// The target's name.
    pub target_name: String,
    /// Features, row-major: row i is `x[i*k .. (i+1)*k]`.
    pub x: Vec<f64>,
    /// The target, one value a row (a column of text labels holds their codes 0…K−1).
    pub y: Vec<f64>,
    /// A target read as text labels: label c is the one coded c in `y`, sorted
    /// lexicographically (math.md §7). Empty for a numeric target.
    pub target_labels: Vec<String>,
}

impl Dataset {
    /// Builds a data set from row-major features, checking the shapes and that every value is finite.
    pub fn new(
        source: impl Into<String>,
        feature_names: Vec<String>,
        target_name: impl Into<String>,
        x: Vec<f64>,
        y: Vec<f64>,
    ) -> Result<Self> {
        let source = source.into();
        view::check(&source, feature_names.len(), &x, &y)?;
        Ok(Dataset {
            source,
            feature_names,
            target_name: target_name.into(),
            x,
            y,
            target_labels: Vec::new(),
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
    pub fn row(&self, i: usize) -> &[f64] {
        let k = self.k();
        &self.x[i * k..(i + 1) * k]
    }
}

/// Files at least this large are mapped into memory rather than read: reading copies every byte
/// into freshly zeroed pages, which for a 100 MB CSV costs a quarter of the whole parse.
const MAP_AT_BYTES: u64 = 1 << 20;

/// Loads `--data PATH|NAME`: a CSV file if one exists at that path, else a built-in data set.
/// A path that exists must be a regular file of at most [`crate::files::MAX_DATA_BYTES`] (the
/// check every read path shares, [`crate::files::check_regular`]): a folder, FIFO or device is
/// refused before it is opened.
pub fn load(spec: &str, selection: &ColumnSelection) -> Result<Dataset> {
    let path = Path::new(spec);
    if let Ok(meta) = std::fs::metadata(path) {
        crate::files::check_regular(&meta, crate::files::MAX_DATA_BYTES, "a data file").map_err(
            |message| OccamError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other(message),
            },
        )?;
        let read_error = |source| OccamError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let len = file.metadata().map_err(read_error)?.len();
        if len >= MAP_AT_BYTES {
            // SAFETY: the map is read-only and dropped before this returns; like every reader
            // that maps files (ripgrep, …) it assumes no other process truncates the file while
            // it is parsed. Where mapping is refused, the file is read instead. Pages are not
            // populated up front: faulted in by the parsing threads, they arrive in parallel.
            if let Ok(map) = unsafe { memmap2::MmapOptions::new().map(&file) } {
                return csv_reader::parse_csv(&map, spec, selection);
            }
        }
        let bytes = std::fs::read(path).map_err(read_error)?;
        csv_reader::parse_csv(&bytes, spec, selection)
    } else if let Some(b) = builtin(spec) {
        csv_reader::parse_csv(b.csv.as_bytes(), &format!("builtin:{}", b.name), selection)
    } else {
        Err(OccamError::UnknownDataset {
            name: spec.to_string(),
            available: builtin_names(),
        })
    }
}

/// Parses CSV text (header row, then numeric rows) with the given column selection.
pub fn parse_csv(bytes: &[u8], source_name: &str, selection: &ColumnSelection) -> Result<Dataset> {
    csv_reader::parse_csv(bytes, source_name, selection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn a_mapped_file_loads_the_same_data_set_as_its_bytes() {
        // Large enough to be mapped rather than read.
        let mut text = String::from("a,b,y\n");
        let mut i = 0u64;
        while (text.len() as u64) < 2 * MAP_AT_BYTES {
            let (a, b) = ((i * 7919 % 1000) as f64 / 7.0, (i % 13) as f64 - 6.5);
            writeln!(text, "{a},{b:e},{}", a * 0.5 - b).unwrap();
            i += 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        std::fs::write(&path, &text).unwrap();
        let spec = path.to_str().unwrap();
        let selection = ColumnSelection::default();
        let loaded = load(spec, &selection).unwrap();
        assert_eq!(loaded.n() as u64, i);
        assert_eq!(
            loaded,
            parse_csv(text.as_bytes(), spec, &selection).unwrap()
        );
    }
}
