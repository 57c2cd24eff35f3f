//! The MLP study: a network under a Gaussian prior N(μ, s²I) on every weight and bias, its MAP
//! (best of several restarts), the Laplace evidence with the GGN or the exact Hessian, the
//! symmetry term, saturation diagnostics and code lengths (math.md §4–§6).
//!
//! Parameter order: [`crate::model::mlp`] (layer by layer, W row-major with one row per output
//! unit, then the biases; the output layer last). A centre — e.g. pretrained weights for L2-SP —
//! covers every parameter in that order.

mod evaluate;
mod mode;
mod rescore;
mod search;
mod study;
mod units;

pub use study::MlpStudy;
pub use units::{to_original_units, TargetScaling};

use crate::data::Dataset;
use crate::error::{Message, Result};
use crate::fit::{EvidenceMethod, FitOptions, PriorEvaluation, Study};
use crate::model::mlp::{diagnostics, Activation, Diagnostics, MlpProblem, Task};
use crate::prior::SdSpec;
use nalgebra::DVector;

/// A network mode must have ‖∇f‖ at most this fraction of the gradient's scale.
pub const MODE_TOLERANCE: f64 = 1e-6;
/// The same for ReLU networks, whose objective has kinks where the gradient cannot vanish exactly.
/// A ReLU mode that misses even this is kept, and a note says so.
pub const RELU_MODE_TOLERANCE: f64 = 1e-4;

/// Which curvature the Laplace evidence uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum HessianKind {
    /// The generalised Gauss–Newton matrix (always positive semi-definite).
    Ggn,
    /// The exact Hessian (central differences of the analytic gradient).
    Exact,
    /// The GGN Kronecker-factored per layer (KFAC, math.md §9): no P × P matrix in the evidence.
    Kfac,
    /// The GGN's diagonal (math.md §9).
    Diag,
}

impl HessianKind {
    /// The name printed and parsed (`ggn`, `exact`, `kfac`, `diag`).
    pub fn name(self) -> &'static str {
        match self {
            HessianKind::Ggn => "ggn",
            HessianKind::Exact => "exact",
            HessianKind::Kfac => "kfac",
            HessianKind::Diag => "diag",
        }
    }

    /// Whether a fit of a network of `params` parameters forms P × P matrices: always for the
    /// full curvatures (`ggn`, `exact`: the evidence factors one), and for `kfac`/`diag` up to
    /// [`crate::inference::kfac_search::KFAC_SEARCH_ABOVE`] (the dense whitened search, and the
    /// two_part code's Fisher matrix). In floating point, so that no width can overflow it.
    pub fn forms_square_matrices(self, params: f64) -> bool {
        match self {
            HessianKind::Ggn | HessianKind::Exact => true,
            HessianKind::Kfac | HessianKind::Diag => {
                params <= crate::inference::kfac_search::KFAC_SEARCH_ABOVE as f64
            }
        }
    }
}

/// Which parameters the Laplace evidence integrates over (math.md §9). The variants' comments are
/// the command line's help text (plain words, no links): `LastLayer` is computed by
/// [`crate::inference::last_layer`], `All` with the curvature of [`HessianKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Subset {
    /// Every weight and bias (the network's own evidence, with the curvature the Hessian option names).
    #[default]
    All,
    /// The output layer only, the earlier layers fixed at the network's MAP at the same s (and
    /// σ): the Laplace evidence of a GLM on the learned features h_L(x; θ̂), with that GLM's exact
    /// Hessian — a different model's evidence (labelled laplace-last-layer).
    LastLayer,
}

impl Subset {
    /// The name printed and parsed (`all`, `last-layer`).
    pub fn name(self) -> &'static str {
        match self {
            Subset::All => "all",
            Subset::LastLayer => "last-layer",
        }
    }
}

/// The network and how it is fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpOptions {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Hidden units' nonlinearity.
    pub activation: Activation,
    /// Regression or classification; `None` infers it (a two-valued target is classification).
    pub task: Option<Task>,
    /// Random restarts of the MAP search; the best log posterior is kept.
    pub restarts: usize,
    /// Seed of the initialisations.
    pub seed: u64,
    /// Curvature of the Laplace evidence.
    pub hessian: HessianKind,
    /// The parameters the evidence integrates over.
    pub subset: Subset,
}

impl Default for MlpOptions {
    fn default() -> Self {
        MlpOptions {
            hidden: vec![8],
            activation: Activation::Tanh,
            task: None,
            restarts: 1,
            seed: 0,
            hessian: HessianKind::Ggn,
            subset: Subset::All,
        }
    }
}

/// A mode of the network's posterior with its Laplace evidence.
#[derive(Debug, Clone)]
pub struct MlpMode {
    /// θ̂.
    pub params: DVector<f64>,
    /// ‖∇f(θ̂)‖.
    pub gradient_norm: f64,
    /// The bound it met.
    pub gradient_tolerance: f64,
    /// L-BFGS iterations of the best restart.
    pub iterations: u64,
    /// The restart that won (0-based).
    pub restart: usize,
    /// ln p(y | θ̂).
    pub log_likelihood: f64,
    /// ln π(θ̂).
    pub log_prior: f64,
    /// ½ ln|H| with the H used.
    pub half_log_det: f64,
    /// γ = P − α tr(H⁻¹).
    pub effective_parameters: f64,
    /// Laplace ln p(y) including the symmetry term.
    pub log_evidence: f64,
    /// Which curvature was used.
    pub method: EvidenceMethod,
    /// Smallest and largest eigenvalue of the Hessian asked for (exact or GGN) + Λ.
    pub eigenvalue_range: [f64; 2],
    /// Eigenvalues of the exact Hessian + Λ that are ≤ 0 (0 for the GGN).
    pub nonpositive_eigenvalues: usize,
    /// β used (regression).
    pub noise_precision: f64,
    /// Under `--hessian kfac|diag` or the last-layer subset: the structured evidence with γ per layer, the posterior sds
    /// and the curvature's eigenvalues (math.md §9); `None` for the GGN and the exact Hessian.
    pub structured: Option<crate::inference::kfac::StructuredEvidence>,
}

/// A fitted network.
#[derive(Debug, Clone)]
pub struct MlpFit {
    /// The data side.
    pub study: MlpStudy,
    /// The prior's scores.
    pub evaluation: PriorEvaluation,
    /// The mode and evidence.
    pub mode: MlpMode,
    /// Saturation, dead units, participation ratios, weight norms.
    pub diagnostics: Diagnostics,
    /// What the reader needs to know.
    pub notes: Vec<Message>,
}

/// Fits an MLP to `dataset` under the prior of `options`.
pub fn fit_mlp(dataset: &Dataset, options: &FitOptions) -> Result<MlpFit> {
    let study = MlpStudy::new(dataset, options)?;
    let center = study.resolve_center(&options.center, options.prior_sd)?;
    let (evaluation, mode) = study.evaluate_mlp(
        &options.center,
        center,
        options.prior_sd,
        options.noise_sd,
        None,
    )?;
    let precision = DVector::from_element(
        study.arch.n_params(),
        1.0 / (evaluation.prior_sd * evaluation.prior_sd),
    );
    let problem = MlpProblem::new(
        &study.arch,
        &study.z,
        &study.y,
        &evaluation.center.values,
        &precision,
        mode.noise_precision,
    );
    let diagnostics = diagnostics(&problem, &mode.params);
    let mut charged = Vec::new();
    if options.prior_sd == SdSpec::Auto {
        charged.push("the prior sd s".into());
    }
    if study.regression() && options.noise_sd == SdSpec::Auto {
        charged.push("the noise sd σ".into());
    }
    if study.target.is_active() {
        charged.push("the target's mean and sd (its z-scoring)".into());
    }
    let mut notes = study.code_length_notes(&charged, Some(evaluation.charge_bits));
    notes.extend(evaluation.notes.iter().cloned());
    if study.regression() {
        notes.extend(crate::fit::class_like_target_note(dataset));
    }
    Ok(MlpFit {
        study,
        evaluation,
        mode,
        diagnostics,
        notes,
    })
}

#[cfg(test)]
mod softmax_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{self, ColumnSelection, SufficientStats};
    use crate::data::{Design, DesignOptions};
    use crate::fit::fit_logistic;
    use crate::inference::{Hyperparameters, LinearGaussian};
    use crate::model::mlp::initial_parameters;
    use crate::model::Intercept;
    use crate::prior::CenterSpec;
    use nalgebra::DMatrix;

    fn options(hidden: Vec<usize>, task: Task) -> FitOptions {
        FitOptions {
            intercept: Intercept::Shared,
            mlp: MlpOptions {
                hidden,
                task: Some(task),
                ..MlpOptions::default()
            },
            codes: crate::codelength::CodeSelection::MIXTURE_ONLY,
            ..FitOptions::default()
        }
    }

    #[test]
    fn without_hidden_units_the_regression_laplace_evidence_is_the_exact_evidence() {
        // y_z = Zw + b + ε with every parameter (the bias too) under N(0, s²), y_z the z-scored
        // target: the linear-Gaussian model on the design [Z, 1] and y_z at noise sd σ/sd_y, whose
        // evidence is exact; the GGN Laplace is exact for it, and ln p(y) = ln p(y_z) − n ln sd_y.
        let diabetes = data::load("diabetes", &ColumnSelection::default()).unwrap();
        let (s, sigma) = (0.3, 55.0);
        let fit = fit_mlp(
            &diabetes,
            &FitOptions {
                prior_sd: SdSpec::Fixed(s),
                noise_sd: SdSpec::Fixed(sigma),
                ..options(vec![], Task::Regression)
            },
        )
        .unwrap();
        let design = Design::new(
            &diabetes,
            DesignOptions {
                standardize: true,
                center: false,
            },
        )
        .unwrap();
        let k = design.k;
        let augmented: Vec<f64> = design
            .z
            .chunks(k)
            .flat_map(|row| row.iter().copied().chain([1.0]))
            .collect();
        // The target's mean and population sd, computed here.
        let n = design.t.len() as f64;
        let mean = design.t.iter().sum::<f64>() / n;
        let sd_y = (design.t.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n).sqrt();
        let t_z: Vec<f64> = design.t.iter().map(|t| (t - mean) / sd_y).collect();
        let stats = SufficientStats::from_rows(&augmented, &t_z, k + 1);
        let exact = LinearGaussian::new(&stats).unwrap().posterior(
            Hyperparameters::from_sds(s, sigma / sd_y),
            &DVector::zeros(k + 1),
        );
        let expected = exact.summary.log_evidence - n * sd_y.ln();
        let rel = ((fit.evaluation.log_evidence - expected) / expected).abs();
        assert!(
            rel < 1e-6,
            "MLP {} vs exact {expected} (relative {rel:e})",
            fit.evaluation.log_evidence,
        );
        assert!((fit.evaluation.noise_sd.unwrap() - sigma).abs() < 1e-9 * sigma);
        assert!(
            (fit.evaluation.effective_parameters - exact.summary.effective_parameters).abs() < 1e-6
        );
    }

    #[test]
    fn without_hidden_units_the_classifier_is_logistic_regression() {
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let fixed = FitOptions {
            prior_sd: SdSpec::Fixed(0.7),
            ..options(vec![], Task::Classification)
        };
        let network = fit_mlp(&cancer, &fixed).unwrap();
        let logistic = fit_logistic(&cancer, &fixed).unwrap();
        let rel = ((network.evaluation.log_evidence - logistic.evaluation.log_evidence)
            / logistic.evaluation.log_evidence)
            .abs();
        assert!(
            rel < 1e-6,
            "MLP {} vs logistic {}",
            network.evaluation.log_evidence,
            logistic.evaluation.log_evidence
        );
        let difference =
            (&network.mode.params - &logistic.mode.params).amax() / logistic.mode.params.amax();
        assert!(difference < 1e-5, "MAPs differ by {difference:e}");
    }

    #[test]
    fn the_same_seed_gives_the_same_fit_and_the_symmetry_term_is_counted() {
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let o = FitOptions {
            prior_sd: SdSpec::Fixed(1.0),
            ..options(vec![3], Task::Classification)
        };
        let a = fit_mlp(&cancer, &o).unwrap();
        let b = fit_mlp(&cancer, &o).unwrap();
        assert_eq!(a.mode.params, b.mode.params);
        assert_eq!(a.evaluation.log_evidence, b.evaluation.log_evidence);
        // 3 tanh units: ln 3! + 3 ln 2.
        assert!((a.evaluation.symmetry_log_nats - (6f64.ln() + 3.0 * 2f64.ln())).abs() < 1e-12);
    }

    /// A teacher network's data: the first `train` rows to fit, the rest held out.
    fn teacher(
        n: usize,
        k: usize,
        hidden: Vec<usize>,
        scale: f64,
        noise: f64,
        seed: u64,
    ) -> (Dataset, crate::simulate::Truth) {
        use crate::simulate::{simulate_mlp, SimulationSpec, Teacher, TeacherNetwork};
        simulate_mlp(
            &SimulationSpec {
                teacher: Teacher::Mlp,
                n,
                k,
                weight_center: 0.0,
                weight_scale: scale,
                intercept: 0.0,
                noise_sd: noise,
                seed,
            },
            &TeacherNetwork {
                hidden,
                activation: Activation::Tanh,
                task: Task::Regression,
                outputs: 1,
            },
        )
        .unwrap()
    }

    fn rows(d: &Dataset, range: std::ops::Range<usize>) -> Dataset {
        let k = d.k();
        Dataset::new(
            d.source.clone(),
            d.feature_names.clone(),
            d.target_name.clone(),
            d.x[range.start * k..range.end * k].to_vec(),
            d.y[range].to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn a_fit_to_a_teachers_rows_predicts_its_held_out_rows() {
        let (all, _) = teacher(900, 4, vec![6], 1.0, 0.1, 3);
        let (train, test) = (rows(&all, 0..600), rows(&all, 600..900));
        let fit = fit_mlp(
            &train,
            &FitOptions {
                prior_sd: SdSpec::Fixed(1.0),
                noise_sd: SdSpec::Fixed(0.1),
                ..options(vec![6], Task::Regression)
            },
        )
        .unwrap();
        let t = &fit.study.transform;
        let errors: Vec<f64> = (0..test.n())
            .map(|i| {
                let z: Vec<f64> = test
                    .row(i)
                    .iter()
                    .zip(t.feature_shift.iter().zip(&t.feature_scale))
                    .map(|(x, (m, s))| (x - m) / s)
                    .collect();
                // The network predicts the z-scored target.
                let target = fit.study.target;
                test.y[i]
                    - (target.shift + target.scale * fit.study.arch.output(&fit.mode.params, &z))
            })
            .collect();
        let mse = errors.iter().map(|e| e * e).sum::<f64>() / test.n() as f64;
        let mean = test.y.iter().sum::<f64>() / test.n() as f64;
        let variance = test.y.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / test.n() as f64;
        // The noise variance is 0.01: the fitted function is the teacher's up to a little.
        assert!(mse < 0.02, "held-out MSE {mse} (noise variance 0.01)");
        assert!(
            mse < 0.02 * variance,
            "held-out MSE {mse}, target variance {variance}"
        );
    }

    #[test]
    fn a_10_32_32_1_network_reaches_a_mode() {
        let (data, _) = teacher(200, 10, vec![32, 32], 0.2, 0.5, 1);
        let fit = fit_mlp(
            &data,
            &FitOptions {
                prior_sd: SdSpec::Fixed(0.2),
                noise_sd: SdSpec::Fixed(0.5),
                ..options(vec![32, 32], Task::Regression)
            },
        )
        .unwrap();
        assert_eq!(fit.mode.params.len(), 1441);
        assert!(
            fit.mode.gradient_norm <= fit.mode.gradient_tolerance,
            "‖∇f‖ = {:e} > {:e}",
            fit.mode.gradient_norm,
            fit.mode.gradient_tolerance
        );
        // Checked again from scratch, outside the search.
        let precision = DVector::from_element(1441, 25.0);
        let problem = MlpProblem::new(
            &fit.study.arch,
            &fit.study.z,
            &fit.study.y,
            &fit.evaluation.center.values,
            &precision,
            // σ = 0.5 in y's units is σ/sd_y on the z-scored target the network fits.
            fit.study.target.scale.powi(2) * 4.0,
        );
        let norm = problem.gradient_at(&fit.mode.params).norm();
        assert!(norm <= 1e-6 * problem.gradient_scale(), "‖∇f‖ = {norm:e}");
    }

    #[test]
    fn the_evidence_does_not_depend_on_the_order_of_hidden_units() {
        // A start and the same start with the hidden units permuted lead to modes that are
        // permutations of each other, with the same evidence (the GGN's determinant included).
        let (data, _) = teacher(400, 3, vec![4, 3], 1.0, 0.2, 5);
        let o = FitOptions {
            prior_sd: SdSpec::Fixed(1.0),
            noise_sd: SdSpec::Fixed(0.2),
            ..options(vec![4, 3], Task::Regression)
        };
        let study = MlpStudy::new(&data, &o).unwrap();
        let arch = study.arch.clone();
        let start = initial_parameters(&arch, 9);
        let mut layers = arch.layers(&start);
        let permute = |layers: &mut Vec<crate::model::mlp::Layer>, l: usize, perm: &[usize]| {
            let (w, b) = layers[l].clone();
            layers[l] = (
                DMatrix::from_fn(w.nrows(), w.ncols(), |o, i| w[(perm[o], i)]),
                DVector::from_fn(b.len(), |o, _| b[perm[o]]),
            );
            let next = layers[l + 1].0.clone();
            layers[l + 1].0 =
                DMatrix::from_fn(next.nrows(), next.ncols(), |o, i| next[(o, perm[i])]);
        };
        permute(&mut layers, 0, &[2, 0, 3, 1]);
        permute(&mut layers, 1, &[1, 2, 0]);
        let moved = arch.pack(&layers).unwrap();
        let evaluate = |warm: &DVector<f64>| {
            let center = study.resolve_center(&CenterSpec::Zero, o.prior_sd).unwrap();
            study
                .evaluate_mlp(
                    &CenterSpec::Zero,
                    center,
                    o.prior_sd,
                    o.noise_sd,
                    Some(warm),
                )
                .unwrap()
                .0
        };
        let (a, b) = (evaluate(&start), evaluate(&moved));
        // Both modes meet ‖∇f‖ ≤ 1e-6 of the scale, not exactly the same point: 1e-5 nats.
        assert!(
            (a.log_evidence - b.log_evidence).abs() < 1e-5,
            "{} vs {}",
            a.log_evidence,
            b.log_evidence
        );
        assert!((a.mode.norm() - b.mode.norm()).abs() < 1e-6 * a.mode.norm());
        assert!(
            (&a.mode - &b.mode).norm() > 0.1,
            "the modes should be different points"
        );
    }

    #[test]
    fn without_hidden_units_the_exact_hessian_evidence_is_the_ggn_evidence() {
        // η is linear in θ, so ∇²ℓ = GGN: the two Laplace evidences agree up to the finite
        // differences of the exact route.
        let cancer = data::load("breast_cancer", &ColumnSelection::default()).unwrap();
        let ggn = FitOptions {
            prior_sd: SdSpec::Fixed(0.7),
            ..options(vec![], Task::Classification)
        };
        let mut exact = ggn.clone();
        exact.mlp.hessian = HessianKind::Exact;
        let (a, b) = (
            fit_mlp(&cancer, &ggn).unwrap(),
            fit_mlp(&cancer, &exact).unwrap(),
        );
        assert_eq!(b.evaluation.evidence_method, EvidenceMethod::LaplaceHessian);
        let rel = ((a.evaluation.log_evidence - b.evaluation.log_evidence)
            / a.evaluation.log_evidence)
            .abs();
        assert!(
            rel < 1e-6,
            "GGN {} vs exact {}",
            a.evaluation.log_evidence,
            b.evaluation.log_evidence
        );
        assert_eq!(b.mode.nonpositive_eigenvalues, 0);
    }
}
