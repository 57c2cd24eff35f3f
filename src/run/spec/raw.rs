//! The raw TOML shape of a spec, as serde reads it. Every table denies unknown keys (a typo is
//! an error, never a default); values that need checking keep their span, for the error's line
//! and column.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) formats: Option<Spanned<Vec<Spanned<String>>>>,
    // The single-study form: the study's tables at the top level.
    pub(super) id: Option<Spanned<String>>,
    pub(super) text: Option<String>,
    pub(super) data: Option<Spanned<RawData>>,
    pub(super) model: Option<RawModel>,
    pub(super) priors: Option<Spanned<RawPriors>>,
    pub(super) codes: Option<RawCodes>,
    pub(super) outputs: Option<RawOutputs>,
    // The several-study form.
    #[serde(default)]
    pub(super) study: Vec<Spanned<RawStudy>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStudy {
    pub(super) id: Option<Spanned<String>>,
    pub(super) title: Option<String>,
    pub(super) text: Option<String>,
    pub(super) data: Spanned<RawData>,
    pub(super) model: Option<RawModel>,
    pub(super) priors: Spanned<RawPriors>,
    pub(super) codes: Option<RawCodes>,
    pub(super) outputs: Option<RawOutputs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawData {
    pub(super) path: Option<Spanned<String>>,
    pub(super) builtin: Option<Spanned<String>>,
    pub(super) target: Option<String>,
    pub(super) features: Option<Vec<String>>,
    pub(super) exclude: Option<Vec<String>>,
    pub(super) rows: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    pub(super) kind: Option<Spanned<String>>,
    pub(super) intercept: Option<Spanned<String>>,
    pub(super) standardize: Option<bool>,
    pub(super) hidden: Option<Spanned<Vec<usize>>>,
    pub(super) activation: Option<Spanned<String>>,
    pub(super) task: Option<Spanned<String>>,
    pub(super) restarts: Option<Spanned<usize>>,
    pub(super) seed: Option<u64>,
    pub(super) hessian: Option<Spanned<String>>,
    pub(super) subset: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPriors {
    #[serde(alias = "centres")]
    pub(super) centers: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) sds: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    pub(super) noise_sd: Option<Spanned<toml::Value>>,
    pub(super) along: Option<Spanned<RawAlong>>,
    /// Whole priors (math.md §8, the `--prior` syntax), instead of centres × sds.
    pub(super) structures: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlong {
    pub(super) directions: Spanned<Vec<Spanned<String>>>,
    pub(super) offsets: Spanned<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCodes {
    pub(super) compute: Option<Spanned<toml::Value>>,
    pub(super) rank_by: Option<Spanned<String>>,
    pub(super) shuffle: Option<u64>,
    pub(super) first_block: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutputs {
    pub(super) order: Option<Spanned<String>>,
    pub(super) figures: Option<Vec<Spanned<String>>>,
}
