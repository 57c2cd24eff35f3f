//! `occam fit --prior` on networks (math.md §8) through the real binary: per-layer groups on
//! occam's own simulated networks, regression and classification, across seeds and sizes — each
//! run succeeds (with one `prior.groups` entry per layer, Σγ_g = γ) or exits 1 naming what was
//! tried; never a panic, never a usage error.

mod common;

use common::{arg, assert_no_panic, number, occam};

#[test]
fn per_layer_groups_with_default_flags_finish_across_seeds() {
    let dir = tempfile::tempdir().unwrap();
    for task in ["regression", "classification"] {
        for n in ["60", "200"] {
            for seed in ["1", "2", "3", "4", "5"] {
                let name = format!("{task}-{n}-{seed}.csv");
                let csv = dir.path().join(&name);
                let (code, _, stderr) = occam(&[
                    "simulate",
                    "mlp",
                    "--task",
                    task,
                    "--n",
                    n,
                    "--k",
                    "3",
                    "--hidden",
                    "3",
                    "--seed",
                    seed,
                    "--out",
                    arg(&csv),
                ]);
                assert_eq!(code, 0, "{stderr}");
                let (code, stdout, stderr) = occam(&[
                    "fit",
                    "--data",
                    arg(&csv),
                    "--model",
                    "mlp",
                    "--hidden",
                    "3",
                    "--prior",
                    "layer1=zero:auto; output=zero:auto",
                    "--format",
                    "json",
                ]);
                assert_no_panic(code, &stderr);
                assert!(code == 0 || code == 1, "{name}: exit {code}: {stderr}");
                if code == 1 {
                    assert!(
                        stderr.contains("tried") || stderr.contains("--prior"),
                        "{name}: {stderr}"
                    );
                    continue;
                }
                let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
                let groups = report["prior"]["groups"].as_array().unwrap();
                assert_eq!(groups.len(), 2, "{name}");
                assert_eq!(groups[0]["name"], "layer1");
                assert_eq!(groups[1]["name"], "output");
                // 3 inputs → 3 hidden: 12 parameters; 3 → 1: 4.
                assert_eq!(number(&groups[0]["parameters"]), 12.0);
                assert_eq!(number(&groups[1]["parameters"]), 4.0);
                let sum: f64 = groups
                    .iter()
                    .map(|g| number(&g["effective_parameters"]))
                    .sum();
                let gamma = number(&report["evidence"]["effective_parameters"]);
                assert!(
                    (sum - gamma).abs() < 1e-9 * gamma.abs().max(1.0),
                    "{name}: {sum} vs {gamma}"
                );
            }
        }
    }
}
