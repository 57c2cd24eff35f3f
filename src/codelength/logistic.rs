//! Code lengths of logistic regression (and any model fitted by [`crate::inference::find_mode`]).
//!
//! * mixture — from the Laplace evidence, so approximate (labelled so in outputs);
//! * prequential — doubling blocks: the first block coded with the parameters at the prior centre
//!   μ, every later block with the MAP fitted on all rows before it (s refitted on that prefix when
//!   `auto`) — a code the receiver can decode block by block;
//! * two_part — MML87 with F = X̃ᵀSX̃, the Fisher information at the MAP (F + Λ where the prior
//!   is more curved than the data in some direction);
//! * bic — −log₂ p(y | θ̂_ML) + (P/2) log₂ n, null where the ML estimate does not exist.

use super::{bits, mml87_nats, TwoPartCode};
use crate::inference::laplace::MODE_TOLERANCE;
use crate::inference::Mode;
use crate::model::logistic::LogisticProblem;
use nalgebra::DVector;

/// One block of a prequential code.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// First row (visiting order).
    pub start: usize,
    /// One past the last row.
    pub end: usize,
    /// Bits for the block.
    pub bits: f64,
    /// Whether the fit on the prefix failed, so the previous block's parameters were reused.
    pub refit_failed: bool,
}

/// Fits the model on the first m rows, warm-started from the given parameters; `None` if it fails.
pub type PrefixFit<'a> = dyn Fn(usize, &DVector<f64>) -> Option<DVector<f64>> + 'a;

/// The prequential code of `problem`'s rows (already in visiting order) in the blocks given by
/// `boundaries`. `fit_prefix(m, warm)` returns the parameters fitted on the first m rows; block 0
/// is coded at `center`. A failed prefix fit keeps the previous parameters (deterministic, so the
/// receiver does the same).
pub fn prequential_blocks(
    problem: &LogisticProblem,
    boundaries: &[usize],
    center: &DVector<f64>,
    fit_prefix: &PrefixFit,
) -> Vec<Block> {
    prequential_blocks_of(
        &|theta, rows| problem.rows_negative_log_likelihood(theta, rows),
        boundaries,
        center,
        fit_prefix,
    )
}

/// [`prequential_blocks`] for any model: `rows_nll(θ, rows)` is −ln p of the rows `rows` (in
/// visiting order) at θ.
pub fn prequential_blocks_of(
    rows_nll: &dyn Fn(&DVector<f64>, std::ops::Range<usize>) -> f64,
    boundaries: &[usize],
    center: &DVector<f64>,
    fit_prefix: &PrefixFit,
) -> Vec<Block> {
    let mut theta = center.clone();
    let mut blocks = Vec::with_capacity(boundaries.len().saturating_sub(1));
    for (j, pair) in boundaries.windows(2).enumerate() {
        let (start, end) = (pair[0], pair[1]);
        let mut refit_failed = false;
        if j > 0 {
            match fit_prefix(start, &theta) {
                Some(fitted) => theta = fitted,
                None => refit_failed = true,
            }
        }
        let nats = rows_nll(&theta, start..end);
        blocks.push(Block {
            start,
            end,
            bits: bits(nats),
            refit_failed,
        });
    }
    blocks
}

/// MML87 in nats ([`mml87_nats`]): −ln π(θ̂) − ln p(y | θ̂) + ½ ln|C| + (P/2)(1 + ln κ_P), with
/// F = X̃ᵀSX̃ at θ̂ and C = F, or F + Λ where the prior is more curved than the data in some direction.
/// `Err` gives the reason when F is singular (n < P, or separable classes where S → 0).
pub fn two_part_nats(
    problem: &LogisticProblem,
    mode: &Mode,
    log_likelihood: f64,
    log_prior: f64,
) -> std::result::Result<TwoPartCode, String> {
    let fisher = problem.fisher_information(&mode.params);
    let singular = || {
        "two_part is undefined: the Fisher information X̃ᵀSX̃ is singular (n < P, collinear features, or classes separated so that p(1 − p) → 0)".to_string()
    };
    if problem.n() < fisher.nrows() {
        return Err(singular());
    }
    let code = mml87_nats(
        -log_prior - log_likelihood,
        &fisher,
        problem.precision(),
        singular,
    )?;
    if code.nats < 0.0 {
        // A code for discrete labels cannot be shorter than nothing.
        return Err(negative_length(&code));
    }
    Ok(code)
}

/// Why a two_part length for discrete labels is reported as null: it came out negative.
pub fn negative_length(code: &TwoPartCode) -> String {
    format!(
        "two_part is undefined here: MML87 ({} form, {} of {} directions of F less curved than the prior) gave a negative length, which no code for discrete labels can have",
        code.form.label(),
        code.weak_directions,
        code.parameters
    )
}

/// BIC in bits from the maximum-likelihood fit (flat prior); `Err` with the reason where the ML
/// estimate does not exist.
///
/// The ML fit is damped Newton from the MAP `start`. If any iterate separates the classes strictly,
/// the data are linearly separable and no ML estimate exists (the likelihood rises without bound
/// along that direction); if Newton does not converge, the classes are quasi-separated or the
/// features collinear, and again there is no unique finite estimate.
pub fn bic_bits(flat: &LogisticProblem, start: &DVector<f64>) -> std::result::Result<f64, String> {
    let (n, p) = (flat.n(), flat.n_params());
    if n <= p {
        return Err(format!("bic is undefined: n = {n} ≤ P = {p}, so the maximum-likelihood estimate is not determined"));
    }
    let separable = || {
        "bic is undefined: the classes are linearly separable, so the likelihood rises without bound as ‖w‖ → ∞ and no maximum-likelihood estimate exists".to_string()
    };
    let tolerance = MODE_TOLERANCE * flat.gradient_scale();
    let mut theta = start.clone();
    let mut cost = flat.negative_log_likelihood(&theta);
    for _ in 0..200 {
        if flat.separates(&theta) {
            return Err(separable());
        }
        let gradient = flat.gradient_at(&theta);
        if gradient.norm() <= tolerance {
            return Ok(bits(cost) + 0.5 * p as f64 * (n as f64).log2());
        }
        let Some(cholesky) = flat.hessian_at(&theta).cholesky() else {
            break;
        };
        let step = cholesky.solve(&gradient);
        let decrement = gradient.dot(&step);
        let mut t = 1.0;
        loop {
            let candidate = &theta - &step * t;
            let candidate_cost = flat.negative_log_likelihood(&candidate);
            if candidate_cost <= cost - 1e-4 * t * decrement
                || (decrement <= 1e-13 * cost.max(1.0) && t == 1.0)
            {
                theta = candidate;
                cost = candidate_cost;
                break;
            }
            t *= 0.5;
            if t < 1e-12 {
                return Err("bic is undefined: the maximum-likelihood fit stalled (the classes are probably quasi-separated)".into());
            }
        }
    }
    if flat.separates(&theta) {
        return Err(separable());
    }
    Err("bic is undefined: no finite maximum-likelihood estimate (Newton without a prior did not converge: the classes are quasi-separated or the features collinear)".into())
}
