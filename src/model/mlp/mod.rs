//! Multilayer perceptrons under a Gaussian prior N(μ, Λ⁻¹) on **all** weights and biases
//! (math.md §4).
//!
//! A network maps a standardised row x to an output pre-activation η through hidden layers
//! a⁽ˡ⁾ = W⁽ˡ⁾h⁽ˡ⁻¹⁾ + b⁽ˡ⁾, h⁽ˡ⁾ = φ(a⁽ˡ⁾), h⁽⁰⁾ = x, and one linear output unit
//! η = w_outᵀh⁽ᴸ⁾ + b_out. With no hidden layer it is linear (regression) or logistic
//! (classification) regression.
//!
//! * regression: y ~ N(η, 1/β), negative log likelihood
//!   ℓ(θ) = (β/2)Σᵢ(yᵢ − ηᵢ)² − (n/2) ln β + (n/2) ln 2π (a true −ln p(y | θ));
//! * classification: P(y = 1) = σ(η), ℓ(θ) = Σᵢ softplus(ηᵢ) − yᵢηᵢ;
//! * negative log posterior f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ), Λ diagonal;
//! * gradient ∇ℓ = Σᵢ rᵢJᵢ by backpropagation, Jᵢ = ∂ηᵢ/∂θ, rᵢ = ∂ℓ/∂ηᵢ = β(ηᵢ − yᵢ) or σ(ηᵢ) − yᵢ;
//! * generalised Gauss–Newton G = Σᵢ λᵢJᵢJᵢᵀ, λᵢ = ∂²ℓ/∂ηᵢ² = β or pᵢ(1 − pᵢ): always PSD, and
//!   equal to ∇²ℓ when there is no hidden layer (then η is linear in θ);
//! * exact Hessian ∇²ℓ = G + Σᵢ rᵢ∇²ηᵢ, here by central differences of the analytic gradient.
//!
//! **Parameter order** (what a centre vector, e.g. pretrained weights for L2-SP, must follow):
//! layer by layer from the input; within a layer its weight matrix row-major with one row per
//! *output* unit (`W[out][in]`), then that layer's biases; the output layer (one unit) last. So
//! 10-32-1 has `layer1.w[0,0] … layer1.w[0,9], layer1.w[1,0] … layer1.w[31,9], layer1.b[0] …
//! layer1.b[31], output.w[0,0] … output.w[0,31], output.b[0]` (see
//! [`Architecture::parameter_names`]).
//!
//! **Computation.** Sums over rows run over the fixed blocks of [`crate::linalg::map_row_blocks`], each cut into
//! fixed sub-blocks of 512 rows (spread over the cores when all rows fit in one block) and chunks
//! of 256 rows whose forward and backward passes are dense matrix products (matrixmultiply) on
//! scratch buffers allocated once per sub-block — never per row; partial sums are added in a fixed
//! order, so every result has the same bits on any number of threads. tanh and σ of the hidden
//! units are branch-free kernels in plain IEEE arithmetic (within 5e-16 of libm), which vectorise
//! and give the same bits on every machine. For argmin's L-BFGS use [`MlpProblem::fused`], which
//! gets the cost and gradient from one pass.

mod activation;
mod architecture;
mod curvature;
mod diagnostics;
mod passes;
mod problem;

pub use activation::Activation;
pub use architecture::{initial_parameters, Architecture, Layer, Task};
pub(crate) use curvature::GGN_CHUNK_ROWS;
pub use curvature::HESSIAN_STEP;
pub use diagnostics::{
    dead_relu_fraction, diagnostics, layer_symmetries, participation_ratios, saturation_fraction,
    symmetry_log_count, weight_norms, Diagnostics, LayerParticipation, LayerSymmetry,
    CLONE_TOLERANCE,
};
pub use problem::{FusedMlpProblem, MlpProblem};

#[cfg(test)]
mod softmax_tests;
#[cfg(test)]
mod tests;
