//! Mergeable statistics of raw rows, for fitting the linear model on data spread over machines.
//!
//! The linear-Gaussian model with the `centered` intercept needs of the data only n, the column
//! means and the centred co-moments of (x, y) — for v = (x₁ … x_k, y),
//! C = Σᵢ (vᵢ − v̄)(vᵢ − v̄)ᵀ. Statistics of disjoint sets of rows merge exactly as the one-pass
//! standardisation merges its runs (Chan, Golub & LeVeque 1979): with δ = v̄_b − v̄_a and
//! n = n_a + n_b,
//!
//! v̄ = v̄_a + δ·n_b/n,  C = C_a + C_b + δδᵀ·n_a·n_b/n.
//!
//! From them the design's statistics follow without the rows: the feature sds are
//! sⱼ = √(Cⱼⱼ/n), and for z = (x − x̄)/s and t = y − ȳ, ZᵀZ = D⁻¹C_xxD⁻¹, Zᵀt = D⁻¹C_xy and
//! tᵀt = C_yy with D = diag(s). Each shard is read once; after the merge every prior costs O(k²).
//!
//! The file format (docs/scale.md) is JSON: `{"format": "occam-sufficient-stats", "schema": 1,
//! "n", "features", "target", "mean" (k + 1 values, the target's last), "comoment" (k + 1 rows of
//! k + 1 values)}`, numbers printed shortest-round-trip so a file holds the exact values.

use super::{DataView, Dataset, UncheckedView};
use crate::error::{OccamError, Result};
use crate::linalg::{gram_accumulate, map_row_blocks};
use serde::{Deserialize, Serialize};

/// The `format` value of a statistics file.
pub const SHARD_FORMAT: &str = "occam-sufficient-stats";

/// The schema version of a statistics file.
pub const SHARD_SCHEMA: u32 = 1;

/// Rows centred at a time (a buffer that stays in cache while the Gram kernel reads it).
const SUB_BLOCK_ROWS: usize = 1024;

/// n, the means and the centred co-moments of the rows (x, y) of a data set or of many merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardStats {
    /// Always [`SHARD_FORMAT`].
    pub format: String,
    /// Always [`SHARD_SCHEMA`].
    pub schema: u32,
    /// Rows.
    pub n: usize,
    /// The feature names, in column order.
    pub features: Vec<String>,
    /// The target's name.
    pub target: String,
    /// Column means of (x, y): k + 1 values, the target's last.
    pub mean: Vec<f64>,
    /// Σ (v − v̄)(v − v̄)ᵀ over the rows, v = (x, y): k + 1 rows of k + 1 values.
    pub comoment: Vec<Vec<f64>>,
}

impl ShardStats {
    /// Statistics of no rows.
    pub fn empty(features: Vec<String>, target: String) -> Self {
        let m = features.len() + 1;
        ShardStats {
            format: SHARD_FORMAT.to_string(),
            schema: SHARD_SCHEMA,
            n: 0,
            features,
            target,
            mean: vec![0.0; m],
            comoment: vec![vec![0.0; m]; m],
        }
    }

    /// Number of features.
    pub fn k(&self) -> usize {
        self.features.len()
    }

    /// The statistics of a data set's rows: fixed blocks of rows on all cores (each centred about
    /// its own mean, a run of rows at a time), merged in block order, so the result does not
    /// depend on the thread count. A data set with text labels is refused: its codes are only
    /// meaningful within one file.
    pub fn from_dataset(data: &Dataset) -> Result<Self> {
        Self::from_view(DataView::from(data))
    }

    /// [`ShardStats::from_dataset`] on rows held elsewhere (read in place, never copied).
    pub fn from_view(data: DataView<'_>) -> Result<Self> {
        Self::refuse_labels(data)?;
        Ok(Self::of_rows(data))
    }

    /// [`ShardStats::from_view`] on rows whose values are not checked yet: the check is folded
    /// into the one pass ([`UncheckedView`]; a NaN or ±∞ makes its column's mean non-finite),
    /// so the rows are read once. The statistics and errors are `from_view`'s on the checked
    /// rows (a non-finite value refused first, with [`DataView::new`]'s error).
    pub fn from_unchecked(rows: UncheckedView<'_>) -> Result<Self> {
        let (data, stats) = rows.checked_by(Self::of_rows, |stats| {
            stats
                .mean
                .iter()
                .chain(stats.comoment.iter().flatten())
                .all(|v| v.is_finite())
        })?;
        Self::refuse_labels(data)?;
        Ok(stats)
    }

    /// Text labels are codes meaningful within one file only.
    fn refuse_labels(data: DataView<'_>) -> Result<()> {
        if !data.target_labels.is_empty() {
            return Err(OccamError::Csv {
                source_name: data.source.to_string(),
                message: format!(
                    "target '{}' holds text labels; the statistics are for the linear model's numeric target",
                    data.target_name
                )
                .into(),
            });
        }
        Ok(())
    }

    /// The one pass: each run of rows centred about its own mean, runs and blocks merged with
    /// Chan's update, in block order.
    fn of_rows(data: DataView<'_>) -> Self {
        let k = data.k();
        let m = k + 1;
        let blocks = map_row_blocks(data.n(), |rows| {
            let mut total = Self::empty(data.feature_names.to_vec(), data.target_name.to_string());
            let mut v = Vec::with_capacity(SUB_BLOCK_ROWS * m);
            for start in rows.clone().step_by(SUB_BLOCK_ROWS) {
                let run = start..(start + SUB_BLOCK_ROWS).min(rows.end);
                let count = run.len();
                let mut mean = vec![0.0; m];
                for i in run.clone() {
                    mean.iter_mut()
                        .zip(data.row(i).iter().chain(std::iter::once(&data.y[i])))
                        .for_each(|(s, x)| *s += x);
                }
                mean.iter_mut().for_each(|s| *s /= count as f64);
                v.clear();
                for i in run {
                    v.extend(
                        data.row(i)
                            .iter()
                            .chain(std::iter::once(&data.y[i]))
                            .zip(&mean)
                            .map(|(x, c)| x - c),
                    );
                }
                let mut gram = vec![0.0; m * m];
                gram_accumulate(&v, m, &mut gram);
                let part = ShardStats {
                    n: count,
                    mean,
                    comoment: gram.chunks_exact(m).map(<[f64]>::to_vec).collect(),
                    ..Self::empty(Vec::new(), String::new())
                };
                total.add(&part);
            }
            total
        });
        let mut total = Self::empty(data.feature_names.to_vec(), data.target_name.to_string());
        for block in &blocks {
            total.add(block);
        }
        total
    }

    /// Chan's update with the rows of `other` (same columns, not checked here).
    fn add(&mut self, other: &ShardStats) {
        if other.n == 0 {
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta: Vec<f64> = other
            .mean
            .iter()
            .zip(&self.mean)
            .map(|(b, a)| b - a)
            .collect();
        let weight = na * nb / n;
        for (i, (row, other_row)) in self.comoment.iter_mut().zip(&other.comoment).enumerate() {
            for (j, (c, cb)) in row.iter_mut().zip(other_row).enumerate() {
                *c += cb + delta[i] * delta[j] * weight;
            }
        }
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d * nb / n;
        }
        self.n += other.n;
    }

    /// Adds the statistics of another, disjoint, set of rows with the same columns.
    pub fn merge(&mut self, other: &ShardStats) -> Result<()> {
        if other.features != self.features || other.target != self.target {
            return Err(OccamError::Csv {
                source_name: "merged statistics".into(),
                message: format!(
                    "the shards have different columns: features {:?} and target '{}' against features {:?} and target '{}'; every shard must have the same columns in the same order",
                    self.features, self.target, other.features, other.target
                )
                .into(),
            });
        }
        self.add(other);
        Ok(())
    }

    /// The statistics as their file (JSON, one trailing newline).
    pub fn to_json(&self) -> String {
        // Plain fields and vectors: serialising cannot fail (as report::format::json_document).
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
        text.push('\n');
        text
    }

    /// Statistics read from their file's text; `source_name` names it in errors.
    pub fn from_json(text: &str, source_name: &str) -> Result<Self> {
        let bad = |message: String| OccamError::Csv {
            source_name: source_name.to_string(),
            message: message.into(),
        };
        let stats: ShardStats = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "not an occam statistics file ({e}); write one with `occam.SufficientStats` or `occam stats`"
            ))
        })?;
        if stats.format != SHARD_FORMAT || stats.schema != SHARD_SCHEMA {
            return Err(bad(format!(
                "format '{}' schema {}: this occam reads format '{SHARD_FORMAT}' schema {SHARD_SCHEMA}",
                stats.format, stats.schema
            )));
        }
        let m = stats.k() + 1;
        if stats.mean.len() != m
            || stats.comoment.len() != m
            || stats.comoment.iter().any(|row| row.len() != m)
        {
            return Err(bad(format!(
                "{} features need {m} means and a {m} × {m} comoment matrix",
                stats.k()
            )));
        }
        let finite = stats.mean.iter().chain(stats.comoment.iter().flatten());
        if let Some(v) = finite.into_iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("the value {v} is not finite")));
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows whose feature j has mean ≈ `offset`·j and sd ≈ 0.29 (uniform), y = Σx + noise.
    fn data_at(n: usize, k: usize, seed: u64, offset: f64) -> Dataset {
        let mut x = Vec::with_capacity(n * k);
        let mut y = Vec::with_capacity(n);
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..n {
            let row: Vec<f64> = (0..k).map(|j| offset * j as f64 + next()).collect();
            y.push(row.iter().sum::<f64>() + next());
            x.extend(row);
        }
        let names = (0..k).map(|j| format!("x{j}")).collect();
        Dataset::new("test", names, "y", x, y).unwrap()
    }

    fn data(n: usize, k: usize, seed: u64) -> Dataset {
        data_at(n, k, seed, 1000.0)
    }

    /// The two-pass textbook moments of the whole data set.
    fn direct(d: &Dataset) -> (Vec<f64>, Vec<Vec<f64>>) {
        let m = d.k() + 1;
        let v = |i: usize, j: usize| if j < d.k() { d.row(i)[j] } else { d.y[i] };
        let mean: Vec<f64> = (0..m)
            .map(|j| (0..d.n()).map(|i| v(i, j)).sum::<f64>() / d.n() as f64)
            .collect();
        let c = (0..m)
            .map(|a| {
                (0..m)
                    .map(|b| {
                        (0..d.n())
                            .map(|i| (v(i, a) - mean[a]) * (v(i, b) - mean[b]))
                            .sum()
                    })
                    .collect()
            })
            .collect();
        (mean, c)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn moments_match_the_two_pass_formula_and_merges_match_the_whole() {
        let whole = data(5000, 4, 1);
        let stats = ShardStats::from_dataset(&whole).unwrap();
        let (mean, c) = direct(&whole);
        assert_eq!(stats.n, 5000);
        for (j, (row, direct_row)) in stats.comoment.iter().zip(&c).enumerate() {
            assert!(close(stats.mean[j], mean[j], 1e-13), "{j}");
            for (l, (a, b)) in row.iter().zip(direct_row).enumerate() {
                assert!(close(*a, *b, 1e-10), "{j} {l}");
            }
        }
        // Shards of unequal sizes, merged in any grouping, give the same statistics.
        let cut = |rows: std::ops::Range<usize>| {
            Dataset::new(
                "part",
                whole.feature_names.clone(),
                "y",
                whole.x[rows.start * 4..rows.end * 4].to_vec(),
                whole.y[rows].to_vec(),
            )
            .unwrap()
        };
        let parts: Vec<ShardStats> = [0..7, 7..2100, 2100..5000]
            .into_iter()
            .map(|r| ShardStats::from_dataset(&cut(r)).unwrap())
            .collect();
        let mut left = parts[0].clone();
        left.merge(&parts[1]).unwrap();
        left.merge(&parts[2]).unwrap();
        let mut right = parts[1].clone();
        right.merge(&parts[2]).unwrap();
        right.merge(&parts[0]).unwrap();
        for merged in [&left, &right] {
            assert_eq!(merged.n, 5000);
            for j in 0..5 {
                assert!(close(merged.mean[j], stats.mean[j], 1e-13));
                for l in 0..5 {
                    assert!(close(merged.comoment[j][l], stats.comoment[j][l], 1e-10));
                }
            }
        }
    }

    /// The linear fit from merged shards equals the fit on the concatenated rows (math.md §5):
    /// evidence, MAP, σ, s and the mixture, two_part and BIC codes to 1e-12 relative.
    #[test]
    fn a_fit_from_merged_shards_equals_the_fit_on_all_rows() {
        use crate::fit::{fit_linear, fit_linear_shards, FitOptions};
        use crate::prior::SdSpec;
        // Means a few sds from zero, as real features; with means 10⁴ sds away (`data`) both
        // routes lose digits to the centring and agree to ~1e-11 only.
        let whole = data_at(3000, 5, 7, 3.0);
        let mut merged: Option<ShardStats> = None;
        for rows in [0..900, 900..901, 901..3000] {
            let part = Dataset::new(
                "part",
                whole.feature_names.clone(),
                "y",
                whole.x[rows.start * 5..rows.end * 5].to_vec(),
                whole.y[rows].to_vec(),
            )
            .unwrap();
            let stats = ShardStats::from_dataset(&part).unwrap();
            match &mut merged {
                Some(m) => m.merge(&stats).unwrap(),
                None => merged = Some(stats),
            }
        }
        let merged = merged.unwrap();
        for (prior_sd, standardize) in [(SdSpec::Auto, true), (SdSpec::Fixed(0.3), false)] {
            let options = FitOptions {
                prior_sd,
                standardize,
                ..FitOptions::default()
            };
            let a = fit_linear(&whole, &options).unwrap();
            let b = fit_linear_shards(&merged, "test", &options).unwrap();
            let (ea, eb) = (&a.evaluation, &b.evaluation);
            assert!(
                close(ea.log_evidence, eb.log_evidence, 1e-12),
                "{} {} {} {}",
                ea.log_evidence,
                eb.log_evidence,
                ea.prior_sd,
                eb.prior_sd
            );
            assert!(close(ea.prior_sd, eb.prior_sd, 1e-12));
            assert!(close(ea.noise_sd.unwrap(), eb.noise_sd.unwrap(), 1e-12));
            for (x, y) in [
                (ea.code_lengths.mixture, eb.code_lengths.mixture),
                (ea.code_lengths.two_part, eb.code_lengths.two_part),
                (ea.code_lengths.bic, eb.code_lengths.bic),
            ] {
                assert!(close(x.unwrap(), y.unwrap(), 1e-12), "{x:?} {y:?}");
            }
            let (wa, ia) = a.original_units();
            let (wb, ib) = b.original_units();
            let scale = wa.iter().fold(0.0f64, |m, w| m.max(w.abs()));
            for (x, y) in wa.iter().zip(&wb) {
                assert!((x - y).abs() <= 1e-12 * scale, "{x} {y}");
            }
            assert!(close(ia, ib, 1e-12));
            assert!(ea.code_lengths.prequential.is_some());
            assert!(eb.code_lengths.prequential.is_none());
            assert!(eb
                .notes
                .iter()
                .any(|m| m.to_string().contains("merged statistics hold no rows")));
        }
    }

    #[test]
    fn the_file_round_trips_exactly_and_bad_files_are_named() {
        let stats = ShardStats::from_dataset(&data(300, 3, 2)).unwrap();
        let text = stats.to_json();
        assert_eq!(ShardStats::from_json(&text, "a.json").unwrap(), stats);
        let e = ShardStats::from_json("{}", "a.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.json") && e.contains("not an occam statistics file"),
            "{e}"
        );
        let other = text.replace("\"schema\": 1", "\"schema\": 2");
        let e = ShardStats::from_json(&other, "b.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema 2"), "{e}");
        let mut short = stats.clone();
        short.mean.pop();
        let e = ShardStats::from_json(&short.to_json(), "c.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("4 means"), "{e}");
        let mut renamed = stats.clone();
        renamed.features[0] = "other".into();
        let mut merged = stats.clone();
        assert!(merged.merge(&renamed).is_err());
    }
}
