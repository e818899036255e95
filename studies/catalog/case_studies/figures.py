"""Figure of the ``case_studies`` study: the regret of choosing the temperature to prune by the regime
metrics or by dense accuracy, per target density."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...plots.style import new_figure, save
from .analysis import selections


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    sel = selections(table)
    g = sel.groupby("density")[["regret_regime", "regret_dense"]].agg(["mean", "sem"])
    fig, ax = new_figure("single")
    x = g.index.to_numpy(float)
    for col, label in (("regret_regime", "regime metrics"), ("regret_dense", "dense accuracy")):
        ax.errorbar(x, g[(col, "mean")], yerr=g[(col, "sem")].fillna(0), fmt="o-", capsize=2, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("target density")
    ax.set_ylabel("regret (pruned test error - best)")
    ax.set_title(f"choosing the temperature ({table['temperature_knob'].iloc[0]}) to prune")
    ax.legend()
    return save(fig, Path(outdir) / "case_studies_regret")
