//! occam against scikit-learn on the diabetes data, through golden values.
//!
//! The values in `tests/golden/sklearn_linear.json` come from scikit-learn's BayesianRidge
//! (Gamma hyperpriors at 0, so it maximises the same evidence) and Ridge on the z-scored features.
//! Regenerate them with: `bash scripts/golden_sklearn.sh` (installs pinned scikit-learn into a
//! throwaway venv). Tolerance 1e-8 relative: both sides compute the same closed forms in double
//! precision, so they agree far beyond that; the slack is for the fixed point's stopping rule.

mod common;

use common::numbers;
use nalgebra::DVector;
use occam::data::{self, ColumnSelection, Design, DesignOptions, SufficientStats};
use occam::fit::{fit_linear, FitOptions};
use occam::inference::{Hyperparameters, LinearGaussian};
use occam::prior::SdSpec;
use serde_json::Value;

const TOLERANCE: f64 = 1e-8;

fn golden() -> Value {
    common::golden("sklearn_linear.json")
}

fn assert_close(what: &str, ours: f64, theirs: f64) {
    let rel = ((ours - theirs) / theirs).abs();
    assert!(
        rel <= TOLERANCE,
        "{what}: occam {ours} vs scikit-learn {theirs} (relative {rel:e})"
    );
}

#[test]
fn standardisation_matches_standard_scaler() {
    let g = golden();
    let dataset = data::load("diabetes", &ColumnSelection::default()).unwrap();
    let design = Design::new(&dataset, DesignOptions::default()).unwrap();
    for (j, (m, s)) in numbers(&g["x_mean"])
        .iter()
        .zip(numbers(&g["x_sd"]))
        .enumerate()
    {
        assert_close(
            &format!("mean of feature {j}"),
            design.transform.feature_shift[j],
            *m,
        );
        assert_close(
            &format!("sd of feature {j}"),
            design.transform.feature_scale[j],
            s,
        );
    }
    assert_close(
        "mean of y",
        design.transform.target_shift,
        g["y_mean"].as_f64().unwrap(),
    );
}

#[test]
fn empirical_bayes_matches_bayesian_ridge() {
    let g = golden();
    let br = &g["bayesian_ridge"];
    let dataset = data::load("diabetes", &ColumnSelection::default()).unwrap();
    let fit = fit_linear(&dataset, &FitOptions::default()).unwrap();
    let h = fit.posterior.hyperparameters;
    // scikit-learn's alpha_ is the noise precision β, its lambda_ the prior precision α.
    assert_close(
        "prior precision α (lambda_)",
        h.prior_precision,
        br["prior_precision"].as_f64().unwrap(),
    );
    assert_close(
        "noise precision β (alpha_)",
        h.noise_precision,
        br["noise_precision"].as_f64().unwrap(),
    );
    assert_close(
        "log evidence (scores_[-1])",
        fit.posterior.summary.log_evidence,
        br["log_evidence"].as_f64().unwrap(),
    );
    for (j, w) in numbers(&br["weights"]).iter().enumerate() {
        assert_close(&format!("weight {j}"), fit.posterior.mean[j], *w);
    }
    // On z-scored features scikit-learn's intercept is mean(y), as is occam's standardised one.
    assert_close(
        "intercept",
        fit.study.transform.target_shift,
        br["intercept"].as_f64().unwrap(),
    );
}

#[test]
fn fixed_hyperparameter_evidence_and_ridge_weights_match() {
    let g = golden();
    let dataset = data::load("diabetes", &ColumnSelection::default()).unwrap();
    let design = Design::new(&dataset, DesignOptions::default()).unwrap();
    let model = LinearGaussian::new(&SufficientStats::from_design(&design)).unwrap();
    let zero = DVector::zeros(10);
    for case in g["fixed_hyperparameters"].as_array().unwrap() {
        let h = Hyperparameters::new(
            case["prior_precision"].as_f64().unwrap(),
            case["noise_precision"].as_f64().unwrap(),
        );
        let post = model.posterior(h, &zero);
        assert_close(
            "log evidence at fixed α, β",
            post.summary.log_evidence,
            case["log_evidence"].as_f64().unwrap(),
        );
        assert_close(
            "log evidence, n×n form",
            post.summary.log_evidence,
            case["log_evidence_nxn"].as_f64().unwrap(),
        );
        // Ridge(alpha = α/β) minimises ‖y − Xw‖² + (α/β)‖w‖², the same MAP (math.md §2).
        for (j, w) in numbers(&case["ridge_weights"]).iter().enumerate() {
            assert_close(&format!("ridge weight {j}"), post.mean[j], *w);
        }
        // And the same through the command-line options: s = 1/√α, σ = 1/√β.
        let options = FitOptions {
            prior_sd: SdSpec::Fixed(h.prior_sd()),
            noise_sd: SdSpec::Fixed(h.noise_sd()),
            ..FitOptions::default()
        };
        let fit = fit_linear(&dataset, &options).unwrap();
        assert_close(
            "log evidence via fit_linear",
            fit.posterior.summary.log_evidence,
            case["log_evidence"].as_f64().unwrap(),
        );
    }
}
