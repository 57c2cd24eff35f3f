//! Softmax networks through the study (math.md §7): with no hidden layer the network is the
//! linear-softmax model, evidence and MAP; with K = 2 outputs it is the binary network under the
//! matching prior; iris fits three outputs with every code.

use super::*;
use crate::codelength::CodeSelection;
use crate::data::{self, ColumnSelection};
use crate::inference::laplace::{find_mode, laplace_evidence, log_prior_density};
use crate::inference::softmax_mode::softmax_mode_and_evidence;
use crate::model::logistic::Rows;
use crate::model::mlp::{initial_parameters, Activation, Architecture, Task};
use crate::model::softmax::{prior_arrays, SoftmaxProblem};
use crate::model::Intercept;
use crate::prior::SdSpec;
use nalgebra::DVector;

fn options(hidden: Vec<usize>, sd: f64, codes: CodeSelection) -> FitOptions {
    FitOptions {
        intercept: Intercept::Shared,
        prior_sd: SdSpec::Fixed(sd),
        mlp: MlpOptions {
            hidden,
            task: Some(Task::Classification),
            ..MlpOptions::default()
        },
        codes,
        ..FitOptions::default()
    }
}

#[test]
fn without_hidden_layers_the_softmax_network_is_the_linear_softmax_model() {
    let iris = data::load("iris", &ColumnSelection::default()).unwrap();
    for sd in [0.3, 1.0, 4.0] {
        let fit = fit_mlp(&iris, &options(vec![], sd, CodeSelection::MIXTURE_ONLY)).unwrap();
        let study = &fit.study;
        let (k, classes) = (study.arch.inputs, study.arch.outputs);
        assert_eq!(classes, 3);
        assert_eq!(study.arch.n_params(), classes * (k + 1));
        // The linear-softmax model on the same standardised rows, its own solver and prior.
        let labels: Vec<usize> = study.y.iter().map(|&c| c as usize).collect();
        let shared_center = DVector::zeros(classes * (k + 1));
        let prior = prior_arrays(k, classes, Intercept::Shared, sd, &shared_center).unwrap();
        let problem = SoftmaxProblem::new(
            Rows::design(&study.z, k),
            &labels,
            classes,
            true,
            &prior.center,
            &prior.precision,
        );
        let (mode, laplace) =
            softmax_mode_and_evidence(&problem, DVector::zeros(problem.n_params())).unwrap();
        // The study's search accepts ‖∇f‖ ≤ 1e-6 of the gradient's scale, so its evidence agrees
        // to about 1e-9 …
        let network = fit.evaluation.log_evidence;
        assert!(
            (network - laplace.log_evidence).abs() < 1e-8 * laplace.log_evidence.abs(),
            "s = {sd}: network {network} vs linear softmax {}",
            laplace.log_evidence
        );
        // … and the network's own Newton (its GGN is ∇²ℓ without hidden layers) polished to
        // 1e-12 of the scale gives the same Laplace evidence to rounding.
        let p = study.arch.n_params();
        let (zero, precision) = (DVector::zeros(p), DVector::from_element(p, 1.0 / (sd * sd)));
        let net = MlpProblem::new(&study.arch, &study.z, &study.y, &zero, &precision, 1.0);
        let polished =
            find_mode(&net, fit.mode.params.clone(), 1e-12 * net.gradient_scale()).unwrap();
        let h = net.hessian_ggn(&polished.params);
        let half_log_det: f64 = h
            .cholesky()
            .unwrap()
            .l()
            .diagonal()
            .iter()
            .map(|d| d.ln())
            .sum();
        let polished_evidence = -net.negative_log_likelihood(&polished.params)
            + log_prior_density(&polished.params, &zero, &precision)
            + 0.5 * p as f64 * (2.0 * std::f64::consts::PI).ln()
            - half_log_det;
        let linear = find_mode(
            &problem,
            mode.params.clone(),
            1e-12 * problem.gradient_scale(),
        )
        .unwrap();
        let linear_evidence = laplace_evidence(
            &linear,
            -problem.negative_log_likelihood(&linear.params),
            &prior.center,
            &prior.precision,
        )
        .log_evidence;
        assert!(
            (polished_evidence - linear_evidence).abs() < 1e-11 * linear_evidence.abs(),
            "s = {sd}: polished network {polished_evidence} vs linear softmax {linear_evidence}"
        );
        assert_eq!(fit.evaluation.symmetry_log_nats, 0.0);
        // The network's order is (W row-major, then the K biases); the linear model's is class
        // by class (w_c, b_c).
        let theta = &fit.mode.params;
        for c in 0..classes {
            for j in 0..=k {
                let network = if j < k {
                    theta[c * k + j]
                } else {
                    theta[classes * k + c]
                };
                let linear = mode.params[c * (k + 1) + j];
                assert!(
                    (network - linear).abs() < 1e-6 * mode.params.amax(),
                    "s = {sd}, class {c}, coordinate {j}: {network} vs {linear}"
                );
            }
        }
        let gamma = fit.evaluation.effective_parameters;
        let linear_gamma = laplace.effective_parameters;
        assert!(
            (gamma - linear_gamma).abs() < 1e-6,
            "γ {gamma} vs {linear_gamma}"
        );
    }
}

#[test]
fn two_softmax_outputs_are_the_binary_network_with_half_the_output_precision() {
    // p(y = 1) = σ(η₁ − η₀): with δ = θ₁ − θ₀ on the output layer the likelihood is the binary
    // network's at (hidden layers, δ). Under θ_c ~ N(0, α⁻¹) per output coordinate, δ ~ N(0, 2/α)
    // and θ₁ + θ₀ ⊥ δ is exactly Gaussian (inference::softmax_mode), so the K = 2 evidence is the
    // binary network's with output precision α/2 and hidden precision α (the GGN Laplace too: the
    // change of variables is linear), and the modes correspond.
    let (x, t) = crate::testing::random_design(300, 3, 17);
    let z: Vec<f64> = x.transpose().as_slice().to_vec();
    let y: Vec<f64> = t.iter().map(|v| f64::from(u8::from(*v > 0.3))).collect();
    let alpha = 1.5;
    let binary = Architecture::new(3, vec![3], Activation::Tanh, Task::Classification).unwrap();
    let double = binary.clone().with_outputs(2).unwrap();
    let hidden_params = (3 + 1) * 3;
    let (pb, pd) = (binary.n_params(), double.n_params());
    let binary_precision = DVector::from_fn(pb, |i, _| {
        if i < hidden_params {
            alpha
        } else {
            alpha / 2.0
        }
    });
    let double_precision = DVector::from_element(pd, alpha);
    let (zero_b, zero_d) = (DVector::zeros(pb), DVector::zeros(pd));
    let pb_problem = MlpProblem::new(&binary, &z, &y, &zero_b, &binary_precision, 1.0);
    let pd_problem = MlpProblem::new(&double, &z, &y, &zero_d, &double_precision, 1.0);
    let tolerance = 1e-7 * pb_problem.gradient_scale();
    let b_mode = find_mode(&pb_problem, initial_parameters(&binary, 4), tolerance).unwrap();
    // The binary mode as a K = 2 point: output rows ∓δ/2 (their sum is at its prior mean 0).
    let mut start = b_mode.params.rows(0, hidden_params).into_owned();
    let delta = b_mode.params.rows(hidden_params, 4).into_owned();
    let mut out = vec![0.0; 2 * 3 + 2];
    for j in 0..3 {
        out[j] = -0.5 * delta[j];
        out[3 + j] = 0.5 * delta[j];
    }
    out[6] = -0.5 * delta[3];
    out[7] = 0.5 * delta[3];
    start = DVector::from_iterator(pd, start.iter().copied().chain(out));
    let d_mode = find_mode(&pd_problem, start.clone(), tolerance).unwrap();
    assert!(
        (&d_mode.params - &start).amax() < 1e-7,
        "the modes do not correspond"
    );
    // ln p(y | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|G + Λ|, from the definition.
    let evidence = |problem: &MlpProblem, theta: &DVector<f64>, precision: &DVector<f64>| {
        let p = theta.len() as f64;
        let h = problem.hessian_ggn(theta);
        let half_log_det: f64 = h
            .cholesky()
            .unwrap()
            .l()
            .diagonal()
            .iter()
            .map(|d| d.ln())
            .sum();
        let log_likelihood = -problem.negative_log_likelihood(theta);
        let log_prior = log_prior_density(theta, &DVector::zeros(theta.len()), precision);
        (
            log_likelihood + log_prior + 0.5 * p * (2.0 * std::f64::consts::PI).ln() - half_log_det,
            log_likelihood,
        )
    };
    let (b, b_likelihood) = evidence(&pb_problem, &b_mode.params, &binary_precision);
    let (d, d_likelihood) = evidence(&pd_problem, &d_mode.params, &double_precision);
    assert!(
        (b - d).abs() < 1e-9 * b.abs(),
        "binary {b} vs two outputs {d}"
    );
    assert!((b_likelihood - d_likelihood).abs() < 1e-9 * b_likelihood.abs());
}
#[test]
fn iris_fits_three_outputs_with_every_code() {
    let iris = data::load("iris", &ColumnSelection::default()).unwrap();
    for hidden in [vec![3], vec![]] {
        // iris is sorted by class: the prequential code visits its rows in a seeded shuffle.
        // tanh (the default): its zero centre is a stationary point, which the prequential
        // code's first prefix fit must leave (from the random starts) to beat the uniform code.
        let shuffled = FitOptions {
            order: crate::codelength::RowOrder::Shuffled(1),
            ..options(hidden.clone(), 1.0, CodeSelection::default())
        };
        assert_eq!(shuffled.mlp.activation, Activation::Tanh);
        let fit = fit_mlp(&iris, &shuffled).unwrap();
        assert_eq!(fit.study.arch.outputs, 3);
        let names = fit.study.class_names().unwrap();
        assert_eq!(names.len(), 3);
        assert_eq!(crate::fit::class_labels(&fit.study.info()), Some(names));
        let e = &fit.evaluation;
        assert!(e.log_evidence.is_finite() && e.log_evidence < 0.0);
        let p = fit.study.arch.n_params() as f64;
        assert!(e.effective_parameters > 0.0 && e.effective_parameters < p);
        let codes = &e.code_lengths;
        let mixture = codes.mixture.unwrap();
        // Every code is a length of the 150 labels: below the uniform code 150·log₂3.
        let uniform = 150.0 * 3f64.log2();
        for (name, code) in [
            ("mixture", codes.mixture),
            ("prequential", codes.prequential),
        ] {
            let bits = code.unwrap_or_else(|| panic!("{name} is null: {:?}", e.notes));
            assert!(bits > 0.0 && bits < uniform, "{hidden:?} {name} {bits}");
        }
        assert!(codes.bic.is_none());
        // two_part takes the F + Λ form; against the mixture its excess is the symmetry term, the
        // lattice constant and ½ln 2π per parameter, exactly (F + Λ is the GGN Laplace
        // curvature). With hidden units that are clones of each other F is singular beyond the
        // output layer's shift directions, and two_part is null with that reason.
        match codes.two_part {
            Some(two_part) => {
                let (lattice, _) = crate::codelength::lattice_term(p as usize);
                let expected = mixture
                    + (e.symmetry_log_nats + lattice + 0.5 * p * (2.0 * std::f64::consts::PI).ln())
                        / std::f64::consts::LN_2;
                assert!(
                    (two_part - expected).abs() < 1e-6,
                    "{two_part} vs {expected}"
                );
            }
            None => {
                assert!(
                    !hidden.is_empty(),
                    "the linear-softmax network's F is regular"
                );
                let said = format!("{:?}", e.notes);
                assert!(said.contains("singular beyond the 4 directions"), "{said}");
            }
        }
        // Predictions: the MAP classifies iris's training rows nearly perfectly.
        let precision = DVector::from_element(fit.study.arch.n_params(), 1.0);
        let problem = MlpProblem::new(
            &fit.study.arch,
            &fit.study.z,
            &fit.study.y,
            &e.center.values,
            &precision,
            1.0,
        );
        let right = (0..150)
            .filter(|&i| problem.predict(&fit.mode.params, i) == fit.study.y[i])
            .count();
        assert!(right >= 140, "{hidden:?}: {right} of 150");
    }
}
