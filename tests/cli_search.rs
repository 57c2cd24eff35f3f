//! Every search finishes and answers (issue 14): occam's own simulated data sets through `fit`
//! and `compare` with default flags, empirical Bayes checked against fixed-s fits of the same
//! prior, and `compare` rows that are each their prior's own fit whatever else is listed.
//!
//! A larger sweep (48 logistic sets, 12 network teachers, release build, timed) is
//! `scripts/sweep_defaults.sh`; the networks beyond the one here are in an `#[ignore]`d test.

mod common;

use common::{arg, assert_no_panic, assert_success, number, occam, temp_csv};
use std::f64::consts::LN_2;
use std::path::{Path, PathBuf};

/// `occam simulate ARGS --out DIR/NAME` and the path written.
fn simulate(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut full = vec!["simulate"];
    full.extend_from_slice(args);
    full.extend(["--out", arg(&out)]);
    assert_success(&full);
    out
}

/// `occam ARGS --format json`, asserting success.
fn json(args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.extend(["--format", "json"]);
    let stdout = assert_success(&full);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{stdout}"))
}

/// The log evidence of a fit or compare row.
fn log_evidence(report: &serde_json::Value) -> f64 {
    number(&report["evidence"]["log_nats"])
}

/// Checks a default fit (s by empirical Bayes) by independent routes: the mixture code is
/// −log₂ p(y) plus ½ log₂ n for ŝ; the evidence at ŝ is at least that of fixed-s fits at every
/// grid point a decade apart and at ŝ·e^(±½) (so ŝ is the highest peak those fits can see); the
/// `compare` row for the zero centre at `auto` is the same fit, number for number.
fn check_default_fit(data: &Path, model: &[&str], n: usize) {
    let mut args = vec!["fit", "--data", arg(data)];
    args.extend_from_slice(model);
    let fit = json(&args);
    let evidence = log_evidence(&fit);
    let s = number(&fit["prior"]["sd"]);
    assert!(evidence.is_finite() && s > 0.0, "{data:?}: {fit}");
    let mixture = number(&fit["code_length_bits"]["mixture"]);
    let expected = -evidence / LN_2 + 0.5 * (n as f64).log2();
    assert!(
        (mixture - expected).abs() < 1e-9 * expected.abs(),
        "mixture {mixture} vs −log₂ p + ½ log₂ n = {expected}"
    );
    let prequential = &fit["code_length_bits"]["prequential"];
    assert!(
        prequential.as_f64().is_some_and(f64::is_finite),
        "{data:?}: the prequential code is {prequential}"
    );

    let mut sds: Vec<String> = (-4..=4).map(|e| format!("1e{e}")).collect();
    sds.push(format!("{}", s * 0.5f64.exp()));
    sds.push(format!("{}", s * (-0.5f64).exp()));
    let sds = format!("auto,{}", sds.join(","));
    let mut args = vec!["compare", "--data", arg(data), "--sds", &sds];
    args.extend_from_slice(model);
    let comparison = json(&args);
    let rows = comparison["rows"].as_array().expect("rows");
    let auto = rows
        .iter()
        .find(|r| r["prior"]["sd_fitted"] == true)
        .expect("the auto row");
    assert_eq!(
        auto["evidence"], fit["evidence"],
        "compare's auto row is the fit"
    );
    assert_eq!(auto["code_length_bits"], fit["code_length_bits"]);
    for row in rows.iter().filter(|r| r["prior"]["sd_fitted"] == false) {
        let at = log_evidence(row);
        assert!(
            at <= evidence + 1e-6,
            "{data:?}: s = {} has ln p = {at} above empirical Bayes' {evidence} at ŝ = {s}",
            row["prior"]["sd"]
        );
    }
}

#[test]
fn default_logistic_fits_finish_on_simulated_data_including_the_ones_that_hung() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // (200, 3, seed 2) and (2049, 10, seed 4) spun forever before the line search was bounded.
    for (n, k, seed) in [(200, 3, 2), (64, 3, 5), (200, 8, 3), (2049, 10, 4)] {
        let (n_text, k_text, seed_text) = (n.to_string(), k.to_string(), seed.to_string());
        let data = simulate(
            dir.path(),
            &format!("logistic_{n}_{k}_{seed}.csv"),
            &[
                "logistic", "--n", &n_text, "--k", &k_text, "--seed", &seed_text,
            ],
        );
        check_default_fit(&data, &["--model", "logistic"], n);
    }
}

/// The network teacher of the issue: `simulate mlp --n 300 --k 4 --hidden 6 --activation tanh
/// --task classification --seed SEED`.
fn network_teacher(dir: &Path, seed: u64) -> PathBuf {
    let seed = seed.to_string();
    simulate(
        dir,
        &format!("mlp_{seed}.csv"),
        &[
            "mlp",
            "--n",
            "300",
            "--k",
            "4",
            "--hidden",
            "6",
            "--activation",
            "tanh",
            "--task",
            "classification",
            "--seed",
            &seed,
        ],
    )
}

const NETWORK: [&str; 4] = ["--model", "mlp", "--hidden", "6"];

#[test]
fn network_empirical_bayes_succeeds_where_it_failed() {
    // Seed 2 exited 1 ("every start failed") before the grid and the restarts.
    let dir = tempfile::tempdir().expect("a temporary directory");
    check_default_fit(&network_teacher(dir.path(), 2), &NETWORK, 300);
}

#[test]
#[ignore = "slow in a debug build (about a minute a teacher); scripts/sweep_defaults.sh runs all 12"]
fn network_empirical_bayes_succeeds_on_more_teachers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for seed in [1, 3, 5, 7] {
        check_default_fit(&network_teacher(dir.path(), seed), &NETWORK, 300);
    }
}

#[test]
fn a_network_compare_row_is_the_fit_with_that_prior_whatever_else_is_listed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = network_teacher(dir.path(), 2);
    let rows_of = |sds: &str| {
        let mut args = vec!["compare", "--data", arg(&data), "--sds", sds];
        args.extend_from_slice(&NETWORK);
        json(&args)["rows"].as_array().expect("rows").clone()
    };
    let sorted_by_sd = |mut rows: Vec<serde_json::Value>| {
        rows.sort_by(|a, b| number(&a["prior"]["sd"]).total_cmp(&number(&b["prior"]["sd"])));
        rows
    };
    let forwards = sorted_by_sd(rows_of("1,10"));
    let backwards = sorted_by_sd(rows_of("10,1"));
    assert_eq!(
        forwards, backwards,
        "--sds 1,10 and 10,1 give the same rows"
    );
    let wider = rows_of("0.1,0.3,1,3");
    for row in &forwards {
        let s = number(&row["prior"]["sd"]);
        let mut args = vec!["fit", "--data", arg(&data), "--prior-sd"];
        let s_text = s.to_string();
        args.push(&s_text);
        args.extend_from_slice(&NETWORK);
        let fit = json(&args);
        assert_eq!(
            row["evidence"], fit["evidence"],
            "s = {s}: compare row vs fit"
        );
        assert_eq!(row["code_length_bits"], fit["code_length_bits"]);
        if let Some(same) = wider.iter().find(|r| number(&r["prior"]["sd"]) == s) {
            assert_eq!(same["evidence"], fit["evidence"], "s = {s} among other sds");
        }
    }
}

/// Each x row twice, once with y = 0 and once with y = 1: X̃ᵀ(y − ½) = 0, so the mode is θ = 0 at
/// every s and the evidence ln p(y | θ = 0) − ½ ln|I + s²X̃ᵀSX̃| falls as s grows — empirical Bayes
/// has no interior maximum, while every fixed s has a fit.
fn paired_labels_csv() -> (tempfile::TempDir, PathBuf) {
    let mut text = String::from("x1,x2,y\n");
    for i in 0..20 {
        let x1 = (i as f64 - 9.5) / 7.0;
        let x2 = ((i * 7919) % 13) as f64 / 6.0 - 1.0;
        for y in [0, 1] {
            text.push_str(&format!("{x1},{x2},{y}\n"));
        }
    }
    temp_csv("paired.csv", &text)
}

#[test]
fn a_failing_prior_gives_a_null_row_and_the_others_stand() {
    let (_dir, data) = paired_labels_csv();
    let compare = |sds| {
        [
            "compare",
            "--data",
            arg(&data),
            "--model",
            "logistic",
            "--sds",
            sds,
        ]
    };
    let comparison = json(&compare("auto,1"));
    let rows = comparison["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    let failed = rows
        .iter()
        .find(|r| r["prior"]["sd_fitted"] == true)
        .unwrap();
    let reason = failed["failure"].as_str().expect("the failed row says why");
    assert!(
        reason.contains("--sds") && !reason.contains("--prior-sd"),
        "{reason}"
    );
    assert!(failed["evidence"]["log_nats"].is_null(), "{failed}");
    assert!(failed["code_length_bits"]["mixture"].is_null());
    // The row that stands is the fit with that prior.
    let standing = rows
        .iter()
        .find(|r| r["prior"]["sd_fitted"] == false)
        .unwrap();
    let fit = json(&[
        "fit",
        "--data",
        arg(&data),
        "--model",
        "logistic",
        "--prior-sd",
        "1",
    ]);
    assert_eq!(standing["evidence"], fit["evidence"]);
    assert_eq!(rows[0], *standing, "the scored row ranks first");
    // The other formats show the failed row's numbers as missing, not NaN.
    for format in ["table", "csv", "md", "tex"] {
        let mut args = compare("auto,1").to_vec();
        args.extend(["--format", format]);
        let text = assert_success(&args);
        assert!(!text.contains("NaN"), "{format}:\n{text}");
    }
    let csv = assert_success(&[&compare("auto,1")[..], &["--format", "csv"]].concat());
    let failed_line = csv.lines().nth(2).expect("the failed row, ranked last");
    assert!(
        failed_line.starts_with("2,zero,,true,,,,,,,,,,"),
        "{failed_line}"
    );

    // Every row failing is a failed computation (exit 1), saying why; fit names its own flag.
    let (code, stdout, stderr) = occam(&compare("auto"));
    assert_no_panic(code, &stderr);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("every prior failed") && stderr.contains("--sds"),
        "{stderr}"
    );
    let (code, _, stderr) = occam(&["fit", "--data", arg(&data), "--model", "logistic"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--prior-sd"), "{stderr}");
}

/// The rows of a numeric CSV written by `occam report`, by column name.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, f64>> {
    let text = std::fs::read_to_string(path).expect("a report table");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .filter_map(|(h, v)| v.parse().ok().map(|v| (h.to_string(), v)))
                .collect()
        })
        .collect()
}

#[test]
fn the_capacity_degree_table_is_at_least_as_high_as_its_sweep() {
    // The example: at n = 10 the degree-9 row gave ln p = −5.739 (the fixed point stopped
    // at a local peak) while the sweep beside it, σ fitted at each fixed s, reached −5.736. Empirical
    // Bayes over (s, σ) must be at least as high as every point of that sweep.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("report");
    assert_success(&["report", "--only", "capacity", "--out", arg(&out)]);
    let degrees = csv_rows(&out.join("tables/capacity-degrees.csv"));
    let sweep = csv_rows(&out.join("tables/capacity-sweep.csv"));
    for n in [10.0, 100.0] {
        let eb = degrees
            .iter()
            .find(|r| r["n"] == n && r["degree"] == 9.0)
            .expect("the degree-9 row")["log_evidence_nats"];
        let swept = sweep
            .iter()
            .filter(|r| r["n"] == n)
            .map(|r| r["log_evidence_nats"])
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(swept.is_finite());
        assert!(
            eb >= swept - 1e-9,
            "n = {n}: empirical Bayes {eb} < the sweep's {swept}"
        );
    }
}
