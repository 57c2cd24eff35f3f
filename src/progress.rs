//! Progress for long steps: a spinner on stderr, only when stderr is a terminal, only once a step
//! has run for a second, and never in the bytes of an output (stdout or `--out`).
//!
//! The command line switches it on ([`enable`]); the library alone never draws. A step is a guard:
//! `let _step = progress::step("eigendecomposition of XᵀX (2000 × 2000)");` shows the message
//! with the elapsed time if the step takes more than [`SHOW_AFTER`], and clears it when dropped.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Steps shorter than this draw nothing.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Lets [`step`] draw, if stderr is a terminal (a pipe or a file never gets progress bytes).
pub fn enable() {
    ENABLED.store(
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        Ordering::Relaxed,
    );
}

/// The steps under way (innermost last) and the one spinner that shows the innermost.
struct Steps {
    stack: Vec<(u64, String)>,
    bar: Option<ProgressBar>,
    next_id: u64,
}

static STEPS: Mutex<Steps> = Mutex::new(Steps {
    stack: Vec::new(),
    bar: None,
    next_id: 0,
});

/// A long step in progress; its message leaves the spinner when the guard is dropped, and the
/// spinner is cleared when the outermost step ends.
pub struct Step {
    id: Option<u64>,
}

/// Starts a step described by `message`: once progress is enabled and the outermost step has run
/// for [`SHOW_AFTER`], one spinner on stderr shows the innermost step's message; nothing happens
/// otherwise.
pub fn step(message: impl Into<String>) -> Step {
    if !ENABLED.load(Ordering::Relaxed) {
        return Step { id: None };
    }
    let Ok(mut steps) = STEPS.lock() else {
        return Step { id: None };
    };
    let id = steps.next_id;
    steps.next_id += 1;
    let message = message.into();
    steps.stack.push((id, message.clone()));
    match &steps.bar {
        Some(bar) => bar.set_message(message),
        None => {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {wide_msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(message);
            steps.bar = Some(bar);
            // Reveal the spinner only if this outermost step is still running after SHOW_AFTER.
            std::thread::spawn(move || {
                std::thread::sleep(SHOW_AFTER);
                let Ok(steps) = STEPS.lock() else { return };
                if let (Some((first, _)), Some(bar)) = (steps.stack.first(), &steps.bar) {
                    if *first == id {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(120));
                    }
                }
            });
        }
    }
    Step { id: Some(id) }
}

impl Drop for Step {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let Ok(mut steps) = STEPS.lock() else { return };
        steps.stack.retain(|(i, _)| *i != id);
        match steps.stack.last().map(|(_, m)| m.clone()) {
            Some(message) => {
                if let Some(bar) = &steps.bar {
                    bar.set_message(message);
                }
            }
            None => {
                if let Some(bar) = steps.bar.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}
