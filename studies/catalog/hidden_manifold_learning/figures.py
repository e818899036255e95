"""Figures of the ``hidden_manifold_learning`` study: learning curves with the Gaussian-covariate theory,
and error against density with the Gaussian-covariate error of the learned and pruned weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from theory import hidden_manifold as hm_theory
from theory import logistic as logistic_theory

from ...analysis.statistics import mean_curve, seed_matrix
from ...plots.style import log_axes, new_figure, save
from .analysis import columns, condition_label, learning_curve_table, varying

ACTIVATION_ORDER = ("linear", "erf", "tanh", "relu", "sign")
MARKERS = "osD^v<>p"


def _colour(activation: str) -> str:
    i = ACTIVATION_ORDER.index(activation) if activation in ACTIVATION_ORDER else len(ACTIVATION_ORDER)
    return f"C{i}"


def _theory_curve(cond: dict, loads: np.ndarray) -> np.ndarray:
    P = np.unique(np.maximum(np.round(loads * cond["ambient_dim"]), 1))
    out = []
    for p in P:
        try:
            out.append(float(hm_theory.hidden_manifold_ridge_mse(
                p, cond["intrinsic_dim"], cond["ambient_dim"], activation=cond["activation"], reg=cond["reg"],
                teacher=cond["teacher"], noise_var=cond["noise_var"])))
        except (ValueError, ArithmeticError):
            out.append(np.nan)
    return P / cond["ambient_dim"], np.array(out)


def _logistic_curve(cond: dict, loads: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """theory.logistic.hidden_manifold_test_error at n loads (one vectorised saddle point; lam = reg / D)."""
    D = cond["ambient_dim"]
    P = np.unique(np.maximum(np.round(np.geomspace(loads.min(), loads.max(), n) * D), 1))
    if cond["noise_var"] > 0 or not cond["reg"] > 0:
        return P / D, np.full(len(P), np.nan)
    try:
        y = np.asarray(logistic_theory.hidden_manifold_test_error(
            P, cond["intrinsic_dim"], D, activation=cond["activation"], reg=cond["reg"] / D), float)
    except (ValueError, ArithmeticError):
        y = np.full(len(P), np.nan)
    return P / D, y


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    paths = []
    losses = [x for x in ("ridge", "logistic") if x in set(table["loss"])]
    lc = learning_curve_table(table)

    fig, axes = new_figure("double" if len(losses) > 1 else "single", ncols=len(losses), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        sub = lc[lc["loss"] == loss]
        keys = varying(sub, columns(sub, drop=("seed", "n_train", "activation", "loss")))
        conds = sub.groupby(["activation"] + keys, dropna=False, sort=False)
        variants = sorted({tuple(str(v) for v in k[1:]) for k, _ in conds})
        marked = False
        for key, g in conds:
            g = g.sort_values("n_train")
            act, rest = key[0], tuple(str(v) for v in key[1:])
            color, marker = _colour(act), MARKERS[variants.index(rest) % len(MARKERS)]
            label = act + (f" ({condition_label(keys, rest)})" if keys else "")
            ax.errorbar(g["load"], g["mean"], yerr=g["se"].fillna(0), fmt=marker, ms=3, color=color, capsize=1.5,
                        label=label, mfc=color if marker == "o" else "none")
            lo, hi = g["load"].min(), g["load"].max()
            if loss == "ridge":
                x, y = _theory_curve(g.iloc[0].to_dict(), np.geomspace(lo / 1.3, hi * 1.3, 60))
            else:
                x, y = _logistic_curve(g.iloc[0].to_dict(), np.array([lo / 1.2, hi * 1.2]))
            ax.plot(x, y, "-", color=color, lw=0.9)
            bad = g[g["n_converged"] < g["n_seeds"]]
            if len(bad):  # unconverged trainings: the theory does not describe them
                ax.plot(bad["load"], bad["mean"], "x", color="k", ms=4, mew=0.7,
                        label=None if marked else "unconverged training")
                marked = True
        log_axes(ax, y=loss == "ridge", base=2)
        ax.set_xlabel("load P / D")
        ax.set_ylabel("test MSE (lines: Gaussian-covariate theory)" if loss == "ridge" else
                      "test classification error (lines: theory)")
        ax.set_title(f"{loss} student, dense")
        ax.legend(fontsize=5.5)
    paths += save(fig, outdir / "learning_curves")

    fig, axes = new_figure("double" if len(losses) > 1 else "single", ncols=len(losses), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        sub = table[table["loss"] == loss]
        big = sub[sub["n_train"] == sub["n_train"].max()]
        cols = columns(big, drop=("seed",))
        vkeys = varying(big, [c for c in cols if c != "activation"])
        for i, (key, g) in enumerate(big.groupby(cols, dropna=False, sort=True)):
            cond = dict(zip(cols, key))
            color = _colour(cond["activation"])
            s, err = seed_matrix(g, "test_error")
            _, one = seed_matrix(g, "test_error_one_shot")
            _, ge = seed_matrix(g, "gaussian_equivalent_test_error")
            _, dead = seed_matrix(g, "dead")
            m = mean_curve(err, dead.astype(bool))
            se = np.nanstd(err, axis=0, ddof=1) / np.sqrt(err.shape[0]) if err.shape[0] > 1 else 0 * m
            label = cond["activation"] + (f" ({condition_label(vkeys, [cond[k] for k in vkeys])})" if vkeys else "")
            ax.errorbar(1 - s, m, yerr=se, fmt="o", ms=2.5, color=color, capsize=1.2, label=label + ", retrained")
            ax.plot(1 - s, mean_curve(one, dead.astype(bool)), "s", ms=2.5, mfc="none", color=color, mew=0.6)
            ax.plot(1 - s, np.nanmean(ge, 0), "-", color=color, lw=0.7)
        log_axes(ax, y=loss == "ridge", base=2)
        ax.invert_xaxis()
        ax.set_xlabel("density (1 - sparsity)")
        ax.set_ylabel("test MSE" if loss == "ridge" else "test classification error")
        ax.set_title(f"{loss}, P = {int(big['n_train'].max())}: dots retrained, squares one-shot,\n"
                     "lines Gaussian-covariate error of the weights", fontsize=6)
        ax.legend(fontsize=5)
    paths += save(fig, outdir / "error_vs_density")
    return paths
