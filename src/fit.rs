//! One model, one prior, end to end: design → centre → empirical Bayes → posterior.
//!
//! This is the library's front door for `occam fit`; the command line only parses flags into
//! [`FitOptions`] and renders the [`LinearFit`].

use crate::data::{
    self, ColumnSelection, Dataset, Design, DesignOptions, Standardization, SufficientStats,
};
use crate::error::{OccamError, Result};
use crate::inference::{minimize_lbfgs, LbfgsOptions, LinearGaussian, Posterior};
use crate::model::linear::PenalizedLeastSquares;
use crate::model::Intercept;
use crate::prior::{CenterSpec, SdSpec};
use nalgebra::DVector;

/// Everything that defines a fit besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Which columns are the target and the features (also used for `fit:PATH` centres).
    pub selection: ColumnSelection,
    /// The prior centre μ.
    pub center: CenterSpec,
    /// The prior sd s, or `auto`.
    pub prior_sd: SdSpec,
    /// The noise sd σ, or `auto`.
    pub noise_sd: SdSpec,
    /// How the intercept is treated.
    pub intercept: Intercept,
    /// z-score the features (default true).
    pub standardize: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            selection: ColumnSelection::default(),
            center: CenterSpec::Zero,
            prior_sd: SdSpec::Auto,
            noise_sd: SdSpec::Auto,
            intercept: Intercept::Centered,
            standardize: true,
        }
    }
}

/// The argmin L-BFGS minimiser of the penalised objective, compared with the closed form.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerCheck {
    /// max |w_lbfgs − m| / max |m|.
    pub max_relative_difference: f64,
    /// L-BFGS iterations.
    pub iterations: u64,
    /// ‖∇f‖ at the L-BFGS point.
    pub gradient_norm: f64,
}

/// A fitted linear-Gaussian model.
#[derive(Debug, Clone)]
pub struct LinearFit {
    /// The data's source, n, feature and target names.
    pub source: String,
    /// Number of rows.
    pub n: usize,
    /// Feature names, in weight order.
    pub feature_names: Vec<String>,
    /// Target name.
    pub target_name: String,
    /// The options the fit was made with.
    pub options: FitOptions,
    /// The map from raw columns to the design.
    pub transform: Standardization,
    /// The resolved prior centre μ (design units).
    pub center: DVector<f64>,
    /// Posterior at the chosen hyperparameters.
    pub posterior: Posterior,
    /// Empirical-Bayes iterations (0 when s and σ were both fixed).
    pub empirical_bayes_iterations: usize,
    /// The same MAP reached by argmin's L-BFGS, if it converged.
    pub optimizer_check: Option<OptimizerCheck>,
    /// What the reader needs to know about this fit.
    pub notes: Vec<String>,
}

impl LinearFit {
    /// The posterior-mean weights and intercept in original units.
    pub fn original_units(&self) -> (Vec<f64>, f64) {
        self.transform
            .to_original(self.posterior.mean.as_slice(), 0.0)
    }
}

/// Translates the intercept choice into the design's centring, refusing choices the linear model
/// does not offer.
fn design_options(options: &FitOptions) -> Result<DesignOptions> {
    let center = match options.intercept {
        Intercept::Centered => true,
        Intercept::None => false,
        other => {
            return Err(OccamError::invalid(
                "--intercept",
                format!("'{other}' is for logistic and MLP models; the linear model centres the data (--intercept centered, its default) or has no intercept (--intercept none)"),
            ))
        }
    };
    Ok(DesignOptions {
        standardize: options.standardize,
        center,
    })
}

/// Fits the linear-Gaussian model to `dataset` (math.md §1–§3, §6).
pub fn fit_linear(dataset: &Dataset, options: &FitOptions) -> Result<LinearFit> {
    let design = Design::new(dataset, design_options(options)?)?;
    let stats = SufficientStats::from_design(&design);
    let model = LinearGaussian::new(&stats)?;
    let mut notes = Vec::new();

    let center = resolve_center(dataset, options, &design, &model, &mut notes)?;
    let eb = model.empirical_bayes(&center, options.prior_sd.fixed(), options.noise_sd.fixed())?;
    let posterior = model.posterior(eb.hyperparameters, &center);
    let optimizer_check = check_with_lbfgs(&stats, &center, &posterior, &mut notes);

    if options.intercept == Intercept::Centered {
        notes.push("intercept: features and target centred; the intercept mean(y) − mean(x)·w is not a parameter, and the evidence is that of the centred data (n rows, k weights)".into());
    }
    notes.push("code lengths are not computed in this version (code_length_bits are null); they arrive with the code-length release".into());

    Ok(LinearFit {
        source: dataset.source.clone(),
        n: dataset.n(),
        feature_names: dataset.feature_names.clone(),
        target_name: dataset.target_name.clone(),
        options: options.clone(),
        transform: design.transform,
        center,
        posterior,
        empirical_bayes_iterations: eb.iterations,
        optimizer_check,
        notes,
    })
}

/// Resolves the prior centre into design units, fitting where the spec needs it.
fn resolve_center(
    dataset: &Dataset,
    options: &FitOptions,
    design: &Design,
    model: &LinearGaussian,
    notes: &mut Vec<String>,
) -> Result<DVector<f64>> {
    let k = dataset.k();
    match &options.center {
        CenterSpec::Truth => Err(OccamError::invalid(
            "--prior-center",
            "'truth' needs data with known generating weights (simulated data); for real data use zero, const:, vec:, file:, sha256: or fit:",
        )),
        CenterSpec::Fit(path) => {
            let path_text = path.to_string_lossy();
            let other = data::load(&path_text, &options.selection)?;
            if other.feature_names != dataset.feature_names {
                return Err(OccamError::invalid(
                    "--prior-center",
                    format!(
                        "fit:{path_text} has features [{}] but this data has [{}]; the centre needs the same columns in the same order",
                        other.feature_names.join(", "),
                        dataset.feature_names.join(", ")
                    ),
                ));
            }
            let zero_centred = FitOptions {
                center: CenterSpec::Zero,
                ..options.clone()
            };
            let donor = fit_linear(&other, &zero_centred)?;
            let (original, _) = donor.original_units();
            notes.push(format!(
                "prior centre: the MAP of the same model (zero-centred prior) on {path_text} ({} rows), mapped into this data's standardisation; it was fitted on other rows, so it is free",
                other.n()
            ));
            Ok(DVector::from_vec(design.transform.from_original(&original)))
        }
        CenterSpec::Sha256 { scale: None, .. } => {
            let scale = match options.prior_sd {
                SdSpec::Fixed(s) => s,
                SdSpec::Auto => {
                    let s = model
                        .empirical_bayes(&DVector::zeros(k), None, options.noise_sd.fixed())?
                        .hyperparameters
                        .prior_sd();
                    notes.push(format!(
                        "prior centre: sha256 point scaled by the empirical-Bayes prior sd of the zero-centred prior ({s:.6}), since the sd is 'auto'; give sha256:TEXT:SCALE to fix the scale"
                    ));
                    s
                }
            };
            options.center.resolve(k, scale, &dataset.feature_names)
        }
        spec => spec.resolve(k, f64::NAN, &dataset.feature_names),
    }
}

/// Minimises the penalised objective with argmin's L-BFGS from the prior centre and compares the
/// result with the closed form; a failure is reported in the notes, not raised.
fn check_with_lbfgs(
    stats: &SufficientStats,
    center: &DVector<f64>,
    posterior: &Posterior,
    notes: &mut Vec<String>,
) -> Option<OptimizerCheck> {
    let h = posterior.hyperparameters;
    let problem = PenalizedLeastSquares::new(stats, center, h.prior_precision, h.noise_precision);
    let options = LbfgsOptions {
        gradient_tolerance: 1e-8
            * problem
                .gradient_scale(&posterior.mean)
                .max(f64::MIN_POSITIVE),
        ..Default::default()
    };
    match minimize_lbfgs(problem, center.clone(), options) {
        Ok(map) => {
            let scale = posterior.mean.amax().max(f64::MIN_POSITIVE);
            Some(OptimizerCheck {
                max_relative_difference: (&map.params - &posterior.mean).amax() / scale,
                iterations: map.iterations,
                gradient_norm: map.gradient_norm,
            })
        }
        Err(e) => {
            notes.push(format!(
                "optimizer check: {e}; the closed-form MAP is reported"
            ));
            None
        }
    }
}
