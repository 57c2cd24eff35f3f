//! `occam fit --prior` (math.md §8, a prior of several groups) through the real binary: one group
//! is today's fit byte for byte, a one-group structure by another route equals it, ARD on
//! diabetes prunes what scikit-learn's ARDRegression prunes, the JSON and the charges, simulated
//! data across seeds, and every refusal.

mod common;

use common::{arg, assert_success, assert_usage_error, close, fit_json, number, numbers, occam};
use serde_json::Value;

const FORMATS: [&str; 5] = ["table", "json", "md", "tex", "csv"];

fn half_log2(n: f64) -> f64 {
    0.5 * n.log2()
}

#[test]
fn one_group_all_is_todays_fit_byte_for_byte() {
    for format in FORMATS {
        for (flags, prior) in [
            (vec![], "all=zero:auto"),
            (vec!["--prior-sd", "3"], "all=zero:3"),
            (vec!["--prior-center", "const:0.5"], "all=const:0.5:auto"),
        ] {
            let mut today = vec!["fit", "--data", "diabetes", "--format", format];
            today.extend(flags);
            let grouped = [
                "fit", "--data", "diabetes", "--format", format, "--prior", prior,
            ];
            assert_eq!(
                assert_success(&today),
                assert_success(&grouped),
                "{prior} in {format}"
            );
        }
    }
}

/// `weights=zero:auto` is one group by the grouped route (GroupedLinear's own fixed point and
/// evidence): it must equal the one-group fit, computed by the eigenbasis route.
#[test]
fn one_group_by_the_grouped_route_equals_the_one_group_fit() {
    let today = fit_json(&["--data", "diabetes"]);
    let grouped = fit_json(&["--data", "diabetes", "--prior", "weights=zero:auto"]);
    let groups = grouped["prior"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["name"], "weights");
    let rel = |a: f64, b: f64| ((a - b) / b).abs();
    assert!(rel(number(&groups[0]["sd"]), number(&today["prior"]["sd"])) < 1e-8);
    assert!(
        rel(
            number(&grouped["evidence"]["log_nats"]),
            number(&today["evidence"]["log_nats"])
        ) < 1e-10
    );
    assert!(
        rel(
            number(&groups[0]["effective_parameters"]),
            number(&today["evidence"]["effective_parameters"])
        ) < 1e-8
    );
    assert!(
        rel(
            number(&grouped["model"]["noise_sd"]),
            number(&today["model"]["noise_sd"])
        ) < 1e-8
    );
    for (a, b) in numbers(&grouped["map"]["weights"])
        .iter()
        .zip(numbers(&today["map"]["weights"]))
    {
        assert!(close(*a, b, 1e-7), "{a} vs {b}");
    }
    // Both charge two reals (s and σ): the mixture codes agree, and so do the prequential codes
    // (empirical Bayes on every prefix by the two routes), in file order and shuffled.
    assert!(close(
        number(&grouped["code_length_bits"]["mixture"]),
        number(&today["code_length_bits"]["mixture"]),
        1e-8
    ));
    assert!(close(
        number(&grouped["code_length_bits"]["prequential"]),
        number(&today["code_length_bits"]["prequential"]),
        1e-6
    ));
    // MML87 over the groups with one group: the one-group two-part code and its form.
    assert!(close(
        number(&grouped["code_length_bits"]["two_part"]),
        number(&today["code_length_bits"]["two_part"]),
        1e-9
    ));
    assert_eq!(
        grouped["code_length_bits"]["two_part_form"],
        today["code_length_bits"]["two_part_form"]
    );
    let shuffled = [
        "--data",
        "diabetes",
        "--shuffle",
        "3",
        "--first-block",
        "20",
    ];
    let today = fit_json(&shuffled);
    let mut args = shuffled.to_vec();
    args.extend(["--prior", "weights=zero:auto"]);
    let grouped = fit_json(&args);
    assert!(close(
        number(&grouped["code_length_bits"]["prequential"]),
        number(&today["code_length_bits"]["prequential"]),
        1e-6
    ));
}

/// With every sd fixed the prequential code is the mixture code (the chain rule), block by block.
#[test]
fn with_every_sd_fixed_the_prequential_code_is_the_mixture_code() {
    for prior in [
        "features:bmi=zero:2; rest=const:0.1:0.7",
        "ard=zero:3",
        "features:bmi,bp,s5=zero:20; rest=zero:0.5",
    ] {
        let report = fit_json(&["--data", "diabetes", "--prior", prior, "--noise-sd", "50"]);
        let codes = &report["code_length_bits"];
        assert!(
            close(
                number(&codes["prequential"]),
                number(&codes["mixture"]),
                1e-9
            ),
            "{prior}: {codes}"
        );
    }
}

#[test]
fn ard_on_diabetes_prunes_what_sklearn_prunes_and_charges_every_scale() {
    let report = fit_json(&["--data", "diabetes", "--prior", "ard"]);
    let features: Vec<String> = report["dataset"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let groups = report["prior"]["groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, features);
    assert!(report["prior"].get("sd").is_none());
    assert_eq!(report["prior"]["center"], "ard=zero:auto");
    let weights = numbers(&report["map"]["weights"]);
    let mut pruned = Vec::new();
    let mut gamma = 0.0;
    for (j, g) in groups.iter().enumerate() {
        assert_eq!(g["parameters"], 1);
        assert_eq!(g["sd_fitted"], true);
        gamma += number(&g["effective_parameters"]);
        if g["pruned"] == true {
            pruned.push(names[j]);
            assert_eq!(number(&g["sd"]), 0.0);
            assert_eq!(weights[j], 0.0);
        } else {
            assert!(number(&g["sd"]) > 0.0);
        }
    }
    // tests/golden/sklearn_ard.json: ARDRegression prunes age, s2 and s4.
    assert_eq!(pruned, ["age", "s2", "s4"]);
    // The closed-form MAP, reached again by L-BFGS on the penalised objective.
    let check = &report["diagnostics"]["optimizer_check"];
    assert!(number(&check["max_relative_difference"]) < 1e-6, "{check}");
    assert!(close(
        gamma,
        number(&report["evidence"]["effective_parameters"]),
        1e-12
    ));
    // 10 scales and σ, each ½ log₂ n bits.
    let n = number(&report["dataset"]["n"]);
    let charged = 11.0 * half_log2(n);
    assert!(close(
        number(&report["diagnostics"]["charged_bits"]),
        charged,
        1e-12
    ));
    assert!(close(
        number(&report["code_length_bits"]["mixture"]),
        number(&report["evidence"]["bits"]) + charged,
        1e-12
    ));
    assert!(number(&report["code_length_bits"]["prequential"]) > 0.0);
    assert!(number(&report["code_length_bits"]["two_part"]) > 0.0);
    assert_eq!(
        report["code_length_bits"]["two_part_form"],
        "fisher_plus_prior"
    );
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for name in ["age", "s2", "s4"] {
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("group '{name}' pruned: s = 0"))),
            "{notes:#?}"
        );
    }
    assert!(
        notes.iter().any(
            |n| n.starts_with("two_part: MML87 with the prior's curvature added")
                && n.contains("1 of 7 directions")
        ),
        "{notes:#?}"
    );
    // The table prints one line per group, the pruned ones at s = 0.
    let table = assert_success(&["fit", "--data", "diabetes", "--prior", "ard"]);
    assert_eq!(table.matches("  prior group ").count(), 10, "{table}");
    assert!(table.contains("age: centre zero, s = 0 (empirical Bayes, pruned)"));
}

#[test]
fn fixed_and_fitted_groups_mix_and_only_fitted_ones_are_charged() {
    let report = fit_json(&[
        "--data",
        "diabetes",
        "--prior",
        "features:bmi,bp=zero:auto; rest=const:0.1:0.5",
        "--noise-sd",
        "55",
    ]);
    let groups = report["prior"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["name"], "bmi,bp");
    assert_eq!(groups[0]["parameters"], 2);
    assert_eq!(groups[1]["name"], "rest");
    assert_eq!(groups[1]["sd"], 0.5);
    assert_eq!(groups[1]["sd_fitted"], false);
    assert_eq!(groups[1]["center"], "const:0.1");
    assert_eq!(report["model"]["noise_sd"], 55.0);
    let check = &report["diagnostics"]["optimizer_check"];
    assert!(number(&check["max_relative_difference"]) < 1e-6, "{check}");
    let centre = numbers(&report["prior"]["center_values"]);
    let features = report["dataset"]["features"].as_array().unwrap();
    for (j, f) in features.iter().enumerate() {
        let expected = if f == "bmi" || f == "bp" { 0.0 } else { 0.1 };
        assert_eq!(centre[j], expected, "{f}");
    }
    let n = number(&report["dataset"]["n"]);
    assert!(close(
        number(&report["diagnostics"]["charged_bits"]),
        half_log2(n),
        1e-12
    ));
}

/// On simulated data the extra scales can only raise the evidence's maximum (one shared s is a
/// point of ARD's hyperparameter space), and each fitted scale follows its teacher weight.
#[test]
fn ard_on_simulated_data_across_seeds() {
    let dir = tempfile::tempdir().unwrap();
    for seed in 1..=4 {
        let csv = dir.path().join(format!("sim{seed}.csv"));
        let seed_text = seed.to_string();
        assert_success(&[
            "simulate",
            "linear",
            "--n",
            "300",
            "--k",
            "8",
            "--seed",
            &seed_text,
            "--out",
            arg(&csv),
        ]);
        let truth: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("sim{seed}.truth.json"))).unwrap(),
        )
        .unwrap();
        let one = fit_json(&["--data", arg(&csv)]);
        let ard = fit_json(&["--data", arg(&csv), "--prior", "ard"]);
        assert!(
            number(&ard["evidence"]["log_nats"]) >= number(&one["evidence"]["log_nats"]) - 1e-9,
            "seed {seed}"
        );
        for (w, g) in numbers(&truth["weights"])
            .iter()
            .zip(ard["prior"]["groups"].as_array().unwrap())
        {
            if w.abs() > 0.5 {
                assert_eq!(g["pruned"], false, "seed {seed}: weight {w} pruned");
                let s = number(&g["sd"]);
                assert!(
                    s > 0.3 * w.abs() && s < 3.0 * w.abs(),
                    "seed {seed}: s {s} for {w}"
                );
            }
        }
    }
}

#[test]
fn refusals_name_the_flag_and_the_fix() {
    // With the one-group flags.
    for other in [["--prior-sd", "3"], ["--prior-center", "const:1"]] {
        let mut args = vec!["fit", "--data", "diabetes", "--prior", "ard"];
        args.extend(other);
        assert_usage_error(occam(&args), &["--prior", other[0], "cannot be used with"]);
    }
    // Networks: linear and logistic only, for now.
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            "breast_cancer",
            "--model",
            "mlp",
            "--prior",
            "ard; rest=zero:auto",
        ]),
        &[
            "--prior",
            "linear and logistic models only",
            "all=CENTER:SD",
            "--model linear",
        ],
    );
    // … while one group is every model's prior.
    assert_success(&[
        "fit",
        "--data",
        "breast_cancer",
        "--model",
        "logistic",
        "--prior",
        "all=zero:1",
        "--codes",
        "none",
    ]);
    // Malformed structures and groups that cover nothing.
    for (prior, needle) in [
        ("weights=zero", "needs an sd after the centre"),
        ("layer9=zero:auto", "covers no parameter"),
        ("biases=zero:1; rest=zero:auto", "covers no parameter"),
        ("features:bmi=zero:auto", "in no group"),
        ("features:nope=zero:auto; rest=zero:auto", "nope"),
        (
            "features:bmi=vec:1,2:auto; rest=zero:auto",
            "the group has 1 parameter(s) (in this order: bmi)",
        ),
    ] {
        assert_usage_error(
            occam(&["fit", "--data", "diabetes", "--prior", prior]),
            &["--prior", needle],
        );
    }
}

/// `file:` reads occam's own fit JSON (its map.weights): for one group every coordinate, for a
/// group of several the group's own; a group-sized file is that group's.
#[test]
fn file_centres_read_a_fit_json_whole_or_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let donor = dir.path().join("donor.json");
    assert_success(&[
        "fit",
        "--data",
        "diabetes",
        "--prior-sd",
        "2",
        "--format",
        "json",
        "--out",
        arg(&donor),
    ]);
    let donor_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&donor).unwrap()).unwrap();
    let w = numbers(&donor_json["map"]["weights"]);
    // One group: the whole vector, the same fit as vec: with those numbers.
    let as_file = fit_json(&[
        "--data",
        "diabetes",
        "--prior-sd",
        "1",
        "--prior-center",
        &format!("file:{}", arg(&donor)),
    ]);
    assert_eq!(numbers(&as_file["prior"]["center_values"]), w);
    let listed: Vec<String> = w.iter().map(|v| v.to_string()).collect();
    let as_vec = fit_json(&[
        "--data",
        "diabetes",
        "--prior-sd",
        "1",
        "--prior-center",
        &format!("vec:{}", listed.join(",")),
    ]);
    assert_eq!(as_file["evidence"], as_vec["evidence"]);
    // Several groups: the group's coordinates of the whole vector, or a group-sized file.
    let features = donor_json["dataset"]["features"].as_array().unwrap();
    let bmi = features.iter().position(|f| f == "bmi").unwrap();
    let bp = features.iter().position(|f| f == "bp").unwrap();
    let small = common::write_file(dir.path(), "two.json", "[0.25, -0.5]");
    for (centre, expected) in [
        (format!("file:{}", arg(&donor)), [w[bmi], w[bp]]),
        (format!("file:{}", arg(&small)), [0.25, -0.5]),
    ] {
        let prior = format!("features:bmi,bp={centre}:3; rest=zero:auto");
        let report = fit_json(&["--data", "diabetes", "--prior", &prior]);
        let values = numbers(&report["prior"]["center_values"]);
        assert_eq!([values[bmi], values[bp]], expected, "{prior}");
        for (j, v) in values.iter().enumerate() {
            if j != bmi && j != bp {
                assert_eq!(*v, 0.0);
            }
        }
    }
    // A file of another length is refused, naming the group and both lengths.
    let three = common::write_file(dir.path(), "three.json", "[1, 2, 3]");
    assert_usage_error(
        occam(&[
            "fit",
            "--data",
            "diabetes",
            "--prior",
            &format!("features:bmi,bp=file:{}:3; rest=zero:auto", arg(&three)),
        ]),
        &[
            "--prior",
            "group 'bmi,bp'",
            "3 coordinate(s)",
            "2 parameter(s)",
        ],
    );
}

// ---------------------------------------------------------------- compare --priors

fn compare_json(args: &[&str]) -> Value {
    let mut full = vec!["compare"];
    full.extend_from_slice(args);
    full.extend(["--format", "json"]);
    serde_json::from_str(&assert_success(&full)).unwrap()
}

/// Each row is the fit of that whole prior alone: its numbers equal `occam fit --prior`'s, the
/// rows are ranked by the mixture code, and the charged reals are counted.
#[test]
fn compare_priors_rows_are_the_fits_ranked_by_the_mixture_code() {
    let priors = [
        "ard",
        "all=zero:auto",
        "features:bmi,bp,s5=zero:auto; rest=zero:auto",
        "all=zero:0.5",
    ];
    let mut args = vec!["--data", "diabetes", "--priors"];
    args.extend(priors);
    let report = compare_json(&args);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), priors.len());
    assert_eq!(report["rank_by"], "mixture");
    let mixture: Vec<f64> = rows.iter().map(|r| number(&r["mixture_bits"])).collect();
    assert!(mixture.windows(2).all(|w| w[0] <= w[1]), "{mixture:?}");
    let n = number(&report["dataset"]["n"]);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["rank"], i + 1);
        let prior = row["prior"].as_str().unwrap();
        let fit = fit_json(&["--data", "diabetes", "--prior", prior]);
        assert_eq!(
            number(&row["mixture_bits"]),
            number(&fit["code_length_bits"]["mixture"]),
            "{prior}"
        );
        assert_eq!(
            number(&row["log_evidence_nats"]),
            number(&fit["evidence"]["log_nats"]),
            "{prior}"
        );
        for code in ["prequential", "two_part", "bic"] {
            assert_eq!(
                row[format!("{code}_bits")],
                fit["code_length_bits"][code],
                "{prior}: {code}"
            );
        }
        let reals = number(&row["charged_reals"]);
        assert!(close(
            number(&row["charged_bits"]),
            reals * half_log2(n),
            1e-12
        ));
        let expected_reals = match prior {
            "ard=zero:auto" => 11.0,
            "all=zero:auto" => 2.0,
            "all=zero:0.5" => 1.0,
            _ => 3.0,
        };
        assert_eq!(reals, expected_reals, "{prior}");
    }
    let ard = rows.iter().find(|r| r["prior"] == "ard=zero:auto").unwrap();
    assert_eq!(ard["groups"], 10);
    assert_eq!(ard["pruned"], 3);
    // The table renderings hold the same rows.
    let mut table = vec!["compare", "--data", "diabetes", "--priors"];
    table.extend(priors);
    let text = assert_success(&table);
    assert!(text.contains("| 1 | "), "{text}");
    assert!(text.contains("ard=zero:auto | 10 | 3 | 11 |"), "{text}");
}

#[test]
fn compare_priors_refusals() {
    assert_usage_error(
        occam(&[
            "compare", "--data", "diabetes", "--priors", "ard", "--sds", "1",
        ]),
        &["--priors", "--sds", "cannot be used with"],
    );
    assert_usage_error(
        occam(&[
            "compare",
            "--data",
            "diabetes",
            "--priors",
            "ard",
            "weights=zero",
        ]),
        &["--priors", "'weights=zero'", "needs an sd"],
    );
    assert_usage_error(
        occam(&[
            "compare",
            "--data",
            "breast_cancer",
            "--model",
            "mlp",
            "--priors",
            "all=zero:auto",
            "ard; rest=zero:auto",
        ]),
        &[
            "--priors",
            "'ard; rest=zero:auto'",
            "linear and logistic models only",
        ],
    );
    // One-group rows work for every model.
    let report = compare_json(&[
        "--data",
        "breast_cancer",
        "--model",
        "logistic",
        "--codes",
        "none",
        "--priors",
        "all=zero:auto",
        "all=zero:1",
    ]);
    assert_eq!(report["rows"].as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------- occam run: [priors] structures

/// A spec's `structures` makes a `compare --priors` table: the table's printed command
/// reproduces its CSV byte for byte, and its rows are the fits of those priors.
#[test]
fn run_spec_structures_make_the_compare_priors_table() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::write_file(
        dir.path(),
        "groups.toml",
        "title = \"One prior or many\"\n[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = [\"all=zero:auto\", \"ard\", \"features:bmi,bp,s5=zero:auto; rest=zero:auto\"]\nnoise_sd = 55\n[codes]\ncompute = \"none\"\n",
    );
    let out = dir.path().join("out");
    assert_success(&["run", arg(&spec), "--out", arg(&out)]);
    let csv = std::fs::read_to_string(out.join("tables/groups-priors.csv")).unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let command = report
        .split("Regenerate: `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("a regenerate command");
    assert!(command.starts_with("occam compare --data diabetes --priors 'all=zero:auto'"));
    assert!(command.ends_with("--noise-sd 55 --codes none"), "{command}");
    // Rerun the printed command (its quoted priors split as a shell would).
    let mut args: Vec<String> = Vec::new();
    let mut rest = command.strip_prefix("occam ").unwrap();
    while !rest.is_empty() {
        rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').unwrap();
            args.push(quoted[..end].to_string());
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            args.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    args.extend(["--format".into(), "csv".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(assert_success(&args), csv);
    let fit = fit_json(&["--data", "diabetes", "--prior", "ard", "--noise-sd", "55"]);
    let ard_line = csv.lines().find(|l| l.contains(",ard=zero:auto,")).unwrap();
    let mixture: f64 = ard_line.split(',').nth(9).unwrap().parse().unwrap();
    assert_eq!(mixture, number(&fit["code_length_bits"]["mixture"]));
}

/// A group's `file:` centre in a spec is read from the spec's folder, wherever occam runs from
/// (as a `centers` entry is): the row equals `compare --priors` given the file's full path.
#[test]
fn run_spec_structure_file_centres_are_read_from_the_spec_folder() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("study");
    std::fs::create_dir(&sub).unwrap();
    let weights = "[0.5, -0.25]";
    let center = common::write_file(&sub, "c.json", weights);
    let spec = common::write_file(
        &sub,
        "groups.toml",
        "title = \"Centre from a file\"\n[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = [\"all=zero:auto\", \"features:bmi,bp=file:c.json:auto; rest=zero:auto\"]\nnoise_sd = 55\n[codes]\ncompute = \"none\"\n",
    );
    let out = dir.path().join("out");
    // Run from the spec's parent folder, where no c.json is.
    let (code, _, stderr) = common::occam_in(dir.path(), &["run", arg(&spec), "--out", arg(&out)]);
    assert_eq!(code, 0, "{stderr}");
    let csv = std::fs::read_to_string(out.join("tables/groups-priors.csv")).unwrap();
    let row = csv
        .lines()
        .find(|l| l.contains("file:c.json"))
        .expect("the file-centred row");
    let structure = format!(
        "features:bmi,bp=file:{}:auto; rest=zero:auto",
        center.display()
    );
    let direct = assert_success(&[
        "compare",
        "--data",
        "diabetes",
        "--priors",
        "all=zero:auto",
        &structure,
        "--noise-sd",
        "55",
        "--codes",
        "none",
        "--format",
        "csv",
    ]);
    let direct_row = direct.lines().find(|l| l.contains("c.json")).unwrap();
    // Same numbers (the prior's name differs only in how the path is written).
    // (The name is quoted, holding a comma: compare what follows it.)
    let tail = |l: &str| l.rsplit_once("\",").expect("a quoted name").1.to_string();
    assert_eq!(tail(row), tail(direct_row));
}

#[test]
fn run_spec_structures_refusals_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (body, needles) in [
        (
            "[data]\nbuiltin = \"diabetes\"\n[priors]\ncenters = [\"zero\"]\nstructures = [\"ard\"]\n",
            &["line 6", "priors.structures", "remove priors.centers"][..],
        ),
        (
            "[data]\nbuiltin = \"breast_cancer\"\n[model]\nkind = \"mlp\"\n[priors]\nstructures = [\"all=zero:auto\", \"ard; rest=zero:auto\"]\n",
            &["priors.structures[2]", "linear and logistic models only"][..],
        ),
        (
            "[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = [\"ard\", \"weights=zero\"]\n",
            &["priors.structures[2]", "needs an sd"][..],
        ),
        (
            "[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = [\"ard\"]\n[codes]\nrank_by = \"bic\"\n",
            &["codes.rank_by", "mixture"][..],
        ),
        (
            "[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = []\n",
            &["priors.structures", "empty"][..],
        ),
        (
            // A group's file: centre is looked for in the spec's folder.
            "[data]\nbuiltin = \"diabetes\"\n[priors]\nstructures = [\"all=zero:auto\", \"weights=file:nope.json:auto\"]\n",
            &["priors.structures[2]", "no centre file", "relative to the spec's folder"][..],
        ),
    ] {
        let spec = common::write_file(dir.path(), "bad.toml", &format!("title = \"x\"\n{body}"));
        let out = dir.path().join("never");
        assert_usage_error(occam(&["run", arg(&spec), "--out", arg(&out)]), needles);
        assert!(!out.exists());
    }
}

/// Too few rows: empirical Bayes over the groups drives σ → 0; exit 1 naming --noise-sd, and a
/// fixed σ gets an answer (groups may be pruned, never a panic).
#[test]
fn an_interpolating_fit_fails_naming_the_noise_sd() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("tiny.csv");
    assert_success(&[
        "simulate",
        "linear",
        "--n",
        "6",
        "--k",
        "5",
        "--seed",
        "2",
        "--out",
        arg(&csv),
    ]);
    let (code, stdout, stderr) = occam(&["fit", "--data", arg(&csv), "--prior", "ard"]);
    common::assert_no_panic(code, &stderr);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("fits the data exactly") && stderr.contains("--noise-sd S"),
        "{stderr}"
    );
    let report = fit_json(&["--data", arg(&csv), "--prior", "ard", "--noise-sd", "1"]);
    assert!(number(&report["evidence"]["log_nats"]).is_finite());
}
