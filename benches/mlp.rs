//! Criterion benches of the network fit at the size of issue 5's speed goal: a 10-32-32-1 tanh
//! regression network (P = 1441) on n = 5000 rows simulated from a teacher of the same shape
//! (`occam simulate mlp --k 10 --hidden 32,32 --weight-scale 0.2 --noise-sd 0.5 --seed 1`), fitted
//! with one start at the teacher's prior sd and noise sd (no empirical Bayes, no extra codes):
//! MAP + Laplace evidence with the GGN (goal < 2 s on 2 cores) and with the exact Hessian
//! (goal < 10 s); and 10-128-128-1 and 10-256-256-1 networks on the same data with
//! `--hessian kfac` (issue 19). Run with `cargo bench --bench mlp`.
//!
//! (A sharper teacher, weight scale 0.5 and noise sd 0.1, is a harder search: from seed 0 it is
//! still descending after 1500 iterations, and the fit fails rather than report a non-mode.)

use criterion::{criterion_group, criterion_main, Criterion};
use occam::codelength::CodeSelection;
use occam::fit::mlp::{HessianKind, MlpOptions};
use occam::fit::{fit_mlp, FitOptions};
use occam::model::mlp::{Activation, Task};
use occam::model::Intercept;
use occam::prior::SdSpec;
use occam::simulate::{simulate_mlp, SimulationSpec, Teacher, TeacherNetwork};
use std::hint::black_box;
use std::time::Duration;

fn options(hessian: HessianKind) -> FitOptions {
    options_with(hessian, vec![32, 32])
}

fn options_with(hessian: HessianKind, hidden: Vec<usize>) -> FitOptions {
    FitOptions {
        prior_sd: SdSpec::Fixed(0.2),
        noise_sd: SdSpec::Fixed(0.5),
        intercept: Intercept::Shared,
        codes: CodeSelection::MIXTURE_ONLY,
        mlp: MlpOptions {
            hidden,
            activation: Activation::Tanh,
            task: Some(Task::Regression),
            restarts: 1,
            seed: 0,
            hessian,
            ..MlpOptions::default()
        },
        ..FitOptions::default()
    }
}

fn network(c: &mut Criterion) {
    let spec = SimulationSpec {
        teacher: Teacher::Mlp,
        n: 5000,
        k: 10,
        weight_center: 0.0,
        weight_scale: 0.2,
        intercept: 0.0,
        noise_sd: 0.5,
        seed: 1,
    };
    let teacher = TeacherNetwork {
        hidden: vec![32, 32],
        activation: Activation::Tanh,
        task: Task::Regression,
        outputs: 1,
    };
    let (data, _) = simulate_mlp(&spec, &teacher).expect("a valid teacher");
    let mut group = c.benchmark_group("mlp_10_32_32_1_tanh_5000");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    group.bench_function("map_and_ggn_laplace", |b| {
        b.iter(|| fit_mlp(black_box(&data), &options(HessianKind::Ggn)).expect("a mode"))
    });
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("map_and_exact_hessian_laplace", |b| {
        b.iter(|| fit_mlp(black_box(&data), &options(HessianKind::Exact)).expect("a mode"))
    });
    group.finish();
    // Issue 19: the same data fitted by wider networks under KFAC (the KFAC-whitened search, no
    // P × P matrix): 10-128-128-1 (P = 18 049, goal ≤ 30 s) and 10-256-256-1 (P = 68 353, goal
    // ≤ 2 min). Criterion's least sample count (10): several minutes per size.
    let mut wide = c.benchmark_group("mlp_kfac_tanh_5000");
    wide.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for width in [128, 256] {
        wide.bench_function(format!("map_and_kfac_laplace_10_{width}_{width}_1"), |b| {
            b.iter(|| {
                fit_mlp(
                    black_box(&data),
                    &options_with(HessianKind::Kfac, vec![width, width]),
                )
                .expect("a mode")
            })
        });
    }
    wide.finish();
}

criterion_group!(benches, network);
criterion_main!(benches);
