"""A small, deterministic logistic regression with bounds on the coefficients (training only)."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_logistic", "log_loss"]


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Return the mean negative log-likelihood of 0/1 outcomes under probabilities p."""
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    nonnegative: np.ndarray | None = None,
    l2: float = 1e-4,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Fit intercept and coefficients by L-BFGS-B; ``nonnegative[j]`` forces coefficient j >= 0.

    The L2 penalty (on coefficients, not the intercept) is per observation, so it does not
    grow with the sample. Columns are scaled internally for a well-conditioned problem.
    """
    from scipy.optimize import minimize

    n, k = x.shape
    w = np.ones(n) if weights is None else weights
    total = w.sum()
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    rate = np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + xs @ theta[1:]
        # log(1 + e^z) - y z, computed stably
        loss = np.sum(w * (np.logaddexp(0.0, z) - y * z)) / total
        p = np.exp(-np.logaddexp(0.0, -z))
        residual = w * (p - y) / total
        grad = np.concatenate([[residual.sum()], xs.T @ residual])
        loss += 0.5 * l2 * float(theta[1:] @ theta[1:])
        grad[1:] += l2 * theta[1:]
        return float(loss), grad

    bounds = [(None, None)] + [
        (0.0, None) if (nonnegative is not None and nonnegative[j]) else (None, None)
        for j in range(k)
    ]
    start = np.zeros(k + 1)
    start[0] = np.log(rate / (1 - rate))
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-14},
    )  # fmt: skip
    theta = result.x
    return float(theta[0]), theta[1:] / scale
