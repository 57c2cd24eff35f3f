"""Golden reference values from scikit-learn for occam's Bayesian linear regression.

Run via `bash scripts/golden_sklearn.sh` (pinned venv); prints one JSON object to stdout.
Naming: sklearn's `alpha_` is the NOISE precision, `lambda_` the WEIGHT (prior) precision.
"""
import json
import sys

import numpy as np
import scipy
import sklearn
from sklearn.linear_model import BayesianRidge, Ridge
from sklearn.preprocessing import StandardScaler

MAX_ITER = 100_000
# (prior_precision, noise_precision) pairs with fixed hyperparameters.
FIXED = [(1e-3, 1 / 3000), (0.05, 1 / 2900), (2.0, 1 / 2500)]


def fail(msg):
    sys.exit(f"golden_sklearn.py: {msg}")


def floats(a):
    """numpy scalar/array -> plain Python float(s), so json writes repr (17 digits)."""
    a = np.asarray(a, dtype=np.float64)
    return float(a) if a.ndim == 0 else [float(v) for v in a]


def log_evidence_nxn(X, y_c, prior_precision, noise_precision):
    """log N(y_c | 0, I/noise_precision + X X^T/prior_precision), via Cholesky."""
    n = len(y_c)
    C = np.eye(n) / noise_precision + (X @ X.T) / prior_precision
    L = np.linalg.cholesky(C)
    z = np.linalg.solve(L, y_c)
    logdet = 2.0 * np.sum(np.log(np.diag(L)))
    return -0.5 * (n * np.log(2 * np.pi) + logdet + z @ z)


# --- data ---------------------------------------------------------------------
data = np.genfromtxt("data/diabetes.csv", delimiter=",", names=True)
names = list(data.dtype.names)
features, target = names[:-1], names[-1]
if len(features) != 10 or target != "progression":
    fail(f"unexpected columns {names}")
X = np.column_stack([data[f] for f in features])
y = data[target]
n = len(y)

scaler = StandardScaler().fit(X)  # population sd (ddof=0)
Xs = scaler.transform(X)
y_c = y - y.mean()

# --- BayesianRidge with evidence-maximised hyperparameters (flat hyperpriors) ------
br = BayesianRidge(alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0, tol=1e-14,
                   max_iter=MAX_ITER, compute_score=True, fit_intercept=True).fit(Xs, y)
if br.n_iter_ >= MAX_ITER:
    fail(f"BayesianRidge did not converge in {MAX_ITER} iterations")
tail = br.scores_[-10:]
if np.any(np.diff(tail) < -1e-12 * np.abs(tail[:-1])):  # allow round-off only
    fail(f"scores_ decreasing near the end: {tail}")
bayesian_ridge = {
    "noise_precision": floats(br.alpha_),
    "prior_precision": floats(br.lambda_),
    "noise_sd": floats(1 / np.sqrt(br.alpha_)),
    "prior_sd": floats(1 / np.sqrt(br.lambda_)),
    "weights": floats(br.coef_),
    "intercept": floats(br.intercept_),
    "log_evidence": floats(br.scores_[-1]),
    # Same quantity from the n x n Gaussian form, for comparison.
    "log_evidence_nxn": floats(log_evidence_nxn(Xs, y_c, br.lambda_, br.alpha_)),
    "n_iter_": int(br.n_iter_),
}

# --- fixed hyperparameters ----------------------------------------------------
# In BayesianRidge.fit, scores_[0] is computed inside the first loop iteration from
# alpha_init/lambda_init, before the MacKay update (checked against sklearn's source).
fixed = []
for prior_precision, noise_precision in FIXED:
    one = BayesianRidge(alpha_init=noise_precision, lambda_init=prior_precision,
                        max_iter=1, compute_score=True, alpha_1=0, alpha_2=0,
                        lambda_1=0, lambda_2=0, fit_intercept=True).fit(Xs, y)
    ridge = Ridge(alpha=prior_precision / noise_precision, fit_intercept=True,
                  solver="cholesky").fit(Xs, y)
    fixed.append({
        "prior_precision": prior_precision,
        "noise_precision": noise_precision,
        "method": "sklearn BayesianRidge scores_[0] (max_iter=1, alpha_init/lambda_init)",
        "log_evidence": floats(one.scores_[0]),
        "log_evidence_nxn": floats(log_evidence_nxn(Xs, y_c, prior_precision, noise_precision)),
        "ridge_weights": floats(ridge.coef_),
        "ridge_intercept": floats(ridge.intercept_),
    })

print(json.dumps({
    "generator": {"command": "bash scripts/golden_sklearn.sh",
                  "sklearn": sklearn.__version__, "numpy": np.__version__,
                  "scipy": scipy.__version__},
    "dataset": "diabetes",
    "n": n,
    "features": features,
    "x_mean": floats(scaler.mean_),
    "x_sd": floats(scaler.scale_),
    "y_mean": floats(y.mean()),
    "bayesian_ridge": bayesian_ridge,
    "fixed_hyperparameters": fixed,
}, indent=1))
