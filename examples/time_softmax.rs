//! Times occam's multinomial (softmax) fit for bench/compare_sklearn.py; prints one JSON object.
//!
//! `cargo run --release --example time_softmax -- CSV REPEATS`
//!
//! The CSV is parsed once, untimed; then `fit_softmax` on the in-memory data is timed with a fixed
//! prior sd s = 1 on every weight and intercept (`shared`, the default) and only the mixture code
//! (the Laplace evidence), as `occam fit --model logistic --prior-sd 1 --codes none` runs it on a
//! target with K ≥ 3 classes.
//!
//! `seconds` is the best of REPEATS; `parse_csv` the best parse time. `weights` (K × k) and
//! `intercept` (K) are the MAP in standardised units (class-major θ, intercept last in each class).

use occam::codelength::CodeSelection;
use occam::data::{parse_csv, ColumnSelection, Dataset};
use occam::fit::{fit_softmax, FitOptions, Study};
use occam::model::Intercept;
use occam::prior::SdSpec;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: time_softmax CSV REPEATS");
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
    let [path, repeats] = args.as_slice() else {
        usage()
    };
    let repeats: usize = repeats.parse().unwrap_or_else(|_| usage());
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let options = FitOptions {
        prior_sd: SdSpec::Fixed(1.0),
        // The CLI's default for logistic (FitOptions::default() is linear's `centered`).
        intercept: Intercept::Shared,
        codes: CodeSelection::MIXTURE_ONLY,
        ..Default::default()
    };
    let (mut total, mut parse_best) = (f64::INFINITY, f64::INFINITY);
    let data = parse(&bytes);
    let mut fit = None;
    for _ in 0..repeats.max(1) {
        fit = Some(timed(&mut total, || {
            fit_softmax(&data, &options).unwrap_or_else(|e| panic!("{e}"))
        }));
        drop(timed(&mut parse_best, || parse(&bytes)));
    }
    let fit = fit.expect("at least one repeat");
    let classes = fit.study.classes();
    let info = fit.study.info();
    let k = info.feature_names.len();
    let params = fit.mode.params.as_slice();
    let m = params.len() / classes;
    let weights: Vec<&[f64]> = (0..classes).map(|c| &params[c * m..c * m + k]).collect();
    let intercept: Vec<f64> = (0..classes)
        .map(|c| if m > k { params[c * m + k] } else { 0.0 })
        .collect();
    let out = serde_json::json!({
        "n": info.n,
        "k": k,
        "classes": classes,
        "seconds": total,
        "parse_csv": parse_best,
        "log_evidence": fit.laplace.log_evidence,
        "weights": weights,
        "intercept": intercept,
        "lbfgs_iterations": fit.mode.lbfgs_iterations,
        "newton_iterations": fit.mode.newton_iterations,
    });
    println!("{out}");
}
