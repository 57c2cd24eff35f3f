//! Logistic regression — binary, and the linear-softmax model for K ≥ 3 classes — under a prior of
//! several groups (math.md §8): Laplace evidence with Λ = diag(α_g), the MAP refitted at each Λ,
//! empirical Bayes over every `auto` group jointly ([`GroupedLaplace::empirical_bayes`]).
//!
//! **Parameters and groups.** Binary: θ = (w_1 … w_k, b). Softmax: class-major, θ_c = (w_c, b_c);
//! a weight group (`weights`, `features:a,b`, an `ard` feature) covers the chosen features'
//! weights in *every* class, `biases` the K intercepts. The intercept(s) are parameters of the
//! structure under `--intercept shared` (the default); when no group of the structure can claim
//! them (no `all`, `biases`, `layer1`, `layer1.biases`, `output`, `output.biases` or `rest`), the
//! group `biases=zero:auto` is added — so `ard` alone means `ard; biases=zero:auto`. Under `free`
//! (binary only) or `prior:SD` the intercepts stay outside the structure with a flat or N(0, SD²)
//! prior; under `none` there are none.
//!
//! **Codes.** mixture = −log₂ p̂(D) (Laplace) + ½ log₂ n per fitted s_g (pruned ones included:
//! they were estimated) and per `charged_reals`; two_part = MML87 at the MAP with this Λ (the
//! one-group code's formula, Λ per parameter) + the same charge; bic does not depend on the prior.
//! The prequential code would need the groups' empirical Bayes on every prefix and is not
//! computed for these models (a note says so).

use super::glm::GlmStudy;
use super::grouped::{resolve_group_centers, GroupOutcome};
use super::{
    charge_note, charged_reals_note, is_multiclass, EvidenceMethod, FitOptions, LogisticFit,
    LogisticStudy, PriorEvaluation, ResolvedCenter, SoftmaxFit, SoftmaxStudy,
};
use crate::codelength::{bits, estimate_charge_bits, optional_code, CodeLengths, TwoPartCode};
use crate::data::Dataset;
use crate::error::{Message, Result};
use crate::inference::grouped_laplace::{GroupedLaplace, GroupedLaplaceEb};
use crate::inference::laplace::{LaplaceEvidence, Mode};
use crate::model::Intercept;
use crate::prior::groups::{LayerPart, ParameterInfo, PriorStructure, Selector};
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;

/// The one-group fit of the model, at the final Λ.
#[derive(Debug, Clone)]
pub enum GroupedLaplaceInner<'d> {
    /// Two classes.
    Binary(LogisticFit<'d>),
    /// K ≥ 3 classes.
    Softmax(SoftmaxFit<'d>),
}

/// A logistic (binary or softmax) fit under a prior of several groups.
#[derive(Debug, Clone)]
pub struct GroupedLaplaceFit<'d> {
    /// The fit at the final Λ: its study, mode, Laplace evidence, codes and notes (its
    /// `evaluation.prior_sd` is NaN: the groups hold the sds).
    pub inner: GroupedLaplaceInner<'d>,
    /// The structure fitted (with `biases=zero:auto` added where no group claims the intercepts).
    pub structure: PriorStructure,
    /// The groups; their indices are positions in θ.
    pub groups: Vec<GroupOutcome>,
    /// μ over all P parameters (0 for intercepts outside the structure).
    pub center: DVector<f64>,
    /// ∂ln p/∂ln s_g at the answer, by central differences (0 for fixed and pruned groups).
    pub gradient: Vec<f64>,
    /// MacKay fixed-point refits.
    pub mackay_iterations: usize,
}

impl GroupedLaplaceFit<'_> {
    /// The evaluation at the final Λ.
    pub fn evaluation(&self) -> &PriorEvaluation {
        match &self.inner {
            GroupedLaplaceInner::Binary(f) => &f.evaluation,
            GroupedLaplaceInner::Softmax(f) => &f.evaluation,
        }
    }
}

/// Whether some group of `structure` can claim a bias.
fn claims_biases(structure: &PriorStructure) -> bool {
    structure.groups().iter().any(|g| match &g.selector {
        Selector::All | Selector::Biases | Selector::Rest => true,
        Selector::Layer { layer, part } => *layer == 1 && *part != LayerPart::Weights,
        Selector::Output(part) => *part != LayerPart::Weights,
        Selector::Features(_) | Selector::Ard | Selector::Weights => false,
    })
}

/// The model side the fit needs, binary or softmax.
enum Side<'d> {
    Binary(LogisticStudy<'d>),
    Softmax(SoftmaxStudy<'d>),
}

impl Side<'_> {
    fn mode_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        init: DVector<f64>,
    ) -> Result<(Mode, LaplaceEvidence)> {
        match self {
            Side::Binary(s) => s.mode_under(center, precision, init),
            Side::Softmax(s) => s.mode_under(center, precision, init),
        }
    }

    #[allow(clippy::type_complexity)]
    fn two_part_and_bic_under(
        &self,
        center: &DVector<f64>,
        precision: &DVector<f64>,
        mode: &Mode,
        laplace: &LaplaceEvidence,
    ) -> (
        std::result::Result<TwoPartCode, String>,
        std::result::Result<f64, String>,
    ) {
        match self {
            Side::Binary(s) => s.two_part_and_bic_under(center, precision, mode, laplace),
            Side::Softmax(s) => s.two_part_and_bic_under(center, precision, mode, laplace),
        }
    }
}

/// The structure's parameters, each with its position in θ, and every θ position's precision
/// when outside the structure (`None` inside it).
fn layout(
    features: &[String],
    classes: Option<&[String]>,
    intercept: Intercept,
) -> (Vec<ParameterInfo>, Vec<usize>, Vec<Option<f64>>) {
    let k = features.len();
    let has_intercept = intercept != Intercept::None;
    let shared = intercept == Intercept::Shared;
    let outside_precision = match intercept {
        Intercept::Prior(sd) => 1.0 / (sd * sd),
        _ => 0.0,
    };
    let m = k + usize::from(has_intercept);
    let class_names: Vec<Option<&String>> = match classes {
        Some(names) => names.iter().map(Some).collect(),
        None => vec![None],
    };
    let mut params = Vec::new();
    let mut position = Vec::new();
    let mut outside = vec![None; class_names.len() * m];
    for (c, class) in class_names.iter().enumerate() {
        let label = |what: &str| match class {
            Some(name) => format!("{name}:{what}"),
            None => what.to_string(),
        };
        for (j, f) in features.iter().enumerate() {
            params.push(ParameterInfo::weight(&label(f), 1, Some(f)));
            position.push(c * m + j);
        }
        if has_intercept {
            if shared {
                params.push(ParameterInfo::bias(&label("(intercept)"), 1));
                position.push(c * m + k);
            } else {
                outside[c * m + k] = Some(outside_precision);
            }
        }
    }
    (params, position, outside)
}

/// Fits logistic regression (binary, or softmax for K ≥ 3 classes) to `dataset` under the
/// grouped prior `structure` (see the module's docs); the other settings come from `options`.
pub fn fit_grouped_logistic<'d>(
    dataset: &'d Dataset,
    options: &FitOptions,
    structure: &PriorStructure,
) -> Result<GroupedLaplaceFit<'d>> {
    let multiclass = is_multiclass(dataset);
    let side = if multiclass {
        Side::Softmax(SoftmaxStudy::borrowing(dataset, options)?)
    } else {
        Side::Binary(LogisticStudy::borrowing(dataset, options)?)
    };
    let class_names = match &side {
        Side::Softmax(s) => Some(s.class_names.clone()),
        Side::Binary(_) => None,
    };
    let features = dataset.feature_names.clone();
    let (params, position, outside) = layout(&features, class_names.as_deref(), options.intercept);
    let p = outside.len();
    let mut notes: Vec<Message> = Vec::new();
    let structure = if params.iter().any(|q| q.feature.is_none()) && !claims_biases(structure) {
        notes.push(Message::from(format!(
            "no group of '{structure}' claims the intercept{}, so they form the group biases=zero:auto (the default centre and sd)",
            if multiclass { "s" } else { "" }
        )));
        PriorStructure::parse(&format!("{structure}; biases=zero:auto"))?
    } else {
        structure.clone()
    };
    let groups = structure.resolve(&params)?;
    let (param_center, center_notes) = resolve_group_centers(&groups, &params)?;
    let mut center = DVector::zeros(p);
    for (i, &t) in position.iter().enumerate() {
        center[t] = param_center[i];
    }
    let mut labels: Vec<Option<usize>> = vec![None; p];
    for (g, group) in groups.iter().enumerate() {
        for &i in &group.indices {
            labels[position[i]] = Some(g);
        }
    }
    let fixed: Vec<Option<f64>> = groups
        .iter()
        .map(|g| g.sd.fixed().map(|s| 1.0 / (s * s)))
        .collect();
    let outside_precision = DVector::from_fn(p, |j, _| outside[j].unwrap_or(0.0));

    let fit_at =
        |precision: &DVector<f64>, init: DVector<f64>| side.mode_under(&center, precision, init);
    let model = GroupedLaplace::new(
        labels.clone(),
        fixed.clone(),
        outside_precision,
        center.clone(),
        &fit_at,
    );
    let eb: GroupedLaplaceEb = {
        let _step = crate::progress::step(format!(
            "empirical Bayes over {} prior group(s) ({p} parameters, Laplace evidence)",
            groups.len()
        ));
        model.empirical_bayes(center.clone())?
    };
    let point = &eb.point;
    let outcomes: Vec<GroupOutcome> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            GroupOutcome::at_precision(
                group,
                point.precisions[g],
                group.indices.iter().map(|&i| position[i]).collect(),
                point.effective_parameters[g],
            )
        })
        .collect();
    // γ over all P: the groups' γ_g plus the outside parameters' 1 − Λ_j S_jj.
    let effective_parameters = point.effective_parameters.iter().sum::<f64>()
        + (0..p)
            .filter(|&j| labels[j].is_none())
            .map(|j| 1.0 - point.precision[j] * point.laplace.posterior_sd[j].powi(2))
            .sum::<f64>();

    let n = dataset.n();
    let fitted_sds = outcomes.iter().filter(|g| g.sd_fitted).count();
    let charge_bits = estimate_charge_bits(fitted_sds + options.charged_reals, n);
    notes.insert(
        0,
        format!(
            "prior structure {structure}: {} group(s) over {p} parameters, Λ = diag(α_g); evidence and mixture code: Laplace approximation with the exact Hessian at the MAP, refitted at each Λ — approximate (math.md §8)",
            outcomes.len()
        )
        .into(),
    );
    if multiclass {
        notes.push("softmax: a weight group covers its features' weights in every class, biases the intercepts of every class".into());
    }
    if fitted_sds > 0 {
        notes.push(format!(
            "empirical Bayes over the groups: MacKay's fixed point ({} refits), then a coordinate search in ln s_g until |∂ln p/∂ln s_g| ≤ 1e-4·max(1, P_g) by central differences (largest {:.1e}); {} mode fits in all",
            eb.mackay_iterations,
            eb.gradient.iter().fold(0.0f64, |a, g| a.max(g.abs())),
            eb.evaluations
        ).into());
    }
    notes.extend(eb.notes.iter().cloned());
    for group in outcomes.iter().filter(|g| g.pruned) {
        notes.push(format!(
            "group '{}' pruned: s = 0 (α → ∞), its {} parameter(s) sit at its centre and the evidence is the finite limit, where the group drops out",
            group.name,
            group.indices.len()
        ).into());
    }
    match options.intercept {
        Intercept::Free => notes.push("intercept: free (flat prior), outside the structure — the evidence, mixture and two_part omit its prior normaliser, so they are defined up to that constant".into()),
        Intercept::Prior(sd) => notes.push(format!("intercept: its own prior N(0, {sd}²), outside the structure").into()),
        _ => {}
    }
    notes.extend(center_notes);
    let mut charged: Vec<Message> = Vec::new();
    if fitted_sds > 0 {
        charged.push(format!("{fitted_sds} group sd(s) s_g").into());
    }
    notes.extend(charge_note(
        &charged,
        Some(charge_bits),
        n,
        "mixture and two_part",
    ));
    notes.extend(charged_reals_note(options.charged_reals, n));

    let codes = options.codes;
    let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
        Err(Message::from("prequential: not computed for a prior of several groups on the logistic model (it needs the groups' empirical Bayes on every prefix, which is not wired yet); mixture, two_part and bic are"))
    });
    let (two_part_result, bic_result) =
        side.two_part_and_bic_under(&center, &point.precision, &point.mode, &point.laplace);
    let mut two_part_code = None;
    let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
        let code = two_part_result?;
        two_part_code = Some(code);
        Ok(bits(code.nats) + charge_bits)
    });
    notes.extend(
        two_part_code
            .and_then(|code| code.note())
            .map(Message::from),
    );
    let bic = optional_code(codes.bic, "bic", &mut notes, || {
        bic_result.map_err(Message::from)
    });
    let code_lengths = CodeLengths {
        mixture: Some(bits(-point.laplace.log_evidence) + charge_bits),
        prequential,
        two_part,
        bic,
        two_part_form: two_part_code.map(|code| code.form),
    };
    let grouped: Vec<usize> = (0..p).filter(|&j| labels[j].is_some()).collect();
    let distance = grouped
        .iter()
        .map(|&j| (point.mode.params[j] - center[j]).powi(2))
        .sum::<f64>()
        .sqrt();
    let evaluation = PriorEvaluation {
        center_spec: CenterSpec::Zero,
        center: ResolvedCenter {
            values: center.clone(),
            estimated_reals: 0,
            note: None,
        },
        prior_sd_spec: SdSpec::Auto,
        noise_sd_spec: SdSpec::Auto,
        prior_sd: f64::NAN,
        noise_sd: None,
        mode: point.mode.params.clone(),
        log_evidence: point.laplace.log_evidence,
        evidence_method: EvidenceMethod::LaplaceHessian,
        effective_parameters,
        distance_from_center: distance,
        empirical_bayes_iterations: eb.evaluations,
        code_lengths,
        charge_bits,
        notes: Vec::new(),
        symmetry_log_nats: 0.0,
        diagnostics: None,
    };
    // A pruned group's parameters are reported at its centre with posterior sd 0 (the limit; the
    // stand-in precision leaves them within ~1e-14 relative of it).
    let (mut mode, mut laplace) = (point.mode.clone(), point.laplace.clone());
    for group in outcomes.iter().filter(|g| g.pruned) {
        for &j in &group.indices {
            mode.params[j] = center[j];
            laplace.posterior_sd[j] = 0.0;
        }
    }
    let (gradient, mackay_iterations) = (eb.gradient.clone(), eb.mackay_iterations);
    let inner = match side {
        Side::Binary(study) => GroupedLaplaceInner::Binary(LogisticFit {
            study,
            evaluation,
            mode,
            laplace,
            notes,
        }),
        Side::Softmax(study) => {
            debug_assert_eq!(
                study.intercept_is_parameter(),
                options.intercept != Intercept::None
            );
            GroupedLaplaceInner::Softmax(SoftmaxFit {
                study,
                evaluation,
                mode,
                laplace,
                notes,
            })
        }
    };
    Ok(GroupedLaplaceFit {
        inner,
        structure,
        groups: outcomes,
        center,
        gradient,
        mackay_iterations,
    })
}
