//! An occam command line as a value, for the commands a report prints so that a reader can rerun
//! them: the subcommand, its arguments and the settings it is given, typed. The report knows
//! which settings a command sets; the front end that asked for the report knows how they are
//! spelled ([`SettingNames`]), and the command is shown in that spelling.

use crate::error::{Setting, SettingNames};
use std::fmt;

/// `occam SUBCOMMAND ARGUMENT… SETTING VALUE…`, its settings spelled by the front end's names
/// when shown ([`Display`](fmt::Display)).
#[derive(Debug, Clone)]
pub struct Command {
    /// The subcommand, then its positional arguments.
    words: Vec<String>,
    /// The settings given, in order, with their values.
    settings: Vec<(Setting, String)>,
    /// How the settings are spelled.
    names: &'static dyn SettingNames,
}

impl Command {
    /// `occam SUBCOMMAND` with nothing given yet, its settings to be spelled by `names`.
    pub fn occam(subcommand: &str, names: &'static dyn SettingNames) -> Self {
        Command {
            words: vec![subcommand.to_string()],
            settings: Vec::new(),
            names,
        }
    }

    /// The command with a positional argument after those it has (a spec file).
    pub fn argument(mut self, argument: impl fmt::Display) -> Self {
        self.words.push(argument.to_string());
        self
    }

    /// The command with `setting` given `value` after the settings it has.
    pub fn with(mut self, setting: Setting, value: impl fmt::Display) -> Self {
        self.settings.push((setting, value.to_string()));
        self
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "occam {}", self.words.join(" "))?;
        for (setting, value) in &self.settings {
            write!(f, " {}", self.names.assignment(*setting, value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LibraryNames;

    #[test]
    fn a_command_shows_its_settings_in_the_names_it_was_given() {
        let command = Command::occam("run", &LibraryNames)
            .argument("spec.toml")
            .with(Setting::Table, "t")
            .with(Setting::Format, "md");
        assert_eq!(
            command.to_string(),
            "occam run spec.toml table = t format = md"
        );
    }
}
