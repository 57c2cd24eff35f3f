//! Resolving a prior centre into a study's parameter space — one implementation for every
//! model. What differs between models is small and sits behind [`CenterHooks`]: how many
//! parameters are under the prior and their names, the teacher's parameters and a donor's MAP in
//! this study's units, and the scale of a `sha256:` centre when the prior sd is `auto`.

use super::{row_fingerprint, FitOptions, ModelKind, Study, StudyInfo};
use crate::codelength::estimate_charge_bits;
use crate::data::{self, Dataset};
use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use crate::prior::{CenterSpec, SdSpec};
use crate::simulate::Truth;
use nalgebra::DVector;
use std::collections::HashSet;
use std::path::Path;

/// A prior centre in design units, and whether it was estimated from the coded rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedCenter {
    /// μ.
    pub values: DVector<f64>,
    /// Real numbers estimated from the coded rows to build μ (each charged ½ log₂ n bits).
    pub estimated_reals: usize,
    /// How it was built, when that needs saying.
    pub note: Option<Message>,
}

/// The model-specific parts of [`resolve_center`].
pub(crate) trait CenterHooks: Study {
    /// The number of parameters under the prior, and their names (for `vec:`, `file:` and
    /// `sha256:` centres, which name or count them).
    fn prior_parameters(&self) -> (usize, Vec<String>);
    /// The rows this study codes.
    fn coded_rows(&self) -> usize;
    /// The fingerprints of the coded rows, to count the rows a donor shares with them.
    fn fingerprints(&self) -> &HashSet<u64>;
    /// The generating parameters of simulated data, in this study's units.
    fn truth_values(&self, truth: Truth) -> Result<Vec<f64>>;
    /// The zero-centred empirical-Bayes MAP of this model on `donor` (fitted with
    /// `zero_centred`, this study's options under a zero-centred `auto` prior), in this study's
    /// units.
    fn donor_values(&self, donor: &Dataset, zero_centred: FitOptions) -> Result<Vec<f64>>;
    /// The empirical-Bayes prior sd of the zero-centred prior, which scales a `sha256:TEXT`
    /// centre when the prior sd is `auto` (`spec` names the centre in a refusal).
    fn zero_centred_sd(&self, spec: &CenterSpec) -> Result<f64>;
}

/// A centre spec → the centre in `study`'s parameter space: the truth and a donor's MAP mapped
/// into this standardisation, a `sha256:TEXT` centre scaled by the prior sd (the empirical-Bayes
/// sd of the zero-centred prior, estimated from the coded rows and charged, when it is `auto`),
/// everything else as the spec says.
pub(crate) fn resolve_center<S: CenterHooks>(
    study: &S,
    spec: &CenterSpec,
    prior_sd: SdSpec,
) -> Result<ResolvedCenter> {
    let (count, names) = study.prior_parameters();
    match spec {
        CenterSpec::Truth => {
            let truth = load_truth(&study.info())?;
            truth_center(study.truth_values(truth)?)
        }
        CenterSpec::Fit(path) => {
            let info = study.info();
            let (other, shared_rows) = load_donor(path, &info, study.fingerprints())?;
            let zero_centred = FitOptions {
                center: CenterSpec::Zero,
                prior_sd: SdSpec::Auto,
                ..info.options
            };
            donor_center(
                study.donor_values(&other, zero_centred)?,
                path,
                other.n(),
                shared_rows,
                study.coded_rows(),
            )
        }
        CenterSpec::Sha256 { scale: None, .. } => match prior_sd {
            SdSpec::Fixed(s) => Ok(ResolvedCenter {
                values: spec.resolve(count, s, &names)?,
                estimated_reals: 0,
                note: None,
            }),
            SdSpec::Auto => {
                let s = study.zero_centred_sd(spec)?;
                Ok(ResolvedCenter {
                    values: spec.resolve(count, s, &names)?,
                    estimated_reals: 1,
                    note: Some(Message::from(format!(
                        "prior centre {spec}: scaled by the empirical-Bayes prior sd of the zero-centred prior ({s:.6}) because the sd is 'auto'; that scale is estimated from the coded rows and charged; give sha256:TEXT:SCALE to fix it"
                    ))),
                })
            }
        },
        other => Ok(ResolvedCenter {
            values: other.resolve(count, f64::NAN, &names)?,
            estimated_reals: 0,
            note: other.truth_file_note(),
        }),
    }
}

/// Loads the donor of a `fit:PATH` centre with the study's columns and counts the rows it shares
/// with the coded data.
fn load_donor(path: &Path, info: &StudyInfo, coded: &HashSet<u64>) -> Result<(Dataset, usize)> {
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
fn donor_center(
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
            note: Some(Message::from(format!(
                "{fitted}; fitted on other rows, so it costs no bits"
            ))),
        }
    } else {
        let count = values.len();
        ResolvedCenter {
            note: Some(Message::from(format!(
                "{fitted}; {shared_rows} of its rows are also coded here, so the centre is data-derived: its {count} coordinates are charged ½ log₂ n bits each ({:.2} bits)",
                estimate_charge_bits(count, coded_rows)
            ))),
            values: DVector::from_vec(values),
            estimated_reals: count,
        }
    })
}

/// The generating parameters of simulated data (`truth`), read from the truth file beside the CSV.
fn load_truth(info: &StudyInfo) -> Result<crate::simulate::Truth> {
    if info.source.starts_with("builtin:") {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            "'truth' needs data with known generating weights (from occam simulate); for real data use zero, const:, vec:, file:, sha256: or fit:",
        ));
    }
    let truth = crate::simulate::read_truth(Path::new(&info.source))?;
    let network = truth.teacher == crate::simulate::Teacher::Mlp;
    if network != (info.kind == ModelKind::Mlp) {
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
    // A network teacher's classes are its softmax outputs (network.outputs = K ≥ 3).
    let teacher_classes = if network {
        truth.network.as_ref().is_some_and(|t| t.outputs >= 3)
    } else {
        truth.classes.is_some()
    };
    if teacher_classes != info.classes.is_some() {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            if teacher_classes {
                Message::from("'truth': these data come from a teacher with more than two classes, but the target here has two; fit the simulated target as it was written")
            } else {
                message![
                    "'truth': the truth file holds a binary teacher, but this target has more than two classes; simulate such data with ",
                    (Setting::Classes, "K")
                ]
            },
        ));
    }
    if !network && truth.classes.is_none() && truth.weights.len() != info.feature_names.len() {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            format!("the truth file has {} weights but the data have {} features (were columns excluded?)", truth.weights.len(), info.feature_names.len()),
        ));
    }
    Ok(truth)
}

/// A `truth` centre: the teacher's parameters mapped into this data's standardisation; known in
/// advance of the data, so free.
fn truth_center(values: Vec<f64>) -> Result<ResolvedCenter> {
    crate::prior::check_center(Setting::PriorCenter, "truth", &values)?;
    Ok(ResolvedCenter {
        values: DVector::from_vec(values),
        estimated_reals: 0,
        note: Some("prior centre truth: the generating parameters of the simulated data, mapped into this data's standardisation".into()),
    })
}
