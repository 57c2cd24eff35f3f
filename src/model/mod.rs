//! Models: likelihood, gradient and curvature of each model under a Gaussian prior.
//!
//! A model here is a *problem* (cost, gradient, Hessian: the traits of [`problem`]); it never
//! knows which solver minimises it. The solvers live in [`crate::inference`], which adapts these
//! traits to argmin's.

pub mod linear;
pub mod logistic;
pub mod mlp;
pub mod problem;
pub mod softmax;
mod softmax_pass;

use crate::error::{OccamError, Result, Setting};
use std::fmt;

/// How the intercept is treated (math.md §1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Intercept {
    /// Features and target are centred; the intercept is mean(y) − mean(x)·w, not a parameter
    /// (linear regression's default).
    Centered,
    /// A parameter under the same prior N(μ, s²) as the weights (logistic and MLP default).
    Shared,
    /// A parameter with a flat (improper) prior.
    Free,
    /// A parameter with its own prior N(0, SD²).
    Prior(f64),
    /// No intercept: the model passes through the origin of the (standardised) features.
    None,
}

impl Intercept {
    /// Parses `centered|free|prior:SD|none`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "centered" | "centred" => Ok(Intercept::Centered),
            "shared" => Ok(Intercept::Shared),
            "free" => Ok(Intercept::Free),
            "none" => Ok(Intercept::None),
            other => match other
                .strip_prefix("prior:")
                .map(|s| s.trim().parse::<f64>())
            {
                Some(Ok(sd)) => {
                    crate::prior::check_sd(Setting::Intercept, sd).map(Intercept::Prior)
                }
                Some(Err(_)) => Err(OccamError::invalid(
                    Setting::Intercept,
                    format!("'{other}': prior:SD needs a positive finite sd, e.g. prior:10"),
                )),
                None => Err(OccamError::invalid(
                    Setting::Intercept,
                    format!(
                        "unknown intercept '{other}'; use centered, shared, free, prior:SD or none"
                    ),
                )),
            },
        }
    }
}

impl fmt::Display for Intercept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Intercept::Centered => write!(f, "centered"),
            Intercept::Shared => write!(f, "shared"),
            Intercept::Free => write!(f, "free"),
            Intercept::Prior(sd) => write!(f, "prior:{sd}"),
            Intercept::None => write!(f, "none"),
        }
    }
}
