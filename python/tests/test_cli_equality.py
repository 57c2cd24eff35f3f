"""The package's documents equal the command line's, on every built-in data set and model."""

import re
import subprocess

import numpy as np
import pandas as pd
import pytest

import occam

BUILTINS = ["diabetes", "breast_cancer", "iris"]
MODELS = ["linear", "logistic", "mlp"]


def _cli_error(args, binary_run):
    """The CLI's exit code and error line for `args` (which fail)."""
    try:
        binary_run(*args)
    except subprocess.CalledProcessError as e:
        return e.returncode, e.stderr.strip()
    return 0, ""


def _model_args(model):
    # The network's prequential and BIC codes refit it many times: the mixture code suffices to
    # compare the two front ends (the linear and logistic models run every code).
    return ["--codes", "none"] if model == "mlp" else []


def _model_kwargs(model):
    return {"codes": "none"} if model == "mlp" else {}


def _python_spelling(cli_message):
    """The CLI's error text with its flags spelled as this package's keywords (`--prior-sd` →
    `prior_sd`; a setting given a value, `--model linear`, reads `model linear` here too: see
    `_same_words`)."""
    text = cli_message.removeprefix("occam: error: ")
    return re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), text)


def _same_words(python_message):
    """The package's message with each assignment `model="linear"` written `model linear`, as
    `_python_spelling` leaves the CLI's `--model linear`."""
    return re.sub(r'\b([a-z_]+)="([^"]*)"', r"\1 \2", python_message)


def _refusal(code):
    """The exception the package raises where the CLI exits with `code`."""
    return {1: occam.FitError, 2: occam.OccamError}[code]


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("model", MODELS)
def test_fit_document_equals_the_cli(occam_cli, name, model):
    args = ["fit", "--data", name, "--model", model, *_model_args(model)]
    code, stderr = _cli_error(args, occam_cli)
    X, y = occam.load(name)
    if code == 0:
        fit = occam.fit(X, y, model=model, **_model_kwargs(model))
        assert fit.to_dict() == occam_cli(*args)
        assert fit.dataset.source == f"builtin:{name}"
    else:
        # The model does not fit this target, or its fit fails: the same refusal, same words.
        with pytest.raises(_refusal(code)) as raised:
            occam.fit(X, y, model=model, **_model_kwargs(model))
        assert _same_words(str(raised.value)) == _python_spelling(stderr)


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("model", MODELS)
def test_compare_document_equals_the_cli(occam_cli, name, model):
    sds = "0.5,2" if model == "mlp" else "0.5,logspace:-1:1:3,auto"
    args = ["compare", "--data", name, "--model", model, "--sds", sds, *_model_args(model)]
    code, stderr = _cli_error(args, occam_cli)
    X, y = occam.load(name)
    if code == 0:
        table = occam.compare(X, y, model=model, sds=sds, **_model_kwargs(model))
        document = occam_cli(*args)
        assert table.attrs["occam"] == document
        assert len(table) == len(document["rows"])
        assert list(table["rank"]) == [row["rank"] for row in document["rows"]]
        assert list(table["prior.sd"]) == [row["prior"]["sd"] for row in document["rows"]]
    else:
        with pytest.raises(_refusal(code)) as raised:
            occam.compare(X, y, model=model, sds=sds, **_model_kwargs(model))
        assert _same_words(str(raised.value)) == _python_spelling(stderr)


def test_fit_options_reach_the_library(occam_cli):
    X, y = occam.load("diabetes")
    fit = occam.fit(
        X, y, prior_sd=3.5, noise_sd=50, prior_center="const:1", codes=["prequential", "bic"],
        shuffle=7, first_block=8, standardize=False,
    )
    cli = occam_cli(
        "fit", "--data", "diabetes", "--prior-sd", "3.5", "--noise-sd", "50",
        "--prior-center", "const:1", "--codes", "prequential,bic", "--shuffle", "7",
        "--first-block", "8", "--no-standardize",
    )
    assert fit.to_dict() == cli
    assert fit.code_length_bits.two_part is None


def test_compare_with_centres_and_rank_by(occam_cli):
    X, y = occam.load("diabetes")
    table = occam.compare(X, y, centers=["zero", "const:0.5"], sds=[1, 10, "auto"], rank_by="bic")
    cli = occam_cli(
        "compare", "--data", "diabetes", "--centers", "zero;const:0.5", "--sds", "1.0,10.0,auto",
        "--rank-by", "bic",
    )
    assert table.attrs["occam"] == cli
    assert len(table) == 6


def test_convert_and_datasets_equal_the_cli(occam_cli):
    assert occam.convert("sklearn-ridge", 2.5, noise_sd=1.5) == occam_cli(
        "convert", "--from", "sklearn-ridge", "--value", "2.5", "--noise-sd", "1.5"
    )
    assert occam.convert("glmnet", 0.1, n=100, noise_sd=1.0) == occam_cli(
        "convert", "--from", "glmnet", "--value", "0.1", "--n", "100", "--noise-sd", "1.0"
    )
    table = occam.datasets()
    assert table.to_dict("records") == occam_cli("datasets")["datasets"]


@pytest.mark.parametrize(
    "teacher, extra",
    [
        ("linear", {}),
        ("logistic", {}),
        ("mlp", {}),
        ("logistic", {"classes": 3}),
        ("mlp", {"classes": 4, "task": "classification"}),
    ],
)
def test_simulate_equals_the_cli(occam_cli, occam_binary, teacher, extra, tmp_path):
    import json

    out = tmp_path / "sim.csv"
    X, y, truth = occam.simulate(teacher, n=50, k=3, seed=4, **extra)
    flags = [f"--{key}={value}" for key, value in extra.items()]
    subprocess.run(
        [str(occam_binary), "simulate", teacher, "--n", "50", "--k", "3", "--seed", "4", *flags,
         "--out", str(out)],
        check=True, capture_output=True,
    )
    if "classes" in extra:
        assert set(y) <= set(range(extra["classes"])) and len(set(y)) >= 3
    header = out.read_text().splitlines()[0].split(",")
    written = np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2)  # exact: Python's float()
    assert list(X.columns) == header[:-1] and y.name == header[-1]
    assert (X.to_numpy() == written[:, :-1]).all()
    assert (y.to_numpy() == written[:, -1]).all()
    assert truth == json.loads((tmp_path / "sim.truth.json").read_text())
    # And a fit on the simulated frame is the CLI's fit on the written file, but for the source.
    if teacher == "linear":
        fit = occam.fit(X, y, source=str(out)).to_dict()
        assert fit == occam_cli("fit", "--data", str(out))


def test_iris_logistic_is_the_three_class_fit(occam_cli):
    """Since softmax landed, `model="logistic"` on iris fits K = 3 classes: the document carries
    `model.classes` and a K × k weight matrix, and equals the CLI's with every code."""
    args = ["fit", "--data", "iris", "--model", "logistic"]
    X, y = occam.load("iris")
    fit = occam.fit(X, y, model="logistic")
    cli = occam_cli(*args)
    assert fit.to_dict() == cli
    classes = cli["model"]["classes"]
    assert len(classes) == 3 and list(fit.model.classes) == classes
    assert fit.map.weights.shape == (3, X.shape[1])
    assert fit.map.weights.tolist() == cli["map"]["weights"]


def test_text_labelled_three_class_target_equals_the_cli(occam_cli, tmp_path):
    """A 3-class target given as strings (Series and list): coded as the CLI codes a CSV's label
    column (sorted text), fitted as the multinomial model, same document."""
    X, y = occam.load("iris")
    names = np.array(["setosa", "versicolor", "virginica"])
    labels = names[y.to_numpy().astype(np.int64)]
    path = tmp_path / "iris_text.csv"
    fit = occam.fit(X, pd.Series(labels, name="species"), model="logistic", source=str(path))
    frame = X.copy()
    frame["species"] = labels
    frame.to_csv(path, index=False, float_format="%.17g")
    cli = occam_cli("fit", "--data", str(path), "--model", "logistic")
    assert fit.to_dict() == cli
    assert list(fit.model.classes) == ["setosa", "versicolor", "virginica"]
    assert fit.map.weights.shape == (3, X.shape[1])
    from_list = occam.fit(X, labels.tolist(), model="logistic").to_dict()
    for key in ["map", "evidence", "code_length_bits", "model"]:
        assert from_list[key] == cli[key], key
