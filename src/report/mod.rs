//! Reports: the numbers of a fit or a comparison as JSON (cli.md's keys), a terminal table,
//! Markdown, LaTeX and CSV; figures; `occam report`'s built-in studies and their folder; and
//! `occam run`'s study specs, written to the same kind of folder.

pub mod compare;
pub mod convert;
pub mod engine;
pub mod figure;
pub mod fit;
pub mod format;
pub mod run;
pub mod spec;
pub mod studies;
pub mod table;

pub use compare::CompareReport;
pub use fit::FitReport;
pub use format::{write_atomic, OutputFormat};
