"""Analysis of the ``hidden_manifold_learning`` study, read only from its tidy table: the learning
curves against the theory, the prunability of the learned students, and the summary."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...analysis.prunability import condition_prunability
from .fields import HiddenManifoldLearningTrial

FIELDS = [f.name for f in dataclasses.fields(HiddenManifoldLearningTrial)]


def columns(table: pd.DataFrame, drop=()) -> list[str]:
    return [c for c in FIELDS if c in table.columns and c not in drop]


def varying(table: pd.DataFrame, cols: list[str]) -> list[str]:
    return [c for c in cols if table[c].map(str).nunique() > 1]


def condition_label(keys, values) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values))


def learning_curve_table(table: pd.DataFrame) -> pd.DataFrame:
    """Dense (sparsity 0) test error per condition and n_train: mean, SE over seeds, theory and the
    deviation in SE units, the Gaussian-covariate error of the learned weights, and how many seeds'
    trainings converged (``converged``; tables stored before the column count as converged). The deviation
    is left out (NaN) where a seed did not converge: the theory describes the minimiser."""
    dense = table[table["sparsity"] == 0]
    cols = columns(dense, drop=("seed",))
    out = []
    for key, g in dense.groupby(cols, dropna=False, sort=True):
        e = g["test_error"].to_numpy(float)
        n = len(e)
        se = e.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        th = g["theory_test_error"].mean()
        n_conv = int(g["converged"].fillna(True).astype(bool).sum()) if "converged" in g else n
        row = {**dict(zip(cols, key)), "load": g["load"].iloc[0], "n_seeds": n, "mean": e.mean(), "se": se,
               "theory": th, "theory_exact_spectrum": g["theory_test_error_exact_spectrum"].mean(),
               "gaussian_equivalent": g["gaussian_equivalent_test_error"].mean(), "n_converged": n_conv}
        ok = np.isfinite(th) and se > 0 and n_conv == n
        row["deviation_se"] = abs(row["mean"] - th) / se if ok else np.nan
        out.append(row)
    return pd.DataFrame(out)


def theory_points(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Dense learning-curve points with a Gaussian-covariate prediction (ridge and logistic), for the report;
    a point with an unconverged seed is outside the domain."""
    lc = learning_curve_table(table)
    lc = lc[np.isfinite(lc["theory"].astype(float))]
    return lc.assign(in_domain=lc["n_converged"] == lc["n_seeds"])


def prunability_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Prunability of the learned students per condition, retrained and one-shot, with bootstrap
    intervals over seeds. Tolerance: ``mse_tolerance`` (ridge) or ``tolerance`` (logistic)."""
    cols = columns(table, drop=("seed",))
    out = []
    for key, g in table.groupby(cols, dropna=False, sort=True):
        cond = dict(zip(cols, key))
        tol = analysis["mse_tolerance"] if cond["loss"] == "ridge" else analysis["tolerance"]
        out.append({**cond, "tolerance": tol,
                    **condition_prunability(g, tol, analysis["n_bootstrap"], analysis["confidence"])})
    return pd.DataFrame(out)


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    lc = learning_curve_table(table)
    keys = varying(lc, columns(lc, drop=("seed", "n_train", "activation", "loss")))
    lines = ["Learning curves (sparsity 0): test error, mean ± SE over seeds; ridge: test MSE against noisy labels, "
             "theory = Gaussian-covariate deterministic equivalent (Marchenko-Pastur spectrum), exact F = the same with "
             "each trial's feature matrix, GE(w) = the Gaussian-covariate error of the learned weights; logistic: "
             "classification error, theory = theory.logistic.hidden_manifold_test_error (Gaussian-equivalent "
             "logistic regression, lam = reg / D in its convention), compared only where every seed's training "
             "converged.", ""]
    head = ["loss", "activation"] + keys + ["n_train", "load P/D", "seeds", "converged", "test error", "theory",
                                          "exact F", "dev (SE)", "GE(w)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fmt = lambda v: "n/a" if not np.isfinite(v) else f"{v:.4f}"  # noqa: E731
    for _, r in lc.iterrows():
        dev = "n/a" if not np.isfinite(r["deviation_se"]) else f"{r['deviation_se']:.1f}"
        cells = [r["loss"], r["activation"]] + [str(r[k]) for k in keys] + [
            str(int(r["n_train"])), f"{r['load']:.3g}", str(int(r["n_seeds"])),
            f"{int(r['n_converged'])}/{int(r['n_seeds'])}", f"{r['mean']:.4f} ± {r['se']:.4f}",
            fmt(r["theory"]), fmt(r["theory_exact_spectrum"]), dev, fmt(r["gaussian_equivalent"])]
        lines.append("| " + " | ".join(cells) + " |")
    for loss in ("ridge", "logistic"):
        sub = lc[lc["loss"] == loss]
        d = sub["deviation_se"].dropna()
        if len(d):
            lines += ["", f"Theory against simulation ({loss}, sparsity 0): {int((d <= 3).sum())} of {len(d)} points "
                      f"within 3 SE; max {d.max():.1f} SE, median {d.median():.1f} SE. Gaussian equivalence needs d of "
                      "order D: its corrections scale like D / d^(3/2)."]
        unconverged = sub[(sub["n_converged"] < sub["n_seeds"])]
        if len(unconverged):
            lines += ["", f"{loss}: {len(unconverged)} of {len(sub)} points have unconverged seeds "
                      f"({int((unconverged['n_seeds'] - unconverged['n_converged']).sum())} trainings; the loss still "
                      "changed by more than 1% over the last tenth of the training): set apart, not compared with the "
                      "theory (solver = 'newton' reaches the minimiser)."]

    pt = prunability_table(table, analysis)
    pkeys = varying(pt, columns(pt, drop=("seed", "activation", "loss")))
    lines += ["", f"Prunability of the learned students (global magnitude pruning of beta; tolerance: "
              f"{analysis['mse_tolerance']} absolute test MSE for ridge, {analysis['tolerance']} absolute classification "
              f"error for logistic; {int(analysis['confidence'] * 100)}% bootstrap interval over seeds; retrained = refit "
              "with the mask fixed, compared with the dense control):", ""]
    head = ["loss", "activation"] + pkeys + ["seeds", "dense err", "prunability (retrained)", "one-shot"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in pt.iterrows():
        cens = " (ladder ceiling)" if r["censored"] else ""
        cells = [r["loss"], r["activation"]] + [str(r[k]) for k in pkeys] + [
            str(int(r["n_seeds"])), f"{r['dense_test_error']:.4f}",
            f"{r['prunability']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{cens}",
            f"{r['prunability_one_shot']:.3f} [{r['low_one_shot']:.3f}, {r['high_one_shot']:.3f}]"]
        lines.append("| " + " | ".join(cells) + " |")
    if pt["dead_members"].sum():
        lines += ["", f"{int(pt['dead_members'].sum())} pruned members were dead or diverged; they are excluded from "
                  "the means."]
    return lines


