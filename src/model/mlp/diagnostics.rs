//! Diagnostics of a fitted network: saturation, dead units, input participation, weight norms
//! and the hidden-unit symmetries' distinct-mode count.

use super::passes::{Scratch, CHUNK_ROWS};
use super::{Activation, Architecture, MlpProblem};
use crate::linalg::{chunks, map_row_blocks};
use nalgebra::DVector;
use serde::Serialize;

/// Counts over the hidden units' pre-activations on every row: (saturated (unit, row) pairs,
/// (unit, row) pairs, per unit whether it was ever active a > 0), units numbered across layers.
fn hidden_unit_counts(problem: &MlpProblem, theta: &DVector<f64>) -> (u64, u64, Vec<bool>) {
    let arch = problem.arch;
    let units: usize = arch.hidden.iter().sum();
    let threshold = arch.activation.saturation_threshold();
    let t = theta.as_slice();
    let partial = map_row_blocks(problem.n(), |rows| {
        let mut s = Scratch::new(arch, CHUNK_ROWS.min(rows.len()));
        let mut saturated = 0u64;
        let mut active = vec![false; units];
        for chunk in chunks(rows, CHUNK_ROWS) {
            let m = chunk.len();
            problem.forward(t, &chunk, &mut s);
            let mut first = 0;
            for (pre, &h) in s.pre.iter().zip(&arch.hidden) {
                for row in pre[..m * h].chunks_exact(h) {
                    for (u, a) in row.iter().enumerate() {
                        active[first + u] |= *a > 0.0;
                        if threshold.is_some_and(|c| a.abs() >= c) {
                            saturated += 1;
                        }
                    }
                }
                first += h;
            }
        }
        (saturated, active)
    });
    let mut saturated = 0;
    let mut active = vec![false; units];
    for (count, block) in partial {
        saturated += count;
        active.iter_mut().zip(block).for_each(|(a, b)| *a |= b);
    }
    (saturated, (units * problem.n()) as u64, active)
}

/// The fraction of (hidden unit, row) pairs with |pre-activation| ≥ 4 (sigmoid) or ≥ 2 (tanh)
/// (math.md §4); None for ReLU, and when there are no hidden units or no rows.
pub fn saturation_fraction(problem: &MlpProblem, theta: &DVector<f64>) -> Option<f64> {
    problem.arch.activation.saturation_threshold()?;
    let (saturated, pairs, _) = hidden_unit_counts(problem, theta);
    (pairs > 0).then(|| saturated as f64 / pairs as f64)
}

/// The fraction of hidden ReLU units that are dead: pre-activation ≤ 0 on every row. None for
/// other activations, and when there are no hidden units or no rows.
pub fn dead_relu_fraction(problem: &MlpProblem, theta: &DVector<f64>) -> Option<f64> {
    if problem.arch.activation != Activation::Relu || problem.n() == 0 {
        return None;
    }
    let (_, _, active) = hidden_unit_counts(problem, theta);
    (!active.is_empty())
        .then(|| active.iter().filter(|a| !**a).count() as f64 / active.len() as f64)
}

/// Input participation ratios of one hidden layer's units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerParticipation {
    /// `layer1`, `layer2`, ….
    pub layer: String,
    /// The mean over units with a defined ratio (None if none has one).
    pub mean: Option<f64>,
    /// Per unit (Σ|w|)²/(k·Σw²) over its k incoming weights (biases excluded): 1 when all inputs
    /// weigh the same, 1/k when one input carries everything; None when every weight is 0.
    pub units: Vec<Option<f64>>,
}

/// The input participation ratio of every hidden unit, per hidden layer (the output layer
/// excluded).
pub fn participation_ratios(arch: &Architecture, theta: &DVector<f64>) -> Vec<LayerParticipation> {
    let t = theta.as_slice();
    let shapes = arch.shapes();
    shapes[..shapes.len() - 1]
        .iter()
        .zip(arch.layer_names())
        .map(|(s, layer)| {
            let units: Vec<Option<f64>> = s
                .w(t)
                .chunks_exact(s.fan_in)
                .map(|w| {
                    let l1: f64 = w.iter().map(|v| v.abs()).sum();
                    let l2: f64 = w.iter().map(|v| v * v).sum();
                    (l2 > 0.0).then(|| l1 * l1 / (s.fan_in as f64 * l2))
                })
                .collect();
            let defined: Vec<f64> = units.iter().flatten().copied().collect();
            let mean =
                (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
            LayerParticipation { layer, mean, units }
        })
        .collect()
}

/// The Frobenius norm ‖W‖ of each layer's weights (biases excluded), hidden layers then output.
pub fn weight_norms(arch: &Architecture, theta: &DVector<f64>) -> Vec<f64> {
    let t = theta.as_slice();
    arch.shapes()
        .iter()
        .map(|s| s.w(t).iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect()
}

/// Two hidden units count as clones when their signatures (incoming weights, bias, outgoing
/// weights) differ by at most this fraction of the largest signature norm among the network's
/// hidden units, and a unit is a zero unit when its signature's norm is at most that much.
pub const CLONE_TOLERANCE: f64 = 1e-3;

/// The distinct-mode count of one hidden layer at a mode (math.md §4, issue 14).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerSymmetry {
    /// `layer1`, `layer2`, ….
    pub layer: String,
    /// Units h.
    pub units: usize,
    /// Groups of two or more units equal up to sign (tanh, sigmoid) or equal (ReLU) at the mode,
    /// by unit index (from 0); every other unit is a group of its own.
    pub clone_groups: Vec<Vec<usize>>,
    /// Units whose signature is zero: each is its own sign flip.
    pub zero_units: Vec<usize>,
    /// ln(h! / Π m_g!) + (h − zero units)·ln 2 for tanh and sigmoid, without the ln 2 terms for
    /// ReLU, in nats.
    pub log_count: f64,
}

/// ln n!.
pub(super) fn log_factorial(n: usize) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

/// The number of distinct parameter vectors the hidden-unit symmetries map the mode θ onto, per
/// hidden layer (math.md §4).
///
/// A layer's symmetry group has h!·2^h elements for tanh and sigmoid (permutations, and sign
/// flips of a unit's incoming weights, bias and outgoing weights — for sigmoid also shifting the
/// next layer's bias by the outgoing weights, since σ(−a) = 1 − σ(a)) and h! for ReLU. The mode's
/// images number |group| / |stabiliser|. Group the units whose signature s = (incoming weights,
/// bias, outgoing weights) is equal up to sign (equal, for ReLU) within [`CLONE_TOLERANCE`]:
/// every permutation inside a group of m_g units, with the flips that match the signs, maps θ onto
/// itself (for sigmoid the flipped units come in pairs of opposite sign, so the next bias's shifts
/// cancel), and a zero unit's flip changes nothing. So
///
/// ln #images = ln(h! / Π_g m_g!) + (h − z)·ln 2 (tanh, sigmoid; z zero units), ln(h! / Π_g m_g!) (ReLU),
///
/// which is ln h! + h ln 2 when all units are distinct and nonzero. Groups are formed greedily in
/// unit order, each unit joining the first group whose first unit it matches.
pub fn layer_symmetries(arch: &Architecture, theta: &DVector<f64>) -> Vec<LayerSymmetry> {
    let t = theta.as_slice();
    let shapes = arch.shapes();
    let flips = arch.activation.has_sign_symmetry();
    // Each hidden unit's signature, per hidden layer.
    let signatures: Vec<Vec<Vec<f64>>> = shapes
        .windows(2)
        .map(|pair| {
            let (this, next) = (pair[0], pair[1]);
            let (w, b, w_next) = (this.w(t), this.b(t), next.w(t));
            (0..this.fan_out)
                .map(|j| {
                    w[j * this.fan_in..(j + 1) * this.fan_in]
                        .iter()
                        .copied()
                        .chain([b[j]])
                        .chain((0..next.fan_out).map(|o| w_next[o * next.fan_in + j]))
                        .collect()
                })
                .collect()
        })
        .collect();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale = signatures
        .iter()
        .flatten()
        .map(|s| norm(s))
        .fold(0.0, f64::max);
    let tolerance = CLONE_TOLERANCE * scale;
    let distance = |a: &[f64], b: &[f64], sign: f64| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - sign * y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    signatures
        .iter()
        .zip(arch.layer_names())
        .map(|(units, layer)| {
            let mut zero_units = Vec::new();
            let mut groups: Vec<Vec<usize>> = Vec::new();
            for (j, s) in units.iter().enumerate() {
                if norm(s) <= tolerance {
                    zero_units.push(j);
                    continue;
                }
                let matches = |g: &Vec<usize>| {
                    let first = &units[g[0]];
                    distance(s, first, 1.0) <= tolerance
                        || (flips && distance(s, first, -1.0) <= tolerance)
                };
                match groups.iter_mut().find(|g| matches(g)) {
                    Some(g) => g.push(j),
                    None => groups.push(vec![j]),
                }
            }
            let h = units.len();
            let mut log_count = log_factorial(h)
                - groups.iter().map(|g| log_factorial(g.len())).sum::<f64>()
                - log_factorial(zero_units.len());
            if flips {
                log_count += (h - zero_units.len()) as f64 * std::f64::consts::LN_2;
            }
            LayerSymmetry {
                layer,
                units: h,
                clone_groups: groups.into_iter().filter(|g| g.len() > 1).collect(),
                zero_units,
                log_count,
            }
        })
        .collect()
}

/// ln of the number of distinct parameter vectors equivalent to the mode θ (math.md §4), in nats:
/// the sum over hidden layers of [`layer_symmetries`]' counts; Σ ln(h!) (+ h ln 2 for tanh and
/// sigmoid) when every unit is distinct and nonzero.
pub fn symmetry_log_count(arch: &Architecture, theta: &DVector<f64>) -> f64 {
    layer_symmetries(arch, theta)
        .iter()
        .map(|l| l.log_count)
        .sum()
}

/// Every diagnostic of a fitted network, for the outputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// See [`saturation_fraction`].
    pub saturation_fraction: Option<f64>,
    /// See [`dead_relu_fraction`].
    pub dead_relu_fraction: Option<f64>,
    /// See [`participation_ratios`].
    pub participation: Vec<LayerParticipation>,
    /// See [`weight_norms`], in the order of [`Architecture::layer_names`].
    pub weight_norms: Vec<f64>,
    /// See [`symmetry_log_count`] (nats).
    pub symmetry_log_count: f64,
    /// The clone groups and zero units behind it, per hidden layer ([`layer_symmetries`]).
    pub symmetry: Vec<LayerSymmetry>,
}

/// All of the diagnostics at θ.
pub fn diagnostics(problem: &MlpProblem, theta: &DVector<f64>) -> Diagnostics {
    let arch = problem.arch;
    Diagnostics {
        saturation_fraction: saturation_fraction(problem, theta),
        dead_relu_fraction: dead_relu_fraction(problem, theta),
        participation: participation_ratios(arch, theta),
        weight_norms: weight_norms(arch, theta),
        symmetry_log_count: symmetry_log_count(arch, theta),
        symmetry: layer_symmetries(arch, theta),
    }
}
