"""Analysis of the ``intrinsic_dimension`` study, read only from its tidy table: the prunability of
every condition (retrained and one-shot, with bootstrap intervals over seeds and the theory's
prediction where it applies) and the summary."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from theory.prunability import prunability_with_censoring

from ...analysis.prunability import condition_key, condition_prunability
from ...analysis.statistics import seed_matrix
from .fields import IntrinsicDimensionTrial

VARYING = ("manifold", "manifold_options", "student", "noise", "label_noise", "hidden", "n_train", "lr",
           "langevin_T", "sam_rho", "epochs", "batch_size", "weight_decay", "ambient_dim")


def condition_columns(table: pd.DataFrame) -> list[str]:
    names = [f.name for f in dataclasses.fields(IntrinsicDimensionTrial)]
    return [c for c in names if c in table.columns]


def prunability_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """One row per condition (every trial field but the seed): measured prunability with retraining
    and one-shot, bootstrap intervals over seeds, and the theory's prediction where it applies."""
    tol = analysis["tolerance"]
    columns = condition_columns(table)
    out = []
    for key, g in table.groupby(columns, dropna=False, sort=True):
        cond = dict(zip(columns, key))
        row = {**cond, "condition": condition_key(g.head(1), columns).iloc[0],
               **condition_prunability(g, tol, analysis["n_bootstrap"], analysis["confidence"])}
        per_seed = g.groupby("seed").first()
        g = g[g["sparsity"] > 0]
        s = np.sort(g["sparsity"].unique())
        if "estimated_dim" in per_seed:
            row["estimated_dim"] = per_seed["estimated_dim"].mean()
        if "theory_test_error" in g and g["theory_test_error"].notna().all():
            _, th = seed_matrix(g, "theory_test_error")
            _, th1 = seed_matrix(g, "theory_test_error_one_shot")
            row["theory_prunability"] = prunability_with_censoring(
                s, th.mean(0), per_seed["control_test_error"].mean(), tol)[0]
            row["theory_prunability_one_shot"] = prunability_with_censoring(
                s, th1.mean(0), per_seed["dense_test_error"].mean(), tol)[0]
            row["theory_limit"] = 1.0 - cond["intrinsic_dim"] / cond["ambient_dim"]
        out.append(row)
    return pd.DataFrame(out)


def series(pt: pd.DataFrame):
    """Families of conditions that differ only in intrinsic_dim, with a legend label each."""
    keys = [c for c in VARYING if c in pt.columns and pt[c].astype(str).nunique() > 1]
    for key, g in pt.groupby(keys, dropna=False, sort=True) if keys else [((), pt)]:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, key)) or None
        yield label, g.sort_values("intrinsic_dim")


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    pt = prunability_table(table, analysis)
    lines = [f"Prunability (tolerance {analysis['tolerance']} absolute test error; "
             f"{int(analysis['confidence'] * 100)}% bootstrap interval over seeds; retrained members "
             "compared with a dense control that got the same extra training):", ""]
    header = "| condition | d | d est. | seeds | dense err | prunability (retrained) | theory | one-shot | theory one-shot |"
    lines += [header, "|" + "---|" * 9]
    for label, g in series(pt):
        for _, r in g.iterrows():
            th = f"{r['theory_prunability']:.4f} (limit {r['theory_limit']:.4f})" if "theory_prunability" in r and pd.notna(r.get("theory_prunability")) else "n/a"
            th1 = f"{r['theory_prunability_one_shot']:.4f}" if pd.notna(r.get("theory_prunability_one_shot", np.nan)) else "n/a"
            est = f"{r['estimated_dim']:.1f}" if pd.notna(r.get("estimated_dim", np.nan)) else "-"
            cens = " (ladder ceiling)" if r["censored"] else ""
            lines.append(
                f"| {label or r['manifold']} | {int(r['intrinsic_dim'])} | {est} | {int(r['n_seeds'])} | {r['dense_test_error']:.4f} "
                f"| {r['prunability']:.4f} [{r['low']:.4f}, {r['high']:.4f}]{cens} | {th} "
                f"| {r['prunability_one_shot']:.4f} [{r['low_one_shot']:.4f}, {r['high_one_shot']:.4f}] | {th1} |")
    if pt["dead_members"].sum():
        lines += ["", f"{int(pt['dead_members'].sum())} pruned members were dead (constant output) or diverged; they are "
                  "excluded from the mean curves and a level where all are dead counts as chance."]
    return lines


