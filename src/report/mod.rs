//! Reports: the numbers of a fit or a comparison as JSON (cli.md's keys), a terminal table,
//! Markdown, LaTeX and CSV; figures; `occam report`'s built-in studies and the folder writer
//! that `occam run` ([`crate::run`]) shares.

pub mod command;
pub mod compare;
pub mod compare_structures;
pub mod convert;
pub mod datasets;
#[cfg(feature = "figures")]
pub mod engine;
pub mod figure;
pub mod fit;
mod fit_grouped;
pub mod format;
pub mod studies;
pub mod table;

pub use compare::CompareReport;
pub use fit::FitReport;
pub use format::{write_atomic, OutputFormat};
