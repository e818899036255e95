"""Theory against simulation, in units of the simulation's standard error.

For every study whose table has a ``theory_test_error`` column: the rows are grouped by condition
(every trial field but the seed, and the sparsity), the measured test error is averaged over seeds
with its standard error, and the deviation |mean - theory| / SE is summarised by its max and mean.
Where the table flags its rows with ``in_domain`` (the theory's domain of validity), only those
rows count, and the number left out is reported.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

KEYS_EXCLUDED = {"seed", "trial"}


def deviations(table: pd.DataFrame, condition_columns: list[str]) -> pd.DataFrame:
    t = table.dropna(subset=["theory_test_error", "test_error"])
    if "in_domain" in t:
        t = t[t["in_domain"].astype(bool)]
    cols = [c for c in condition_columns if c in t.columns and c not in KEYS_EXCLUDED] + ["sparsity"]
    cols = list(dict.fromkeys(cols))
    keyed = t.assign(_key=t[cols].map(str).agg("|".join, axis=1))
    g = keyed.groupby("_key")
    out = pd.DataFrame({
        "mean": g["test_error"].mean(), "theory": g["theory_test_error"].mean(),
        "se": g["test_error"].std(ddof=1) / np.sqrt(g["test_error"].count()), "n": g["test_error"].count(),
    })
    out = out[out["n"] >= 2]
    dev = (out["mean"] - out["theory"]).abs()
    out["deviation_se"] = np.where(out["se"] > 0, dev / out["se"].where(out["se"] > 0, 1), np.where(dev > 0, np.inf, 0.0))
    return out


def agreement_row(study: str, table: pd.DataFrame, condition_columns: list[str]) -> dict | None:
    """The generic comparison: every row with a theory_test_error (and in_domain where flagged)."""
    if "theory_test_error" not in table or table["theory_test_error"].isna().all():
        return None
    d = deviations(table, condition_columns)
    left_out = int((~table["in_domain"].astype(bool)).sum()) if "in_domain" in table else 0
    return summarize_points(study, d["deviation_se"], left_out, "rows")


def agreement_from_points(study: str, points: pd.DataFrame) -> dict | None:
    """A study's own comparison points (columns deviation_se and in_domain)."""
    if points is None or points.empty:
        return None
    inside = points[points["in_domain"].astype(bool)]
    return summarize_points(study, inside["deviation_se"].abs(), int(len(points) - len(inside)), "points")


def summarize_points(study: str, dev: pd.Series, outside: int, unit: str) -> dict | None:
    dev = dev.dropna()
    if dev.empty:
        return None
    finite = dev[np.isfinite(dev)]
    return {"study": study, "points": len(dev), "max_dev_se": float(dev.max()),
            "mean_dev_se": float(finite.mean()) if len(finite) else float("inf"),
            "within_3se": int((dev <= 3).sum()), "outside_domain": f"{outside} {unit}"}


def agreement_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return ["No study in this report has a theory column."]
    lines = ["| study | points compared | within 3 SE | max deviation (SE) | mean deviation (SE) | left out: outside the theory's domain |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['study']} | {r['points']} | {r['within_3se']} | {r['max_dev_se']:.2f} | "
                     f"{r['mean_dev_se']:.2f} | {r['outside_domain']} |")
    return lines
