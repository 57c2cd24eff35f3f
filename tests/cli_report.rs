//! `occam report` through the real binary: the folder it writes, byte-identical reruns, and the
//! links between report.md, the tables, the figures and the manifest.

mod common;

use common::files;
use std::process::Command;

fn occam(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_occam"))
        .args(args)
        .output()
        .expect("occam runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_report_is_complete_consistent_and_byte_identical_on_rerun() {
    // The network study is left to CI's release run of the whole report (.ci/run): in a debug
    // build its fits take minutes.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("occam-report");
    let out_text = out.to_str().unwrap();
    let only = "prior,capacity,centres,razor";
    let (code, stderr) = occam(&["report", "--out", out_text, "--only", only]);
    assert_eq!(code, 0, "{stderr}");
    let first = files(&out);
    let (code, stderr) = occam(&["report", "--out", out_text, "--only", only]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(first, files(&out), "a rerun changed the report");
    // No staging folders are left beside it.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for section in [
        "L2 is a Gaussian prior",
        "Capacity, not magic",
        "Why zero?",
        "Is the razor arbitrary?",
    ] {
        assert!(
            report.contains(section),
            "report.md lacks the section {section}"
        );
    }
    let tables = manifest["tables"].as_array().unwrap();
    assert!(tables.len() >= 7);
    for table in tables {
        let name = table["name"].as_str().unwrap();
        assert!(!table["command"].as_str().unwrap().is_empty());
        for ext in ["md", "tex", "csv", "json"] {
            assert!(
                out.join(format!("tables/{name}.{ext}")).is_file(),
                "tables/{name}.{ext} missing"
            );
        }
        assert!(
            report.contains(&format!("tables/{name}.csv")),
            "report.md does not link {name}"
        );
    }
    // Every two_part in the comparison tables is a code (docs/codes.md): at most P/2 bits below
    // the mixture code, its form named, and the rows that added the prior's curvature noted
    // (breast_cancer printed 3.80 bits against a mixture of 49.53 before).
    for (table, parameters) in [
        ("centres-breast-cancer", 31.0),
        ("centres-diabetes", 10.0),
        ("centres-iris", 15.0),
    ] {
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("tables/{table}.json"))).unwrap(),
        )
        .unwrap();
        let notes = json["notes"].to_string();
        for row in json["rows"].as_array().unwrap() {
            let (two_part, mixture) = (
                row["two_part_bits"].as_f64().unwrap(),
                row["mixture_bits"].as_f64().unwrap(),
            );
            assert!(two_part >= mixture - parameters / 2.0, "{table}: {row}");
            let form = row["two_part_form"].as_str().unwrap();
            assert!(form == "F" || form == "F + Λ", "{table}: {row}");
            if form == "F + Λ" {
                assert!(
                    notes.contains("prior's curvature added"),
                    "{table}: {notes}"
                );
            }
        }
    }
    iris_rows_agree_with_fit_and_the_softmax_invariance(&out);
    for figure in manifest["figures"].as_array().unwrap() {
        let file = figure["file"].as_str().unwrap();
        let svg = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(svg.starts_with("<svg"), "{file} is not an SVG");
        assert!(
            report.contains(&format!("]({file})")),
            "report.md does not embed {file}"
        );
    }
}

#[test]
fn unknown_studies_exit_2_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let (code, stderr) = occam(&[
        "report",
        "--out",
        out.to_str().unwrap(),
        "--only",
        "prior,nonsense",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--only") && stderr.contains("nonsense"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// The multinomial (iris, K = 3) rows of the report against `occam fit` and two identities: the
/// conversion table's LogisticRegression(C) is s² and Keras' c is 1/(2nC) for the s that `fit`
/// reports; a constant centre c·1 is a shift along the softmax likelihood's flat direction
/// 1_K ⊗ v, so its evidence is exactly zero's; and each mixture code is −log₂ p(y) plus
/// ½ log₂ n bits per charged real.
fn iris_rows_agree_with_fit_and_the_softmax_invariance(out: &std::path::Path) {
    let table = |name: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("tables/{name}.json"))).unwrap(),
        )
        .unwrap()
    };
    let (code, stdout, stderr) = common::occam(&[
        "fit", "--data", "iris", "--model", "logistic", "--format", "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let s = fit["prior"]["sd"].as_f64().unwrap();
    let conversions = table("prior-conversions");
    let iris: Vec<&serde_json::Value> = conversions["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["data"] == "iris")
        .collect();
    assert_eq!(iris.len(), 4, "{iris:?}");
    let value = |knob: &str| -> f64 {
        iris.iter()
            .find(|r| r["knob"].as_str().unwrap().contains(knob))
            .unwrap_or_else(|| panic!("no {knob} row: {iris:?}"))["value"]
            .as_f64()
            .unwrap()
    };
    let c = value("LogisticRegression");
    assert!((c - s * s).abs() <= 1e-6 * c.max(1.0), "C = {c}, s = {s}");
    let keras = value("Keras");
    assert!(
        (keras - 1.0 / (2.0 * 150.0 * s * s)).abs() <= 5e-7,
        "{keras}"
    );
    assert!(conversions["command"]
        .as_str()
        .unwrap()
        .contains(&format!("--value {s}")));

    let centres = table("centres-iris");
    let rows = centres["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    let row = |prefix: &str| -> Vec<&serde_json::Value> {
        rows.iter()
            .filter(|r| r["center"].as_str().unwrap().starts_with(prefix))
            .collect()
    };
    let zero = row("zero")[0];
    let constants = row("const:");
    assert_eq!(constants.len(), 2);
    for constant in constants {
        for column in ["log_evidence_nats", "mixture_bits", "effective_parameters"] {
            let (a, b) = (
                constant[column].as_f64().unwrap(),
                zero[column].as_f64().unwrap(),
            );
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{column}: {constant} vs {zero}"
            );
        }
        assert!(constant["distance_from_w_star"].as_f64() > zero["distance_from_w_star"].as_f64());
    }
    // 75 coded rows; s charged everywhere; the fit: donor shares iris' duplicate rows with the
    // coded half, so its 15 coordinates are charged too (and noted).
    let bits_per_real = 0.5 * 75f64.log2();
    for (r, reals) in [(zero, 1.0), (row("fit:")[0], 16.0)] {
        let expected = -r["log_evidence_nats"].as_f64().unwrap() / std::f64::consts::LN_2
            + reals * bits_per_real;
        let mixture = r["mixture_bits"].as_f64().unwrap();
        assert!(
            (mixture - expected).abs() <= 0.01,
            "{r}: {mixture} vs {expected}"
        );
    }
    assert!(
        centres["notes"]
            .to_string()
            .contains("coordinates are charged"),
        "{centres}"
    );
}
