#!/usr/bin/env bash
# Regenerates tests/golden/laplace_torch.json and the data it came from (tests/golden/laplace_torch/):
# occam simulates three data sets and fits a tanh network to each (its mode and prior sd), then
# scripts/golden_laplace_torch.py evaluates laplace-torch's Laplace at those weights.
# Needs a venv with torch and laplace-torch: VENV=/path (default /tmp/torchvenv), made with
#   python3 -m venv $VENV && $VENV/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
#   && $VENV/bin/pip install laplace-torch numpy
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/torchvenv}
OCCAM=${OCCAM:-target/debug/occam}
DIR=tests/golden/laplace_torch
mkdir -p "$DIR"
sim() { "$OCCAM" simulate mlp --k 3 --n 120 --activation tanh --weight-scale 0.6 --seed 7 "$@"; }
sim --hidden 5,4 --noise-sd 0.5 --out "$DIR/regression.csv"
sim --hidden 5,4 --task classification --out "$DIR/binary.csv"
# Three classes: the regression target cut near its tertiles (−1.94, −1.52) at −1.9 and −1.5.
awk -F, 'NR == 1 { print; next } { c = ($NF < -1.9) ? 0 : (($NF < -1.5) ? 1 : 2); $NF = c; print }' OFS=, \
  "$DIR/regression.csv" > "$DIR/three_class.csv"
fit() {
  local name=$1; shift
  "$OCCAM" fit --data "$DIR/$name.csv" --model mlp --activation tanh --prior-sd 1 \
    --codes none --restarts 2 --format json "$@" > "$DIR/${name}_fit.json"
}
fit regression --hidden 5,4 --noise-sd 0.5 --task regression
fit binary --hidden 5,4 --task classification
fit three_class --hidden 5 --task classification
"$VENV/bin/python" scripts/golden_laplace_torch.py "$DIR" > tests/golden/laplace_torch.json
