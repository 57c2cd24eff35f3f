//! Criterion benches of logistic regression under a Gaussian prior: MAP + Laplace evidence on
//! 100 000 × 50 simulated rows, in memory, as `occam fit --model logistic --prior-sd 1
//! --intercept free --codes none` runs it, and the two kernels the fit is made of. Run with
//! `cargo bench --bench logistic`.
//!
//! The data are `occam simulate logistic --n 100000 --k 50 --seed 3 --weight-scale 0.3` (the
//! data of bench/compare_sklearn.py's logistic comparison), made in memory.

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::DVector;
use occam::codelength::CodeSelection;
use occam::fit::{fit_logistic, FitOptions, LogisticStudy};
use occam::model::logistic::{LogisticProblem, Rows};
use occam::model::Intercept;
use occam::prior::SdSpec;
use occam::simulate::{simulate, SimulationSpec, Teacher};
use std::hint::black_box;
use std::time::Duration;

fn logistic(c: &mut Criterion) {
    let (data, _) = simulate(&SimulationSpec {
        teacher: Teacher::Logistic,
        n: 100_000,
        k: 50,
        weight_center: 0.0,
        weight_scale: 0.3,
        intercept: 0.0,
        noise_sd: 1.0,
        seed: 3,
    })
    .expect("simulated data");
    let options = FitOptions {
        prior_sd: SdSpec::Fixed(1.0),
        intercept: Intercept::Free,
        codes: CodeSelection::MIXTURE_ONLY,
        ..Default::default()
    };

    // The kernels at the mode: one pass for ℓ and ∇ℓ, and the Fisher information X̃ᵀSX̃.
    let fit = fit_logistic(&data, &options).expect("a mode");
    let theta = fit.mode.params.clone();
    let study = &fit.study;
    let inv_scale: Vec<f64> = study
        .transform
        .feature_scale
        .iter()
        .map(|s| 1.0 / s)
        .collect();
    let rows = Rows::standardized(&data.x, 50, &study.transform.feature_shift, &inv_scale);
    let center = DVector::zeros(51);
    let mut precision = DVector::from_element(51, 1.0);
    precision[50] = 0.0;
    let problem = LogisticProblem::on_rows(rows, &study.target.labels, true, &center, &precision);

    let mut group = c.benchmark_group("logistic_100k_x_50");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    group.bench_function("fit_logistic", |b| {
        b.iter(|| fit_logistic(black_box(&data), &options).expect("a mode"))
    });
    group.bench_function("study_borrowing", |b| {
        b.iter(|| LogisticStudy::borrowing(black_box(&data), &options).expect("a study"))
    });
    group.bench_function("likelihood_and_gradient", |b| {
        b.iter(|| problem.likelihood_and_gradient(black_box(&theta)))
    });
    group.bench_function("fisher_information", |b| {
        b.iter(|| problem.fisher_information(black_box(&theta)))
    });
    group.finish();
}

criterion_group!(benches, logistic);
criterion_main!(benches);
