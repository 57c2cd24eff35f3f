//! # occam — the Bayesian reading of L2 regularisation
//!
//! An L2 penalty (1/2s²)‖w − μ‖² is a Gaussian prior N(μ, s²I) on the weights. occam fits MAP
//! estimates under any such prior, computes the evidence and code lengths, and compares priors
//! centred at zero against priors centred elsewhere.
//!
//! The modules follow the data: [`data`] (CSV, built-ins, standardisation, sufficient statistics)
//! → [`prior`] (the Gaussian prior and its centres) → [`model`] (likelihood, gradient, curvature)
//! → [`inference`] (MAP via argmin, exact evidence, empirical Bayes) → [`fit`] (one model, one
//! prior, end to end) → [`report`] (tables in every format) → the command line.
//!
//! The conventions that change a printed number are in `math.md`; a fit from Rust:
//!
//! ```
//! use occam::data::{self, ColumnSelection};
//! use occam::fit::{fit_linear, FitOptions};
//!
//! let dataset = data::load("diabetes", &ColumnSelection::default()).unwrap();
//! let fit = fit_linear(&dataset, &FitOptions::default()).unwrap();
//! assert_eq!(fit.posterior.mean.len(), 10);
//! assert!(fit.posterior.summary.effective_parameters < 10.0);
//! ```
//!
//! Cargo features, all on by default: `cli` (the `occam` binary and clap's `ValueEnum` on the
//! library's enums; it turns on the other two), `figures` (report folders with SVG figures:
//! [`report::engine`] and `occam run`'s runner, drawn by plotters) and `progress` (spinners on a
//! terminal, by indicatif). `default-features = false` gives the library without clap, plotters
//! or indicatif.

pub mod codelength;
pub mod compare;
pub mod data;
pub mod error;
pub mod files;
pub mod fit;
pub mod inference;
pub mod linalg;
pub mod memory;
pub mod model;
pub mod prior;
pub mod progress;
pub mod random;
pub mod report;
#[cfg(feature = "figures")]
pub mod run;
pub mod simulate;
pub mod special;

#[cfg(test)]
mod testing;

pub use error::{OccamError, Result};

/// The crate's version (Cargo.toml), for front ends that report it (the Python package's `__version__`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// README.md's Rust examples, compiled and run as doctests (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
