//! `--subset last-layer` (math.md §9, `laplace-last-layer`) through the binary, checked by an
//! independent route: the GLM fitted by occam's own linear/logistic code on a CSV of the network's
//! last hidden features, computed here from the fit's `map.layers` (raw features:
//! `--no-standardize`, so the features are a function of the CSV's columns alone), with the same
//! prior — the output bias under N(0, s²) as a weight (a constant column for the linear model,
//! `--intercept shared` for the logistic one).

mod common;

use common::occam;
use serde_json::Value;
use std::path::Path;

fn simulate(dir: &Path, file: &str, args: &str) -> String {
    let path = dir.join(file).to_str().unwrap().to_owned();
    let all: Vec<&str> = std::iter::once("simulate")
        .chain(args.split_whitespace())
        .chain(["--out", &path])
        .collect();
    let (code, _, stderr) = occam(&all);
    assert_eq!(code, 0, "{stderr}");
    path
}

fn json(args: &[&str]) -> Value {
    let all: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
    let (code, stdout, stderr) = occam(&all);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// The CSV's feature columns (all but the last) and its last column, as text.
fn read_csv(path: &str) -> (Vec<Vec<f64>>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (last, rest) = cells.split_last().unwrap();
        x.push(rest.iter().map(|c| c.parse().unwrap()).collect());
        y.push(last.to_string());
    }
    (x, y)
}

/// The last hidden layer's outputs h_L(x) from the fit's `map.layers` (tanh units), written as
/// `f1 … f_h[,one],y`: the GLM's design on the network's learned features.
fn features_csv(fit: &Value, data: &str, out: &Path, constant: bool) -> String {
    let layers = fit["map"]["layers"].as_array().unwrap();
    let (x, y) = read_csv(data);
    let hidden = &layers[..layers.len() - 1];
    let width = hidden.last().unwrap()["bias"].as_array().unwrap().len();
    let mut text: Vec<String> = (1..=width).map(|j| format!("f{j}")).collect();
    if constant {
        text.push("one".into());
    }
    text.push("y".into());
    let mut lines = vec![text.join(",")];
    for (row, target) in x.iter().zip(&y) {
        let mut h = row.clone();
        for layer in hidden {
            let bias: Vec<f64> = serde_json::from_value(layer["bias"].clone()).unwrap();
            let weights: Vec<Vec<f64>> = serde_json::from_value(layer["weights"].clone()).unwrap();
            h = weights
                .iter()
                .zip(&bias)
                .map(|(w, b)| (b + w.iter().zip(&h).map(|(a, v)| a * v).sum::<f64>()).tanh())
                .collect();
        }
        let mut cells: Vec<String> = h.iter().map(|v| format!("{v:e}")).collect();
        if constant {
            cells.push("1".into());
        }
        cells.push(target.clone());
        lines.push(cells.join(","));
    }
    let path = out.to_str().unwrap().to_owned();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn log_nats(v: &Value) -> f64 {
    v["evidence"]["log_nats"].as_f64().unwrap()
}

fn assert_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs(),
        "{what}: {a} vs {b} (relative {:e})",
        ((a - b) / b).abs()
    );
}

/// The network's fit under the last-layer subset, raw features.
fn network(data: &str, hidden: &str, prior: &[&str]) -> Value {
    let mut args = vec![
        "fit",
        "--data",
        data,
        "--model",
        "mlp",
        "--hidden",
        hidden,
        "--no-standardize",
        "--subset",
        "last-layer",
        "--codes",
        "none",
    ];
    args.extend_from_slice(prior);
    json(&args)
}

#[test]
fn regression_last_layer_is_the_linear_model_on_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "reg.csv",
        "mlp --n 120 --k 3 --hidden 4,3 --weight-scale 1 --noise-sd 0.3 --seed 4",
    );
    let (s, sigma) = ("0.8", "0.4");
    let net = network(&data, "4,3", &["--prior-sd", s, "--noise-sd", sigma]);
    assert_eq!(net["evidence"]["method"], "laplace-last-layer");
    // γ of the GLM's 3 + 1 parameters, one entry "output".
    assert_eq!(net["evidence"]["parameters"], 4);
    assert_eq!(net["evidence"]["symmetry_log_nats"], 0.0);
    let layers = net["evidence"]["layer_effective_parameters"]
        .as_array()
        .unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["layer"], "output");
    let features = features_csv(&net, &data, &dir.path().join("phi.csv"), true);
    let glm = json(&[
        "fit",
        "--data",
        &features,
        "--target",
        "y",
        "--model",
        "linear",
        "--intercept",
        "none",
        "--no-standardize",
        "--prior-sd",
        s,
        "--noise-sd",
        sigma,
        "--codes",
        "none",
    ]);
    assert_eq!(glm["evidence"]["method"], "exact");
    assert_close(log_nats(&net), log_nats(&glm), "ln p(y)");
    assert_close(
        net["evidence"]["effective_parameters"].as_f64().unwrap(),
        glm["evidence"]["effective_parameters"].as_f64().unwrap(),
        "γ",
    );
    // The output layer's posterior sds are the linear model's (weights, then the bias); the
    // earlier layers' entries are 0 (fixed in this model).
    let sd: Vec<f64> = serde_json::from_value(net["map"]["posterior_sd"].clone()).unwrap();
    let glm_sd: Vec<f64> = serde_json::from_value(glm["map"]["posterior_sd"].clone()).unwrap();
    assert_eq!(sd.len(), 3 * 4 + 4 + 4 * 3 + 3 + 4);
    assert!(sd[..sd.len() - 4].iter().all(|v| *v == 0.0));
    for (a, b) in sd[sd.len() - 4..].iter().zip(&glm_sd) {
        assert!((a - b).abs() <= 1e-7 * b, "sd {a} vs {b}");
    }
}

#[test]
fn regression_empirical_bayes_scores_the_glm_at_the_chosen_s_and_sigma() {
    // s and σ auto: the network is refitted at every (s, σ) tried; at the ŝ, σ̂ printed the
    // evidence is the linear model's on that MAP's features at the same fixed ŝ, σ̂.
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "reg.csv",
        "mlp --n 80 --k 2 --hidden 3 --weight-scale 1 --noise-sd 0.3 --seed 6",
    );
    let net = network(&data, "3", &[]);
    let s = net["prior"]["sd"].as_f64().unwrap().to_string();
    let sigma = net["model"]["noise_sd"].as_f64().unwrap().to_string();
    let features = features_csv(&net, &data, &dir.path().join("phi.csv"), true);
    let glm = json(&[
        "fit",
        "--data",
        &features,
        "--target",
        "y",
        "--model",
        "linear",
        "--intercept",
        "none",
        "--no-standardize",
        "--prior-sd",
        &s,
        "--noise-sd",
        &sigma,
        "--codes",
        "none",
    ]);
    assert_close(log_nats(&net), log_nats(&glm), "ln p(y) at ŝ, σ̂");
    let notes = net["notes"].to_string();
    assert!(
        notes.contains("refits the whole network at every s"),
        "{notes}"
    );
}

#[test]
fn binary_last_layer_is_the_logistic_model_on_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "bin.csv",
        "mlp --n 150 --k 3 --hidden 4 --task classification --seed 3",
    );
    let net = network(&data, "4", &["--prior-sd", "1.3"]);
    assert_eq!(net["evidence"]["method"], "laplace-last-layer");
    let features = features_csv(&net, &data, &dir.path().join("phi.csv"), false);
    let glm = json(&[
        "fit",
        "--data",
        &features,
        "--target",
        "y",
        "--model",
        "logistic",
        "--intercept",
        "shared",
        "--no-standardize",
        "--prior-sd",
        "1.3",
        "--codes",
        "none",
    ]);
    assert_close(log_nats(&net), log_nats(&glm), "ln p(y)");
}

#[test]
fn softmax_last_layer_is_the_multinomial_model_on_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "three.csv",
        "mlp --n 150 --k 3 --hidden 4 --task classification --classes 3 --seed 3",
    );
    let net = network(
        &data,
        "4",
        &["--prior-sd", "1.1", "--task", "classification"],
    );
    assert_eq!(net["evidence"]["method"], "laplace-last-layer");
    assert_eq!(net["evidence"]["parameters"], 15);
    let features = features_csv(&net, &data, &dir.path().join("phi.csv"), false);
    let glm = json(&[
        "fit",
        "--data",
        &features,
        "--target",
        "y",
        "--model",
        "logistic",
        "--intercept",
        "shared",
        "--no-standardize",
        "--prior-sd",
        "1.1",
        "--codes",
        "none",
    ]);
    assert_close(log_nats(&net), log_nats(&glm), "ln p(y)");
}

#[test]
fn compare_rows_are_labelled_and_the_table_says_which_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "bin.csv",
        "mlp --n 100 --k 2 --hidden 3 --task classification --seed 5",
    );
    let (code, stdout, stderr) = occam(&[
        "compare",
        "--data",
        &data,
        "--model",
        "mlp",
        "--hidden",
        "3",
        "--subset",
        "last-layer",
        "--sds",
        "0.5,2",
        "--codes",
        "none",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("laplace-last-layer"), "{stdout}");
    assert!(stdout.contains("a GLM on"), "{stdout}");
    let (code, stdout, stderr) = occam(&[
        "fit",
        "--data",
        &data,
        "--model",
        "mlp",
        "--hidden",
        "3",
        "--subset",
        "last-layer",
        "--prior-sd",
        "1",
        "--codes",
        "none",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(laplace-last-layer)"), "{stdout}");
}

#[test]
fn incompatible_options_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "reg.csv",
        "mlp --n 40 --k 2 --hidden 2 --seed 1",
    );
    let refuse = |args: &[&str], needles: &[&str]| {
        let (code, _, stderr) = occam(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{args:?}: {stderr}");
        }
    };
    refuse(
        &[
            "fit",
            "--data",
            &data,
            "--model",
            "mlp",
            "--subset",
            "last-layer",
            "--hessian",
            "kfac",
        ],
        &["--hessian", "--subset all"],
    );
    refuse(
        &[
            "fit",
            "--data",
            &data,
            "--model",
            "linear",
            "--subset",
            "last-layer",
        ],
        &["--subset", "--model mlp"],
    );
    refuse(
        &[
            "fit",
            "--data",
            &data,
            "--model",
            "mlp",
            "--subset",
            "last-layer",
            "--hidden",
            "",
        ],
        &["--hidden"],
    );
}

#[test]
fn a_run_spec_takes_model_subset() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        "bin.csv",
        "mlp --n 100 --k 2 --hidden 3 --task classification --seed 5",
    );
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        format!(
            "[data]\npath = \"{data}\"\n\n[model]\nkind = \"mlp\"\nhidden = [3]\nsubset = \"last-layer\"\n\n[priors]\ncenters = [\"zero\"]\nsds = [1.0]\n\n[codes]\ncompute = \"none\"\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = occam(&[
        "run",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("--subset last-layer"), "{report}");
    assert!(
        report.contains("every row — laplace-last-layer: the evidence of a different model"),
        "{report}"
    );
    // The wrong curvature with it, at its key.
    std::fs::write(
        &spec,
        format!(
            "[data]\npath = \"{data}\"\n\n[model]\nkind = \"mlp\"\nhidden = [3]\nsubset = \"last-layer\"\nhessian = \"diag\"\n\n[priors]\ncenters = [\"zero\"]\nsds = [1.0]\n"
        ),
    )
    .unwrap();
    let (code, _, stderr) = occam(&["run", spec.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("model.hessian"), "{stderr}");
}
