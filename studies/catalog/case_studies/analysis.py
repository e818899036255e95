"""Analysis of the ``case_studies`` study: the three uses of the regime model (Zhou et al., ICML 2023,
Sec. 5), read off the stored rows of a ``three_regime`` run (no retraining). Every gain is a mean over
held-out dense seeds with a percentile bootstrap interval over those seeds.

1. Which way to move the temperature. At a target density, the regime of the current model (its
   row's ``regime``) says whether to raise or lower the temperature. Leave one dense seed out: on the
   other seeds learn, per regime, the majority direction of the moves between adjacent temperatures
   that lowered the pruned test error; on the held-out seed score how often the rule calls the better
   direction. Baseline: the single direction that is right most often on the other seeds (a rule
   that ignores the regime). Gain = accuracy of the regime rule minus the baseline's.
2. Which model of a family to prune. The family is the dense models of one seed at every temperature;
   at each density choose one by its regime metrics (the best-connected pruned model: highest mode
   connectivity, ties broken by the higher CKA) or by its dense test error, and compare the pruned test
   error of the choice with the best of the family (regret). Gain = regret of the dense-accuracy rule
   minus regret of the regime rule.
3. Tuning the temperature (SAM rho in the ``sam`` preset) for a target density: choose the temperature
   with the lowest mean pruned test error at that density on the other seeds and score it on the
   held-out seed against the untuned default (the coldest value, rho = 0) and against the temperature
   that is best for the dense models. Gain = test error of the alternative minus that of the tuned one.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...analysis.statistics import bootstrap_mean
from ...trials.temperature import COLD_KNOBS
from ..three_regime.analysis import DEFAULTS, classify, kept


def _pruned(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The kept pruned rows with their regime: the source run's (its ``regime`` column), or read again
    with the thresholds the case studies set."""
    rows = kept(table[table["sparsity"] > 0]).copy()
    bt, ct = analysis.get("barrier_threshold"), analysis.get("cka_threshold")
    if bt is not None or ct is not None or "regime" not in rows:
        cka = rows[analysis.get("regime_cka") or DEFAULTS.regime_cka]
        rows["regime"] = classify(rows["mode_connectivity"], cka, DEFAULTS.barrier_threshold if bt is None else bt,
                                  DEFAULTS.cka_threshold if ct is None else ct)
    return rows


def _moves(rows: pd.DataFrame) -> pd.DataFrame:
    """Per seed, density and pair of adjacent temperatures (in the raising-T sense): the regime of the
    colder point and whether raising the temperature lowered the pruned test error."""
    knob = rows["temperature_knob"].iloc[0]
    out = []
    for (seed, density), g in rows.groupby(["seed", "density"]):
        g = g.sort_values("temperature", ascending=knob not in COLD_KNOBS).reset_index(drop=True)
        for i in range(len(g) - 1):
            out.append({"seed": seed, "density": density, "regime": g.loc[i, "regime"],
                        "raise_helps": bool(g.loc[i + 1, "test_error"] < g.loc[i, "test_error"])})
    return pd.DataFrame(out)


def direction_calls(table: pd.DataFrame, analysis: dict) -> dict:
    """Case 1, leave one seed out: the rule learned on the others and its accuracy on the held-out one."""
    moves = _moves(_pruned(table, analysis))
    per_seed, rules = [], {}
    for seed in sorted(moves["seed"].unique()):
        learn, score = moves[moves["seed"] != seed], moves[moves["seed"] == seed]
        rule = learn.groupby("regime")["raise_helps"].mean().ge(0.5).to_dict()
        constant = bool(learn["raise_helps"].mean() >= 0.5)
        called = score["regime"].map(lambda r: rule.get(r, constant))
        per_seed.append({"seed": seed, "accuracy": float((called == score["raise_helps"]).mean()),
                         "baseline": float((score["raise_helps"] == constant).mean()), "n_moves": len(score)})
        rules[seed] = {r: ("raise" if v else "lower") for r, v in rule.items()}
    per_seed = pd.DataFrame(per_seed)
    all_rule = moves.groupby("regime")["raise_helps"].mean()
    return {"per_seed": per_seed, "rules": rules,
            "rule": {r: ("raise" if v >= 0.5 else "lower") for r, v in all_rule.items()},
            "raise_share": all_rule.to_dict(),
            "accuracy": float(per_seed["accuracy"].mean()), "baseline": float(per_seed["baseline"].mean()),
            "n_moves": int(per_seed["n_moves"].sum())}


def selections(table: pd.DataFrame, analysis: dict | None = None) -> pd.DataFrame:
    """Case 2: per seed and density, the temperature chosen by each rule and its regret."""
    rows = _pruned(table, analysis or {})
    out = []
    for (seed, density), g in rows.groupby(["seed", "density"]):
        best = g["test_error"].min()
        by_regime = g.sort_values(["mode_connectivity", "cka_output"], ascending=[False, False]).iloc[0]
        by_dense = g.sort_values("dense_test_error").iloc[0]
        out.append({"seed": seed, "density": density, "oracle_temperature": g.loc[g["test_error"].idxmin(), "temperature"],
                    "regime_temperature": by_regime["temperature"], "dense_temperature": by_dense["temperature"],
                    "regret_regime": by_regime["test_error"] - best, "regret_dense": by_dense["test_error"] - best})
    return pd.DataFrame(out)


def tuning(table: pd.DataFrame, analysis: dict | None = None) -> pd.DataFrame:
    """Case 3, leave one seed out: per held-out seed and target density, the temperature tuned on the other
    seeds, the untuned default (the coldest) and the best for the dense models, and their test errors."""
    rows = _pruned(table, analysis or {})
    knob = rows["temperature_knob"].iloc[0]
    cold = rows["temperature"].max() if knob in COLD_KNOBS else rows["temperature"].min()
    dense = table[table["sparsity"] == 0]
    out = []
    for seed in sorted(rows["seed"].unique()):
        others, held = rows[rows["seed"] != seed], rows[rows["seed"] == seed]
        dense_best = dense[dense["seed"] != seed].groupby("temperature")["dense_test_error"].mean().idxmin()
        for density, g in held.groupby("density"):
            mean = others[others["density"] == density].groupby("temperature")["test_error"].mean()
            err = g.set_index("temperature")["test_error"]
            tuned = mean.idxmin()
            if tuned not in err or cold not in err or dense_best not in err:
                continue
            out.append({"seed": seed, "density": density, "tuned_temperature": tuned, "default_temperature": cold,
                        "dense_best_temperature": dense_best, "tuned_error": err[tuned], "default_error": err[cold],
                        "dense_best_error": err[dense_best]})
    return pd.DataFrame(out)


def _interval(values, analysis: dict) -> str:
    m, lo, hi = bootstrap_mean(np.asarray(values, float), analysis["n_bootstrap"], analysis["confidence"])
    return f"{m:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    conf = analysis["confidence"]
    knob = table["temperature_knob"].iloc[0]
    d = direction_calls(table, analysis)
    ps = d["per_seed"]
    lines = [f"Source: a three_regime run with temperature knob {knob}, {table['seed'].nunique()} dense seeds; "
             f"intervals are {conf:.0%} percentile bootstraps over the held-out seeds.", "",
             "### 1. Which way to move the temperature", "",
             "Rule (all seeds): " + ", ".join(f"{r}: {v} ({d['raise_share'][r]:.0%} of its moves lower the error by "
                                            "raising T)" for r, v in sorted(d["rule"].items())) + ".",
             f"Leave one seed out: the regime rule calls the better direction in {d['accuracy']:.0%} of "
             f"{d['n_moves']} held-out moves, the regime-blind baseline in {d['baseline']:.0%}; gain "
             f"{_interval(ps['accuracy'] - ps['baseline'], analysis)} (share of moves).", "",
             "### 2. Which model (temperature) to prune: by regime metrics or by dense accuracy", "",
             "| density | regret, regime rule | regret, dense-accuracy rule | gain of the regime rule |", "|---|---|---|---|"]
    sel = selections(table, analysis)
    for density, g in sel.sort_values("density", ascending=False).groupby("density", sort=False):
        lines.append(f"| {density:g} | {_interval(g['regret_regime'], analysis)} | {_interval(g['regret_dense'], analysis)} "
                     f"| {_interval(g['regret_dense'] - g['regret_regime'], analysis)} |")
    lines += ["", "Regret: pruned test error of the chosen model minus the best over temperatures; a positive gain "
              "favours the regime rule.", "",
              f"### 3. Tuning the temperature ({knob}) for a target density", "",
              "| density | tuned (held out) | gain over the default | gain over the dense-best |", "|---|---|---|---|"]
    tun = tuning(table, analysis)
    if tun.empty:
        lines.append("| - | - | - | - |")
    for density, g in tun.sort_values("density", ascending=False).groupby("density", sort=False):
        chosen = ", ".join(f"{v:g}" for v in sorted(g["tuned_temperature"].unique()))
        lines.append(f"| {density:g} | {knob} {chosen} | {_interval(g['default_error'] - g['tuned_error'], analysis)} "
                     f"| {_interval(g['dense_best_error'] - g['tuned_error'], analysis)} |")
    if not tun.empty:
        lines += ["", f"Default: the coldest value ({knob} = {tun['default_temperature'].iloc[0]:g}); dense-best: the "
                  "temperature with the lowest dense test error on the other seeds. A positive gain favours tuning "
                  "for the target density."]
    return lines
