"""Figures of the ``gibbs_learning`` study: the Gibbs error and training error against the load with the
replica-symmetric curves; the pruned (one-shot) and retrained errors with theory.pruned_gibbs; the
temperature-density diagram of theory.pruned_gibbs (the sign of d(error)/dT); and the Ising perceptron's
jump at its first-order transition from two starts, with both theory branches, the transition and the
spinodal."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from theory import ising as ising_theory
from theory import perceptron as perceptron_theory
from theory import pruned_gibbs
from theory import pruning as pruning_theory

from ...plots.style import new_figure, save
from .analysis import RETRAIN_RULES, point_table, unique
from .diagram import DIAGRAM_RULES, diagram, diagram_args

RULE_STYLE = {"one_shot": ("o", "-"), "ridge": ("s", "--"), "gibbs": ("^", ":")}


def _theory_curve(alphas: np.ndarray, T: float, keep: float | None = None) -> np.ndarray:
    R, _ = perceptron_theory.gibbs_order_parameters(alphas, T)
    if keep is not None:
        R = pruning_theory.magnitude_overlap(R, keep)
    return pruning_theory.overlap_to_error(R)


def _draw_points(ax, g: pd.DataFrame, col: str, se_col: str, color, label, marker="o"):
    for inside, marker_face in ((True, color), (False, "none")):
        h = g[g["in_domain"] == inside]
        if h.empty:
            continue
        ax.errorbar(h["load"], h[col], yerr=h[se_col].fillna(0), fmt=marker, ms=3, mfc=marker_face, mec=color,
                    color=color, capsize=1.5, lw=0.8, label=label if inside or g["in_domain"].sum() == 0 else None)


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    points = point_table(table, analysis)
    paths = []
    spherical = points[points["weights"] == "spherical"]
    if len(spherical):
        paths += _dense_figure(spherical, outdir)
        if (spherical["sparsity"] > 0).any():
            paths += _pruned_figure(spherical, outdir)
            paths += diagram_figure(analysis, outdir, retrain_reg=unique(spherical, "retrain_reg", 0.0),
                                    retrain_T=unique(spherical, "retrain_T", 0.5))
    ising = points[points["weights"] == "ising"]
    if len(ising):
        paths += _ising_figure(ising, table, outdir)
    return paths


def _dense_figure(points: pd.DataFrame, outdir: Path) -> list[Path]:
    dense = points[points["sparsity"] == 0]
    temps = sorted(dense["langevin_T"].unique())
    sizes = sorted(dense["ambient_dim"].unique())
    lo, hi = dense["load"].min(), dense["load"].max()
    grid = np.geomspace(lo / 1.3, hi * 1.3, 60)
    fig, axes = new_figure("double", ncols=2)
    markers = "osD^v"
    for i, T in enumerate(temps):
        color = f"C{i}"
        g = dense[dense["langevin_T"] == T].sort_values("load")
        for n, (N, h) in enumerate(g.groupby("ambient_dim")):
            label = f"T={T:g}" + (f", N={int(N)}" if len(sizes) > 1 else "")
            _draw_points(axes[0], h, "test_error", "se", color, label, markers[sizes.index(N) % len(markers)])
            _draw_points(axes[1], h, "train_error", "train_se", color, None, markers[sizes.index(N) % len(markers)])
        try:
            axes[0].plot(grid, _theory_curve(grid, T), "-", color=color, lw=0.9)
            if T > 0:
                axes[1].plot(grid, perceptron_theory.gibbs_training_error(grid, T), "-", color=color, lw=0.9)
        except Exception:  # an unsolved saddle point: the points stand alone
            pass
    for ax, ylabel in zip(axes, ("generalization error", "training error (fraction)")):
        ax.set_xscale("log")
        ax.set_xlabel(r"load $\alpha = P/N$")
        ax.set_ylabel(ylabel)
    Ns = ", ".join(str(int(n)) for n in sizes)
    axes[0].set_title(f"Gibbs learning, N = {Ns} (dots: simulation $\\pm$ SE; hollow: outside the domain; "
                      "lines: RS theory)", fontsize=6.5, loc="left")
    axes[0].legend(fontsize=6)
    return save(fig, outdir / "gibbs_error_vs_alpha")


def _pruned_figure(points: pd.DataFrame, outdir: Path) -> list[Path]:
    """Per temperature: error against the load at every density, one-shot and retrained, with theory."""
    temps = sorted(points["langevin_T"].unique())
    levels = sorted(s for s in points["sparsity"].unique() if s > 0)
    rules = ["one_shot"] + [r for r in RETRAIN_RULES if f"test_error_{r}" in points
                            and points[f"test_error_{r}"].notna().any()]
    sizes = sorted(points["ambient_dim"].unique())
    fig, axes = new_figure("double_tall" if len(rules) > 1 else "double", ncols=len(temps), nrows=len(rules),
                           sharey="row", squeeze=False)
    lo, hi = points["load"].min(), points["load"].max()
    grid = np.geomspace(lo / 1.2, hi * 1.2, 40)
    for j, T in enumerate(temps):
        for r_i, rule in enumerate(rules):
            ax = axes[r_i, j]
            col, se_col = ("test_error", "se") if rule == "one_shot" else (f"test_error_{rule}", f"se_{rule}")
            for i, s in enumerate([0.0] + levels if rule == "one_shot" else levels):
                color = f"C{i if rule == 'one_shot' else i + 1}"
                g = points[(points["langevin_T"] == T) & (points["sparsity"] == s)]
                for N, h in g.groupby("ambient_dim"):
                    h = h.sort_values("load")
                    face = color if sizes.index(N) == len(sizes) - 1 else "none"
                    label = (f"density {1 - s:.2g}" if N == sizes[-1] else None)
                    ax.errorbar(h["load"], h[col], yerr=h[se_col].fillna(0), fmt=RULE_STYLE[rule][0], ms=3,
                                mfc=face, mec=color, color=color, capsize=1.2, lw=0.7, label=label)
                c = float(g["density"].iloc[0]) if len(g) else 1 - s
                curve = _pruned_curve(grid, float(T), c, rule, unique(g, "retrain_reg", 0.0),
                                      unique(g, "retrain_T", 0.5))
                ax.plot(grid, curve, RULE_STYLE[rule][1], color=color, lw=0.8)
            _load_ticks(ax, sorted(points["alpha"].unique()))
            if r_i == len(rules) - 1:
                ax.set_xlabel(r"$\alpha$")
            if r_i == 0:
                ax.set_title(f"T={T:g}", fontsize=7)
            if j == 0:
                ax.set_ylabel({"one_shot": "one-shot pruned", "ridge": "retrained: ridge",
                               "gibbs": "retrained: Gibbs"}[rule] + "\ntest error", fontsize=6.5)
    for r_i in range(len(rules)):
        axes[r_i, -1].legend(fontsize=5)
    note = ("filled: N = %d, hollow: N = %s; " % (sizes[-1], ", ".join(str(int(n)) for n in sizes[:-1]))
            if len(sizes) > 1 else f"N = {int(sizes[0])}; ")
    fig.suptitle(note + "lines: theory.pruned_gibbs (same examples for retraining)", fontsize=6.5)
    return save(fig, outdir / "pruned_gibbs_error_vs_alpha")


def _load_ticks(ax, alphas) -> None:
    """A log load axis labelled at the simulated loads, in plain numbers."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(alphas))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_formatter(NullFormatter())


@functools.lru_cache(maxsize=256)
def _pruned_curve_cached(grid: tuple, T: float, c: float, rule: str, reg: float, T_r: float) -> tuple:
    a = np.array(grid)
    try:
        if rule == "one_shot":
            return tuple(np.asarray(pruned_gibbs.pruned_error(a, T, c) if c < 1 else
                                    _theory_curve(a, T), float))
        if rule == "ridge":
            return tuple(np.asarray(pruned_gibbs.retrained_error(a, T, c, "ridge", reg=reg), float))
        a = np.geomspace(a[0], a[-1], 6)  # Gibbs retraining: about a second per point
        e = np.asarray(pruned_gibbs.retrained_error(a, T, c, "gibbs", retrain_temperature=T_r), float)
        return tuple(np.interp(np.log(grid), np.log(a), e))
    except Exception:  # an unsolved saddle point: no line
        return tuple(np.full(len(grid), np.nan))


def _pruned_curve(grid, T, c, rule, reg, T_r) -> np.ndarray:
    return np.array(_pruned_curve_cached(tuple(np.round(grid, 12)), T, c, rule, reg, T_r))


# ----------------------------------------------------------------------------- the temperature-density diagram
def diagram_figure(analysis: dict, outdir: Path, retrain_reg: float = 0.0, retrain_T: float = 0.5) -> list[Path]:
    from matplotlib.colors import TwoSlopeNorm

    outdir = Path(outdir)
    args = diagram_args(analysis, retrain_reg, retrain_T)
    alpha, T = args[0], args[1]
    effects = diagram(*args)
    titles = {"pruned": "one-shot magnitude pruning", "ridge": f"retrained: ridge (reg = {args[4]:g}), same examples",
              "gibbs": f"retrained: Gibbs at T_r = {args[5]:g}, same examples"}
    rules = [(titles[r], r) for _, r in DIAGRAM_RULES if r in effects]
    fig, axes = new_figure("double_tall", ncols=len(rules), nrows=2, squeeze=False, layout="constrained")
    fig.set_size_inches(7.0, 5.4)
    for j, (title, rule) in enumerate(rules):
        for i, te in enumerate(effects[rule]):
            ax = axes[i, j]
            x = te.temperatures if i == 0 else te.alpha
            slope = te.slope[0] if i == 0 else te.slope[:, 0]
            vmax = max(float(np.nanmax(np.abs(slope))), 1e-12)
            mesh = ax.pcolormesh(x, te.densities, slope.T, shading="nearest", cmap="RdBu_r",
                                 norm=TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax))
            if np.nanmin(slope) < 0 < np.nanmax(slope):
                ax.contour(x, te.densities, slope.T, levels=[0.0], colors="k", linewidths=1.0)
            ax.set_yscale("log")
            ax.grid(False)
            if i == 1:
                ax.set_xscale("log")
            ax.set_xlabel(r"dense temperature $T$" + f" ($\\alpha$ = {alpha:g})" if i == 0
                          else r"load $\alpha$" + f" (T = {T:g})", fontsize=6.5)
            if j == 0:
                ax.set_ylabel("density c")
            if i == 0:
                ax.set_title(title, fontsize=6.5)
            n_neg = int((te.sign < 0).sum())
            ax.text(0.02, 0.03, f"hotter helps in {n_neg} of {te.sign.size} cells", transform=ax.transAxes,
                    fontsize=5.5, bbox=dict(fc="w", alpha=0.7, lw=0))
            fig.colorbar(mesh, ax=ax).set_label("d error / dT", fontsize=6)
    fig.suptitle("Pruned Gibbs perceptron, theory: sign of d(error)/dT across density (red: hotter hurts, blue: "
                 "hotter helps; black: d(error)/dT = 0)", fontsize=6.5)
    return save(fig, outdir / "pruned_gibbs_diagram")


# ----------------------------------------------------------------------------- the Ising transition
def _ising_figure(points: pd.DataFrame, table: pd.DataFrame, outdir: Path) -> list[Path]:
    dense = points[points["sparsity"] == 0]
    panels = sorted({(int(N), float(T)) for N, T in zip(dense["ambient_dim"], dense["langevin_T"])})
    fig, axes = new_figure("double_tall", ncols=len(panels), nrows=2, squeeze=False, sharex="col",
                           layout="constrained")
    rows = table[(table["sparsity"] == 0) & (table["weights"] == "ising")]
    for j, (N, T) in enumerate(panels):
        r = rows[(rows["ambient_dim"] == N) & (rows["langevin_T"] == T)]
        stats = r.groupby("load")[["test_error_teacher_start", "test_error_other_start",
                                   "perfect_fraction_teacher_start", "perfect_fraction_other_start"]]
        mean, se = stats.mean(), stats.std(ddof=1) / np.sqrt(stats.count())
        x = mean.index.to_numpy(float)
        grid = np.linspace(max(0.05, x.min() * 0.8), x.max() * 1.1, 80)
        ac, sp = ising_theory.transition_load(T), ising_theory.spinodal_load(T)
        ax = axes[0, j]
        ax.errorbar(x, mean["test_error_teacher_start"], yerr=se["test_error_teacher_start"].fillna(0), fmt="^",
                    ms=3.5, color="C3", capsize=1.5, lw=0.8, label="started at the teacher")
        ax.errorbar(x, mean["test_error_other_start"], yerr=se["test_error_other_start"].fillna(0), fmt="v",
                    ms=3.5, mfc="none", color="C0", capsize=1.5, lw=0.8, label="started at random")
        ax.plot(grid, ising_theory.gibbs_error(grid, T), "k-", lw=1.0, label="theory: stable branch")
        poor = ising_theory.gibbs_error(grid, T, branch="poor")
        ax.plot(grid, poor, "k--", lw=0.8, label="theory: poor branch (to the spinodal)")
        ax.set_ylabel("generalization error")
        ax.set_title(f"Ising perceptron, N = {N}, T = {T:g}", fontsize=7)
        ax2 = axes[1, j]
        ax2.errorbar(x, mean["perfect_fraction_teacher_start"], yerr=se["perfect_fraction_teacher_start"].fillna(0),
                     fmt="^-", ms=3.5, color="C3", capsize=1.5, lw=0.8)
        ax2.errorbar(x, mean["perfect_fraction_other_start"], yerr=se["perfect_fraction_other_start"].fillna(0),
                     fmt="v-", ms=3.5, mfc="none", color="C0", capsize=1.5, lw=0.8)
        ax2.set_ylabel("fraction of samples at R ~ 1")
        ax2.set_xlabel(r"load $\alpha = P/N$")
        ax2.set_ylim(-0.05, 1.05)
        for a in (ax, ax2):
            a.axvline(ac, color="0.4", lw=0.8)
            a.axvline(sp, color="0.4", lw=0.8, ls=":")
        ax.text(ac, 0.98, r" $\alpha_c$", transform=ax.get_xaxis_transform(), fontsize=6, va="top")
        ax.text(sp, 0.88, " spinodal", transform=ax.get_xaxis_transform(), fontsize=6, va="top")
        if j == 0:
            ax.legend(fontsize=5.5, loc="lower left")
    return save(fig, outdir / "ising_transition")
