"""occam vs scikit-learn on the same data, in one run.

Run via `bash bench/run.sh` (throwaway venv, release build); `bash bench/run.sh --only logistic`
runs the third comparison alone, `--only softmax` the fourth. Prints a Markdown report to stdout;
exits non-zero if the two disagree (log evidence, Ridge weights, logistic and softmax MAPs).

Four comparisons:

1. Linear, evidence maximised: BayesianRidge with flat hyperpriors (alpha_1 = alpha_2 = lambda_1 =
   lambda_2 = 0) against `occam fit` (standardised features, centred target, MacKay's fixed point).
2. Prior sweep: `occam compare --sds logspace:-3:3:1000 --noise-sd σ` against one Ridge refit per
   prior sd s (Ridge(alpha=a) is the MAP under s² = σ²/a, math.md), after one read_csv + scaling.
3. Logistic: `occam fit --model logistic --prior-sd 1 --intercept free --codes none` (MAP and
   Laplace evidence) against LogisticRegression(C=1) with lbfgs (MAP only; C = s²).
4. Multinomial (K = 10 classes): `occam fit --model logistic --prior-sd 1 --codes none` (MAP and
   Laplace evidence; the shared intercept has the weights' prior) against LogisticRegression(C=1)
   with lbfgs on the standardised features plus a ones column, fit_intercept=False (so sklearn's
   penalty covers the intercept too and the two MAPs are the same point).
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import BayesianRidge, LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parent.parent
# run.sh passes the cargo target directory it built into (CARGO_TARGET_DIR or ./target).
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target"))
OCCAM = TARGET / "release/occam"
EXAMPLE = TARGET / "release/examples/time_linear"
EXAMPLE_LOGISTIC = TARGET / "release/examples/time_logistic"
EXAMPLE_SOFTMAX = TARGET / "release/examples/time_softmax"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))  # best of this many timings
# `--only logistic` / `--only softmax`: that comparison alone (≈ 1 minute each instead of ≈ 8).
ONLY = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--only" else None
if sys.argv[1:] and ONLY not in ("logistic", "softmax"):
    sys.exit("usage: compare_sklearn.py [--only logistic | --only softmax]")
SIZES = [(200_000, 100, 1), (100_000, 50, 2)]  # (n, k, seed); the last is the sweep's data
AGREEMENT = 1e-6  # relative difference allowed between the two log evidences
# Prior sweep: occam's grid, its numpy twin, and the budget for timing every Ridge refit.
SWEEP = "logspace:-3:3:1000"
SWEEP_SDS = np.logspace(-3, 3, 1000)
SWEEP_BUDGET = 120.0  # seconds; above this, 100 evenly spaced refits are timed and scaled ×10
SWEEP_CHECK = [0, 500, 999]  # indices of the s values whose MAP weights are compared
RIDGE_AGREEMENT = 1e-6  # max |Δw| / max |w|, occam's MAP vs Ridge.coef_
# Logistic: occam's teacher, and sklearn's MAP against occam's.
LOGISTIC_SIMULATE = ["simulate", "logistic", "--n", "100000", "--k", "50", "--seed", "3",
                     "--weight-scale", "0.3"]
LOGISTIC_FIT = ["--model", "logistic", "--prior-sd", "1", "--intercept", "free", "--codes", "none"]
LOGISTIC_AGREEMENT = 1e-4  # max |Δθ| / max |θ| over weights and intercept (tight sklearn fit)
# Multinomial: 10 classes from occam's teacher; occam's default (shared) intercept has prior sd s.
SOFTMAX_SIMULATE = ["simulate", "logistic", "--classes", "10", "--n", "100000", "--k", "50",
                    "--seed", "3", "--weight-scale", "0.3"]
SOFTMAX_FIT = ["--model", "logistic", "--prior-sd", "1", "--codes", "none"]
# The examples' phases in pipeline order (their JSON objects come back with sorted keys).
PHASE_ORDER = {
    "fit_linear": ["standardize", "sufficient_stats", "eigen", "prequential_plan", "empirical_bayes",
                   "posterior", "parse_csv"],
    "fit_logistic": ["study_new", "evaluate", "parse_csv"],
}


def best_of(f):
    """(fastest wall-clock seconds of REPEATS calls, value of the last call)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return min(times), value


def make_data(n, k, seed):
    """Features with unequal means and scales; y = Xw + noise."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(k)
    X = np.arange(k) * 0.1 + (1 + np.arange(k) / k) * rng.standard_normal((n, k))
    return X, X @ w + 3 * rng.standard_normal(n)


def write_csv(path, X, y):
    header = ",".join([f"x{j}" for j in range(X.shape[1])] + ["y"])
    # %.17g round-trips, so the CSV holds exactly the in-memory values.
    np.savetxt(path, np.column_stack([X, y]), fmt="%.17g", delimiter=",", header=header, comments="")


def bayesian_ridge(**kw):
    return BayesianRidge(alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0, compute_score=True, **kw)


def sklearn_in_memory(X, y):
    return bayesian_ridge().fit(StandardScaler().fit_transform(X), y)


def sklearn_from_csv(path):
    df = pd.read_csv(path)
    X, y = df.iloc[:, :-1].to_numpy(), df.iloc[:, -1].to_numpy()
    return bayesian_ridge().fit(StandardScaler().fit_transform(X), y)


def occam_example(mode, path):
    out = subprocess.run([EXAMPLE, mode, path, str(REPEATS)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def occam_cli(path, *extra):
    out = subprocess.run([OCCAM, "fit", "--data", path, *extra, "--format", "json"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def occam_compare(path, sigma, stdout=subprocess.DEVNULL):
    """The whole `occam compare` process over the sweep at a fixed σ (every prior a fixed-σ Ridge)."""
    return subprocess.run([OCCAM, "compare", "--data", path, "--centers", "zero", "--sds", SWEEP,
                           "--noise-sd", repr(sigma), "--format", "csv"],
                          check=True, stdout=stdout, text=True).stdout


def read_scaled(path):
    df = pd.read_csv(path)
    X, y = df.iloc[:, :-1].to_numpy(), df.iloc[:, -1].to_numpy()
    return StandardScaler().fit_transform(X), y


def ridge_sweep(path, sigma, indices):
    """read_csv + scaling once, then one Ridge fit per s in SWEEP_SDS[indices].

    Returns (seconds reading + scaling, seconds fitting, {index: coef_} for SWEEP_CHECK)."""
    start = time.perf_counter()
    Z, y = read_scaled(path)
    read = time.perf_counter() - start
    coefs = {}
    start = time.perf_counter()
    for i in indices:
        coef = Ridge(alpha=sigma**2 / SWEEP_SDS[i] ** 2).fit(Z, y).coef_
        if i in SWEEP_CHECK:
            coefs[i] = coef
    return read, time.perf_counter() - start, coefs


def logistic(**kw):
    # sklearn 1.8 deprecated `penalty`; l1_ratio=0 is the L2 penalty (no FutureWarning). C = s² = 1.
    return LogisticRegression(C=1.0, l1_ratio=0.0, fit_intercept=True, **kw)


def logistic_timed():
    return logistic(solver="lbfgs", max_iter=10_000)  # default tol=1e-4


def logistic_from_csv(path):
    Z, y = read_scaled(path)
    return logistic_timed().fit(Z, y)


def read_scaled_ones(path):
    """read_csv, StandardScaler, and a ones column last (the intercept, penalised like a weight)."""
    Z, y = read_scaled(path)
    return np.column_stack([Z, np.ones(len(Z))]), y


def softmax(**kw):
    # Multinomial for K ≥ 3 with lbfgs; the intercept is the ones column, so C = s² = 1 covers it.
    return LogisticRegression(C=1.0, l1_ratio=0.0, fit_intercept=False, **kw)


def softmax_timed():
    return softmax(solver="lbfgs", max_iter=10_000)  # default tol=1e-4


def softmax_from_csv(path):
    Z, y = read_scaled_ones(path)
    return softmax_timed().fit(Z, y)


def max_rel(theirs, ours):
    theirs, ours = np.asarray(theirs, dtype=float), np.asarray(ours, dtype=float)
    return float(np.max(np.abs(theirs - ours)) / np.max(np.abs(ours)))


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def main():
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# occam vs scikit-learn (BayesianRidge, Ridge, LogisticRegression) — {datetime.date.today()}\n")
    print(f"- machine: {cpu}, nproc {os.cpu_count()}; Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}")
    print(f"- numpy BLAS (threadpoolctl): {'; '.join(blas) or 'none found'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"- seconds are the best of {REPEATS}; ratio = sklearn / occam; 1-min load average at start {loadavg()}")

    # rows: (data, what, sklearn seconds, occam seconds, goal text, ratio needed or None)
    rows, checks, phases, failures = [], [], [], []
    sweep_note = f"not run (--only {ONLY})"
    logistic_note = f"not run (--only {ONLY})"
    softmax_note = "not run (--only logistic)"
    with tempfile.TemporaryDirectory() as tmp:
        if ONLY is None:
            # --- 1. linear, evidence maximised: BayesianRidge vs occam fit ------------------------
            for n, k, seed in SIZES:
                size = f"{n // 1000}k×{k}"
                X, y = make_data(n, k, seed)
                path = os.path.join(tmp, f"data_{n}x{k}.csv")
                write_csv(path, X, y)

                # In memory: sklearn on the arrays, occam on the parsed CSV (parsing untimed).
                xtx, _ = best_of(lambda: X.T @ X)
                sk, br = best_of(lambda: sklearn_in_memory(X, y))
                mem = occam_example("memory", path)
                rows.append((size, "linear in memory: numpy XᵀX alone vs occam `fit_linear`", xtx,
                             mem["seconds"], "occam ≤ 3× XᵀX (ratio ≥ 0.33×)", 1 / 3))
                rows.append((size, "linear in memory: `BayesianRidge.fit` vs `fit_linear`", sk,
                             mem["seconds"], "≥ 20×", 20))

                # End to end from the CSV file: pandas + sklearn in this process vs the occam binary.
                read, _ = best_of(lambda: pd.read_csv(path))
                e2e, _ = best_of(lambda: sklearn_from_csv(path))
                cli, report = best_of(lambda: occam_cli(path))
                csv = occam_example("csv", path)
                rows.append((size, "CSV parse: `pandas.read_csv` vs occam `parse_csv`", read,
                             csv["phases"]["parse_csv"], "", None))
                rows.append((size, "linear end to end: read_csv + scale + `BayesianRidge` vs `occam fit`",
                             e2e, cli, "≥ 3×", 3))

                # Agreement: default tol=1e-3 (the timed fit) and a converged fit (tol=1e-10, untimed).
                tight = bayesian_ridge(tol=1e-10, max_iter=100_000).fit(StandardScaler().fit_transform(X), y)
                ours = report["evidence"]["log_nats"]
                for label, theirs in [("tol=1e-3", br.scores_[-1]), ("tol=1e-10", tight.scores_[-1])]:
                    rel = abs(theirs - ours) / abs(ours)
                    checks.append(f"| {size} | log evidence: `BayesianRidge` {label} `scores_[-1]` vs "
                                  f"`evidence.log_nats` | {theirs:.10f} | {ours:.10f} | {rel:.1e} |")
                rel = abs(tight.scores_[-1] - ours) / abs(ours)
                if rel >= AGREEMENT:
                    failures.append(f"{size}: log evidences differ by {rel:.1e} (tol=1e-10 fit)")
                phases.append((size, "fit_linear", mem["seconds"], mem["phases"]))
                del X, y

            # --- 2. prior sweep on the 100k×50 data: 1000 Ridge refits vs one `occam compare` ----
            assert SIZES[-1][:2] == (100_000, 50), "the sweep runs on the last data set: 100k×50"
            sigma = report["model"]["noise_sd"]  # EB σ of `occam fit` on the 100k×50 data
            out = occam_compare(path, sigma, stdout=subprocess.PIPE)
            swept = out.strip().splitlines()[1:]
            if len(swept) != len(SWEEP_SDS):
                failures.append(f"occam compare printed {len(swept)} priors, not {len(SWEEP_SDS)}")
            cmp_seconds, _ = best_of(lambda: occam_compare(path, sigma))
            # Probe 10 evenly spaced refits (untimed) to decide whether all 1000 fit the budget.
            _, probe, _ = ridge_sweep(path, sigma, range(0, 1000, 100))
            if probe * 100 <= SWEEP_BUDGET:
                read_scale, fits, coefs = ridge_sweep(path, sigma, range(1000))
                how = "all 1000 refits timed, once"
            else:
                read_scale, fits, coefs = ridge_sweep(path, sigma, range(5, 1000, 10))
                fits *= 10
                how = "100 evenly spaced refits timed, ×10"
                coefs.update(ridge_sweep(path, sigma, SWEEP_CHECK)[2])  # untimed
            sk_sweep = read_scale + fits
            rows.append((size, f"prior sweep, 1000 sds: read_csv + scale + 1000 × `Ridge.fit` vs "
                               f"`occam compare --sds {SWEEP}` ({how})", sk_sweep, cmp_seconds, "≥ 100×", 100))
            for i in SWEEP_CHECK:
                s = float(SWEEP_SDS[i])
                fit = occam_cli(path, "--prior-sd", repr(s), "--noise-sd", repr(sigma), "--codes", "none")
                rel = max_rel(coefs[i], fit["map"]["weights"])
                checks.append(f"| {size} | MAP weights at s = {s:.6g}, σ = {sigma:.6g}: `Ridge(alpha={sigma**2 / s**2:.6g}).coef_` "
                              f"vs `occam fit` `map.weights` (max abs diff / max abs weight) | | | {rel:.1e} |")
                if rel >= RIDGE_AGREEMENT:
                    failures.append(f"Ridge vs occam MAP at s = {s:g}: {rel:.1e}")
            sweep_note = (f"σ = {sigma!r} (EB σ of `occam fit` on the 100k×50 data); read_csv + scaling "
                          f"{read_scale:.3f} s, refits {fits:.2f} s ({fits / 1000 * 1e3:.1f} ms per refit "
                          f"on average); "
                          f"`occam compare` printed {len(swept)} priors")

        # --- 3. logistic: LogisticRegression vs occam fit --model logistic ------------------------
        if ONLY != "softmax":
            size = "100k×50"
            lpath = os.path.join(tmp, "log100k.csv")
            subprocess.run([OCCAM, *LOGISTIC_SIMULATE, "--out", lpath], check=True, capture_output=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a FutureWarning or ConvergenceWarning is a failure
                Z, y = read_scaled(lpath)
                sk_mem, lr = best_of(lambda: logistic_timed().fit(Z, y))
                lmem = subprocess.run([EXAMPLE_LOGISTIC, lpath, str(REPEATS)], check=True,
                                      capture_output=True, text=True)
                lmem = json.loads(lmem.stdout)
                lread, _ = best_of(lambda: pd.read_csv(lpath))
                sk_e2e, _ = best_of(lambda: logistic_from_csv(lpath))
                lcli, lreport = best_of(lambda: occam_cli(lpath, *LOGISTIC_FIT))
                tight = logistic(solver="lbfgs", tol=1e-12, max_iter=100_000).fit(Z, y)
                newton = logistic(solver="newton-cholesky", tol=1e-12, max_iter=100_000).fit(Z, y)
            # In memory occam should beat sklearn by more than end to end (and by at least 1.5×).
            rows.append((size, "logistic in memory: `LogisticRegression.fit` (lbfgs, default tol) vs "
                               "`fit_logistic` (MAP + Laplace evidence)", sk_mem, lmem["seconds"],
                         "≥ 1.5× and > end-to-end ratio", max(1.5, sk_e2e / lcli)))
            rows.append((size, "CSV parse (logistic data): `pandas.read_csv` vs occam `parse_csv`", lread,
                         lmem["phases"]["parse_csv"], "", None))
            rows.append((size, "logistic end to end: read_csv + scale + `LogisticRegression` vs "
                               "`occam fit --model logistic`", sk_e2e, lcli, "≥ 1.5×", 1.5))
            ours = np.append(lreport["map"]["weights"], lreport["map"]["intercept"])
            ex = np.append(lmem["weights"], lmem["intercept"])
            for label, model in [("lbfgs, default tol=1e-4 (the timed fit), "
                                  f"{int(lr.n_iter_[0])} iterations", lr),
                                 (f"lbfgs, tol=1e-12, {int(tight.n_iter_[0])} iterations", tight),
                                 (f"newton-cholesky, tol=1e-12, {int(newton.n_iter_[0])} iterations", newton)]:
                rel = max_rel(np.append(model.coef_[0], model.intercept_[0]), ours)
                checks.append(f"| {size} | logistic MAP (weights and intercept): `LogisticRegression` {label} "
                              f"vs `occam fit` (max abs diff / max abs θ) | | | {rel:.1e} |")
            rel = max_rel(np.append(tight.coef_[0], tight.intercept_[0]), ours)
            if rel >= LOGISTIC_AGREEMENT:
                failures.append(f"logistic MAP: tight sklearn fit vs occam {rel:.1e}")
            rel = max_rel(ex, ours)
            if rel >= 1e-12:
                failures.append(f"logistic MAP: time_logistic vs occam fit {rel:.1e}")
            logistic_note = (f"occam: log evidence (Laplace) {lreport['evidence']['log_nats']:.6f}, "
                             f"{lreport['diagnostics']['lbfgs_iterations']} L-BFGS + "
                             f"{lreport['diagnostics']['newton_iterations']} Newton iterations; "
                             f"training accuracy {lreport['diagnostics']['training_accuracy']:.4f}")
            phases.append((size, "fit_logistic", lmem["seconds"], lmem["phases"]))

        # --- 4. multinomial: LogisticRegression (K = 10) vs occam fit --model logistic -----------
        if ONLY != "logistic":
            size = "100k×50, K = 10"
            spath = os.path.join(tmp, "softmax100k.csv")
            subprocess.run([OCCAM, *SOFTMAX_SIMULATE, "--out", spath], check=True, capture_output=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a FutureWarning or ConvergenceWarning is a failure
                Z1, y = read_scaled_ones(spath)
                sk_mem, sm = best_of(lambda: softmax_timed().fit(Z1, y))
                smem = subprocess.run([EXAMPLE_SOFTMAX, spath, str(REPEATS)], check=True,
                                      capture_output=True, text=True)
                smem = json.loads(smem.stdout)
                sread, _ = best_of(lambda: pd.read_csv(spath))
                sk_e2e, _ = best_of(lambda: softmax_from_csv(spath))
                scli, sreport = best_of(lambda: occam_cli(spath, *SOFTMAX_FIT))
                tight = softmax(solver="lbfgs", tol=1e-12, max_iter=100_000).fit(Z1, y)
            rows.append((size, "softmax in memory: `LogisticRegression.fit` (lbfgs, default tol) vs "
                               "`fit_softmax` (MAP + Laplace evidence)", sk_mem, smem["seconds"],
                         "≥ 1.5× and > end-to-end ratio", max(1.5, sk_e2e / scli)))
            rows.append((size, "CSV parse (softmax data): `pandas.read_csv` vs occam `parse_csv`", sread,
                         smem["parse_csv"], "", None))
            rows.append((size, "softmax end to end: read_csv + scale + ones column + `LogisticRegression` "
                               "vs `occam fit --model logistic`", sk_e2e, scli, "≥ 1.5×", 1.5))
            # θ class-major: class c's weights then its intercept = sklearn's coef_[c] (ones column last).
            ours = np.column_stack([sreport["map"]["weights"], sreport["map"]["intercept"]])
            ex = np.column_stack([smem["weights"], smem["intercept"]])
            if list(tight.classes_) != [float(c) for c in sreport["model"]["classes"]]:
                failures.append(f"softmax classes differ: {list(tight.classes_)} vs {sreport['model']['classes']}")
            for label, model in [("lbfgs, default tol=1e-4 (the timed fit), "
                                  f"{int(sm.n_iter_[0])} iterations", sm),
                                 (f"lbfgs, tol=1e-12, {int(tight.n_iter_[0])} iterations", tight)]:
                rel = max_rel(model.coef_, ours)
                checks.append(f"| {size} | softmax MAP (K × (k + 1), intercept = ones column): "
                              f"`LogisticRegression` {label} vs `occam fit` (max abs diff / max abs θ) "
                              f"| | | {rel:.1e} |")
            rel = max_rel(tight.coef_, ours)
            if rel >= LOGISTIC_AGREEMENT:
                failures.append(f"softmax MAP: tight sklearn fit vs occam {rel:.1e}")
            rel = max_rel(ex, ours)
            if rel >= 1e-12:
                failures.append(f"softmax MAP: time_softmax vs occam fit {rel:.1e}")
            softmax_note = (f"occam: log evidence (Laplace) {sreport['evidence']['log_nats']:.6f}, "
                            f"{sreport['diagnostics']['lbfgs_iterations']} L-BFGS + "
                            f"{sreport['diagnostics']['newton_iterations']} Newton iterations; "
                            f"training accuracy {sreport['diagnostics']['training_accuracy']:.4f}")

    print(f"- 1-min load average at end {loadavg()}\n")
    print("| data | what | sklearn / numpy (s) | occam (s) | ratio | goal | met |\n"
          "|---|---|---:|---:|---:|---|---|")
    for size, what, theirs, ours, goal, target in rows:
        ratio = theirs / ours
        met = "" if target is None else ("yes" if ratio >= target else "**NO**")
        print(f"| {size} | {what} | {theirs:.4f} | {ours:.4f} | {ratio:.2f}× | {goal} | {met} |")
    print(f"\nRatio = sklearn ÷ occam. Prior sweep: {sweep_note}. Logistic: {logistic_note}. "
          f"Softmax: {softmax_note}.")
    print(f"\nWhere occam's time goes (ms, best of {REPEATS}; each step run alone):\n")
    for name in dict.fromkeys(name for _, name, _, _ in phases):
        group = [(size, total, p) for size, n, total, p in phases if n == name]
        cols = PHASE_ORDER[name]
        print(f"| data | {name} | {' | '.join(cols)} |\n|---|{'---:|' * (len(cols) + 1)}")
        for size, total, p in group:
            print(f"| {size} | {total * 1e3:.1f} | {' | '.join(f'{p[c] * 1e3:.1f}' for c in cols)} |")
        print()
    print("| data | check | sklearn | occam | rel. diff |\n|---|---|---:|---:|---:|")
    print("\n".join(checks))
    if failures:
        sys.exit("compare_sklearn.py: disagreement: " + "; ".join(failures))

if __name__ == "__main__":
    main()
