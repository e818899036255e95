"""The phase diagram of the ``three_regime`` study: test error, normalised error, LMC barrier, CKA and
regimes over the temperature x density plane, and the temperature effect per density."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.ticker import NullFormatter

from ...analysis.regimes import REGIMES, flips
from ...plots.style import new_figure, save
from .analysis import phase_diagram

REGIME_COLORS = {"I": "#d95f02", "II-A": "#7570b3", "II-B": "#1b9e77"}


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.log10(values) if log else values
    mid = (v[1:] + v[:-1]) / 2
    first = v[0] - (mid[0] - v[0]) if v.size > 1 else v[0] - 0.5
    last = v[-1] + (v[-1] - mid[-1]) if v.size > 1 else v[-1] + 0.5
    e = np.concatenate([[first], mid, [last]])
    return 10 ** e if log else e


def _grid(c: pd.DataFrame, column: str):
    wide = c.pivot(index="density", columns="temperature", values=column).sort_index().sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.index.to_numpy(float), wide.to_numpy()


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    c, bt, ct, _, effect = phase_diagram(table, analysis)
    knob = table["temperature_knob"].iloc[0]
    logT = bool(np.all(c["temperature"] > 0))
    fig, axes = new_figure("double_tall", ncols=3, nrows=2)
    panels = [("test_error", "test error (pruned, retrained)", {}),
              ("normalized_test_error", "test error / best over temperature", {}),
              ("lmc_barrier", "LMC barrier (test loss)", {"norm": LogNorm(vmin=max(c["lmc_barrier"].clip(lower=1e-5).min(), 1e-5),
                                                                            vmax=max(c["lmc_barrier"].max(), 2e-5))}),
              ("cka", "CKA (hidden layer)", {"vmin": 0, "vmax": 1})]
    for ax, (col, title, kw) in zip(axes.flat, panels):
        T, D, Z = _grid(c, col)
        if col == "lmc_barrier":
            Z = np.clip(Z, 1e-5, None)
        m = ax.pcolormesh(_edges(T, logT), _edges(D, True), Z, shading="flat", cmap="viridis", **kw)
        fig.colorbar(m, ax=ax, fraction=0.046)
        ax.set_title(title)
    T, D, R = _grid(c, "regime")
    codes = np.vectorize(lambda r: REGIMES.index(r) if r in REGIMES else np.nan, otypes=[float])(R)
    cmap = ListedColormap([REGIME_COLORS[r] for r in REGIMES])
    ax = axes.flat[4]
    ax.pcolormesh(_edges(T, logT), _edges(D, True), codes, shading="flat", cmap=cmap,
                  norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3))
    for r in REGIMES:
        ax.plot([], [], "s", color=REGIME_COLORS[r], label=r)
    ax.legend(loc="lower right", fontsize=6, frameon=True)
    ax.set_title(f"regimes\nI: barrier > {bt:.2g}; II-B: CKA > {ct:.2f}")
    for ax in list(axes.flat)[:5]:
        if logT:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"temperature ({knob})")
        ax.set_ylabel("density (load)")
        ax.grid(False)
    ax = axes.flat[5]
    ax.errorbar(effect["density"], effect["slope"], yerr=effect["slope_se"], fmt="o-", capsize=2)
    ax.axhline(0, color="0.3", lw=0.8)
    for a, b in flips(effect):
        ax.axvspan(min(a, b), max(a, b), color="C3", alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("density (load)")
    ax.set_ylabel(f"d(test error) / d{'log10 ' if logT else ''}T")
    ax.set_title("temperature effect\n(< 0: raising T helps)")
    fig.tight_layout()
    return save(fig, Path(outdir) / "phase_diagram")
