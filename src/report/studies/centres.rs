//! Study 3 — Why zero? Priors of the same width centred at zero, at constants, at pseudo-random
//! points, at a fit on the other half of the data and (for simulated data) at the truth.

use super::{Section, StudyContext};
use crate::codelength::{CodeKind, CodeLengths};
use crate::compare::{compare, CompareOptions, Comparison};
use crate::data::{self, ColumnSelection, Dataset};
use crate::error::{Message, Result, Setting, SettingNames};
use crate::fit::{FitOptions, ModelKind};
use crate::prior::{CenterPath, CenterSpec, SdSpec};
use crate::report::command::Command;
use crate::report::figure::Figure;
use crate::report::table::{Cell, Column, Table};
use crate::simulate::{simulate, to_csv, truth_path, SimulationSpec, Teacher};
use nalgebra::DVector;

/// Rows with even index and rows with odd index.
pub fn halves(data: &Dataset) -> Result<(Dataset, Dataset)> {
    let pick = |parity: usize| -> Result<Dataset> {
        let rows: Vec<usize> = (0..data.n()).filter(|i| i % 2 == parity).collect();
        let x = rows
            .iter()
            .flat_map(|&i| data.row(i).iter().copied())
            .collect();
        let y = rows.iter().map(|&i| data.y[i]).collect();
        Dataset::new(
            data.source.clone(),
            data.feature_names.clone(),
            data.target_name.clone(),
            x,
            y,
        )
    };
    Ok((pick(0)?, pick(1)?))
}

/// One data set's comparison, with the zero-centred MAP w* the distances are measured from.
struct Case {
    name: &'static str,
    model: ModelKind,
    /// K when the target has three or more classes (the multinomial model), else None.
    classes: Option<usize>,
    comparison: Comparison,
    center_labels: Vec<String>,
    distances: Vec<f64>,
    command: String,
}

fn run_case(
    ctx: &StudyContext,
    name: &'static str,
    model: ModelKind,
    staged_a: &std::path::Path,
    staged_b: &std::path::Path,
    extra: &[CenterSpec],
) -> Result<Case> {
    let coded = data::load(&staged_b.to_string_lossy(), &ColumnSelection::default())?;
    let base = FitOptions::for_kind(model);
    let study = base.clone().check(model)?.study(&coded)?;
    let classes = study.info().classes.map(|c| c.len());
    // The width every centre shares: empirical Bayes for the zero-centred prior.
    let zero = study.evaluate(
        &CenterSpec::Zero,
        study.resolve_center(&CenterSpec::Zero, SdSpec::Auto)?,
        SdSpec::Auto,
        SdSpec::Auto,
        None,
    )?;
    let s = zero.prior_sd;
    let noise = zero.noise_sd.map_or(SdSpec::Auto, SdSpec::Fixed);
    let c = (s / 2.0 * 100.0).round() / 100.0;
    let mut centers = vec![
        CenterSpec::Zero,
        CenterSpec::Const(c),
        CenterSpec::Const(-c),
        CenterSpec::Sha256 {
            text: "occam-1".into(),
            scale: None,
        },
        CenterSpec::Sha256 {
            text: "occam-2".into(),
            scale: None,
        },
        CenterSpec::Sha256 {
            text: "occam-3".into(),
            scale: None,
        },
        CenterSpec::Fit(CenterPath::shown_as(staged_a, ctx.printed(staged_a))),
    ];
    centers.extend_from_slice(extra);
    // s (and σ for the linear model) were estimated from the coded rows: every row sends them
    // first and is charged for them (docs/codes.md), the zero row included.
    let charged = if model == ModelKind::Linear { 2 } else { 1 };
    let shared = FitOptions {
        noise_sd: noise,
        charged_reals: charged,
        ..base
    };
    let study = shared.clone().check(model)?.study(&coded)?;
    let options = CompareOptions {
        fit: shared,
        centers: centers.clone(),
        sds: vec![SdSpec::Fixed(s)],
        rank_by: CodeKind::Mixture,
    };
    let comparison = compare(study.as_ref(), &options)?;
    let w_star = comparison
        .rows
        .iter()
        .find(|r| r.evaluation.center_spec == CenterSpec::Zero)
        .map(|r| r.evaluation.mode.clone())
        .unwrap_or_else(|| DVector::zeros(0));
    let center_labels = comparison
        .rows
        .iter()
        .map(|r| r.evaluation.center_spec.to_string())
        .collect();
    let distances = comparison
        .rows
        .iter()
        .map(|r| {
            let mu = &r.evaluation.center.values;
            (w_star.rows(0, mu.len()) - mu).norm()
        })
        .collect();
    let centers_arg: Vec<String> = centers.iter().map(CenterSpec::to_string).collect();
    let mut command =
        Command::occam("compare", ctx.names).with(Setting::Data, ctx.printed(staged_b));
    if model != ModelKind::Linear {
        command = command.with(Setting::Model, model.name());
    }
    command = command
        .with(Setting::Centers, format!("'{}'", centers_arg.join(";")))
        .with(Setting::Sds, s);
    if let Some(sigma) = zero.noise_sd {
        command = command.with(Setting::NoiseSd, sigma);
    }
    let command = command.with(Setting::ChargeReals, charged).to_string();
    Ok(Case {
        name,
        model,
        classes,
        comparison,
        center_labels,
        distances,
        command,
    })
}

/// One data set's result in a sentence, from the numbers.
fn summarise(case: &Case) -> String {
    let rows = &case.comparison.rows;
    let gammas: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.evaluation.printed_effective_parameters())
        .collect();
    let (lo, hi) = gammas
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), g| {
            (a.min(*g), b.max(*g))
        });
    let zero_rank = rows
        .iter()
        .position(|r| r.evaluation.center_spec == CenterSpec::Zero)
        .map_or(0, |i| i + 1);
    let best = &rows[0];
    let gamma_text = if hi - lo <= 1e-9 * hi.abs().max(1.0) {
        format!("γ = {lo:.4} for every centre")
    } else {
        format!("γ ranges from {lo:.3} to {hi:.3}")
    };
    format!(
        "{}: the shortest mixture code is {} ({:+.2} bits against zero); zero ranks {zero_rank} of {}; {gamma_text}.",
        case.name,
        case.center_labels[0],
        best.delta_bits.unwrap_or(f64::NAN),
        rows.len()
    )
}

/// Runs the study.
pub fn run(ctx: &StudyContext) -> Result<Section> {
    let mut section = Section::new("centres", "Why zero?");
    section.text(
        format!(
            "Weight decay centres the prior at zero. Is zero special? Here every prior has the same width — the empirical-Bayes s of the zero-centred prior, with σ fixed likewise for regression — so every centre buys the same capacity γ; s and σ are estimated from the coded rows, so every code below pays ½ log₂ n bits for each (`{}`). Only the centre moves: to constants ±s/2, to three fixed pseudo-random points (sha256:, scale s), to the MAP fitted on the other half of the data (transfer, free because those rows are not coded), and for simulated data to the generating weights. Each data set is split into even and odd rows; the odd half is coded.",
            ctx.names.setting(Setting::ChargeReals)
        ),
    );
    let mut cases = Vec::new();
    for (name, model) in [
        ("diabetes", ModelKind::Linear),
        ("breast_cancer", ModelKind::Logistic),
        ("iris", ModelKind::Logistic),
    ] {
        let full = data::load(name, &ColumnSelection::default())?;
        let (a, b) = halves(&full)?;
        let (staged_a, _) = ctx.data_file(&format!("{name}-even.csv"), &to_csv(&a))?;
        let (staged_b, _) = ctx.data_file(&format!("{name}-odd.csv"), &to_csv(&b))?;
        cases.push(run_case(ctx, name, model, &staged_a, &staged_b, &[])?);
    }
    let spec = SimulationSpec {
        teacher: Teacher::Linear,
        n: 400,
        k: 10,
        weight_center: 1.0,
        weight_scale: 0.5,
        intercept: 0.0,
        noise_sd: 1.0,
        seed: 7,
    };
    let (sim, truth) = simulate(&spec)?;
    let (a, b) = halves(&sim)?;
    let (staged_a, _) = ctx.data_file("simulated-even.csv", &to_csv(&a))?;
    let (staged_b, _) = ctx.data_file("simulated-odd.csv", &to_csv(&b))?;
    let truth_json = crate::report::format::json_document(&truth);
    let truth_name = truth_path(&staged_b);
    ctx.data_file(
        &truth_name
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        &truth_json,
    )?;
    cases.push(run_case(
        ctx,
        "simulated (w ~ N(1, 0.5²))",
        ModelKind::Linear,
        &staged_a,
        &staged_b,
        &[CenterSpec::Truth],
    )?);

    // One panel per data set: their distances and code lengths are on different scales.
    let mut panels = Vec::new();
    for (colour, case) in cases.iter().enumerate() {
        let mut table = Table::new(
            &format!(
                "centres-{}",
                case.name
                    .split_whitespace()
                    .next()
                    .unwrap_or("data")
                    .replace('_', "-")
            ),
            &format!(
                "{} ({}): priors of equal width s centred elsewhere; ranked by the mixture code.",
                case.name,
                match case.classes {
                    Some(k) => format!("{}, multinomial, K = {k}", case.model.name()),
                    None => case.model.name().to_string(),
                }
            ),
            [Column::new("center", "centre")]
                .into_iter()
                .chain(comparison_columns())
                .chain([Column::with_tex(
                    "delta_bits",
                    "Δ mixture vs zero (bits)",
                    "$\\Delta$ mixture [bits]",
                )])
                .collect(),
            case.command.clone(),
        );
        let mut points = Vec::new();
        for ((row, label), distance) in case
            .comparison
            .rows
            .iter()
            .zip(&case.center_labels)
            .zip(&case.distances)
        {
            let e = &row.evaluation;
            table.push(vec![
                Cell::text(label.clone()),
                Cell::num(*distance, 3),
                Cell::opt(e.printed_effective_parameters(), 4),
                Cell::num(e.log_evidence, 3),
                Cell::opt(e.code_lengths.mixture, 2),
                Cell::opt(e.code_lengths.prequential, 2),
                Cell::opt(e.code_lengths.two_part, 2),
                two_part_form_cell(&e.code_lengths),
                Cell::opt(row.delta_bits, 2),
            ]);
            if let Some(d) = row.delta_bits {
                points.push((*distance, d));
            }
        }
        add_two_part_notes(
            &mut table,
            case.comparison
                .rows
                .iter()
                .zip(&case.center_labels)
                .map(|(row, label)| (label.as_str(), row.evaluation.notes.as_slice())),
            ctx.names,
        );
        // A donor sharing rows with the coded half (iris has duplicate rows) is charged.
        for (row, label) in case.comparison.rows.iter().zip(&case.center_labels) {
            let center = &row.evaluation.center;
            if center.estimated_reals > 0 {
                table.note(format!(
                    "{label} — the donor shares rows with the coded half, so the centre is data-derived: its {} coordinates are charged ½ log₂ n bits each",
                    center.estimated_reals
                ));
            }
        }
        section.table(table);
        panels.push(
            Figure::new(
                case.name,
                "‖μ − w*‖ (w*: zero-centred MAP)",
                "Δ mixture vs zero (bits)",
            )
            .points(case.name, points)
            .colour_last(colour),
        );
    }
    let figure = Figure::stacked(
        "Code length against the centre's distance from the data's weights",
        panels,
    );
    section.figure("centres-distance", "Δ mixture code (bits, against the zero centre) against the centre's distance from the zero-centred MAP w*; one panel per data set, one point per centre.", figure);
    for case in &cases {
        section.text(summarise(case));
    }
    for case in cases.iter().filter(|c| c.classes.is_some()) {
        section.text(format!(
            "{}: a constant centre c·1 moves every class's weights and intercept alike, a direction along which the multinomial likelihood is flat (math.md §7), so the evidence of const:±c is that of zero — the same numbers at a different distance. Only a centre that separates the classes differently (sha256:, fit:) changes the code.",
            case.name
        ));
    }
    section.text(
        "For the linear model γ does not depend on the centre at all (math.md §3): every centre buys the same capacity, and only the fit term ‖m − μ‖² moves the code. For logistic regression γ moves a little with the curvature at each mode. In both, the code length follows the centre's distance from where the data put the weights: zero is a good razor when the weights are small after z-scoring, and a centre that knows more — a fit on other rows, or the truth — is a better one.",
    );
    Ok(section)
}

/// The columns every comparison of prior centres shows, in order: the centre's distance from the
/// best weights w*, γ, the log evidence and the mixture, prequential and two-part codes (the
/// report's centres study and `occam run`'s compare tables).
pub(crate) fn comparison_columns() -> [Column; 7] {
    [
        Column::with_tex("distance_from_w_star", "‖μ − w*‖", "$\\|\\mu - w^*\\|$"),
        Column::with_tex("effective_parameters", "γ", "$\\gamma$"),
        Column::with_tex("log_evidence_nats", "ln p(y) (nats)", "$\\ln p(y)$ [nats]"),
        Column::new("mixture_bits", "mixture (bits)"),
        Column::new("prequential_bits", "prequential (bits)"),
        Column::new("two_part_bits", "two_part (bits)"),
        Column::new("two_part_form", "two_part form"),
    ]
}

/// Which curvature the row's two_part used (docs/codes.md): "F", "F + Λ", or empty where two_part
/// is null.
pub(crate) fn two_part_form_cell(codes: &CodeLengths) -> Cell {
    codes
        .two_part_form
        .map_or(Cell::Empty, |form| Cell::text(form.label()))
}

/// Puts the two_part warnings of a comparison's rows (which rows added the prior's curvature,
/// why a value is null) under its table, each once with the rows it concerns.
pub(crate) fn add_two_part_notes<'a>(
    table: &mut Table,
    rows: impl IntoIterator<Item = (&'a str, &'a [Message])>,
    names: &dyn SettingNames,
) {
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    let mut count = 0;
    for (label, notes) in rows {
        count += 1;
        let notes = notes.iter().map(|note| note.render(names));
        for note in notes.filter(|n| n.starts_with("two_part")) {
            match grouped.iter_mut().find(|(n, _)| *n == note) {
                Some((_, labels)) => labels.push(label),
                None => grouped.push((note, vec![label])),
            }
        }
    }
    for (note, labels) in grouped {
        if labels.len() == count {
            table.note(format!("every row — {note}"));
        } else {
            table.note(format!("{} — {note}", labels.join(", ")));
        }
    }
}
