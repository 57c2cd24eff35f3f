"""The Python package's overhead: `occam.fit` on a 200 000 × 100 float64 array against the Rust
library's in-memory `fit_linear` on the same numbers, and against scikit-learn's BayesianRidge.

Run from the repository root after `pip install ./python scikit-learn` and
`cargo build --release --example time_linear`:

    python bench/python_overhead.py [REPEATS]

Prints a Markdown table; exits non-zero if the two occam log evidences differ (they must be equal:
the same library on the same numbers) or if BayesianRidge's disagrees beyond 1e-6 relative.
Every time is the best of REPEATS (default 3). The machine is shared, so the Rust fit and
`occam.fit` are timed back to back in ROUNDS rounds (environment, default 3) and the overhead is
read per round; an in-process breakdown shows where the package's time goes.
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


def rust_memory_fit(path):
    """`time_linear memory` on the CSV: the library's in-memory fit, best of REPEATS, in its own
    process (the parse is not timed), with its phases (`owned_copy`: what copying the rows into
    a new owned Dataset costs)."""
    out = subprocess.run([str(EXAMPLE), "memory", str(path), str(REPEATS)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main():
    if not EXAMPLE.is_file():
        sys.exit(f"{EXAMPLE} is missing: cargo build --release --example time_linear")
    X, y = data()
    rounds = int(os.environ.get("ROUNDS", "3"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        header = ",".join([f"x{j}" for j in range(K)] + ["y"])
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.17g", header=header,
                   comments="")
        # Back-to-back pairs: the machine is shared, so each round times the Rust fit and then
        # occam.fit right after it, and the overhead is read per round.
        pairs = []
        for _ in range(rounds):
            load = load_average()
            rust = rust_memory_fit(path)
            python_s, fit = best(lambda: occam.fit(X, y))
            if fit.evidence.log_nats != rust["log_evidence"]:
                sys.exit(f"log evidences differ: {fit.evidence.log_nats} vs {rust['log_evidence']}")
            pairs.append((load, rust["seconds"], python_s, rust["phases"]["owned_copy"]))

    # Inside the Python process: the package's steps one at a time (best of REPEATS each).
    from occam import _occam
    from occam import _data, _options, _sd
    prep_s, (x, t, info) = best(lambda: _data(X, y, None))
    options = _options("linear", "auto", None, True, None, "all", (8,), "tanh", None, 1, 0,
                       "ggn", 16, 0)
    native_s, text = best(lambda: _occam.fit_json(x, t, info, _sd("auto"), "zero", options))
    parse_s, _ = best(lambda: json.loads(text))
    finite_s, _ = best(lambda: bool(np.isfinite(X).all()))
    copy_s, _ = best(lambda: X.copy())

    print(f"{N} × {K} float64; each time the best of {REPEATS}; {rounds} back-to-back rounds\n")
    print("| round | load | Rust `fit_linear` in memory | `occam.fit(X, y)` | overhead | "
          "Rust: copying the rows into an owned Dataset |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, (load, r, p, c) in enumerate(pairs, 1):
        print(f"| {i} | {load:.1f} | {r:.3f} s | {p:.3f} s | {100 * (p / r - 1):+.1f}% | {c:.3f} s |")
    rust_best = min(r for _, r, _, _ in pairs)
    python_best = min(p for _, _, p, _ in pairs)
    overheads = sorted(100 * (p / r - 1) for _, r, p, _ in pairs)
    print(f"\nbest of all rounds: Rust {rust_best:.3f} s, occam.fit {python_best:.3f} s "
          f"({100 * (python_best / rust_best - 1):+.1f}%); median per-round overhead "
          f"{overheads[len(overheads) // 2]:+.1f}%")
    print("\nin-process breakdown of occam.fit:")
    print(f"- preparing the arguments (_data: no copy of a C-contiguous float64 X): {1e3 * prep_s:.2f} ms")
    print(f"- the native call (_occam.fit_json: checks, fit, JSON rendering): {1e3 * native_s:.1f} ms")
    print(f"- json.loads of the document: {1e3 * parse_s:.2f} ms")
    print(f"- for scale: numpy's np.isfinite(X).all() {1e3 * finite_s:.1f} ms, X.copy() {1e3 * copy_s:.1f} ms")

    try:
        from sklearn.linear_model import BayesianRidge
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        return
    def sk():
        Z = StandardScaler().fit_transform(X)
        return BayesianRidge(compute_score=True, alpha_1=0, alpha_2=0, lambda_1=0,
                             lambda_2=0).fit(Z, y - y.mean())
    load = load_average()
    sk_s, model = best(sk)
    python_s, fit = best(lambda: occam.fit(X, y))
    print(f"\nscikit-learn StandardScaler + BayesianRidge: {sk_s:.3f} s (load {load:.1f}); "
          f"occam.fit right after: {python_s:.3f} s; BayesianRidge ÷ occam.fit: {sk_s / python_s:.1f}×")
    # Agreement (untimed), as bench/compare_sklearn.py checks it: a converged BayesianRidge.
    tight = BayesianRidge(compute_score=True, alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0,
                          tol=1e-10, max_iter=100_000).fit(StandardScaler().fit_transform(X), y)
    ours = fit.evidence.log_nats
    theirs = tight.scores_[-1]
    relative = abs(theirs - ours) / abs(ours)
    print(f"log evidence: occam {ours:.10g}, BayesianRidge (tol=1e-10) {theirs:.10g} "
          f"(relative {relative:.1e})")
    if relative > 1e-6:
        sys.exit("BayesianRidge's evidence disagrees beyond 1e-6 relative")


if __name__ == "__main__":
    main()
