//! The one bridge from occam's problem traits ([`crate::model::problem`]) to argmin's: models stay
//! free of solver types, and every argmin solver here runs on [`ArgminProblem`].

use crate::model::problem::Objective;
use argmin::core::{CostFunction, Error as ArgminError, Gradient};
use nalgebra::DVector;

/// A model's problem as argmin sees it: the same evaluations, never failing (a non-finite value is
/// the guard's business, see [`crate::inference::map::run_lbfgs`]). argmin's L-BFGS asks for
/// no Hessian, and the Newton polish calls [`crate::model::problem::NewtonProblem`] directly.
#[derive(Debug, Clone)]
pub struct ArgminProblem<P>(pub P);

impl<P: Objective> CostFunction for ArgminProblem<P> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &DVector<f64>) -> Result<f64, ArgminError> {
        Ok(self.0.cost(theta))
    }
}

impl<P: Objective> Gradient for ArgminProblem<P> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, theta: &DVector<f64>) -> Result<DVector<f64>, ArgminError> {
        Ok(self.0.gradient(theta))
    }
}
