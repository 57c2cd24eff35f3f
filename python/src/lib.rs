//! `occam._occam`: the native half of the Python package. Every function here takes plain values
//! (arrays, strings, numbers) that `occam/__init__.py` prepared, builds the same library values the
//! command line builds (`FitOptions::check`, `compare`, `convert`, `simulate`), computes with the
//! GIL released, and hands back the command line's own JSON documents (`FitReport::render`,
//! `CompareReport::render`, …), so that `fit.to_dict()` equals `occam fit --format json`.
//!
//! Errors: a bad input ([`OccamError::exit_code`] 2) raises `occam.OccamError` (a `ValueError`), a
//! failed computation (exit code 1) `occam.FitError` (a `RuntimeError`); both carry the library's
//! message with its settings spelled as this package's keyword arguments ([`PythonNames`]).

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use occam::codelength::{CodeKind, CodeSelection, RowOrder};
use occam::compare::{compare, parse_centers, parse_sds, CompareOptions};
use occam::data::{DataView, Dataset, UncheckedView};
use occam::error::{OccamError, Setting, SettingNames};
use occam::fit::{
    fit_linear_unchecked, FitOptions, HessianKind, LinearStudy, MlpOptions, ModelFit, ModelKind,
    Subset,
};
use occam::model::mlp::{Activation, Task};
use occam::model::Intercept;
use occam::prior::convert::{convert, ConversionContext, Knob, Loss};
use occam::prior::{CenterSpec, SdSpec};
use occam::report::convert::render_conversion;
use occam::report::datasets::render_datasets;
use occam::report::format::json_document;
use occam::report::{CompareReport, FitReport, OutputFormat};
use occam::run::flags::Flags;
use occam::simulate::{
    simulate, simulate_classes, simulate_mlp, SimulationSpec, Teacher, TeacherNetwork,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

mod stats;

create_exception!(
    occam,
    OccamError_,
    PyValueError,
    "Bad input: the message is the command line's, with settings named as keyword arguments."
);
create_exception!(
    occam,
    FitError,
    PyRuntimeError,
    "A computation that failed: the message says what was tried."
);

/// Settings spelled as the Python keyword arguments that set them: `prior_sd`, `codes="none"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonNames;

impl SettingNames for PythonNames {
    fn setting(&self, setting: Setting) -> String {
        match setting {
            // `occam.convert(knob, value, …)` and `occam.simulate(teacher, …)`: positional names.
            Setting::From => "knob".into(),
            Setting::Size => "n/k".into(),
            other => other.name().into(),
        }
    }

    fn assignment(&self, setting: Setting, value: &str) -> String {
        format!("{}={value:?}", self.setting(setting))
    }
}

/// The library's error as the Python exception of its class.
pub(crate) fn to_py(error: OccamError) -> PyErr {
    let text = error.render(&PythonNames);
    if error.exit_code() == 1 {
        FitError::new_err(text)
    } else {
        OccamError_::new_err(text)
    }
}

/// An invalid value for `setting`, listing the accepted ones.
fn one_of<T: Copy>(setting: Setting, text: &str, table: &[(&str, T)]) -> Result<T, OccamError> {
    table
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<String> = table.iter().map(|(n, _)| format!("'{n}'")).collect();
            OccamError::invalid(
                setting,
                format!("'{text}' is not one of {}", names.join(", ")),
            )
        })
}

/// An MLP task by name. The library has no typed setting for it (clap checks `--task`), so the
/// message names the keyword argument itself.
fn parse_task(text: &str) -> PyResult<Task> {
    match text {
        "regression" => Ok(Task::Regression),
        "classification" => Ok(Task::Classification),
        other => Err(OccamError_::new_err(format!(
            "task: '{other}' is not one of 'regression', 'classification'"
        ))),
    }
}

fn model_kind(text: &str) -> Result<ModelKind, OccamError> {
    let table: Vec<(&str, ModelKind)> = ModelKind::ALL.iter().map(|k| (k.name(), *k)).collect();
    one_of(Setting::Model, text, &table)
}

/// The options of `occam fit` / `occam compare` that are not about columns, as keyword arguments.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct PyFitOptions {
    model: String,
    noise_sd: String,
    intercept: Option<String>,
    standardize: bool,
    shuffle: Option<u64>,
    codes: String,
    hidden: Vec<usize>,
    activation: String,
    task: Option<String>,
    restarts: usize,
    seed: u64,
    hessian: String,
    first_block: usize,
    charge_reals: usize,
}

impl PyFitOptions {
    /// `FitOptions` under the prior (`center`, `prior_sd`), checked once for the model — as
    /// `occam fit`'s flags are (cli/mod.rs `ModelArgs::options`).
    pub(crate) fn checked(
        &self,
        center: CenterSpec,
        prior_sd: SdSpec,
    ) -> PyResult<occam::fit::CheckedOptions> {
        let task = match &self.task {
            Some(text) => Some(parse_task(text)?),
            None => None,
        };
        self.checked_with(center, prior_sd, task).map_err(to_py)
    }

    fn checked_with(
        &self,
        center: CenterSpec,
        prior_sd: SdSpec,
        task: Option<Task>,
    ) -> Result<occam::fit::CheckedOptions, OccamError> {
        let kind = model_kind(&self.model)?;
        FitOptions {
            selection: Default::default(),
            center,
            prior_sd,
            noise_sd: SdSpec::parse(Setting::NoiseSd, &self.noise_sd)?,
            intercept: match &self.intercept {
                Some(text) => Intercept::parse(text)?,
                None => kind.default_intercept(),
            },
            standardize: self.standardize,
            order: self.shuffle.map_or(RowOrder::AsGiven, RowOrder::Shuffled),
            first_block: self.first_block,
            codes: CodeSelection::parse(&self.codes)?,
            charged_reals: self.charge_reals,
            // `occam fit --prior GROUPS.toml` (grouped priors) is not offered here.
            prior: None,
            mlp: MlpOptions {
                hidden: self.hidden.clone(),
                activation: one_of(
                    Setting::Activation,
                    &self.activation,
                    &[
                        ("tanh", Activation::Tanh),
                        ("sigmoid", Activation::Sigmoid),
                        ("relu", Activation::Relu),
                    ],
                )?,
                task,
                restarts: self.restarts,
                seed: self.seed,
                hessian: one_of(
                    Setting::Hessian,
                    &self.hessian,
                    &[("ggn", HessianKind::Ggn), ("exact", HessianKind::Exact)],
                )?,
                // The last-layer Laplace (`--subset last-layer`) is not offered here yet.
                subset: Subset::All,
            },
        }
        .check(kind)
    }
}

/// The columns of a data set handed over from Python: features row-major, a numeric target (or
/// the codes of `labels`), and the names.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub(crate) struct PyDataInfo {
    source: String,
    feature_names: Vec<String>,
    target_name: String,
    target_labels: Vec<String>,
}

/// A `Dataset` from a C-contiguous float64 matrix and target (copied once into the data set),
/// checked as a CSV's values are (shapes, finite values): for the models other than the linear
/// one, which standardise into a design of their own. The linear model reads the arrays in place
/// instead ([`view`]).
pub(crate) fn dataset(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray1<'_, f64>,
    info: &PyDataInfo,
) -> PyResult<Dataset> {
    let rows = view(x, y, info)?;
    let checked = rows.check().map_err(|e| rows_error(x, y, info, e))?;
    Ok(checked.to_dataset())
}

/// The arrays as an [`UncheckedView`]: the rows read in place from numpy's buffer, no copy, the
/// shapes checked. Their values are checked by the linear entries that take the view, folded
/// into their first pass over the rows (`fit_linear_unchecked`, `LinearStudy::from_unchecked`,
/// `ShardStats::from_unchecked`), or by [`UncheckedView::check`]; map their errors with
/// [`rows_error`].
///
/// Sound without `unsafe`: `PyReadonlyArray` holds numpy's shared (read-only) borrow of the array
/// for as long as the returned slices live — rust-numpy's borrow checker refuses a mutable borrow
/// of it from any Rust code meanwhile — and `as_slice` succeeds only for a contiguous array. With
/// the GIL released (as numpy's own BLAS and ufunc calls release it) a Python thread that wrote
/// into the same array during the fit would race, as it would with numpy's own reads; the package
/// never does, and the array outlives the call because the caller's frame holds it.
pub(crate) fn view<'a>(
    x: &'a PyReadonlyArray2<'_, f64>,
    y: &'a PyReadonlyArray1<'_, f64>,
    info: &'a PyDataInfo,
) -> PyResult<UncheckedView<'a>> {
    let (xs, ys) = slices(x, y)?;
    let (n, k) = (x.shape()[0], x.shape()[1]);
    if k != info.feature_names.len() || n != ys.len() {
        return Err(OccamError_::new_err(format!(
            "X has {n} rows and {k} columns, y has {} values and there are {} feature names; X needs one row per value of y and one column per name",
            ys.len(),
            info.feature_names.len()
        )));
    }
    DataView::unchecked(
        &info.source,
        &info.feature_names,
        &info.target_name,
        xs,
        ys,
        &info.target_labels,
    )
    .map_err(to_py)
}

/// The arrays' buffers (C-contiguous, or an error naming the array).
fn slices<'a>(
    x: &'a PyReadonlyArray2<'_, f64>,
    y: &'a PyReadonlyArray1<'_, f64>,
) -> PyResult<(&'a [f64], &'a [f64])> {
    let xs = x
        .as_slice()
        .map_err(|e| OccamError_::new_err(format!("X: {e}")))?;
    let ys = y
        .as_slice()
        .map_err(|e| OccamError_::new_err(format!("y: {e}")))?;
    Ok((xs, ys))
}

/// An error of a computation on a [`view`] of the arrays as Python sees it. Every route that
/// reads an unchecked view refuses a non-finite value before any other data error, with the
/// library's `Csv` error by its flat position; that one is named again here by row and column
/// as numpy and pandas count them ([`not_finite`]). Any other error is the library's.
pub(crate) fn rows_error(
    x: &PyReadonlyArray2<'_, f64>,
    y: &PyReadonlyArray1<'_, f64>,
    info: &PyDataInfo,
    error: OccamError,
) -> PyErr {
    if let (OccamError::Csv { .. }, Ok((xs, ys))) = (&error, slices(x, y)) {
        if let Some(named) = not_finite(xs, ys, &info.feature_names) {
            return named;
        }
    }
    to_py(error)
}

/// The first non-finite value of `xs` (row-major, one column a name) or `ys`, named by row and
/// column (0-based, as numpy and pandas count) rather than by `Dataset::new`'s flat position.
fn not_finite(xs: &[f64], ys: &[f64], names: &[String]) -> Option<PyErr> {
    let k = names.len().max(1);
    if let Some(i) = xs.iter().position(|v| !v.is_finite()) {
        return Some(OccamError_::new_err(format!(
            "X: row {}, column '{}': the value {} is not finite; drop or impute the row",
            i / k,
            names[i % k],
            xs[i]
        )));
    }
    ys.iter().position(|v| !v.is_finite()).map(|i| {
        OccamError_::new_err(format!(
            "y: row {i}: the value {} is not finite; drop or impute the row",
            ys[i]
        ))
    })
}

/// `occam fit --format json` on arrays: the CLI's JSON document.
#[pyfunction]
fn fit_json(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    info: PyDataInfo,
    prior_sd: String,
    prior_center: String,
    options: PyFitOptions,
) -> PyResult<String> {
    let checked = options.checked(
        CenterSpec::parse(&prior_center).map_err(to_py)?,
        SdSpec::parse(Setting::PriorSd, &prior_sd).map_err(to_py)?,
    )?;
    // The linear model under one prior (CheckedOptions::fit's branch for it) reads the caller's
    // rows in place; the others copy them into a Dataset.
    // The values are checked in the fit's first pass over the rows (no separate read).
    if checked.kind() == ModelKind::Linear && checked.options().prior.is_none() {
        let rows = view(&x, &y, &info)?;
        return py
            .detach(|| {
                let fit = ModelFit::Linear(fit_linear_unchecked(rows, checked.options())?);
                Ok(FitReport::from_fit(&fit, &Flags).render(OutputFormat::Json))
            })
            .map_err(|e| rows_error(&x, &y, &info, e));
    }
    let data = dataset(&x, &y, &info)?;
    py.detach(|| {
        let fit = checked.fit(&data)?;
        Ok(FitReport::from_fit(&fit, &Flags).render(OutputFormat::Json))
    })
    .map_err(to_py)
}

/// `occam compare --format json` on arrays: the CLI's JSON document.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn compare_json(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    info: PyDataInfo,
    centers: String,
    sds: String,
    rank_by: String,
    options: PyFitOptions,
) -> PyResult<String> {
    let fit = options.checked(CenterSpec::Zero, SdSpec::Auto)?;
    // The library has no typed setting for it (clap checks `--rank-by`): named here.
    let kinds = [
        ("mixture", CodeKind::Mixture),
        ("prequential", CodeKind::Prequential),
        ("two_part", CodeKind::TwoPart),
        ("bic", CodeKind::Bic),
    ];
    let rank_by = kinds
        .iter()
        .find(|(name, _)| *name == rank_by)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            OccamError_::new_err(format!(
                "rank_by: '{rank_by}' is not one of 'mixture', 'prequential', 'two_part', 'bic'"
            ))
        })?;
    let options = CompareOptions {
        fit: fit.options().clone(),
        centers: parse_centers(&centers).map_err(to_py)?,
        sds: parse_sds(&sds).map_err(to_py)?,
        rank_by,
    };
    // The linear model's study reads the caller's rows in place (as `fit_json`); the others copy
    // them into a Dataset.
    if fit.kind() == ModelKind::Linear && fit.options().prior.is_none() {
        let rows = view(&x, &y, &info)?;
        return py
            .detach(|| {
                let study = LinearStudy::from_unchecked(rows, fit.options())?;
                let comparison = compare(&study, &options)?;
                Ok(CompareReport::from_comparison(&comparison, &Flags).render(OutputFormat::Json))
            })
            .map_err(|e| rows_error(&x, &y, &info, e));
    }
    let data = dataset(&x, &y, &info)?;
    py.detach(|| {
        let comparison = compare(fit.study(&data)?.as_ref(), &options)?;
        Ok(CompareReport::from_comparison(&comparison, &Flags).render(OutputFormat::Json))
    })
    .map_err(to_py)
}

/// `occam convert --format json`.
#[pyfunction]
#[pyo3(signature = (knob, value, n=None, noise_sd=None, loss=None))]
fn convert_json(
    knob: &str,
    value: f64,
    n: Option<usize>,
    noise_sd: Option<f64>,
    loss: Option<&str>,
) -> PyResult<String> {
    let run = || -> Result<String, OccamError> {
        let knobs: Vec<(&str, Knob)> = Knob::ALL.iter().map(|k| (k.name(), *k)).collect();
        let knob = one_of(Setting::From, knob, &knobs)?;
        let loss = match loss {
            Some(text) => Some(one_of(
                Setting::Loss,
                text,
                &[("mse", Loss::Mse), ("cross-entropy", Loss::CrossEntropy)],
            )?),
            None => None,
        };
        if let Some(s) = noise_sd {
            occam::prior::check_sd(Setting::NoiseSd, s)?;
        }
        if n == Some(0) {
            return Err(OccamError::invalid(
                Setting::Rows,
                "the number of rows must be at least 1",
            ));
        }
        let context = ConversionContext { n, noise_sd };
        let conversion = convert(knob, value, loss, &context)?;
        Ok(render_conversion(
            knob,
            value,
            &conversion,
            OutputFormat::Json,
            &Flags,
        ))
    };
    run().map_err(to_py)
}

/// `occam datasets --format json`.
#[pyfunction]
fn datasets_json() -> String {
    render_datasets(OutputFormat::Json, &Flags)
}

/// A data set as (X row-major n×k, y, feature names, target name, target labels, source).
type Columns<'py> = (
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<String>,
    String,
    Vec<String>,
    String,
);

fn columns<'py>(py: Python<'py>, data: Dataset) -> PyResult<Columns<'py>> {
    let (n, k) = (data.n(), data.k());
    let x = PyArray1::from_vec(py, data.x).reshape([n, k])?;
    Ok((
        x,
        PyArray1::from_vec(py, data.y),
        data.feature_names,
        data.target_name,
        data.target_labels,
        data.source,
    ))
}

/// A built-in data set (or a CSV file) read as `occam fit --data NAME` reads it.
#[pyfunction]
fn load<'py>(py: Python<'py>, name: &str) -> PyResult<Columns<'py>> {
    let name = name.to_string();
    let data = py
        .detach(|| occam::data::load(&name, &Default::default()))
        .map_err(to_py)?;
    columns(py, data)
}

/// `occam simulate`: the data set and the truth's JSON document.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn simulate_py<'py>(
    py: Python<'py>,
    teacher: &str,
    n: usize,
    k: usize,
    weight_center: f64,
    weight_scale: f64,
    intercept: f64,
    noise_sd: f64,
    hidden: Vec<usize>,
    activation: &str,
    task: &str,
    classes: usize,
    seed: u64,
) -> PyResult<(Columns<'py>, String)> {
    let task = parse_task(task)?;
    let run = || -> Result<(Dataset, String), OccamError> {
        let teacher = one_of(
            Setting::Teacher,
            teacher,
            &[
                ("linear", Teacher::Linear),
                ("logistic", Teacher::Logistic),
                ("mlp", Teacher::Mlp),
            ],
        )?;
        let spec = SimulationSpec {
            teacher,
            n,
            k,
            weight_center,
            weight_scale,
            intercept,
            noise_sd,
            seed,
        };
        let (data, truth) = match teacher {
            Teacher::Mlp => simulate_mlp(
                &spec,
                &TeacherNetwork {
                    hidden,
                    activation: one_of(
                        Setting::Activation,
                        activation,
                        &[
                            ("tanh", Activation::Tanh),
                            ("sigmoid", Activation::Sigmoid),
                            ("relu", Activation::Relu),
                        ],
                    )?,
                    task,
                    // K = 2 is the one-output binary teacher (as `occam simulate --classes`).
                    outputs: if classes == 2 { 1 } else { classes },
                },
            )?,
            _ if classes != 2 => simulate_classes(&spec, classes)?,
            _ => simulate(&spec)?,
        };
        Ok((data, json_document(&truth)))
    };
    let (data, truth) = py.detach(run).map_err(to_py)?;
    Ok((columns(py, data)?, truth))
}

/// The native module.
#[pymodule]
fn _occam(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("OccamError", py.get_type::<OccamError_>())?;
    m.add("FitError", py.get_type::<FitError>())?;
    m.add("OCCAM_VERSION", occam::VERSION)?;
    m.add_function(wrap_pyfunction!(fit_json, m)?)?;
    m.add_function(wrap_pyfunction!(compare_json, m)?)?;
    m.add_function(wrap_pyfunction!(convert_json, m)?)?;
    m.add_function(wrap_pyfunction!(datasets_json, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_py, m)?)?;
    stats::register(m)?;
    Ok(())
}
