"""Every input form gives the same fit; every error class; threads; the version."""

import pathlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import occam

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def diabetes():
    return occam.load("diabetes")


def _core(fit):
    """The document without the data set's naming (source, feature and target names)."""
    d = fit.to_dict()
    d.pop("dataset")
    return d


def test_version_is_the_crates():
    def version(path):
        text = (REPO / path).read_text()
        return re.search(r'^version = "([^"]+)"', text, re.M).group(1)

    assert occam.__version__ == version("Cargo.toml")
    assert version("python/Cargo.toml") == version("Cargo.toml")


def test_attributes_mirror_the_document(diabetes):
    fit = occam.fit(*diabetes)
    d = fit.to_dict()
    assert fit.evidence.log_nats == d["evidence"]["log_nats"]
    assert fit.code_length_bits.mixture == d["code_length_bits"]["mixture"]
    assert isinstance(fit.map.weights, np.ndarray) and fit.map.weights.dtype == np.float64
    assert fit.map.weights.tolist() == d["map"]["weights"]
    assert fit.dataset.features == d["dataset"]["features"]
    assert fit["prior"]["sd"] == d["prior"]["sd"]
    with pytest.raises(AttributeError, match="the keys are"):
        fit.no_such_key
    # The returned dict is a copy: changing it leaves the fit alone.
    d["evidence"]["log_nats"] = 0.0
    assert fit.evidence.log_nats != 0.0


def test_every_input_form_gives_the_same_fit(diabetes):
    X, y = diabetes
    reference = occam.fit(X, y)
    a = X.to_numpy()
    forms = {
        "ndarray": (np.ascontiguousarray(a), y.to_numpy()),
        "list": (a.tolist(), y.tolist()),
        "fortran": (np.asfortranarray(a), y),
        "non-contiguous": (np.repeat(a, 2, axis=1)[:, ::2], y.to_numpy()[::1]),
        "strided rows": (np.repeat(a, 2, axis=0)[::2], np.repeat(y.to_numpy(), 2)[::2]),
        "int y": (a, y.to_numpy()),
        "column y": (a, y.to_numpy().reshape(-1, 1)),
    }
    for name, (Xf, yf) in forms.items():
        fit = occam.fit(Xf, yf)
        assert _core(fit) == _core(reference), name
    # A frame names its features, a series its target; arrays get x1… and y.
    assert reference.dataset.features == list(X.columns)
    assert reference.dataset.target == "progression"
    bare = occam.fit(a, y.to_numpy())
    assert bare.dataset.features == [f"x{j + 1}" for j in range(10)]
    assert bare.dataset.target == "y" and bare.dataset.source == "python"


def test_float32_is_converted_once(diabetes):
    X, y = diabetes
    x32 = X.to_numpy().astype(np.float32)
    fit32 = occam.fit(x32, y)
    fit64 = occam.fit(x32.astype(np.float64), y)
    assert _core(fit32) == _core(fit64)
    frame = pd.DataFrame(x32, columns=X.columns)
    assert _core(occam.fit(frame, y)) == _core(fit64)


def test_text_labels_are_coded_as_the_cli_codes_them(occam_cli, tmp_path):
    X, y = occam.load("breast_cancer")
    labels = np.where(y.to_numpy() == 1, "benign", "malignant")
    path = tmp_path / "bc.csv"
    fit = occam.fit(
        X, pd.Series(labels, name="diagnosis"), model="logistic", codes="none", source=str(path)
    )
    frame = X.copy()
    frame["diagnosis"] = labels
    frame.to_csv(path, index=False, float_format="%.17g")
    cli = occam_cli("fit", "--data", str(path), "--model", "logistic", "--codes", "none")
    assert fit.to_dict() == cli
    assert fit.model.classes == ["benign", "malignant"]
    from_list = occam.fit(X, labels.tolist(), model="logistic", codes="none").to_dict()
    for key in ["map", "evidence", "code_length_bits", "model"]:
        assert from_list[key] == fit.to_dict()[key], key


def test_bad_input_raises_occam_error_naming_the_keyword(diabetes):
    X, y = diabetes
    assert issubclass(occam.OccamError, ValueError)
    cases = [
        (dict(prior_sd=-1), r"^prior_sd: "),
        (dict(noise_sd="often"), r"^noise_sd: "),
        (dict(model="forest"), r"^model: 'forest' is not one of 'linear', 'logistic', 'mlp'"),
        (dict(intercept="free"), r"^intercept: .*intercept=\"centered\""),
        (dict(codes="gzip"), r"^codes: "),
        (dict(first_block=0), r"^first_block: "),
        (dict(model="mlp", restarts=0), r"^restarts: "),
        (dict(model="mlp", task="ranking"), r"^task: 'ranking'"),
        (dict(model="mlp", activation="gelu"), r"^activation: 'gelu'"),
        (dict(prior_center="vec:1,2"), r"vec:1,2"),
    ]
    for kwargs, pattern in cases:
        with pytest.raises(occam.OccamError, match=pattern):
            occam.fit(X, y, **kwargs)
    with pytest.raises(occam.OccamError, match=r"^rank_by: 'size'"):
        occam.compare(X, y, rank_by="size")
    with pytest.raises(occam.OccamError, match=r"^sds: "):
        occam.compare(X, y, sds="logspace:1")
    with pytest.raises(occam.OccamError, match=r"knob"):
        occam.convert("lasso", 1.0)
    with pytest.raises(occam.OccamError, match=r"^teacher: 'tree'"):
        occam.simulate("tree")
    with pytest.raises(occam.OccamError, match="unknown data set|not a file|diabetes"):
        occam.load("no-such-data-set")


def test_bad_data_raises_occam_error_naming_row_and_column(diabetes):
    X, y = diabetes
    broken = X.copy()
    broken.iloc[7, 2] = np.nan
    with pytest.raises(occam.OccamError, match=r"^X: row 7, column 'bmi': the value NaN is not finite"):
        occam.fit(broken, y)
    yb = y.copy()
    yb.iloc[3] = np.inf
    with pytest.raises(occam.OccamError, match=r"^y: row 3: the value inf is not finite"):
        occam.fit(X, yb)
    with pytest.raises(occam.OccamError, match=r"X has 442 rows .* y has 441"):
        occam.fit(X, y.iloc[:-1])
    with pytest.raises(occam.OccamError, match=r"2-d"):
        occam.fit(X.to_numpy()[:, 0], y)
    constant = X.copy()
    constant["sex"] = 1.0
    with pytest.raises(occam.OccamError, match=r"sex"):
        occam.fit(constant, y)
    text = X.copy().astype(object)
    text["age"] = "old"
    with pytest.raises(occam.OccamError, match=r"column 'age' is not numeric"):
        occam.fit(text, y)
    with pytest.raises(occam.OccamError, match=r"noise_sd"):
        occam.fit(*occam.load("breast_cancer"), model="logistic", noise_sd=1.0)


def test_a_failed_computation_raises_fit_error():
    assert issubclass(occam.FitError, RuntimeError)
    # More features than rows of pure noise: σ → 0, which the evidence cannot take.
    rng = np.random.default_rng(11)
    X = rng.standard_normal((30, 60))
    y = rng.standard_normal(30)
    with pytest.raises(occam.FitError, match=r"interpolates.*noise_sd"):
        occam.fit(X, y, codes="none")
    # The fix the message gives works.
    assert occam.fit(X, y, codes="none", noise_sd=0.2).model.noise_sd == 0.2


def test_four_threads_at_once_give_the_same_answers():
    X, y, _ = occam.simulate("linear", n=20000, k=30, seed=3)
    Xa, ya = X.to_numpy(), y.to_numpy()
    expected = occam.fit(Xa, ya).to_dict()
    barrier = threading.Barrier(4)

    def one(_):
        barrier.wait()
        return occam.fit(Xa, ya).to_dict()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(4)))
    assert all(r == expected for r in results)


def test_the_gil_is_released_while_occam_computes():
    # A Python thread counts while a fit runs on this one: had the fit held the GIL, the count
    # could not move between the fit's start and its end.
    X, y, _ = occam.simulate("linear", n=200000, k=60, seed=5)
    Xa, ya = X.to_numpy(), y.to_numpy()
    done = threading.Event()
    count = [0]

    def counter():
        while not done.is_set():
            count[0] += 1

    thread = threading.Thread(target=counter)
    thread.start()
    try:
        while count[0] == 0:
            pass
        start = count[0]
        occam.fit(Xa, ya, codes="none")
        during = count[0] - start
    finally:
        done.set()
        thread.join()
    assert during > 1000, during


def test_load_and_simulate_give_frames():
    X, y = occam.load("iris")
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == (150, 4) and X.attrs[occam.SOURCE_ATTR] == "builtin:iris"
    X, y, truth = occam.simulate("logistic", n=40, k=2, seed=2)
    assert set(np.unique(y)) <= {0.0, 1.0} and truth["teacher"] == "logistic"
