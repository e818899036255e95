"""Figures of the ``intrinsic_dimension`` study, drawn from its tidy table (through the prunability
table of :mod:`.analysis`): the smallest tolerable density against d per curve with the theory's lines,
the same against the estimated dimension and d/D (real data at its estimated dimension), prunability
against the tolerance, the error-versus-density curves, and for MLPs the first layer's on-span overlap
against its prediction (theory.frozen_weights)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.prunability import condition_key
from ...analysis.statistics import mean_curve, seed_matrix
from ...plots.style import log_axes, new_figure, save
from .analysis import CURVES, LABELS, condition_columns, families, prunability_table, tolerance_list

MARKERS = {"one_shot": "s", "one_shot_retrained": "o", "imp": "D", "imp_reinit": "v", "imp_random": "^",
           "random": "x"}
FILLED = {"one_shot": False, "one_shot_retrained": True, "imp": True, "imp_reinit": False, "imp_random": False,
          "random": True}


def _errorbar(ax, x, r, color, curve, label):
    dens = 1 - r["prunability"].to_numpy(float)
    yerr = np.vstack([r["prunability"] - r["ci_low"], r["ci_high"] - r["prunability"]]).clip(0)[::-1]
    ax.errorbar(x, dens, yerr=yerr, fmt=MARKERS[curve], ms=3.5, color=color, capsize=2, lw=0.8,
                mfc=color if FILLED[curve] else "none", label=label)
    cap = r["ceiling"].to_numpy(bool)
    if cap.any():  # a ceiling is a bound: the true density may be lower
        ax.plot(np.asarray(x)[cap], dens[cap] * 0.82, "v", ms=2.5, color=color, alpha=0.6)


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    pt = prunability_table(table, analysis)
    paths = []
    if pt.empty:
        return paths
    tol0, kind0 = tolerance_list(analysis)[0]
    head = pt[(pt["tolerance"] == tol0) & (pt["tolerance_kind"] == kind0)]
    conv = head[head["converged"]]
    fams = list(dict.fromkeys(f for f, *_ in families(conv)))
    curve_colors = {c: f"C{i}" for i, c in enumerate(CURVES)}

    def color_of(fam, curve):  # one family: a colour per curve; several: a colour per family
        return curve_colors[curve] if len(fams) == 1 else f"C{fams.index(fam) % 10}"
    tol_text = f"tolerance {tol0:g}" + (" (relative)" if kind0 == "relative" else "")

    # 1. the smallest tolerable density against d, every curve, with the theory's lines
    fig, ax = new_figure("single")
    drew_limit = drew_frozen = False
    drew_theory = set()
    for fam, curve, _, _, rows in families(conv):
        color = color_of(fam, curve)
        d = rows["intrinsic_dim"].to_numpy(float)
        suffix = f" ({fam})" if fam else ""
        _errorbar(ax, d, rows, color, curve, LABELS[curve] + suffix)
        kind = "one-shot" if curve == "one_shot" else "retrained"  # one retrained line serves every method
        if "theory_prunability" in rows and rows["theory_prunability"].notna().all() and (fam, kind) not in drew_theory:
            drew_theory.add((fam, kind))
            alpha = 1.0 if rows["in_domain"].astype(bool).all() else 0.4
            line_color = color if len(fams) > 1 else "k"
            ax.plot(d, 1 - rows["theory_prunability"], "--" if kind == "one-shot" else "-", color=line_color,
                    lw=0.9, alpha=alpha, label=f"theory, {kind}" + suffix)
        if "theory_limit" in rows and rows["theory_limit"].notna().all() and not drew_limit:
            ax.plot(d, 1 - rows["theory_limit"], ":", color="0.4", lw=1, label="limit d/D (linear, retrained)")
            drew_limit = True
        if rows["student"].iloc[0] == "mlp" and "theory_off_span_fraction_init" in rows \
                and rows["theory_off_span_fraction_init"].notna().all() and not drew_frozen:
            ax.plot(d, 1 - rows["theory_off_span_fraction_init"], "-.", color="0.55", lw=0.9,
                    label="d/D: on-span share of first-layer norm (MLP)")
            drew_frozen = True
    real = conv[conv["real_data"]]
    for (manifold, curve), r in real.groupby(["manifold", "pruning"], sort=False):
        _errorbar(ax, r["estimated_dim"], r, "k", curve, f"{manifold} at its estimated d, {LABELS[curve]}")
    bad = head[~head["converged"] & ~head["real_data"]]
    if not bad.empty:
        ax.plot(bad["intrinsic_dim"], 1 - bad["prunability"], "x", color="0.6", ms=4, label="unconverged (set apart)")
    log_axes(ax, base=2)
    ax.set_xlabel("intrinsic dimension d")
    ax.set_ylabel("smallest tolerable density (1 - prunability)")
    ax.set_title(tol_text)
    ax.legend(fontsize=4.8, ncol=2)
    paths += save(fig, outdir / "prunability_vs_dimension")

    # 2. against the estimated dimension (real data included) and against d / D
    fig, axes = new_figure("double", ncols=2, sharey=True)
    for fam, curve, _, _, rows in families(conv):
        if curve == "one_shot" and len(set(conv["pruning"])) > 1:
            continue
        color = color_of(fam, curve)
        label = f"{LABELS[curve]}" + (f" ({fam})" if fam else "")
        if rows["estimated_dim"].notna().all():
            _errorbar(axes[0], rows["estimated_dim"], rows, color, curve, label)
        _errorbar(axes[1], rows["intrinsic_dim"] / rows["ambient_dim"].astype(float), rows, color, curve, label)
    for (manifold, curve), r in real.groupby(["manifold", "pruning"], sort=False):
        if curve == "one_shot" and len(set(conv["pruning"])) > 1:
            continue
        _errorbar(axes[0], r["estimated_dim"], r, "k", curve, f"{manifold}, {LABELS[curve]}")
    method = table["dimension_method"].dropna().iloc[0] if "dimension_method" in table and \
        table["dimension_method"].notna().any() else "none"
    axes[0].set_xlabel(f"estimated intrinsic dimension ({method})")
    axes[1].set_xlabel("d / D")
    axes[0].set_ylabel("smallest tolerable density")
    log_axes(axes[0], base=2)
    log_axes(axes[1])
    axes[1].legend(fontsize=5)
    paths += save(fig, outdir / "prunability_vs_estimated_dimension")

    # 3. prunability against the tolerance, per d and curve (first family)
    if len(tolerance_list(analysis)) > 1 and fams:
        fig, axes = new_figure("double", ncols=2)
        conv_pt = pt[pt["converged"] & ~pt["real_data"]]
        fam = next(iter(families(conv_pt)), (None,))[0]
        sub = conv_pt[[f == fam for f in _family_names(conv_pt)]]  # one family: one student, loss and recipe
        for j, kind in enumerate(("absolute", "relative")):
            ax = axes[j]
            part = sub[sub["tolerance_kind"] == kind]
            dims = sorted(part["intrinsic_dim"].dropna().unique())
            cmap = __import__("matplotlib").colormaps["viridis"]
            for curve, gc in part.groupby("pruning", sort=False):
                for i, d in enumerate(dims):
                    g = gc[gc["intrinsic_dim"] == d].sort_values("tolerance")
                    if g.empty:
                        continue
                    ax.plot(g["tolerance"], 1 - g["prunability"], marker=MARKERS[curve], ms=3, lw=0.8,
                            color=cmap(i / max(len(dims) - 1, 1)), mfc="none" if not FILLED[curve] else None,
                            label=f"d={int(d)}, {LABELS[curve]}")
            ax.set_xlabel(f"{kind} tolerance")
            ax.set_title(f"{kind} tolerance")
            log_axes(ax)
        fig.suptitle(str(fam), fontsize=7)
        axes[0].set_ylabel("smallest tolerable density")
        axes[0].legend(fontsize=4.5, ncol=2)
        paths += save(fig, outdir / "prunability_vs_tolerance")

    # 4. error against density for the first family, one panel per curve
    first = next(iter(families(conv)), None)
    if first is not None:
        fam = first[0]
        fam_rows = conv[[f == fam for f in _family_names(conv)]]
        conds = set(fam_rows["condition"])
        keyed = table.assign(condition=condition_key(table, condition_columns(table)))
        sub = keyed[keyed["condition"].isin(conds)]
        curves = [c for c in CURVES if c in set(fam_rows["pruning"])]
        fig, axes = new_figure("double", ncols=len(curves), sharey=True, squeeze=False)
        dims = sorted(sub["intrinsic_dim"].unique())
        cmap = __import__("matplotlib").colormaps["viridis"]
        for j, curve in enumerate(curves):
            ax = axes[0][j]
            _, col, _, sfx = CURVES[curve]
            th_col = "theory_test_error_one_shot" if curve == "one_shot" else "theory_test_error"
            mine = sub[sub["pruning"] == CURVES[curve][0]] if "pruning" in sub else sub
            for i, d in enumerate(dims):
                g = mine[(mine["intrinsic_dim"] == d) & (mine["sparsity"] > 0)]
                if g.empty or col not in g:
                    continue
                color = cmap(i / max(len(dims) - 1, 1))
                s, err = seed_matrix(g, col)
                dead_col = f"dead{sfx}" if f"dead{sfx}" in g else "dead"
                left = seed_matrix(g, dead_col)[1].astype(bool) if dead_col in g else None
                m = mean_curve(err, left)
                se = np.nanstd(err, axis=0, ddof=1) / np.sqrt(err.shape[0]) if err.shape[0] > 1 else 0 * m
                ax.errorbar(1 - s, m, yerr=se, fmt="o", ms=2.2, color=color, capsize=1.2, lw=0.7, label=f"d={d}")
                if th_col in g and g[th_col].notna().all():
                    ax.plot(1 - s, seed_matrix(g, th_col)[1].mean(0), "-", color=color, lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("density (1 - sparsity)")
            ax.set_title(LABELS[curve], fontsize=7)
            ax.invert_xaxis()
        axes[0][0].set_ylabel("test error (dots: measured, lines: theory)")
        axes[0][-1].legend(fontsize=5)
        paths += save(fig, outdir / "error_vs_density")

    # 5. MLP first layer: on-span overlap of the one-shot masks against theory.frozen_weights
    if "theory_first_layer_overlap" in table and table["theory_first_layer_overlap"].notna().any():
        g = table[table["theory_first_layer_overlap"].notna() & (table["sparsity"] > 0)]
        fig, ax = new_figure("single")
        dims = sorted(g["intrinsic_dim"].unique())
        cmap = __import__("matplotlib").colormaps["viridis"]
        for i, d in enumerate(dims):
            gd = g[g["intrinsic_dim"] == d].groupby("density")[["first_layer_overlap", "theory_first_layer_overlap"]].mean()
            color = cmap(i / max(len(dims) - 1, 1))
            ax.plot(gd.index, 1 - gd["first_layer_overlap"], "o", ms=2.5, color=color, label=f"d={int(d)}")
            ax.plot(gd.index, 1 - gd["theory_first_layer_overlap"], "-", color=color, lw=0.8)
        log_axes(ax)
        ax.invert_xaxis()
        ax.set_xlabel("density (1 - sparsity)")
        ax.set_ylabel("1 - on-span overlap of first-layer units")
        ax.set_title("MLP first layer, one-shot masks (dots) vs theory (lines)", fontsize=7)
        ax.legend(fontsize=5)
        paths += save(fig, outdir / "first_layer_overlap")
    return paths


def _family_names(rows: pd.DataFrame) -> list[str]:
    """The family label of every row of a prunability table (as :func:`.analysis.families` names them)."""
    names = {}
    for fam, _, _, _, g in families(rows):
        for i in g.index:
            names[i] = fam
    return [names.get(i) for i in rows.index]
