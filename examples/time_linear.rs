//! Times occam's linear fit for bench/compare_sklearn.py; prints one JSON object.
//!
//! `cargo run --release --example time_linear -- MODE CSV REPEATS`
//!
//! - `memory`: the CSV is parsed once, untimed; then `fit_linear` on the in-memory data is timed.
//! - `csv`: parsing the CSV bytes (already read from disk) plus `fit_linear` is timed.
//!
//! `seconds` is the best of REPEATS; `phases` is the best of REPEATS for each step of the fit done
//! one at a time (parse, Standardization::fit, SufficientStats::from_dataset, the eigendecomposition, the
//! prequential plan, empirical Bayes, the posterior), to show where the time goes, and
//! `owned_copy`: copying the loaded rows into a new owned `Dataset` (what a caller pays that hands
//! its own buffer over by copy).

use nalgebra::DVector;
use occam::codelength::linear::PrequentialPlan;
use occam::codelength::RowOrder;
use occam::data::{
    parse_csv, ColumnSelection, Dataset, DesignOptions, Standardization, SufficientStats,
};
use occam::fit::{fit_linear, FitOptions};
use occam::inference::{Hyperparameters, LinearGaussian};
use std::time::Instant;

/// What the report needs of a timed fit (the fit itself borrows data that is dropped).
struct Summary {
    n: usize,
    k: usize,
    log_evidence: f64,
    hyperparameters: Hyperparameters,
    iterations: usize,
}

fn usage() -> ! {
    eprintln!("usage: time_linear memory|csv CSV REPEATS");
    std::process::exit(2)
}

/// Runs `f`, returning its value and the seconds it took; keeps the smaller of `best` and that.
fn timed<T>(best: &mut f64, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    *best = best.min(start.elapsed().as_secs_f64());
    value
}

fn parse(bytes: &[u8]) -> Dataset {
    parse_csv(bytes, "bench.csv", &ColumnSelection::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, path, repeats] = args.as_slice() else {
        usage()
    };
    let include_parse = match mode.as_str() {
        "memory" => false,
        "csv" => true,
        _ => usage(),
    };
    let repeats: usize = repeats.parse().unwrap_or_else(|_| usage());
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let loaded = parse(&bytes);

    let mut total = f64::INFINITY;
    let mut phase = [f64::INFINITY; 8];
    let mut fit = None;
    for _ in 0..repeats.max(1) {
        // The whole fit, as `occam fit` runs it (including its L-BFGS cross-check).
        fit = Some(timed(&mut total, || {
            let parsed = include_parse.then(|| parse(&bytes));
            let fit = fit_linear(parsed.as_ref().unwrap_or(&loaded), &FitOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
            Summary {
                n: fit.study.n,
                k: fit.study.feature_names.len(),
                log_evidence: fit.posterior.summary.log_evidence,
                hyperparameters: fit.posterior.hyperparameters,
                iterations: fit.evaluation.empirical_bayes_iterations,
            }
        }));
        // The same steps one at a time.
        let data = timed(&mut phase[0], || parse(&bytes));
        let transform = timed(&mut phase[1], || {
            Standardization::fit(&data, DesignOptions::default()).expect("standardisation")
        });
        let stats = timed(&mut phase[2], || {
            SufficientStats::from_dataset(&data, &transform, None, 0..data.n())
        });
        let model = timed(&mut phase[3], || {
            LinearGaussian::new(&stats).expect("eigen")
        });
        timed(&mut phase[4], || {
            PrequentialPlan::new(&data, &transform, RowOrder::AsGiven, 16).expect("prefixes")
        });
        let zero = DVector::zeros(model.k());
        let eb = timed(&mut phase[5], || {
            model.empirical_bayes(&zero, None, None).expect("EB")
        });
        timed(&mut phase[6], || model.posterior(eb.hyperparameters, &zero));
        // What a caller holding the rows in its own buffer pays to hand them to `fit_linear`
        // as an owned `Dataset` (fresh allocation, copy, finiteness check): the Python package's
        // route before it borrowed the caller's array.
        let owned = timed(&mut phase[7], || {
            Dataset::new(
                loaded.source.clone(),
                loaded.feature_names.clone(),
                loaded.target_name.clone(),
                loaded.x.to_vec(),
                loaded.y.to_vec(),
            )
            .expect("finite")
        });
        drop(owned);
    }
    let fit = fit.expect("at least one repeat");
    let h = fit.hyperparameters;
    let names = [
        "parse_csv",
        "standardize",
        "sufficient_stats",
        "eigen",
        "prequential_plan",
        "empirical_bayes",
        "posterior",
        "owned_copy",
    ];
    let phases: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(phase)
        .map(|(n, s)| (n.to_string(), s.into()))
        .collect();
    let out = serde_json::json!({
        "mode": mode,
        "n": fit.n,
        "k": fit.k,
        "seconds": total,
        "log_evidence": fit.log_evidence,
        "prior_sd": h.prior_sd(),
        "noise_sd": h.noise_sd(),
        "empirical_bayes_iterations": fit.iterations,
        "phases": phases,
    });
    println!("{out}");
}
