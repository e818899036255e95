"""Summary and figures of the ``three_regime`` study, read only from its tidy table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm

from .figures import new_figure, save
from .regimes import REGIMES, classify, fit_thresholds, flips, temperature_effect

REGIME_COLORS = {"I": "#d95f02", "II-A": "#7570b3", "II-B": "#1b9e77"}


def cells(table: pd.DataFrame) -> pd.DataFrame:
    """Means over seeds per (temperature, density) of the pruned points, with the normalised error."""
    t = table[table["sparsity"] > 0]
    g = t.groupby(["temperature", "density"])
    out = g.agg(test_error=("test_error", "mean"), lmc_barrier=("lmc_barrier", "mean"), cka=("cka", "mean"),
                lmc_barrier_error=("lmc_barrier_error", "mean"), n_seeds=("seed", "nunique"),
                dead=("dead", "sum")).reset_index()
    out["test_error_se"] = g["test_error"].std(ddof=1).to_numpy() / np.sqrt(out["n_seeds"].clip(lower=1))
    best = out.groupby("density")["test_error"].transform("min")
    out["normalized_test_error"] = out["test_error"] / best.where(best > 0, np.nan)
    return out


def _analysis(table: pd.DataFrame, analysis: dict):
    c = cells(table)
    bt, ct, how = fit_thresholds(c, analysis.get("barrier_threshold"), analysis.get("cka_threshold"))
    c["regime"] = classify(c["lmc_barrier"], c["cka"], bt, ct)
    effect = temperature_effect(table[table["sparsity"] > 0], analysis.get("significance", 2.0))
    return c, bt, ct, how, effect


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    c, bt, ct, how, effect = _analysis(table, analysis)
    knob = table["temperature_knob"].iloc[0]
    lines = [f"Temperature knob: {knob} ({c['temperature'].nunique()} values); load: density of the pruned model "
             f"({c['density'].nunique()} values); {int(c['n_seeds'].max())} seeds.",
             f"Regime thresholds: LMC test-loss barrier {bt:.4g}, CKA {ct:.3f} ({how}).", ""]
    temps = sorted(c["temperature"].unique())
    lines += ["Regimes (rows: density, columns: temperature):", "",
              "| density | " + " | ".join(f"{t:g}" for t in temps) + " |", "|---" * (len(temps) + 1) + "|"]
    for d in sorted(c["density"].unique(), reverse=True):
        row = c[c["density"] == d].set_index("temperature")["regime"]
        lines.append(f"| {d:g} | " + " | ".join(row.get(t, "-") for t in temps) + " |")
    counts = c["regime"].value_counts()
    lines += ["", "Counts: " + ", ".join(f"{r}: {int(counts.get(r, 0))}" for r in REGIMES), ""]
    lines += ["Effect of raising the temperature on the pruned-and-retrained test error (slope against "
              f"{'log10 ' if np.all(c['temperature'] > 0) else ''}temperature, mean +- SE over seeds):", "",
              "| density | slope | SE | effect |", "|---|---|---|---|"]
    for _, r in effect.iterrows():
        lines.append(f"| {r['density']:g} | {r['slope']:+.4f} | {r['slope_se']:.4f} | {r['effect']} |")
    f = flips(effect)
    lines.append("")
    if f:
        lines.append("The temperature effect flips sign across the load axis: " + "; ".join(
            f"between density {a:g} ({_effect_at(effect, a)}) and density {b:g} ({_effect_at(effect, b)})" for a, b in f) + ".")
    else:
        called = effect[effect["sign"] != 0]
        lines.append("The temperature effect does not flip sign across the load axis "
                     f"({len(called)} of {len(effect)} densities have a significant sign: "
                     f"{', '.join(sorted(set(called['effect']))) or 'none'}).")
    dense = table[table["sparsity"] == 0].groupby("temperature")[["dense_train_loss", "dense_test_error"]].mean()
    lines += ["", "Dense models (the temperature is confounded with under-training where the train loss is high):", "",
              "| temperature | dense train loss | dense test error |", "|---|---|---|"]
    lines += [f"| {t:g} | {r['dense_train_loss']:.4f} | {r['dense_test_error']:.4f} |" for t, r in dense.iterrows()]
    return lines


def _effect_at(effect: pd.DataFrame, density: float) -> str:
    return effect.loc[effect["density"] == density, "effect"].iloc[0]


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
    c, bt, ct, _, effect = _analysis(table, analysis)
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
    from matplotlib.ticker import NullFormatter
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("density (load)")
    ax.set_ylabel(f"d(test error) / d{'log10 ' if logT else ''}T")
    ax.set_title("temperature effect\n(< 0: raising T helps)")
    fig.tight_layout()
    return save(fig, Path(outdir) / "phase_diagram")
