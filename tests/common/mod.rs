//! Helpers shared by the command-line integration tests: run the real `occam` binary, write
//! temporary CSV files, and check the error contract of cli.md (exit 2, a message naming the fault,
//! never a panic, never a partial output file).

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run of the binary may take before the test calls it a hang. Generous: the tests
/// run a debug build, two at a time on a two-core machine, and a network compare there has taken
/// over 120 s under load; speed is measured in the benches, not here.
pub const TIMEOUT: Duration = Duration::from_secs(600);

/// The exit code a Rust program returns when it panics.
pub const PANIC_EXIT_CODE: i32 = 101;

/// The repository's copy of the diabetes data (the same bytes as the built-in).
pub fn diabetes_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/diabetes.csv")
}

/// Runs `occam ARGS` in the crate root: (exit code, stdout, stderr). A run killed by a signal or
/// by the timeout has exit code -1.
pub fn occam(args: &[&str]) -> (i32, String, String) {
    occam_with(args, None, TIMEOUT)
}

/// Runs `occam ARGS` with `dir` as the working directory.
pub fn occam_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    occam_with(args, Some(dir), TIMEOUT)
}

/// Runs `occam ARGS`, killing it after `timeout`; a killed run has exit code -1 and says so in
/// stderr.
pub fn occam_with(args: &[&str], cwd: Option<&Path>, timeout: Duration) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_occam"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = command.spawn().expect("the occam binary starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for occam") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().expect("stdout reader");
    let mut stderr = stderr.join().expect("stderr reader");
    let code = match status {
        Some(s) => s.code().unwrap_or(-1),
        None => {
            stderr.push_str(&format!("\n[test harness: killed after {timeout:?}]"));
            -1
        }
    };
    (code, stdout, stderr)
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("writing a test file");
    path
}

/// A temporary directory holding one CSV file `name` with `contents`; keep the directory alive as
/// long as the path is used.
pub fn temp_csv(name: &str, contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = write_file(dir.path(), name, contents);
    (dir, path)
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Asserts that a run did not panic: no "panicked" in stderr and not the panic exit code.
pub fn assert_no_panic(code: i32, stderr: &str) {
    assert_ne!(code, PANIC_EXIT_CODE, "occam panicked:\n{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "occam panicked (exit {code}):\n{stderr}"
    );
}

/// Asserts cli.md's bad-input contract for one finished run: exit 2, nothing on stdout, no panic,
/// and every one of `needles` in stderr. Returns stderr.
pub fn assert_usage_error(run: (i32, String, String), needles: &[&str]) -> String {
    let (code, stdout, stderr) = run;
    assert_no_panic(code, &stderr);
    assert_eq!(
        code, 2,
        "expected exit 2 (bad input)\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "a failed run printed to stdout:\n{stdout}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr should name {needle:?}:\n{stderr}"
        );
    }
    stderr
}

/// Runs `occam ARGS --out FILE` (FILE in a fresh directory) and asserts the bad-input contract plus
/// "no partial output": FILE does not exist afterwards and nothing else (no temporary file) was
/// left in its directory. Returns stderr.
pub fn assert_fails_without_output(args: &[&str], needles: &[&str]) -> String {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let out = out_dir.path().join("result.out");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--out", arg(&out)]);
    let stderr = assert_usage_error(occam(&full), needles);
    assert!(
        !out.exists(),
        "a failed run wrote {}:\n{stderr}",
        out.display()
    );
    let left: Vec<_> = std::fs::read_dir(out_dir.path())
        .expect("listing the output directory")
        .map(|e| e.expect("a directory entry").file_name())
        .collect();
    assert!(left.is_empty(), "a failed run left files behind: {left:?}");
    stderr
}

/// Runs `occam ARGS`, asserts exit 0 and no panic, and returns stdout.
pub fn assert_success(args: &[&str]) -> String {
    let (code, stdout, stderr) = occam(args);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 0, "occam {args:?} failed:\n{stderr}");
    stdout
}

/// Runs `occam fit ARGS --format json`, asserts success and returns the parsed report.
pub fn fit_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["fit"];
    full.extend_from_slice(args);
    full.extend(["--format", "json"]);
    let stdout = assert_success(&full);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("fit --format json is not JSON ({e}):\n{stdout}"))
}

/// A JSON array of numbers as a `Vec<f64>`.
pub fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| {
            v.as_f64()
                .unwrap_or_else(|| panic!("expected a number, got {v}"))
        })
        .collect()
}

/// A JSON number as `f64`.
pub fn number(value: &serde_json::Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {value}"))
}

/// A JSON array of strings as a `Vec<String>`.
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("expected a string, got {v}"))
                .to_string()
        })
        .collect()
}

/// The golden values in `tests/golden/NAME`, written by the committed scripts
/// (`bash scripts/golden_sklearn.sh`; scikit-learn pinned there).
pub fn golden(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} ({e}); regenerate with bash scripts/golden_sklearn.sh",
            path.display()
        )
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("golden file {} is not JSON ({e})", path.display()))
}

/// A small numeric CSV reader for checks done independently of occam: header and rows.
pub fn read_numeric_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).expect("reading a CSV");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .expect("a header")
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.trim().parse::<f64>().expect("a number"))
                .collect()
        })
        .collect();
    (header, rows)
}

/// |a − b| ≤ tol·max(|a|, |b|, 1).
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

/// Every file under `dir` (relative path, contents), sorted: a folder to compare byte for byte.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}
