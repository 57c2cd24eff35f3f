//! Reports: the numbers of a fit as JSON (cli.md's keys), a terminal table, Markdown, LaTeX and
//! CSV, and atomic writing of any of them.

pub mod compare;
pub mod convert;
pub mod fit;
pub mod format;

pub use compare::CompareReport;
pub use fit::FitReport;
pub use format::{write_atomic, OutputFormat};
