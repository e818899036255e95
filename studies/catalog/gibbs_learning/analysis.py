"""Analysis of the ``gibbs_learning`` study, read only from its tidy table: grid points with their domain
flags, the agreement with the theory, and the summary.

A grid point is one condition (every trial field but the seed) of the unpruned students. Its value is
the mean over seeds of the trials' Gibbs errors, its standard error (SE) the standard deviation over
seeds / sqrt(seeds): the finite-size error bar, which holds the disorder (teacher and data) and the
thermal fluctuations of a finite sample. A point is in the theory's domain unless

* finite_size: P < ``min_n_train``, or fewer than 2 seeds (no SE), or the expected O(1/N) correction
  c/N of the N -> infinity theory exceeds ``finite_size_ratio`` SE (then the simulation resolves the
  finite-size shift, which the replica theory does not hold; c = ``finite_size_c`` = 0.5, the size of
  the shifts measured for this model at N = 30-100, cf. tests/theory/test_perceptron.py);
* non_equilibrium: averaged over seeds, the teacher-started and the other chains, or the first and
  second half of the samples, differ by more than ``equilibrium_z`` SE, or a zero-temperature chain
  ended outside the version space;
* the saddle point of the theory was not found.

These rules use the diagnostics and the SE only, never the distance to the theory.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CONDITION = ("ambient_dim", "alpha", "langevin_T", "sweeps", "burn_in", "chains", "direction", "n_test", "sparsities")


def _se(x: pd.Series) -> float:
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def _significant(x: pd.Series, z: float) -> bool:
    se = _se(x)
    return bool(np.isfinite(se) and abs(x.mean()) > z * se) or bool(len(x) > 1 and se == 0 and x.mean() != 0)


def point_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """One row per grid point and sparsity: mean over seeds, SE, theory, deviation in SE, domain flags."""
    keys = [c for c in CONDITION if c in table.columns] + ["sparsity"]
    out = []
    for key, g in table.groupby(keys, dropna=False, sort=True):
        row = dict(zip(keys, key))
        N, P = int(g["ambient_dim"].iloc[0]), int(g["n_train"].iloc[0])
        mean, se = float(g["test_error"].mean()), _se(g["test_error"])
        theory = float(g["theory_test_error"].mean())
        row.update(n_train=P, load=float(g["load"].iloc[0]), temperature=float(g["temperature"].iloc[0]),
                   n_seeds=len(g), test_error=mean, se=se, theory_test_error=theory,
                   deviation_se=(mean - theory) / se if se > 0 else float("nan"),
                   train_error=float(g["train_error"].mean()), train_se=_se(g["train_error"]),
                   theory_train_error=float(g["theory_train_error"].mean()),
                   non_equilibrium_trials=int(g["non_equilibrium"].astype(bool).sum()))
        reasons = []
        c = analysis["finite_size_c"]
        if P < analysis["min_n_train"]:
            reasons.append(f"finite_size (P={P} < {analysis['min_n_train']})")
        if not np.isfinite(se):
            reasons.append("finite_size (one seed: no SE)")
        elif c / N > analysis["finite_size_ratio"] * se:
            reasons.append(f"finite_size (c/N={c / N:.4f} > {analysis['finite_size_ratio']:g} SE={se:.4f})")
        zq = analysis["equilibrium_z"]
        if _significant(g["start_difference"], zq):
            reasons.append(f"non_equilibrium (teacher-started minus other chains {g['start_difference'].mean():+.4f})")
        if _significant(g["drift"], zq):
            reasons.append(f"non_equilibrium (second minus first half {g['drift'].mean():+.4f})")
        if not g["in_version_space"].astype(bool).all():
            reasons.append("non_equilibrium (a T=0 chain ended outside the version space)")
        if not np.isfinite(theory):
            reasons.append("theory unsolved")
        row["in_domain"] = not reasons
        row["out_of_domain_reason"] = "; ".join(reasons)
        row["agrees"] = bool(np.isfinite(row["deviation_se"]) and abs(row["deviation_se"]) <= analysis["z"])
        out.append(row)
    return pd.DataFrame(out)


def theory_points(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The unpruned grid points, with their domain flags, for the report's agreement table."""
    points = point_table(table, analysis)
    return points[points["sparsity"] == 0]


def agreement(points: pd.DataFrame, analysis: dict) -> dict:
    """Counts and deviations of the unpruned in-domain points."""
    dense = points[points["sparsity"] == 0]
    inside = dense[dense["in_domain"]]
    dev = inside["deviation_se"].abs()
    return {"points": len(dense), "in_domain": len(inside), "agree": int(inside["agrees"].sum()),
            "max_abs_deviation_se": float(dev.max()) if len(dev) else float("nan"),
            "mean_abs_deviation_se": float(dev.mean()) if len(dev) else float("nan")}


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    points = point_table(table, analysis)
    a = agreement(points, analysis)
    z = analysis["z"]
    lines = ["Gibbs error of the unpruned students (mean over seeds, SE over seeds) against the replica-symmetric "
             "theory (theory.perceptron.gibbs_error at load P/N):", "",
             f"**{a['agree']} of {a['in_domain']} points in the theory's domain agree within {z:g} SE** "
             f"(max |deviation| {a['max_abs_deviation_se']:.2f} SE, mean {a['mean_abs_deviation_se']:.2f} SE); "
             f"{a['points'] - a['in_domain']} of {a['points']} points are outside the domain.", "",
             "| N | alpha | T | seeds | error | SE | theory | dev/SE | train err | theory train | domain |",
             "|" + "---|" * 11]
    dense = points[points["sparsity"] == 0].sort_values(["ambient_dim", "langevin_T", "alpha"])
    for _, r in dense.iterrows():
        dom = "in" if r["in_domain"] else "out: " + r["out_of_domain_reason"]
        lines.append(f"| {int(r['ambient_dim'])} | {r['alpha']:g} | {r['langevin_T']:g} | {int(r['n_seeds'])} "
                     f"| {r['test_error']:.4f} | {r['se']:.4f} | {r['theory_test_error']:.4f} | {r['deviation_se']:+.2f} "
                     f"| {r['train_error']:.4f} | {r['theory_train_error']:.4f} | {dom} |")
    pruned = points[points["sparsity"] > 0]
    if len(pruned):
        lines += ["", "One-shot magnitude pruning of the samples (theory: theory.pruning.magnitude_overlap of the "
                  "Gibbs overlap; informative, not part of the domain statement):", "",
                  "| N | alpha | T | sparsity | error | SE | theory | dev/SE |", "|" + "---|" * 8]
        for _, r in pruned.sort_values(["ambient_dim", "langevin_T", "alpha", "sparsity"]).iterrows():
            lines.append(f"| {int(r['ambient_dim'])} | {r['alpha']:g} | {r['langevin_T']:g} | {r['sparsity']:g} "
                         f"| {r['test_error']:.4f} | {r['se']:.4f} | {r['theory_test_error']:.4f} "
                         f"| {r['deviation_se']:+.2f} |")
    lines += ["", "Domain rules (decided from the diagnostics and the SE, never from the distance to the theory): "
              f"finite_size when P < {analysis['min_n_train']}, or c/N > {analysis['finite_size_ratio']:g} SE with "
              f"c = {analysis['finite_size_c']:g}; non_equilibrium when the teacher-started and the other chains, or the "
              f"two halves of the samples, differ by more than {analysis['equilibrium_z']:g} SE over seeds, or a T = 0 "
              "chain ends outside the version space."]
    return lines


