"""Statistics over seeds: mean curves, seed-by-sparsity matrices and bootstrap intervals.

Intervals are percentile bootstraps over seeds (the seed is the unit of replication: it draws the
data, the teacher and the initialisation), computed by ``scipy.stats.bootstrap``. A statistic of
several arrays that must be resampled together (one seed's errors, dense error and dead flags) is
bootstrapped over the seed index.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from theory.prunability import prunability_with_censoring


def seed_matrix(g: pd.DataFrame, column: str, by: str = "sparsity") -> tuple[np.ndarray, np.ndarray]:
    """``(levels, values)``: the column as a (seeds, levels) matrix, seeds as rows, levels sorted."""
    wide = g.pivot(index="seed", columns=by, values=column).sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.to_numpy(float)


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


def bootstrap_interval(statistic, n: int, n_bootstrap: int = 1000, confidence: float = 0.9,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval over ``n`` seeds of ``statistic(idx)``, a function of an index
    array into the seeds (resampled with replacement). With one seed the interval is the point."""
    if n < 2:
        value = float(statistic(np.arange(n)))
        return value, value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a degenerate bootstrap distribution is a valid answer here
        res = stats.bootstrap((np.arange(n),), statistic, vectorized=False, n_resamples=n_bootstrap,
                              confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_mean(values, n_bootstrap: int = 1000, confidence: float = 0.9, seed: int = 0) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of per-seed values with its percentile bootstrap interval."""
    values = np.asarray(values, dtype=float)
    lo, hi = bootstrap_interval(lambda idx: values[idx].mean(), len(values), n_bootstrap, confidence, seed)
    return float(values.mean()), lo, hi


def prunability_interval(sparsity, errors, dense, tolerance, dead=None, n_bootstrap=1000,
                         confidence=0.9, seed=0) -> dict:
    """Prunability of the mean curve over seeds, with a percentile bootstrap interval over seeds.

    errors: (n_seeds, n_levels); dense: (n_seeds,) reference errors (the dense control); dead:
    (n_seeds, n_levels) members left out of the mean (dead or diverged). ``censored``: the curve
    never left the tolerance, so the prunability is the ladder's last point (its ceiling).
    """
    errors = np.asarray(errors, dtype=float)
    dense = np.asarray(dense, dtype=float)
    dead = np.zeros_like(errors, dtype=bool) if dead is None else np.asarray(dead, dtype=bool)

    def value(idx):
        return prunability_with_censoring(sparsity, mean_curve(errors[idx], dead[idx]),
                                          float(np.mean(dense[idx])), tolerance)

    n = errors.shape[0]
    p, censored = value(np.arange(n))
    lo, hi = bootstrap_interval(lambda idx: value(idx)[0], n, n_bootstrap, confidence, seed)
    return {"prunability": p, "censored": censored, "low": lo, "high": hi, "n_seeds": n}
