//! Every printed code is a code (math.md §5, docs/codes.md): the MML87 two-part length never falls
//! below the mixture code by more than the lattice's bound, and says which form it used.

mod common;

use common::{arg, fit_json, number};
use std::f64::consts::{LN_2, PI};

/// (P/2)(1 + ln κ_P) in nats, from the tabulated κ₁…κ₈ or Wallace's approximation above 8
/// (math.md §5), written out here rather than taken from the library.
fn lattice_nats(p: usize) -> f64 {
    const KAPPA: [f64; 8] = [
        1.0 / 12.0,
        0.080188,
        0.078543,
        0.076603,
        0.075625,
        0.074244,
        0.073116,
        0.071682,
    ];
    let q = p as f64;
    if (1..=8).contains(&p) {
        0.5 * q * (1.0 + KAPPA[p - 1].ln())
    } else {
        -0.5 * q * (2.0 * PI).ln() + 0.5 * (q * PI).ln() - 0.577_215_664_901_532_9
    }
}

/// two_part − mixture in bits, P and the form, from one fit report.
fn two_part_excess(report: &serde_json::Value) -> (f64, usize, String) {
    let codes = &report["code_length_bits"];
    let p = report["evidence"]["parameters"].as_u64().unwrap() as usize;
    let form = codes["two_part_form"]
        .as_str()
        .unwrap_or_else(|| panic!("two_part_form missing: {codes}"))
        .to_string();
    (
        number(&codes["two_part"]) - number(&codes["mixture"]),
        p,
        form,
    )
}

/// The least two_part − mixture may be, in bits: (P/2)(1 + ln 2πκ_P) − (P/2) ln 2 (the plain
/// form's ½ ln|I + F⁻¹Λ| is at most (P/2) ln 2 where F ⪰ Λ), with a little rounding room.
fn floor_bits(p: usize) -> f64 {
    (lattice_nats(p) + 0.5 * p as f64 * (PI.ln())) / LN_2 - 1e-6
}

fn simulate(dir: &std::path::Path, args: &[&str]) -> String {
    let out = dir.join(format!("{}.csv", args.join("_").replace(['-', ' '], "")));
    let mut full = vec!["simulate"];
    full.extend_from_slice(args);
    full.extend(["--out", arg(&out)]);
    common::assert_success(&full);
    out.to_str().unwrap().to_string()
}

#[test]
fn linear_two_part_minus_mixture_is_the_lattice_constant_where_the_prior_dominates() {
    // Issue 14: `--prior-sd 0.001` printed two_part 172 against mixture 198 bits.
    for sd in ["0.001", "1e-149"] {
        let report = fit_json(&["--data", "diabetes", "--prior-sd", sd]);
        let (excess, p, form) = two_part_excess(&report);
        assert_eq!(p, 10);
        assert_eq!(form, "fisher_plus_prior", "s = {sd}");
        // (P/2)(1 + ln 2πκ_P) exactly, the charges (σ fitted) being the same in both codes.
        let expected = (lattice_nats(p) + 0.5 * p as f64 * (2.0 * PI).ln()) / LN_2;
        assert!(
            (excess - expected).abs() < 1e-6 * number(&report["code_length_bits"]["mixture"]),
            "s = {sd}: {excess} vs {expected}"
        );
        assert!(expected > 0.0);
        let notes = report["notes"].to_string();
        assert!(
            notes.contains("10 of 10 directions of F are less curved than the prior precision"),
            "{notes}"
        );
    }
    // A wide prior (s = 1000): the data dominate every direction, even diabetes's near-collinear
    // serum columns (the smallest eigenvalue of βXᵀX is about 10⁻³); the plain form, no note.
    let report = fit_json(&["--data", "diabetes", "--prior-sd", "1000"]);
    let (excess, p, form) = two_part_excess(&report);
    assert_eq!(form, "fisher");
    assert!(excess >= floor_bits(p));
    assert!(excess < (lattice_nats(p) + 0.5 * p as f64 * (2.0 * PI).ln()) / LN_2);
    assert!(!report["notes"]
        .to_string()
        .contains("prior's curvature added"));
}

#[test]
fn two_part_never_undercuts_the_mixture_code_on_random_designs() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = std::collections::BTreeSet::new();
    for seed in ["1", "2", "3"] {
        let linear = simulate(
            dir.path(),
            &["linear", "--n", "40", "--k", "6", "--seed", seed],
        );
        let logistic = simulate(
            dir.path(),
            &["logistic", "--n", "60", "--k", "4", "--seed", seed],
        );
        let network = simulate(
            dir.path(),
            &[
                "mlp", "--n", "60", "--k", "2", "--hidden", "3", "--seed", seed,
            ],
        );
        for sd in ["0.01", "0.3", "3"] {
            let runs: [Vec<&str>; 3] = [
                vec!["--data", &linear, "--prior-sd", sd],
                vec![
                    "--data",
                    &logistic,
                    "--model",
                    "logistic",
                    "--prior-sd",
                    sd,
                    "--codes",
                    "two_part",
                ],
                vec![
                    "--data",
                    &network,
                    "--model",
                    "mlp",
                    "--hidden",
                    "3",
                    "--prior-sd",
                    sd,
                    "--noise-sd",
                    "0.5",
                    "--restarts",
                    "2",
                    "--codes",
                    "two_part",
                ],
            ];
            for args in runs {
                let report = fit_json(&args);
                if report["code_length_bits"]["two_part"].is_null() {
                    // Null only with its reason.
                    assert!(report["notes"]
                        .to_string()
                        .contains("two_part is undefined"));
                    continue;
                }
                let (excess, p, form) = two_part_excess(&report);
                assert!(
                    excess >= floor_bits(p),
                    "{args:?}: two_part − mixture = {excess} bits < {} (P = {p}, {form})",
                    floor_bits(p)
                );
                forms.insert(form);
            }
        }
    }
    // Both sides of the switch were exercised.
    assert_eq!(forms.len(), 2, "{forms:?}");
}
