"""Golden reference values from scikit-learn for occam's L2-penalised logistic regression.

Run via `bash scripts/golden_sklearn.sh` (pinned venv); prints one JSON object to stdout.

scikit-learn's LogisticRegression(C) minimises C·Σℓᵢ + ½‖w‖² with ℓᵢ = softplus(ηᵢ) − yᵢηᵢ and the
intercept unpenalised; dividing by C gives occam's negative log posterior Σℓᵢ + ‖w‖²/(2s²) with
s² = C and a flat prior on the intercept (math.md §2; occam `--intercept free`).

Convergence: sklearn's lbfgs stops on scipy's relative-decrease rule (ftol = 64·eps, hard-coded in
sklearn), not on `tol`, so its answer can sit ~1e-6 (relative) from the optimum even with
tol=1e-12. Each fit is therefore checked here in numpy (gradient of the objective and the size of the
Newton step at sklearn's solution) and, where the Newton step is not negligible, polished with exact
Newton steps; `coef`/`intercept` are then the polished optimum and `coef_sklearn`/`intercept_sklearn`
sklearn's own answer. sklearn's newton-cholesky solver is fitted too, as an independent check of the
polished optimum.
"""
import json
import math
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

# Deprecations and ConvergenceWarnings are failures: the golden values must come from a clean run.
warnings.simplefilter("error")

CS = [0.01, 0.1, 1.0, 10.0]
MAX_ITER = 100_000
TOL = 1e-12
# sklearn's lbfgs answer must at least have a small gradient: max|∇| / max|∇ at θ = 0|.
SKLEARN_GRADIENT_LIMIT = 1e-7
# The recorded optimum: relative gradient and relative Newton step below this; sklearn's answer is
# polished with Newton steps when it is not.
OPTIMUM_LIMIT = 1e-12
# sklearn's newton-cholesky must agree with the polished optimum to this (relative max-abs).
NEWTON_CHOLESKY_LIMIT = 1e-9


def fail(msg):
    sys.exit(f"golden_sklearn_logistic.py: {msg}")


def floats(a):
    """numpy scalar/array -> plain Python float(s), so json writes repr (17 digits)."""
    a = np.asarray(a, dtype=np.float64)
    return float(a) if a.ndim == 0 else [float(v) for v in a]


def lbfgs(C):
    # sklearn 1.8 deprecated `penalty`; l1_ratio=0 is the L2 penalty (checked: no FutureWarning).
    return LogisticRegression(C=C, l1_ratio=0.0, solver="lbfgs", tol=TOL, max_iter=MAX_ITER,
                              fit_intercept=True)


class Objective:
    """C·Σℓᵢ + ½‖w‖² over θ = (w, b), b unpenalised, on the design Z (already standardised)."""

    def __init__(self, Z, y, C):
        self.X = np.column_stack([Z, np.ones(len(y))])
        self.y = y
        self.C = C
        self.k = Z.shape[1]

    def value(self, theta):
        eta = self.X @ theta
        w = theta[:self.k]
        return self.C * np.sum(np.logaddexp(0.0, eta) - self.y * eta) + 0.5 * (w @ w)

    def gradient(self, theta):
        g = self.C * (self.X.T @ (expit(self.X @ theta) - self.y))
        g[:self.k] += theta[:self.k]
        return g

    def hessian(self, theta):
        p = expit(self.X @ theta)
        h = self.C * (self.X.T * (p * (1.0 - p))) @ self.X
        h[np.arange(self.k), np.arange(self.k)] += 1.0
        return h

    def gradient_scale(self):
        """max|∇| at θ = 0 (where p = ½): the size against which a gradient counts as small."""
        return float(np.max(np.abs(self.gradient(np.zeros(self.k + 1)))))

    def check(self, theta):
        """(max|∇|, max|∇|/scale, max|Newton step|/max|θ|) at θ."""
        g = self.gradient(theta)
        step = np.linalg.solve(self.hessian(theta), g)
        return (float(np.max(np.abs(g))), float(np.max(np.abs(g))) / self.gradient_scale(),
                float(np.max(np.abs(step))) / float(np.max(np.abs(theta))))

    def polish(self, theta, max_steps=20):
        """Exact Newton steps from θ until the step is at rounding level; returns (θ, steps)."""
        for steps in range(1, max_steps + 1):
            step = np.linalg.solve(self.hessian(theta), self.gradient(theta))
            theta = theta - step
            if np.max(np.abs(step)) <= 1e-14 * np.max(np.abs(theta)):
                return theta, steps
        return theta, max_steps


def fit_record(Z, y, C, label):
    """One C: sklearn's lbfgs answer, the numpy check, polishing where needed, newton-cholesky."""
    obj = Objective(Z, y, C)
    model = lbfgs(C).fit(Z, y)
    n_iter = int(model.n_iter_[0])
    if n_iter >= MAX_ITER:
        fail(f"{label}: lbfgs hit max_iter")
    theta_sk = np.append(model.coef_[0], model.intercept_[0])
    g_abs, g_rel, step_rel = obj.check(theta_sk)
    if not g_rel < SKLEARN_GRADIENT_LIMIT:
        fail(f"{label}: sklearn's gradient max|∇|/scale = {g_rel:e} ≥ {SKLEARN_GRADIENT_LIMIT:e}")
    record = {"C": C, "prior_sd": math.sqrt(C)}
    if not (g_rel < OPTIMUM_LIMIT and step_rel < OPTIMUM_LIMIT):
        theta, steps = obj.polish(theta_sk)
        record["note"] = (
            f"sklearn's lbfgs stopped on its relative-decrease rule (ftol = 64·eps) after {n_iter} "
            f"iterations with max|∇| = {g_abs:.3e} ({g_rel:.3e} of max|∇| at 0), but the Newton "
            f"step there is {step_rel:.3e} of max|θ|, so its answer is that far from the optimum; "
            f"coef/intercept are its answer polished with {steps} exact Newton step(s) in numpy "
            f"(coef_sklearn/intercept_sklearn are sklearn's own)")
    else:
        theta, steps = theta_sk, 0
    p_abs, p_rel, p_step = obj.check(theta)
    if not (p_rel < OPTIMUM_LIMIT and p_step < OPTIMUM_LIMIT):
        fail(f"{label}: polished optimum not converged: gradient {p_rel:e}, step {p_step:e}")

    nc = LogisticRegression(C=C, l1_ratio=0.0, solver="newton-cholesky", tol=TOL,
                            max_iter=MAX_ITER, fit_intercept=True).fit(Z, y)
    theta_nc = np.append(nc.coef_[0], nc.intercept_[0])
    nc_diff = float(np.max(np.abs(theta_nc - theta)) / np.max(np.abs(theta)))
    if not nc_diff < NEWTON_CHOLESKY_LIMIT:
        fail(f"{label}: newton-cholesky differs from the polished optimum by {nc_diff:e}")

    k = Z.shape[1]
    record.update({
        "coef": floats(theta[:k]),
        "intercept": floats(theta[k]),
        "objective": floats(obj.value(theta)),
        "gradient_max_abs": p_abs,
        "gradient_max_abs_relative": p_rel,
        "newton_step_relative": p_step,
        "polish_newton_steps": steps,
        "coef_sklearn": floats(theta_sk[:k]),
        "intercept_sklearn": floats(theta_sk[k]),
        "n_iter": n_iter,
        "objective_sklearn": floats(obj.value(theta_sk)),
        "gradient_max_abs_sklearn": g_abs,
        "gradient_max_abs_relative_sklearn": g_rel,
        "newton_step_relative_sklearn": step_rel,
        "max_relative_difference_sklearn_vs_coef": floats(
            np.max(np.abs(theta_sk - theta)) / np.max(np.abs(theta))),
        "gradient_scale": obj.gradient_scale(),
        "newton_cholesky": {
            "coef": floats(theta_nc[:k]),
            "intercept": floats(theta_nc[k]),
            "n_iter": int(nc.n_iter_[0]),
            "max_relative_difference_vs_coef": nc_diff,
        },
    })
    return record


# --- breast cancer ------------------------------------------------------------------
data = np.genfromtxt("data/breast_cancer.csv", delimiter=",", names=True)
names = list(data.dtype.names)
features, target = names[:-1], names[-1]
if len(features) != 30 or target != "benign":
    fail(f"unexpected columns {names}")
X = np.column_stack([data[f] for f in features])
y = data[target]
if set(np.unique(y)) != {0.0, 1.0}:
    fail("target is not 0/1")
scaler = StandardScaler().fit(X)  # population sd (ddof=0)
Xs = scaler.transform(X)
fits = [fit_record(Xs, y, C, f"breast_cancer C={C}") for C in CS]

# --- a linearly separable toy set ---------------------------------------------------------
# 20 rows, x0 = -1.5, -1.3, …, 2.3 (the class is x0 > 0: 8 rows of 0 and 12 of 1, a margin of 0.2
# around 0, so the intercept is not 0) and x1 a permutation of the same grid, only weakly related
# to the class. Without a prior the likelihood
# rises without bound along w0; the L2 penalty (s² = C = 1) makes the MAP finite.
grid = [round(0.2 * i - 1.5, 1) for i in range(20)]
sep_rows = [[grid[i], grid[(7 * i + 3) % 20], 1.0 if grid[i] > 0 else 0.0] for i in range(20)]
sep = np.array(sep_rows)
sep_scaler = StandardScaler().fit(sep[:, :2])
sep_z = sep_scaler.transform(sep[:, :2])
if not np.all((sep[:, 0] > 0) == (sep[:, 2] == 1)):
    fail("toy set not separated by x0 > 0")
separable = {
    "description": "20 rows separable by x0 > 0 (8 of class 0, 12 of class 1, margin 0.2); "
                   "x1 a permutation of the x0 grid; features "
                   "standardised (population sd) before fitting, as occam does",
    "features": ["x0", "x1"],
    "target": "y",
    "rows": sep_rows,
    "x_mean": floats(sep_scaler.mean_),
    "x_sd": floats(sep_scaler.scale_),
    **fit_record(sep_z, sep[:, 2], 1.0, "separable C=1"),
}

sys.stdout.reconfigure(encoding="utf-8")
print(json.dumps({
    "generator": {"command": "bash scripts/golden_sklearn.sh",
                  "sklearn": sklearn.__version__, "numpy": np.__version__,
                  "scipy": scipy.__version__},
    "estimator": f"LogisticRegression(C=C, l1_ratio=0.0, solver='lbfgs', tol={TOL}, "
                 f"max_iter={MAX_ITER}, fit_intercept=True) on StandardScaler features",
    "objective": "C·Σℓᵢ + ½‖w‖², ℓᵢ = softplus(ηᵢ) − yᵢηᵢ, intercept unpenalised; occam: prior "
                 "sd s = √C on the standardised weights, --intercept free",
    "gradient_check": "max|∇| of that objective in numpy; _relative divides by max|∇| at θ = 0; "
                      "newton_step_relative is max|H⁻¹∇| / max|θ|",
    "dataset": "breast_cancer",
    "n": len(y),
    "features": features,
    "target": target,
    "x_mean": floats(scaler.mean_),
    "x_sd": floats(scaler.scale_),
    "fits": fits,
    "separable": separable,
}, indent=1, ensure_ascii=False))
