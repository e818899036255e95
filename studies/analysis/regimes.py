"""Reading the three regimes and the sign of the temperature effect off a phase diagram.

Regimes (Zhou et al., ICML 2023, Sec. 3): a point (temperature, load) is
- Regime I, poorly connected: LMC barrier between retrained models above ``barrier_threshold``;
- Regime II-A, well connected but dissimilar: barrier below, CKA below ``cka_threshold``;
- Regime II-B, well connected and similar: barrier below, CKA above.

Thresholds are study parameters; where left unset they are fitted from the data as the change
point of a two-level step (1-D two-means, i.e. Otsu's threshold: the split that minimises the
within-class variance), on log10 of the barrier and on the CKA of the well-connected points. A
change point is used only where its two levels are far enough apart to be two regimes (one decade
of barrier, 0.1 of CKA); otherwise the defaults below stand, and the summary says which was used.

Temperature effect at a load: the least-squares slope of the test error against log10(temperature)
(against the temperature itself where it can be 0), per seed; its mean over seeds and standard
error. For knobs whose value runs against the temperature (``epochs``: training longer is colder,
Zhou et al. Sec. 2) the slope is taken against the negated axis, so a negative slope always means
that raising the temperature lowers the error. Its sign is called where |mean| > significance * SE; the effect flips between two loads whose
called signs differ.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..trials.temperature import COLD_KNOBS

REGIMES = ("I", "II-A", "II-B")
DEFAULT_BARRIER_THRESHOLD = 0.05  # test-loss units
DEFAULT_CKA_THRESHOLD = 0.95
MIN_GAP_LOG10_BARRIER = 1.0
MIN_GAP_CKA = 0.1


def change_point(values) -> tuple[float, float]:
    """Otsu's threshold of 1-D values: ``(threshold, gap)``, the midpoint of the split minimising
    the within-class variance and the distance between the two class means."""
    v = np.sort(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), 0.0
    best, threshold, gap = np.inf, float(v[0]), 0.0
    for i in range(1, v.size):
        lo, hi = v[:i], v[i:]
        cost = lo.var() * lo.size + hi.var() * hi.size
        if cost < best:
            best, threshold, gap = cost, 0.5 * (v[i - 1] + v[i]), hi.mean() - lo.mean()
    return float(threshold), float(gap)


def fit_thresholds(cells: pd.DataFrame, barrier_threshold=None, cka_threshold=None) -> tuple[float, float, str]:
    """Thresholds for :func:`classify` and how each was set ('given', 'fitted' or 'default')."""
    how = []
    if barrier_threshold is None:
        b = np.log10(np.clip(cells["lmc_barrier"].to_numpy(float), 1e-6, None))
        cp, gap = change_point(b)
        fitted = gap >= MIN_GAP_LOG10_BARRIER
        barrier_threshold = 10 ** cp if fitted else DEFAULT_BARRIER_THRESHOLD
        how.append("barrier " + ("fitted" if fitted else "default (no change point of a decade)"))
    else:
        how.append("barrier given")
    if cka_threshold is None:
        well = cells[cells["lmc_barrier"] <= barrier_threshold]
        cp, gap = change_point(well["cka"])
        fitted = gap >= MIN_GAP_CKA
        cka_threshold = cp if fitted else DEFAULT_CKA_THRESHOLD
        how.append("CKA " + ("fitted" if fitted else "default (no change point of 0.1)"))
    else:
        how.append("CKA given")
    return float(barrier_threshold), float(cka_threshold), ", ".join(how)


def classify(barrier, cka, barrier_threshold: float, cka_threshold: float) -> np.ndarray:
    barrier, cka = np.asarray(barrier, float), np.asarray(cka, float)
    out = np.where(barrier > barrier_threshold, "I", np.where(cka > cka_threshold, "II-B", "II-A"))
    return np.where(np.isfinite(barrier) & np.isfinite(cka), out, "n/a")


def temperature_axis(temps: np.ndarray) -> np.ndarray:
    temps = np.asarray(temps, dtype=float)
    return np.log10(temps) if np.all(temps > 0) else temps


def temperature_effect(table: pd.DataFrame, significance: float = 2.0) -> pd.DataFrame:
    """Per density: slope of test error vs (log) temperature, mean and SE over seeds, and its sign."""
    knob = table["temperature_knob"].iloc[0] if "temperature_knob" in table and len(table) else None
    direction = -1.0 if knob in COLD_KNOBS else 1.0
    rows = []
    for density, g in table.groupby("density"):
        slopes = []
        for _, s in g.groupby("seed"):
            s = s.dropna(subset=["test_error"])
            if s["temperature"].nunique() < 2:
                continue
            x = temperature_axis(s["temperature"].to_numpy())
            slopes.append(direction * np.polyfit(x, s["test_error"].to_numpy(float), 1)[0])
        slopes = np.asarray(slopes)
        mean = float(slopes.mean()) if slopes.size else float("nan")
        se = float(slopes.std(ddof=1) / np.sqrt(slopes.size)) if slopes.size > 1 else float("nan")
        called = 0
        if np.isfinite(se) and abs(mean) > significance * se:
            called = -1 if mean < 0 else 1
        rows.append({"density": density, "slope": mean, "slope_se": se, "n_seeds": int(slopes.size),
                     "sign": called, "effect": {-1: "raising T helps", 1: "raising T hurts", 0: "not significant"}[called]})
    return pd.DataFrame(rows).sort_values("density", ascending=False).reset_index(drop=True)


def flips(effect: pd.DataFrame) -> list[tuple[float, float]]:
    """Pairs of adjacent (called) densities between which the sign of the temperature effect flips."""
    called = effect[effect["sign"] != 0].sort_values("density", ascending=False)
    out = []
    for (_, a), (_, b) in zip(called.iterrows(), called.iloc[1:].iterrows()):
        if a["sign"] != b["sign"]:
            out.append((float(a["density"]), float(b["density"])))
    return out
