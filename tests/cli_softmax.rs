//! `--model logistic` on a target with K ≥ 3 classes: the multinomial (linear-softmax) model of
//! math.md §7, end to end through the binary — targets and class order, the JSON shape, the
//! scikit-learn golden through the command line, centres, `compare`, `run`, `simulate --classes`
//! and a default-flag sweep on simulated data.

mod common;

use common::{
    arg, assert_success, assert_usage_error, close, fit_json, number, numbers, occam, temp_csv,
    write_file,
};
use serde_json::Value;

/// A K × k matrix of a JSON report.
fn matrix(value: &Value) -> Vec<Vec<f64>> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a nested array, got {value}"))
        .iter()
        .map(numbers)
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn golden() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/sklearn_softmax.json"
    ))
    .expect("golden file present");
    serde_json::from_str(&text).expect("golden JSON")
}

#[test]
fn iris_is_a_three_class_fit_with_evidence_and_codes() {
    let report = fit_json(&["--data", "iris", "--model", "logistic"]);
    assert_eq!(report["model"]["kind"], "logistic");
    assert_eq!(strings(&report["model"]["classes"]), ["0", "1", "2"]);
    assert!(report["model"].get("target_mapping").is_none());
    let map = &report["map"];
    for key in [
        "weights",
        "weights_original",
        "posterior_sd",
        "posterior_sd_original",
    ] {
        let m = matrix(&map[key]);
        assert_eq!(m.len(), 3, "{key}: one row per class");
        assert!(m.iter().all(|row| row.len() == 4), "{key}: k columns");
    }
    for key in ["intercept", "intercept_original", "intercept_posterior_sd"] {
        assert_eq!(numbers(&map[key]).len(), 3, "{key}: one per class");
    }
    assert_eq!(report["evidence"]["parameters"], 15);
    assert!(number(&report["evidence"]["log_nats"]).is_finite());
    let gamma = number(&report["evidence"]["effective_parameters"]);
    assert!(gamma > 0.0 && gamma < 15.0, "γ = {gamma}");
    assert!(report["prior"]["sd_fitted"].as_bool().unwrap());
    let codes = &report["code_length_bits"];
    for code in ["mixture", "prequential", "two_part"] {
        assert!(number(&codes[code]).is_finite(), "{code}");
    }
    // Mixture = −log₂ evidence + the ½ log₂ n charge for ŝ.
    let charge = 0.5 * 150f64.log2();
    assert!(close(
        number(&codes["mixture"]),
        number(&report["evidence"]["bits"]) + charge,
        1e-12
    ));
    // setosa (class 0) is linearly separable from the rest: no ML estimate, so no bic.
    assert!(codes["bic"].is_null());
    let notes = strings(&report["notes"]).join("\n");
    assert!(notes.contains("class 0 is linearly separable"), "{notes}");
    assert!(number(&report["diagnostics"]["training_accuracy"]) > 0.95);

    let text = assert_success(&["fit", "--data", "iris", "--model", "logistic"]);
    assert!(text.contains("classes                  3 (multinomial): 0 = 0, 1 = 1, 2 = 2"));
    assert!(text.contains("log evidence (nats)"));
    assert!(text.contains("2:(intercept)"));
    for format in ["md", "tex", "csv"] {
        let out = assert_success(&[
            "fit",
            "--data",
            "iris",
            "--model",
            "logistic",
            "--prior-sd",
            "1",
            "--codes",
            "none",
            "--format",
            format,
        ]);
        assert!(out.contains("2:petal"), "{format}:\n{out}");
    }
}

/// The MAP through the command line against scikit-learn's multinomial LogisticRegression at
/// C = s² (every parameter penalised = the shared intercept), and the original-unit weights
/// against the golden file's own (numpy) means and sds.
#[test]
fn the_map_agrees_with_scikit_learn_through_the_command_line() {
    let g = golden();
    let (mean, sd) = (numbers(&g["x_mean"]), numbers(&g["x_sd"]));
    for fit in g["fits"].as_array().unwrap() {
        let s = number(&fit["prior_sd"]).to_string();
        let report = fit_json(&[
            "--data",
            "iris",
            "--model",
            "logistic",
            "--prior-sd",
            &s,
            "--codes",
            "none",
        ]);
        let coef = matrix(&fit["coef"]);
        let weights = matrix(&report["map"]["weights"]);
        let intercept = numbers(&report["map"]["intercept"]);
        let largest = coef.iter().flatten().fold(0.0f64, |a, v| a.max(v.abs()));
        let mut worst = 0.0f64;
        for c in 0..3 {
            for j in 0..4 {
                worst = worst.max((weights[c][j] - coef[c][j]).abs());
            }
            worst = worst.max((intercept[c] - coef[c][4]).abs());
        }
        assert!(worst <= 1e-7 * largest, "s = {s}: {worst:e} of {largest}");
        let original = matrix(&report["map"]["weights_original"]);
        let intercept_original = numbers(&report["map"]["intercept_original"]);
        for c in 0..3 {
            let mut b = intercept[c];
            for j in 0..4 {
                assert!(close(original[c][j], weights[c][j] / sd[j], 1e-10));
                b -= weights[c][j] * mean[j] / sd[j];
            }
            assert!(close(intercept_original[c], b, 1e-10));
        }
    }
}

#[test]
fn text_labels_sort_lexicographically_and_numbers_numerically() {
    let mut text = String::from("a,b,label,code\n");
    for i in 0..60 {
        let (label, code) = [("cat", 10), ("ant", 2), ("bee", 3)][i % 3];
        let a = ((i * 37) % 17) as f64 / 4.0 - 2.0 + if label == "cat" { 1.5 } else { 0.0 };
        let b = ((i * 11) % 13) as f64 / 3.0 - 2.0 + if label == "ant" { 1.5 } else { 0.0 };
        text.push_str(&format!("{a},{b},{label},{code}\n"));
    }
    let (_dir, path) = temp_csv("labels.csv", &text);
    let by_label = fit_json(&[
        "--data",
        arg(&path),
        "--target",
        "label",
        "--exclude",
        "code",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert_eq!(
        strings(&by_label["model"]["classes"]),
        ["ant", "bee", "cat"]
    );
    let by_code = fit_json(&[
        "--data",
        arg(&path),
        "--target",
        "code",
        "--exclude",
        "label",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert_eq!(strings(&by_code["model"]["classes"]), ["2", "3", "10"]);
    // The same classes in the same order (ant = 2, bee = 3, cat = 10): the same fit.
    assert_eq!(by_label["map"]["weights"], by_code["map"]["weights"]);
    assert_eq!(by_label["evidence"], by_code["evidence"]);
    let table = assert_success(&[
        "fit",
        "--data",
        arg(&path),
        "--target",
        "label",
        "--exclude",
        "code",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert!(table.contains("0 = ant, 1 = bee, 2 = cat"), "{table}");

    // Two labels stay with the binary model.
    let two: String = text
        .lines()
        .filter(|l| !l.contains("bee"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (_dir2, path2) = temp_csv("two.csv", &two);
    let binary = fit_json(&[
        "--data",
        arg(&path2),
        "--target",
        "label",
        "--exclude",
        "code",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert!(binary["map"]["intercept"].is_number());
    assert!(binary["model"]["target_mapping"].is_object());
    assert_eq!(strings(&binary["model"]["classes"]), ["ant", "cat"]);
}

/// The prequential code by another route: iris reordered so that its odd rows come first, two
/// blocks of 75 at a fixed s on raw features — block 0 at θ = 0 costs 75·log₂ 3 bits exactly, and
/// block 1 is −log₂ p(even rows | the MAP of `fit` on the odd rows alone), computed here.
#[test]
fn the_prequential_code_is_the_blocks_log_loss() {
    let iris =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv")).unwrap();
    let mut lines = iris.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let odd: Vec<&str> = rows.iter().skip(1).step_by(2).copied().collect();
    let even: Vec<&str> = rows.iter().step_by(2).copied().collect();
    let dir = tempfile::tempdir().unwrap();
    let both = write_file(
        dir.path(),
        "both.csv",
        &format!("{header}\n{}\n{}\n", odd.join("\n"), even.join("\n")),
    );
    let first = write_file(
        dir.path(),
        "odd.csv",
        &format!("{header}\n{}\n", odd.join("\n")),
    );
    let flags = ["--model", "logistic", "--prior-sd", "1", "--no-standardize"];
    let mut args = vec!["--data", arg(&both), "--first-block", "75"];
    args.extend(flags);
    let coded = fit_json(&args);
    let mut args = vec!["--data", arg(&first), "--codes", "none"];
    args.extend(flags);
    let prefix = fit_json(&args);
    let (w, b) = (
        matrix(&prefix["map"]["weights"]),
        numbers(&prefix["map"]["intercept"]),
    );
    let mut bits = 75.0 * 3f64.log2();
    for line in &even {
        let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        let eta: Vec<f64> = (0..3)
            .map(|c| b[c] + (0..4).map(|j| w[c][j] * v[j]).sum::<f64>())
            .collect();
        let top = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = top + eta.iter().map(|e| (e - top).exp()).sum::<f64>().ln();
        bits += (lse - eta[v[4] as usize]) / std::f64::consts::LN_2;
    }
    let prequential = number(&coded["code_length_bits"]["prequential"]);
    assert!(close(prequential, bits, 1e-8), "{prequential} vs {bits}");
}

/// A numeric target that does not look like class labels is refused before any fitting: more than
/// 100 distinct values (diabetes' 214), or a value that is not a whole number.
#[test]
fn continuous_targets_are_not_classes() {
    assert_usage_error(
        occam(&["fit", "--data", "diabetes", "--model", "logistic"]),
        &["214 distinct values", "--model linear", "--target"],
    );
    let (_dir, path) = temp_csv("frac.csv", "a,y\n1,0.5\n2,1.5\n3,2.5\n4,0.5\n");
    assert_usage_error(
        occam(&["fit", "--data", arg(&path), "--model", "logistic"]),
        &["not whole numbers (e.g. 0.5)", "--model linear"],
    );
}

#[test]
fn the_intercept_treatments() {
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            "iris",
            "--model",
            "logistic",
            "--intercept",
            "free",
        ]),
        &[
            "--intercept",
            "'free' is not identifiable with 3 classes",
            "shared",
        ],
    );
    let prior = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--intercept",
        "prior:3",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    assert_eq!(prior["evidence"]["parameters"], 15);
    assert_eq!(numbers(&prior["prior"]["center_values"]).len(), 12);
    let none = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--intercept",
        "none",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    assert_eq!(none["evidence"]["parameters"], 12);
    assert!(none["map"].get("intercept_posterior_sd").is_none());
    assert_eq!(numbers(&none["map"]["intercept"]), [0.0, 0.0, 0.0]);
    // prior:SD with SD = s puts the intercepts under the same prior as `shared` with a zero
    // centre: the same fit by another route through the options.
    let same = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--intercept",
        "prior:1",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    let shared = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    assert!(close(
        number(&same["evidence"]["log_nats"]),
        number(&shared["evidence"]["log_nats"]),
        1e-12
    ));
}

#[test]
fn centres_cover_k_times_k_plus_one_parameters_in_class_major_order() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..15).map(|i| (i as f64 - 7.0) / 10.0).collect();
    let flat = serde_json::to_string(&values).unwrap();
    let nested = serde_json::to_string(&values.chunks(5).collect::<Vec<_>>()).unwrap();
    let flat_path = write_file(dir.path(), "flat.json", &flat);
    let nested_path = write_file(dir.path(), "nested.json", &nested);
    let base = [
        "--data",
        "iris",
        "--model",
        "logistic",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ];
    let run = |center: &str| {
        let mut args = base.to_vec();
        args.extend(["--prior-center", center]);
        fit_json(&args)
    };
    let from_flat = run(&format!("file:{}", arg(&flat_path)));
    let from_nested = run(&format!("file:{}", arg(&nested_path)));
    let vec = run(&format!(
        "vec:{}",
        values
            .iter()
            .map(f64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    ));
    assert_eq!(numbers(&from_flat["prior"]["center_values"]), values);
    assert_eq!(from_flat["evidence"], from_nested["evidence"]);
    assert_eq!(from_flat["evidence"], vec["evidence"]);
    assert_eq!(run("const:0")["evidence"], run("zero")["evidence"]);
    // A centre that moves every class's parameters alike (const:c: the structural direction
    // 1_K ⊗ c·1) changes no probability, and the prior on the differences θ_c − θ_d is the same:
    // the evidence is unchanged, and the MAP moves by exactly c in every coordinate.
    let shifted = run("const:0.3");
    let zero = run("zero");
    assert!(close(
        number(&shifted["evidence"]["log_nats"]),
        number(&zero["evidence"]["log_nats"]),
        1e-9
    ));
    let (a, b) = (
        matrix(&shifted["map"]["weights"]),
        matrix(&zero["map"]["weights"]),
    );
    for (ra, rb) in a.iter().zip(&b) {
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y - 0.3).abs() < 1e-6, "{x} − {y}");
        }
    }
    // A centre of the wrong length names the count and the order.
    let mut args = vec!["fit"];
    args.extend(base);
    args.extend(["--prior-center", "vec:1,2,3"]);
    assert_usage_error(occam(&args), &["--prior-center", "15", "0:sepal_length"]);
    let ragged = write_file(dir.path(), "ragged.json", "[[1,2,3,4,5],[1,2,3,4]]");
    let mut args = vec!["fit"];
    args.extend(base);
    let center = format!("file:{}", arg(&ragged));
    args.extend(["--prior-center", &center]);
    assert_usage_error(occam(&args), &["--prior-center", "rectangular"]);
}

/// `fit:PATH` on the same rows: the donor's zero-centred empirical-Bayes MAP, mapped through
/// original units into this (identical) standardisation, is this data's own such MAP; and since
/// the rows are shared, all K(k + 1) coordinates are charged.
#[test]
fn a_fit_centre_is_the_donors_map_in_this_standardisation() {
    let iris = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let own = fit_json(&["--data", "iris", "--model", "logistic", "--codes", "none"]);
    let centre = format!("fit:{iris}");
    let fitted = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--prior-center",
        &centre,
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    let values = numbers(&fitted["prior"]["center_values"]);
    let weights = matrix(&own["map"]["weights"]);
    let intercept = numbers(&own["map"]["intercept"]);
    assert_eq!(values.len(), 15);
    for c in 0..3 {
        for j in 0..4 {
            assert!(close(values[c * 5 + j], weights[c][j], 1e-9), "({c}, {j})");
        }
        assert!(
            close(values[c * 5 + 4], intercept[c], 1e-9),
            "intercept {c}"
        );
    }
    let notes = strings(&fitted["notes"]).join("\n");
    assert!(notes.contains("its 15 coordinates are charged"), "{notes}");
}

/// `simulate logistic --classes K` writes K weight vectors; `truth` maps them into the data's
/// standardisation (checked here from the CSV's own means and sds), and the truth centre beats
/// the zero centre at the same s.
#[test]
fn simulated_classes_and_the_truth_centre() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sim.csv");
    let out = assert_success(&[
        "simulate",
        "logistic",
        "--classes",
        "3",
        "--n",
        "400",
        "--k",
        "3",
        "--intercept",
        "0.5",
        "--seed",
        "4",
        "--out",
        arg(&csv),
    ]);
    assert!(out.contains("3 classes"));
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sim.truth.json")).unwrap())
            .unwrap();
    let weights = matrix(&truth["classes"]["weights"]);
    assert_eq!(weights.len(), 3);
    assert_eq!(numbers(&truth["classes"]["intercepts"]), [0.5, 0.5, 0.5]);
    assert_eq!(numbers(&truth["parameters"]).len(), 12);
    let (_, rows) = common::read_numeric_csv(&csv);
    let labels: Vec<f64> = rows.iter().map(|r| r[3]).collect();
    for c in 0..3 {
        assert!(
            labels.iter().filter(|&&y| y == c as f64).count() > 40,
            "class {c} drawn"
        );
    }
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..3)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let sd: Vec<f64> = (0..3)
        .map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
        .collect();
    let fit = |center: &str| {
        fit_json(&[
            "--data",
            arg(&csv),
            "--model",
            "logistic",
            "--prior-center",
            center,
            "--prior-sd",
            "0.5",
            "--codes",
            "mixture",
        ])
    };
    let at_truth = fit("truth");
    let center = numbers(&at_truth["prior"]["center_values"]);
    for c in 0..3 {
        for j in 0..3 {
            assert!(close(center[c * 4 + j], weights[c][j] * sd[j], 1e-9));
        }
        let b = 0.5 + (0..3).map(|j| weights[c][j] * mean[j]).sum::<f64>();
        assert!(close(center[c * 4 + 3], b, 1e-9));
    }
    let at_zero = fit("zero");
    assert!(number(&at_truth["evidence"]["log_nats"]) > number(&at_zero["evidence"]["log_nats"]));
    // The default is the binary teacher, byte for byte; other teachers refuse --classes.
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    assert_success(&["simulate", "logistic", "--seed", "2", "--out", arg(&a)]);
    assert_success(&[
        "simulate",
        "logistic",
        "--classes",
        "2",
        "--seed",
        "2",
        "--out",
        arg(&b),
    ]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The same seed gives the same multiclass data and truth, byte for byte.
    let again = dir.path().join("again.csv");
    assert_success(&[
        "simulate",
        "logistic",
        "--classes",
        "3",
        "--n",
        "400",
        "--k",
        "3",
        "--intercept",
        "0.5",
        "--seed",
        "4",
        "--out",
        arg(&again),
    ]);
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&again).unwrap());
    assert_eq!(
        std::fs::read(dir.path().join("sim.truth.json")).unwrap(),
        std::fs::read(dir.path().join("again.truth.json")).unwrap()
    );
    assert_usage_error(
        occam(&[
            "simulate",
            "linear",
            "--classes",
            "3",
            "--out",
            arg(&dir.path().join("c.csv")),
        ]),
        &["--classes", "logistic"],
    );
    // A binary truth is no centre for three classes.
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            arg(&csv),
            "--model",
            "logistic",
            "--prior-center",
            &format!("file:{}", arg(&dir.path().join("a.truth.json"))),
            "--prior-sd",
            "1",
        ]),
        &["--prior-center", "12"],
    );
}

#[test]
fn compare_rows_equal_their_fits() {
    let stdout = assert_success(&[
        "compare", "--data", "iris", "--model", "logistic", "--sds", "0.5,3", "--format", "json",
    ]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(strings(&report["model"]["classes"]), ["0", "1", "2"]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let s = number(&row["prior"]["sd"]).to_string();
        let fit = fit_json(&["--data", "iris", "--model", "logistic", "--prior-sd", &s]);
        assert_eq!(row["evidence"], fit["evidence"], "s = {s}");
        assert_eq!(row["code_length_bits"], fit["code_length_bits"], "s = {s}");
    }
}

#[test]
fn run_accepts_a_multinomial_study() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write_file(
        dir.path(),
        "iris.toml",
        "title = \"iris\"\n\n[data]\nbuiltin = \"iris\"\n\n[model]\nkind = \"logistic\"\n\n[priors]\ncenters = [\"zero\", \"const:0.1\"]\nsds = [0.5]\n",
    );
    let out = dir.path().join("out");
    assert_success(&["run", arg(&spec), "--out", arg(&out)]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("iris (logistic model, n = 150)"),
        "{report}"
    );
    let fit = fit_json(&[
        "--data",
        "iris",
        "--model",
        "logistic",
        "--prior-sd",
        "0.5",
        "--prior-center",
        "const:0.1",
    ]);
    let mixture = format!("{:.2}", number(&fit["code_length_bits"]["mixture"]));
    assert!(report.contains(&mixture), "{mixture} in\n{report}");
}

#[test]
fn a_regression_on_class_labels_suggests_the_classification_model() {
    let report = fit_json(&["--data", "iris"]);
    let notes = strings(&report["notes"]).join("\n");
    assert!(notes.contains("looks like class labels"), "{notes}");
    assert!(
        notes.contains("--model logistic (the multinomial model"),
        "{notes}"
    );
    let diabetes = fit_json(&["--data", "diabetes"]);
    assert!(!strings(&diabetes["notes"])
        .join("\n")
        .contains("class labels"));
}

/// The distinct values of a simulated CSV's last column (its target).
fn distinct_labels(csv: &std::path::Path) -> usize {
    let (_, rows) = common::read_numeric_csv(csv);
    let mut labels: Vec<f64> = rows.iter().map(|r| r[r.len() - 1]).collect();
    labels.sort_by(f64::total_cmp);
    labels.dedup();
    labels.len()
}

/// Default flags on simulated multiclass data (K = 3 and 5, 60 and 300 rows, several seeds): every
/// fit and compare succeeds, and every class was drawn, so every fit is multinomial.
#[test]
fn default_flags_work_on_simulated_classes() {
    let dir = tempfile::tempdir().unwrap();
    for classes in ["3", "5"] {
        for (n, seed) in [("60", "1"), ("300", "2"), ("300", "3")] {
            let csv = dir.path().join(format!("s{classes}-{n}-{seed}.csv"));
            assert_success(&[
                "simulate",
                "logistic",
                "--classes",
                classes,
                "--n",
                n,
                "--k",
                "3",
                "--seed",
                seed,
                "--out",
                arg(&csv),
            ]);
            for command in [
                vec!["fit", "--data", arg(&csv), "--model", "logistic"],
                vec![
                    "compare",
                    "--data",
                    arg(&csv),
                    "--model",
                    "logistic",
                    "--sds",
                    "0.3,auto",
                ],
            ] {
                let (code, stdout, stderr) = occam(&command);
                common::assert_no_panic(code, &stderr);
                assert_eq!(code, 0, "{command:?}: exit {code}\n{stderr}");
                if code == 0 && command[0] == "fit" {
                    assert!(stdout.contains("log evidence (nats)"), "{stdout}");
                    let drawn = distinct_labels(&csv);
                    assert!(
                        drawn >= 3,
                        "{classes} classes, {n} rows: only {drawn} drawn"
                    );
                    let row = format!("classes                  {drawn} (multinomial)");
                    assert!(stdout.contains(&row), "{stdout}");
                }
            }
        }
    }
}
