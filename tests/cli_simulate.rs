//! `occam simulate` through the real binary: determinism, the truth file, and the round trip
//! simulate → fit → the teacher's parameters.

use std::process::Command;

fn occam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_occam"))
        .args(args)
        .output()
        .expect("occam runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `occam simulate ARGS --out DIR/FILE` (ARGS split at spaces), which must succeed; the CSV's
/// path.
fn simulate(dir: &std::path::Path, file: &str, args: &str) -> String {
    let path = dir.join(file).to_str().unwrap().to_owned();
    let all: Vec<&str> = std::iter::once("simulate")
        .chain(args.split_whitespace())
        .chain(["--out", &path])
        .collect();
    let (code, _, stderr) = occam(&all);
    assert_eq!(code, 0, "{stderr}");
    path
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    for path in [&a, &b] {
        let (code, _, stderr) = occam(&[
            "simulate",
            "linear",
            "--n",
            "50",
            "--k",
            "3",
            "--seed",
            "9",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(
        std::fs::read(dir.path().join("a.truth.json")).unwrap(),
        std::fs::read(dir.path().join("b.truth.json")).unwrap()
    );
}

#[test]
fn a_linear_fit_recovers_the_teacher_and_the_truth_centre_wins() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "sim.csv",
        "linear --n 2000 --k 4 --seed 4 --noise-sd 0.5",
    );
    let csv = csv.as_str();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sim.truth.json")).unwrap())
            .unwrap();
    let (code, stdout, stderr) = occam(&["fit", "--data", csv, "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fitted = fit["map"]["weights_original"].as_array().unwrap();
    for (w, t) in fitted.iter().zip(truth["weights"].as_array().unwrap()) {
        // Standard error ≈ σ/√n ≈ 0.011; allow 5 of them.
        assert!(
            (w.as_f64().unwrap() - t.as_f64().unwrap()).abs() < 0.06,
            "{w} vs {t}"
        );
    }
    assert!((fit["model"]["noise_sd"].as_f64().unwrap() - 0.5).abs() < 0.03);
    let (code, stdout, stderr) = occam(&[
        "compare",
        "--data",
        csv,
        "--centers",
        "zero;truth;const:1",
        "--sds",
        "0.5",
        "--noise-sd",
        "0.5",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["rows"][0]["prior"]["center"], "truth",
        "the truth centre should give the shortest code"
    );
}

#[test]
fn a_logistic_teacher_works_with_the_logistic_model() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "log.csv",
        "logistic --n 400 --k 3 --seed 2 --intercept 0.5",
    );
    let csv = csv.as_str();
    let (code, stdout, stderr) = occam(&[
        "fit",
        "--data",
        csv,
        "--model",
        "logistic",
        "--prior-center",
        "truth",
        "--prior-sd",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let fit: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(fit["prior"]["center_values"].as_array().unwrap().len(), 4);
}

#[test]
fn bad_simulation_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let out = out.to_str().unwrap();
    for args in [
        vec!["simulate", "linear", "--noise-sd", "-1", "--out", out],
        vec!["simulate", "linear", "--n", "0", "--out", out],
        vec!["simulate", "quadratic", "--out", out],
        vec!["simulate", "linear"],
    ] {
        let (code, _, stderr) = occam(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
    assert!(!std::path::Path::new(out).exists());
    let (code, _, stderr) = occam(&["fit", "--data", "diabetes", "--prior-center", "truth"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("simulate"), "{stderr}");
}

/// `occam simulate mlp` writes a network teacher: the same seed gives the same bytes, and the truth
/// file holds θ in the documented parameter order.
#[test]
fn an_mlp_teacher_is_deterministic_and_its_truth_is_a_parameter_vector() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("a.csv"), dir.path().join("b.csv")];
    for path in &paths {
        let (code, stdout, stderr) = occam(&[
            "simulate",
            "mlp",
            "--n",
            "60",
            "--k",
            "3",
            "--hidden",
            "4,2",
            "--activation",
            "sigmoid",
            "--task",
            "classification",
            "--seed",
            "7",
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("3-4-2-1 sigmoid network"), "{stdout}");
    }
    assert_eq!(
        std::fs::read(&paths[0]).unwrap(),
        std::fs::read(&paths[1]).unwrap()
    );
    let truth_text = std::fs::read_to_string(dir.path().join("a.truth.json")).unwrap();
    assert_eq!(
        truth_text,
        std::fs::read_to_string(dir.path().join("b.truth.json")).unwrap()
    );
    let truth: serde_json::Value = serde_json::from_str(&truth_text).unwrap();
    // P = (3 + 1)·4 + (4 + 1)·2 + (2 + 1)·1 = 29.
    assert_eq!(truth["parameters"].as_array().unwrap().len(), 29);
    assert_eq!(truth["parameter_names"][0], "layer1.w[0,0]");
    assert_eq!(truth["parameter_names"][28], "output.b[0]");
    assert_eq!(truth["network"]["hidden"], serde_json::json!([4, 2]));
    assert_eq!(truth["teacher"], "mlp");
    let csv = std::fs::read_to_string(&paths[0]).unwrap();
    assert!(csv
        .lines()
        .skip(1)
        .all(|l| l.ends_with(",0") || l.ends_with(",1")));
}

/// The simulate → fit round trip for a network: the `truth` centre (the teacher mapped into the
/// data's standardisation) and `file:` the truth JSON are both accepted, the truth centre gives a
/// shorter code than zero, and the JSON output is byte-identical on one core and on all of them.
#[test]
fn an_mlp_teacher_round_trips_through_fit_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let truth_file = dir.path().join("net.truth.json");
    let csv = simulate(
        dir.path(),
        "net.csv",
        "mlp --n 400 --k 3 --hidden 5 --weight-scale 1 --noise-sd 0.1 --seed 2",
    );
    let csv = csv.as_str();
    let file_center = format!("file:{}", truth_file.display());
    let centers = format!("zero;truth;{file_center}");
    let args = [
        "compare",
        "--data",
        csv,
        "--model",
        "mlp",
        "--hidden",
        "5",
        "--activation",
        "tanh",
        "--centers",
        &centers,
        "--sds",
        "1",
        "--noise-sd",
        "0.1",
        "--codes",
        "none",
        "--format",
        "json",
    ];
    let (code, stdout, stderr) = occam(&args);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let evidence = |center: &str| {
        rows.iter()
            .find(|r| r["prior"]["center"] == center)
            .unwrap_or_else(|| panic!("no row for {center}: {stdout}"))["evidence"]["log_nats"]
            .as_f64()
            .unwrap()
    };
    assert!(
        evidence("truth") > evidence("zero"),
        "the teacher's own weights should be a better centre than zero"
    );
    // One core (sched affinity) against all of them: the same bytes.
    let single = std::process::Command::new("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_occam")])
        .args(args)
        .output();
    if let Ok(out) = single {
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
        }
    }
}

/// With the exact Hessian, units the prior has (nearly) switched off leave Hessian eigenvalues far
/// below α, so γ = P − α·tr(H⁻¹) goes negative: it is printed as null with the reason (the GGN's γ stays in
/// [0, P]), and MacKay's noise update clamps γ to [0, P], so that at `--noise-sd auto` the fitted
/// σ² is RSS/(n − 0) = RSS/n — which makes ℓ = −n/2 − (n/2) ln 2πσ² — rather than RSS/(n − γ).
#[test]
fn a_negative_gamma_is_noted_and_clamped_in_the_noise_update() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "small.csv",
        "mlp --n 200 --k 5 --hidden 16 --weight-scale 0.2 --noise-sd 0.5 --seed 1",
    );
    let csv = csv.as_str();
    let fit = |hessian: &str, noise: &str| -> serde_json::Value {
        let (code, stdout, stderr) = occam(&[
            "fit",
            "--data",
            csv,
            "--model",
            "mlp",
            "--hidden",
            "16",
            "--activation",
            "tanh",
            "--prior-sd",
            "0.2",
            "--noise-sd",
            noise,
            "--hessian",
            hessian,
            "--codes",
            "none",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let negative_note = |v: &serde_json::Value| {
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("γ is printed as null"))
    };
    let p = 5.0 * 16.0 + 16.0 + 16.0 + 1.0;
    let ggn = fit("ggn", "0.5");
    let gamma = ggn["evidence"]["effective_parameters"].as_f64().unwrap();
    assert!(
        (0.0..=p).contains(&gamma) && !negative_note(&ggn),
        "{gamma}"
    );
    // γ outside [0, P] counts nothing: printed as null, the value in the note.
    let exact = fit("exact", "0.5");
    let gamma = &exact["evidence"]["effective_parameters"];
    assert!(gamma.is_null() && negative_note(&exact), "{gamma}");
    let auto = fit("exact", "auto");
    assert!(auto["evidence"]["effective_parameters"].is_null() && negative_note(&auto));
    let sigma = auto["model"]["noise_sd"].as_f64().unwrap();
    let log_likelihood = auto["diagnostics"]["log_likelihood"].as_f64().unwrap();
    let n = 200.0;
    let at_rss_over_n = -0.5 * n - 0.5 * n * (2.0 * std::f64::consts::PI * sigma * sigma).ln();
    assert!(
        (log_likelihood - at_rss_over_n).abs() < 1e-3,
        "σ = {sigma}: ℓ = {log_likelihood}, but σ² = RSS/n gives {at_rss_over_n}"
    );
}

/// A network large enough (P = 289) that the search's factorisations and whitening products are
/// split between cores gives the same bytes on one core (sched affinity) as on all of them.
#[test]
fn a_network_fit_is_byte_identical_on_one_core_and_on_all() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "wide.csv",
        "mlp --n 150 --k 10 --hidden 24 --weight-scale 0.3 --noise-sd 0.3 --seed 4",
    );
    let csv = csv.as_str();
    let args = [
        "fit",
        "--data",
        csv,
        "--model",
        "mlp",
        "--hidden",
        "24",
        "--activation",
        "tanh",
        "--prior-sd",
        "0.3",
        "--noise-sd",
        "0.3",
        "--codes",
        "none",
        "--format",
        "json",
    ];
    let (code, stdout, stderr) = occam(&args);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["evidence"]["parameters"], 289);
    // Past the 300 plain L-BFGS iterations, so the GGN-whitened rounds ran.
    assert!(v["diagnostics"]["iterations"].as_u64().unwrap() > 300);
    let single = std::process::Command::new("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_occam")])
        .args(args)
        .output();
    if let Ok(out) = single {
        if out.status.success() {
            assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
        }
    }
}

/// `--hessian kfac|diag` (math.md §9): an evidence different from the GGN's, γ within (0, P), and
/// the method in the JSON and the table.
#[test]
fn mlp_structured_curvatures_label_their_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "kfac.csv",
        "mlp --n 200 --k 4 --hidden 6 --weight-scale 0.2 --noise-sd 0.5 --seed 2",
    );
    let fit = |hessian: &str, format: &str| -> String {
        let (code, stdout, stderr) = occam(&[
            "fit",
            "--data",
            csv.as_str(),
            "--model",
            "mlp",
            "--hidden",
            "6",
            "--prior-sd",
            "0.3",
            "--noise-sd",
            "0.5",
            "--hessian",
            hessian,
            "--codes",
            "none",
            "--format",
            format,
        ]);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    let json = |hessian: &str| -> serde_json::Value {
        serde_json::from_str(&fit(hessian, "json")).unwrap()
    };
    let ggn = json("ggn");
    let p = 4.0 * 6.0 + 6.0 + 6.0 + 1.0;
    for (hessian, method) in [("kfac", "laplace-kfac"), ("diag", "laplace-diag")] {
        let v = json(hessian);
        assert_eq!(v["evidence"]["method"], method);
        let gamma = v["evidence"]["effective_parameters"].as_f64().unwrap();
        assert!(gamma > 0.0 && gamma < p, "{hessian}: γ {gamma}");
        let (a, b) = (
            v["evidence"]["log_nats"].as_f64().unwrap(),
            ggn["evidence"]["log_nats"].as_f64().unwrap(),
        );
        assert!(a.is_finite() && a != b, "{hessian}: {a} vs {b}");
        assert!(fit(hessian, "table").contains(method), "{hessian}: table");
        // γ per layer: (4 + 1)·6 and (6 + 1)·1 parameters, summing to γ.
        let layers = v["evidence"]["layer_effective_parameters"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = layers
            .iter()
            .map(|l| l["layer"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["layer1", "output"]);
        let counts: Vec<u64> = layers
            .iter()
            .map(|l| l["parameters"].as_u64().unwrap())
            .collect();
        assert_eq!(counts, [30, 7]);
        let sum: f64 = layers
            .iter()
            .map(|l| l["effective_parameters"].as_f64().unwrap())
            .sum();
        assert!(
            (sum - gamma).abs() < 1e-9 * gamma,
            "{hessian}: {sum} vs {gamma}"
        );
        // Posterior sds √diag((K + αI)⁻¹): one per parameter, each at most the prior sd (K ⪰ 0).
        let sds = v["map"]["posterior_sd"].as_array().unwrap();
        assert_eq!(sds.len(), p as usize);
        assert!(sds
            .iter()
            .map(|s| s.as_f64().unwrap())
            .all(|s| s > 0.0 && s <= 0.3 * (1.0 + 1e-12)));
        assert!(fit(hessian, "table").contains("γ per layer"), "{hessian}");
        let csv = fit(hessian, "csv");
        assert!(csv.contains("layer_effective_parameters,output,"), "{csv}");
        assert!(csv.contains("posterior_sd,"), "{hessian}: csv sds");
    }
    // The GGN prints neither (unchanged output).
    assert!(ggn["evidence"].get("layer_effective_parameters").is_none());
    assert_eq!(ggn["map"]["posterior_sd"].as_array().unwrap().len(), 0);
}

/// two_part under kfac/diag uses the evidence's own structured curvature as F. In the F + Λ form,
/// two_part − mixture = (P/2)(1 + ln 2πκ_P) + the symmetry term whatever the curvature (math.md
/// §5), so the gap is the GGN's at the same mode (KFAC here); in the F form it is smaller by
/// ½ Σ ln(1 + α/λᵢ) > 0 (the diagonal here, all of whose λᵢ exceed α) — while each code differs.
#[test]
fn mlp_structured_two_part_uses_the_structured_fisher() {
    let dir = tempfile::tempdir().unwrap();
    let csv = simulate(
        dir.path(),
        "kfac2.csv",
        "mlp --n 300 --k 3 --hidden 3 --weight-scale 1.5 --noise-sd 0.3 --seed 5",
    );
    let json = |hessian: &str| -> serde_json::Value {
        let (code, stdout, stderr) = occam(&[
            "fit",
            "--data",
            csv.as_str(),
            "--model",
            "mlp",
            "--hidden",
            "3",
            "--prior-sd",
            "0.3",
            "--noise-sd",
            "0.3",
            "--hessian",
            hessian,
            "--codes",
            "two_part",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let bits = |v: &serde_json::Value, key: &str| v["code_length_bits"][key].as_f64().unwrap();
    let gap = |v: &serde_json::Value| bits(v, "two_part") - bits(v, "mixture");
    let ggn = json("ggn");
    assert_eq!(
        ggn["code_length_bits"]["two_part_form"],
        "fisher_plus_prior"
    );
    for (hessian, form) in [("kfac", "fisher_plus_prior"), ("diag", "fisher")] {
        let v = json(hessian);
        assert_eq!(
            v["map"]["weights"], ggn["map"]["weights"],
            "{hessian}: same mode"
        );
        assert_eq!(v["code_length_bits"]["two_part_form"], form, "{hessian}");
        if form == "fisher_plus_prior" {
            assert!(
                (gap(&v) - gap(&ggn)).abs() < 1e-8,
                "{hessian}: {} vs {}",
                gap(&v),
                gap(&ggn)
            );
        } else {
            assert!(
                gap(&v) > 0.0 && gap(&v) < gap(&ggn) - 1e-6,
                "{hessian}: {}",
                gap(&v)
            );
        }
        let (a, b) = (bits(&v, "two_part"), bits(&ggn, "two_part"));
        assert!(
            (a - b).abs() > 1e-3,
            "{hessian}: two_part {a} = the GGN's {b}"
        );
        let notes = v["notes"].to_string();
        assert!(
            notes.contains("evidence's own structured curvature"),
            "{notes}"
        );
    }
}
