//! Never losing a user's data (issue 13), through the real binary: what `--out` may replace,
//! interrupted and killed runs, links, permissions, special files, bounded reads and memory.
//! Every run happens inside a temporary folder, and every test checks that folder's whole
//! listing afterwards, so nothing occam leaves behind goes unseen.

#![cfg(unix)]

mod common;

use common::{arg, assert_no_panic, assert_usage_error, occam, occam_in, occam_with, write_file};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Short enough that a hang on a FIFO or a device fails the test instead of stalling the suite.
const QUICK: Duration = Duration::from_secs(30);

const SMALL_CSV: &str = "a,b,y\n1,2,3\n2,1,5\n3,5,4\n4,3,8\n5,4,9\n";
const SPEC: &str = "[data]\npath = \"small.csv\"\n\n[priors]\ncenters = [\"zero\"]\n";

/// Every entry under `dir` (hidden ones too), relative, sorted; folders end in `/`.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.push(format!("{name}/"));
                walk(root, &path, out);
            } else {
                out.push(name);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A folder with a small CSV and a spec that reads it (a run takes well under a second).
fn spec_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "small.csv", SMALL_CSV);
    let spec = write_file(dir.path(), "study.toml", SPEC);
    (dir, spec)
}

fn run_ok(args: &[&str], cwd: &Path) -> String {
    let (code, _, stderr) = occam_in(cwd, args);
    assert_no_panic(code, &stderr);
    assert_eq!(code, 0, "occam {args:?} failed:\n{stderr}");
    stderr
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

// --- Folder outputs -------------------------------------------------------------------------

#[test]
fn a_folder_with_a_users_files_is_never_replaced() {
    let (dir, spec) = spec_folder();
    let u = dir.path().join("u");
    std::fs::create_dir_all(u.join("chapters")).unwrap();
    write_file(&u, "thesis.tex", "x");
    write_file(&u.join("chapters"), "one.tex", "y");
    let before = listing(dir.path());
    for args in [
        vec!["run", arg(&spec), "--out", arg(&u)],
        vec!["run", arg(&spec), "--out", arg(&u), "--force"],
        vec!["report", "--out", arg(&u), "--only", "prior"],
        vec!["report", "--out", arg(&u), "--only", "prior", "--force"],
    ] {
        assert_usage_error(
            occam_with(&args, None, QUICK),
            &[
                "--out",
                "thesis.tex",
                "not a folder occam wrote",
                "choose a new or empty",
            ],
        );
        assert_eq!(
            listing(dir.path()),
            before,
            "occam {args:?} changed the folder"
        );
    }
    assert_eq!(std::fs::read_to_string(u.join("thesis.tex")).unwrap(), "x");
}

#[test]
fn the_specs_own_folder_is_refused_and_keeps_the_spec_data_and_readme() {
    let (dir, spec) = spec_folder();
    write_file(dir.path(), "README", "mine");
    let before = listing(dir.path());
    for out in [arg(dir.path()), "."] {
        let stderr = assert_usage_error(
            occam_with(&["run", arg(&spec), "--out", out], Some(dir.path()), QUICK),
            &["--out", "README", "small.csv", "study.toml"],
        );
        assert!(stderr.contains("never deletes"), "{stderr}");
        assert_eq!(
            listing(dir.path()),
            before,
            "--out {out} left or removed files"
        );
    }
}

#[test]
fn an_existing_file_where_a_folder_is_wanted_is_refused() {
    let (dir, spec) = spec_folder();
    let before = listing(dir.path());
    assert_usage_error(
        occam_with(
            &["run", arg(&spec), "--out", "small.csv"],
            Some(dir.path()),
            QUICK,
        ),
        &["small.csv", "is not a folder", "never replaces a file"],
    );
    assert_eq!(listing(dir.path()), before);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("small.csv")).unwrap(),
        SMALL_CSV
    );
}

#[test]
fn an_occam_folder_is_replaced_only_while_it_holds_only_occams_unedited_files() {
    let (dir, spec) = spec_folder();
    let out = dir.path().join("out");
    // An empty folder may be filled.
    std::fs::create_dir(&out).unwrap();
    run_ok(&["run", arg(&spec), "--out", "out"], dir.path());
    let first = common::files(&out);
    let after_first = listing(dir.path());
    // Every file is listed in the manifest with its SHA-256 (checked here with sha2 directly).
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    let on_disk: Vec<&(String, Vec<u8>)> =
        first.iter().filter(|(p, _)| p != "manifest.json").collect();
    assert_eq!(listed.len(), on_disk.len());
    for (path, bytes) in &on_disk {
        let entry = listed.iter().find(|e| e["path"] == path.as_str()).unwrap();
        let digest: String = <sha2::Sha256 as sha2::Digest>::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry["sha256"], digest.as_str(), "{path}");
    }

    // A rerun replaces it, byte-identical, and leaves no hidden copy beside it.
    run_ok(&["run", arg(&spec), "--out", "out"], dir.path());
    assert_eq!(common::files(&out), first);
    assert_eq!(listing(dir.path()), after_first);

    // A file occam did not write: refused, with or without --force, and kept.
    write_file(&out, "notes.txt", "mine");
    for force in [false, true] {
        let mut args = vec!["run", arg(&spec), "--out", "out"];
        if force {
            args.push("--force");
        }
        assert_usage_error(
            occam_with(&args, Some(dir.path()), QUICK),
            &[
                "notes.txt",
                "did not write",
                "not even with --force",
                "move them out",
            ],
        );
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "mine"
        );
    }
    std::fs::remove_file(out.join("notes.txt")).unwrap();

    // A file occam wrote, edited since: refused; --force replaces it.
    std::fs::write(out.join("report.md"), "my edits").unwrap();
    assert_usage_error(
        occam_with(
            &["run", arg(&spec), "--out", "out"],
            Some(dir.path()),
            QUICK,
        ),
        &["report.md", "changed since occam wrote it", "--force"],
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        "my edits"
    );
    run_ok(&["run", arg(&spec), "--out", "out", "--force"], dir.path());
    assert_eq!(common::files(&out), first);
    assert_eq!(listing(dir.path()), after_first);
}

#[test]
fn a_symlinked_folder_output_is_written_at_its_target() {
    let (dir, spec) = spec_folder();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    std::os::unix::fs::symlink("reports/latest", dir.path().join("out")).unwrap();
    for _ in 0..2 {
        run_ok(&["run", arg(&spec), "--out", "out"], dir.path());
        assert!(std::fs::symlink_metadata(dir.path().join("out"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(dir.path().join("reports/latest/report.md").is_file());
    }
    let top: Vec<String> = listing(dir.path())
        .into_iter()
        .filter(|e| !e.starts_with("reports/latest/"))
        .collect();
    assert_eq!(top, ["out", "reports/", "small.csv", "study.toml"]);
}

#[test]
fn report_only_into_an_existing_report_replaces_that_section_only() {
    // Two sections one at a time into one folder, and both at once into another (each `rep`
    // in its own working folder, so the commands inside are the same): the same bytes.
    let one_by_one = tempfile::tempdir().unwrap();
    let together = tempfile::tempdir().unwrap();
    run_ok(
        &["report", "--out", "rep", "--only", "prior"],
        one_by_one.path(),
    );
    let prior_only = common::files(&one_by_one.path().join("rep"));
    run_ok(
        &["report", "--out", "rep", "--only", "capacity"],
        one_by_one.path(),
    );
    run_ok(
        &["report", "--out", "rep", "--only", "prior,capacity"],
        together.path(),
    );
    // The same bytes but for the manifest's `command`, which records the command as typed.
    let without_typed_command = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        common::files(dir)
            .into_iter()
            .map(|(path, bytes)| {
                if path != "manifest.json" {
                    return (path, bytes);
                }
                let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                manifest.as_object_mut().unwrap().remove("command");
                (path, manifest.to_string().into_bytes())
            })
            .collect()
    };
    let merged = without_typed_command(&one_by_one.path().join("rep"));
    assert_eq!(merged, without_typed_command(&together.path().join("rep")));
    // The prior section's files came through untouched.
    for (path, bytes) in prior_only.iter().filter(|(p, _)| p.starts_with("tables/")) {
        let kept = merged.iter().find(|(p, _)| p == path).unwrap();
        assert_eq!(&kept.1, bytes, "{path}");
    }
    let report = std::fs::read_to_string(one_by_one.path().join("rep/report.md")).unwrap();
    assert!(report.contains("`occam report --only prior,capacity`"));
    assert_eq!(
        listing(one_by_one.path())
            .iter()
            .filter(|e| !e.starts_with("rep/"))
            .count(),
        0,
        "something beside rep/ was left: {:?}",
        listing(one_by_one.path())
    );

    // A report.md whose headings were edited cannot be split into sections: even with --force,
    // --only refuses rather than guess, and the folder stays as it was.
    let report_path = one_by_one.path().join("rep/report.md");
    std::fs::write(&report_path, report.replace("## 1. ", "## One. ")).unwrap();
    let before = common::files(&one_by_one.path().join("rep"));
    assert_usage_error(
        occam_with(
            &["report", "--out", "rep", "--only", "prior", "--force"],
            Some(one_by_one.path()),
            QUICK,
        ),
        &[
            "--only",
            "cannot keep the other sections",
            "rerun without --only",
        ],
    );
    assert_eq!(common::files(&one_by_one.path().join("rep")), before);

    // A folder of `occam run` is an occam folder, but not a report: --only will not mix them.
    let (dir, spec) = spec_folder();
    run_ok(&["run", arg(&spec), "--out", "out"], dir.path());
    let before = listing(dir.path());
    assert_usage_error(
        occam_with(
            &["report", "--out", "out", "--only", "prior"],
            Some(dir.path()),
            QUICK,
        ),
        &["section 'study'", "another kind of occam folder"],
    );
    assert_eq!(listing(dir.path()), before);
}

// --- File outputs ---------------------------------------------------------------------------

#[test]
fn an_output_that_is_an_input_is_refused_by_every_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("same.csv");
    std::fs::copy(common::diabetes_csv(), &data).unwrap();
    std::fs::hard_link(&data, dir.path().join("hard.csv")).unwrap();
    std::os::unix::fs::symlink("same.csv", dir.path().join("soft.csv")).unwrap();
    write_file(dir.path(), "centre.json", "[0,0,0,0,0,0,0,0,0,0]");
    let before = listing(dir.path());
    let original = std::fs::read(&data).unwrap();
    for (args, input) in [
        (
            vec!["fit", "--data", "same.csv", "--out", "same.csv"],
            "same.csv",
        ),
        (
            vec!["fit", "--data", "same.csv", "--out", "./same.csv"],
            "same.csv",
        ),
        (
            vec!["fit", "--data", "same.csv", "--out", "hard.csv"],
            "same.csv",
        ),
        (
            vec!["fit", "--data", "same.csv", "--out", "soft.csv"],
            "same.csv",
        ),
        (
            vec![
                "fit",
                "--data",
                "diabetes",
                "--prior-center",
                "file:centre.json",
                "--out",
                "centre.json",
            ],
            "centre.json",
        ),
        (
            vec![
                "compare",
                "--data",
                "diabetes",
                "--centers",
                "zero;fit:hard.csv",
                "--codes",
                "none",
                "--out",
                "soft.csv",
            ],
            "hard.csv",
        ),
    ] {
        assert_usage_error(
            occam_with(&args, Some(dir.path()), QUICK),
            &["--out", input, "destroy the input", "choose another --out"],
        );
        assert_eq!(listing(dir.path()), before, "{args:?}");
        assert_eq!(std::fs::read(&data).unwrap(), original, "{args:?}");
    }
}

/// A fit printed as JSON.
const FIT_JSON: &[&str] = &["fit", "--data", "diabetes", "--format", "json"];

/// [`FIT_JSON`] with `--out OUT`, run in `cwd`.
fn fit_json_into(out: &str, cwd: &Path) {
    run_ok(&[FIT_JSON, &["--out", out]].concat(), cwd);
}

#[test]
fn a_symlink_output_writes_its_target_and_keeps_the_link_and_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    // An earlier output of occam's (a user's own file there would be refused: see
    // a_users_file_is_never_replaced_and_occams_own_only_while_unedited).
    let target = dir.path().join("real/fit.json");
    run_ok(
        &["fit", "--data", "diabetes", "--out", "real/fit.json"],
        dir.path(),
    );
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("real/fit.json", dir.path().join("link.json")).unwrap();
    let before = listing(dir.path());
    fit_json_into("link.json", dir.path());
    assert!(std::fs::symlink_metadata(dir.path().join("link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    // The target holds what standard output would have shown.
    let (_, stdout, _) = occam(FIT_JSON);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), stdout);
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(listing(dir.path()), before);

    // A dangling link: its target is created.
    std::os::unix::fs::symlink("real/new.json", dir.path().join("dangling.json")).unwrap();
    fit_json_into("dangling.json", dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("real/new.json")).unwrap(),
        stdout
    );
}

#[test]
fn a_users_file_is_never_replaced_and_occams_own_only_while_unedited() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    // A user's own files, under every name a file output can take.
    for name in [
        "mine.json",
        "data.csv",
        "data.truth.json",
        "table.tex",
        "shard.json",
    ] {
        write_file(cwd, name, "a user's precious bytes");
    }
    let attempts: [&[&str]; 6] = [
        &["fit", "--data", "diabetes", "--out", "mine.json"],
        &["compare", "--data", "diabetes", "--out", "mine.json"],
        &[
            "simulate", "linear", "--n", "20", "--k", "2", "--out", "data.csv",
        ],
        // The truth file beside a new CSV is the user's: neither file is written.
        &[
            "simulate",
            "linear",
            "--n",
            "20",
            "--k",
            "2",
            "--out",
            "data2.csv",
        ],
        &["stats", "--data", "diabetes", "--out", "shard.json"],
        &[
            "report",
            "--table",
            "capacity-degrees",
            "--format",
            "tex",
            "--out",
            "table.tex",
        ],
    ];
    write_file(cwd, "data2.truth.json", "a user's precious bytes");
    let before = listing(cwd);
    for args in attempts {
        let (code, _, stderr) = occam_in(cwd, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("occam did not write it") && stderr.contains("--out"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(listing(cwd), before, "a refused run left something behind");
    for name in [
        "mine.json",
        "data.csv",
        "data.truth.json",
        "table.tex",
        "shard.json",
        "data2.truth.json",
    ] {
        assert_eq!(
            std::fs::read_to_string(cwd.join(name)).unwrap(),
            "a user's precious bytes",
            "{name} was touched"
        );
    }
    // occam's own output is replaced while nobody has edited it ...
    run_ok(&["fit", "--data", "diabetes", "--out", "fit.txt"], cwd);
    run_ok(
        &[
            "fit",
            "--data",
            "diabetes",
            "--prior-sd",
            "1",
            "--out",
            "fit.txt",
        ],
        cwd,
    );
    let ours = std::fs::read_to_string(cwd.join("fit.txt")).unwrap();
    assert!(ours.contains("occam fit"));
    // ... and refused once someone has.
    std::fs::write(cwd.join("fit.txt"), format!("{ours}my note\n")).unwrap();
    let (code, _, stderr) = occam_in(cwd, &["fit", "--data", "diabetes", "--out", "fit.txt"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("edited since"), "{stderr}");
    assert!(std::fs::read_to_string(cwd.join("fit.txt"))
        .unwrap()
        .ends_with("my note\n"));
    // A copy of occam's output (without its mark) is the user's file.
    run_ok(
        &[
            "simulate", "linear", "--n", "20", "--k", "2", "--out", "sim.csv",
        ],
        cwd,
    );
    std::fs::copy(cwd.join("sim.csv"), cwd.join("copy.csv")).unwrap();
    let (code, _, stderr) = occam_in(cwd, &["fit", "--data", "diabetes", "--out", "copy.csv"]);
    assert_eq!(code, 2, "{stderr}");
    run_ok(
        &[
            "simulate", "linear", "--n", "20", "--k", "2", "--out", "sim.csv",
        ],
        cwd,
    );
}

#[test]
fn devices_are_written_to_never_renamed_over() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        &["fit", "--data", "diabetes", "--out", "/dev/null"],
        dir.path(),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // /dev/stdout reaches the pipe the test reads.
    let (code, stdout, stderr) = occam(&[FIT_JSON, &["--out", "/dev/stdout"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let (_, expected, _) = occam(FIT_JSON);
    assert_eq!(stdout, expected);

    // A stand-in device of our own (the null device's numbers), where mknod is allowed.
    if !is_root() {
        eprintln!("skipped the mknod stand-in device: not running as root");
        return;
    }
    let device = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    if !made.success() {
        eprintln!("skipped the mknod stand-in device: mknod was refused here");
        return;
    }
    run_ok(
        &["fit", "--data", "diabetes", "--out", arg(&device)],
        dir.path(),
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&device)
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(listing(dir.path()), ["null"]);
}

#[test]
fn a_folder_given_as_a_file_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(
        occam_with(
            &["fit", "--data", "diabetes", "--out", arg(dir.path())],
            None,
            QUICK,
        ),
        &["--out", "is a folder", "name a file inside it"],
    );
    assert!(listing(dir.path()).is_empty());
}

// --- Bounded reads --------------------------------------------------------------------------

#[test]
fn fifos_devices_folders_and_oversized_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    // A data file whose truth file is a FIFO.
    write_file(dir.path(), "sim.csv", SMALL_CSV);
    mkfifo(&dir.path().join("sim.truth.json"));
    // A spec whose data is a FIFO, and one that is over the 1 MiB limit.
    write_file(
        dir.path(),
        "piped.toml",
        "[data]\npath = \"pipe\"\n\n[priors]\ncenters = [\"zero\"]\n",
    );
    let big = format!("# {}\n{SPEC}", "x".repeat(1 << 20));
    write_file(dir.path(), "big.toml", &big);
    let before = listing(dir.path());
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["fit", "--data", "pipe"],
            vec!["pipe", "FIFO", "not a regular file"],
        ),
        (
            vec!["fit", "--data", "/dev/zero"],
            vec!["/dev/zero", "character device"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-center", "file:pipe"],
            vec!["--prior-center", "file:pipe", "FIFO"],
        ),
        (
            vec![
                "fit",
                "--data",
                "diabetes",
                "--prior-center",
                "file:/dev/zero",
            ],
            vec!["file:/dev/zero", "character device"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-center", "file:."],
            vec!["file:.", "is a folder"],
        ),
        (
            vec!["fit", "--data", "diabetes", "--prior-center", "fit:pipe"],
            vec!["fit:pipe", "FIFO"],
        ),
        (
            vec!["fit", "--data", "sim.csv", "--prior-center", "truth"],
            vec!["sim.truth.json", "FIFO"],
        ),
        (vec!["run", "pipe"], vec!["pipe", "FIFO", "a study spec"]),
        (
            vec!["run", "/dev/zero"],
            vec!["/dev/zero", "character device"],
        ),
        (vec!["run", "."], vec!["is a folder"]),
        (vec!["run", "piped.toml"], vec!["pipe", "FIFO"]),
        (
            vec!["run", "big.toml"],
            vec!["big.toml", "larger than the 1.0 MiB"],
        ),
    ];
    for (args, needles) in cases {
        let started = Instant::now();
        let (code, stdout, stderr) = occam_with(&args, Some(dir.path()), QUICK);
        assert!(started.elapsed() < QUICK, "{args:?} hung");
        assert_usage_error((code, stdout, stderr), &needles);
        assert_eq!(listing(dir.path()), before, "{args:?} left files");
    }
}

// --- Memory ---------------------------------------------------------------------------------

/// "21.0 TiB" for a byte count: the largest binary unit that leaves at least 1, one decimal —
/// computed here independently of occam's formatting.
fn binary_units(bytes: f64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let power = ((bytes.log2() / 10.0).floor() as usize).clamp(1, units.len());
    format!(
        "{:.1} {}",
        bytes / 1024f64.powi(power as i32),
        units[power - 1]
    )
}

#[test]
fn a_network_too_large_for_memory_is_refused_with_the_figure() {
    for (hidden, expected) in [(100_000usize, "34.1 TiB"), (20_000, "1.4 TiB")] {
        let h = hidden as f64;
        // diabetes: k = 10 inputs, one output. P = (10+1)·h + (h+1)·1.
        let p = 11.0 * h + h + 1.0;
        // The lower bound: 3¼ P×P matrices (the curvature, its Cholesky factor and that factor's
        // inverse, and the search's single-precision triangle), one block of Jacobian rows (all
        // 442 rows, fewer than the block's 512), four n×h buffers, and the n×k inputs, in 8-byte
        // floats.
        let bytes = 8.0 * (3.25 * p * p + 442.0 * p + 4.0 * 442.0 * h + 442.0 * 10.0);
        let figure = binary_units(bytes);
        assert_eq!(figure, expected);
        let hidden_text = hidden.to_string();
        let started = Instant::now();
        let stderr = assert_usage_error(
            occam_with(
                &[
                    "fit",
                    "--data",
                    "diabetes",
                    "--model",
                    "mlp",
                    "--hidden",
                    &hidden_text,
                ],
                None,
                QUICK,
            ),
            // The fix: the Kronecker-factored curvature, or a smaller network.
            &[
                "--hidden",
                &figure,
                "memory",
                "--hessian kfac",
                "a smaller --hidden",
            ],
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "--hidden {hidden} took {:?} to refuse: {stderr}",
            started.elapsed()
        );
    }
}

#[test]
fn widths_beyond_any_machine_and_huge_teachers_are_refused_without_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    // Widths whose parameter count overflows 64 bits.
    let huge = "10000000000,10000000000";
    assert_usage_error(
        occam_with(
            &[
                "fit", "--data", "diabetes", "--model", "mlp", "--hidden", huge,
            ],
            Some(dir.path()),
            QUICK,
        ),
        &["--hidden", "memory", "a smaller --hidden"],
    );
    // A teacher of 10¹⁰ weights (k = 5 inputs by default, n = 200 rows):
    // P = 6·10⁵ + 100001·10⁵ + 100001, and 8 bytes each, plus 32 per value of the 200 × 6 rows.
    let p = 6.0 * 1e5 + 100_001.0 * 1e5 + 100_001.0;
    let bytes = 8.0 * p + 32.0 * 200.0 * 6.0;
    let figure = binary_units(bytes);
    for hidden in ["100000,100000", huge] {
        let needles: Vec<&str> = if hidden == huge {
            vec!["--hidden", "memory"]
        } else {
            vec!["--hidden", "memory", &figure]
        };
        assert_usage_error(
            occam_with(
                &["simulate", "mlp", "--hidden", hidden, "--out", "x.csv"],
                Some(dir.path()),
                QUICK,
            ),
            &needles,
        );
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn a_design_too_wide_for_memory_is_refused_with_the_figure() {
    // 3 rows × 200 000 features: a few MB of CSV, but its k×k matrices need over a terabyte.
    let k = 200_000usize;
    let mut text = String::new();
    let header: Vec<String> = (0..k).map(|j| format!("x{j}")).collect();
    text += &header.join(",");
    text += ",y\n";
    for row in 0..3usize {
        let cells: Vec<String> = (0..k)
            .map(|j| ((j * (row + 1) + row) % 7).to_string())
            .collect();
        text += &cells.join(",");
        text += &format!(",{}\n", row % 2); // a 0/1 target, for logistic too
    }
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "wide.csv", &text);
    // Linear: fewer rows than weights take the n × n route, which never forms a k×k matrix —
    // 8·(2n² + 4n·k) bytes with the prequential code, about 18 MiB here — so the fit runs. Three
    // rows interpolate any target (σ → 0, exit 1); with s and σ fixed it completes. (Some columns are
    // constant over three rows, so they are centred only.)
    let (code, stdout, stderr) = occam_with(
        &["fit", "--data", "wide.csv", "--no-standardize"],
        Some(dir.path()),
        QUICK,
    );
    assert_no_panic(code, &stderr);
    assert!(
        code == 1 && stderr.contains("interpolates") && !stderr.contains("memory"),
        "{code}\n{stdout}\n{stderr}"
    );
    let (code, stdout, stderr) = occam_with(
        &[
            "fit",
            "--data",
            "wide.csv",
            "--no-standardize",
            "--prior-sd",
            "0.01",
            "--noise-sd",
            "1",
            "--format",
            "json",
        ],
        Some(dir.path()),
        QUICK,
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(fit["map"]["weights"].as_array().map(Vec::len), Some(k));
    // Logistic: k + 1 parameters (the shared intercept) and three (k+1)×(k+1) matrices.
    let p = k as f64 + 1.0;
    let bytes = 8.0 * (3.0 * p * p + 3.0 * p);
    assert_usage_error(
        occam_with(
            &["fit", "--data", "wide.csv", "--model", "logistic"],
            Some(dir.path()),
            QUICK,
        ),
        &[
            "--data",
            &binary_units(bytes),
            "200001 columns",
            "fewer features",
        ],
    );
}

// --- Interrupted and killed runs ------------------------------------------------------------

/// Starts `occam ARGS` in `cwd` and waits until a staging entry for `name` appears there.
fn start_and_wait_for_staging(args: &[&str], cwd: &Path, name: &str) -> (Child, PathBuf) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_occam"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let staging = cwd.join(format!(".{name}.occam-staging-{}", child.id()));
    let started = Instant::now();
    while !staging.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("occam finished ({status}) before its staging was seen");
        }
        assert!(started.elapsed() < QUICK, "no staging appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    (child, staging)
}

#[test]
fn sigint_and_sigterm_remove_the_staging_and_exit_128_plus_the_signal() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, _) = start_and_wait_for_staging(
            &["report", "--out", "rep", "--only", "prior"],
            dir.path(),
            "rep",
        );
        // SAFETY: sends a signal to the child this test started and has not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(code), "signal {signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(
            listing(dir.path()).is_empty(),
            "left: {:?}",
            listing(dir.path())
        );
    }
}

#[test]
fn staging_left_by_a_killed_run_is_removed_by_the_next_run_into_the_same_out() {
    let (dir, spec) = spec_folder();
    let (mut child, staging) = start_and_wait_for_staging(
        &["report", "--out", "out", "--only", "prior"],
        dir.path(),
        "out",
    );
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(
        staging.exists(),
        "SIGKILL should have left the staging folder"
    );
    // Look-alikes that are not a dead occam's staging for `out`: a live process's (this test's),
    // another output's, and names of other shapes — all left alone.
    let dead_pid = child.id();
    let alive = format!(".out.occam-staging-{}", std::process::id());
    let decoys = [
        alive.as_str(),
        &format!(".other.occam-staging-{dead_pid}"),
        &format!(".out.partial-{dead_pid}"),
        &format!(".out.occam-staging-{dead_pid}x"),
    ]
    .map(|s| s.to_string());
    for decoy in &decoys {
        write_file(dir.path(), decoy, "keep");
    }
    run_ok(&["run", arg(&spec), "--out", "out"], dir.path());
    assert!(!staging.exists(), "the stale staging survived");
    let mut expected: Vec<String> = decoys.to_vec();
    expected.extend(["out/".into(), "small.csv".into(), "study.toml".into()]);
    expected.sort();
    let top: Vec<String> = listing(dir.path())
        .into_iter()
        .filter(|e| !e.starts_with("out/") || e == "out/")
        .collect();
    assert_eq!(top, expected);

    // The same for a file output: stale staging of a dead process beside `fit.txt` goes.
    let stale_file = dir
        .path()
        .join(format!(".fit.txt.occam-staging-{dead_pid}"));
    std::fs::write(&stale_file, "partial").unwrap();
    run_ok(
        &["fit", "--data", "diabetes", "--out", "fit.txt"],
        dir.path(),
    );
    assert!(!stale_file.exists());
}
