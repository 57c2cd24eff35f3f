"""The Python package's overhead: `occam.fit` on a 200 000 × 100 float64 array against the Rust
library's in-memory `fit_linear` on the same numbers, and against scikit-learn's BayesianRidge.

Run from the repository root after `pip install ./python scikit-learn` and
`cargo build --release --example time_linear`:

    python bench/python_overhead.py [REPEATS]

Prints a Markdown table; exits non-zero if the two occam log evidences differ (they must be equal:
the same library on the same numbers) or if BayesianRidge's disagrees beyond 1e-6 relative.
Every time is the best of REPEATS (default 3).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import occam

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target"))
EXAMPLE = TARGET / "release/examples/time_linear"
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
N, K, SEED = 200_000, 100, 1


def data():
    """compare_sklearn.py's generator: unequal means and scales, y = Xw + noise."""
    rng = np.random.default_rng(SEED)
    means = rng.normal(0, 5, K)
    scales = rng.uniform(0.5, 3, K)
    X = rng.standard_normal((N, K)) * scales + means
    w = rng.normal(0, 1, K)
    y = X @ w + rng.normal(0, 2.0, N)
    return np.ascontiguousarray(X), y


def best(f):
    times, value = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return min(times), value


def main():
    if not EXAMPLE.is_file():
        sys.exit(f"{EXAMPLE} is missing: cargo build --release --example time_linear")
    X, y = data()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        header = ",".join([f"x{j}" for j in range(K)] + ["y"])
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.17g", header=header,
                   comments="")
        out = subprocess.run([str(EXAMPLE), "memory", str(path), str(REPEATS)], check=True,
                             capture_output=True, text=True)
        rust = json.loads(out.stdout)
    python_s, fit = best(lambda: occam.fit(X, y))
    if fit.evidence.log_nats != rust["log_evidence"]:
        sys.exit(f"log evidences differ: {fit.evidence.log_nats} vs {rust['log_evidence']}")
    rows = [("Rust `fit_linear` in memory (examples/time_linear.rs)", rust["seconds"]),
            ("Python `occam.fit(X, y)` on the float64 array", python_s)]
    try:
        from sklearn.linear_model import BayesianRidge
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        BayesianRidge = None
    if BayesianRidge is not None:
        def sk():
            Z = StandardScaler().fit_transform(X)
            return BayesianRidge(compute_score=True, alpha_1=0, alpha_2=0, lambda_1=0,
                                 lambda_2=0).fit(Z, y - y.mean())
        sk_s, model = best(sk)
        rows.append(("scikit-learn StandardScaler + BayesianRidge", sk_s))
    print(f"{N} × {K} float64, best of {REPEATS}\n")
    print("| fit | seconds |\n|---|---|")
    for name, s in rows:
        print(f"| {name} | {s:.3f} |")
    print(f"\noverhead of the package: {100 * (python_s / rust['seconds'] - 1):+.1f}%")
    if BayesianRidge is not None:
        print(f"BayesianRidge ÷ occam.fit: {sk_s / python_s:.1f}×")


if __name__ == "__main__":
    main()
