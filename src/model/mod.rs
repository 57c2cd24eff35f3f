//! Models: likelihood, gradient and curvature of each model under a Gaussian prior.
//!
//! A model here is a *problem* in argmin's sense (cost, gradient, Hessian); it never knows which
//! solver minimises it. The solvers live in [`crate::inference`].

pub mod linear;
pub mod logistic;
pub mod mlp;

use crate::error::{OccamError, Result, Setting};
use nalgebra::DVector;
use std::fmt;
use std::sync::{Arc, Mutex};

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

/// The last (θ, value, gradient) a fused problem computed, shared by its clones.
///
/// argmin's L-BFGS with the Moré–Thuente line search asks for the cost and then the gradient at
/// every trial point, and for the gradient again at the accepted point; a problem that computes
/// both in one pass over the rows keeps them here and answers the next request at the same θ
/// without another pass. Keyed only by θ, so it must belong to one problem.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastEvaluation(Arc<Mutex<Option<Evaluation>>>);

/// θ, the value there and the gradient there.
type Evaluation = (DVector<f64>, f64, DVector<f64>);

impl LastEvaluation {
    /// The remembered (value, gradient) at θ, or `compute(θ)`, remembered.
    pub(crate) fn get_or_compute(
        &self,
        theta: &DVector<f64>,
        compute: impl FnOnce(&DVector<f64>) -> (f64, DVector<f64>),
    ) -> (f64, DVector<f64>) {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, value, gradient)) = last.as_ref() {
            if at == theta {
                return (*value, gradient.clone());
            }
        }
        let (value, gradient) = compute(theta);
        *last = Some((theta.clone(), value, gradient.clone()));
        (value, gradient)
    }

    /// Remembers a (value, gradient) at θ computed elsewhere.
    pub(crate) fn store(&self, theta: &DVector<f64>, value: f64, gradient: DVector<f64>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((theta.clone(), value, gradient));
    }
}
