#!/usr/bin/env bash
# occam vs scikit-learn's BayesianRidge on the same data, in memory and end to end from CSV.
# Builds occam in release mode, installs pinned numpy/pandas/scikit-learn in a throwaway venv,
# and prints a Markdown report (see bench/README.md). Takes a few minutes on 2 cores.
#
# usage: bash bench/run.sh            (BENCH_REPEATS=5 bash bench/run.sh: best of 5, for a busy machine)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT

cargo build --release --quiet --bin occam --example time_linear

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet numpy==2.4.6 scipy==1.17.1 pandas==3.1.1 scikit-learn==1.9.1 threadpoolctl==3.8.0

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this kind of machine for older OpenBLAS
# builds; they slow a current numpy, so they are unset for this one command (the report prints
# the kernel threadpoolctl then sees).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" bench/compare_sklearn.py
