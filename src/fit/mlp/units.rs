//! How a network moves between standardisations: the target's z-scoring and the maps of the first
//! and output layers between two scalings of the same raw columns.

use crate::data::Standardization;
use crate::model::mlp::{Architecture, Task};

use nalgebra::DVector;

/// How a regression network's target is z-scored (math.md §1): the network fits
/// y_z = (y − shift)/scale, and the evidence and codes are reported for y itself.
///
/// The density of y is that of y_z times the Jacobian 1/scale per row, so
/// ln p(y) = ln p(y_z) − n ln scale, and every code of y is n·log₂ scale bits longer than the same
/// code of y_z. shift and scale are the mean and population sd of the coded rows' target: two real
/// numbers the receiver needs, charged ½ log₂ n bits each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetScaling {
    /// The mean subtracted.
    pub shift: f64,
    /// The sd divided by.
    pub scale: f64,
}

impl TargetScaling {
    /// No scaling: classification, and regression with `--no-standardize`.
    pub const IDENTITY: TargetScaling = TargetScaling {
        shift: 0.0,
        scale: 1.0,
    };

    /// Whether the target is scaled (and its two numbers charged).
    pub fn is_active(&self) -> bool {
        *self != Self::IDENTITY
    }

    /// n ln scale: what the Jacobian takes off ln p(y_z) to give ln p(y), in nats.
    pub fn log_jacobian(&self, n: usize) -> f64 {
        n as f64 * self.scale.ln()
    }
}

/// Moves a network's first layer from one standardisation to another: the same function of the raw
/// columns. With z = (x − m)/s, W z + b = (W/s) x + (b − W m/s), so W' = W s'/s and
/// b' = b + W (m' − m)/s.
pub(super) fn remap_first_layer(
    arch: &Architecture,
    theta: &DVector<f64>,
    from: &Standardization,
    to: &Standardization,
) -> DVector<f64> {
    let mut layers = arch.layers(theta);
    if let Some((w, b)) = layers.first_mut() {
        for u in 0..w.nrows() {
            for j in 0..w.ncols() {
                let original = w[(u, j)] / from.feature_scale[j];
                b[u] += original * (to.feature_shift[j] - from.feature_shift[j]);
                w[(u, j)] = original * to.feature_scale[j];
            }
        }
    }
    arch.pack(&layers).unwrap_or_else(|_| theta.clone())
}

/// Moves a regression network's output layer from one target scaling to another: the same
/// function in y's units. y = s·η + m, so η' = (s/s')·η + (m − m')/s': W' = W·s/s' and
/// b' = b·s/s' + (m − m')/s'. Classification networks are left alone.
pub(super) fn remap_output_layer(
    arch: &Architecture,
    theta: &DVector<f64>,
    from: TargetScaling,
    to: TargetScaling,
) -> DVector<f64> {
    if arch.task != Task::Regression || from == to {
        return theta.clone();
    }
    let ratio = from.scale / to.scale;
    let mut layers = arch.layers(theta);
    if let Some((w, b)) = layers.last_mut() {
        *w *= ratio;
        b.iter_mut()
            .for_each(|v| *v = *v * ratio + (from.shift - to.shift) / to.scale);
    }
    arch.pack(&layers).unwrap_or_else(|_| theta.clone())
}

/// The parameters in raw units: the first layer in raw feature units (divided by each feature's
/// scale, its biases shifted by the features' means) and, for regression, the output layer in the
/// target's own units (times its sd, the bias plus its mean) — the same function of the raw columns.
pub fn to_original_units(
    arch: &Architecture,
    theta: &DVector<f64>,
    transform: &Standardization,
    target: TargetScaling,
) -> DVector<f64> {
    let k = arch.inputs;
    let identity = Standardization {
        feature_shift: vec![0.0; k],
        feature_scale: vec![1.0; k],
        target_shift: 0.0,
    };
    let raw_features = remap_first_layer(arch, theta, transform, &identity);
    remap_output_layer(arch, &raw_features, target, TargetScaling::IDENTITY)
}
