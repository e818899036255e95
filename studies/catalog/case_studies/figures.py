"""Figure of the ``case_studies`` study, per target density: the regret of choosing the model to prune by
the regime metrics or by dense accuracy, and the test error of the temperature tuned for that density
against the untuned default and the dense-best temperature (held-out seeds, mean +- SE)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...plots.style import new_figure, save
from .analysis import selections, tuning


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    knob = table["temperature_knob"].iloc[0]
    fig, axes = new_figure("double", ncols=2)
    sel = selections(table, analysis)
    g = sel.groupby("density")[["regret_regime", "regret_dense"]].agg(["mean", "sem"])
    x = g.index.to_numpy(float)
    ax = axes[0]
    for col, label in (("regret_regime", "regime metrics"), ("regret_dense", "dense accuracy")):
        ax.errorbar(x, g[(col, "mean")], yerr=g[(col, "sem")].fillna(0), fmt="o-", capsize=2, label=label)
    ax.set_ylabel("regret (pruned test error - best)")
    ax.set_title(f"choosing the model ({knob}) to prune")
    ax = axes[1]
    tun = tuning(table, analysis)
    if not tun.empty:
        t = tun.groupby("density")[["tuned_error", "default_error", "dense_best_error"]].agg(["mean", "sem"])
        for col, label in (("tuned_error", "tuned for the density"), ("default_error", "default (coldest)"),
                           ("dense_best_error", "best for the dense model")):
            ax.errorbar(t.index.to_numpy(float), t[(col, "mean")], yerr=t[(col, "sem")].fillna(0), fmt="o-",
                        capsize=2, label=label)
    ax.set_ylabel("pruned test error (held-out seed)")
    ax.set_title(f"tuning {knob} for a target density")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("target density")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return save(fig, Path(outdir) / "case_studies")
