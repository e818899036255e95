"""Analysis of the ``case_studies`` study: the three uses of the regime model (Zhou et al., ICML 2023,
Sec. 5), read off the stored rows of a ``three_regime`` run.

1. Which way to move the temperature. For a target density, the regime of the current model says
   whether to raise or lower the temperature. The map regime -> direction is learned on half of the
   seeds (the majority sign of the measured effect of raising T within each regime) and scored on the
   other half: how often does it call the direction that lowers the pruned test error, against the
   baseline that always raises the temperature?
2. Which model of a family to prune. For each seed, the family is the dense models at all
   temperatures; at each density choose one by the regime metrics of the pruned-and-retrained models
   (lowest LMC barrier, ties broken by highest CKA) or by dense test error, and compare the pruned test
   error of the choice with the oracle's; mean gain over seeds with a bootstrap interval.
3. Tuning the temperature (e.g. SAM rho) for a target density: the same choice as 2, reported as
   the chosen temperature and the regret of each rule against the best temperature.
"""
from __future__ import annotations

import pandas as pd

from ...analysis.regimes import classify, fit_thresholds
from ...analysis.statistics import bootstrap_mean
from ..three_regime.analysis import cells


def direction_calls(table: pd.DataFrame, analysis: dict) -> dict:
    """Case 1: learn regime -> direction on even seeds, score on odd seeds."""
    pruned = table[table["sparsity"] > 0]
    seeds = sorted(pruned["seed"].unique())
    calib, held = pruned[pruned["seed"].isin(seeds[0::2])], pruned[pruned["seed"].isin(seeds[1::2])]

    def moves(part: pd.DataFrame) -> pd.DataFrame:
        c = cells(part)
        bt, ct, _ = fit_thresholds(cells(calib), analysis.get("barrier_threshold"), analysis.get("cka_threshold"))
        c["regime"] = classify(c["lmc_barrier"], c["cka"], bt, ct)
        out = []
        for density, g in c.sort_values("temperature").groupby("density"):
            g = g.reset_index(drop=True)
            for i in range(len(g) - 1):
                out.append({"density": density, "regime": g.loc[i, "regime"],
                            "raise_helps": bool(g.loc[i + 1, "test_error"] < g.loc[i, "test_error"])})
        return pd.DataFrame(out)

    learn, score = moves(calib), moves(held)
    rule = learn.groupby("regime")["raise_helps"].mean().ge(0.5).to_dict()
    default = bool(learn["raise_helps"].mean() >= 0.5)
    called = score["regime"].map(lambda r: rule.get(r, default))
    return {"rule": {r: ("raise" if v else "lower") for r, v in rule.items()},
            "accuracy": float((called == score["raise_helps"]).mean()),
            "always_raise": float(score["raise_helps"].mean()), "n_moves": int(len(score))}


def selections(table: pd.DataFrame) -> pd.DataFrame:
    """Cases 2 and 3: per seed and density, the temperature chosen by each rule and its regret."""
    pruned = table[table["sparsity"] > 0]
    rows = []
    for (seed, density), g in pruned.groupby(["seed", "density"]):
        g = g.dropna(subset=["test_error"])
        if g.empty:
            continue
        best = g["test_error"].min()
        by_regime = g.sort_values(["lmc_barrier", "cka"], ascending=[True, False]).iloc[0]
        by_dense = g.sort_values("dense_test_error").iloc[0]
        rows.append({"seed": seed, "density": density, "oracle_temperature": g.loc[g["test_error"].idxmin(), "temperature"],
                     "regime_temperature": by_regime["temperature"], "dense_temperature": by_dense["temperature"],
                     "regret_regime": by_regime["test_error"] - best, "regret_dense": by_dense["test_error"] - best})
    return pd.DataFrame(rows)


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    d = direction_calls(table, analysis)
    lines = ["### 1. Which way to move the temperature", "",
             f"Rule learned on half of the seeds: {', '.join(f'{r}: {v}' for r, v in sorted(d['rule'].items()))}.",
             f"On the other half it calls the better direction in {d['accuracy']:.0%} of {d['n_moves']} moves "
             f"(always raising: {d['always_raise']:.0%}).", "",
             "### 2-3. Which model (temperature) to prune, by regime metrics or by dense accuracy", "",
             "| density | regret, regime rule | regret, dense-accuracy rule | gain of the regime rule |", "|---|---|---|---|"]
    sel = selections(table)
    n, conf = analysis["n_bootstrap"], analysis["confidence"]
    for density, g in sel.groupby("density", sort=False):
        r = bootstrap_mean(g["regret_regime"].to_numpy(), n, conf)
        a = bootstrap_mean(g["regret_dense"].to_numpy(), n, conf)
        gain = bootstrap_mean((g["regret_dense"] - g["regret_regime"]).to_numpy(), n, conf)
        lines.append(f"| {density:g} | {r[0]:.4f} [{r[1]:.4f}, {r[2]:.4f}] | {a[0]:.4f} [{a[1]:.4f}, {a[2]:.4f}] "
                     f"| {gain[0]:+.4f} [{gain[1]:+.4f}, {gain[2]:+.4f}] |")
    lines += ["", f"Regret: pruned test error of the chosen model minus the best over temperatures, mean over seeds "
              f"with a {conf:.0%} bootstrap interval; a positive gain favours the regime rule."]
    return lines


