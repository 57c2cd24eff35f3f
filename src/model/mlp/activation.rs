//! The hidden units' nonlinearity φ, applied to a chunk's pre-activations and differentiated
//! through its outputs.

use crate::linalg::map_biased_rows;
use crate::special::{logistic_kernel, tanh_kernel};
use serde::{Deserialize, Serialize};

/// The hidden units' nonlinearity φ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// φ(a) = 1/(1 + e⁻ᵃ).
    Sigmoid,
    /// φ(a) = tanh a.
    Tanh,
    /// φ(a) = max(a, 0).
    Relu,
}

impl Activation {
    /// φ(a).
    pub fn apply(self, a: f64) -> f64 {
        match self {
            Activation::Sigmoid => logistic_kernel(a),
            Activation::Tanh => tanh_kernel(a),
            Activation::Relu => a.max(0.0),
        }
    }

    /// φ′(a) written through the output h = φ(a): h(1 − h), 1 − h², or 𝟙(h > 0) (0 at the kink).
    pub fn derivative_from_output(self, h: f64) -> f64 {
        match self {
            Activation::Sigmoid => h * (1.0 - h),
            Activation::Tanh => 1.0 - h * h,
            Activation::Relu => f64::from(u8::from(h > 0.0)),
        }
    }

    /// |a| at or above which a unit counts as saturated: 4 for sigmoid, 2 for tanh (math.md §4);
    /// none for ReLU.
    pub fn saturation_threshold(self) -> Option<f64> {
        match self {
            Activation::Sigmoid => Some(4.0),
            Activation::Tanh => Some(2.0),
            Activation::Relu => None,
        }
    }

    /// Whether flipping a unit's sign (its incoming weights and bias, its outgoing weights, and for
    /// sigmoid the next layer's bias) leaves the function unchanged: tanh and sigmoid.
    pub fn has_sign_symmetry(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Tanh)
    }

    /// The name on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }
}

/// h ← φ(pre + b) row by row, with pre ← pre + b kept, by the bit-stable kernels of
/// [`crate::special`] (vectorised by [`map_biased_rows`]; the same bits on every machine).
pub(super) fn activate(activation: Activation, bias: &[f64], pre: &mut [f64], act: &mut [f64]) {
    match activation {
        Activation::Tanh => map_biased_rows(bias, pre, act, tanh_kernel),
        Activation::Sigmoid => map_biased_rows(bias, pre, act, logistic_kernel),
        Activation::Relu => map_biased_rows(bias, pre, act, |a: f64| a.max(0.0)),
    }
}

/// v ← v ⊙ φ′, φ′ written through the activations h.
pub(super) fn multiply_derivative(activation: Activation, v: &mut [f64], h: &[f64]) {
    match activation {
        Activation::Tanh => v.iter_mut().zip(h).for_each(|(v, h)| *v *= 1.0 - h * h),
        Activation::Sigmoid => v.iter_mut().zip(h).for_each(|(v, h)| *v *= h * (1.0 - h)),
        Activation::Relu => v.iter_mut().zip(h).for_each(|(v, h)| {
            if *h <= 0.0 {
                *v = 0.0;
            }
        }),
    }
}
