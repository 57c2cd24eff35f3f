//! Positions and keys: byte offsets of the spec turned into line, column and dotted key; serde's
//! errors turned into spec errors (with the closest valid key for a typo); enum-like strings
//! checked against their choices.

use super::Location;
use crate::error::{OccamError, Result};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Turns byte offsets of the spec into locations.
pub(super) struct Source<'a> {
    /// The spec file, as named on the command line.
    pub(super) path: &'a Path,
    /// Its text.
    pub(super) text: &'a str,
}

impl Source<'_> {
    /// The location of byte range `span`, named by the dotted `key`.
    pub(super) fn location(&self, span: &Range<usize>, key: &str) -> Location {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, rest)| rest)
            .chars()
            .count()
            + 1;
        Location {
            path: self.path.to_path_buf(),
            line,
            column,
            key: key.to_string(),
        }
    }

    /// An [`OccamError::Spec`] at byte range `span`.
    pub(super) fn error(
        &self,
        span: &Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> OccamError {
        self.location(span, key).error(message)
    }
}

/// The dotted key whose key or value covers byte `at`, found by walking the parsed document with
/// its spans (a recoverable parse, so it works on documents with syntax errors too).
fn key_at(text: &str, at: usize) -> String {
    use toml::de::{DeTable, DeValue};
    fn walk(table: &DeTable<'_>, prefix: &str, at: usize) -> Option<String> {
        let join = |key: &str| {
            if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            }
        };
        for (key, value) in table.iter() {
            let name = join(key.get_ref());
            if key.span().contains(&at) {
                return Some(name);
            }
            match value.get_ref() {
                DeValue::Table(inner) => {
                    if let Some(found) = walk(inner, &name, at) {
                        return Some(found);
                    }
                }
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let indexed = format!("{name}[{}]", i + 1);
                        if let DeValue::Table(inner) = item.get_ref() {
                            if let Some(found) = walk(inner, &indexed, at) {
                                return Some(found);
                            }
                        }
                        if item.span().contains(&at) {
                            return Some(indexed);
                        }
                    }
                }
                _ => {}
            }
            if value.span().contains(&at) {
                return Some(name);
            }
        }
        None
    }
    let (document, _) = DeTable::parse_recoverable(text);
    walk(document.get_ref(), "", at).unwrap_or_default()
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo.
pub(super) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&word.to_lowercase(), c), *c))
        .min()
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .map(|(_, c)| c)
}

/// The words between backticks in a serde message.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// A `toml` deserialisation error as a spec error: the key found from the span, and for unknown
/// keys the closest valid one.
pub(super) fn toml_error(source: &Source<'_>, error: &toml::de::Error) -> OccamError {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim().replace('\n', "; ");
    let mut key = key_at(source.text, span.start);
    let message = if let Some(rest) = message.strip_prefix("unknown field ") {
        let words = backticked(rest);
        let (unknown, valid) = words.split_first().map_or(("", &[][..]), |(u, v)| (*u, v));
        let hint = match closest(unknown, valid) {
            Some(best) => format!("did you mean `{best}`? "),
            None => String::new(),
        };
        format!(
            "unknown key `{unknown}`; {hint}the keys allowed here are {} (docs/run.md)",
            valid.join(", ")
        )
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        let missing = backticked(rest).first().copied().unwrap_or("");
        key = if key.is_empty() {
            missing.to_string()
        } else {
            format!("{key}.{missing}")
        };
        format!("`{missing}` is required here (docs/run.md)")
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        format!("wrong type: {message}")
    } else {
        if key.is_empty() {
            key = "(toml)".into();
        }
        format!("TOML syntax error: {message}")
    };
    source.error(&span, &key, message)
}

/// An optional enum-like string: the value among `choices` (case-insensitive), else an error
/// naming the closest.
pub(super) fn choose<T: Copy>(
    source: &Source<'_>,
    value: &Spanned<String>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<T> {
    let text = value.get_ref().trim().to_lowercase();
    if let Some((_, v)) = choices.iter().find(|(name, _)| *name == text) {
        return Ok(*v);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let hint = closest(&text, &names).map_or(String::new(), |b| format!("did you mean '{b}'? "));
    Err(source.error(
        &value.span(),
        key,
        format!(
            "unknown value '{}'; {hint}use one of {}",
            value.get_ref(),
            names.join(", ")
        ),
    ))
}
