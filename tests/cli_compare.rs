//! `occam compare` and `occam convert` through the real binary: golden tables in every format,
//! byte-identical reruns, and the properties the tables must show.
//!
//! The golden files under `tests/golden/compare/` are occam's own output, reviewed by eye when
//! they were made; regenerate them after an intended change with
//! `OCCAM_BLESS=1 cargo test --test cli_compare` and review the diff.

use std::path::PathBuf;
use std::process::Command;

fn occam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_occam"))
        .args(args)
        .output()
        .expect("occam runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const COMPARE: [&str; 7] = [
    "compare",
    "--data",
    "diabetes",
    "--centers",
    "zero;const:0.5;sha256:occam",
    "--sds",
    "0.1,1,auto",
];

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/compare")
        .join(name);
    if std::env::var_os("OCCAM_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run OCCAM_BLESS=1 cargo test --test cli_compare",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{name} differs from the golden file; if intended, re-bless"
    );
}

#[test]
fn compare_tables_match_the_golden_files_in_every_format() {
    for (format, file) in [
        ("table", "diabetes.txt"),
        ("md", "diabetes.md"),
        ("tex", "diabetes.tex"),
        ("csv", "diabetes.csv"),
        ("json", "diabetes.json"),
    ] {
        let mut args = COMPARE.to_vec();
        args.extend(["--format", format]);
        let (code, stdout, stderr) = occam(&args);
        assert_eq!(code, 0, "{format}: {stderr}");
        golden(file, &stdout);
        let (_, again, _) = occam(&args);
        assert_eq!(
            stdout, again,
            "{format} output is not byte-identical across runs"
        );
    }
}

#[test]
fn compare_json_has_the_cli_md_keys_and_is_ranked() {
    let mut args = COMPARE.to_vec();
    args.extend(["--format", "json"]);
    let (_, stdout, _) = occam(&args);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["dataset"]["n"], 442);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9);
    let mut last = f64::NEG_INFINITY;
    for row in rows {
        for key in [
            "prior",
            "evidence",
            "code_length_bits",
            "effective_parameters",
        ] {
            assert!(!row[key].is_null(), "row lacks {key}");
        }
        let mixture = row["code_length_bits"]["mixture"].as_f64().unwrap();
        assert!(mixture >= last, "rows are not ranked by the mixture code");
        last = mixture;
    }
}

#[test]
fn at_fixed_scales_every_centre_has_the_same_capacity() {
    // γ depends on s and σ but not on μ (math.md §3); zero's Δbits is 0 by definition.
    let mut args = COMPARE.to_vec();
    args.extend(["--noise-sd", "54", "--format", "json"]);
    let (_, stdout, _) = occam(&args);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    for sd in [0.1, 1.0] {
        let same: Vec<&serde_json::Value> = rows
            .iter()
            .filter(|r| {
                r["prior"]["sd"].as_f64() == Some(sd) && !r["prior"]["sd_fitted"].as_bool().unwrap()
            })
            .collect();
        assert_eq!(same.len(), 3);
        let gamma = same[0]["effective_parameters"].as_f64().unwrap();
        for r in &same {
            assert_eq!(
                r["effective_parameters"].as_f64(),
                Some(gamma),
                "γ differs between centres at s = {sd}"
            );
            if r["prior"]["center"] == "zero" {
                assert_eq!(r["delta_bits"].as_f64(), Some(0.0));
            }
        }
    }
}

#[test]
fn a_logspace_sweep_gives_one_row_per_prior() {
    let (code, stdout, stderr) = occam(&[
        "compare",
        "--data",
        "diabetes",
        "--centers",
        "zero;const:1",
        "--sds",
        "logspace:-2:2:50",
        "--noise-sd",
        "50",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1 + 100);
    // With σ and s fixed the prequential code equals the mixture code (chain rule).
    for line in stdout.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (mixture, prequential): (f64, f64) =
            (cells[8].parse().unwrap(), cells[9].parse().unwrap());
        assert!((mixture - prequential).abs() < 1e-6, "{line}");
    }
}

#[test]
fn bad_compare_specs_exit_2_naming_the_flag() {
    for (flag, value) in [
        ("--sds", "logspace:1:0:5"),
        ("--sds", "0"),
        ("--sds", "logspace:a:b:c"),
        ("--centers", "zero;nowhere"),
        ("--rank-by", "shortest"),
    ] {
        let (code, _, stderr) = occam(&["compare", "--data", "diabetes", flag, value]);
        assert_eq!(code, 2, "{flag} {value}");
        assert!(
            stderr.contains(flag) || stderr.contains(&flag.replace("--", "")),
            "{flag} {value}: {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn convert_round_trips_through_the_prior_sd() {
    // Ridge(alpha = 2.21) with σ = 54 on diabetes is s = 54/√2.21; converting that s back gives 2.21.
    let (code, stdout, _) = occam(&[
        "convert",
        "--from",
        "sklearn-ridge",
        "--value",
        "2.21",
        "--noise-sd",
        "54",
        "--n",
        "442",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let s = v["prior_sd"].as_f64().unwrap();
    assert!((s - 54.0 / 2.21f64.sqrt()).abs() < 1e-12 * s);
    let (_, stdout, _) = occam(&[
        "convert",
        "--from",
        "prior-sd",
        "--value",
        &s.to_string(),
        "--noise-sd",
        "54",
        "--n",
        "442",
        "--loss",
        "mse",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ridge = v["equivalents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["knob"] == "sklearn-ridge")
        .unwrap();
    assert!((ridge["value"].as_f64().unwrap() - 2.21).abs() < 1e-12);
}

#[test]
fn convert_refuses_adamw_and_names_missing_inputs() {
    let (code, _, stderr) = occam(&["convert", "--from", "adamw", "--value", "0.01"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an L2 penalty"));
    let (code, _, stderr) = occam(&[
        "convert",
        "--from",
        "glmnet",
        "--value",
        "0.1",
        "--noise-sd",
        "1",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--n"), "{stderr}");
    let (code, _, stderr) = occam(&[
        "convert", "--from", "keras-l2", "--value", "0.1", "--n", "100",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--loss"), "{stderr}");
}

#[test]
fn logistic_compare_on_breast_cancer_ranks_priors_and_explains_nulls() {
    let (code, stdout, stderr) = occam(&[
        "compare",
        "--data",
        "breast_cancer",
        "--model",
        "logistic",
        "--centers",
        "zero;const:0.5;sha256:occam",
        "--sds",
        "0.3,1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["model"]["kind"], "logistic");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let mixture: Vec<f64> = rows
        .iter()
        .map(|r| r["code_length_bits"]["mixture"].as_f64().unwrap())
        .collect();
    assert!(
        mixture.windows(2).all(|w| w[0] <= w[1]),
        "not ranked: {mixture:?}"
    );
    for r in rows {
        assert_eq!(r["evidence"]["method"], "laplace-hessian");
        assert_eq!(r["evidence"]["parameters"], 31);
        let gamma = r["effective_parameters"].as_f64().unwrap();
        assert!(gamma > 0.0 && gamma < 31.0);
        // breast_cancer's classes are linearly separable: no ML estimate, so no BIC.
        assert!(r["code_length_bits"]["bic"].is_null());
    }
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("separable") && notes.contains("Laplace"),
        "{notes}"
    );
}
