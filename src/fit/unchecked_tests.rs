//! The linear entries on unchecked rows ([`crate::data::UncheckedView`]) against the same entries
//! on checked rows: the same numbers bit for bit, and the same error for every non-finite value
//! wherever it sits (first row, last row, a middle block, the target) and for finite values whose
//! sums overflow.

use super::{fit_linear, fit_linear_unchecked, FitOptions, LinearFit, LinearStudy};
use crate::data::{DataView, ShardStats};
use crate::model::Intercept;

/// More rows than two of `map_row_blocks`' blocks (8192), so the pass merges blocks and runs.
const N: usize = 20_000;
const K: usize = 3;

fn names() -> Vec<String> {
    (0..K).map(|j| format!("x{j}")).collect()
}

/// Deterministic rows with unequal means and scales (one column's mean dwarfs its sd), and a
/// target linear in them plus a wiggle.
fn rows() -> (Vec<f64>, Vec<f64>) {
    let mut x = Vec::with_capacity(N * K);
    let mut y = Vec::with_capacity(N);
    for i in 0..N {
        let r: Vec<f64> = (0..K)
            .map(|j| {
                let u = (i as f64 * (1.3 + 0.17 * j as f64) + j as f64).sin();
                [1.0, 40.0, 0.01][j] * u + [0.0, -7.0, 1e4][j]
            })
            .collect();
        y.push(0.8 * r[0] - 0.03 * r[1] + 50.0 * r[2] + (i as f64 * 2.1).cos());
        x.extend(r);
    }
    (x, y)
}

/// Everything a linear fit computed, printed (Debug prints every f64 shortest-round-trip, so
/// equal text is equal bits).
fn printed(fit: &LinearFit<'_>) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        fit.study.transform,
        fit.study.stats(),
        fit.evaluation,
        fit.posterior,
        fit.optimizer_check,
        fit.notes
    )
}

fn options_variants() -> Vec<FitOptions> {
    let raw = FitOptions {
        standardize: false,
        intercept: Intercept::None,
        ..FitOptions::default()
    };
    vec![FitOptions::default(), raw]
}

#[test]
fn unchecked_rows_fit_bit_for_bit_as_checked_rows() {
    let (x, y) = rows();
    let names = names();
    for options in options_variants() {
        let checked = DataView::new("t", &names, "y", &x, &y, &[]).unwrap();
        let unchecked = DataView::unchecked("t", &names, "y", &x, &y, &[]).unwrap();
        let a = fit_linear(checked, &options).unwrap();
        let b = fit_linear_unchecked(unchecked, &options).unwrap();
        assert_eq!(printed(&a), printed(&b));
        assert!(a.posterior.summary.log_evidence.is_finite());
        let study = LinearStudy::from_unchecked(unchecked, &options).unwrap();
        assert_eq!(
            format!("{:?}", study.transform),
            format!("{:?}", a.study.transform)
        );
    }
    let checked = DataView::new("t", &names, "y", &x, &y, &[]).unwrap();
    let unchecked = DataView::unchecked("t", &names, "y", &x, &y, &[]).unwrap();
    assert_eq!(
        ShardStats::from_unchecked(unchecked).unwrap(),
        ShardStats::from_view(checked).unwrap()
    );
    assert_eq!(unchecked.check().unwrap(), checked);
}

/// The error of every linear entry on unchecked rows, and `DataView::new`'s on the same values.
fn errors(x: &[f64], y: &[f64], options: &FitOptions) -> (Vec<String>, String) {
    let names = names();
    let view = DataView::unchecked("t", &names, "y", x, y, &[]).unwrap();
    let expected = DataView::new("t", &names, "y", x, y, &[])
        .map(|_| "accepted".to_string())
        .unwrap_or_else(|e| e.to_string());
    let got = vec![
        fit_linear_unchecked(view, options)
            .map(|_| "fitted".to_string())
            .unwrap_or_else(|e| e.to_string()),
        LinearStudy::from_unchecked(view, options)
            .map(|_| "studied".to_string())
            .unwrap_or_else(|e| e.to_string()),
        ShardStats::from_unchecked(view)
            .map(|_| "summed".to_string())
            .unwrap_or_else(|e| e.to_string()),
        view.check()
            .map(|_| "accepted".to_string())
            .unwrap_or_else(|e| e.to_string()),
    ];
    (got, expected)
}

#[test]
fn a_non_finite_value_anywhere_is_refused_as_the_checked_rows_refuse_it() {
    let (x0, y0) = rows();
    let last = N * K - 1;
    // (position in x, value): the first value, the first row's last, a middle row in the second
    // block, the last row's first, the very last.
    let spots = [0, K - 1, 9000 * K + 1, (N - 1) * K, last];
    for options in options_variants() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for &at in &spots {
                let mut x = x0.clone();
                x[at] = bad;
                let (got, expected) = errors(&x, &y0, &options);
                assert!(
                    expected.contains(&format!("value number {at} is not finite")),
                    "{expected}"
                );
                assert_eq!(got, vec![expected; 4], "x[{at}] = {bad}");
            }
            for at in [0, N / 2, N - 1] {
                let mut y = y0.clone();
                y[at] = bad;
                let (got, expected) = errors(&x0, &y, &options);
                assert!(
                    expected.contains(&format!("value number {} is not finite", N * K + at)),
                    "{expected}"
                );
                assert_eq!(got, vec![expected; 4], "y[{at}] = {bad}");
            }
        }
        // +∞ and −∞ in one column, in different blocks (their sum is NaN), and a NaN in x
        // after a non-finite y: x's comes first, as the checked rows say.
        let mut x = x0.clone();
        x[100 * K + 1] = f64::INFINITY;
        x[15_000 * K + 1] = f64::NEG_INFINITY;
        let (got, expected) = errors(&x, &y0, &options);
        assert!(expected.contains(&format!("value number {} ", 100 * K + 1)));
        assert_eq!(got, vec![expected; 4]);
        let mut y = y0.clone();
        y[0] = f64::NAN;
        x[100 * K + 1] = x0[100 * K + 1];
        let (got, expected) = errors(&x, &y, &options);
        assert!(expected.contains(&format!("value number {} ", 15_000 * K + 1)));
        assert_eq!(got, vec![expected; 4]);
    }
}

#[test]
fn finite_values_whose_sums_overflow_fail_as_on_checked_rows() {
    let (x0, y0) = rows();
    let names = names();
    // Squares past the largest double (1e200² = 1e400), then sums past it (20 000 · 1.7e307),
    // then a target whose squares overflow.
    type Scale = fn(&mut [f64], &mut [f64]);
    let cases: [(&str, Scale); 3] = [
        ("squares", |x, _| {
            x.iter_mut().step_by(K).for_each(|v| *v *= 1e200);
        }),
        ("sums", |x, _| {
            x.iter_mut()
                .skip(1)
                .step_by(K)
                .for_each(|v| *v = 1.7e307 + *v * 1e300);
        }),
        ("target", |_, y| y.iter_mut().for_each(|v| *v *= 1e170)),
    ];
    for options in options_variants() {
        for (what, scale) in &cases {
            let (mut x, mut y) = (x0.clone(), y0.clone());
            scale(&mut x, &mut y);
            assert!(x.iter().chain(&y).all(|v| v.is_finite()), "{what}");
            let checked = DataView::new("t", &names, "y", &x, &y, &[]).unwrap();
            let unchecked = DataView::unchecked("t", &names, "y", &x, &y, &[]).unwrap();
            let a = fit_linear(checked, &options);
            let b = fit_linear_unchecked(unchecked, &options);
            // Never a fit with NaN in it: the checked rows' overflow error, word for word.
            let a = a.map(|fit| printed(&fit)).unwrap_err().to_string();
            let b = b.map(|fit| printed(&fit)).unwrap_err().to_string();
            assert_eq!(a, b, "{what}");
            assert!(a.contains("overflow"), "{what}: {a}");
            assert_eq!(
                format!("{:?}", ShardStats::from_unchecked(unchecked)),
                format!("{:?}", ShardStats::from_view(checked)),
                "{what}"
            );
        }
    }
}

#[test]
fn one_row_is_refused_after_its_values() {
    let names = names();
    let options = FitOptions::default();
    let x = [1.0, f64::NAN, 3.0];
    let (got, expected) = errors(&x, &[1.0], &options);
    assert!(
        expected.contains("value number 1 is not finite"),
        "{expected}"
    );
    assert_eq!(got, vec![expected; 4]);
    let x = [1.0, 2.0, 3.0];
    let unchecked = DataView::unchecked("t", &names, "y", &x, &[1.0], &[]).unwrap();
    let checked = DataView::new("t", &names, "y", &x, &[1.0], &[]).unwrap();
    let a = fit_linear(checked, &options).map(|_| ()).unwrap_err();
    let b = fit_linear_unchecked(unchecked, &options)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(a.to_string(), b.to_string());
    assert!(a.to_string().contains("only 1 data row"), "{a}");
    // The shapes are checked when the view is made.
    let short = DataView::unchecked("t", &names, "y", &x[..2], &[1.0], &[]).unwrap_err();
    assert!(short.to_string().contains("x of length n·k"), "{short}");
}
