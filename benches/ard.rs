//! Criterion benches of ARD (`occam fit --prior ard`: one prior sd per feature, math.md §8) at
//! n = 200 000, k = 100, in memory, on deterministic synthetic data: the sufficient statistics
//! (one pass, XᵀX on all cores), empirical Bayes over the 100 groups from those statistics
//! (MacKay's fixed point, revival of pruned groups, stationarity check), one posterior (one
//! Cholesky factor of A = Λ + βXᵀX and diag(A⁻¹)), and the whole fit with `--codes none`.
//! Run with `cargo bench --bench ard`; bench/compare_ard.py sets it against scikit-learn.

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::DVector;
use occam::codelength::CodeSelection;
use occam::data::{Dataset, DesignOptions, Standardization, SufficientStats};
use occam::fit::{fit_grouped_linear, FitOptions};
use occam::inference::grouped::{fixed_precisions, GroupedLinear};
use occam::prior::groups::{ParameterInfo, PriorStructure};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::hint::black_box;
use std::time::Duration;

/// x ~ N(0, I) with unequal means and scales, w ~ N(0, 1) except every tenth weight 0 (so ARD
/// prunes some), y = Xw + noise; the same for a given seed.
fn synthetic(n: usize, k: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || -> f64 { rng.sample(StandardNormal) };
    let weights: Vec<f64> = (0..k)
        .map(|j| if j % 10 == 0 { 0.0 } else { normal() })
        .collect();
    let mut x = Vec::with_capacity(n * k);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..k)
            .map(|j| j as f64 * 0.1 + (1.0 + j as f64 / k as f64) * normal())
            .collect();
        y.push(row.iter().zip(&weights).map(|(a, b)| a * b).sum::<f64>() + normal());
        x.extend(row);
    }
    let names = (0..k).map(|j| format!("x{j}")).collect();
    Dataset::new("synthetic", names, "y", x, y).expect("finite synthetic data")
}

fn ard(c: &mut Criterion) {
    let (n, k) = (200_000, 100);
    let data = synthetic(n, k, 1);
    let transform =
        Standardization::fit(&data, DesignOptions::default()).expect("no constant feature");
    let stats = SufficientStats::from_dataset(&data, &transform, None, 0..n);
    let structure = PriorStructure::parse("ard").expect("ard parses");
    let groups = structure
        .resolve(&ParameterInfo::glm(&data.feature_names, false))
        .expect("one group per feature");
    let fixed = fixed_precisions(&groups);
    let model = GroupedLinear::from_groups(&stats, &groups, DVector::zeros(k)).expect("groups");
    let eb = model.empirical_bayes(&fixed, None).expect("EB converges");
    let options = FitOptions {
        codes: CodeSelection {
            prequential: false,
            two_part: false,
            bic: false,
        },
        prior: Some(structure.clone()),
        ..FitOptions::default()
    };

    let mut group = c.benchmark_group("ard_200k_x_100");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("sufficient_stats", |b| {
        b.iter(|| SufficientStats::from_dataset(black_box(&data), &transform, None, 0..n))
    });
    group.bench_function("empirical_bayes", |b| {
        b.iter(|| model.empirical_bayes(black_box(&fixed), None).expect("EB"))
    });
    group.bench_function("posterior", |b| {
        b.iter(|| {
            model
                .posterior(black_box(&eb.precisions), eb.noise_precision)
                .expect("posterior")
        })
    });
    group.bench_function("fit_codes_none", |b| {
        b.iter(|| fit_grouped_linear(black_box(&data), &options, &structure).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, ard);
criterion_main!(benches);
