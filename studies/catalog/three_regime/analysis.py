"""Analysis of the ``three_regime`` study, read only from its tidy table and its [analysis] fields.

- Regimes (Zhou et al., ICML 2023, Sec. 3), per row (one dense seed, temperature and density) and per
  cell (the mean over dense seeds): Regime I (poorly connected) where the mode connectivity is below
  ``-barrier_threshold`` (a path between retrained members worse than their ends by more than that
  training error); otherwise II-B (well connected and similar) where the CKA (``regime_cka``) is
  above ``cka_threshold``, else II-A. The thresholds are fixed study parameters; a fitted threshold
  (``null``: a change point, ``studies.analysis.regimes.change_point``) is opt-in and never calls a
  cell Regime I whose mean barrier is within the seed-to-seed spread (the standard deviation over
  dense seeds of that cell's mode connectivity).
- Sensitivity: how many cells change regime when each threshold moves by a factor of 2 (for the CKA,
  its distance to 1, 1 - cka_threshold, moves by that factor).
- The temperature effect per load value: the slope of the test error against log10 of the knob's
  value (the value itself where one is 0) per dense seed, mean and standard error over seeds (``studies.analysis.regimes.
  temperature_effect``; a negative effect means raising the temperature helps, the epochs and batch
  size axes read reversed), the best temperature against the hottest and the coldest, and where the
  sign of the effect flips; beside it the same effect on the unpruned models (the dense model's own test
  error and the dense control after the same retraining), which tells whether an effect at high density
  is the dense model's, carried through the pruning.
- The paper's normalised error: the test error minus the best over temperatures at that load (their
  ``min_normalize``); ``relative_test_error`` is the ratio.

Rows whose retraining did not converge (``converged`` False) are set apart (counted, not averaged);
failed trials are not in the table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...analysis.regimes import MIN_GAP_CKA, MIN_GAP_LOG10_BARRIER, REGIMES, change_point, flips, temperature_effect
from ...trials.temperature import COLD_KNOBS
from .fields import ThreeRegimeAnalysis, analysis_settings

DEFAULTS = ThreeRegimeAnalysis()
METRICS = ("test_error", "train_error", "mode_connectivity", "lmc_barrier", "cka_output", "cka",
           "dense_test_error", "dense_train_error", "dense_train_loss")


def settings(analysis: dict) -> dict:
    """[analysis] with every field present (a stored spec of an older version may lack some)."""
    return analysis_settings(analysis)


def load_column(analysis: dict) -> str:
    return settings(analysis)["load"]


def plane(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The pruned rows of the phase diagram's plane: every density, or (load = n_train or label_noise) the
    rows at ``at_density`` (default: the lowest)."""
    a = settings(analysis)
    t = table[table["sparsity"] > 0]
    if a["load"] != "density" and not t.empty:
        at = a["at_density"] if a["at_density"] is not None else float(t["density"].min())
        t = t[np.isclose(t["density"], at)]
    return t


def kept(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows whose retrained members converged (and were not all dead)."""
    ok = rows["converged"].astype(bool) if "converged" in rows else pd.Series(True, index=rows.index)
    return rows[ok & rows["test_error"].notna()]


def classify(mc, cka, barrier_threshold: float, cka_threshold: float) -> np.ndarray:
    """Regime of points with mode connectivity ``mc`` (negative = barrier) and CKA ``cka``."""
    mc, cka = np.asarray(mc, float), np.asarray(cka, float)
    out = np.where(mc < -barrier_threshold, "I", np.where(cka > cka_threshold, "II-B", "II-A"))
    return np.where(np.isfinite(mc) & np.isfinite(cka), out, "n/a")


def cells(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Per (temperature, load value): means over dense seeds of the kept pruned rows, the spread of the
    mode connectivity over seeds, the paper's normalised error and the regime."""
    a = settings(analysis)
    load = a["load"]
    rows = kept(plane(table, analysis))
    cols = [c for c in METRICS if c in rows]
    g = rows.groupby(["temperature", load])
    out = g[cols].mean()
    out["n_seeds"] = g["seed"].nunique()
    out["test_error_se"] = g["test_error"].std(ddof=1) / np.sqrt(out["n_seeds"])
    out["mode_connectivity_sd"] = g["mode_connectivity"].std(ddof=1)
    out = out.reset_index()
    best = out.groupby(load)["test_error"].transform("min")
    out["normalized_test_error"] = out["test_error"] - best
    out["relative_test_error"] = out["test_error"] / best.where(best > 0, np.nan)
    bt, ct, _ = thresholds(out, a)
    out["regime"] = cell_regimes(out, a, bt, ct)
    return out


def thresholds(c: pd.DataFrame, analysis: dict) -> tuple[float, float, str]:
    """``(barrier_threshold, cka_threshold, how)``: the given ones, or fitted where set to null."""
    a = settings(analysis)
    bt, ct, how = a["barrier_threshold"], a["cka_threshold"], []
    if bt is None:
        b = np.log10(np.clip(-c["mode_connectivity"].to_numpy(float), 1e-4, None))
        cp, gap = change_point(b)
        fitted = gap >= MIN_GAP_LOG10_BARRIER
        bt = 10 ** cp if fitted else DEFAULTS.barrier_threshold
        how.append("barrier " + ("fitted" if fitted else f"default {DEFAULTS.barrier_threshold:g} (no change point of "
                                                          "a decade to fit)"))
    else:
        how.append("barrier fixed")
    if ct is None:
        well = c[c["mode_connectivity"] >= -bt]
        cp, gap = change_point(well[a["regime_cka"]])
        fitted = gap >= MIN_GAP_CKA
        ct = cp if fitted else DEFAULTS.cka_threshold
        how.append("CKA " + ("fitted" if fitted else f"default {DEFAULTS.cka_threshold:g} (no change point of 0.1 to fit)"))
    else:
        how.append("CKA fixed")
    return float(bt), float(ct), ", ".join(how)


def within_spread(c: pd.DataFrame) -> np.ndarray:
    """Cells whose mean barrier is within the seed-to-seed spread of their mode connectivity."""
    sd = c["mode_connectivity_sd"].fillna(np.inf).to_numpy(float)
    return -c["mode_connectivity"].to_numpy(float) <= sd


def cell_regimes(c: pd.DataFrame, analysis: dict, bt: float, ct: float) -> np.ndarray:
    a = settings(analysis)
    out = classify(c["mode_connectivity"], c[a["regime_cka"]], bt, ct)
    if a["barrier_threshold"] is None:  # a fitted threshold never calls a barrier within the spread Regime I
        demote = (out == "I") & within_spread(c)
        out = np.where(demote, classify(np.zeros(len(c)), c[a["regime_cka"]], bt, ct), out)
    return out


def columns(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The derived columns of the tidy table (``Study.columns``): ``regime`` of every pruned row (dense
    controls: '-') with the [analysis] thresholds, and ``dense_converged`` (dense train error at most
    ``max_dense_train_error``)."""
    if table.empty or "mode_connectivity" not in table:
        return table
    a = settings(analysis)
    table = table.copy()
    table["dense_converged"] = table["dense_train_error"] <= a["max_dense_train_error"]
    cka = table[a["regime_cka"]]
    c = cells(table, a) if (a["barrier_threshold"] is None or a["cka_threshold"] is None) else None
    bt, ct = (a["barrier_threshold"], a["cka_threshold"]) if c is None else thresholds(c, a)[:2]
    regime = classify(table["mode_connectivity"], cka, bt, ct)
    if c is not None and a["barrier_threshold"] is None:
        load = a["load"]
        spread = c.assign(spread=within_spread(c)).set_index(["temperature", load])["spread"]
        key = list(zip(table["temperature"], table[load]))
        inside = np.array([bool(spread.get(k, True)) for k in key])
        regime = np.where((regime == "I") & inside, classify(np.zeros(len(table)), cka, bt, ct), regime)
    table["regime"] = np.where(table["sparsity"] > 0, regime, "-")
    return table


def sensitivity(c: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """How many cells change regime when each threshold moves by a factor of 2 either way."""
    a = settings(analysis)
    bt, ct, _ = thresholds(c, a)
    base = cell_regimes(c, a, bt, ct)
    rows = []
    for factor in (0.5, 2.0):
        moved = {"barrier_threshold": (bt * factor, ct), "cka_threshold": (bt, 1 - (1 - ct) * factor)}
        for name, (b, k) in moved.items():
            r = cell_regimes(c, a, b, k)
            rows.append({"threshold": name, "factor": factor, "value": b if name == "barrier_threshold" else k,
                         "cells_changed": int((r != base).sum()), "n_cells": len(c),
                         **{f"n_{x}": int((r == x).sum()) for x in REGIMES}})
    return pd.DataFrame(rows)


def effect(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Per load value: the temperature effect (slope of the test error against log10 T per seed, mean and
    SE, in the raising-T sense, and ``slope_vs_value``, the plain slope against log10 of the knob's
    value, or the value itself where it can be 0), the best temperature and its contrasts with the hottest and the coldest (mean and SE over
    seeds of the per-seed differences)."""
    a = settings(analysis)
    load = a["load"]
    rows = kept(plane(table, analysis))
    if rows.empty:
        return pd.DataFrame()
    knob = rows["temperature_knob"].iloc[0]
    cold_knob = knob in COLD_KNOBS
    eff = temperature_effect(rows.assign(density=rows[load]), a["significance"]).rename(columns={"density": load})
    eff["slope_vs_value"] = _slope_vs_value(eff, knob)
    c = cells(table, a)
    extra = []
    for value, g in rows.groupby(load):
        cg = c[c[load] == value]
        temps = sorted(g["temperature"].unique())
        hot, cold = (temps[0], temps[-1]) if cold_knob else (temps[-1], temps[0])
        best = float(cg.loc[cg["test_error"].idxmin(), "temperature"])
        wide = g.pivot_table(index="seed", columns="temperature", values="test_error")
        out = {load: value, "best_temperature": best, "hottest": hot, "coldest": cold}
        for name, (x, z) in {"best_minus_hottest": (best, hot), "best_minus_coldest": (best, cold),
                             "hottest_minus_coldest": (hot, cold)}.items():
            d = (wide[x] - wide[z]).dropna().to_numpy()
            out[name] = float(d.mean()) if d.size else np.nan
            out[name + "_se"] = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else np.nan
        extra.append(out)
    return eff.merge(pd.DataFrame(extra), on=load, how="left")


def _slope_vs_value(eff: pd.DataFrame, knob: str) -> pd.Series:
    """The plain slope against log10 of the knob's value, from the raising-T slope of
    ``temperature_effect`` (the epochs and batch-size axes read reversed)."""
    return -eff["slope"] if knob in COLD_KNOBS else eff["slope"]


def baseline_effect(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The temperature effect on the unpruned models, the references of the pruned rows' effect (load =
    density only): ``dense`` on the dense model's own test error, ``control`` on the dense control after
    the same retraining. Columns as :func:`effect`'s (``slope_vs_value``, ``slope_se``, ``sign``,
    ``effect``) with ``baseline`` naming the row. A pruned row's effect that the control shows too is the
    dense model's temperature effect carried through the pruning; one that neither shows is pruning's."""
    a = settings(analysis)
    unpruned = table[table["sparsity"] == 0]
    if a["load"] != "density" or unpruned.empty:
        return pd.DataFrame()
    knob = unpruned["temperature_knob"].iloc[0]
    out = []
    for name, rows in (("dense", unpruned.assign(test_error=unpruned["dense_test_error"])),
                       ("control", kept(unpruned))):
        if rows.empty:
            continue
        e = temperature_effect(rows.assign(density=1.0), a["significance"]).assign(baseline=name)
        e["slope_vs_value"] = _slope_vs_value(e, knob)
        out.append(e)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def phase_diagram(table: pd.DataFrame, analysis: dict):
    a = settings(analysis)
    c = cells(table, a)
    bt, ct, how = thresholds(c, a)
    return c, bt, ct, how, effect(table, a)


def flip_pairs(eff: pd.DataFrame, load: str) -> list[tuple[float, float]]:
    """Adjacent called load values between which the sign of the effect flips (high to low density)."""
    if eff.empty:
        return []
    e = eff.rename(columns={load: "density"}) if load != "density" else eff
    return flips(e)


def _pm(mean, se, digits=4) -> str:
    se_text = f"{se:.{digits}f}" if np.isfinite(se) else "n/a"
    return f"{mean:+.{digits}f} +- {se_text}"


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    a = settings(analysis)
    load = a["load"]
    c, bt, ct, how, eff = phase_diagram(table, a)
    knob = table["temperature_knob"].iloc[0]
    t0 = table.iloc[0]
    pl = plane(table, a)
    lines = [f"Temperature knob: {knob} ({c['temperature'].nunique()} values"
             + ("; fewer = hotter, checkpoints of one dense run of "
                f"{int(t0['run_epochs'])} epochs" if knob == "epochs" and pd.notna(t0.get("run_epochs")) else "")
             + (f"; larger = colder, at {int(t0['steps'])} steps" if knob == "batch_size" else "")
             + f"); load: {load} ({c[load].nunique()} values"
             + (f", at density {pl['density'].iloc[0]:g}" if load != "density" and not pl.empty else "")
             + f"); {int(table['seed'].nunique())} dense seeds x {int(t0['retrain_seeds'])} retraining seeds.",
             f"Recipe: SGD momentum {t0['momentum']:g}, learning rate x{t0['lr_decay']:g} at "
             f"{', '.join(f'{x:g}' for x in _list(t0['lr_decay_at']))} of each run; one-shot {t0['prune_scope']} "
             f"magnitude pruning; retraining from the pruned weights at lr {t0['retrain_lr']:g}.",
             f"Regime thresholds: Regime I where mode connectivity < -{bt:.4g} (training error), II-B where "
             f"{a['regime_cka']} > {ct:.4g} ({how}).", ""]
    temps = sorted(c["temperature"].unique())
    lines += [f"Regimes per cell (rows: {load}, columns: temperature; mean over dense seeds):", "",
              f"| {load} | " + " | ".join(f"{t:g}" for t in temps) + " |", "|---" * (len(temps) + 1) + "|"]
    for d in sorted(c[load].unique(), reverse=True):
        row = c[c[load] == d].set_index("temperature")["regime"]
        lines.append(f"| {d:g} | " + " | ".join(row.get(t, "-") for t in temps) + " |")
    counts = c["regime"].value_counts()
    lines += ["", "Cells: " + ", ".join(f"{r}: {int(counts.get(r, 0))}" for r in REGIMES)
              + f" of {len(c)}; mode connectivity from {c['mode_connectivity'].min():+.4f} to "
              f"{c['mode_connectivity'].max():+.4f}, {a['regime_cka']} from {c[a['regime_cka']].min():.4f} to "
              f"{c[a['regime_cka']].max():.4f}."]
    well = c[c["regime"] != "I"]
    if not counts.get("II-A", 0) and not well.empty:
        lines.append(f"No Regime II-A cell: every well-connected cell has {a['regime_cka']} >= "
                     f"{well[a['regime_cka']].min():.4f} (threshold {ct:.4g}); the synthetic world does not show the "
                     "paper's well-connected but dissimilar regime here.")
    if not counts.get("I", 0):
        lines.append(f"No Regime I cell: the lowest mode connectivity is {c['mode_connectivity'].min():+.4f} "
                     f"(threshold -{bt:.4g}).")
    sens = sensitivity(c, a)
    lines += ["", "Sensitivity of the regimes to the thresholds (cells that change regime):", "",
              "| threshold | moved to | cells changed | I | II-A | II-B |", "|---|---|---|---|---|---|"]
    for _, r in sens.iterrows():
        lines.append(f"| {r['threshold']} x{r['factor']:g}{' (on 1 - CKA)' if r['threshold'] == 'cka_threshold' else ''}"
                     f" | {r['value']:.4g} | {r['cells_changed']} of {r['n_cells']} | {r['n_I']} | {r['n_II-A']} | {r['n_II-B']} |")
    lines += _effect_lines(eff, load, knob, a, bool((c["temperature"] <= 0).any()), baseline_effect(table, a))
    lines += _load_reach(table, c, load)
    lines += _dense_lines(table, a, knob, load)
    lines += _set_apart(table, a)
    return lines


def _list(value) -> list:
    import json

    return json.loads(value) if isinstance(value, str) else list(value)


def _effect_lines(eff: pd.DataFrame, load: str, knob: str, a: dict, zero_temperature: bool,
                  base: pd.DataFrame | None = None) -> list[str]:
    base = pd.DataFrame() if base is None else base
    if eff.empty:
        return ["", "No kept rows: the temperature effect cannot be measured."]
    reversed_axis = knob in COLD_KNOBS
    axis = knob if zero_temperature else f"log10 {knob}"
    lines = ["", f"Temperature effect on the pruned-and-retrained test error, per {load}: the slope against {axis} "
             "per dense seed, mean +- SE over seeds"
             + (f" (a larger {knob} is colder: raising T lowers it)" if reversed_axis else "")
             + "; the best temperature against the hottest and the coldest (per-seed differences):", "",
             f"| {load} | slope vs {axis} | effect of raising T | best T | best - hottest | best - coldest "
             "| hottest - coldest |", "|---|---|---|---|---|---|---|"]
    for _, r in eff.iterrows():
        lines.append(f"| {r[load]:g} | {_pm(r['slope_vs_value'], r['slope_se'])} | {r['effect']} "
                     f"| {r['best_temperature']:g} | {_pm(r['best_minus_hottest'], r['best_minus_hottest_se'])} "
                     f"| {_pm(r['best_minus_coldest'], r['best_minus_coldest_se'])} "
                     f"| {_pm(r['hottest_minus_coldest'], r['hottest_minus_coldest_se'])} |")
    labels = {"dense": "unpruned (dense model)", "control": "unpruned (control, retrained)"}
    for _, r in base.iterrows():
        lines.append(f"| {labels[r['baseline']]} | {_pm(r['slope_vs_value'], r['slope_se'])} | {r['effect']} "
                     "| - | - | - | - |")
    f = flip_pairs(eff, load)
    at = eff.set_index(load)
    lines.append("")
    if f:
        lines.append("The temperature effect flips sign across the load axis: " + "; ".join(
            f"between {load} {x:g} ({at.loc[x, 'effect']}, slope {_pm(at.loc[x, 'slope_vs_value'], at.loc[x, 'slope_se'])}) "
            f"and {load} {z:g} ({at.loc[z, 'effect']}, slope {_pm(at.loc[z, 'slope_vs_value'], at.loc[z, 'slope_se'])})"
            for x, z in f) + ".")
        called = eff[eff["sign"] != 0].sort_values(load, ascending=False)  # the direction of the called signs
        hi, lo = called.iloc[0], called.iloc[-1]
        paper = hi["sign"] > 0 and lo["sign"] < 0 if load == "density" else None
        if paper is not None:
            lines.append("Direction: " + ("as in the paper (raising the temperature hurts at high density and helps "
                                          "at low density)." if paper else
                                          "not the paper's (the paper: raising the temperature hurts at high density "
                                          "and helps at low density)."))
        lines += _carried_lines(called, base)
    else:
        called = eff[eff["sign"] != 0]
        lines.append(f"The temperature effect does not flip sign across the load axis ({len(called)} of {len(eff)} "
                     f"load values have a significant sign, at |mean| > {a['significance']:g} SE: "
                     f"{', '.join(sorted(set(called['effect']))) or 'none'}); the paper's sharp transition is not "
                     "shown here.")
    return lines


def _carried_lines(called: pd.DataFrame, base: pd.DataFrame) -> list[str]:
    """For each unpruned reference (the dense model, the retrained control), its effect and the called
    densities of a flip that share its sign: there the pruned rows may inherit the dense model's
    temperature effect rather than show pruning's own (for the control, after the same retraining)."""
    labels = {"dense": "the dense model", "control": "the retrained control"}
    lines = []
    for _, ref in base.iterrows():
        sign = int(ref["sign"])
        same = [f"{d:g}" for d, s in zip(called["density"], called["sign"]) if sign != 0 and s == sign]
        text = f"Unpruned, {labels[ref['baseline']]}: {ref['effect']} (slope {_pm(ref['slope_vs_value'], ref['slope_se'])})"
        lines.append(text + (f"; the pruned rows at density {', '.join(same)} share its sign." if same else "."))
    return lines


def _load_reach(table: pd.DataFrame, c: pd.DataFrame, load: str) -> list[str]:
    if load != "density" or c.empty:
        return []
    lowest = c[c["density"] == c["density"].min()]
    dense_best = table[table["sparsity"] == 0].groupby("temperature")["dense_test_error"].mean().min()
    ratio = lowest["test_error"].min() / dense_best if dense_best > 0 else np.nan
    return ["", f"Load axis: at the lowest density ({c['density'].min():g}) the best retrained test error is "
            f"{lowest['test_error'].min():.4f}, {ratio:.2f} times the best dense test error ({dense_best:.4f})"
            + ("." if ratio >= 1.5 else "; the axis does not reach the 1.5 times of a strongly loaded model.")]


def _dense_lines(table: pd.DataFrame, a: dict, knob: str, load: str = "density") -> list[str]:
    """The dense models per temperature, and whether the cold end of the axis is trained: per load value
    where the load is a data field (n_train, label_noise), since a pooled mean hides one under-trained
    load. With label noise the train error is counted against the flipped labels, so the teacher itself
    scores label_noise there: the cold end is under-trained when its error exceeds label_noise +
    max_dense_train_error."""
    dense = (table[table["sparsity"] == 0].groupby("temperature")
             [["dense_train_loss", "dense_train_error", "dense_test_error", "test_error"]].mean())
    lines = ["", "Dense models (the temperature is confounded with under-training where the train error is high); "
             "'control' is the dense model after the same retraining:", "",
             "| temperature | dense train loss | dense train error | dense test error | control test error |",
             "|---|---|---|---|---|"]
    lines += [f"| {t:g} | {r['dense_train_loss']:.4f} | {r['dense_train_error']:.4f} | {r['dense_test_error']:.4f} "
              f"| {r['test_error']:.4f} |" for t, r in dense.iterrows()]
    cold = dense.index.max() if knob in COLD_KNOBS else dense.index.min()
    ends = table[(table["sparsity"] == 0) & (table["temperature"] == cold)]
    by = load if load != "density" and load in ends else None
    errors = ends.groupby(by)["dense_train_error"].mean() if by else pd.Series({None: ends["dense_train_error"].mean()})
    bad, good = [], []
    for value, err in errors.items():
        allowed = a["max_dense_train_error"] + (float(value) if by == "label_noise" else 0.0)
        where = f" at {by} = {value:g}" if by else ""
        (bad if err > allowed else good).append(f"{err:.4f}{where} (allowed {allowed:g})")
    if bad:
        lines += ["", f"WARNING: the cold end of the axis ({knob} = {cold:g}) is under-trained: dense train error "
                  f"{'; '.join(bad)}; there the temperature effect measures under-training."]
    if good:
        lines += ["", f"The cold end ({knob} = {cold:g}) is trained: dense train error {'; '.join(good)}."]
    if by == "label_noise":
        lines.append("(With label noise the train error counts the flipped labels: the teacher itself scores "
                     "label_noise.)")
    return lines


def _set_apart(table: pd.DataFrame, a: dict) -> list[str]:
    pruned = table[table["sparsity"] > 0]
    unconverged = int((~pruned["converged"].astype(bool)).sum()) if "converged" in pruned else 0
    dead = int(pruned["dead"].sum()) if "dead" in pruned else 0
    members = len(pruned) * int(table["retrain_seeds"].iloc[0])
    return ["", f"Set apart: {unconverged} of {len(pruned)} pruned rows whose retraining did not converge (loss not flat "
            f"over the last tenth of the epochs) are left out of the cells and the effect; {dead} of {members} retrained "
            "members are dead (constant output, diverged or at chance error) and left out of their rows' means."]
