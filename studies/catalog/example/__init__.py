"""The ``example`` study: the smallest complete study, to copy when adding one (docs/design.md, "Adding
a study").

Question: how much of a ridge student fitted to labels of a perceptron teacher on a d-dimensional linear
manifold survives one-shot magnitude pruning, and how much does refitting on the kept coordinates
recover? Each trial draws its data from the shared data fields (generator, teacher, sizes), fits
beta = argmin 1/2 |y - X beta|^2 + reg/2 |beta|^2 exactly (``models.ridge_fit``), keeps the largest
|beta_i| at every density of ``densities`` (``models.top_magnitude``), refits on the kept support, and
stores the classification error sign(beta.x) != y of both. A whole group of trials is one batched solve.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import models

from ...analysis.fields import BootstrapFields
from ...analysis.statistics import bootstrap_mean
from ...plots.style import new_figure, save
from ...sweep.spec import SpecError, field
from ...sweep.study import Study, TrialOutcome
from ...trials.data import check_data_fields, trial_data
from ...trials.fields import DataFields, with_default


@dataclass
class ExampleTrial(DataFields):
    ambient_dim: int = with_default(DataFields, "ambient_dim", 64)
    n_train: int = with_default(DataFields, "n_train", 400)
    n_test: int = with_default(DataFields, "n_test", 2000)
    reg: float = field(1.0, "ridge penalty on the summed squared loss")
    densities: list[float] = field([0.5, 0.2, 0.1, 0.05], "densities the student is pruned to, in (0, 1)")


@dataclass
class ExampleAnalysis(BootstrapFields):
    pass


def check_trial(t: dict) -> None:
    check_data_fields(t)
    if not t["reg"] > 0:
        raise SpecError(f"reg must be > 0, got {t['reg']}")
    if not t["densities"] or any(not 0 < c < 1 for c in t["densities"]):
        raise SpecError(f"densities must be a non-empty list of values in (0, 1), got {t['densities']}")


def group_key(t: dict) -> tuple:
    return t["ambient_dim"], t["n_train"], t["n_test"], tuple(t["densities"])


def _errors(beta: torch.Tensor, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (np.where(X @ beta.numpy().T >= 0, 1.0, -1.0) != y[:, None]).mean(0)


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    data = [trial_data(t) for _, t in group]
    X = np.stack([d[1] for d in data])
    y = np.stack([d[2] for d in data])
    dense = models.ridge_fit(X, y, [t["reg"] for _, t in group])
    outcomes = []
    for k, (name, t) in enumerate(group):
        _, Xk, yk, Xte, yte = data[k]
        keeps = [int(round(c * t["ambient_dim"])) for c in t["densities"]]
        masks = models.top_magnitude(dense[k].expand(len(keeps), -1), keeps)
        one_shot = dense[k] * masks
        refit = models.ridge_fit(Xk, yk, [t["reg"]] * len(keeps), masks)
        rows = [{"sparsity": 0.0, "density": 1.0, "test_error": float(_errors(dense[k:k + 1], Xte, yte)[0]),
                 "test_error_one_shot": float(_errors(dense[k:k + 1], Xte, yte)[0])}]
        for c, a, b in zip(t["densities"], _errors(refit, Xte, yte), _errors(one_shot, Xte, yte)):
            rows.append({"sparsity": round(1 - c, 10), "density": c, "test_error": float(a),
                         "test_error_one_shot": float(b)})
        outcomes.append(TrialOutcome(name, t, "done", None, {"dense_train_error": float(_errors(
            dense[k:k + 1], Xk, yk)[0])}, rows))
    return outcomes


def summarize(table: pd.DataFrame, analysis: dict) -> list[str]:
    lines = ["| d | density | refitted error | one-shot error |", "|---|---|---|---|"]
    for (d, c), g in table.groupby(["intrinsic_dim", "density"]):
        m = [bootstrap_mean(g[col], analysis["n_bootstrap"], analysis["confidence"])
             for col in ("test_error", "test_error_one_shot")]
        lines.append(f"| {d} | {c:g} | " + " | ".join(f"{v:.4f} [{lo:.4f}, {hi:.4f}]" for v, lo, hi in m) + " |")
    return lines


def figures(table: pd.DataFrame, analysis: dict, outdir) -> list[Path]:
    fig, ax = new_figure("single")
    for i, (d, g) in enumerate(table.groupby("intrinsic_dim")):
        mean = g.groupby("density")[["test_error", "test_error_one_shot"]].mean()
        ax.plot(mean.index, mean["test_error"], "o-", color=f"C{i}", label=f"d={d}, refitted")
        ax.plot(mean.index, mean["test_error_one_shot"], "s--", mfc="none", color=f"C{i}", label=f"d={d}, one-shot")
    ax.set_xscale("log")
    ax.set_xlabel("density")
    ax.set_ylabel("test error")
    ax.legend(fontsize=6)
    return save(fig, Path(outdir) / "error_vs_density")


STUDY = Study(name="example", description="a minimal study to copy: a pruned ridge student on a linear manifold",
              trial_fields=ExampleTrial, analysis_fields=ExampleAnalysis, check_trial=check_trial,
              group_key=group_key, run_group=run_group, summarize=summarize, figures=figures)
