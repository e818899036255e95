"""Summary and figures of the ``hidden_manifold_learning`` study, read only from its tidy table."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from theory import hidden_manifold as hm_theory

from .figures import new_figure, save
from .statistics import mean_curve, prunability_interval

ACTIVATION_ORDER = ("linear", "erf", "tanh", "relu", "sign")
MARKERS = "osD^v<>p"


def _fields() -> list[str]:
    from .hidden_manifold_learning import HiddenManifoldLearningTrial

    return [f.name for f in dataclasses.fields(HiddenManifoldLearningTrial)]


def _columns(table: pd.DataFrame, drop=()) -> list[str]:
    return [c for c in _fields() if c in table.columns and c not in drop]


def _varying(table: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if table[c].astype(str).nunique() > 1]


def _label(keys, values) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(keys, values))


def learning_curve_table(table: pd.DataFrame) -> pd.DataFrame:
    """Dense (sparsity 0) test error per condition and n_train: mean, SE over seeds, theory and the
    deviation in SE units, and the Gaussian-covariate error of the learned weights."""
    dense = table[table["sparsity"] == 0]
    cols = _columns(dense, drop=("seed",))
    out = []
    for key, g in dense.groupby(cols, dropna=False, sort=True):
        e = g["test_error"].to_numpy(float)
        n = len(e)
        se = e.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        th = g["theory_test_error"].mean()
        row = {**dict(zip(cols, key)), "load": g["load"].iloc[0], "n_seeds": n, "mean": e.mean(), "se": se,
               "theory": th, "theory_exact_spectrum": g["theory_test_error_exact_spectrum"].mean(),
               "gaussian_equivalent": g["gaussian_equivalent_test_error"].mean()}
        row["deviation_se"] = abs(row["mean"] - th) / se if np.isfinite(th) and se > 0 else np.nan
        out.append(row)
    return pd.DataFrame(out)


def theory_points(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Dense learning-curve points with a Gaussian-covariate prediction (ridge), for the report."""
    lc = learning_curve_table(table)
    lc = lc[np.isfinite(lc["theory"].astype(float))]
    return lc.assign(in_domain=True)


def _matrix(g: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    wide = g.pivot(index="seed", columns="sparsity", values=column).sort_index(axis=1)
    return wide.columns.to_numpy(float), wide.to_numpy(float)


def prunability_table(table: pd.DataFrame, analysis: dict) -> pd.DataFrame:
    """Prunability of the learned students per condition, retrained and one-shot, with bootstrap
    intervals over seeds. Tolerance: ``mse_tolerance`` (ridge) or ``tolerance`` (logistic)."""
    cols = _columns(table, drop=("seed",))
    out = []
    for key, g in table.groupby(cols, dropna=False, sort=True):
        cond = dict(zip(cols, key))
        tol = analysis["mse_tolerance"] if cond["loss"] == "ridge" else analysis["tolerance"]
        per_seed = g.groupby("seed").first()
        g = g[g["sparsity"] > 0]
        s, err = _matrix(g, "test_error")
        _, one = _matrix(g, "test_error_one_shot")
        _, dead = _matrix(g, "dead")
        _, div = _matrix(g, "diverged")
        dead = dead.astype(bool) | div.astype(bool)
        boot = dict(tolerance=tol, n_bootstrap=analysis["n_bootstrap"], confidence=analysis["confidence"], dead=dead)
        re = prunability_interval(s, err, per_seed["control_test_error"].to_numpy(float), **boot)
        os_ = prunability_interval(s, one, per_seed["dense_test_error"].to_numpy(float), **boot)
        out.append({**cond, "tolerance": tol, "n_seeds": re["n_seeds"],
                    "dense_test_error": per_seed["dense_test_error"].mean(),
                    "prunability": re["prunability"], "low": re["low"], "high": re["high"], "censored": re["censored"],
                    "prunability_one_shot": os_["prunability"], "low_one_shot": os_["low"],
                    "high_one_shot": os_["high"], "dead_members": int(dead.sum())})
    return pd.DataFrame(out)


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    lc = learning_curve_table(table)
    keys = _varying(lc, _columns(lc, drop=("seed", "n_train", "activation", "loss")))
    lines = ["Learning curves (sparsity 0): test error, mean ± SE over seeds; ridge: test MSE against noisy labels, "
             "theory = Gaussian-covariate deterministic equivalent (Marchenko-Pastur spectrum), exact F = the same with "
             "each trial's feature matrix, GE(w) = the Gaussian-covariate error of the learned weights; logistic: "
             "classification error (no theory implemented).", ""]
    head = ["loss", "activation"] + keys + ["n_train", "load P/D", "seeds", "test error", "theory", "exact F",
                                          "dev (SE)", "GE(w)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fmt = lambda v: "n/a" if not np.isfinite(v) else f"{v:.4f}"  # noqa: E731
    for _, r in lc.iterrows():
        dev = "n/a" if not np.isfinite(r["deviation_se"]) else f"{r['deviation_se']:.1f}"
        cells = [r["loss"], r["activation"]] + [str(r[k]) for k in keys] + [
            str(int(r["n_train"])), f"{r['load']:.3g}", str(int(r["n_seeds"])), f"{r['mean']:.4f} ± {r['se']:.4f}",
            fmt(r["theory"]), fmt(r["theory_exact_spectrum"]), dev, fmt(r["gaussian_equivalent"])]
        lines.append("| " + " | ".join(cells) + " |")
    d = lc["deviation_se"].dropna()
    if len(d):
        lines += ["", f"Theory against simulation (ridge, sparsity 0): {int((d <= 3).sum())} of {len(d)} points within "
                  f"3 SE; max {d.max():.1f} SE, median {d.median():.1f} SE. Gaussian equivalence needs d of order D: "
                  "its corrections scale like D / d^(3/2)."]

    pt = prunability_table(table, analysis)
    pkeys = _varying(pt, _columns(pt, drop=("seed", "activation", "loss")))
    lines += ["", f"Prunability of the learned students (global magnitude pruning of beta; tolerance: "
              f"{analysis['mse_tolerance']} absolute test MSE for ridge, {analysis['tolerance']} absolute classification "
              f"error for logistic; {int(analysis['confidence'] * 100)}% bootstrap interval over seeds; retrained = refit "
              "with the mask fixed, compared with the dense control):", ""]
    head = ["loss", "activation"] + pkeys + ["seeds", "dense err", "prunability (retrained)", "one-shot"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in pt.iterrows():
        cens = " (ladder ceiling)" if r["censored"] else ""
        cells = [r["loss"], r["activation"]] + [str(r[k]) for k in pkeys] + [
            str(int(r["n_seeds"])), f"{r['dense_test_error']:.4f}",
            f"{r['prunability']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{cens}",
            f"{r['prunability_one_shot']:.3f} [{r['low_one_shot']:.3f}, {r['high_one_shot']:.3f}]"]
        lines.append("| " + " | ".join(cells) + " |")
    if pt["dead_members"].sum():
        lines += ["", f"{int(pt['dead_members'].sum())} pruned members were dead or diverged; they are excluded from "
                  "the means."]
    return lines


def _log_axes(ax, y_log: bool = True) -> None:
    """Log x (and y) without the crowded minor-tick labels matplotlib puts on short decades."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=2))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    if y_log:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())


def _colour(activation: str) -> str:
    i = ACTIVATION_ORDER.index(activation) if activation in ACTIVATION_ORDER else len(ACTIVATION_ORDER)
    return f"C{i}"


def _theory_curve(cond: dict, loads: np.ndarray) -> np.ndarray:
    P = np.unique(np.maximum(np.round(loads * cond["ambient_dim"]), 1))
    out = []
    for p in P:
        try:
            out.append(float(hm_theory.hidden_manifold_ridge_mse(
                p, cond["intrinsic_dim"], cond["ambient_dim"], activation=cond["activation"], reg=cond["reg"],
                teacher=cond["teacher"], noise_var=cond["noise_var"])))
        except (ValueError, ArithmeticError):
            out.append(np.nan)
    return P / cond["ambient_dim"], np.array(out)


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    outdir = Path(outdir)
    paths = []
    losses = [x for x in ("ridge", "logistic") if x in set(table["loss"])]
    lc = learning_curve_table(table)

    fig, axes = new_figure("double" if len(losses) > 1 else "single", ncols=len(losses), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        sub = lc[lc["loss"] == loss]
        keys = _varying(sub, _columns(sub, drop=("seed", "n_train", "activation", "loss")))
        conds = sub.groupby(["activation"] + keys, dropna=False, sort=False)
        variants = sorted({tuple(str(v) for v in k[1:]) for k, _ in conds})
        for key, g in conds:
            g = g.sort_values("n_train")
            act, rest = key[0], tuple(str(v) for v in key[1:])
            color, marker = _colour(act), MARKERS[variants.index(rest) % len(MARKERS)]
            label = act + (f" ({_label(keys, rest)})" if keys else "")
            ax.errorbar(g["load"], g["mean"], yerr=g["se"].fillna(0), fmt=marker, ms=3, color=color, capsize=1.5,
                        label=label, mfc=color if marker == "o" else "none")
            if loss == "ridge":
                lo, hi = g["load"].min(), g["load"].max()
                x, y = _theory_curve(g.iloc[0].to_dict(), np.geomspace(lo / 1.3, hi * 1.3, 60))
                ax.plot(x, y, "-", color=color, lw=0.9)
        _log_axes(ax, y_log=loss == "ridge")
        ax.set_xlabel("load P / D")
        ax.set_ylabel("test MSE (lines: Gaussian-covariate theory)" if loss == "ridge" else "test classification error")
        ax.set_title(f"{loss} student, dense")
        ax.legend(fontsize=5.5)
    paths += save(fig, outdir / "learning_curves")

    fig, axes = new_figure("double" if len(losses) > 1 else "single", ncols=len(losses), squeeze=False)
    for ax, loss in zip(axes[0], losses):
        sub = table[table["loss"] == loss]
        big = sub[sub["n_train"] == sub["n_train"].max()]
        cols = _columns(big, drop=("seed",))
        vkeys = _varying(big, [c for c in cols if c != "activation"])
        for i, (key, g) in enumerate(big.groupby(cols, dropna=False, sort=True)):
            cond = dict(zip(cols, key))
            color = _colour(cond["activation"])
            s, err = _matrix(g, "test_error")
            _, one = _matrix(g, "test_error_one_shot")
            _, ge = _matrix(g, "gaussian_equivalent_test_error")
            _, dead = _matrix(g, "dead")
            m = mean_curve(err, dead.astype(bool))
            se = np.nanstd(err, axis=0, ddof=1) / np.sqrt(err.shape[0]) if err.shape[0] > 1 else 0 * m
            label = cond["activation"] + (f" ({_label(vkeys, [cond[k] for k in vkeys])})" if vkeys else "")
            ax.errorbar(1 - s, m, yerr=se, fmt="o", ms=2.5, color=color, capsize=1.2, label=label + ", retrained")
            ax.plot(1 - s, mean_curve(one, dead.astype(bool)), "s", ms=2.5, mfc="none", color=color, mew=0.6)
            ax.plot(1 - s, np.nanmean(ge, 0), "-", color=color, lw=0.7)
        _log_axes(ax, y_log=loss == "ridge")
        ax.invert_xaxis()
        ax.set_xlabel("density (1 - sparsity)")
        ax.set_ylabel("test MSE" if loss == "ridge" else "test classification error")
        ax.set_title(f"{loss}, P = {int(big['n_train'].max())}: dots retrained, squares one-shot,\n"
                     "lines Gaussian-covariate error of the weights", fontsize=6)
        ax.legend(fontsize=5)
    paths += save(fig, outdir / "error_vs_density")
    return paths
