//! Criterion benches of the linear-Gaussian pipeline at n = 200 000, k = 100, and of CSV parsing
//! at 100 000 × 50, on deterministic synthetic data. Run with `cargo bench --bench linear`.

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::DVector;
use occam::codelength::linear::PrequentialPlan;
use occam::codelength::RowOrder;
use occam::data::{
    parse_csv, ColumnSelection, Dataset, DesignOptions, Standardization, SufficientStats,
};
use occam::fit::{fit_linear, FitOptions};
use occam::inference::LinearGaussian;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

/// Features with unequal means and scales, target = Xw + noise; the same for a given seed.
fn synthetic(n: usize, k: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || -> f64 { rng.sample(StandardNormal) };
    let weights: Vec<f64> = (0..k).map(|_| normal()).collect();
    let mut x = Vec::with_capacity(n * k);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..k)
            .map(|j| j as f64 * 0.1 + (1.0 + j as f64 / k as f64) * normal())
            .collect();
        y.push(row.iter().zip(&weights).map(|(a, b)| a * b).sum::<f64>() + 3.0 * normal());
        x.extend(row);
    }
    let names = (0..k).map(|j| format!("x{j}")).collect();
    Dataset::new("synthetic", names, "y", x, y).expect("finite synthetic data")
}

/// The data set as CSV text (header x0..x{k-1},y; shortest round-trip floats, as pandas writes).
fn to_csv(data: &Dataset) -> String {
    let mut text = data.feature_names.join(",") + ",y\n";
    for i in 0..data.n() {
        for v in data.row(i) {
            write!(text, "{v},").expect("writing to a String");
        }
        writeln!(text, "{}", data.y[i]).expect("writing to a String");
    }
    text
}

fn pipeline(c: &mut Criterion) {
    let data = synthetic(200_000, 100, 1);
    let transform =
        Standardization::fit(&data, DesignOptions::default()).expect("no constant feature");
    let stats = SufficientStats::from_dataset(&data, &transform, None, 0..data.n());
    let model = LinearGaussian::new(&stats).expect("finite statistics");
    let zero = DVector::zeros(100);

    let mut group = c.benchmark_group("linear_200k_x_100");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.bench_function("standardization_fit", |b| {
        b.iter(|| Standardization::fit(black_box(&data), DesignOptions::default()))
    });
    group.bench_function("sufficient_stats_from_dataset", |b| {
        b.iter(|| SufficientStats::from_dataset(black_box(&data), &transform, None, 0..data.n()))
    });
    group.bench_function("prequential_plan", |b| {
        b.iter(|| PrequentialPlan::new(black_box(&data), &transform, RowOrder::AsGiven, 16))
    });
    group.bench_function("eigen_plus_empirical_bayes", |b| {
        b.iter(|| {
            let model = LinearGaussian::new(black_box(&stats)).expect("finite statistics");
            model.empirical_bayes(&zero, None, None).expect("converges")
        })
    });
    group.bench_function("empirical_bayes_only", |b| {
        b.iter(|| {
            model
                .empirical_bayes(black_box(&zero), None, None)
                .expect("converges")
        })
    });
    group.bench_function("fit_linear", |b| {
        b.iter(|| fit_linear(black_box(&data), &FitOptions::default()).expect("fits"))
    });
    group.finish();
}

fn csv_parsing(c: &mut Criterion) {
    let text = to_csv(&synthetic(100_000, 50, 2));
    let mut group = c.benchmark_group("csv_100k_x_50");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    group.throughput(criterion::Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_csv", |b| {
        b.iter(|| {
            parse_csv(
                black_box(text.as_bytes()),
                "bench.csv",
                &ColumnSelection::default(),
            )
            .expect("parses")
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline, csv_parsing);
criterion_main!(benches);
