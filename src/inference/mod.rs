//! Inference: MAP estimates through argmin, exact evidence of the linear-Gaussian model, and
//! empirical Bayes for the prior and noise scales.

pub mod exact;
pub mod map;

pub use exact::{EmpiricalBayes, Hyperparameters, LinearGaussian, Posterior, Summary};
pub use map::{minimize_lbfgs, LbfgsOptions, MapEstimate};
