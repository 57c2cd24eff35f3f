//! `compare` across prior structures (math.md §8): each row a whole prior — one shared s, one s
//! per group, ARD, … — fitted end to end on the same data and ranked by the mixture code, whose
//! ½ log₂ n bits per fitted real number (every s_g, σ) are shown beside it: the code says whether
//! the extra scales pay for themselves.

use crate::codelength::estimate_charge_bits;
use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::fit::{CheckedOptions, FitOptions, ModelFit, ModelKind, PriorEvaluation};
use crate::message;
use crate::prior::groups::PriorStructure;

/// One whole prior scored on the data.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureRow {
    /// The prior as given.
    pub prior: String,
    /// Its number of groups (after `ard` expands).
    pub groups: usize,
    /// Groups pruned (s_g → 0).
    pub pruned: usize,
    /// Real numbers estimated from the coded rows (fitted s_g, σ, …), each ½ log₂ n bits.
    pub charged_reals: usize,
    /// Their bits, included in `mixture`.
    pub charge_bits: f64,
    /// ln p(y | X, prior) in nats.
    pub log_evidence: f64,
    /// γ (`None` outside [0, P]).
    pub effective_parameters: Option<f64>,
    /// P.
    pub parameters: usize,
    /// The mixture code in bits, charges included: the ranking code.
    pub mixture: Option<f64>,
    /// The prequential code in bits, charges included.
    pub prequential: Option<f64>,
    /// The two-part code in bits, charges included.
    pub two_part: Option<f64>,
    /// BIC in bits (the same for every prior of a model).
    pub bic: Option<f64>,
    /// Why this prior could not be fitted; `None` when it was.
    pub failure: Option<Message>,
}

/// Whole priors ranked by the mixture code.
#[derive(Debug, Clone)]
pub struct StructureComparison {
    /// The model.
    pub kind: ModelKind,
    /// Rows, shortest mixture code first; failed rows last.
    pub rows: Vec<StructureRow>,
    /// The data's source, rows and features.
    pub source: String,
    /// Rows coded.
    pub n: usize,
    /// Features.
    pub feature_names: Vec<String>,
    /// The target.
    pub target_name: String,
}

fn row_of_evaluation(prior: &str, e: &PriorEvaluation, n: usize) -> StructureRow {
    StructureRow {
        prior: prior.to_string(),
        groups: 1,
        pruned: 0,
        charged_reals: (e.charge_bits / estimate_charge_bits(1, n)).round() as usize,
        charge_bits: e.charge_bits,
        log_evidence: e.log_evidence,
        effective_parameters: e.printed_effective_parameters(),
        parameters: e.mode.len(),
        mixture: e.code_lengths.mixture,
        prequential: e.code_lengths.prequential,
        two_part: e.code_lengths.two_part,
        bic: e.code_lengths.bic,
        failure: None,
    }
}

/// The row of one fitted prior (`n` rows coded): what `compare --priors` prints for it.
pub fn row_of_fit(prior: &str, fit: &ModelFit, n: usize) -> StructureRow {
    match fit {
        ModelFit::Linear(f) => row_of_evaluation(prior, &f.evaluation, n),
        ModelFit::Logistic(f) => row_of_evaluation(prior, &f.evaluation, n),
        ModelFit::Mlp(f) => row_of_evaluation(prior, &f.evaluation, n),
        ModelFit::Softmax(f) => row_of_evaluation(prior, &f.evaluation, n),
        ModelFit::GroupedLaplace(f) => StructureRow {
            groups: f.groups.len(),
            pruned: f.groups.iter().filter(|g| g.pruned).count(),
            ..row_of_evaluation(prior, f.evaluation(), n)
        },
        ModelFit::GroupedLinear(f) => StructureRow {
            prior: prior.to_string(),
            groups: f.groups.len(),
            pruned: f.groups.iter().filter(|g| g.pruned).count(),
            charged_reals: (f.charge_bits / estimate_charge_bits(1, n)).round() as usize,
            charge_bits: f.charge_bits,
            log_evidence: f.log_evidence,
            effective_parameters: Some(f.effective_parameters),
            parameters: f.mean.len(),
            mixture: f.code_lengths.mixture,
            prequential: f.code_lengths.prequential,
            two_part: f.code_lengths.two_part,
            bic: f.code_lengths.bic,
            failure: None,
        },
    }
}

/// Fits every prior of `priors` with `kind` under `base` (its centre and prior sd are replaced by
/// each prior) and ranks them by the mixture code. Every prior is checked before any is fitted
/// (a prior the model does not offer is a usage error); a prior whose computation fails gives a
/// row with its reason, ranked last; when every one fails, the first failure is returned.
pub fn compare_structures(
    data: &Dataset,
    base: &FitOptions,
    kind: ModelKind,
    priors: &[PriorStructure],
) -> Result<StructureComparison> {
    if priors.is_empty() {
        return Err(OccamError::invalid(
            Setting::Priors,
            message![
                "no prior given; e.g. ",
                (Setting::Priors, "'all=zero:auto' ard")
            ],
        ));
    }
    let checked: Vec<(String, CheckedOptions)> = priors
        .iter()
        .map(|p| {
            let options = FitOptions {
                prior: None,
                ..base.clone()
            }
            .with_prior(p.clone());
            Ok((p.to_string(), options.check(kind)?))
        })
        .collect::<Result<_>>()?;
    let n = data.n();
    let mut rows = Vec::with_capacity(checked.len());
    let mut first_failure = None;
    for (text, options) in &checked {
        match options.fit(data) {
            Ok(fit) => rows.push(row_of_fit(text, &fit, n)),
            Err(e @ OccamError::InvalidArgument { .. }) => return Err(e),
            Err(e) => {
                let reason = e.message();
                rows.push(StructureRow {
                    prior: text.clone(),
                    groups: 0,
                    pruned: 0,
                    charged_reals: 0,
                    charge_bits: f64::NAN,
                    log_evidence: f64::NAN,
                    effective_parameters: None,
                    parameters: 0,
                    mixture: None,
                    prequential: None,
                    two_part: None,
                    bic: None,
                    failure: Some(reason),
                });
                first_failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_failure {
        if rows.iter().all(|r| r.failure.is_some()) {
            return Err(e);
        }
    }
    // Shortest mixture code first; rows without one last, in the order given (stable sort).
    rows.sort_by(|a, b| match (a.mixture, b.mixture) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(StructureComparison {
        kind,
        rows,
        source: data.source.clone(),
        n,
        feature_names: data.feature_names.clone(),
        target_name: data.target_name.clone(),
    })
}
