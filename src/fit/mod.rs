//! Fitting: one data set, any number of priors.
//!
//! A *study* does the data-side work once (standardisation, sufficient statistics or the design,
//! eigendecompositions); [`Study::evaluate`] then scores one prior (centre, s, σ): empirical Bayes
//! where asked, the evidence, γ and the four code lengths. `occam fit` evaluates one prior and adds
//! its posterior; `occam compare` evaluates many.

pub mod linear;
pub mod logistic;
pub mod mlp;

pub use linear::{fit_linear, LinearFit, LinearStudy, OptimizerCheck};
pub use logistic::{fit_logistic, LogisticFit, LogisticStudy};
pub use mlp::{fit_mlp, HessianKind, MlpFit, MlpOptions, MlpStudy};

use crate::codelength::{estimate_charge_bits, CodeLengths, CodeSelection, RowOrder};
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Message, OccamError, Result, Setting};
use crate::linalg::map_row_blocks;
use crate::message;
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;
use std::collections::HashSet;
use std::path::Path;

/// Everything that defines a fit besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Which columns are the target and the features (also used for `fit:PATH` centres).
    pub selection: ColumnSelection,
    /// The prior centre μ.
    pub center: CenterSpec,
    /// The prior sd s, or `auto`.
    pub prior_sd: SdSpec,
    /// The noise sd σ, or `auto`.
    pub noise_sd: SdSpec,
    /// How the intercept is treated.
    pub intercept: Intercept,
    /// z-score the features (default true).
    pub standardize: bool,
    /// The order of the rows in the prequential code.
    pub order: RowOrder,
    /// Rows in the first prequential block; later blocks double.
    pub first_block: usize,
    /// Which code lengths to compute besides the mixture code.
    pub codes: CodeSelection,
    /// The network, for `--model mlp`.
    pub mlp: MlpOptions,
    /// Real numbers given as fixed values (a prior sd, a noise sd) that were nevertheless
    /// estimated from the coded rows (`--charge-reals N`): each is charged ½ log₂ n bits in every
    /// code that uses it (mixture, prequential, two_part), like an `auto` value (docs/codes.md).
    pub charged_reals: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            selection: ColumnSelection::default(),
            center: CenterSpec::Zero,
            prior_sd: SdSpec::Auto,
            noise_sd: SdSpec::Auto,
            intercept: Intercept::Centered,
            standardize: true,
            order: RowOrder::AsGiven,
            first_block: 16,
            codes: CodeSelection::default(),
            mlp: MlpOptions::default(),
            charged_reals: 0,
        }
    }
}

/// A prior centre in design units, and whether it was estimated from the coded rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCenter {
    /// μ.
    pub values: DVector<f64>,
    /// Real numbers estimated from the coded rows to build μ (each charged ½ log₂ n bits).
    pub estimated_reals: usize,
    /// How it was built, when that needs saying.
    pub note: Option<String>,
}

/// How the evidence was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceMethod {
    /// Closed form (linear-Gaussian).
    Exact,
    /// Laplace's approximation with the exact Hessian.
    LaplaceHessian,
    /// Laplace's approximation with the generalised Gauss–Newton matrix.
    LaplaceGgn,
}

impl EvidenceMethod {
    /// The name printed in outputs (cli.md: exact|laplace-ggn|laplace-hessian).
    pub fn name(self) -> &'static str {
        match self {
            EvidenceMethod::Exact => "exact",
            EvidenceMethod::LaplaceHessian => "laplace-hessian",
            EvidenceMethod::LaplaceGgn => "laplace-ggn",
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
    pub notes: Vec<String>,
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
        ));
        bits
    }
}

/// What a study says about its data.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyInfo {
    /// `linear` or `logistic`.
    pub kind: &'static str,
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
}

/// The class labels in the order of the model's outputs (`model.classes`): the text labels of a
/// target read as text, else the two numbers mapped to 0 and 1.
pub fn class_labels(info: &StudyInfo) -> Option<Vec<String>> {
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
/// those): text labels coded 0…K−1, or a few distinct integers (at most 10, each seen on average
/// at least 3 times). A regression on class codes treats them as ordered and equally spaced.
pub(crate) fn class_like_target_note(data: &Dataset) -> Option<String> {
    let n = data.n();
    if !data.target_labels.is_empty() {
        return Some(format!(
            "target '{}' holds text labels ({}), coded 0…{} in sorted order: this regression treats the classes as ordered, equally spaced numbers; for two classes use --model logistic",
            data.target_name,
            data.target_labels.join(", "),
            data.target_labels.len() - 1
        ));
    }
    let mut distinct: Vec<f64> = Vec::new();
    for &v in &data.y {
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
    Some(format!(
        "target '{}' has only {} distinct values, all integers ({}): it looks like class labels, which this regression treats as ordered, equally spaced numbers; for two classes use --model logistic",
        data.target_name,
        distinct.len(),
        shown.join(", ")
    ))
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
    fn code_length_notes(&self, charged: &[&str], charge_bits: Option<f64>) -> Vec<String>;
}

/// Fingerprints of a data set's rows (features and target, bit for bit), to tell whether a
/// `fit:PATH` donor shares rows with the data being coded.
///
/// Every study computes them, so they must cost little next to one pass of the Gram matrix: a
/// multiply–xorshift mix of each value's bits (not SipHash, which would take longer than the
/// statistics themselves), blocks of rows on all cores. With 64-bit fingerprints two different
/// rows collide with probability about 2⁻⁶⁴ a pair — nil for any data set that fits in memory.
pub(crate) fn row_fingerprints(data: &Dataset) -> HashSet<u64> {
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

/// Loads the donor of a `fit:PATH` centre with the study's columns and counts the rows it shares
/// with the coded data.
pub(crate) fn load_donor(
    path: &Path,
    info: &StudyInfo,
    coded: &HashSet<u64>,
) -> Result<(Dataset, usize)> {
    let path_text = path.to_string_lossy();
    let donor = data::load(&path_text, &info.options.selection).map_err(|e| match e {
        OccamError::UnknownDataset { .. } | OccamError::Read { .. } => OccamError::invalid(
            Setting::PriorCenter,
            Message::from(format!("fit:{path_text}: ")).then(e.message()),
        ),
        other => other,
    })?;
    if donor.feature_names != info.feature_names {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            format!(
                "fit:{path_text} has features [{}] but this data has [{}]; the centre needs the same columns in the same order",
                donor.feature_names.join(", "),
                info.feature_names.join(", ")
            ),
        ));
    }
    let shared = (0..donor.n())
        .filter(|&i| coded.contains(&row_fingerprint(donor.row(i), donor.y[i])))
        .count();
    Ok((donor, shared))
}

/// A `fit:PATH` centre: free when the donor's rows are not coded; otherwise every coordinate is a
/// real number estimated from coded rows and is charged (math.md §5).
pub(crate) fn donor_center(
    values: Vec<f64>,
    path: &Path,
    donor_rows: usize,
    shared_rows: usize,
    coded_rows: usize,
) -> Result<ResolvedCenter> {
    let path_text = path.to_string_lossy();
    crate::prior::check_center(Setting::PriorCenter, &format!("fit:{path_text}"), &values)?;
    let fitted = format!("prior centre fit:{path_text}: the empirical-Bayes MAP of the same model (zero-centred prior) on those {donor_rows} rows, mapped into this data's standardisation");
    Ok(if shared_rows == 0 {
        ResolvedCenter {
            values: DVector::from_vec(values),
            estimated_reals: 0,
            note: Some(format!(
                "{fitted}; fitted on other rows, so it costs no bits"
            )),
        }
    } else {
        let count = values.len();
        ResolvedCenter {
            note: Some(format!(
                "{fitted}; {shared_rows} of its rows are also coded here, so the centre is data-derived: its {count} coordinates are charged ½ log₂ n bits each ({:.2} bits)",
                estimate_charge_bits(count, coded_rows)
            )),
            values: DVector::from_vec(values),
            estimated_reals: count,
        }
    })
}

/// The generating parameters of simulated data (`truth`), read from the truth file beside the CSV.
pub(crate) fn load_truth(info: &StudyInfo) -> Result<crate::simulate::Truth> {
    if info.source.starts_with("builtin:") {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            "'truth' needs data with known generating weights (from occam simulate); for real data use zero, const:, vec:, file:, sha256: or fit:",
        ));
    }
    let truth = crate::simulate::read_truth(Path::new(&info.source))?;
    let network = truth.teacher == crate::simulate::Teacher::Mlp;
    if network != (info.kind == "mlp") {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            if network {
                message![
                    "'truth': these data come from a network teacher, whose parameters fit only ",
                    (Setting::Model, "mlp"),
                    " with the teacher's ",
                    Setting::Hidden,
                    " and ",
                    Setting::Activation
                ]
            } else {
                "'truth' for an MLP needs a network teacher (occam simulate mlp); a linear or logistic teacher's parameters do not fit a network".into()
            },
        ));
    }
    if !network && truth.weights.len() != info.feature_names.len() {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            format!("the truth file has {} weights but the data have {} features (were columns excluded?)", truth.weights.len(), info.feature_names.len()),
        ));
    }
    Ok(truth)
}

/// A `truth` centre: the teacher's parameters mapped into this data's standardisation; known in
/// advance of the data, so free.
pub(crate) fn truth_center(values: Vec<f64>) -> Result<ResolvedCenter> {
    crate::prior::check_center(Setting::PriorCenter, "truth", &values)?;
    Ok(ResolvedCenter {
        values: DVector::from_vec(values),
        estimated_reals: 0,
        note: Some("prior centre truth: the generating parameters of the simulated data, mapped into this data's standardisation".into()),
    })
}

/// The note that says what was estimated from the coded rows and where its ½ log₂ n bits per real
/// number went (`added_to` names the codes that carry the charge), or `None` when nothing was.
pub(crate) fn charge_note(
    charged: &[&str],
    charge_bits: Option<f64>,
    n: usize,
    added_to: &str,
) -> Option<String> {
    if charged.is_empty() {
        return None;
    }
    let total = charge_bits.map_or(String::new(), |b| format!(" — {b:.4} bits in all"));
    Some(format!(
        "not free — estimated from the coded rows: {}; each such real number is sent first at ½ log₂ n = {:.4} bits, added to {added_to}{total}",
        charged.join(", "),
        estimate_charge_bits(1, n)
    ))
}

/// The note for `--charge-reals N`: which fixed values were charged, and for what.
pub(crate) fn charged_reals_note(count: usize, n: usize) -> Option<String> {
    (count > 0).then(|| {
        format!(
            "not free — {count} value(s) given as fixed were estimated from the coded rows (--charge-reals {count}): each is sent first at ½ log₂ n = {:.4} bits, added to mixture, prequential and two_part",
            estimate_charge_bits(1, n)
        )
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
