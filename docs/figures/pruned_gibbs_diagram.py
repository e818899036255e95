"""Draw the temperature-density diagram of the pruned Gibbs perceptron (theory.pruned_gibbs).

Top row: at load alpha = 2, d(error)/dT over (dense temperature T, density c); bottom row: at T = 0.5,
over (alpha, c). Columns: one-shot magnitude pruning, optimal-ridge retraining on the same examples,
Gibbs retraining (T_r = 0.5) on the same examples. Red: hotter hurts, blue: hotter helps; the black
contour is d(error)/dT = 0 where the sign flips (if anywhere). Last panel: errors against T.

    PYTHONPATH=. python docs/figures/pruned_gibbs_diagram.py [--out /tmp/pruned_gibbs.png] [--quick]
"""
from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import TwoSlopeNorm  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from theory import pruned_gibbs as pg  # noqa: E402

RULES = [
    ("one-shot magnitude pruning", dict(quantity="pruned")),
    ("retrained: optimal ridge, same data", dict(reg="optimal")),
    ("retrained: Gibbs at T_r = 0.5, same data", dict(retrain="gibbs", retrain_temperature=0.5)),
]


def _panel(ax, x, c, slope, xlabel, title):
    vmax = max(np.nanmax(np.abs(slope)), 1e-12)
    mesh = ax.pcolormesh(x, c, slope.T, shading="nearest", cmap="RdBu_r",
                         norm=TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax))
    if np.nanmin(slope) < 0 < np.nanmax(slope):
        ax.contour(x, c, slope.T, levels=[0.0], colors="k", linewidths=1.5)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density c")
    ax.set_title(title, fontsize=9)
    n_neg = int(np.sum(slope < -1e-6))
    ax.text(0.02, 0.02, f"min slope {np.nanmin(slope):.2g}; cells with hotter helping: {n_neg}",
            transform=ax.transAxes, fontsize=7, bbox=dict(fc="w", alpha=0.7, lw=0))
    plt.colorbar(mesh, ax=ax, label="d error / dT")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/pruned_gibbs.png")
    ap.add_argument("--quick", action="store_true", help="coarser grids")
    args = ap.parse_args()
    n = 5 if args.quick else 8
    temps = np.linspace(0.1, 2.0, n)
    alphas = np.geomspace(0.3, 8.0, n)
    dens = np.geomspace(0.03, 0.95, n)
    fig, axes = plt.subplots(3, 3, figsize=(15, 13))
    for j, (title, kw) in enumerate(RULES):
        t0 = time.time()
        grid_T = temps if j < 2 else temps[::2]
        grid_a = alphas if j < 2 else alphas[::2]
        grid_c = dens if j < 2 else dens[::2]
        te = pg.temperature_effect(2.0, grid_T, grid_c, **kw)
        _panel(axes[0, j], grid_T, grid_c, te.slope[0], "dense temperature T (alpha = 2)", title)
        te = pg.temperature_effect(grid_a, 0.5, grid_c, **kw)
        _panel(axes[1, j], grid_a, grid_c, te.slope[:, 0], "load alpha (T = 0.5)", title)
        axes[1, j].set_xscale("log")
        axes[1, j].xaxis.set_minor_formatter(NullFormatter())
        print(f"{title}: {time.time() - t0:.0f}s", flush=True)
    T_line = np.linspace(0.0, 2.0, 41)
    for j, (title, kw) in enumerate(RULES[:2]):
        ax = axes[2, j]
        for c in [0.05, 0.2, 0.5, 0.8, 1.0]:
            if kw.get("quantity") == "pruned":
                e = pg.pruned_error(2.0, T_line, c)
            else:
                e = pg.retrained_error(2.0, T_line, c, reg="optimal")
            ax.plot(T_line, e, label=f"c = {c}")
        ax.plot(T_line, pg.pruned_error(2.0, T_line, 1.0), "k--", lw=1, label="dense")
        ax.set_xlabel("dense temperature T (alpha = 2)")
        ax.set_ylabel("test error")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[2, 2]
    T_g = np.linspace(0.0, 2.0, 9)
    for c in [0.1, 0.3, 0.7]:
        ax.plot(T_g, pg.retrained_error(2.0, T_g, c, "gibbs", retrain_temperature=0.5), "o-", label=f"same, c = {c}")
        ax.plot(T_g, pg.retrained_error(2.0, T_g, c, "gibbs", retrain_temperature=0.5, data="fresh"), ":",
                color=ax.lines[-1].get_color(), label=f"fresh, c = {c}")
    ax.set_xlabel("dense temperature T (alpha = 2)")
    ax.set_ylabel("test error")
    ax.set_title("Gibbs retraining (T_r = 0.5): same vs fresh examples", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle("Pruned Gibbs perceptron: sign of d(error)/dT across density (red: hotter hurts)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
