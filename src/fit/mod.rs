//! Fitting: one data set, any number of priors.
//!
//! A *study* does the data-side work once (standardisation, sufficient statistics or the design,
//! eigendecompositions); [`Study::evaluate`] then scores one prior (centre, s, σ): empirical Bayes
//! where asked, the evidence, γ and the four code lengths. `occam fit` evaluates one prior and adds
//! its posterior; `occam compare` evaluates many.

mod center;
pub mod dispatch;
mod glm;
pub mod grouped;
pub mod grouped_logistic;
pub mod kind;
pub mod linear;
pub mod logistic;
pub mod mlp;
pub mod options;
pub mod prefix_sd;
pub mod softmax;
#[cfg(test)]
mod unchecked_tests;

pub use center::ResolvedCenter;
pub use dispatch::ModelFit;
pub use grouped::{fit_grouped_linear, GroupOutcome, GroupedLinearFit};
pub use kind::ModelKind;
pub use linear::{
    fit_linear, fit_linear_shards, fit_linear_unchecked, LinearFit, LinearStudy, OptimizerCheck,
};
pub use logistic::{fit_logistic, LogisticFit, LogisticStudy};
pub use mlp::{fit_mlp, HessianKind, MlpFit, MlpOptions, MlpStudy, Subset};
pub use options::{CheckedOptions, FitOptions, OptionsProblem};
pub use softmax::{fit_softmax, is_multiclass, SoftmaxFit, SoftmaxStudy};

use crate::codelength::{estimate_charge_bits, CodeLengths};
use crate::data::DataView;
use crate::error::{Message, Result, Setting};
use crate::linalg::map_row_blocks;
use crate::message;
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;
use std::collections::HashSet;

/// How the evidence was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceMethod {
    /// Closed form (linear-Gaussian).
    Exact,
    /// Laplace's approximation with the exact Hessian.
    LaplaceHessian,
    /// Laplace's approximation with the generalised Gauss–Newton matrix.
    LaplaceGgn,
    /// Laplace's approximation with the Kronecker-factored GGN (math.md §9).
    LaplaceKfac,
    /// Laplace's approximation with the GGN's diagonal (math.md §9).
    LaplaceDiag,
    /// Laplace's approximation over the output layer only, the earlier layers fixed at the MAP:
    /// the evidence of a GLM on the network's learned features (math.md §9).
    LaplaceLastLayer,
}

impl EvidenceMethod {
    /// The name printed in outputs (cli.md: exact|laplace-ggn|laplace-hessian|laplace-kfac|
    /// laplace-diag|laplace-last-layer).
    pub fn name(self) -> &'static str {
        match self {
            EvidenceMethod::Exact => "exact",
            EvidenceMethod::LaplaceHessian => "laplace-hessian",
            EvidenceMethod::LaplaceGgn => "laplace-ggn",
            EvidenceMethod::LaplaceKfac => "laplace-kfac",
            EvidenceMethod::LaplaceDiag => "laplace-diag",
            EvidenceMethod::LaplaceLastLayer => "laplace-last-layer",
        }
    }
}

/// One prior scored on the data, whatever the model.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorEvaluation {
    /// The centre as specified.
    pub center_spec: CenterSpec,
    /// The centre.
    pub center: ResolvedCenter,
    /// s as requested.
    pub prior_sd_spec: SdSpec,
    /// σ as requested (regression).
    pub noise_sd_spec: SdSpec,
    /// s used: fixed or fitted.
    pub prior_sd: f64,
    /// σ used (regression only).
    pub noise_sd: Option<f64>,
    /// The parameters at the mode (the posterior mean for the linear model).
    pub mode: DVector<f64>,
    /// ln p(y | X, prior) in nats.
    pub log_evidence: f64,
    /// How it was computed.
    pub evidence_method: EvidenceMethod,
    /// γ, the effective number of parameters.
    pub effective_parameters: f64,
    /// ‖mode − μ‖ over the parameters under the prior.
    pub distance_from_center: f64,
    /// Iterations of the empirical-Bayes search (0 when nothing was fitted).
    pub empirical_bayes_iterations: usize,
    /// The four code lengths in bits, charges included.
    pub code_lengths: CodeLengths,
    /// Bits added to mixture, prequential and two_part for reals estimated from the coded rows.
    pub charge_bits: f64,
    /// Reasons for null code lengths and other remarks.
    pub notes: Vec<Message>,
    /// ln of the number of equivalent parameter settings (hidden-unit symmetries), included in
    /// `log_evidence`; 0 without hidden units.
    pub symmetry_log_nats: f64,
    /// Model-specific diagnostics (saturation for networks), when there are any.
    pub diagnostics: Option<serde_json::Value>,
}

impl PriorEvaluation {
    /// γ as printed: `None` outside [0, P] (P = the number of parameters), where it counts
    /// nothing — e.g. an exact Hessian whose curvature is far below the prior precision in some
    /// direction makes P − α·tr(H⁻¹) negative. The fit's notes give the reason.
    pub fn printed_effective_parameters(&self) -> Option<f64> {
        let p = self.mode.len() as f64;
        let slack = 1e-9 * p.max(1.0);
        (self.effective_parameters >= -slack && self.effective_parameters <= p + slack)
            .then_some(self.effective_parameters)
    }
}

impl PriorEvaluation {
    /// Charges `reals` real numbers estimated from the `n` coded rows that this evaluation used
    /// as given (½ log₂ n bits each, added to mixture, prequential and two_part, as for an `auto`
    /// value), says so in the notes, and returns the bits added.
    pub fn charge_estimates(&mut self, reals: usize, n: usize, what: &str) -> f64 {
        let bits = estimate_charge_bits(reals, n);
        let codes = &mut self.code_lengths;
        for value in [
            &mut codes.mixture,
            &mut codes.prequential,
            &mut codes.two_part,
        ]
        .into_iter()
        .flatten()
        {
            *value += bits;
        }
        self.charge_bits += bits;
        self.notes.push(format!(
            "not free — {what}: {reals} real number(s) estimated from the coded rows, sent first at ½ log₂ n bits each ({bits:.4} bits), added to mixture, prequential and two_part"
        ).into());
        bits
    }
}

/// What a study says about its data.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyInfo {
    /// The model.
    pub kind: ModelKind,
    /// A path or `builtin:NAME`.
    pub source: String,
    /// Rows.
    pub n: usize,
    /// Feature names.
    pub feature_names: Vec<String>,
    /// Target name.
    pub target_name: String,
    /// The options the study was built with.
    pub options: FitOptions,
    /// The target values mapped to 0 and 1 (classification).
    pub target_mapping: Option<(f64, f64)>,
    /// The text labels of a target read as labels, label c coded c (sorted); empty otherwise.
    pub target_labels: Vec<String>,
    /// The K ≥ 3 class names of a multinomial model, class c first-to-last (sorted); `None` for
    /// the other models.
    pub classes: Option<Vec<String>>,
}

/// The class labels in the order of the model's outputs (`model.classes`): the text labels of a
/// target read as text, else the two numbers mapped to 0 and 1.
pub fn class_labels(info: &StudyInfo) -> Option<Vec<String>> {
    if let Some(classes) = &info.classes {
        return Some(classes.clone());
    }
    let (zero, one) = info.target_mapping?;
    Some(
        [zero, one]
            .iter()
            .map(|&code| {
                info.target_labels
                    .get(code as usize)
                    .cloned()
                    .unwrap_or_else(|| code.to_string())
            })
            .collect(),
    )
}

/// A note for a regression whose target looks like class labels (math.md §7 is the model for
/// those): text labels coded 0…K−1, or a few distinct integers — 2 ≤ K ≤ 10 distinct values, all
/// integers, n ≥ 3K (each seen on average at least 3 times). A regression on class codes treats
/// them as ordered and equally spaced; the note suggests `logistic`, which fits them as classes
/// (binary for K = 2, multinomial for K ≥ 3).
pub(crate) fn class_like_target_note<'a>(data: impl Into<DataView<'a>>) -> Option<Message> {
    let data = data.into();
    let n = data.n();
    if !data.target_labels.is_empty() {
        return Some(message![
            format!(
                "target '{}' holds text labels ({}), coded 0…{} in sorted order: this regression treats the classes as ordered, equally spaced numbers; to model them as classes use ",
                data.target_name,
                data.target_labels.join(", "),
                data.target_labels.len() - 1
            ),
            (Setting::Model, "logistic"),
            class_model_words(data.target_labels.len())
        ]);
    }
    let mut distinct: Vec<f64> = Vec::new();
    for &v in data.y {
        if v.fract() != 0.0 {
            return None;
        }
        if !distinct.contains(&v) {
            distinct.push(v);
            if distinct.len() > 10 {
                return None;
            }
        }
    }
    if distinct.len() < 2 || n < 3 * distinct.len() {
        return None;
    }
    distinct.sort_by(f64::total_cmp);
    let shown: Vec<String> = distinct.iter().map(|v| v.to_string()).collect();
    Some(message![
        format!(
            "target '{}' has only {} distinct values, all integers ({}): it looks like class labels, which this regression treats as ordered, equally spaced numbers; to model them as classes use ",
            data.target_name,
            distinct.len(),
            shown.join(", ")
        ),
        (Setting::Model, "logistic"),
        class_model_words(distinct.len())
    ])
}

/// What `logistic` fits on a target with `classes` distinct values, for the note above.
fn class_model_words(classes: usize) -> &'static str {
    if classes > 2 {
        " (the multinomial model, math.md §7)"
    } else {
        " (binary logistic regression)"
    }
}

/// The data side of a model, computed once, scoring any number of priors.
pub trait Study {
    /// The data and options.
    fn info(&self) -> StudyInfo;
    /// Resolves a centre spec into the parameter space (fitting donors where needed).
    fn resolve_center(&self, spec: &CenterSpec, prior_sd: SdSpec) -> Result<ResolvedCenter>;
    /// Scores one prior; `warm_start` is a mode of a nearby prior, where an iterative model may
    /// start. `compare` and `fit` pass none, so that a row is its prior's fit alone: a network's
    /// posterior has many modes, and the one found depends on the start.
    fn evaluate(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        warm_start: Option<&DVector<f64>>,
    ) -> Result<PriorEvaluation>;
    /// The notes every code length of this study shares; `charged` names what was estimated from
    /// the coded rows and `charge_bits` the total, when one prior is reported.
    fn code_length_notes(&self, charged: &[Message], charge_bits: Option<f64>) -> Vec<Message>;
}

/// Fingerprints of a data set's rows (features and target, bit for bit), to tell whether a
/// `fit:PATH` donor shares rows with the data being coded.
///
/// Every study computes them, so they must cost little next to one pass of the Gram matrix: a
/// multiply–xorshift mix of each value's bits (not SipHash, which would take longer than the
/// statistics themselves), blocks of rows on all cores. With 64-bit fingerprints two different
/// rows collide with probability about 2⁻⁶⁴ a pair — nil for any data set that fits in memory.
pub(crate) fn row_fingerprints<'a>(data: impl Into<DataView<'a>>) -> HashSet<u64> {
    let data = data.into();
    let blocks = map_row_blocks(data.n(), |rows| {
        rows.map(|i| row_fingerprint(data.row(i), data.y[i]))
            .collect::<Vec<u64>>()
    });
    let mut set = HashSet::with_capacity(data.n());
    set.extend(blocks.into_iter().flatten());
    set
}

/// One row's fingerprint: four lanes, each h ← (h ⊕ bits(v))·K, h ← h ⊕ (h ≫ 32) over every
/// fourth value (independent chains, so the multiplies overlap), then the lanes folded the same
/// way with the target and passed through MurmurHash3's 64-bit finaliser, so that every input bit
/// reaches every output bit.
fn row_fingerprint(x: &[f64], y: f64) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15; // 2⁶⁴/φ, odd
    let mix = |h: u64, v: u64| {
        let h = (h ^ v).wrapping_mul(K);
        h ^ (h >> 32)
    };
    let mut lanes = [1u64, 2, 3, 4].map(|l| l.wrapping_mul(K));
    let mut quads = x.chunks_exact(4);
    for quad in &mut quads {
        for (lane, v) in lanes.iter_mut().zip(quad) {
            *lane = mix(*lane, v.to_bits());
        }
    }
    let mut h = (x.len() as u64).wrapping_mul(K);
    for v in lanes
        .into_iter()
        .chain(quads.remainder().iter().map(|v| v.to_bits()))
    {
        h = mix(h, v);
    }
    h = mix(h, y.to_bits());
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// The note that says what was estimated from the coded rows and where its ½ log₂ n bits per real
/// number went (`added_to` names the codes that carry the charge), or `None` when nothing was.
pub(crate) fn charge_note(
    charged: &[Message],
    charge_bits: Option<f64>,
    n: usize,
    added_to: &str,
) -> Option<Message> {
    if charged.is_empty() {
        return None;
    }
    let total = charge_bits.map_or(String::new(), |b| format!(" — {b:.4} bits in all"));
    let mut note = Message::from("not free — estimated from the coded rows: ");
    for (i, what) in charged.iter().enumerate() {
        if i > 0 {
            note = note.and(", ");
        }
        note = note.then(what.clone());
    }
    Some(note.and(format!(
        "; each such real number is sent first at ½ log₂ n = {:.4} bits, added to {added_to}{total}",
        estimate_charge_bits(1, n)
    )))
}

/// The note for the charged reals (N values given as fixed but estimated from the coded rows):
/// which were charged, and for what.
pub(crate) fn charged_reals_note(count: usize, n: usize) -> Option<Message> {
    (count > 0).then(|| {
        message![
            format!("not free — {count} value(s) given as fixed were estimated from the coded rows ("),
            (Setting::ChargeReals, count.to_string()),
            format!(
                "): each is sent first at ½ log₂ n = {:.4} bits, added to mixture, prequential and two_part",
                estimate_charge_bits(1, n)
            )
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_rows_apart_and_see_every_value() {
        let base = [0.5, -1.25, 3.0, 7.0, 0.0, 2.5, -0.0];
        let h = row_fingerprint(&base, 1.0);
        assert_eq!(h, row_fingerprint(&base, 1.0));
        assert_ne!(h, row_fingerprint(&base, 1.5), "the target counts");
        for j in 0..base.len() {
            let mut changed = base;
            changed[j] = f64::from_bits(changed[j].to_bits() ^ 1);
            assert_ne!(h, row_fingerprint(&changed, 1.0), "value {j} counts");
            if j > 0 {
                let mut swapped = base;
                swapped.swap(j - 1, j);
                if swapped != base {
                    assert_ne!(h, row_fingerprint(&swapped, 1.0), "order counts at {j}");
                }
            }
        }
        // Small integer grids (the kind of data that defeats weak hashes) give no collisions.
        let mut seen = HashSet::new();
        for a in 0..60 {
            for b in 0..60 {
                for c in 0..30 {
                    let row = [f64::from(a), f64::from(b), f64::from(c), 1.0, 2.0];
                    assert!(seen.insert(row_fingerprint(&row, f64::from(a - b))));
                }
            }
        }
    }
}
