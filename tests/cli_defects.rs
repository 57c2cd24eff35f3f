//! The "smaller defects" of issue 14, each driven through the real binary: text target labels,
//! one range check on every route into a number, `convert` at the ends of the double range,
//! `--sds` lists, missing cells, one-row files, `file:` of a truth file and class-like regression
//! targets.

mod common;

use common::*;

/// `occam fit --model logistic --codes none` of a CSV, as JSON.
fn logistic_fit(path: &std::path::Path) -> serde_json::Value {
    fit_json(&[
        "--data",
        arg(path),
        "--model",
        "logistic",
        "--codes",
        "none",
    ])
}

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
    let with_text = logistic_fit(&text);
    let with_numbers = logistic_fit(&numeric);
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
    let flipped = logistic_fit(&reversed);
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

    // Three labels are the multinomial model (math.md §7), its classes named by their labels.
    let three = write_file(dir.path(), "three.csv", "a,y\n1,cat\n2,dog\n3,emu\n4,cat\n");
    let multinomial = fit_json(&[
        "--data",
        arg(&three),
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert_eq!(
        multinomial["model"]["classes"],
        serde_json::json!(["cat", "dog", "emu"])
    );
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

/// The number of rows `compare --data diabetes --sds SDS EXTRA…` prints (it must succeed).
fn compare_rows(sds: &str, extra: &[&str]) -> usize {
    let mut args = vec![
        "compare", "--data", "diabetes", "--sds", sds, "--codes", "none",
    ];
    args.extend(extra);
    args.extend(["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&assert_success(&args)).unwrap();
    json["rows"].as_array().map_or(0, Vec::len)
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
    let sim = dir.path().join("sim.csv");
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
        (
            vec![
                "simulate",
                "linear",
                "--weight-scale",
                "1e300",
                "--out",
                arg(&sim),
            ],
            &["--weight-scale", "'1e300'", "or 0 for none"],
        ),
        (
            vec![
                "simulate",
                "mlp",
                "--weight-center",
                "1e308",
                "--out",
                arg(&sim),
            ],
            &["--weight-center", "1e308"],
        ),
        (
            vec!["convert", "--from", "prior-sd", "--value=-1e300"],
            &["--value", "'-1e300'"],
        ),
    ];
    for (args, needles) in cases {
        let stderr = assert_usage_error(occam(&args), needles);
        assert_compact(&stderr);
        assert!(!stderr.contains("interpolates"), "{args:?}: {stderr}");
    }
    assert!(!out.exists() && !sim.exists());
    // The ends of the range are accepted by every route alike.
    assert_eq!(
        compare_rows("logspace:-150:-150:1,1e150", &["--noise-sd", "50"]),
        2
    );
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
    assert_eq!(compare_rows("0.5,logspace:0:1:2", &[]), 3);
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

/// A wide CSV (n rows, k features) of deterministic pseudo-random values; the target is
/// `signal` times the first feature plus noise.
fn wide_csv(n: usize, k: usize, seed: u64, signal: f64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64 - 0.5
    };
    let mut text = (0..k)
        .map(|j| format!("x{j}"))
        .collect::<Vec<_>>()
        .join(",")
        + ",y\n";
    for _ in 0..n {
        let row: Vec<f64> = (0..k).map(|_| uniform()).collect();
        let y = signal * row[0] + uniform();
        for v in &row {
            text += &format!("{v:.6},");
        }
        text += &format!("{y:.6}\n");
    }
    text
}

#[test]
fn wide_data_match_the_nxn_gaussian_form_and_fail_alike_when_they_interpolate() {
    use nalgebra::{DMatrix, DVector};
    let dir = tempfile::tempdir().unwrap();
    let (n, k) = (40, 300);
    let path = write_file(dir.path(), "wide.csv", &wide_csv(n, k, 7, 3.0));
    let (s, sigma) = (0.05, 0.4);
    let (s_text, sigma_text) = (s.to_string(), sigma.to_string());
    let fixed_fit = |more: &[&str]| {
        let mut args = vec![
            "--data",
            arg(&path),
            "--prior-sd",
            &s_text,
            "--noise-sd",
            &sigma_text,
        ];
        args.extend_from_slice(more);
        fit_json(&args)
    };
    let fit = fixed_fit(&["--codes", "none"]);
    // Independently: z-score the columns (population sd), centre y, and evaluate
    // ln N(y; 0, σ²I + s²ZZᵀ) with an n × n Cholesky factorisation (math.md §3).
    let (_, rows) = read_numeric_csv(&path);
    let mut z = DMatrix::from_fn(n, k, |i, j| rows[i][j]);
    for j in 0..k {
        let mean = z.column(j).mean();
        let sd = (z.column(j).map(|v| (v - mean).powi(2)).sum() / n as f64).sqrt();
        z.column_mut(j).apply(|v| *v = (*v - mean) / sd);
    }
    let mut y = DVector::from_fn(n, |i, _| rows[i][k]);
    let mean = y.mean();
    y.add_scalar_mut(-mean);
    let cov = DMatrix::identity(n, n) * sigma * sigma + &z * z.transpose() * (s * s);
    let chol = cov.cholesky().expect("positive definite");
    let solved = chol.solve(&y);
    let log_det: f64 = 2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
    let expected = -0.5 * (n as f64 * (2.0 * std::f64::consts::PI).ln() + log_det + y.dot(&solved));
    let log_evidence = number(&fit["evidence"]["log_nats"]);
    assert!(
        close(log_evidence, expected, 1e-9),
        "{log_evidence} vs {expected}"
    );
    // The MAP m = s²Zᵀ(σ²I + s²ZZᵀ)⁻¹y, and the posterior sds from the n × n form:
    // var(wⱼ) = s² − s⁴ zⱼᵀ(σ²I + s²ZZᵀ)⁻¹zⱼ.
    let map = z.transpose() * &solved * (s * s);
    let weights = numbers(&fit["map"]["weights"]);
    let scale = map.amax();
    assert!(weights
        .iter()
        .zip(map.iter())
        .all(|(a, b)| (a - b).abs() <= 1e-9 * scale));
    assert!(fit["notes"]
        .to_string()
        .contains("optimizer check: not run on the n × n route"));
    let sds = numbers(&fit["map"]["posterior_sd"]);
    for j in [0, 1, k - 1] {
        let zj = z.column(j).clone_owned();
        let var = s * s - s.powi(4) * zj.dot(&chol.solve(&zj));
        assert!(
            close(sds[j], var.sqrt(), 1e-8),
            "sd {j}: {} vs {}",
            sds[j],
            var.sqrt()
        );
    }

    // γ = tr(s²ZZᵀC⁻¹) = n − σ² tr(C⁻¹), C = σ²I + s²ZZᵀ.
    let gamma = n as f64 - sigma * sigma * chol.inverse().trace();
    let reported = number(&fit["evidence"]["effective_parameters"]);
    assert!(close(reported, gamma, 1e-9), "γ {reported} vs {gamma}");
    // Every code on the n × n route: with s and σ fixed, nothing is charged, the mixture code is
    // −log₂ of the evidence above, and the prequential blocks (each prefix from a leading block
    // of the one Gram matrix) sum to it by the chain rule; two_part and BIC are undefined (n ≤ k).
    let coded = fixed_fit(&["--codes", "all"]);
    let codes = &coded["code_length_bits"];
    let mixture = -expected / std::f64::consts::LN_2;
    assert!(close(number(&codes["mixture"]), mixture, 1e-9), "{codes}");
    assert!(
        close(number(&codes["prequential"]), mixture, 1e-9),
        "{codes}"
    );
    assert!(
        codes["two_part"].is_null() && codes["bic"].is_null(),
        "{codes}"
    );
    for order in [&[][..], &["--shuffle", "5"]] {
        let mut args = vec!["--codes", "prequential", "--first-block", "3"];
        args.extend_from_slice(order);
        let prequential = number(&fixed_fit(&args)["code_length_bits"]["prequential"]);
        assert!(
            close(prequential, mixture, 1e-9),
            "{prequential} vs {mixture}"
        );
    }

    // Pure noise at two widths: the features fit any target, so σ → 0 — the same exit 1 and
    // message for both, with the fix; a fixed σ fits both.
    for width in [300, 600] {
        let noise = write_file(dir.path(), "noise.csv", &wide_csv(n, width, 11, 0.0));
        let (code, stdout, stderr) = occam(&["fit", "--data", arg(&noise), "--codes", "none"]);
        assert_no_panic(code, &stderr);
        assert_eq!(code, 1, "{width}: {stdout}{stderr}");
        assert!(
            stderr.contains("interpolates")
                && stderr.contains(&format!("{n} rows and {width} features of rank {}", n - 1))
                && stderr.contains("--noise-sd"),
            "{stderr}"
        );
        assert_success(&[
            "fit",
            "--data",
            arg(&noise),
            "--noise-sd",
            "0.2",
            "--codes",
            "none",
        ]);
    }
}
