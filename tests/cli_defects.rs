//! The "smaller defects" of issue 14, each driven through the real binary: text target labels,
//! one range check on every route into a number, `convert` at the ends of the double range,
//! `--sds` lists, missing cells, one-row files, `file:` of a truth file and class-like regression
//! targets.

mod common;

use common::*;

/// The rows of a small binary problem, the class of each row given by `label(i)`.
fn binary_csv(label: impl Fn(bool) -> &'static str) -> String {
    let mut text = String::from("a,b,y\n");
    for i in 0..40 {
        let a = ((i * 37) % 17) as f64 / 4.0 - 2.0;
        let b = ((i * 11) % 13) as f64 / 3.0 - 2.0;
        // Not separable: the label follows a + b except on every fifth row.
        let positive = (a + b > 0.0) != (i % 5 == 0);
        text += &format!("{a},{b},{}\n", label(positive));
    }
    text
}

#[test]
fn text_labels_map_to_sorted_codes_and_give_the_numeric_fit() {
    let dir = tempfile::tempdir().unwrap();
    let text = write_file(
        dir.path(),
        "text.csv",
        &binary_csv(|p| if p { "yes" } else { "no" }),
    );
    let numeric = write_file(
        dir.path(),
        "numeric.csv",
        &binary_csv(|p| if p { "1" } else { "0" }),
    );
    let with_text = fit_json(&[
        "--data",
        arg(&text),
        "--model",
        "logistic",
        "--codes",
        "none",
    ]);
    let with_numbers = fit_json(&[
        "--data",
        arg(&numeric),
        "--model",
        "logistic",
        "--codes",
        "none",
    ]);
    // "no" < "yes": no ↦ 0, yes ↦ 1, so the fit is the 0/1 file's, number for number.
    assert_eq!(
        with_text["model"]["classes"],
        serde_json::json!(["no", "yes"])
    );
    assert_eq!(
        with_numbers["model"]["classes"],
        serde_json::json!(["0", "1"])
    );
    for path in [
        ["evidence", "log_nats"],
        ["code_length_bits", "mixture"],
        ["prior", "sd"],
    ] {
        assert_eq!(
            with_text[path[0]][path[1]], with_numbers[path[0]][path[1]],
            "{path:?}"
        );
    }
    assert_eq!(with_text["map"]["weights"], with_numbers["map"]["weights"]);
    let table = assert_success(&[
        "fit",
        "--data",
        arg(&text),
        "--model",
        "logistic",
        "--codes",
        "none",
    ]);
    assert!(
        table.contains("target 'y': no ↦ 0, yes ↦ 1 (text labels, in sorted order)"),
        "{table}"
    );

    // Labels sort lexicographically whatever order the rows give them in: "a" < "b".
    let reversed = write_file(
        dir.path(),
        "reversed.csv",
        &binary_csv(|p| if p { "a" } else { "b" }),
    );
    let flipped = fit_json(&[
        "--data",
        arg(&reversed),
        "--model",
        "logistic",
        "--codes",
        "none",
    ]);
    assert_eq!(flipped["model"]["classes"], serde_json::json!(["a", "b"]));
    // a ↦ 0 is the old "yes": the weights change sign, the evidence does not (the prior is
    // symmetric about the zero centre).
    let w = numbers(&flipped["map"]["weights"]);
    let v = numbers(&with_text["map"]["weights"]);
    assert!(
        w.iter().zip(&v).all(|(a, b)| close(*a, -*b, 1e-6)),
        "{w:?} {v:?}"
    );
    assert!(close(
        number(&flipped["evidence"]["log_nats"]),
        number(&with_text["evidence"]["log_nats"]),
        1e-7
    ));

    // A number among labels, and a missing value among labels, are refused with the line.
    let mixed = write_file(dir.path(), "mixed.csv", "a,y\n1,yes\n2,no\n3,4\n");
    assert_usage_error(
        occam(&["fit", "--data", arg(&mixed), "--model", "logistic"]),
        &["line 4", "'y'", "all labels or all numbers"],
    );
    let missing = write_file(dir.path(), "missing.csv", "a,y\n1,yes\n2,NA\n3,no\n");
    assert_usage_error(
        occam(&["fit", "--data", arg(&missing), "--model", "logistic"]),
        &["line 3", "'NA' marks a missing value", "impute"],
    );
}

/// No message echoes a number as a long run of digits.
fn assert_compact(stderr: &str) {
    let longest = stderr
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        longest < 20,
        "a number echoed in {longest} digits:\n{stderr}"
    );
}

#[test]
fn every_route_into_an_sd_or_a_centre_has_the_same_range_check() {
    let dir = tempfile::tempdir().unwrap();
    let huge = write_file(
        dir.path(),
        "huge.json",
        "[1, 1e308, 0, 0, 0, 0, 0, 0, 0, 0]",
    );
    let spec = write_file(
        dir.path(),
        "spec.toml",
        "[data]\nbuiltin = \"diabetes\"\n[priors]\ncenters = [\"zero\"]\nsds = [1, 1e300]\n",
    );
    let out = dir.path().join("out");
    let huge_center = format!("file:{}", arg(&huge));
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["fit", "--data", "diabetes", "--prior-sd", "1e-200"],
            &["--prior-sd", "'1e-200'", "1e-150"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-sd", "1e300"],
            &["--prior-sd", "'1e300'", "1e150"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--noise-sd", "1e300"],
            &["--noise-sd", "'1e300'"],
        ),
        (
            vec!["compare", "--data", "diabetes", "--sds", "1e300"],
            &["--sds", "'1e300'"],
        ),
        (
            vec![
                "compare",
                "--data",
                "diabetes",
                "--sds",
                "logspace:-200:-200:1",
            ],
            &["--sds", "'1e-200'", "1e-150"],
        ),
        (
            vec![
                "compare",
                "--data",
                "diabetes",
                "--sds",
                "logspace:150:300:4",
            ],
            &["--sds", "'1e200'", "point 2"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-center", "const:1e308"],
            &["--prior-center", "1e308", "1e150"],
        ),
        (
            vec![
                "fit",
                "--data",
                "diabetes",
                "--prior-center",
                "vec:1,2,-1e200",
            ],
            &["--prior-center", "-1e200"],
        ),
        (
            vec![
                "fit",
                "--data",
                "diabetes",
                "--prior-center",
                "sha256:x:1e-300",
            ],
            &["--prior-center", "'1e-300'"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-center", &huge_center],
            &["--prior-center", "coordinate 2 is 1e308"],
        ),
        (
            vec![
                "compare",
                "--data",
                "diabetes",
                "--centers",
                "zero;const:-1e300",
            ],
            &["--centers", "-1e300"],
        ),
        (
            vec![
                "fit",
                "--data",
                "breast_cancer",
                "--model",
                "logistic",
                "--intercept",
                "prior:1e-160",
            ],
            &["--intercept", "'1e-160'"],
        ),
        (
            vec!["run", arg(&spec), "--out", arg(&out)],
            &["priors.sds", "'1e300'"],
        ),
    ];
    for (args, needles) in cases {
        let stderr = assert_usage_error(occam(&args), needles);
        assert_compact(&stderr);
        assert!(!stderr.contains("interpolates"), "{args:?}: {stderr}");
    }
    assert!(!out.exists());
    // The ends of the range are accepted by every route alike.
    let inside = assert_success(&[
        "compare",
        "--data",
        "diabetes",
        "--sds",
        "logspace:-150:-150:1,1e150",
        "--codes",
        "none",
        "--noise-sd",
        "50",
        "--format",
        "json",
    ]);
    let rows: serde_json::Value = serde_json::from_str(&inside).unwrap();
    assert_eq!(rows["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn convert_refuses_values_whose_prior_sd_or_equivalents_leave_the_doubles() {
    for (args, needles) in [
        (
            vec!["--from", "prior-sd", "--value", "1e-200"],
            vec!["--value", "1e-150", "1e150"],
        ),
        (
            vec!["--from", "sklearn-logistic", "--value", "1e308"],
            vec!["--value", "s = 1e154", "1e-300", "1e300"],
        ),
        (
            vec![
                "--from",
                "sklearn-ridge",
                "--value",
                "1e-310",
                "--noise-sd",
                "1",
            ],
            vec!["--value"],
        ),
        (
            vec!["--from", "prior-sd", "--value", "1", "--noise-sd", "1e-200"],
            vec!["--noise-sd", "'1e-200'"],
        ),
    ] {
        let mut full = vec!["convert"];
        full.extend(args);
        let stderr = assert_usage_error(occam(&full), &needles);
        assert_compact(&stderr);
    }
    // At the ends, every number printed is a finite non-zero double: s, α = 1/s² and C = s².
    for value in ["1e-150", "1e150"] {
        let out = assert_success(&[
            "convert",
            "--from",
            "prior-sd",
            "--value",
            value,
            "--loss",
            "cross-entropy",
            "--format",
            "json",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let s: f64 = value.parse().unwrap();
        assert_eq!(number(&json["prior_sd"]), s);
        assert!(close(
            number(&json["prior_precision"]),
            1.0 / (s * s),
            1e-12
        ));
        let c = &json["equivalents"][0];
        assert_eq!(c["knob"], "sklearn-logistic");
        assert!(close(number(&c["value"]), s * s, 1e-12));
    }
}

#[test]
fn sds_lists_refuse_empty_and_repeated_entries() {
    assert_usage_error(
        occam(&["compare", "--data", "diabetes", "--sds", "1,,2"]),
        &["--sds", "entry 2", "empty"],
    );
    assert_usage_error(
        occam(&["compare", "--data", "diabetes", "--sds", "1,2,"]),
        &["--sds", "entry 3", "empty"],
    );
    assert_usage_error(
        occam(&["compare", "--data", "diabetes", "--sds", "1,logspace:0:1:2"]),
        &["--sds", "the sd 1 is listed twice", "sds 1 and 2"],
    );
    assert_usage_error(
        occam(&["compare", "--data", "diabetes", "--sds", "auto,0.5,auto"]),
        &["--sds", "the sd auto is listed twice"],
    );
    // Distinct sds give one row each.
    let out = assert_success(&[
        "compare",
        "--data",
        "diabetes",
        "--sds",
        "0.5,logspace:0:1:2",
        "--codes",
        "none",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 3);
}

#[test]
fn missing_and_text_cells_and_single_rows_say_how_to_fix_them() {
    let dir = tempfile::tempdir().unwrap();
    let na = write_file(dir.path(), "na.csv", "a,b,y\n1,2,3\n2,NA,4\n3,1,2\n4,0,1\n");
    assert_usage_error(
        occam(&["fit", "--data", arg(&na)]),
        &[
            "line 3",
            "column 'b'",
            "'NA' marks a missing value",
            "drop the rows",
            "impute",
        ],
    );
    let text = write_file(
        dir.path(),
        "text.csv",
        "a,b,y\n1,2,3\n2,x,4\n3,1,2\n4,0,1\n",
    );
    assert_usage_error(
        occam(&["fit", "--data", arg(&text)]),
        &["line 3", "column 'b'", "--exclude 'b'"],
    );
    let one = write_file(dir.path(), "one.csv", "a,b,y\n1,2,3\n");
    let stderr = assert_usage_error(
        occam(&["fit", "--data", arg(&one)]),
        &["only 1 data row", "at least 2 rows"],
    );
    assert!(!stderr.contains("constant"), "{stderr}");
    assert_usage_error(
        occam(&["fit", "--data", arg(&one), "--model", "mlp"]),
        &["only 1 data row"],
    );
}

#[test]
fn a_truth_file_as_file_centre_is_used_as_given_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    assert_success(&[
        "simulate",
        "linear",
        "--n",
        "60",
        "--k",
        "3",
        "--seed",
        "1",
        "--out",
        arg(&csv),
    ]);
    let truth_path = dir.path().join("s.truth.json");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
    let parameters: Vec<String> = numbers(&truth["parameters"])
        .iter()
        .map(|v| format!("{v:?}"))
        .collect();
    let file_center = format!("file:{}", arg(&truth_path));
    let as_file = fit_json(&["--data", arg(&csv), "--prior-center", &file_center]);
    // Independent route: the same numbers typed as vec: give the same fit, number for number.
    let as_vec = fit_json(&[
        "--data",
        arg(&csv),
        "--prior-center",
        &format!("vec:{}", parameters.join(",")),
    ]);
    assert_eq!(as_file["evidence"], as_vec["evidence"]);
    assert_eq!(as_file["map"]["weights"], as_vec["map"]["weights"]);
    let notes = as_file["notes"].to_string();
    assert!(
        notes.contains("used as they are") && notes.contains("use truth"),
        "{notes}"
    );
    // `truth` maps them into the standardised units: another centre, another evidence, no such note.
    let as_truth = fit_json(&["--data", arg(&csv), "--prior-center", "truth"]);
    assert_ne!(
        as_truth["evidence"]["log_nats"],
        as_file["evidence"]["log_nats"]
    );
    assert!(!as_truth["notes"].to_string().contains("used as they are"));
}

#[test]
fn a_regression_on_class_labels_is_noted() {
    let iris = fit_json(&["--data", "iris", "--codes", "none"]);
    let notes = iris["notes"].to_string();
    assert!(
        notes.contains("target 'species' has only 3 distinct values, all integers (0, 1, 2)")
            && notes.contains("looks like class labels"),
        "{notes}"
    );
    let diabetes = fit_json(&["--data", "diabetes", "--codes", "none"]);
    assert!(!diabetes["notes"].to_string().contains("class labels"));
    let dir = tempfile::tempdir().unwrap();
    let text = write_file(
        dir.path(),
        "t.csv",
        &binary_csv(|p| if p { "yes" } else { "no" }),
    );
    let fit = fit_json(&["--data", arg(&text), "--codes", "none"]);
    assert!(fit["notes"]
        .to_string()
        .contains("holds text labels (no, yes), coded 0…1"));
}

#[test]
fn help_has_no_rustdoc_links_and_says_what_each_model_and_format_does() {
    let commands = [
        "fit", "compare", "convert", "report", "run", "simulate", "datasets",
    ];
    for command in commands {
        let help = assert_success(&[command, "--help"]);
        assert!(
            !help.contains("[`") && !help.contains("`]"),
            "rustdoc link syntax in `occam {command} --help`:\n{help}"
        );
    }
    let fit = assert_success(&["fit", "--help"]);
    let first = fit.lines().next().unwrap_or_default();
    assert!(
        first.contains("exact for linear, Laplace for logistic and mlp"),
        "{first}"
    );
    // The csv line says what each command's CSV holds, and the outputs match it.
    assert!(fit.contains("CSV: fit as group,name,value rows; compare one row per prior"));
    let csv = assert_success(&[
        "fit", "--data", "diabetes", "--codes", "none", "--format", "csv",
    ]);
    assert_eq!(csv.lines().next(), Some("group,name,value"));
    let csv = assert_success(&[
        "compare", "--data", "diabetes", "--sds", "auto,1", "--codes", "none", "--format", "csv",
    ]);
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and one row per prior:\n{csv}"
    );
    let csv = assert_success(&[
        "convert",
        "--from",
        "prior-sd",
        "--value",
        "1",
        "--loss",
        "mse",
        "--noise-sd",
        "1",
        "--n",
        "10",
        "--format",
        "csv",
    ]);
    assert!(csv.starts_with("knob,loss,value,note\n"), "{csv}");
}

#[test]
fn latex_compare_tables_keep_the_eb_markers() {
    let tex = assert_success(&[
        "compare", "--data", "diabetes", "--sds", "auto,1", "--codes", "none", "--format", "tex",
    ]);
    let md = assert_success(&[
        "compare", "--data", "diabetes", "--sds", "auto,1", "--codes", "none", "--format", "md",
    ]);
    // Rows: s fitted and σ fitted, then s fixed and σ fitted — three markers in each format.
    assert_eq!(tex.matches("(EB)").count(), 3, "{tex}");
    assert_eq!(md.matches("(EB)").count(), 3, "{md}");
}
