//! Shared helpers for unit tests: random designs from a fixed seed.

use crate::data::SufficientStats;
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A random n×k design with unit-normal entries and y = Xw + noise, w and noise unit-normal.
pub fn random_design(n: usize, k: usize, seed: u64) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = || -> f64 { StandardNormal.sample(&mut rng) };
    let x = DMatrix::from_fn(n, k, |_, _| draw());
    let w = DVector::from_fn(k, |_, _| draw());
    let noise = DVector::from_fn(n, |_, _| draw());
    let y = &x * w + noise;
    (x, y)
}

/// The sufficient statistics of [`random_design`], with the design.
pub fn random_stats(
    n: usize,
    k: usize,
    seed: u64,
) -> (SufficientStats, (DMatrix<f64>, DVector<f64>)) {
    let (x, y) = random_design(n, k, seed);
    // x is column-major; its transpose's storage is x row-major.
    let stats = SufficientStats::from_rows(x.transpose().as_slice(), y.as_slice(), k);
    (stats, (x, y))
}
