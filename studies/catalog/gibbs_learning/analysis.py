"""Analysis of the ``gibbs_learning`` study, read only from its tidy table: grid points with their domain
flags, the agreement with the theory, the pruned and retrained rows against theory.pruned_gibbs, the Ising
transition, and the summary.

A grid point is one condition (every trial field but the seed) and sparsity. Its value is the mean over
seeds of the trials' errors, its standard error (SE) the standard deviation over seeds / sqrt(seeds): the
finite-size error bar, which holds the disorder (teacher and data) and the thermal fluctuations of a
finite sample. A point agrees with the theory when |mean - theory| <= z SE + c/N, c/N being an allowance
for the O(1/N) correction of the N -> infinity theory (c = ``finite_size_c`` = 0.25). Measured with exact
HMC, N (error - theory) of the dense Gibbs error was -0.61 to +0.08 at N = 64 (quick preset; the most
negative at T = 0 and small loads), -0.41 to +0.17 at N = 40 and -0.27 to +0.02 at N = 80 (pruned
preset): the allowance is on the small side of the measured shifts, and the domain rule below takes out
the points whose SE would resolve them. An unpruned point is in the theory's domain unless

* finite_size: P < ``min_n_train``, or fewer than 2 seeds (no SE), or c/N exceeds ``finite_size_ratio``
  SE (then the simulation resolves the finite-size shift, which the replica theory does not hold);
* non_equilibrium: averaged over seeds, the teacher-started and the other chains, or the first and
  second half of the samples, differ by more than ``equilibrium_z`` SE, or a zero-temperature chain
  ended outside the version space;
* the saddle point of the theory was not found.

These rules use the diagnostics and the SE only, never the distance to the theory. Ising points follow
the same rules; near the first-order transition their two starts differ (hysteresis) and they are
flagged non_equilibrium: the replica theory describes the equilibrium, which those chains do not reach.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .diagram import diagram_summary

CONDITION = ("ambient_dim", "weights", "sampler", "alpha", "langevin_T", "sweeps", "burn_in", "chains", "direction",
             "n_test", "sparsities", "retrain", "retrain_samples", "retrain_reg", "retrain_T", "retrain_sweeps")
RETRAIN_RULES = ("ridge", "gibbs")
# per-start Ising columns averaged over seeds (trial results)
START_COLUMNS = ("test_error_teacher_start", "test_error_other_start", "perfect_fraction_teacher_start",
                 "perfect_fraction_other_start")


def _se(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def _significant(x: pd.Series, z: float) -> bool:
    se = _se(x)
    return bool(np.isfinite(se) and abs(x.mean()) > z * se) or bool(len(x) > 1 and se == 0 and x.mean() != 0)


def _mean(g: pd.DataFrame, col: str) -> float:
    return float(g[col].mean()) if col in g else float("nan")


def _agrees(mean: float, theory: float, se: float, z: float, allowance: float) -> bool:
    return bool(np.isfinite(mean) and np.isfinite(theory) and np.isfinite(se)
                and abs(mean - theory) <= z * se + allowance)


def unique(points: pd.DataFrame, col: str, default: float) -> float:
    """The one value of a column (the default where it is missing or not unique)."""
    values = points[col].dropna().unique() if col in points else []
    return float(values[0]) if len(values) == 1 else default


def point_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """One row per grid point and sparsity: mean over seeds, SE, theory, deviation in SE, domain flags,
    and for pruned points the retrained errors (ridge, gibbs) with their theory and deviations."""
    keys = [c for c in CONDITION if c in table.columns] + ["sparsity"]
    out = []
    c = analysis["finite_size_c"]
    z = analysis["z"]
    for key, g in table.groupby(keys, dropna=False, sort=True):
        row = dict(zip(keys, key))
        row.setdefault("weights", "spherical")
        N, P = int(g["ambient_dim"].iloc[0]), int(g["n_train"].iloc[0])
        mean, se = float(g["test_error"].mean()), _se(g["test_error"])
        theory = float(g["theory_test_error"].mean())
        allowance = c / N
        row.update(n_train=P, load=float(g["load"].iloc[0]), temperature=float(g["temperature"].iloc[0]),
                   density=float(g["density"].iloc[0]), n_seeds=len(g), test_error=mean, se=se,
                   theory_test_error=theory, deviation_se=(mean - theory) / se if se > 0 else float("nan"),
                   allowance=allowance, train_error=float(g["train_error"].mean()), train_se=_se(g["train_error"]),
                   theory_train_error=_mean(g, "theory_train_error"),
                   non_equilibrium_trials=int(g["non_equilibrium"].astype(bool).sum()))
        for col in ("theory_test_error_poor", "theory_transition_load", "theory_spinodal_load", "acceptance",
                    "autocorrelation_time") + START_COLUMNS:
            if col in g:
                row[col] = _mean(g, col)
        for rule in RETRAIN_RULES:
            col = f"test_error_{rule}"
            if col in g and g[col].notna().any():
                m, s, th = float(g[col].mean()), _se(g[col]), _mean(g, f"theory_{col}")
                row.update({col: m, f"se_{rule}": s, f"theory_{col}": th,
                            f"deviation_se_{rule}": (m - th) / s if s > 0 else float("nan"),
                            f"agrees_{rule}": _agrees(m, th, s, z, allowance),
                            f"train_error_{rule}": _mean(g, f"train_error_{rule}")})
        reasons = []
        if P < analysis["min_n_train"]:
            reasons.append(f"finite_size (P={P} < {analysis['min_n_train']})")
        if not np.isfinite(se):
            reasons.append("finite_size (one seed: no SE)")
        elif allowance > analysis["finite_size_ratio"] * se:
            reasons.append(f"finite_size (c/N={allowance:.4f} > {analysis['finite_size_ratio']:g} SE={se:.4f})")
        zq = analysis["equilibrium_z"]
        if _significant(g["start_difference"], zq):
            reasons.append(f"non_equilibrium (teacher-started minus other chains {g['start_difference'].mean():+.4f})")
        if _significant(g["drift"], zq):
            reasons.append(f"non_equilibrium (second minus first half {g['drift'].mean():+.4f})")
        if not g["in_version_space"].astype(bool).all():
            reasons.append("non_equilibrium (a T=0 chain ended outside the version space)")
        if not np.isfinite(theory):
            reasons.append("theory unsolved")
        row["in_domain"] = not reasons
        row["out_of_domain_reason"] = "; ".join(reasons)
        row["agrees"] = _agrees(mean, theory, se, z, allowance)
        out.append(row)
    return pd.DataFrame(out)


def theory_points(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """The unpruned grid points, with their domain flags, for the report's agreement table."""
    points = point_table(table, analysis)
    return points[points["sparsity"] == 0]


def agreement(points: pd.DataFrame, analysis: dict, weights: str | None = "spherical") -> dict:
    """Counts and deviations of the unpruned points (of one kind of weights; None: all): all points, those
    in the domain, and those of the domain that agree (|deviation| <= z SE + c/N)."""
    dense = points[points["sparsity"] == 0]
    if weights is not None:
        dense = dense[dense["weights"] == weights]
    inside = dense[dense["in_domain"]]
    dev = inside["deviation_se"].abs()
    return {"points": len(dense), "in_domain": len(inside), "agree": int(inside["agrees"].sum()),
            "agree_all": int(dense["agrees"].sum()),
            "max_abs_deviation_se": float(dev.max()) if len(dev) else float("nan"),
            "mean_abs_deviation_se": float(dev.mean()) if len(dev) else float("nan")}


def _fmt(v: float, spec: str = ".4f") -> str:
    return "n/a" if not np.isfinite(v) else format(v, spec)


def _dense_lines(points: pd.DataFrame, analysis: dict, z: float) -> list[str]:
    a = agreement(points, analysis)
    sampler = ", ".join(sorted(points.loc[points["weights"] == "spherical", "sampler"].map(str).unique())) \
        if "sampler" in points else "line"
    lines = ["Gibbs error of the unpruned spherical students (mean over seeds, SE over seeds; sampler: "
             f"{sampler}) against the replica-symmetric theory (theory.perceptron.gibbs_error at load P/N):", "",
             f"**{a['agree']} of {a['in_domain']} points in the theory's domain agree within {z:g} SE + c/N** "
             f"(max |deviation| {a['max_abs_deviation_se']:.2f} SE, mean {a['mean_abs_deviation_se']:.2f} SE); "
             f"{a['points'] - a['in_domain']} of {a['points']} points are outside the domain; "
             f"{a['agree_all']} of all {a['points']} points are within {z:g} SE + c/N.", "",
             "| N | alpha | T | seeds | error | SE | theory | dev/SE | train err | theory train | domain |",
             "|" + "---|" * 11]
    dense = points[(points["sparsity"] == 0) & (points["weights"] == "spherical")]
    for _, r in dense.sort_values(["ambient_dim", "langevin_T", "alpha"]).iterrows():
        dom = "in" if r["in_domain"] else "out: " + r["out_of_domain_reason"]
        lines.append(f"| {int(r['ambient_dim'])} | {r['alpha']:g} | {r['langevin_T']:g} | {int(r['n_seeds'])} "
                     f"| {r['test_error']:.4f} | {r['se']:.4f} | {r['theory_test_error']:.4f} | {r['deviation_se']:+.2f} "
                     f"| {r['train_error']:.4f} | {_fmt(r['theory_train_error'])} | {dom} |")
    return lines


def _pruned_lines(points: pd.DataFrame, analysis: dict) -> list[str]:
    pruned = points[points["sparsity"] > 0]
    if not len(pruned):
        return []
    rules = [r for r in RETRAIN_RULES if f"test_error_{r}" in pruned and pruned[f"test_error_{r}"].notna().any()]
    z = analysis["z"]
    lines = ["", "Pruned students (theory: theory.pruned_gibbs, replica symmetric, N -> infinity; one-shot = the "
             "magnitude-pruned sample, R sqrt(q(c)); ridge = least-squares/ridge retraining on the kept support with the "
             "same examples; gibbs = a Gibbs sample on the kept support at T_r with the same examples). "
             "Error: mean over seeds; dev = (simulation - theory)/SE:", ""]
    head = ["N", "alpha", "T", "density", "seeds", "one-shot", "theory", "dev"]
    for r in rules:
        head += [r, "theory", "dev"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in pruned.sort_values(["ambient_dim", "langevin_T", "alpha", "sparsity"]).iterrows():
        cells = [str(int(r["ambient_dim"])), f"{r['alpha']:g}", f"{r['langevin_T']:g}", f"{r['density']:.3f}",
                 str(int(r["n_seeds"])), f"{r['test_error']:.4f} ± {r['se']:.4f}", _fmt(r["theory_test_error"]),
                 f"{r['deviation_se']:+.1f}"]
        for rule in rules:
            cells += [f"{r[f'test_error_{rule}']:.4f} ± {r[f'se_{rule}']:.4f}", _fmt(r[f"theory_test_error_{rule}"]),
                      f"{r[f'deviation_se_{rule}']:+.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for rule in ["one-shot"] + rules:
        col = "agrees" if rule == "one-shot" else f"agrees_{rule}"
        dev = pruned["deviation_se" if rule == "one-shot" else f"deviation_se_{rule}"].abs()
        dev_col = "deviation_se" if rule == "one-shot" else f"deviation_se_{rule}"
        err_col, th_col = (("test_error", "theory_test_error") if rule == "one-shot"
                           else (f"test_error_{rule}", f"theory_test_error_{rule}"))
        by_n = ", ".join(f"N = {n}: {int(h[col].sum())} of {len(h)}, mean |dev| {h[dev_col].abs().mean():.1f} SE = "
                         f"{(h[err_col] - h[th_col]).abs().mean():.4f} in error"
                         for n, h in pruned.groupby("ambient_dim"))
        lines.append(f"- {rule}: {int(pruned[col].sum())} of {len(pruned)} pruned points within {z:g} SE + c/N "
                     f"(max |dev| {dev.max():.1f} SE); {by_n}.")
    return lines


def _ising_lines(points: pd.DataFrame, analysis: dict) -> list[str]:
    dense = points[(points["sparsity"] == 0) & (points["weights"] == "ising")]
    if not len(dense):
        return []
    a = agreement(points, analysis, weights="ising")
    lines = ["", "Ising perceptron (weights +-1, single-flip Metropolis) against theory.ising (replica symmetric; "
             "stable branch: poor below the first-order transition alpha_c(T), R = 1 above; the poor branch ends at "
             "the spinodal). Per start: the mean error of the teacher-started and of the randomly started chains, and "
             "the fraction of their samples within two flips of the teacher (R >= 1 - 4/N):", "",
             f"**{a['agree']} of {a['in_domain']} Ising points in the domain agree within {analysis['z']:g} SE + c/N**; "
             f"{a['points'] - a['in_domain']} of {a['points']} are outside (near the transition: the two starts "
             "differ, hysteresis).", ""]
    for (N, T), h in dense.groupby(["ambient_dim", "langevin_T"]):
        ac, sp = h["theory_transition_load"].iloc[0], h["theory_spinodal_load"].iloc[0]
        lines += [f"N = {int(N)}, T = {T:g}: alpha_c = {ac:.3f}, spinodal {sp:.3f}, {int(h['sweeps'].iloc[0])} sweeps "
                  f"after {int(h['burn_in'].iloc[0])} (acceptance {h['acceptance'].mean():.3f}).", "",
                  "| alpha | seeds | error | SE | theory (stable) | poor branch | from teacher | from random | "
                  "R~1 from teacher | R~1 from random | domain |", "|" + "---|" * 11]
        for _, r in h.sort_values("alpha").iterrows():
            dom = "in" if r["in_domain"] else "out: " + r["out_of_domain_reason"]
            lines.append(f"| {r['load']:.3g} | {int(r['n_seeds'])} | {r['test_error']:.4f} | {r['se']:.4f} "
                         f"| {r['theory_test_error']:.4f} | {_fmt(r['theory_test_error_poor'])} "
                         f"| {r['test_error_teacher_start']:.4f} | {r['test_error_other_start']:.4f} "
                         f"| {r['perfect_fraction_teacher_start']:.2f} | {r['perfect_fraction_other_start']:.2f} | {dom} |")
        jump_t = _jump(h, "perfect_fraction_teacher_start")
        jump_o = _jump(h, "perfect_fraction_other_start")
        lines += ["", f"Half of the samples are within two flips of the teacher from alpha = {_fmt(jump_t, '.2f')} "
                  f"(teacher-started chains) and from alpha = {_fmt(jump_o, '.2f')} (randomly started), against "
                  f"alpha_c = {ac:.3f} and the spinodal {sp:.3f} (interpolated; n/a: not within the grid).", ""]
    return lines


def _jump(h: pd.DataFrame, col: str) -> float:
    """The load where a start's fraction of R ~ 1 samples first crosses 1/2 (linear interpolation)."""
    h = h.sort_values("load")
    x, f = h["load"].to_numpy(float), h[col].to_numpy(float)
    for i in range(1, len(x)):
        if f[i - 1] < 0.5 <= f[i]:
            return float(x[i - 1] + (0.5 - f[i - 1]) * (x[i] - x[i - 1]) / (f[i] - f[i - 1]))
    return float(x[0]) if len(f) and f[0] >= 0.5 else float("nan")


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    points = point_table(table, analysis)
    z = analysis["z"]
    lines = []
    if (points["weights"] == "spherical").any():
        lines += _dense_lines(points, analysis, z)
        lines += _pruned_lines(points[points["weights"] == "spherical"], analysis)
    lines += _ising_lines(points, analysis)
    sph = points[points["weights"] == "spherical"]
    if (sph["sparsity"] > 0).any():
        lines += [""] + diagram_summary(analysis, unique(sph, "retrain_reg", 0.0), unique(sph, "retrain_T", 0.5))
    lines += ["", "Domain rules (decided from the diagnostics and the SE, never from the distance to the theory): "
              f"finite_size when P < {analysis['min_n_train']}, or c/N > {analysis['finite_size_ratio']:g} SE with "
              f"c = {analysis['finite_size_c']:g}; non_equilibrium when the teacher-started and the other chains, or the "
              f"two halves of the samples, differ by more than {analysis['equilibrium_z']:g} SE over seeds, or a T = 0 "
              f"chain ends outside the version space. Agreement: |mean - theory| <= {z:g} SE + c/N."]
    return lines
