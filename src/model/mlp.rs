//! Multilayer perceptrons under a Gaussian prior N(μ, Λ⁻¹) on **all** weights and biases
//! (math.md §4).
//!
//! A network maps a standardised row x to an output pre-activation η through hidden layers
//! a⁽ˡ⁾ = W⁽ˡ⁾h⁽ˡ⁻¹⁾ + b⁽ˡ⁾, h⁽ˡ⁾ = φ(a⁽ˡ⁾), h⁽⁰⁾ = x, and one linear output unit
//! η = w_outᵀh⁽ᴸ⁾ + b_out. With no hidden layer it is linear (regression) or logistic
//! (classification) regression.
//!
//! * regression: y ~ N(η, 1/β), negative log likelihood
//!   ℓ(θ) = (β/2)Σᵢ(yᵢ − ηᵢ)² − (n/2) ln β + (n/2) ln 2π (a true −ln p(y | θ));
//! * classification: P(y = 1) = σ(η), ℓ(θ) = Σᵢ softplus(ηᵢ) − yᵢηᵢ;
//! * negative log posterior f(θ) = ℓ(θ) + ½(θ − μ)ᵀΛ(θ − μ), Λ diagonal;
//! * gradient ∇ℓ = Σᵢ rᵢJᵢ by backpropagation, Jᵢ = ∂ηᵢ/∂θ, rᵢ = ∂ℓ/∂ηᵢ = β(ηᵢ − yᵢ) or σ(ηᵢ) − yᵢ;
//! * generalised Gauss–Newton G = Σᵢ λᵢJᵢJᵢᵀ, λᵢ = ∂²ℓ/∂ηᵢ² = β or pᵢ(1 − pᵢ): always PSD, and
//!   equal to ∇²ℓ when there is no hidden layer (then η is linear in θ);
//! * exact Hessian ∇²ℓ = G + Σᵢ rᵢ∇²ηᵢ, here by central differences of the analytic gradient.
//!
//! **Parameter order** (what a centre vector, e.g. pretrained weights for L2-SP, must follow):
//! layer by layer from the input; within a layer its weight matrix row-major with one row per
//! *output* unit (`W[out][in]`), then that layer's biases; the output layer (one unit) last. So
//! 10-32-1 has `layer1.w[0,0] … layer1.w[0,9], layer1.w[1,0] … layer1.w[31,9], layer1.b[0] …
//! layer1.b[31], output.w[0,0] … output.w[0,31], output.b[0]` (see
//! [`Architecture::parameter_names`]).
//!
//! **Computation.** Sums over rows run over the fixed blocks of [`map_row_blocks`], each cut into
//! fixed sub-blocks of 512 rows (spread over the cores when all rows fit in one block) and chunks
//! of 256 rows whose forward and backward passes are dense matrix products (matrixmultiply) on
//! scratch buffers allocated once per sub-block — never per row; partial sums are added in a fixed
//! order, so every result has the same bits on any number of threads. tanh and σ of the hidden
//! units are branch-free kernels in plain IEEE arithmetic (within 5e-16 of libm), which vectorise
//! and give the same bits on every machine. For argmin's L-BFGS use [`MlpProblem::fused`], which
//! gets the cost and gradient from one pass.

use super::LastEvaluation;
use crate::error::{OccamError, Result};
use crate::linalg::{map_dealt, map_row_blocks, Real, BLOCK_ROWS};
use crate::model::logistic::{row_negative_log_likelihood, sigmoid};
use crate::random::Stream;
use argmin::core::{CostFunction, Error as ArgminError, Gradient, Hessian};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::ops::Range;

/// Rows per chunk of the forward/backward passes (it only bounds the scratch buffers).
const CHUNK_ROWS: usize = 256;

/// Rows per sub-block: a block of [`map_row_blocks`] is cut into fixed sub-blocks whose sums are
/// added in order, so that data in a single block (n ≤ [`BLOCK_ROWS`], where `map_row_blocks`
/// runs on one thread) can still use every core — with the same bits on any number of threads.
const SUB_BLOCK_ROWS: usize = 512;

/// Rows per chunk of the Jacobian whose Gram matrix is added to the GGN.
pub(crate) const GGN_CHUNK_ROWS: usize = 512;

/// Rows of the GGN computed by one matrix product (a band of its upper triangle).
const GGN_BAND_ROWS: usize = 64;

/// The relative step of the central differences in [`MlpProblem::exact_hessian`]:
/// hⱼ = 1e-5·max(1, |θⱼ|). The truncation error is O(h²) ≈ 1e-10 relative and the rounding error
/// O(ε/h) ≈ 1e-11 relative to the gradient's size, near the optimum of the two.
pub const HESSIAN_STEP: f64 = 1e-5;

/// The hidden units' nonlinearity φ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// φ(a) = 1/(1 + e⁻ᵃ).
    Sigmoid,
    /// φ(a) = tanh a.
    Tanh,
    /// φ(a) = max(a, 0).
    Relu,
}

impl Activation {
    /// φ(a).
    pub fn apply(self, a: f64) -> f64 {
        match self {
            Activation::Sigmoid => logistic_kernel(a),
            Activation::Tanh => tanh_kernel(a),
            Activation::Relu => a.max(0.0),
        }
    }

    /// φ′(a) written through the output h = φ(a): h(1 − h), 1 − h², or 𝟙(h > 0) (0 at the kink).
    pub fn derivative_from_output(self, h: f64) -> f64 {
        match self {
            Activation::Sigmoid => h * (1.0 - h),
            Activation::Tanh => 1.0 - h * h,
            Activation::Relu => f64::from(u8::from(h > 0.0)),
        }
    }

    /// |a| at or above which a unit counts as saturated: 4 for sigmoid, 2 for tanh (math.md §4);
    /// none for ReLU.
    pub fn saturation_threshold(self) -> Option<f64> {
        match self {
            Activation::Sigmoid => Some(4.0),
            Activation::Tanh => Some(2.0),
            Activation::Relu => None,
        }
    }

    /// Whether flipping a unit's sign (its incoming weights and bias, its outgoing weights, and for
    /// sigmoid the next layer's bias) leaves the function unchanged: tanh and sigmoid.
    pub fn has_sign_symmetry(self) -> bool {
        matches!(self, Activation::Sigmoid | Activation::Tanh)
    }

    /// The name on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
        }
    }
}

/// What the single output unit predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A real target, y ~ N(η, 1/β).
    Regression,
    /// A 0/1 target, P(y = 1) = σ(η).
    Classification,
}

/// One weight matrix and bias vector, and where they sit in θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    fan_in: usize,
    fan_out: usize,
    /// Offset of W (fan_out × fan_in, row-major) in θ; the biases follow it.
    offset: usize,
}

impl Shape {
    fn biases(&self) -> usize {
        self.offset + self.fan_out * self.fan_in
    }
    fn end(&self) -> usize {
        self.biases() + self.fan_out
    }
    fn w<'t>(&self, theta: &'t [f64]) -> &'t [f64] {
        &theta[self.offset..self.biases()]
    }
    fn b<'t>(&self, theta: &'t [f64]) -> &'t [f64] {
        &theta[self.biases()..self.end()]
    }
}

/// A layer unpacked from θ: W with one row per output unit, and the biases.
pub type Layer = (DMatrix<f64>, DVector<f64>);

/// The shape of a network: `inputs` features, hidden layers of the given widths, one output unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Architecture {
    /// Number of input features k (≥ 1).
    pub inputs: usize,
    /// Widths of the hidden layers from the input (each ≥ 1); empty for a linear/logistic model.
    pub hidden: Vec<usize>,
    /// The hidden units' nonlinearity.
    pub activation: Activation,
    /// Regression or binary classification.
    pub task: Task,
}

impl Architecture {
    /// A checked architecture: at least one input, and no empty hidden layer.
    pub fn new(
        inputs: usize,
        hidden: Vec<usize>,
        activation: Activation,
        task: Task,
    ) -> Result<Self> {
        let arch = Architecture {
            inputs,
            hidden,
            activation,
            task,
        };
        arch.validate()?;
        Ok(arch)
    }

    /// Checks the invariants [`Architecture::new`] enforces (the fields are public).
    pub fn validate(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(OccamError::invalid(
                "--hidden",
                "an MLP needs at least one input feature",
            ));
        }
        if let Some(l) = self.hidden.iter().position(|&h| h == 0) {
            return Err(OccamError::invalid(
                "--hidden",
                format!(
                    "hidden layer {} has no units; every width must be ≥ 1",
                    l + 1
                ),
            ));
        }
        Ok(())
    }

    /// Layer widths from the input to the output: (k, h₁, …, h_L, 1).
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(1))
            .collect()
    }

    fn shapes(&self) -> Vec<Shape> {
        let widths = self.widths();
        let mut offset = 0;
        widths
            .windows(2)
            .map(|w| {
                let shape = Shape {
                    fan_in: w[0],
                    fan_out: w[1],
                    offset,
                };
                offset = shape.end();
                shape
            })
            .collect()
    }

    /// P = Σ over layers of (fan_in + 1)·fan_out.
    pub fn n_params(&self) -> usize {
        self.widths().windows(2).map(|w| (w[0] + 1) * w[1]).sum()
    }

    /// The layers' names: `layer1`, …, `layerL` for the hidden layers, then `output`.
    pub fn layer_names(&self) -> Vec<String> {
        (1..=self.hidden.len())
            .map(|l| format!("layer{l}"))
            .chain(std::iter::once("output".to_string()))
            .collect()
    }

    /// One name per parameter, in θ's order: `layer1.w[3,0]` (unit 3's weight on input 0),
    /// `layer1.b[3]`, …, `output.w[0,2]`, `output.b[0]`.
    pub fn parameter_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_params());
        for (shape, layer) in self.shapes().iter().zip(self.layer_names()) {
            for o in 0..shape.fan_out {
                for i in 0..shape.fan_in {
                    names.push(format!("{layer}.w[{o},{i}]"));
                }
            }
            names.extend((0..shape.fan_out).map(|o| format!("{layer}.b[{o}]")));
        }
        names
    }

    /// θ unpacked into (W, b) per layer, W with one row per output unit (panics if θ does not
    /// have [`Architecture::n_params`] coordinates).
    pub fn layers(&self, theta: &DVector<f64>) -> Vec<Layer> {
        assert_eq!(theta.len(), self.n_params(), "θ length must be P");
        let t = theta.as_slice();
        self.shapes()
            .iter()
            .map(|s| {
                (
                    DMatrix::from_row_slice(s.fan_out, s.fan_in, s.w(t)),
                    DVector::from_column_slice(s.b(t)),
                )
            })
            .collect()
    }

    /// The inverse of [`Architecture::layers`]: θ from (W, b) per layer, or an error naming the
    /// first layer whose shape does not fit.
    pub fn pack(&self, layers: &[Layer]) -> Result<DVector<f64>> {
        let shapes = self.shapes();
        let names = self.layer_names();
        if layers.len() != shapes.len() {
            return Err(OccamError::computation(
                "packing MLP parameters",
                format!(
                    "{} layers given, the network has {}",
                    layers.len(),
                    shapes.len()
                ),
            ));
        }
        let mut theta = Vec::with_capacity(self.n_params());
        for ((s, (w, b)), name) in shapes.iter().zip(layers).zip(&names) {
            if w.shape() != (s.fan_out, s.fan_in) || b.len() != s.fan_out {
                return Err(OccamError::computation(
                    "packing MLP parameters",
                    format!(
                        "{name}: W is {}×{} and b has {}, expected {}×{} and {}",
                        w.nrows(),
                        w.ncols(),
                        b.len(),
                        s.fan_out,
                        s.fan_in,
                        s.fan_out
                    ),
                ));
            }
            for o in 0..s.fan_out {
                theta.extend(w.row(o).iter());
            }
            theta.extend(b.iter());
        }
        Ok(DVector::from_vec(theta))
    }

    /// The output pre-activation η for one standardised feature row `x` (k values).
    pub fn output(&self, theta: &DVector<f64>, x: &[f64]) -> f64 {
        assert_eq!(x.len(), self.inputs, "x must hold k features");
        let t = theta.as_slice();
        let mut h = x.to_vec();
        let shapes = self.shapes();
        for s in &shapes[..shapes.len() - 1] {
            h = s
                .w(t)
                .chunks_exact(s.fan_in)
                .zip(s.b(t))
                .map(|(row, b)| self.activation.apply(b + dot(row, &h)))
                .collect();
        }
        let s = shapes[shapes.len() - 1];
        s.b(t)[0] + dot(s.w(t), &h)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A dense matrix operand of [`gemm`]: `rows × cols` elements of `data` at
/// `data[i·row_stride + j·col_stride]`, always inside `data[..rows·cols]`.
#[derive(Clone, Copy)]
struct Operand<'d, T = f64> {
    data: &'d [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'d, T> Operand<'d, T> {
    /// Element (i, j) at `data[i·row_stride + j·col_stride]`; every element must lie in `data`.
    fn strided(
        data: &'d [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            rows == 0
                || cols == 0
                || (rows - 1) * row_stride + (cols - 1) * col_stride < data.len(),
            "operand: elements outside the slice"
        );
        Operand {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// A row-major rows × cols matrix.
    fn row_major(data: &'d [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// The transpose (cols × rows) of a row-major rows × cols matrix.
    fn transposed(data: &'d [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, cols, rows, 1, cols)
    }
}

/// c (a.rows × b.cols, row-major with row stride `ldc` ≥ b.cols) ← a·b + beta·c, by
/// matrixmultiply's kernels (as [`crate::linalg::gram_into`]); `c` is not read when beta = 0.
fn gemm<T: Real>(a: Operand<'_, T>, b: Operand<'_, T>, beta: T, c: &mut [T], ldc: usize) {
    assert_eq!(a.cols, b.rows, "gemm: inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        n <= ldc && (m == 0 || n == 0 || (m - 1) * ldc + n <= c.len()),
        "gemm: output outside the slice"
    );
    // SAFETY: an Operand's elements lie inside its slice (checked by its constructor), the output's
    // m×n elements with row stride ldc ≥ n lie inside `c` and are distinct (checked above), and
    // `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        T::gemm(
            (m, k, n),
            T::ONE,
            (
                a.data.as_ptr(),
                a.row_stride as isize,
                a.col_stride as isize,
            ),
            (
                b.data.as_ptr(),
                b.row_stride as isize,
                b.col_stride as isize,
            ),
            beta,
            (c.as_mut_ptr(), ldc as isize, 1),
        );
    }
}

/// The consecutive sub-ranges of `rows` of at most `size` rows.
fn chunks(rows: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    rows.clone()
        .step_by(size)
        .map(move |start| start..(start + size).min(rows.end))
}

/// Per-block buffers for chunks of up to `rows` rows: allocated once per block, never per row.
struct Scratch {
    /// Pre-activations a⁽ˡ⁾ of each hidden layer (rows × h_l, row-major).
    pre: Vec<Vec<f64>>,
    /// Activations h⁽ˡ⁾ = φ(a⁽ˡ⁾).
    act: Vec<Vec<f64>>,
    /// Output pre-activations η.
    eta: Vec<f64>,
    /// ∂(·)/∂a of the layer being visited (rows × fan_out).
    delta: Vec<f64>,
    /// The same for the layer below, being computed.
    back: Vec<f64>,
}

impl Scratch {
    fn new(arch: &Architecture, rows: usize) -> Self {
        let widest = arch.hidden.iter().copied().max().unwrap_or(1).max(1);
        Scratch {
            pre: arch.hidden.iter().map(|h| vec![0.0; rows * h]).collect(),
            act: arch.hidden.iter().map(|h| vec![0.0; rows * h]).collect(),
            eta: vec![0.0; rows],
            delta: vec![0.0; rows * widest],
            back: vec![0.0; rows * widest],
        }
    }
}

/// The negative log posterior of an MLP on standardised rows, as an argmin problem.
#[derive(Debug, Clone)]
pub struct MlpProblem<'a> {
    arch: &'a Architecture,
    shapes: Vec<Shape>,
    z: &'a [f64],
    y: &'a [f64],
    center: &'a DVector<f64>,
    precision: &'a DVector<f64>,
    noise_precision: f64,
}

impl<'a> MlpProblem<'a> {
    /// The problem for rows `z` (row-major, `arch.inputs` columns, standardised) with targets `y`
    /// (0/1 for classification, real for regression), the prior centre μ and diagonal precision Λ
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

    /// The forward pass over `rows` (at most the scratch's chunk size): fills `s.pre`, `s.act`
    /// and `s.eta`.
    fn forward(&self, theta: &[f64], rows: &Range<usize>, s: &mut Scratch) {
        let m = rows.len();
        let k = self.arch.inputs;
        let x0 = &self.z[rows.start * k..rows.end * k];
        let last = self.shapes.len() - 1;
        for (l, shape) in self.shapes[..last].iter().enumerate() {
            let (below, here) = s.act.split_at_mut(l);
            let input: &[f64] = if l == 0 { x0 } else { &below[l - 1] };
            let pre = &mut s.pre[l][..m * shape.fan_out];
            gemm(
                Operand::row_major(input, m, shape.fan_in),
                Operand::transposed(shape.w(theta), shape.fan_out, shape.fan_in),
                0.0,
                pre,
                shape.fan_out,
            );
            activate(
                self.arch.activation,
                shape.b(theta),
                pre,
                &mut here[0][..m * shape.fan_out],
            );
        }
        let out = self.shapes[last];
        let input: &[f64] = if last == 0 { x0 } else { &s.act[last - 1] };
        let (w, b) = (out.w(theta), out.b(theta)[0]);
        for (eta, row) in s.eta[..m]
            .iter_mut()
            .zip(input[..m * out.fan_in].chunks_exact(out.fan_in))
        {
            *eta = b + dot(row, w);
        }
    }

    /// The backward pass over `rows` after [`Self::forward`], from `s.delta[..m]` = ∂(·)/∂η: calls
    /// `visit(layer, input, delta)` for each layer from the output down, with the layer's input
    /// (m × fan_in) and ∂(·)/∂a (m × fan_out), both row-major.
    fn backward<F>(&self, theta: &[f64], rows: &Range<usize>, s: &mut Scratch, mut visit: F)
    where
        F: FnMut(usize, &[f64], &[f64]),
    {
        let m = rows.len();
        let k = self.arch.inputs;
        let x0 = &self.z[rows.start * k..rows.end * k];
        for l in (0..self.shapes.len()).rev() {
            let shape = self.shapes[l];
            let input: &[f64] = if l == 0 {
                x0
            } else {
                &s.act[l - 1][..m * shape.fan_in]
            };
            visit(l, input, &s.delta[..m * shape.fan_out]);
            if l == 0 {
                break;
            }
            // ∂/∂a⁽ˡ⁻¹⁾ = (δ W) ⊙ φ′(a⁽ˡ⁻¹⁾).
            let back = &mut s.back[..m * shape.fan_in];
            if shape.fan_out == 1 {
                let w = shape.w(theta);
                for (row, d) in back.chunks_exact_mut(shape.fan_in).zip(&s.delta[..m]) {
                    for (v, wi) in row.iter_mut().zip(w) {
                        *v = d * wi;
                    }
                }
            } else {
                gemm(
                    Operand::row_major(&s.delta, m, shape.fan_out),
                    Operand::row_major(shape.w(theta), shape.fan_out, shape.fan_in),
                    0.0,
                    back,
                    shape.fan_in,
                );
            }
            multiply_derivative(self.arch.activation, back, input);
            std::mem::swap(&mut s.delta, &mut s.back);
        }
    }

    /// The data term of a chunk after [`Self::forward`]: Σ(yᵢ − ηᵢ)² (regression) or
    /// Σ softplus(ηᵢ) − yᵢηᵢ (classification).
    fn chunk_loss(&self, eta: &[f64], y: &[f64]) -> f64 {
        match self.arch.task {
            Task::Regression => eta.iter().zip(y).map(|(e, y)| (y - e) * (y - e)).sum(),
            Task::Classification => eta
                .iter()
                .zip(y)
                .map(|(e, y)| row_negative_log_likelihood(*e, *y))
                .sum(),
        }
    }

    /// rᵢ = ∂ℓ/∂ηᵢ for a chunk, written into `out`.
    fn residuals(&self, eta: &[f64], y: &[f64], out: &mut [f64]) {
        match self.arch.task {
            Task::Regression => {
                let beta = self.noise_precision;
                for ((r, e), y) in out.iter_mut().zip(eta).zip(y) {
                    *r = beta * (e - y);
                }
            }
            Task::Classification => {
                for ((r, e), y) in out.iter_mut().zip(eta).zip(y) {
                    *r = sigmoid(*e) - y;
                }
            }
        }
    }

    /// The data term (see [`Self::chunk_loss`]) over `rows`, chunk by chunk on the calling thread,
    /// and with `gradient` its gradient too (by backpropagation; else an empty vector).
    fn sub_block(&self, theta: &[f64], rows: Range<usize>, gradient: bool) -> (f64, Vec<f64>) {
        let mut s = Scratch::new(self.arch, CHUNK_ROWS.min(rows.len()));
        let mut loss = 0.0;
        let mut g = vec![0.0; if gradient { self.n_params() } else { 0 }];
        for chunk in chunks(rows, CHUNK_ROWS) {
            let m = chunk.len();
            self.forward(theta, &chunk, &mut s);
            loss += self.chunk_loss(&s.eta[..m], &self.y[chunk.clone()]);
            if !gradient {
                continue;
            }
            self.residuals(&s.eta[..m], &self.y[chunk.clone()], &mut s.delta[..m]);
            self.backward(theta, &chunk, &mut s, |l, input, delta| {
                let shape = self.shapes[l];
                let (gw, gb) =
                    g[shape.offset..shape.end()].split_at_mut(shape.biases() - shape.offset);
                if shape.fan_out == 1 {
                    for (row, d) in input.chunks_exact(shape.fan_in).zip(delta) {
                        for (gj, x) in gw.iter_mut().zip(row) {
                            *gj += d * x;
                        }
                        gb[0] += d;
                    }
                } else {
                    // G_W += δᵀ·input.
                    gemm(
                        Operand::transposed(delta, m, shape.fan_out),
                        Operand::row_major(input, m, shape.fan_in),
                        1.0,
                        gw,
                        shape.fan_in,
                    );
                    for row in delta.chunks_exact(shape.fan_out) {
                        for (gj, d) in gb.iter_mut().zip(row) {
                            *gj += d;
                        }
                    }
                }
            });
        }
        (loss, g)
    }

    /// [`Self::sub_block`] over a block of [`map_row_blocks`], by sub-blocks of
    /// [`SUB_BLOCK_ROWS`] rows added in order (computed on all cores if `parallel`).
    fn block(
        &self,
        theta: &[f64],
        rows: Range<usize>,
        gradient: bool,
        parallel: bool,
    ) -> (f64, Vec<f64>) {
        let parts = map_sub_blocks(rows, parallel, |sub| self.sub_block(theta, sub, gradient));
        let loss = parts.iter().map(|(l, _)| l).sum();
        let mut parts = parts.into_iter().map(|(_, g)| g);
        let mut g = parts.next().unwrap_or_default();
        for part in parts {
            g.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        }
        (loss, g)
    }

    /// (ℓ(θ), ∇ℓ(θ) if `gradient`), summed over the blocks of [`map_row_blocks`] in order. With
    /// `serial` everything runs on the calling thread — with the same blocks, sub-blocks and order,
    /// so the same bits.
    fn evaluate(
        &self,
        theta: &DVector<f64>,
        gradient: bool,
        serial: bool,
    ) -> (f64, Option<DVector<f64>>) {
        let t = theta.as_slice();
        let blocks = if serial {
            (0..self.n())
                .step_by(BLOCK_ROWS)
                .map(|start| {
                    self.block(
                        t,
                        start..(start + BLOCK_ROWS).min(self.n()),
                        gradient,
                        false,
                    )
                })
                .collect()
        } else {
            // A single block runs on one thread in map_row_blocks: its sub-blocks use the cores.
            let parallel = self.n() <= BLOCK_ROWS;
            map_row_blocks(self.n(), |rows| self.block(t, rows, gradient, parallel))
        };
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
        self.evaluate(theta, false, false).0
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
        self.evaluate(theta, true, false).1.unwrap_or_default()
    }

    /// [`Self::likelihood_gradient`] on the calling thread (the same bits).
    fn likelihood_gradient_serial(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.evaluate(theta, true, true).1.unwrap_or_default()
    }

    /// ∇f = ∇ℓ + Λ(θ − μ).
    pub fn gradient_at(&self, theta: &DVector<f64>) -> DVector<f64> {
        self.likelihood_gradient(theta) + self.precision.component_mul(&(theta - self.center))
    }

    /// (f(θ), ∇f(θ)) from one forward and backward pass: the same bits as [`Self::objective`]
    /// and [`Self::gradient_at`] for about the price of the gradient alone.
    pub fn objective_and_gradient(&self, theta: &DVector<f64>) -> (f64, DVector<f64>) {
        let (nll, g) = self.evaluate(theta, true, false);
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

    /// The generalised Gauss–Newton matrix G = Σᵢ λᵢJᵢJᵢᵀ (Jᵢ = ∂ηᵢ/∂θ, λᵢ = β or pᵢ(1 − pᵢ)):
    /// PSD, exactly symmetric, and ∇²ℓ itself when there is no hidden layer.
    ///
    /// The rows √λᵢJᵢ of fixed chunks of 512 rows are built by backpropagation from
    /// ∂(√λᵢηᵢ)/∂ηᵢ = √λᵢ, and each chunk's Gram matrix is added, in row order, to the upper
    /// triangle of G by bands of 64 rows, one matrix product per band, the bands
    /// spread over the cores (half the work of a full Gram matrix; each band's arithmetic is the
    /// same on any number of threads). The lower triangle is then mirrored. (Not
    /// [`crate::linalg::gram_into`] per block of [`map_row_blocks`]: that computes the full square,
    /// on one thread when n ≤ [`BLOCK_ROWS`], and holds a P×P matrix per block.)
    pub fn ggn(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let p = self.n_params();
        DMatrix::from_row_slice(p, p, &self.gauss_newton_gram::<f64>(theta))
    }

    /// G + Λ in single precision (row-major P×P): a search's preconditioner, formed at twice the
    /// rate of [`Self::hessian_ggn`] (matrixmultiply's f32 kernels are twice as wide), accurate to
    /// about 1e-6 relative — ample for a change of variables, never used for a printed number.
    pub fn hessian_ggn_single(&self, theta: &DVector<f64>) -> Vec<f32> {
        let p = self.n_params();
        let mut h = self.gauss_newton_gram::<f32>(theta);
        for (i, lambda) in self.precision.iter().enumerate() {
            h[i * p + i] += *lambda as f32;
        }
        h
    }

    /// G of [`Self::ggn`] in precision `T`, row-major P×P: the Jacobian rows are formed in f64 and
    /// rounded to `T`, their Gram matrix is summed in `T`.
    fn gauss_newton_gram<T: Real>(&self, theta: &DVector<f64>) -> Vec<T> {
        let p = self.n_params();
        let t = theta.as_slice();
        let chunk_rows = GGN_CHUNK_ROWS.min(self.n());
        let mut s = Scratch::new(self.arch, chunk_rows);
        let mut jacobian = vec![T::ZERO; chunk_rows * p];
        let mut total = vec![T::ZERO; p * p];
        for chunk in chunks(0..self.n(), GGN_CHUNK_ROWS) {
            let m = chunk.len();
            self.forward(t, &chunk, &mut s);
            for (d, e) in s.delta[..m].iter_mut().zip(&s.eta[..m]) {
                *d = match self.arch.task {
                    Task::Regression => self.noise_precision.sqrt(),
                    Task::Classification => {
                        let prob = sigmoid(*e);
                        (prob * (1.0 - prob)).sqrt()
                    }
                };
            }
            let jac = &mut jacobian[..m * p];
            self.backward(t, &chunk, &mut s, |l, input, delta| {
                let shape = self.shapes[l];
                let (fan_in, fan_out) = (shape.fan_in, shape.fan_out);
                for ((jrow, xrow), drow) in jac
                    .chunks_exact_mut(p)
                    .zip(input.chunks_exact(fan_in))
                    .zip(delta.chunks_exact(fan_out))
                {
                    let (jw, jb) = jrow[shape.offset..shape.end()].split_at_mut(fan_out * fan_in);
                    for (jo, d) in jw.chunks_exact_mut(fan_in).zip(drow) {
                        for (j, x) in jo.iter_mut().zip(xrow) {
                            *j = T::from_f64(d * x);
                        }
                    }
                    jb.iter_mut()
                        .zip(drow)
                        .for_each(|(j, d)| *j = T::from_f64(*d));
                }
            });
            add_gram_upper(jac, m, p, &mut total);
        }
        for i in 0..p {
            for j in 0..i {
                total[i * p + j] = total[j * p + i];
            }
        }
        total
    }

    /// ∇²ℓ by central differences of the analytic gradient: column j is
    /// (∇ℓ(θ + hⱼeⱼ) − ∇ℓ(θ − hⱼeⱼ))/(2hⱼ), hⱼ = [`HESSIAN_STEP`]·max(1, |θⱼ|) (the step actually
    /// taken, after rounding), then symmetrised, ½(H + Hᵀ). Costs 2P gradients, spread over the
    /// cores by column (each column is computed alone, so the bits do not depend on the threads).
    pub fn exact_hessian(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let mut h = self.exact_hessian_unsymmetrized(theta);
        symmetrize(&mut h);
        h
    }

    fn exact_hessian_unsymmetrized(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let p = self.n_params();
        let columns = map_columns(p, |j| {
            let step = HESSIAN_STEP * theta[j].abs().max(1.0);
            let mut up = theta.clone();
            up[j] += step;
            let mut down = theta.clone();
            down[j] -= step;
            let taken = up[j] - down[j];
            (self.likelihood_gradient_serial(&up) - self.likelihood_gradient_serial(&down)) / taken
        });
        DMatrix::from_columns(&columns)
    }

    /// ∇²f ≈ G + Λ: the default curvature of the Laplace evidence (PSD + positive diagonal).
    pub fn hessian_ggn(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let mut h = self.ggn(theta);
        h.set_diagonal(&(h.diagonal() + self.precision));
        h
    }

    /// ∇²f = ∇²ℓ + Λ with the finite-difference ∇²ℓ of [`Self::exact_hessian`]; it need not be
    /// positive definite away from a strict minimum.
    pub fn hessian_exact(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let mut h = self.exact_hessian(theta);
        h.set_diagonal(&(h.diagonal() + self.precision));
        h
    }

    /// The prediction for row `i`: ŷ = η (regression) or p = σ(η) (classification).
    pub fn predict(&self, theta: &DVector<f64>, i: usize) -> f64 {
        let k = self.arch.inputs;
        let eta = self.arch.output(theta, &self.z[i * k..(i + 1) * k]);
        match self.arch.task {
            Task::Regression => eta,
            Task::Classification => sigmoid(eta),
        }
    }

    /// The output pre-activations η of every row, blocked like the sums.
    pub fn outputs(&self, theta: &DVector<f64>) -> Vec<f64> {
        let t = theta.as_slice();
        map_row_blocks(self.n(), |rows| {
            let mut s = Scratch::new(self.arch, CHUNK_ROWS.min(rows.len()));
            let mut eta = Vec::with_capacity(rows.len());
            for chunk in chunks(rows, CHUNK_ROWS) {
                self.forward(t, &chunk, &mut s);
                eta.extend_from_slice(&s.eta[..chunk.len()]);
            }
            eta
        })
        .concat()
    }

    /// The size of the gradient's terms, against which a gradient norm counts as small:
    /// ‖Σᵢ rᵢ(xᵢ, 1)‖ + ‖Λμ‖ + 1, with rᵢ = ∂ℓ/∂η at η = 0 (½ − yᵢ or −βyᵢ) — the data's own
    /// gradient scale, equal to the logistic model's when there is no hidden layer.
    pub fn gradient_scale(&self) -> f64 {
        let k = self.arch.inputs;
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

/// h ← φ(pre + b) row by row, with pre ← pre + b kept. On x86-64 CPUs with AVX-512 or AVX2 the
/// same code is compiled for 8- or 4-wide vectors (the kernels use no fused multiply-add, so the
/// bits are the same).
fn activate(activation: Activation, bias: &[f64], pre: &mut [f64], act: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if activation != Activation::Relu {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { activate_avx512(activation, bias, pre, act) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { activate_avx2(activation, bias, pre, act) };
            return;
        }
    }
    activate_portable(activation, bias, pre, act);
}

/// [`activate_portable`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn activate_avx512(activation: Activation, bias: &[f64], pre: &mut [f64], act: &mut [f64]) {
    activate_portable(activation, bias, pre, act);
}

/// [`activate_portable`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn activate_avx2(activation: Activation, bias: &[f64], pre: &mut [f64], act: &mut [f64]) {
    activate_portable(activation, bias, pre, act);
}

/// See [`activate`] (the match outside the loops, so that they vectorise).
#[inline(always)]
fn activate_portable(activation: Activation, bias: &[f64], pre: &mut [f64], act: &mut [f64]) {
    let width = bias.len();
    let rows = pre.chunks_exact_mut(width).zip(act.chunks_exact_mut(width));
    match activation {
        Activation::Tanh => {
            for (p, h) in rows {
                for ((a, o), b) in p.iter_mut().zip(h.iter_mut()).zip(bias) {
                    *a += b;
                    *o = tanh_kernel(*a);
                }
            }
        }
        Activation::Sigmoid => {
            for (p, h) in rows {
                for ((a, o), b) in p.iter_mut().zip(h.iter_mut()).zip(bias) {
                    *a += b;
                    *o = logistic_kernel(*a);
                }
            }
        }
        Activation::Relu => {
            for (p, h) in rows {
                for ((a, o), b) in p.iter_mut().zip(h.iter_mut()).zip(bias) {
                    *a += b;
                    *o = a.max(0.0);
                }
            }
        }
    }
}

/// v ← v ⊙ φ′, φ′ written through the activations h.
fn multiply_derivative(activation: Activation, v: &mut [f64], h: &[f64]) {
    match activation {
        Activation::Tanh => v.iter_mut().zip(h).for_each(|(v, h)| *v *= 1.0 - h * h),
        Activation::Sigmoid => v.iter_mut().zip(h).for_each(|(v, h)| *v *= h * (1.0 - h)),
        Activation::Relu => v.iter_mut().zip(h).for_each(|(v, h)| {
            if *h <= 0.0 {
                *v = 0.0;
            }
        }),
    }
}

/// `f` on the consecutive sub-blocks of [`SUB_BLOCK_ROWS`] rows of `rows`, results in order; on
/// all cores if `parallel`, else on the calling thread — the same values either way.
fn map_sub_blocks<T, F>(rows: Range<usize>, parallel: bool, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    let subs: Vec<Range<usize>> = chunks(rows, SUB_BLOCK_ROWS).collect();
    let threads = if parallel {
        crate::linalg::threads().min(subs.len())
    } else {
        1
    };
    if threads <= 1 {
        return subs.into_iter().map(&f).collect();
    }
    let per_thread = subs.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = subs
            .chunks(per_thread)
            .map(|group| scope.spawn(move || group.iter().cloned().map(f).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The upper triangle of `total` (p×p, row-major) += that of JᵀJ for the m×p row-major `jac`: band
/// [r₀, r₁) of rows gets J[:, r₀..r₁]ᵀ·J[:, r₀..p] in one product, bands dealt round-robin to the
/// cores. (Entries below the diagonal inside a band are also written; the caller mirrors.)
fn add_gram_upper<T: Real>(jac: &[T], m: usize, p: usize, total: &mut [T]) {
    let bands: Vec<(usize, &mut [T])> = total
        .chunks_mut(GGN_BAND_ROWS * p)
        .enumerate()
        .map(|(b, out)| (b * GGN_BAND_ROWS, out))
        .collect();
    map_dealt(bands, m * p * p, |(start, out)| {
        let rows = out.len() / p;
        gemm(
            Operand::strided(&jac[start..m * p], rows, m, 1, p),
            Operand::strided(&jac[start..m * p], m, p - start, p, 1),
            T::ONE,
            &mut out[start..],
            p,
        );
    });
}

/// ln 2 split for Cody–Waite reduction: `LN2_HI` has only 32 significant bits, so k·`LN2_HI` is
/// exact for |k| < 2²¹.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.93147180369123816490e-1
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770002e-10
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// (2ᵏ, eʳ − 1) with x = k ln 2 + r, |r| ≤ ½ ln 2, for x ≤ 0 (clamped at −708, NaN kept): eˣ − 1 =
/// 2ᵏ(eʳ − 1) + (2ᵏ − 1) and eˣ = 2ᵏ(eʳ − 1) + 2ᵏ. eʳ − 1 is the degree-13 Taylor polynomial
/// (remainder < 2e-17 relative), 2ᵏ is built from the exponent bits. Branch-free and plain IEEE
/// arithmetic (no fused multiply-add), so loops over it vectorise and give the same bits on every
/// machine — unlike the platform's libm.
#[inline(always)]
fn exp_reduced(x: f64) -> (f64, f64) {
    let x = if x < -708.0 { -708.0 } else { x };
    let shifted = x * std::f64::consts::LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // eʳ − 1 = r·Σᵢ cᵢrⁱ with cᵢ = 1/(i + 1)!, i = 0 … 12, by Estrin's scheme: pairs, then pairs
    // of pairs with r², r⁴, r⁸ — a dependency chain of 8 operations instead of Horner's 24, which
    // the tanh and sigmoid loops were waiting on (measured: a third of a gradient's time).
    const C: [f64; 13] = [
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let q0 = C[0] + C[1] * r;
    let q1 = C[2] + C[3] * r;
    let q2 = C[4] + C[5] * r;
    let q3 = C[6] + C[7] * r;
    let q4 = C[8] + C[9] * r;
    let q5 = C[10] + C[11] * r;
    let s0 = q0 + q1 * r2;
    let s1 = q2 + q3 * r2;
    let s2 = q4 + q5 * r2;
    let t0 = s0 + s1 * r4;
    let t1 = s2 + C[12] * r4;
    let p = t0 + t1 * r8;
    // The low 12 bits of `shifted`'s representation are k mod 2¹²; k + 1023 ∈ [1, 1023].
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    (scale, p * r)
}

/// tanh x = −m/(2 + m) with m = e^(−2|x|) − 1, sign restored: within 5e-16 relative of libm's
/// tanh over the whole line (a unit test checks), exactly ±1 beyond |x| ≈ 19, odd, NaN kept.
#[inline(always)]
fn tanh_kernel(x: f64) -> f64 {
    let (scale, em1) = exp_reduced(-2.0 * x.abs());
    let m = scale * em1 + (scale - 1.0);
    (-m / (2.0 + m)).copysign(x)
}

/// σ(a) = 1/(1 + e⁻ᵃ) for a ≥ 0 and e^a/(1 + e^a) below, with e^(−|a|) from [`exp_reduced`]
/// (vectorisable; within 4e-16 relative of [`sigmoid`] where that is above 1e-300).
#[inline(always)]
fn logistic_kernel(a: f64) -> f64 {
    let (scale, em1) = exp_reduced(-a.abs());
    let e = scale * em1 + scale;
    let numerator = if a >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// m ← ½(m + mᵀ).
fn symmetrize(m: &mut DMatrix<f64>) {
    let p = m.nrows();
    for i in 0..p {
        for j in i + 1..p {
            let v = 0.5 * (m[(i, j)] + m[(j, i)]);
            m[(i, j)] = v;
            m[(j, i)] = v;
        }
    }
}

/// `f(j)` for j in 0..p, on all cores in contiguous groups, returned in order. Each value is
/// computed by one call alone, so the result does not depend on the number of threads.
fn map_columns<F>(p: usize, f: F) -> Vec<DVector<f64>>
where
    F: Fn(usize) -> DVector<f64> + Sync,
{
    let threads = crate::linalg::threads().min(p);
    if threads <= 1 {
        return (0..p).map(&f).collect();
    }
    let per_thread = p.div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..p)
            .step_by(per_thread)
            .map(|start| {
                scope.spawn(move || {
                    (start..(start + per_thread).min(p))
                        .map(f)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

impl CostFunction for MlpProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, ArgminError> {
        Ok(self.objective(theta))
    }
}

impl Gradient for MlpProblem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Self::Gradient, ArgminError> {
        Ok(self.gradient_at(theta))
    }
}

impl Hessian for MlpProblem<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    /// G + Λ (see [`MlpProblem::hessian_ggn`]).
    fn hessian(&self, theta: &Self::Param) -> std::result::Result<Self::Hessian, ArgminError> {
        Ok(self.hessian_ggn(theta))
    }
}

impl crate::inference::laplace::NewtonProblem for MlpProblem<'_> {}

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

impl CostFunction for FusedMlpProblem<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, ArgminError> {
        Ok(self.objective_and_gradient(theta).0)
    }
}

impl Gradient for FusedMlpProblem<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, theta: &Self::Param) -> std::result::Result<Self::Gradient, ArgminError> {
        Ok(self.objective_and_gradient(theta).1)
    }
}

impl Hessian for FusedMlpProblem<'_> {
    type Param = DVector<f64>;
    type Hessian = DMatrix<f64>;
    /// G + Λ (see [`MlpProblem::hessian_ggn`]).
    fn hessian(&self, theta: &Self::Param) -> std::result::Result<Self::Hessian, ArgminError> {
        Ok(self.problem.hessian_ggn(theta))
    }
}

/// Deterministic starting weights: ChaCha20 seeded with `seed` ([`Stream::from_seed`]), weights
/// drawn in θ's order as N(0, 2/(fan_in + fan_out)) (Glorot-normal; the cosine branch of
/// Box–Muller, two uniforms per weight), biases 0. Value-stable across platforms and versions.
pub fn initial_parameters(arch: &Architecture, seed: u64) -> DVector<f64> {
    let mut stream = Stream::from_seed(seed);
    let mut theta = vec![0.0; arch.n_params()];
    for s in arch.shapes() {
        let sd = (2.0 / (s.fan_in + s.fan_out) as f64).sqrt();
        for w in &mut theta[s.offset..s.biases()] {
            *w = sd * stream.normal();
        }
    }
    DVector::from_vec(theta)
}

/// Counts over the hidden units' pre-activations on every row: (saturated (unit, row) pairs,
/// (unit, row) pairs, per unit whether it was ever active a > 0), units numbered across layers.
fn hidden_unit_counts(problem: &MlpProblem, theta: &DVector<f64>) -> (u64, u64, Vec<bool>) {
    let arch = problem.arch;
    let units: usize = arch.hidden.iter().sum();
    let threshold = arch.activation.saturation_threshold();
    let t = theta.as_slice();
    let partial = map_row_blocks(problem.n(), |rows| {
        let mut s = Scratch::new(arch, CHUNK_ROWS.min(rows.len()));
        let mut saturated = 0u64;
        let mut active = vec![false; units];
        for chunk in chunks(rows, CHUNK_ROWS) {
            let m = chunk.len();
            problem.forward(t, &chunk, &mut s);
            let mut first = 0;
            for (pre, &h) in s.pre.iter().zip(&arch.hidden) {
                for row in pre[..m * h].chunks_exact(h) {
                    for (u, a) in row.iter().enumerate() {
                        active[first + u] |= *a > 0.0;
                        if threshold.is_some_and(|c| a.abs() >= c) {
                            saturated += 1;
                        }
                    }
                }
                first += h;
            }
        }
        (saturated, active)
    });
    let mut saturated = 0;
    let mut active = vec![false; units];
    for (count, block) in partial {
        saturated += count;
        active.iter_mut().zip(block).for_each(|(a, b)| *a |= b);
    }
    (saturated, (units * problem.n()) as u64, active)
}

/// The fraction of (hidden unit, row) pairs with |pre-activation| ≥ 4 (sigmoid) or ≥ 2 (tanh)
/// (math.md §4); None for ReLU, and when there are no hidden units or no rows.
pub fn saturation_fraction(problem: &MlpProblem, theta: &DVector<f64>) -> Option<f64> {
    problem.arch.activation.saturation_threshold()?;
    let (saturated, pairs, _) = hidden_unit_counts(problem, theta);
    (pairs > 0).then(|| saturated as f64 / pairs as f64)
}

/// The fraction of hidden ReLU units that are dead: pre-activation ≤ 0 on every row. None for
/// other activations, and when there are no hidden units or no rows.
pub fn dead_relu_fraction(problem: &MlpProblem, theta: &DVector<f64>) -> Option<f64> {
    if problem.arch.activation != Activation::Relu || problem.n() == 0 {
        return None;
    }
    let (_, _, active) = hidden_unit_counts(problem, theta);
    (!active.is_empty())
        .then(|| active.iter().filter(|a| !**a).count() as f64 / active.len() as f64)
}

/// Input participation ratios of one hidden layer's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerParticipation {
    /// `layer1`, `layer2`, ….
    pub layer: String,
    /// The mean over units with a defined ratio (None if none has one).
    pub mean: Option<f64>,
    /// Per unit (Σ|w|)²/(k·Σw²) over its k incoming weights (biases excluded): 1 when all inputs
    /// weigh the same, 1/k when one input carries everything; None when every weight is 0.
    pub units: Vec<Option<f64>>,
}

/// The input participation ratio of every hidden unit, per hidden layer (the output layer
/// excluded).
pub fn participation_ratios(arch: &Architecture, theta: &DVector<f64>) -> Vec<LayerParticipation> {
    let t = theta.as_slice();
    let shapes = arch.shapes();
    shapes[..shapes.len() - 1]
        .iter()
        .zip(arch.layer_names())
        .map(|(s, layer)| {
            let units: Vec<Option<f64>> = s
                .w(t)
                .chunks_exact(s.fan_in)
                .map(|w| {
                    let l1: f64 = w.iter().map(|v| v.abs()).sum();
                    let l2: f64 = w.iter().map(|v| v * v).sum();
                    (l2 > 0.0).then(|| l1 * l1 / (s.fan_in as f64 * l2))
                })
                .collect();
            let defined: Vec<f64> = units.iter().flatten().copied().collect();
            let mean =
                (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
            LayerParticipation { layer, mean, units }
        })
        .collect()
}

/// The Frobenius norm ‖W‖ of each layer's weights (biases excluded), hidden layers then output.
pub fn weight_norms(arch: &Architecture, theta: &DVector<f64>) -> Vec<f64> {
    let t = theta.as_slice();
    arch.shapes()
        .iter()
        .map(|s| s.w(t).iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect()
}

/// Two hidden units count as clones when their signatures (incoming weights, bias, outgoing
/// weights) differ by at most this fraction of the largest signature norm among the network's
/// hidden units, and a unit is a zero unit when its signature's norm is at most that much.
pub const CLONE_TOLERANCE: f64 = 1e-3;

/// The distinct-mode count of one hidden layer at a mode (math.md §4, issue 14).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerSymmetry {
    /// `layer1`, `layer2`, ….
    pub layer: String,
    /// Units h.
    pub units: usize,
    /// Groups of two or more units equal up to sign (tanh, sigmoid) or equal (ReLU) at the mode,
    /// by unit index (from 0); every other unit is a group of its own.
    pub clone_groups: Vec<Vec<usize>>,
    /// Units whose signature is zero: each is its own sign flip.
    pub zero_units: Vec<usize>,
    /// ln(h! / Π m_g!) + (h − zero units)·ln 2 for tanh and sigmoid, without the ln 2 terms for
    /// ReLU, in nats.
    pub log_count: f64,
}

/// ln n!.
fn log_factorial(n: usize) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

/// The number of distinct parameter vectors the hidden-unit symmetries map the mode θ onto, per
/// hidden layer (math.md §4).
///
/// A layer's symmetry group has h!·2^h elements for tanh and sigmoid (permutations, and sign
/// flips of a unit's incoming weights, bias and outgoing weights — for sigmoid also shifting the
/// next layer's bias by the outgoing weights, since σ(−a) = 1 − σ(a)) and h! for ReLU. The mode's
/// images number |group| / |stabiliser|. Group the units whose signature s = (incoming weights,
/// bias, outgoing weights) is equal up to sign (equal, for ReLU) within [`CLONE_TOLERANCE`]:
/// every permutation inside a group of m_g units, with the flips that match the signs, maps θ onto
/// itself (for sigmoid the flipped units come in pairs of opposite sign, so the next bias's shifts
/// cancel), and a zero unit's flip changes nothing. So
///
/// ln #images = ln(h! / Π_g m_g!) + (h − z)·ln 2 (tanh, sigmoid; z zero units), ln(h! / Π_g m_g!) (ReLU),
///
/// which is ln h! + h ln 2 when all units are distinct and nonzero. Groups are formed greedily in
/// unit order, each unit joining the first group whose first unit it matches.
pub fn layer_symmetries(arch: &Architecture, theta: &DVector<f64>) -> Vec<LayerSymmetry> {
    let t = theta.as_slice();
    let shapes = arch.shapes();
    let flips = arch.activation.has_sign_symmetry();
    // Each hidden unit's signature, per hidden layer.
    let signatures: Vec<Vec<Vec<f64>>> = shapes
        .windows(2)
        .map(|pair| {
            let (this, next) = (pair[0], pair[1]);
            let (w, b, w_next) = (this.w(t), this.b(t), next.w(t));
            (0..this.fan_out)
                .map(|j| {
                    w[j * this.fan_in..(j + 1) * this.fan_in]
                        .iter()
                        .copied()
                        .chain([b[j]])
                        .chain((0..next.fan_out).map(|o| w_next[o * next.fan_in + j]))
                        .collect()
                })
                .collect()
        })
        .collect();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale = signatures
        .iter()
        .flatten()
        .map(|s| norm(s))
        .fold(0.0, f64::max);
    let tolerance = CLONE_TOLERANCE * scale;
    let distance = |a: &[f64], b: &[f64], sign: f64| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - sign * y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    signatures
        .iter()
        .zip(arch.layer_names())
        .map(|(units, layer)| {
            let mut zero_units = Vec::new();
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for (j, s) in units.iter().enumerate() {
                if norm(s) <= tolerance {
                    zero_units.push(j);
                    continue;
                }
                let matches = |g: &Vec<usize>| {
                    let first = &units[g[0]];
                    distance(s, first, 1.0) <= tolerance
                        || (flips && distance(s, first, -1.0) <= tolerance)
                };
                match groups.iter_mut().find(|g| matches(g)) {
                    Some(g) => g.push(j),
                    None => groups.push(vec![j]),
                }
            }
            let h = units.len();
            let mut log_count = log_factorial(h)
                - groups.iter().map(|g| log_factorial(g.len())).sum::<f64>()
                - log_factorial(zero_units.len());
            if flips {
                log_count += (h - zero_units.len()) as f64 * std::f64::consts::LN_2;
            }
            LayerSymmetry {
                layer,
                units: h,
                clone_groups: groups.into_iter().filter(|g| g.len() > 1).collect(),
                zero_units,
                log_count,
            }
        })
        .collect()
}

/// ln of the number of distinct parameter vectors equivalent to the mode θ (math.md §4), in nats:
/// the sum over hidden layers of [`layer_symmetries`]' counts; Σ ln(h!) (+ h ln 2 for tanh and
/// sigmoid) when every unit is distinct and nonzero.
pub fn symmetry_log_count(arch: &Architecture, theta: &DVector<f64>) -> f64 {
    layer_symmetries(arch, theta)
        .iter()
        .map(|l| l.log_count)
        .sum()
}

/// Every diagnostic of a fitted network, for the outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// See [`saturation_fraction`].
    pub saturation_fraction: Option<f64>,
    /// See [`dead_relu_fraction`].
    pub dead_relu_fraction: Option<f64>,
    /// See [`participation_ratios`].
    pub participation: Vec<LayerParticipation>,
    /// See [`weight_norms`], in the order of [`Architecture::layer_names`].
    pub weight_norms: Vec<f64>,
    /// See [`symmetry_log_count`] (nats).
    pub symmetry_log_count: f64,
    /// The clone groups and zero units behind it, per hidden layer ([`layer_symmetries`]).
    pub symmetry: Vec<LayerSymmetry>,
}

/// All of the diagnostics at θ.
pub fn diagnostics(problem: &MlpProblem, theta: &DVector<f64>) -> Diagnostics {
    let arch = problem.arch;
    Diagnostics {
        saturation_fraction: saturation_fraction(problem, theta),
        dead_relu_fraction: dead_relu_fraction(problem, theta),
        participation: participation_ratios(arch, theta),
        weight_norms: weight_norms(arch, theta),
        symmetry_log_count: symmetry_log_count(arch, theta),
        symmetry: layer_symmetries(arch, theta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::logistic::LogisticProblem;
    use crate::testing::random_design;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Row-major standardised-ish rows and targets (real, or 0/1 by the sign).
    fn data(n: usize, k: usize, task: Task, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let (x, y) = random_design(n, k, seed);
        let y = match task {
            Task::Regression => y.as_slice().to_vec(),
            Task::Classification => y.iter().map(|v| f64::from(u8::from(*v > 0.0))).collect(),
        };
        (x.transpose().as_slice().to_vec(), y)
    }

    fn arch(k: usize, hidden: &[usize], activation: Activation, task: Task) -> Architecture {
        Architecture::new(k, hidden.to_vec(), activation, task).unwrap()
    }

    /// A point away from the origin with non-zero biases.
    fn point(arch: &Architecture, seed: u64) -> DVector<f64> {
        let mut theta = initial_parameters(arch, seed) * 1.5;
        for (j, name) in arch.parameter_names().iter().enumerate() {
            if name.contains(".b[") {
                theta[j] = 0.35 - 0.1 * (j % 5) as f64;
            }
        }
        theta
    }

    const ACTIVATIONS: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];
    const TASKS: [Task; 2] = [Task::Regression, Task::Classification];

    #[test]
    fn activation_kernels_match_libm() {
        let mut worst: f64 = 0.0;
        for i in 0..=400_000 {
            let x = -25.0 + 50.0 * f64::from(i) / 400_000.0;
            for x in [x, x * 1e-3, x * 1e-9, x * 1e-200] {
                let (t, expected) = (tanh_kernel(x), x.tanh());
                worst = worst.max((t - expected).abs() / expected.abs().max(1e-300));
                let a = 28.0 * x;
                let (s, expected) = (logistic_kernel(a), sigmoid(a));
                worst = worst.max((s - expected).abs() / expected);
            }
        }
        assert!(worst < 1e-15, "{worst:e}");
        for x in [f64::INFINITY, 800.0, 40.0, 20.0] {
            assert_eq!((tanh_kernel(x), tanh_kernel(-x)), (1.0, -1.0));
        }
        for a in [f64::INFINITY, 800.0, 40.0] {
            assert_eq!(logistic_kernel(a), 1.0);
        }
        assert_eq!(logistic_kernel(-f64::INFINITY), logistic_kernel(-708.0));
        assert!(logistic_kernel(-800.0) < 1e-300);
        assert!(tanh_kernel(f64::NAN).is_nan() && logistic_kernel(f64::NAN).is_nan());
        assert_eq!(tanh_kernel(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(logistic_kernel(0.0), 0.5);
    }

    #[test]
    fn vectorised_activations_give_the_same_bits() {
        let bias = [0.3, -1.2, 0.0];
        let pre: Vec<f64> = (0..3 * 101)
            .map(|i| (f64::from(i) * 0.731).sin() * 9.0)
            .collect();
        for activation in ACTIVATIONS {
            let (mut p1, mut h1) = (pre.clone(), vec![0.0; pre.len()]);
            let (mut p2, mut h2) = (pre.clone(), vec![0.0; pre.len()]);
            activate(activation, &bias, &mut p1, &mut h1);
            activate_portable(activation, &bias, &mut p2, &mut h2);
            assert_eq!((&p1, &h1), (&p2, &h2), "{activation:?}");
            // Each vector width the machine has, not just the one `activate` picks.
            #[cfg(target_arch = "x86_64")]
            for (feature, available) in [
                ("avx2", std::arch::is_x86_feature_detected!("avx2")),
                ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
            ] {
                if !available {
                    continue;
                }
                let (mut p3, mut h3) = (pre.clone(), vec![0.0; pre.len()]);
                // SAFETY: the CPU has the feature, checked just above.
                unsafe {
                    if feature == "avx2" {
                        activate_avx2(activation, &bias, &mut p3, &mut h3);
                    } else {
                        activate_avx512(activation, &bias, &mut p3, &mut h3);
                    }
                }
                assert_eq!((&p3, &h3), (&p2, &h2), "{activation:?} {feature}");
            }
            for (a, h) in p1.iter().zip(&h1) {
                assert_eq!(*h, activation.apply(*a));
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let k = 6;
        for activation in ACTIVATIONS {
            for task in TASKS {
                for hidden in [&[][..], &[3], &[7, 6], &[3, 2]] {
                    // 600 rows: several chunks of the forward/backward passes.
                    let (z, y) = data(600, k, task, 11);
                    let a = arch(k, hidden, activation, task);
                    let p = a.n_params();
                    let center = DVector::from_fn(p, |i, _| 0.05 * (i % 7) as f64 - 0.1);
                    let precision = DVector::from_fn(p, |i, _| 0.5 + 0.1 * (i % 3) as f64);
                    let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.7);
                    let theta = point(&a, 3);
                    let g = problem.gradient_at(&theta);
                    let e = 1e-6;
                    for j in 0..p {
                        let mut up = theta.clone();
                        up[j] += e;
                        let mut down = theta.clone();
                        down[j] -= e;
                        let fd = (problem.objective(&up) - problem.objective(&down)) / (2.0 * e);
                        assert!(
                            (fd - g[j]).abs() < 2e-6 * g[j].abs().max(1.0),
                            "{activation:?} {task:?} {hidden:?} ∂f/∂{}: {fd} vs {}",
                            a.parameter_names()[j],
                            g[j]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fused_serial_and_parallel_evaluations_give_the_same_bits() {
        // 9000 rows: two blocks of map_row_blocks; 3000 rows: one block cut into sub-blocks.
        for n in [9000, 3000] {
            let (z, y) = data(n, 4, Task::Classification, 3);
            let a = arch(4, &[6, 3], Activation::Tanh, Task::Classification);
            let p = a.n_params();
            let center = DVector::from_element(p, 0.1);
            let precision = DVector::from_element(p, 2.0);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = point(&a, 5);
            let (f, g) = problem.objective_and_gradient(&theta);
            assert_eq!(f, problem.objective(&theta));
            assert_eq!(g, problem.gradient_at(&theta));
            assert_eq!(
                problem.likelihood_gradient_serial(&theta),
                problem.likelihood_gradient(&theta)
            );
            let fused = problem.fused();
            assert_eq!(fused.cost(&theta).unwrap(), f);
            assert_eq!(fused.gradient(&theta).unwrap(), g);
            let elsewhere = &theta * 0.5;
            assert_eq!(
                fused.gradient(&elsewhere).unwrap(),
                problem.gradient_at(&elsewhere)
            );
            assert_eq!(
                fused.clone().cost(&elsewhere).unwrap(),
                problem.objective(&elsewhere)
            );
            assert_eq!(fused.hessian(&theta).unwrap(), problem.hessian_ggn(&theta));
        }
    }

    #[test]
    fn without_hidden_layers_ggn_is_the_exact_hessian() {
        for task in TASKS {
            let (z, y) = data(700, 4, task, 5);
            let a = arch(4, &[], Activation::Tanh, task);
            let center = DVector::from_fn(5, |i, _| 0.1 * i as f64);
            let precision = DVector::from_element(5, 0.3);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 2.5);
            let theta = DVector::from_vec(vec![0.4, -0.2, 0.1, 0.7, -0.3]);
            let ggn = problem.ggn(&theta);
            let exact = problem.exact_hessian(&theta);
            let scale = ggn.abs().max();
            for (g, h) in ggn.iter().zip(exact.iter()) {
                assert!((g - h).abs() < 1e-6 * scale, "{task:?}: {g} vs {h}");
            }
            let with_prior = problem.hessian_ggn(&theta) - problem.hessian_exact(&theta);
            assert!(with_prior.abs().max() < 1e-6 * scale);
            if task == Task::Classification {
                // The same parameter order as the logistic model with an intercept.
                let logistic = LogisticProblem::new(&z, &y, 4, true, &center, &precision);
                let fisher = logistic.fisher_information(&theta);
                assert!((&ggn - &fisher).abs().max() < 1e-12 * scale);
                assert!((problem.objective(&theta) - logistic.objective(&theta)).abs() < 1e-9);
                let dg = problem.gradient_at(&theta) - logistic.gradient_at(&theta);
                assert!(dg.norm() < 1e-9);
                assert_eq!(problem.gradient_scale(), logistic.gradient_scale());
            }
        }
    }

    #[test]
    fn without_hidden_layers_regression_is_the_linear_model() {
        let (n, k) = (300, 3);
        let (z, y) = data(n, k, Task::Regression, 8);
        let a = arch(k, &[], Activation::Relu, Task::Regression);
        let center = DVector::from_vec(vec![0.5, -0.5, 0.0, 1.0]);
        let precision = DVector::from_vec(vec![2.0, 2.0, 2.0, 0.1]);
        let beta = 0.6;
        let problem = MlpProblem::new(&a, &z, &y, &center, &precision, beta);
        let theta = DVector::from_vec(vec![0.3, 1.1, -0.4, 0.2]);
        let rss: f64 = (0..n)
            .map(|i| {
                let fit = theta[3] + dot(&z[i * k..(i + 1) * k], &theta.as_slice()[..k]);
                (y[i] - fit).powi(2)
            })
            .sum();
        let nf = n as f64;
        let nll = 0.5 * beta * rss - 0.5 * nf * beta.ln() + 0.5 * nf * (2.0 * PI).ln();
        let prior: f64 = (0..4)
            .map(|j| 0.5 * precision[j] * (theta[j] - center[j]).powi(2))
            .sum();
        assert!((problem.negative_log_likelihood(&theta) - nll).abs() < 1e-10 * nll.abs());
        assert!((problem.objective(&theta) - nll - prior).abs() < 1e-10 * nll.abs());
        // ∇²ℓ = βX̃ᵀX̃ whatever θ.
        let mut design = DMatrix::from_element(n, k + 1, 1.0);
        for i in 0..n {
            for j in 0..k {
                design[(i, j)] = z[i * k + j];
            }
        }
        let expected = design.transpose() * &design * beta;
        assert!((problem.ggn(&theta) - &expected).abs().max() < 1e-10 * expected.abs().max());
    }

    #[test]
    fn ggn_is_symmetric_psd_and_the_exact_hessian_symmetric() {
        for task in TASKS {
            let (z, y) = data(200, 3, task, 21);
            let a = arch(3, &[5, 4], Activation::Tanh, task);
            let p = a.n_params();
            let center = DVector::zeros(p);
            let precision = DVector::from_element(p, 1.0);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = point(&a, 9);
            let ggn = problem.ggn(&theta);
            assert_eq!(ggn, ggn.transpose());
            let eigen = ggn.clone().symmetric_eigenvalues();
            let largest = eigen.max();
            assert!(eigen.min() > -1e-10 * largest, "{task:?}: {}", eigen.min());
            let raw = problem.exact_hessian_unsymmetrized(&theta);
            let asymmetry = (&raw - raw.transpose()).abs().max();
            assert!(asymmetry < 1e-6 * raw.abs().max(), "{task:?}: {asymmetry}");
            let exact = problem.exact_hessian(&theta);
            assert_eq!(exact, exact.transpose());
            // With hidden layers the two curvatures differ by Σ rᵢ∇²ηᵢ, and must.
            assert!((&exact - &ggn).abs().max() > 1e-3 * largest);
            let via_trait = problem.hessian(&theta).unwrap();
            assert_eq!(via_trait, problem.hessian_ggn(&theta));
            // The single-precision GGN + Λ (a search's preconditioner) is the same matrix to f32.
            let single = problem.hessian_ggn_single(&theta);
            let double = problem.hessian_ggn(&theta);
            let scale = double.abs().max();
            for i in 0..p {
                for j in 0..p {
                    let err = (f64::from(single[i * p + j]) - double[(i, j)]).abs();
                    assert!(err <= 1e-6 * scale, "{task:?} ({i}, {j}): {err:e}");
                    assert_eq!(single[i * p + j], single[j * p + i]);
                }
            }
        }
    }

    #[test]
    fn at_a_perfect_fit_the_ggn_is_the_exact_hessian() {
        // With rᵢ = 0 on every row the term Σ rᵢ∇²ηᵢ vanishes. P = 197: several bands of the GGN,
        // computed on all cores.
        let (z, _) = data(300, 6, Task::Regression, 13);
        let a = arch(6, &[12, 8], Activation::Sigmoid, Task::Regression);
        let p = a.n_params();
        let theta = point(&a, 2);
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let blank = vec![0.0; 300];
        let fitted = MlpProblem::new(&a, &z, &blank, &center, &precision, 1.0).outputs(&theta);
        let problem = MlpProblem::new(&a, &z, &fitted, &center, &precision, 2.0);
        assert!(problem.likelihood_gradient(&theta).norm() < 1e-12);
        let ggn = problem.ggn(&theta);
        let exact = problem.exact_hessian(&theta);
        let scale = ggn.abs().max();
        let worst = (&ggn - &exact).abs().max();
        assert!(worst < 1e-6 * scale, "{worst:e} against {scale:e}");
    }

    /// θ with hidden layer `layer`'s units permuted by `perm` (the rows of W and b, and the
    /// columns of the next layer's W).
    fn permute_units(
        a: &Architecture,
        theta: &DVector<f64>,
        layer: usize,
        perm: &[usize],
    ) -> DVector<f64> {
        let mut layers = a.layers(theta);
        let (w, b) = layers[layer].clone();
        layers[layer] = (
            DMatrix::from_fn(w.nrows(), w.ncols(), |o, i| w[(perm[o], i)]),
            DVector::from_fn(b.len(), |o, _| b[perm[o]]),
        );
        let next = layers[layer + 1].0.clone();
        layers[layer + 1].0 =
            DMatrix::from_fn(next.nrows(), next.ncols(), |o, i| next[(o, perm[i])]);
        a.pack(&layers).unwrap()
    }

    #[test]
    fn permuting_and_flipping_hidden_units_leaves_the_posterior_unchanged() {
        for task in TASKS {
            let (z, y) = data(300, 4, task, 2);
            let a = arch(4, &[5, 3], Activation::Tanh, task);
            let p = a.n_params();
            // An exchangeable prior: μ = 0, Λ = αI.
            let center = DVector::zeros(p);
            let precision = DVector::from_element(p, 0.7);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.3);
            let theta = point(&a, 4);
            let mut moved = permute_units(&a, &theta, 0, &[3, 0, 4, 1, 2]);
            moved = permute_units(&a, &moved, 1, &[2, 0, 1]);
            // tanh is odd: flipping unit 1 of layer 2 (in, bias and out) changes nothing.
            let mut layers = a.layers(&moved);
            for i in 0..5 {
                layers[1].0[(1, i)] *= -1.0;
            }
            layers[1].1[1] *= -1.0;
            layers[2].0[(0, 1)] *= -1.0;
            moved = a.pack(&layers).unwrap();
            assert!((&moved - &theta).norm() > 0.1);
            let (f0, f1) = (problem.objective(&theta), problem.objective(&moved));
            assert!((f0 - f1).abs() < 1e-12 * f0.abs(), "{task:?}: {f0} vs {f1}");
            let (g0, g1) = (
                problem.gradient_at(&theta).norm(),
                problem.gradient_at(&moved).norm(),
            );
            assert!((g0 - g1).abs() < 1e-10 * g0, "{task:?}: {g0} vs {g1}");
            let log_det = |h: DMatrix<f64>| {
                let c = h.cholesky().unwrap();
                2.0 * c.l().diagonal().iter().map(|v| v.ln()).sum::<f64>()
            };
            let (d0, d1) = (
                log_det(problem.hessian_ggn(&theta)),
                log_det(problem.hessian_ggn(&moved)),
            );
            assert!((d0 - d1).abs() < 1e-9 * d0.abs(), "{task:?}: {d0} vs {d1}");
        }
    }

    #[test]
    fn initial_parameters_are_deterministic_and_glorot_scaled() {
        let a = arch(10, &[32, 32], Activation::Tanh, Task::Regression);
        let theta = initial_parameters(&a, 42);
        assert_eq!(theta, initial_parameters(&a, 42));
        assert_ne!(theta, initial_parameters(&a, 43));
        // Value-stable: the first weight is the first normal of the seed's stream, scaled.
        let mut stream = Stream::from_seed(42);
        assert_eq!(theta[0], (2.0f64 / 42.0).sqrt() * stream.normal());
        let layers = a.layers(&theta);
        for (w, b) in &layers {
            assert!(b.iter().all(|v| *v == 0.0));
            let sd = (2.0 / (w.nrows() + w.ncols()) as f64).sqrt();
            let rms = (w.norm_squared() / w.len() as f64).sqrt();
            assert!((rms / sd - 1.0).abs() < 0.5, "rms {rms} vs sd {sd}");
        }
        let big = (layers[1].0.norm_squared() / 1024.0).sqrt(); // 32×32: sd √(2/64)
        assert!((big / (2.0f64 / 64.0).sqrt() - 1.0).abs() < 0.05, "{big}");
    }

    #[test]
    fn parameter_order_names_and_layers_agree() {
        let a = arch(2, &[4], Activation::Sigmoid, Task::Classification);
        assert_eq!(a.widths(), vec![2, 4, 1]);
        assert_eq!(a.n_params(), 17);
        let names = a.parameter_names();
        assert_eq!(names.len(), 17);
        assert_eq!(names[0], "layer1.w[0,0]");
        assert_eq!(names[1], "layer1.w[0,1]");
        assert_eq!(names[6], "layer1.w[3,0]");
        assert_eq!(names[11], "layer1.b[3]");
        assert_eq!(names[14], "output.w[0,2]");
        assert_eq!(names[16], "output.b[0]");
        let theta = DVector::from_fn(17, |i, _| i as f64);
        let layers = a.layers(&theta);
        assert_eq!(layers[0].0[(3, 0)], 6.0);
        assert_eq!(layers[0].0[(0, 1)], 1.0);
        assert_eq!(layers[0].1[3], 11.0);
        assert_eq!(layers[1].0[(0, 2)], 14.0);
        assert_eq!(layers[1].1[0], 16.0);
        assert_eq!(a.pack(&layers).unwrap(), theta);
        let mut bad = layers.clone();
        bad[1].0 = DMatrix::zeros(1, 3);
        assert!(a.pack(&bad).unwrap_err().to_string().contains("output"));
        assert!(a.pack(&layers[..1]).is_err());
        assert!(Architecture::new(2, vec![3, 0], Activation::Tanh, Task::Regression).is_err());
        assert!(Architecture::new(0, vec![], Activation::Tanh, Task::Regression).is_err());
        let no_hidden = arch(2, &[], Activation::Tanh, Task::Regression);
        assert_eq!(symmetry_log_count(&no_hidden, &point(&no_hidden, 1)), 0.0);
    }

    #[test]
    fn predictions_agree_with_the_blocked_forward_pass() {
        for task in TASKS {
            let (z, y) = data(300, 7, task, 6);
            let a = arch(7, &[8, 6], Activation::Sigmoid, task);
            let p = a.n_params();
            let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = point(&a, 1);
            let eta = problem.outputs(&theta);
            assert_eq!(eta.len(), 300);
            for i in [0, 1, 255, 256, 299] {
                let expected = match task {
                    Task::Regression => eta[i],
                    Task::Classification => sigmoid(eta[i]),
                };
                assert!((problem.predict(&theta, i) - expected).abs() < 1e-12);
            }
            let prefix = problem.prefix(100);
            assert_eq!(prefix.n(), 100);
            assert_eq!(prefix.outputs(&theta)[..], eta[..100]);
        }
    }

    #[test]
    fn diagnostics_of_hand_built_networks() {
        // Rows x = (1, 1), (3, 0.5), (−0.5, −1); layer 1 units a₀ = x₀, a₁ = 3x₁ − 0.5·0 …
        let z = [1.0, 1.0, 3.0, 0.5, -0.5, -1.0];
        let y = [0.0, 1.0, 0.0];
        let tiny = |activation, w1: [f64; 4], b1: [f64; 2]| {
            let a = arch(2, &[2], activation, Task::Classification);
            let layers = vec![
                (
                    DMatrix::from_row_slice(2, 2, &w1),
                    DVector::from_row_slice(&b1),
                ),
                (
                    DMatrix::from_row_slice(1, 2, &[1.0, -1.0]),
                    DVector::from_element(1, 0.0),
                ),
            ];
            let theta = a.pack(&layers).unwrap();
            (a, theta)
        };
        let zero = DVector::zeros(9);
        let one = DVector::from_element(9, 1.0);

        // tanh: pre-activations x₀ = (1, 3, −0.5) and 3x₁ = (3, 1.5, −3): 3 of 6 have |a| ≥ 2.
        let (a, theta) = tiny(Activation::Tanh, [1.0, 0.0, 0.0, 3.0], [0.0, 0.0]);
        let problem = MlpProblem::new(&a, &z, &y, &zero, &one, 1.0);
        assert_eq!(saturation_fraction(&problem, &theta), Some(0.5));
        assert_eq!(dead_relu_fraction(&problem, &theta), None);
        // Sigmoid's threshold is 4: with a bias of 1 only 3x₁ + 1 = 4 (row 0) reaches it.
        let (a, theta) = tiny(Activation::Sigmoid, [1.0, 0.0, 0.0, 3.0], [0.0, 1.0]);
        let problem = MlpProblem::new(&a, &z, &y, &zero, &one, 1.0);
        assert_eq!(saturation_fraction(&problem, &theta), Some(1.0 / 6.0));

        // ReLU: unit 1 has a = −x₀ − 10 < 0 on every row, unit 0 a = x₀ > 0 on two.
        let (a, theta) = tiny(Activation::Relu, [1.0, 0.0, -1.0, 0.0], [0.0, -10.0]);
        let problem = MlpProblem::new(&a, &z, &y, &zero, &one, 1.0);
        assert_eq!(dead_relu_fraction(&problem, &theta), Some(0.5));
        assert_eq!(saturation_fraction(&problem, &theta), None);
        let all_dead = tiny(Activation::Relu, [0.0, 0.0, 0.0, 0.0], [0.0, -1.0]).1;
        assert_eq!(dead_relu_fraction(&problem, &all_dead), Some(1.0));

        // Participation: (1, 1) → 1, (3, −1) → 4²/(2·10) = 0.8; (0, 0) undefined.
        let (a, theta) = tiny(Activation::Tanh, [1.0, 1.0, 3.0, -1.0], [0.0, 0.0]);
        let ratios = participation_ratios(&a, &theta);
        assert_eq!(ratios.len(), 1);
        assert_eq!(ratios[0].layer, "layer1");
        assert_eq!(ratios[0].units, vec![Some(1.0), Some(0.8)]);
        assert!((ratios[0].mean.unwrap() - 0.9).abs() < 1e-15);
        let (a, theta) = tiny(Activation::Tanh, [1.0, 0.0, 0.0, 0.0], [0.0, 0.0]);
        let ratios = participation_ratios(&a, &theta);
        assert_eq!(ratios[0].units, vec![Some(0.5), None]);
        assert_eq!(ratios[0].mean, Some(0.5));

        // Weight norms: √(1 + 9) for layer 1, √2 for the output; biases excluded.
        let (a, theta) = tiny(Activation::Tanh, [1.0, 0.0, 0.0, 3.0], [5.0, 5.0]);
        let norms = weight_norms(&a, &theta);
        assert_eq!(norms, vec![10f64.sqrt(), 2f64.sqrt()]);

        // Symmetries of distinct units: ln 3! + ln 2! (+ 5 ln 2 sign flips for tanh and sigmoid).
        let ln = f64::ln;
        let relu = arch(2, &[3, 2], Activation::Relu, Task::Regression);
        let relu_count = symmetry_log_count(&relu, &point(&relu, 4));
        assert!((relu_count - ln(6.0) - ln(2.0)).abs() < 1e-14);
        let tanh = arch(2, &[3, 2], Activation::Tanh, Task::Regression);
        let tanh_count = symmetry_log_count(&tanh, &point(&tanh, 4));
        assert!((tanh_count - ln(6.0) - ln(2.0) - 5.0 * ln(2.0)).abs() < 1e-14);

        // No hidden layer: nothing to saturate.
        let linear = arch(2, &[], Activation::Tanh, Task::Classification);
        let (c, l) = (DVector::zeros(3), DVector::from_element(3, 1.0));
        let problem = MlpProblem::new(&linear, &z, &y, &c, &l, 1.0);
        let theta = DVector::from_element(3, 1.0);
        let d = diagnostics(&problem, &theta);
        assert_eq!(d.saturation_fraction, None);
        assert_eq!(d.dead_relu_fraction, None);
        assert!(d.participation.is_empty());
        assert_eq!(d.weight_norms, vec![2f64.sqrt()]);
        assert_eq!(d.symmetry_log_count, 0.0);
    }

    /// Every image of a one-hidden-layer θ under the h!·2^h permutations and sign flips (for
    /// sigmoid a flip also moves the output bias by the unit's outgoing weight), with the images'
    /// losses: the brute-force count [`layer_symmetries`] must match.
    fn images(arch: &Architecture, theta: &DVector<f64>) -> Vec<DVector<f64>> {
        let layers = arch.layers(theta);
        let (w, b) = &layers[0];
        let (v, c) = &layers[1];
        let h = w.nrows();
        let mut permutations = vec![vec![]];
        for _ in 0..h {
            permutations = permutations
                .into_iter()
                .flat_map(|p: Vec<usize>| {
                    (0..h)
                        .filter(|j| !p.contains(j))
                        .map(|j| {
                            let mut q = p.clone();
                            q.push(j);
                            q
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        let masks = if arch.activation.has_sign_symmetry() {
            1usize << h
        } else {
            1
        };
        let mut out = Vec::new();
        for p in &permutations {
            for mask in 0..masks {
                let (mut w2, mut b2, mut v2, mut c2) = (w.clone(), b.clone(), v.clone(), c.clone());
                for (slot, &unit) in p.iter().enumerate() {
                    let sign = if mask >> slot & 1 == 1 { -1.0 } else { 1.0 };
                    w2.set_row(slot, &(w.row(unit) * sign));
                    b2[slot] = b[unit] * sign;
                    v2.set_column(slot, &(v.column(unit) * sign));
                    if sign < 0.0 && arch.activation == Activation::Sigmoid {
                        // σ(−a) = 1 − σ(a): the output keeps its value if its bias takes v.
                        c2 += v.column(unit);
                    }
                }
                out.push(arch.pack(&[(w2, b2), (v2, c2)]).unwrap());
            }
        }
        out
    }

    /// ln of the number of distinct vectors among `images`, coordinates compared to 1e-9 (the
    /// sigmoid's bias shifts are summed in different orders).
    fn log_distinct(images: &[DVector<f64>]) -> f64 {
        let mut keys: Vec<Vec<i64>> = images
            .iter()
            .map(|t| t.iter().map(|x| (x * 1e9).round() as i64).collect())
            .collect();
        keys.sort();
        keys.dedup();
        (keys.len() as f64).ln()
    }

    #[test]
    fn the_symmetry_term_counts_distinct_modes() {
        let (z, y) = data(30, 2, Task::Regression, 3);
        for activation in ACTIVATIONS {
            let a = arch(2, &[4], activation, Task::Regression);
            let unit = |w: [f64; 2], b: f64, v: f64| (w, b, v);
            // Units 0 and 2 are clones, unit 3 is unit 1 with every sign flipped, and each case
            // below replaces some of them.
            let base = [
                unit([0.7, -0.3], 0.2, 1.1),
                unit([-0.4, 0.9], -0.5, 0.6),
                unit([0.7, -0.3], 0.2, 1.1),
                unit([0.4, -0.9], 0.5, -0.6),
            ];
            let zero = unit([0.0, 0.0], 0.0, 0.0);
            let distinct = unit([0.1, 0.8], 0.3, -0.9);
            // (units, the clone groups, the zero units).
            type Case = ([([f64; 2], f64, f64); 4], Vec<Vec<usize>>, Vec<usize>);
            let cases: [Case; 3] = [
                (base, vec![vec![0, 2], vec![1, 3]], vec![]),
                (
                    [base[0], base[0], zero, distinct],
                    vec![vec![0, 1]],
                    vec![2],
                ),
                ([base[0], base[1], distinct, zero], vec![], vec![3]),
            ];
            for (units, mut groups, zeros) in cases {
                let w: Vec<f64> = units.iter().flat_map(|u| u.0).collect();
                let b: Vec<f64> = units.iter().map(|u| u.1).collect();
                let v: Vec<f64> = units.iter().map(|u| u.2).collect();
                let theta = a
                    .pack(&[
                        (DMatrix::from_row_slice(4, 2, &w), DVector::from_vec(b)),
                        (
                            DMatrix::from_row_slice(1, 4, &v),
                            DVector::from_element(1, 0.1),
                        ),
                    ])
                    .unwrap();
                let found = layer_symmetries(&a, &theta);
                if activation == Activation::Relu {
                    // No sign flips: unit 3 = −unit 1 is a different unit.
                    groups.retain(|g| g != &vec![1, 3]);
                }
                assert_eq!(found[0].clone_groups, groups, "{activation:?}");
                assert_eq!(found[0].zero_units, zeros, "{activation:?}");
                let all = images(&a, &theta);
                // Every image is the same function (the symmetries are symmetries).
                let (c, l) = (
                    DVector::zeros(a.n_params()),
                    DVector::from_element(a.n_params(), 1.0),
                );
                let problem = MlpProblem::new(&a, &z, &y, &c, &l, 1.0);
                let loss = problem.negative_log_likelihood(&theta);
                for image in &all {
                    let other = problem.negative_log_likelihood(image);
                    assert!((other - loss).abs() < 1e-9 * loss.abs(), "{activation:?}");
                }
                let brute = log_distinct(&all);
                assert!(
                    (symmetry_log_count(&a, &theta) - brute).abs() < 1e-12,
                    "{activation:?}: {} vs {brute}",
                    symmetry_log_count(&a, &theta)
                );
            }
            // Distinct units: the full ln h! (+ h ln 2), also by brute force.
            let theta = point(&a, 9);
            let full = log_factorial(4)
                + if activation.has_sign_symmetry() {
                    4.0 * std::f64::consts::LN_2
                } else {
                    0.0
                };
            assert!((symmetry_log_count(&a, &theta) - full).abs() < 1e-12);
            assert!((log_distinct(&images(&a, &theta)) - full).abs() < 1e-12);
        }
    }

    #[test]
    fn near_clones_within_the_tolerance_are_grouped_and_beyond_it_are_not() {
        let a = arch(1, &[2], Activation::Tanh, Task::Regression);
        // Signatures (w, b, v) = (1, 0, 1) and (1 + δ, 0, 1): clones iff δ ≤ 1e-3·√2.
        for (delta, clones) in [(1e-4, true), (1e-2, false)] {
            let theta = DVector::from_vec(vec![1.0, 1.0 + delta, 0.0, 0.0, 1.0, 1.0, 0.0]);
            let groups = &layer_symmetries(&a, &theta)[0].clone_groups;
            assert_eq!(groups.len(), usize::from(clones), "δ = {delta}");
        }
    }

    /// This process's user + system CPU time in seconds (Linux; 0 elsewhere): on a loaded machine
    /// it tells the work apart from the waiting.
    fn cpu_seconds() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        // After the command name: state is field 3, utime 14 and stime 15 (in clock ticks).
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
        ticks(14)
            .zip(ticks(15))
            .map_or(0.0, |(u, s)| (u + s) / 100.0)
    }

    /// A problem that counts its evaluations.
    #[derive(Clone)]
    struct Counted<'p, 'a> {
        problem: &'p FusedMlpProblem<'a>,
        costs: &'p AtomicUsize,
        gradients: &'p AtomicUsize,
    }

    impl CostFunction for Counted<'_, '_> {
        type Param = DVector<f64>;
        type Output = f64;
        fn cost(&self, theta: &Self::Param) -> std::result::Result<f64, ArgminError> {
            self.costs.fetch_add(1, Ordering::Relaxed);
            self.problem.cost(theta)
        }
    }

    impl Gradient for Counted<'_, '_> {
        type Param = DVector<f64>;
        type Gradient = DVector<f64>;
        fn gradient(&self, theta: &Self::Param) -> std::result::Result<DVector<f64>, ArgminError> {
            self.gradients.fetch_add(1, Ordering::Relaxed);
            self.problem.gradient(theta)
        }
    }

    /// Timing at the size of the speed target (run with
    /// `cargo test --release --lib mlp::tests::timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timing_10_32_32_1_tanh_5000_rows() {
        use std::time::Instant;
        let (n, k) = (5000, 10);
        for task in TASKS {
            let (z, y) = data(n, k, task, 1);
            let a = arch(k, &[32, 32], Activation::Tanh, task);
            let p = a.n_params();
            let center = DVector::zeros(p);
            let precision = DVector::from_element(p, 1.0);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = initial_parameters(&a, 7);
            let time = |label: &str, reps: usize, f: &dyn Fn()| {
                f();
                let (start, cpu) = (Instant::now(), cpu_seconds());
                for _ in 0..reps {
                    f();
                }
                let each = start.elapsed().as_secs_f64() / reps as f64;
                let cpu_each = (cpu_seconds() - cpu) / reps as f64;
                println!(
                    "{task:?} P={p} n={n} {label}: {:.3} ms wall, {:.3} ms CPU (all threads)",
                    each * 1e3,
                    cpu_each * 1e3
                );
            };
            time("objective", 50, &|| {
                std::hint::black_box(problem.objective(&theta));
            });
            time("gradient", 50, &|| {
                std::hint::black_box(problem.gradient_at(&theta));
            });
            time("ggn", 3, &|| {
                std::hint::black_box(problem.ggn(&theta));
            });
            time("exact hessian", 1, &|| {
                std::hint::black_box(problem.exact_hessian(&theta));
            });
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let options = crate::inference::map::LbfgsOptions {
                max_iters: 300,
                gradient_tolerance: 1e-6 * problem.gradient_scale(),
                ..Default::default()
            };
            let fused = problem.fused();
            time("objective_and_gradient", 50, &|| {
                std::hint::black_box(problem.objective_and_gradient(&theta));
            });
            let counted = Counted {
                problem: &fused,
                costs: &AtomicUsize::new(0),
                gradients: &AtomicUsize::new(0),
            };
            let (map, iterations, reason) =
                crate::inference::map::run_lbfgs(counted.clone(), theta.clone(), options).unwrap();
            println!(
                "{task:?}: L-BFGS evaluated the cost {} and the gradient {} times",
                counted.costs.load(Ordering::Relaxed),
                counted.gradients.load(Ordering::Relaxed)
            );
            let (lbfgs, lbfgs_cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
            let (start, cpu) = (Instant::now(), cpu_seconds());
            std::hint::black_box(problem.hessian_ggn(&map));
            println!(
                "{task:?}: L-BFGS {iterations} iterations ({reason}) {lbfgs:.3} s wall, {lbfgs_cpu:.3} s CPU, ‖∇f‖ = {:.2e}; then GGN {:.3} s wall, {:.3} s CPU",
                problem.gradient_at(&map).norm(),
                start.elapsed().as_secs_f64(),
                cpu_seconds() - cpu
            );
        }
    }
}
