//! The options of a fit, and their check against a model kind — done once, here, for the
//! command line, a spec and the library alike (linfa's checked hyperparameters): a
//! [`CheckedOptions`] is a [`FitOptions`] that the kind's rules have accepted.

use super::{kind::ModelKind, MlpOptions};
use crate::codelength::{CodeSelection, RowOrder};
use crate::data::ColumnSelection;
use crate::error::{OccamError, Result, Setting};
use crate::message;
use crate::model::Intercept;
use crate::prior::groups::PriorStructure;
use crate::prior::{CenterSpec, SdSpec};

/// Everything that defines a fit besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Which columns are the target and the features (also used for `fit:PATH` centres).
    pub selection: ColumnSelection,
    /// The prior centre μ.
    pub center: CenterSpec,
    /// The prior sd s, or `auto`.
    pub prior_sd: SdSpec,
    /// The noise sd σ, or `auto`.
    pub noise_sd: SdSpec,
    /// How the intercept is treated.
    pub intercept: Intercept,
    /// z-score the features (default true).
    pub standardize: bool,
    /// The order of the rows in the prequential code.
    pub order: RowOrder,
    /// Rows in the first prequential block; later blocks double.
    pub first_block: usize,
    /// Which code lengths to compute besides the mixture code.
    pub codes: CodeSelection,
    /// The network, for `--model mlp`.
    pub mlp: MlpOptions,
    /// Real numbers given as fixed values (a prior sd, a noise sd) that were nevertheless
    /// estimated from the coded rows (`--charge-reals N`): each is charged ½ log₂ n bits in every
    /// code that uses it (mixture, prequential, two_part), like an `auto` value (docs/codes.md).
    pub charged_reals: usize,
    /// A prior of several groups (math.md §8), each with its own centre and sd; `None` is the
    /// one group `all` of `center` and `prior_sd` (today's path, untouched). Set it with
    /// [`FitOptions::with_prior`], which turns a one-group structure into `center`/`prior_sd`.
    pub prior: Option<PriorStructure>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            selection: ColumnSelection::default(),
            center: CenterSpec::Zero,
            prior_sd: SdSpec::Auto,
            noise_sd: SdSpec::Auto,
            intercept: Intercept::Centered,
            standardize: true,
            order: RowOrder::AsGiven,
            first_block: 16,
            codes: CodeSelection::default(),
            mlp: MlpOptions::default(),
            charged_reals: 0,
            prior: None,
        }
    }
}

/// A rule of a model kind that a [`FitOptions`] breaks. The command line and the library word
/// it with [`OptionsProblem::into_error`]; a spec words it at the key that holds the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionsProblem {
    /// `first_block` is 0: the prequential code needs at least one row in its first block.
    EmptyFirstBlock,
    /// A fixed noise sd for the logistic model, which has none.
    NoNoiseSd,
    /// An intercept treatment the model does not offer (the linear model centres the data or
    /// has none; the logistic model cannot centre a 0/1 target; every network bias is shared).
    Intercept(Intercept),
    /// A network with no start for its MAP search (`restarts` = 0).
    NoRestarts,
    /// A prior of several groups on a network (not wired yet).
    GroupsLinearOnly,
    /// The last-layer subset asked of a model that is not a network.
    SubsetNetworkOnly,
    /// The last-layer subset of a network without a hidden layer (its last layer is the whole
    /// network).
    SubsetWithoutHidden,
    /// The last-layer subset with a curvature other than the default: its evidence always uses
    /// the output layer's exact Hessian (= its GGN, the GLM's link being canonical).
    SubsetHessian(super::HessianKind),
}

impl OptionsProblem {
    /// The problem as the library's error, naming the setting at fault.
    pub fn into_error(self, kind: ModelKind) -> OccamError {
        match (self, kind) {
            (OptionsProblem::EmptyFirstBlock, _) => OccamError::invalid(
                Setting::FirstBlock,
                "the first prequential block needs at least one row",
            ),
            (OptionsProblem::NoNoiseSd, _) => OccamError::invalid(
                Setting::NoiseSd,
                "the logistic model has no noise sd; drop the flag",
            ),
            (OptionsProblem::Intercept(other), ModelKind::Linear) => OccamError::invalid(
                Setting::Intercept,
                message![
                    format!("'{other}' is for logistic and MLP models; the linear model centres the data ("),
                    (Setting::Intercept, "centered"),
                    ", its default) or has no intercept (",
                    (Setting::Intercept, "none"),
                    ")"
                ],
            ),
            (OptionsProblem::Intercept(_), ModelKind::Logistic) => OccamError::invalid(
                Setting::Intercept,
                "'centered' centres the target, which is for linear regression; the logistic intercept is 'shared' (the default: it shares the weights' prior), 'free' (flat prior), 'prior:SD' or 'none'",
            ),
            (OptionsProblem::Intercept(other), ModelKind::Mlp) => OccamError::invalid(
                Setting::Intercept,
                format!("'{other}': every MLP bias shares the weights' prior N(μ, s²) (the default, 'shared')"),
            ),
            (OptionsProblem::NoRestarts, _) => {
                OccamError::invalid(Setting::Restarts, "at least one start is needed")
            }
            (OptionsProblem::GroupsLinearOnly, kind) => OccamError::invalid(
                Setting::Prior,
                message![
                    format!("a prior of several groups is for the linear and logistic models only, for now (the {kind} model's Laplace evidence with Λ = diag(α_g) is not wired yet); use one group, "),
                    (Setting::Prior, "all=CENTER:SD"),
                    ", or ",
                    (Setting::Model, "linear"),
                    " or ",
                    (Setting::Model, "logistic")
                ],
            ),
            (OptionsProblem::SubsetNetworkOnly, kind) => OccamError::invalid(
                Setting::Subset,
                message![
                    format!("'last-layer' is for networks; the {kind} model's evidence already integrates over all its parameters: drop "),
                    Setting::Subset,
                    ", or use ",
                    (Setting::Model, "mlp")
                ],
            ),
            (OptionsProblem::SubsetWithoutHidden, _) => OccamError::invalid(
                Setting::Subset,
                message![
                    "'last-layer' needs at least one hidden layer (without one the last layer is the whole network, whose evidence ",
                    (Setting::Subset, "all"),
                    " gives): set ",
                    Setting::Hidden,
                    ", or drop ",
                    Setting::Subset
                ],
            ),
            (OptionsProblem::SubsetHessian(hessian), _) => OccamError::invalid(
                Setting::Hessian,
                message![
                    format!("'{}' does not apply to ", hessian.name()),
                    (Setting::Subset, "last-layer"),
                    ", whose evidence uses the output layer's exact Hessian (a GLM's, equal to its GGN): drop ",
                    Setting::Hessian,
                    " (or give ",
                    (Setting::Hessian, "ggn"),
                    "), or use ",
                    (Setting::Subset, "all")
                ],
            ),
        }
    }
}

impl FitOptions {
    /// Default options for `kind`: its default intercept, everything else as [`FitOptions::default`].
    pub fn for_kind(kind: ModelKind) -> Self {
        FitOptions {
            intercept: kind.default_intercept(),
            ..FitOptions::default()
        }
    }

    /// The first rule of `kind` these options break, if any. Rules that need the data (a
    /// network's task, and with it whether it has a noise sd) are the study's to check.
    pub fn problem(&self, kind: ModelKind) -> Option<OptionsProblem> {
        if self.first_block == 0 {
            return Some(OptionsProblem::EmptyFirstBlock);
        }
        if !kind.may_have_noise_sd() && self.noise_sd != SdSpec::Auto {
            return Some(OptionsProblem::NoNoiseSd);
        }
        let intercept_offered = match kind {
            ModelKind::Linear => matches!(self.intercept, Intercept::Centered | Intercept::None),
            ModelKind::Logistic => self.intercept != Intercept::Centered,
            ModelKind::Mlp => self.intercept == Intercept::Shared,
        };
        if !intercept_offered {
            return Some(OptionsProblem::Intercept(self.intercept));
        }
        if kind == ModelKind::Mlp && self.mlp.restarts == 0 {
            return Some(OptionsProblem::NoRestarts);
        }
        if kind == ModelKind::Mlp && self.prior.is_some() {
            return Some(OptionsProblem::GroupsLinearOnly);
        }
        if self.mlp.subset == super::Subset::LastLayer {
            if kind != ModelKind::Mlp {
                return Some(OptionsProblem::SubsetNetworkOnly);
            }
            if self.mlp.hidden.is_empty() {
                return Some(OptionsProblem::SubsetWithoutHidden);
            }
            if self.mlp.hessian != super::HessianKind::Ggn {
                return Some(OptionsProblem::SubsetHessian(self.mlp.hessian));
            }
        }
        None
    }

    /// These options under the prior `structure`: one group `all` sets `center` and `prior_sd`
    /// (the one-group path, byte-identical to giving them directly); several groups set `prior`.
    pub fn with_prior(self, structure: PriorStructure) -> Self {
        if structure.is_single() {
            let group = &structure.groups()[0];
            FitOptions {
                center: group.center.clone(),
                prior_sd: group.sd,
                prior: None,
                ..self
            }
        } else {
            FitOptions {
                prior: Some(structure),
                ..self
            }
        }
    }

    /// The first rule of `kind` these options break, as the library's error.
    pub fn validate(&self, kind: ModelKind) -> Result<()> {
        self.problem(kind)
            .map_or(Ok(()), |problem| Err(problem.into_error(kind)))
    }

    /// These options checked against `kind`'s rules, or the first rule they break.
    pub fn check(self, kind: ModelKind) -> Result<CheckedOptions> {
        self.validate(kind)?;
        Ok(CheckedOptions {
            kind,
            options: self,
        })
    }
}

/// [`FitOptions`] that a model kind's rules have accepted, built once from flags or from a spec;
/// [`CheckedOptions::study`] and [`CheckedOptions::fit`] dispatch on its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedOptions {
    kind: ModelKind,
    options: FitOptions,
}

impl CheckedOptions {
    /// The model the options were checked for.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The options.
    pub fn options(&self) -> &FitOptions {
        &self.options
    }

    /// The options, given back (to change the prior, which no rule constrains).
    pub fn into_options(self) -> FitOptions {
        self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_accepts_its_defaults() {
        for kind in ModelKind::ALL {
            assert_eq!(
                FitOptions::for_kind(kind).problem(kind),
                None,
                "{}",
                kind.name()
            );
        }
    }

    #[test]
    fn each_rule_is_named() {
        let linear = FitOptions::default();
        let broken = |change: fn(&mut FitOptions), kind| {
            let mut options = FitOptions::for_kind(kind);
            change(&mut options);
            options.problem(kind)
        };
        assert_eq!(
            broken(|o| o.first_block = 0, ModelKind::Mlp),
            Some(OptionsProblem::EmptyFirstBlock)
        );
        assert_eq!(
            broken(|o| o.noise_sd = SdSpec::Fixed(1.0), ModelKind::Logistic),
            Some(OptionsProblem::NoNoiseSd)
        );
        assert_eq!(
            broken(|o| o.noise_sd = SdSpec::Fixed(1.0), ModelKind::Mlp),
            None
        );
        assert_eq!(
            broken(|o| o.intercept = Intercept::Free, ModelKind::Linear),
            Some(OptionsProblem::Intercept(Intercept::Free))
        );
        assert_eq!(
            broken(|o| o.intercept = Intercept::Centered, ModelKind::Logistic),
            Some(OptionsProblem::Intercept(Intercept::Centered))
        );
        assert_eq!(
            broken(|o| o.intercept = Intercept::None, ModelKind::Mlp),
            Some(OptionsProblem::Intercept(Intercept::None))
        );
        assert_eq!(
            broken(|o| o.mlp.restarts = 0, ModelKind::Mlp),
            Some(OptionsProblem::NoRestarts)
        );
        assert_eq!(broken(|o| o.mlp.restarts = 0, ModelKind::Linear), None);
        let ard = || PriorStructure::parse("ard").unwrap();
        assert_eq!(
            FitOptions::for_kind(ModelKind::Logistic)
                .with_prior(ard())
                .problem(ModelKind::Logistic),
            None
        );
        {
            let kind = ModelKind::Mlp;
            let options = FitOptions::for_kind(kind).with_prior(ard());
            assert_eq!(
                options.problem(kind),
                Some(OptionsProblem::GroupsLinearOnly)
            );
            let err = options.validate(kind).unwrap_err();
            assert!(
                matches!(
                    err,
                    OccamError::InvalidArgument {
                        setting: Setting::Prior,
                        ..
                    }
                ),
                "{err}"
            );
        }
        assert_eq!(
            FitOptions::default()
                .with_prior(ard())
                .problem(ModelKind::Linear),
            None
        );
        // One group `all` is the one-group prior: centre and sd, no structure.
        let single =
            FitOptions::default().with_prior(PriorStructure::parse("all=const:0.5:2").unwrap());
        assert_eq!(single.prior, None);
        assert_eq!(single.center, CenterSpec::Const(0.5));
        assert_eq!(single.prior_sd, SdSpec::Fixed(2.0));
        let single_logistic = FitOptions::for_kind(ModelKind::Logistic)
            .with_prior(PriorStructure::parse("all=const:0.5:2").unwrap());
        assert_eq!(
            single_logistic.problem(ModelKind::Logistic),
            None,
            "one group is every model's prior"
        );
        let checked = linear.clone().check(ModelKind::Linear).unwrap();
        assert_eq!(
            (checked.kind(), checked.options()),
            (ModelKind::Linear, &linear)
        );
    }
}
