use super::activation::activate;
use super::architecture::dot;
use super::diagnostics::log_factorial;
use super::*;
use crate::model::logistic::{sigmoid, LogisticProblem};
use crate::model::problem::{NewtonProblem, Objective};
use crate::random::Stream;
use crate::testing::random_design;
use nalgebra::{DMatrix, DVector};
use std::f64::consts::PI;
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
fn activate_adds_the_bias_and_applies_phi() {
    let bias = [0.3, -1.2, 0.0];
    let pre: Vec<f64> = (0..3 * 101)
        .map(|i| (f64::from(i) * 0.731).sin() * 9.0)
        .collect();
    for activation in ACTIVATIONS {
        let (mut a, mut h) = (pre.clone(), vec![0.0; pre.len()]);
        activate(activation, &bias, &mut a, &mut h);
        for (i, (a, h)) in a.iter().zip(&h).enumerate() {
            assert_eq!(*a, pre[i] + bias[i % 3], "{activation:?}");
            assert_eq!(*h, activation.apply(*a), "{activation:?}");
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
        assert_eq!(fused.cost(&theta), f);
        assert_eq!(fused.gradient(&theta), g);
        let elsewhere = &theta * 0.5;
        assert_eq!(fused.gradient(&elsewhere), problem.gradient_at(&elsewhere));
        assert_eq!(
            fused.clone().cost(&elsewhere),
            problem.objective(&elsewhere)
        );
        assert_eq!(fused.hessian(&theta), problem.hessian_ggn(&theta));
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
        let via_trait = problem.hessian(&theta);
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
    layers[layer + 1].0 = DMatrix::from_fn(next.nrows(), next.ncols(), |o, i| next[(o, perm[i])]);
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
fn parameter_info_follows_theta_and_the_prior_structure_resolves_on_it() {
    use crate::prior::groups::{ParameterKind, PriorStructure};
    let a = arch(2, &[4], Activation::Sigmoid, Task::Classification);
    let features = vec!["x".to_string(), "z".to_string()];
    let info = a.parameter_info(&features).unwrap();
    let names = a.parameter_names();
    assert_eq!(info.len(), a.n_params());
    for (p, n) in info.iter().zip(&names) {
        assert_eq!(&p.name, n);
        assert_eq!(p.kind == ParameterKind::Bias, n.contains(".b["));
        assert_eq!(p.layer, if n.starts_with("layer1") { 1 } else { 2 });
    }
    assert_eq!(info[6].feature.as_deref(), Some("x")); // layer1.w[3,0]
    assert_eq!(info[1].feature.as_deref(), Some("z")); // layer1.w[0,1]
    assert_eq!(info[14].feature, None); // output.w[0,2]
    let groups = PriorStructure::parse("ard; layer1.biases=zero:1; output=zero:auto")
        .unwrap()
        .resolve(&info)
        .unwrap();
    assert_eq!(groups[0].indices, [0, 2, 4, 6]);
    assert_eq!(groups[1].indices, [1, 3, 5, 7]);
    assert_eq!(groups[2].indices, [8, 9, 10, 11]);
    assert_eq!(groups[3].indices, [12, 13, 14, 15, 16]);
    assert!(a.parameter_info(&features[..1]).is_err());
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

impl Objective for Counted<'_, '_> {
    fn cost(&self, theta: &DVector<f64>) -> f64 {
        self.costs.fetch_add(1, Ordering::Relaxed);
        self.problem.cost(theta)
    }

    fn gradient(&self, theta: &DVector<f64>) -> DVector<f64> {
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
        let crate::inference::map::LbfgsEnd {
            params: map,
            iterations,
            reason,
        } = crate::inference::map::run_lbfgs(
            crate::inference::argmin_problem::ArgminProblem(counted.clone()),
            theta.clone(),
            options,
        )
        .unwrap();
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
