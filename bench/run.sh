#!/usr/bin/env bash
# occam vs scikit-learn on the same data, in memory and end to end from CSV: BayesianRidge (evidence
# maximised), a 1000-prior Ridge sweep against `occam compare`, and LogisticRegression against
# `occam fit --model logistic` (binary, and K = 10 classes). Builds occam in release mode, installs pinned numpy/pandas/
# scikit-learn in a throwaway venv, and prints a Markdown report (see bench/README.md). Takes
# 5–10 minutes on 2 cores.
#
# usage: bash bench/run.sh            (BENCH_REPEATS=5 bash bench/run.sh: best of 5, for a busy machine)
#        bash bench/run.sh --only logistic   (the logistic comparison alone, ≈ 1 minute)
#        bash bench/run.sh --only softmax    (the multinomial comparison alone, K = 10)
#
# Respects CARGO_TARGET_DIR (e.g. CARGO_TARGET_DIR=/tmp/bench-target when ./target is locked by
# another build). Before timing, waits up to BENCH_LOAD_WAIT seconds (default 300) for the 1-minute
# load average to fall below BENCH_MAX_LOAD (default 1.5); the report prints the load either way.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT

cargo build --release --quiet --bin occam --example time_linear --example time_logistic \
    --example time_softmax
BENCH_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
export BENCH_TARGET_DIR

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet numpy==2.4.6 scipy==1.17.1 pandas==3.1.1 scikit-learn==1.9.1 threadpoolctl==3.8.0

# The machine may be shared: wait a while for a quiet moment.
max_load="${BENCH_MAX_LOAD:-1.5}"
deadline=$((SECONDS + ${BENCH_LOAD_WAIT:-300}))
while :; do
    load="$(cut -d' ' -f1 /proc/loadavg)"
    if awk -v l="$load" -v m="$max_load" 'BEGIN { exit !(l < m) }'; then
        break
    elif ((SECONDS >= deadline)); then
        echo "run.sh: load average still $load (≥ $max_load); timing anyway" >&2
        break
    fi
    echo "run.sh: load average $load ≥ $max_load; waiting" >&2
    sleep 20
done

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this kind of machine for older OpenBLAS
# builds; they slow a current numpy, so they are unset for this one command (the report prints
# the kernel threadpoolctl then sees).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" bench/compare_sklearn.py "$@"
