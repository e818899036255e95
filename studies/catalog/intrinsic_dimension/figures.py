"""Figures of the ``intrinsic_dimension`` study, drawn from its tidy table: prunability against the
nominal dimension, against the estimated dimension and d/D, and the error-versus-density curves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.prunability import condition_key
from ...analysis.statistics import mean_curve, seed_matrix
from ...plots.style import new_figure, save
from .analysis import condition_columns, prunability_table, series


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    pt = prunability_table(table, analysis)
    paths = []

    fig, ax = new_figure("single")
    for i, (label, g) in enumerate(series(pt)):
        color = f"C{i}"
        d = g["intrinsic_dim"].to_numpy(float)
        yerr = np.vstack([g["prunability"] - g["low"], g["high"] - g["prunability"]]).clip(0)
        suffix = f" ({label})" if label else ""
        ax.errorbar(d, 1 - g["prunability"], yerr=yerr[::-1], fmt="o", color=color, capsize=2,
                    label="retrained" + suffix)
        ax.plot(d, 1 - g["prunability_one_shot"], "s", mfc="none", color=color, label="one-shot" + suffix)
        if "theory_prunability" in g and g["theory_prunability"].notna().all():
            ax.plot(d, 1 - g["theory_prunability"], "-", color=color, lw=1, label="theory, retrained")
            ax.plot(d, 1 - g["theory_prunability_one_shot"], "--", color=color, lw=1, label="theory, one-shot")
            ax.plot(d, 1 - g["theory_limit"], ":", color="0.4", lw=1, label="limit d/D")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("intrinsic dimension d")
    ax.set_ylabel("smallest tolerable density (1 - prunability)")
    ax.set_title(f"tolerance {analysis['tolerance']}")
    ax.legend(fontsize=5.5, ncol=2)
    paths += save(fig, outdir / "prunability_vs_dimension")

    # the same measurements against the estimated dimension and against d/D
    fig, axes = new_figure("double", ncols=2, sharey=True)
    for i, (label, g) in enumerate(series(pt)):
        yerr = np.vstack([g["high"] - g["prunability"], g["prunability"] - g["low"]]).clip(0)
        xs = (("estimated_dim", axes[0]), ("d_over_D", axes[1]))
        for col, ax in xs:
            x = g["intrinsic_dim"] / g["ambient_dim"] if col == "d_over_D" else g.get(col)
            if x is None or pd.isna(x).all():
                continue
            ax.errorbar(x, 1 - g["prunability"], yerr=yerr, fmt="o-", color=f"C{i}", capsize=2, lw=0.8,
                        label=label or "retrained")
            if col == "d_over_D" and "theory_limit" in g and g["theory_limit"].notna().all():
                ax.plot(x, 1 - g["theory_limit"], ":", color="0.4", lw=1, label="limit d/D" if i == 0 else None)
    axes[0].set_xlabel(f"estimated intrinsic dimension ({table['dimension_method'].dropna().iloc[0] if 'dimension_method' in table and table['dimension_method'].notna().any() else 'none'})")
    axes[1].set_xlabel("d / D")
    axes[0].set_ylabel("smallest tolerable density (retrained)")
    axes[0].set_xscale("log", base=2)
    axes[1].set_xscale("log")
    for ax in axes:
        ax.set_yscale("log")
    axes[1].legend(fontsize=5.5)
    paths += save(fig, outdir / "prunability_vs_estimated_dimension")

    fig, axes = new_figure("double", ncols=2, sharey=True)
    dims = sorted(table["intrinsic_dim"].unique())
    cmap = __import__("matplotlib").colormaps["viridis"]
    first_family = next(series(pt))[1]
    sub = table[condition_key(table, condition_columns(table)).isin(set(first_family["condition"]))]
    for j, (col, th_col, title) in enumerate((("test_error", "theory_test_error", "retrained (mask fixed)"),
                                              ("test_error_one_shot", "theory_test_error_one_shot", "one-shot"))):
        ax = axes[j]
        for i, d in enumerate(dims):
            g = sub[(sub["intrinsic_dim"] == d) & (sub["sparsity"] > 0)]
            if g.empty:
                continue
            color = cmap(i / max(len(dims) - 1, 1))
            s, err = seed_matrix(g, col)
            _, dead = seed_matrix(g, "dead")
            _, diverged = seed_matrix(g, "diverged")
            m = mean_curve(err, dead.astype(bool) | diverged.astype(bool))
            se = np.nanstd(err, axis=0, ddof=1) / np.sqrt(err.shape[0]) if err.shape[0] > 1 else 0 * m
            ax.errorbar(1 - s, m, yerr=se, fmt="o", ms=2.5, color=color, capsize=1.5, label=f"d={d}")
            if th_col in g and g[th_col].notna().all():
                _, th = seed_matrix(g, th_col)
                ax.plot(1 - s, th.mean(0), "-", color=color, lw=0.9)
        ax.set_xscale("log")
        ax.set_xlabel("density (1 - sparsity)")
        ax.set_title(title)
        ax.invert_xaxis()
    axes[0].set_ylabel("test error (dots: measured, lines: theory)")
    axes[1].legend(fontsize=6)
    paths += save(fig, outdir / "error_vs_density")
    return paths
