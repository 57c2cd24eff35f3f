//! What a solver asks of a model: the objective f(θ) (a negative log posterior), its gradient and
//! its Hessian, as occam's own traits, free of any solver's types (argmin's `CostFunction` and
//! `Gradient` are implemented for them once, by
//! [`crate::inference::argmin_problem::ArgminProblem`]) — and the memo that lets a problem
//! computing f and ∇f in one pass answer both requests with that pass.

use nalgebra::{DMatrix, DVector};
use std::sync::{Arc, Mutex};

/// A smooth objective f(θ) to minimise, with its gradient: what L-BFGS needs.
pub trait Objective {
    /// f(θ).
    fn cost(&self, theta: &DVector<f64>) -> f64;

    /// ∇f(θ).
    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64>;
}

/// An [`Objective`] with its Hessian: what the Newton polish of
/// [`crate::inference::laplace::find_mode_scaled`] and the Laplace evidence need.
///
/// Where a Newton step's full step is expected to be taken, the polish asks for
/// [`NewtonProblem::cost_and_curvature`] at the candidate: a problem that forms f, ∇f and ∇²f
/// in one pass over its data returns all three, so the step's candidate — usually the mode itself —
/// costs one pass rather than three. By default only f is computed, and ∇f and ∇²f are asked for
/// if the candidate is taken.
pub trait NewtonProblem: Objective {
    /// ∇²f(θ).
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64>;

    /// f(θ), and (∇f(θ), ∇²f(θ)) when they come with it.
    fn cost_and_curvature(&self, theta: &DVector<f64>) -> CostAndCurvature {
        CostAndCurvature {
            cost: self.cost(theta),
            curvature: None,
        }
    }
}

/// f at a point, with ∇f and ∇²f there when they came from the same work (see [`NewtonProblem`]).
#[derive(Debug, Clone)]
pub struct CostAndCurvature {
    /// f(θ).
    pub cost: f64,
    /// ∇f(θ) and ∇²f(θ), when computed with f.
    pub curvature: Option<Curvature>,
}

/// The gradient and Hessian at one point.
#[derive(Debug, Clone)]
pub struct Curvature {
    /// ∇f(θ).
    pub gradient: DVector<f64>,
    /// ∇²f(θ).
    pub hessian: DMatrix<f64>,
}

/// The last (θ, value, gradient) a fused problem computed, shared by its clones: the evaluation
/// memo of a problem that "remembers its last evaluation".
///
/// argmin's L-BFGS with the Moré–Thuente line search asks for the cost and then the gradient at
/// every trial point, and for the gradient again at the accepted point; a problem that computes
/// both in one pass over the rows keeps them here and answers the next request at the same θ
/// without another pass. Keyed only by θ, so it must belong to one problem.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastEvaluation(Arc<Mutex<Option<Evaluation>>>);

/// θ, the value there and the gradient there.
type Evaluation = (DVector<f64>, f64, DVector<f64>);

impl LastEvaluation {
    /// The remembered (value, gradient) at θ, or `compute(θ)`, remembered.
    pub(crate) fn get_or_compute(
        &self,
        theta: &DVector<f64>,
        compute: impl FnOnce(&DVector<f64>) -> (f64, DVector<f64>),
    ) -> (f64, DVector<f64>) {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, value, gradient)) = last.as_ref() {
            if at == theta {
                return (*value, gradient.clone());
            }
        }
        let (value, gradient) = compute(theta);
        *last = Some((theta.clone(), value, gradient.clone()));
        (value, gradient)
    }

    /// Remembers a (value, gradient) at θ computed elsewhere.
    pub(crate) fn store(&self, theta: &DVector<f64>, value: f64, gradient: DVector<f64>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((theta.clone(), value, gradient));
    }
}
