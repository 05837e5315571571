"""Logistic regression on aggregated binomial counts, in pure Python (stdlib only).

A multivariate experience's report fits one model per goal on a handful of rows (one per
combination: its design row, its visitors n and converting visitors x), so a few dozen
lines of IRLS replace numpy and statsmodels, which the Lambda package does not carry.
`logistic_fit` is the maximum-likelihood fit of P(convert) = 1 / (1 + exp(-x'b)), the
model statsmodels calls `GLM(endog=[x, n - x], family=Binomial())` (tests/unit/
test_report_multivariate.py checks coefficients and standard errors against it to 1e-6);
`new_directions` tells which columns add something the earlier ones do not span (the
check that names aliased effects in a fractional design).

>>> fit = logistic_fit([[1.0, 0.0], [1.0, 1.0]], successes=[100, 150], trials=[1000, 1000])
>>> [round(b, 4) for b in fit.coefficients], [round(s, 4) for s in fit.standard_errors]
([-2.1972, 0.4626], [0.1054, 0.1377])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LogisticFit", "RegressionError", "logistic_fit", "new_directions", "solve"]

Matrix = list[list[float]]

# Quadratic convergence: once a step is this small the next would change nothing printed.
_STEP_TOL = 1e-10
_MAX_ITER = 100
# Relative size under which a column's remainder (after the earlier columns are taken out)
# counts as zero: far above rounding (1e-16) and far below any real design difference.
_RANK_TOL = 1e-9


class RegressionError(ValueError):
    """The fit does not exist or did not converge; the sentence says why."""


@dataclass(frozen=True, slots=True)
class LogisticFit:
    """Coefficients (log odds), their covariance (the inverse Fisher information) and how
    many IRLS steps it took."""

    coefficients: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    iterations: int

    @property
    def standard_errors(self) -> tuple[float, ...]:
        return tuple(
            math.sqrt(max(0.0, self.covariance[i][i])) for i in range(len(self.covariance))
        )

    def contrast(self, weights: Sequence[float]) -> tuple[float, float]:
        """Estimate and standard error of sum(w_i b_i).

        >>> fit = LogisticFit((1.0, 2.0), ((1.0, 0.5), (0.5, 4.0)), 1)
        >>> fit.contrast([1.0, 1.0])
        (3.0, 2.449489742783178)
        """
        estimate = math.fsum(w * b for w, b in zip(weights, self.coefficients, strict=True))
        variance = math.fsum(
            wi * wj * self.covariance[i][j]
            for i, wi in enumerate(weights)
            for j, wj in enumerate(weights)
            if wi and wj
        )
        return estimate, math.sqrt(max(0.0, variance))


def logistic_fit(
    rows: Sequence[Sequence[float]], *, successes: Sequence[float], trials: Sequence[float]
) -> LogisticFit:
    """Maximum likelihood by iteratively reweighted least squares (Newton's method on the
    binomial log-likelihood; the logit link is canonical, so the two coincide).

    Rows with no trials carry no information and are left out. The estimate exists when the
    design has full column rank on the rows with trials and no row has all or none of its
    trials converted (then no direction separates successes from failures); otherwise
    `RegressionError` says which.
    """
    used = [(list(map(float, r)), float(s), float(n)) for r, s, n in _rows(rows, successes, trials)]
    if not used:
        raise RegressionError("no row has any trials")
    width = len(used[0][0])
    if len(new_directions([r for r, _, _ in used])) < width:
        raise RegressionError("the design is not of full rank on the rows with trials")
    if any(s <= 0 or s >= n for _, s, n in used):
        raise RegressionError("a row has all or none of its trials converted")
    pooled = sum(s for _, s, _ in used) / sum(n for _, _, n in used)
    # Start at the pooled rate (intercept only): the first step is then already close.
    beta = [0.0] * width
    beta[0] = math.log(pooled / (1 - pooled)) if all(r[0] == 1.0 for r, _, _ in used) else 0.0
    for iteration in range(1, _MAX_ITER + 1):
        information, score = _newton_terms(used, beta)
        step = solve(information, score)
        beta = [b + d for b, d in zip(beta, step, strict=True)]
        if max(abs(d) for d in step) < _STEP_TOL * (1 + max(abs(b) for b in beta)):
            information, _ = _newton_terms(used, beta)
            covariance = _inverse(information)
            return LogisticFit(tuple(beta), tuple(tuple(row) for row in covariance), iteration)
    raise RegressionError(f"the fit did not converge in {_MAX_ITER} steps")


def new_directions(columns_by_row: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the columns not spanned by the columns before them (Gram-Schmidt).

    >>> new_directions([[1, 0, 1], [1, 1, 2], [1, 0, 1]])
    [0, 1]
    """
    if not columns_by_row:
        return []
    width = len(columns_by_row[0])
    columns = [[float(row[j]) for row in columns_by_row] for j in range(width)]
    basis: list[list[float]] = []
    kept = []
    for index, column in enumerate(columns):
        rest = list(column)
        # Twice: the second pass removes what rounding left of the first (Kahan's "twice is
        # enough"), so a spanned column's remainder is near 1e-16, not 1e-8.
        for _ in range(2):
            for unit in basis:
                dot = math.fsum(a * b for a, b in zip(rest, unit, strict=True))
                rest = [a - dot * b for a, b in zip(rest, unit, strict=True)]
        norm = math.sqrt(math.fsum(a * a for a in rest))
        scale = math.sqrt(math.fsum(a * a for a in column))
        if scale > 0 and norm > _RANK_TOL * scale:
            basis.append([a / norm for a in rest])
            kept.append(index)
    return kept


def solve(matrix: Matrix, vector: Sequence[float]) -> list[float]:
    """x with matrix @ x = vector, for a symmetric positive definite matrix (Cholesky).

    >>> [round(x, 12) for x in solve([[4.0, 2.0], [2.0, 3.0]], [2.0, 5.0])]
    [-0.5, 2.0]
    """
    lower = _cholesky(matrix)
    size = len(vector)
    y = [0.0] * size
    for i in range(size):
        y[i] = (vector[i] - math.fsum(lower[i][k] * y[k] for k in range(i))) / lower[i][i]
    x = [0.0] * size
    for i in reversed(range(size)):
        x[i] = (y[i] - math.fsum(lower[k][i] * x[k] for k in range(i + 1, size))) / lower[i][i]
    return x


def _rows(
    rows: Sequence[Sequence[float]], successes: Sequence[float], trials: Sequence[float]
) -> list[tuple[Sequence[float], float, float]]:
    if not len(rows) == len(successes) == len(trials):
        raise ValueError(
            f"{len(rows)} rows, {len(successes)} successes and {len(trials)} trials differ"
        )
    return [(r, s, n) for r, s, n in zip(rows, successes, trials, strict=True) if n > 0]


def _newton_terms(
    used: Sequence[tuple[list[float], float, float]], beta: Sequence[float]
) -> tuple[Matrix, list[float]]:
    """Fisher information X'WX and score X'(s - n p) at beta."""
    width = len(beta)
    information = [[0.0] * width for _ in range(width)]
    score = [0.0] * width
    for row, s, n in used:
        eta = math.fsum(x * b for x, b in zip(row, beta, strict=True))
        p = _sigmoid(eta)
        weight = n * p * (1 - p)
        residual = s - n * p
        for i in range(width):
            if row[i]:
                score[i] += row[i] * residual
                for j in range(i + 1):
                    information[i][j] += row[i] * row[j] * weight
    for i in range(width):
        for j in range(i):
            information[j][i] = information[i][j]
    return information, score


def _sigmoid(eta: float) -> float:
    # Either form alone overflows exp() on one side.
    if eta >= 0:
        return 1.0 / (1.0 + math.exp(-eta))
    e = math.exp(eta)
    return e / (1.0 + e)


def _cholesky(matrix: Matrix) -> Matrix:
    size = len(matrix)
    lower = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1):
            total = matrix[i][j] - math.fsum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if total <= 0:
                    raise RegressionError("the information matrix is not positive definite")
                lower[i][i] = math.sqrt(total)
            else:
                lower[i][j] = total / lower[j][j]
    return lower


def _inverse(matrix: Matrix) -> Matrix:
    size = len(matrix)
    columns = [solve(matrix, [1.0 if i == j else 0.0 for i in range(size)]) for j in range(size)]
    return [[columns[j][i] for j in range(size)] for i in range(size)]
