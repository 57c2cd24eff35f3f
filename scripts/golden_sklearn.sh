#!/usr/bin/env bash
# Regenerates tests/golden/sklearn_linear.json: golden reference values from
# scikit-learn (BayesianRidge evidence maximisation, fixed-hyperparameter log
# evidence, Ridge MAP weights) on data/diabetes.csv, computed in a throwaway
# venv with pinned versions so reruns match.
#
# regenerate with: bash scripts/golden_sklearn.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1

mkdir -p tests/golden
# Write via a temp file so a failed run never leaves a truncated golden file.
"$venv/bin/python" scripts/golden_sklearn.py > "$venv/out.json"
mv "$venv/out.json" tests/golden/sklearn_linear.json
echo "wrote tests/golden/sklearn_linear.json" >&2
