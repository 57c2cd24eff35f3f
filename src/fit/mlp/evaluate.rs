//! Scoring one prior on a network (empirical Bayes for s, notes, every code length) and the
//! network's [`Study`] implementation (its centres and code-length notes).

use super::search::BestStart;
use super::units::{remap_first_layer, remap_output_layer};
use super::{fit_mlp, HessianKind, MlpMode, MlpStudy, TargetScaling};
use crate::codelength::{
    bits, estimate_charge_bits, lattice_term, mml87_isotropic_nats, mml87_nats, optional_code,
    CodeLengths,
};
use crate::data::{Dataset, Standardization};
use crate::error::{Message, OccamError, Result, Setting};
use crate::fit::center::{resolve_center, CenterHooks};
use crate::fit::{
    charge_note, charged_reals_note, FitOptions, ModelKind, PriorEvaluation, ResolvedCenter, Study,
    StudyInfo,
};
use crate::inference::laplace::maximize_over_log_sd;
use crate::message;
use crate::model::mlp::{diagnostics, symmetry_log_count, MlpProblem};
use crate::prior::{CenterSpec, SdSpec};
use crate::simulate::Truth;
use nalgebra::{DMatrix, DVector};
use std::cell::RefCell;
use std::collections::HashSet;

impl MlpStudy {
    /// Scores one prior and returns its mode.
    pub fn evaluate_mlp(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<(PriorEvaluation, MlpMode)> {
        let mu = &center.values;
        // σ is given in y's units; the network fits y_z = (y − shift)/scale.
        let noise_sd_given = noise_sd;
        let noise_sd = match noise_sd {
            SdSpec::Fixed(sigma) => SdSpec::Fixed(sigma / self.target.scale),
            SdSpec::Auto => SdSpec::Auto,
        };
        let jacobian = self.target.log_jacobian(self.n);
        let mut eb_notes = Vec::new();
        let (sd, evaluations, eb_mode) = match prior_sd {
            SdSpec::Fixed(s) => (s, 0, None),
            SdSpec::Auto => {
                // Every s is fitted from the same seeded random starts, never from another s's mode:
                // the evidence is then a function of s alone (the search's order, and whatever else
                // is fitted in the same command, cannot change it), and a warm start cannot pin the
                // search to a degenerate mode — from the all-zero mode of a tiny s, a tanh network
                // stays at zero for every s, since there ∇f = 0. The mode at ŝ is the one scored
                // there, not a refit.
                let scored: RefCell<Vec<(f64, MlpMode)>> = RefCell::new(Vec::new());
                let evaluate = |log_sd: f64| -> Result<f64> {
                    let mode = self.mode_with_noise(mu, log_sd.exp(), noise_sd, None)?;
                    let evidence = mode.log_evidence;
                    scored.borrow_mut().push((log_sd, mode));
                    Ok(evidence)
                };
                let optimum = maximize_over_log_sd(&evaluate).map_err(|e| {
                    OccamError::computation(
                        "empirical Bayes for the network's prior sd",
                        e.message().then(message![
                            "; a fixed ",
                            Setting::PriorSd,
                            " avoids the search, and ",
                            Setting::Restarts,
                            " adds random starts at every s"
                        ]),
                    )
                })?;
                eb_notes = optimum.notes;
                let mode = scored
                    .into_inner()
                    .into_iter()
                    .find(|(log_sd, _)| *log_sd == optimum.log_sd)
                    .map(|(_, mode)| mode);
                (optimum.log_sd.exp(), optimum.evaluations, mode)
            }
        };
        let mut notes = eb_notes;
        let mode = match eb_mode {
            Some(mode) => mode,
            None => self.mode_with_noise(mu, sd, noise_sd, warm)?,
        };
        let fitted = usize::from(prior_sd == SdSpec::Auto)
            + usize::from(self.regression() && noise_sd == SdSpec::Auto)
            + 2 * usize::from(self.target.is_active());
        let charged = self.options.charged_reals;
        let charge_bits = estimate_charge_bits(fitted + center.estimated_reals + charged, self.n);
        notes.extend(charged_reals_note(charged, self.n));
        if mode.nonpositive_eigenvalues > 0 {
            notes.push(format!(
                "the exact Hessian of the negative log posterior at the MAP has {} non-positive eigenvalue(s) (smallest {:.3e}), so it is not a Laplace curvature; the evidence uses the GGN instead",
                mode.nonpositive_eigenvalues, mode.eigenvalue_range[0]
            ).into());
        }
        let p = self.arch.n_params();
        if !(0.0..=p as f64).contains(&mode.effective_parameters) {
            // γ = P − α·tr(H⁻¹) = tr(H⁻¹(H − Λ)): with the exact Hessian the data's curvature
            // H − Λ can be indefinite, and eigenvalues of H far below α push the sum out of [0, P].
            notes.push(message![
                format!(
                    "γ is printed as null: P − α·tr(H⁻¹) = {:.1} lies outside [0, P = {p}] — the curvature's smallest eigenvalue ({:.3e}) is far below the prior precision α = {:.3e}, so along those directions the data's own curvature H − αI is negative (the posterior is flatter than the prior there, as for hidden units the prior has switched off that the data would nearly switch on) and γ counts nothing; the GGN's γ (",
                    mode.effective_parameters, mode.eigenvalue_range[0], 1.0 / (sd * sd)
                ),
                (Setting::Hessian, "ggn"),
                ") is the well-determined-parameter count"
            ]);
        }
        if mode.gradient_norm > mode.gradient_tolerance {
            notes.push(format!(
                "the ReLU network's best point has ‖∇f‖ = {:.3e} > {:.3e} (1e-4 of the gradient's scale): its objective has kinks (units switching on or off at some rows) where the gradient need not vanish, so the evidence is a Laplace approximation at a point that is not quite stationary",
                mode.gradient_norm, mode.gradient_tolerance
            ).into());
        }
        let codes = self.options.codes;
        let precision = DVector::from_element(p, 1.0 / (sd * sd));
        // Prequential: block 0 at the centre; each later block with the MAP on the rows before it
        // at the full-data s and σ (sent first, at the charge above).
        let prequential = optional_code(codes.prequential, "prequential", &mut notes, || {
            let (z, y) = (&self.ordered.0, &self.ordered.1);
            let k = self.arch.inputs;
            let mut theta = mu.clone();
            let mut total = 0.0;
            for (j, pair) in self.boundaries.windows(2).enumerate() {
                let (start, end) = (pair[0], pair[1]);
                if j > 0 {
                    // From the previous block's MAP; while that is still the centre, from the
                    // seeded random starts as the full fit: a zero centre is a stationary point
                    // of a tanh or ReLU network (no unit has an outgoing weight to learn from),
                    // so a search from it would never leave it.
                    let starts = if theta == *mu {
                        self.random_starts(mu)
                    } else {
                        vec![theta.clone()]
                    };
                    if let Ok(BestStart { params: fitted, .. }) = self.map(
                        (&z[..start * k], &y[..start]),
                        mu,
                        &precision,
                        mode.noise_precision,
                        &starts,
                    ) {
                        theta = fitted;
                    }
                }
                let block = MlpProblem::new(
                    &self.arch,
                    &z[start * k..end * k],
                    &y[start..end],
                    mu,
                    &precision,
                    mode.noise_precision,
                );
                total += bits(block.negative_log_likelihood(&theta));
            }
            // Each row's density of y is that of y_z over the scale (the Jacobian).
            Ok(total + bits(jacobian) + charge_bits)
        });
        // All rows under this prior: the Fisher information of two_part and the diagnostics.
        let problem = MlpProblem::new(
            &self.arch,
            &self.z,
            &self.y,
            mu,
            &precision,
            mode.noise_precision,
        );
        let mut two_part_code = None;
        let two_part = optional_code(codes.two_part, "two_part", &mut notes, || {
            // MML87 quantises every parameter to the precision the Fisher information gives it; a
            // direction the data do not determine (relative curvature below 1e-12) has none.
            let singular = || {
                "two_part is undefined: the Fisher information (the GGN without the prior) is singular or nearly so — n < P, dead or redundant units, or saturated outputs leave directions the data do not determine".to_string()
            };
            // The last-layer code quantises the output layer's P_L parameters only.
            let coded = mode
                .structured
                .as_ref()
                .filter(|_| self.last_layer())
                .map_or(p, |s| s.curvature_eigenvalues.len());
            if self.n < coded {
                return Err(singular().into());
            }
            if let Some(structured) = &mode.structured {
                // Under kfac/diag the Fisher information is the same structured curvature as the
                // evidence's (math.md §9): its eigenvalues, never a P × P matrix.
                let alpha = 1.0 / (sd * sd);
                let eigenvalues = &structured.curvature_eigenvalues;
                let code = if self.arch.is_softmax() {
                    let structural = self.arch.widths()[self.arch.hidden.len()] + 1;
                    crate::codelength::softmax::two_part_beyond_structural_isotropic(
                        eigenvalues,
                        alpha,
                        structural,
                        mode.log_likelihood,
                        mode.log_prior,
                        || {
                            format!("two_part is undefined: the structured Fisher information ({}) is singular beyond the {structural} directions that shift every output unit alike", structured.method)
                        },
                    )?
                } else {
                    let code = mml87_isotropic_nats(
                        -mode.log_prior - mode.log_likelihood,
                        eigenvalues,
                        alpha,
                        singular,
                    )?;
                    if !self.regression() && code.nats < 0.0 {
                        return Err(crate::codelength::logistic::negative_length(&code).into());
                    }
                    code
                };
                two_part_code = Some(code);
                return Ok(bits(code.nats + jacobian) + charge_bits);
            }
            let fisher: DMatrix<f64> = problem.ggn(&mode.params);
            if self.arch.is_softmax() {
                // Shifting every output unit's (weights, bias) by one vector leaves every softmax
                // probability unchanged: F is null along those h_L + 1 directions by construction
                // (math.md §7), which are set aside as for the linear-softmax model.
                let structural = self.arch.widths()[self.arch.hidden.len()] + 1;
                let code = crate::codelength::softmax::two_part_beyond_structural(
                    &fisher,
                    &precision,
                    structural,
                    mode.log_likelihood,
                    mode.log_prior,
                    || {
                        format!("two_part is undefined: the Fisher information (the GGN without the prior) is singular beyond the {structural} directions that shift every output unit alike — dead or redundant units, or saturated outputs leave directions the data do not determine")
                    },
                )?;
                two_part_code = Some(code);
                return Ok(bits(code.nats) + charge_bits);
            }
            let code = mml87_nats(
                -mode.log_prior - mode.log_likelihood,
                &fisher,
                &precision,
                singular,
            )?;
            if !self.regression() && code.nats < 0.0 {
                return Err(crate::codelength::logistic::negative_length(&code).into());
            }
            two_part_code = Some(code);
            Ok(bits(code.nats + jacobian) + charge_bits)
        });
        notes.extend(
            two_part_code
                .and_then(|code| code.note())
                .map(Message::from),
        );
        let bic = optional_code(codes.bic, "bic", &mut notes, || {
            Err("bic is undefined for a network: its maximum-likelihood estimate is not unique (hidden units can be permuted) and need not exist (a classifier's likelihood can rise without bound)".into())
        });
        if let Some(note) = &center.note {
            notes.push(note.clone());
        }
        if self.last_layer() {
            notes.push(self.last_layer_note(prior_sd, noise_sd));
        }
        let diagnostics = diagnostics(&problem, &mode.params);
        if self.target.is_active() {
            notes.push(format!(
                "target z-scored for the network: y_z = (y − {})/{} (its mean and population sd over the coded rows, sent first and charged); σ, the evidence and every code are for y in its own units — the Jacobian adds −n ln sd_y = {:.4} nats to ln p(y_z) — and the prior sd s is on the weights of the standardised features and target",
                self.target.shift, self.target.scale, -jacobian
            ).into());
        }
        // Reported for y: the log likelihood and evidence with the Jacobian in.
        let mut mode = mode;
        mode.log_likelihood -= jacobian;
        mode.log_evidence -= jacobian;
        let evaluation = PriorEvaluation {
            center_spec: spec.clone(),
            prior_sd_spec: prior_sd,
            noise_sd_spec: noise_sd_given,
            prior_sd: sd,
            noise_sd: self
                .regression()
                .then(|| self.target.scale / mode.noise_precision.sqrt()),
            mode: mode.params.clone(),
            log_evidence: mode.log_evidence,
            evidence_method: mode.method,
            effective_parameters: mode.effective_parameters,
            distance_from_center: (&mode.params - mu).norm(),
            empirical_bayes_iterations: evaluations,
            code_lengths: CodeLengths {
                mixture: Some(bits(-mode.log_evidence) + charge_bits),
                prequential,
                two_part,
                bic,
                two_part_form: two_part_code.map(|code| code.form),
            },
            charge_bits,
            notes,
            // The last-layer GLM's features are fixed: no permutation of them is another mode.
            symmetry_log_nats: if self.last_layer() {
                0.0
            } else {
                symmetry_log_count(&self.arch, &mode.params)
            },
            diagnostics: serde_json::to_value(&diagnostics).ok(),
            center,
        };
        Ok((evaluation, mode))
    }
}

impl CenterHooks for MlpStudy {
    fn prior_parameters(&self) -> (usize, Vec<String>) {
        (self.arch.n_params(), self.arch.parameter_names())
    }

    fn coded_rows(&self) -> usize {
        self.n
    }

    fn fingerprints(&self) -> &HashSet<u64> {
        &self.fingerprints
    }

    /// The teacher must be this network's shape; it is a function of the raw columns, mapped
    /// into this standardisation.
    fn truth_values(&self, truth: Truth) -> Result<Vec<f64>> {
        let fits =
            truth.network.as_ref().is_some_and(|t| {
                t.hidden == self.arch.hidden && t.activation == self.arch.activation
            }) && truth.parameters.len() == self.arch.n_params();
        if !fits {
            let teacher = truth.network.as_ref().map_or(Message::default(), |t| {
                let hidden: Vec<String> = t.hidden.iter().map(|h| h.to_string()).collect();
                message![
                    " (the teacher is ",
                    (Setting::Hidden, hidden.join(",")),
                    " ",
                    (Setting::Activation, t.activation.name()),
                    ")"
                ]
            });
            return Err(OccamError::invalid(
                Setting::PriorCenter,
                message!["'truth': the teacher network's shape differs from this one"]
                    .then(teacher)
                    .then(message![
                        "; fit the same ",
                        Setting::Hidden,
                        " and ",
                        Setting::Activation
                    ]),
            ));
        }
        let identity = Standardization {
            feature_shift: vec![0.0; self.arch.inputs],
            feature_scale: vec![1.0; self.arch.inputs],
            target_shift: 0.0,
        };
        let values = remap_output_layer(
            &self.arch,
            &remap_first_layer(
                &self.arch,
                &DVector::from_vec(truth.parameters),
                &identity,
                &self.transform,
            ),
            TargetScaling::IDENTITY,
            self.target,
        );
        Ok(values.iter().copied().collect())
    }

    /// The donor lives in its own standardisation; a centre is a point in this one. Both are
    /// z-scored versions of the same columns, so the first layer maps exactly. So does the output
    /// layer between the two targets' z-scorings.
    fn donor_values(&self, donor: &Dataset, zero_centred: FitOptions) -> Result<Vec<f64>> {
        let donor = fit_mlp(donor, &zero_centred)?;
        let values = remap_output_layer(
            &self.arch,
            &remap_first_layer(
                &self.arch,
                &donor.mode.params,
                &donor.study.transform,
                &self.transform,
            ),
            donor.study.target,
            self.target,
        );
        Ok(values.iter().copied().collect())
    }

    /// A network has no cheap empirical-Bayes sd to borrow: the scale must be given.
    fn zero_centred_sd(&self, spec: &CenterSpec) -> Result<f64> {
        Err(OccamError::invalid(
            Setting::PriorCenter,
            message![
                format!("'{spec}' takes its scale from the prior sd, which is 'auto' here; give the scale, e.g. {spec}:1, or a fixed "),
                Setting::PriorSd
            ],
        ))
    }
}

impl Study for MlpStudy {
    fn info(&self) -> StudyInfo {
        StudyInfo {
            kind: ModelKind::Mlp,
            source: self.source.clone(),
            n: self.n,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
            options: self.options.clone(),
            target_mapping: self.target_mapping,
            target_labels: self.target_labels.clone(),
            classes: self.class_names(),
        }
    }

    fn resolve_center(&self, spec: &CenterSpec, prior_sd: SdSpec) -> Result<ResolvedCenter> {
        resolve_center(self, spec, prior_sd)
    }

    fn evaluate(
        &self,
        spec: &CenterSpec,
        center: ResolvedCenter,
        prior_sd: SdSpec,
        noise_sd: SdSpec,
        warm: Option<&DVector<f64>>,
    ) -> Result<PriorEvaluation> {
        self.evaluate_mlp(spec, center, prior_sd, noise_sd, warm)
            .map(|(e, _)| e)
    }

    fn code_length_notes(&self, charged: &[Message], charge_bits: Option<f64>) -> Vec<Message> {
        let p = self.arch.n_params();
        let (_, tabulated) = lattice_term(if self.last_layer() {
            (self.arch.widths()[self.arch.hidden.len()] + 1) * self.arch.outputs
        } else {
            p
        });
        let mut notes = vec![if self.last_layer() {
            format!(
                "evidence and mixture code: Laplace approximation over the output layer at the network's MAP (best of {} start(s), seed {}), with the output layer's exact Hessian (= its GGN: the GLM's link is canonical) and the earlier layers fixed there — the evidence of a GLM on the network's last hidden features, method laplace-last-layer, exact given the features for regression; no symmetry term (evidence.symmetry_log_nats = 0): the features are fixed, so no permutation of them is another mode of this model",
                self.options.mlp.restarts,
                self.options.mlp.seed,
            )
        } else {
            format!(
            "evidence and mixture code: Laplace approximation at the MAP (best of {} start(s), seed {}), with the {} — approximate; the symmetry term counts the distinct modes the unit permutations and sign flips map the MAP onto — ln(h!/Π m_g!) + ln 2 per unit whose flip moves it (tanh, sigmoid), per hidden layer, m_g the sizes of groups of units equal up to sign (equal, for ReLU) within {} of the largest unit's norm of (incoming weights, bias, outgoing weights), a zero unit being its own flip — is included and shown as evidence.symmetry_log_nats, the groups as diagnostics.symmetry",
            self.options.mlp.restarts,
            self.options.mlp.seed,
            match self.options.mlp.hessian {
                HessianKind::Exact => "exact Hessian (central differences of the analytic gradient, symmetrised)",
                HessianKind::Ggn => "generalised Gauss–Newton matrix",
                HessianKind::Kfac => "Kronecker-factored generalised Gauss–Newton matrix (KFAC: one block A ⊗ G per layer, the bias as the input 1, blocks across layers dropped; ln|H| and γ from the factors' eigenvalues) — an approximation of the GGN evidence, method laplace-kfac",
                HessianKind::Diag => "diagonal of the generalised Gauss–Newton matrix — an approximation of the GGN evidence, method laplace-diag",
            },
            crate::model::mlp::CLONE_TOLERANCE,
        )
        }
        .into()];
        notes.extend(charge_note(
            charged,
            charge_bits,
            self.n,
            "mixture, prequential and two_part",
        ));
        notes.push(format!(
            "prequential: {}, {} doubling block(s) from {} row(s); the first block is coded at the prior centre, each later block with the MAP fitted on all rows before it at the full-data s{} (sent first), searched from the previous block's MAP (from the random starts while that is still the centre)",
            self.options.order.describe(),
            self.boundaries.len() - 1,
            self.options.first_block,
            if self.regression() { " and σ" } else { "" }
        ).into());
        let (f_name, p_coded) = if self.last_layer() {
            (
                "the output layer's Fisher information (the last-layer GLM's, laplace-last-layer; the earlier layers fixed at the MAP)".to_string(),
                (self.arch.widths()[self.arch.hidden.len()] + 1) * self.arch.outputs,
            )
        } else {
            (
                match self.options.mlp.hessian {
                    HessianKind::Ggn | HessianKind::Exact => "the GGN",
                    HessianKind::Kfac => "the KFAC form of the GGN (the evidence's own structured curvature, laplace-kfac: ½ ln|F| from the Kronecker factors' eigenvalues)",
                    HessianKind::Diag => "the GGN's diagonal (the evidence's own structured curvature, laplace-diag)",
                }
                .to_string(),
                p,
            )
        };
        notes.push(format!(
            "two_part: MML87 with F = {f_name} at the MAP, P = {p_coded}, F + Λ in its place wherever some eigenvalue of F − Λ is negative (code_length_bits.two_part_form says which), lattice constant {}",
            if tabulated {
                "κ_P tabulated"
            } else {
                "from Wallace's approximation"
            }
        ).into());
        notes.push(format!(
            "network {}-{}-{}, {} hidden units, {} task; every weight and bias under N(μ, s²); parameter order as in the model docs (layer by layer, W row-major with one row per output unit, then biases)",
            self.arch.inputs,
            self.arch.hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-"),
            self.arch.outputs,
            self.arch.activation.name(),
            if self.regression() { "regression" } else { "classification" }
        ).into());
        if let Some(classes) = self.class_names() {
            let mapped: Vec<String> = classes
                .iter()
                .enumerate()
                .map(|(c, name)| format!("{name} ↦ {c}"))
                .collect();
            notes.push(
                format!(
                    "target '{}': {} — {} softmax outputs, output c giving P(y = class c) (math.md §7)",
                    self.target_name,
                    mapped.join(", "),
                    classes.len()
                )
                .into(),
            );
        } else if let Some(classes) = crate::fit::class_labels(&self.info()) {
            notes.push(
                format!(
                    "target '{}': {} ↦ 0, {} ↦ 1",
                    self.target_name,
                    classes.first().map_or("", String::as_str),
                    classes.last().map_or("", String::as_str),
                )
                .into(),
            );
        }
        notes
    }
}

impl MlpStudy {
    /// Whether the evidence is the last layer's (`Subset::LastLayer`).
    pub(super) fn last_layer(&self) -> bool {
        self.options.mlp.subset == super::Subset::LastLayer
    }

    /// What the last-layer evidence is, printed with every output of it (math.md §9).
    fn last_layer_note(&self, prior_sd: SdSpec, noise_sd: SdSpec) -> Message {
        let outputs = self.arch.outputs;
        let width = self.arch.widths()[self.arch.hidden.len()];
        let glm = if self.regression() {
            "linear-Gaussian"
        } else if self.arch.is_softmax() {
            "softmax"
        } else {
            "logistic"
        };
        let refit = if prior_sd == SdSpec::Auto || (self.regression() && noise_sd == SdSpec::Auto) {
            format!(
                "; empirical Bayes refits the whole network at every s{} tried and scores the last layer's evidence there, so the body is the network's MAP at the s{} printed",
                if self.regression() && noise_sd == SdSpec::Auto { " and σ (MacKay's update with the last layer's γ)" } else { "" },
                if self.regression() && noise_sd == SdSpec::Auto { " and σ" } else { "" },
            )
        } else {
            String::new()
        };
        message![
            format!(
                "laplace-last-layer: the evidence of a different model from the network's — a {glm} GLM on the {width} learned features h_L(x; θ̂) of the last hidden layer, its {} output-layer parameters (weights and bias{}) under the same N(μ, s²), with the earlier layers fixed at the network's MAP at the same s{}{refit}; the network's own evidence is that of ",
                (width + 1) * outputs,
                if outputs > 1 { "es" } else { "" },
                if self.regression() { " and σ" } else { "" },
            ),
            (Setting::Subset, "all"),
            " — compare it only with other laplace-last-layer rows. map.posterior_sd is the output layer's (the earlier layers' entries are 0: fixed in this model); the prequential code is the network's (every layer refitted on each prefix); bic stays undefined"
        ]
    }
}
