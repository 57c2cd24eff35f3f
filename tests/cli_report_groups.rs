//! `occam report --only groups` (study 6, "One prior or many?") through the real binary: its rows
//! are the numbers `occam compare --priors` and `occam fit --prior` print for the same data, the
//! mixture code is −log₂ p plus the charged bits, and a rerun is byte-identical.

mod common;

use common::files;
use serde_json::Value;
use std::path::Path;

fn table(out: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join(format!("tables/{name}.json"))).unwrap())
        .unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let (code, stdout, stderr) = common::occam(args);
    assert_eq!(code, 0, "occam {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: report {a} vs command {b}"
    );
}

/// Every row of the study's table `name` equals the row `occam compare` prints for its prior.
fn rows_agree_with_compare(out: &Path, name: &str, data: &str, model: &str) {
    let report = table(out, name);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    let compare = json_of(&[
        "compare",
        "--data",
        data,
        "--model",
        model,
        "--priors",
        "all=zero:auto",
        "ard",
        "--format",
        "json",
    ]);
    let n = compare["dataset"]["n"].as_f64().unwrap();
    for row in rows {
        let prior = row["prior"].as_str().unwrap();
        let theirs = compare["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["prior"] == prior)
            .unwrap_or_else(|| panic!("compare has no row {prior}: {compare}"));
        for (mine, their) in [
            ("log_evidence_nats", "log_evidence_nats"),
            ("charged_bits", "charged_bits"),
            ("mixture_bits", "mixture_bits"),
            ("two_part_bits", "two_part_bits"),
            ("bic_bits", "bic_bits"),
            ("effective_parameters", "effective_parameters"),
            ("groups", "groups"),
            ("pruned", "pruned"),
            ("charged_reals", "charged_reals"),
            ("parameters", "parameters"),
        ] {
            match (row[mine].as_f64(), theirs[their].as_f64()) {
                (Some(a), Some(b)) => close(a, b, &format!("{data} {prior} {mine}")),
                (a, b) => assert_eq!(a, b, "{data} {prior} {mine}: {row} vs {theirs}"),
            }
        }
        // The mixture code is −log₂ p(y) plus ½ log₂ n bits per charged real.
        let charged = row["charged_reals"].as_f64().unwrap();
        close(
            row["charged_bits"].as_f64().unwrap(),
            charged * 0.5 * n.log2(),
            &format!("{data} {prior} charged bits"),
        );
        close(
            row["mixture_bits"].as_f64().unwrap(),
            -row["log_evidence_nats"].as_f64().unwrap() / std::f64::consts::LN_2
                + row["charged_bits"].as_f64().unwrap(),
            &format!("{data} {prior} mixture = −log₂ p + charge"),
        );
    }
    // ARD charges at least one scale per input.
    let ard = rows
        .iter()
        .find(|r| r["prior"].as_str().unwrap().starts_with("ard"))
        .unwrap();
    let k = compare["dataset"]["features"]
        .as_array()
        .map_or(0, Vec::len) as f64;
    assert!(ard["charged_reals"].as_f64().unwrap() >= k, "{ard}");
}

/// Every input row equals `occam fit --prior ard`'s `prior.groups` entry, and the shared s
/// `occam fit`'s `prior.sd`.
fn inputs_agree_with_fit(out: &Path, data: &str, model: &str) {
    let inputs = table(out, "groups-ard-inputs");
    let rows: Vec<&Value> = inputs["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["data"] == data)
        .collect();
    let ard = json_of(&[
        "fit", "--data", data, "--model", model, "--prior", "ard", "--format", "json",
    ]);
    let shared = json_of(&["fit", "--data", data, "--model", model, "--format", "json"]);
    let s = shared["prior"]["sd"].as_f64().unwrap();
    let groups = ard["prior"]["groups"].as_array().unwrap();
    let features = ard["dataset"]["features"].as_array().unwrap();
    assert_eq!(rows.len(), features.len(), "{inputs}");
    for (row, feature) in rows.iter().zip(features) {
        assert_eq!(row["input"], *feature);
        let group = groups
            .iter()
            .find(|g| g["name"] == *feature)
            .unwrap_or_else(|| panic!("no group {feature}"));
        let pruned = group["pruned"].as_bool().unwrap();
        assert_eq!(row["pruned"] == "yes", pruned, "{row} vs {group}");
        close(
            row["ard_sd"].as_f64().unwrap(),
            group["sd"].as_f64().unwrap(),
            "s_g",
        );
        if pruned {
            assert_eq!(row["ard_sd"].as_f64(), Some(0.0));
        }
        close(
            row["effective_parameters"].as_f64().unwrap(),
            group["effective_parameters"].as_f64().unwrap(),
            "γ_g",
        );
        close(row["shared_sd"].as_f64().unwrap(), s, "shared s");
    }
}

#[test]
fn study_six_rows_are_compare_and_fit_and_a_rerun_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("occam-report");
    let out_text = out.to_str().unwrap();
    let (code, _, stderr) = common::occam(&["report", "--out", out_text, "--only", "groups"]);
    assert_eq!(code, 0, "{stderr}");
    let first = files(&out);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("One prior or many?"));
    assert!(out.join("figures/groups-ard-scales.svg").is_file());

    rows_agree_with_compare(&out, "groups-ard-diabetes", "diabetes", "linear");
    rows_agree_with_compare(
        &out,
        "groups-ard-breast-cancer",
        "breast_cancer",
        "logistic",
    );
    inputs_agree_with_fit(&out, "diabetes", "linear");

    let (code, _, stderr) = common::occam(&["report", "--out", out_text, "--only", "groups"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first, files(&out), "a rerun changed the study");
}
