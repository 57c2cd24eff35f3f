//! Bad input through the real binary (cli.md "Exit codes and errors"): every case exits 2, names
//! the fault (file, line, column or flag), never panics, and — with `--out FILE` — writes nothing.

mod common;

use common::{
    arg, assert_fails_without_output, assert_no_panic, assert_success, assert_usage_error, occam,
    occam_with, temp_csv, write_file,
};
use std::time::Duration;

/// A small valid CSV: two varying features and a target.
const GOOD: &str = "a,b,y\n1,2,3\n4,5,7\n2,9,1\n";

// ---------------------------------------------------------------- data files and names

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nosuch.csv");
    assert_fails_without_output(&["fit", "--data", arg(&missing)], &[arg(&missing)]);
}

#[test]
fn unknown_builtin_name_lists_the_builtins() {
    assert_fails_without_output(
        &["fit", "--data", "diabetis"],
        &["diabetis", "diabetes", "breast_cancer", "iris"],
    );
}

#[test]
fn directory_as_data_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails_without_output(&["fit", "--data", arg(dir.path())], &[arg(dir.path())]);
}

#[test]
fn empty_file_is_refused_and_named() {
    let (_dir, path) = temp_csv("empty.csv", "");
    assert_fails_without_output(&["fit", "--data", arg(&path)], &["empty.csv", "empty"]);
}

#[test]
fn header_only_file_is_refused() {
    let (_dir, path) = temp_csv("header.csv", "a,b,y\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["header.csv", "no data rows"],
    );
}

#[test]
fn duplicate_column_in_header_is_named() {
    let (_dir, path) = temp_csv("dup.csv", "a,a,y\n1,2,3\n4,5,7\n2,9,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["dup.csv", "line 1", "'a'"],
    );
}

// ---------------------------------------------------------------- column selection

#[test]
fn missing_target_column_names_the_flag_and_column() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--target", "nope"],
        &["--target", "nope"],
    );
}

#[test]
fn missing_features_column_names_the_flag_and_column() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--features", "age,nope"],
        &["--features", "nope"],
    );
}

#[test]
fn duplicate_name_in_features_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--features", "age,bmi,age"],
        &["--features", "age"],
    );
}

#[test]
fn features_containing_the_target_are_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--features", "age,progression"],
        &["--features", "progression"],
    );
}

// ---------------------------------------------------------------- cells

#[test]
fn ragged_row_names_the_line() {
    let (_dir, path) = temp_csv("ragged.csv", "a,b,y\n1,2,3\n4,5\n2,9,1\n");
    assert_fails_without_output(&["fit", "--data", arg(&path)], &["ragged.csv", "line 3"]);
}

#[test]
fn row_with_too_many_fields_names_the_line() {
    let (_dir, path) = temp_csv("long.csv", "a,b,y\n1,2,3\n4,5,7\n2,9,1,8\n");
    assert_fails_without_output(&["fit", "--data", arg(&path)], &["long.csv", "line 4"]);
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let (_dir, path) = temp_csv("text.csv", "a,b,y\n1,2,3\n4,five,7\n2,9,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["text.csv", "line 3", "column 'b'", "five"],
    );
}

#[test]
fn non_numeric_target_cell_names_line_and_column() {
    let (_dir, path) = temp_csv("target.csv", "a,b,y\n1,2,3\n4,5,7\n2,9,high\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["target.csv", "line 4", "column 'y'"],
    );
}

#[test]
fn nan_cell_names_line_and_column() {
    let (_dir, path) = temp_csv("nan.csv", "a,b,y\n1,2,3\n4,NaN,7\n2,9,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["nan.csv", "line 3", "column 'b'", "NaN"],
    );
}

#[test]
fn inf_cell_names_line_and_column() {
    let (_dir, path) = temp_csv("inf.csv", "a,b,y\n1,2,3\n4,5,7\n-inf,9,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["inf.csv", "line 4", "column 'a'", "inf"],
    );
}

#[test]
fn empty_cell_names_line_and_column() {
    let (_dir, path) = temp_csv("hole.csv", "a,b,y\n1,2,3\n4,,7\n2,9,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["hole.csv", "line 3", "column 'b'", "empty"],
    );
}

#[test]
fn non_utf8_cell_is_not_reported_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    std::fs::write(&path, b"a,b,y\n1,2,3\n4,\xff,7\n2,9,1\n").unwrap();
    let stderr = assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["latin1.csv", "line 3", "column 'b'"],
    );
    assert!(
        !stderr.contains("empty cell"),
        "a non-empty cell is called empty:\n{stderr}"
    );
}

#[test]
fn constant_feature_is_named_with_the_exclude_fix() {
    let (_dir, path) = temp_csv("const.csv", "a,b,y\n1,5,3\n4,5,7\n2,5,1\n");
    assert_fails_without_output(
        &["fit", "--data", arg(&path)],
        &["const.csv", "'b'", "constant", "--exclude b"],
    );
}

#[test]
fn excluded_text_column_is_not_an_error() {
    let (_dir, path) = temp_csv(
        "named.csv",
        "name,a,b,y\nann,1,2,3\nbob,4,5,7\ncid,2,9,1\ndee,3,1,2\n",
    );
    // Fixed sds: four rows are too few for empirical Bayes to be the point of this test.
    let stdout = assert_success(&[
        "fit",
        "--data",
        arg(&path),
        "--exclude",
        "name",
        "--prior-sd",
        "1",
        "--noise-sd",
        "1",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["dataset"]["features"], serde_json::json!(["a", "b"]));
    assert_eq!(report["dataset"]["target"], "y");
}

// ---------------------------------------------------------------- prior and noise scales

#[test]
fn prior_sd_zero_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-sd", "0"],
        &["--prior-sd", "0"],
    );
}

#[test]
fn prior_sd_negative_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-sd", "-1"],
        &["--prior-sd", "-1"],
    );
}

#[test]
fn prior_sd_not_a_number_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-sd", "abc"],
        &["--prior-sd", "abc"],
    );
}

#[test]
fn noise_sd_zero_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--noise-sd", "0"],
        &["--noise-sd", "0"],
    );
}

#[test]
fn prior_sd_with_overflowing_precision_fails_promptly() {
    let (code, _stdout, stderr) = occam_with(
        &[
            "fit",
            "--data",
            "diabetes",
            "--prior-sd",
            "1e-200",
            "--noise-sd",
            "50",
        ],
        None,
        Duration::from_secs(30),
    );
    assert_no_panic(code, &stderr);
    assert!(
        code == 1 || code == 2,
        "expected a prompt error (exit 1 or 2), got exit {code}:\n{stderr}"
    );
}

// ---------------------------------------------------------------- prior centres

#[test]
fn unknown_centre_kind_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", "elsewhere"],
        &["--prior-center", "elsewhere"],
    );
}

#[test]
fn const_centre_without_a_value_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", "const:"],
        &["--prior-center", "const:"],
    );
}

#[test]
fn vec_centre_with_an_empty_entry_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", "vec:1,,2"],
        &["--prior-center", "vec"],
    );
}

#[test]
fn centre_of_the_wrong_length_gives_the_expected_length() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", "vec:1,2"],
        &["--prior-center", "10"],
    );
}

#[test]
fn missing_centre_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_weights.json");
    let spec = format!("file:{}", arg(&missing));
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", &spec],
        &["no_weights.json"],
    );
}

#[test]
fn centre_csv_with_a_non_numeric_entry_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "centre.csv", "weight\n1\nx\n3\n");
    let spec = format!("file:{}", arg(&path));
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", &spec],
        &["--prior-center", "centre.csv", "line 3"],
    );
}

#[test]
fn centre_json_with_a_non_numeric_entry_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "centre.json", "[1, 2, \"x\", 4]");
    let spec = format!("file:{}", arg(&path));
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", &spec],
        &["--prior-center", "centre.json"],
    );
}

#[test]
fn truth_centre_on_real_data_is_refused() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--prior-center", "truth"],
        &["--prior-center", "truth"],
    );
}

// ---------------------------------------------------------------- model and output flags

#[test]
fn model_unknown_to_this_version_is_a_usage_error() {
    // `logistic` is not offered yet: clap refuses it (exit 2). Once it is, diabetes' continuous
    // target must still be refused with exit 2 (non-binary target for logistic).
    let stderr =
        assert_fails_without_output(&["fit", "--data", "diabetes", "--model", "logistic"], &[]);
    assert!(
        stderr.contains("--model") || stderr.contains("binary"),
        "stderr should name --model or the non-binary target:\n{stderr}"
    );
}

#[test]
fn free_intercept_is_refused_for_the_linear_model() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--intercept", "free"],
        &["--intercept", "free"],
    );
}

#[test]
fn unknown_format_is_a_usage_error() {
    assert_fails_without_output(
        &["fit", "--data", "diabetes", "--format", "yaml"],
        &["--format", "yaml"],
    );
}

#[test]
fn out_into_a_missing_directory_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no_such_dir");
    let out = missing_dir.join("fit.json");
    assert_usage_error(
        occam(&["fit", "--data", "diabetes", "--out", arg(&out)]),
        &[arg(&out)],
    );
    assert!(!missing_dir.exists(), "the missing directory was created");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "files were left in the parent directory"
    );
}

#[test]
fn failed_run_leaves_an_existing_out_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = write_file(dir.path(), "fit.json", "previous contents\n");
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            "diabetes",
            "--prior-sd",
            "0",
            "--out",
            arg(&out),
        ]),
        &["--prior-sd"],
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "previous contents\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn successful_out_writes_the_file_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit.json");
    let stdout = assert_success(&[
        "fit",
        "--data",
        "diabetes",
        "--format",
        "json",
        "--out",
        arg(&out),
    ]);
    assert!(stdout.is_empty(), "--out also printed:\n{stdout}");
    let written = std::fs::read_to_string(&out).expect("--out wrote the file");
    let printed = assert_success(&["fit", "--data", "diabetes", "--format", "json"]);
    assert_eq!(written, printed, "--out differs from what stdout shows");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "a temporary file was left next to the output"
    );
}

#[test]
fn good_csv_fixture_itself_fits() {
    // Guards the cases above: their CSVs differ from this one only in the fault under test.
    let (_dir, path) = temp_csv("good.csv", GOOD);
    // Three centred rows and two features interpolate, so σ cannot be fitted (issue 14): fixed.
    assert_success(&["fit", "--data", arg(&path), "--noise-sd", "1"]);
}
