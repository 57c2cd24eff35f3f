//! The network's curvature: the generalised Gauss–Newton matrix and the exact Hessian by
//! central differences of the analytic gradient.

use super::passes::Scratch;
use super::{MlpProblem, Task};
use crate::linalg::{add_gram_upper, chunks, map_ordered, Par, Real};
use crate::model::logistic::sigmoid;
use crate::model::softmax::log_sum_exp_and_probabilities;
use nalgebra::{DMatrix, DVector};

/// Rows per chunk of the Jacobian whose Gram matrix is added to the GGN.
pub(crate) const GGN_CHUNK_ROWS: usize = 512;

/// The relative step of the central differences in [`MlpProblem::exact_hessian`]:
/// hⱼ = 1e-5·max(1, |θⱼ|). The truncation error is O(h²) ≈ 1e-10 relative and the rounding error
/// O(ε/h) ≈ 1e-11 relative to the gradient's size, near the optimum of the two.
pub const HESSIAN_STEP: f64 = 1e-5;

impl MlpProblem<'_> {
    /// The generalised Gauss–Newton matrix G = Σᵢ λᵢJᵢJᵢᵀ (Jᵢ = ∂ηᵢ/∂θ, λᵢ = β or pᵢ(1 − pᵢ)),
    /// or Σᵢ Jᵢᵀ(diag pᵢ − pᵢpᵢᵀ)Jᵢ for a softmax network (Jᵢ = ∂ηᵢ/∂θ, K × P): PSD, exactly
    /// symmetric, and ∇²ℓ itself when there is no hidden layer.
    ///
    /// The rows √λᵢJᵢ of fixed chunks of 512 rows are built by backpropagation from
    /// ∂(√λᵢηᵢ)/∂ηᵢ = √λᵢ, and each chunk's Gram matrix is added, in row order, to the upper
    /// triangle of G by bands of 64 rows, one matrix product per band, the bands
    /// spread over the cores (half the work of a full Gram matrix; each band's arithmetic is the
    /// same on any number of threads). The lower triangle is then mirrored. (Not
    /// [`crate::linalg::gram_into`] per block of [`crate::linalg::map_row_blocks`]: that computes the full square,
    /// on one thread when n ≤ [`crate::linalg::BLOCK_ROWS`], and holds a P×P matrix per block.)
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
        if self.arch.is_softmax() {
            return self.softmax_gauss_newton_gram(theta);
        }
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
                self.jacobian_rows(l, input, delta, jac);
            });
            add_gram_upper(Par::all().for_work(m * p * p), jac, m, p, &mut total);
        }
        mirror_upper(&mut total, p);
        total
    }

    /// G of a softmax network in precision `T`: Σᵢ Jᵢᵀ(diag pᵢ − pᵢpᵢᵀ)Jᵢ with Jᵢ = ∂ηᵢ/∂θ
    /// (K × P). diag p − ppᵀ = Σ_c p_c(e_c − p)(e_c − p)ᵀ (expand: Σ_c p_c e_c e_cᵀ − 2ppᵀ +
    /// (Σ_c p_c)ppᵀ), so G is the Gram matrix of the K·n rows √p_c (e_c − pᵢ)ᵀJᵢ, each one a
    /// backward pass from ∂(·)/∂η = √p_c (e_c − pᵢ). Chunks of ⌊512/K⌋ data rows keep the
    /// Jacobian block at ≤ 512 × P; within a chunk the rows go class by class.
    fn softmax_gauss_newton_gram<T: Real>(&self, theta: &DVector<f64>) -> Vec<T> {
        let p = self.n_params();
        let classes = self.arch.outputs;
        let t = theta.as_slice();
        let data_rows = (GGN_CHUNK_ROWS / classes).max(1);
        let chunk_rows = data_rows.min(self.n());
        let mut s = Scratch::new(self.arch, chunk_rows);
        let mut probabilities = vec![0.0; chunk_rows * classes];
        let mut jacobian = vec![T::ZERO; chunk_rows * classes * p];
        let mut total = vec![T::ZERO; p * p];
        for chunk in chunks(0..self.n(), data_rows) {
            let m = chunk.len();
            self.forward(t, &chunk, &mut s);
            for (prob, eta) in probabilities[..m * classes]
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
                let jac = &mut jacobian[c * m * p..(c + 1) * m * p];
                self.backward(t, &chunk, &mut s, |l, input, delta| {
                    self.jacobian_rows(l, input, delta, jac);
                });
            }
            let rows = m * classes;
            add_gram_upper(
                Par::all().for_work(rows * p * p),
                &jacobian[..rows * p],
                rows,
                p,
                &mut total,
            );
        }
        mirror_upper(&mut total, p);
        total
    }

    /// Layer `l`'s block of the Jacobian rows (one per row of `input`/`delta`), ∂(·)/∂W = δxᵀ and
    /// ∂(·)/∂b = δ, written into `jac` (rows of P).
    fn jacobian_rows<T: Real>(&self, l: usize, input: &[f64], delta: &[f64], jac: &mut [T]) {
        let p = self.n_params();
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

    pub(super) fn exact_hessian_unsymmetrized(&self, theta: &DVector<f64>) -> DMatrix<f64> {
        let p = self.n_params();
        let columns: Vec<DVector<f64>> = map_ordered(Par::all(), 0..p, |j| {
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
}

/// The lower triangle of a row-major p × p matrix from its upper one.
fn mirror_upper<T: Real>(total: &mut [T], p: usize) {
    for i in 0..p {
        for j in 0..i {
            total[i * p + j] = total[j * p + i];
        }
    }
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
