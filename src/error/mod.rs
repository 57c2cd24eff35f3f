//! The crate's one error type.
//!
//! Every variant says what is wrong and, where there is one, the fix. Variants fall into two
//! families that map onto the command line's exit codes: bad input or usage (exit 2) and a
//! computation that failed on valid input (exit 1).
//!
//! An error names the setting at fault, and the settings its fix mentions, as a typed
//! [`Setting`] (in [`Message`]s); the front end spells them with [`OccamError::render`]
//! (`occam` as flags), and [`Display`](std::fmt::Display) spells them as the library names them
//! ([`LibraryNames`]).

mod message;
mod setting;

pub use message::{LibraryNames, Message, Part, SettingNames};
pub use setting::Setting;

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in occam.
#[derive(Debug)]
pub enum OccamError {
    /// A file could not be opened or read.
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The data named neither a file nor a built-in data set.
    UnknownDataset {
        /// What was asked for.
        name: String,
        /// The built-in names.
        available: String,
    },

    /// A CSV file is malformed: empty, header only, ragged, a bad cell or a bad header.
    Csv {
        /// The file or built-in name.
        source_name: String,
        /// What is wrong, naming the line and column.
        message: Message,
    },

    /// A column named in the settings does not exist, or is named twice.
    Column {
        /// The setting at fault.
        setting: Setting,
        /// What is wrong and the columns that do exist.
        message: Message,
    },

    /// A feature is constant, so it cannot be standardised.
    ConstantFeature {
        /// The file or built-in name.
        source_name: String,
        /// The constant column.
        column: String,
    },

    /// The target does not fit the model (e.g. not binary for logistic regression).
    Target {
        /// The file or built-in name.
        source_name: String,
        /// What is wrong.
        message: Message,
    },

    /// A setting's value is invalid (a non-positive sd, a malformed prior centre, …).
    InvalidArgument {
        /// The setting at fault.
        setting: Setting,
        /// What is wrong and the fix.
        message: Message,
    },

    /// A prior centre has the wrong number of coordinates.
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
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The computation itself failed on valid input (no convergence, a singular system).
    Computation {
        /// The step that failed.
        what: String,
        /// What was tried, and what the user can change.
        message: Message,
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
    pub fn invalid(setting: Setting, message: impl Into<Message>) -> Self {
        OccamError::InvalidArgument {
            setting,
            message: message.into(),
        }
    }

    /// The error's text with its settings spelled by `names`; [`Display`](fmt::Display) is
    /// `render(&LibraryNames)`.
    pub fn render(&self, names: &dyn SettingNames) -> String {
        self.message().render(names)
    }

    /// The error's text as a [`Message`], its settings typed: for a front end to spell, or for
    /// another error to wrap.
    pub fn message(&self) -> Message {
        match self {
            OccamError::Read { path, source } => {
                format!("cannot read {}: {source}", path.display()).into()
            }
            OccamError::UnknownDataset { name, available } => format!(
                "no file '{name}' and no built-in data set of that name (built-ins: {available}; list them with `occam datasets`)"
            )
            .into(),
            OccamError::Csv {
                source_name,
                message,
            } => Message::from(format!("{source_name}: ")).then(message.clone()),
            OccamError::Column { setting, message }
            | OccamError::InvalidArgument { setting, message } => {
                crate::message![*setting, ": "].then(message.clone())
            }
            OccamError::ConstantFeature {
                source_name,
                column,
            } => crate::message![
                format!("{source_name}: feature '{column}' is constant (sd = 0), so it cannot be standardised; drop it with `"),
                (Setting::Exclude, column.as_str()),
                "`"
            ],
            OccamError::Target {
                source_name,
                message,
            } => Message::from(format!("{source_name}: ")).then(message.clone()),
            OccamError::CenterLength {
                spec,
                expected,
                found,
                detail,
            } => crate::message![
                Setting::PriorCenter,
                format!(" {spec}: the centre has {found} coordinates but the model has {expected} parameters ({detail})")
            ],
            OccamError::Spec {
                path,
                line,
                column,
                key,
                message,
            } => format!(
                "{} line {line}, column {column}: key `{key}`: {message}",
                path.display()
            )
            .into(),
            OccamError::Write { path, source } => {
                format!("cannot write {}: {source}", path.display()).into()
            }
            OccamError::Computation { what, message } => {
                Message::from(format!("{what} failed: ")).then(message.clone())
            }
        }
    }

    /// Shorthand for an [`OccamError::Computation`].
    pub fn computation(what: &str, message: impl Into<Message>) -> Self {
        OccamError::Computation {
            what: what.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for OccamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&LibraryNames))
    }
}

impl std::error::Error for OccamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OccamError::Read { source, .. } | OccamError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, OccamError>;
