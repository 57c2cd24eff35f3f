//! Criterion benches of the dense factorisations behind the network's Laplace evidence and its
//! search's preconditioner, against faer 0.24, both sequential (`Par::Seq` on both sides): the
//! blocked Cholesky factor, the inverse of that factor, and extremal eigenvalues (occam: Lanczos
//! on the factor; faer: the full self-adjoint eigendecomposition's eigenvalues). Sizes: P = 1441
//! (a 10-32-32-1 network, `benches/mlp.rs`) and P = 2883 (10-64-32-1); set
//! `OCCAM_BENCH_LARGE=1` to add P = 5001 (10-64-64-1; each call takes seconds). Run with
//! `cargo bench --bench factorisation`; the numbers and the decision are in bench/README.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use faer::linalg::triangular_inverse::invert_lower_triangular;
use faer::{Mat, Side};
use nalgebra::DMatrix;
use occam::inference::curvature::Factored;
use occam::linalg::{Cholesky, Par};
use occam::random::Stream;
use std::hint::black_box;
use std::time::Duration;

/// A well-conditioned SPD matrix AAᵀ/q + I (row-major; symmetric, so also column-major).
fn spd(p: usize) -> Vec<f64> {
    let q = 64;
    let mut s = Stream::from_seed(11);
    let a: Vec<f64> = (0..p * q).map(|_| s.normal()).collect();
    let mut h = vec![0.0; p * p];
    occam::linalg::gram_into(&transpose(&a, p, q), p, &mut h);
    for (i, v) in h.iter_mut().enumerate() {
        *v /= q as f64;
        if i % (p + 1) == 0 {
            *v += 1.0;
        }
    }
    h
}

fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    (0..rows * cols)
        .map(|ij| a[(ij % rows) * cols + ij / rows])
        .collect()
}

/// Whether occam's and faer's factors agree bit for bit, and their largest difference.
fn compare_factors(p: usize, h: &[f64]) {
    let ours = Cholesky::new(h.to_vec(), p, Par::Seq)
        .expect("SPD")
        .into_lower();
    let m = Mat::from_fn(p, p, |i, j| h[i * p + j]);
    let theirs = m.llt(Side::Lower).expect("SPD");
    let l = theirs.L();
    let (mut identical, mut worst) = (true, 0.0f64);
    for i in 0..p {
        for j in 0..=i {
            let (a, b) = (ours[i * p + j], l[(i, j)]);
            identical &= a.to_bits() == b.to_bits();
            worst = worst.max((a - b).abs() / b.abs().max(1e-300));
        }
    }
    println!(
        "P = {p}: factors bit-identical: {identical}, largest relative difference {worst:.1e}"
    );
}

fn factorisations(c: &mut Criterion) {
    faer::set_global_parallelism(faer::Par::Seq);
    let mut sizes = vec![1441, 2883];
    if std::env::var_os("OCCAM_BENCH_LARGE").is_some() {
        sizes.push(5001);
    }
    let mut group = c.benchmark_group("factorisation");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for p in sizes {
        let h = spd(p);
        compare_factors(p, &h);
        let m = Mat::from_fn(p, p, |i, j| h[i * p + j]);
        group.bench_with_input(BenchmarkId::new("cholesky/occam", p), &h, |b, h| {
            b.iter(|| black_box(Cholesky::new(h.clone(), p, Par::Seq)))
        });
        group.bench_with_input(BenchmarkId::new("cholesky/faer", p), &m, |b, m| {
            b.iter(|| black_box(m.llt(Side::Lower).expect("SPD")))
        });
        let ours = Cholesky::new(h.clone(), p, Par::Seq).expect("SPD");
        group.bench_with_input(BenchmarkId::new("lower_inverse/occam", p), &ours, |b, f| {
            b.iter(|| black_box(f.lower_inverse(Par::Seq)))
        });
        let l = m.llt(Side::Lower).expect("SPD").L().to_owned();
        group.bench_with_input(BenchmarkId::new("lower_inverse/faer", p), &l, |b, l| {
            b.iter(|| {
                let mut inverse = Mat::<f64>::zeros(p, p);
                invert_lower_triangular(inverse.as_mut(), l.as_ref(), faer::Par::Seq);
                black_box(inverse)
            })
        });
        let factored = Factored::new(&DMatrix::from_row_slice(p, p, &h)).expect("SPD");
        group.bench_with_input(
            BenchmarkId::new("extremal_eigenvalues/occam_lanczos", p),
            &factored,
            |b, f| b.iter(|| black_box(f.extremal_eigenvalues())),
        );
        group.bench_with_input(
            BenchmarkId::new("eigenvalues/faer_self_adjoint", p),
            &m,
            |b, m| b.iter(|| black_box(m.self_adjoint_eigenvalues(Side::Lower).expect("EVD"))),
        );
    }
    group.finish();
}

criterion_group!(benches, factorisations);
criterion_main!(benches);
