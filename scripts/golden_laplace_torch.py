"""Golden reference values from laplace-torch for occam's structured (KFAC, diagonal) and
last-layer network evidences at a mode occam found.

Run via `bash scripts/golden_laplace_torch.sh` (it simulates the data and fits occam first, then
calls this script with a venv holding torch and laplace-torch); prints one JSON object to stdout.

For each case (regression, binary, 3-class) the script reads the CSV occam simulated and the fit
JSON occam wrote (`map.weights`, occam's parameter order: layer by layer, W row-major with one row
per output unit — torch's `Linear.weight` layout — then the biases), z-scores the features (and, for
regression, the target) with the population sd as occam does for networks, and builds
nn.Sequential(Linear, Tanh, …, Linear) in float64 with those weights. A binary network has one
output η; it is fed to laplace-torch's `classification` likelihood as the logits (0, η), whose
softmax is (1 − σ(η), σ(η)), so the cross-entropy and its GGN equal the Bernoulli ones exactly.

Then `Laplace(model, likelihood, subset_of_weights, hessian_structure, sigma_noise=σ_z,
prior_precision=α = 1/s², prior_mean=0)`, `fit` on one full batch, and prints
`log_det_posterior_precision`, `log_likelihood` and `log_marginal_likelihood()` for
hessian_structure 'kron' and 'diag' (subset 'all') and 'full' (subset 'last_layer').
laplace-torch's marginal likelihood is ln p(D | θ) − ½(ln|H| − ln|P₀| + (θ − μ)ᵀP₀(θ − μ)), which
is occam's ln p(D | θ̂) + ln π(θ̂) + (P/2) ln 2π − ½ ln|H| term for term (without occam's symmetry
term), so the evidences compare directly.
"""
import json
import math
import sys
import warnings

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

warnings.filterwarnings("ignore", category=FutureWarning)

from laplace import Laplace  # noqa: E402

torch.set_default_dtype(torch.float64)


def fail(msg):
    sys.exit(f"golden_laplace_torch.py: {msg}")


class PadZero(nn.Module):
    """η ↦ (0, η): a binary network's logit as two-class logits."""

    def forward(self, eta):
        return torch.cat([torch.zeros_like(eta), eta], dim=1)


def read_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [list(map(float, line.strip().split(","))) for line in f if line.strip()]
    a = np.array(rows)
    target = header.index("y")
    features = [j for j in range(len(header)) if j != target]
    return a[:, features], a[:, target], [header[j] for j in features]


def build(widths, theta):
    layers = []
    offset = 0
    for l in range(len(widths) - 1):
        fan_in, fan_out = widths[l], widths[l + 1]
        linear = nn.Linear(fan_in, fan_out)
        w = theta[offset : offset + fan_in * fan_out].reshape(fan_out, fan_in)
        offset += fan_in * fan_out
        b = theta[offset : offset + fan_out]
        offset += fan_out
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(w))
            linear.bias.copy_(torch.tensor(b))
        layers.append(linear)
        if l + 2 < len(widths):
            layers.append(nn.Tanh())
    if offset != len(theta):
        fail(f"{len(theta)} weights for widths {widths} ({offset} expected)")
    return layers


def case(name, csv, fit_json, hidden, task):
    x, y, features = read_csv(csv)
    with open(fit_json) as f:
        fit = json.load(f)
    theta = np.array(fit["map"]["weights"], dtype=np.float64)
    s = fit["prior"]["sd"]
    alpha = 1.0 / (s * s)
    x_mean, x_sd = x.mean(axis=0), x.std(axis=0)
    z = (x - x_mean) / x_sd
    n, k = z.shape
    out = {"name": name, "csv": csv.split("/")[-1], "hidden": hidden, "task": task,
           "prior_sd": s, "theta": theta.tolist(), "x_mean": x_mean.tolist(),
           "x_sd": x_sd.tolist(), "n": n}
    if task == "regression":
        y_mean, y_sd = y.mean(), y.std()
        target = torch.tensor(((y - y_mean) / y_sd)[:, None])
        sigma = fit["model"]["noise_sd"] / y_sd
        outputs = 1
        out.update({"y_mean": y_mean, "y_sd": y_sd, "noise_sd_standardised": sigma})
        likelihood = "regression"
    else:
        classes = sorted(set(y.tolist()))
        target = torch.tensor([classes.index(v) for v in y], dtype=torch.long)
        outputs = 1 if len(classes) == 2 else len(classes)
        sigma = 1.0
        likelihood = "classification"
    widths = [k] + hidden + [outputs]
    out["widths"] = widths
    loader = DataLoader(TensorDataset(torch.tensor(z), target), batch_size=n)
    results = {}
    structures = [("all", "kron"), ("all", "diag")]
    if not (outputs == 1 and likelihood == "classification"):
        # laplace-torch's last layer must be the network's last module, which the binary
        # network's (0, η) padding is not.
        structures.append(("last_layer", "full"))
    for subset, structure in structures:
        layers = build(widths, theta)
        if outputs == 1 and likelihood == "classification":
            layers.append(PadZero())
        model = nn.Sequential(*layers)
        la = Laplace(model, likelihood, subset_of_weights=subset,
                     hessian_structure=structure, sigma_noise=sigma,
                     prior_precision=alpha, prior_mean=0.0)
        la.fit(loader)
        results[f"{subset}_{structure}"] = {
            "log_det_posterior_precision": la.log_det_posterior_precision.item(),
            "log_likelihood": la.log_likelihood.item(),
            "log_marginal_likelihood": la.log_marginal_likelihood().item(),
            "parameters": int(la.n_params),
        }
    out["laplace_torch"] = results
    return out


def main():
    directory = sys.argv[1]
    cases = [
        ("regression", [5, 4], "regression"),
        ("binary", [5, 4], "classification"),
        ("three_class", [5], "classification"),
    ]
    golden = {
        "torch": torch.__version__,
        "laplace_torch": __import__("importlib.metadata").metadata.version("laplace-torch"),
        "cases": [case(name, f"{directory}/{name}.csv", f"{directory}/{name}_fit.json", hidden, task)
                  for name, hidden, task in cases],
    }
    print(json.dumps(golden, indent=1))


if __name__ == "__main__":
    main()
