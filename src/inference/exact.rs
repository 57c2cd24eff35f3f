//! The linear-Gaussian model in closed form (math.md §3), from one eigendecomposition.
//!
//! With XᵀX = V Λ Vᵀ, the posterior precision A = αI + βXᵀX = V(αI + βΛ)Vᵀ is diagonal in the
//! eigenbasis. Rotating Xᵀy and the centre μ once (c = VᵀXᵀy, μ̃ = Vᵀμ) makes every quantity for a
//! new (α, β, μ) cost O(k) — the posterior mean in the eigenbasis is
//! z = (αμ̃ + βc) / (α + βλ) — and the mean and per-weight sd in the original basis O(k²).
//!
//! Wide data (fewer rows than weights, n < k) take the n × n route: XᵀX then has rank r ≤ n, and
//! only its r non-zero eigenpairs are kept (V is k × r). A fit takes them from the rows
//! ([`LinearGaussian::from_gram`]): the n × n Gram matrix XXᵀ = UΛUᵀ and V = XᵀUΛ^{-1/2}, O(n²k),
//! never a k × k matrix — the form y ~ N(Xμ, σ²I + s²XXᵀ) of math.md §3. Where XᵀX is at hand
//! anyway (early prequential prefixes of a fit with n ≥ k), [`LinearGaussian::thin`] gets the same
//! eigenpairs from a pivoted Cholesky factorisation XᵀX = LLᵀ (L k × r, O(kr²)) and the r × r
//! eigendecomposition LᵀL = WΛWᵀ, with V = LWΛ^{-1/2}. The k − r directions with λ = 0 are never stored: there
//! the posterior equals the prior (mean μ, precision α), so they add (k − r) ln α to ln|A| and
//! nothing else; the posterior mean is m = μ + V(z − Vᵀμ) and the variance of weight j is
//! 1/α + Σᵢ Vⱼᵢ²(1/(α + βλᵢ) − 1/α). Each (α, β, μ) then costs O(r) for the evidence and O(kr)
//! for the mean and sds, and no O(k³) step is taken.

use crate::data::SufficientStats;
use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use std::f64::consts::PI;

/// The two precisions of the linear-Gaussian model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hyperparameters {
    /// α = 1/s², the prior precision of the weights.
    pub prior_precision: f64,
    /// β = 1/σ², the noise precision.
    pub noise_precision: f64,
}

impl Hyperparameters {
    /// From the precisions α and β.
    pub fn new(prior_precision: f64, noise_precision: f64) -> Self {
        Hyperparameters {
            prior_precision,
            noise_precision,
        }
    }

    /// From the standard deviations s and σ.
    pub fn from_sds(prior_sd: f64, noise_sd: f64) -> Self {
        Self::new(1.0 / (prior_sd * prior_sd), 1.0 / (noise_sd * noise_sd))
    }

    /// s = 1/√α.
    pub fn prior_sd(&self) -> f64 {
        1.0 / self.prior_precision.sqrt()
    }

    /// σ = 1/√β.
    pub fn noise_sd(&self) -> f64 {
        1.0 / self.noise_precision.sqrt()
    }
}

/// The scalar results for one (α, β, μ), all computed in O(k).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// ln p(y | α, β, μ) in nats.
    pub log_evidence: f64,
    /// γ = Σᵢ βλᵢ/(α + βλᵢ), the effective number of parameters.
    pub effective_parameters: f64,
    /// ‖y − Xm‖² at the posterior mean m.
    pub residual_sum_of_squares: f64,
    /// ‖m − μ‖².
    pub distance_squared: f64,
    /// ln|A| = Σᵢ ln(α + βλᵢ).
    pub log_det_precision: f64,
}

/// The full posterior for one (α, β, μ).
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// The hyperparameters it was computed with.
    pub hyperparameters: Hyperparameters,
    /// The posterior mean m = A⁻¹(αμ + βXᵀy), which is also the MAP.
    pub mean: DVector<f64>,
    /// The posterior sd of each weight, √diag(A⁻¹).
    pub sd: DVector<f64>,
    /// The scalar results.
    pub summary: Summary,
}

/// The result of empirical Bayes: the hyperparameters that maximise the evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmpiricalBayes {
    /// The fitted (or fixed) hyperparameters.
    pub hyperparameters: Hyperparameters,
    /// Fixed-point iterations used (0 when both were fixed).
    pub iterations: usize,
    /// Another local maximum of the evidence within 1 nat of this one, with its ln p, when the
    /// grid check of [`LinearGaussian::empirical_bayes`] found one.
    pub second_peak: Option<(Hyperparameters, f64)>,
}

/// The linear-Gaussian model's sufficient statistics in the eigenbasis of XᵀX.
#[derive(Debug, Clone)]
pub struct LinearGaussian {
    n: usize,
    /// All k eigenvalues: the r stored eigenpairs first, then k − r zeros (thin route).
    eigenvalues: DVector<f64>,
    /// k × r: every eigenvector (r = k), or those of the non-zero eigenvalues (thin route).
    eigenvectors: DMatrix<f64>,
    /// c = VᵀXᵀy, r entries.
    rotated_xty: DVector<f64>,
    yty: f64,
}

/// Weights above which wide data (n < k) take the n × n route: below it the k × k
/// eigendecomposition is cheap, and keeping it leaves small problems' digits as they were.
pub const THIN_ROUTE_MIN_WEIGHTS: usize = 256;

/// Fixed-point iterations allowed before empirical Bayes gives up.
const MAX_EB_ITERATIONS: usize = 100_000;
/// Relative change of α and β below which the fixed point has converged.
const EB_TOLERANCE: f64 = 1e-13;

impl LinearGaussian {
    /// Eigendecomposes XᵀX (O(k³), once).
    ///
    /// Eigenvalues below the rounding level of the largest are set to 0: XᵀX is positive
    /// semi-definite, and a rank-deficient design (n < k, or collinear features) would otherwise
    /// leave tiny negative values that make ln(α + βλ) depend on rounding.
    ///
    /// Wide data (n < k, k ≥ [`THIN_ROUTE_MIN_WEIGHTS`]) take the n × n route of
    /// [`LinearGaussian::thin`]; everything else [`LinearGaussian::full`]. (A fit of wide data
    /// never forms XᵀX: it calls [`LinearGaussian::from_wide_rows`] instead.)
    pub fn new(stats: &SufficientStats) -> Result<Self> {
        if Self::takes_thin_route(stats.n, stats.k()) {
            Self::thin(stats)
        } else {
            Self::full(stats)
        }
    }

    /// Whether statistics of `n` rows and `k` weights take the n × n route in
    /// [`LinearGaussian::new`].
    pub fn takes_thin_route(n: usize, k: usize) -> bool {
        n < k && k >= THIN_ROUTE_MIN_WEIGHTS
    }

    fn check_finite(stats: &SufficientStats) -> Result<()> {
        if stats.xtx.iter().any(|v| !v.is_finite()) || !stats.yty.is_finite() {
            return Err(OccamError::computation(
                "the eigendecomposition of XᵀX",
                "XᵀX has non-finite entries; the features overflow double precision — rescale them",
            ));
        }
        Ok(())
    }

    /// The k × k route: the full eigendecomposition of XᵀX, O(k³).
    pub fn full(stats: &SufficientStats) -> Result<Self> {
        Self::check_finite(stats)?;
        let k = stats.k();
        let eigen = SymmetricEigen::new(stats.xtx.clone());
        let largest = eigen.eigenvalues.iter().cloned().fold(0.0, f64::max);
        let floor = largest * (k.max(1) as f64) * f64::EPSILON;
        let eigenvalues = eigen.eigenvalues.map(|l| if l <= floor { 0.0 } else { l });
        let rotated_xty = eigen.eigenvectors.tr_mul(&stats.xty);
        Ok(LinearGaussian {
            n: stats.n,
            eigenvalues,
            eigenvectors: eigen.eigenvectors,
            rotated_xty,
            yty: stats.yty,
        })
    }

    /// The n × n route for wide data: the r ≤ min(n, k) non-zero eigenpairs of XᵀX from a
    /// pivoted Cholesky factorisation, O(kr²) (see the module docs).
    ///
    /// XᵀX = LLᵀ is built one column of L at a time, each time pivoting on the largest remaining
    /// diagonal dⱼ = (XᵀX − LLᵀ)ⱼⱼ and stopping when it falls to the rounding level of the largest
    /// diagonal (rank ≤ n, so at most n + 1 columns). Then LᵀL = WΛWᵀ (r × r) and V = LWΛ^{-1/2}:
    /// XᵀXV = LLᵀLWΛ^{-1/2} = LWΛ^{1/2} = VΛ, and VᵀV = Λ^{-1/2}WᵀLᵀLWΛ^{-1/2} = I. Eigenvalues
    /// at the rounding level of the largest join the null space, as in [`LinearGaussian::full`].
    pub fn thin(stats: &SufficientStats) -> Result<Self> {
        Self::check_finite(stats)?;
        let k = stats.k();
        let xtx = &stats.xtx;
        let max_rank = (stats.n + 1).min(k);
        let mut residual: Vec<f64> = (0..k).map(|j| xtx[(j, j)]).collect();
        let largest_diagonal = residual.iter().cloned().fold(0.0, f64::max);
        let tolerance = largest_diagonal * (k.max(1) as f64) * f64::EPSILON;
        let mut l = DMatrix::<f64>::zeros(k, max_rank);
        let mut rank = 0;
        while rank < max_rank {
            let (pivot, &d) = residual
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("k ≥ 1");
            if d <= tolerance {
                break;
            }
            let root = d.sqrt();
            // Column `rank` of L: (XᵀX e_p − L[:, ..rank] L[p, ..rank]ᵀ) / √d.
            let mut column = xtx.column(pivot).clone_owned();
            for c in 0..rank {
                let lp = l[(pivot, c)];
                if lp != 0.0 {
                    column.axpy(-lp, &l.column(c), 1.0);
                }
            }
            column /= root;
            for (i, r) in residual.iter_mut().enumerate() {
                *r -= column[i] * column[i];
            }
            residual[pivot] = 0.0;
            l.set_column(rank, &column);
            rank += 1;
        }
        let l = l.columns(0, rank).clone_owned();
        if rank == 0 {
            // XᵀX = 0 (e.g. one centred row): every direction is the prior's.
            return Ok(LinearGaussian {
                n: stats.n,
                eigenvalues: DVector::zeros(k),
                eigenvectors: DMatrix::zeros(k, 0),
                rotated_xty: DVector::zeros(0),
                yty: stats.yty,
            });
        }
        let eigen = SymmetricEigen::new(l.tr_mul(&l));
        let largest = eigen.eigenvalues.iter().cloned().fold(0.0, f64::max);
        let floor = largest * (k.max(1) as f64) * f64::EPSILON;
        let kept: Vec<usize> = (0..rank)
            .filter(|&i| eigen.eigenvalues[i] > floor)
            .collect();
        let mut eigenvalues = DVector::zeros(k);
        let mut eigenvectors = DMatrix::zeros(k, kept.len());
        for (c, &i) in kept.iter().enumerate() {
            let lambda = eigen.eigenvalues[i];
            eigenvalues[c] = lambda;
            eigenvectors.set_column(c, &(&l * eigen.eigenvectors.column(i) / lambda.sqrt()));
        }
        let rotated_xty = eigenvectors.tr_mul(&stats.xty);
        Ok(LinearGaussian {
            n: stats.n,
            eigenvalues,
            eigenvectors,
            rotated_xty,
            yty: stats.yty,
        })
    }

    /// The n × n route straight from the rows, never forming XᵀX: `z` holds the n standardised
    /// rows (row-major, k columns) and `t` their targets. The Gram matrix G = XXᵀ costs O(n²k);
    /// see [`LinearGaussian::from_gram`].
    pub fn from_wide_rows(z: &[f64], t: &[f64], k: usize) -> Result<Self> {
        Self::from_gram(&gram_of_rows(z, t.len(), k), z, t, k)
    }

    /// The n × n route from the Gram matrix G = XXᵀ of the rows `z` (row-major, k columns) with
    /// targets `t`, in O(n²k) and O(n² + nk) memory.
    ///
    /// G = UΛUᵀ (n × n) has the non-zero eigenvalues of XᵀX, and V = XᵀUΛ^{-1/2} their
    /// eigenvectors: XᵀXV = XᵀGUΛ^{-1/2} = XᵀUΛ^{1/2} = VΛ, and VᵀV = Λ^{-1/2}UᵀGUΛ^{-1/2} = I.
    /// Eigenvalues at the rounding level of the largest (λ ≤ λ_max·k·ε, the rule of
    /// [`LinearGaussian::thin`]) join the null space. The prequential prefixes pass the leading
    /// m × m block of one G, so all of them together cost O(n²k).
    pub fn from_gram(gram: &DMatrix<f64>, z: &[f64], t: &[f64], k: usize) -> Result<Self> {
        let n = t.len();
        debug_assert_eq!((gram.nrows(), z.len()), (n, n * k));
        let yty: f64 = t.iter().map(|y| y * y).sum();
        if gram.iter().any(|v| !v.is_finite()) || !yty.is_finite() {
            return Err(OccamError::computation(
                "the eigendecomposition of the n × n Gram matrix XXᵀ",
                "XXᵀ has non-finite entries; the features overflow double precision — rescale them",
            ));
        }
        // The k × n matrix Xᵀ is the row-major n × k design read column-major: no copy.
        let xt = nalgebra::DMatrixView::from_slice(z, k, n);
        let xty = xt * DVector::from_column_slice(t);
        let mut eigenvalues = DVector::zeros(k);
        if n == 0 {
            return Ok(LinearGaussian {
                n,
                eigenvalues,
                eigenvectors: DMatrix::zeros(k, 0),
                rotated_xty: DVector::zeros(0),
                yty,
            });
        }
        let eigen = SymmetricEigen::new(gram.clone());
        let largest = eigen.eigenvalues.iter().cloned().fold(0.0, f64::max);
        let floor = largest * (k.max(1) as f64) * f64::EPSILON;
        let kept: Vec<usize> = (0..n).filter(|&i| eigen.eigenvalues[i] > floor).collect();
        // UΛ^{-1/2} for the kept eigenpairs (n × r), then V = Xᵀ(UΛ^{-1/2}) in O(nkr).
        let mut scaled = DMatrix::zeros(n, kept.len());
        for (c, &i) in kept.iter().enumerate() {
            let lambda = eigen.eigenvalues[i];
            eigenvalues[c] = lambda;
            scaled.set_column(c, &(eigen.eigenvectors.column(i) / lambda.sqrt()));
        }
        let eigenvectors = xt * scaled;
        let rotated_xty = eigenvectors.tr_mul(&xty);
        Ok(LinearGaussian {
            n,
            eigenvalues,
            eigenvectors,
            rotated_xty,
            yty,
        })
    }

    /// Whether the model took the n × n route (only the non-zero eigenpairs are stored).
    pub fn is_thin(&self) -> bool {
        self.stored() < self.k()
    }

    /// Stored eigenpairs r: k on the full route, the rank of XᵀX on the thin one.
    fn stored(&self) -> usize {
        self.eigenvectors.ncols()
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of weights.
    pub fn k(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The eigenvalues λᵢ of XᵀX.
    pub fn eigenvalues(&self) -> &DVector<f64> {
        &self.eigenvalues
    }

    /// Whether XᵀX has full rank (no eigenvalue at rounding level): the least-squares estimate and
    /// the Fisher information βXᵀX then exist.
    pub fn is_full_rank(&self) -> bool {
        self.stored() == self.k() && self.eigenvalues.iter().all(|&l| l > 0.0)
    }

    /// The least-squares residual sum of squares min_w ‖y − Xw‖² = yᵀy − Σᵢ cᵢ²/λᵢ, if XᵀX has
    /// full rank.
    pub fn least_squares_rss(&self) -> Option<f64> {
        if !self.is_full_rank() {
            return None;
        }
        let explained: f64 = self
            .rotated_xty
            .iter()
            .zip(self.eigenvalues.iter())
            .map(|(c, l)| c * c / l)
            .sum();
        Some((self.yty - explained).max(0.0))
    }

    /// A vector in the eigenbasis, Vᵀv (r entries): rotate a centre once, then reuse it across
    /// (α, β).
    pub fn rotate(&self, v: &DVector<f64>) -> DVector<f64> {
        self.eigenvectors.tr_mul(v)
    }

    /// The posterior mean in the eigenbasis, z = (αμ̃ + βc)/(α + βλ).
    fn rotated_mean(&self, h: Hyperparameters, rotated_center: &DVector<f64>) -> DVector<f64> {
        let (a, b) = (h.prior_precision, h.noise_precision);
        DVector::from_fn(self.stored(), |i, _| {
            (a * rotated_center[i] + b * self.rotated_xty[i]) / (a + b * self.eigenvalues[i])
        })
    }

    /// Evidence, γ, misfit and distance for (α, β) and a centre already in the eigenbasis: O(k).
    ///
    /// ln p(y | α, β, μ) = (k/2) ln α + (n/2) ln β − E(m) − ½ ln|A| − (n/2) ln 2π,
    /// E(m) = (β/2)‖y − Xm‖² + (α/2)‖m − μ‖², with ‖y − Xm‖² = yᵀy − 2zᵀc + Σᵢ λᵢzᵢ².
    pub fn summary(&self, h: Hyperparameters, rotated_center: &DVector<f64>) -> Summary {
        let (a, b) = (h.prior_precision, h.noise_precision);
        let z = self.rotated_mean(h, rotated_center);
        let mut fit = 0.0;
        let mut distance_squared = 0.0;
        let mut effective_parameters = 0.0;
        let mut log_det_precision = 0.0;
        for i in 0..self.stored() {
            let (l, zi) = (self.eigenvalues[i], z[i]);
            fit += l * zi * zi - 2.0 * zi * self.rotated_xty[i];
            distance_squared += (zi - rotated_center[i]).powi(2);
            effective_parameters += b * l / (a + b * l);
            log_det_precision += (a + b * l).ln();
        }
        // The directions not stored have λ = 0: the posterior is the prior there (z = μ̃).
        log_det_precision += (self.k() - self.stored()) as f64 * a.ln();
        let residual_sum_of_squares = (self.yty + fit).max(0.0);
        let (n, k) = (self.n as f64, self.k() as f64);
        let energy = 0.5 * b * residual_sum_of_squares + 0.5 * a * distance_squared;
        let log_evidence = 0.5 * k * a.ln() + 0.5 * n * b.ln()
            - energy
            - 0.5 * log_det_precision
            - 0.5 * n * (2.0 * PI).ln();
        Summary {
            log_evidence,
            effective_parameters,
            residual_sum_of_squares,
            distance_squared,
            log_det_precision,
        }
    }

    /// The posterior mean m = A⁻¹(αμ + βXᵀy), which is also the MAP: O(k²).
    pub fn posterior_mean(&self, h: Hyperparameters, center: &DVector<f64>) -> DVector<f64> {
        self.mean_from_rotated(h, center, &self.rotate(center))
    }

    /// m = Vz on the full route; m = μ + V(z − Vᵀμ) on the thin one (m = μ off the data's span).
    fn mean_from_rotated(
        &self,
        h: Hyperparameters,
        center: &DVector<f64>,
        rotated_center: &DVector<f64>,
    ) -> DVector<f64> {
        let z = self.rotated_mean(h, rotated_center);
        if self.stored() == self.k() {
            &self.eigenvectors * z
        } else {
            center + &self.eigenvectors * (z - rotated_center)
        }
    }

    /// The posterior N(m, A⁻¹) for (α, β, μ): O(k²).
    pub fn posterior(&self, h: Hyperparameters, center: &DVector<f64>) -> Posterior {
        let rotated_center = self.rotate(center);
        let summary = self.summary(h, &rotated_center);
        let mean = self.mean_from_rotated(h, center, &rotated_center);
        let r = self.stored();
        let inverse = self
            .eigenvalues
            .rows(0, r)
            .map(|l| 1.0 / (h.prior_precision + h.noise_precision * l));
        // diag(V D Vᵀ)ⱼ = Σᵢ Vⱼᵢ² Dᵢ — never forms A⁻¹. On the thin route the k − r directions
        // not stored add (1 − Σᵢ Vⱼᵢ²)/α: 1/α + Σᵢ Vⱼᵢ²(Dᵢ − 1/α).
        let sd = if r == self.k() {
            DVector::from_fn(self.k(), |j, _| {
                (0..r)
                    .map(|i| self.eigenvectors[(j, i)].powi(2) * inverse[i])
                    .sum::<f64>()
                    .sqrt()
            })
        } else {
            let prior_variance = 1.0 / h.prior_precision;
            DVector::from_fn(self.k(), |j, _| {
                (prior_variance
                    + (0..r)
                        .map(|i| self.eigenvectors[(j, i)].powi(2) * (inverse[i] - prior_variance))
                        .sum::<f64>())
                .max(0.0)
                .sqrt()
            })
        };
        Posterior {
            hyperparameters: h,
            mean,
            sd,
            summary,
        }
    }

    /// Empirical Bayes: the (α, β) that maximise the evidence for the centre μ, each either fixed
    /// (`Some(sd)`) or fitted (`None`).
    ///
    /// MacKay's fixed point (Bishop, PRML §3.5.2), generalised to μ ≠ 0:
    /// α ← γ/‖m − μ‖², β ← (n − γ)/‖y − Xm‖², both from the current (α, β), iterated in O(k) per
    /// step until α and β change by less than 1e-13 relative. The start is scikit-learn's
    /// BayesianRidge's (α = 1, β = n/yᵀy), so with μ = 0 both reach the same fixed point.
    ///
    /// The fixed point climbs from its start and can stop at a local peak, so its answer is
    /// checked on a grid: ln s at two points a decade over σ_y·[10⁻⁴, 10⁴] and ln σ at two a
    /// decade over σ_y·[10⁻⁶, 10^½] (σ_y = √(yᵀy/n); only the scales being fitted), the
    /// evidence in O(k) at each. The fixed point is rerun from every grid point that is a local
    /// maximum within 2 nats of the grid's highest; the highest converged point wins (the first
    /// one unless another is higher by more than rounding, so where the fixed point already finds
    /// the global maximum the answer is unchanged bit for bit), and another within 1 nat of it is
    /// returned as `second_peak`. Where the grid's highest point is at the small-s edge and the
    /// fixed point fails, its error stands (the evidence keeps rising as s → 0).
    pub fn empirical_bayes(
        &self,
        center: &DVector<f64>,
        prior_sd: Option<f64>,
        noise_sd: Option<f64>,
    ) -> Result<EmpiricalBayes> {
        let scale = if self.yty > 0.0 {
            (self.yty / self.n as f64).sqrt()
        } else {
            1.0
        };
        let first = self.empirical_bayes_from(
            center,
            prior_sd,
            noise_sd,
            Hyperparameters::new(1.0, 1.0 / (scale * scale)),
        );
        if prior_sd.is_some() && noise_sd.is_some() {
            return first;
        }
        let rotated_center = self.rotate(center);
        // Two points a decade: ln(10)/2 apart.
        let decades = |lo: i32, hi: i32| -> Vec<f64> {
            (2 * lo..=2 * hi)
                .map(|j| scale * 10f64.powf(j as f64 / 2.0))
                .collect()
        };
        let sds = prior_sd.map_or_else(|| decades(-4, 4), |s| vec![s]);
        let sigmas = noise_sd.map_or_else(
            || {
                let mut v = decades(-6, 0);
                v.push(scale * 10f64.powf(0.5));
                v
            },
            |s| vec![s],
        );
        let value = |i: usize, j: usize| {
            let v = self
                .summary(
                    Hyperparameters::from_sds(sds[i], sigmas[j]),
                    &rotated_center,
                )
                .log_evidence;
            if v.is_finite() {
                v
            } else {
                f64::NEG_INFINITY
            }
        };
        let grid: Vec<Vec<f64>> = (0..sds.len())
            .map(|i| (0..sigmas.len()).map(|j| value(i, j)).collect())
            .collect();
        let at = |i: isize, j: isize| -> f64 {
            if i < 0 || j < 0 || i as usize >= sds.len() || j as usize >= sigmas.len() {
                f64::NEG_INFINITY
            } else {
                grid[i as usize][j as usize]
            }
        };
        let top = grid
            .iter()
            .flatten()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let smallest_s_is_top = prior_sd.is_none() && grid[0].contains(&top);
        if first.is_err() && (smallest_s_is_top || !top.is_finite()) {
            return first;
        }
        let mut found: Vec<(EmpiricalBayes, f64)> = Vec::new();
        let evidence_of = |eb: &EmpiricalBayes| {
            self.summary(eb.hyperparameters, &rotated_center)
                .log_evidence
        };
        if let Ok(eb) = &first {
            found.push((*eb, evidence_of(eb)));
        }
        for i in 0..sds.len() {
            for j in 0..sigmas.len() {
                let (ii, jj) = (i as isize, j as isize);
                let v = grid[i][j];
                let peak = v >= at(ii - 1, jj)
                    && v >= at(ii + 1, jj)
                    && v >= at(ii, jj - 1)
                    && v >= at(ii, jj + 1);
                if !peak || v < top - 2.0 {
                    continue;
                }
                let start = Hyperparameters::from_sds(sds[i], sigmas[j]);
                let Ok(eb) = self.empirical_bayes_from(center, prior_sd, noise_sd, start) else {
                    continue;
                };
                let same = |other: &EmpiricalBayes| {
                    let (a, b) = (eb.hyperparameters, other.hyperparameters);
                    (a.prior_precision / b.prior_precision).ln().abs() < 1e-6
                        && (a.noise_precision / b.noise_precision).ln().abs() < 1e-6
                };
                if !found.iter().any(|(other, _)| same(other)) {
                    found.push((eb, evidence_of(&eb)));
                }
            }
        }
        let Some(&(mut best, mut best_value)) = found.first() else {
            return first;
        };
        for &(eb, v) in &found[1..] {
            // Rounding-level differences keep the first point, so the answer does not flip.
            if v > best_value + 1e-9 * best_value.abs().max(1.0) {
                (best, best_value) = (eb, v);
            }
        }
        best.second_peak = found
            .iter()
            .filter(|(eb, v)| eb.hyperparameters != best.hyperparameters && best_value - v <= 1.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(eb, v)| (eb.hyperparameters, *v));
        Ok(best)
    }

    /// [`LinearGaussian::empirical_bayes`] from a given start (e.g. the previous prefix's values in
    /// a prequential code); the fixed scales override the start.
    pub fn empirical_bayes_from(
        &self,
        center: &DVector<f64>,
        prior_sd: Option<f64>,
        noise_sd: Option<f64>,
        start: Hyperparameters,
    ) -> Result<EmpiricalBayes> {
        let mut h = Hyperparameters::new(
            prior_sd.map_or(start.prior_precision, |s| 1.0 / (s * s)),
            noise_sd.map_or(start.noise_precision, |s| 1.0 / (s * s)),
        );
        if prior_sd.is_some() && noise_sd.is_some() {
            return Ok(EmpiricalBayes {
                hyperparameters: h,
                iterations: 0,
                second_peak: None,
            });
        }
        let rotated_center = self.rotate(center);
        let fail = |message: Message| {
            OccamError::computation("empirical Bayes (MacKay's fixed point)", message)
        };
        for iteration in 1..=MAX_EB_ITERATIONS {
            let s = self.summary(h, &rotated_center);
            let mut next = h;
            if prior_sd.is_none() {
                if s.distance_squared.is_nan() || s.distance_squared <= 0.0 {
                    return Err(fail(message![
                        format!("the posterior mean sits on the prior centre (‖m − μ‖ = 0) at iteration {iteration}, so the evidence grows without bound as the prior sd → 0; fix "),
                        Setting::PriorSd,
                        " instead of 'auto'"
                    ]));
                }
                next.prior_precision = s.effective_parameters / s.distance_squared;
            }
            if noise_sd.is_none() {
                let dof = self.n as f64 - s.effective_parameters;
                // A misfit at the rounding level of yᵀy is an interpolation too: whether it comes
                // out as 0 or 1e-20 must not decide between an error and σ ≈ 1e-7 (wide data,
                // whose rows the features can always fit, reach it either way).
                if s.residual_sum_of_squares.is_nan()
                    || s.residual_sum_of_squares <= 1e-12 * self.yty
                    || dof <= 0.0
                {
                    let span = if self.stored() + 1 >= self.n {
                        format!(" — with {} rows and {} features of rank {}, the features can fit any target exactly", self.n, self.k(), self.stored())
                    } else {
                        String::new()
                    };
                    return Err(fail(message![
                        format!(
                            "the fit interpolates the data (‖y − Xm‖² = {:.3e}, n − γ = {dof:.3e}) at iteration {iteration}, so the noise sd → 0{span}; fix ",
                            s.residual_sum_of_squares
                        ),
                        Setting::NoiseSd,
                        " instead of 'auto'"
                    ]));
                }
                next.noise_precision = dof / s.residual_sum_of_squares;
            }
            let valid = |v: f64| v.is_finite() && v > 0.0 && v < 1e300;
            if !valid(next.prior_precision) || !valid(next.noise_precision) {
                return Err(fail(message![
                    format!(
                        "the precisions left the representable range at iteration {iteration} (α = {:.3e}, β = {:.3e}); the evidence has no interior maximum here — fix ",
                        next.prior_precision, next.noise_precision
                    ),
                    Setting::PriorSd,
                    " or ",
                    Setting::NoiseSd
                ]));
            }
            // The prior swamping every direction of the data (γ → 0) means the evidence keeps rising
            // as s → 0: the data sit at the centre, and there is no finite optimum to report.
            let largest = self.eigenvalues.iter().cloned().fold(0.0, f64::max);
            if prior_sd.is_none()
                && next.prior_precision
                    > 1e12 * (next.noise_precision * largest).max(f64::MIN_POSITIVE)
            {
                return Err(fail(message![
                    format!(
                        "the evidence keeps rising as the prior sd shrinks (s = {:.3e} at iteration {iteration}, γ = {:.3e}): the data are fitted as well by the centre itself, so empirical Bayes has no finite optimum — fix ",
                        next.prior_sd(),
                        s.effective_parameters
                    ),
                    Setting::PriorSd
                ]));
            }
            let change = ((next.prior_precision / h.prior_precision).ln().abs())
                .max((next.noise_precision / h.noise_precision).ln().abs());
            h = next;
            if change < EB_TOLERANCE {
                return Ok(EmpiricalBayes {
                    hyperparameters: h,
                    iterations: iteration,
                    second_peak: None,
                });
            }
        }
        Err(fail(message![
            format!(
                "no convergence in {MAX_EB_ITERATIONS} iterations (last α = {:.6e}, β = {:.6e}); the evidence is very flat in the prior or noise scale — fix ",
                h.prior_precision, h.noise_precision
            ),
            Setting::PriorSd,
            " or ",
            Setting::NoiseSd
        ]))
    }
}

/// G = XXᵀ (n × n, G_ab = Σⱼ z_aj z_bj) of n rows `z` (row-major, k columns): O(n²k), the only
/// pass over the rows the n × n route makes besides Xᵀy and V = XᵀUΛ^{-1/2}.
pub fn gram_of_rows(z: &[f64], n: usize, k: usize) -> DMatrix<f64> {
    let xt = nalgebra::DMatrixView::from_slice(z, k, n);
    xt.tr_mul(&xt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{random_design, random_stats};

    /// ln N(y; Xμ, σ²I + s²XXᵀ) through an n×n Cholesky factorisation: the independent route.
    fn nxn_log_evidence(
        x: &DMatrix<f64>,
        y: &DVector<f64>,
        center: &DVector<f64>,
        h: Hyperparameters,
    ) -> f64 {
        let n = y.len();
        let cov =
            DMatrix::identity(n, n) / h.noise_precision + x * x.transpose() / h.prior_precision;
        let chol = cov.cholesky().expect("covariance is positive definite");
        let r = y - x * center;
        let solved = chol.solve(&r);
        let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        -0.5 * (n as f64 * (2.0 * PI).ln() + log_det + r.dot(&solved))
    }

    /// Three priors to check a model at: zero and non-zero centres, weak and strong priors.
    fn centres_and_scales(k: usize) -> [(DVector<f64>, Hyperparameters); 3] {
        [
            (DVector::zeros(k), Hyperparameters::new(0.5, 2.0)),
            (
                DVector::from_fn(k, |i, _| (i as f64).sin()),
                Hyperparameters::new(3.0, 0.25),
            ),
            (
                DVector::from_element(k, -0.7),
                Hyperparameters::from_sds(10.0, 0.1),
            ),
        ]
    }

    #[test]
    fn evidence_equals_the_nxn_gaussian_form() {
        for (n, k, seed) in [(40, 5, 1), (8, 20, 2), (300, 12, 3), (3, 3, 4), (25, 25, 5)] {
            let (x, y) = random_design(n, k, seed);
            let stats =
                crate::data::SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), k);
            let model = LinearGaussian::new(&stats).unwrap();
            for (center, h) in centres_and_scales(k) {
                let exact = model.posterior(h, &center).summary.log_evidence;
                let reference = nxn_log_evidence(&x, &y, &center, h);
                let rel = ((exact - reference) / reference).abs();
                assert!(
                    rel < 1e-10,
                    "n={n} k={k}: {exact} vs {reference} (rel {rel:e})"
                );
            }
        }
    }

    /// Relative difference, against a scale that is never zero.
    fn relative(a: f64, b: f64) -> f64 {
        (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn the_thin_route_on_wide_data_equals_the_full_route_and_the_nxn_form() {
        // Moderately wide designs, raw and centred (rank n − 1), with a repeated column (so the
        // Gram matrix has a null space inside the span of the rows too).
        for (n, k, seed, centred) in [(20, 120, 1, false), (25, 300, 2, true), (9, 40, 3, false)] {
            let (mut x, mut y) = random_design(n, k, seed);
            if centred {
                for j in 0..k {
                    let mean = x.column(j).mean();
                    x.column_mut(j).add_scalar_mut(-mean);
                }
                let mean = y.mean();
                y.add_scalar_mut(-mean);
            }
            let copy = x.column(0).clone_owned();
            x.set_column(k - 1, &copy);
            let stats =
                crate::data::SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), k);
            let full = LinearGaussian::full(&stats).unwrap();
            let thin = LinearGaussian::thin(&stats).unwrap();
            let gram = LinearGaussian::from_wide_rows(x.transpose().as_slice(), y.as_slice(), k);
            let rank = n - usize::from(centred);
            assert_eq!(thin.stored(), rank, "n={n} k={k}");
            assert_routes_agree(&thin, &gram.unwrap(), &x, &y, rank);
            assert!(!thin.is_full_rank() && !full.is_full_rank());
            for (center, h) in centres_and_scales(k) {
                let (a, b) = (full.posterior(h, &center), thin.posterior(h, &center));
                let (sa, sb) = (a.summary, b.summary);
                assert_summaries_agree(&sa, &sb, stats.yty, &format!("n={n} k={k} full/thin"));
                let reference = nxn_log_evidence(&x, &y, &center, h);
                assert!(relative(sb.log_evidence, reference) < 1e-9);
                // The MAP of the n × n form: m = μ + s²Xᵀ(σ²I + s²XXᵀ)⁻¹(y − Xμ).
                let cov = DMatrix::identity(n, n) / h.noise_precision
                    + &x * x.transpose() / h.prior_precision;
                let solved = cov.cholesky().unwrap().solve(&(&y - &x * &center));
                let map = &center + x.transpose() * solved / h.prior_precision;
                let scale = map.norm().max(1.0);
                // The thin route is the more accurate of the two here: the k × k eigenvectors
                // of a 300 × 300 matrix carry ~1e-9 of rounding into m.
                for (route, mean, tolerance) in [("full", &a.mean, 1e-8), ("thin", &b.mean, 1e-9)] {
                    let off = (mean - &map).norm() / scale;
                    assert!(off <= tolerance, "n={n} k={k} {route}: MAP off by {off:e}");
                }
                assert!((&a.sd - &b.sd).norm() <= 1e-9 * a.sd.norm());
            }
            let (ea, eb) = (
                full.empirical_bayes(&DVector::zeros(k), None, Some(0.3)),
                thin.empirical_bayes(&DVector::zeros(k), None, Some(0.3)),
            );
            let (ea, eb) = (ea.unwrap().hyperparameters, eb.unwrap().hyperparameters);
            assert!(relative(ea.prior_precision, eb.prior_precision) < 1e-9);
        }
    }

    /// Two routes' summaries agree to 1e-9 relative; ‖y − Xm‖² is yᵀy minus nearly as much on
    /// both, so it is compared on yᵀy's scale.
    fn assert_summaries_agree(sa: &Summary, sb: &Summary, yty: f64, label: &str) {
        for (what, u, v, scale) in [
            ("ln p", sa.log_evidence, sb.log_evidence, 0.0),
            ("γ", sa.effective_parameters, sb.effective_parameters, 0.0),
            (
                "rss",
                sa.residual_sum_of_squares,
                sb.residual_sum_of_squares,
                yty,
            ),
            ("‖m − μ‖²", sa.distance_squared, sb.distance_squared, 0.0),
            ("ln|A|", sa.log_det_precision, sb.log_det_precision, 0.0),
        ] {
            assert!(
                (u - v).abs() <= 1e-9 * u.abs().max(v.abs()).max(scale),
                "{label} {what}: {u} vs {v}"
            );
        }
    }

    /// The Gram route ([`LinearGaussian::from_wide_rows`], never forming XᵀX) against the thin
    /// route from XᵀX and against the n × n form y ~ N(Xμ, σ²I + s²XXᵀ), to 1e-9 relative.
    fn assert_routes_agree(
        thin: &LinearGaussian,
        gram: &LinearGaussian,
        x: &DMatrix<f64>,
        y: &DVector<f64>,
        rank: usize,
    ) {
        let (n, k) = x.shape();
        assert_eq!(gram.stored(), rank, "n={n} k={k}");
        assert_eq!((gram.n(), gram.k()), (n, k));
        assert!((gram.yty - thin.yty).abs() <= 1e-12 * thin.yty);
        for (center, h) in centres_and_scales(k) {
            let (a, b) = (thin.posterior(h, &center), gram.posterior(h, &center));
            let (sa, sb) = (a.summary, b.summary);
            assert_summaries_agree(&sa, &sb, thin.yty, &format!("n={n} k={k} thin/Gram"));
            let reference = nxn_log_evidence(x, y, &center, h);
            assert!(relative(sb.log_evidence, reference) < 1e-9);
            // m = μ + s²Xᵀ(σ²I + s²XXᵀ)⁻¹(y − Xμ), and the sds against the thin route's.
            let cov =
                DMatrix::identity(n, n) / h.noise_precision + x * x.transpose() / h.prior_precision;
            let solved = cov.cholesky().unwrap().solve(&(y - x * &center));
            let map = &center + x.transpose() * solved / h.prior_precision;
            let off = (&b.mean - &map).norm() / map.norm().max(1.0);
            assert!(off <= 1e-9, "n={n} k={k}: Gram MAP off by {off:e}");
            assert!((&a.sd - &b.sd).norm() <= 1e-9 * a.sd.norm());
        }
        let fixed_noise = Some(0.3);
        let ea = thin.empirical_bayes(&DVector::zeros(k), None, fixed_noise);
        let eb = gram.empirical_bayes(&DVector::zeros(k), None, fixed_noise);
        let (ea, eb) = (ea.unwrap().hyperparameters, eb.unwrap().hyperparameters);
        assert!(relative(ea.prior_precision, eb.prior_precision) < 1e-9);
    }

    #[test]
    fn the_gram_route_on_a_50_by_2000_design_equals_the_thin_route() {
        // Centred (rank 49), as the CLI's default design; the full k × k route is left out (a
        // 2000 × 2000 eigendecomposition), the thin route from XᵀX and the n × n form stay.
        let (n, k) = (50, 2000);
        let (mut x, mut y) = random_design(n, k, 7);
        for j in 0..k {
            let mean = x.column(j).mean();
            x.column_mut(j).add_scalar_mut(-mean);
        }
        let mean = y.mean();
        y.add_scalar_mut(-mean);
        let rows = x.transpose();
        let stats = crate::data::SufficientStats::from_rows(rows.as_slice(), y.as_slice(), k);
        let thin = LinearGaussian::thin(&stats).unwrap();
        let gram = LinearGaussian::from_wide_rows(rows.as_slice(), y.as_slice(), k).unwrap();
        assert_routes_agree(&thin, &gram, &x, &y, n - 1);
    }

    #[test]
    fn the_gram_route_refuses_overflowing_rows_and_handles_no_rows() {
        let e = LinearGaussian::from_wide_rows(&[1e200, 1e200, 0.0, 1.0], &[1.0, 2.0], 2);
        let text = e.unwrap_err().to_string();
        assert!(text.contains("XXᵀ") && text.contains("rescale"), "{text}");
        let empty = LinearGaussian::from_wide_rows(&[], &[], 300).unwrap();
        let h = Hyperparameters::new(2.0, 1.0);
        // No rows: the evidence of nothing is 1 (ln p = 0), and the posterior is the prior.
        let post = empty.posterior(h, &DVector::from_element(300, 0.5));
        assert_eq!(post.summary.log_evidence, 0.0);
        assert!(post.sd.iter().all(|&s| (s - 0.5f64.sqrt()).abs() < 1e-15));
    }

    #[test]
    fn posterior_mean_and_sd_solve_the_normal_equations() {
        let (stats, _) = random_stats(30, 6, 9);
        let model = LinearGaussian::new(&stats).unwrap();
        let center = DVector::from_element(6, 0.4);
        let h = Hyperparameters::new(1.3, 0.6);
        let post = model.posterior(h, &center);
        let a = &stats.xtx * h.noise_precision + DMatrix::identity(6, 6) * h.prior_precision;
        let chol = a.clone().cholesky().unwrap();
        let mean = chol.solve(&(&center * h.prior_precision + &stats.xty * h.noise_precision));
        assert!((&post.mean - &mean).norm() <= 1e-12 * mean.norm());
        let cov = chol.inverse();
        for j in 0..6 {
            assert!((post.sd[j] - cov[(j, j)].sqrt()).abs() <= 1e-12 * post.sd[j]);
        }
    }

    #[test]
    fn effective_parameters_do_not_depend_on_the_centre() {
        let (stats, _) = random_stats(50, 8, 11);
        let model = LinearGaussian::new(&stats).unwrap();
        let h = Hyperparameters::new(0.9, 1.1);
        let gammas: Vec<f64> = [0.0, 1.0, -3.0, 100.0]
            .iter()
            .map(|c| {
                model
                    .summary(h, &model.rotate(&DVector::from_element(8, *c)))
                    .effective_parameters
            })
            .collect();
        assert!(gammas.iter().all(|g| *g == gammas[0]), "{gammas:?}");
        assert!(gammas[0] > 0.0 && gammas[0] < 8.0);
    }

    #[test]
    fn empirical_bayes_is_a_stationary_point_of_the_evidence() {
        for (n, k, seed) in [(200, 5, 21), (12, 30, 22)] {
            let (stats, _) = random_stats(n, k, seed);
            let model = LinearGaussian::new(&stats).unwrap();
            let center = DVector::from_element(k, 0.2);
            let eb = model.empirical_bayes(&center, None, None).unwrap();
            let rc = model.rotate(&center);
            let at = |la: f64, lb: f64| {
                model
                    .summary(Hyperparameters::new(la.exp(), lb.exp()), &rc)
                    .log_evidence
            };
            let (la, lb) = (
                eb.hyperparameters.prior_precision.ln(),
                eb.hyperparameters.noise_precision.ln(),
            );
            let e = 1e-5;
            let da = (at(la + e, lb) - at(la - e, lb)) / (2.0 * e);
            let db = (at(la, lb + e) - at(la, lb - e)) / (2.0 * e);
            assert!(
                da.abs() < 1e-5 && db.abs() < 1e-5,
                "n={n} k={k}: ∂/∂lnα = {da}, ∂/∂lnβ = {db}"
            );
            // And a maximum: nearby points are lower.
            let best = at(la, lb);
            for (pa, pb) in [(0.1, 0.0), (-0.1, 0.0), (0.0, 0.1), (0.0, -0.1)] {
                assert!(at(la + pa, lb + pb) < best);
            }
        }
    }

    /// Polynomial features x, x², …, x^degree of x = (i + ½)/n with y = sin(2πx) + a deterministic
    /// wiggle, z-scored columns and a centred target: the capacity study's kind of design, where
    /// the evidence over (s, σ) can have two peaks.
    fn polynomial_stats(n: usize, degree: usize, phase: f64) -> SufficientStats {
        let xs: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
        let mut columns: Vec<Vec<f64>> = (1..=degree)
            .map(|d| xs.iter().map(|x| x.powi(d as i32)).collect())
            .collect();
        for c in &mut columns {
            let mean = c.iter().sum::<f64>() / n as f64;
            let sd = (c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            c.iter_mut().for_each(|v| *v = (*v - mean) / sd);
        }
        let mut y: Vec<f64> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| (2.0 * PI * x).sin() + 0.3 * (7.3 * i as f64 + phase).sin())
            .collect();
        let mean = y.iter().sum::<f64>() / n as f64;
        y.iter_mut().for_each(|v| *v -= mean);
        let rows: Vec<f64> = (0..n)
            .flat_map(|i| columns.iter().map(move |c| c[i]))
            .collect();
        crate::data::SufficientStats::from_rows(&rows, &y, degree)
    }

    #[test]
    fn empirical_bayes_is_at_least_as_high_as_a_fine_grid() {
        // The independent route: the evidence on a grid in (ln s, ln σ) ten times finer than
        // the one empirical Bayes checks, over a wider range; no point may beat its answer.
        for (n, degree, phase) in [
            (10, 9, 0.0),
            (10, 9, 1.0),
            (10, 7, 2.0),
            (12, 9, 3.0),
            (30, 9, 4.0),
        ] {
            let stats = polynomial_stats(n, degree, phase);
            let model = LinearGaussian::new(&stats).unwrap();
            let center = DVector::zeros(degree);
            let eb = model.empirical_bayes(&center, None, None).unwrap();
            let rc = model.rotate(&center);
            let best = model.summary(eb.hyperparameters, &rc).log_evidence;
            let mut grid_best = f64::NEG_INFINITY;
            for i in -120..=60 {
                for j in -120..=20 {
                    let h =
                        Hyperparameters::from_sds((0.1 * i as f64).exp(), (0.1 * j as f64).exp());
                    grid_best = grid_best.max(model.summary(h, &rc).log_evidence);
                }
            }
            assert!(
                best >= grid_best - 1e-9,
                "n = {n}, degree {degree}: empirical Bayes ln p = {best} below the grid's {grid_best}"
            );
            if let Some((other, value)) = eb.second_peak {
                assert!(
                    value <= best && best - value <= 1.0,
                    "{other:?}: {value} vs {best}"
                );
            }
        }
    }

    #[test]
    fn empirical_bayes_with_one_scale_fixed_keeps_it_fixed() {
        let (stats, _) = random_stats(100, 4, 31);
        let model = LinearGaussian::new(&stats).unwrap();
        let center = DVector::zeros(4);
        let eb = model.empirical_bayes(&center, Some(2.0), None).unwrap();
        assert_eq!(eb.hyperparameters.prior_sd(), 2.0);
        let eb = model.empirical_bayes(&center, None, Some(0.5)).unwrap();
        assert!((eb.hyperparameters.noise_sd() - 0.5).abs() < 1e-15);
    }

    #[test]
    fn a_centre_at_the_data_makes_empirical_bayes_fail_cleanly() {
        // Noise-free data generated at the centre: m = μ exactly, so s → 0 is optimal.
        let (x, _) = random_design(30, 3, 41);
        let center = DVector::from_vec(vec![1.0, -2.0, 0.5]);
        let y = &x * &center;
        let stats =
            crate::data::SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), 3);
        let model = LinearGaussian::new(&stats).unwrap();
        let err = model.empirical_bayes(&center, None, Some(1.0)).unwrap_err();
        assert_eq!(err.exit_code(), 1);
    }
}
