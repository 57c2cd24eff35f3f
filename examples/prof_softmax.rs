//! Times the softmax passes one by one (bench/README.md's per-pass figures): f + ∇f, the Hessian
//! diagonal and the P × P Fisher information, on a CSV whose last column holds class labels
//! 0…K−1 (as `occam simulate logistic --classes K` writes it), standardised on the fly (as the fit
//! reads its rows), θ = 0.01·(j mod 7). The f + ∇f pass is timed on the fly and then on the packed
//! design ([`SoftmaxProblem::with_packed`], what the fit uses on all rows), and so are the others.
//!
//! `cargo run --release --example prof_softmax -- CSV REPEATS`
//!
//! Prints one JSON object: best [wall-clock, CPU] seconds per pass, and the Fisher kernel's GFLOP/s counted as
//! K(K−1)/2 blocks of m² multiply–adds per row (2 flops each), the work of the off-diagonal blocks.

use nalgebra::DVector;
use occam::model::logistic::Rows;
use occam::model::softmax::SoftmaxProblem;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: prof_softmax CSV REPEATS");
    std::process::exit(2)
}

/// The CPU seconds of every thread of this process so far (less sensitive to a loaded machine
/// than the wall clock).
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `t`, which outlives the call.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// The best wall-clock and the best CPU seconds of `repeats` runs of `f`, and its last value.
fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> ([f64; 2], T) {
    let mut best = [f64::INFINITY; 2];
    let mut value = None;
    for _ in 0..repeats.max(1) {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        value = Some(f());
        best[0] = best[0].min(start.elapsed().as_secs_f64());
        best[1] = best[1].min(cpu_seconds() - cpu);
    }
    (best, value.expect("one repeat"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, repeats] = args.as_slice() else {
        usage()
    };
    let repeats: usize = repeats.parse().unwrap_or_else(|_| usage());
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let width = lines.next().expect("a header").split(',').count();
    let k = width - 1;
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.is_empty()) {
        let values: Vec<f64> = line
            .split(',')
            .map(|v| v.parse().expect("a number"))
            .collect();
        x.extend_from_slice(&values[..k]);
        labels.push(values[k] as usize);
    }
    let n = labels.len();
    let classes = labels.iter().max().expect("rows") + 1;
    let (mut shift, mut inv_scale) = (vec![0.0; k], vec![0.0; k]);
    for j in 0..k {
        let mean = (0..n).map(|i| x[i * k + j]).sum::<f64>() / n as f64;
        let var = (0..n).map(|i| (x[i * k + j] - mean).powi(2)).sum::<f64>() / n as f64;
        shift[j] = mean;
        inv_scale[j] = 1.0 / var.sqrt();
    }
    let m = k + 1;
    let p = classes * m;
    let center = DVector::zeros(p);
    let precision = DVector::from_element(p, 1.0);
    let problem = SoftmaxProblem::new(
        Rows::standardized(&x, k, &shift, &inv_scale),
        &labels,
        classes,
        true,
        &center,
        &precision,
    );
    let theta = DVector::from_fn(p, |j, _| 0.01 * (j % 7) as f64);
    let (pass, _) = best(repeats, || problem.likelihood_and_gradient(&theta));
    let (pack, packed) = best(1, || problem.packed_design());
    let problem = problem.with_packed(&packed);
    let (packed_pass, _) = best(repeats, || problem.likelihood_and_gradient(&theta));
    let (diagonal, _) = best(repeats, || problem.hessian_diagonal(&theta));
    let (fisher, h) = best(repeats, || problem.fisher_information(&theta));
    let flops = 2.0 * (classes * (classes - 1) / 2) as f64 * (m * m) as f64 * n as f64;
    let out = serde_json::json!({
        "n": n, "k": k, "classes": classes, "threads": occam::linalg::threads(),
        "likelihood_and_gradient_s": pass,
        "pack_design_s": pack,
        "likelihood_and_gradient_packed_s": packed_pass,
        "hessian_diagonal_s": diagonal,
        "fisher_information_s": fisher,
        "fisher_gflops": flops / fisher[0] / 1e9,
        "fisher_gflops_per_cpu_second": flops / fisher[1] / 1e9,
        "fisher_trace": h.trace(),
    });
    println!("{out}");
}
