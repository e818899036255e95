"""Figures of the ``gibbs_learning`` study: the Gibbs error and training error against the load with the
replica-symmetric curves, and the error after one-shot magnitude pruning of the samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from theory import perceptron as perceptron_theory
from theory import pruning as pruning_theory

from ...plots.style import new_figure, save
from .analysis import point_table


def _theory_curve(alphas: np.ndarray, T: float, keep: float | None = None) -> np.ndarray:
    R, _ = perceptron_theory.gibbs_order_parameters(alphas, T)
    if keep is not None:
        R = pruning_theory.magnitude_overlap(R, keep)
    return pruning_theory.overlap_to_error(R)


def _draw_points(ax, g: pd.DataFrame, col: str, se_col: str, color, label):
    for inside, marker_face in ((True, color), (False, "none")):
        h = g[g["in_domain"] == inside]
        if h.empty:
            continue
        ax.errorbar(h["load"], h[col], yerr=h[se_col].fillna(0), fmt="o", ms=3, mfc=marker_face, mec=color,
                    color=color, capsize=1.5, lw=0.8, label=label if inside or g["in_domain"].sum() == 0 else None)


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    points = point_table(table, analysis)
    dense = points[points["sparsity"] == 0]
    paths = []
    temps = sorted(dense["langevin_T"].unique())
    lo, hi = dense["load"].min(), dense["load"].max()
    grid = np.geomspace(lo / 1.3, hi * 1.3, 60)
    fig, axes = new_figure("double", ncols=2)
    for i, T in enumerate(temps):
        color = f"C{i}"
        g = dense[dense["langevin_T"] == T].sort_values("load")
        for n, (_, h) in enumerate(g.groupby("ambient_dim")):
            _draw_points(axes[0], h, "test_error", "se", color, f"T={T:g}" if n == 0 else None)
            _draw_points(axes[1], h, "train_error", "train_se", color, None)
        try:
            axes[0].plot(grid, _theory_curve(grid, T), "-", color=color, lw=0.9)
            if T > 0:
                axes[1].plot(grid, perceptron_theory.gibbs_training_error(grid, T), "-", color=color, lw=0.9)
        except Exception:  # an unsolved saddle point: the points stand alone
            pass
    for ax, ylabel in zip(axes, ("generalization error", "training error (fraction)")):
        ax.set_xscale("log")
        ax.set_xlabel(r"load $\alpha = P/N$")
        ax.set_ylabel(ylabel)
    axes[0].set_title("Gibbs learning (dots: simulation $\\pm$ SE; hollow: outside the domain; lines: RS theory)",
                      fontsize=6.5, loc="left")
    axes[0].legend(fontsize=6)
    paths += save(fig, outdir / "gibbs_error_vs_alpha")

    pruned = points[points["sparsity"] > 0]
    if len(pruned):
        fig, axes = new_figure("double", ncols=len(temps), sharey=True, squeeze=False)
        levels = sorted(points["sparsity"].unique())
        for j, T in enumerate(temps):
            ax = axes[0, j]
            for i, s in enumerate(levels):
                color = f"C{i}"
                g = points[(points["langevin_T"] == T) & (points["sparsity"] == s)].sort_values("load")
                _draw_points(ax, g, "test_error", "se", color, f"s={s:g}")
                keep = None if s == 0 else 1 - s
                try:
                    ax.plot(grid, _theory_curve(grid, T, keep), "-", color=color, lw=0.8)
                except Exception:
                    pass
            ax.set_xscale("log")
            ax.set_xlabel(r"$\alpha$")
            ax.set_title(f"T={T:g}", fontsize=7)
        axes[0, 0].set_ylabel("test error after one-shot magnitude pruning")
        axes[0, -1].legend(fontsize=5.5)
        paths += save(fig, outdir / "pruned_gibbs_error_vs_alpha")
    return paths
