"""Statistics over seeds: mean curves and bootstrap intervals of prunability."""
from __future__ import annotations

import numpy as np

from theory.prunability import prunability_with_censoring


def mean_curve(errors: np.ndarray, dead: np.ndarray | None = None) -> np.ndarray:
    """Mean over seeds (rows) at each ladder point (columns), excluding dead members. A point where
    every member is dead counts as chance (0.5): a dead network is a failed pruning, not a gap."""
    errors = np.asarray(errors, dtype=float)
    live = ~np.asarray(dead, dtype=bool) if dead is not None else np.ones_like(errors, dtype=bool)
    live &= np.isfinite(errors)
    counts = live.sum(axis=0)
    sums = np.where(live, errors, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), 0.5)


def prunability_interval(sparsity, errors, dense, tolerance, dead=None, n_bootstrap=1000,
                         confidence=0.9, seed=0) -> dict:
    """Prunability of the mean curve over seeds, with a percentile bootstrap interval over seeds.

    errors: (n_seeds, n_levels); dense: (n_seeds,) reference errors (the dense control).
    """
    errors = np.asarray(errors, dtype=float)
    dense = np.asarray(dense, dtype=float)
    dead = np.zeros_like(errors, dtype=bool) if dead is None else np.asarray(dead, dtype=bool)
    p, censored = prunability_with_censoring(sparsity, mean_curve(errors, dead), float(np.mean(dense)), tolerance)
    rng = np.random.default_rng(seed)
    n = errors.shape[0]
    boots = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        boots[b] = prunability_with_censoring(sparsity, mean_curve(errors[idx], dead[idx]),
                                              float(np.mean(dense[idx])), tolerance)[0]
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return {"prunability": p, "censored": censored, "low": float(lo), "high": float(hi), "n_seeds": n}
