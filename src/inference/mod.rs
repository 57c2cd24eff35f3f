//! Inference: MAP estimates through argmin, exact evidence of the linear-Gaussian model, and
//! empirical Bayes for the prior and noise scales.

pub mod argmin_problem;
pub mod curvature;
pub mod exact;
pub mod grouped;
pub mod grouped_laplace;
pub mod kfac;
pub mod kfac_search;
pub mod laplace;
pub mod last_layer;
pub mod map;
pub mod network_mode;
pub mod softmax_mode;

pub use exact::{EmpiricalBayes, Hyperparameters, LinearGaussian, Posterior, Summary};
pub use laplace::{find_mode, laplace_evidence, maximize_over_log_sd, LaplaceEvidence, Mode};
pub use map::{minimize_lbfgs, run_lbfgs, LbfgsEnd, LbfgsOptions, MapEstimate};
