//! The Gaussian prior N(μ, s²I) that an L2 penalty is (math.md §2), its centres (math.md §6), and
//! the hyperparameter choices `S|auto`.
//!
//! The penalty (1/2s²)‖w − μ‖² added to a negative log likelihood is, up to a constant, the
//! negative log density of w ~ N(μ, s²I): its precision α = 1/s² is the penalty strength and μ
//! the point the weights are pulled towards. Plain weight decay is the case μ = 0.

pub mod center;
pub mod convert;

pub use center::{sha256_point, CenterPath, CenterSpec};

use crate::error::{OccamError, Result};
use nalgebra::DVector;
use std::fmt;
use std::str::FromStr;

/// The smallest standard deviation accepted: below it 1/s² overflows.
pub const MIN_SD: f64 = 1e-150;
/// The largest standard deviation accepted: above it 1/s² underflows to 0.
pub const MAX_SD: f64 = 1e150;

/// A standard deviation that is either given or fitted by empirical Bayes (`S|auto`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SdSpec {
    /// A fixed, positive, finite value.
    Fixed(f64),
    /// Fitted by maximising the evidence (type-II maximum likelihood).
    Auto,
}

impl SdSpec {
    /// Parses `S|auto` for `flag`, rejecting non-positive and non-finite values.
    pub fn parse(flag: &str, text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("auto") {
            return Ok(SdSpec::Auto);
        }
        match text.parse::<f64>() {
            // α = 1/s² must stay a finite, non-zero double.
            Ok(v) if (MIN_SD..=MAX_SD).contains(&v) => Ok(SdSpec::Fixed(v)),
            Ok(v) if v.is_finite() && v > 0.0 => Err(OccamError::invalid(
                flag,
                format!("'{v}' is outside [{MIN_SD:e}, {MAX_SD:e}], where the precision 1/s² stays a finite non-zero number; rescale the data instead"),
            )),
            Ok(v) => Err(OccamError::invalid(
                flag,
                format!("'{v}' is not a positive finite standard deviation; give a value > 0 or 'auto'"),
            )),
            Err(_) => Err(OccamError::invalid(
                flag,
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
            SdSpec::Fixed(v) => write!(f, "{v}"),
            SdSpec::Auto => write!(f, "auto"),
        }
    }
}

impl FromStr for SdSpec {
    type Err = OccamError;
    fn from_str(s: &str) -> Result<Self> {
        SdSpec::parse("sd", s)
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
        if !(sd.is_finite() && sd > 0.0) {
            return Err(OccamError::invalid(
                "--prior-sd",
                format!("'{sd}' is not a positive finite standard deviation"),
            ));
        }
        if center.iter().any(|v| !v.is_finite()) {
            return Err(OccamError::invalid(
                "--prior-center",
                "every coordinate of the centre must be finite",
            ));
        }
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
