//! Many priors on one data set: every centre × every sd, scored and ranked by a code length.
//!
//! The data are read, standardised and eigendecomposed once ([`LinearStudy::new`]); each prior then
//! costs O(k²·log n): empirical Bayes in the eigenbasis, the evidence, and the prequential code
//! from the shared prefix statistics.

pub mod structures;

use crate::codelength::CodeKind;
use crate::codelength::CodeLengths;
use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::fit::{
    EvidenceMethod, FitOptions, HessianKind, LinearStudy, ModelKind, PriorEvaluation,
    ResolvedCenter, Study, StudyInfo,
};
use crate::message;
use crate::prior::{check_sd, CenterSpec, SdSpec, MAX_SD, MIN_SD};
use nalgebra::DVector;
use std::collections::HashMap;

/// Parses `--centers 'SPEC;SPEC;…'`.
///
/// ```
/// let centers = occam::compare::parse_centers("zero; const:0.5;sha256:occam").unwrap();
/// assert_eq!(centers.len(), 3);
/// ```
pub fn parse_centers(text: &str) -> Result<Vec<CenterSpec>> {
    let specs: Vec<CenterSpec> = text
        .split(';')
        .filter(|s| !s.trim().is_empty())
        .map(|spec| {
            CenterSpec::parse(spec).map_err(|e| match e {
                OccamError::InvalidArgument { message, .. } => {
                    OccamError::invalid(Setting::Centers, message)
                }
                other => other,
            })
        })
        .collect::<Result<_>>()?;
    if specs.is_empty() {
        return Err(OccamError::invalid(
            Setting::Centers,
            message![
                "no centre given; e.g. ",
                (Setting::Centers, "'zero;const:0.5;sha256:occam'")
            ],
        ));
    }
    Ok(specs)
}

/// Parses `--sds S,S,auto,logspace:LO:HI:N` (LO and HI are log10 bounds, N ≥ 1 points).
///
/// ```
/// use occam::prior::SdSpec;
/// let sds = occam::compare::parse_sds("auto,logspace:-1:1:3").unwrap();
/// assert_eq!(sds, vec![SdSpec::Auto, SdSpec::Fixed(0.1), SdSpec::Fixed(1.0), SdSpec::Fixed(10.0)]);
/// ```
pub fn parse_sds(text: &str) -> Result<Vec<SdSpec>> {
    let mut sds = Vec::new();
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > 1 {
        if let Some(i) = parts.iter().position(|p| p.is_empty()) {
            return Err(OccamError::invalid(
                Setting::Sds,
                format!("entry {} of '{text}' is empty (two commas in a row, or a leading or trailing comma); remove it or give a value", i + 1),
            ));
        }
    }
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        if let Some(rest) = part.strip_prefix("logspace:") {
            let fields: Vec<&str> = rest.split(':').collect();
            let bad = || {
                OccamError::invalid(Setting::Sds, format!("'{part}': expected logspace:LO:HI:N with log10 bounds LO ≤ HI and N ≥ 1 points, e.g. logspace:-3:3:100"))
            };
            if fields.len() != 3 {
                return Err(bad());
            }
            let lo: f64 = fields[0].trim().parse().map_err(|_| bad())?;
            let hi: f64 = fields[1].trim().parse().map_err(|_| bad())?;
            let count: usize = fields[2].trim().parse().map_err(|_| bad())?;
            if !(lo.is_finite() && hi.is_finite()) || lo > hi || count == 0 || count > 1_000_000 {
                return Err(bad());
            }
            for i in 0..count {
                let exponent = if count == 1 {
                    lo
                } else {
                    lo + (hi - lo) * i as f64 / (count - 1) as f64
                };
                // Every point passes the same range check as a value typed directly.
                let sd = check_sd(Setting::Sds, 10f64.powf(exponent)).map_err(|e| match e {
                    OccamError::InvalidArgument { message, .. } => OccamError::invalid(
                        Setting::Sds,
                        Message::from(format!("'{part}', point {}: ", i + 1))
                            .then(message)
                            .and(format!(
                                "; keep LO and HI within [{:.0}, {:.0}]",
                                MIN_SD.log10(),
                                MAX_SD.log10()
                            )),
                    ),
                    other => other,
                })?;
                sds.push(SdSpec::Fixed(sd));
            }
        } else {
            sds.push(SdSpec::parse(Setting::Sds, part)?);
        }
    }
    if sds.is_empty() {
        return Err(OccamError::invalid(
            Setting::Sds,
            message!["no sd given; e.g. ", (Setting::Sds, "0.1,1,auto")],
        ));
    }
    // A repeated sd would only repeat its rows (and, listed in logspace: and again by hand, hide
    // that it is the same prior): refused, so every row of a comparison is a different prior.
    for (i, sd) in sds.iter().enumerate() {
        if let Some(j) = sds[..i].iter().position(|earlier| earlier == sd) {
            return Err(OccamError::invalid(
                Setting::Sds,
                format!(
                    "the sd {sd} is listed twice (sds {} and {} of the expanded list '{text}'); each sd gives one row per centre — remove the repeat",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    Ok(sds)
}

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Design, noise sd and prequential settings (its centre and prior sd are not used).
    pub fit: FitOptions,
    /// The centres.
    pub centers: Vec<CenterSpec>,
    /// The prior sds.
    pub sds: Vec<SdSpec>,
    /// The code length that ranks the rows.
    pub rank_by: CodeKind,
}

/// One prior in a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// The prior's scores (NaN numbers and no code lengths where the prior failed).
    pub evaluation: PriorEvaluation,
    /// The ranking code length minus that of the `zero` centre at the same sd.
    pub delta_bits: Option<f64>,
    /// Why this prior could not be scored, naming what to change; `None` when it was.
    pub failure: Option<Message>,
}

/// A ranked comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The data and options.
    pub study: StudyInfo,
    /// Rows, best (shortest code) first; rows without the ranking code last.
    pub rows: Vec<CompareRow>,
    /// The ranking code.
    pub rank_by: CodeKind,
    /// Notes shared by the rows, then each distinct row note once.
    pub notes: Vec<Message>,
}

/// Scores every centre × sd on `dataset` with the linear-Gaussian model and ranks them.
pub fn compare_linear(dataset: &Dataset, options: &CompareOptions) -> Result<Comparison> {
    compare(&LinearStudy::borrowing(dataset, &options.fit)?, options)
}

/// A computation that failed for one prior, told as a comparison sets priors: its prior sds are
/// [`Setting::Sds`] (a fit's message says [`Setting::PriorSd`]). Bad input (exit 2) is not a
/// row's failure and is passed on.
fn row_failure(error: OccamError) -> Result<Message> {
    match error {
        OccamError::Computation { .. } => {
            Ok(error.message().substitute(Setting::PriorSd, Setting::Sds))
        }
        other => Err(other),
    }
}

/// The row of a prior that could not be scored: every number NaN (null in JSON, "—" in tables),
/// no code lengths, and the reason.
fn failed_row(
    info: &StudyInfo,
    spec: &CenterSpec,
    sd: SdSpec,
    noise: SdSpec,
    reason: Message,
) -> CompareRow {
    let evidence_method = match info.kind {
        ModelKind::Linear => EvidenceMethod::Exact,
        ModelKind::Logistic => EvidenceMethod::LaplaceHessian,
        // The method the options asked for (a row that failed never reached a fallback).
        ModelKind::Mlp if info.options.mlp.subset == crate::fit::Subset::LastLayer => {
            EvidenceMethod::LaplaceLastLayer
        }
        ModelKind::Mlp => match info.options.mlp.hessian {
            HessianKind::Ggn => EvidenceMethod::LaplaceGgn,
            HessianKind::Exact => EvidenceMethod::LaplaceHessian,
            HessianKind::Kfac => EvidenceMethod::LaplaceKfac,
            HessianKind::Diag => EvidenceMethod::LaplaceDiag,
        },
    };
    CompareRow {
        evaluation: PriorEvaluation {
            center_spec: spec.clone(),
            center: ResolvedCenter {
                values: DVector::zeros(0),
                estimated_reals: 0,
                note: None,
            },
            prior_sd_spec: sd,
            noise_sd_spec: noise,
            prior_sd: sd.fixed().unwrap_or(f64::NAN),
            noise_sd: None,
            mode: DVector::zeros(0),
            log_evidence: f64::NAN,
            evidence_method,
            effective_parameters: f64::NAN,
            distance_from_center: f64::NAN,
            empirical_bayes_iterations: 0,
            code_lengths: CodeLengths::default(),
            charge_bits: 0.0,
            notes: vec![
                Message::from(format!("centre {spec}, s = {sd}: not scored — "))
                    .then(reason.clone()),
            ],
            symmetry_log_nats: 0.0,
            diagnostics: None,
        },
        delta_bits: None,
        failure: Some(reason),
    }
}

/// Scores every centre × sd with a study and ranks them.
///
/// Every row is its prior's own fit — exactly what `occam fit` gives with that centre and sd — and
/// never depends on the other rows: no row starts from another's mode. A prior whose computation
/// fails gives a row with null numbers and the reason, and the others stand; only when every row
/// fails is the comparison an error.
pub fn compare(study: &dyn Study, options: &CompareOptions) -> Result<Comparison> {
    let noise = options.fit.noise_sd;
    let info = study.info();
    // Centres that do not depend on s are resolved once (a fit: centre fits its donor once).
    let mut fixed_centers: HashMap<String, ResolvedCenter> = HashMap::new();
    let mut resolve = |spec: &CenterSpec, sd: SdSpec| -> Result<ResolvedCenter> {
        if matches!(spec, CenterSpec::Sha256 { scale: None, .. }) {
            return study.resolve_center(spec, sd);
        }
        let key = spec.to_string();
        if let Some(c) = fixed_centers.get(&key) {
            return Ok(c.clone());
        }
        let c = study.resolve_center(spec, sd)?;
        fixed_centers.insert(key, c.clone());
        Ok(c)
    };
    let mut evaluate = |spec: &CenterSpec, sd: SdSpec| -> Result<CompareRow> {
        let scored = resolve(spec, sd).and_then(|c| study.evaluate(spec, c, sd, noise, None));
        Ok(match scored {
            Ok(evaluation) => CompareRow {
                evaluation,
                delta_bits: None,
                failure: None,
            },
            Err(e) => failed_row(&info, spec, sd, noise, row_failure(e)?),
        })
    };
    let mut rows = Vec::with_capacity(options.centers.len() * options.sds.len());
    let mut first_failure = None;
    for &sd in &options.sds {
        let zero = evaluate(&CenterSpec::Zero, sd)?;
        let reference = options.rank_by.of(&zero.evaluation.code_lengths);
        for spec in &options.centers {
            let mut row = if *spec == CenterSpec::Zero {
                zero.clone()
            } else {
                evaluate(spec, sd)?
            };
            row.delta_bits = match (options.rank_by.of(&row.evaluation.code_lengths), reference) {
                (Some(a), Some(b)) => Some(a - b),
                _ => None,
            };
            if first_failure.is_none() {
                first_failure = row.failure.clone();
            }
            rows.push(row);
        }
    }
    if rows.iter().all(|r| r.failure.is_some()) {
        return Err(OccamError::computation(
            "compare",
            Message::from("every prior failed; the first: ")
                .then(first_failure.unwrap_or_default()),
        ));
    }
    let key = |r: &CompareRow| options.rank_by.of(&r.evaluation.code_lengths);
    // Stable: ties keep the order centres and sds were given in.
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });

    let charged: &[Message] = match (
        rows.iter().any(|r| r.evaluation.charge_bits > 0.0),
        info.kind,
    ) {
        (false, _) => &[],
        (true, ModelKind::Linear) => &[message![
            "in each row, s where 'auto', σ when ",
            (Setting::NoiseSd, "auto"),
            ", and a sha256 centre's scale when taken from the data"
        ]],
        (true, _) => &[
            "in each row, s where 'auto', and a sha256 centre's scale when taken from the data"
                .into(),
        ],
    };
    let mut notes = study.code_length_notes(charged, None);
    notes.push(format!("rows ranked by the {} code; Δbits is that code minus the zero-centred prior's at the same sd", options.rank_by.name()).into());
    for row in &rows {
        for note in &row.evaluation.notes {
            if !notes.contains(note) {
                notes.push(note.clone());
            }
        }
    }
    Ok(Comparison {
        study: info,
        rows,
        rank_by: options.rank_by,
        notes,
    })
}
