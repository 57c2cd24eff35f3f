//! Progress without the `progress` feature: the same items, drawing nothing.
//!
//! The items are documented on their wrappers in [`super`].

pub fn enable() {}

pub struct Step;

pub fn step(_message: impl Into<String>) -> Step {
    Step
}

pub struct Bar;

impl Bar {
    pub fn new(_steps: usize, _show: bool) -> Self {
        Bar
    }

    pub fn set_message(&self, _message: impl Into<String>) {}

    pub fn inc(&self, _steps: u64) {}

    pub fn finish(&self) {}
}
