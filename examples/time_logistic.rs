//! Times occam's logistic fit for bench/compare_sklearn.py; prints one JSON object.
//!
//! `cargo run --release --example time_logistic -- CSV REPEATS`
//!
//! The CSV is parsed once, untimed; then `fit_logistic` on the in-memory data is timed with a fixed
//! prior sd s = 1, a free (flat-prior) intercept and only the mixture code (the Laplace evidence),
//! as `occam fit --model logistic --prior-sd 1 --intercept free --codes none` runs it.
//!
//! `seconds` is the best of REPEATS; `phases` is the best of REPEATS for each step of the fit done
//! one at a time (parse, `LogisticStudy::borrowing`, the evaluation: mode, Hessian, Laplace evidence), to
//! show where the time goes. `weights` and `intercept` are the MAP in standardised units.

use occam::codelength::CodeSelection;
use occam::data::{parse_csv, ColumnSelection, Dataset};
use occam::fit::{fit_logistic, FitOptions, LogisticStudy, Study};
use occam::model::Intercept;
use occam::prior::SdSpec;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: time_logistic CSV REPEATS");
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
        intercept: Intercept::Free,
        codes: CodeSelection::MIXTURE_ONLY,
        ..Default::default()
    };

    let mut total = f64::INFINITY;
    let mut phase = [f64::INFINITY; 3];
    let mut fit = None;
    let data = parse(&bytes);
    for _ in 0..repeats.max(1) {
        fit = Some(timed(&mut total, || {
            fit_logistic(&data, &options).unwrap_or_else(|e| panic!("{e}"))
        }));
        // The same steps one at a time.
        drop(timed(&mut phase[0], || parse(&bytes)));
        let study = timed(&mut phase[1], || {
            LogisticStudy::borrowing(&data, &options).expect("study")
        });
        timed(&mut phase[2], || {
            let center = study
                .resolve_center(&options.center, options.prior_sd)
                .expect("centre");
            study
                .evaluate(
                    &options.center,
                    center,
                    options.prior_sd,
                    occam::prior::SdSpec::Auto,
                    None,
                )
                .expect("evaluate")
        });
    }
    let fit = fit.expect("at least one repeat");
    let k = fit.study.info().feature_names.len();
    let params = fit.mode.params.as_slice();
    let names = ["parse_csv", "study_new", "evaluate"];
    let phases: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .zip(phase)
        .map(|(n, s)| (n.to_string(), s.into()))
        .collect();
    let out = serde_json::json!({
        "n": fit.study.info().n,
        "k": k,
        "seconds": total,
        "log_evidence": fit.laplace.log_evidence,
        "weights": &params[..k],
        "intercept": params[k],
        "lbfgs_iterations": fit.mode.lbfgs_iterations,
        "newton_iterations": fit.mode.newton_iterations,
        "phases": phases,
    });
    println!("{out}");
}
