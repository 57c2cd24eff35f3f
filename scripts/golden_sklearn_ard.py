"""Golden reference values from scikit-learn's ARDRegression for occam's ARD prior (math.md §8).

Run via `bash scripts/golden_sklearn.sh` (pinned venv); prints one JSON object to stdout.
ARD on the z-scored diabetes features (StandardScaler, population sd), the target centred by
fit_intercept: one prior precision per feature, flat hyperpriors (all four Gamma parameters TINY = 1e-12),
`threshold_lambda` = the largest double (sklearn refuses inf; nothing is pruned by a threshold), iterated until the weights stop moving.
Naming: sklearn's `alpha_` is the NOISE precision, `lambda_` the per-feature WEIGHT precisions.
The log evidence at sklearn's answer is computed here independently, in the n × n form
y ~ N(0, I/alpha + X diag(1/lambda) X^T), over the features whose lambda stays finite.
"""
import json
import sys

import numpy as np
import scipy
import sklearn
from sklearn.linear_model import ARDRegression
from sklearn.preprocessing import StandardScaler

MAX_ITER = 100_000
# sklearn stops when Σ|Δcoef| < tol; its weights wobble at ~1e-9 relative from rounding, so
# tighter is unreachable.
TOL = 1e-7
# Flat hyperpriors: sklearn divides by coef² + 2·lambda_2, so exactly 0 breaks it once a weight
# reaches 0; at 1e-12 their pull is ~1e-14 relative on every precision that stays finite.
TINY = 1e-12


def fail(msg):
    sys.exit(f"golden_sklearn_ard.py: {msg}")


def floats(a):
    a = np.asarray(a, dtype=np.float64)
    return float(a) if a.ndim == 0 else [float(v) for v in a]


data = np.genfromtxt("data/diabetes.csv", delimiter=",", names=True)
names = list(data.dtype.names)
features, target = names[:-1], names[-1]
if len(features) != 10 or target != "progression":
    fail(f"unexpected columns {names}")
X = np.column_stack([data[f] for f in features])
y = data[target]
n = len(y)
Xs = StandardScaler().fit_transform(X)
y_c = y - y.mean()

ard = ARDRegression(max_iter=MAX_ITER, tol=TOL, alpha_1=TINY, alpha_2=TINY, lambda_1=TINY,
                    lambda_2=TINY, threshold_lambda=sys.float_info.max, compute_score=False,
                    fit_intercept=True).fit(Xs, y)
if ard.n_iter_ >= MAX_ITER:
    fail(f"ARDRegression did not converge in {MAX_ITER} iterations")
lam = np.asarray(ard.lambda_, dtype=np.float64)
alpha = float(ard.alpha_)
coef = np.asarray(ard.coef_, dtype=np.float64)

# A feature whose precision ran away is pruned: with exactly flat hyperpriors lambda -> inf, its
# weight is 0 and it drops out of the evidence (math.md §8); with TINY ones lambda stops near
# gamma / (2 TINY), beyond 1e4 times the data's precision on the feature (the kept ones sit below 10).
data_precision = alpha * np.sum(Xs**2, axis=0)
pruned = lam > 1e4 * data_precision
keep = ~pruned
C = np.eye(n) / alpha + (Xs[:, keep] / lam[keep]) @ Xs[:, keep].T
L = np.linalg.cholesky(C)
z = np.linalg.solve(L, y_c)
log_evidence = -0.5 * (n * np.log(2 * np.pi) + 2.0 * np.sum(np.log(np.diag(L))) + z @ z)

# The fixed point's own residual: MacKay's update applied once more moves nothing.
A = np.diag(lam[keep]) + alpha * Xs[:, keep].T @ Xs[:, keep]
S = np.linalg.inv(A)
m = alpha * S @ Xs[:, keep].T @ y_c
gamma = 1.0 - lam[keep] * np.diag(S)
lam_next = gamma / m**2
if np.max(np.abs(lam_next / lam[keep] - 1.0)) > 1e-6:
    fail(f"not at the fixed point: {lam_next / lam[keep] - 1.0}")

json.dump({
    "source": "scripts/golden_sklearn_ard.py",
    "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
    "features": features,
    "n": n,
    "n_iter": int(ard.n_iter_),
    "coef": floats(coef),
    "lambda": [float(v) if k else None for v, k in zip(lam, keep)],
    "pruned": [bool(p) for p in pruned],
    "alpha": alpha,
    "log_evidence_nxn": float(log_evidence),
}, sys.stdout, indent=1)
print()
