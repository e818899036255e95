"""Analysis of the ``intrinsic_dimension`` study, read only from its tidy table.

Curves. A trial's rows hold one or more error-versus-sparsity curves, each with its reference error
(``CURVES``): one-shot pruning gives ``one_shot`` (the masks as they are, against the dense model) and
``one_shot_retrained`` (retrained with the mask fixed, against the dense control that got the same extra
training); imp gives ``imp`` and its baselines ``imp_reinit`` and ``imp_random``; random pruning gives
``random`` (all three against the dense run, which every round trains as long as).

Prunability (docs/design.md; ``theory.prunability``) of the mean curve over seeds (dead and diverged
members left out), at every tolerance of [analysis]: absolute (``tolerance`` and ``tolerances``: the
error may exceed the mean reference by that much) and relative (``relative_tolerances`` r: by r times the
mean reference). Intervals are percentile bootstraps over seeds (``n_bootstrap`` resamples, coverage
``confidence``), the reference resampled with the curves; ``ceiling`` is true when the mean curve never
leaves the tolerance, so the value is the ladder's last point (a longer ladder could give more).

Convergence. A condition whose dense members did not all converge (``converged``: the stated criterion of
``studies.trials.health.converged``) is set apart: its rows stay in the table, flagged, and the verdict
leaves it out.

Verdict: in every family of conditions that differ only in d (generated data), per curve and tolerance,
the slope of prunability against log2 d (per doubling of d) by least squares, with a bootstrap interval
(each condition's seeds resampled independently): "falls" when the whole interval is below 0, "rises"
when above, "no clear trend" otherwise.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from theory.prunability import prunability_batch, prunability_with_censoring

from ...analysis.prunability import condition_key
from ...analysis.statistics import seed_matrix
from .fields import IntrinsicDimensionTrial

# curve -> (the pruning that makes it, error column, reference column, suffix of its dead/diverged/converged)
CURVES = {
    "one_shot": ("one_shot", "test_error_one_shot", "dense_test_error", "_one_shot"),
    "one_shot_retrained": ("one_shot", "test_error", "control_test_error", ""),
    "imp": ("imp", "test_error", "dense_test_error", ""),
    "imp_reinit": ("imp", "test_error_reinit", "dense_test_error", "_reinit"),
    "imp_random": ("imp", "test_error_random", "dense_test_error", "_random"),
    "random": ("random", "test_error", "dense_test_error", ""),
}
RETRAINED = ("one_shot_retrained", "imp", "imp_reinit", "imp_random", "random")
THEORY = {"one_shot": ("theory_test_error_one_shot", "in_domain_one_shot")}  # the others: theory_test_error
LABELS = {"one_shot": "one-shot", "one_shot_retrained": "one-shot, retrained", "imp": "IMP (rewinding)",
          "imp_reinit": "IMP mask, re-initialised", "imp_random": "random mask (IMP counts)", "random": "random"}
NOT_FAMILY = ("intrinsic_dim", "n_train", "pruning", "seed")  # what may differ inside a family (n: see below)


def condition_columns(table: pd.DataFrame) -> list[str]:
    names = [f.name for f in dataclasses.fields(IntrinsicDimensionTrial)]
    return [c for c in names if c in table.columns]


RECIPE = ("lr", "epochs", "batch_size", "momentum", "schedule", "retrain_epochs", "standardize", "max_train_error",
          "recipe")


def varying(pt: pd.DataFrame, exclude=NOT_FAMILY) -> list[str]:
    """The trial fields that take more than one value across a prunability table (but ``exclude``), without
    those the others decide: a recipe value set by the student, the loss or the pruning method (the
    recipe's momentum when one-shot runs plain and IMP converged: one task pruned two ways is one family)."""
    keys = [c for c in condition_columns(pt) if c not in exclude and pt[c].map(str).nunique() > 1]
    if "pruning" in pt and pt["pruning"].nunique() > 1:
        method = pt["pruning"].map(lambda x: CURVES[x][0] if x in CURVES else x)
        keys = [c for c in keys if c in ("intrinsic_dim", "n_train")
                or not (pt[c].map(str).groupby(method).nunique() == 1).all()]
    base = [c for c in keys if c not in RECIPE]
    by = [pt[c].map(str) for c in base] + ([pt["pruning"].map(str)] if "pruning" in pt else [])
    if by:
        keys = [c for c in keys if c not in RECIPE or not (pt[c].map(str).groupby(by).nunique() == 1).all()]
    return keys


def task_key(pt: pd.DataFrame) -> pd.Series:
    """The task of every row: its condition but for the pruning method and what the method decides."""
    keys = ["intrinsic_dim", "n_train"] + varying(pt, exclude=("intrinsic_dim", "n_train", "pruning", "seed"))
    keys = [k for k in keys if k in pt.columns]
    return pt[keys].map(str).agg("|".join, axis=1)


def tolerance_list(analysis: dict) -> list[tuple[float, str]]:
    """(value, kind) for every tolerance of [analysis]: the headline one first."""
    out = [(float(analysis["tolerance"]), "absolute")]
    out += [(float(x), "absolute") for x in analysis.get("tolerances", []) if float(x) != out[0][0]]
    out += [(float(x), "relative") for x in analysis.get("relative_tolerances", [])]
    return list(dict.fromkeys(out))


def _matrix(pruned: pd.DataFrame, column: str, seeds) -> np.ndarray:
    if column not in pruned or pruned[column].isna().all():
        return np.zeros((len(seeds), pruned["sparsity"].nunique()), dtype=bool)
    return seed_matrix(pruned, column)[1].astype(float)


def _curve(g: pd.DataFrame, curve: str):
    """(sparsity, errors, left_out, reference per seed, unconverged pruned members) of one condition's
    curve, or None when the condition's rows do not hold it."""
    pruning, col, ref, sfx = CURVES[curve]
    pr = g["pruning"].iloc[0] if "pruning" in g else "one_shot"
    if pr != pruning or col not in g or g[col].isna().all():
        return None
    pruned = g[g["sparsity"] > 0]
    per_seed = g.groupby("seed").first()
    s, err = seed_matrix(pruned, col)
    dead_col = f"dead{sfx}" if f"dead{sfx}" in g else "dead"
    left_out = _matrix(pruned, dead_col, per_seed.index).astype(bool)
    if sfx != "_one_shot":
        left_out |= _matrix(pruned, f"diverged{sfx}", per_seed.index).astype(bool)
    conv_col = f"converged{sfx}"
    unconverged = int((~_matrix(pruned, conv_col, per_seed.index).astype(bool)).sum()) if (
        conv_col in g and sfx != "_one_shot" and g[conv_col].notna().any()) else 0
    return s, err, left_out, per_seed[ref].to_numpy(float), unconverged


def _means(err: np.ndarray, left_out: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean curves of the seed resamples idx (B, n): live members only; a level where all are left out
    counts as chance (0.5), as ``studies.analysis.statistics.mean_curve``."""
    e, live = err[idx], ~left_out[idx] & np.isfinite(err[idx])
    counts = live.sum(axis=1)
    sums = np.where(live, e, 0.0).sum(axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.5)


def _values(s, err, left_out, ref, tol, kind, idx):
    refs = ref[idx].mean(axis=1)
    tols = tol * refs if kind == "relative" else np.full(len(refs), tol)
    return prunability_batch(s, _means(err, left_out, idx), refs, tols)


def resamples(n: int, n_bootstrap: int, seed: int = 0) -> np.ndarray:
    """(n_bootstrap, n) seed indices drawn with replacement (the first row: the sample itself)."""
    idx = np.random.default_rng(seed).integers(0, n, (n_bootstrap, n))
    return np.vstack([np.arange(n)[None, :], idx])


def prunability_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """One row per condition (every trial field but the seed), curve and tolerance: ``prunability`` with its
    bootstrap interval ``ci_low``, ``ci_high``, ``ceiling``; the theory's line where it has one
    (``theory_prunability``, ``in_domain``, ``theory_reason``); convergence and dead-member counts."""
    if table.empty:
        return pd.DataFrame()
    columns = condition_columns(table)
    table = table.assign(condition=condition_key(table, columns))
    conf = float(analysis["confidence"])
    lo_q, hi_q = 50 * (1 - conf), 50 * (1 + conf)
    out = []
    for key, g in table.groupby("condition", sort=False):
        per_seed = g.groupby("seed").first()
        first = g.iloc[0]
        cond = {c: first[c] for c in columns}
        real = "ambient_dim" in g and "estimated_dim" in g and _is_dataset(first["manifold"])
        est = float(per_seed["estimated_dim"].mean()) if "estimated_dim" in per_seed else np.nan
        base = {**cond, "condition": key, "real_data": bool(real),
                "intrinsic_dim": np.nan if real else float(first["intrinsic_dim"]),
                "estimated_dim": est, "dimension": est if real else float(first["intrinsic_dim"]),
                "n_seeds": len(per_seed),
                "dense_test_error": float(per_seed["dense_test_error"].mean()),
                "dense_train_error": float(per_seed["dense_train_error"].mean()),
                "converged": bool(per_seed["converged"].astype(bool).all()) if "converged" in per_seed else True,
                "unconverged_seeds": int((~per_seed["converged"].astype(bool)).sum()) if "converged" in per_seed else 0,
                "prunable_layers": first.get("prunable_layers", "w"),
                "theory_reason": first.get("theory_reason", None)}
        for c in ("off_span_fraction", "theory_off_span_fraction_init", "frozen_drift", "theory_dense_test_error"):
            if c in per_seed and per_seed[c].notna().any():
                base[c] = float(per_seed[c].mean())
        for curve in CURVES:
            got = _curve(g, curve)
            if got is None:
                continue
            s, err, left_out, ref, unconverged = got
            idx = resamples(len(ref), int(analysis["n_bootstrap"]))
            th_col, dom_col = THEORY.get(curve, ("theory_test_error", "in_domain"))
            pruned = g[g["sparsity"] > 0]
            th = None
            if th_col in pruned and pruned[th_col].notna().all() and "theory_dense_test_error" in per_seed:
                th = seed_matrix(pruned, th_col)[1].mean(0)
                th_dense = float(per_seed["theory_dense_test_error"].mean())
                dense_rows = g[g["sparsity"] == 0]
                in_domain = bool(dom_col in dense_rows and dense_rows[dom_col].astype(bool).all())
            for tol, kind in tolerance_list(analysis):
                values, ceilings = _values(s, err, left_out, ref, tol, kind, idx)
                row = {**base, "pruning": curve, "retrained": curve in RETRAINED, "tolerance": tol,
                       "tolerance_kind": kind, "prunability": float(values[0]),
                       "ci_low": float(np.percentile(values[1:], lo_q)),
                       "ci_high": float(np.percentile(values[1:], hi_q)), "ceiling": bool(ceilings[0]),
                       "ladder_end": float(s[-1]), "reference_error": float(ref.mean()),
                       "dead_members": int(left_out.sum()), "unconverged_retrained": unconverged}
                row["in_domain"], row["theory_prunability"] = False, np.nan
                if th is not None:
                    th_tol = tol * th_dense if kind == "relative" else tol
                    row["theory_prunability"], row["theory_ceiling"] = prunability_with_censoring(s, th, th_dense,
                                                                                                  th_tol)
                    row["in_domain"] = in_domain
                    if curve in RETRAINED and cond.get("student") == "linear":
                        row["theory_limit"] = 1.0 - float(first["intrinsic_dim"]) / float(first["ambient_dim"])
                out.append(row)
    return pd.DataFrame(out)


def _is_dataset(kind) -> bool:
    import manifolds

    return manifolds.is_dataset(str(kind))


def family_labels(pt: pd.DataFrame) -> pd.Series:
    """The family of every generated-data row: the fields that vary across the table (but d), with the
    training-set size as n = N when it is fixed along d and as n/d = R when it grows with d."""
    keys = varying(pt)
    rest = pt[keys].map(str).agg(", ".join, axis=1) if keys else pd.Series("", index=pt.index)
    text = pd.Series([", ".join(f"{k}={v}" for k, v in zip(keys, row)) for row in
                      pt[keys].map(str).itertuples(index=False)] if keys else "", index=pt.index)
    load = pd.Series("", index=pt.index)
    if "n_train" in pt and pt["n_train"].nunique() > 1:
        for _, g in pt.groupby(rest, sort=False):
            # an n shared by several d is a family at fixed n; the other rows go by their ratio n/d
            dims_per_n = g.groupby("n_train")["intrinsic_dim"].nunique()
            fixed = g["n_train"].map(dims_per_n) > 1
            load[g.index[fixed]] = "n=" + g.loc[fixed, "n_train"].map(str)
            ratio = g.loc[~fixed, "n_train"] / g.loc[~fixed, "intrinsic_dim"]
            load[ratio.index] = [f"n/d={r:g}" for r in ratio]
    return pd.Series([", ".join(x for x in (a, b) if x) for a, b in zip(text, load)], index=pt.index)


def families(pt: pd.DataFrame):
    """Families of generated-data conditions that differ only in intrinsic_dim (and a training set that
    grows with it), per curve and tolerance: ``(label, curve, tolerance, kind, rows sorted by d)``."""
    synth = pt[~pt["real_data"]]
    if synth.empty:
        return
    named = synth.assign(_family=family_labels(synth))
    for (fam, curve, tol, kind), g in named.groupby(["_family", "pruning", "tolerance", "tolerance_kind"],
                                                    sort=False):
        yield fam, curve, tol, kind, g.sort_values("intrinsic_dim")


def trend(table: pd.DataFrame, rows: pd.DataFrame, curve: str, tol: float, kind: str, analysis: dict) -> dict:
    """The slope of prunability against log2 d over a family's conditions, with its bootstrap interval
    (every condition's seeds resampled independently)."""
    d = rows["intrinsic_dim"].to_numpy(float)
    B = int(analysis["n_bootstrap"])
    values = []
    cols = condition_columns(table)
    keyed = table.assign(condition=condition_key(table, cols))
    for i, cond in enumerate(rows["condition"]):
        g = keyed[keyed["condition"] == cond]
        s, err, left_out, ref, _ = _curve(g, curve)
        values.append(_values(s, err, left_out, ref, tol, kind, resamples(len(ref), B, seed=1 + i))[0])
    values = np.array(values)  # (conditions, 1 + B)
    x = np.log2(d) - np.log2(d).mean()
    slopes = (x @ (values - values.mean(0))) / (x @ x)
    conf = float(analysis["confidence"])
    lo, hi = np.percentile(slopes[1:], [50 * (1 - conf), 50 * (1 + conf)])
    verdict = "falls" if hi < 0 else "rises" if lo > 0 else "no clear trend"
    return {"slope": float(slopes[0]), "low": float(lo), "high": float(hi), "verdict": verdict}


def _fmt(r, p="prunability", lo="ci_low", hi="ci_high") -> str:
    cap = "*" if r.get("ceiling") else ""
    return f"{r[p]:.4f}{cap} [{r[lo]:.4f}, {r[hi]:.4f}]"


def _tol_text(tol, kind) -> str:
    return f"{tol:g} absolute" if kind == "absolute" else f"{tol:g} x dense error (relative)"


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    pt = prunability_table(table, analysis)
    if pt.empty:
        return ["No finished trials."]
    tols = tolerance_list(analysis)
    tol0, kind0 = tols[0]
    head = pt[(pt["tolerance"] == tol0) & (pt["tolerance_kind"] == kind0)]
    conf = int(round(float(analysis["confidence"]) * 100))
    lines = [f"Prunability at tolerance {_tol_text(tol0, kind0)} (mean curve over seeds, {conf}% bootstrap "
             f"interval over seeds; * = ladder ceiling, the curve never left the tolerance); retrained one-shot "
             "members are compared with a dense control that got the same extra training, IMP and random "
             "pruning with the dense run. Theory: theory.subspace from n, d, D alone (no measured input).", ""]
    good = head[head["converged"]]
    curves_here = [c for c in CURVES if c in set(good["pruning"])]
    with_theory = {c for c in curves_here if good.loc[good["pruning"] == c, "theory_prunability"].notna().any()}
    if not good.empty:
        header = "| condition | d | d est. | seeds | dense train ; test err | " + " | ".join(
            f"{LABELS[c]} | theory" if c in with_theory else LABELS[c] for c in curves_here) + " |"
        lines += [header, "|" + "---|" * (5 + len(curves_here) + len(with_theory))]
        good = good.assign(_task=task_key(good), _family=family_labels(good) if not good["real_data"].all() else "")
        good = good.sort_values(["real_data", "_family", "intrinsic_dim", "estimated_dim"], kind="stable")
        for _, g in good.groupby("_task", sort=False):
            r0 = g.iloc[0]
            cells = []
            for c in curves_here:
                rc = g[g["pruning"] == c]
                if rc.empty:
                    cells += ["-", "-"] if c in with_theory else ["-"]
                    continue
                rc = rc.iloc[0]
                cells.append(_fmt(rc))
                if c in with_theory:
                    th = rc.get("theory_prunability")
                    cells.append("n/a" if th is None or pd.isna(th) else f"{th:.4f}" + (
                        "" if rc.get("in_domain") else " (out of domain)"))
            d = "-" if r0["real_data"] else f"{int(r0['intrinsic_dim'])}"
            est = f"{r0['estimated_dim']:.1f}" if pd.notna(r0["estimated_dim"]) else "-"
            dense = g.drop_duplicates("condition")
            train = " / ".join(dict.fromkeys(f"{v:.4f}" for v in dense["dense_train_error"]))
            test = " / ".join(dict.fromkeys(f"{v:.4f}" for v in dense["dense_test_error"]))
            lines.append(f"| {_condition_label(r0, head)} | {d} | {est} | {int(r0['n_seeds'])} | "
                         f"{train} ; {test} | " + " | ".join(cells) + " |")
    bad = head[~head["converged"]].drop_duplicates("condition")
    if not bad.empty:
        lines += ["", f"Unconverged (set apart, left out of the verdict): {len(bad)} condition(s) whose dense members "
                  "did not all converge (final train error above max_train_error, or a loss still moving by more "
                  "than 1% over the last tenth of training):", "",
                  "| condition | d | unconverged seeds | dense train err | dense test err |", "|---|---|---|---|---|"]
        for _, r in bad.iterrows():
            d = "-" if r["real_data"] else int(r["intrinsic_dim"])
            lines.append(f"| {_condition_label(r, head)} | {d} | {int(r['unconverged_seeds'])} of {int(r['n_seeds'])} "
                         f"| {r['dense_train_error']:.4f} | {r['dense_test_error']:.4f} |")
    lines += ["", "Verdict: does prunability fall with d? Slope of prunability per doubling of d, least squares over "
              f"the family's d, {conf}% bootstrap interval:", ""]
    conv = pt[pt["converged"]]
    any_family = False
    for fam, curve, tol, kind, rows in families(conv):
        if rows["intrinsic_dim"].nunique() < 2:
            continue
        any_family = True
        tr = trend(table, rows, curve, tol, kind, analysis)
        lo_r, hi_r = rows.iloc[0], rows.iloc[-1]
        student = f"{lo_r['student']} student" + (f" {lo_r['hidden']}" if lo_r["student"] == "mlp" else "")
        where = f" ({fam})" if fam else ""
        lines.append(f"- {LABELS[curve]}, {student}{where}, tolerance {_tol_text(tol, kind)}: **{tr['verdict']}**, "
                     f"slope {tr['slope']:+.4f} [{tr['low']:+.4f}, {tr['high']:+.4f}]; d = {int(lo_r['intrinsic_dim'])}: "
                     f"{_fmt(lo_r)}, d = {int(hi_r['intrinsic_dim'])}: {_fmt(hi_r)}")
    if not any_family:
        lines.append("- no family of converged conditions with two or more values of d")
    lines += _notes(pt, head)
    return lines


def _condition_label(r, head: pd.DataFrame) -> str:
    keys = varying(head, exclude=("intrinsic_dim", "pruning", "seed"))
    text = ", ".join(f"{k}={r[k]}" for k in keys)
    return text or str(r["manifold"])


def _recipe_text(v) -> str:
    """A recipe value as the summary writes it: '-' where missing, a whole float as an integer (a column
    with missing values is float: batch 100, not 100.0)."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _recipes(head: pd.DataFrame) -> list[str]:
    """One line per distinct training recipe of the table: what the dense (and retrained) members ran with."""
    cols = [c for c in ("student", "pruning", "recipe", "loss", "lr", "momentum", "schedule", "epochs", "batch_size",
                        "standardize", "max_train_error") if c in head.columns]
    if "recipe" not in head:
        return []
    seen = head.assign(pruning=head["pruning"].map(lambda x: CURVES[x][0] if x in CURVES else x))[cols]
    seen = seen.astype(object).map(_recipe_text)
    seen = seen.drop_duplicates()
    out = []
    for _, r in seen.iterrows():
        lr = "from the data's curvature" if r.get("lr") == "-" else r.get("lr")
        batch = "full" if r.get("batch_size") == "-" else r.get("batch_size")
        out.append(f"- {r['student']} student, {r['pruning']}: recipe {r['recipe']}, {r['loss']} loss, lr {lr}, momentum "
                   f"{r['momentum']}, {r['schedule']} schedule, {r['epochs']} epochs, batch {batch}, inputs standardised: "
                   f"{r['standardize']}; converged = final train error <= {r['max_train_error']} and loss flat to 1% "
                   "over the last tenth of training")
    return ["", "Training (the recipe's values where the spec left them null; a linear manifold's raw coordinates "
            "have variance d/D, so MLPs standardise them by one global factor to keep the first layer's step the "
            "same at every d, while the linear student keeps them raw and takes its step from the data's "
            "curvature):"] + out


def _notes(pt: pd.DataFrame, head: pd.DataFrame) -> list[str]:
    lines = _recipes(head)
    ceil = pt[pt["ceiling"]]
    if not ceil.empty:
        lines += ["", f"{len(ceil)} of {len(pt)} (condition, curve, tolerance) values sit at the ladder's ceiling "
                  "(marked *): the curve never left the tolerance, so the true prunability is at least that."]
    dead = head.drop_duplicates(["condition", "pruning"])["dead_members"].sum()
    if dead:
        lines += ["", f"{int(dead)} pruned members were dead (constant output) or diverged; they are left out of the "
                  "mean curves, and a level where all are dead counts as chance."]
    unc = head.drop_duplicates(["condition", "pruning"])["unconverged_retrained"].sum()
    if unc:
        lines += ["", f"{int(unc)} retrained members did not settle (loss still moving by more than 1% over the "
                  "last tenth of their training): their errors may be higher than converged retraining gives."]
    if "theory_reason" in head and head["theory_reason"].notna().any():
        reasons = head.drop_duplicates("condition")["theory_reason"].dropna().unique()
        lines += ["", "Theory domain: " + " | ".join(reasons[:4])]
    if "off_span_fraction" in head and head["off_span_fraction"].notna().any():
        h = head.drop_duplicates("condition").dropna(subset=["off_span_fraction"])
        bits = [f"d={int(r['intrinsic_dim'])}: {r['off_span_fraction']:.3f} (1 - d/D = "
                f"{r.get('theory_off_span_fraction_init', np.nan):.3f})" for _, r in h.iterrows() if not r["real_data"]]
        if bits:
            lines += ["", "MLP first layer: share of the squared weight norm off the data span after training, which "
                      "gradient descent never moves (frozen drift up to "
                      f"{h['frozen_drift'].max():.1e}): " + "; ".join(bits[:8]) + ". Magnitude pruning cannot see "
                      "this share: each weight mixes it with the trained part (theory.frozen_weights)."]
    return lines
