"""The linear routes read a C-contiguous float64 X in place and check its values inside their
first pass over the rows (occam::data::UncheckedView): a NaN or ±inf anywhere must still raise
exactly the error the separate check raised (0-based row and column), on every route, and finite
values whose sums overflow must fail, never return a fit with NaN in it."""
import numpy as np
import pytest

import occam

N, K = 20_000, 3  # more rows than two of the library's 8192-row blocks


def rows():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, K)) * [1.0, 40.0, 0.01] + [0.0, -7.0, 1e4]
    y = X @ [0.8, -0.03, 50.0] + rng.standard_normal(N)
    return np.ascontiguousarray(X), y


ROUTES = {
    "fit": lambda X, y: occam.fit(X, y, codes="none"),
    "fit_raw": lambda X, y: occam.fit(X, y, codes="none", standardize=False, intercept="none"),
    "compare": lambda X, y: occam.compare(X, y, sds="1,auto", codes="none"),
    "from_arrays": lambda X, y: occam.SufficientStats.from_arrays(X, y),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_is_named_by_row_and_column_on_every_route(route, bad):
    # Rows count from 0 as numpy does; an array's columns are named x1 … xk.
    X0, y0 = rows()
    shown = {"nan": "NaN", "inf": "inf", "-inf": "-inf"}[str(bad)]
    for r, c in [(0, 0), (0, K - 1), (9000, 1), (N - 1, 0), (N - 1, K - 1)]:
        X = X0.copy()
        X[r, c] = bad
        with pytest.raises(occam.OccamError,
                           match=rf"^X: row {r}, column 'x{c + 1}': the value {shown} is not finite"):
            ROUTES[route](X, y0)
    for r in [0, N // 2, N - 1]:
        y = y0.copy()
        y[r] = bad
        with pytest.raises(occam.OccamError, match=rf"^y: row {r}: the value {shown} is not finite"):
            ROUTES[route](X0, y)
    # X's first non-finite value is named before y's, and +inf and -inf in one column (their
    # sum is NaN) are found.
    X, y = X0.copy(), y0.copy()
    X[100, 1], X[15_000, 1], y[0] = np.inf, -np.inf, np.nan
    with pytest.raises(occam.OccamError, match=r"^X: row 100, column 'x2': the value inf"):
        ROUTES[route](X, y)


def test_finite_values_whose_sums_overflow_fail_rather_than_fit_nan():
    X, y = rows()
    for scaled in (X * [1e200, 1.0, 1.0], X + [0.0, 1.7e307, 0.0]):
        assert np.isfinite(scaled).all()
        with pytest.raises(occam.FitError, match="overflow"):
            occam.fit(np.ascontiguousarray(scaled), y)


def test_the_unchecked_routes_agree_with_a_copy():
    # A Fortran-order X is converted (copied) before the fit: the same numbers either way.
    X, y = rows()
    a = occam.fit(X, y).to_dict()
    b = occam.fit(np.asfortranarray(X), y).to_dict()
    assert a == b
    assert occam.SufficientStats.from_arrays(X, y) == occam.SufficientStats.from_arrays(
        np.asfortranarray(X), y)
