//! Axis ranges and tick labels for the SVG drawing: padded ranges, tidy linear ticks (`0.25`,
//! `0.5×10⁶`) and log ticks by decade (`10⁻³`) or mantissa.

pub(super) fn linear_range(min: f64, max: f64) -> (f64, f64) {
    let pad = if max > min {
        (max * 0.5 - min * 0.5) * 0.1
    } else if min == 0.0 {
        1.0
    } else {
        min.abs() * 0.1
    };
    let pad = if pad > 0.0 && pad.is_finite() {
        pad
    } else {
        1.0
    };
    let lo = (min - pad).max(-f64::MAX);
    let hi = (max + pad).min(f64::MAX);
    (lo, hi)
}

pub(super) fn log_range(min: f64, max: f64) -> (f64, f64) {
    // In decades, kept where 10^x is a normal float.
    let (a, b) = (min.log10().max(-307.0), max.log10().min(308.0));
    let pad = if b > a { (b - a) * 0.05 } else { 0.3 };
    let lo = 10f64.powf((a - pad).max(-307.5));
    let hi = 10f64.powf((b + pad).min(308.2));
    if hi > lo && lo > 0.0 && hi.is_finite() {
        (lo, hi)
    } else {
        (1.0, 10.0)
    }
}

/// About six ticks at multiples of 1, 2 or 5 × 10^e, with labels of matching precision.
pub(super) fn linear_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>) {
    let fallback = || (vec![lo, hi], vec![tidy(lo, 3), tidy(hi, 3)]);
    let raw = (hi * 0.5 - lo * 0.5) / 3.0; // a sixth of the span
    if !(raw.is_finite() && raw > 0.0) {
        return fallback();
    }
    let e = raw.log10().floor() as i32;
    let mag = pow10(e);
    if !(mag.is_finite() && mag > 0.0) {
        return fallback();
    }
    // The finest of 1, 2, 5, 10 × 10^e that gives at most seven ticks.
    let count = |step: f64| (hi / step).floor() - (lo / step).ceil() + 1.0;
    let nice: i64 = [1, 2, 5]
        .into_iter()
        .find(|&n| count(n as f64 * mag) <= 7.0)
        .unwrap_or(10);
    let step = nice as f64 * mag;
    let (k0, k1) = ((lo / step).ceil(), (hi / step).floor());
    if !(k0.is_finite() && k1.is_finite() && k1 >= k0 && k1 - k0 <= 50.0) {
        return fallback();
    }
    let value = |k: i64| {
        let units = (k * nice) as f64;
        if e < 0 && pow10(-e).is_finite() {
            units / pow10(-e)
        } else {
            units * mag
        }
    };
    let ticks: Vec<f64> = (k0 as i64..=k1 as i64).map(value).collect();
    let decimals = (if nice == 10 { -e - 1 } else { -e }).max(0) as usize;
    let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let labels = if largest >= 1e5 || decimals > 4 {
        // A common power of ten: 0.5×10⁶, 1.0×10⁶, …
        let big = largest.log10().floor() as i32;
        let step_exp = if nice == 10 { e + 1 } else { e };
        let mantissa_decimals = (big - step_exp).max(0) as usize;
        let scale = pow10(big);
        ticks
            .iter()
            .map(|&t| {
                if t == 0.0 {
                    "0".to_string()
                } else {
                    format!(
                        "{}×10{}",
                        fixed(t / scale, mantissa_decimals),
                        superscript(big)
                    )
                }
            })
            .collect()
    } else {
        ticks.iter().map(|&t| fixed(t, decimals)).collect()
    };
    (ticks, labels)
}

/// Ticks on a log axis: whole decades when it spans two or more (every n-th when it spans many),
/// else 1, 2 and 5 times powers of ten, else linear ticks. Unlabelled minor ticks fill in.
pub(super) fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<String>, Vec<f64>) {
    let inside = |v: f64| v >= lo && v <= hi;
    // Bounded whatever lo and hi are: 10^±330 is zero or infinite.
    let d0 = lo.log10().floor().clamp(-330.0, 330.0) as i32;
    let d1 = hi.log10().ceil().clamp(-330.0, 330.0) as i32;
    let decades: Vec<i32> = (d0..=d1).filter(|&k| inside(pow10(k))).collect();
    if decades.len() >= 2 {
        let stride = decades.len().div_ceil(7) as i32;
        let picked: Vec<i32> = decades
            .iter()
            .copied()
            .filter(|k| k.rem_euclid(stride) == 0)
            .collect();
        let plain = picked.iter().all(|k| (-3..=4).contains(k));
        let labels = picked
            .iter()
            .map(|&k| {
                if plain {
                    fixed(pow10(k), (-k).max(0) as usize)
                } else {
                    format!("10{}", superscript(k))
                }
            })
            .collect();
        let minor = if stride == 1 {
            (d0..=d1)
                .flat_map(|k| (2..=9).map(move |m| mantissa_pow10(m, k)))
                .filter(|&v| inside(v))
                .collect()
        } else {
            decades
                .iter()
                .filter(|k| k.rem_euclid(stride) != 0)
                .map(|&k| pow10(k))
                .collect()
        };
        return (picked.iter().map(|&k| pow10(k)).collect(), labels, minor);
    }
    let mut ticks = Vec::new();
    let mut labels = Vec::new();
    let mut minor = Vec::new();
    for k in d0..=d1 {
        for m in 1..=9 {
            let v = mantissa_pow10(m, k);
            if !inside(v) {
                continue;
            }
            if [1, 2, 5].contains(&m) {
                ticks.push(v);
                labels.push(if (-3..=4).contains(&k) {
                    fixed(v, (-k).max(0) as usize)
                } else {
                    format!("{m}×10{}", superscript(k))
                });
            } else {
                minor.push(v);
            }
        }
    }
    if ticks.len() >= 3 {
        return (ticks, labels, minor);
    }
    let (ticks, labels) = linear_ticks(lo, hi);
    (ticks, labels, Vec::new())
}

/// 10^k, correctly rounded.
fn pow10(k: i32) -> f64 {
    mantissa_pow10(1, k)
}

/// m × 10^k, correctly rounded (as the decimal literal would be).
fn mantissa_pow10(m: u32, k: i32) -> f64 {
    format!("{m}e{k}").parse().unwrap_or(f64::NAN)
}

/// `v` with `decimals` decimals, a true minus sign, and never "-0".
fn fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else if let Some(rest) = s.strip_prefix('-') {
        format!("−{rest}")
    } else {
        s
    }
}

/// A short label for a value that is not a tick: `significant` significant digits, trailing
/// zeros dropped.
pub(super) fn tidy(v: f64, significant: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return fixed(if v.is_finite() { v } else { 0.0 }, 0);
    }
    let e = v.abs().log10().floor() as i32;
    if (-3..5).contains(&e) {
        let decimals = (significant as i32 - 1 - e).max(0) as usize;
        let s = fixed(v, decimals);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let m = v / pow10(e);
        let mantissa = fixed(m, significant.saturating_sub(1));
        let mantissa = if mantissa.contains('.') {
            mantissa
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            mantissa
        };
        format!("{mantissa}×10{}", superscript(e))
    }
}

fn superscript(k: i32) -> String {
    k.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_tick_labels_are_tidy() {
        let (_, labels) = linear_ticks(0.0, 1.0);
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (_, labels) = linear_ticks(-0.35, 0.35);
        assert_eq!(labels, ["−0.3", "−0.2", "−0.1", "0.0", "0.1", "0.2", "0.3"]);
        let (_, labels) = linear_ticks(-1.0, 23.0);
        assert_eq!(labels, ["0", "5", "10", "15", "20"]);
        let (_, labels) = linear_ticks(0.0, 2.0e6);
        assert_eq!(labels, ["0", "0.5×10⁶", "1.0×10⁶", "1.5×10⁶", "2.0×10⁶"]);
        let (_, labels) = linear_ticks(0.0, 3.0e-5);
        assert_eq!(labels[1], "0.5×10⁻⁵");

        let (_, labels, minor) = log_ticks(1e-8, 1e4);
        assert_eq!(
            labels,
            ["10⁻⁸", "10⁻⁶", "10⁻⁴", "10⁻²", "10⁰", "10²", "10⁴"]
        );
        assert!(!minor.is_empty());
        let (_, labels, _) = log_ticks(1.5, 30.0);
        assert_eq!(labels, ["2", "5", "10", "20"]);
        let (ticks, labels, _) = log_ticks(2.1, 4.0);
        assert_eq!(ticks.len(), labels.len());
        assert!(ticks.len() >= 2);

        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(tidy(1234.5678, 3), "1235");
        assert_eq!(tidy(0.000123, 3), "1.23×10⁻⁴");
    }
}
