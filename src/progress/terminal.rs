//! Progress drawn by indicatif on a terminal's stderr.
//!
//! The items are documented on their wrappers in [`super`].

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::SHOW_AFTER;

static ENABLED: AtomicBool = AtomicBool::new(false);

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

pub struct Step {
    id: Option<u64>,
}

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

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(steps: usize, show: bool) -> Self {
        if show && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let bar = ProgressBar::new(steps as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Bar(bar)
        } else {
            Bar(ProgressBar::hidden())
        }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        self.0.set_message(message.into());
    }

    pub fn inc(&self, steps: u64) {
        self.0.inc(steps);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
