"""ARD: occam against scikit-learn's ARDRegression on the same 200 000 × 100 data, in one run.

Run via `bash bench/run.sh --only ard` (throwaway venv, release build); prints a Markdown report
to stdout and exits non-zero if the two answers disagree.

Data: `occam simulate linear --n 200000 --k 100 --seed 7` (x ~ N(0, I), w ~ N(0, 1), σ = 1).
Both sides fit one prior precision per z-scored feature (population sd) with the target centred,
flat hyperpriors and nothing pruned by a threshold — the settings of scripts/golden_sklearn_ard.py:
`ARDRegression(alpha_1 = alpha_2 = lambda_1 = lambda_2 = 1e-12, threshold_lambda = max double,
tol = 1e-7, max_iter = 100 000)` (sklearn stops when Σ|Δcoef| < tol) against `occam fit --prior
ard` (MacKay's fixed point until every ln α_g and ln β moves by < 1e-12 in a step, then checked
stationary). The two stopping rules are not the same quantity, so each side's iterations are
reported, and the answers are compared: max relative difference of the weights and of the α's
that neither side prunes (and β).

Rows: in memory, `StandardScaler().fit_transform` + `ARDRegression.fit` on the arrays against
`examples/time_ard` (`fit_grouped_linear` on the parsed data, parsing untimed, `--codes none`:
standardisation, XᵀX, empirical Bayes, the posterior, the evidence and the L-BFGS cross-check —
sklearn computes no evidence); CSV parse alone; end to end, `pandas.read_csv` + scaling + fit
against the whole `occam fit --data file.csv --prior ard --codes none --format json` process
(and with the default codes, reported beside it).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import ARDRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target"))
OCCAM = TARGET / "release/occam"
EXAMPLE = TARGET / "release/examples/time_ard"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SIMULATE = ["simulate", "linear", "--n", "200000", "--k", "100", "--seed", "7"]
# scripts/golden_sklearn_ard.py's settings.
MAX_ITER = 100_000
TOL = 1e-7
TINY = 1e-12
AGREEMENT = 1e-6  # max relative difference, weights and unpruned α's (and β)
GOAL_MEMORY = 20.0
GOAL_END_TO_END = 3.0


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def best_of(f):
    times = []
    value = None
    for _ in range(REPEATS):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return min(times), value


def ard():
    return ARDRegression(max_iter=MAX_ITER, tol=TOL, alpha_1=TINY, alpha_2=TINY, lambda_1=TINY,
                         lambda_2=TINY, threshold_lambda=sys.float_info.max, compute_score=False,
                         fit_intercept=True)


def fit_in_memory(X, y):
    return ard().fit(StandardScaler().fit_transform(X), y)


def fit_from_csv(path):
    df = pd.read_csv(path)
    X, y = df.iloc[:, :-1].to_numpy(), df.iloc[:, -1].to_numpy()
    return fit_in_memory(X, y)


def occam_cli(path, *extra):
    out = subprocess.run([OCCAM, "fit", "--data", path, "--prior", "ard", *extra, "--format", "json"],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def max_rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main():
    print("## ARD: occam vs scikit-learn's ARDRegression, 200 000 × 100\n")
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                     f"{i.get('num_threads')} threads)" for i in threadpool_info())
    print(f"- scikit-learn {sklearn.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
          f"BLAS: {blas}")
    print(f"- best of {REPEATS}; 1-min load average at start {loadavg()}")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ard200k.csv")
        subprocess.run([OCCAM, *SIMULATE, "--out", path], check=True, capture_output=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ConvergenceWarning is a failure
            df = pd.read_csv(path)
            X, y = df.iloc[:, :-1].to_numpy(), df.iloc[:, -1].to_numpy()
            sk_mem, model = best_of(lambda: fit_in_memory(X, y))
            mem = json.loads(subprocess.run([EXAMPLE, path, str(REPEATS)], check=True,
                                            capture_output=True, text=True).stdout)
            sk_read, _ = best_of(lambda: pd.read_csv(path))
            sk_e2e, _ = best_of(lambda: fit_from_csv(path))
            cli, report = best_of(lambda: occam_cli(path, "--codes", "none"))
            cli_default, report_default = best_of(lambda: occam_cli(path))
    if model.n_iter_ >= MAX_ITER:
        failures.append(f"ARDRegression did not converge in {MAX_ITER} iterations")
    fit = mem["fit"]
    # map.weights are in the design's (z-scored) units, as sklearn's coef_ on the scaled arrays.
    w_rel = max_rel(report["map"]["weights"], model.coef_)
    w_rel_ex = max_rel(fit["weights"], model.coef_)
    alphas = np.asarray(fit["alphas"], dtype=float)
    kept = np.isfinite(alphas)
    coef = np.asarray(model.coef_, dtype=float)
    # Weights: max |Δw| / max |w| over all (occam's pruned weights are exactly 0), and the largest
    # per-weight relative difference over the weights occam keeps.
    w_all = float(np.max(np.abs(np.asarray(report["map"]["weights"]) - coef)) / np.max(np.abs(coef)))
    w_rel = max_rel(np.asarray(report["map"]["weights"])[kept], coef[kept])
    w_rel_ex = max_rel(np.asarray(fit["weights"])[kept], coef[kept])
    a_rel = max_rel(alphas[kept], model.lambda_[kept])
    b_rel = max_rel([fit["noise_precision"]], [model.alpha_])
    # A feature occam prunes (α = ∞) must be one whose λ runs away in sklearn too: its weight
    # there is below 1e-5 of the largest.
    pruned_sk = [f"x{j + 1}: λ = {model.lambda_[j]:.3g}, coef = {coef[j]:.2g}" for j in np.flatnonzero(~kept)]
    for j in np.flatnonzero(~kept):
        if abs(coef[j]) > 1e-5 * np.max(np.abs(coef)):
            failures.append(f"occam prunes x{j + 1}, sklearn keeps coef {coef[j]:e}")
    for name, rel in [("weights, all (max |Δw| / max |w|)", w_all), ("weights kept (occam fit)", w_rel),
                      ("weights kept (time_ard)", w_rel_ex), ("unpruned α's", a_rel), ("β", b_rel)]:
        if not rel < AGREEMENT:
            failures.append(f"{name}: {rel:.1e}")
    ex_vs_cli = float(np.max(np.abs(np.asarray(fit["log_evidence"]) - report["evidence"]["log_nats"])))
    if ex_vs_cli != 0.0:
        failures.append(f"time_ard's evidence differs from occam fit's by {ex_vs_cli:e}")
    print(f"- 1-min load average at end {loadavg()}\n")
    print("| what | scikit-learn (s) | occam (s) | ratio | goal | met |\n|---|---:|---:|---:|---|---|")
    rows = [
        ("in memory: `StandardScaler` + `ARDRegression.fit` vs `fit_grouped_linear` (`--codes none`: "
         "MAP, α's, β, evidence, L-BFGS check)", sk_mem, mem["seconds"], GOAL_MEMORY),
        ("in memory, occam with its default codes (prequential, two_part, BIC)", sk_mem,
         mem["seconds_default_codes"], None),
        ("CSV parse: `pandas.read_csv` vs `parse_csv`", sk_read, mem["phases"]["parse_csv"], None),
        ("end to end: `read_csv` + scale + `ARDRegression` vs `occam fit --prior ard --codes none`",
         sk_e2e, cli, GOAL_END_TO_END),
        ("end to end, `occam fit --prior ard` (default codes)", sk_e2e, cli_default, None),
    ]
    for what, theirs, ours, goal in rows:
        ratio = theirs / ours
        met = "" if goal is None else ("yes" if ratio >= goal else "**NO**")
        print(f"| {what} | {theirs:.4f} | {ours:.4f} | {ratio:.1f}× | "
              f"{'' if goal is None else f'≥ {goal:g}×'} | {met} |")
    phases = mem["phases"]
    print(f"\nIterations: scikit-learn {model.n_iter_} (Σ|Δcoef| < {TOL:g}), occam {fit['iterations']} "
          f"(every Δln α, Δln β < 1e-12); occam prunes {fit['pruned']} "
          f"({'; '.join(pruned_sk) or 'none'} in scikit-learn's answer).")
    print("\nWhere occam's time goes (ms, best of each step run alone): "
          + ", ".join(f"{name} {v * 1e3:.1f}" for name, v in phases.items()) + ".")
    print(f"\nAgreement: weights max |Δw| / max |w| {w_all:.1e}; per weight over the unpruned "
          f"{w_rel:.1e} (occam fit) / {w_rel_ex:.1e} (time_ard), unpruned α's {a_rel:.1e}, β {b_rel:.1e}; occam log evidence "
          f"{report['evidence']['log_nats']:.6f}; default codes' log evidence "
          f"{report_default['evidence']['log_nats']:.6f}.")
    if failures:
        sys.exit("compare_ard.py: " + "; ".join(failures))


if __name__ == "__main__":
    main()
