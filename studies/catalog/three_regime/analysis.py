"""Analysis of the ``three_regime`` study, read only from its tidy table: the cells of the phase
diagram (means over seeds per temperature and density), their regimes, the temperature effect per
density and where its sign flips, and the summary."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...analysis.regimes import REGIMES, classify, fit_thresholds, flips, temperature_effect


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


def phase_diagram(table: pd.DataFrame, analysis: dict):
    c = cells(table)
    bt, ct, how = fit_thresholds(c, analysis.get("barrier_threshold"), analysis.get("cka_threshold"))
    c["regime"] = classify(c["lmc_barrier"], c["cka"], bt, ct)
    effect = temperature_effect(table[table["sparsity"] > 0], analysis.get("significance", 2.0))
    return c, bt, ct, how, effect


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    c, bt, ct, how, effect = phase_diagram(table, analysis)
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


