"""occam vs scikit-learn's BayesianRidge on the same data, in one run.

Run via `bash bench/run.sh` (throwaway venv, release build). Prints a Markdown report to stdout;
exits non-zero if the two disagree on the log evidence.

Both fit the same model: standardised features, centred target, flat hyperpriors
(alpha_1 = alpha_2 = lambda_1 = lambda_2 = 0), evidence maximised by MacKay's fixed point.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import BayesianRidge
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

ROOT = Path(__file__).resolve().parent.parent
OCCAM = ROOT / "target/release/occam"
EXAMPLE = ROOT / "target/release/examples/time_linear"
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))  # best of this many timings
SIZES = [(200_000, 100, 1), (100_000, 50, 2)]  # (n, k, seed)
AGREEMENT = 1e-6  # relative difference allowed between the two log evidences


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


def occam_cli(path):
    out = subprocess.run([OCCAM, "fit", "--data", path, "--format", "json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def main():
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# occam vs scikit-learn BayesianRidge — {datetime.date.today()}\n")
    print(f"- machine: {cpu}, nproc {os.cpu_count()}; Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}")
    print(f"- numpy BLAS (threadpoolctl): {'; '.join(blas) or 'none found'}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"- seconds are the best of {REPEATS}; ratio = sklearn / occam; 1-min load average at start {loadavg()}")

    rows, checks, phases, goals, failed = [], [], [], [], False
    with tempfile.TemporaryDirectory() as tmp:
        for n, k, seed in SIZES:
            size = f"{n // 1000}k×{k}"
            X, y = make_data(n, k, seed)
            path = os.path.join(tmp, f"data_{n}x{k}.csv")
            write_csv(path, X, y)

            # In memory: sklearn on the arrays, occam on the parsed CSV (parsing untimed).
            xtx, _ = best_of(lambda: X.T @ X)
            sk, br = best_of(lambda: sklearn_in_memory(X, y))
            mem = occam_example("memory", path)
            rows.append((size, "in memory: numpy XᵀX alone", xtx, None))
            rows.append((size, "in memory: BayesianRidge.fit vs occam fit_linear", sk, mem["seconds"]))

            # End to end from the CSV file: pandas + sklearn in this process vs the occam binary.
            read, _ = best_of(lambda: pd.read_csv(path))
            e2e, _ = best_of(lambda: sklearn_from_csv(path))
            cli, report = best_of(lambda: occam_cli(path))
            csv = occam_example("csv", path)
            rows.append((size, "CSV parse: pandas.read_csv vs occam parse_csv", read, csv["phases"]["parse_csv"]))
            rows.append((size, "end to end: read_csv + scale + fit vs the `occam fit` process", e2e, cli))
            goals.append((size, "in memory ≥ 20×", sk / mem["seconds"], 20))
            goals.append((size, "occam in memory within 3× of numpy XᵀX", xtx / mem["seconds"], 1 / 3))
            goals.append((size, "end to end ≥ 3×", e2e / cli, 3))

            # Agreement: default tol=1e-3 (the timed fit) and a converged fit (tol=1e-10, untimed).
            tight = bayesian_ridge(tol=1e-10, max_iter=100_000).fit(StandardScaler().fit_transform(X), y)
            ours = report["evidence"]["log_nats"]
            for label, theirs in [("tol=1e-3", br.scores_[-1]), ("tol=1e-10", tight.scores_[-1])]:
                rel = abs(theirs - ours) / abs(ours)
                checks.append(f"| {size} | {label} | {theirs:.10f} | {ours:.10f} | {rel:.1e} |")
            failed |= abs(tight.scores_[-1] - ours) / abs(ours) >= AGREEMENT
            phases.append((size, mem["seconds"], mem["phases"]))

    print(f"- 1-min load average at end {loadavg()}\n")
    print("| data | what | sklearn / numpy (s) | occam (s) | ratio |\n|---|---|---:|---:|---:|")
    for size, what, theirs, ours in rows:
        ratio = f"{theirs / ours:.1f}×" if ours else ""
        print(f"| {size} | {what} | {theirs:.4f} | {'' if ours is None else f'{ours:.4f}'} | {ratio} |")
    print("\n| data | goal | measured | met |\n|---|---|---:|---|")
    for size, goal, value, target in goals:
        print(f"| {size} | {goal} | {value:.2f}× | {'yes' if value >= target else 'NO'} |")
    names = list(phases[0][2])
    print(f"\nWhere occam's time goes (ms, best of {REPEATS}; each step run alone):\n")
    print(f"| data | fit_linear | {' | '.join(names)} |\n|---|{'---:|' * (len(names) + 1)}")
    for size, total, p in phases:
        print(f"| {size} | {total * 1e3:.1f} | {' | '.join(f'{p[n] * 1e3:.1f}' for n in names)} |")
    print("\n| data | sklearn fit | sklearn scores_[-1] | occam evidence.log_nats | rel. diff |\n|---|---|---:|---:|---:|")
    print("\n".join(checks))
    if failed:
        sys.exit(f"compare_sklearn.py: log evidences differ by ≥ {AGREEMENT:g} relative (tol=1e-10 fit)")


if __name__ == "__main__":
    main()
