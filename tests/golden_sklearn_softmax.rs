//! occam's linear-softmax MAP against scikit-learn's multinomial LogisticRegression, through
//! golden values.
//!
//! `tests/golden/sklearn_softmax.json` holds scikit-learn's `LogisticRegression(C, l1_ratio=0,
//! solver="lbfgs", fit_intercept=False)` fits on the z-scored iris features plus a column of ones
//! (three classes) for C = 0.01, 0.1, 1, 10, 100, each polished to the optimum with exact Newton
//! steps in numpy (sklearn's newton-cholesky agrees to ~1e-14). sklearn minimises
//! C·Σℓᵢ + ½‖θ‖² over all K(k + 1) parameters — the ones column's weights are the intercepts
//! under the same prior — which is C times occam's softmax negative log posterior with prior sd
//! s = √C and the `shared` intercept (math.md §7). Regenerate with `bash scripts/golden_sklearn.sh`.
//!
//! Compared: the MAP, max |occam − golden| / max |golden| ≤ 1e-7 (occam stops at
//! ‖∇f‖ ≤ 1e-9 of the gradient's scale, and any modelling difference — an unpenalised intercept, a
//! reference class, s² ≠ C — moves the MAP by ≫ 1e-7), and C·f at the mode to 1e-10 relative (second
//! order in the parameter error).

use nalgebra::DVector;
use occam::data::{self, ColumnSelection, Design, DesignOptions};
use occam::inference::softmax_mode::softmax_mode_and_evidence;
use occam::model::logistic::Rows;
use occam::model::softmax::SoftmaxProblem;
use serde_json::Value;

const MAP_TOLERANCE: f64 = 1e-7;
const OBJECTIVE_TOLERANCE: f64 = 1e-10;
const STANDARDISATION_TOLERANCE: f64 = 1e-12;

fn golden() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/sklearn_softmax.json"
    ))
    .expect("golden file present; regenerate with bash scripts/golden_sklearn.sh");
    serde_json::from_str(&text).expect("golden file is JSON")
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn map_matches_multinomial_logistic_regression_on_iris_for_each_c() {
    let g = golden();
    let dataset = data::load("iris", &ColumnSelection::default()).unwrap();
    assert_eq!(dataset.n() as u64, g["n"].as_u64().unwrap());
    assert_eq!(dataset.target_name, g["target"].as_str().unwrap());
    let design = Design::new(&dataset, DesignOptions::default()).unwrap();
    for (j, (m, s)) in numbers(&g["x_mean"])
        .iter()
        .zip(numbers(&g["x_sd"]))
        .enumerate()
    {
        let (shift, scale) = (
            design.transform.feature_shift[j],
            design.transform.feature_scale[j],
        );
        assert!(
            ((shift - m) / m).abs() <= STANDARDISATION_TOLERANCE,
            "mean {j}"
        );
        assert!(
            ((scale - s) / s).abs() <= STANDARDISATION_TOLERANCE,
            "sd {j}"
        );
    }
    // Labels in sorted order of the class values, as the golden file's `classes`.
    let classes = numbers(&g["classes"]);
    let labels: Vec<usize> = dataset
        .y
        .iter()
        .map(|v| classes.iter().position(|c| c == v).expect("a known class"))
        .collect();
    let (k, kk) = (design.k, classes.len());
    let p = kk * (k + 1);
    let fits = g["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 5, "five values of C");
    for case in fits {
        let c = case["C"].as_f64().unwrap();
        let theirs: Vec<f64> = case["coef"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(numbers)
            .collect();
        assert_eq!(theirs.len(), p, "K × (k + 1), class-major");
        let center = DVector::zeros(p);
        let precision = DVector::from_element(p, 1.0 / c);
        let problem = SoftmaxProblem::new(
            Rows::design(&design.z, k),
            &labels,
            kk,
            true,
            &center,
            &precision,
        );
        let (mode, laplace) = softmax_mode_and_evidence(&problem, DVector::zeros(p)).unwrap();
        let ours = mode.params.as_slice();
        let diff = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let rel = diff / theirs.iter().map(|b| b.abs()).fold(0.0, f64::max);
        assert!(
            rel <= MAP_TOLERANCE,
            "C = {c}: MAP differs by {rel:e}\n occam   {ours:?}\n sklearn {theirs:?}"
        );
        eprintln!("C = {c}: MAP max-abs relative difference {rel:.2e}");
        let objective = case["objective"].as_f64().unwrap();
        let rel_objective = ((c * mode.cost - objective) / objective).abs();
        assert!(
            rel_objective <= OBJECTIVE_TOLERANCE,
            "C = {c}: C·f = {} vs {objective}",
            c * mode.cost
        );
        let nll = case["negative_log_likelihood"].as_f64().unwrap();
        assert!(
            ((-laplace.log_likelihood - nll) / nll).abs() <= 1e-8,
            "C = {c}: ℓ"
        );
        assert!(laplace.effective_parameters > 0.0 && laplace.effective_parameters < p as f64);
    }
}
