//! L2 knobs of common libraries ↔ the prior sd they mean (math.md §2).
//!
//! Each library's objective, as its documentation states it, is a negative log posterior up to a
//! positive factor; matching the penalty against (1/2s²)‖w‖² relative to the negative log
//! likelihood gives s. Regression losses need the noise sd σ (the likelihood is Σ(y − ŷ)²/2σ²);
//! mean losses need n.
//!
//! | knob | objective | prior variance s² |
//! |---|---|---|
//! | scikit-learn Ridge(alpha = a) | ‖y−Xw‖² + a‖w‖² | σ²/a |
//! | scikit-learn LogisticRegression(C) | C·Σℓᵢ + ½‖w‖² | C |
//! | glmnet / statsmodels (λ), gaussian | (1/2n)‖y−Xw‖² + (λ/2)‖w‖² | σ²/(nλ) |
//! | Keras l2(c), mean loss | mean ℓ + c‖w‖² | CE: 1/(2nc); MSE: σ²/(nc) |
//! | PyTorch SGD weight_decay = d, mean loss | mean ℓ + (d/2)‖w‖² | CE: 1/(nd); MSE: 2σ²/(nd) |
//! | AdamW decoupled decay | not an L2 penalty | none |

use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use crate::prior::{compact_number, MAX_SD, MIN_SD};
use std::fmt;

/// A regularisation knob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Knob {
    /// The prior sd s itself.
    PriorSd,
    /// scikit-learn Ridge(alpha).
    SklearnRidge,
    /// scikit-learn LogisticRegression(C).
    SklearnLogistic,
    /// glmnet / statsmodels ridge λ (gaussian family).
    Glmnet,
    /// Keras kernel_regularizer l2(c), with a mean loss.
    KerasL2,
    /// PyTorch SGD weight_decay, with a mean loss.
    TorchWeightDecay,
    /// AdamW's decoupled weight decay (no Gaussian prior).
    Adamw,
}

/// The loss the knob is paired with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Loss {
    /// Squared error (Gaussian likelihood; needs σ).
    Mse,
    /// Cross-entropy (logistic likelihood).
    CrossEntropy,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross-entropy",
        })
    }
}

impl Knob {
    /// Every knob, in the order conversions are listed.
    pub const ALL: [Knob; 7] = [
        Knob::PriorSd,
        Knob::SklearnRidge,
        Knob::SklearnLogistic,
        Knob::Glmnet,
        Knob::KerasL2,
        Knob::TorchWeightDecay,
        Knob::Adamw,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Knob::PriorSd => "prior-sd",
            Knob::SklearnRidge => "sklearn-ridge",
            Knob::SklearnLogistic => "sklearn-logistic",
            Knob::Glmnet => "glmnet",
            Knob::KerasL2 => "keras-l2",
            Knob::TorchWeightDecay => "torch-weight-decay",
            Knob::Adamw => "adamw",
        }
    }

    /// What the knob is, in the library's own words.
    pub fn describe(self) -> &'static str {
        match self {
            Knob::PriorSd => "prior sd s of w ~ N(0, s²I)",
            Knob::SklearnRidge => "scikit-learn Ridge(alpha)",
            Knob::SklearnLogistic => "scikit-learn LogisticRegression(C)",
            Knob::Glmnet => "glmnet / statsmodels ridge λ (gaussian)",
            Knob::KerasL2 => "Keras l2(c), mean loss",
            Knob::TorchWeightDecay => "PyTorch SGD weight_decay, mean loss",
            Knob::Adamw => "AdamW decoupled weight decay",
        }
    }

    /// The loss a knob implies, if it implies one.
    pub fn implied_loss(self) -> Option<Loss> {
        match self {
            Knob::SklearnRidge | Knob::Glmnet => Some(Loss::Mse),
            Knob::SklearnLogistic => Some(Loss::CrossEntropy),
            _ => None,
        }
    }
}

/// Why AdamW gets no number.
pub const ADAMW_REFUSAL: &str = "AdamW's decoupled weight decay is not an L2 penalty: it shrinks w by lr·d each step outside the adaptive preconditioner, so it is not the gradient of any fixed penalty added to the loss and corresponds to no fixed Gaussian prior; no number is printed. (Adam with L2 added to the loss, or SGD weight_decay, is a Gaussian prior: use torch-weight-decay.)";

/// What a conversion may need besides the value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ConversionContext {
    /// Rows n (for mean losses and glmnet).
    pub n: Option<usize>,
    /// Noise sd σ (for squared-error losses).
    pub noise_sd: Option<f64>,
}

fn need_n(ctx: &ConversionContext, knob: Knob) -> Result<f64> {
    ctx.n.map(|n| n as f64).ok_or_else(|| {
        OccamError::invalid(Setting::Rows, message![format!("{} averages the loss over rows, so the conversion needs the number of rows: give ", knob.describe()), (Setting::Rows, "N")])
    })
}

fn need_sigma(ctx: &ConversionContext, knob: Knob) -> Result<f64> {
    ctx.noise_sd.ok_or_else(|| {
        OccamError::invalid(Setting::NoiseSd, message![format!("{} with squared error weighs the penalty against Σ(y − ŷ)², so the conversion needs the noise sd σ: give ", knob.describe()), (Setting::NoiseSd, "S")])
    })
}

/// The prior variance s² that `knob = value` means with `loss`.
pub fn prior_variance(knob: Knob, value: f64, loss: Loss, ctx: &ConversionContext) -> Result<f64> {
    if !(value.is_finite() && value > 0.0) {
        return Err(OccamError::invalid(
            Setting::Value,
            format!(
                "'{}' is not a positive finite strength",
                compact_number(value)
            ),
        ));
    }
    check_loss(knob, loss)?;
    Ok(match (knob, loss) {
        (Knob::PriorSd, _) => value * value,
        (Knob::SklearnRidge, _) => need_sigma(ctx, knob)?.powi(2) / value,
        (Knob::SklearnLogistic, _) => value,
        (Knob::Glmnet, _) => need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * value),
        (Knob::KerasL2, Loss::CrossEntropy) => 1.0 / (2.0 * need_n(ctx, knob)? * value),
        (Knob::KerasL2, Loss::Mse) => need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * value),
        (Knob::TorchWeightDecay, Loss::CrossEntropy) => 1.0 / (need_n(ctx, knob)? * value),
        (Knob::TorchWeightDecay, Loss::Mse) => {
            2.0 * need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * value)
        }
        (Knob::Adamw, _) => return Err(OccamError::invalid(Setting::From, ADAMW_REFUSAL)),
    })
}

/// The value of `knob` that means prior variance `variance` with `loss` (the inverse of
/// [`prior_variance`]).
pub fn knob_value(knob: Knob, variance: f64, loss: Loss, ctx: &ConversionContext) -> Result<f64> {
    check_loss(knob, loss)?;
    Ok(match (knob, loss) {
        (Knob::PriorSd, _) => variance.sqrt(),
        (Knob::SklearnRidge, _) => need_sigma(ctx, knob)?.powi(2) / variance,
        (Knob::SklearnLogistic, _) => variance,
        (Knob::Glmnet, _) => need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * variance),
        (Knob::KerasL2, Loss::CrossEntropy) => 1.0 / (2.0 * need_n(ctx, knob)? * variance),
        (Knob::KerasL2, Loss::Mse) => {
            need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * variance)
        }
        (Knob::TorchWeightDecay, Loss::CrossEntropy) => 1.0 / (need_n(ctx, knob)? * variance),
        (Knob::TorchWeightDecay, Loss::Mse) => {
            2.0 * need_sigma(ctx, knob)?.powi(2) / (need_n(ctx, knob)? * variance)
        }
        (Knob::Adamw, _) => return Err(OccamError::invalid(Setting::From, ADAMW_REFUSAL)),
    })
}

/// `v` rounded to six significant digits (a range end printed as 1e300, not 9.999999999999999e299).
fn six_digits(v: f64) -> f64 {
    format!("{v:.5e}").parse().unwrap_or(v)
}

fn check_loss(knob: Knob, loss: Loss) -> Result<()> {
    match knob.implied_loss() {
        Some(implied) if implied != loss => Err(OccamError::invalid(
            Setting::Loss,
            format!(
                "{} goes with the {implied} loss, not {loss}",
                knob.describe()
            ),
        )),
        _ => Ok(()),
    }
}

/// One row of a conversion table: a knob's equivalent value, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Equivalent {
    /// The knob.
    pub knob: Knob,
    /// The loss it is paired with.
    pub loss: Loss,
    /// Its value, or the reason it has none here (naming the setting it needs, if that is why).
    pub value: std::result::Result<f64, Message>,
}

/// The conversion of one knob setting: s, α and every equivalent.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The prior sd s.
    pub prior_sd: f64,
    /// α = 1/s².
    pub prior_precision: f64,
    /// The loss or losses considered.
    pub losses: Vec<Loss>,
    /// Each knob's equivalent.
    pub equivalents: Vec<Equivalent>,
}

/// Converts `knob = value` into the prior sd and the equivalent of every other knob. `loss` may be
/// omitted when the knob implies it; for `prior-sd` without a loss both families are listed.
pub fn convert(
    knob: Knob,
    value: f64,
    loss: Option<Loss>,
    ctx: &ConversionContext,
) -> Result<Conversion> {
    if knob == Knob::Adamw {
        return Err(OccamError::invalid(Setting::From, ADAMW_REFUSAL));
    }
    let losses = match (knob.implied_loss(), loss) {
        (Some(implied), Some(given)) if implied != given => {
            return Err(OccamError::invalid(
                Setting::Loss,
                format!(
                    "{} goes with the {implied} loss, not {given}",
                    knob.describe()
                ),
            ))
        }
        (Some(implied), _) => vec![implied],
        (None, Some(given)) => vec![given],
        (None, None) if knob == Knob::PriorSd => vec![Loss::Mse, Loss::CrossEntropy],
        (None, None) => {
            return Err(OccamError::invalid(
                Setting::Loss,
                message![
                    format!("{} depends on the loss: give ", knob.describe()),
                    (Setting::Loss, "mse"),
                    " or ",
                    (Setting::Loss, "cross-entropy")
                ],
            ))
        }
    };
    let variance = prior_variance(knob, value, losses[0], ctx)?;
    // The same range check as every other route into a prior sd: s and α = 1/s² must both be
    // finite, non-zero doubles, or every number below would be 0, inf or null.
    let sd = if knob == Knob::PriorSd {
        value // s itself: s² may underflow where s does not
    } else {
        variance.sqrt()
    };
    if !(MIN_SD..=MAX_SD).contains(&sd) {
        let ends = [MIN_SD * MIN_SD, MAX_SD * MAX_SD]
            .map(|v| knob_value(knob, v, losses[0], ctx).unwrap_or(f64::NAN));
        return Err(OccamError::invalid(
            Setting::Value,
            format!(
                "{} = {} means a prior sd s = {}, outside [{MIN_SD:e}, {MAX_SD:e}] where s and 1/s² are finite non-zero doubles; give a value between {} and {}",
                knob.name(),
                compact_number(value),
                compact_number(sd),
                compact_number(six_digits(ends[0].min(ends[1]))),
                compact_number(six_digits(ends[0].max(ends[1]))),
            ),
        ));
    }
    let value_in = value;
    let mut equivalents = Vec::new();
    for &l in &losses {
        for other in Knob::ALL {
            if other == Knob::PriorSd || other.implied_loss().is_some_and(|i| i != l) {
                continue;
            }
            let value = if other == Knob::Adamw {
                Err("no fixed Gaussian prior (decoupled decay is not an L2 penalty)".into())
            } else {
                knob_value(other, variance, l, ctx).map_err(|e| match e {
                    OccamError::InvalidArgument { setting, .. } => message!["needs ", setting],
                    other => other.message(),
                })
            };
            if let Ok(v) = value {
                if !(v.is_finite() && v > 0.0) {
                    return Err(OccamError::invalid(
                        Setting::Value,
                        format!(
                            "{} = {} means s = {}, whose {} equivalent ({}) is not a finite non-zero double; give a less extreme value",
                            knob.name(),
                            compact_number(value_in),
                            compact_number(sd),
                            other.name(),
                            compact_number(v)
                        ),
                    ));
                }
            }
            equivalents.push(Equivalent {
                knob: other,
                loss: l,
                value,
            });
        }
    }
    Ok(Conversion {
        prior_sd: variance.sqrt(),
        prior_precision: 1.0 / variance,
        losses,
        equivalents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ConversionContext = ConversionContext {
        n: Some(442),
        noise_sd: Some(54.0),
    };

    #[test]
    fn every_knob_round_trips() {
        for knob in Knob::ALL.into_iter().filter(|k| *k != Knob::Adamw) {
            for loss in [Loss::Mse, Loss::CrossEntropy] {
                if knob.implied_loss().is_some_and(|l| l != loss) {
                    continue;
                }
                for value in [1e-4, 0.3, 7.0] {
                    let v = prior_variance(knob, value, loss, &CTX).unwrap();
                    let back = knob_value(knob, v, loss, &CTX).unwrap();
                    assert!(
                        ((back - value) / value).abs() < 1e-14,
                        "{knob:?} {loss}: {value} → {v} → {back}"
                    );
                }
            }
        }
    }

    #[test]
    fn table_values_follow_math_md() {
        // Ridge(alpha = a): s² = σ²/a.
        assert_eq!(
            prior_variance(Knob::SklearnRidge, 2.0, Loss::Mse, &CTX).unwrap(),
            54.0 * 54.0 / 2.0
        );
        // LogisticRegression(C): s² = C.
        assert_eq!(
            prior_variance(Knob::SklearnLogistic, 0.5, Loss::CrossEntropy, &CTX).unwrap(),
            0.5
        );
        // PyTorch weight decay with cross-entropy: s² = 1/(nd).
        assert_eq!(
            prior_variance(Knob::TorchWeightDecay, 0.01, Loss::CrossEntropy, &CTX).unwrap(),
            1.0 / (442.0 * 0.01)
        );
        // Keras and PyTorch agree when d = 2c (same penalty).
        let keras = prior_variance(Knob::KerasL2, 0.01, Loss::Mse, &CTX).unwrap();
        let torch = prior_variance(Knob::TorchWeightDecay, 0.02, Loss::Mse, &CTX).unwrap();
        assert!((keras - torch).abs() < 1e-12 * keras);
    }

    #[test]
    fn missing_context_and_adamw_are_refused_by_name() {
        let none = ConversionContext::default();
        let e = prior_variance(Knob::Glmnet, 0.1, Loss::Mse, &none).unwrap_err();
        assert!(
            matches!(
                &e,
                OccamError::InvalidArgument {
                    setting: Setting::NoiseSd,
                    ..
                }
            ),
            "{e}"
        );
        let e = prior_variance(Knob::TorchWeightDecay, 0.1, Loss::CrossEntropy, &none).unwrap_err();
        assert!(
            matches!(
                &e,
                OccamError::InvalidArgument {
                    setting: Setting::Rows,
                    ..
                }
            ),
            "{e}"
        );
        let e = convert(Knob::Adamw, 0.01, None, &CTX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an L2 penalty"), "{e}");
        assert!(convert(Knob::KerasL2, 0.01, None, &CTX).is_err());
    }
}
