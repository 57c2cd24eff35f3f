//! `occam.SufficientStats`: the library's mergeable statistics (`occam::data::ShardStats`) as a
//! Python value that merges (`a.merge(b)`, `a + b`), pickles (its state is the documented JSON
//! file, docs/scale.md) and fits (`occam.fit_stats`).

use crate::{rows_error, to_py, view, OccamError_, PyDataInfo, PyFitOptions};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use occam::data::ShardStats;
use occam::error::Setting;
use occam::fit::fit_linear_shards;
use occam::prior::{CenterSpec, SdSpec};
use occam::report::{FitReport, OutputFormat};
use occam::run::flags::Flags;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// The sufficient statistics of the linear model on a set of rows: n, the means and the centred
/// co-moments of (x, y), merged exactly (Chan's update). See `occam.SufficientStats`.
#[pyclass(name = "SufficientStats", module = "occam._occam", frozen)]
#[derive(Clone)]
pub struct PySufficientStats {
    pub(crate) stats: ShardStats,
}

#[pymethods]
impl PySufficientStats {
    /// Statistics of the rows (x, y), from arrays prepared by `occam.SufficientStats.from_arrays`.
    #[staticmethod]
    fn _from_arrays(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
        info: PyDataInfo,
    ) -> PyResult<Self> {
        // The rows are read in place from numpy's buffer (no copy), once: their values are
        // checked in the same pass.
        let rows = view(&x, &y, &info)?;
        let stats = py
            .detach(|| ShardStats::from_unchecked(rows))
            .map_err(|e| rows_error(&x, &y, &info, e))?;
        Ok(PySufficientStats { stats })
    }

    /// Statistics read from their JSON file's text (`to_json`, `occam stats`).
    #[staticmethod]
    #[pyo3(signature = (text, source="<json>"))]
    fn from_json(text: &str, source: &str) -> PyResult<Self> {
        ShardStats::from_json(text, source)
            .map(|stats| PySufficientStats { stats })
            .map_err(to_py)
    }

    /// The statistics as their JSON file's text (exact: numbers round-trip).
    fn to_json(&self) -> String {
        self.stats.to_json()
    }

    /// These statistics merged with those of other, disjoint, rows with the same columns.
    fn merge(&self, other: &PySufficientStats) -> PyResult<Self> {
        let mut stats = self.stats.clone();
        stats.merge(&other.stats).map_err(to_py)?;
        Ok(PySufficientStats { stats })
    }

    fn __add__(&self, other: &PySufficientStats) -> PyResult<Self> {
        self.merge(other)
    }

    /// Pickling: the class and the JSON text.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let from_json = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(py, [slf.get().stats.to_json()])?;
        PyTuple::new(py, [from_json.into_any(), args.into_any()])
    }

    /// Rows.
    #[getter]
    fn n(&self) -> usize {
        self.stats.n
    }

    /// The feature names.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.stats.features.clone()
    }

    /// The target's name.
    #[getter]
    fn target(&self) -> String {
        self.stats.target.clone()
    }

    /// Column means of (x, y), the target's last.
    #[getter]
    fn mean(&self) -> Vec<f64> {
        self.stats.mean.clone()
    }

    /// Σ (v − v̄)(v − v̄)ᵀ over the rows, v = (x, y).
    #[getter]
    fn comoment(&self) -> Vec<Vec<f64>> {
        self.stats.comoment.clone()
    }

    fn __eq__(&self, other: &PySufficientStats) -> bool {
        self.stats == other.stats
    }

    fn __repr__(&self) -> String {
        format!(
            "SufficientStats(n={}, k={}, target={:?})",
            self.stats.n,
            self.stats.k(),
            self.stats.target
        )
    }
}

/// The linear fit of merged statistics: `occam fit`'s JSON document, prequential null.
#[pyfunction]
pub fn fit_stats_json(
    py: Python<'_>,
    stats: &PySufficientStats,
    source: String,
    prior_sd: String,
    prior_center: String,
    options: PyFitOptions,
) -> PyResult<String> {
    let checked = options.checked(
        CenterSpec::parse(&prior_center).map_err(to_py)?,
        SdSpec::parse(Setting::PriorSd, &prior_sd).map_err(to_py)?,
    )?;
    if checked.kind() != occam::fit::ModelKind::Linear {
        return Err(OccamError_::new_err(format!(
            "model: merged statistics fit the linear model only, not '{}'; pass the rows to occam.fit",
            checked.kind()
        )));
    }
    py.detach(|| {
        let fit = fit_linear_shards(&stats.stats, &source, checked.options())?;
        Ok(FitReport::from_linear(&fit, &Flags).render(OutputFormat::Json))
    })
    .map_err(to_py)
}

/// Adds the class and its fit to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySufficientStats>()?;
    m.add_function(wrap_pyfunction!(fit_stats_json, m)?)?;
    Ok(())
}
