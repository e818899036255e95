"""The phase diagram of the ``three_regime`` study over the temperature x load plane: test error, the
paper's normalised error (minus the best at that load), mode connectivity, CKA, the regime regions with
the flip line and the best temperature per load, and the temperature effect per load."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap, TwoSlopeNorm
from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

from ...analysis.regimes import REGIMES
from ...plots.style import new_figure, save
from .analysis import flip_pairs, phase_diagram, settings

REGIME_COLORS = {"I": "#d95f02", "II-A": "#7570b3", "II-B": "#1b9e77"}


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.log10(values) if log else values
    mid = (v[1:] + v[:-1]) / 2
    first = v[0] - (mid[0] - v[0]) if v.size > 1 else v[0] - 0.5
    last = v[-1] + (v[-1] - mid[-1]) if v.size > 1 else v[-1] + 0.5
    e = np.concatenate([[first], mid, [last]])
    return 10 ** e if log else e


def _grid(c: pd.DataFrame, column: str, load: str):
    wide = c.pivot(index=load, columns="temperature", values=column).sort_index().sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.index.to_numpy(float), wide.to_numpy()


def _log_axis(values) -> bool:
    """A log axis for positive values spanning more than a decade, or spaced more evenly in log than
    linearly (a geometric grid such as lr 0.5, 0.71, ..., 4, whose small values crowd a linear axis)."""
    v = np.unique(np.asarray(values, float))
    if not v.size or np.any(v <= 0):
        return False
    if v.max() > 10 * v.min():
        return True
    if v.size < 3:
        return False
    def unevenness(steps):
        return steps.std() / steps.mean()
    return bool(unevenness(np.diff(np.log(v))) < unevenness(np.diff(v)))


def _ticks(axis, values) -> None:
    """Major ticks at (at most eight of) the grid's values, labelled plainly; no minor labels."""
    values = np.sort(np.unique(values))
    if values.size > 8:
        values = values[np.unique(np.linspace(0, values.size - 1, 8).round().astype(int))]
    axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(FixedFormatter([f"{v:g}" for v in values]))
    axis.set_minor_formatter(NullFormatter())
    axis.set_minor_locator(NullLocator())


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    a = settings(analysis)
    load = a["load"]
    c, bt, ct, _, effect = phase_diagram(table, a)
    knob = table["temperature_knob"].iloc[0]
    # epochs read linearly, as in the paper's diagrams; other knobs on a log axis when they span a decade
    logT, logL = knob != "epochs" and _log_axis(c["temperature"]), _log_axis(c[load])
    mc_span = max(float(np.nanmax(np.abs(c["mode_connectivity"]))), 2 * bt, 1e-3)
    fig, axes = new_figure("double_tall", ncols=3, nrows=2)
    panels = [("test_error", "test error (pruned, retrained)", {"cmap": "Blues"}),
              ("normalized_test_error", "normalised test error\n(minus the best at that load)", {"cmap": "Blues"}),
              ("mode_connectivity", "mode connectivity (train error)\n(< 0: barrier)",
               {"cmap": "RdBu", "norm": TwoSlopeNorm(0.0, -mc_span, mc_span)}),
              (a["regime_cka"], f"CKA ({'outputs, train inputs' if a['regime_cka'] == 'cka_output' else 'hidden layer'})",
               {"cmap": "Blues_r"})]
    for ax, (col, title, kw) in zip(axes.flat, panels):
        T, D, Z = _grid(c, col, load)
        m = ax.pcolormesh(_edges(T, logT), _edges(D, logL), Z, shading="flat", **kw)
        fig.colorbar(m, ax=ax, fraction=0.046)
        ax.set_title(title)
    ax = axes.flat[4]
    T, D, R = _grid(c, "regime", load)
    codes = np.vectorize(lambda r: REGIMES.index(r) if r in REGIMES else np.nan, otypes=[float])(R)
    ax.pcolormesh(_edges(T, logT), _edges(D, logL), codes, shading="flat",
                  cmap=ListedColormap([REGIME_COLORS[r] for r in REGIMES]), norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3))
    for r in REGIMES:
        ax.plot([], [], "s", color=REGIME_COLORS[r], label=r)
    if not effect.empty and effect["best_temperature"].notna().any():
        ax.plot(effect["best_temperature"], effect[load], "k*-", ms=5, lw=0.8, label="best T")
        for i, (x, z) in enumerate(flip_pairs(effect, load)):
            y = np.sqrt(x * z) if logL else (x + z) / 2
            ax.axhline(y, color="k", ls="--", lw=1.2, label="flip" if i == 0 else None)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=5, frameon=False, borderaxespad=0)
    ax.set_title(f"regimes; I: mc < -{bt:.2g}\nII-B: CKA > {ct:.3g}")
    hotter = {"epochs": "fewer = hotter", "batch_size": "smaller = hotter"}.get(knob, "larger = hotter")
    for ax in list(axes.flat)[:5]:
        if logT:
            ax.set_xscale("log")
        if logL:
            ax.set_yscale("log")
        _ticks(ax.xaxis, c["temperature"])
        _ticks(ax.yaxis, c[load])
        ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel(f"temperature: {knob}\n({hotter})")
        ax.set_ylabel(f"load: {load}")
        ax.grid(False)
    ax = axes.flat[5]
    effect = effect.dropna(subset=["slope"]) if not effect.empty else effect
    if not effect.empty:
        ax.errorbar(effect[load], effect["slope"], yerr=effect["slope_se"], fmt="o-", capsize=2)
        for x, z in flip_pairs(effect, load):
            ax.axvspan(min(x, z), max(x, z), color="C3", alpha=0.15, lw=0)
    ax.axhline(0, color="0.3", lw=0.8)
    if logL and not effect.empty:
        ax.set_xscale("log")
        _ticks(ax.xaxis, effect[load])
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(f"load: {load}")
    ax.set_ylabel("d(test error) / d log10 T")
    ax.set_title("temperature effect, mean +- SE\n(< 0: raising T helps)")
    fig.tight_layout()
    return save(fig, Path(outdir) / "phase_diagram")
