//! `occam run SPEC.toml` through the real binary: the examples reproduce the built-in report's
//! tables number for number, reruns are byte-identical, relative paths follow the spec, and every
//! bad spec exits 2 naming the key and the line and leaves no folder behind.

mod common;

use common::{arg, assert_no_panic, files, occam, occam_in, write_file};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn rows(table: &Path) -> Vec<Value> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(table).unwrap()).unwrap();
    json["rows"].as_array().unwrap().clone()
}

fn run_ok(args: &[&str]) {
    let (code, _, stderr) = occam(args);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 0, "occam {args:?} failed:\n{stderr}");
}

/// The same number: bit for bit unless `tol` allows a relative difference.
fn same(key: &str, ours: &Value, theirs: &Value, tol: f64) {
    let (a, b) = (ours.as_f64(), theirs.as_f64());
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            a == b || (a - b).abs() <= tol * a.abs().max(b.abs()),
            "{key}: occam run gives {a}, the report {b}"
        ),
        _ => assert_eq!(ours, theirs, "{key}"),
    }
}

/// Runs a "why zero" example and checks its table against the report's, row by row.
fn check_why_zero(report: &Path, tmp: &Path, example_name: &str, table: &str, data: &str) {
    let run = tmp.join(example_name.trim_end_matches(".toml"));
    run_ok(&["run", arg(&example(example_name)), "--out", arg(&run)]);
    let id = example_name.trim_end_matches(".toml");
    let theirs = rows(&report.join(format!("tables/{table}.json")));
    let ours = rows(&run.join(format!("tables/{id}-priors.json")));
    assert_eq!(ours.len(), theirs.len());
    // Both rank by the mixture code, so the rows come in the same order.
    for (o, t) in ours.iter().zip(&theirs) {
        let (oc, tc) = (o["center"].as_str().unwrap(), t["center"].as_str().unwrap());
        if tc.starts_with("fit:") {
            // The transfer donor: the other half, staged in each folder's data/ and named
            // relative to the folder.
            assert_eq!(tc, format!("fit:data/{data}-even.csv"));
            assert_eq!(oc, format!("fit:data/{id}-rest.csv"));
        } else {
            assert_eq!(oc, tc);
        }
        for key in [
            "distance_from_w_star",
            "effective_parameters",
            "log_evidence_nats",
            "mixture_bits",
            "prequential_bits",
            "two_part_bits",
            "delta_bits",
        ] {
            same(&format!("{example_name} {tc} {key}"), &o[key], &t[key], 0.0);
        }
    }
    // The staged halves are the report's, byte for byte.
    assert_eq!(
        std::fs::read(run.join(format!("data/{id}-odd.csv"))).unwrap(),
        std::fs::read(report.join(format!("data/{data}-odd.csv"))).unwrap()
    );
    assert_eq!(
        std::fs::read(run.join(format!("data/{id}-rest.csv"))).unwrap(),
        std::fs::read(report.join(format!("data/{data}-even.csv"))).unwrap()
    );
}

#[test]
fn the_why_zero_examples_reproduce_the_reports_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report");
    run_ok(&["report", "--out", arg(&report), "--only", "centres"]);
    check_why_zero(
        &report,
        tmp.path(),
        "why-zero-diabetes.toml",
        "centres-diabetes",
        "diabetes",
    );
    check_why_zero(
        &report,
        tmp.path(),
        "why-zero-breast-cancer.toml",
        "centres-breast-cancer",
        "breast_cancer",
    );
}

#[test]
fn the_razor_example_reproduces_the_reports_razor_table() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report");
    let run = tmp.path().join("run");
    run_ok(&["report", "--out", arg(&report), "--only", "razor"]);
    run_ok(&[
        "run",
        arg(&example("razor-diabetes.toml")),
        "--out",
        arg(&run),
    ]);
    let theirs = rows(&report.join("tables/razor-offsets.json"));
    let ours = rows(&run.join("tables/razor-diabetes-priors.json"));
    assert_eq!(ours.len(), theirs.len());
    // order = "given": direction by direction, offsets ascending, as the report lists them.
    for (o, t) in ours.iter().zip(&theirs) {
        let direction = match t["direction"].as_str().unwrap() {
            "towards w*" => "w*",
            other => other,
        };
        assert_eq!(o["direction"].as_str().unwrap(), direction);
        same("offset", &o["offset_sd"], &t["offset_sd"], 0.0);
        for key in ["mixture_bits", "prequential_bits"] {
            same(key, &o[key], &t[key], 0.0);
        }
        same("Δ mixture", &o["delta_bits"], &t["delta_mixture_bits"], 0.0);
        // w* is the zero-centred MAP at the row's s with σ refitted; the report takes it at the
        // joint empirical-Bayes optimum: the same point up to the optimiser's last digits.
        same(
            "distance",
            &o["distance_from_w_star"],
            &t["distance_from_w_star"],
            1e-9,
        );
    }
}

#[test]
fn a_rerun_is_byte_identical_and_leaves_no_staging_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let spec = example("why-zero-diabetes.toml");
    run_ok(&["run", arg(&spec), "--out", arg(&out)]);
    let first = files(&out);
    run_ok(&["run", arg(&spec), "--out", arg(&out)]);
    assert_eq!(first, files(&out), "a rerun changed the folder");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);

    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "report.md",
        "manifest.json",
        "figures/why-zero-diabetes-distance.svg",
        "tables/why-zero-diabetes-priors.md",
        "tables/why-zero-diabetes-priors.tex",
        "tables/why-zero-diabetes-priors.csv",
        "tables/why-zero-diabetes-priors.json",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let text = std::fs::read_to_string(&spec).unwrap();
    assert_eq!(manifest["spec"]["contents"].as_str().unwrap(), text);
    assert_eq!(manifest["spec"]["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["command"]
        .as_str()
        .unwrap()
        .starts_with("occam run "));
    assert_eq!(
        manifest["seeds"]["why-zero-diabetes"]["sha256_centres"],
        serde_json::json!(["occam-1", "occam-2", "occam-3"])
    );
    // No staging path leaks into what was written.
    for (name, bytes) in &first {
        assert!(
            !String::from_utf8_lossy(bytes).contains("occam-staging"),
            "{name} names the staging folder"
        );
    }
}

#[test]
fn paths_resolve_against_the_spec_and_the_default_folder_is_named_after_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read_to_string(common::diabetes_csv()).unwrap();
    let sub = data_dir.path().join("specs");
    std::fs::create_dir(&sub).unwrap();
    write_file(&sub, "mine.csv", &csv);
    write_file(&sub, "centre.json", "[0,0,0,0,0,0,0,0,0.5]");
    let spec = write_file(
        &sub,
        "mine.toml",
        r#"
formats = ["csv", "json"]

[[study]]
id = "sweep"
[study.data]
path = "mine.csv"
exclude = ["sex"]
[study.priors]
centres = ["zero", "file:centre.json"]
sds = ["logspace:-1:1:3", "auto"]
[study.outputs]
figures = ["log-sd", "distance"]

[[study]]
id = "rows"
[study.data]
path = "mine.csv"
rows = "0:200"
[study.model]
kind = "linear"
[study.priors]
centers = ["zero", "fit:@rest"]
[study.codes]
compute = ["prequential"]
rank_by = "prequential"
shuffle = 3
"#,
    );
    // Run from another folder, without --out.
    let cwd = tempfile::tempdir().unwrap();
    let (code, _, stderr) = occam_in(cwd.path(), &["run", arg(&spec)]);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 0, "{stderr}");
    let out = cwd.path().join("occam-run-mine");
    let names: Vec<String> = files(&out).into_iter().map(|(n, _)| n).collect();
    for expected in [
        "tables/sweep-priors.csv",
        "tables/sweep-priors.json",
        "tables/rows-priors.csv",
        "figures/sweep-log-sd.svg",
        "figures/sweep-distance.svg",
        "data/rows-rows-0-200.csv",
        "data/rows-rest.csv",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected}: {names:?}"
        );
    }
    assert!(!names
        .iter()
        .any(|n| n.ends_with(".tex") || n.ends_with(".md") && n != "report.md"));
    let sweep = rows(&out.join("tables/sweep-priors.json"));
    assert_eq!(sweep.len(), 8, "2 centres × 4 sds");
    let staged = std::fs::read_to_string(out.join("data/rows-rows-0-200.csv")).unwrap();
    assert_eq!(staged.lines().count(), 201);
    let ranked = rows(&out.join("tables/rows-priors.json"));
    assert!(ranked[0]["mixture_bits"].is_number());
    assert!(
        ranked[0]["bic_bits"].is_null(),
        "only the prequential code was asked for"
    );
}

/// Writes `text` as a spec in a fresh folder (beside a small CSV), runs it with --out, and checks
/// the contract: exit 2, the key and the line in the message, nothing written.
fn rejects(text: &str, key: &str, line: usize, also: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "small.csv",
        "a,b,y\n1,2,3\n2,1,5\n3,5,4\n4,3,8\n5,4,9\n",
    );
    let spec = write_file(dir.path(), "bad.toml", text);
    let out = dir.path().join("out");
    let (code, stdout, stderr) = occam(&["run", arg(&spec), "--out", arg(&out)]);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 2, "expected exit 2 for\n{text}\nstderr:\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!("key `{key}`")),
        "stderr should name the key {key}:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(" line {line},")),
        "stderr should name line {line}:\n{stderr}"
    );
    for needle in also {
        assert!(
            stderr.contains(needle),
            "stderr should say {needle:?}:\n{stderr}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "a failed run left files behind: {left:?}");
}

const GOOD: &str = "[data]\npath = \"small.csv\"\n\n[priors]\ncenters = [\"zero\"]\n";

#[test]
fn the_good_base_spec_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "small.csv",
        "a,b,y\n1,2,3\n2,1,5\n3,5,4\n4,3,8\n5,4,9\n",
    );
    let spec = write_file(dir.path(), "good.toml", GOOD);
    run_ok(&["run", arg(&spec), "--out", arg(&dir.path().join("out"))]);
}

#[test]
fn an_unknown_key_names_the_closest_valid_one() {
    rejects(
        "[data]\npath = \"small.csv\"\n\n[priors]\ncentres = [\"zero\"]\nsd = [1]\n",
        "priors.sd",
        6,
        &["unknown key `sd`", "did you mean `sds`?"],
    );
    rejects(
        "titel = \"x\"\n[data]\npath = \"small.csv\"\n[priors]\ncenters = [\"zero\"]\n",
        "titel",
        1,
        &["did you mean `title`?"],
    );
    rejects(
        "[data]\npath = \"small.csv\"\ntraget = \"y\"\n[priors]\ncenters = [\"zero\"]\n",
        "data.traget",
        3,
        &["did you mean `target`?"],
    );
}

#[test]
fn a_value_of_the_wrong_type_is_named() {
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = \"zero\"\n",
        "priors.centers",
        4,
        &["wrong type"],
    );
    rejects(
        &format!("{GOOD}[codes]\nfirst_block = \"many\"\n"),
        "codes.first_block",
        7,
        &["wrong type"],
    );
}

#[test]
fn a_bad_centre_is_named_with_its_position_in_the_list() {
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = [\n  \"zero\",\n  \"cnst:1\",\n]\n",
        "priors.centers[2]",
        6,
        &["unknown centre 'cnst:1'"],
    );
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = [\"file:nowhere.json\"]\n",
        "priors.centers[1]",
        4,
        &["no centre file"],
    );
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = [\"fit:@rest\"]\n",
        "priors.centers[1]",
        4,
        &["rows"],
    );
}

#[test]
fn a_missing_data_file_or_column_is_named() {
    rejects(
        "[data]\npath = \"nope.csv\"\n[priors]\ncenters = [\"zero\"]\n",
        "data.path",
        2,
        &["no data file", "nope.csv"],
    );
    rejects(
        "[data]\nbuiltin = \"diabets\"\n[priors]\ncenters = [\"zero\"]\n",
        "data.builtin",
        2,
        &["diabetes"],
    );
    // Found only when the data are read: still the [data] key and line, and no folder.
    rejects(
        "\n[data]\npath = \"small.csv\"\ntarget = \"z\"\n[priors]\ncenters = [\"zero\"]\n",
        "data",
        2,
        &["'z'"],
    );
}

#[test]
fn non_positive_sds_are_refused() {
    rejects(
        &format!("{GOOD}sds = [1, 0]\n"),
        "priors.sds[2]",
        6,
        &["positive"],
    );
    rejects(
        &format!("{GOOD}noise_sd = -1\n"),
        "priors.noise_sd",
        6,
        &["positive"],
    );
}

#[test]
fn an_unknown_model_is_named() {
    rejects(
        &format!("{GOOD}[model]\nkind = \"logistc\"\n"),
        "model.kind",
        7,
        &["did you mean 'logistic'?"],
    );
    rejects(
        &format!("{GOOD}[model]\nkind = \"linear\"\nhidden = [4]\n"),
        "model.hidden",
        8,
        &["mlp"],
    );
}

#[test]
fn an_intercept_the_model_cannot_take_is_named() {
    rejects(
        &format!("{GOOD}[model]\nintercept = \"free\"\n"),
        "model.intercept",
        7,
        &["\"centered\""],
    );
}

#[test]
fn an_empty_centre_list_is_refused() {
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = []\n",
        "priors.centers",
        4,
        &["empty"],
    );
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\nsds = [1]\n",
        "priors.centers",
        3,
        &["no centres"],
    );
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = [\"zero\"\nsds = [1]\n",
        // An unclosed list swallows the next line: the parser sees a second element there.
        "priors.centers[2]",
        5,
        &["TOML syntax error"],
    );
}

#[test]
fn a_centre_of_the_wrong_length_is_blamed_on_that_centre() {
    rejects(
        "[data]\npath = \"small.csv\"\n[priors]\ncenters = [\"zero\", \"vec:1,2,3\"]\n",
        "priors.centers[2]",
        4,
        &["3 coordinates", "2 parameters"],
    );
}

#[test]
fn a_missing_spec_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = occam(&["run", arg(&dir.path().join("none.toml"))]);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("none.toml"), "{stderr}");
}
