//! Code lengths in bits (math.md §5): how many bits it takes to send y given X under a model and a
//! prior — the MDL reading of the evidence.
//!
//! * **mixture** — −log₂ p(y | X), the Bayes code.
//! * **prequential** — Σₜ −log₂ p(yₜ | xₜ, D₍<t₎), predicting each row from the rows before it.
//! * **two_part** — MML87 (Wallace–Freeman): a quantised estimate, then the data given it.
//! * **bic** — −log₂ p(y | ŵ_ML) + (P/2) log₂ n, a prior-free reference.
//!
//! Every printed code is one a receiver could decode. A hyperparameter fitted on the coded rows is
//! not free: it is sent first, at ½ log₂ n bits per real number (the precision 1/√n at which an
//! estimate from n rows is determined), and the same for a prior centre derived from those rows.
//! Continuous targets are coded at unit precision: a precision ε adds n·log₂(1/ε) bits to every
//! model alike, so differences between priors do not depend on it.

pub mod linear;
pub mod logistic;

use crate::random::Stream;
use serde::Serialize;
use std::f64::consts::{LN_2, PI};

/// The four code lengths, in bits; `None` where undefined for the case (the reason goes in notes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CodeLengths {
    /// −log₂ evidence (+ hyperparameter charges).
    pub mixture: Option<f64>,
    /// Prequential (+ charges for what codes the first block).
    pub prequential: Option<f64>,
    /// MML87 (+ hyperparameter charges).
    pub two_part: Option<f64>,
    /// BIC.
    pub bic: Option<f64>,
}

/// Which code length ranks a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// −log₂ evidence.
    Mixture,
    /// Prequential.
    Prequential,
    /// MML87.
    #[value(name = "two_part", alias = "two-part")]
    TwoPart,
    /// BIC.
    Bic,
}

impl CodeKind {
    /// This kind's value in `lengths`.
    pub fn of(self, lengths: &CodeLengths) -> Option<f64> {
        match self {
            CodeKind::Mixture => lengths.mixture,
            CodeKind::Prequential => lengths.prequential,
            CodeKind::TwoPart => lengths.two_part,
            CodeKind::Bic => lengths.bic,
        }
    }

    /// The JSON key.
    pub fn name(self) -> &'static str {
        match self {
            CodeKind::Mixture => "mixture",
            CodeKind::Prequential => "prequential",
            CodeKind::TwoPart => "two_part",
            CodeKind::Bic => "bic",
        }
    }
}

/// Which code lengths to compute besides the mixture code (which comes free with the evidence).
/// The prequential and BIC codes refit the model, which for iterative models costs several fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSelection {
    /// The prequential code.
    pub prequential: bool,
    /// The MML87 two-part code.
    pub two_part: bool,
    /// BIC.
    pub bic: bool,
}

impl Default for CodeSelection {
    fn default() -> Self {
        CodeSelection {
            prequential: true,
            two_part: true,
            bic: true,
        }
    }
}

impl CodeSelection {
    /// The mixture code alone (`--codes none`): no prequential, two-part or BIC code.
    pub const MIXTURE_ONLY: CodeSelection = CodeSelection {
        prequential: false,
        two_part: false,
        bic: false,
    };

    /// Parses `--codes all|none|mixture,prequential,two_part,bic`.
    ///
    /// ```
    /// use occam::codelength::CodeSelection;
    /// let only = CodeSelection::parse("mixture,bic").unwrap();
    /// assert!(only.bic && !only.prequential && !only.two_part);
    /// assert_eq!(CodeSelection::parse("all").unwrap(), CodeSelection::default());
    /// assert_eq!(CodeSelection::parse("none").unwrap(), CodeSelection::MIXTURE_ONLY);
    /// ```
    pub fn parse(text: &str) -> crate::error::Result<Self> {
        let mut selection = CodeSelection::MIXTURE_ONLY;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => selection = CodeSelection::default(),
                "none" | "mixture" => {}
                "prequential" => selection.prequential = true,
                "two_part" | "two-part" => selection.two_part = true,
                "bic" => selection.bic = true,
                other => {
                    return Err(crate::error::OccamError::invalid(
                        "--codes",
                        format!("unknown code '{other}'; use all, none, or a list of mixture, prequential, two_part, bic"),
                    ))
                }
            }
        }
        Ok(selection)
    }

    /// The note for a code that was not requested.
    pub fn skipped(name: &str) -> String {
        format!("{name}: not computed (not requested with --codes)")
    }
}

/// A code length computed only when `selected`: `None` with the reason in `notes` when it is not
/// requested or undefined for the case.
pub fn optional_code(
    selected: bool,
    name: &str,
    notes: &mut Vec<String>,
    compute: impl FnOnce() -> std::result::Result<f64, String>,
) -> Option<f64> {
    if !selected {
        notes.push(CodeSelection::skipped(name));
        return None;
    }
    match compute() {
        Ok(bits) => Some(bits),
        Err(reason) => {
            notes.push(reason);
            None
        }
    }
}

/// Nats to bits.
pub fn bits(nats: f64) -> f64 {
    nats / LN_2
}

/// The charge for sending `count` real numbers estimated from `n` rows: `count`·½ log₂ n bits.
///
/// ```
/// assert_eq!(occam::codelength::estimate_charge_bits(2, 1024), 10.0);
/// ```
pub fn estimate_charge_bits(count: usize, n: usize) -> f64 {
    count as f64 * 0.5 * (n.max(1) as f64).log2()
}

/// Conway & Sloane's normalised second moments κ₁…κ₈ of the best known lattice quantisers.
pub const KAPPA: [f64; 8] = [
    1.0 / 12.0,
    0.080188,
    0.078543,
    0.076603,
    0.075625,
    0.074244,
    0.073116,
    0.071682,
];

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// MML87's quantisation term (P/2)(1 + ln κ_P) in nats, and whether κ_P was tabulated.
///
/// For P ≤ 8 the tabulated κ_P; above, Wallace's approximation
/// (P/2)(1 + ln κ_P) ≈ −(P/2) ln 2π + ½ ln(Pπ) − γ_Euler, which follows κ_P → 1/(2πe) and lies
/// within 0.25 nats of the tabulated κ₁₂, κ₁₆ and κ₂₄ (checked in the tests).
///
/// ```
/// let (nats, tabulated) = occam::codelength::lattice_term(1);
/// assert!(tabulated && (nats - 0.5 * (1.0 + (1.0f64 / 12.0).ln())).abs() < 1e-15);
/// ```
pub fn lattice_term(p: usize) -> (f64, bool) {
    match p {
        0 => (0.0, true),
        1..=8 => (0.5 * p as f64 * (1.0 + KAPPA[p - 1].ln()), true),
        _ => {
            let p = p as f64;
            (
                -0.5 * p * (2.0 * PI).ln() + 0.5 * (p * PI).ln() - EULER_GAMMA,
                false,
            )
        }
    }
}

/// The order in which the prequential code visits the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    /// The file's order.
    AsGiven,
    /// A permutation fixed by the seed (`--shuffle SEED`).
    Shuffled(u64),
}

impl RowOrder {
    /// The visiting order of `n` rows: a value-stable Fisher–Yates shuffle driven by ChaCha20
    /// seeded with the seed (index j drawn as u mod (i + 1), u a 64-bit output; the modulo bias,
    /// below 2⁻⁴⁰ for any realistic n, does not matter for an ordering).
    pub fn permutation(self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        if let RowOrder::Shuffled(seed) = self {
            let mut stream = Stream::from_seed(seed);
            for i in (1..n).rev() {
                let j = (stream.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
        }
        order
    }

    /// A description for notes.
    pub fn describe(self) -> String {
        match self {
            RowOrder::AsGiven => "rows in file order".into(),
            RowOrder::Shuffled(seed) => format!("rows shuffled with seed {seed}"),
        }
    }
}

/// Doubling block boundaries 0, b₀, 2b₀, 4b₀, …, n.
pub fn doubling_boundaries(n: usize, first_block: usize) -> Vec<usize> {
    let mut boundaries = vec![0];
    let mut next = first_block.max(1);
    while next < n {
        boundaries.push(next);
        next = next.saturating_mul(2);
    }
    boundaries.push(n);
    boundaries
}

/// Rows and labels in visiting order (a copy only when shuffled).
pub fn reorder(z: &[f64], y: &[f64], k: usize, order: RowOrder) -> (Vec<f64>, Vec<f64>) {
    let permutation = order.permutation(y.len());
    (
        permutation
            .iter()
            .flat_map(|&i| z[i * k..(i + 1) * k].iter().copied())
            .collect(),
        permutation.iter().map(|&i| y[i]).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallace_approximation_is_close_to_the_tabulated_lattices() {
        for (p, kappa) in [(12, 0.0701), (16, 0.0683), (24, 0.0658)] {
            let tabulated = 0.5 * p as f64 * (1.0 + f64::ln(kappa));
            let (approx, from_table) = lattice_term(p);
            assert!(!from_table);
            assert!(
                (approx - tabulated).abs() < 0.25,
                "P = {p}: {approx} vs {tabulated}"
            );
        }
        // And it tends to the limit κ → 1/(2πe): per dimension, (1 + ln κ)/2 → −ln(2π)/2.
        let (big, _) = lattice_term(100_000);
        assert!((big / 100_000.0 + 0.5 * (2.0 * PI).ln()).abs() < 1e-4);
    }

    #[test]
    fn shuffles_are_permutations_and_value_stable() {
        let p = RowOrder::Shuffled(7).permutation(10);
        let mut sorted = p.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_eq!(p, RowOrder::Shuffled(7).permutation(10));
        assert_ne!(p, RowOrder::Shuffled(8).permutation(10));
        assert_eq!(RowOrder::AsGiven.permutation(3), vec![0, 1, 2]);
    }
}
