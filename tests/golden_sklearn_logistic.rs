//! occam's logistic-regression MAP against scikit-learn's, through golden values.
//!
//! `tests/golden/sklearn_logistic.json` holds scikit-learn's `LogisticRegression(C, l1_ratio=0,
//! solver="lbfgs")` fits on the z-scored breast-cancer features for C = 0.01, 0.1, 1, 10, and on a
//! 20-row toy set separable by x0 > 0 (C = 1). sklearn minimises C·Σℓᵢ + ½‖w‖² with the intercept
//! unpenalised, which is occam's negative log posterior times C with prior sd s = √C on the
//! standardised weights and `--intercept free` (math.md §2). Regenerate with:
//! `bash scripts/golden_sklearn.sh` (installs pinned scikit-learn into a throwaway venv).
//!
//! Compared: the MAP (30 weights, then the intercept): max |occam − golden| over all of them,
//! divided by max |golden|, must be ≤ 1e-6. The golden `coef`/`intercept` are sklearn's lbfgs answer
//! polished to the optimum with a few Newton steps in numpy (gradient ~1e-16 relative), because
//! sklearn's lbfgs stops on a relative-decrease rule up to ~2e-6 (C = 10) from the optimum — see
//! each fit's `note`; sklearn's newton-cholesky solver agrees with the polished optimum. occam
//! stops at ‖∇f‖ ≤ 1e-9 of the gradient's scale, i.e. ≲1e-8 relative in the parameters at these
//! curvatures, so 1e-6 is ample slack for its stopping rule yet catches any modelling difference
//! (a penalised intercept, another standardisation, s² ≠ C all move the MAP by ≫ 1e-6). The
//! objective at the optimum is second order in the parameter error and is checked to 1e-10.

mod common;

use common::{number, numbers};
use occam::data::{self, ColumnSelection, Dataset, Design, DesignOptions};
use occam::fit::{fit_logistic, FitOptions, LogisticFit};
use occam::model::Intercept;
use occam::prior::SdSpec;
use occam::report::FitReport;
use serde_json::Value;

/// Max-abs difference over weights and intercept, relative to max-abs of the golden vector.
const MAP_TOLERANCE: f64 = 1e-6;
/// Relative difference of the objective value at the optimum.
const OBJECTIVE_TOLERANCE: f64 = 1e-10;
/// Means and sds of the features: the same sums in double precision.
const STANDARDISATION_TOLERANCE: f64 = 1e-12;

fn golden() -> Value {
    common::golden("sklearn_logistic.json")
}

/// sklearn's LogisticRegression(C): prior sd √C on the standardised weights, flat intercept.
fn sklearn_options(c: f64) -> FitOptions {
    FitOptions {
        prior_sd: SdSpec::Fixed(c.sqrt()),
        intercept: Intercept::Free,
        ..FitOptions::default()
    }
}

/// The golden (coef, intercept) as one vector in occam's order: weights, then intercept.
fn golden_params(case: &Value) -> Vec<f64> {
    let mut params = numbers(&case["coef"]);
    params.push(number(&case["intercept"]));
    params
}

/// max |ours − theirs| / max |theirs|.
fn max_relative_difference(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "parameter counts differ");
    let diff = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let scale = theirs.iter().map(|b| b.abs()).fold(0.0, f64::max);
    diff / scale
}

/// Checks the MAP and the objective of `fit` against one golden case.
fn assert_map_matches(what: &str, fit: &LogisticFit, case: &Value) {
    let c = number(&case["C"]);
    let ours = fit.mode.params.as_slice();
    let theirs = golden_params(case);
    let rel = max_relative_difference(ours, &theirs);
    assert!(
        rel <= MAP_TOLERANCE,
        "{what}, C = {c}: occam's MAP differs from scikit-learn's by {rel:e} (max-abs relative)\n occam   {ours:?}\n sklearn {theirs:?}"
    );
    // occam's f = Σℓ + ‖w‖²/(2C) is sklearn's objective divided by C.
    let objective = number(&case["objective"]);
    let ours_objective = c * fit.mode.cost;
    let rel_objective = ((ours_objective - objective) / objective).abs();
    assert!(
        rel_objective <= OBJECTIVE_TOLERANCE,
        "{what}, C = {c}: objective C·f = {ours_objective} vs scikit-learn's {objective} (relative {rel_objective:e})"
    );
}

#[test]
fn standardisation_matches_standard_scaler() {
    let g = golden();
    let dataset = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
    assert_eq!(dataset.n() as u64, g["n"].as_u64().unwrap());
    assert_eq!(dataset.target_name, g["target"].as_str().unwrap());
    let design = Design::new(&dataset, DesignOptions::default()).unwrap();
    for (j, (m, s)) in numbers(&g["x_mean"])
        .iter()
        .zip(numbers(&g["x_sd"]))
        .enumerate()
    {
        let shift = design.transform.feature_shift[j];
        let scale = design.transform.feature_scale[j];
        assert!(
            ((shift - m) / m).abs() <= STANDARDISATION_TOLERANCE,
            "mean of feature {j}: occam {shift} vs StandardScaler {m}"
        );
        assert!(
            ((scale - s) / s).abs() <= STANDARDISATION_TOLERANCE,
            "sd of feature {j}: occam {scale} vs StandardScaler {s}"
        );
    }
}

#[test]
fn map_matches_logistic_regression_for_each_c() {
    let g = golden();
    let dataset = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
    let fits = g["fits"].as_array().unwrap();
    assert_eq!(fits.len(), 4, "golden file has the four values of C");
    for case in fits {
        let c = number(&case["C"]);
        let fit = fit_logistic(&dataset, &sklearn_options(c)).unwrap();
        assert_eq!(fit.mode.params.len(), 31, "30 weights and an intercept");
        assert_map_matches("breast_cancer", &fit, case);
    }
}

#[test]
fn separable_map_matches_and_bic_is_undefined() {
    let g = golden();
    let case = &g["separable"];
    let features: Vec<String> = case["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let k = features.len();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for row in case["rows"].as_array().unwrap() {
        let row = numbers(row);
        assert_eq!(
            row.len(),
            k + 1,
            "each row is the features, then the target"
        );
        x.extend_from_slice(&row[..k]);
        y.push(row[k]);
    }
    let dataset = Dataset::new(
        "golden:separable",
        features,
        case["target"].as_str().unwrap(),
        x,
        y,
    )
    .unwrap();
    let fit = fit_logistic(&dataset, &sklearn_options(number(&case["C"]))).unwrap();
    assert_map_matches("separable toy set", &fit, case);

    let report = FitReport::from_logistic(&fit, &occam::error::LibraryNames);
    assert_eq!(
        report.code_length_bits.bic, None,
        "no maximum-likelihood estimate on separable data, so no BIC"
    );
    assert!(
        fit.notes
            .iter()
            .any(|n| n.to_string().contains("separable")),
        "a note says the classes are separable: {:#?}",
        fit.notes
    );
}
