//! Reports: the numbers of a fit as JSON (cli.md's keys), a terminal table, Markdown, LaTeX and
//! CSV, and atomic writing of any of them.

pub mod fit;
pub mod format;

pub use fit::FitReport;
pub use format::{write_atomic, OutputFormat};
