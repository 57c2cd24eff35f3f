//! An error's text with typed references to settings, spelled by whoever shows it.
//!
//! "choose a binary column with" and then the target column's setting is, in the library, the
//! text "choose a binary column with " and [`Setting::Target`]; `occam` renders the setting as its
//! flag, and the library's own [`Display`](fmt::Display) as `target` ([`Setting::name`]).

use std::fmt;

use super::Setting;

/// How a front end spells the settings an error, a note or a printed command mentions. `Sync`,
/// so that the studies of a report may share one; `Debug`, so that what holds one can be shown.
pub trait SettingNames: fmt::Debug + Sync {
    /// The setting alone (`occam`: its flag).
    fn setting(&self, setting: Setting) -> String;

    /// The setting given a value (`occam`: the flag, a space, the value).
    fn assignment(&self, setting: Setting, value: &str) -> String {
        format!("{} {value}", self.setting(setting))
    }
}

/// The library's own spelling: [`Setting::name`], and `name = value`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibraryNames;

impl SettingNames for LibraryNames {
    fn setting(&self, setting: Setting) -> String {
        setting.name().to_string()
    }

    fn assignment(&self, setting: Setting, value: &str) -> String {
        format!("{} = {value}", setting.name())
    }
}

/// One piece of a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text shown as it is.
    Text(String),
    /// A setting, spelled by the front end.
    Setting(Setting),
    /// A setting given a value (the loss given as mse).
    Assignment(Setting, String),
}

impl From<&str> for Part {
    fn from(text: &str) -> Self {
        Part::Text(text.to_string())
    }
}

impl From<String> for Part {
    fn from(text: String) -> Self {
        Part::Text(text)
    }
}

impl From<Setting> for Part {
    fn from(setting: Setting) -> Self {
        Part::Setting(setting)
    }
}

impl<V: Into<String>> From<(Setting, V)> for Part {
    fn from((setting, value): (Setting, V)) -> Self {
        Part::Assignment(setting, value.into())
    }
}

/// What is wrong and the fix, as text and typed references ([`Part`]); build one with
/// [`message!`](crate::message) or from a plain string, and wrap another error's with
/// [`then`](Message::then) and [`OccamError::message`](super::OccamError::message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    parts: Vec<Part>,
}

impl Message {
    /// A message of these parts, in order.
    pub fn from_parts(parts: Vec<Part>) -> Self {
        Message { parts }
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The message with its settings spelled by `names`.
    pub fn render(&self, names: &dyn SettingNames) -> String {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text += t,
                Part::Setting(s) => text += &names.setting(*s),
                Part::Assignment(s, value) => text += &names.assignment(*s, value),
            }
        }
        text
    }

    /// This message followed by `other`.
    pub fn then(mut self, other: Message) -> Self {
        self.parts.extend(other.parts);
        self
    }

    /// The message with every mention of `from` (alone or given a value) turned into `to`: for a
    /// front end whose command names a setting differently (`compare` sets the prior sd as
    /// [`Setting::Sds`], where a fit's message says [`Setting::PriorSd`]).
    pub fn substitute(mut self, from: Setting, to: Setting) -> Self {
        for part in &mut self.parts {
            match part {
                Part::Setting(s) | Part::Assignment(s, _) if *s == from => *s = to,
                _ => {}
            }
        }
        self
    }

    /// This message followed by `part`.
    pub fn and(mut self, part: impl Into<Part>) -> Self {
        self.parts.push(part.into());
        self
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::from_parts(vec![text.into()])
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::from_parts(vec![text.into()])
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&LibraryNames))
    }
}

/// A [`Message`] of text, settings and `(setting, value)` pairs, in order:
///
/// ```
/// use occam::error::Setting;
///
/// let message = occam::message!["use fewer features (", Setting::Features, "), or ", (Setting::Codes, "none")];
/// assert_eq!(message.to_string(), "use fewer features (features), or codes = none");
/// ```
#[macro_export]
macro_rules! message {
    ($($part:expr),* $(,)?) => {
        $crate::error::Message::from_parts(vec![$($crate::error::Part::from($part)),*])
    };
}
