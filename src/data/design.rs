//! The design: standardised features, the transformed target, and the sufficient statistics
//! (XᵀX, Xᵀy, yᵀy, n) of the linear-Gaussian model.
//!
//! math.md §1: features are z-scored, `(x − mean) / sd` with the population sd (divide by n, as
//! scikit-learn's `StandardScaler`); with the default `centered` intercept the target is centred
//! too and the intercept is `mean(y) − mean(x)·w`, not a probabilistic parameter.

use super::{DataView, Dataset};
use crate::error::{OccamError, Result};
use crate::linalg::{gram_accumulate, gram_into, map_row_blocks};
use std::ops::Range;

/// Rows standardised at a time by [`SufficientStats::from_dataset`]: a buffer of this many rows
/// (k = 100: 800 kB) stays in the core's cache while the Gram kernel reads it.
pub const SUB_BLOCK_ROWS: usize = 1024;
use nalgebra::{DMatrix, DVector};

/// How the raw columns become the design the prior lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesignOptions {
    /// z-score the features (default); otherwise they are only centred (when `center` is set).
    pub standardize: bool,
    /// Centre features and target, so the intercept drops out (the `centered` intercept).
    pub center: bool,
}

impl Default for DesignOptions {
    fn default() -> Self {
        DesignOptions {
            standardize: true,
            center: true,
        }
    }
}

/// The affine map from raw columns to the design: `z = (x − feature_shift) / feature_scale`,
/// `t = y − target_shift`.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardization {
    /// Subtracted from each feature (its mean, or 0).
    pub feature_shift: Vec<f64>,
    /// Each feature is divided by this (its population sd, or 1).
    pub feature_scale: Vec<f64>,
    /// Subtracted from the target (its mean, or 0).
    pub target_shift: f64,
}

/// Count, column means and column sums of squared deviations of a set of rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Moments {
    count: usize,
    mean: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Moments {
    fn empty(k: usize) -> Self {
        Moments {
            count: 0,
            mean: vec![0.0; k],
            sum_sq: vec![0.0; k],
        }
    }

    /// Two passes over `rows` (few enough to stay in cache): the mean, then squares about it.
    fn of_rows(data: DataView<'_>, rows: Range<usize>) -> Self {
        let k = data.k();
        let count = rows.len();
        let mut mean = vec![0.0; k];
        for i in rows.clone() {
            mean.iter_mut().zip(data.row(i)).for_each(|(m, x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= count as f64);
        let mut sum_sq = vec![0.0; k];
        for i in rows {
            for ((s, x), m) in sum_sq.iter_mut().zip(data.row(i)).zip(&mean) {
                *s += (x - m) * (x - m);
            }
        }
        Moments {
            count,
            mean,
            sum_sq,
        }
    }

    /// The one pass of [`Standardization::fit`] over all rows: each run of [`SUB_BLOCK_ROWS`]
    /// rows (in cache) gets its mean and then its sum of squared deviations about that mean, and
    /// runs are merged with Chan's update; fixed blocks of rows on all cores, merged in block
    /// order, so the result does not depend on the thread count.
    ///
    /// A NaN or ±∞ among a column's values makes its mean NaN or ±∞ (sums, the division by the
    /// run's count and the merges keep a non-finite value non-finite), which
    /// [`Moments::is_finite`] sees: the fold of [`UncheckedView`](super::UncheckedView)'s check.
    pub(crate) fn of_view(data: DataView<'_>) -> Self {
        let k = data.k();
        let blocks = map_row_blocks(data.n(), |block| {
            let mut moments = Moments::empty(k);
            for start in block.clone().step_by(SUB_BLOCK_ROWS) {
                let rows = start..(start + SUB_BLOCK_ROWS).min(block.end);
                moments.merge(&Moments::of_rows(data, rows));
            }
            moments
        });
        let mut moments = Moments::empty(k);
        for block in &blocks {
            moments.merge(block);
        }
        moments
    }

    /// Every mean and sum of squares finite.
    pub(crate) fn is_finite(&self) -> bool {
        self.mean.iter().chain(&self.sum_sq).all(|v| v.is_finite())
    }

    /// Adds a disjoint set of rows (Chan, Golub & LeVeque 1979): with δ = x̄_b − x̄_a,
    /// x̄ = x̄_a + δ·n_b/n and M₂ = M₂ₐ + M₂_b + δ²·n_a·n_b/n.
    fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        for ((m, s), (mb, sb)) in self
            .mean
            .iter_mut()
            .zip(&mut self.sum_sq)
            .zip(other.mean.iter().zip(&other.sum_sq))
        {
            let delta = mb - *m;
            *m += delta * nb / n;
            *s += sb + delta * delta * na * nb / n;
        }
        self.count += other.count;
    }
}

impl Standardization {
    /// Fits the map to `data` as `options` say: column means and population sds (math.md §1).
    ///
    /// One pass over the raw rows, as stable as two: each run of [`SUB_BLOCK_ROWS`] rows (in cache)
    /// gets its mean and then its sum of squared deviations about that mean — never Σx² − n·x̄²,
    /// which loses every digit when a feature's mean dwarfs its sd — and runs are merged with
    /// Chan, Golub & LeVeque's pairwise update. Fixed blocks of rows on all cores,
    /// merged in block order, so the result does not depend on the thread count.
    pub fn fit<'a>(data: impl Into<DataView<'a>>, options: DesignOptions) -> Result<Self> {
        let data = data.into();
        Self::from_moments(data, Moments::of_view(data), options)
    }

    /// With one row every column is "constant": say what is really wrong.
    fn refuse_one_row(data: DataView<'_>) -> Result<()> {
        let n = data.n();
        if n < 2 {
            return Err(OccamError::Csv {
                source_name: data.source.to_string(),
                message: format!("only {n} data row: standardising a feature and fitting any prior need at least 2 rows (and more rows than weights to estimate the noise); add rows").into(),
            });
        }
        Ok(())
    }

    /// The rest of [`Standardization::fit`] from its pass over the rows ([`Moments::of_view`] of
    /// `data`): fewer than 2 rows and constant features are refused here.
    pub(crate) fn from_moments(
        data: DataView<'_>,
        moments: Moments,
        options: DesignOptions,
    ) -> Result<Self> {
        let (n, k) = (data.n(), data.k());
        Self::refuse_one_row(data)?;
        let Moments { mean, sum_sq, .. } = moments;
        let feature_scale = if options.standardize {
            let sd: Vec<f64> = sum_sq.iter().map(|s| (s / n as f64).sqrt()).collect();
            // A feature whose spread is at rounding level of its mean is constant in practice.
            for (j, (&s, &m)) in sd.iter().zip(&mean).enumerate() {
                if s <= 1e-13 * m.abs() || s == 0.0 {
                    return Err(OccamError::ConstantFeature {
                        source_name: data.source.to_string(),
                        column: data.feature_names[j].clone(),
                    });
                }
            }
            sd
        } else {
            vec![1.0; k]
        };
        let feature_shift = if options.standardize || options.center {
            mean
        } else {
            vec![0.0; k]
        };
        let target_shift = if options.center {
            data.y.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        Ok(Standardization {
            feature_shift,
            feature_scale,
            target_shift,
        })
    }

    /// Weights and intercept in original units from weights on the design.
    ///
    /// A design weight wⱼ multiplies (xⱼ − shiftⱼ)/scaleⱼ, so the original-unit weight is
    /// wⱼ/scaleⱼ and the intercept is `target_shift + intercept − Σⱼ shiftⱼ·wⱼ/scaleⱼ`.
    pub fn to_original(&self, weights: &[f64], intercept: f64) -> (Vec<f64>, f64) {
        let original: Vec<f64> = weights
            .iter()
            .zip(&self.feature_scale)
            .map(|(w, s)| w / s)
            .collect();
        let shift: f64 = original
            .iter()
            .zip(&self.feature_shift)
            .map(|(w, m)| w * m)
            .sum();
        (original, self.target_shift + intercept - shift)
    }

    /// Weights on this design from weights in original units (the inverse of [`Self::to_original`]
    /// for the weights): wⱼ = w_originalⱼ·scaleⱼ.
    pub fn from_original(&self, original: &[f64]) -> Vec<f64> {
        original
            .iter()
            .zip(&self.feature_scale)
            .map(|(w, s)| w * s)
            .collect()
    }
}

impl Standardization {
    /// The standardised rows at visiting positions 0..n (row `visit[p]`, or `p` when `visit` is
    /// `None`), row-major n × k, with their targets: z = (x − shift)/scale, t = y − target_shift,
    /// the same arithmetic as [`SufficientStats::from_dataset`]. The n × n route of wide data
    /// (n < k) works on these rows instead of the k × k XᵀX.
    pub fn rows_in_order<'a>(
        &self,
        data: impl Into<DataView<'a>>,
        visit: Option<&[usize]>,
    ) -> (Vec<f64>, Vec<f64>) {
        let data = data.into();
        let (n, k) = (data.n(), data.k());
        let inv_scale: Vec<f64> = self.feature_scale.iter().map(|s| 1.0 / s).collect();
        let mut z = Vec::with_capacity(n * k);
        let mut t = Vec::with_capacity(n);
        for p in 0..n {
            let i = visit.map_or(p, |v| v[p]);
            z.extend(
                data.row(i)
                    .iter()
                    .zip(&self.feature_shift)
                    .zip(&inv_scale)
                    .map(|((x, m), r)| (x - m) * r),
            );
            t.push(data.y[i] - self.target_shift);
        }
        (z, t)
    }
}

/// Standardised features and transformed target, row-major, with the map that produced them.
#[derive(Debug, Clone)]
pub struct Design {
    /// Number of rows.
    pub n: usize,
    /// Number of features.
    pub k: usize,
    /// Design matrix, row-major n×k.
    pub z: Vec<f64>,
    /// Transformed target.
    pub t: Vec<f64>,
    /// How `z` and `t` were made from the raw data.
    pub transform: Standardization,
}

impl Design {
    /// Standardises `data` as `options` say ([`Standardization::fit`]) and materialises the n×k
    /// design, for the models that revisit rows (logistic, MLP). The linear-Gaussian model needs
    /// only [`SufficientStats::from_dataset`], which never builds it.
    pub fn new(data: &Dataset, options: DesignOptions) -> Result<Self> {
        let (n, k) = (data.n(), data.k());
        let transform = Standardization::fit(data, options)?;
        let Standardization {
            feature_shift,
            feature_scale,
            target_shift,
        } = &transform;
        let inv_scale: Vec<f64> = feature_scale.iter().map(|s| 1.0 / s).collect();
        let z: Vec<f64> = map_row_blocks(n, |rows| {
            let mut block = Vec::with_capacity(rows.len() * k);
            for i in rows {
                block.extend(
                    data.row(i)
                        .iter()
                        .zip(feature_shift)
                        .zip(&inv_scale)
                        .map(|((x, m), r)| (x - m) * r),
                );
            }
            block
        })
        .concat();
        let t = data.y.iter().map(|y| y - target_shift).collect();
        Ok(Design {
            n,
            k,
            z,
            t,
            transform,
        })
    }

    /// Row `i` of the design matrix.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.z[i * self.k..(i + 1) * self.k]
    }
}

/// The sufficient statistics of the linear-Gaussian model: n, XᵀX, Xᵀy and yᵀy of the design.
///
/// They are sums over rows, so statistics of disjoint chunks merge by addition
/// ([`SufficientStats::merge`]); after this one O(nk²) pass every prior costs O(k²) or less.
#[derive(Debug, Clone, PartialEq)]
pub struct SufficientStats {
    /// Number of rows.
    pub n: usize,
    /// XᵀX (k×k, symmetric).
    pub xtx: DMatrix<f64>,
    /// Xᵀy.
    pub xty: DVector<f64>,
    /// yᵀy.
    pub yty: f64,
}

impl SufficientStats {
    /// Statistics of no rows.
    pub fn empty(k: usize) -> Self {
        SufficientStats {
            n: 0,
            xtx: DMatrix::zeros(k, k),
            xty: DVector::zeros(k),
            yty: 0.0,
        }
    }

    /// Statistics of the rows `z` (row-major, k columns) with targets `t`.
    pub fn from_rows(z: &[f64], t: &[f64], k: usize) -> Self {
        let n = t.len();
        debug_assert_eq!(z.len(), n * k);
        let mut xtx = vec![0.0; k * k];
        gram_into(z, k, &mut xtx);
        let mut xty = vec![0.0; k];
        let mut yty = 0.0;
        for (row, &y) in z.chunks_exact(k.max(1)).zip(t) {
            for (a, x) in xty.iter_mut().zip(row) {
                *a += x * y;
            }
            yty += y * y;
        }
        SufficientStats {
            n,
            xtx: DMatrix::from_row_slice(k, k, &xtx),
            xty: DVector::from_vec(xty),
            yty,
        }
    }

    /// Statistics of the standardised rows at visiting positions `positions`, straight from the raw
    /// data: row `visit[p]` (or `p` when `visit` is `None`) for each p in `positions`, mapped by
    /// `transform` (z = (x − shift)/scale, t = y − target_shift).
    ///
    /// The n×k design is never materialised: each fixed block of [`crate::linalg::BLOCK_ROWS`] positions (on all
    /// cores, merged in block order, so the sums do not depend on the thread count) is
    /// standardised [`SUB_BLOCK_ROWS`] rows at a time into a small buffer that stays in cache and
    /// multiplied into the block's Gram matrix. Memory traffic is one read of the raw rows.
    pub fn from_dataset<'a>(
        data: impl Into<DataView<'a>>,
        transform: &Standardization,
        visit: Option<&[usize]>,
        positions: Range<usize>,
    ) -> Self {
        let data = data.into();
        let k = data.k();
        let inv_scale: Vec<f64> = transform.feature_scale.iter().map(|s| 1.0 / s).collect();
        let shift = &transform.feature_shift;
        let partial = map_row_blocks(positions.len(), |block| {
            let mut xtx = vec![0.0; k * k];
            let mut xty = vec![0.0; k];
            let mut yty = 0.0;
            let mut z = Vec::with_capacity(SUB_BLOCK_ROWS * k);
            let block = positions.start + block.start..positions.start + block.end;
            for sub in (block.start..block.end).step_by(SUB_BLOCK_ROWS) {
                z.clear();
                for p in sub..(sub + SUB_BLOCK_ROWS).min(block.end) {
                    let i = visit.map_or(p, |v| v[p]);
                    let t = data.y[i] - transform.target_shift;
                    let start = z.len();
                    z.extend(
                        data.row(i)
                            .iter()
                            .zip(shift)
                            .zip(&inv_scale)
                            .map(|((x, m), r)| (x - m) * r),
                    );
                    for (a, x) in xty.iter_mut().zip(&z[start..]) {
                        *a += x * t;
                    }
                    yty += t * t;
                }
                gram_accumulate(&z, k, &mut xtx);
            }
            SufficientStats {
                n: block.len(),
                xtx: DMatrix::from_row_slice(k, k, &xtx),
                xty: DVector::from_vec(xty),
                yty,
            }
        });
        let mut total = Self::empty(k);
        for block in &partial {
            total.merge(block);
        }
        total
    }

    /// Statistics of a whole design: blocks of rows on all cores, merged in block order
    /// (deterministic for any thread count).
    pub fn from_design(design: &Design) -> Self {
        Self::from_rows_parallel(&design.z, &design.t, design.k)
    }

    /// [`SufficientStats::from_rows`] over blocks of rows on all cores, merged in block order.
    pub fn from_rows_parallel(z: &[f64], t: &[f64], k: usize) -> Self {
        let partial = map_row_blocks(t.len(), |rows| {
            Self::from_rows(&z[rows.start * k..rows.end * k], &t[rows], k)
        });
        let mut total = Self::empty(k);
        for block in &partial {
            total.merge(block);
        }
        total
    }

    /// Adds the statistics of another, disjoint, set of rows.
    pub fn merge(&mut self, other: &SufficientStats) {
        self.n += other.n;
        self.xtx += &other.xtx;
        self.xty += &other.xty;
        self.yty += other.yty;
    }

    /// Number of features.
    pub fn k(&self) -> usize {
        self.xty.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(x: Vec<f64>, y: Vec<f64>, k: usize) -> Dataset {
        let names = (0..k).map(|j| format!("x{j}")).collect();
        Dataset::new("test", names, "y", x, y).unwrap()
    }

    #[test]
    fn standardised_columns_have_mean_zero_and_population_sd_one() {
        let d = dataset(
            vec![1.0, 10.0, 2.0, 30.0, 4.0, 20.0],
            vec![1.0, 2.0, 4.0],
            2,
        );
        let design = Design::new(&d, DesignOptions::default()).unwrap();
        for j in 0..2 {
            let col: Vec<f64> = (0..3).map(|i| design.row(i)[j]).collect();
            let mean = col.iter().sum::<f64>() / 3.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
            assert!(mean.abs() < 1e-15 && (var - 1.0).abs() < 1e-14);
        }
        assert!((design.t.iter().sum::<f64>()).abs() < 1e-14);
    }

    #[test]
    fn one_pass_moments_match_two_passes_across_runs_and_blocks() {
        // More rows than a block, so runs and blocks are merged; a mean 10⁸ times the spread,
        // where Σx² − n·x̄² would lose every digit.
        let n = crate::linalg::BLOCK_ROWS + 3 * SUB_BLOCK_ROWS + 17;
        let x: Vec<f64> = (0..n)
            .flat_map(|i| {
                let u = ((i * 7919) % 1013) as f64 / 1013.0 - 0.5;
                [1e8 + u, -3.0 * u * u]
            })
            .collect();
        let y: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let d = dataset(x.clone(), y, 2);
        let fitted = Standardization::fit(&d, DesignOptions::default()).unwrap();
        // The reference: two passes on the columns shifted by their leading value, a subtraction
        // that is exact here (Sterbenz), so the reference itself is well conditioned.
        for (j, offset) in [(0, 1e8), (1, 0.0)] {
            let column: Vec<f64> = (0..n).map(|i| x[i * 2 + j] - offset).collect();
            let mean = column.iter().sum::<f64>() / n as f64;
            let sd = (column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            assert!((fitted.feature_shift[j] - offset - mean).abs() <= 1e-15 * offset.max(1.0));
            // Pairwise merging is accurate to about ε·κ with κ = |mean|/sd the condition number
            // (≈ 3.5·10⁸ for column 0, so ≈ 10⁻⁷ relative at worst; about 1 for column 1), plus
            // the rounding of summing n terms (≈ √n·ε ≈ 10⁻¹⁴ here, in both routes).
            let kappa = fitted.feature_shift[j].abs() / sd;
            assert!(
                (fitted.feature_scale[j] - sd).abs() <= (4.0 * f64::EPSILON * kappa + 1e-13) * sd,
                "column {j}: {} vs {sd}",
                fitted.feature_scale[j]
            );
        }
    }

    #[test]
    fn constant_feature_is_named() {
        let d = dataset(vec![1.0, 5.0, 2.0, 5.0], vec![1.0, 2.0], 2);
        let err = Design::new(&d, DesignOptions::default()).unwrap_err();
        assert!(err.to_string().contains("'x1' is constant"));
    }

    #[test]
    fn blocked_statistics_equal_the_direct_sums() {
        let (n, k) = (20_000, 3);
        let z: Vec<f64> = (0..n * k)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let t: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
        let design = Design {
            n,
            k,
            z: z.clone(),
            t: t.clone(),
            transform: Standardization {
                feature_shift: vec![0.0; k],
                feature_scale: vec![1.0; k],
                target_shift: 0.0,
            },
        };
        let stats = SufficientStats::from_design(&design);
        for a in 0..k {
            for b in 0..k {
                let direct: f64 = (0..n).map(|i| z[i * k + a] * z[i * k + b]).sum();
                assert!((stats.xtx[(a, b)] - direct).abs() <= 1e-10 * direct.abs().max(1.0));
            }
            let direct: f64 = (0..n).map(|i| z[i * k + a] * t[i]).sum();
            assert!((stats.xty[a] - direct).abs() <= 1e-10 * direct.abs().max(1.0));
        }
        assert_eq!(stats.n, n);
    }

    #[test]
    fn original_units_round_trip() {
        let s = Standardization {
            feature_shift: vec![2.0, -1.0],
            feature_scale: vec![4.0, 0.5],
            target_shift: 10.0,
        };
        let (w, b) = s.to_original(&[8.0, 1.0], 0.0);
        assert_eq!(w, vec![2.0, 2.0]);
        // prediction at x = shift must be target_shift
        assert_eq!(b + w[0] * 2.0 + -w[1], 10.0);
        assert_eq!(s.from_original(&w), vec![8.0, 1.0]);
    }
}
