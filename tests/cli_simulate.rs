//! `occam simulate` through the real binary: determinism, the truth file, and the round trip
//! simulate → fit → the teacher's parameters.

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

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    for path in [&a, &b] {
        let (code, _, stderr) = occam(&[
            "simulate",
            "linear",
            "--n",
            "50",
            "--k",
            "3",
            "--seed",
            "9",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(
        std::fs::read(dir.path().join("a.truth.json")).unwrap(),
        std::fs::read(dir.path().join("b.truth.json")).unwrap()
    );
}

#[test]
fn a_linear_fit_recovers_the_teacher_and_the_truth_centre_wins() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sim.csv");
    let csv = csv.to_str().unwrap();
    let (code, _, stderr) = occam(&[
        "simulate",
        "linear",
        "--n",
        "2000",
        "--k",
        "4",
        "--seed",
        "4",
        "--noise-sd",
        "0.5",
        "--out",
        csv,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sim.truth.json")).unwrap())
            .unwrap();
    let (code, stdout, stderr) = occam(&["fit", "--data", csv, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fitted = fit["map"]["weights_original"].as_array().unwrap();
    for (w, t) in fitted.iter().zip(truth["weights"].as_array().unwrap()) {
        // Standard error ≈ σ/√n ≈ 0.011; allow 5 of them.
        assert!(
            (w.as_f64().unwrap() - t.as_f64().unwrap()).abs() < 0.06,
            "{w} vs {t}"
        );
    }
    assert!((fit["model"]["noise_sd"].as_f64().unwrap() - 0.5).abs() < 0.03);
    let (code, stdout, stderr) = occam(&[
        "compare",
        "--data",
        csv,
        "--centers",
        "zero;truth;const:1",
        "--sds",
        "0.5",
        "--noise-sd",
        "0.5",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["rows"][0]["prior"]["center"], "truth",
        "the truth centre should give the shortest code"
    );
}

#[test]
fn a_logistic_teacher_works_with_the_logistic_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    let csv = csv.to_str().unwrap();
    let (code, _, stderr) = occam(&[
        "simulate",
        "logistic",
        "--n",
        "400",
        "--k",
        "3",
        "--seed",
        "2",
        "--intercept",
        "0.5",
        "--out",
        csv,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = occam(&[
        "fit",
        "--data",
        csv,
        "--model",
        "logistic",
        "--prior-center",
        "truth",
        "--prior-sd",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(fit["prior"]["center_values"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_simulation_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let out = out.to_str().unwrap();
    for args in [
        vec!["simulate", "linear", "--noise-sd", "-1", "--out", out],
        vec!["simulate", "linear", "--n", "0", "--out", out],
        vec!["simulate", "quadratic", "--out", out],
        vec!["simulate", "linear"],
    ] {
        let (code, _, stderr) = occam(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    assert!(!std::path::Path::new(out).exists());
    let (code, _, stderr) = occam(&["fit", "--data", "diabetes", "--prior-center", "truth"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("simulate"), "{stderr}");
}
