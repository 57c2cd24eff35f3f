//! The one dispatcher from checked options to a model's study or fit: `occam fit`, `occam
//! compare`, `occam run` and the built-in studies all go through it.

use super::{
    fit_linear, fit_logistic, fit_mlp, fit_softmax, is_multiclass, CheckedOptions, LinearFit,
    LinearStudy, LogisticFit, LogisticStudy, MlpFit, MlpStudy, ModelKind, SoftmaxFit, SoftmaxStudy,
    Study,
};
use crate::data::Dataset;
use crate::error::Result;

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
}

impl CheckedOptions {
    /// The study of these options' model on `data` (read in place where the model allows it).
    pub fn study<'d>(&self, data: &'d Dataset) -> Result<Box<dyn Study + 'd>> {
        let options = self.options();
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

    /// The options' one prior (centre, s, σ) fitted on `data`, with its posterior.
    pub fn fit<'d>(&self, data: &'d Dataset) -> Result<ModelFit<'d>> {
        let options = self.options();
        Ok(match self.kind() {
            ModelKind::Linear => ModelFit::Linear(fit_linear(data, options)?),
            ModelKind::Logistic if is_multiclass(data) => {
                ModelFit::Softmax(fit_softmax(data, options)?)
            }
            ModelKind::Logistic => ModelFit::Logistic(fit_logistic(data, options)?),
            ModelKind::Mlp => ModelFit::Mlp(fit_mlp(data, options)?),
        })
    }
}
