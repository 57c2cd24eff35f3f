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
pub mod softmax;

use crate::error::{Message, Setting};
use crate::random::Stream;
use nalgebra::{DMatrix, DVector};
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
    /// Which MML87 form `two_part` used (`null` where `two_part` is).
    pub two_part_form: Option<MmlForm>,
}

/// Which code length ranks a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// −log₂ evidence.
    Mixture,
    /// Prequential.
    Prequential,
    /// MML87.
    #[cfg_attr(feature = "cli", value(name = "two_part", alias = "two-part"))]
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
                        Setting::Codes,
                        format!("unknown code '{other}'; use all, none, or a list of mixture, prequential, two_part, bic"),
                    ))
                }
            }
        }
        Ok(selection)
    }

    /// The note for a code that was not requested.
    pub fn skipped(name: &str) -> Message {
        crate::message![
            format!("{name}: not computed (not requested with "),
            Setting::Codes,
            ")"
        ]
    }
}

/// A code length computed only when `selected`: `None` with the reason in `notes` when it is not
/// requested or undefined for the case.
pub fn optional_code(
    selected: bool,
    name: &str,
    notes: &mut Vec<Message>,
    compute: impl FnOnce() -> std::result::Result<f64, Message>,
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

/// Which form of MML87 a two_part length used (math.md §5).
///
/// MML87 quantises the estimate on a lattice whose cells follow F⁻¹ and charges the prior's
/// density at the estimate for the cell, which assumes the prior is flat across the cell. Where
/// the prior is more curved than the data (some direction with Fisher information below the prior
/// precision) the cell is wider than the prior and the plain form can fall far below the mixture
/// code, which no decodable code can. There the prior's curvature is added: cells follow
/// (F + Λ)⁻¹, the posterior's own width, and for the linear-Gaussian model
/// two_part − mixture = (P/2)(1 + ln 2πκ_P) ≥ 0 exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MmlForm {
    /// ½ ln|F|: F − Λ is positive semi-definite, every direction at least as curved by the data
    /// as by the prior.
    Fisher,
    /// ½ ln|F + Λ|: F − Λ has a negative eigenvalue, some direction is curved more by the prior.
    FisherPlusPrior,
}

impl MmlForm {
    /// The JSON and CSV name (`fisher` or `fisher_plus_prior`).
    pub fn key(self) -> &'static str {
        match self {
            MmlForm::Fisher => "fisher",
            MmlForm::FisherPlusPrior => "fisher_plus_prior",
        }
    }

    /// The form's name in notes and tables (`F` or `F + Λ`).
    pub fn label(self) -> &'static str {
        match self {
            MmlForm::Fisher => "F",
            MmlForm::FisherPlusPrior => "F + Λ",
        }
    }
}

/// An MML87 two-part length in nats, without charges, and the form that gave it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoPartCode {
    /// The length in nats.
    pub nats: f64,
    /// Which curvature quantised the estimate.
    pub form: MmlForm,
    /// Directions in which the data curve less than the prior (negative eigenvalues of F − Λ).
    pub weak_directions: usize,
    /// P, the number of parameters.
    pub parameters: usize,
}

impl TwoPartCode {
    /// The note saying why the prior's curvature was added (`None` for the plain form).
    pub fn note(&self) -> Option<String> {
        (self.form == MmlForm::FisherPlusPrior).then(|| {
            format!(
                "two_part: MML87 with the prior's curvature added (F + Λ in place of F): {} of {} directions of F are less curved than the prior precision, where plain MML87 — which assumes the prior is flat across the estimate's uncertainty — would understate the length, even below the mixture code",
                self.weak_directions, self.parameters
            )
        })
    }
}

/// MML87 (math.md §5) in nats: `negative_log_joint` (−ln π(θ̂) − ln p(y | θ̂)) + ½ ln|C| +
/// (P/2)(1 + ln κ_P), with C = F where F − Λ is positive semi-definite and C = F + Λ where it is
/// not (see [`MmlForm`]); Λ = diag(`prior_precision`).
///
/// The switching rule: the plain form is used exactly when every eigenvalue of F − Λ is ≥ 0 (for
/// an isotropic prior αI: every eigenvalue of F is ≥ α). On that side ½ ln(|F + Λ|/|F|) ≤ (P/2) ln 2,
/// so two_part ≥ mixture + (P/2)(1 + ln πκ_P) whenever the mixture code is the Laplace one with
/// curvature F + Λ ([`two_part_floor_nats`]).
///
/// `Err(singular())` where F is singular (relative eigenvalue ≤ 1e-12, or NaN): MML87 quantises
/// every parameter at the precision the data give it, and a direction the data do not determine
/// has none (math.md §5: null with the reason).
pub fn mml87_nats(
    negative_log_joint: f64,
    fisher: &DMatrix<f64>,
    prior_precision: &DVector<f64>,
    singular: impl FnOnce() -> String,
) -> std::result::Result<TwoPartCode, String> {
    let eigenvalues = fisher.clone().symmetric_eigenvalues();
    if let Some(&alpha) = prior_precision
        .get(0)
        .filter(|a| prior_precision.iter().all(|b| b == *a))
    {
        return mml87_isotropic_nats(negative_log_joint, &eigenvalues, alpha, singular);
    }
    check_nonsingular(&eigenvalues, singular)?;
    let lambda = DMatrix::from_diagonal(prior_precision);
    let weak_directions = (fisher - &lambda)
        .symmetric_eigenvalues()
        .iter()
        .filter(|l| **l < 0.0)
        .count();
    let half_log_det = if weak_directions > 0 {
        // F + Λ ⪰ F ≻ 0, so the Cholesky factorisation exists.
        (fisher + &lambda)
            .cholesky()
            .map_or(f64::NAN, |c| c.l().diagonal().iter().map(|d| d.ln()).sum())
    } else {
        0.5 * eigenvalues.iter().map(|l| l.ln()).sum::<f64>()
    };
    Ok(two_part_code(
        negative_log_joint,
        half_log_det,
        weak_directions,
        fisher.nrows(),
    ))
}

/// [`mml87_nats`] for an isotropic prior precision αI, from the eigenvalues λᵢ of F: F − αI has
/// eigenvalues λᵢ − α and |F + αI| = Π(λᵢ + α), so one eigendecomposition serves both forms.
pub fn mml87_isotropic_nats(
    negative_log_joint: f64,
    fisher_eigenvalues: &DVector<f64>,
    alpha: f64,
    singular: impl FnOnce() -> String,
) -> std::result::Result<TwoPartCode, String> {
    check_nonsingular(fisher_eigenvalues, singular)?;
    let weak_directions = fisher_eigenvalues.iter().filter(|l| **l < alpha).count();
    let shift = if weak_directions > 0 { alpha } else { 0.0 };
    let half_log_det = 0.5
        * fisher_eigenvalues
            .iter()
            .map(|l| (l + shift).ln())
            .sum::<f64>();
    Ok(two_part_code(
        negative_log_joint,
        half_log_det,
        weak_directions,
        fisher_eigenvalues.len(),
    ))
}

/// `Err(singular())` unless every eigenvalue exceeds 1e-12 of the largest (NaN counts as singular).
fn check_nonsingular(
    eigenvalues: &DVector<f64>,
    singular: impl FnOnce() -> String,
) -> std::result::Result<(), String> {
    let largest = eigenvalues.iter().cloned().fold(0.0, f64::max);
    if eigenvalues.iter().all(|l| *l > 1e-12 * largest) {
        Ok(())
    } else {
        Err(singular())
    }
}

fn two_part_code(
    negative_log_joint: f64,
    half_log_det: f64,
    weak_directions: usize,
    parameters: usize,
) -> TwoPartCode {
    TwoPartCode {
        nats: negative_log_joint + half_log_det + lattice_term(parameters).0,
        form: if weak_directions > 0 {
            MmlForm::FisherPlusPrior
        } else {
            MmlForm::Fisher
        },
        weak_directions,
        parameters,
    }
}

/// The least two_part − mixture can be, in nats, under [`mml87_nats`]'s switching rule when the
/// mixture code is the (exact or Laplace) one with curvature F + Λ: (P/2)(1 + ln πκ_P), between
/// −(P/2) ln 2 and 0 — the lattice's bound. With the prior's curvature added the difference is
/// (P/2)(1 + ln 2πκ_P) ≥ 0; in the plain form it is that minus ½ ln|I + F⁻¹Λ| ≥ −(P/2) ln 2.
///
/// ```
/// let floor = occam::codelength::two_part_floor_nats(3);
/// assert!(floor < 0.0 && floor > -1.5 * std::f64::consts::LN_2);
/// ```
pub fn two_part_floor_nats(p: usize) -> f64 {
    // (P/2)(1 + ln κ_P) + (P/2) ln π.
    lattice_term(p).0 + 0.5 * p as f64 * PI.ln()
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
    fn mml_form_keys_are_the_json_names() {
        for form in [MmlForm::Fisher, MmlForm::FisherPlusPrior] {
            assert_eq!(serde_json::to_value(form).unwrap(), form.key());
        }
    }

    #[test]
    fn mml87_switches_to_the_prior_curvature_exactly_below_the_prior_precision() {
        // F = diag(4, 9) against α = 5: one weak direction; against α = 4: none (F − αI ⪰ 0).
        let fisher = DMatrix::from_diagonal(&DVector::from_vec(vec![4.0, 9.0]));
        let never = || unreachable!("F is not singular");
        let code = mml87_nats(1.0, &fisher, &DVector::from_element(2, 5.0), never).unwrap();
        assert_eq!(
            (code.form, code.weak_directions),
            (MmlForm::FisherPlusPrior, 1)
        );
        let expected = 1.0 + 0.5 * (9.0f64 * 14.0).ln() + lattice_term(2).0;
        assert!((code.nats - expected).abs() < 1e-12);
        let code = mml87_nats(1.0, &fisher, &DVector::from_element(2, 4.0), never).unwrap();
        assert_eq!(code.form, MmlForm::Fisher);
        assert!((code.nats - (1.0 + 0.5 * 36f64.ln() + lattice_term(2).0)).abs() < 1e-12);
        // A non-isotropic Λ (a free intercept: precision 0) takes the general route.
        let code = mml87_nats(1.0, &fisher, &DVector::from_vec(vec![0.0, 10.0]), never).unwrap();
        assert_eq!(
            (code.form, code.weak_directions),
            (MmlForm::FisherPlusPrior, 1)
        );
        assert!((code.nats - (1.0 + 0.5 * (4.0f64 * 19.0).ln() + lattice_term(2).0)).abs() < 1e-12);
        // A singular F is null with the caller's reason.
        let singular = DMatrix::from_diagonal(&DVector::from_vec(vec![0.0, 9.0]));
        let reason = mml87_nats(1.0, &singular, &DVector::from_element(2, 1.0), || {
            "why".into()
        });
        assert_eq!(reason.unwrap_err(), "why");
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
