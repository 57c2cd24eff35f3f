//! The negative log posterior of a network as a [`NewtonProblem`], and its fused variant for
//! L-BFGS.

use super::architecture::Shape;
use super::passes::{Scratch, CHUNK_ROWS};
use super::{Architecture, Task};
use crate::linalg::{chunks, map_ordered, map_row_blocks, Par, BLOCK_ROWS};
use crate::model::logistic::sigmoid;
use crate::model::problem::{LastEvaluation, NewtonProblem, Objective};
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;
use std::ops::Range;

/// The negative log posterior of an MLP on standardised rows, as an argmin problem.
#[derive(Debug, Clone)]
pub struct MlpProblem<'a> {
    pub(super) arch: &'a Architecture,
    pub(super) shapes: Vec<Shape>,
    pub(super) z: &'a [f64],
    pub(super) y: &'a [f64],
    pub(super) center: &'a DVector<f64>,
    pub(super) precision: &'a DVector<f64>,
    pub(super) noise_precision: f64,
}

impl<'a> MlpProblem<'a> {
    /// The problem for rows `z` (row-major, `arch.inputs` columns, standardised) with targets `y`
    /// (0/1 for binary classification, class indices 0…K−1 for a K-output softmax network, real
    /// for regression), the prior centre μ and diagonal precision Λ
    /// over all P parameters (in the order of the module docs), and the noise precision β
    /// (regression only; ignored for classification).
    pub fn new(
        arch: &'a Architecture,
        z: &'a [f64],
        y: &'a [f64],
        center: &'a DVector<f64>,
        precision: &'a DVector<f64>,
        noise_precision: f64,
    ) -> Self {
        assert!(arch.validate().is_ok(), "invalid architecture {arch:?}");
        let p = arch.n_params();
        assert_eq!(center.len(), p, "centre length must be the parameter count");
        assert_eq!(
            precision.len(),
            p,
            "precision length must be the parameter count"
        );
        assert_eq!(
            z.len(),
            y.len() * arch.inputs,
            "z must hold n rows of k features"
        );
        if arch.is_softmax() {
            assert!(
                y.iter()
                    .all(|&c| c >= 0.0 && c.fract() == 0.0 && c < arch.outputs as f64),
                "softmax labels must be class indices 0..K"
            );
        }
        MlpProblem {
            arch,
            shapes: arch.shapes(),
            z,
            y,
            center,
            precision,
            noise_precision,
        }
    }

    /// The network's shape.
    pub fn architecture(&self) -> &Architecture {
        self.arch
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of parameters P.
    pub fn n_params(&self) -> usize {
        self.arch.n_params()
    }

    /// β (meaningful for regression).
    pub fn noise_precision(&self) -> f64 {
        self.noise_precision
    }

    /// The target of row `i`.
    pub fn target(&self, i: usize) -> f64 {
        self.y[i]
    }

    /// The same problem on the rows in `rows` (e.g. a block of a prequential code).
    pub fn rows(&self, rows: Range<usize>) -> Self {
        let k = self.arch.inputs;
        MlpProblem {
            z: &self.z[rows.start * k..rows.end * k],
            y: &self.y[rows],
            ..self.clone()
        }
    }

    /// Row `i`'s standardised features.
    pub fn row(&self, i: usize) -> &[f64] {
        let k = self.arch.inputs;
        &self.z[i * k..(i + 1) * k]
    }

    /// Λ, the prior precision.
    pub fn precision(&self) -> &DVector<f64> {
        self.precision
    }

    /// The same problem on the first `m` rows.
    pub fn prefix(&self, m: usize) -> Self {
        self.rows(0..m)
    }

    /// The same problem with another prior precision.
    pub fn with_precision(&self, precision: &'a DVector<f64>) -> Self {
        MlpProblem {
            precision,
            ..self.clone()
        }
    }

    /// The same problem with another noise precision β.
    pub fn with_noise_precision(&self, noise_precision: f64) -> Self {
        MlpProblem {
            noise_precision,
            ..self.clone()
        }
    }

    /// (ℓ(θ), ∇ℓ(θ) if `gradient`), summed over the blocks of [`BLOCK_ROWS`] rows in order, on
    /// the threads of `par` — with the same blocks, sub-blocks and order for every `par`, so the
    /// same bits.
    fn evaluate(
        &self,
        theta: &DVector<f64>,
        gradient: bool,
        par: Par,
    ) -> (f64, Option<DVector<f64>>) {
        let t = theta.as_slice();
        // A single block has only its sub-blocks to spread over the threads.
        let sub_par = if self.n() <= BLOCK_ROWS {
            par
        } else {
            Par::Seq
        };
        let blocks = map_ordered(par, chunks(0..self.n(), BLOCK_ROWS), |rows| {
            self.block(t, rows, gradient, sub_par)
        });
        let sum: f64 = blocks.iter().map(|(l, _)| l).sum();
        let nll = match self.arch.task {
            Task::Regression => {
                let (n, beta) = (self.n() as f64, self.noise_precision);
                0.5 * beta * sum - 0.5 * n * beta.ln() + 0.5 * n * (2.0 * PI).ln()
            }
            Task::Classification => sum,
        };
        let g = gradient.then(|| {
            let mut g = DVector::zeros(self.n_params());
            for (_, block) in blocks {
                g += DVector::from_vec(block);
            }
            g
        });
        (nll, g)
    }

    /// ℓ(θ) = (β/2)Σᵢ(yᵢ − ηᵢ)² − (n/2) ln β + (n/2) ln 2π (regression) or
    /// Σᵢ softplus(ηᵢ) − yᵢηᵢ (classification).
    pub fn negative_log_likelihood(&self, theta: &DVector<f64>) -> f64 {
        self.evaluate(theta, false, Par::all()).0
    }

    /// ½(θ − μ)ᵀΛ(θ − μ).
    pub fn penalty(&self, theta: &DVector<f64>) -> f64 {
        0.5 * theta
            .iter()
            .zip(self.center.iter())
            .zip(self.precision.iter())
            .map(|((t, m), l)| l * (t - m) * (t - m))
            .sum::<f64>()
    }

    /// f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ).
    pub fn objective(&self, theta: &DVector<f64>) -> f64 {
        self.negative_log_likelihood(theta) + self.penalty(theta)
    }

    /// ∇ℓ by backpropagation: Σᵢ rᵢJᵢ, the rows' rᵢ = ∂ℓ/∂ηᵢ carried back through the layers.
    pub fn likelihood_gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.evaluate(theta, true, Par::all()).1.unwrap_or_default()
    }

    /// [`Self::likelihood_gradient`] on the calling thread (the same bits).
    pub(super) fn likelihood_gradient_serial(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.evaluate(theta, true, Par::Seq).1.unwrap_or_default()
    }

    /// ∇f = ∇ℓ + Λ(θ − μ).
    pub fn gradient_at(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_gradient(theta) + self.precision.component_mul(&(theta - self.center))
    }

    /// (f(θ), ∇f(θ)) from one forward and backward pass: the same bits as [`Self::objective`]
    /// and [`Self::gradient_at`] for about the price of the gradient alone.
    pub fn objective_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        let (nll, g) = self.evaluate(theta, true, Par::all());
        (
            nll + self.penalty(theta),
            g.unwrap_or_default() + self.precision.component_mul(&(theta - self.center)),
        )
    }

    /// This problem for argmin's L-BFGS: see [`FusedMlpProblem`].
    pub fn fused(&self) -> FusedMlpProblem<'a> {
        FusedMlpProblem {
            problem: self.clone(),
            last: LastEvaluation::default(),
        }
    }

    /// The prediction for row `i`: ŷ = η (regression), p = σ(η) (binary classification) or the
    /// most probable class argmax_c η_c (softmax; the first on ties).
    pub fn predict(&self, theta: &DVector<f64>, i: usize) -> f64 {
        let k = self.arch.inputs;
        if self.arch.is_softmax() {
            let eta = self.arch.output_vector(theta, &self.z[i * k..(i + 1) * k]);
            let best = (1..eta.len()).fold(0, |b, c| if eta[c] > eta[b] { c } else { b });
            return best as f64;
        }
        let eta = self.arch.output(theta, &self.z[i * k..(i + 1) * k]);
        match self.arch.task {
            Task::Regression => eta,
            Task::Classification => sigmoid(eta),
        }
    }

    /// The output pre-activations η of every row, blocked like the sums (n × outputs,
    /// row-major).
    pub fn outputs(&self, theta: &DVector<f64>) -> Vec<f64> {
        let t = theta.as_slice();
        map_row_blocks(self.n(), |rows| {
            let mut s = Scratch::new(self.arch, CHUNK_ROWS.min(rows.len()));
            let mut eta = Vec::with_capacity(rows.len() * self.arch.outputs);
            for chunk in chunks(rows, CHUNK_ROWS) {
                self.forward(t, &chunk, &mut s);
                eta.extend_from_slice(&s.eta[..chunk.len() * self.arch.outputs]);
            }
            eta
        })
        .concat()
    }

    /// The size of the gradient's terms, against which a gradient norm counts as small:
    /// ‖Σᵢ rᵢ(xᵢ, 1)‖ + ‖Λμ‖ + 1, with rᵢ = ∂ℓ/∂η at η = 0 (½ − yᵢ or −βyᵢ) — the data's own
    /// gradient scale, equal to the logistic model's when there is no hidden layer. For a softmax
    /// network ‖Σᵢ rᵢ ⊗ (xᵢ, 1)‖ with rᵢ,c = 1/K − [yᵢ = c] (pᵢ at η = 0 is uniform), the
    /// linear-softmax model's ‖∇ℓ(0)‖ up to the order of the coordinates.
    pub fn gradient_scale(&self) -> f64 {
        let k = self.arch.inputs;
        if self.arch.is_softmax() {
            let classes = self.arch.outputs;
            let partial = map_row_blocks(self.n(), |rows| {
                let mut g = vec![0.0; classes * (k + 1)];
                for i in rows {
                    let label = super::passes::class_of(self.y[i]);
                    for (c, gc) in g.chunks_exact_mut(k + 1).enumerate() {
                        let r = 1.0 / classes as f64 - if c == label { 1.0 } else { 0.0 };
                        for (gj, x) in gc.iter_mut().zip(&self.z[i * k..(i + 1) * k]) {
                            *gj += r * x;
                        }
                        gc[k] += r;
                    }
                }
                g
            });
            let mut g = DVector::zeros(classes * (k + 1));
            for block in partial {
                g += DVector::from_vec(block);
            }
            return g.norm() + self.precision.component_mul(self.center).norm() + 1.0;
        }
        let partial = map_row_blocks(self.n(), |rows| {
            let mut g = vec![0.0; k + 1];
            for i in rows {
                let r = match self.arch.task {
                    Task::Regression => -self.noise_precision * self.y[i],
                    Task::Classification => 0.5 - self.y[i],
                };
                for (gj, x) in g.iter_mut().zip(&self.z[i * k..(i + 1) * k]) {
                    *gj += r * x;
                }
                g[k] += r;
            }
            g
        });
        let mut g = DVector::zeros(k + 1);
        for block in partial {
            g += DVector::from_vec(block);
        }
        g.norm() + self.precision.component_mul(self.center).norm() + 1.0
    }
}

impl Objective for MlpProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.objective(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.gradient_at(theta)
    }
}

impl NewtonProblem for MlpProblem<'_> {
    /// G + Λ (see [`MlpProblem::hessian_ggn`]).
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.hessian_ggn(theta)
    }
}

/// An [`MlpProblem`] that computes f and ∇f together and remembers the last point.
///
/// argmin's L-BFGS with the Moré–Thuente line search asks for the cost and then the gradient at
/// every trial point, and for the gradient once more at the accepted point: three passes over the
/// data where one forward and backward pass gives all three. Here the cost computes both (through
/// [`MlpProblem::objective_and_gradient`], the same bits as the separate calls) and keeps them for
/// the next request at the same θ. Clones share the memory, which is only ever keyed by θ of this
/// one problem.
#[derive(Debug, Clone)]
pub struct FusedMlpProblem<'a> {
    problem: MlpProblem<'a>,
    last: LastEvaluation,
}

impl<'a> FusedMlpProblem<'a> {
    /// The problem itself.
    pub fn problem(&self) -> &MlpProblem<'a> {
        &self.problem
    }

    /// (f(θ), ∇f(θ)), remembered.
    pub fn objective_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        self.last
            .get_or_compute(theta, |theta| self.problem.objective_and_gradient(theta))
    }
}

impl Objective for FusedMlpProblem<'_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.objective_and_gradient(theta).0
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.objective_and_gradient(theta).1
    }
}

impl NewtonProblem for FusedMlpProblem<'_> {
    /// G + Λ (see [`MlpProblem::hessian_ggn`]).
    fn hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        self.problem.hessian_ggn(theta)
    }
}
