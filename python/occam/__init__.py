"""occam: the Bayesian reading of L2 regularisation, from Python.

MAP weights, exact (linear) or Laplace (logistic, MLP) evidence and MDL code lengths under any
Gaussian prior, computed by the same Rust library as the ``occam`` command line: ``occam.fit``
gives the document ``occam fit --format json`` prints, as attributes.

>>> import occam
>>> X, y = occam.load("diabetes")
>>> fit = occam.fit(X, y)
>>> round(fit.evidence.log_nats, 3)
-2405.771

Bad input raises :class:`OccamError` (a ``ValueError``) with the command line's message, its
settings named as this package's keyword arguments; a computation that fails raises
:class:`FitError` (a ``RuntimeError``).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from . import _occam
from ._occam import FitError, OccamError

__version__: str = _occam.OCCAM_VERSION

__all__ = [
    "Fit",
    "SufficientStats",
    "fit_stats",
    "FitError",
    "OccamError",
    "compare",
    "convert",
    "datasets",
    "fit",
    "load",
    "simulate",
    "__version__",
]

#: The ``DataFrame.attrs`` key under which ``occam.load`` and ``occam.simulate`` keep the data
#: set's source (``builtin:diabetes``), so that a fit on them names it as the command line does.
SOURCE_ATTR = "occam_source"


class _Node:
    """One object of an occam JSON document, its keys as attributes (numeric lists as arrays)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(
                f"no key '{name}' here; the keys are {sorted(self._data)}"
            ) from None

    def __getitem__(self, name: str) -> Any:
        return _wrap(self._data[name])

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def __dir__(self) -> list:
        return sorted(self._data)

    def keys(self):
        return self._data.keys()

    def to_dict(self) -> dict:
        """The object as plain JSON values (a deep copy)."""
        return json.loads(json.dumps(self._data))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(sorted(self._data))})"


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return _Node(value)
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return np.asarray(value, dtype=np.float64)
        if value and all(isinstance(v, list) for v in value):
            try:
                return np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                pass
        return [_wrap(v) for v in value]
    return value


class Fit(_Node):
    """One model under one prior: the keys of ``occam fit --format json`` as attributes.

    ``fit.evidence.log_nats``, ``fit.code_length_bits.mixture``, ``fit.map.weights`` (a numpy
    array), …; ``fit.to_dict()`` is the whole document, equal to the command line's.

    >>> import occam
    >>> fit = occam.fit(*occam.load("diabetes"), prior_sd=10)
    >>> fit.map.weights.shape
    (10,)
    """

    def __repr__(self) -> str:
        model = self._data.get("model", {}).get("kind", "?")
        bits = self._data.get("code_length_bits", {}).get("mixture")
        data = self._data.get("dataset", {})
        return (
            f"Fit(model={model!r}, n={data.get('n')}, k={len(data.get('features', []))}, "
            f"mixture_bits={bits!r})"
        )


def _names(prefix: str, k: int) -> list:
    return [f"{prefix}{j + 1}" for j in range(k)]


def _matrix(X: Any) -> tuple:
    """X as a C-contiguous float64 matrix (no copy when it already is one) and its column names."""
    names = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        names = [str(c) for c in X.columns]
        for name, dtype in zip(names, X.dtypes):
            if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
                raise OccamError(
                    f"X: column '{name}' is not numeric ({dtype}); encode it as numbers or drop it"
                )
        X = X.to_numpy(dtype=np.float64)
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise OccamError(f"X: not a numeric matrix ({e}); pass numbers only") from None
    if array.ndim != 2:
        raise OccamError(
            f"X: expected a 2-d matrix (rows × features), got {array.ndim} dimension(s); "
            "reshape a single feature with X.reshape(-1, 1)"
        )
    array = np.ascontiguousarray(array)
    if names is None:
        names = _names("x", array.shape[1])
    return array, names


def _target(y: Any) -> tuple:
    """y as float64 codes, its name and its text labels (sorted, as a CSV's label column)."""
    name = getattr(y, "name", None)
    values = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise OccamError(f"y: expected one value a row (1-d), got shape {values.shape}")
    labels: list = []
    if values.dtype.kind in "OUS":
        texts = [str(v) for v in values]
        numeric = True
        try:
            codes = np.asarray([float(t) for t in texts], dtype=np.float64)
        except ValueError:
            numeric = False
        if numeric:
            values = codes
        else:
            labels = sorted(set(texts))
            index = {t: i for i, t in enumerate(labels)}
            values = np.asarray([index[t] for t in texts], dtype=np.float64)
    elif values.dtype.kind == "b":
        values = values.astype(np.float64)
    try:
        values = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise OccamError(f"y: not numbers or labels ({e})") from None
    return values, ("y" if name is None else str(name)), labels


def _data(X: Any, y: Any, source: Optional[str]) -> tuple:
    x, names = _matrix(X)
    t, target_name, labels = _target(y)
    if source is None:
        source = getattr(X, "attrs", {}).get(SOURCE_ATTR, "python")
    info = {
        "source": source,
        "feature_names": names,
        "target_name": target_name,
        "target_labels": labels,
    }
    return x, t, info


def _sd(value: Union[str, float]) -> str:
    return value if isinstance(value, str) else repr(float(value))


def _options(
    model: str,
    noise_sd: Union[str, float],
    intercept: Optional[str],
    standardize: bool,
    shuffle: Optional[int],
    codes: Union[str, Iterable[str]],
    hidden: Union[int, Sequence[int]],
    activation: str,
    task: Optional[str],
    restarts: int,
    seed: int,
    hessian: str,
    first_block: int,
    charge_reals: int,
) -> dict:
    return {
        "model": model,
        "noise_sd": _sd(noise_sd),
        "intercept": intercept,
        "standardize": bool(standardize),
        "shuffle": shuffle,
        "codes": codes if isinstance(codes, str) else ",".join(codes),
        "hidden": [hidden] if isinstance(hidden, int) else list(hidden),
        "activation": activation,
        "task": task,
        "restarts": restarts,
        "seed": seed,
        "hessian": hessian,
        "first_block": first_block,
        "charge_reals": charge_reals,
    }


def fit(
    X: Any,
    y: Any,
    *,
    model: str = "linear",
    prior_sd: Union[str, float] = "auto",
    prior_center: str = "zero",
    noise_sd: Union[str, float] = "auto",
    intercept: Optional[str] = None,
    standardize: bool = True,
    shuffle: Optional[int] = None,
    codes: Union[str, Iterable[str]] = "all",
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: Optional[str] = None,
    restarts: int = 1,
    seed: int = 0,
    hessian: str = "ggn",
    first_block: int = 16,
    charge_reals: int = 0,
    source: Optional[str] = None,
) -> Fit:
    """One model, one prior: ``occam fit`` on arrays (the same options, in snake_case).

    X is a numpy array, a pandas DataFrame (its columns name the features) or a list of rows; y
    an array, a Series (its name names the target) or a list — text labels for classification.
    Copies of X: with ``model="linear"`` a C-contiguous float64 X is read in place, never
    copied, its values checked for NaN and ±inf in the fit's own first pass over the rows; any
    other layout or dtype (a DataFrame, a list, float32, Fortran order, a strided view) is
    converted once into such an array first. The other models copy the float64 rows once more
    into the library's data set before fitting (and ``model="mlp"`` also builds its own n×k
    standardised design from that copy). The GIL is released while occam computes. ``standardize=False`` is ``--no-standardize``;
    ``source`` is the name the document gives the data (default: a DataFrame's
    ``attrs["occam_source"]``, else ``"python"``).

    >>> import occam
    >>> X, y = occam.load("breast_cancer")
    >>> fit = occam.fit(X, y, model="logistic", codes="none")
    >>> fit.evidence.method
    'laplace-hessian'
    """
    x, t, info = _data(X, y, source)
    options = _options(
        model, noise_sd, intercept, standardize, shuffle, codes, hidden, activation, task,
        restarts, seed, hessian, first_block, charge_reals,
    )
    text = _occam.fit_json(x, t, info, _sd(prior_sd), prior_center, options)
    return Fit(json.loads(text))


def compare(
    X: Any,
    y: Any,
    *,
    centers: Union[str, Sequence[str]] = "zero",
    sds: Union[str, float, Sequence[Union[str, float]]] = "auto",
    rank_by: str = "mixture",
    model: str = "linear",
    noise_sd: Union[str, float] = "auto",
    intercept: Optional[str] = None,
    standardize: bool = True,
    shuffle: Optional[int] = None,
    codes: Union[str, Iterable[str]] = "all",
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: Optional[str] = None,
    restarts: int = 1,
    seed: int = 0,
    hessian: str = "ggn",
    first_block: int = 16,
    charge_reals: int = 0,
    source: Optional[str] = None,
):
    """One model, many priors (every centre × every sd), ranked: ``occam compare`` on arrays.

    Returns a pandas DataFrame, one row per prior in rank order, its columns the JSON rows' keys
    flattened (``prior.sd``, ``evidence.log_nats``, ``code_length_bits.mixture``, …);
    ``df.attrs["occam"]`` is the whole document, equal to ``occam compare --format json``.
    ``centers`` as ``--centers`` (a ';'-separated string or a list), ``sds`` as ``--sds`` (a
    ','-separated string, or a list of numbers and ``"auto"``). X is copied as by ``fit``: the
    linear model reads a C-contiguous float64 X in place; the other models copy it once.

    >>> import occam
    >>> table = occam.compare(*occam.load("diabetes"), sds="logspace:-1:2:4,auto")
    >>> len(table)
    5
    """
    import pandas as pd

    x, t, info = _data(X, y, source)
    options = _options(
        model, noise_sd, intercept, standardize, shuffle, codes, hidden, activation, task,
        restarts, seed, hessian, first_block, charge_reals,
    )
    centers_text = centers if isinstance(centers, str) else ";".join(centers)
    if isinstance(sds, (str, int, float)):
        sds_text = _sd(sds)
    else:
        sds_text = ",".join(_sd(s) for s in sds)
    text = _occam.compare_json(x, t, info, centers_text, sds_text, rank_by, options)
    document = json.loads(text)
    table = pd.json_normalize(document["rows"])
    table.attrs["occam"] = document
    return table


def convert(
    knob: str,
    value: float,
    *,
    n: Optional[int] = None,
    noise_sd: Optional[float] = None,
    loss: Optional[str] = None,
) -> dict:
    """An L2 strength in any library's convention → prior sd and every other convention.

    ``occam convert --from KNOB --value V --format json`` as a dict.

    >>> import occam
    >>> round(occam.convert("sklearn-ridge", 1.0, noise_sd=2.0)["prior_sd"], 6)
    2.0
    """
    return json.loads(_occam.convert_json(knob, float(value), n, noise_sd, loss))


def datasets():
    """The built-in data sets (``occam datasets``) as a pandas DataFrame, one row each.

    >>> import occam
    >>> "diabetes" in set(occam.datasets()["name"])
    True
    """
    import pandas as pd

    return pd.DataFrame(json.loads(_occam.datasets_json())["datasets"])


def _frame(columns: tuple):
    import pandas as pd

    x, t, names, target, labels, source = columns
    X = pd.DataFrame(x, columns=names)
    X.attrs[SOURCE_ATTR] = source
    if labels:
        y = pd.Series(np.asarray(labels, dtype=object)[t.astype(np.int64)], name=target)
    else:
        y = pd.Series(t, name=target)
    return X, y


def load(name: str):
    """A built-in data set (or a CSV path) as ``(X, y)``: a DataFrame and a Series.

    Read exactly as ``occam fit --data NAME`` reads it (the last column is the target), so a fit
    on them equals the command line's.

    >>> import occam
    >>> X, y = occam.load("iris")
    >>> X.shape, y.name
    ((150, 4), 'species')
    """
    return _frame(_occam.load(str(name)))


def simulate(
    teacher: str = "linear",
    *,
    n: int = 200,
    k: int = 5,
    weight_center: float = 0.0,
    weight_scale: float = 1.0,
    intercept: float = 0.0,
    noise_sd: float = 1.0,
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: str = "regression",
    classes: int = 2,
    seed: int = 0,
):
    """Synthetic data from a teacher with known weights: ``occam simulate`` without the files.

    Returns ``(X, y, truth)``: a DataFrame, a Series and the truth document (the command line's
    ``NAME.truth.json``) as a dict. The same seed gives the same data everywhere. ``classes`` as
    ``--classes``: K ≥ 3 gives a K-class logistic (softmax) teacher, or with
    ``task="classification"`` a K-output network.

    >>> import occam
    >>> X, y, truth = occam.simulate("linear", n=100, k=3, seed=1)
    >>> X.shape, len(truth["weights"])
    ((100, 3), 3)
    """
    columns, truth = _occam.simulate_py(
        teacher, n, k, float(weight_center), float(weight_scale), float(intercept),
        float(noise_sd), [hidden] if isinstance(hidden, int) else list(hidden), activation,
        task, classes, seed,
    )
    X, y = _frame(columns)
    return X, y, json.loads(truth)


SufficientStats = _occam.SufficientStats
SufficientStats.__doc__ = """The sufficient statistics of the linear model on a set of rows, mergeable.

n, the column means and the centred co-moments of (x, y): two shards' statistics merge exactly
(Chan's update), so ``occam.fit_stats`` on the merged statistics equals ``occam.fit`` on the
concatenated rows (to rounding, 1e-12 relative) — for the mixture, two_part and BIC codes; the
prequential code needs the rows in order and is null. A value pickles (its state is the JSON file
of docs/scale.md), so Dask or Spark can map ``from_arrays`` over partitions and reduce with ``+``.

>>> import occam
>>> X, y = occam.load("diabetes")
>>> a = occam.SufficientStats.from_arrays(X[:200], y[:200])
>>> b = occam.SufficientStats.from_arrays(X[200:], y[200:])
>>> (a + b).n
442
>>> import pickle; pickle.loads(pickle.dumps(a)) == a
True
"""


def _from_arrays(X: Any, y: Any) -> "SufficientStats":
    """Statistics of the rows (X, y): X as for ``occam.fit`` (its columns name the features), y
    numeric (text labels are for classification, which the statistics do not fit). A
    C-contiguous float64 X is read in place, once (its values are checked for NaN and ±inf in
    the same pass); other layouts and dtypes are converted once first.

    >>> import occam
    >>> occam.SufficientStats.from_arrays([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]], [1.0, 0.0, 2.0]).n
    3
    """
    x, t, info = _data(X, y, None)
    return SufficientStats._from_arrays(x, t, info)


SufficientStats.from_arrays = staticmethod(_from_arrays)


def fit_stats(
    stats: "SufficientStats",
    *,
    prior_sd: Union[str, float] = "auto",
    prior_center: str = "zero",
    noise_sd: Union[str, float] = "auto",
    standardize: bool = True,
    codes: Union[str, Iterable[str]] = "all",
    charge_reals: int = 0,
    source: str = "merged statistics",
) -> Fit:
    """The linear fit of (merged) sufficient statistics: ``occam.fit`` without the rows.

    The document has ``occam fit``'s keys; ``code_length_bits.prequential`` is null with the
    reason in the notes. Only the linear model with the centred intercept can be fitted this way.

    >>> import occam
    >>> X, y = occam.load("diabetes")
    >>> stats = occam.SufficientStats.from_arrays(X[:300], y[:300]) + occam.SufficientStats.from_arrays(X[300:], y[300:])
    >>> fit = occam.fit_stats(stats)
    >>> abs(fit.evidence.log_nats / occam.fit(X, y).evidence.log_nats - 1) < 1e-12
    True
    """
    options = _options(
        "linear", noise_sd, None, standardize, None, codes, (8,), "tanh", None, 1, 0, "ggn", 16,
        charge_reals,
    )
    text = _occam.fit_stats_json(stats, source, _sd(prior_sd), prior_center, options)
    return Fit(json.loads(text))
