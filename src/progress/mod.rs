//! Progress for long steps: a spinner on stderr, only when stderr is a terminal, only once a step
//! has run for a second, and never in the bytes of an output (stdout or an output file).
//!
//! The command line switches it on ([`enable`]); the library alone never draws. A step is a guard:
//! `let _step = progress::step("eigendecomposition of XᵀX (2000 × 2000)");` shows the message
//! with the elapsed time if the step takes more than [`SHOW_AFTER`], and clears it when dropped.
//! A [`Bar`] counts the studies of a report folder.
//!
//! Drawing needs the `progress` feature (indicatif); without it every item here is a no-op with
//! the same signature, so callers never need a `cfg`.

use std::time::Duration;

#[cfg(not(feature = "progress"))]
mod silent;
#[cfg(feature = "progress")]
mod terminal;

#[cfg(not(feature = "progress"))]
use silent as imp;
#[cfg(feature = "progress")]
use terminal as imp;

/// Steps shorter than this draw nothing.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Lets [`step`] draw, if stderr is a terminal (a pipe or a file never gets progress bytes).
pub fn enable() {
    imp::enable();
}

/// A long step in progress; its message leaves the spinner when the guard is dropped, and the
/// spinner is cleared when the outermost step ends.
pub struct Step {
    _guard: imp::Step,
}

/// Starts a step described by `message`: once progress is enabled and the outermost step has run
/// for [`SHOW_AFTER`], one spinner on stderr shows the innermost step's message; nothing happens
/// otherwise.
pub fn step(message: impl Into<String>) -> Step {
    Step {
        _guard: imp::step(message),
    }
}

/// A bar of `steps` steps with a message (`{bar} {pos}/{len} {msg} ({elapsed})`), drawn on stderr
/// only when asked to and stderr is a terminal; hidden otherwise.
pub struct Bar(imp::Bar);

impl Bar {
    /// A bar of `steps` steps, drawn only if `show` and stderr is a terminal.
    pub fn new(steps: usize, show: bool) -> Self {
        Bar(imp::Bar::new(steps, show))
    }

    /// Names the step under way.
    pub fn set_message(&self, message: impl Into<String>) {
        self.0.set_message(message);
    }

    /// Advances the bar by `steps`.
    pub fn inc(&self, steps: u64) {
        self.0.inc(steps);
    }

    /// Clears the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish();
    }
}
