//! `--model mlp --task classification` on a target with K ≥ 3 classes: a network with K softmax
//! outputs (math.md §7), end to end through the binary — the JSON shape, the codes, `simulate mlp
//! --classes K` with its truth as a centre, and a default-flag sweep on simulated networks.

mod common;

use common::{
    arg, assert_no_panic, assert_success, assert_usage_error, fit_json, number, numbers, occam,
};
use serde_json::Value;

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn iris_fits_a_network_with_three_softmax_outputs() {
    let report = fit_json(&[
        "--data",
        "iris",
        "--model",
        "mlp",
        "--task",
        "classification",
        "--hidden",
        "3",
        "--prior-sd",
        "1",
        "--shuffle",
        "1",
    ]);
    assert_eq!(report["model"]["kind"], "mlp");
    assert_eq!(strings(&report["model"]["classes"]), ["0", "1", "2"]);
    let layers = report["map"]["layers"].as_array().expect("map.layers");
    assert_eq!(layers.len(), 2);
    let output = &layers[1];
    let rows = output["weights"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "one row per class");
    assert!(
        rows.iter().all(|r| numbers(r).len() == 3),
        "h = 3 inputs each"
    );
    assert_eq!(numbers(&output["bias"]).len(), 3);
    // P = (4 + 1)·3 + (3 + 1)·3.
    assert_eq!(report["evidence"]["parameters"], 27);
    assert_eq!(numbers(&report["map"]["weights"]).len(), 27);
    let bias = numbers(&output["bias"])[0];
    assert_eq!(number(&report["map"]["intercept"]), bias);
    let gamma = number(&report["evidence"]["effective_parameters"]);
    assert!(gamma > 0.0 && gamma < 27.0, "γ = {gamma}");
    let codes = &report["code_length_bits"];
    let uniform = 150.0 * 3f64.log2();
    for code in ["mixture", "prequential"] {
        let bits = number(&codes[code]);
        assert!(bits > 0.0 && bits < uniform, "{code} = {bits}");
    }
    // Mixture = −log₂ evidence (s fixed: nothing charged).
    assert_eq!(
        number(&codes["mixture"]),
        number(&report["evidence"]["bits"])
    );
    assert!(codes["bic"].is_null());
    let notes = strings(&report["notes"]).join("\n");
    assert!(notes.contains("3 softmax outputs"), "{notes}");
    assert!(notes.contains("network 4-3-3"), "{notes}");
    if codes["two_part"].is_null() {
        assert!(
            notes.contains("singular beyond the 4 directions"),
            "{notes}"
        );
    }
    // compare scores softmax networks like any other: one row per prior, the fit's own evidence.
    let table = assert_success(&[
        "compare",
        "--data",
        "iris",
        "--model",
        "mlp",
        "--task",
        "classification",
        "--hidden",
        "3",
        "--sds",
        "1",
        "--codes",
        "none",
    ]);
    assert!(table.contains("3 softmax outputs"), "{table}");
    let fitted = fit_json(&[
        "--data",
        "iris",
        "--model",
        "mlp",
        "--task",
        "classification",
        "--hidden",
        "3",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    let ln_p = format!("{:.3}", number(&fitted["evidence"]["log_nats"]));
    assert!(table.contains(&ln_p), "{ln_p} not in\n{table}");
    // Without --task a three-valued target stays a regression, with the class-label note.
    let regression = fit_json(&[
        "--data",
        "iris",
        "--model",
        "mlp",
        "--hidden",
        "2",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    assert!(regression["model"]["classes"].is_null());
    assert!(strings(&regression["notes"])
        .join("\n")
        .contains("looks like class labels"));
}

#[test]
fn a_simulated_softmax_teacher_is_the_truth_centre() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("net.csv");
    let out = assert_success(&[
        "simulate",
        "mlp",
        "--task",
        "classification",
        "--classes",
        "3",
        "--hidden",
        "4",
        "--n",
        "300",
        "--k",
        "3",
        "--weight-scale",
        "1.5",
        "--seed",
        "5",
        "--out",
        arg(&csv),
    ]);
    assert!(out.contains("3-4-3 tanh network"), "{out}");
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("net.truth.json")).unwrap())
            .unwrap();
    assert_eq!(truth["network"]["outputs"], 3);
    let p = (3 + 1) * 4 + (4 + 1) * 3;
    assert_eq!(numbers(&truth["parameters"]).len(), p);
    let fit = |center: &str| {
        fit_json(&[
            "--data",
            arg(&csv),
            "--model",
            "mlp",
            "--task",
            "classification",
            "--hidden",
            "4",
            "--prior-center",
            center,
            "--prior-sd",
            "1.5",
            "--codes",
            "none",
        ])
    };
    let at_truth = fit("truth");
    assert_eq!(numbers(&at_truth["prior"]["center_values"]).len(), p);
    let at_zero = fit("zero");
    // The teacher was drawn from N(0, 1.5²), and the data from it: centred at the teacher, the
    // prior predicts the labels better.
    assert!(
        number(&at_truth["evidence"]["log_nats"]) > number(&at_zero["evidence"]["log_nats"]),
        "truth {} vs zero {}",
        at_truth["evidence"]["log_nats"],
        at_zero["evidence"]["log_nats"]
    );
    // A teacher of another shape is no centre; --classes needs the classification task.
    let (code, _, stderr) = occam(&[
        "fit",
        "--data",
        arg(&csv),
        "--model",
        "mlp",
        "--task",
        "classification",
        "--hidden",
        "5",
        "--prior-center",
        "truth",
        "--prior-sd",
        "1",
    ]);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--hidden"), "{stderr}");
    assert_usage_error(
        occam(&[
            "simulate",
            "mlp",
            "--classes",
            "3",
            "--out",
            arg(&dir.path().join("r.csv")),
        ]),
        &["--classes", "regression"],
    );
    // The default (--classes 2) is today's binary teacher, byte for byte.
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    assert_success(&[
        "simulate",
        "mlp",
        "--task",
        "classification",
        "--seed",
        "2",
        "--out",
        arg(&a),
    ]);
    assert_success(&[
        "simulate",
        "mlp",
        "--task",
        "classification",
        "--classes",
        "2",
        "--seed",
        "2",
        "--out",
        arg(&b),
    ]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

/// Default flags (hidden 8, tanh, empirical Bayes, every code) on simulated K = 3 networks of
/// several sizes and seeds: every fit finishes, and succeeds or says why (exit 1, no panic).
#[test]
fn default_flags_on_simulated_softmax_networks() {
    let dir = tempfile::tempdir().unwrap();
    for (classes, n, seed) in [("3", "60", "1"), ("3", "200", "2"), ("4", "150", "3")] {
        let csv = dir.path().join(format!("s{classes}-{n}-{seed}.csv"));
        assert_success(&[
            "simulate",
            "mlp",
            "--task",
            "classification",
            "--classes",
            classes,
            "--hidden",
            "4",
            "--n",
            n,
            "--k",
            "3",
            "--seed",
            seed,
            "--out",
            arg(&csv),
        ]);
        let (code, stdout, stderr) = occam(&[
            "fit",
            "--data",
            arg(&csv),
            "--model",
            "mlp",
            "--task",
            "classification",
        ]);
        assert_no_panic(code, &stderr);
        assert!(
            code == 0 || code == 1,
            "{classes} classes, {n} rows: exit {code}\n{stderr}"
        );
        if code == 0 {
            assert!(stdout.contains("log evidence (nats)"), "{stdout}");
            assert!(stdout.contains("softmax outputs"), "{stdout}");
        } else {
            assert!(stderr.contains("error"), "a failure says why: {stderr}");
        }
    }
}

/// `--task classification` on a continuous target is refused before any fitting, as the
/// linear-softmax model refuses it (no network with 214 softmax outputs), naming the fix.
#[test]
fn continuous_targets_are_not_network_classes() {
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            "diabetes",
            "--model",
            "mlp",
            "--task",
            "classification",
        ]),
        &["214 distinct values", "--task regression", "--target"],
    );
}
