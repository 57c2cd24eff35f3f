"""Golden reference values from scikit-learn for occam's linear-softmax (multinomial) regression.

Run via `bash scripts/golden_sklearn.sh` (pinned venv); prints one JSON object to stdout.

scikit-learn's multinomial LogisticRegression(C) (lbfgs, K ≥ 3 classes) minimises
C·Σᵢ ℓᵢ + ½‖W‖²_F, ℓᵢ = ln Σ_c exp(η_ic) − η_{i,yᵢ}, η_ic = w_cᵀxᵢ, over all K weight vectors — the
symmetric parametrisation of math.md §7. Given the z-scored iris features plus a column of ones and
fit_intercept=False, the ones column's weights are the K intercepts under the same prior, so dividing
by C gives occam's negative log posterior Σℓᵢ + ‖θ‖²/(2s²) with s² = C and the default `shared`
intercept. θ is class-major: row c of `coef` is (w_c, b_c), the intercept last, as occam orders it.

Convergence: sklearn's lbfgs stops on scipy's relative-decrease rule, so each answer is checked here in
numpy (gradient, Newton step) and polished with exact Newton steps on
H = Σᵢ (diag pᵢ − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ + I/C (C times sklearn's objective's Hessian divided by C); `coef` is
the polished optimum, `coef_sklearn` sklearn's own answer. sklearn's newton-cholesky solver is
fitted too, as an independent check of the polished optimum.
"""
import json
import math
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy.special import logsumexp, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("error")

CS = [0.01, 0.1, 1.0, 10.0, 100.0]
MAX_ITER = 100_000
TOL = 1e-12
SKLEARN_GRADIENT_LIMIT = 1e-6
OPTIMUM_LIMIT = 1e-12
NEWTON_CHOLESKY_LIMIT = 1e-8


def fail(msg):
    sys.exit(f"golden_sklearn_softmax.py: {msg}")


def floats(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return float(a)
    return [floats(v) for v in a]


class Objective:
    """C·Σℓᵢ + ½‖θ‖² over θ = W (K × m, flattened row by row) on X̃ = (Z, 1)."""

    def __init__(self, X, y, K, C):
        self.X, self.y, self.K, self.C = X, y.astype(int), K, C
        self.n, self.m = X.shape
        self.Y = np.eye(K)[self.y]

    def eta(self, theta):
        return self.X @ theta.reshape(self.K, self.m).T

    def value(self, theta):
        eta = self.eta(theta)
        nll = np.sum(logsumexp(eta, axis=1) - eta[np.arange(self.n), self.y])
        return self.C * nll + 0.5 * theta @ theta

    def gradient(self, theta):
        p = softmax(self.eta(theta), axis=1)
        return self.C * ((p - self.Y).T @ self.X).ravel() + theta

    def hessian(self, theta):
        p = softmax(self.eta(theta), axis=1)
        K, m = self.K, self.m
        h = np.zeros((K * m, K * m))
        for c in range(K):
            for d in range(K):
                w = p[:, c] * ((c == d) - p[:, d])
                h[c * m:(c + 1) * m, d * m:(d + 1) * m] = (self.X.T * w) @ self.X
        return self.C * h + np.eye(K * m)

    def gradient_scale(self):
        return float(np.max(np.abs(self.gradient(np.zeros(self.K * self.m)))))

    def check(self, theta):
        g = self.gradient(theta)
        step = np.linalg.solve(self.hessian(theta), g)
        return (float(np.max(np.abs(g))), float(np.max(np.abs(g))) / self.gradient_scale(),
                float(np.max(np.abs(step))) / float(np.max(np.abs(theta))))

    def polish(self, theta, max_steps=20):
        for steps in range(1, max_steps + 1):
            step = np.linalg.solve(self.hessian(theta), self.gradient(theta))
            theta = theta - step
            if np.max(np.abs(step)) <= 1e-14 * np.max(np.abs(theta)):
                return theta, steps
        return theta, max_steps


def fit(C, solver, X, y):
    return LogisticRegression(C=C, l1_ratio=0.0, solver=solver, tol=TOL, max_iter=MAX_ITER,
                              fit_intercept=False).fit(X, y)


def fit_record(X, y, K, C):
    obj = Objective(X, y, K, C)
    model = fit(C, "lbfgs", X, y)
    if model.coef_.shape != (K, X.shape[1]):
        fail(f"C={C}: coef_ shape {model.coef_.shape} is not multinomial K × m")
    n_iter = int(np.max(model.n_iter_))
    theta_sk = model.coef_.ravel()
    g_abs, g_rel, step_rel = obj.check(theta_sk)
    if not g_rel < SKLEARN_GRADIENT_LIMIT:
        fail(f"C={C}: sklearn's gradient max|∇|/scale = {g_rel:e}")
    theta, steps = obj.polish(theta_sk)
    p_abs, p_rel, p_step = obj.check(theta)
    if not (p_rel < OPTIMUM_LIMIT and p_step < OPTIMUM_LIMIT):
        fail(f"C={C}: polished optimum not converged: gradient {p_rel:e}, step {p_step:e}")
    nc = fit(C, "newton-cholesky", X, y)
    theta_nc = nc.coef_.ravel()
    nc_diff = float(np.max(np.abs(theta_nc - theta)) / np.max(np.abs(theta)))
    if not nc_diff < NEWTON_CHOLESKY_LIMIT:
        fail(f"C={C}: newton-cholesky differs from the polished optimum by {nc_diff:e}")
    eta = obj.eta(theta)
    nll = float(np.sum(logsumexp(eta, axis=1) - eta[np.arange(obj.n), obj.y]))
    return {
        "C": C,
        "prior_sd": math.sqrt(C),
        "coef": floats(theta.reshape(K, -1)),
        "objective": floats(obj.value(theta)),
        "negative_log_likelihood": nll,
        "gradient_max_abs_relative": p_rel,
        "newton_step_relative": p_step,
        "polish_newton_steps": steps,
        "coef_sklearn": floats(model.coef_),
        "n_iter": n_iter,
        "max_relative_difference_sklearn_vs_coef": floats(
            np.max(np.abs(theta_sk - theta)) / np.max(np.abs(theta))),
        "newton_cholesky_max_relative_difference_vs_coef": nc_diff,
    }


data = np.genfromtxt("data/iris.csv", delimiter=",", names=True)
names = list(data.dtype.names)
features, target = names[:-1], names[-1]
if len(features) != 4 or target != "species":
    fail(f"unexpected columns {names}")
Xraw = np.column_stack([data[f] for f in features])
classes = sorted(set(float(v) for v in data[target]))
y = np.array([classes.index(float(v)) for v in data[target]])
K = len(classes)
if K != 3:
    fail(f"expected three classes, got {classes}")
scaler = StandardScaler().fit(Xraw)
X = np.column_stack([scaler.transform(Xraw), np.ones(len(y))])
fits = [fit_record(X, y, K, C) for C in CS]

sys.stdout.reconfigure(encoding="utf-8")
print(json.dumps({
    "generator": {"command": "bash scripts/golden_sklearn.sh",
                  "sklearn": sklearn.__version__, "numpy": np.__version__,
                  "scipy": scipy.__version__},
    "estimator": f"LogisticRegression(C=C, l1_ratio=0.0, solver='lbfgs', tol={TOL}, "
                 f"max_iter={MAX_ITER}, fit_intercept=False) on StandardScaler features and a "
                 f"column of ones (multinomial, K = 3)",
    "objective": "C·Σℓᵢ + ½‖θ‖², ℓᵢ = ln Σ_c exp(η_ic) − η_{i,yᵢ}, every weight and intercept "
                 "penalised; occam: prior sd s = √C on all K(k+1) parameters, --intercept shared",
    "layout": "coef is K × (k+1): row c = class c (labels in sorted order), the k standardised "
              "weights, then the intercept (the ones column's weight)",
    "dataset": "iris",
    "n": len(y),
    "features": features,
    "target": target,
    "classes": classes,
    "x_mean": floats(scaler.mean_),
    "x_sd": floats(scaler.scale_),
    "fits": fits,
}, indent=1, ensure_ascii=False))
