//! The Gaussian prior N(μ, s²I) that an L2 penalty is (math.md §2), its centres (math.md §6), and
//! the hyperparameter choices `S|auto`.
//!
//! The penalty (1/2s²)‖w − μ‖² added to a negative log likelihood is, up to a constant, the
//! negative log density of w ~ N(μ, s²I): its precision α = 1/s² is the penalty strength and μ
//! the point the weights are pulled towards. Plain weight decay is the case μ = 0.

pub mod center;
pub mod convert;
pub mod groups;

pub use center::{sha256_point, CenterPath, CenterSpec};

use crate::error::{OccamError, Result, Setting};
use nalgebra::DVector;
use std::fmt;
use std::str::FromStr;

/// The smallest standard deviation accepted: below it 1/s² overflows.
pub const MIN_SD: f64 = 1e-150;
/// The largest standard deviation accepted: above it 1/s² underflows to 0.
pub const MAX_SD: f64 = 1e150;

/// The largest magnitude accepted for a coordinate of a prior centre (on the standardised
/// weights): beyond it ‖w − μ‖² can overflow to infinity.
pub const MAX_CENTER: f64 = 1e150;

/// A number as it is echoed in messages: plain decimals between 1e-4 and 1e15, otherwise the
/// shortest scientific form (`1e300`, not 300 digits), always enough digits to round-trip.
///
/// ```
/// use occam::prior::compact_number;
/// assert_eq!(compact_number(0.25), "0.25");
/// assert_eq!(compact_number(1e300), "1e300");
/// assert_eq!(compact_number(-1.5e-200), "-1.5e-200");
/// ```
pub fn compact_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e15).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// The one range check for a standard deviation, whatever route it came by (the prior sd, the
/// noise sd, a comparison's sds and `logspace:` points, run specs, `sha256:` scales, `convert`):
/// positive, finite and within [`MIN_SD`, `MAX_SD`], where the precision 1/s² is a finite,
/// non-zero double. Returns the value; the error names `setting` and echoes the value compactly.
///
/// ```
/// use occam::error::Setting;
/// use occam::prior::check_sd;
/// assert_eq!(check_sd(Setting::PriorSd, 0.5).unwrap(), 0.5);
/// assert!(check_sd(Setting::PriorSd, 1e300).unwrap_err().to_string().contains("'1e300'"));
/// assert!(check_sd(Setting::PriorSd, 0.0).is_err());
/// ```
pub fn check_sd(setting: Setting, value: f64) -> Result<f64> {
    if (MIN_SD..=MAX_SD).contains(&value) {
        Ok(value)
    } else if value.is_finite() && value > 0.0 {
        Err(OccamError::invalid(
            setting,
            format!(
                "'{}' is outside [{MIN_SD:e}, {MAX_SD:e}], where the precision 1/s² stays a finite non-zero number; rescale the data instead",
                compact_number(value)
            ),
        ))
    } else {
        Err(OccamError::invalid(
            setting,
            format!(
                "'{}' is not a positive finite standard deviation; give a value > 0 or 'auto'",
                compact_number(value)
            ),
        ))
    }
}

/// The one range check for the coordinates of a prior centre, whatever route they came by
/// (`const:`, `vec:`, `file:`, `sha256:`, `truth`, `fit:`): finite and |μⱼ| ≤ [`MAX_CENTER`].
/// `what` names the centre in the error.
///
/// ```
/// use occam::error::Setting;
/// use occam::prior::check_center;
/// assert!(check_center(Setting::PriorCenter, "const:1", &[1.0, -2.0]).is_ok());
/// assert!(check_center(Setting::PriorCenter, "const:1e308", &[1e308]).is_err());
/// ```
pub fn check_center(setting: Setting, what: &str, values: &[f64]) -> Result<()> {
    match values
        .iter()
        .position(|v| !(v.is_finite() && v.abs() <= MAX_CENTER))
    {
        None => Ok(()),
        Some(j) => Err(OccamError::invalid(
            setting,
            format!(
                "{what}: coordinate {} is {}, outside [-{MAX_CENTER:e}, {MAX_CENTER:e}] (centres live on the standardised weights, where ‖w − μ‖² must stay finite); give a centre of a sensible size",
                j + 1,
                compact_number(values[j])
            ),
        )),
    }
}

/// A standard deviation that is either given or fitted by empirical Bayes (`S|auto`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SdSpec {
    /// A fixed, positive, finite value.
    Fixed(f64),
    /// Fitted by maximising the evidence (type-II maximum likelihood).
    Auto,
}

impl SdSpec {
    /// Parses `S|auto` for `setting`, rejecting non-positive and non-finite values and values
    /// outside [`MIN_SD`, `MAX_SD`] (through [`check_sd`], the one range check for every sd).
    pub fn parse(setting: Setting, text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(SdSpec::Auto);
        }
        match text.parse::<f64>() {
            Ok(v) => check_sd(setting, v).map(SdSpec::Fixed),
            Err(_) => Err(OccamError::invalid(
                setting,
                format!("cannot read '{text}' as a standard deviation; give a positive number or 'auto'"),
            )),
        }
    }

    /// The fixed value, if there is one.
    pub fn fixed(self) -> Option<f64> {
        match self {
            SdSpec::Fixed(v) => Some(v),
            SdSpec::Auto => None,
        }
    }
}

impl fmt::Display for SdSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdSpec::Fixed(v) => write!(f, "{}", compact_number(*v)),
            SdSpec::Auto => write!(f, "auto"),
        }
    }
}

impl FromStr for SdSpec {
    type Err = OccamError;
    fn from_str(s: &str) -> Result<Self> {
        SdSpec::parse(Setting::PriorSd, s)
    }
}

/// The isotropic Gaussian prior N(μ, s²I) on the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianPrior {
    center: DVector<f64>,
    sd: f64,
}

impl GaussianPrior {
    /// A prior with centre `center` and standard deviation `sd` (> 0, finite).
    ///
    /// ```
    /// use occam::prior::GaussianPrior;
    /// use nalgebra::DVector;
    /// let prior = GaussianPrior::new(DVector::from_vec(vec![0.0, 1.0]), 0.5).unwrap();
    /// assert_eq!(prior.precision(), 4.0);
    /// assert!(GaussianPrior::new(DVector::zeros(2), 0.0).is_err());
    /// ```
    pub fn new(center: DVector<f64>, sd: f64) -> Result<Self> {
        check_sd(Setting::PriorSd, sd)?;
        check_center(Setting::PriorCenter, "the centre", center.as_slice())?;
        Ok(GaussianPrior { center, sd })
    }

    /// The centre μ.
    pub fn center(&self) -> &DVector<f64> {
        &self.center
    }

    /// The standard deviation s.
    pub fn sd(&self) -> f64 {
        self.sd
    }

    /// The precision α = 1/s², the L2 penalty strength in the (1/2s²)‖w − μ‖² convention.
    pub fn precision(&self) -> f64 {
        1.0 / (self.sd * self.sd)
    }

    /// ln N(w; μ, s²I) = −(P/2) ln(2πs²) − ‖w − μ‖²/(2s²).
    ///
    /// ```
    /// use occam::prior::GaussianPrior;
    /// use nalgebra::DVector;
    /// let prior = GaussianPrior::new(DVector::zeros(1), 1.0).unwrap();
    /// let at_centre = prior.log_density(&DVector::zeros(1));
    /// assert!((at_centre + 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
    /// ```
    pub fn log_density(&self, w: &DVector<f64>) -> f64 {
        let p = self.center.len() as f64;
        let d2 = (w - &self.center).norm_squared();
        -0.5 * p * (2.0 * std::f64::consts::PI * self.sd * self.sd).ln()
            - 0.5 * d2 * self.precision()
    }
}
