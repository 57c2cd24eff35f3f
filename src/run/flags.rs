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
            Setting::NoiseSd => "--noise-sd",
            Setting::FirstBlock => "--first-block",
            Setting::Codes => "--codes",
            Setting::ChargeReals => "--charge-reals",
            Setting::Hidden => "--hidden",
            Setting::Activation => "--activation",
            Setting::Restarts => "--restarts",
            Setting::Seed => "--seed",
            Setting::Hessian => "--hessian",
            Setting::Centers => "--centers",
            Setting::Sds => "--sds",
            Setting::Rows => "--n",
            Setting::Size => "--n/--k",
            Setting::Value => "--value",
            Setting::From => "--from",
            Setting::Loss => "--loss",
            Setting::Teacher => "--teacher",
            Setting::WeightCenter => "--weight-center",
            Setting::WeightScale => "--weight-scale",
            Setting::Out => "--out",
            Setting::Force => "--force",
            Setting::Only => "--only",
            Setting::Table => "--table",
            Setting::Format => "--format",
        }
    }
}

impl SettingNames for Flags {
    fn setting(&self, setting: Setting) -> String {
        Flags::flag(setting).to_string()
    }
}
