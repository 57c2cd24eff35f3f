//! Statistics files on disk (`occam stats` writes them, `occam fit --stats` reads them): reading
//! one with every check that names the file, and merging many in the order given.
//!
//! A file is refused, naming it, when it is missing or unreadable, not JSON, not an occam
//! statistics file (its `format`), of another `schema`, of the wrong shape, holds a non-finite
//! value (JSON writers turn NaN into `null`), a negative variance, no features or no rows, or is
//! named twice (its rows would count twice). Files merged together must agree on the feature names (in order) and the target; the first that
//! differs is named with what differs.
//!
//! Merging is Chan's update, a left fold in the order given: ((a + b) + c) + …. Floating-point
//! addition is not associative, so another order may change the last bits (about 1e-16 relative
//! per merge), never more: the fits agree to 1e-12.

use super::shard::{ShardStats, SHARD_FORMAT, SHARD_SCHEMA};
use crate::error::{OccamError, Result, Setting};
use crate::message;
use std::path::{Path, PathBuf};

/// The largest statistics file read: (k + 1)² numbers of ≤ 25 characters each, so 1 GiB holds
/// k ≈ 6000 features — more than the k × k eigendecomposition that follows can use in memory.
pub const MAX_STATS_BYTES: u64 = 1 << 30;

fn bad(path: &Path, message: impl Into<crate::error::Message>) -> OccamError {
    OccamError::Csv {
        source_name: path.display().to_string(),
        message: message.into(),
    }
}

/// Reads and checks one statistics file.
pub fn read_stats(path: &Path) -> Result<ShardStats> {
    let bytes = crate::files::read_bounded(path, MAX_STATS_BYTES, "a statistics file")?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        bad(
            path,
            "not UTF-8 text, so not an occam statistics file; write one with `occam stats`",
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            path,
            format!(
                "not JSON ({e}), so not an occam statistics file; write one with `occam stats`"
            ),
        )
    })?;
    // The format and schema first: a file of another schema may have other keys.
    let format = value.get("format").and_then(serde_json::Value::as_str);
    if format != Some(SHARD_FORMAT) {
        return Err(bad(
            path,
            format!(
                "not an occam statistics file (its \"format\" is {}, not \"{SHARD_FORMAT}\"); write one with `occam stats`",
                value.get("format").map_or("missing".to_string(), |f| f.to_string())
            ),
        ));
    }
    let schema = value.get("schema").and_then(serde_json::Value::as_u64);
    if schema != Some(u64::from(SHARD_SCHEMA)) {
        return Err(bad(
            path,
            format!(
                "statistics file of schema {}; this occam reads schema {SHARD_SCHEMA}: write it again with this occam's `occam stats` (or `occam.SufficientStats`)",
                value.get("schema").map_or("(missing)".to_string(), |s| s.to_string())
            ),
        ));
    }
    // JSON has no NaN or infinity: writers print them as null (Python's json module as NaN,
    // which is not JSON and was refused above).
    let has_null = |key: &str| {
        value.get(key).is_some_and(|v| match v {
            serde_json::Value::Array(items) => items.iter().any(|item| match item {
                serde_json::Value::Array(row) => row.iter().any(serde_json::Value::is_null),
                other => other.is_null(),
            }),
            other => other.is_null(),
        })
    };
    for key in ["mean", "comoment"] {
        if has_null(key) {
            return Err(bad(
                path,
                format!(
                    "\"{key}\" holds null where a number belongs (a NaN or infinity written by a JSON writer); the shard's data hold a non-finite value: fix the data and write the statistics again"
                ),
            ));
        }
    }
    let stats = ShardStats::from_json(text, &path.display().to_string())?;
    if stats.k() == 0 {
        return Err(bad(
            path,
            "holds no feature columns; write the statistics of data with at least one feature",
        ));
    }
    if stats.n == 0 {
        return Err(bad(
            path,
            "holds no rows (n = 0); leave it out, or write the statistics of a shard with rows",
        ));
    }
    if let Some(j) = (0..=stats.k()).find(|&j| stats.comoment[j][j] < 0.0) {
        return Err(bad(
            path,
            format!(
                "the co-moment of column {j} with itself is {}, but a sum of squares is never negative: the file was edited or damaged; write it again with `occam stats`",
                stats.comoment[j][j]
            ),
        ));
    }
    Ok(stats)
}

/// Reads every file and merges them in the order given (Chan's update, a left fold), after
/// checking that each has the first file's feature names, in order, and target.
pub fn merge_stats_files(paths: &[PathBuf]) -> Result<ShardStats> {
    let Some((first_path, rest)) = paths.split_first() else {
        return Err(OccamError::invalid(
            Setting::Stats,
            "name at least one statistics file (written by `occam stats`)",
        ));
    };
    // The same file twice (any spelling: compared after resolving links) would count its rows twice.
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::with_capacity(paths.len());
    for path in paths {
        if let Ok(real) = std::fs::canonicalize(path) {
            if let Some((_, earlier)) = seen.iter().find(|(r, _)| *r == real) {
                return Err(bad(
                    path,
                    format!(
                        "is {} again: its rows would be counted twice; name each shard's statistics once",
                        earlier.display()
                    ),
                ));
            }
            seen.push((real, path));
        }
    }
    let mut merged = read_stats(first_path)?;
    for path in rest {
        let stats = read_stats(path)?;
        check_agree(&merged, first_path, &stats, path)?;
        merged.merge(&stats)?;
    }
    Ok(merged)
}

/// Refuses `other` (read from `path`) unless it has the columns of `first` (from `first_path`).
fn check_agree(
    first: &ShardStats,
    first_path: &Path,
    other: &ShardStats,
    path: &Path,
) -> Result<()> {
    let fix = message![
        "; write every shard's statistics with the same ",
        Setting::Target,
        " and ",
        Setting::Features,
        " (the columns in the same order)"
    ];
    if other.target != first.target {
        return Err(bad(
            path,
            message![format!(
                "its target is '{}' but {}'s is '{}'",
                other.target,
                first_path.display(),
                first.target
            )]
            .then(fix),
        ));
    }
    if other.k() != first.k() {
        return Err(bad(
            path,
            message![format!(
                "it has {} features but {} has {} ({:?} against {:?})",
                other.k(),
                first_path.display(),
                first.k(),
                other.features,
                first.features
            )]
            .then(fix),
        ));
    }
    if let Some(j) = (0..first.k()).find(|&j| other.features[j] != first.features[j]) {
        return Err(bad(
            path,
            message![format!(
                "its feature {} is '{}' but {}'s is '{}' ({:?} against {:?})",
                j + 1,
                other.features[j],
                first_path.display(),
                first.features[j],
                other.features,
                first.features
            )]
            .then(fix),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    fn stats(features: &[&str], target: &str, rows: usize, shift: f64) -> ShardStats {
        let k = features.len();
        let x: Vec<f64> = (0..rows * k)
            .map(|i| ((i * 7919 % 101) as f64) / 10.0 + shift)
            .collect();
        let y: Vec<f64> = (0..rows).map(|i| (i * 31 % 17) as f64 - shift).collect();
        let names = features.iter().map(|s| s.to_string()).collect();
        ShardStats::from_dataset(&Dataset::new("t", names, target, x, y).unwrap()).unwrap()
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn error(paths: &[PathBuf]) -> String {
        merge_stats_files(paths).unwrap_err().to_string()
    }

    #[test]
    fn merging_files_in_either_order_agrees_to_rounding() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a.json",
            &stats(&["u", "v"], "y", 40, 0.0).to_json(),
        );
        let b = write(
            dir.path(),
            "b.json",
            &stats(&["u", "v"], "y", 25, 3.0).to_json(),
        );
        let ab = merge_stats_files(&[a.clone(), b.clone()]).unwrap();
        let ba = merge_stats_files(&[b, a]).unwrap();
        assert_eq!(ab.n, 65);
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(y.abs());
        for j in 0..3 {
            assert!(close(ab.mean[j], ba.mean[j]));
            for l in 0..3 {
                assert!(close(ab.comoment[j][l], ba.comoment[j][l]));
            }
        }
    }

    #[test]
    fn every_bad_file_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let good = stats(&["u", "v"], "y", 30, 0.0);
        let a = write(dir.path(), "a.json", &good.to_json());
        let cases: Vec<(&str, String, &str)> = vec![
            ("csv.json", "u,v,y\n1,2,3\n".into(), "not JSON"),
            (
                "other.json",
                "{\"format\": \"x\", \"schema\": 1}".into(),
                "not an occam statistics file",
            ),
            (
                "v2.json",
                good.to_json().replace("\"schema\": 1", "\"schema\": 2"),
                "schema 2",
            ),
            (
                "null.json",
                {
                    let text = good.to_json();
                    let at = text.find("\"mean\": [").unwrap() + "\"mean\": [".len();
                    let end = at + text[at..].find(',').unwrap();
                    format!("{}null{}", &text[..at], &text[end..])
                },
                "null where a number belongs",
            ),
            (
                "empty.json",
                ShardStats::empty(vec!["u".into(), "v".into()], "y".into()).to_json(),
                "no rows",
            ),
            (
                "k3.json",
                stats(&["u", "v", "w"], "y", 30, 0.0).to_json(),
                "3 features but",
            ),
            (
                "renamed.json",
                stats(&["u", "w"], "y", 30, 0.0).to_json(),
                "feature 2 is 'w'",
            ),
            (
                "target.json",
                stats(&["u", "v"], "z", 30, 0.0).to_json(),
                "target is 'z'",
            ),
        ];
        for (name, text, needle) in cases {
            let path = write(dir.path(), name, &text);
            let e = error(&[a.clone(), path]);
            assert!(e.contains(name) && e.contains(needle), "{name}: {e}");
        }
        let missing = dir.path().join("missing.json");
        let again = dir.path().join(".").join("a.json");
        let e = error(&[a.clone(), again]);
        assert!(e.contains("counted twice"), "{e}");
        let e = error(&[missing]);
        assert!(
            e.contains("missing.json") && e.contains("cannot read"),
            "{e}"
        );
        let mut negative = good.clone();
        negative.comoment[1][1] = -1.0;
        let path = write(dir.path(), "neg.json", &negative.to_json());
        assert!(error(&[path]).contains("never negative"));
    }
}
