//! Synthetic data with known generating parameters: teachers for checking that a prior centred at
//! the truth, or a fit, recovers what made the data.
//!
//! Features are independent standard normals, so raw and standardised units nearly agree; the
//! exact `truth` centre maps the raw-unit teacher into each data set's own standardisation.
//! Every draw comes from [`crate::random::Stream`] seeded with `--seed`: value-stable.

use crate::data::Dataset;
use crate::error::{Message, OccamError, Result, Setting};
use crate::message;
use crate::model::mlp::{Activation, Architecture, Task};
use crate::prior::compact_number;
use crate::random::Stream;
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

/// The teacher model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Teacher {
    /// y = xᵀw + b + σε.
    Linear,
    /// y ~ Bernoulli(σ(xᵀw + b)).
    Logistic,
    /// A multilayer perceptron η = net_θ(x) (--hidden, --activation, --task): y = η + σε
    /// (regression) or y ~ Bernoulli(σ(η)) (classification).
    Mlp,
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSpec {
    /// The teacher.
    pub teacher: Teacher,
    /// Rows.
    pub n: usize,
    /// Features.
    pub k: usize,
    /// Every teacher weight is drawn N(weight_center, weight_scale²).
    pub weight_center: f64,
    /// See `weight_center`.
    pub weight_scale: f64,
    /// The teacher's intercept.
    pub intercept: f64,
    /// Noise sd σ (linear).
    pub noise_sd: f64,
    /// The seed.
    pub seed: u64,
}

/// The generating parameters, written beside the CSV as `NAME.truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Schema version.
    pub schema: u32,
    /// The teacher.
    pub teacher: Teacher,
    /// Teacher parameters in raw feature units, in occam's parameter order (weights, then the
    /// intercept) — usable as a `file:` centre.
    pub parameters: Vec<f64>,
    /// Their names.
    pub parameter_names: Vec<String>,
    /// The weights alone.
    pub weights: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// σ (linear), else null.
    pub noise_sd: Option<f64>,
    /// The seed.
    pub seed: u64,
    /// How the data were made.
    pub description: String,
    /// The network of an `mlp` teacher (absent for the others); `parameters` then holds θ in the
    /// parameter order of [`crate::model::mlp`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<TeacherNetwork>,
    /// The K weight vectors and intercepts of a multinomial teacher (`--classes K`, K ≥ 3;
    /// absent otherwise); `parameters` then holds them class-major, (w_c, b_c) for c = 0…K−1, and
    /// `weights` the K × k weights row by row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<TeacherClasses>,
}

/// The parameters of a multinomial (softmax) teacher in raw feature units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherClasses {
    /// K × k: row c is class c's weight vector.
    pub weights: Vec<Vec<f64>>,
    /// The K intercepts.
    pub intercepts: Vec<f64>,
}

/// The shape of an `mlp` teacher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherNetwork {
    /// Hidden layer widths from the input.
    pub hidden: Vec<usize>,
    /// The hidden units' nonlinearity.
    pub activation: Activation,
    /// Regression (y = η + σε) or classification (y ~ Bernoulli(σ(η)), or with K ≥ 3 outputs
    /// y = c with probability softmax(η)_c).
    pub task: Task,
    /// Output units: 1, or K ≥ 3 softmax outputs of a K-class teacher (`--classes K`). Absent
    /// from the JSON when 1.
    #[serde(default = "one_output", skip_serializing_if = "is_one_output")]
    pub outputs: usize,
}

fn one_output() -> usize {
    1
}

fn is_one_output(outputs: &usize) -> bool {
    *outputs == 1
}

/// Simulates a data set and its truth (linear and logistic teachers; see [`simulate_mlp`]).
pub fn simulate(spec: &SimulationSpec) -> Result<(Dataset, Truth)> {
    if spec.teacher == Teacher::Mlp {
        return Err(OccamError::invalid(
            Setting::Teacher,
            "a network teacher needs its shape: use simulate_mlp",
        ));
    }
    check_spec(spec)?;
    let mut stream = Stream::from_seed(spec.seed);
    let weights: Vec<f64> = (0..spec.k)
        .map(|_| spec.weight_center + spec.weight_scale * stream.normal())
        .collect();
    let mut x = Vec::with_capacity(spec.n * spec.k);
    let mut y = Vec::with_capacity(spec.n);
    for _ in 0..spec.n {
        let start = x.len();
        x.extend((0..spec.k).map(|_| stream.normal()));
        let eta = spec.intercept
            + x[start..]
                .iter()
                .zip(&weights)
                .map(|(a, w)| a * w)
                .sum::<f64>();
        y.push(match spec.teacher {
            Teacher::Linear => eta + spec.noise_sd * stream.normal(),
            // (An mlp teacher was sent to simulate_mlp above.)
            Teacher::Logistic | Teacher::Mlp => {
                f64::from(stream.uniform() < crate::special::sigmoid(eta))
            }
        });
    }
    let names: Vec<String> = (1..=spec.k).map(|j| format!("x{j}")).collect();
    let mut parameter_names = names.clone();
    let mut parameters = weights.clone();
    if spec.teacher == Teacher::Logistic {
        parameter_names.push("(intercept)".into());
        parameters.push(spec.intercept);
    }
    let description = match spec.teacher {
        Teacher::Linear => format!(
            "x ~ N(0, I_{k}); w ~ N({c}, {s}²) each; y = xᵀw + {b} + {sigma}·ε, ε ~ N(0, 1); seed {seed}",
            k = spec.k, c = compact_number(spec.weight_center), s = compact_number(spec.weight_scale), b = compact_number(spec.intercept), sigma = compact_number(spec.noise_sd), seed = spec.seed
        ),
        Teacher::Logistic | Teacher::Mlp => format!(
            "x ~ N(0, I_{k}); w ~ N({c}, {s}²) each; y ~ Bernoulli(σ(xᵀw + {b})); seed {seed}",
            k = spec.k, c = compact_number(spec.weight_center), s = compact_number(spec.weight_scale), b = compact_number(spec.intercept), seed = spec.seed
        ),
    };
    let dataset = Dataset::new(format!("simulated:{}", spec.seed), names, "y", x, y)?;
    let truth = Truth {
        schema: 1,
        teacher: spec.teacher,
        parameters,
        parameter_names,
        weights,
        intercept: spec.intercept,
        noise_sd: (spec.teacher == Teacher::Linear).then_some(spec.noise_sd),
        seed: spec.seed,
        description,
        network: None,
        classes: None,
    };
    Ok((dataset, truth))
}

/// Simulates a K-class target (K ≥ 3) from a multinomial-logistic teacher: x ~ N(0, I_k), each of
/// the K weight vectors' entries drawn N(C, S²) (class by class), every class's intercept
/// `spec.intercept`, and per row y = c with probability softmax(η)_c, η_c = w_cᵀx + b, labels
/// 0…K−1. One ChaCha20 stream seeded with `seed` draws the K·k weights first, then row by row the
/// k features and one uniform u, y = the first c with Σ_{d≤c} p_d > u.
pub fn simulate_classes(spec: &SimulationSpec, classes: usize) -> Result<(Dataset, Truth)> {
    if spec.teacher != Teacher::Logistic || classes < 3 {
        return Err(OccamError::invalid(
            Setting::Classes,
            format!(
                "a multiclass target needs the logistic teacher and 3 or more classes (2, the default, is the binary target); got {classes} with the {} teacher",
                match spec.teacher {
                    Teacher::Linear => "linear",
                    Teacher::Logistic => "logistic",
                    Teacher::Mlp => "mlp",
                }
            ),
        ));
    }
    check_spec(spec)?;
    let k = spec.k;
    let mut stream = Stream::from_seed(spec.seed);
    let weights: Vec<Vec<f64>> = (0..classes)
        .map(|_| {
            (0..k)
                .map(|_| spec.weight_center + spec.weight_scale * stream.normal())
                .collect()
        })
        .collect();
    let mut x = Vec::with_capacity(spec.n * k);
    let mut y = Vec::with_capacity(spec.n);
    let (mut eta, mut p) = (vec![0.0; classes], vec![0.0; classes]);
    for _ in 0..spec.n {
        let start = x.len();
        x.extend((0..k).map(|_| stream.normal()));
        for (e, w) in eta.iter_mut().zip(&weights) {
            *e = spec.intercept + x[start..].iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
        }
        crate::model::softmax::log_sum_exp_and_probabilities(&eta, &mut p);
        let u = stream.uniform();
        let mut cumulative = 0.0;
        let label = p
            .iter()
            .position(|&pc| {
                cumulative += pc;
                cumulative > u
            })
            .unwrap_or(classes - 1);
        y.push(label as f64);
    }
    let names: Vec<String> = (1..=k).map(|j| format!("x{j}")).collect();
    let mut parameters = Vec::with_capacity(classes * (k + 1));
    let mut parameter_names = Vec::with_capacity(classes * (k + 1));
    for (c, w) in weights.iter().enumerate() {
        parameters.extend(w);
        parameters.push(spec.intercept);
        parameter_names.extend(names.iter().map(|name| format!("{c}:{name}")));
        parameter_names.push(format!("{c}:(intercept)"));
    }
    let description = format!(
        "x ~ N(0, I_{k}); {classes} classes, w_c ~ N({c}, {s}²) each; y = c with probability softmax(w_cᵀx + {b}); seed {seed}",
        c = compact_number(spec.weight_center), s = compact_number(spec.weight_scale), b = compact_number(spec.intercept), seed = spec.seed
    );
    let dataset = Dataset::new(format!("simulated:{}", spec.seed), names, "y", x, y)?;
    let truth = Truth {
        schema: 1,
        teacher: spec.teacher,
        parameters,
        parameter_names,
        weights: weights.iter().flatten().copied().collect(),
        intercept: spec.intercept,
        noise_sd: None,
        seed: spec.seed,
        description,
        network: None,
        classes: Some(TeacherClasses {
            intercepts: vec![spec.intercept; classes],
            weights,
        }),
    };
    Ok((dataset, truth))
}

/// The checks every teacher shares: rows, features, finite settings.
fn check_spec(spec: &SimulationSpec) -> Result<()> {
    if spec.n == 0 || spec.k == 0 {
        return Err(OccamError::invalid(
            Setting::Size,
            "simulate needs at least one row and one feature",
        ));
    }
    if spec.n.saturating_mul(spec.k) > 500_000_000 {
        return Err(OccamError::invalid(
            Setting::Size,
            "n·k above 5e8 values would not fit in memory comfortably; simulate less",
        ));
    }
    // The same ranges as every other route into a centre or an sd (crate::prior), except that
    // a teacher may have no spread at all (0).
    for (setting, v) in [
        (Setting::WeightCenter, spec.weight_center),
        (Setting::Intercept, spec.intercept),
    ] {
        crate::prior::check_center(setting, "the teacher", &[v])?;
    }
    for (setting, v) in [
        (Setting::WeightScale, spec.weight_scale),
        (Setting::NoiseSd, spec.noise_sd),
    ] {
        if v != 0.0 {
            crate::prior::check_sd(setting, v).map_err(|e| match e {
                OccamError::InvalidArgument { message, .. } => {
                    OccamError::invalid(setting, message.and(" (or 0 for none)"))
                }
                other => other,
            })?;
        }
    }
    Ok(())
}

/// Simulates data from a teacher network: x ~ N(0, I_k) (so raw and standardised units nearly
/// agree), every weight and bias of θ drawn N(C, S²) in the parameter order of
/// [`crate::model::mlp`] (exactly the prior occam fits with centre C and sd S — so `const:C`
/// with `--prior-sd S` is the prior the teacher was drawn from), then per row
/// η = net_θ(x) and y = η + σε (regression) or y ~ Bernoulli(σ(η)) (classification), or with
/// `network.outputs` = K ≥ 3 softmax outputs y = c (labels 0…K−1) with probability softmax(η)_c:
/// the first c with Σ_{d≤c} p_d > u (as [`simulate_classes`]).
///
/// One ChaCha20 stream seeded with `seed` draws θ first, then row by row the k features and the
/// noise (one normal) or the label (one uniform): value-stable across platforms and versions.
/// `spec.intercept` must be 0 (the output bias is drawn like every other parameter).
pub fn simulate_mlp(spec: &SimulationSpec, network: &TeacherNetwork) -> Result<(Dataset, Truth)> {
    check_spec(spec)?;
    if spec.intercept != 0.0 {
        return Err(OccamError::invalid(
            Setting::Intercept,
            message![
                "a network teacher draws its output bias N(C, S²) like every other parameter; drop ",
                Setting::Intercept
            ],
        ));
    }
    crate::memory::check_simulation(
        spec.n,
        spec.k,
        crate::memory::mlp_params(spec.k, &network.hidden, network.outputs.max(1)),
    )?;
    let arch = Architecture::new(
        spec.k,
        network.hidden.clone(),
        network.activation,
        network.task,
    )?;
    if network.outputs != 1 && (network.outputs < 3 || network.task != Task::Classification) {
        return Err(OccamError::invalid(
            Setting::Classes,
            format!(
                "a network teacher has one output, or K ≥ 3 softmax outputs for a classification task (2 classes is the one-output binary teacher); got {} classes with the {} task",
                network.outputs,
                if network.task == Task::Classification { "classification" } else { "regression" }
            ),
        ));
    }
    let arch = arch.with_outputs(network.outputs)?;
    let p = arch.n_params();
    let mut stream = Stream::from_seed(spec.seed);
    let theta = DVector::from_fn(p, |_, _| {
        spec.weight_center + spec.weight_scale * stream.normal()
    });
    mlp_rows(spec, network, &arch, theta, stream)
}

/// Two tasks that share a teacher network's hidden layers and differ in its head (issue 17's
/// transfer study): task A is [`simulate_mlp`]`(spec, network)`; task B keeps A's θ except the
/// output layer (its weights and biases), which a ChaCha20 stream seeded with `head_seed` redraws
/// N(C, S²) (weights row by row, then the biases), and the same stream then draws B's n rows as
/// [`simulate_mlp`] does. B's truth names `head_seed` as its seed; its `parameters` are θ_B in
/// the parameter order of [`crate::model::mlp`], so a fit on A's rows can centre a fit on B's.
pub fn simulate_mlp_transfer(
    spec: &SimulationSpec,
    network: &TeacherNetwork,
    head_seed: u64,
) -> Result<[(Dataset, Truth); 2]> {
    let (a, truth_a) = simulate_mlp(spec, network)?;
    let arch = Architecture::new(
        spec.k,
        network.hidden.clone(),
        network.activation,
        network.task,
    )?
    .with_outputs(network.outputs)?;
    let mut layers = arch.layers(&DVector::from_column_slice(&truth_a.parameters));
    let mut stream = Stream::from_seed(head_seed);
    if let Some((w, b)) = layers.last_mut() {
        for r in 0..w.nrows() {
            for c in 0..w.ncols() {
                w[(r, c)] = spec.weight_center + spec.weight_scale * stream.normal();
            }
        }
        for v in b.iter_mut() {
            *v = spec.weight_center + spec.weight_scale * stream.normal();
        }
    }
    let theta_b = arch.pack(&layers)?;
    let spec_b = SimulationSpec {
        seed: head_seed,
        ..spec.clone()
    };
    let (b, mut truth_b) = mlp_rows(&spec_b, network, &arch, theta_b, stream)?;
    truth_b.description = format!(
        "{} — task B: task A's hidden layers (seed {}), its output layer redrawn from seed {head_seed}",
        truth_b.description, spec.seed
    );
    Ok([(a, truth_a), (b, truth_b)])
}

/// The rows of a teacher network θ drawn from `stream` (after θ), and the truth: see
/// [`simulate_mlp`].
fn mlp_rows(
    spec: &SimulationSpec,
    network: &TeacherNetwork,
    arch: &Architecture,
    theta: DVector<f64>,
    mut stream: Stream,
) -> Result<(Dataset, Truth)> {
    let p = arch.n_params();
    let mut x = Vec::with_capacity(spec.n * spec.k);
    let mut y = Vec::with_capacity(spec.n);
    for _ in 0..spec.n {
        let start = x.len();
        x.extend((0..spec.k).map(|_| stream.normal()));
        if arch.is_softmax() {
            let eta = arch.output_vector(&theta, &x[start..]);
            let mut p = vec![0.0; eta.len()];
            crate::model::softmax::log_sum_exp_and_probabilities(&eta, &mut p);
            let u = stream.uniform();
            let mut cumulative = 0.0;
            let label = p
                .iter()
                .position(|&pc| {
                    cumulative += pc;
                    cumulative > u
                })
                .unwrap_or(p.len() - 1);
            y.push(label as f64);
            continue;
        }
        let eta = arch.output(&theta, &x[start..]);
        y.push(match network.task {
            Task::Regression => eta + spec.noise_sd * stream.normal(),
            Task::Classification => f64::from(stream.uniform() < crate::special::sigmoid(eta)),
        });
    }
    let names: Vec<String> = (1..=spec.k).map(|j| format!("x{j}")).collect();
    let shape: Vec<String> = std::iter::once(spec.k)
        .chain(network.hidden.iter().copied())
        .chain(std::iter::once(arch.outputs))
        .map(|w| w.to_string())
        .collect();
    let description = format!(
        "x ~ N(0, I_{k}); a {shape} {act} network, every weight and bias ~ N({c}, {s}²) (P = {p}); {out}; seed {seed}",
        k = spec.k,
        shape = shape.join("-"),
        act = network.activation.name(),
        c = compact_number(spec.weight_center),
        s = compact_number(spec.weight_scale),
        out = match network.task {
            Task::Regression => format!(
                "y = net(x) + {}·ε, ε ~ N(0, 1)",
                compact_number(spec.noise_sd)
            ),
            Task::Classification if arch.is_softmax() => format!(
                "y = c with probability softmax(net(x))_c, c = 0…{}",
                arch.outputs - 1
            ),
            Task::Classification => "y ~ Bernoulli(σ(net(x)))".to_string(),
        },
        seed = spec.seed
    );
    let dataset = Dataset::new(format!("simulated:{}", spec.seed), names, "y", x, y)?;
    let layers = arch.layers(&theta);
    let output = &layers[layers.len() - 1];
    let truth = Truth {
        schema: 1,
        teacher: Teacher::Mlp,
        parameters: theta.iter().copied().collect(),
        parameter_names: arch.parameter_names(),
        // The output unit's weights on the last hidden layer (its inputs); K output units' row
        // by row.
        weights: (0..output.0.nrows())
            .flat_map(|o| output.0.row(o).iter().copied().collect::<Vec<_>>())
            .collect(),
        intercept: output.1[0],
        noise_sd: (network.task == Task::Regression).then_some(spec.noise_sd),
        seed: spec.seed,
        description,
        network: Some(network.clone()),
        classes: None,
    };
    Ok((dataset, truth))
}

/// The CSV text of a data set: a header, then one row per observation, every number in the
/// shortest form that reads back to the same double.
pub fn to_csv(data: &Dataset) -> String {
    let mut out = String::with_capacity(data.n() * (data.k() + 1) * 20);
    out.push_str(&data.feature_names.join(","));
    out.push(',');
    out.push_str(&data.target_name);
    out.push('\n');
    for i in 0..data.n() {
        for v in data.row(i) {
            out.push_str(&v.to_string());
            out.push(',');
        }
        out.push_str(&data.y[i].to_string());
        out.push('\n');
    }
    out
}

/// The truth file beside a data file: `NAME.csv` → `NAME.truth.json`.
pub fn truth_path(data_path: &std::path::Path) -> std::path::PathBuf {
    data_path.with_extension("truth.json")
}

/// Reads the truth file beside `data_path`, if there is one.
pub fn read_truth(data_path: &std::path::Path) -> Result<Truth> {
    let path = truth_path(data_path);
    if !path.exists() {
        return Err(OccamError::invalid(
            Setting::PriorCenter,
            format!("'truth' needs the generating parameters in {} (written by occam simulate beside the CSV); it is not there", path.display()),
        ));
    }
    let text =
        crate::files::read_text_bounded(&path, crate::files::MAX_VECTOR_BYTES, "a truth file")
            .map_err(|e| {
                OccamError::invalid(
                    Setting::PriorCenter,
                    Message::from("truth: ").then(e.message()),
                )
            })?;
    serde_json::from_str(&text).map_err(|e| {
        OccamError::invalid(
            Setting::PriorCenter,
            format!("{}: not a truth file ({e})", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{parse_csv, ColumnSelection};

    fn spec(teacher: Teacher) -> SimulationSpec {
        SimulationSpec {
            teacher,
            n: 500,
            k: 3,
            weight_center: 0.5,
            weight_scale: 1.0,
            intercept: -0.25,
            noise_sd: 0.3,
            seed: 11,
        }
    }

    #[test]
    fn simulation_is_deterministic_and_round_trips_through_csv() {
        let (a, truth) = simulate(&spec(Teacher::Linear)).unwrap();
        let (b, _) = simulate(&spec(Teacher::Linear)).unwrap();
        assert_eq!(a, b);
        let back = parse_csv(to_csv(&a).as_bytes(), "sim", &ColumnSelection::default()).unwrap();
        assert_eq!(back.x, a.x);
        assert_eq!(back.y, a.y);
        assert_eq!(truth.parameters.len(), 3);
        // Least squares recovers the teacher up to noise.
        let noise: f64 = (0..a.n())
            .map(|i| {
                a.y[i]
                    - truth.intercept
                    - a.row(i)
                        .iter()
                        .zip(&truth.weights)
                        .map(|(x, w)| x * w)
                        .sum::<f64>()
            })
            .map(|r| r * r)
            .sum::<f64>()
            / a.n() as f64;
        assert!(
            (noise.sqrt() - 0.3).abs() < 0.05,
            "residual sd {}",
            noise.sqrt()
        );
    }

    #[test]
    fn logistic_teacher_gives_binary_labels_and_an_intercept_parameter() {
        let (d, truth) = simulate(&spec(Teacher::Logistic)).unwrap();
        assert!(d.y.iter().all(|v| *v == 0.0 || *v == 1.0));
        assert_eq!(truth.parameters.len(), 4);
        assert_eq!(
            truth.parameter_names.last().map(String::as_str),
            Some("(intercept)")
        );
    }

    #[test]
    fn an_mlp_teacher_adds_its_noise_to_its_own_function() {
        let network = TeacherNetwork {
            hidden: vec![5, 3],
            activation: Activation::Tanh,
            task: Task::Regression,
            outputs: 1,
        };
        let mut s = spec(Teacher::Mlp);
        s.intercept = 0.0;
        let (d, truth) = simulate_mlp(&s, &network).unwrap();
        assert_eq!((d, truth.clone()), simulate_mlp(&s, &network).unwrap());
        let arch = Architecture::new(3, vec![5, 3], Activation::Tanh, Task::Regression).unwrap();
        assert_eq!(truth.parameters.len(), arch.n_params());
        assert_eq!(truth.parameter_names, arch.parameter_names());
        let theta = DVector::from_vec(truth.parameters.clone());
        let (d, _) = simulate_mlp(&s, &network).unwrap();
        let residual = (0..d.n())
            .map(|i| (d.y[i] - arch.output(&theta, d.row(i))).powi(2))
            .sum::<f64>()
            / d.n() as f64;
        assert!(
            (residual.sqrt() - 0.3).abs() < 0.05,
            "residual sd {}",
            residual.sqrt()
        );
        // simulate() needs the network shape, so it refuses an mlp teacher; a network draws its
        // output bias, so an intercept is refused.
        assert!(simulate(&s).is_err());
        s.intercept = 1.0;
        assert!(simulate_mlp(&s, &network).is_err());
    }

    #[test]
    fn transfer_tasks_share_the_hidden_layers_and_differ_in_the_head() {
        let network = TeacherNetwork {
            hidden: vec![4],
            activation: Activation::Tanh,
            task: Task::Regression,
            outputs: 1,
        };
        let mut s = spec(Teacher::Mlp);
        (s.intercept, s.n) = (0.0, 400);
        let [(a, truth_a), (b, truth_b)] = simulate_mlp_transfer(&s, &network, 99).unwrap();
        // Task A is simulate_mlp's, and the pair is the same bytes on every call.
        assert_eq!(
            (a.clone(), truth_a.clone()),
            simulate_mlp(&s, &network).unwrap()
        );
        assert_eq!(
            [(a.clone(), truth_a.clone()), (b.clone(), truth_b.clone())],
            simulate_mlp_transfer(&s, &network, 99).unwrap()
        );
        let arch = Architecture::new(3, vec![4], Activation::Tanh, Task::Regression).unwrap();
        let theta_a = DVector::from_vec(truth_a.parameters.clone());
        let theta_b = DVector::from_vec(truth_b.parameters.clone());
        let (la, lb) = (arch.layers(&theta_a), arch.layers(&theta_b));
        // The hidden layer (3 inputs × 4 units + 4 biases = the first 16 of θ) is shared …
        assert_eq!(la[0], lb[0]);
        assert_eq!(truth_a.parameters[..16], truth_b.parameters[..16]);
        // … and every head parameter (4 weights + 1 bias) is redrawn.
        assert!((16..21).all(|i| truth_a.parameters[i] != truth_b.parameters[i]));
        assert_eq!((truth_b.seed, truth_b.weights.len()), (99, 4));
        assert_ne!(a.x, b.x);
        // B's targets are B's network plus σ = 0.3 noise; A's network misses them by far more.
        let residual_sd = |theta: &DVector<f64>| {
            ((0..b.n())
                .map(|i| (b.y[i] - arch.output(theta, b.row(i))).powi(2))
                .sum::<f64>()
                / b.n() as f64)
                .sqrt()
        };
        let (own, other) = (residual_sd(&theta_b), residual_sd(&theta_a));
        assert!((own - 0.3).abs() < 0.05, "residual sd {own}");
        assert!(other > 2.0 * own, "A's head on B: {other} vs {own}");
    }

    #[test]
    fn a_softmax_network_teacher_draws_k_classes_by_their_probabilities() {
        let network = TeacherNetwork {
            hidden: vec![4],
            activation: Activation::Tanh,
            task: Task::Classification,
            outputs: 3,
        };
        let mut s = spec(Teacher::Mlp);
        (s.intercept, s.n, s.weight_scale) = (0.0, 6000, 1.5);
        let (d, truth) = simulate_mlp(&s, &network).unwrap();
        assert_eq!(
            (d.clone(), truth.clone()),
            simulate_mlp(&s, &network).unwrap()
        );
        let arch = Architecture::new(3, vec![4], Activation::Tanh, Task::Classification)
            .and_then(|a| a.with_outputs(3))
            .unwrap();
        assert_eq!(truth.parameters.len(), arch.n_params());
        assert_eq!(truth.parameter_names, arch.parameter_names());
        assert_eq!(truth.network.as_ref().map(|n| n.outputs), Some(3));
        assert!(truth.description.contains("3-4-3 tanh network"));
        // Each class's frequency is its mean teacher probability, within sampling error.
        let theta = DVector::from_vec(truth.parameters.clone());
        let mut expected = [0.0; 3];
        let mut counts = [0.0; 3];
        for i in 0..d.n() {
            let eta = arch.output_vector(&theta, d.row(i));
            let mut p = vec![0.0; 3];
            crate::model::softmax::log_sum_exp_and_probabilities(&eta, &mut p);
            for c in 0..3 {
                expected[c] += p[c] / d.n() as f64;
            }
            counts[d.y[i] as usize] += 1.0 / d.n() as f64;
        }
        for c in 0..3 {
            // 4 binomial sds at n = 6000.
            let sd = (expected[c] * (1.0 - expected[c]) / d.n() as f64).sqrt();
            assert!(
                (counts[c] - expected[c]).abs() < 4.0 * sd,
                "class {c}: {counts:?} vs {expected:?}"
            );
        }
        // The truth JSON names the outputs; a one-output teacher's has no such key.
        assert!(serde_json::to_string(&truth)
            .unwrap()
            .contains("\"outputs\":3"));
        let binary = TeacherNetwork {
            outputs: 1,
            ..network.clone()
        };
        let (_, one) = simulate_mlp(&s, &binary).unwrap();
        assert!(!serde_json::to_string(&one).unwrap().contains("outputs"));
        for bad in [
            TeacherNetwork {
                outputs: 2,
                ..network.clone()
            },
            TeacherNetwork {
                outputs: 0,
                ..network.clone()
            },
            TeacherNetwork {
                task: Task::Regression,
                ..network.clone()
            },
        ] {
            assert!(simulate_mlp(&s, &bad).is_err(), "{bad:?}");
        }
    }
}
