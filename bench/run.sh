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
#        bash bench/run.sh --only ard        (ARD: ARDRegression vs `occam fit --prior ard`, 200k×100)
#        bash bench/run.sh --only mlp        (networks of 18k and 68k parameters under KFAC vs
#                                             torch L-BFGS + laplace-torch kron; the torch side
#                                             runs only where BENCH_TORCH_PYTHON, default
#                                             /tmp/torchvenv/bin/python, imports torch and laplace)
#
# Respects CARGO_TARGET_DIR (e.g. CARGO_TARGET_DIR=/tmp/bench-target when ./target is locked by
# another build). Before timing, waits up to BENCH_LOAD_WAIT seconds (default 300) for the 1-minute
# load average to fall below BENCH_MAX_LOAD (default 1.5); the report prints the load either way.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root

# `--only mlp`: no scikit-learn venv; bench/compare_laplace_torch.py needs only the standard
# library on occam's side, and skips the torch side with a message where torch is missing.
if [[ "$*" == "--only mlp" ]]; then
    cargo build --release --quiet --bin occam
    BENCH_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
    export BENCH_TARGET_DIR
    torch_python="${BENCH_TORCH_PYTHON:-/tmp/torchvenv/bin/python}"
    if ! "$torch_python" -c 'import torch, laplace' 2>/dev/null; then
        echo "run.sh: no torch and laplace-torch at $torch_python (set BENCH_TORCH_PYTHON); the torch side is skipped" >&2
    fi
    exec python3 bench/compare_laplace_torch.py
fi

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT

cargo build --release --quiet --bin occam --example time_linear --example time_logistic \
    --example time_softmax --example time_ard
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
# `--only ard` runs bench/compare_ard.py alone; a full run does it after the other four.
if [[ "$*" != "--only ard" ]]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" bench/compare_sklearn.py "$@"
fi
if [[ $# -eq 0 || "$*" == "--only ard" ]]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" bench/compare_ard.py
fi
