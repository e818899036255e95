"""Prunability per condition, read off the tidy table: for every condition (every trial field but the
seed), the error-versus-sparsity curves of its seeds give the prunability of the mean curve after
retraining (against the dense control that got the same extra training) and one-shot (against the dense
model), each with a bootstrap interval over seeds (docs/design.md, "prunability")."""
from __future__ import annotations

import pandas as pd

from .statistics import prunability_interval, seed_matrix


def condition_key(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A string naming each row's condition (robust to None/NaN and mixed dtypes)."""
    return df[columns].map(str).agg("|".join, axis=1)


def condition_prunability(g: pd.DataFrame, tolerance: float, n_bootstrap: int, confidence: float) -> dict:
    """Prunability of one condition's rows ``g`` (all seeds, every sparsity level).

    Columns read: seed, sparsity, test_error (retrained), test_error_one_shot, dead, diverged (both
    left out of the means), dense_test_error and control_test_error (per seed)."""
    per_seed = g.groupby("seed").first()
    pruned = g[g["sparsity"] > 0]
    s, err = seed_matrix(pruned, "test_error")
    _, one = seed_matrix(pruned, "test_error_one_shot")
    _, dead = seed_matrix(pruned, "dead")
    _, diverged = seed_matrix(pruned, "diverged")
    left_out = dead.astype(bool) | diverged.astype(bool)  # neither is averaged into a mean
    boot = dict(tolerance=tolerance, n_bootstrap=n_bootstrap, confidence=confidence, dead=left_out)
    re = prunability_interval(s, err, per_seed["control_test_error"].to_numpy(float), **boot)
    os_ = prunability_interval(s, one, per_seed["dense_test_error"].to_numpy(float), **boot)
    return {"n_seeds": re["n_seeds"], "dense_test_error": per_seed["dense_test_error"].mean(),
            "prunability": re["prunability"], "low": re["low"], "high": re["high"], "censored": re["censored"],
            "prunability_one_shot": os_["prunability"], "low_one_shot": os_["low"], "high_one_shot": os_["high"],
            "dead_members": int(left_out.sum())}
