//! Study 1 — L2 is a Gaussian prior: the penalty each library would need for the prior the data
//! choose, and the optimiser's MAP against the closed form.

use super::{Section, StudyContext};
use crate::data::{self, ColumnSelection};
use crate::error::{Result, Setting};
use crate::fit::{fit_linear, fit_logistic, fit_softmax, FitOptions, ModelKind};
use crate::model::Intercept;
use crate::prior::convert::{convert, ConversionContext, Knob, Loss};
use crate::report::command::Command;
use crate::report::table::{Cell, Column, Table};

/// Runs the study.
pub fn run(ctx: &StudyContext) -> Result<Section> {
    let mut section = Section::new("prior", "L2 is a Gaussian prior");
    section.text(
        "An L2 penalty (1/2s²)‖w − μ‖² added to a negative log likelihood is, up to a constant, the negative log density of the prior w ~ N(μ, s²I); weight decay is the case μ = 0. Each library scales the penalty against its own loss, so the same prior is a different number in each (math.md §2). Below, empirical Bayes picks s (and σ for regression) on the built-in data, and the table gives the knob each library would need to fit under exactly that prior.",
    );

    let diabetes = data::load("diabetes", &ColumnSelection::default())?;
    let linear = fit_linear(&diabetes, &FitOptions::default())?;
    let (s_lin, sigma) = (
        linear.evaluation.prior_sd,
        linear.evaluation.noise_sd.unwrap_or(f64::NAN),
    );
    let cancer = data::load("breast_cancer", &ColumnSelection::default())?;
    let logistic = fit_logistic(
        &cancer,
        &FitOptions {
            intercept: Intercept::Free,
            ..FitOptions::default()
        },
    )?;
    let s_log = logistic.evaluation.prior_sd;
    // Three classes: the multinomial model (math.md §7), intercepts under the prior (the default
    // `shared`; `free` is not identifiable for K ≥ 2 classes and is refused).
    let iris = data::load("iris", &ColumnSelection::default())?;
    let multinomial = fit_softmax(&iris, &FitOptions::for_kind(ModelKind::Logistic))?;
    let s_multi = multinomial.evaluation.prior_sd;

    let mut table = Table::new(
        "prior-conversions",
        "The L2 knob each library needs for the empirical-Bayes prior (standardised features).",
        vec![
            Column::new("data", "data"),
            Column::new("model", "model"),
            Column::with_tex("prior_sd", "prior sd s", "$s$"),
            Column::new("knob", "library knob"),
            Column::new("loss", "loss"),
            Column::new("value", "value"),
        ],
        format!(
            "{}; {}; {}",
            Command::occam("convert", ctx.names)
                .with(Setting::From, "prior-sd")
                .with(Setting::Value, s_lin)
                .with(Setting::Rows, diabetes.n())
                .with(Setting::NoiseSd, sigma)
                .with(Setting::Loss, "mse"),
            Command::occam("convert", ctx.names)
                .with(Setting::From, "prior-sd")
                .with(Setting::Value, s_log)
                .with(Setting::Rows, cancer.n())
                .with(Setting::Loss, "cross-entropy"),
            Command::occam("convert", ctx.names)
                .with(Setting::From, "prior-sd")
                .with(Setting::Value, s_multi)
                .with(Setting::Rows, iris.n())
                .with(Setting::Loss, "cross-entropy")
        ),
    );
    for (name, model, s, n, noise, loss) in [
        (
            "diabetes",
            "linear",
            s_lin,
            diabetes.n(),
            Some(sigma),
            Loss::Mse,
        ),
        (
            "breast_cancer",
            "logistic",
            s_log,
            cancer.n(),
            None,
            Loss::CrossEntropy,
        ),
        (
            "iris",
            "logistic (multinomial, K = 3)",
            s_multi,
            iris.n(),
            None,
            Loss::CrossEntropy,
        ),
    ] {
        let conversion = convert(
            Knob::PriorSd,
            s,
            Some(loss),
            &ConversionContext {
                n: Some(n),
                noise_sd: noise,
            },
        )?;
        for e in conversion.equivalents {
            table.push(vec![
                Cell::text(name),
                Cell::text(model),
                Cell::num(s, 4),
                Cell::text(e.knob.describe()),
                Cell::text(e.loss.to_string()),
                match e.value {
                    Ok(v) => Cell::num(v, 6),
                    Err(_) => Cell::text("no fixed Gaussian prior"),
                },
            ]);
        }
    }
    section.table(table);
    section.text(format!(
        "For diabetes the noise sd is fitted too (σ = {sigma:.2}); a squared-error penalty only means a prior once σ is fixed, which is why Ridge's alpha is σ²/s². AdamW's decoupled decay is not a penalty on the loss, so it corresponds to no fixed Gaussian prior. For three or more classes (iris) the loss ℓᵢ is the multinomial cross-entropy, the penalty covers every class's weights, and LogisticRegression(C = s²) is the multinomial model with a column of ones for the intercepts and fit_intercept=False, so that they are under the prior as occam's default `shared` puts them (math.md §7); the mean-loss knobs divide by the same n rows."
    ));

    let mut check = Table::new(
        "prior-map-check",
        "The MAP reached by an optimiser equals the closed-form posterior mean (linear) and has a vanishing gradient (logistic).",
        vec![
            Column::new("data", "data"),
            Column::new("model", "model"),
            Column::new("solver", "solver"),
            Column::new("max_relative_difference", "max |w_opt − w_exact| / max |w|"),
            Column::new("gradient_norm", "‖∇‖ at the MAP"),
            Column::new("iterations", "iterations"),
        ],
        format!(
            "{}  (diagnostics.optimizer_check); {}; {}",
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "diabetes")
                .with(Setting::Format, "json"),
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "breast_cancer")
                .with(Setting::Model, "logistic")
                .with(Setting::Intercept, "free")
                .with(Setting::Format, "json"),
            Command::occam("fit", ctx.names)
                .with(Setting::Data, "iris")
                .with(Setting::Model, "logistic")
                .with(Setting::Format, "json")
        ),
    );
    if let Some(c) = &linear.optimizer_check {
        check.push(vec![
            Cell::text("diabetes"),
            Cell::text("linear"),
            Cell::text("argmin L-BFGS vs closed form"),
            Cell::num(c.max_relative_difference, 12),
            Cell::num(c.gradient_norm, 12),
            Cell::Count(c.iterations as usize),
        ]);
    }
    check.push(vec![
        Cell::text("breast_cancer"),
        Cell::text("logistic"),
        Cell::text("argmin L-BFGS then Newton"),
        Cell::Empty,
        Cell::num(logistic.mode.gradient_norm, 12),
        Cell::Count(logistic.mode.lbfgs_iterations as usize + logistic.mode.newton_iterations),
    ]);
    check.push(vec![
        Cell::text("iris"),
        Cell::text("logistic (multinomial, K = 3)"),
        Cell::text("argmin L-BFGS then Newton"),
        Cell::Empty,
        Cell::num(multinomial.mode.gradient_norm, 12),
        Cell::Count(
            multinomial.mode.lbfgs_iterations as usize + multinomial.mode.newton_iterations,
        ),
    ]);
    section.table(check);
    section.text("The logistic MAP matches scikit-learn's LogisticRegression(C = s²) to better than 1e-6 relative on breast_cancer (tests/golden_sklearn_logistic.rs), the multinomial MAP matches its multinomial LogisticRegression (ones column, fit_intercept=False, C = 0.01 … 100) to better than 1e-7 relative on iris (tests/golden_sklearn_softmax.rs), and the linear evidence matches BayesianRidge to 1e-8 (tests/golden_sklearn.rs).");
    Ok(section)
}
