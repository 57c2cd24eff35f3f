"""Networks at scale: occam's KFAC fit against laplace-torch's KFAC pipeline on the same CSV.

Run via `bash bench/run.sh --only mlp` (release build; the torch side needs torch and laplace-torch:
`BENCH_TORCH_PYTHON=/path/to/python` names an interpreter that has them, default
/tmp/torchvenv/bin/python; without one the torch side is skipped with a message). Prints a
Markdown table to stdout.

Data: `occam simulate mlp --k 10 --hidden 32,32 --activation tanh --weight-scale 0.2 --noise-sd 0.5
--n 5000 --seed 1` (issue 19's benchmark), fitted by a 10-H-H-1 tanh regression network, H = 128
(P = 18 049) and 256 (P = 68 353).

What each side computes, end to end from the CSV (wall and CPU seconds, peak RSS):

* occam, `occam fit --data file.csv --model mlp --hidden H,H --activation tanh --hessian kfac
  --restarts 1 --codes none --prior-sd 0.2 --noise-sd 0.5 --format json`: reads and standardises
  the CSV (features and target z-scored), searches the MAP from one seeded start (plain L-BFGS,
  then KFAC-whitened L-BFGS rounds, no P×P matrix) until ‖∇f‖ ≤ 1e-8 of the gradient's scale
  (accepted at 1e-6, else the fit fails), and prints the KFAC Laplace evidence (ln|K + αI| from
  the Kronecker factors' eigenvalues), γ and the symmetry term. A second occam row drops
  `--prior-sd 0.2 --noise-sd 0.5`: empirical Bayes for s (the MAP refitted at every s the
  maximiser tries) and MacKay's σ, all under KFAC.
* torch: pandas.read_csv, the same z-scoring, float64 nn.Sequential(Linear, Tanh, Linear, Tanh,
  Linear) from torch's default initialisation (seed 0), MAP of ½β‖y − f(x)‖² + ½α‖θ‖² (β = 1/σ²,
  α = 1/s² on the z-scored scale, the same σ = 0.5/sd(y) and s = 0.2 as occam's fixed row) by
  torch.optim.LBFGS (strong Wolfe, history 20, full batch) until max|∇| ≤ 1e-6 of the initial
  max|∇| or 5000 iterations (the final max|∇| is printed: not a checked mode if it is above), then `Laplace(model, 'regression', subset_of_weights='all',
  hessian_structure='kron', sigma_noise=σ, prior_precision=α)`, `la.fit` (full batch),
  `la.log_marginal_likelihood()`; a second torch row adds `la.optimize_prior_precision(method=
  'marglik')` (empirical Bayes for α at the fixed MAP — no refit, unlike occam's EB row).
  laplace-torch's kron splits W and b into two blocks (occam's joins them, math.md §9), so the
  evidences are close but not equal; they are printed, not compared.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("BENCH_TARGET_DIR", ROOT / "target"))
OCCAM = TARGET / "release/occam"
SIZES = [int(h) for h in os.environ.get("BENCH_MLP_WIDTHS", "128,256").split(",")]
SIMULATE = ["simulate", "mlp", "--k", "10", "--hidden", "32,32", "--activation", "tanh",
            "--weight-scale", "0.2", "--noise-sd", "0.5", "--n", "5000", "--seed", "1"]
GOAL_SECONDS = {128: 30.0, 256: 120.0}
GOAL_SPEEDUP = 5.0


def timed(command):
    """Wall seconds, CPU seconds (user + sys of the child), peak RSS in MB, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # /usr/bin/time -v would give the same peak RSS; ru_maxrss of the waited child is it.
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{proc.stderr}")
    return wall, cpu, after.ru_maxrss / 1024.0, proc.stdout


def occam_row(csv, hidden, fixed):
    command = [str(OCCAM), "fit", "--data", str(csv), "--model", "mlp", "--hidden",
               f"{hidden},{hidden}", "--activation", "tanh", "--hessian", "kfac",
               "--restarts", "1", "--codes", "none", "--format", "json"]
    if fixed:
        command += ["--prior-sd", "0.2", "--noise-sd", "0.5"]
    wall, cpu, rss, out = timed(command)
    ev = json.loads(out)["evidence"]
    return wall, cpu, rss, ev


TORCH_SIDE = r'''
import json, sys, time
start = time.perf_counter()
import numpy as np, pandas as pd, torch
from laplace import Laplace
torch.set_default_dtype(torch.float64)
csv, hidden, eb = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "eb"
frame = pd.read_csv(csv)
x = frame.iloc[:, :-1].to_numpy(); y = frame.iloc[:, -1].to_numpy()
x = (x - x.mean(0)) / x.std(0); sd_y = y.std(); y = (y - y.mean()) / sd_y
X = torch.tensor(x); Y = torch.tensor(y).unsqueeze(1)
sigma = 0.5 / sd_y; beta = 1.0 / sigma**2; alpha = 1.0 / 0.2**2
torch.manual_seed(0)
k = X.shape[1]
model = torch.nn.Sequential(torch.nn.Linear(k, hidden), torch.nn.Tanh(),
                            torch.nn.Linear(hidden, hidden), torch.nn.Tanh(),
                            torch.nn.Linear(hidden, 1))
params = list(model.parameters())
def loss():
    f = 0.5 * beta * ((model(X) - Y) ** 2).sum()
    return f + 0.5 * alpha * sum((p ** 2).sum() for p in params)
l0 = loss(); l0.backward()
g0 = torch.cat([p.grad.flatten() for p in params]).abs().max().item()
opt = torch.optim.LBFGS(params, lr=1.0, max_iter=5000, max_eval=50000, history_size=20,
                        tolerance_grad=1e-6 * g0, tolerance_change=0.0,
                        line_search_fn="strong_wolfe")
def closure():
    opt.zero_grad(); l = loss(); l.backward(); return l
opt.step(closure)
opt.zero_grad(); loss().backward()
grad = torch.cat([p.grad.flatten() for p in params]).abs().max().item()
iterations = opt.state[opt._params[0]]["n_iter"]
map_seconds = time.perf_counter() - start
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=len(X))
la = Laplace(model, "regression", subset_of_weights="all", hessian_structure="kron",
             sigma_noise=sigma, prior_precision=alpha)
la.fit(loader)
if eb:
    la.optimize_prior_precision(method="marglik")
lml = la.log_marginal_likelihood().item()
print(json.dumps({"log_marginal_likelihood": lml, "iterations": iterations,
                  "max_abs_gradient": grad, "map_seconds": map_seconds,
                  "prior_precision": float(la.prior_precision.mean())}))
'''


def main():
    if not OCCAM.exists():
        raise SystemExit(f"{OCCAM} not built (cargo build --release)")
    torch_python = os.environ.get("BENCH_TORCH_PYTHON", "/tmp/torchvenv/bin/python")
    have_torch = Path(torch_python).exists() and subprocess.run(
        [torch_python, "-c", "import torch, laplace"], capture_output=True).returncode == 0
    load = open("/proc/loadavg").read().split()[0]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "mlp.csv"
        subprocess.run([str(OCCAM), *SIMULATE, "--out", str(csv)], check=True,
                       capture_output=True)
        print(f"### Networks at scale (KFAC), load average {load} at the start (under load)\n")
        print("| network | P | pipeline | wall s | CPU s | peak RSS MB | ln evidence (nats) |")
        print("|---|---|---|---|---|---|---|")
        for hidden in SIZES:
            p = 11 * hidden + (hidden + 1) * hidden + hidden + 1
            rows = []
            for fixed in (True, False):
                wall, cpu, rss, ev = occam_row(csv, hidden, fixed)
                name = "occam, s = 0.2, σ = 0.5" if fixed else "occam, EB for s and σ"
                rows.append((name, wall, cpu, rss, ev["log_nats"]))
                if fixed:
                    occam_wall = wall
            if have_torch:
                for eb in (False, True):
                    script = Path(tmp) / "torch_side.py"
                    script.write_text(TORCH_SIDE)
                    wall, cpu, rss, out = timed([torch_python, str(script), str(csv), str(hidden),
                                                 "eb" if eb else "fixed"])
                    result = json.loads(out)
                    name = ("laplace-torch kron + optimize_prior_precision" if eb
                            else "torch L-BFGS MAP + laplace-torch kron")
                    # laplace-torch's evidence is of the z-scored target, with its own
                    # conventions (W and b in separate Kronecker blocks); occam's log_nats is as
                    # docs/cli.md defines it. Printed side by side, not compared.
                    rows.append((f"{name} ({result['iterations']} its)", wall, cpu, rss,
                                 result["log_marginal_likelihood"]))
                    if not eb:
                        torch_wall = wall
            for name, wall, cpu, rss, lml in rows:
                print(f"| 10-{hidden}-{hidden}-1 | {p} | {name} | {wall:.1f} | {cpu:.1f} | "
                      f"{rss:.0f} | {lml:.2f} |")
            goal = GOAL_SECONDS.get(hidden)
            if goal is not None:
                verdict = "met" if occam_wall <= goal else "NOT met"
                print(f"\noccam's goal ≤ {goal:.0f} s for 10-{hidden}-{hidden}-1: {verdict} "
                      f"({occam_wall:.1f} s under load)")
            if have_torch:
                print(f"end to end vs torch: {torch_wall / occam_wall:.1f}× "
                      f"(goal ≥ {GOAL_SPEEDUP:.0f}×)\n")
        if not have_torch:
            print(f"\n(torch side skipped: no torch and laplace-torch at {torch_python}; "
                  "set BENCH_TORCH_PYTHON)")


if __name__ == "__main__":
    sys.exit(main())
