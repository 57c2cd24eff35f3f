//! Times occam's ARD fit (`occam fit --prior ard`, one prior sd per feature, math.md §8) for
//! bench/compare_ard.py; prints one JSON object.
//!
//! `cargo run --release --example time_ard -- CSV REPEATS`
//!
//! The CSV is parsed once, untimed (`parse_csv` is timed on its own); then `fit_grouped_linear`
//! on the in-memory data is timed with `--codes none` (standardisation, XᵀX, empirical Bayes,
//! posterior, evidence, the L-BFGS cross-check: what `ARDRegression.fit` computes, and the
//! evidence) and with the default codes (prequential, two_part, BIC as well). `phases` is the best
//! of REPEATS for each step run alone: parse, `LinearStudy::borrowing` (standardisation and the
//! sufficient statistics), empirical Bayes, and the fit with each code alone minus the fit with
//! none. The weights, α's and β of the last `--codes none` fit are printed for the comparison.

use nalgebra::DVector;
use occam::codelength::CodeSelection;
use occam::data::{parse_csv, ColumnSelection, Dataset};
use occam::fit::{fit_grouped_linear, FitOptions, LinearStudy};
use occam::inference::grouped::{fixed_precisions, GroupedLinear};
use occam::prior::groups::{ParameterInfo, PriorStructure};
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: time_ard CSV REPEATS");
    std::process::exit(2)
}

/// Runs `f`, returning its value; keeps the smaller of `best` and the seconds it took.
fn timed<T>(best: &mut f64, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    *best = best.min(start.elapsed().as_secs_f64());
    value
}

fn parse(bytes: &[u8]) -> Dataset {
    parse_csv(bytes, "bench.csv", &ColumnSelection::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn options(codes: CodeSelection) -> FitOptions {
    let mut options = FitOptions {
        codes,
        ..FitOptions::default()
    };
    options.prior = Some(PriorStructure::parse("ard").unwrap_or_else(|e| panic!("{e}")));
    options
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, repeats] = args.as_slice() else {
        usage()
    };
    let repeats: usize = repeats.parse().unwrap_or_else(|_| usage());
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let data = parse(&bytes);
    let none = CodeSelection {
        prequential: false,
        two_part: false,
        bic: false,
    };
    let only = |prequential, two_part, bic| CodeSelection {
        prequential,
        two_part,
        bic,
    };
    let runs = [
        ("codes_none", none),
        ("codes_default", CodeSelection::default()),
        ("prequential_only", only(true, false, false)),
        ("two_part_only", only(false, true, false)),
        ("bic_only", only(false, false, true)),
    ];
    let mut seconds = [f64::INFINITY; 5];
    let mut phase = [f64::INFINITY; 3];
    let mut answer = None;
    for _ in 0..repeats.max(1) {
        for (i, (_, codes)) in runs.iter().enumerate() {
            let opts = options(*codes);
            let structure = opts.prior.clone().expect("ard");
            let fit = timed(&mut seconds[i], || {
                fit_grouped_linear(&data, &opts, &structure).unwrap_or_else(|e| panic!("{e}"))
            });
            if i == 0 {
                let alphas: Vec<f64> = fit.groups.iter().map(|g| g.sd.powi(-2)).collect();
                answer = Some(serde_json::json!({
                    "weights": fit.mean.as_slice(),
                    "alphas": alphas,
                    "noise_precision": fit.noise_sd.powi(-2),
                    "log_evidence": fit.log_evidence,
                    "iterations": fit.iterations,
                    "pruned": fit.groups.iter().filter(|g| g.pruned).count(),
                }));
            }
        }
        timed(&mut phase[0], || parse(&bytes));
        let opts = options(none);
        let study = timed(&mut phase[1], || {
            LinearStudy::borrowing(&data, &opts).unwrap_or_else(|e| panic!("{e}"))
        });
        let stats = study.stats().expect("n > k");
        let k = data.k();
        let groups = PriorStructure::parse("ard")
            .and_then(|s| s.resolve(&ParameterInfo::glm(&study.feature_names, false)))
            .unwrap_or_else(|e| panic!("{e}"));
        let model = GroupedLinear::from_groups(stats, &groups, DVector::zeros(k))
            .unwrap_or_else(|e| panic!("{e}"));
        timed(&mut phase[2], || {
            model
                .empirical_bayes(&fixed_precisions(&groups), None)
                .unwrap_or_else(|e| panic!("{e}"))
        });
    }
    let mut phases = serde_json::Map::new();
    for (name, s) in ["parse_csv", "study", "empirical_bayes"].iter().zip(phase) {
        phases.insert(name.to_string(), s.into());
    }
    for (i, (name, _)) in runs.iter().enumerate().skip(2) {
        phases.insert(name.to_string(), (seconds[i] - seconds[0]).into());
    }
    let out = serde_json::json!({
        "n": data.n(),
        "k": data.k(),
        "seconds": seconds[0],
        "seconds_default_codes": seconds[1],
        "phases": phases,
        "fit": answer.expect("at least one repeat"),
    });
    println!("{out}");
}
