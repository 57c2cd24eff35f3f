//! The network's shape — inputs, hidden widths, activation, task — and the layout of its
//! parameter vector θ.

use super::Activation;
use crate::error::{OccamError, Result, Setting};
use crate::prior::groups::ParameterInfo;
use crate::random::Stream;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// What the network's output predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// A real target, y ~ N(η, 1/β).
    Regression,
    /// A class target: two classes with one output unit, P(y = 1) = σ(η); K ≥ 3 classes (indices
    /// 0…K−1) with K output units, P(y = c) = softmax(η)_c.
    Classification,
}

/// One weight matrix and bias vector, and where they sit in θ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    pub(super) fan_in: usize,
    pub(super) fan_out: usize,
    /// Offset of W (fan_out × fan_in, row-major) in θ; the biases follow it.
    pub(super) offset: usize,
}

impl Shape {
    pub(super) fn biases(&self) -> usize {
        self.offset + self.fan_out * self.fan_in
    }
    pub(super) fn end(&self) -> usize {
        self.biases() + self.fan_out
    }
    pub(super) fn w<'t>(&self, theta: &'t [f64]) -> &'t [f64] {
        &theta[self.offset..self.biases()]
    }
    pub(super) fn b<'t>(&self, theta: &'t [f64]) -> &'t [f64] {
        &theta[self.biases()..self.end()]
    }
}

/// A layer unpacked from θ: W with one row per output unit, and the biases.
pub type Layer = (DMatrix<f64>, DVector<f64>);

/// The shape of a network: `inputs` features, hidden layers of the given widths, and `outputs`
/// output units (1, or K ≥ 2 softmax outputs for K-class classification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Architecture {
    /// Number of input features k (≥ 1).
    pub inputs: usize,
    /// Widths of the hidden layers from the input (each ≥ 1); empty for a linear/logistic model.
    pub hidden: Vec<usize>,
    /// The hidden units' nonlinearity.
    pub activation: Activation,
    /// Regression or classification.
    pub task: Task,
    /// Output units: 1 (regression, binary classification) or K ≥ 2 (softmax over K classes;
    /// classification only). Not serialised when 1, so single-output outputs keep their bytes.
    #[serde(skip_serializing_if = "is_one")]
    pub outputs: usize,
}

fn is_one(n: &usize) -> bool {
    *n == 1
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
            outputs: 1,
        };
        arch.validate()?;
        Ok(arch)
    }

    /// The same network with `outputs` output units: K ≥ 2 softmax outputs for a K-class
    /// classification (1 restores the single output).
    pub fn with_outputs(self, outputs: usize) -> Result<Self> {
        let arch = Architecture { outputs, ..self };
        arch.validate()?;
        Ok(arch)
    }

    /// Whether the output is a softmax over [`Architecture::outputs`] ≥ 2 classes.
    pub fn is_softmax(&self) -> bool {
        self.task == Task::Classification && self.outputs >= 2
    }

    /// Checks the invariants [`Architecture::new`] enforces (the fields are public).
    pub fn validate(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(OccamError::invalid(
                Setting::Hidden,
                "an MLP needs at least one input feature",
            ));
        }
        if self.outputs == 0 || (self.outputs > 1 && self.task != Task::Classification) {
            return Err(OccamError::invalid(
                Setting::Target,
                format!(
                    "{} output units: a regression network has one, a classification network \
                     one (binary) or K ≥ 2 (softmax)",
                    self.outputs
                ),
            ));
        }
        if let Some(l) = self.hidden.iter().position(|&h| h == 0) {
            return Err(OccamError::invalid(
                Setting::Hidden,
                format!(
                    "hidden layer {} has no units; every width must be ≥ 1",
                    l + 1
                ),
            ));
        }
        Ok(())
    }

    /// Layer widths from the input to the output: (k, h₁, …, h_L, outputs).
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.outputs))
            .collect()
    }

    pub(super) fn shapes(&self) -> Vec<Shape> {
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

    /// What a prior structure's selectors need of each parameter, in θ's order (math.md §8):
    /// layer ℓ's weights and biases carry layer ℓ (the output layer is the last), and a
    /// first-layer weight carries the name of the input feature it leaves. `feature_names` has one
    /// name per input.
    pub fn parameter_info(&self, feature_names: &[String]) -> Result<Vec<ParameterInfo>> {
        if feature_names.len() != self.inputs {
            return Err(OccamError::computation(
                "naming MLP parameters",
                format!(
                    "{} feature names for {} inputs; this is a bug in the caller",
                    feature_names.len(),
                    self.inputs
                ),
            ));
        }
        let names = self.parameter_names();
        let mut info = Vec::with_capacity(names.len());
        for (l, shape) in self.shapes().iter().enumerate() {
            let layer = l + 1;
            let inputs: Vec<Option<&str>> = if layer == 1 {
                feature_names.iter().map(|f| Some(f.as_str())).collect()
            } else {
                vec![None; shape.fan_in]
            };
            for _ in 0..shape.fan_out {
                for &feature in &inputs {
                    info.push(ParameterInfo::weight(&names[info.len()], layer, feature));
                }
            }
            for _ in 0..shape.fan_out {
                info.push(ParameterInfo::bias(&names[info.len()], layer));
            }
        }
        Ok(info)
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

    /// The output pre-activation η for one standardised feature row `x` (k values) of a
    /// single-output network (the first output's of a softmax network; see
    /// [`Architecture::output_vector`]).
    pub fn output(&self, theta: &DVector<f64>, x: &[f64]) -> f64 {
        self.output_vector(theta, x)[0]
    }

    /// The output pre-activations η (one per output unit) for one standardised feature row `x`,
    /// computed row by row from the definition (a reference for the chunked passes).
    pub fn output_vector(&self, theta: &DVector<f64>, x: &[f64]) -> Vec<f64> {
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
        s.w(t)
            .chunks_exact(s.fan_in)
            .zip(s.b(t))
            .map(|(row, b)| b + dot(row, &h))
            .collect()
    }
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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
