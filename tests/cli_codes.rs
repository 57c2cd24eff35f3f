//! Every printed code is a code (math.md §5, docs/codes.md): the MML87 two-part length never falls
//! below the mixture code by more than the lattice's bound, and says which form it used.

mod common;

use common::{arg, fit_json, number};
use std::f64::consts::{LN_2, PI};

/// (P/2)(1 + ln κ_P) in nats, from Conway & Sloane's κ₁…κ₈ or Wallace's approximation above 8
/// (math.md §5), the formula written out here rather than taken from the library.
fn lattice_nats(p: usize) -> f64 {
    let q = p as f64;
    if (1..=8).contains(&p) {
        0.5 * q * (1.0 + occam::codelength::KAPPA[p - 1].ln())
    } else {
        -0.5 * q * (2.0 * PI).ln() + 0.5 * (q * PI).ln() - 0.577_215_664_901_532_9
    }
}

/// two_part − mixture in bits, P and the form, from one fit report.
fn two_part_excess(report: &serde_json::Value) -> (f64, usize, String) {
    let codes = &report["code_length_bits"];
    let p = report["evidence"]["parameters"].as_u64().unwrap() as usize;
    let form = codes["two_part_form"]
        .as_str()
        .unwrap_or_else(|| panic!("two_part_form missing: {codes}"))
        .to_string();
    (
        number(&codes["two_part"]) - number(&codes["mixture"]),
        p,
        form,
    )
}

/// The least two_part − mixture may be, in bits: (P/2)(1 + ln 2πκ_P) − (P/2) ln 2 (the plain
/// form's ½ ln|I + F⁻¹Λ| is at most (P/2) ln 2 where F ⪰ Λ), with a little rounding room.
fn floor_bits(p: usize) -> f64 {
    (lattice_nats(p) + 0.5 * p as f64 * (PI.ln())) / LN_2 - 1e-6
}

fn simulate(dir: &std::path::Path, args: &[&str]) -> String {
    let out = dir.join(format!("{}.csv", args.join("_").replace(['-', ' '], "")));
    let mut full = vec!["simulate"];
    full.extend_from_slice(args);
    full.extend(["--out", arg(&out)]);
    common::assert_success(&full);
    out.to_str().unwrap().to_string()
}

#[test]
fn linear_two_part_minus_mixture_is_the_lattice_constant_where_the_prior_dominates() {
    // Issue 14: `--prior-sd 0.001` printed two_part 172 against mixture 198 bits.
    for sd in ["0.001", "1e-149"] {
        let report = fit_json(&["--data", "diabetes", "--prior-sd", sd]);
        let (excess, p, form) = two_part_excess(&report);
        assert_eq!(p, 10);
        assert_eq!(form, "fisher_plus_prior", "s = {sd}");
        // (P/2)(1 + ln 2πκ_P) exactly, the charges (σ fitted) being the same in both codes.
        let expected = (lattice_nats(p) + 0.5 * p as f64 * (2.0 * PI).ln()) / LN_2;
        assert!(
            (excess - expected).abs() < 1e-6 * number(&report["code_length_bits"]["mixture"]),
            "s = {sd}: {excess} vs {expected}"
        );
        assert!(expected > 0.0);
        let notes = report["notes"].to_string();
        assert!(
            notes.contains("10 of 10 directions of F are less curved than the prior precision"),
            "{notes}"
        );
    }
    // A wide prior (s = 1000): the data dominate every direction, even diabetes's near-collinear
    // serum columns (the smallest eigenvalue of βXᵀX is about 10⁻³); the plain form, no note.
    let report = fit_json(&["--data", "diabetes", "--prior-sd", "1000"]);
    let (excess, p, form) = two_part_excess(&report);
    assert_eq!(form, "fisher");
    assert!(excess >= floor_bits(p));
    assert!(excess < (lattice_nats(p) + 0.5 * p as f64 * (2.0 * PI).ln()) / LN_2);
    assert!(!report["notes"]
        .to_string()
        .contains("prior's curvature added"));
}

#[test]
fn two_part_never_undercuts_the_mixture_code_on_random_designs() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = std::collections::BTreeSet::new();
    for seed in ["1", "2", "3"] {
        let linear = simulate(
            dir.path(),
            &["linear", "--n", "40", "--k", "6", "--seed", seed],
        );
        let logistic = simulate(
            dir.path(),
            &["logistic", "--n", "60", "--k", "4", "--seed", seed],
        );
        let network = simulate(
            dir.path(),
            &[
                "mlp", "--n", "60", "--k", "2", "--hidden", "3", "--seed", seed,
            ],
        );
        for sd in ["0.01", "0.3", "3"] {
            let runs: [Vec<&str>; 3] = [
                vec!["--data", &linear, "--prior-sd", sd],
                vec![
                    "--data",
                    &logistic,
                    "--model",
                    "logistic",
                    "--prior-sd",
                    sd,
                    "--codes",
                    "two_part",
                ],
                vec![
                    "--data",
                    &network,
                    "--model",
                    "mlp",
                    "--hidden",
                    "3",
                    "--prior-sd",
                    sd,
                    "--noise-sd",
                    "0.5",
                    "--restarts",
                    "2",
                    "--codes",
                    "two_part",
                ],
            ];
            for args in runs {
                let report = fit_json(&args);
                if report["code_length_bits"]["two_part"].is_null() {
                    // Null only with its reason.
                    assert!(report["notes"]
                        .to_string()
                        .contains("two_part is undefined"));
                    continue;
                }
                let (excess, p, form) = two_part_excess(&report);
                assert!(
                    excess >= floor_bits(p),
                    "{args:?}: two_part − mixture = {excess} bits < {} (P = {p}, {form})",
                    floor_bits(p)
                );
                forms.insert(form);
            }
        }
    }
    // Both sides of the switch were exercised.
    assert_eq!(forms.len(), 2, "{forms:?}");
}

/// ln n!.
fn log_factorial(n: usize) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

#[test]
fn the_symmetry_term_counts_the_distinct_modes_of_the_printed_network() {
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        &[
            "mlp", "--n", "300", "--k", "4", "--hidden", "6", "--seed", "3",
        ],
    );
    let common = [
        "--data",
        data.as_str(),
        "--model",
        "mlp",
        "--hidden",
        "8,8",
        "--prior-sd",
        "0.2",
        "--noise-sd",
        "0.5",
        "--codes",
        "none",
    ];
    let report = fit_json(&common);
    // Each hidden unit's signature (incoming weights, bias, outgoing weights), from the printed
    // layers (rows = units).
    let layers = report["map"]["layers"].as_array().unwrap();
    let signatures: Vec<Vec<Vec<f64>>> = layers
        .windows(2)
        .map(|pair| {
            let (w, b) = (pair[0]["weights"].as_array().unwrap(), &pair[0]["bias"]);
            let next = pair[1]["weights"].as_array().unwrap();
            (0..w.len())
                .map(|j| {
                    let mut s = common::numbers(&w[j]);
                    s.push(number(&b[j]));
                    s.extend(next.iter().map(|row| number(&row[j])));
                    s
                })
                .collect()
        })
        .collect();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale = signatures
        .iter()
        .flatten()
        .map(|s| norm(s))
        .fold(0.0, f64::max);
    let clones = |a: &[f64], b: &[f64]| {
        let minus: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let plus: Vec<f64> = a.iter().zip(b).map(|(x, y)| x + y).collect();
        norm(&minus).min(norm(&plus)) <= 1e-3 * scale
    };
    let symmetry = report["diagnostics"]["symmetry"].as_array().unwrap();
    let mut expected = 0.0;
    let mut grouped_units = 0;
    for (layer, units) in symmetry.iter().zip(&signatures) {
        let h = units.len();
        assert_eq!(layer["units"], h);
        let groups: Vec<Vec<usize>> = layer["clone_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| common::numbers(g).iter().map(|u| *u as usize).collect())
            .collect();
        let zero: Vec<usize> = common::numbers(&layer["zero_units"])
            .iter()
            .map(|u| *u as usize)
            .collect();
        // Two nonzero units share a group exactly when their signatures agree up to sign.
        let group_of = |j: usize| groups.iter().position(|g| g.contains(&j));
        for i in (0..h).filter(|i| !zero.contains(i)) {
            for j in (i + 1..h).filter(|j| !zero.contains(j)) {
                let same = group_of(i).is_some() && group_of(i) == group_of(j);
                assert_eq!(same, clones(&units[i], &units[j]), "units {i}, {j}");
            }
        }
        for &z in &zero {
            assert!(norm(&units[z]) <= 1e-3 * scale);
        }
        grouped_units += groups.iter().map(Vec::len).sum::<usize>();
        // tanh: ln(h! / Π m_g!) + ln 2 for every nonzero unit.
        expected += log_factorial(h)
            - groups.iter().map(|g| log_factorial(g.len())).sum::<f64>()
            - log_factorial(zero.len())
            + (h - zero.len()) as f64 * LN_2;
    }
    // The prior makes some units clones here (the full count would be 2·(ln 8! + 8 ln 2)).
    assert!(grouped_units > 0, "{symmetry:?}");
    let printed = number(&report["evidence"]["symmetry_log_nats"]);
    assert!((printed - expected).abs() < 1e-9, "{printed} vs {expected}");
    assert!(printed < 2.0 * (log_factorial(8) + 8.0 * LN_2));
    let table = common::assert_success(&[&["fit"], &common[..]].concat());
    assert!(table.contains("hidden-unit groups") && table.contains("clones {"));

    // The exact Hessian at a stronger prior (s = 0.1) gives P − α·tr(H⁻¹) < 0: γ is null, with
    // the reason.
    let mut strong = common.to_vec();
    assert_eq!(strong[6], "--prior-sd");
    strong[7] = "0.1";
    let exact = fit_json(&[&strong[..], &["--hessian", "exact"]].concat());
    assert!(exact["evidence"]["effective_parameters"].is_null());
    assert!(exact["notes"]
        .to_string()
        .contains("γ is printed as null: P − α·tr(H⁻¹) = -"));
}

#[test]
fn values_estimated_from_the_coded_rows_are_charged_when_given_as_fixed() {
    // Empirical Bayes for s and σ, charged ½ log₂ n bits each …
    let auto = fit_json(&["--data", "diabetes"]);
    let s = number(&auto["prior"]["sd"]).to_string();
    let sigma = number(&auto["model"]["noise_sd"]).to_string();
    // … and the same two numbers typed in: free unless declared, the same code when declared.
    let typed = ["--data", "diabetes", "--prior-sd", &s, "--noise-sd", &sigma];
    let free = fit_json(&typed);
    let declared = fit_json(&[&typed[..], &["--charge-reals", "2"]].concat());
    let per_real = 0.5 * 442f64.log2();
    for code in ["mixture", "prequential", "two_part"] {
        let (a, f, d) = (
            number(&auto["code_length_bits"][code]),
            number(&free["code_length_bits"][code]),
            number(&declared["code_length_bits"][code]),
        );
        assert!((d - f - 2.0 * per_real).abs() < 1e-9, "{code}: {d} vs {f}");
        if code != "prequential" {
            // The prequential code refits s and σ on each prefix when they are 'auto'.
            assert!((d - a).abs() < 1e-6, "{code}: {d} vs {a}");
        }
    }
    assert_eq!(
        free["code_length_bits"]["bic"],
        declared["code_length_bits"]["bic"]
    );
    assert!((number(&declared["diagnostics"]["charged_bits"]) - 2.0 * per_real).abs() < 1e-9);
    assert!(declared["notes"]
        .to_string()
        .contains("2 value(s) given as fixed were estimated from the coded rows"));
}

#[test]
fn a_network_regression_is_reported_in_the_targets_own_units() {
    // math.md §1: the target is z-scored for the network, and the evidence and codes are those of
    // y itself. Fitting y and c·y + d gives the same network on the z-scored scale and evidences
    // that differ by exactly the Jacobian, −n ln c.
    let dir = tempfile::tempdir().unwrap();
    let data = simulate(
        dir.path(),
        &[
            "mlp", "--n", "80", "--k", "2", "--hidden", "3", "--seed", "5",
        ],
    );
    let (header, rows) = common::read_numeric_csv(std::path::Path::new(&data));
    let (c, d) = (250.0, 1000.0);
    let mut scaled = header.join(",") + "\n";
    for row in &rows {
        let mut cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
        let y = row.last().unwrap();
        *cells.last_mut().unwrap() = (c * y + d).to_string();
        scaled += &(cells.join(",") + "\n");
    }
    let scaled_path = common::write_file(dir.path(), "scaled.csv", &scaled);
    let args = |path: &str| -> Vec<String> {
        [
            "--data",
            path,
            "--model",
            "mlp",
            "--hidden",
            "3",
            "--prior-sd",
            "0.5",
            "--task",
            "regression",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |path: &str| {
        let owned = args(path);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        fit_json(&refs)
    };
    let (a, b) = (run(&data), run(arg(&scaled_path)));
    let n = rows.len() as f64;
    let (la, lb) = (
        number(&a["evidence"]["log_nats"]),
        number(&b["evidence"]["log_nats"]),
    );
    assert!(
        ((la - lb) - n * c.ln()).abs() < 1e-6 * la.abs(),
        "{la} − {lb} vs n ln c = {}",
        n * c.ln()
    );
    let ratio = number(&b["model"]["noise_sd"]) / number(&a["model"]["noise_sd"]);
    assert!((ratio - c).abs() < 1e-6 * c, "σ ratio {ratio}");
    // Every code of y is n·log₂ c bits longer; the charges (s, σ, mean, sd) are the same.
    for code in ["mixture", "prequential", "two_part"] {
        let (ca, cb) = (&a["code_length_bits"][code], &b["code_length_bits"][code]);
        if ca.is_null() || cb.is_null() {
            // Null only with its reason, and for both fits alike.
            assert_eq!(ca.is_null(), cb.is_null(), "{code}");
            assert!(b["notes"]
                .to_string()
                .contains(&format!("{code} is undefined")));
            continue;
        }
        let (ca, cb) = (number(ca), number(cb));
        assert!(
            ((cb - ca) - n * c.log2()).abs() < 1e-6 * ca.abs().max(1.0),
            "{code}: {cb} − {ca}"
        );
    }
    // σ (fitted), and the target's mean and sd: three reals; s is fixed.
    assert!((number(&a["diagnostics"]["charged_bits"]) - 3.0 * 0.5 * n.log2()).abs() < 1e-9);
    // The same network on the standardised scale; in original units its output layer carries c
    // and d.
    let (wa, wb) = (
        common::numbers(&a["map"]["weights"]),
        common::numbers(&b["map"]["weights"]),
    );
    for (x, y) in wa.iter().zip(&wb) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    let (oa, ob) = (
        common::numbers(&a["map"]["weights_original"]),
        common::numbers(&b["map"]["weights_original"]),
    );
    // P = (2 + 1)·3 + (3 + 1): the last four are the output weights and bias.
    let p = oa.len();
    for j in p - 4..p - 1 {
        assert!(
            (ob[j] - c * oa[j]).abs() < 1e-4 * ob[j].abs().max(1.0),
            "{j}"
        );
    }
    assert!((ob[p - 1] - (c * oa[p - 1] + d)).abs() < 1e-4 * ob[p - 1].abs());
    assert_eq!(number(&b["map"]["intercept_original"]), ob[p - 1]);
    assert!(b["notes"]
        .to_string()
        .contains("target z-scored for the network"));
}
