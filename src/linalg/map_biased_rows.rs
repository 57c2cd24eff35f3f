//! a ← a + b and h ← φ(a), row by row, compiled for the widest vectors the CPU has.

/// `pre` ← `pre` + `bias` on every row (rows of `bias.len()` entries) and `out` ← φ(`pre`),
/// elementwise. On x86-64 CPUs with AVX-512 or AVX2 the same loop is compiled for 8- or 4-wide
/// vectors; φ must be plain IEEE arithmetic without fused multiply-add (as the kernels of
/// [`crate::special`] are), so the bits are the same at every width.
pub(crate) fn map_biased_rows<F>(bias: &[f64], pre: &mut [f64], out: &mut [f64], phi: F)
where
    F: Fn(f64) -> f64 + Copy,
{
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { map_biased_rows_avx512(bias, pre, out, phi) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { map_biased_rows_avx2(bias, pre, out, phi) };
            return;
        }
    }
    map_biased_rows_portable(bias, pre, out, phi);
}

/// [`map_biased_rows_portable`] compiled for AVX-512F.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn map_biased_rows_avx512<F>(bias: &[f64], pre: &mut [f64], out: &mut [f64], phi: F)
where
    F: Fn(f64) -> f64 + Copy,
{
    map_biased_rows_portable(bias, pre, out, phi);
}

/// [`map_biased_rows_portable`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn map_biased_rows_avx2<F>(bias: &[f64], pre: &mut [f64], out: &mut [f64], phi: F)
where
    F: Fn(f64) -> f64 + Copy,
{
    map_biased_rows_portable(bias, pre, out, phi);
}

/// See [`map_biased_rows`] (inlined into each of its vector widths).
#[inline(always)]
fn map_biased_rows_portable<F>(bias: &[f64], pre: &mut [f64], out: &mut [f64], phi: F)
where
    F: Fn(f64) -> f64 + Copy,
{
    let width = bias.len();
    for (p, h) in pre.chunks_exact_mut(width).zip(out.chunks_exact_mut(width)) {
        for ((a, o), b) in p.iter_mut().zip(h.iter_mut()).zip(bias) {
            *a += b;
            *o = phi(*a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{logistic_kernel, tanh_kernel};

    /// The dispatched, portable and every available vector width's results for φ, compared bit for
    /// bit (φ a concrete function, so each width's loop is vectorised as in use).
    fn assert_every_width_agrees<F: Fn(f64) -> f64 + Copy>(name: &str, phi: F) {
        let bias = [0.3, -1.2, 0.0];
        let pre: Vec<f64> = (0..3 * 101)
            .map(|i| (f64::from(i) * 0.731).sin() * 9.0)
            .collect();
        let (mut p1, mut h1) = (pre.clone(), vec![0.0; pre.len()]);
        let (mut p2, mut h2) = (pre.clone(), vec![0.0; pre.len()]);
        map_biased_rows(&bias, &mut p1, &mut h1, phi);
        map_biased_rows_portable(&bias, &mut p2, &mut h2, phi);
        assert_eq!((&p1, &h1), (&p2, &h2), "{name}");
        #[cfg(target_arch = "x86_64")]
        for (feature, available) in [
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ] {
            if !available {
                continue;
            }
            let (mut p3, mut h3) = (pre.clone(), vec![0.0; pre.len()]);
            // SAFETY: the CPU has the feature, checked just above.
            unsafe {
                if feature == "avx2" {
                    map_biased_rows_avx2(&bias, &mut p3, &mut h3, phi);
                } else {
                    map_biased_rows_avx512(&bias, &mut p3, &mut h3, phi);
                }
            }
            assert_eq!((&p3, &h3), (&p2, &h2), "{name} {feature}");
        }
    }

    #[test]
    fn every_vector_width_gives_the_same_bits() {
        assert_every_width_agrees("tanh", tanh_kernel);
        assert_every_width_agrees("sigmoid", logistic_kernel);
        assert_every_width_agrees("relu", |a: f64| a.max(0.0));
    }
}
