"""Sufficient statistics: merging, pickling, fitting, and the Dask map/reduce."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest

import occam

KEYS = [("evidence", "log_nats"), ("code_length_bits", "mixture"), ("code_length_bits", "two_part"),
        ("code_length_bits", "bic"), ("prior", "sd"), ("model", "noise_sd"),
        ("evidence", "effective_parameters")]


def _close(a, b, tol=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.all(np.abs(a - b) <= tol * np.maximum(np.abs(a), np.abs(b)).max())


def _assert_same_fit(merged, whole):
    m, w = merged.to_dict(), whole.to_dict()
    for section, key in KEYS:
        assert _close(m[section][key], w[section][key]), (section, key, m[section][key], w[section][key])
    for key in ["weights", "weights_original", "posterior_sd"]:
        assert _close(m["map"][key], w["map"][key]), key
    assert _close(m["map"]["intercept_original"], w["map"]["intercept_original"])
    assert m["code_length_bits"]["prequential"] is None
    assert w["code_length_bits"]["prequential"] is not None
    assert any("merged statistics hold no rows" in note for note in m["notes"])
    assert m["dataset"]["n"] == w["dataset"]["n"] and m["dataset"]["features"] == w["dataset"]["features"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_merged_shards_fit_as_the_concatenated_rows(seed):
    X, y, _ = occam.simulate("linear", n=3000, k=6, seed=seed, weight_center=0.5)
    cuts = [0, 17, 1200, 1201, 3000]
    shards = [occam.SufficientStats.from_arrays(X[a:b], y[a:b]) for a, b in zip(cuts, cuts[1:])]
    merged = shards[0]
    for s in shards[1:]:
        merged = merged + s
    assert merged.n == 3000 and merged.features == list(X.columns) and merged.target == "y"
    for prior_sd in ["auto", 0.5]:
        _assert_same_fit(occam.fit_stats(merged, prior_sd=prior_sd), occam.fit(X, y, prior_sd=prior_sd))
    # Merging in another order gives the same fit.
    other = shards[3].merge(shards[1]).merge(shards[0] + shards[2])
    _assert_same_fit(occam.fit_stats(other), occam.fit(X, y))


def test_stats_pickle_and_json_round_trip_exactly():
    X, y = occam.load("diabetes")
    stats = occam.SufficientStats.from_arrays(X, y)
    again = pickle.loads(pickle.dumps(stats))
    assert again == stats and again.to_json() == stats.to_json()
    assert occam.SufficientStats.from_json(stats.to_json()) == stats
    assert '"format": "occam-sufficient-stats"' in stats.to_json()
    assert '"schema": 1' in stats.to_json()


def test_stats_errors():
    X, y = occam.load("diabetes")
    a = occam.SufficientStats.from_arrays(X, y)
    b = occam.SufficientStats.from_arrays(X.iloc[:, :5], y)
    with pytest.raises(occam.OccamError, match="different columns"):
        a + b
    with pytest.raises(occam.OccamError, match="not an occam statistics file"):
        occam.SufficientStats.from_json("{}", "shard.json")
    with pytest.raises(occam.OccamError, match="^model: merged statistics fit the linear model only"):
        occam._occam.fit_stats_json(a, "s", "auto", "zero", {**_options(), "model": "logistic"})
    with pytest.raises(occam.OccamError, match="fit: centre"):
        occam.fit_stats(a, prior_center="fit:other.csv")
    with pytest.raises(occam.OccamError, match="prior_sd"):
        occam.fit_stats(a, prior_sd=-1)
    labels = np.where(y > y.median(), "high", "low")
    with pytest.raises(occam.OccamError, match="text labels"):
        occam.SufficientStats.from_arrays(X, labels)


def _options():
    return dict(model="linear", noise_sd="auto", intercept=None, standardize=True, shuffle=None,
                codes="all", hidden=[8], activation="tanh", task=None, restarts=1, seed=0,
                hessian="ggn", first_block=16, charge_reals=0)


def test_dask_map_reduce_equals_the_concatenated_fit(tmp_path):
    try:
        import dask
        import dask.dataframe as dd
        import distributed
    except ImportError as e:
        message = f"dask is not installed ({e}): pip install 'dask[distributed]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    X, y, _ = occam.simulate("linear", n=20000, k=8, seed=9)
    frame = X.assign(y=y)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    whole = occam.fit(*occam.load(str(path)), source="whole")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        rows = dd.read_csv(str(path), blocksize=200_000, dtype="float64")
        assert rows.npartitions > 1
        parts = rows.to_delayed()

        @dask.delayed
        def stats_of(part):
            return occam.SufficientStats.from_arrays(part.drop(columns="y"), part["y"])

        @dask.delayed
        def merge(a, b):
            return a + b

        partial = [stats_of(p) for p in parts]
        while len(partial) > 1:  # a tree reduction, as Dask's own
            partial = [merge(*partial[i:i + 2]) if i + 1 < len(partial) else partial[i]
                       for i in range(0, len(partial), 2)]
        merged = partial[0].compute()
    assert merged.n == 20000
    _assert_same_fit(occam.fit_stats(merged), whole)
