//! The command line's spelling of the settings errors mention: `--prior-sd`, `--codes none`.
//!
//! `occam` shows every error this way, and `occam run` keeps the command line's spelling for the
//! settings a message's fix mentions (the setting at fault it names by the spec's own key).

use crate::error::{Setting, SettingNames};

/// Settings spelled as `occam`'s flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags;

impl Flags {
    /// The flag that sets `setting`.
    pub fn flag(setting: Setting) -> &'static str {
        match setting {
            Setting::Data => "--data",
            Setting::Target => "--target",
            Setting::Features => "--features",
            Setting::Exclude => "--exclude",
            Setting::Model => "--model",
            Setting::Intercept => "--intercept",
            Setting::PriorSd => "--prior-sd",
            Setting::PriorCenter => "--prior-center",
            Setting::Prior => "--prior",
            Setting::NoiseSd => "--noise-sd",
            Setting::FirstBlock => "--first-block",
            Setting::Codes => "--codes",
            Setting::ChargeReals => "--charge-reals",
            Setting::Hidden => "--hidden",
            Setting::Activation => "--activation",
            Setting::Restarts => "--restarts",
            Setting::Seed => "--seed",
            Setting::Hessian => "--hessian",
            Setting::Subset => "--subset",
            Setting::Task => "--task",
            Setting::Centers => "--centers",
            Setting::Sds => "--sds",
            Setting::Priors => "--priors",
            Setting::Rows => "--n",
            Setting::Size => "--n/--k",
            Setting::Value => "--value",
            Setting::From => "--from",
            Setting::Loss => "--loss",
            Setting::Teacher => "--teacher",
            Setting::WeightCenter => "--weight-center",
            Setting::WeightScale => "--weight-scale",
            Setting::Classes => "--classes",
            Setting::Out => "--out",
            Setting::Force => "--force",
            Setting::Only => "--only",
            Setting::Table => "--table",
            Setting::Format => "--format",
            Setting::Stats => "--stats",
        }
    }
}

impl SettingNames for Flags {
    fn setting(&self, setting: Setting) -> String {
        Flags::flag(setting).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OccamError;
    use crate::message;

    #[test]
    fn errors_spell_their_settings_as_flags_here_and_by_name_in_the_library() {
        let e = OccamError::invalid(
            Setting::Codes,
            message!["try ", (Setting::Codes, "none"), " or ", Setting::Exclude],
        );
        assert_eq!(e.render(&Flags), "--codes: try --codes none or --exclude");
        assert_eq!(e.to_string(), "codes: try codes = none or exclude");

        let e = OccamError::CenterLength {
            spec: "vec:1".into(),
            expected: 3,
            found: 1,
            detail: "w1, w2, w3".into(),
        };
        assert!(e
            .render(&Flags)
            .starts_with("--prior-center vec:1: the centre has 1"));
        assert!(e.to_string().starts_with("prior_center vec:1: "));

        let e = OccamError::ConstantFeature {
            source_name: "d.csv".into(),
            column: "c".into(),
        };
        assert!(e.render(&Flags).ends_with("drop it with `--exclude c`"));
    }

    #[test]
    fn every_flag_is_distinct() {
        let all = [
            Setting::Data,
            Setting::Target,
            Setting::Features,
            Setting::Exclude,
            Setting::Model,
            Setting::Intercept,
            Setting::PriorSd,
            Setting::PriorCenter,
            Setting::Prior,
            Setting::NoiseSd,
            Setting::FirstBlock,
            Setting::Codes,
            Setting::ChargeReals,
            Setting::Hidden,
            Setting::Activation,
            Setting::Restarts,
            Setting::Seed,
            Setting::Hessian,
            Setting::Subset,
            Setting::Task,
            Setting::Centers,
            Setting::Sds,
            Setting::Priors,
            Setting::Rows,
            Setting::Size,
            Setting::Value,
            Setting::From,
            Setting::Loss,
            Setting::Teacher,
            Setting::WeightCenter,
            Setting::WeightScale,
            Setting::Classes,
            Setting::Out,
            Setting::Force,
            Setting::Only,
            Setting::Table,
            Setting::Format,
        ];
        let flags: std::collections::BTreeSet<&str> = all.iter().map(|&s| Flags::flag(s)).collect();
        let names: std::collections::BTreeSet<&str> = all.iter().map(|s| s.name()).collect();
        assert_eq!(flags.len(), all.len());
        assert_eq!(names.len(), all.len());
    }
}
