//! `occam fit` and `occam datasets` through the real binary: cli.md's JSON contract, every output
//! format, the built-in data from any directory, original-unit weights, and every prior centre
//! kind of math.md §6.

mod common;

use common::{
    arg, assert_no_panic, assert_success, close, diabetes_csv, fit_json, number, numbers, occam,
    occam_in, read_numeric_csv, write_file,
};
use serde_json::Value;

const FORMATS: [&str; 5] = ["table", "json", "md", "tex", "csv"];
const BUILTINS: [&str; 3] = ["diabetes", "breast_cancer", "iris"];

/// Fixed prior and noise sds. γ = Σ βλᵢ/(α + βλᵢ) does not depend on μ (math.md §3), but with
/// `--noise-sd auto` the fitted β — and so γ — moves with the centre; both are fixed here.
const FIXED_SDS: [&str; 4] = ["--prior-sd", "5", "--noise-sd", "50"];

fn diabetes_fit() -> Value {
    fit_json(&["--data", "diabetes"])
}

// ---------------------------------------------------------------- the JSON contract

#[test]
fn fit_json_has_every_key_of_the_contract() {
    let report = diabetes_fit();
    let required: [(&str, &[&str]); 8] = [
        ("dataset", &["source", "n", "features", "target"]),
        ("model", &["kind", "noise_sd", "noise_sd_fitted"]),
        ("prior", &["center", "sd", "sd_fitted"]),
        (
            "map",
            &[
                "weights",
                "intercept",
                "weights_original",
                "intercept_original",
            ],
        ),
        (
            "evidence",
            &[
                "log_nats",
                "method",
                "effective_parameters",
                "symmetry_log_nats",
            ],
        ),
        (
            "code_length_bits",
            &["mixture", "prequential", "two_part", "bic"],
        ),
        ("diagnostics", &[]),
        ("notes", &[]),
    ];
    assert_eq!(report["schema"], 1, "schema");
    for (group, keys) in required {
        let object = report
            .get(group)
            .unwrap_or_else(|| panic!("missing key '{group}'"));
        for key in keys {
            assert!(
                object.get(key).is_some(),
                "missing key '{group}.{key}' in {object}"
            );
        }
    }
    assert!(
        report["diagnostics"].is_object(),
        "diagnostics is an object"
    );
    assert!(report["notes"].is_array(), "notes is an array");
}

#[test]
fn fit_json_describes_diabetes_with_442_rows_and_10_weights() {
    let report = diabetes_fit();
    assert_eq!(report["dataset"]["source"], "builtin:diabetes");
    assert_eq!(report["dataset"]["n"], 442);
    assert_eq!(report["dataset"]["target"], "progression");
    assert_eq!(report["dataset"]["features"].as_array().unwrap().len(), 10);
    assert_eq!(report["model"]["kind"], "linear");
    assert_eq!(report["evidence"]["method"], "exact");
    assert_eq!(numbers(&report["map"]["weights"]).len(), 10);
    assert_eq!(numbers(&report["map"]["weights_original"]).len(), 10);
    assert_eq!(numbers(&report["prior"]["center_values"]).len(), 10);
}

#[test]
fn null_code_lengths_come_with_a_note() {
    // cli.md: a quantity that is not defined is null, with the reason in notes.
    let report = diabetes_fit();
    let nulls: Vec<&String> = report["code_length_bits"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| k)
        .collect();
    if !nulls.is_empty() {
        assert!(
            !report["notes"].as_array().unwrap().is_empty(),
            "code lengths {nulls:?} are null with no note"
        );
    }
}

#[test]
fn standardised_intercept_is_the_mean_of_the_target() {
    let (header, rows) = read_numeric_csv(&diabetes_csv());
    assert_eq!(header.last().map(String::as_str), Some("progression"));
    let mean_y = rows.iter().map(|r| r[r.len() - 1]).sum::<f64>() / rows.len() as f64;
    let intercept = number(&diabetes_fit()["map"]["intercept"]);
    assert!(
        close(intercept, mean_y, 1e-12),
        "intercept {intercept} vs mean(y) {mean_y}"
    );
}

#[test]
fn original_unit_weights_reproduce_the_standardised_predictions() {
    let report = diabetes_fit();
    let map = &report["map"];
    let (w, b) = (numbers(&map["weights"]), number(&map["intercept"]));
    let (w_orig, b_orig) = (
        numbers(&map["weights_original"]),
        number(&map["intercept_original"]),
    );

    let (_, rows) = read_numeric_csv(&diabetes_csv());
    let (n, k) = (rows.len() as f64, w.len());
    let mean: Vec<f64> = (0..k)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    // The population sd (divide by n), as math.md §1 says.
    let sd: Vec<f64> = (0..k)
        .map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
        .collect();

    for i in [0, 1, 2, 100, 441] {
        let x = &rows[i][..k];
        let original = b_orig + x.iter().zip(&w_orig).map(|(x, w)| x * w).sum::<f64>();
        let standardised = b + (0..k).map(|j| (x[j] - mean[j]) / sd[j] * w[j]).sum::<f64>();
        assert!(
            close(original, standardised, 1e-9),
            "row {i}: original units give {original}, standardised {standardised}"
        );
    }
}

#[test]
fn fixed_sds_are_reported_as_given_and_not_fitted() {
    let report = fit_json(&["--data", "diabetes", "--prior-sd", "5", "--noise-sd", "50"]);
    assert_eq!(report["prior"]["sd_fitted"], false);
    assert_eq!(number(&report["prior"]["sd"]), 5.0);
    assert_eq!(report["model"]["noise_sd_fitted"], false);
    assert_eq!(number(&report["model"]["noise_sd"]), 50.0);
}

#[test]
fn default_sds_are_fitted_by_empirical_bayes() {
    let report = diabetes_fit();
    assert_eq!(report["prior"]["sd_fitted"], true);
    assert_eq!(report["model"]["noise_sd_fitted"], true);
    assert!(number(&report["prior"]["sd"]) > 0.0);
    assert!(number(&report["model"]["noise_sd"]) > 0.0);
}

// ---------------------------------------------------------------- formats and determinism

#[test]
fn every_format_succeeds_and_is_byte_identical_across_runs() {
    for format in FORMATS {
        let args = ["fit", "--data", "diabetes", "--format", format];
        let first = assert_success(&args);
        let second = assert_success(&args);
        assert!(!first.is_empty(), "--format {format} printed nothing");
        assert_eq!(first, second, "--format {format} differs between runs");
    }
}

#[test]
fn formats_have_their_own_shape() {
    let run = |format| assert_success(&["fit", "--data", "diabetes", "--format", format]);
    assert!(serde_json::from_str::<Value>(&run("json")).is_ok());
    assert!(run("md").lines().any(|l| l.starts_with('|')));
    assert!(run("tex").contains("\\begin{tabular}"));
    let csv = run("csv");
    let width = csv.lines().next().unwrap().split(',').count();
    assert!(width > 1, "csv header: {csv}");
    assert!(run("table").contains("age"));
}

#[test]
fn builtin_data_works_from_another_working_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = occam_in(
        elsewhere.path(),
        &["fit", "--data", "diabetes", "--format", "json"],
    );
    assert_no_panic(code, &stderr);
    assert_eq!(code, 0, "{stderr}");
    let here = assert_success(&["fit", "--data", "diabetes", "--format", "json"]);
    assert_eq!(stdout, here);
}

#[test]
fn data_path_gives_the_same_numbers_as_the_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("diabetes_copy.csv");
    std::fs::copy(diabetes_csv(), &copy).unwrap();
    let mut from_file = fit_json(&["--data", arg(&copy)]);
    let mut builtin = diabetes_fit();
    assert_eq!(from_file["dataset"]["source"], arg(&copy));
    from_file["dataset"]["source"] = Value::Null;
    builtin["dataset"]["source"] = Value::Null;
    assert_eq!(from_file, builtin);
}

// ---------------------------------------------------------------- prior centres

/// The first 200 rows of diabetes (header included) in `dir`.
fn first_200_rows(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(diabetes_csv()).unwrap();
    let head: Vec<&str> = text.lines().take(201).collect();
    write_file(dir, "diabetes_200.csv", &(head.join("\n") + "\n"))
}

/// Every centre kind of math.md §6 that works on real data, as specs (files written in `dir`).
fn every_centre(dir: &std::path::Path) -> Vec<String> {
    let json = write_file(
        dir,
        "centre.json",
        "[0.5, -1, 2, 0, 0.25, 3, -2, 1, 4, -0.5]",
    );
    let csv = write_file(
        dir,
        "centre.csv",
        "weight\n1\n2\n3\n4\n5\n-1\n-2\n-3\n-4\n-5\n",
    );
    vec![
        "zero".into(),
        "const:1".into(),
        "vec:1,2,3,4,5,6,7,8,9,10".into(),
        format!("file:{}", arg(&json)),
        format!("file:{}", arg(&csv)),
        "sha256:occam".into(),
        "sha256:occam:2".into(),
        format!("fit:{}", arg(&first_200_rows(dir))),
    ]
}

fn fit_with_centre(center: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--data", "diabetes", "--prior-center", center];
    args.extend_from_slice(extra);
    fit_json(&args)
}

#[test]
fn every_centre_kind_fits_diabetes_with_ten_centre_values() {
    let dir = tempfile::tempdir().unwrap();
    for center in every_centre(dir.path()) {
        for extra in [&[][..], &FIXED_SDS[..]] {
            let report = fit_with_centre(&center, extra);
            assert_eq!(
                numbers(&report["prior"]["center_values"]).len(),
                10,
                "{center} {extra:?}"
            );
        }
    }
}

#[test]
fn effective_parameters_do_not_depend_on_the_centre() {
    let dir = tempfile::tempdir().unwrap();
    let gammas: Vec<(String, f64)> = every_centre(dir.path())
        .into_iter()
        .map(|c| {
            let gamma =
                number(&fit_with_centre(&c, &FIXED_SDS)["evidence"]["effective_parameters"]);
            (c, gamma)
        })
        .collect();
    let (_, reference) = &gammas[0];
    for (center, gamma) in &gammas {
        assert_eq!(
            gamma, reference,
            "γ = {gamma} under {center} but {reference} under zero"
        );
    }
}

#[test]
fn log_evidence_differs_between_centres() {
    let dir = tempfile::tempdir().unwrap();
    let evidences: Vec<(String, f64)> = every_centre(dir.path())
        .into_iter()
        .map(|c| {
            let log_nats = number(&fit_with_centre(&c, &FIXED_SDS)["evidence"]["log_nats"]);
            (c, log_nats)
        })
        .collect();
    for (i, (a, ea)) in evidences.iter().enumerate() {
        for (b, eb) in &evidences[i + 1..] {
            assert_ne!(ea, eb, "{a} and {b} give the same log evidence");
        }
    }
}

#[test]
fn const_and_vec_centres_have_the_given_values() {
    let report = fit_with_centre("const:1", &FIXED_SDS);
    assert_eq!(numbers(&report["prior"]["center_values"]), vec![1.0; 10]);
    let report = fit_with_centre("vec:1,2,3,4,5,6,7,8,9,10", &FIXED_SDS);
    let expected: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(numbers(&report["prior"]["center_values"]), expected);
}

#[test]
fn file_centres_read_json_arrays_and_one_column_csv() {
    let dir = tempfile::tempdir().unwrap();
    let json = write_file(
        dir.path(),
        "w.json",
        "[0.5, -1, 2, 0, 0.25, 3, -2, 1, 4, -0.5]",
    );
    let csv = write_file(
        dir.path(),
        "w.csv",
        "weight\n0.5\n-1\n2\n0\n0.25\n3\n-2\n1\n4\n-0.5\n",
    );
    let expected = vec![0.5, -1.0, 2.0, 0.0, 0.25, 3.0, -2.0, 1.0, 4.0, -0.5];
    for path in [json, csv] {
        let report = fit_with_centre(&format!("file:{}", arg(&path)), &FIXED_SDS);
        assert_eq!(
            numbers(&report["prior"]["center_values"]),
            expected,
            "{}",
            path.display()
        );
    }
}

#[test]
fn sha256_centre_is_value_stable_and_scaled() {
    // math.md §6: ChaCha20 seeded with SHA-256(TEXT), coordinates N(0, SCALE²); these digits are
    // pinned in src/prior/center.rs and must never change.
    let pinned = [
        1.3172620337998315,
        -1.7309588123404716,
        -0.14635073860619036,
        0.4985140377779292,
    ];
    let unit = numbers(&fit_with_centre("sha256:occam:1", &FIXED_SDS)["prior"]["center_values"]);
    assert_eq!(&unit[..4], &pinned[..]);
    let doubled = numbers(&fit_with_centre("sha256:occam:2", &FIXED_SDS)["prior"]["center_values"]);
    // Without a scale the coordinates' sd is the prior sd, here fixed at 5.
    let default = numbers(&fit_with_centre("sha256:occam", &FIXED_SDS)["prior"]["center_values"]);
    for j in 0..10 {
        assert!(close(doubled[j], 2.0 * unit[j], 1e-15), "coordinate {j}");
        assert!(close(default[j], 5.0 * unit[j], 1e-15), "coordinate {j}");
    }
}

#[test]
fn fit_centre_is_the_donor_map_in_this_datas_standardisation() {
    let dir = tempfile::tempdir().unwrap();
    let donor_path = first_200_rows(dir.path());
    let donor = fit_json(&["--data", arg(&donor_path)]);
    assert_eq!(donor["dataset"]["n"], 200);
    let donor_original = numbers(&donor["map"]["weights_original"]);

    let center = format!("fit:{}", arg(&donor_path));
    let values = numbers(&fit_with_centre(&center, &FIXED_SDS)["prior"]["center_values"]);

    // Original-unit weights times this data's population sd are weights on this design.
    let (_, rows) = read_numeric_csv(&diabetes_csv());
    let n = rows.len() as f64;
    for j in 0..10 {
        let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
        let sd = (rows.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(
            close(values[j], donor_original[j] * sd, 1e-9),
            "coordinate {j}: {} vs {}",
            values[j],
            donor_original[j] * sd
        );
    }
}

#[test]
fn fit_centre_from_the_coded_rows_is_not_free() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("same_rows.csv");
    std::fs::copy(diabetes_csv(), &copy).unwrap();
    let center = format!("fit:{}", arg(&copy));
    let mut args = vec!["fit", "--data", "diabetes", "--prior-center", &center];
    args.extend(FIXED_SDS);
    args.extend(["--format", "json"]);
    let (code, stdout, stderr) = occam(&args);
    assert_no_panic(code, &stderr);
    if code == 0 {
        let report: Value = serde_json::from_str(&stdout).unwrap();
        let notes = report["notes"].to_string();
        assert!(
            !notes.contains("costs no bits"),
            "a centre fitted on the coded rows is called free: {notes}"
        );
    }
}

// ---------------------------------------------------------------- datasets and help

#[test]
fn datasets_lists_the_three_builtins_in_every_format() {
    for format in FORMATS {
        let stdout = assert_success(&["datasets", "--format", format]);
        for name in BUILTINS {
            // LaTeX escapes the underscore: breast\_cancer.
            let shown = if format == "tex" {
                name.replace('_', "\\_")
            } else {
                name.to_string()
            };
            assert!(
                stdout.contains(&shown),
                "--format {format} does not list {name}:\n{stdout}"
            );
        }
    }
}

#[test]
fn datasets_json_gives_diabetes_n_and_k() {
    let stdout = assert_success(&["datasets", "--format", "json"]);
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    let diabetes = listing["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "diabetes")
        .expect("diabetes is listed");
    assert_eq!(diabetes["n"], 442);
    assert_eq!(diabetes["k"], 10);
}

#[test]
fn help_exits_zero() {
    let stdout = assert_success(&["--help"]);
    assert!(
        stdout.contains("fit") && stdout.contains("datasets"),
        "{stdout}"
    );
}

#[test]
fn fit_help_exits_zero_and_lists_the_shared_flags() {
    let stdout = assert_success(&["fit", "--help"]);
    for flag in [
        "--data",
        "--prior-center",
        "--prior-sd",
        "--format",
        "--out",
    ] {
        assert!(stdout.contains(flag), "fit --help lacks {flag}:\n{stdout}");
    }
}
