//! KFAC and the GGN's diagonal against the dense GGN, dense Kronecker products and naive sums.

use super::*;
use crate::testing::random_design;
use nalgebra::{DMatrix, DVector};

/// (task, outputs) of the three kinds of network: regression, binary, 3-class softmax.
const KINDS: [(Task, usize); 3] = [
    (Task::Regression, 1),
    (Task::Classification, 1),
    (Task::Classification, 3),
];

fn arch(k: usize, hidden: &[usize], task: Task, outputs: usize) -> Architecture {
    Architecture::new(k, hidden.to_vec(), Activation::Tanh, task)
        .and_then(|a| a.with_outputs(outputs))
        .unwrap()
}

/// Rows (row-major) and targets: real, 0/1, or class indices cut from a noisy score.
fn data(n: usize, k: usize, task: Task, outputs: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let (x, y) = random_design(n, k, seed);
    let y = match (task, outputs) {
        (Task::Regression, _) => y.as_slice().to_vec(),
        (_, 1) => y.iter().map(|v| f64::from(u8::from(*v > 0.0))).collect(),
        (_, classes) => y
            .iter()
            .map(|v| {
                ((v + 2.0) / 4.0 * classes as f64)
                    .floor()
                    .clamp(0.0, (classes - 1) as f64)
            })
            .collect(),
    };
    (x.transpose().as_slice().to_vec(), y)
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

/// Λ with one value per layer (α_ℓ = 0.5 + ℓ).
fn layer_precision(arch: &Architecture) -> DVector<f64> {
    let names = arch.parameter_names();
    let layers = arch.layer_names();
    DVector::from_fn(names.len(), |j, _| {
        let l = layers
            .iter()
            .position(|n| names[j].starts_with(&format!("{n}.")))
            .unwrap();
        0.5 + l as f64
    })
}

/// Which layer each parameter belongs to.
fn layer_of(arch: &Architecture) -> Vec<usize> {
    let layers = arch.layer_names();
    arch.parameter_names()
        .iter()
        .map(|n| {
            layers
                .iter()
                .position(|l| n.starts_with(&format!("{l}.")))
                .unwrap()
        })
        .collect()
}

fn max_abs(m: &DMatrix<f64>) -> f64 {
    m.iter().fold(0.0, |a, v| a.max(v.abs()))
}

#[test]
fn for_one_row_kfac_is_the_ggn_without_its_cross_layer_blocks() {
    let k = 4;
    for (task, outputs) in KINDS {
        let a = arch(k, &[3, 2], task, outputs);
        let (z, y) = data(1, k, task, outputs, 7);
        let p = a.n_params();
        let (c, l) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = MlpProblem::new(&a, &z, &y, &c, &l, 1.7);
        let theta = point(&a, 2);
        let mut ggn = problem.ggn(&theta);
        let layer = layer_of(&a);
        for i in 0..p {
            for j in 0..p {
                if layer[i] != layer[j] {
                    ggn[(i, j)] = 0.0;
                }
            }
        }
        let kfac = problem.kfac(&theta).dense(BiasBlock::WithInputs);
        let gap = max_abs(&(&kfac - &ggn));
        assert!(gap < 1e-13 * max_abs(&ggn), "{task:?} {outputs}: {gap}");
    }
}

#[test]
fn factors_sum_over_rows_across_chunks_and_blocks() {
    // 600 rows: two chunks of the GGN's 512; the output factor sums, the input factor averages.
    let k = 3;
    for (task, outputs) in KINDS {
        let a = arch(k, &[4, 3], task, outputs);
        let n = 600;
        let (z, y) = data(n, k, task, outputs, 5);
        let p = a.n_params();
        let (c, l) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = MlpProblem::new(&a, &z, &y, &c, &l, 0.8);
        let theta = point(&a, 4);
        let all = problem.kfac(&theta);
        for (layer, factors) in all.layers.iter().enumerate() {
            let mut g = DMatrix::zeros(factors.g.nrows(), factors.g.ncols());
            let mut af = DMatrix::zeros(factors.a.nrows(), factors.a.ncols());
            for i in 0..n {
                let one = problem.rows(i..i + 1).kfac(&theta);
                g += &one.layers[layer].g;
                af += &one.layers[layer].a / n as f64;
            }
            assert!(
                max_abs(&(&g - &factors.g)) < 1e-11 * max_abs(&g),
                "{task:?} G{layer}"
            );
            assert!(
                max_abs(&(&af - &factors.a)) < 1e-12 * max_abs(&af),
                "{task:?} A{layer}"
            );
            // The bias input is 1 on every row.
            let f = factors.a.nrows() - 1;
            assert!((factors.a[(f, f)] - 1.0).abs() < 1e-15);
        }
    }
}

#[test]
fn without_a_hidden_layer_regression_kfac_is_the_ggn() {
    let k = 5;
    let a = arch(k, &[], Task::Regression, 1);
    let (mut z, y) = data(300, k, Task::Regression, 1, 3);
    let p = a.n_params();
    let (c, l) = (DVector::zeros(p), DVector::from_element(p, 1.0));
    let theta = point(&a, 1);
    let problem = MlpProblem::new(&a, &z, &y, &c, &l, 2.3);
    let ggn = problem.ggn(&theta);
    let kfac = problem.kfac(&theta);
    let gap = max_abs(&(kfac.dense(BiasBlock::WithInputs) - &ggn));
    assert!(gap < 1e-12 * max_abs(&ggn), "{gap}");
    // laplace-torch's separate bias block drops Σ xᵢ, which is 0 for centred columns only.
    assert!(max_abs(&(kfac.dense(BiasBlock::Separate) - &ggn)) > 1e-3 * max_abs(&ggn));
    for j in 0..k {
        let mean = (0..300).map(|i| z[i * k + j]).sum::<f64>() / 300.0;
        (0..300).for_each(|i| z[i * k + j] -= mean);
    }
    let problem = MlpProblem::new(&a, &z, &y, &c, &l, 2.3);
    let ggn = problem.ggn(&theta);
    let gap = max_abs(&(problem.kfac(&theta).dense(BiasBlock::Separate) - &ggn));
    assert!(gap < 1e-12 * max_abs(&ggn), "{gap}");
}

#[test]
fn eigenvalue_formulas_match_the_dense_kronecker_form() {
    let k = 3;
    for (task, outputs) in KINDS {
        for hidden in [&[][..], &[4], &[5, 3]] {
            let a = arch(k, hidden, task, outputs);
            let (z, y) = data(200, k, task, outputs, 9);
            let p = a.n_params();
            let c = DVector::zeros(p);
            let precision = layer_precision(&a);
            let problem = MlpProblem::new(&a, &z, &y, &c, &precision, 1.3);
            let theta = point(&a, 6);
            let kfac = problem.kfac(&theta);
            for bias in [BiasBlock::WithInputs, BiasBlock::Separate] {
                let post = kfac.posterior(&precision, bias).unwrap();
                let form = kfac.dense(bias);
                let mut h = form.clone();
                h.set_diagonal(&(h.diagonal() + &precision));
                let chol = h.clone().cholesky().unwrap();
                let log_det = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
                let label = format!("{task:?} {outputs} {hidden:?} {bias:?}");
                assert!(
                    (post.log_det() - log_det).abs() < 1e-10 * log_det.abs().max(1.0),
                    "{label}"
                );
                let inverse = chol.inverse();
                let layer = layer_of(&a);
                let gamma = post.effective_parameters();
                for (l, g) in gamma.iter().enumerate() {
                    // γ_ℓ = tr over the layer's block of (K + Λ)⁻¹K = P_ℓ − α_ℓ tr((K + Λ)⁻¹)_ℓ.
                    let dense: f64 = (0..p)
                        .filter(|&j| layer[j] == l)
                        .map(|j| 1.0 - precision[j] * inverse[(j, j)])
                        .sum();
                    assert!((g - dense).abs() < 1e-9, "{label} γ{l}: {g} vs {dense}");
                }
                let eigenvalues = h.symmetric_eigenvalues();
                let [low, high] = post.eigenvalue_range();
                assert!(
                    (low - eigenvalues.min()).abs() < 1e-10 * eigenvalues.max(),
                    "{label}"
                );
                assert!(
                    (high - eigenvalues.max()).abs() < 1e-10 * eigenvalues.max(),
                    "{label}"
                );
                let diag = post.inverse_diagonal();
                for j in 0..p {
                    assert!(
                        (diag[j] - inverse[(j, j)]).abs() < 1e-12 * inverse[(j, j)].abs().max(1e-3),
                        "{label} {j}"
                    );
                }
                let v = DVector::from_fn(p, |j, _| (j as f64 * 0.37).sin());
                let hv = &h * &v;
                assert!(
                    (post.apply(&v) - &hv).amax() < 1e-11 * hv.amax(),
                    "{label} apply"
                );
                let solved = inverse * &v;
                assert!(
                    (post.solve(&v) - &solved).amax() < 1e-10 * solved.amax(),
                    "{label} solve"
                );
            }
        }
    }
}

#[test]
fn diagonal_is_the_ggn_diagonal() {
    let k = 4;
    for (task, outputs) in KINDS {
        for hidden in [&[][..], &[5], &[4, 3]] {
            let a = arch(k, hidden, task, outputs);
            let (z, y) = data(700, k, task, outputs, 12);
            let p = a.n_params();
            let (c, l) = (DVector::zeros(p), DVector::from_element(p, 1.0));
            let problem = MlpProblem::new(&a, &z, &y, &c, &l, 0.6);
            let theta = point(&a, 8);
            let dense = problem.ggn(&theta).diagonal();
            let diag = problem.ggn_diagonal(&theta);
            assert!(
                (&diag - &dense).amax() < 1e-12 * dense.amax(),
                "{task:?} {hidden:?}"
            );
        }
    }
}

#[test]
fn posterior_refuses_a_prior_that_varies_within_a_block() {
    let a = arch(2, &[3], Task::Regression, 1);
    let (z, y) = data(20, 2, Task::Regression, 1, 1);
    let p = a.n_params();
    let c = DVector::zeros(p);
    let mut precision = DVector::from_element(p, 1.0);
    let problem = MlpProblem::new(&a, &z, &y, &c, &precision, 1.0);
    let kfac = problem.kfac(&point(&a, 1));
    // The first layer's biases (after its 6 weights) get their own precision: one block under
    // math.md's convention, two under laplace-torch's.
    for j in 6..9 {
        precision[j] = 4.0;
    }
    assert!(kfac.posterior(&precision, BiasBlock::WithInputs).is_err());
    assert!(kfac.posterior(&precision, BiasBlock::Separate).is_ok());
    precision[0] = 0.0;
    assert!(kfac.posterior(&precision, BiasBlock::Separate).is_err());
}
