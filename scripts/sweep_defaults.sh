#!/usr/bin/env bash
# Every default fit finishes (issue 14): occam's own simulated data through `fit` with default
# flags — 48 logistic sets (seeds 1–12 × (n, k) ∈ {(64,3), (200,3), (200,8), (2000,5)}) and 12
# network teachers (`simulate mlp --n 300 --k 4 --hidden 6 --activation tanh --task
# classification --seed 1..12`, fitted with `--model mlp --hidden 6`). Each run must exit 0 within
# the time limit; prints one line per run (seconds, exit code) and the slowest, and exits 1 if any
# run failed or timed out.
#
# Usage: bash scripts/sweep_defaults.sh [OCCAM_BINARY] [SECONDS_PER_RUN]
#   default binary target/release/occam (build it with `cargo build --release`), default 300 s.
#   SWEEP_COMPARE=1 also runs `compare` with default flags on every set.
# Works in a temporary directory, removed on exit.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
occam="${1:-$root/target/release/occam}"
limit="${2:-300}"
[[ -x "$occam" ]] || { echo "sweep_defaults.sh: no binary at $occam (cargo build --release)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failures=0
slowest=0
slowest_run=""

# run LABEL ARGS…: times `occam ARGS`, records the slowest, counts failures.
run() {
  local label="$1"; shift
  local start end seconds code=0
  start=$(date +%s.%N)
  timeout "$limit" "$occam" "$@" >"$work/out" 2>"$work/err" || code=$?
  end=$(date +%s.%N)
  seconds=$(echo "$end - $start" | bc)
  printf '%-44s %8.2f s  exit %d\n' "$label" "$seconds" "$code"
  if [[ $code -ne 0 ]]; then
    failures=$((failures + 1))
    sed 's/^/    /' "$work/err" | head -5
  fi
  if (( $(echo "$seconds > $slowest" | bc) )); then
    slowest=$seconds
    slowest_run=$label
  fi
}

for nk in "64 3" "200 3" "200 8" "2000 5"; do
  read -r n k <<<"$nk"
  for seed in $(seq 1 12); do
    data="$work/logistic_${n}_${k}_${seed}.csv"
    "$occam" simulate logistic --n "$n" --k "$k" --seed "$seed" --out "$data" >/dev/null
    run "fit logistic n=$n k=$k seed=$seed" fit --data "$data" --model logistic
    if [[ "${SWEEP_COMPARE:-0}" == 1 ]]; then
      run "compare logistic n=$n k=$k seed=$seed" compare --data "$data" --model logistic
    fi
  done
done

for seed in $(seq 1 12); do
  data="$work/mlp_${seed}.csv"
  "$occam" simulate mlp --n 300 --k 4 --hidden 6 --activation tanh --task classification \
    --seed "$seed" --out "$data" >/dev/null
  run "fit mlp h=6 tanh teacher seed=$seed" fit --data "$data" --model mlp --hidden 6
  if [[ "${SWEEP_COMPARE:-0}" == 1 ]]; then
    run "compare mlp h=6 tanh teacher seed=$seed" compare --data "$data" --model mlp --hidden 6
  fi
done

echo "slowest: $slowest_run, $slowest s; failed or timed out: $failures"
[[ $failures -eq 0 ]]
