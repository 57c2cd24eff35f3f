//! Code lengths of the linear-Gaussian model, all from sufficient statistics.
//!
//! The prequential code uses the chain rule twice. Within a block coded with fixed (α, β), the
//! sequential Bayesian predictive code of the block's rows is exactly
//! −ln p(y_block | y_prefix) = ln p(y_prefix) − ln p(y_prefix, y_block), a difference of two exact
//! evidences. So the whole prequential code needs only the sufficient statistics of the prefixes
//! at the block boundaries — one eigendecomposition each, shared by every prior — and
//! [`sequential_prequential_bits`], the row-by-row route, is kept as its independent check.

use super::{bits, doubling_boundaries, mml87_isotropic_nats, RowOrder, TwoPartCode};
use crate::data::{DataView, Design, Standardization, SufficientStats};
use crate::error::{OccamError, Result};
use crate::inference::exact::gram_of_rows;
use crate::inference::{Hyperparameters, LinearGaussian, Summary};
use crate::linalg::{map_ordered, Par};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;

/// The mixture code: −log₂ p(y | X, α, β, μ) plus `charge_bits`.
pub fn mixture_bits(summary: &Summary, charge_bits: f64) -> f64 {
    bits(-summary.log_evidence) + charge_bits
}

/// The MML87 two-part code in nats, without charges:
///
/// −ln π(ŵ) − ln p(y | ŵ) + ½ ln|C| + (P/2)(1 + ln κ_P), with F = βXᵀX the Fisher information of
/// the whole sample, C = F where every eigenvalue of F is at least α and C = F + αI where one is
/// not ([`mml87_isotropic_nats`]), ŵ the MAP (F does not depend on w, so the MML87 estimate is the
/// MAP) and P = k; σ is a hyperparameter, charged like s when fitted.
///
/// `Err` gives the reason when F is singular (n ≤ k after centring, or collinear features).
pub fn two_part_nats(
    model: &LinearGaussian,
    h: Hyperparameters,
    summary: &Summary,
) -> std::result::Result<TwoPartCode, String> {
    let singular = || {
        "two_part is undefined: the Fisher information βXᵀX is singular (n ≤ k after centring, or collinear features)".to_string()
    };
    if !model.is_full_rank() {
        return Err(singular());
    }
    let (a, b) = (h.prior_precision, h.noise_precision);
    let (n, k) = (model.n() as f64, model.k() as f64);
    let neg_log_prior = 0.5 * k * (2.0 * PI / a).ln() + 0.5 * a * summary.distance_squared;
    let neg_log_likelihood =
        0.5 * n * (2.0 * PI / b).ln() + 0.5 * b * summary.residual_sum_of_squares;
    let fisher_eigenvalues = model.eigenvalues().map(|l| b * l);
    mml87_isotropic_nats(
        neg_log_prior + neg_log_likelihood,
        &fisher_eigenvalues,
        a,
        singular,
    )
}

/// The BIC code in bits: −log₂ p(y | ŵ_ML, σ) + (P/2) log₂ n, with P = k weights, plus one for σ
/// when it is estimated (σ̂² = RSS/n). `Err` gives the reason where the ML estimate does not exist.
pub fn bic_bits(model: &LinearGaussian, noise_sd: Option<f64>) -> std::result::Result<f64, String> {
    let n = model.n();
    let p = model.k() + usize::from(noise_sd.is_none());
    if n <= p {
        return Err(format!("bic is undefined: n = {n} ≤ P = {p} parameters, so the maximum-likelihood estimate is not determined"));
    }
    let rss = model
        .least_squares_rss()
        .ok_or_else(|| "bic is undefined: XᵀX is singular (collinear features), so the maximum-likelihood weights are not unique".to_string())?;
    let nf = n as f64;
    let neg_log_likelihood = match noise_sd {
        Some(sigma) => 0.5 * nf * (2.0 * PI * sigma * sigma).ln() + 0.5 * rss / (sigma * sigma),
        None => {
            if rss <= 0.0 {
                return Err("bic is undefined: least squares fits the data exactly, so the ML noise sd is 0".into());
            }
            0.5 * nf * (2.0 * PI * rss / nf).ln() + 0.5 * nf
        }
    };
    Ok(bits(neg_log_likelihood) + 0.5 * p as f64 * nf.log2())
}

/// The cost of one block of the prequential code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockCode {
    /// First row (in visiting order).
    pub start: usize,
    /// One past the last row.
    pub end: usize,
    /// Bits for the block's rows.
    pub bits: f64,
    /// The (α, β) the block was coded with.
    pub hyperparameters: Hyperparameters,
    /// Whether empirical Bayes on the prefix failed, so the previous block's values were kept.
    pub refit_failed: bool,
}

/// A prequential code: its total and its blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct PrequentialCode {
    /// Total bits, without charges.
    pub bits: f64,
    /// Block by block.
    pub blocks: Vec<BlockCode>,
}

/// The prefixes of a prequential code in doubling blocks: rows [0, b₀), [b₀, 2b₀), [2b₀, 4b₀), …
/// in the chosen order, with the eigendecomposed statistics of each prefix.
#[derive(Debug, Clone)]
pub struct PrequentialPlan {
    boundaries: Vec<usize>,
    prefixes: Vec<LinearGaussian>,
    /// `None` on the n × n route (n < k, see [`LinearGaussian::takes_thin_route`]), which never
    /// forms XᵀX.
    full_stats: Option<SufficientStats>,
}

impl PrequentialPlan {
    /// Builds the prefixes: one pass over the raw rows in visiting order, standardised by
    /// `transform` on the fly ([`SufficientStats::from_dataset`], no copy even when shuffled), one
    /// eigendecomposition per boundary.
    pub fn new<'a>(
        data: impl Into<DataView<'a>>,
        transform: &Standardization,
        order: RowOrder,
        first_block: usize,
    ) -> Result<Self> {
        let data = data.into();
        let (n, k) = (data.n(), data.k());
        let boundaries = doubling_boundaries(n, first_block);
        let permutation = match order {
            RowOrder::AsGiven => None,
            RowOrder::Shuffled(_) => Some(order.permutation(n)),
        };
        if LinearGaussian::takes_thin_route(n, k) {
            return Self::wide(data, transform, permutation.as_deref(), boundaries);
        }
        // Here n ≥ k (or k < 256), so XᵀX is summed anyway: early prefixes with fewer rows than
        // weights take the n × n route from it at once, in O(kr²); only the k × k ones are kept
        // for the parallel decompositions below, so they never hold a k × k matrix per prefix.
        let mut running = SufficientStats::empty(k);
        let mut decomposed: Vec<Option<LinearGaussian>> = Vec::new();
        let mut pending = Vec::new();
        let mut add_prefix = |running: &SufficientStats| -> Result<()> {
            if LinearGaussian::takes_thin_route(running.n, k) {
                decomposed.push(Some(LinearGaussian::new(running)?));
            } else {
                decomposed.push(None);
                pending.push(running.clone());
            }
            Ok(())
        };
        for pair in boundaries.windows(2) {
            add_prefix(&running)?;
            running.merge(&SufficientStats::from_dataset(
                data,
                transform,
                permutation.as_deref(),
                pair[0]..pair[1],
            ));
        }
        add_prefix(&running)?;
        // The k × k eigendecompositions are independent: about log₂(n/b₀) of them, on all cores.
        let mut parallel = map_ordered(Par::all(), &pending, LinearGaussian::new).into_iter();
        let prefixes = decomposed
            .into_iter()
            .map(|done| match done {
                Some(model) => Ok(model),
                None => parallel.next().unwrap_or_else(|| {
                    Err(OccamError::computation(
                        "the prequential prefixes",
                        "a k × k prefix was not decomposed (a bug: please report it)",
                    ))
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PrequentialPlan {
            full_stats: Some(running),
            boundaries,
            prefixes,
        })
    }

    /// The prefixes of wide data (n < k) by the n × n route: the rows in visiting order, their
    /// Gram matrix G = XXᵀ once (O(n²k)), and each prefix of m rows from G's leading m × m block
    /// ([`LinearGaussian::from_gram`], O(m²k)); the doubling prefixes sum to O(n²k), and no k × k
    /// matrix is formed.
    fn wide(
        data: DataView<'_>,
        transform: &Standardization,
        visit: Option<&[usize]>,
        boundaries: Vec<usize>,
    ) -> Result<Self> {
        let k = data.k();
        let (z, t) = transform.rows_in_order(data, visit);
        let gram = gram_of_rows(&z, t.len(), k);
        let prefixes = boundaries
            .iter()
            .map(|&m| {
                let leading = gram.view((0, 0), (m, m)).clone_owned();
                LinearGaussian::from_gram(&leading, &z[..m * k], &t[..m], k)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PrequentialPlan {
            full_stats: None,
            boundaries,
            prefixes,
        })
    }

    /// The sufficient statistics of every row, summed block by block in visiting order; `None`
    /// for wide data, whose n × n route never forms XᵀX.
    pub fn full_stats(&self) -> Option<&SufficientStats> {
        self.full_stats.as_ref()
    }

    /// The statistics of every row (the last prefix), eigendecomposed.
    pub fn full_model(&self) -> &LinearGaussian {
        self.prefixes
            .last()
            .expect("a plan has at least the empty prefix")
    }

    /// The block boundaries, 0 first and n last.
    pub fn boundaries(&self) -> &[usize] {
        &self.boundaries
    }

    /// The prequential code for centre μ. The first block is coded with `first` (the fixed or
    /// full-data fitted hyperparameters, whose charge the caller adds); every later block with
    /// empirical Bayes on the rows before it (the fixed parts kept fixed), or the previous block's
    /// values where that fails. With both scales fixed the total equals the mixture code.
    pub fn code(
        &self,
        center: &DVector<f64>,
        prior_sd: Option<f64>,
        noise_sd: Option<f64>,
        first: Hyperparameters,
    ) -> PrequentialCode {
        let mut h = first;
        let mut blocks = Vec::with_capacity(self.boundaries.len() - 1);
        let mut total = 0.0;
        for j in 0..self.boundaries.len() - 1 {
            let (before, after) = (&self.prefixes[j], &self.prefixes[j + 1]);
            let mut refit_failed = false;
            if j > 0 && (prior_sd.is_none() || noise_sd.is_none()) {
                // With no more rows than weights the fit interpolates and σ̂ → 0: keep the previous
                // values (a rule the receiver applies too) rather than iterate to a failure.
                if before.n() <= before.k() + 1 {
                    refit_failed = true;
                } else {
                    match before.empirical_bayes_from(center, prior_sd, noise_sd, h) {
                        Ok(eb) => h = eb.hyperparameters,
                        Err(_) => refit_failed = true,
                    }
                }
            }
            let nats = before.summary(h, &before.rotate(center)).log_evidence
                - after.summary(h, &after.rotate(center)).log_evidence;
            total += bits(nats);
            blocks.push(BlockCode {
                start: self.boundaries[j],
                end: self.boundaries[j + 1],
                bits: bits(nats),
                hyperparameters: h,
                refit_failed,
            });
        }
        PrequentialCode {
            bits: total,
            blocks,
        }
    }
}

/// The prequential code with fixed (α, β), row by row: each yₜ coded with the Bayesian predictive
/// N(xₜᵀmₜ₋₁, σ² + xₜᵀSₜ₋₁xₜ), the posterior updated by a rank-one (recursive least squares) step
/// — O(k²) a row, never a refit. By the chain rule the total equals the mixture code.
pub fn sequential_prequential_bits(
    design: &Design,
    order: RowOrder,
    center: &DVector<f64>,
    h: Hyperparameters,
) -> f64 {
    let k = design.k;
    let noise_var = 1.0 / h.noise_precision;
    let mut cov = DMatrix::<f64>::identity(k, k) / h.prior_precision;
    let mut mean = center.clone();
    let mut nats = 0.0;
    let mut sx = DVector::zeros(k);
    for i in order.permutation(design.n) {
        let x = DVector::from_column_slice(design.row(i));
        cov.mul_to(&x, &mut sx);
        let variance = noise_var + x.dot(&sx);
        let residual = design.t[i] - x.dot(&mean);
        nats += 0.5 * (2.0 * PI * variance).ln() + 0.5 * residual * residual / variance;
        mean.axpy(residual / variance, &sx, 1.0);
        cov.ger(-1.0 / variance, &sx, &sx, 1.0);
    }
    bits(nats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codelength::{lattice_term, two_part_floor_nats, MmlForm};
    use crate::data::{Dataset, DesignOptions};
    use crate::testing::random_design;
    use proptest::prelude::*;

    /// A centred, standardised design from a random n×k problem.
    fn design(n: usize, k: usize, seed: u64) -> Design {
        Design::new(&dataset(n, k, seed), DesignOptions::default()).unwrap()
    }

    /// The raw random n×k problem behind [`design`].
    fn dataset(n: usize, k: usize, seed: u64) -> Dataset {
        let (x, y) = random_design(n, k, seed);
        let names = (0..k).map(|j| format!("x{j}")).collect();
        Dataset::new(
            "random",
            names,
            "y",
            x.transpose().as_slice().to_vec(),
            y.as_slice().to_vec(),
        )
        .unwrap()
    }

    fn mixture_of(design: &Design, center: &DVector<f64>, h: Hyperparameters) -> f64 {
        let model = LinearGaussian::new(&SufficientStats::from_design(design)).unwrap();
        mixture_bits(&model.summary(h, &model.rotate(center)), 0.0)
    }

    #[test]
    fn prequential_equals_mixture_for_fixed_scales_in_any_order() {
        let data = dataset(300, 6, 1);
        let d = design(300, 6, 1);
        let center = DVector::from_fn(6, |i, _| 0.3 * i as f64 - 0.7);
        let h = Hyperparameters::new(0.7, 1.3);
        let mixture = mixture_of(&d, &center, h);
        for order in [
            RowOrder::AsGiven,
            RowOrder::Shuffled(1),
            RowOrder::Shuffled(99),
        ] {
            let sequential = sequential_prequential_bits(&d, order, &center, h);
            let blocked = PrequentialPlan::new(&data, &d.transform, order, 5)
                .unwrap()
                .code(&center, Some(h.prior_sd()), Some(h.noise_sd()), h)
                .bits;
            assert!(
                (sequential - mixture).abs() < 1e-6,
                "{order:?}: sequential {sequential} vs mixture {mixture}"
            );
            assert!(
                (blocked - mixture).abs() < 1e-6,
                "{order:?}: blocked {blocked} vs mixture {mixture}"
            );
        }
    }

    #[test]
    fn wide_prequential_prefixes_from_one_gram_matrix_match_xtx_and_the_chain_rule() {
        // 40 rows, 300 weights: the n × n route, every prefix from a leading block of G = XXᵀ.
        let (n, k) = (40, 300);
        let data = dataset(n, k, 5);
        let d = design(n, k, 5);
        let center = DVector::from_fn(k, |i, _| 0.01 * (i % 7) as f64 - 0.02);
        let h = Hyperparameters::new(2.0, 0.8);
        for order in [RowOrder::AsGiven, RowOrder::Shuffled(3)] {
            let plan = PrequentialPlan::new(&data, &d.transform, order, 4).unwrap();
            assert!(plan.full_stats().is_none(), "the wide plan never forms XᵀX");
            let code = plan.code(&center, Some(h.prior_sd()), Some(h.noise_sd()), h);
            // Each block against the thin route from the prefix's own XᵀX.
            let visit = order.permutation(n);
            let thin_log_evidence = |m: usize| {
                let stats = SufficientStats::from_dataset(&data, &d.transform, Some(&visit), 0..m);
                let model = LinearGaussian::thin(&stats).unwrap();
                model.summary(h, &model.rotate(&center)).log_evidence
            };
            for block in &code.blocks {
                let expected = bits(thin_log_evidence(block.start) - thin_log_evidence(block.end));
                assert!(
                    (block.bits - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                    "{order:?} rows {}..{}: {} vs {expected}",
                    block.start,
                    block.end,
                    block.bits
                );
            }
            // With fixed scales the blocks sum to the row-by-row code and to the mixture code.
            let sequential = sequential_prequential_bits(&d, order, &center, h);
            assert!((code.bits - sequential).abs() < 1e-6 * sequential.abs());
            assert!((code.bits - mixture_of(&d, &center, h)).abs() < 1e-6 * code.bits.abs());
        }
    }

    #[test]
    fn fitted_prequential_blocks_depend_only_on_earlier_rows() {
        // A real code: the receiver decodes block j knowing only rows before it, so changing later
        // rows must leave every earlier block's cost unchanged.
        let d = dataset(200, 4, 2);
        let transform = Design::new(&d, DesignOptions::default()).unwrap().transform;
        let mut changed = d.clone();
        for t in &mut changed.y[100..] {
            *t = -3.0 * *t + 1.0;
        }
        let center = DVector::zeros(4);
        let first = Hyperparameters::new(1.0, 1.0);
        let a = PrequentialPlan::new(&d, &transform, RowOrder::AsGiven, 10)
            .unwrap()
            .code(&center, None, None, first);
        let b = PrequentialPlan::new(&changed, &transform, RowOrder::AsGiven, 10)
            .unwrap()
            .code(&center, None, None, first);
        let total: f64 = a.blocks.iter().map(|x| x.bits).sum();
        assert!((total - a.bits).abs() < 1e-9 * a.bits.abs());
        let mut compared = 0;
        for (x, y) in a.blocks.iter().zip(&b.blocks) {
            if x.end <= 100 {
                assert_eq!(x.bits, y.bits);
                assert_eq!(x.hyperparameters, y.hyperparameters);
                compared += 1;
            }
        }
        // Blocks [0,10), [10,20), [20,40), [40,80) end before row 100; [80,160) and [160,200) change.
        assert_eq!(compared, 4);
        assert_ne!(a.bits, b.bits);
    }

    /// ½ ln|M| through a Cholesky factorisation.
    fn half_log_det(m: DMatrix<f64>) -> f64 {
        m.cholesky()
            .expect("positive definite")
            .l()
            .diagonal()
            .iter()
            .map(|d| d.ln())
            .sum()
    }

    /// math.md §5 for the linear-Gaussian model, in both forms, with the form chosen by the
    /// smallest eigenvalue of F = βXᵀX computed here from the design, not the model's spectrum.
    fn check_mml_identity(n: usize, k: usize, seed: u64, center_scale: f64, h: Hyperparameters) {
        let d = design(n, k, seed);
        let stats = SufficientStats::from_design(&d);
        let model = LinearGaussian::new(&stats).unwrap();
        let center = DVector::from_fn(k, |i, _| center_scale * ((i + 1) as f64).sin());
        let summary = model.summary(h, &model.rotate(&center));
        let code = two_part_nats(&model, h, &summary).unwrap();
        let mixture = -summary.log_evidence;
        let fisher = &stats.xtx * h.noise_precision;
        let posterior_precision = &fisher + DMatrix::identity(k, k) * h.prior_precision;
        let weakest = fisher.clone().symmetric_eigenvalues().min();
        let expected_form = if weakest < h.prior_precision {
            MmlForm::FisherPlusPrior
        } else {
            MmlForm::Fisher
        };
        // The two sides of the switch are far apart only where the rule matters; at the boundary
        // itself the rounding of two eigensolvers may disagree.
        if (weakest / h.prior_precision - 1.0).abs() > 1e-9 {
            assert_eq!(code.form, expected_form, "n={n} k={k}");
        }
        // (P/2)(1 + ln 2πκ_P) ≥ 0, and the plain form adds ½ ln(|F| / |F + αI|) ≤ 0.
        let (lattice, _) = lattice_term(k);
        let with_prior_curvature = lattice + 0.5 * k as f64 * (2.0 * PI).ln();
        assert!(with_prior_curvature >= 0.0);
        let expected = match code.form {
            MmlForm::FisherPlusPrior => with_prior_curvature,
            MmlForm::Fisher => {
                with_prior_curvature + half_log_det(fisher) - half_log_det(posterior_precision)
            }
        };
        let scale = mixture.abs().max(1.0);
        let difference = code.nats - mixture;
        assert!(
            (difference - expected).abs() < 1e-9 * scale,
            "n={n} k={k}: {difference} vs {expected}"
        );
        assert!(difference >= two_part_floor_nats(k) - 1e-9 * scale);
    }

    #[test]
    fn mml87_identity_holds() {
        check_mml_identity(100, 3, 5, 0.5, Hyperparameters::new(2.0, 0.5));
        check_mml_identity(60, 12, 6, -1.0, Hyperparameters::new(0.1, 3.0));
    }

    #[test]
    fn a_prior_stronger_than_the_data_adds_its_curvature() {
        // s = 0.001 (α = 10⁶) against n = 50 rows: every direction of F is weaker than the prior.
        let h = Hyperparameters::from_sds(0.001, 1.0);
        let d = design(50, 4, 9);
        let model = LinearGaussian::new(&SufficientStats::from_design(&d)).unwrap();
        let summary = model.summary(h, &DVector::zeros(4));
        let code = two_part_nats(&model, h, &summary).unwrap();
        assert_eq!(code.form, MmlForm::FisherPlusPrior);
        assert_eq!(code.weak_directions, 4);
        assert!(code.note().unwrap().contains("4 of 4 directions"));
        check_mml_identity(50, 4, 9, 0.0, h);
        // s = 1e-149: the plain form was about −1283 bits there; now it stays above the mixture.
        let h = Hyperparameters::from_sds(1e-149, 1.0);
        let summary = model.summary(h, &DVector::zeros(4));
        let code = two_part_nats(&model, h, &summary).unwrap();
        assert!(code.nats > -summary.log_evidence);
        // And where the data dominate, the plain form.
        let h = Hyperparameters::from_sds(10.0, 1.0);
        let summary = model.summary(h, &DVector::zeros(4));
        let code = two_part_nats(&model, h, &summary).unwrap();
        assert_eq!((code.form, code.weak_directions), (MmlForm::Fisher, 0));
        assert_eq!(code.note(), None);
    }

    #[test]
    fn two_part_and_bic_are_null_with_reasons_when_undefined() {
        let d = design(8, 12, 7);
        let model = LinearGaussian::new(&SufficientStats::from_design(&d)).unwrap();
        let h = Hyperparameters::new(1.0, 1.0);
        let summary = model.summary(h, &DVector::zeros(12));
        assert!(two_part_nats(&model, h, &summary)
            .unwrap_err()
            .contains("singular"));
        assert!(bic_bits(&model, None).unwrap_err().contains("n = 8"));
    }

    #[test]
    fn bic_matches_least_squares_on_the_rows() {
        let d = design(80, 4, 8);
        let model = LinearGaussian::new(&SufficientStats::from_design(&d)).unwrap();
        let x = DMatrix::from_row_slice(d.n, d.k, &d.z);
        let y = DVector::from_column_slice(&d.t);
        let w = (x.transpose() * &x)
            .cholesky()
            .unwrap()
            .solve(&(x.transpose() * &y));
        let rss = (&y - &x * w).norm_squared();
        let n = 80.0;
        let expected = bits(0.5 * n * (2.0 * PI * rss / n).ln() + 0.5 * n) + 0.5 * 5.0 * n.log2();
        assert!((bic_bits(&model, None).unwrap() - expected).abs() < 1e-9 * expected);
        let sigma = 0.8;
        let expected =
            bits(0.5 * n * (2.0 * PI * sigma * sigma).ln() + 0.5 * rss / (sigma * sigma))
                + 0.5 * 4.0 * n.log2();
        assert!((bic_bits(&model, Some(sigma)).unwrap() - expected).abs() < 1e-9 * expected);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn prequential_is_mixture_and_mml_identity_holds_on_random_problems(
            n in 5usize..120, k in 1usize..9, seed in 0u64..1000,
            log_prior_sd in -8.0f64..2.0, log_noise_sd in -1.5f64..1.5,
            center_scale in -3.0f64..3.0, shuffle in proptest::option::of(0u64..50),
        ) {
            let h = Hyperparameters::from_sds(log_prior_sd.exp(), log_noise_sd.exp());
            let d = design(n, k, seed);
            let center = DVector::from_fn(k, |i, _| center_scale * ((i * 7 + 3) as f64).cos());
            let order = shuffle.map_or(RowOrder::AsGiven, RowOrder::Shuffled);
            let mixture = mixture_of(&d, &center, h);
            let sequential = sequential_prequential_bits(&d, order, &center, h);
            prop_assert!((sequential - mixture).abs() < 1e-6 * mixture.abs().max(1.0), "{} vs {}", sequential, mixture);
            if n > k + 1 {
                check_mml_identity(n, k, seed, center_scale, h);
            }
        }
    }
}
