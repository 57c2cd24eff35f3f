//! The data side of an MLP study: the design, the target as fitted and the random starts.

use super::{TargetScaling, MODE_TOLERANCE, RELU_MODE_TOLERANCE};
use crate::codelength::{doubling_boundaries, reorder};
use crate::data::{Dataset, Design, DesignOptions, Standardization};
use crate::error::{OccamError, Result, Setting};
use crate::fit::{row_fingerprints, FitOptions, ModelKind};
use crate::message;
use crate::model::logistic::binary_target;
use crate::model::mlp::{initial_parameters, Activation, Architecture, Task};
use crate::model::softmax::class_target;
use crate::prior::SdSpec;
use nalgebra::DVector;
use std::collections::HashSet;

/// The data side of an MLP study.
#[derive(Debug, Clone)]
pub struct MlpStudy {
    pub(super) source: String,
    pub(super) n: usize,
    pub(super) feature_names: Vec<String>,
    pub(super) target_name: String,
    pub(super) options: FitOptions,
    /// Raw columns → design.
    pub transform: Standardization,
    /// The network.
    pub arch: Architecture,
    pub(super) target_mapping: Option<(f64, f64)>,
    /// The K ≥ 3 target values of a softmax network, sorted (class c is `classes[c]`); empty for
    /// regression and binary networks.
    pub(super) classes: Vec<f64>,
    /// The regression target's z-scoring (identity otherwise).
    pub target: TargetScaling,
    /// The target's text labels (empty for a numeric target).
    pub(super) target_labels: Vec<String>,
    pub(super) z: Vec<f64>,
    /// The target as fitted: 0/1 labels, class indices 0…K−1 (softmax), or the z-scored
    /// regression target.
    pub(super) y: Vec<f64>,
    pub(super) ordered: (Vec<f64>, Vec<f64>),
    pub(super) boundaries: Vec<usize>,
    pub(super) fingerprints: HashSet<u64>,
}

impl MlpStudy {
    /// The rows the network is fitted on: z (row-major n × k, the standardised features) and y
    /// (z-scored for regression by [`Self::target`]; 0/1 or the class index for classification).
    pub fn rows(&self) -> (&[f64], &[f64]) {
        (&self.z, &self.y)
    }

    /// Standardises the inputs and sets up the network.
    pub fn new(dataset: &Dataset, options: &FitOptions) -> Result<Self> {
        options.validate(ModelKind::Mlp)?;
        let mlp = &options.mlp;
        let binary = binary_target(&dataset.y, &dataset.source, &dataset.target_name);
        let task = mlp.task.unwrap_or(if binary.is_ok() {
            Task::Classification
        } else {
            Task::Regression
        });
        let (y, target_mapping, classes) = match task {
            Task::Classification => match binary {
                Ok(t) => (t.labels, Some((t.negative, t.positive)), Vec::new()),
                // Asked for classification on K ≥ 3 values: K softmax outputs (math.md §7).
                Err(_) => {
                    crate::fit::softmax::check_class_target(dataset, true)?;
                    let t = class_target(&dataset.y, &dataset.source, &dataset.target_name)?;
                    let labels = t.labels.iter().map(|&c| c as f64).collect();
                    (labels, None, t.classes)
                }
            },
            Task::Regression => (dataset.y.clone(), None, Vec::new()),
        };
        if task == Task::Classification && options.noise_sd != SdSpec::Auto {
            return Err(OccamError::invalid(
                Setting::NoiseSd,
                "a classification network has no noise sd; drop the flag",
            ));
        }
        // Before any matrix is allocated (and before the parameter count, which could overflow):
        // a network too wide for this machine is refused here.
        crate::memory::check_mlp(
            dataset.n(),
            dataset.k(),
            &mlp.hidden,
            classes.len().max(1),
            crate::model::mlp::GGN_CHUNK_ROWS.min(dataset.n()),
            // The last-layer evidence forms P_L × P_L matrices only; the search, as under kfac.
            match mlp.subset {
                super::Subset::All => mlp.hessian,
                super::Subset::LastLayer => super::HessianKind::Kfac,
            }
            .forms_square_matrices(crate::memory::mlp_params(
                dataset.k(),
                &mlp.hidden,
                classes.len().max(1),
            )),
        )?;
        let arch = Architecture::new(dataset.k(), mlp.hidden.clone(), mlp.activation, task)?
            .with_outputs(classes.len().max(1))?;
        let design = Design::new(
            dataset,
            DesignOptions {
                standardize: options.standardize,
                center: false,
            },
        )?;
        // After the design, whose checks (e.g. too few rows) say what is wrong first.
        // z-score a regression target like the features (math.md §1): a raw target far from zero
        // otherwise drives the prior sd and saturation.
        let target = if task == Task::Regression && options.standardize {
            let n = y.len().max(1) as f64;
            let mean = y.iter().sum::<f64>() / n;
            let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            if !(sd > 0.0 && sd.is_finite()) {
                return Err(OccamError::invalid(
                    Setting::Target,
                    message![
                        format!(
                            "the target '{}' of {} is constant, so a regression network has nothing to fit; choose another ",
                            dataset.target_name, dataset.source
                        ),
                        Setting::Target
                    ],
                ));
            }
            TargetScaling {
                shift: mean,
                scale: sd,
            }
        } else {
            TargetScaling::IDENTITY
        };
        let y: Vec<f64> = y
            .iter()
            .map(|v| (v - target.shift) / target.scale)
            .collect();
        let ordered = reorder(&design.z, &y, design.k, options.order);
        Ok(MlpStudy {
            source: dataset.source.clone(),
            n: dataset.n(),
            feature_names: dataset.feature_names.clone(),
            target_name: dataset.target_name.clone(),
            options: options.clone(),
            transform: design.transform,
            boundaries: doubling_boundaries(dataset.n(), options.first_block),
            arch,
            target_mapping,
            classes,
            target,
            target_labels: dataset.target_labels.clone(),
            z: design.z,
            y,
            ordered,
            fingerprints: row_fingerprints(dataset),
        })
    }

    /// The 0/1 label of a raw target value (binary classification), its class index (softmax; NaN
    /// for a value that is not one of the classes), or the value on the fitted scale (regression:
    /// z-scored unless `--no-standardize`).
    pub fn target_label(&self, value: f64) -> f64 {
        if !self.classes.is_empty() {
            return self
                .classes
                .binary_search_by(|c| c.total_cmp(&value))
                .map_or(f64::NAN, |c| c as f64);
        }
        match self.target_mapping {
            Some((_, one)) => f64::from(value == one),
            None => (value - self.target.shift) / self.target.scale,
        }
    }

    /// The class names of a softmax network in output order (the target's text labels, else its
    /// numbers); `None` for regression and binary networks.
    pub fn class_names(&self) -> Option<Vec<String>> {
        (!self.classes.is_empty()).then(|| {
            self.classes
                .iter()
                .map(|&code| {
                    self.target_labels
                        .get(code as usize)
                        .cloned()
                        .unwrap_or_else(|| code.to_string())
                })
                .collect()
        })
    }

    pub(super) fn regression(&self) -> bool {
        self.arch.task == Task::Regression
    }

    /// The accepted ‖∇f‖ at a mode, as a fraction of the gradient's scale.
    pub(super) fn mode_tolerance(&self) -> f64 {
        if self.arch.activation == Activation::Relu {
            RELU_MODE_TOLERANCE
        } else {
            MODE_TOLERANCE
        }
    }

    /// The random starts (`--restarts` of them, seeded by `--seed`), spread around the centre so
    /// that an L2-SP centre is also a start.
    pub(super) fn random_starts(&self, center: &DVector<f64>) -> Vec<DVector<f64>> {
        (0..self.options.mlp.restarts)
            .map(|r| {
                center
                    + initial_parameters(&self.arch, self.options.mlp.seed.wrapping_add(r as u64))
            })
            .collect()
    }
}
