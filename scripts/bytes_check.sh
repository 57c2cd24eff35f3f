#!/usr/bin/env bash
# Every output of the binary, written to one folder so that two builds can be compared byte for
# byte (`diff -r`). Used to check that a refactoring changed no printed number, table, figure,
# help text or error message: run it with the binary before and after, then diff the folders.
#
# It covers: every command's --help; `report` (all studies: report.md, tables, figures, data,
# manifest); `run` on every examples/*.toml; `fit` and `compare` on every built-in data set and
# model in every output format (including the network with both Hessians and the codes);
# `convert`; `simulate` (CSV + truth); `datasets` in every format; and a set of bad inputs on the
# command line and in specs (their exit codes and messages).
#
# Usage: bash scripts/bytes_check.sh OCCAM_BINARY OUT_FOLDER
# Writes OUT_FOLDER/NN-label.{out,err,code} per command, and OUT_FOLDER/report, OUT_FOLDER/run-*.
# Takes about a minute with a release binary. Two things that differ from run to run are masked in
# the .err files after the run: elapsed times ("in 22.6 s;") and the machine's available memory
# ("only 23.0 GiB is available").
set -uo pipefail

occam="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
[[ -x "$occam" ]] || { echo "bytes_check.sh: no binary at $1" >&2; exit 2; }
[[ -e "$out" ]] && { echo "bytes_check.sh: $out exists; give a new folder" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Called as `occam` whatever the file's name, since the help text shows the name it was called by.
mkdir "$work/.bin" && ln -s "$occam" "$work/.bin/occam" && occam="$work/.bin/occam"
cd "$work"
cp "$root"/examples/*.toml "$work"/
cp -r "$root"/data "$work"/data

count=0
# run LABEL ARGS…: stdout, stderr and the exit code of `occam ARGS`, in the working folder.
run() {
  local label="$1"; shift
  count=$((count + 1))
  local stem
  stem="$(printf '%s/%03d-%s' "$out" "$count" "$label")"
  "$occam" "$@" >"$stem.out" 2>"$stem.err"
  echo $? >"$stem.code"
}

for cmd in "" fit compare convert report run simulate datasets; do
  run "help-${cmd:-top}" $cmd --help
done

for format in table json md tex csv; do
  run "datasets-$format" datasets --format "$format"
done

for data in diabetes breast_cancer iris; do
  for format in table json md tex csv; do
    run "fit-linear-$data-$format" fit --data "$data" --format "$format"
  done
  run "compare-linear-$data" compare --data "$data" --format json
  run "compare-linear-$data-table" compare --data "$data" --sds 0.1,1,auto \
    --centers 'zero;const:0.1' --format table
done
for format in table json md tex csv; do
  run "fit-logistic-$format" fit --data breast_cancer --model logistic --format "$format"
done
run "compare-logistic" compare --data breast_cancer --model logistic --format json
run "compare-logistic-latex" compare --data breast_cancer --model logistic --format tex
run "fit-linear-options" fit --data diabetes --prior-sd 0.5 --noise-sd 50 --intercept free \
  --shuffle 3 --codes prequential,bic --format json
run "fit-linear-nostd" fit --data diabetes --no-standardize --prior-center const:1 --format json
run "fit-logistic-intercepts" fit --data breast_cancer --model logistic --intercept prior:2 \
  --prior-center sha256:occam:0.1 --format json

run "simulate-linear" simulate linear --n 80 --k 4 --seed 3 --out sim-linear.csv
cp sim-linear.csv "$out/sim-linear.csv"; cp sim-linear.truth.json "$out/sim-linear.truth.json" 2>/dev/null
run "simulate-logistic" simulate logistic --n 120 --k 3 --seed 5 --out sim-logistic.csv
cp sim-logistic.csv "$out/sim-logistic.csv"
run "simulate-mlp" simulate mlp --n 150 --k 3 --hidden 4 --activation tanh --task classification \
  --seed 2 --out sim-mlp.csv
cp sim-mlp.csv "$out/sim-mlp.csv"
ls "$work" >"$out/simulate-files.txt"
run "fit-truth" fit --data sim-linear.csv --prior-center truth --format json
run "fit-logistic-sim" fit --data sim-logistic.csv --model logistic --format json
run "compare-logistic-sim" compare --data sim-logistic.csv --model logistic --format json
run "fit-mlp-ggn" fit --data sim-mlp.csv --model mlp --hidden 3 --format json
run "fit-mlp-exact" fit --data sim-mlp.csv --model mlp --hidden 3 --hessian exact --codes none \
  --format json
run "fit-mlp-table" fit --data sim-mlp.csv --model mlp --hidden 3 --codes none --format table
run "fit-mlp-regression" fit --data diabetes --model mlp --hidden 2 --codes none --format json
run "compare-mlp" compare --data sim-mlp.csv --model mlp --hidden 3 --codes none \
  --sds 0.5,auto --format json

for from in sklearn-ridge torch-weight-decay glmnet keras-l2; do
  run "convert-$from" convert --from "$from" --value 0.1 --n 100 --noise-sd 2 --loss mse
done
run "convert-json" convert --from sklearn-ridge --value 0.1 --n 100 --format json

# Bad inputs: exit codes and messages.
run "bad-sd" fit --data diabetes --prior-sd -1
run "bad-center" fit --data diabetes --prior-center vec:1,2
run "bad-data" fit --data no-such-file
run "bad-target" fit --data diabetes --target nope
run "bad-logistic-noise" fit --data breast_cancer --model logistic --noise-sd 1
run "bad-first-block" fit --data diabetes --first-block 0
run "bad-hidden" fit --data diabetes --model mlp --hidden 0
run "bad-exclude" fit --data diabetes --exclude nope
run "bad-intercept" fit --data diabetes --intercept prior:-1
run "bad-codes" fit --data diabetes --codes nope
run "bad-compare-sds" compare --data diabetes --sds 0.1,-2
run "bad-huge" fit --data diabetes --model mlp --hidden 100000
run "bad-out-input" fit --data data/diabetes.csv --out data/diabetes.csv
printf 'x,y\n1,2\n' >one-row.csv
run "bad-one-row" fit --data one-row.csv
printf 'x,y\n1,a\n2,b\n3,c\n' >text.csv
run "bad-text" fit --data text.csv

# Specs, good and bad.
for spec in *.toml; do
  run "run-${spec%.toml}" run "$spec" --out "run-${spec%.toml}"
  cp -r "run-${spec%.toml}" "$out/run-${spec%.toml}"
done
i=0
bad_spec() {
  i=$((i + 1))
  printf '%s\n' "$1" >"bad-$i.toml"
  run "bad-spec-$i" run "bad-$i.toml" --out "bad-out-$i"
}
bad_spec '[data]
builtin = "diabetes"
[priors]
sds = [-1.0]'
bad_spec '[data]
builtin = "diabetes"
[modle]
kind = "linear"'
bad_spec '[data]
builtin = "breast_cancer"
[model]
kind = "logistic"
[priors]
centers = ["zero"]
noise_sd = 1.0'
bad_spec '[data]
builtin = "diabetes"
[codes]
first_block = 0'
bad_spec '[data]
builtin = "diabetes"
[model]
kind = "linear"
hidden = [4]'
bad_spec '[data]
path = "no-such.csv"'
bad_spec '[data]
builtin = "diabetes"
[priors]
centers = ["vec:1,2"]'
bad_spec 'not toml ['

run "report" report --out report
cp -r report "$out/report"
run "report-only" report --out report --only razor

# Added later (kept at the end so that earlier outputs keep their numbers): the multinomial model,
# prior groups, curvature structures for networks and the sufficient statistics.
for format in table json; do
  run "fit-softmax-iris-$format" fit --data iris --model logistic --format "$format"
done
run "compare-softmax-iris" compare --data iris --model logistic --sds 0.3,auto --format json
run "simulate-softmax" simulate logistic --classes 3 --n 150 --k 3 --seed 4 --out sim-softmax.csv
cp sim-softmax.csv "$out/sim-softmax.csv"
run "fit-softmax-truth" fit --data sim-softmax.csv --model logistic --prior-center truth \
  --prior-sd 1 --format json
run "fit-mlp-softmax" fit --data iris --model mlp --hidden 3 --codes none --format json
run "fit-groups-ard-linear" fit --data diabetes --prior ard --format json
run "fit-groups-linear" fit --data diabetes --prior 'features:bmi,bp=zero:auto; rest=zero:auto' \
  --format table
run "compare-groups-linear" compare --data diabetes --priors 'all=zero:auto' ard --format json
run "fit-groups-ard-logistic" fit --data breast_cancer --model logistic --prior ard --codes none \
  --format json
run "fit-groups-ard-softmax" fit --data iris --model logistic --prior ard --codes none --format json
run "fit-mlp-kfac" fit --data sim-mlp.csv --model mlp --hidden 3 --hessian kfac --codes none \
  --format json
run "fit-mlp-diag" fit --data sim-mlp.csv --model mlp --hidden 3 --hessian diag --codes none \
  --format json
head -n 41 sim-linear.csv >shard-a.csv
{ head -n 1 sim-linear.csv; tail -n +42 sim-linear.csv; } >shard-b.csv
run "stats-a" stats --data shard-a.csv --out shard-a.json
run "stats-b" stats --data shard-b.csv --out shard-b.json
cp shard-a.json "$out/shard-a.json" 2>/dev/null
run "fit-stats" fit --stats shard-a.json shard-b.json --format json
# Mask what depends on the moment, not on the build: elapsed times and available memory.
sed -i -E 's/ in [0-9.]+ s;/ in T s;/; s/only [0-9.]+ [KMGT]?i?B is available/only M is available/' "$out"/*.err
echo "bytes_check.sh: $count commands, outputs in $out"
