//! Kronecker-factored curvature (KFAC; Martens & Grosse 2015) and the GGN's diagonal, at given
//! weights, never forming a P × P matrix (math.md §9).
//!
//! For layer ℓ with inputs xᵢ (fan_in values; the network's standardised row for the first layer,
//! the previous layer's activations after it) and ã = (x, 1), and the output-side vectors
//! gᵢ,c = ∂(uᵢ,cᵀηᵢ)/∂a⁽ˡ⁾ backpropagated from the square-root factors of the output curvature
//! (uᵢ = √β or √(pᵢ(1 − pᵢ)) for one output; uᵢ,c = √pᵢ,c (e_c − pᵢ), c = 1…K, for a softmax, so
//! Σ_c uᵢ,c uᵢ,cᵀ = diag pᵢ − pᵢpᵢᵀ), the layer's GGN block Σᵢ Σ_c (gᵢ,c gᵢ,cᵀ) ⊗ (ãᵢãᵢᵀ) is
//! approximated by
//!
//!   G ⊗ Ã,  G = Σᵢ Σ_c gᵢ,c gᵢ,cᵀ (fan_out²),  Ã = (1/n) Σᵢ ãᵢãᵢᵀ ((fan_in + 1)²),
//!
//! laplace-torch's scaling (the sum on the output side, the mean on the input side; only the
//! product matters, and it is exact for one data row). Blocks across layers are dropped.
//!
//! Parameter order: within a layer, entry (o, i) of G ⊗ Ã is W[o, i] for i < fan_in and b[o] for
//! i = fan_in; θ holds W row-major then b ([`super::Architecture::parameter_names`]), a permutation
//! that changes no determinant and no diagonal.
//!
//! Two block structures ([`BiasBlock`]): [`BiasBlock::WithInputs`] (math.md §9: the bias as the
//! input 1, one block G ⊗ Ã per layer) and [`BiasBlock::Separate`] (laplace-torch's `kron`:
//! W's block G ⊗ A with A = Ã without its last row and column, b's block G·Ã_{fan_in,fan_in} = G, the
//! W–b cross terms dropped). They agree when the layer's inputs have mean zero (the first layer's
//! standardised rows).
//!
//! With a per-layer isotropic prior α (per block for [`BiasBlock::Separate`]) and eigenvalues gⱼ of
//! G and a_k of Ã (or A), everything follows from the eigendecompositions G = V diag(g) Vᵀ,
//! Ã = U diag(a) Uᵀ:
//!
//! * ln|G ⊗ Ã + αI| = Σⱼ Σ_k ln(gⱼa_k + α);
//! * γ = tr((G ⊗ Ã + αI)⁻¹ G ⊗ Ã) = Σⱼ Σ_k gⱼa_k / (gⱼa_k + α);
//! * (G ⊗ Ã + αI)⁻¹ entry ((o, i), (o, i)) = Σⱼ Σ_k V[o, j]² U[i, k]² / (gⱼa_k + α);
//! * (G ⊗ Ã)·vec(X) = vec(G X Ã) and (G ⊗ Ã + αI)⁻¹ vec(X) = vec(V [(VᵀXU) ⊘ (gaᵀ + α)] Uᵀ)
//!   for X of fan_out × (fan_in + 1), vec row-major.
//!
//! The diagonal of the GGN, Σᵢ Σ_c (gᵢ,c)_o² (ãᵢ)_i², needs one pass and O(P) memory.

use super::architecture::Shape;
use super::curvature::GGN_CHUNK_ROWS;
use super::passes::Scratch;
use super::{MlpProblem, Task};
use crate::error::{OccamError, Result, Setting};
use crate::linalg::{chunks, gemm, map_ordered, Operand, Par, BLOCK_ROWS};
use crate::message;
use crate::model::logistic::sigmoid;
use crate::model::softmax::log_sum_exp_and_probabilities;
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// How a layer's biases enter its Kronecker block (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiasBlock {
    /// One block G ⊗ Ã per layer, the bias as the input 1 (math.md §9; occam's convention).
    WithInputs,
    /// laplace-torch's `hessian_structure='kron'`: G ⊗ A for W and G for b, W–b terms dropped.
    Separate,
}

/// One layer's Kronecker factors.
#[derive(Debug, Clone, PartialEq)]
pub struct KronFactors {
    /// Ã = (1/n) Σᵢ ãᵢãᵢᵀ, (fan_in + 1)², the last row and column for the bias input 1.
    pub a: DMatrix<f64>,
    /// G = Σᵢ Σ_c gᵢ,c gᵢ,cᵀ, fan_out².
    pub g: DMatrix<f64>,
}

/// The Kronecker factors of every layer, from the input to the output.
#[derive(Debug, Clone, PartialEq)]
pub struct Kfac {
    /// One entry per layer.
    pub layers: Vec<KronFactors>,
    shapes: Vec<Shape>,
}

/// Per-block partial sums over a block of rows: Σ xxᵀ, Σ x, rows, Σ ggᵀ per layer.
struct Partial {
    xx: Vec<Vec<f64>>,
    xsum: Vec<Vec<f64>>,
    gg: Vec<Vec<f64>>,
}

impl MlpProblem<'_> {
    /// The square-root factors of the output curvature for the rows of a chunk after
    /// [`Self::forward`], one pass each: `visit(delta)` with `delta` = uᵢ,c (m × outputs) for each
    /// c (one pass for a single output: uᵢ = √β or √(pᵢ(1 − pᵢ))).
    fn curvature_roots<F>(&self, chunk: &std::ops::Range<usize>, s: &mut Scratch, mut visit: F)
    where
        F: FnMut(usize, &mut Scratch),
    {
        let m = chunk.len();
        if self.arch.is_softmax() {
            let classes = self.arch.outputs;
            let mut probabilities = vec![0.0; m * classes];
            for (prob, eta) in probabilities
                .chunks_exact_mut(classes)
                .zip(s.eta[..m * classes].chunks_exact(classes))
            {
                log_sum_exp_and_probabilities(eta, prob);
            }
            for c in 0..classes {
                for (d, prob) in s.delta[..m * classes]
                    .chunks_exact_mut(classes)
                    .zip(probabilities.chunks_exact(classes))
                {
                    let root = prob[c].sqrt();
                    for (dd, pd) in d.iter_mut().zip(prob) {
                        *dd = -root * pd;
                    }
                    d[c] += root;
                }
                visit(c, s);
            }
        } else {
            for (d, e) in s.delta[..m].iter_mut().zip(&s.eta[..m]) {
                *d = match self.arch.task {
                    Task::Regression => self.noise_precision.sqrt(),
                    Task::Classification => {
                        let prob = sigmoid(*e);
                        (prob * (1.0 - prob)).sqrt()
                    }
                };
            }
            visit(0, s);
        }
    }

    /// The KFAC factors of every layer at θ (see the module docs). Rows are summed in fixed blocks
    /// of [`BLOCK_ROWS`] (spread over the cores) and chunks of `GGN_CHUNK_ROWS`, added in order:
    /// the same bits on any number of threads. Memory O(Σ layer widths² + chunk · widths).
    pub fn kfac(&self, theta: &DVector<f64>) -> Kfac {
        let t = theta.as_slice();
        let shapes = self.shapes.clone();
        let parts = map_ordered(Par::all(), chunks(0..self.n(), BLOCK_ROWS), |rows| {
            let mut part = Partial {
                xx: shapes
                    .iter()
                    .map(|s| vec![0.0; s.fan_in * s.fan_in])
                    .collect(),
                xsum: shapes.iter().map(|s| vec![0.0; s.fan_in]).collect(),
                gg: shapes
                    .iter()
                    .map(|s| vec![0.0; s.fan_out * s.fan_out])
                    .collect(),
            };
            let mut s = Scratch::new(self.arch, GGN_CHUNK_ROWS.min(rows.len()));
            for chunk in chunks(rows, GGN_CHUNK_ROWS) {
                let m = chunk.len();
                self.forward(t, &chunk, &mut s);
                self.curvature_roots(&chunk, &mut s, |c, s| {
                    self.backward(t, &chunk, s, |l, input, delta| {
                        let shape = shapes[l];
                        gemm(
                            1.0,
                            Operand::transposed(delta, m, shape.fan_out),
                            Operand::row_major(delta, m, shape.fan_out),
                            1.0,
                            &mut part.gg[l],
                            shape.fan_out,
                        );
                        if c == 0 {
                            gemm(
                                1.0,
                                Operand::transposed(input, m, shape.fan_in),
                                Operand::row_major(input, m, shape.fan_in),
                                1.0,
                                &mut part.xx[l],
                                shape.fan_in,
                            );
                            for row in input.chunks_exact(shape.fan_in) {
                                part.xsum[l].iter_mut().zip(row).for_each(|(a, x)| *a += x);
                            }
                        }
                    });
                });
            }
            part
        });
        let n = self.n() as f64;
        let layers = shapes
            .iter()
            .enumerate()
            .map(|(l, shape)| {
                let f = shape.fan_in;
                let mut xx = vec![0.0; f * f];
                let mut xsum = vec![0.0; f];
                let mut gg = vec![0.0; shape.fan_out * shape.fan_out];
                for part in &parts {
                    xx.iter_mut().zip(&part.xx[l]).for_each(|(a, b)| *a += b);
                    xsum.iter_mut()
                        .zip(&part.xsum[l])
                        .for_each(|(a, b)| *a += b);
                    gg.iter_mut().zip(&part.gg[l]).for_each(|(a, b)| *a += b);
                }
                let a = DMatrix::from_fn(f + 1, f + 1, |i, j| {
                    let sum = match (i < f, j < f) {
                        (true, true) => xx[i * f + j],
                        (true, false) => xsum[i],
                        (false, true) => xsum[j],
                        (false, false) => n,
                    };
                    sum / n
                });
                let g = DMatrix::from_row_slice(shape.fan_out, shape.fan_out, &gg);
                KronFactors {
                    a: symmetrized(a),
                    g: symmetrized(g),
                }
            })
            .collect();
        Kfac { layers, shapes }
    }

    /// The diagonal of the GGN, Σᵢ Σ_c (gᵢ,c)_o² (ãᵢ)_i² (module docs), in θ's order, from one
    /// forward and (per class) backward pass per chunk: O(n·P) work, O(P) memory. Blocks of
    /// [`BLOCK_ROWS`] rows added in order: the same bits on any number of threads.
    pub fn ggn_diagonal(&self, theta: &DVector<f64>) -> DVector<f64> {
        let t = theta.as_slice();
        let p = self.n_params();
        let parts = map_ordered(Par::all(), chunks(0..self.n(), BLOCK_ROWS), |rows| {
            let mut d = vec![0.0; p];
            let mut s = Scratch::new(self.arch, GGN_CHUNK_ROWS.min(rows.len()));
            for chunk in chunks(rows, GGN_CHUNK_ROWS) {
                self.forward(t, &chunk, &mut s);
                self.curvature_roots(&chunk, &mut s, |_, s| {
                    self.backward(t, &chunk, s, |l, input, delta| {
                        let shape = self.shapes[l];
                        let (dw, db) =
                            d[shape.offset..shape.end()].split_at_mut(shape.fan_out * shape.fan_in);
                        for (xrow, drow) in input
                            .chunks_exact(shape.fan_in)
                            .zip(delta.chunks_exact(shape.fan_out))
                        {
                            for ((dwo, dbo), g) in dw
                                .chunks_exact_mut(shape.fan_in)
                                .zip(db.iter_mut())
                                .zip(drow)
                            {
                                let g2 = g * g;
                                for (v, x) in dwo.iter_mut().zip(xrow) {
                                    *v += g2 * x * x;
                                }
                                *dbo += g2;
                            }
                        }
                    });
                });
            }
            d
        });
        let mut total = DVector::zeros(p);
        for part in parts {
            total += DVector::from_vec(part);
        }
        total
    }
}

fn symmetrized(m: DMatrix<f64>) -> DMatrix<f64> {
    (&m + m.transpose()) * 0.5
}

/// A symmetric PSD matrix's eigendecomposition, eigenvalues clamped at 0 (rounding can leave
/// them at −1e-17 relative).
#[derive(Debug, Clone)]
struct Eigen {
    values: DVector<f64>,
    vectors: DMatrix<f64>,
}

impl Eigen {
    fn of(m: &DMatrix<f64>) -> Self {
        let e = SymmetricEigen::new(m.clone());
        Eigen {
            values: e.eigenvalues.map(|v| v.max(0.0)),
            vectors: e.eigenvectors,
        }
    }
}

/// One Kronecker block G ⊗ F + αI in its eigenbases: θ indices `index(o, i)`.
#[derive(Debug, Clone)]
struct Block {
    g: Eigen,
    f: Eigen,
    alpha: f64,
    /// θ index of entry (o, i), row-major over o < fan_out, i < f's size.
    index: Vec<usize>,
}

impl Block {
    fn rows(&self) -> usize {
        self.g.values.len()
    }
    fn cols(&self) -> usize {
        self.f.values.len()
    }
    fn eigenvalue(&self, j: usize, k: usize) -> f64 {
        self.g.values[j] * self.f.values[k]
    }
    fn log_det(&self) -> f64 {
        let mut sum = 0.0;
        for j in 0..self.rows() {
            for k in 0..self.cols() {
                sum += (self.eigenvalue(j, k) + self.alpha).ln();
            }
        }
        sum
    }
    fn gamma(&self) -> f64 {
        let mut sum = 0.0;
        for j in 0..self.rows() {
            for k in 0..self.cols() {
                let e = self.eigenvalue(j, k);
                sum += e / (e + self.alpha);
            }
        }
        sum
    }
    /// X (rows × cols) gathered from θ-ordered `v`.
    fn gather(&self, v: &DVector<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(self.rows(), self.cols(), |o, i| {
            v[self.index[o * self.cols() + i]]
        })
    }
    fn scatter(&self, x: &DMatrix<f64>, out: &mut DVector<f64>) {
        for o in 0..self.rows() {
            for i in 0..self.cols() {
                out[self.index[o * self.cols() + i]] = x[(o, i)];
            }
        }
    }
    /// (V∘V) R (U∘U)ᵀ with R[j, k] = 1/(gⱼf_k + α): the diagonal of the block's inverse.
    fn inverse_diagonal(&self) -> DMatrix<f64> {
        let r = DMatrix::from_fn(self.rows(), self.cols(), |j, k| {
            1.0 / (self.eigenvalue(j, k) + self.alpha)
        });
        let v2 = self.g.vectors.component_mul(&self.g.vectors);
        let u2 = self.f.vectors.component_mul(&self.f.vectors);
        v2 * r * u2.transpose()
    }
    /// h(G ⊗ F + αI) applied to X in the eigenbases: V[(VᵀXU) ∘ h(gf + α)]Uᵀ.
    fn apply_function(&self, x: &DMatrix<f64>, h: &impl Fn(f64) -> f64) -> DMatrix<f64> {
        let (v, u) = (&self.g.vectors, &self.f.vectors);
        let mut y = v.transpose() * x * u;
        for j in 0..self.rows() {
            for k in 0..self.cols() {
                y[(j, k)] *= h(self.eigenvalue(j, k) + self.alpha);
            }
        }
        v * y * u.transpose()
    }
    /// (G ⊗ F + αI)^{±1} applied to X in the eigenbases: V[(VᵀXU) ∘ h(gf)]Uᵀ.
    fn apply(&self, x: &DMatrix<f64>, inverse: bool) -> DMatrix<f64> {
        let (v, u) = (&self.g.vectors, &self.f.vectors);
        let mut y = v.transpose() * x * u;
        for j in 0..self.rows() {
            for k in 0..self.cols() {
                let e = self.eigenvalue(j, k) + self.alpha;
                y[(j, k)] = if inverse {
                    y[(j, k)] / e
                } else {
                    y[(j, k)] * e
                };
            }
        }
        v * y * u.transpose()
    }
}

/// KFAC + Λ decomposed: what the evidence, γ, the posterior sds and preconditioned steps need.
#[derive(Debug, Clone)]
pub struct KfacPosterior {
    blocks: Vec<Block>,
    /// Which blocks belong to which layer.
    layer_of_block: Vec<usize>,
    n_layers: usize,
    p: usize,
}

/// The one value of Λ over `indices`, or an error naming the layer: KFAC's eigenvalue formulas
/// need an isotropic, proper prior on each block.
fn block_precision(precision: &DVector<f64>, indices: &[usize], layer: usize) -> Result<f64> {
    let alpha = precision[indices[0]];
    if !(alpha > 0.0 && alpha.is_finite()) || indices.iter().any(|&j| precision[j] != alpha) {
        return Err(OccamError::invalid(
            Setting::Hessian,
            message!(format!(
                "KFAC needs one finite, positive prior precision over each Kronecker block \
                 (layer {}'s weights and biases share one block); use one prior sd per layer, \
                 or the full GGN",
                layer + 1
            )),
        ));
    }
    Ok(alpha)
}

impl Kfac {
    /// The dense P × P matrix of the Kronecker form (block-diagonal, in θ's order): for checks at
    /// small sizes only.
    pub fn dense(&self, bias: BiasBlock) -> DMatrix<f64> {
        let p = self.shapes.last().map_or(0, |s| s.end());
        let mut h = DMatrix::zeros(p, p);
        for (layer, shape) in self.layers.iter().zip(&self.shapes) {
            let f = shape.fan_in;
            let index = |o: usize, i: usize| {
                if i < f {
                    shape.offset + o * f + i
                } else {
                    shape.biases() + o
                }
            };
            for o in 0..shape.fan_out {
                for q in 0..shape.fan_out {
                    for i in 0..=f {
                        for j in 0..=f {
                            let cross = (i == f) != (j == f);
                            if bias == BiasBlock::Separate && cross {
                                continue;
                            }
                            h[(index(o, i), index(q, j))] = layer.g[(o, q)] * layer.a[(i, j)];
                        }
                    }
                }
            }
        }
        h
    }

    /// The decomposed G ⊗ Ã + Λ (module docs), Λ constant over each block; an error naming the
    /// layer otherwise, or when a precision is not positive.
    pub fn posterior(&self, precision: &DVector<f64>, bias: BiasBlock) -> Result<KfacPosterior> {
        let mut blocks = Vec::new();
        let mut layer_of_block = Vec::new();
        for (l, (layer, shape)) in self.layers.iter().zip(&self.shapes).enumerate() {
            let f = shape.fan_in;
            let g = Eigen::of(&layer.g);
            match bias {
                BiasBlock::WithInputs => {
                    let index: Vec<usize> = (0..shape.fan_out)
                        .flat_map(|o| {
                            (0..=f).map(move |i| {
                                if i < f {
                                    shape.offset + o * f + i
                                } else {
                                    shape.biases() + o
                                }
                            })
                        })
                        .collect();
                    let alpha = block_precision(precision, &index, l)?;
                    blocks.push(Block {
                        g,
                        f: Eigen::of(&layer.a),
                        alpha,
                        index,
                    });
                    layer_of_block.push(l);
                }
                BiasBlock::Separate => {
                    let index: Vec<usize> = (shape.offset..shape.biases()).collect();
                    let alpha = block_precision(precision, &index, l)?;
                    blocks.push(Block {
                        g: g.clone(),
                        f: Eigen::of(&layer.a.view((0, 0), (f, f)).into_owned()),
                        alpha,
                        index,
                    });
                    layer_of_block.push(l);
                    let index: Vec<usize> = (shape.biases()..shape.end()).collect();
                    let alpha = block_precision(precision, &index, l)?;
                    blocks.push(Block {
                        g,
                        f: Eigen::of(&DMatrix::from_element(1, 1, layer.a[(f, f)])),
                        alpha,
                        index,
                    });
                    layer_of_block.push(l);
                }
            }
        }
        Ok(KfacPosterior {
            blocks,
            layer_of_block,
            n_layers: self.layers.len(),
            p: self.shapes.last().map_or(0, |s| s.end()),
        })
    }
}

impl Kfac {
    /// G ⊗ Ã + ᾱ_ℓI per layer ([`BiasBlock::WithInputs`]), ᾱ_ℓ the mean of Λ over layer ℓ's
    /// parameters (the smallest positive f64 where that mean is not positive): a preconditioner
    /// for the mode search, which need not be the posterior, so any Λ is accepted.
    pub fn preconditioner(&self, precision: &DVector<f64>) -> Result<KfacPosterior> {
        let mut mean = precision.clone();
        for shape in &self.shapes {
            let len = shape.end() - shape.offset;
            let alpha = precision.rows(shape.offset, len).mean();
            let alpha = if alpha > 0.0 && alpha.is_finite() {
                alpha
            } else {
                f64::MIN_POSITIVE
            };
            mean.rows_mut(shape.offset, len).fill(alpha);
        }
        self.posterior(&mean, BiasBlock::WithInputs)
    }
}

impl KfacPosterior {
    /// P.
    pub fn dim(&self) -> usize {
        self.p
    }

    /// h(K + Λ)v for a function h of the eigenvalues, block by block in the eigenbases:
    /// V[(VᵀXU) ∘ h(gaᵀ + α)]Uᵀ (h(e) = e^{-1/2}: the search's whitening).
    pub fn apply_function(&self, v: &DVector<f64>, h: impl Fn(f64) -> f64) -> DVector<f64> {
        assert_eq!(v.len(), self.p, "v must have P coordinates");
        let mut out = DVector::zeros(self.p);
        for block in &self.blocks {
            block.scatter(&block.apply_function(&block.gather(v), &h), &mut out);
        }
        out
    }

    /// ln|K + Λ| = Σ over blocks Σⱼ Σ_k ln(gⱼa_k + α).
    pub fn log_det(&self) -> f64 {
        self.blocks.iter().map(Block::log_det).sum()
    }

    /// γ per layer: Σⱼ Σ_k gⱼa_k/(gⱼa_k + α) over the layer's blocks.
    pub fn effective_parameters(&self) -> Vec<f64> {
        let mut gamma = vec![0.0; self.n_layers];
        for (block, &l) in self.blocks.iter().zip(&self.layer_of_block) {
            gamma[l] += block.gamma();
        }
        gamma
    }

    /// The smallest and largest eigenvalue of K + Λ: min and max over blocks of gⱼa_k + α.
    pub fn eigenvalue_range(&self) -> [f64; 2] {
        let mut range = [f64::INFINITY, f64::NEG_INFINITY];
        for block in &self.blocks {
            for j in 0..block.rows() {
                for k in 0..block.cols() {
                    let e = block.eigenvalue(j, k) + block.alpha;
                    range = [range[0].min(e), range[1].max(e)];
                }
            }
        }
        range
    }

    /// The P eigenvalues of K itself (no prior): gⱼa_k over every block, block by block — the
    /// structured Fisher information of the two_part code (math.md §5, §9).
    pub fn curvature_eigenvalues(&self) -> DVector<f64> {
        let mut values = Vec::with_capacity(self.p);
        for block in &self.blocks {
            for j in 0..block.rows() {
                for k in 0..block.cols() {
                    values.push(block.eigenvalue(j, k));
                }
            }
        }
        DVector::from_vec(values)
    }

    /// diag((K + Λ)⁻¹) in θ's order.
    pub fn inverse_diagonal(&self) -> DVector<f64> {
        let mut d = DVector::zeros(self.p);
        for block in &self.blocks {
            block.scatter(&block.inverse_diagonal(), &mut d);
        }
        d
    }

    /// (K + Λ)v.
    pub fn apply(&self, v: &DVector<f64>) -> DVector<f64> {
        self.map(v, false)
    }

    /// (K + Λ)⁻¹v.
    pub fn solve(&self, v: &DVector<f64>) -> DVector<f64> {
        self.map(v, true)
    }

    fn map(&self, v: &DVector<f64>, inverse: bool) -> DVector<f64> {
        assert_eq!(v.len(), self.p, "v must have P coordinates");
        let mut out = DVector::zeros(self.p);
        for block in &self.blocks {
            block.scatter(&block.apply(&block.gather(v), inverse), &mut out);
        }
        out
    }
}
