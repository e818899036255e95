"""Summary and figures of the ``intrinsic_dimension`` study, read only from its tidy table."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from theory.prunability import prunability_with_censoring

from .figures import new_figure, save
from .statistics import mean_curve, prunability_interval

VARYING = ("manifold", "manifold_options", "student", "noise", "label_noise", "hidden", "n_train", "lr",
           "langevin_T", "epochs", "batch_size", "weight_decay", "ambient_dim")


def _condition_columns(table: pd.DataFrame) -> list[str]:
    from .intrinsic_dimension import IntrinsicDimensionTrial

    names = [f.name for f in dataclasses.fields(IntrinsicDimensionTrial)]
    return [c for c in names if c in table.columns]


def _condition_key(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A string naming each row's condition (robust to None/NaN and mixed dtypes)."""
    return df[columns].map(str).agg("|".join, axis=1)


def _matrix(g: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    wide = g.pivot(index="seed", columns="sparsity", values=column).sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.to_numpy(float)


def prunability_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """One row per condition (every trial field but the seed): measured prunability with retraining
    and one-shot, bootstrap intervals over seeds, and the theory's prediction where it applies."""
    tol = analysis["tolerance"]
    out = []
    for key, g in table.groupby(_condition_columns(table), dropna=False, sort=True):
        cond = dict(zip(_condition_columns(table), key))
        g = g[g["sparsity"] > 0]
        s, err = _matrix(g, "test_error")
        _, dead = _matrix(g, "dead")
        _, diverged = _matrix(g, "diverged")
        dead = dead.astype(bool) | diverged.astype(bool)  # neither is averaged into a mean
        _, one = _matrix(g, "test_error_one_shot")
        per_seed = g.groupby("seed").first()
        boot = dict(tolerance=tol, n_bootstrap=analysis["n_bootstrap"], confidence=analysis["confidence"])
        re = prunability_interval(s, err, per_seed["control_test_error"].to_numpy(), dead=dead.astype(bool), **boot)
        os_ = prunability_interval(s, one, per_seed["dense_test_error"].to_numpy(), dead=dead.astype(bool), **boot)
        row = {**cond, "condition": _condition_key(g.head(1), _condition_columns(table)).iloc[0], "n_seeds": re["n_seeds"], "dense_test_error": per_seed["dense_test_error"].mean(),
               "prunability": re["prunability"], "low": re["low"], "high": re["high"], "censored": re["censored"],
               "prunability_one_shot": os_["prunability"], "low_one_shot": os_["low"], "high_one_shot": os_["high"],
               "dead_members": int(dead.sum())}  # dead or diverged
        if "estimated_dim" in per_seed:
            row["estimated_dim"] = per_seed["estimated_dim"].mean()
        if "theory_test_error" in g and g["theory_test_error"].notna().all():
            _, th = _matrix(g, "theory_test_error")
            _, th1 = _matrix(g, "theory_test_error_one_shot")
            row["theory_prunability"] = prunability_with_censoring(
                s, th.mean(0), per_seed["control_test_error"].mean(), tol)[0]
            row["theory_prunability_one_shot"] = prunability_with_censoring(
                s, th1.mean(0), per_seed["dense_test_error"].mean(), tol)[0]
            row["theory_limit"] = 1.0 - cond["intrinsic_dim"] / cond["ambient_dim"]
        out.append(row)
    return pd.DataFrame(out)


def _series(pt: pd.DataFrame):
    """Families of conditions that differ only in intrinsic_dim, with a legend label each."""
    keys = [c for c in VARYING if c in pt.columns and pt[c].astype(str).nunique() > 1]
    for key, g in pt.groupby(keys, dropna=False, sort=True) if keys else [((), pt)]:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{k}={v}" for k, v in zip(keys, key)) or None
        yield label, g.sort_values("intrinsic_dim")


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    pt = prunability_table(table, analysis)
    lines = [f"Prunability (tolerance {analysis['tolerance']} absolute test error; "
             f"{int(analysis['confidence'] * 100)}% bootstrap interval over seeds; retrained members "
             "compared with a dense control that got the same extra training):", ""]
    header = "| condition | d | d est. | seeds | dense err | prunability (retrained) | theory | one-shot | theory one-shot |"
    lines += [header, "|" + "---|" * 9]
    for label, g in _series(pt):
        for _, r in g.iterrows():
            th = f"{r['theory_prunability']:.4f} (limit {r['theory_limit']:.4f})" if "theory_prunability" in r and pd.notna(r.get("theory_prunability")) else "n/a"
            th1 = f"{r['theory_prunability_one_shot']:.4f}" if pd.notna(r.get("theory_prunability_one_shot", np.nan)) else "n/a"
            est = f"{r['estimated_dim']:.1f}" if pd.notna(r.get("estimated_dim", np.nan)) else "-"
            cens = " (ladder ceiling)" if r["censored"] else ""
            lines.append(
                f"| {label or r['manifold']} | {int(r['intrinsic_dim'])} | {est} | {int(r['n_seeds'])} | {r['dense_test_error']:.4f} "
                f"| {r['prunability']:.4f} [{r['low']:.4f}, {r['high']:.4f}]{cens} | {th} "
                f"| {r['prunability_one_shot']:.4f} [{r['low_one_shot']:.4f}, {r['high_one_shot']:.4f}] | {th1} |")
    if pt["dead_members"].sum():
        lines += ["", f"{int(pt['dead_members'].sum())} pruned members were dead (constant output) or diverged; they are "
                  "excluded from the mean curves and a level where all are dead counts as chance."]
    return lines


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    pt = prunability_table(table, analysis)
    paths = []

    fig, ax = new_figure("single")
    for i, (label, g) in enumerate(_series(pt)):
        color = f"C{i}"
        d = g["intrinsic_dim"].to_numpy(float)
        yerr = np.vstack([g["prunability"] - g["low"], g["high"] - g["prunability"]]).clip(0)
        suffix = f" ({label})" if label else ""
        ax.errorbar(d, 1 - g["prunability"], yerr=yerr[::-1], fmt="o", color=color, capsize=2,
                    label="retrained" + suffix)
        ax.plot(d, 1 - g["prunability_one_shot"], "s", mfc="none", color=color, label="one-shot" + suffix)
        if "theory_prunability" in g and g["theory_prunability"].notna().all():
            ax.plot(d, 1 - g["theory_prunability"], "-", color=color, lw=1, label="theory, retrained")
            ax.plot(d, 1 - g["theory_prunability_one_shot"], "--", color=color, lw=1, label="theory, one-shot")
            ax.plot(d, 1 - g["theory_limit"], ":", color="0.4", lw=1, label="limit d/D")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("intrinsic dimension d")
    ax.set_ylabel("smallest tolerable density (1 - prunability)")
    ax.set_title(f"tolerance {analysis['tolerance']}")
    ax.legend(fontsize=5.5, ncol=2)
    paths += save(fig, outdir / "prunability_vs_dimension")

    # the same measurements against the estimated dimension and against d/D
    fig, axes = new_figure("double", ncols=2, sharey=True)
    for i, (label, g) in enumerate(_series(pt)):
        yerr = np.vstack([g["high"] - g["prunability"], g["prunability"] - g["low"]]).clip(0)
        xs = (("estimated_dim", axes[0]), ("d_over_D", axes[1]))
        for col, ax in xs:
            x = g["intrinsic_dim"] / g["ambient_dim"] if col == "d_over_D" else g.get(col)
            if x is None or pd.isna(x).all():
                continue
            ax.errorbar(x, 1 - g["prunability"], yerr=yerr, fmt="o-", color=f"C{i}", capsize=2, lw=0.8,
                        label=label or "retrained")
            if col == "d_over_D" and "theory_limit" in g and g["theory_limit"].notna().all():
                ax.plot(x, 1 - g["theory_limit"], ":", color="0.4", lw=1, label="limit d/D" if i == 0 else None)
    axes[0].set_xlabel(f"estimated intrinsic dimension ({table['dimension_method'].dropna().iloc[0] if 'dimension_method' in table and table['dimension_method'].notna().any() else 'none'})")
    axes[1].set_xlabel("d / D")
    axes[0].set_ylabel("smallest tolerable density (retrained)")
    axes[0].set_xscale("log", base=2)
    axes[1].set_xscale("log")
    for ax in axes:
        ax.set_yscale("log")
    axes[1].legend(fontsize=5.5)
    paths += save(fig, outdir / "prunability_vs_estimated_dimension")

    fig, axes = new_figure("double", ncols=2, sharey=True)
    dims = sorted(table["intrinsic_dim"].unique())
    cmap = __import__("matplotlib").colormaps["viridis"]
    first_family = next(_series(pt))[1]
    sub = table[_condition_key(table, _condition_columns(table)).isin(set(first_family["condition"]))]
    for j, (col, th_col, title) in enumerate((("test_error", "theory_test_error", "retrained (mask fixed)"),
                                              ("test_error_one_shot", "theory_test_error_one_shot", "one-shot"))):
        ax = axes[j]
        for i, d in enumerate(dims):
            g = sub[(sub["intrinsic_dim"] == d) & (sub["sparsity"] > 0)]
            if g.empty:
                continue
            color = cmap(i / max(len(dims) - 1, 1))
            s, err = _matrix(g, col)
            _, dead = _matrix(g, "dead")
            _, diverged = _matrix(g, "diverged")
            m = mean_curve(err, dead.astype(bool) | diverged.astype(bool))
            se = np.nanstd(err, axis=0, ddof=1) / np.sqrt(err.shape[0]) if err.shape[0] > 1 else 0 * m
            ax.errorbar(1 - s, m, yerr=se, fmt="o", ms=2.5, color=color, capsize=1.5, label=f"d={d}")
            if th_col in g and g[th_col].notna().all():
                _, th = _matrix(g, th_col)
                ax.plot(1 - s, th.mean(0), "-", color=color, lw=0.9)
        ax.set_xscale("log")
        ax.set_xlabel("density (1 - sparsity)")
        ax.set_title(title)
        ax.invert_xaxis()
    axes[0].set_ylabel("test error (dots: measured, lines: theory)")
    axes[1].legend(fontsize=6)
    paths += save(fig, outdir / "error_vs_density")
    return paths
