//! The one dispatcher from checked options to a model's study or fit: `occam fit`, `occam
//! compare`, `occam run` and the built-in studies all go through it.

use super::{
    fit_grouped_linear, fit_linear, fit_logistic, fit_mlp, fit_softmax, is_multiclass,
    CheckedOptions, GroupedLinearFit, LinearFit, LinearStudy, LogisticFit, LogisticStudy, MlpFit,
    MlpStudy, ModelKind, SoftmaxFit, SoftmaxStudy, Study,
};
use crate::data::Dataset;
use crate::error::{OccamError, Result, Setting};

/// One prior fitted end to end, whatever the model.
#[derive(Debug, Clone)]
pub enum ModelFit<'d> {
    /// Linear-Gaussian: exact evidence and posterior.
    Linear(LinearFit<'d>),
    /// Logistic regression: Laplace evidence.
    Logistic(LogisticFit<'d>),
    /// A network: Laplace evidence.
    Mlp(MlpFit),
    /// Linear-softmax regression on a target with K ≥ 3 classes (`logistic`): Laplace evidence.
    Softmax(SoftmaxFit<'d>),
    /// Linear-Gaussian under a prior of several groups (math.md §8): exact evidence.
    GroupedLinear(GroupedLinearFit<'d>),
    /// Logistic (binary or softmax) under a prior of several groups (math.md §8): Laplace evidence.
    GroupedLaplace(Box<super::grouped_logistic::GroupedLaplaceFit<'d>>),
}

impl CheckedOptions {
    /// The study of these options' model on `data` (read in place where the model allows it).
    /// A study scores one-group priors (centre × sd); a prior of several groups is fitted by
    /// [`CheckedOptions::fit`] (and compared by `compare::structures`), and is refused here.
    pub fn study<'d>(&self, data: &'d Dataset) -> Result<Box<dyn Study + 'd>> {
        let options = self.options();
        if options.prior.is_some() {
            return Err(OccamError::invalid(
                Setting::Prior,
                crate::message![
                    "a study scores one-group priors (centre × sd); priors of several groups are fitted one at a time, and compared with ",
                    Setting::Priors
                ],
            ));
        }
        Ok(match self.kind() {
            ModelKind::Linear => Box::new(LinearStudy::borrowing(data, options)?),
            // K ≥ 3 classes: the multinomial model (math.md §7); two stay binary.
            ModelKind::Logistic if is_multiclass(data) => {
                Box::new(SoftmaxStudy::borrowing(data, options)?)
            }
            ModelKind::Logistic => Box::new(LogisticStudy::borrowing(data, options)?),
            ModelKind::Mlp => Box::new(MlpStudy::new(data, options)?),
        })
    }

    /// The options' one prior (centre, s, σ — or a prior of several groups, linear and logistic models)
    /// fitted on `data`, with its posterior.
    pub fn fit<'d>(&self, data: &'d Dataset) -> Result<ModelFit<'d>> {
        let options = self.options();
        Ok(match self.kind() {
            ModelKind::Linear => match &options.prior {
                Some(structure) => {
                    ModelFit::GroupedLinear(fit_grouped_linear(data, options, structure)?)
                }
                None => ModelFit::Linear(fit_linear(data, options)?),
            },
            ModelKind::Logistic => match &options.prior {
                Some(structure) => ModelFit::GroupedLaplace(Box::new(
                    super::grouped_logistic::fit_grouped_logistic(data, options, structure)?,
                )),
                // K ≥ 3 classes: the multinomial model (math.md §7); two stay binary.
                None if is_multiclass(data) => ModelFit::Softmax(fit_softmax(data, options)?),
                None => ModelFit::Logistic(fit_logistic(data, options)?),
            },
            ModelKind::Mlp => ModelFit::Mlp(fit_mlp(data, options)?),
        })
    }
}
