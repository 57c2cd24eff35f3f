//! Linear-softmax (multinomial logistic) regression under a Gaussian prior (math.md §7).
//!
//! K classes, k features, x̃ᵢ = (xᵢ, 1) with the intercept (`m = k + 1` entries) or x̃ᵢ = xᵢ without
//! (`m = k`). Parameters θ are **class-major**: θ = (θ₀, θ₁, …, θ_{K−1}), θ_c = (w_c, b_c) ∈ ℝᵐ
//! (the intercept, when there is one, last in each block, as in [`super::logistic`]); P = K·m.
//! Coordinate (c, j) is θ[c·m + j]. A `K × m` nested array read row by row is this order.
//!
//! With η_ic = θ_cᵀx̃ᵢ, the log-sum-exp Lᵢ = ln Σ_c exp(η_ic) and p_ic = exp(η_ic − Lᵢ):
//!
//! * negative log likelihood ℓ(θ) = Σᵢ Lᵢ − η_{i,yᵢ};
//! * gradient ∂ℓ/∂θ_c = Σᵢ (p_ic − [yᵢ = c]) x̃ᵢ;
//! * Hessian ∇²ℓ = Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ, i.e. block (c, d) = Σᵢ p_ic([c = d] − p_id) x̃ᵢx̃ᵢᵀ —
//!   the same at every θ as the Fisher information (the softmax link is canonical); PSD but
//!   singular without a prior (adding one vector to every θ_c changes no probability);
//! * negative log posterior f = ℓ + ½(θ − μ)ᵀΛ(θ − μ), ∇f = ∇ℓ + Λ(θ − μ), ∇²f = ∇²ℓ + Λ, Λ the
//!   prior's diagonal precision (α = 1/s² on every weight; on the intercepts α with `shared`,
//!   1/SD² with `prior:SD`).
//!
//! Stability: Lᵢ = M + ln Σ_c exp(η_ic − M), M = max_c η_ic, so no exponential overflows and the
//! largest term is 1; the diagonal weight p_c(1 − p_c) takes 1 − p_c as Σ_{d≠c} p_d, a sum of
//! non-negative terms, free of the cancellation of 1 − p_c when p_c → 1.
//!
//! The Hessian is built block by block from weighted Gram matrices on blocks of rows — the
//! off-diagonal ones as −(diag(p_c)X̃)ᵀ(diag(p_d)X̃), only their upper bands multiplied (on wide
//! problems: one product of the rows' feature pairs x̃_a x̃_b, a ≤ b, by their class pairs
//! p_c p_d, c < d), the diagonal ones as minus the sum of the others in their block row — never
//! from an n × P Jacobian.

use super::logistic::Rows;
use super::problem::{CostAndCurvature, Curvature, LastEvaluation, NewtonProblem, Objective};
use super::softmax_pass;
use super::Intercept;
use crate::error::{OccamError, Result, Setting};
use crate::linalg::{chunks, gemm, map_ordered, map_row_blocks, Operand, Par, BLOCK_ROWS};
use crate::message;
use nalgebra::{DMatrix, DVector};
use std::ops::Range;

/// The smallest m(K − 1) for which a packed problem's f + ∇f passes use the fused kernel of
/// `model::softmax_pass` (its sums in another order than the matrix products': last bits differ):
/// the size from which a fit forms one Hessian only (`inference::softmax_mode`'s L-BFGS budget,
/// m(K − 1)/23 ≥ 2), so that iris and other small fits keep their bits.
pub const FUSED_PASS_MIN_WIDTH: usize = 46;

/// Features per band of the Fisher kernel's symmetric blocks ([`SoftmaxProblem::fisher_information`]):
/// two of matrixmultiply's 8-row micro-tiles.
const FISHER_BAND: usize = 16;

/// Rows per product inside a row block of the Fisher kernel, so that the weighted copies of the
/// rows stay in cache.
const FISHER_SUB_ROWS: usize = 512;

/// The smallest m(K − 1) for which the Fisher information comes from the paired kernel
/// (`paired_curvature_pass_with`, its sums in another order than the banded kernel's: last bits
/// differ): the width from which the f + ∇f passes are fused too, so that iris and other small
/// fits keep their bits.
pub const PAIRED_FISHER_MIN_WIDTH: usize = FUSED_PASS_MIN_WIDTH;

/// About how many feature-pair values x̃ᵢ_a x̃ᵢ_b the paired Fisher kernel holds per sub-block of
/// rows (2 MiB): r = this / (m(m + 1)/2) rows, at least `PAIRED_FISHER_MIN_ROWS` and at most
/// `FISHER_SUB_ROWS`.
const PAIRED_FISHER_SUB_VALUES: usize = 1 << 18;

/// The fewest rows per product of the paired Fisher kernel (wide designs).
const PAIRED_FISHER_MIN_ROWS: usize = 32;

/// One row's class probabilities and log-sum-exp from its linear predictors η (length K):
/// writes p_c = exp(η_c − L) into `p` and returns L = ln Σ_c exp(η_c), computed as
/// M + ln Σ_c exp(η_c − M) with M = max_c η_c.
pub fn log_sum_exp_and_probabilities(eta: &[f64], p: &mut [f64]) -> f64 {
    let top = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (pc, &e) in p.iter_mut().zip(eta) {
        *pc = (e - top).exp();
        sum += *pc;
    }
    for pc in p.iter_mut() {
        *pc /= sum;
    }
    top + sum.ln()
}

/// p_c(1 − p_c) for every class, 1 − p_c taken as Σ_{d≠c} p_d (no cancellation as p_c → 1).
pub fn diagonal_weights(p: &[f64], out: &mut [f64]) {
    for (c, (o, &pc)) in out.iter_mut().zip(p).enumerate() {
        let rest: f64 = p
            .iter()
            .enumerate()
            .filter(|&(d, _)| d != c)
            .map(|(_, &pd)| pd)
            .sum();
        *o = pc * rest;
    }
}

/// A class target: each row's class index in 0..K and the K distinct values, in sorted order
/// (numerically, by `f64::total_cmp`), so that class c is `classes[c]` (math.md §7).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassTarget {
    /// Class index of each row.
    pub labels: Vec<usize>,
    /// The distinct target values, sorted: class c is `classes[c]`.
    pub classes: Vec<f64>,
}

/// Maps a target with at least two distinct values to class indices 0…K−1 in sorted order.
pub fn class_target(y: &[f64], source_name: &str, target_name: &str) -> Result<ClassTarget> {
    let mut classes: Vec<f64> = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup_by(|a, b| a.total_cmp(b).is_eq());
    if classes.len() < 2 {
        return Err(OccamError::Target {
            source_name: source_name.to_string(),
            message: message![
                format!(
                    "a classification model needs at least two distinct target values, but '{target_name}' has {}; choose a class column with ",
                    match classes.first() {
                        Some(v) => format!("only {v}"),
                        None => "no rows".to_string(),
                    }
                ),
                Setting::Target
            ],
        });
    }
    let labels = y
        .iter()
        .map(|v| {
            classes
                .binary_search_by(|c| c.total_cmp(v))
                .unwrap_or_default()
        })
        .collect();
    Ok(ClassTarget { labels, classes })
}

/// Standardised parameters (class-major, K·m) in original units: for each class,
/// w_cj / scale_j and, with the intercept, b_c − Σ_j shift_j·w_cj / scale_j — so that
/// η_c = Σ_j w_cj (x_j − shift_j)/scale_j + b_c is the same linear predictor on raw features.
/// Returns (K × k weights row by row, the K intercepts or `None`).
pub fn original_units(
    theta: &DVector<f64>,
    classes: usize,
    intercept: bool,
    shift: &[f64],
    scale: &[f64],
) -> (Vec<Vec<f64>>, Option<Vec<f64>>) {
    let k = shift.len();
    let m = k + usize::from(intercept);
    assert_eq!(theta.len(), classes * m, "class-major parameters");
    assert_eq!(scale.len(), k, "one scale per feature");
    let weights: Vec<Vec<f64>> = (0..classes)
        .map(|c| (0..k).map(|j| theta[c * m + j] / scale[j]).collect())
        .collect();
    let intercepts = intercept.then(|| {
        (0..classes)
            .map(|c| {
                theta[c * m + k]
                    - weights[c]
                        .iter()
                        .zip(shift)
                        .map(|(w, s)| w * s)
                        .sum::<f64>()
            })
            .collect()
    });
    (weights, intercepts)
}

/// The prior over all P = K·m parameters (class-major) of a softmax model: centre and diagonal
/// precision.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxPrior {
    /// μ, length P.
    pub center: DVector<f64>,
    /// Λ's diagonal, length P.
    pub precision: DVector<f64>,
}

/// The parameters per class that the shared prior N(μ, s²I) covers: k + 1 with the `shared`
/// intercept, k otherwise (`prior:SD` puts the intercepts under N(0, SD²), `none` has none).
pub fn shared_width(k: usize, intercept: Intercept) -> usize {
    k + usize::from(intercept == Intercept::Shared)
}

/// The prior arrays for K classes, k features, an intercept treatment, prior sd s and a shared
/// centre of length K·[`shared_width`] (class-major): α = 1/s² on every shared coordinate, 1/SD²
/// and centre 0 on the intercepts under `prior:SD`.
///
/// `free` is refused for K ≥ 3 (math.md §7): adding one constant to every intercept changes no
/// probability, and a flat prior does not stop it, so the posterior has no mode. (For K = 2 the
/// same holds — the multinomial parametrisation with two flat intercepts is not identifiable
/// either — so `free` is refused for every K here; the binary model handles K = 2 with `free`.)
/// `centered` is a regression setting and is refused too.
pub fn prior_arrays(
    k: usize,
    classes: usize,
    intercept: Intercept,
    sd: f64,
    shared_center: &DVector<f64>,
) -> Result<SoftmaxPrior> {
    match intercept {
        Intercept::Free => {
            return Err(OccamError::invalid(
                Setting::Intercept,
                message![
                    format!(
                        "'free' is not identifiable with {classes} classes: adding one constant to every class's intercept changes no probability, and a flat prior does not stop it; use "
                    ),
                    Setting::Intercept,
                    " shared (the default), prior:SD or none"
                ],
            ))
        }
        Intercept::Centered => {
            return Err(OccamError::invalid(
                Setting::Intercept,
                message![
                    "'centered' is for regression; a softmax model takes ",
                    Setting::Intercept,
                    " shared (the default), prior:SD or none"
                ],
            ))
        }
        _ => {}
    }
    let has_intercept = intercept != Intercept::None;
    let (m, shared) = (k + usize::from(has_intercept), shared_width(k, intercept));
    if shared_center.len() != classes * shared {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            format!(
                "the centre has {} values but the prior covers {} parameters ({classes} classes × {shared})",
                shared_center.len(),
                classes * shared
            ),
        ));
    }
    let alpha = 1.0 / (sd * sd);
    let mut center = DVector::zeros(classes * m);
    let mut precision = DVector::from_element(classes * m, alpha);
    for c in 0..classes {
        for j in 0..shared {
            center[c * m + j] = shared_center[c * shared + j];
        }
        if let Intercept::Prior(sd0) = intercept {
            precision[c * m + k] = 1.0 / (sd0 * sd0);
        }
    }
    Ok(SoftmaxPrior { center, precision })
}

/// The negative log posterior of linear-softmax regression, as a [`NewtonProblem`] (see the
/// module documentation for the parametrisation and formulas).
///
/// Every pass over the rows runs on the fixed partition of [`map_row_blocks`] and sums the
/// blocks in order: the same bits on any number of threads.
#[derive(Debug, Clone, Copy)]
pub struct SoftmaxProblem<'a> {
    rows: Rows<'a>,
    labels: &'a [usize],
    classes: usize,
    intercept: bool,
    center: &'a DVector<f64>,
    precision: &'a DVector<f64>,
    /// x̃ᵢ of every row, n × m row-major, when the caller holds them ([`Self::with_packed`]).
    packed: Option<&'a [f64]>,
}

impl<'a> SoftmaxProblem<'a> {
    /// The problem on `rows` with class labels in 0..`classes` (K ≥ 2), an intercept per class or
    /// none, and the prior centre and diagonal precision over all P = K·(k + intercept)
    /// parameters, class-major.
    pub fn new(
        rows: Rows<'a>,
        labels: &'a [usize],
        classes: usize,
        intercept: bool,
        center: &'a DVector<f64>,
        precision: &'a DVector<f64>,
    ) -> Self {
        assert!(classes >= 2, "a softmax model needs at least two classes");
        assert_eq!(rows.n(), labels.len(), "one label per row");
        assert!(
            labels.iter().all(|&c| c < classes),
            "labels must lie in 0..classes"
        );
        let p = classes * (rows.k() + usize::from(intercept));
        assert_eq!(center.len(), p, "centre length must be the parameter count");
        assert_eq!(
            precision.len(),
            p,
            "precision length must be the parameter count"
        );
        SoftmaxProblem {
            rows,
            labels,
            classes,
            intercept,
            center,
            precision,
            packed: None,
        }
    }

    /// x̃ᵢ of every row, n × m row-major (standardised, with the intercept's 1 last): the same
    /// values the passes would otherwise form from the rows block by block ([`Self::with_packed`]).
    pub fn packed_design(&self) -> Vec<f64> {
        let m = self.width();
        let mut out = vec![0.0; self.n() * m];
        let mut buffer = vec![0.0; self.k()];
        for (i, row) in out.chunks_exact_mut(m).enumerate() {
            self.extended_row(i, &mut buffer, row);
        }
        out
    }

    /// The same problem reading x̃ᵢ from `packed` ([`Self::packed_design`]'s n × m buffer) instead
    /// of forming them from the rows on every pass. The values, and so every result, are the same
    /// bits.
    pub fn with_packed(&self, packed: &'a [f64]) -> Self {
        assert_eq!(
            packed.len(),
            self.n() * self.width(),
            "the packed design holds n rows of m values"
        );
        SoftmaxProblem {
            packed: Some(packed),
            ..*self
        }
    }

    /// The bytes of [`Self::packed_design`]: 8·n·m.
    pub fn packed_bytes(&self) -> f64 {
        8.0 * (self.n() * self.width()) as f64
    }

    /// Number of rows n.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// Number of classes K.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Number of features k.
    pub fn k(&self) -> usize {
        self.rows.k()
    }

    /// Parameters per class, m = k (+ 1 with the intercept).
    pub fn width(&self) -> usize {
        self.rows.k() + usize::from(self.intercept)
    }

    /// Number of parameters P = K·m.
    pub fn n_params(&self) -> usize {
        self.classes * self.width()
    }

    /// Whether each class has an intercept.
    pub fn has_intercept(&self) -> bool {
        self.intercept
    }

    /// The prior centre μ.
    pub fn center(&self) -> &DVector<f64> {
        self.center
    }

    /// The prior precision Λ's diagonal.
    pub fn precision(&self) -> &DVector<f64> {
        self.precision
    }

    /// The same problem with another prior precision.
    pub fn with_precision(&self, precision: &'a DVector<f64>) -> Self {
        assert_eq!(precision.len(), self.n_params());
        SoftmaxProblem { precision, ..*self }
    }

    /// x̃ᵢ (length m) into `out`, reading the row through `buffer`.
    fn extended_row(&self, i: usize, buffer: &mut [f64], out: &mut [f64]) {
        if let Some(packed) = self.packed {
            let m = out.len();
            out.copy_from_slice(&packed[i * m..(i + 1) * m]);
            return;
        }
        let k = self.rows.k();
        out[..k].copy_from_slice(self.rows.row(i, buffer));
        if self.intercept {
            out[k] = 1.0;
        }
    }

    /// η_ic = θ_cᵀx̃ᵢ for every class, from x̃ᵢ.
    fn predictors(&self, theta: &[f64], x: &[f64], eta: &mut [f64]) {
        let m = self.width();
        for (e, block) in eta.iter_mut().zip(theta.chunks_exact(m)) {
            *e = super::logistic::dot(x, block);
        }
    }

    /// The class probabilities pᵢ of every row, row-major n × K.
    pub fn probabilities(&self, theta: &DVector<f64>) -> Vec<f64> {
        let (m, kk) = (self.width(), self.classes);
        map_row_blocks(self.n(), |block| {
            let (mut buffer, mut x) = (vec![0.0; self.k()], vec![0.0; m]);
            let mut eta = vec![0.0; kk];
            let mut out = vec![0.0; block.len() * kk];
            for (i, p) in block.zip(out.chunks_exact_mut(kk)) {
                self.extended_row(i, &mut buffer, &mut x);
                self.predictors(theta.as_slice(), &x, &mut eta);
                log_sum_exp_and_probabilities(&eta, p);
            }
            out
        })
        .concat()
    }

    /// Σᵢ Lᵢ − η_{i,yᵢ} over the rows `rows`, in row order (one block of a prequential code).
    pub fn rows_negative_log_likelihood(&self, theta: &DVector<f64>, rows: Range<usize>) -> f64 {
        self.block_pass::<false>(theta.as_slice(), rows).0
    }

    /// ℓ(θ) = Σᵢ Lᵢ − η_{i,yᵢ}.
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        if let Some(packed) = self.fused_design() {
            return self.fused_pass(Par::all(), packed, theta, false).0;
        }
        map_row_blocks(self.n(), |block| {
            self.block_pass::<false>(theta.as_slice(), block).0
        })
        .iter()
        .sum()
    }

    /// ℓ(θ) and ∇ℓ(θ) in one pass over the rows: ∂ℓ/∂θ_c = Σᵢ (p_ic − [yᵢ = c]) x̃ᵢ.
    pub fn likelihood_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        self.likelihood_and_gradient_with(Par::all(), theta)
    }

    /// The packed design when the passes over all rows use the fused kernel
    /// ([`super::softmax_pass`]): a packed problem ([`Self::with_packed`]) with
    /// m(K − 1) ≥ [`FUSED_PASS_MIN_WIDTH`]. Smaller problems keep the two matrix products of
    /// `block_pass` (their bits unchanged).
    fn fused_design(&self) -> Option<&'a [f64]> {
        self.packed
            .filter(|_| self.width() * (self.classes - 1) >= FUSED_PASS_MIN_WIDTH)
    }

    /// ℓ and (when `with_gradient`, else zeros) ∇ℓ by the fused kernel on the fixed row blocks of
    /// [`BLOCK_ROWS`], summed in block order: the same bits on any number of threads.
    fn fused_pass(
        &self,
        par: Par,
        packed: &[f64],
        theta: &DVector<f64>,
        with_gradient: bool,
    ) -> (f64, DVector<f64>) {
        let (m, kk) = (self.width(), self.classes);
        let kp = softmax_pass::padded_classes(kk);
        let theta_fm = softmax_pass::feature_major(theta.as_slice(), kk, m);
        let partial = map_ordered(par, chunks(0..self.n(), BLOCK_ROWS), |block| {
            let mut g = vec![0.0; if with_gradient { m * kp } else { 0 }];
            let loss = softmax_pass::packed_block_pass(
                &packed[block.start * m..block.end * m],
                m,
                &self.labels[block],
                &theta_fm,
                kk,
                with_gradient.then_some(g.as_mut_slice()),
            );
            (loss, g)
        });
        let mut loss = 0.0;
        let mut g_fm = vec![0.0; m * kp];
        for (block_loss, block_g) in partial {
            loss += block_loss;
            for (t, v) in g_fm.iter_mut().zip(&block_g) {
                *t += v;
            }
        }
        let g = DVector::from_fn(kk * m, |i, _| g_fm[(i % m) * kp + i / m]);
        (loss, g)
    }

    /// [`Self::likelihood_and_gradient`] on the threads of `par` (the same bits for every `par`).
    pub fn likelihood_and_gradient_with(
        &self,
        par: Par,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>) {
        if let Some(packed) = self.fused_design() {
            return self.fused_pass(par, packed, theta, true);
        }
        let partial = map_ordered(par, chunks(0..self.n(), BLOCK_ROWS), |block| {
            self.block_pass::<true>(theta.as_slice(), block)
        });
        let mut loss = 0.0;
        let mut g = DVector::zeros(self.n_params());
        for (l, block_g) in partial {
            loss += l;
            g += DVector::from_vec(block_g);
        }
        (loss, g)
    }

    /// One block of rows: its share of ℓ and (when `GRADIENT`, else an empty vector) of ∇ℓ.
    /// The predictors of the block are one product H = X̃Θᵀ (r × m times m × K, Θ the K × m
    /// class-major θ) and the gradient another, Gᵀ += Rᵀ X̃ with R = P − Y (r × K).
    fn block_pass<const GRADIENT: bool>(
        &self,
        theta: &[f64],
        block: Range<usize>,
    ) -> (f64, Vec<f64>) {
        let (m, kk, r) = (self.width(), self.classes, block.len());
        let formed;
        let x: &[f64] = match self.packed {
            Some(packed) => &packed[block.start * m..block.end * m],
            None => {
                let mut buffer = vec![0.0; self.k()];
                let mut x = vec![0.0; r * m];
                for (xr, i) in x.chunks_exact_mut(m).zip(block.clone()) {
                    self.extended_row(i, &mut buffer, xr);
                }
                formed = x;
                &formed
            }
        };
        let mut eta = vec![0.0; r * kk];
        gemm(
            1.0,
            Operand::row_major(x, r, m),
            Operand::transposed(theta, kk, m),
            0.0,
            &mut eta,
            kk,
        );
        let mut p = vec![0.0; kk];
        let mut loss = 0.0;
        // R = P − Y in place of the predictors.
        for (e, i) in eta.chunks_exact_mut(kk).zip(block) {
            let y = self.labels[i];
            loss += log_sum_exp_and_probabilities(e, &mut p) - e[y];
            if GRADIENT {
                e.copy_from_slice(&p);
                e[y] -= 1.0;
            }
        }
        let mut g = vec![0.0; if GRADIENT { kk * m } else { 0 }];
        if GRADIENT {
            gemm(
                1.0,
                Operand::transposed(&eta, r, kk),
                Operand::row_major(x, r, m),
                0.0,
                &mut g,
                m,
            );
        }
        (loss, g)
    }

    /// Whether class c's score under `theta` alone, θ_cᵀx̃ᵢ, is positive on every row of class c and
    /// negative on every other row (class c separated from the rest by a hyperplane).
    pub fn separates_class(&self, theta: &DVector<f64>, c: usize) -> bool {
        let m = self.width();
        let block = &theta.as_slice()[c * m..(c + 1) * m];
        map_row_blocks(self.n(), |rows| {
            let (mut buffer, mut x) = (vec![0.0; self.k()], vec![0.0; m]);
            rows.into_iter().all(|i| {
                self.extended_row(i, &mut buffer, &mut x);
                let score = super::logistic::dot(&x, block);
                if self.labels[i] == c {
                    score > 0.0
                } else {
                    score < 0.0
                }
            })
        })
        .into_iter()
        .all(|b| b)
    }

    /// ½(θ − μ)ᵀΛ(θ − μ).
    pub fn penalty(&self, theta: &DVector<f64>) -> f64 {
        0.5 * theta
            .iter()
            .zip(self.center.iter())
            .zip(self.precision.iter())
            .map(|((t, m), l)| l * (t - m) * (t - m))
            .sum::<f64>()
    }

    /// Λ(θ − μ).
    pub fn penalty_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.precision.component_mul(&(theta - self.center))
    }

    /// f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ).
    pub fn objective(&self, theta: &DVector<f64>) -> f64 {
        self.negative_log_likelihood(theta) + self.penalty(theta)
    }

    /// ∇f(θ) = ∇ℓ(θ) + Λ(θ − μ).
    pub fn gradient_at(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_and_gradient(theta).1 + self.penalty_gradient(theta)
    }

    /// The data part of the Hessian, ∇²ℓ = Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ (the Fisher
    /// information). Block (c, d), c ≠ d, is −S_cd with S_cd = Σᵢ p_ic p_id x̃ᵢx̃ᵢᵀ (symmetric,
    /// so only the entries on and right of each band of features are multiplied — or, from
    /// m(K − 1) ≥ [`PAIRED_FISHER_MIN_WIDTH`], only the pairs a ≤ b of features of the pairs
    /// c < d of classes: see `banded_curvature_pass_with` and `paired_curvature_pass_with`);
    /// lower blocks mirrored. The diagonal blocks come from the
    /// block rows summing to zero (Σ_d (diag p − ppᵀ)_cd = p_c − p_c Σ_d p_d = 0): block (c, c) =
    /// Σ_{d≠c} S_cd = Σᵢ p_ic (Σ_{d≠c} p_id) x̃ᵢx̃ᵢᵀ, a sum of positive multiples of x̃ᵢx̃ᵢᵀ, so
    /// p_c(1 − p_c) is never formed by a cancelling subtraction (as [`diagonal_weights`]).
    pub fn fisher_information(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.curvature_pass::<false>(theta).2
    }

    /// ℓ(θ), ∇ℓ(θ) and the Fisher information in one pass over the rows (a Newton candidate's
    /// cost, gradient and curvature: see [`NewtonProblem::cost_and_curvature`]). ℓ and ∇ℓ are
    /// summed row by row as in [`Self::likelihood_and_gradient`].
    pub fn likelihood_gradient_and_information(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        self.curvature_pass::<true>(theta)
    }

    /// The pass behind [`Self::fisher_information`], with ℓ and ∇ℓ when `GRADIENT` (zeros
    /// otherwise), on every core.
    fn curvature_pass<const GRADIENT: bool>(
        &self,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        self.curvature_pass_with::<GRADIENT>(Par::all(), theta)
    }

    /// [`Self::curvature_pass`] on the threads of `par`: the paired kernel
    /// ([`Self::paired_curvature_pass_with`]) from m(K − 1) ≥ [`PAIRED_FISHER_MIN_WIDTH`], the
    /// banded one ([`Self::banded_curvature_pass_with`]) below it (iris and other small fits keep
    /// their bits). Both run on the fixed row blocks of [`map_row_blocks`], summed in block
    /// order: the same bits for every `par`.
    fn curvature_pass_with<const GRADIENT: bool>(
        &self,
        par: Par,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        if self.width() * (self.classes - 1) >= PAIRED_FISHER_MIN_WIDTH {
            self.paired_curvature_pass_with::<GRADIENT>(par, theta)
        } else {
            self.banded_curvature_pass_with::<GRADIENT>(par, theta)
        }
    }

    /// The pass behind [`Self::fisher_information`] from m(K − 1) ≥ [`PAIRED_FISHER_MIN_WIDTH`],
    /// on the threads of `par`: the fixed row blocks of [`map_row_blocks`] (`BLOCK_ROWS` rows),
    /// each one partial sum alone, summed in block order — the same bits for every `par`.
    ///
    /// S_cd = Σᵢ p_ic p_id x̃ᵢx̃ᵢᵀ (c < d; block (c, d) of ∇²ℓ is −S_cd) is symmetric in the
    /// features (a, b) and in the classes (c, d), so only the entries with a ≤ b and c < d are
    /// needed: T[(a, b), (c, d)] = Σᵢ (x̃ᵢ_a x̃ᵢ_b)(p_ic p_id), one matrix product T += WᵀU per
    /// sub-block of r rows, W (r × m(m + 1)/2) holding the feature pairs of each row and U
    /// (r × K(K − 1)/2) its class pairs — K(K − 1)/2 · m(m + 1)/2 multiply–adds per row, no
    /// entry twice, and a product whose packing (of W, once) costs 1/(K(K − 1)) of its work.
    /// The diagonal blocks are Σ_{d≠c} S_cd (as in [`Self::fisher_information`]), summed over d
    /// in order.
    fn paired_curvature_pass_with<const GRADIENT: bool>(
        &self,
        par: Par,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        let (m, kk) = (self.width(), self.classes);
        let pp = kk * m;
        let (q, e) = (m * (m + 1) / 2, kk * (kk - 1) / 2);
        // (a, b), a ≤ b, at feature_pair[a] + b − a; (c, d), c < d, at class_pair[c] + d − c − 1.
        let feature_pair: Vec<usize> = (0..m)
            .map(|a| a * m - a * a.saturating_sub(1) / 2)
            .collect();
        let class_pair: Vec<usize> = (0..kk)
            .map(|c| c * (kk - 1) - c * c.saturating_sub(1) / 2)
            .collect();
        let sub = (PAIRED_FISHER_SUB_VALUES / q).clamp(PAIRED_FISHER_MIN_ROWS, FISHER_SUB_ROWS);
        let partial = map_ordered(par, chunks(0..self.n(), BLOCK_ROWS), |block| {
            let (mut buffer, mut x) = (vec![0.0; self.k()], vec![0.0; m]);
            let (mut eta, mut p) = (vec![0.0; kk], vec![0.0; kk]);
            let mut g = vec![0.0; if GRADIENT { pp } else { 0 }];
            let mut loss = 0.0;
            let mut t = vec![0.0; q * e];
            let mut w = vec![0.0; sub * q];
            let mut u = vec![0.0; sub * e];
            for rows in chunks(block, sub) {
                let r = rows.len();
                for ((wr, ur), i) in w.chunks_exact_mut(q).zip(u.chunks_exact_mut(e)).zip(rows) {
                    self.extended_row(i, &mut buffer, &mut x);
                    self.predictors(theta.as_slice(), &x, &mut eta);
                    let lse = log_sum_exp_and_probabilities(&eta, &mut p);
                    if GRADIENT {
                        let y = self.labels[i];
                        loss += lse - eta[y];
                        for (c, gc) in g.chunks_exact_mut(m).enumerate() {
                            let residual = p[c] - if c == y { 1.0 } else { 0.0 };
                            for (gj, xj) in gc.iter_mut().zip(&x) {
                                *gj += residual * xj;
                            }
                        }
                    }
                    for (a, &xa) in x.iter().enumerate() {
                        let at = feature_pair[a];
                        for (wv, xb) in wr[at..at + m - a].iter_mut().zip(&x[a..]) {
                            *wv = xa * xb;
                        }
                    }
                    for (c, &pc) in p.iter().enumerate() {
                        let at = class_pair[c];
                        for (uv, pd) in ur[at..at + kk - 1 - c].iter_mut().zip(&p[c + 1..]) {
                            *uv = pc * pd;
                        }
                    }
                }
                gemm(
                    1.0,
                    Operand::transposed(&w[..r * q], r, q),
                    Operand::row_major(&u[..r * e], r, e),
                    1.0,
                    &mut t,
                    e,
                );
            }
            (loss, g, t)
        });
        let (mut loss, mut g) = (0.0, DVector::zeros(pp));
        let mut t = vec![0.0; q * e];
        for (block_loss, block_g, block) in partial {
            if GRADIENT {
                loss += block_loss;
                g += DVector::from_vec(block_g);
            }
            for (s, v) in t.iter_mut().zip(&block) {
                *s += v;
            }
        }
        let entry = |a: usize, b: usize, c: usize, d: usize| {
            let (a, b) = (a.min(b), a.max(b));
            let (c, d) = (c.min(d), c.max(d));
            t[(feature_pair[a] + b - a) * e + class_pair[c] + d - c - 1]
        };
        let mut f = DMatrix::zeros(pp, pp);
        for c in 0..kk {
            for d in 0..kk {
                for a in 0..m {
                    for b in 0..m {
                        f[(c * m + a, d * m + b)] = if c == d {
                            (0..kk).filter(|&o| o != c).map(|o| entry(a, b, c, o)).sum()
                        } else {
                            -entry(a, b, c, d)
                        };
                    }
                }
            }
        }
        (loss, g, f)
    }

    /// The pass behind [`Self::fisher_information`] below [`PAIRED_FISHER_MIN_WIDTH`], on the
    /// threads of `par`: the fixed row blocks of
    /// [`map_row_blocks`] (`BLOCK_ROWS` rows), each one partial sum alone, summed in block order —
    /// the same bits for every `par`.
    ///
    /// Within a block, S_cd = Σᵢ p_ic p_id x̃ᵢx̃ᵢᵀ (c < d; the off-diagonal block (c, d) of ∇²ℓ is
    /// −S_cd) is symmetric, so only its entries (a, b) with b at or right of a's band of
    /// [`FISHER_BAND`] features are multiplied: for class c one product per band [a₀, a₁),
    /// A = (p_c ∘ X̃)[:, a₀..a₁]ᵀ times B_c[:, a₀·D..] where B_c (r × m·D, D = K − 1 − c) holds
    /// p_id x̃ᵢ_b at column b·D + (d − c − 1), feature-major, so the columns b ≥ a₀ of every
    /// class d > c are one contiguous tail. The other entries are their mirror images
    /// S_cd(a, b) = S_cd(b, a). With m ≤ [`FISHER_BAND`] there is one band and every entry is
    /// multiplied (the products and their order are those of the full product).
    fn banded_curvature_pass_with<const GRADIENT: bool>(
        &self,
        par: Par,
        theta: &DVector<f64>,
    ) -> (f64, DVector<f64>, DMatrix<f64>) {
        let (m, kk) = (self.width(), self.classes);
        let pp = kk * m;
        let bands: Vec<usize> = (0..m).step_by(FISHER_BAND).collect();
        // S_c, m × m·D row-major, at offsets[c]; Σ_c m²·D entries in all.
        let offsets: Vec<usize> = (0..kk)
            .scan(0, |at, c| {
                let here = *at;
                *at += m * m * (kk - 1 - c);
                Some(here)
            })
            .collect();
        let total = m * m * kk * (kk - 1) / 2;
        let partial = map_ordered(par, chunks(0..self.n(), BLOCK_ROWS), |block| {
            let (mut buffer, mut x) = (vec![0.0; self.k()], vec![0.0; m]);
            let (mut eta, mut p) = (vec![0.0; kk], vec![0.0; kk]);
            let mut g = vec![0.0; if GRADIENT { pp } else { 0 }];
            let mut loss = 0.0;
            let mut s = vec![0.0; total];
            let mut xs = Vec::with_capacity(FISHER_SUB_ROWS * m);
            let mut ps = Vec::with_capacity(FISHER_SUB_ROWS * kk);
            let mut a = vec![0.0; FISHER_SUB_ROWS * m];
            let mut b = vec![0.0; FISHER_SUB_ROWS * m * kk.saturating_sub(1)];
            for rows in chunks(block, FISHER_SUB_ROWS) {
                let r = rows.len();
                xs.clear();
                ps.clear();
                for i in rows {
                    self.extended_row(i, &mut buffer, &mut x);
                    self.predictors(theta.as_slice(), &x, &mut eta);
                    let lse = log_sum_exp_and_probabilities(&eta, &mut p);
                    if GRADIENT {
                        let y = self.labels[i];
                        loss += lse - eta[y];
                        for (c, gc) in g.chunks_exact_mut(m).enumerate() {
                            let residual = p[c] - if c == y { 1.0 } else { 0.0 };
                            for (gj, xj) in gc.iter_mut().zip(&x) {
                                *gj += residual * xj;
                            }
                        }
                    }
                    xs.extend_from_slice(&x);
                    ps.extend_from_slice(&p);
                }
                for c in 0..kk - 1 {
                    let d_count = kk - 1 - c;
                    let width = m * d_count;
                    for ((ar, br), (xr, pr)) in a
                        .chunks_exact_mut(m)
                        .zip(b.chunks_exact_mut(width))
                        .zip(xs.chunks_exact(m).zip(ps.chunks_exact(kk)))
                        .take(r)
                    {
                        for (av, xv) in ar.iter_mut().zip(xr) {
                            *av = pr[c] * xv;
                        }
                        for (bb, xv) in br.chunks_exact_mut(d_count).zip(xr) {
                            for (bv, pd) in bb.iter_mut().zip(&pr[c + 1..]) {
                                *bv = pd * xv;
                            }
                        }
                    }
                    let out = &mut s[offsets[c]..offsets[c] + m * width];
                    for &a0 in &bands {
                        let a1 = (a0 + FISHER_BAND).min(m);
                        gemm(
                            1.0,
                            Operand::strided(&a[a0..r * m], a1 - a0, r, 1, m),
                            Operand::strided(
                                &b[a0 * d_count..r * width],
                                r,
                                width - a0 * d_count,
                                width,
                                1,
                            ),
                            1.0,
                            &mut out[a0 * width + a0 * d_count..],
                            width,
                        );
                    }
                }
            }
            (loss, g, s)
        });
        let (mut loss, mut g) = (0.0, DVector::zeros(pp));
        let mut s = vec![0.0; total];
        for (block_loss, block_g, block) in partial {
            if GRADIENT {
                loss += block_loss;
                g += DVector::from_vec(block_g);
            }
            for (t, v) in s.iter_mut().zip(&block) {
                *t += v;
            }
        }
        // The off-diagonal blocks, −S_cd, and their transposes; (a, b) left of a's band is the
        // mirror image (b, a).
        let mut f = DMatrix::zeros(pp, pp);
        for c in 0..kk - 1 {
            let d_count = kk - 1 - c;
            let width = m * d_count;
            let sc = &s[offsets[c]..offsets[c] + m * width];
            for (dd, d) in (c + 1..kk).enumerate() {
                for a in 0..m {
                    let band_start = a - a % FISHER_BAND;
                    for bcol in 0..m {
                        let v = if bcol >= band_start {
                            sc[a * width + bcol * d_count + dd]
                        } else {
                            sc[bcol * width + a * d_count + dd]
                        };
                        f[(c * m + a, d * m + bcol)] = -v;
                        f[(d * m + bcol, c * m + a)] = -v;
                    }
                }
            }
        }
        // Diagonal blocks: minus the sum of the other blocks of their block row (for a ≤ b, mirrored).
        for c in 0..kk {
            for a in 0..m {
                for bcol in a..m {
                    let sum: f64 = (0..kk)
                        .filter(|&d| d != c)
                        .map(|d| f[(c * m + a, d * m + bcol)])
                        .sum();
                    f[(c * m + a, c * m + bcol)] = -sum;
                    f[(c * m + bcol, c * m + a)] = -sum;
                }
            }
        }
        (loss, g, f)
    }

    /// The diagonal of ∇²f = ∇²ℓ + Λ, one pass without forming H: entry (c, j) is
    /// Σᵢ p_ic(1 − p_ic) x̃ᵢⱼ² + Λ_cj (the coordinate scales of the mode search).
    pub fn hessian_diagonal(&self, theta: &DVector<f64>) -> DVector<f64> {
        let (m, kk) = (self.width(), self.classes);
        let partial = map_row_blocks(self.n(), |block| {
            let (mut buffer, mut x) = (vec![0.0; self.k()], vec![0.0; m]);
            let (mut eta, mut p, mut v) = (vec![0.0; kk], vec![0.0; kk], vec![0.0; kk]);
            let mut out = vec![0.0; kk * m];
            for i in block {
                self.extended_row(i, &mut buffer, &mut x);
                self.predictors(theta.as_slice(), &x, &mut eta);
                log_sum_exp_and_probabilities(&eta, &mut p);
                diagonal_weights(&p, &mut v);
                for (oc, vc) in out.chunks_exact_mut(m).zip(&v) {
                    for (o, xj) in oc.iter_mut().zip(&x) {
                        *o += vc * xj * xj;
                    }
                }
            }
            out
        });
        let mut diagonal = self.precision.clone();
        for block in partial {
            diagonal += DVector::from_vec(block);
        }
        diagonal
    }

    /// ∇²f = ∇²ℓ + Λ.
    pub fn hessian_at(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let mut h = self.fisher_information(theta);
        for j in 0..self.n_params() {
            h[(j, j)] += self.precision[j];
        }
        h
    }

    /// The size of the gradient's terms, against which a gradient norm counts as small:
    /// ‖∇ℓ(0)‖ + ‖Λμ‖ + 1 (at θ = 0 every pᵢ is uniform, 1/K).
    pub fn gradient_scale(&self) -> f64 {
        self.gradient_scale_from(
            &self
                .likelihood_and_gradient(&DVector::zeros(self.n_params()))
                .1,
        )
    }

    /// [`Self::gradient_scale`] from ∇ℓ(0), which depends only on the rows (not on the prior), so
    /// a search over priors on the same rows computes it once.
    pub fn gradient_scale_from(&self, likelihood_gradient_at_zero: &DVector<f64>) -> f64 {
        likelihood_gradient_at_zero.norm() + self.precision.component_mul(self.center).norm() + 1.0
    }
}

/// A [`SoftmaxProblem`] whose cost and gradient come from one pass over the rows
/// ([`SoftmaxProblem::likelihood_and_gradient`]), remembered for the next request at the same θ
/// (argmin's L-BFGS asks for the cost, then the gradient, at every trial point). Only the
/// likelihood part is remembered; the prior's O(P) part is added on each request. Clones share
/// the memory.
#[derive(Debug, Clone)]
pub struct FusedSoftmaxProblem<'a> {
    problem: SoftmaxProblem<'a>,
    last: LastEvaluation,
}

impl<'a> SoftmaxProblem<'a> {
    /// This problem with f and ∇f computed together and remembered.
    pub fn fused(&self) -> FusedSoftmaxProblem<'a> {
        FusedSoftmaxProblem {
            problem: *self,
            last: LastEvaluation::default(),
        }
    }
}

impl<'a> FusedSoftmaxProblem<'a> {
    /// The problem itself.
    pub fn problem(&self) -> &SoftmaxProblem<'a> {
        &self.problem
    }

    /// (ℓ(θ), ∇ℓ(θ)), remembered.
    pub fn likelihood_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        self.last
            .get_or_compute(theta, |theta| self.problem.likelihood_and_gradient(theta))
    }
}

impl Objective for FusedSoftmaxProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.likelihood_and_gradient(theta).0 + self.problem.penalty(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_and_gradient(theta).1 + self.problem.penalty_gradient(theta)
    }
}

/// One pass for f, ∇f and ∇²f at a Newton candidate
/// ([`SoftmaxProblem::likelihood_gradient_and_information`]); ℓ and ∇ℓ are remembered.
impl NewtonProblem for FusedSoftmaxProblem<'_> {
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.problem.hessian_at(theta)
    }

    fn cost_and_curvature(&self, theta: &DVector<f64>) -> CostAndCurvature {
        let (l, g, mut h) = self.problem.likelihood_gradient_and_information(theta);
        self.last.store(theta, l, g.clone());
        for j in 0..self.problem.n_params() {
            h[(j, j)] += self.problem.precision[j];
        }
        CostAndCurvature {
            cost: l + self.problem.penalty(theta),
            curvature: Some(Curvature {
                gradient: g + self.problem.penalty_gradient(theta),
                hessian: h,
            }),
        }
    }
}

impl Objective for SoftmaxProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.objective(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.gradient_at(theta)
    }
}

impl NewtonProblem for SoftmaxProblem<'_> {
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.hessian_at(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::random_design;

    /// n rows of k unit-normal features (row-major) and labels in 0..K drawn from a softmax of
    /// random weights (deterministic: the class with the largest perturbed score).
    pub(crate) fn softmax_data(
        n: usize,
        k: usize,
        classes: usize,
        seed: u64,
    ) -> (Vec<f64>, Vec<usize>) {
        let (x, noise) = random_design(n, k, seed);
        let z = x.transpose().as_slice().to_vec();
        let labels = (0..n)
            .map(|i| {
                let score = |c: usize| {
                    z[i * k..(i + 1) * k]
                        .iter()
                        .enumerate()
                        .map(|(j, v)| v * (((c * 7 + j * 3) % 5) as f64 - 2.0) * 0.6)
                        .sum::<f64>()
                        + 0.8 * noise[i] * if c % 2 == 0 { 1.0 } else { -1.0 }
                };
                (0..classes)
                    .max_by(|&a, &b| score(a).total_cmp(&score(b)))
                    .unwrap()
            })
            .collect();
        (z, labels)
    }

    /// f at θ straight from the definition: Σᵢ ln Σ_c exp(η_ic) − η_{i,yᵢ} (naively, no shift)
    /// plus the penalty.
    #[allow(clippy::too_many_arguments)]
    fn naive_objective(
        z: &[f64],
        labels: &[usize],
        k: usize,
        classes: usize,
        intercept: bool,
        theta: &DVector<f64>,
        center: &DVector<f64>,
        precision: &DVector<f64>,
    ) -> f64 {
        let m = k + usize::from(intercept);
        let mut f = 0.0;
        for (i, &y) in labels.iter().enumerate() {
            let eta: Vec<f64> = (0..classes)
                .map(|c| {
                    let mut e: f64 = (0..k).map(|j| z[i * k + j] * theta[c * m + j]).sum();
                    if intercept {
                        e += theta[c * m + k];
                    }
                    e
                })
                .collect();
            f += eta.iter().map(|e| e.exp()).sum::<f64>().ln() - eta[y];
        }
        for j in 0..theta.len() {
            f += 0.5 * precision[j] * (theta[j] - center[j]).powi(2);
        }
        f
    }

    #[test]
    fn class_targets_are_sorted_and_need_two_values() {
        let t = class_target(&[2.0, -1.0, 7.5, 2.0, -1.0], "d", "y").unwrap();
        assert_eq!(t.classes, vec![-1.0, 2.0, 7.5]);
        assert_eq!(t.labels, vec![1, 0, 2, 1, 0]);
        let e = class_target(&[3.0, 3.0], "d", "species")
            .unwrap_err()
            .to_string();
        assert!(e.contains("only 3") && e.contains("species"), "{e}");
        assert!(class_target(&[], "d", "y").is_err());
    }

    #[test]
    fn prior_arrays_follow_the_intercept_and_refuse_free() {
        let shared = DVector::from_fn(6, |i, _| i as f64);
        let p = prior_arrays(2, 2, Intercept::Shared, 0.5, &shared).unwrap();
        assert_eq!(p.center, shared);
        assert_eq!(p.precision, DVector::from_element(6, 4.0));
        let center = DVector::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let p = prior_arrays(2, 3, Intercept::Prior(10.0), 1.0, &center).unwrap();
        assert_eq!(
            p.center.as_slice(),
            &[1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 5.0, 6.0, 0.0]
        );
        assert_eq!(
            p.precision.as_slice(),
            &[1.0, 1.0, 0.01, 1.0, 1.0, 0.01, 1.0, 1.0, 0.01]
        );
        let p = prior_arrays(2, 3, Intercept::None, 2.0, &center).unwrap();
        assert_eq!(p.center, center);
        assert_eq!(p.precision, DVector::from_element(6, 0.25));
        let e = prior_arrays(2, 3, Intercept::Free, 1.0, &center).unwrap_err();
        assert!(e.to_string().contains("not identifiable"), "{e}");
        assert!(prior_arrays(2, 3, Intercept::Centered, 1.0, &center).is_err());
        let e = prior_arrays(2, 3, Intercept::Shared, 1.0, &center).unwrap_err();
        assert!(e.to_string().contains("3 classes × 3"), "{e}");
    }

    #[test]
    fn original_units_give_the_same_predictors_on_raw_rows() {
        let (k, classes, n) = (3, 4, 25);
        let (raw, labels) = softmax_data(n, k, classes, 19);
        let raw: Vec<f64> = raw
            .iter()
            .enumerate()
            .map(|(i, v)| 3.0 * v + (i % k) as f64 * 10.0)
            .collect();
        let shift = [10.0, -2.0, 7.5];
        let scale = [2.0, 0.5, 4.0];
        let inv: Vec<f64> = scale.iter().map(|s| 1.0 / s).collect();
        for intercept in [true, false] {
            let p = classes * (k + usize::from(intercept));
            let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
            let problem = SoftmaxProblem::new(
                Rows::standardized(&raw, k, &shift, &inv),
                &labels,
                classes,
                intercept,
                &center,
                &precision,
            );
            let theta = DVector::from_fn(p, |i, _| 0.3 * ((i * 5) % 7) as f64 - 0.8);
            let (weights, intercepts) = original_units(&theta, classes, intercept, &shift, &scale);
            let probabilities = problem.probabilities(&theta);
            for i in 0..n {
                let eta: Vec<f64> = (0..classes)
                    .map(|c| {
                        (0..k).map(|j| weights[c][j] * raw[i * k + j]).sum::<f64>()
                            + intercepts.as_ref().map_or(0.0, |b| b[c])
                    })
                    .collect();
                let mut p = vec![0.0; classes];
                log_sum_exp_and_probabilities(&eta, &mut p);
                for c in 0..classes {
                    let expected = probabilities[i * classes + c];
                    if intercept {
                        assert!((p[c] - expected).abs() < 1e-12, "row {i} class {c}");
                    }
                }
                if !intercept {
                    // Without an intercept the shift cannot be absorbed: the raw predictor
                    // differs by −Σ_j shift_j w_cj, so only the centred rows agree.
                    let centred: Vec<f64> = (0..classes)
                        .map(|c| {
                            (0..k)
                                .map(|j| weights[c][j] * (raw[i * k + j] - shift[j]))
                                .sum::<f64>()
                        })
                        .collect();
                    log_sum_exp_and_probabilities(&centred, &mut p);
                    for c in 0..classes {
                        assert!((p[c] - probabilities[i * classes + c]).abs() < 1e-12);
                    }
                }
            }
        }
    }

    #[test]
    fn the_hessian_diagonal_pass_matches_the_hessian() {
        for intercept in [true, false] {
            let (k, classes) = (4, 3);
            let (z, labels) = softmax_data(300, k, classes, 29);
            let p = classes * (k + usize::from(intercept));
            let center = DVector::zeros(p);
            let precision = DVector::from_fn(p, |i, _| 0.1 + 0.01 * i as f64);
            let problem = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                classes,
                intercept,
                &center,
                &precision,
            );
            let theta = DVector::from_fn(p, |i, _| 0.2 * ((i * 3) % 5) as f64 - 0.4);
            let d = problem.hessian_diagonal(&theta);
            let h = problem.hessian_at(&theta).diagonal();
            assert!((&d - &h).amax() <= 1e-12 * h.amax(), "{}", (&d - &h).amax());
        }
    }

    #[test]
    fn the_fused_problem_answers_as_the_plain_one() {
        let (k, classes) = (3, 3);
        let (z, labels) = softmax_data(40, k, classes, 23);
        let p = classes * (k + 1);
        let center = DVector::from_element(p, 0.1);
        let precision = DVector::from_element(p, 0.6);
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let fused = problem.fused();
        for t in [0.0, 0.3, -0.7] {
            let theta = DVector::from_fn(p, |i, _| t * (1.0 + (i % 3) as f64));
            assert_eq!(fused.cost(&theta), problem.cost(&theta));
            assert_eq!(fused.gradient(&theta), problem.gradient(&theta));
            // Remembered: the same bits again.
            assert_eq!(fused.cost(&theta), problem.cost(&theta));
            assert_eq!(fused.hessian(&theta), problem.hessian(&theta));
            // The one-pass candidate: the same cost, gradient and Hessian.
            let CostAndCurvature { cost, curvature } = fused.cost_and_curvature(&theta);
            let Curvature { gradient, hessian } = curvature.unwrap();
            let f = problem.cost(&theta);
            assert!((cost - f).abs() <= 1e-12 * f.abs(), "{cost} vs {f}");
            let g = problem.gradient(&theta);
            assert!((&gradient - &g).amax() <= 1e-12 * g.amax().max(1.0));
            assert_eq!(hessian, problem.hessian(&theta));
        }
    }

    #[test]
    fn log_sum_exp_is_stable_and_exact() {
        let mut p = [0.0; 3];
        let l = log_sum_exp_and_probabilities(&[1.0, 2.0, 3.0], &mut p);
        let direct = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((l - direct).abs() < 1e-15 * direct);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((p[2] - 3f64.exp() / direct.exp()).abs() < 1e-15);
        // Far beyond exp's range: L = max + ln(1 + e^{-1000} + …) = 1000 exactly.
        let l = log_sum_exp_and_probabilities(&[1000.0, -1000.0, 0.0], &mut p);
        assert_eq!(l, 1000.0);
        assert_eq!(p, [1.0, 0.0, 0.0]);
        let l = log_sum_exp_and_probabilities(&[-800.0, -800.0, -800.0], &mut p);
        assert!((l - (-800.0 + 3f64.ln())).abs() < 1e-12);
        // The diagonal weight of a near-certain class keeps its digits: p(1 − p) with
        // 1 − p = Σ others, where 1 − p rounds to 0 in floating point.
        let mut v = [0.0; 3];
        let l = log_sum_exp_and_probabilities(&[40.0, 0.0, 0.0], &mut p);
        diagonal_weights(&p, &mut v);
        let expected = 2.0 * (-40f64).exp() / (1.0 + 2.0 * (-40f64).exp()).powi(2);
        assert!(
            (v[0] - expected).abs() <= 1e-14 * expected,
            "{} vs {expected}",
            v[0]
        );
        assert!((l - (40.0 + (2.0 * (-40f64).exp()).ln_1p())).abs() < 1e-14);
    }

    #[test]
    fn objective_matches_the_naive_definition() {
        for intercept in [true, false] {
            let (k, classes) = (3, 4);
            let (z, labels) = softmax_data(50, k, classes, 3);
            let p = classes * (k + usize::from(intercept));
            let center = DVector::from_fn(p, |i, _| 0.1 * (i % 3) as f64 - 0.1);
            let precision = DVector::from_element(p, 0.8);
            let problem = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                classes,
                intercept,
                &center,
                &precision,
            );
            let theta = DVector::from_fn(p, |i, _| 0.3 * ((i * 5) % 7) as f64 - 0.9);
            let f = problem.objective(&theta);
            let naive = naive_objective(
                &z, &labels, k, classes, intercept, &theta, &center, &precision,
            );
            assert!((f - naive).abs() <= 1e-12 * naive.abs(), "{f} vs {naive}");
            let (l, _) = problem.likelihood_and_gradient(&theta);
            assert!((l + problem.penalty(&theta) - f).abs() <= 1e-12 * f.abs());
            let by_rows = problem.rows_negative_log_likelihood(&theta, 0..problem.n());
            assert!((by_rows - l).abs() <= 1e-12 * l.abs());
        }
    }

    #[test]
    fn gradient_and_hessian_blocks_match_finite_differences() {
        for intercept in [true, false] {
            let (k, classes) = (3, 3);
            let (z, labels) = softmax_data(70, k, classes, 5);
            let m = k + usize::from(intercept);
            let p = classes * m;
            let center = DVector::from_fn(p, |i, _| 0.2 * (i % 4) as f64 - 0.3);
            // The intercepts under their own prior (prior:SD), the weights under α.
            let precision =
                DVector::from_fn(p, |i, _| if intercept && i % m == k { 0.01 } else { 0.7 });
            let problem = SoftmaxProblem::new(
                Rows::design(&z, k),
                &labels,
                classes,
                intercept,
                &center,
                &precision,
            );
            let theta = DVector::from_fn(p, |i, _| 0.4 - 0.13 * i as f64);
            let g = problem.gradient_at(&theta);
            let h = problem.hessian_at(&theta);
            assert_eq!(h, h.transpose());
            let e = 1e-5;
            for j in 0..p {
                let mut up = theta.clone();
                up[j] += e;
                let mut down = theta.clone();
                down[j] -= e;
                let fd = (problem.objective(&up) - problem.objective(&down)) / (2.0 * e);
                assert!(
                    (fd - g[j]).abs() < 1e-7 * g[j].abs().max(1.0),
                    "∂f/∂θ{j}: {fd} vs {}",
                    g[j]
                );
                // Column j of H: every block (c, d) with the class d of coordinate j.
                let fd_col = (problem.gradient_at(&up) - problem.gradient_at(&down)) / (2.0 * e);
                for i in 0..p {
                    assert!(
                        (fd_col[i] - h[(i, j)]).abs() < 1e-7 * h[(i, j)].abs().max(1.0),
                        "H block ({}, {}) [{i},{j}]: {} vs {}",
                        i / m,
                        j / m,
                        fd_col[i],
                        h[(i, j)]
                    );
                }
            }
        }
    }

    #[test]
    fn fisher_information_matches_the_kronecker_definition() {
        let (k, classes, n) = (4, 5, 20_000);
        let (z, labels) = softmax_data(n, k, classes, 11);
        let m = k + 1;
        let p = classes * m;
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 0.5));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let theta = DVector::from_fn(p, |i, _| 0.05 * ((i * 7) % 11) as f64 - 0.25);
        let probabilities = problem.probabilities(&theta);
        let mut expected = DMatrix::zeros(p, p);
        for i in 0..n {
            let mut x = z[i * k..(i + 1) * k].to_vec();
            x.push(1.0);
            let x = DVector::from_vec(x);
            let xx = &x * x.transpose();
            let pi = DVector::from_row_slice(&probabilities[i * classes..(i + 1) * classes]);
            let s = DMatrix::from_diagonal(&pi) - &pi * pi.transpose();
            expected += s.kronecker(&xx);
        }
        let f = problem.fisher_information(&theta);
        assert!(
            (&f - &expected).amax() <= 1e-11 * expected.amax(),
            "{}",
            (&f - &expected).amax()
        );
        // Every row of blocks sums to zero (Σ_d block (c, d) = 0: (diag p − ppᵀ)1 = 0).
        for c in 0..classes {
            for a in 0..m {
                for b in 0..m {
                    let s: f64 = (0..classes).map(|d| f[(c * m + a, d * m + b)]).sum();
                    assert!(s.abs() <= 1e-10 * f.amax(), "{s}");
                }
            }
        }
    }

    /// ∇²ℓ from its definition Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ, one row at a time.
    fn kronecker_fisher(
        problem: &SoftmaxProblem<'_>,
        z: &[f64],
        theta: &DVector<f64>,
    ) -> DMatrix<f64> {
        let (k, classes, p) = (problem.k(), problem.classes(), problem.n_params());
        let probabilities = problem.probabilities(theta);
        let mut expected = DMatrix::zeros(p, p);
        for i in 0..problem.n() {
            let mut x = z[i * k..(i + 1) * k].to_vec();
            x.push(1.0);
            let x = DVector::from_vec(x);
            let xx = &x * x.transpose();
            let pi = DVector::from_row_slice(&probabilities[i * classes..(i + 1) * classes]);
            let s = DMatrix::from_diagonal(&pi) - &pi * pi.transpose();
            expected += s.kronecker(&xx);
        }
        expected
    }

    /// The banded symmetric Fisher kernel (m = 41 > [`FISHER_BAND`]: three bands; n = 9000 >
    /// `BLOCK_ROWS`: two row blocks of several [`FISHER_SUB_ROWS`] products) against the
    /// Kronecker definition, to 1e-12 of ‖H‖ — at moderate probabilities and at near-saturated
    /// ones (θ × 40: over a third of the p_ic below 1e-10 or above 1 − 1e-10), where a diagonal weight p(1 − p)
    /// formed as p − p² would lose its digits — and the same bits on 1, 2 and 3 threads.
    #[test]
    fn the_banded_fisher_kernel_matches_the_definition_and_the_thread_count() {
        let (k, classes, n) = (40, 4, 9000);
        let (z, labels) = softmax_data(n, k, classes, 5);
        let m = k + 1;
        assert!(m > 2 * FISHER_BAND && n > BLOCK_ROWS && n % FISHER_SUB_ROWS != 0);
        let p = classes * m;
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let base = DVector::from_fn(p, |i, _| 0.03 * ((i * 7) % 11) as f64 - 0.15);
        for scale in [1.0, 40.0] {
            let theta = &base * scale;
            let expected = kronecker_fisher(&problem, &z, &theta);
            let (_, _, one) = problem.banded_curvature_pass_with::<false>(Par::Seq, &theta);
            let error = (&one - &expected).amax();
            assert!(
                error <= 1e-12 * expected.norm(),
                "θ × {scale}: {error} vs {}",
                expected.norm()
            );
            assert_eq!(one, one.transpose(), "θ × {scale}: exactly symmetric");
            for threads in [2, 3] {
                let (_, _, many) =
                    problem.banded_curvature_pass_with::<false>(Par::threads(threads), &theta);
                assert!(
                    one.iter()
                        .zip(many.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "θ × {scale}: {threads} threads"
                );
            }
        }
        // Near saturation the diagonal weights really are extreme (the case is not vacuous).
        let saturated = problem.probabilities(&(&base * 40.0));
        let extreme = saturated
            .iter()
            .filter(|&&q| !(1e-10..=1.0 - 1e-10).contains(&q))
            .count();
        assert!(
            extreme * 3 > saturated.len(),
            "{extreme} of {}",
            saturated.len()
        );
    }

    /// The paired Fisher kernel (K = 4, m = 41: m(K − 1) ≥ [`PAIRED_FISHER_MIN_WIDTH`]; n = 9000:
    /// two row blocks, sub-blocks of 304 rows, the last one short) against the Kronecker
    /// definition to 1e-12 of ‖H‖ at a moderate θ and at 40θ (a third of the p_ic within 1e-10
    /// of 0 or 1, where p(1 − p) formed as p − p² would lose its digits), against the banded
    /// kernel, exactly symmetric, the same bits on 1, 2 and 3 threads, with the same ℓ and ∇ℓ
    /// as the banded pass (the same per-row arithmetic), and the one `fisher_information` uses
    /// on this width.
    #[test]
    fn the_paired_fisher_kernel_matches_the_definition_and_the_thread_count() {
        let (k, classes, n) = (40, 4, 9000);
        let (z, labels) = softmax_data(n, k, classes, 7);
        let m = k + 1;
        let q = m * (m + 1) / 2;
        let sub = (PAIRED_FISHER_SUB_VALUES / q).clamp(PAIRED_FISHER_MIN_ROWS, FISHER_SUB_ROWS);
        assert!(m * (classes - 1) >= PAIRED_FISHER_MIN_WIDTH && n > BLOCK_ROWS);
        assert!(
            (n - BLOCK_ROWS) % sub != 0 && BLOCK_ROWS % sub != 0,
            "{sub}"
        );
        let p = classes * m;
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let base = DVector::from_fn(p, |i, _| 0.03 * ((i * 5) % 13) as f64 - 0.18);
        for scale in [1.0, 40.0] {
            let theta = &base * scale;
            let expected = kronecker_fisher(&problem, &z, &theta);
            let (l, g, one) = problem.paired_curvature_pass_with::<true>(Par::Seq, &theta);
            let error = (&one - &expected).amax();
            assert!(
                error <= 1e-12 * expected.norm(),
                "θ × {scale}: {error} vs {}",
                expected.norm()
            );
            assert_eq!(one, one.transpose(), "θ × {scale}: exactly symmetric");
            let (l0, g0, banded) = problem.banded_curvature_pass_with::<true>(Par::Seq, &theta);
            assert!((&one - &banded).amax() <= 1e-12 * banded.norm());
            assert_eq!(l.to_bits(), l0.to_bits(), "θ × {scale}: ℓ");
            assert_eq!(bits(g.as_slice()), bits(g0.as_slice()), "θ × {scale}: ∇ℓ");
            assert_eq!(
                bits(problem.fisher_information(&theta).as_slice()),
                bits(one.as_slice())
            );
            for threads in [2, 3] {
                let (lt, gt, many) =
                    problem.paired_curvature_pass_with::<true>(Par::threads(threads), &theta);
                assert_eq!(
                    (lt.to_bits(), bits(gt.as_slice()), bits(many.as_slice())),
                    (l.to_bits(), bits(g.as_slice()), bits(one.as_slice())),
                    "θ × {scale}: {threads} threads"
                );
            }
        }
        let saturated = problem.probabilities(&(&base * 40.0));
        let extreme = saturated
            .iter()
            .filter(|&&q| !(1e-10..=1.0 - 1e-10).contains(&q))
            .count();
        assert!(
            extreme * 3 > saturated.len(),
            "{extreme} of {}",
            saturated.len()
        );
    }

    /// The fused f + ∇f kernel on a packed design (K = 4, m = 21, n = 9003: two row blocks, a last
    /// group of three rows) agrees with the two matrix products of `block_pass` to 1e-13 relative,
    /// at a moderate θ and at 40θ (a third of the probabilities beyond 1e-10 of 0 or 1), gives
    /// the same bits on 1, 2 and 3 threads, and its ℓ alone is the ℓ of its ℓ + ∇ℓ.
    #[test]
    fn the_fused_pass_matches_the_matrix_products_and_the_thread_count() {
        let (k, classes, n) = (20, 4, 9003);
        let (z, labels) = softmax_data(n, k, classes, 11);
        let m = k + 1;
        assert!(m * (classes - 1) >= FUSED_PASS_MIN_WIDTH && n > BLOCK_ROWS && n % 4 != 0);
        let p = classes * m;
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let packed = problem.packed_design();
        let fused = problem.with_packed(&packed);
        assert!(problem.fused_design().is_none() && fused.fused_design().is_some());
        let base = DVector::from_fn(p, |i, _| 0.05 * ((i * 7) % 11) as f64 - 0.25);
        for scale in [1.0, 40.0] {
            let theta = &base * scale;
            let (l0, g0) = problem.likelihood_and_gradient_with(Par::Seq, &theta);
            let (l1, g1) = fused.likelihood_and_gradient_with(Par::Seq, &theta);
            assert!(
                (l1 - l0).abs() <= 1e-13 * l0.abs(),
                "θ × {scale}: ℓ {l1} vs {l0}"
            );
            let error = (&g1 - &g0).amax();
            assert!(
                error <= 1e-13 * g0.norm(),
                "θ × {scale}: ∇ℓ off by {error} of {}",
                g0.norm()
            );
            assert_eq!(
                fused.negative_log_likelihood(&theta).to_bits(),
                l1.to_bits()
            );
            for threads in [2, 3] {
                let (l, g) = fused.likelihood_and_gradient_with(Par::threads(threads), &theta);
                assert_eq!(l.to_bits(), l1.to_bits(), "θ × {scale}: {threads} threads");
                assert!(
                    g.iter()
                        .zip(g1.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "θ × {scale}: {threads} threads"
                );
            }
        }
        let saturated = problem.probabilities(&(&base * 40.0));
        let extreme = saturated
            .iter()
            .filter(|&&q| !(1e-10..=1.0 - 1e-10).contains(&q))
            .count();
        assert!(
            extreme * 3 > saturated.len(),
            "{extreme} of {}",
            saturated.len()
        );
    }

    /// Below [`FUSED_PASS_MIN_WIDTH`] a packed design changes no bit of any pass (K = 3, m = 5).
    #[test]
    fn a_small_packed_problem_keeps_its_bits() {
        let (k, classes, n) = (4, 3, 9000);
        let (x, labels) = softmax_data(n, k, classes, 3);
        let (shift, inv_scale) = (vec![0.1, -0.2, 0.3, 0.0], vec![1.5, 0.7, 1.0, 2.0]);
        let p = classes * (k + 1);
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::standardized(&x, k, &shift, &inv_scale),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        let packed = problem.packed_design();
        let fused = problem.with_packed(&packed);
        assert!(fused.fused_design().is_none());
        let theta = DVector::from_fn(p, |i, _| 0.3 * ((i * 5) % 7) as f64 - 0.9);
        let bits = |v: &DVector<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let (l0, g0) = problem.likelihood_and_gradient(&theta);
        let (l1, g1) = fused.likelihood_and_gradient(&theta);
        assert_eq!((l0.to_bits(), bits(&g0)), (l1.to_bits(), bits(&g1)));
        assert_eq!(
            bits(&problem.hessian_diagonal(&theta)),
            bits(&fused.hessian_diagonal(&theta))
        );
        let (h0, h1) = (problem.hessian_at(&theta), fused.hessian_at(&theta));
        assert!(h0
            .iter()
            .zip(h1.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    /// On iris (K = 3, m = 5: one band) the kernel agrees with the Kronecker definition to 1e-12
    /// of ‖H‖, at θ = 0 and at a θ with unequal probabilities.
    #[test]
    fn the_fisher_kernel_matches_the_definition_on_iris() {
        let iris = crate::data::load("iris", &crate::data::ColumnSelection::default()).unwrap();
        let (n, k) = (iris.n(), iris.k());
        let mut z = Vec::with_capacity(n * k);
        for i in 0..n {
            z.extend_from_slice(iris.row(i));
        }
        let labels: Vec<usize> = iris.y.iter().map(|&c| c as usize).collect();
        let classes = 3;
        let p = classes * (k + 1);
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = SoftmaxProblem::new(
            Rows::design(&z, k),
            &labels,
            classes,
            true,
            &center,
            &precision,
        );
        for theta in [
            DVector::zeros(p),
            DVector::from_fn(p, |i, _| 0.4 * ((i * 5) % 7) as f64 - 1.2),
        ] {
            let expected = kronecker_fisher(&problem, &z, &theta);
            let f = problem.fisher_information(&theta);
            let error = (&f - &expected).amax();
            assert!(
                error <= 1e-12 * expected.norm(),
                "{error} vs {}",
                expected.norm()
            );
        }
    }
}
