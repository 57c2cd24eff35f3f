//! Softmax networks (K ≥ 2 output units, math.md §7): the objective against its definition, the
//! gradient, the GGN and the exact Hessian against finite differences and naive sums.

use super::*;
use crate::model::problem::NewtonProblem;
use crate::testing::random_design;
use nalgebra::{DMatrix, DVector};

const K: usize = 3;

/// Rows (row-major) and class labels 0…K−1 cut from a noisy linear score, so that every class
/// occurs and none is separable.
fn data(n: usize, k: usize, classes: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let (x, y) = random_design(n, k, seed);
    let labels = y
        .iter()
        .map(|v| {
            let c = ((v + 2.0) / 4.0 * classes as f64).floor();
            c.clamp(0.0, (classes - 1) as f64)
        })
        .collect();
    (x.transpose().as_slice().to_vec(), labels)
}

fn arch(k: usize, hidden: &[usize], activation: Activation, classes: usize) -> Architecture {
    Architecture::new(k, hidden.to_vec(), activation, Task::Classification)
        .and_then(|a| a.with_outputs(classes))
        .unwrap()
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

/// ℓ from the definition, row by row: Σᵢ ln Σ_c exp(η_ic) − η_{i,yᵢ} with η from
/// [`Architecture::output_vector`] (plain `ln(Σ exp)`: only for moderate η).
fn naive_nll(a: &Architecture, z: &[f64], y: &[f64], theta: &DVector<f64>) -> f64 {
    z.chunks_exact(a.inputs)
        .zip(y)
        .map(|(x, &c)| {
            let eta = a.output_vector(theta, x);
            eta.iter().map(|e| e.exp()).sum::<f64>().ln() - eta[c as usize]
        })
        .sum()
}

const ACTIVATIONS: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];
const HIDDEN: [&[usize]; 4] = [&[], &[3], &[4, 3], &[2]];

#[test]
fn the_objective_is_the_definition_and_stable_for_large_outputs() {
    for activation in ACTIVATIONS {
        for hidden in HIDDEN {
            // 600 rows: several chunks of the forward pass.
            let (z, y) = data(600, 4, K, 7);
            let a = arch(4, hidden, activation, K);
            assert_eq!(a.widths().last(), Some(&K));
            let p = a.n_params();
            let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = point(&a, 3);
            let ours = problem.negative_log_likelihood(&theta);
            let naive = naive_nll(&a, &z, &y, &theta);
            assert!(
                (ours - naive).abs() < 1e-10 * naive.abs(),
                "{ours} vs {naive}"
            );
            let eta = problem.outputs(&theta);
            assert_eq!(eta.len(), 600 * K);
            for i in [0, 255, 256, 599] {
                let reference = a.output_vector(&theta, problem.row(i));
                for c in 0..K {
                    assert!((eta[i * K + c] - reference[c]).abs() < 1e-12);
                }
                let best = (0..K).fold(0, |b, c| {
                    if eta[i * K + c] > eta[i * K + b] {
                        c
                    } else {
                        b
                    }
                });
                assert_eq!(problem.predict(&theta, i), best as f64);
            }
            // Outputs in the hundreds: exp overflows a naive sum, the shifted one stays finite,
            // and ℓ ≥ 0 (each row's −ln p ≥ 0).
            let big = &theta * 400.0;
            let f = problem.negative_log_likelihood(&big);
            assert!(f.is_finite() && f >= 0.0, "{f}");
            assert!(problem
                .likelihood_gradient(&big)
                .iter()
                .all(|g| g.is_finite()));
        }
    }
}

#[test]
fn the_gradient_matches_finite_differences() {
    let k = 4;
    for activation in ACTIVATIONS {
        for hidden in HIDDEN {
            let (z, y) = data(600, k, K, 11);
            let a = arch(k, hidden, activation, K);
            let p = a.n_params();
            let center = DVector::from_fn(p, |i, _| 0.05 * (i % 7) as f64 - 0.1);
            let precision = DVector::from_fn(p, |i, _| 0.5 + 0.1 * (i % 3) as f64);
            let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
            let theta = point(&a, 3);
            let g = problem.gradient_at(&theta);
            let (f, fused) = problem.objective_and_gradient(&theta);
            assert_eq!(f, problem.objective(&theta));
            assert_eq!(fused, g);
            let e = 1e-6;
            for j in 0..p {
                let mut up = theta.clone();
                up[j] += e;
                let mut down = theta.clone();
                down[j] -= e;
                let fd = (problem.objective(&up) - problem.objective(&down)) / (2.0 * e);
                assert!(
                    (fd - g[j]).abs() < 2e-6 * g[j].abs().max(1.0),
                    "{activation:?} {hidden:?} ∂f/∂{}: {fd} vs {}",
                    a.parameter_names()[j],
                    g[j]
                );
            }
        }
    }
}

/// Jᵢ = ∂ηᵢ/∂θ (K × P) by central differences of [`Architecture::output_vector`].
fn output_jacobian(a: &Architecture, theta: &DVector<f64>, x: &[f64]) -> DMatrix<f64> {
    let p = a.n_params();
    let e = 1e-6;
    let mut j = DMatrix::zeros(a.outputs, p);
    for col in 0..p {
        let mut up = theta.clone();
        up[col] += e;
        let mut down = theta.clone();
        down[col] -= e;
        let (u, d) = (a.output_vector(&up, x), a.output_vector(&down, x));
        for c in 0..a.outputs {
            j[(c, col)] = (u[c] - d[c]) / (2.0 * e);
        }
    }
    j
}

#[test]
fn the_ggn_is_the_sum_of_its_definition() {
    // 400 rows: several chunks of ⌊512/K⌋ data rows.
    for (activation, hidden) in [
        (Activation::Tanh, &[3][..]),
        (Activation::Sigmoid, &[2, 3][..]),
        (Activation::Tanh, &[][..]),
    ] {
        let (z, y) = data(400, 3, K, 5);
        let a = arch(3, hidden, activation, K);
        let p = a.n_params();
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 0.7));
        let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
        let theta = point(&a, 4);
        let mut naive = DMatrix::zeros(p, p);
        for x in z.chunks_exact(3) {
            let eta = a.output_vector(&theta, x);
            let total: f64 = eta.iter().map(|e| e.exp()).sum();
            let prob = DVector::from_iterator(K, eta.iter().map(|e| e.exp() / total));
            let weight = DMatrix::from_diagonal(&prob) - &prob * prob.transpose();
            let j = output_jacobian(&a, &theta, x);
            naive += j.transpose() * weight * &j;
        }
        let ggn = problem.ggn(&theta);
        let scale = naive.abs().max();
        let worst = (&ggn - &naive).abs().max();
        assert!(
            worst < 1e-7 * scale,
            "{hidden:?}: {worst:e} against {scale:e}"
        );
        assert_eq!(ggn, ggn.transpose());
        let eigen = ggn.clone().symmetric_eigenvalues();
        assert!(eigen.min() > -1e-10 * eigen.max());
        let with_prior = problem.hessian_ggn(&theta);
        assert_eq!(with_prior, problem.hessian(&theta));
        let prior = with_prior - &ggn - DMatrix::from_diagonal(&precision);
        assert!(prior.abs().max() < 1e-14 * scale);
        // The single-precision preconditioner is the same matrix to f32.
        let single = problem.hessian_ggn_single(&theta);
        let double = problem.hessian_ggn(&theta);
        for i in 0..p {
            for j in 0..p {
                let err = (f64::from(single[i * p + j]) - double[(i, j)]).abs();
                assert!(err <= 1e-6 * double.abs().max(), "({i}, {j}): {err:e}");
            }
        }
    }
}

#[test]
fn the_exact_hessian_matches_second_differences_and_equals_the_ggn_without_hidden_layers() {
    let (z, y) = data(150, 3, K, 9);
    for hidden in [&[][..], &[3][..]] {
        let a = arch(3, hidden, Activation::Tanh, K);
        let p = a.n_params();
        let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
        let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
        let theta = point(&a, 6);
        let exact = problem.exact_hessian(&theta);
        assert_eq!(exact, exact.transpose());
        // Second differences of ℓ itself (not of its gradient): an independent route.
        let e = 1e-4;
        let nll = |t: &DVector<f64>| problem.negative_log_likelihood(t);
        let scale = exact.abs().max();
        for (i, j) in [(0, 0), (0, 1), (2, p - 1), (p - 1, p - 1), (p / 2, 1)] {
            let shifted = |di: f64, dj: f64| {
                let mut t = theta.clone();
                t[i] += di;
                t[j] += dj;
                nll(&t)
            };
            let fd =
                (shifted(e, e) - shifted(e, -e) - shifted(-e, e) + shifted(-e, -e)) / (4.0 * e * e);
            assert!(
                (fd - exact[(i, j)]).abs() < 1e-4 * scale,
                "{hidden:?} ({i}, {j}): {fd} vs {}",
                exact[(i, j)]
            );
        }
        let ggn = problem.ggn(&theta);
        let gap = (&exact - &ggn).abs().max();
        if hidden.is_empty() {
            // η is linear in θ: the GGN is ∇²ℓ.
            assert!(gap < 1e-6 * scale, "{gap:e}");
        } else {
            // With a hidden layer they differ by Σᵢ Σ_c r_ic ∇²η_ic, and must.
            assert!(gap > 1e-3 * scale, "{gap:e}");
        }
        let prior = problem.hessian_exact(&theta) - &exact - DMatrix::from_diagonal(&precision);
        assert!(prior.abs().max() < 1e-14 * scale.max(1.0));
    }
}

#[test]
fn permuting_hidden_units_leaves_the_softmax_posterior_unchanged() {
    // Swap hidden units 0 and 2 (rows of W₁ and b₁, columns of the output W).
    let (z, y) = data(200, 3, K, 2);
    let a = arch(3, &[3], Activation::Tanh, K);
    let p = a.n_params();
    let (center, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0));
    let problem = MlpProblem::new(&a, &z, &y, &center, &precision, 1.0);
    let theta = point(&a, 8);
    let mut layers = a.layers(&theta);
    layers[0].0.swap_rows(0, 2);
    layers[0].1.swap_rows(0, 2);
    layers[1].0.swap_columns(0, 2);
    let permuted = a.pack(&layers).unwrap();
    assert_ne!(permuted, theta);
    let (f, g) = (problem.objective(&theta), problem.objective(&permuted));
    assert!((f - g).abs() < 1e-10 * f.abs(), "{f} vs {g}");
    let weights = symmetry_log_count(&a, &theta);
    assert_eq!(weights, symmetry_log_count(&a, &permuted));
    assert!(saturation_fraction(&problem, &theta).is_some());
}

#[test]
fn only_classification_has_several_outputs() {
    let regression = Architecture::new(3, vec![2], Activation::Tanh, Task::Regression).unwrap();
    assert!(regression.clone().with_outputs(3).is_err());
    assert!(regression.with_outputs(0).is_err());
    let a = arch(3, &[2], Activation::Tanh, 4);
    assert!(a.is_softmax());
    assert_eq!(a.n_params(), (3 + 1) * 2 + (2 + 1) * 4);
    assert_eq!(
        a.parameter_names().last().map(String::as_str),
        Some("output.b[3]")
    );
    // One output serialises as before (no `outputs` key); several name their count.
    let one = Architecture::new(3, vec![2], Activation::Tanh, Task::Classification).unwrap();
    assert!(!serde_json::to_string(&one).unwrap().contains("outputs"));
    assert!(serde_json::to_string(&a).unwrap().contains("\"outputs\":4"));
}
