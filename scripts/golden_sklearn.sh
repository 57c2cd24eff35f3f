#!/usr/bin/env bash
# Regenerates the golden reference values from scikit-learn, computed in a
# throwaway venv with pinned versions so reruns match:
#   tests/golden/sklearn_linear.json   — BayesianRidge evidence maximisation,
#     fixed-hyperparameter log evidence, Ridge MAP weights on data/diabetes.csv
#     (scripts/golden_sklearn.py);
#   tests/golden/sklearn_logistic.json — L2 LogisticRegression MAPs for several C
#     on data/breast_cancer.csv and a separable toy set, checked and polished to
#     the optimum in numpy (scripts/golden_sklearn_logistic.py);
#   tests/golden/sklearn_softmax.json  — multinomial LogisticRegression MAPs for several C
#     on data/iris.csv (a column of ones, fit_intercept=False), polished with Newton
#     steps in numpy (scripts/golden_sklearn_softmax.py).
#   tests/golden/sklearn_ard.json      — ARDRegression (one prior precision per feature, flat
#     hyperpriors) on data/diabetes.csv, run to convergence (scripts/golden_sklearn_ard.py).
#
# regenerate with: bash scripts/golden_sklearn.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."   # repo root

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1

mkdir -p tests/golden
# Write via temp files so a failed run never leaves a truncated golden file
# (and every generator must succeed before any file is replaced).
"$venv/bin/python" scripts/golden_sklearn.py > "$venv/linear.json"
"$venv/bin/python" scripts/golden_sklearn_logistic.py > "$venv/logistic.json"
"$venv/bin/python" scripts/golden_sklearn_softmax.py > "$venv/softmax.json"
"$venv/bin/python" scripts/golden_sklearn_ard.py > "$venv/ard.json"
mv "$venv/linear.json" tests/golden/sklearn_linear.json
echo "wrote tests/golden/sklearn_linear.json" >&2
mv "$venv/logistic.json" tests/golden/sklearn_logistic.json
echo "wrote tests/golden/sklearn_logistic.json" >&2
mv "$venv/softmax.json" tests/golden/sklearn_softmax.json
echo "wrote tests/golden/sklearn_softmax.json" >&2
mv "$venv/ard.json" tests/golden/sklearn_ard.json
echo "wrote tests/golden/sklearn_ard.json" >&2
