//! The forward and backward passes over chunks of rows, and the data term and its gradient
//! over a block of rows.

use super::activation::{activate, multiply_derivative};
use super::architecture::dot;
use super::{Architecture, MlpProblem, Task};
use crate::linalg::{chunks, gemm, map_ordered, Operand, Par};
use crate::model::logistic::{row_negative_log_likelihood, sigmoid};
use crate::model::softmax::log_sum_exp_and_probabilities;
use std::ops::Range;

/// Rows per chunk of the forward/backward passes (it only bounds the scratch buffers).
pub(super) const CHUNK_ROWS: usize = 256;

/// Rows per sub-block: a block of [`crate::linalg::map_row_blocks`] is cut into fixed sub-blocks
/// whose sums are added in order, so that data in a single block (n ≤
/// [`crate::linalg::BLOCK_ROWS`]) can still use every core — with the same bits on any number of
/// threads.
const SUB_BLOCK_ROWS: usize = 512;

/// Per-block buffers for chunks of up to `rows` rows: allocated once per block, never per row.
pub(super) struct Scratch {
    /// Pre-activations a⁽ˡ⁾ of each hidden layer (rows × h_l, row-major).
    pub(super) pre: Vec<Vec<f64>>,
    /// Activations h⁽ˡ⁾ = φ(a⁽ˡ⁾).
    pub(super) act: Vec<Vec<f64>>,
    /// Output pre-activations η (rows × outputs, row-major).
    pub(super) eta: Vec<f64>,
    /// ∂(·)/∂a of the layer being visited (rows × fan_out).
    pub(super) delta: Vec<f64>,
    /// The same for the layer below, being computed.
    pub(super) back: Vec<f64>,
}

impl Scratch {
    pub(super) fn new(arch: &Architecture, rows: usize) -> Self {
        let widest = arch
            .hidden
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .max(arch.outputs);
        Scratch {
            pre: arch.hidden.iter().map(|h| vec![0.0; rows * h]).collect(),
            act: arch.hidden.iter().map(|h| vec![0.0; rows * h]).collect(),
            eta: vec![0.0; rows * arch.outputs],
            delta: vec![0.0; rows * widest],
            back: vec![0.0; rows * widest],
        }
    }
}

impl MlpProblem<'_> {
    /// The forward pass over `rows` (at most the scratch's chunk size): fills `s.pre`, `s.act`
    /// and `s.eta`.
    pub(super) fn forward(&self, theta: &[f64], rows: &Range<usize>, s: &mut Scratch) {
        let m = rows.len();
        let k = self.arch.inputs;
        let x0 = &self.z[rows.start * k..rows.end * k];
        let last = self.shapes.len() - 1;
        for (l, shape) in self.shapes[..last].iter().enumerate() {
            let (below, here) = s.act.split_at_mut(l);
            let input: &[f64] = if l == 0 { x0 } else { &below[l - 1] };
            let pre = &mut s.pre[l][..m * shape.fan_out];
            gemm(
                1.0,
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
        if out.fan_out == 1 {
            let (w, b) = (out.w(theta), out.b(theta)[0]);
            for (eta, row) in s.eta[..m]
                .iter_mut()
                .zip(input[..m * out.fan_in].chunks_exact(out.fan_in))
            {
                *eta = b + dot(row, w);
            }
        } else {
            // η = input·Wᵀ + b, one row of K pre-activations per data row.
            let eta = &mut s.eta[..m * out.fan_out];
            gemm(
                1.0,
                Operand::row_major(&input[..m * out.fan_in], m, out.fan_in),
                Operand::transposed(out.w(theta), out.fan_out, out.fan_in),
                0.0,
                eta,
                out.fan_out,
            );
            for row in eta.chunks_exact_mut(out.fan_out) {
                row.iter_mut().zip(out.b(theta)).for_each(|(e, b)| *e += b);
            }
        }
    }

    /// The backward pass over `rows` after [`Self::forward`], from `s.delta[..m]` = ∂(·)/∂η: calls
    /// `visit(layer, input, delta)` for each layer from the output down, with the layer's input
    /// (m × fan_in) and ∂(·)/∂a (m × fan_out), both row-major.
    pub(super) fn backward<F>(
        &self,
        theta: &[f64],
        rows: &Range<usize>,
        s: &mut Scratch,
        mut visit: F,
    ) where
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
                    1.0,
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

    /// The data term of a chunk after [`Self::forward`]: Σ(yᵢ − ηᵢ)² (regression),
    /// Σ softplus(ηᵢ) − yᵢηᵢ (binary classification) or Σ LSE(ηᵢ) − ηᵢ,yᵢ (softmax, with
    /// LSE(η) = M + ln Σ_c exp(η_c − M), M = max_c η_c).
    fn chunk_loss(&self, eta: &[f64], y: &[f64]) -> f64 {
        if self.arch.is_softmax() {
            let k = self.arch.outputs;
            let mut p = vec![0.0; k];
            return eta
                .chunks_exact(k)
                .zip(y)
                .map(|(e, y)| log_sum_exp_and_probabilities(e, &mut p) - e[class_of(*y)])
                .sum();
        }
        match self.arch.task {
            Task::Regression => eta.iter().zip(y).map(|(e, y)| (y - e) * (y - e)).sum(),
            Task::Classification => eta
                .iter()
                .zip(y)
                .map(|(e, y)| row_negative_log_likelihood(*e, *y))
                .sum(),
        }
    }

    /// rᵢ = ∂ℓ/∂ηᵢ for a chunk, written into `out` (for a softmax, rᵢ = pᵢ − e_{yᵢ}, K per row).
    fn residuals(&self, eta: &[f64], y: &[f64], out: &mut [f64]) {
        if self.arch.is_softmax() {
            let k = self.arch.outputs;
            for ((r, e), y) in out.chunks_exact_mut(k).zip(eta.chunks_exact(k)).zip(y) {
                log_sum_exp_and_probabilities(e, r);
                r[class_of(*y)] -= 1.0;
            }
            return;
        }
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
            let q = m * self.arch.outputs;
            self.forward(theta, &chunk, &mut s);
            loss += self.chunk_loss(&s.eta[..q], &self.y[chunk.clone()]);
            if !gradient {
                continue;
            }
            self.residuals(&s.eta[..q], &self.y[chunk.clone()], &mut s.delta[..q]);
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
                        1.0,
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

    /// [`Self::sub_block`] over a block of [`crate::linalg::map_row_blocks`], by sub-blocks of
    /// [`SUB_BLOCK_ROWS`] rows added in order (computed on the threads of `par`: the same bits for
    /// every `par`).
    pub(super) fn block(
        &self,
        theta: &[f64],
        rows: Range<usize>,
        gradient: bool,
        par: Par,
    ) -> (f64, Vec<f64>) {
        let parts = map_ordered(par, chunks(rows, SUB_BLOCK_ROWS), |sub| {
            self.sub_block(theta, sub, gradient)
        });
        let loss = parts.iter().map(|(l, _)| l).sum();
        let mut parts = parts.into_iter().map(|(_, g)| g);
        let mut g = parts.next().unwrap_or_default();
        for part in parts {
            g.iter_mut().zip(part).for_each(|(a, b)| *a += b);
        }
        (loss, g)
    }
}

/// A softmax network's label (a class index 0…K−1 held as f64; [`MlpProblem::new`] checks it).
pub(super) fn class_of(y: f64) -> usize {
    y as usize
}
