"""Iterative magnitude pruning (IMP) with weight rewinding (Frankle & Carbin 2019; Frankle et al.
2020, "Linear mode connectivity and the lottery ticket hypothesis").

Round 0 trains the dense ensemble and keeps a snapshot of its params after ``rewind_epoch`` epochs
(0 = the initialisation). Round r >= 1 prunes the trained weights of round r - 1 by magnitude to
the sparsity s_r (the weights pruned earlier stay pruned: masks are nested), rewinds the kept
weights to the snapshot and retrains with the mask for the same ``cfg`` and the same data-order
seeds. The ladder is either ``sparsities`` (increasing, in [0, 1)) or ``rounds`` rounds that each
prune ``fraction_per_round`` of the remaining weights: s_r = 1 - (1 - fraction_per_round)^r.
docs/design.md: small networks need ladders reaching >= 99.7% sparsity before they break.

The ensemble passed in is not modified; every round's trained params are returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import torch

from .ensemble import Ensemble
from .pruning import SCOPES, magnitude_masks, mask_sparsity
from .training import TrainConfig, TrainReport, train
from .validation import check_choice, check_int, per_member


@dataclass
class IMPRound:
    """One rung of the IMP ladder (round 0 is the dense model)."""

    target_sparsity: float
    sparsity: np.ndarray                      # (K,) sparsity reached (prunable weights)
    masks: dict[str, torch.Tensor] = field(repr=False)   # True = kept; all True in round 0
    params: dict[str, torch.Tensor] = field(repr=False)  # trained params of this round
    report: TrainReport = field(repr=False)


@dataclass
class IMPResult:
    """``rounds[0]`` dense, ``rounds[r]`` the r-th pruning; ``rewind_params`` the snapshot that
    every pruned round restarts from."""

    rounds: list[IMPRound]
    rewind_epoch: int
    rewind_params: dict[str, torch.Tensor] = field(repr=False)

    @property
    def sparsities(self) -> list[float]:
        return [r.target_sparsity for r in self.rounds]


def imp_ladder(fraction_per_round: float, rounds: int) -> list[float]:
    """s_r = 1 - (1 - fraction_per_round)^r for r = 1..rounds."""
    f = float(per_member("fraction_per_round", fraction_per_round, 1, maximum=1.0,
                         below_max=True)[0])
    if f <= 0:
        raise ValueError(f"fraction_per_round must lie in (0, 1), got {fraction_per_round!r}")
    n = check_int("rounds", rounds, 1)
    return [1.0 - (1.0 - f) ** r for r in range(1, n + 1)]


def iterative_magnitude_pruning(ens: Ensemble, X, y, cfg: TrainConfig, *,
                                sparsities: Sequence[float] | None = None,
                                fraction_per_round: float | None = None,
                                rounds: int | None = None, rewind_epoch: int = 0,
                                seeds: Sequence[int] | None = None,
                                scope: str = "global") -> IMPResult:
    """Run IMP with weight rewinding on every member of ``ens`` (see the module docstring).

    Give either ``sparsities`` or ``fraction_per_round`` and ``rounds``. ``seeds``: the data-order
    / noise seeds passed to :func:`models.train` in every round."""
    scope = check_choice("scope", scope, SCOPES)
    if sparsities is not None:
        if fraction_per_round is not None or rounds is not None:
            raise ValueError("give either sparsities or fraction_per_round and rounds, not both")
        ladder = [float(s) for s in np.asarray(sparsities, dtype=np.float64).reshape(-1)]
        if not ladder:
            raise ValueError("sparsities must hold at least one value, got []")
        per_member("sparsities", ladder, len(ladder), maximum=1.0, below_max=True)
        if any(b <= a for a, b in zip(ladder, ladder[1:])) or ladder[0] <= 0:
            raise ValueError(f"sparsities must be strictly increasing in (0, 1), got {ladder}")
    else:
        if fraction_per_round is None or rounds is None:
            raise ValueError("give sparsities, or both fraction_per_round and rounds")
        ladder = imp_ladder(fraction_per_round, rounds)
    rewind_epoch = check_int("rewind_epoch", rewind_epoch, 0)
    if rewind_epoch > cfg.epochs:
        raise ValueError(f"rewind_epoch must be <= cfg.epochs={cfg.epochs}, got {rewind_epoch}")

    work = ens.clone()
    dense_cfg = replace(cfg, checkpoints=tuple(sorted(set(cfg.checkpoints) | {rewind_epoch})))
    report = train(work, X, y, dense_cfg, seeds=seeds)
    rewind = report.checkpoints[rewind_epoch]
    K = ens.n_members
    masks = {n: torch.ones_like(ens.params[n], dtype=torch.bool) for n in ens.prunable}
    out = [IMPRound(0.0, np.zeros(K), masks, {n: p.clone() for n, p in work.params.items()},
                    report)]
    for s in ladder:
        masks = magnitude_masks(work, s, scope=scope, current=masks)
        work = ens.with_params(rewind)
        report = train(work, X, y, cfg, masks=masks, seeds=seeds)
        out.append(IMPRound(s, mask_sparsity(work, masks), masks,
                            {n: p.clone() for n, p in work.params.items()}, report))
    return IMPResult(out, rewind_epoch, rewind)
