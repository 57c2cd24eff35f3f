//! The crate's one error type.
//!
//! Every variant says what is wrong and, where there is one, the fix. Variants fall into two
//! families that map onto the command line's exit codes: bad input or usage (exit 2) and a
//! computation that failed on valid input (exit 1).

use std::path::PathBuf;

/// Everything that can go wrong in occam.
#[derive(Debug, thiserror::Error)]
pub enum OccamError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// `--data NAME` named neither a file nor a built-in data set.
    #[error("no file '{name}' and no built-in data set of that name (built-ins: {available}; list them with `occam datasets`)")]
    UnknownDataset {
        /// What was asked for.
        name: String,
        /// The built-in names.
        available: String,
    },

    /// A CSV file is malformed: empty, header only, ragged, a bad cell or a bad header.
    #[error("{source_name}: {message}")]
    Csv {
        /// The file or built-in name.
        source_name: String,
        /// What is wrong, naming the line and column.
        message: String,
    },

    /// A column named on the command line does not exist, or is named twice.
    #[error("{flag}: {message}")]
    Column {
        /// The flag at fault.
        flag: String,
        /// What is wrong and the columns that do exist.
        message: String,
    },

    /// A feature is constant, so it cannot be standardised.
    #[error("{source_name}: feature '{column}' is constant (sd = 0), so it cannot be standardised; drop it with `--exclude {column}`")]
    ConstantFeature {
        /// The file or built-in name.
        source_name: String,
        /// The constant column.
        column: String,
    },

    /// The target does not fit the model (e.g. not binary for logistic regression).
    #[error("{source_name}: {message}")]
    Target {
        /// The file or built-in name.
        source_name: String,
        /// What is wrong.
        message: String,
    },

    /// A flag's value is invalid (a non-positive sd, a malformed prior centre, …).
    #[error("{flag}: {message}")]
    InvalidArgument {
        /// The flag at fault.
        flag: String,
        /// What is wrong and the fix.
        message: String,
    },

    /// A prior centre has the wrong number of coordinates.
    #[error("--prior-center {spec}: the centre has {found} coordinates but the model has {expected} parameters ({detail})")]
    CenterLength {
        /// The centre as written.
        spec: String,
        /// The parameter count.
        expected: usize,
        /// The centre's length.
        found: usize,
        /// The parameter order, so the user can build a vector of the right length.
        detail: String,
    },

    /// A study spec (`occam run SPEC.toml`) is malformed or names something that is not there:
    /// the file, the line and column, the key at fault, and the fix.
    #[error("{path} line {line}, column {column}: key `{key}`: {message}")]
    Spec {
        /// The spec file.
        path: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The dotted key, e.g. `study[1].priors.centers[2]`.
        key: String,
        /// What is wrong and the fix.
        message: String,
    },

    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The computation itself failed on valid input (no convergence, a singular system).
    #[error("{what} failed: {message}")]
    Computation {
        /// The step that failed.
        what: String,
        /// What was tried, and what the user can change.
        message: String,
    },
}

impl OccamError {
    /// The process exit code for this error: 2 for bad input or usage, 1 when the computation failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            OccamError::Computation { .. } => 1,
            _ => 2,
        }
    }

    /// Shorthand for an [`OccamError::InvalidArgument`].
    pub fn invalid(flag: &str, message: impl Into<String>) -> Self {
        OccamError::InvalidArgument {
            flag: flag.to_string(),
            message: message.into(),
        }
    }

    /// Shorthand for an [`OccamError::Computation`].
    pub fn computation(what: &str, message: impl Into<String>) -> Self {
        OccamError::Computation {
            what: what.to_string(),
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, OccamError>;
