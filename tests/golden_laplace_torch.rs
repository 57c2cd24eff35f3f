//! occam's structured network evidences against laplace-torch, through golden values.
//!
//! `tests/golden/laplace_torch.json` holds laplace-torch's `Laplace(model, 'regression' |
//! 'classification', subset_of_weights='all', hessian_structure='kron' | 'diag', sigma_noise=σ,
//! prior_precision=1/s²)` fitted on one full batch, for tanh networks at the mode occam found on
//! the data in `tests/golden/laplace_torch/` (a regression and a binary 3-5-4-1 network, a
//! 3-class 3-5-3 network; the weights, s and σ are in the file). Regenerate with
//! `bash scripts/golden_laplace_torch.sh` (torch and laplace-torch in a venv).
//!
//! laplace-torch's `kron` is occam's KFAC with [`BiasBlock::Separate`] (W block G ⊗ A, the bias
//! block G, W–b terms dropped; model docs); its marginal likelihood
//! ln p(D | θ) − ½(ln|H| − ln|P₀| + θᵀP₀θ) equals occam's ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π −
//! ½ ln|H| term for term (no symmetry term on either side). Compared: ln|H| and the evidence to
//! 1e-9 relative — two float64 routes through different code (torch's curvlinops backend against
//! occam's row-block sums), so any difference of convention (a factor of n, the bias block, the
//! prior) shows up at ≥ 1e-3. The last-layer evidence (`subset_of_weights='last_layer'`,
//! `hessian_structure='full'`) is compared the same way for the regression and 3-class networks
//! (laplace-torch's last layer must be the network's last module, which the binary network's
//! (0, η) padding is not).

mod common;

use common::numbers;
use nalgebra::DVector;
use occam::data::{self, ColumnSelection};
use occam::fit::{FitOptions, MlpOptions, MlpStudy};
use occam::inference::kfac::{structured_evidence, Structure};
use occam::inference::last_layer::last_layer_evidence;
use occam::model::mlp::{BiasBlock, MlpProblem, Task};
use occam::model::Intercept;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= TOLERANCE * b.abs().max(1.0),
        "{what}: occam {a} vs laplace-torch {b}"
    );
}

/// The study occam fits on the case's CSV, its problem at the golden weights, and θ.
fn problem_of(case: &Value) -> (MlpStudy, DVector<f64>, f64) {
    let path = format!(
        "{}/tests/golden/laplace_torch/{}",
        env!("CARGO_MANIFEST_DIR"),
        case["csv"].as_str().unwrap()
    );
    let dataset = data::load(&path, &ColumnSelection::default()).unwrap();
    let hidden: Vec<usize> = numbers(&case["hidden"])
        .iter()
        .map(|h| *h as usize)
        .collect();
    let task = match case["task"].as_str().unwrap() {
        "regression" => Task::Regression,
        _ => Task::Classification,
    };
    let options = FitOptions {
        intercept: Intercept::Shared,
        mlp: MlpOptions {
            hidden,
            task: Some(task),
            ..MlpOptions::default()
        },
        ..FitOptions::default()
    };
    let study = MlpStudy::new(&dataset, &options).unwrap();
    assert_eq!(study.rows().1.len() as u64, case["n"].as_u64().unwrap());
    // The script standardised as occam does (population sd), features and target.
    for (j, (m, s)) in numbers(&case["x_mean"])
        .iter()
        .zip(numbers(&case["x_sd"]))
        .enumerate()
    {
        assert!((study.transform.feature_shift[j] - m).abs() <= 1e-12 * m.abs().max(1.0));
        assert!((study.transform.feature_scale[j] - s).abs() <= 1e-12 * s);
    }
    let beta = if task == Task::Regression {
        let (mean, sd) = (
            case["y_mean"].as_f64().unwrap(),
            case["y_sd"].as_f64().unwrap(),
        );
        assert!((study.target.shift - mean).abs() <= 1e-12 * mean.abs().max(1.0));
        assert!((study.target.scale - sd).abs() <= 1e-12 * sd);
        let sigma = case["noise_sd_standardised"].as_f64().unwrap();
        1.0 / (sigma * sigma)
    } else {
        1.0
    };
    let theta = DVector::from_vec(numbers(&case["theta"]));
    assert_eq!(theta.len(), study.arch.n_params());
    (study, theta, beta)
}

#[test]
fn kfac_and_diagonal_evidences_match_laplace_torch() {
    let golden = common::golden("laplace_torch.json");
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let (study, theta, beta) = problem_of(case);
        let p = theta.len();
        let s = case["prior_sd"].as_f64().unwrap();
        let precision = DVector::from_element(p, 1.0 / (s * s));
        let center = DVector::zeros(p);
        let (z, y) = study.rows();
        let problem = MlpProblem::new(&study.arch, z, y, &center, &precision, beta);
        for (key, structure) in [
            ("all_kron", Structure::Kfac(BiasBlock::Separate)),
            ("all_diag", Structure::Diagonal),
        ] {
            let torch = &case["laplace_torch"][key];
            assert_eq!(torch["parameters"].as_u64().unwrap() as usize, p, "{name}");
            let ev = structured_evidence(&problem, &theta, &center, structure).unwrap();
            close(
                ev.log_det_hessian,
                torch["log_det_posterior_precision"].as_f64().unwrap(),
                &format!("{name} {key}: ln|H|"),
            );
            close(
                ev.log_likelihood,
                torch["log_likelihood"].as_f64().unwrap(),
                &format!("{name} {key}: ln p(D | θ)"),
            );
            close(
                ev.log_evidence,
                torch["log_marginal_likelihood"].as_f64().unwrap(),
                &format!("{name} {key}: evidence"),
            );
        }
        let torch = &case["laplace_torch"]["last_layer_full"];
        if torch.is_null() {
            assert_eq!(name, "binary");
            continue;
        }
        let ev = last_layer_evidence(&problem, &theta, &center).unwrap();
        assert_eq!(ev.method, "laplace-last-layer");
        assert_eq!(
            torch["parameters"].as_u64().unwrap() as usize,
            ev.posterior_sd.len(),
            "{name}"
        );
        close(
            ev.log_det_hessian,
            torch["log_det_posterior_precision"].as_f64().unwrap(),
            &format!("{name} last layer: ln|H|"),
        );
        close(
            ev.log_evidence,
            torch["log_marginal_likelihood"].as_f64().unwrap(),
            &format!("{name} last layer: evidence"),
        );
    }
}
