"""Iterative magnitude pruning (IMP) with weight rewinding (Frankle & Carbin 2019; Frankle et al.
2020, "Linear mode connectivity and the lottery ticket hypothesis"), and its two baselines.

Round 0 trains the dense ensemble with ``cfg`` and keeps a snapshot of its params after
``rewind_epoch`` epochs (0 = the initialisation). Round r >= 1 prunes the trained weights of round
r - 1 by magnitude to the sparsity s_r (the weights pruned earlier stay pruned: masks are nested),
rewinds the kept weights to the snapshot and trains the rest of the same run with the mask:
epochs rewind_epoch + 1 .. end of ``cfg``, the learning-rate schedule going on from where it was
at the rewind point, with the same data-order seeds (the data orders of those epochs are those of
the dense run; ``models.train``'s ``start_epoch``), the velocity starting at zero (as in OpenLTH,
whose rewinding keeps the weights only). For ``rewind_epoch=0`` this is the whole run. The ladder
is either ``sparsities`` (increasing, in (0, 1)) or ``rounds`` rounds that each prune
``fraction_per_round`` of the remaining weights: s_r = 1 - (1 - fraction_per_round)^r.
Small networks need ladders reaching >= 99.7% sparsity before they break.

Baselines of the lottery-ticket papers, for every pruned round of an :class:`IMPResult` (all rounds
in one batched training run), each trained like the IMP round (same ``cfg``, from the rewind
epoch, same data-order seeds):

- :func:`reinitialised_baseline` (Frankle & Carbin 2019, "random reinitialization"): the IMP mask,
  with fresh weights drawn from the initial distribution with new seeds;
- :func:`random_pruning_baseline` ("random pruning"): random masks with the same number of pruned
  weights per layer as the IMP mask of that round and member (``scope="layerwise"``, the default:
  the layer-wise proportions are kept), or the same total count placed uniformly over all
  prunable weights (``scope="global"``), on the rewind-point weights.

The ensemble passed in is not modified; every round's trained params are returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import torch

from .ensemble import Ensemble, make_ensemble
from .pruning import SCOPES, magnitude_masks, mask_sparsity, random_masks_like
from .training import TrainConfig, TrainReport, prepare_data, train
from .validation import check_choice, check_int, check_seeds, per_member


@dataclass
class IMPRound:
    """One rung of the IMP ladder (round 0 is the dense model), or of a baseline."""

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


def _check_cfg(cfg) -> TrainConfig:
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    return cfg


def iterative_magnitude_pruning(ens: Ensemble, X, y, cfg: TrainConfig, *,
                                sparsities: Sequence[float] | None = None,
                                fraction_per_round: float | None = None,
                                rounds: int | None = None, rewind_epoch: int = 0,
                                seeds: Sequence[int] | None = None,
                                scope: str = "global") -> IMPResult:
    """Run IMP with weight rewinding on every member of ``ens`` (see the module docstring).

    Give either ``sparsities`` or ``fraction_per_round`` and ``rounds``. ``cfg``: the training
    recipe of every round (momentum, schedule, epochs or steps, ...). ``seeds``: the data-order /
    noise seeds passed to :func:`models.train` in every round."""
    cfg = _check_cfg(cfg)
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
    X, y = prepare_data(ens, X, y)
    epochs = cfg.run_length(X.shape[-2])[0]
    if rewind_epoch > epochs:
        raise ValueError(f"rewind_epoch must be <= the epochs of cfg ({epochs}), "
                         f"got {rewind_epoch}")

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
        report = _train_rest(work, X, y, cfg, masks, seeds, rewind_epoch)
        out.append(IMPRound(s, mask_sparsity(work, masks), masks,
                            {n: p.clone() for n, p in work.params.items()}, report))
    return IMPResult(out, rewind_epoch, rewind)


def _train_rest(ens, X, y, cfg, masks, seeds, rewind_epoch) -> TrainReport:
    """The rest of the run of ``cfg`` from ``rewind_epoch`` (checkpoints before it dropped)."""
    cfg = replace(cfg, checkpoints=tuple(e for e in cfg.checkpoints if e >= rewind_epoch))
    return train(ens, X, y, cfg, masks=masks, seeds=seeds, start_epoch=rewind_epoch)


def _batched_rounds(ens: Ensemble, result: IMPResult, X, y, cfg: TrainConfig, masks_of,
                    params: Ensemble, seeds) -> list[IMPRound]:
    """Train every pruned round r >= 1 of ``result`` in one batched run of K R members (member
    r K + k: round r, member k), with the masks ``masks_of(round)`` and the initial params of
    ``params`` (K members); returns one IMPRound per pruned round."""
    rounds = result.rounds[1:]
    if not rounds:
        raise ValueError("result must hold at least one pruned round")
    K, R = ens.n_members, len(rounds)
    owner = [k for _ in range(R) for k in range(K)]
    batch = params.take(owner)
    masks = {n: torch.cat([masks_of(rd)[n] for rd in rounds], 0) for n in ens.prunable}
    X, y = prepare_data(ens, X, y)
    Xb = X[owner] if X.dim() == 3 else X
    yb = y[owner] if y.dim() == 2 else y
    seeds_b = None if seeds is None else [seeds[k] for k in owner]
    report = _train_rest(batch, Xb, yb, cfg, masks, seeds_b, result.rewind_epoch)
    out = []
    for r, rd in enumerate(rounds):
        idx = list(range(r * K, (r + 1) * K))
        ti = torch.as_tensor(idx)
        m = {n: masks[n][ti] for n in ens.prunable}
        sub = batch.take(idx)
        out.append(IMPRound(rd.target_sparsity, mask_sparsity(sub, m), m,
                            {n: p.clone() for n, p in sub.params.items()}, report.select(idx)))
    return out


def _check_result(ens: Ensemble, result) -> IMPResult:
    if not isinstance(result, IMPResult):
        raise ValueError(f"result must be an IMPResult, got {type(result).__name__}")
    K = ens.n_members
    if next(iter(result.rewind_params.values())).shape[0] != K:
        raise ValueError(f"result must come from an ensemble of {K} members like ens, got "
                         f"{next(iter(result.rewind_params.values())).shape[0]}")
    return result


def reinitialised_baseline(ens: Ensemble, result: IMPResult, X, y, cfg: TrainConfig, *,
                           init_seeds: Sequence[int], seeds: Sequence[int] | None = None
                           ) -> list[IMPRound]:
    """Each pruned round's IMP mask on fresh weights (module docstring), one round per entry of
    ``result.rounds[1:]``. ``ens``: the ensemble IMP started from (its architecture and init
    scale are reused). ``init_seeds``: K new init seeds (member k's fresh weights, shared by its
    rounds); a seed equal to the member's own init seed is refused. ``seeds``: the data-order /
    noise seeds, as given to :func:`iterative_magnitude_pruning`."""
    cfg = _check_cfg(cfg)
    result = _check_result(ens, result)
    K = ens.n_members
    init_seeds = check_seeds("init_seeds", init_seeds, K)
    same = [k for k in range(K) if init_seeds[k] == ens.seeds[k]]
    if same:
        raise ValueError(f"init_seeds must differ from the members' own init seeds (a fresh "
                         f"draw), got the same seed for members {same}")
    fresh = make_ensemble(ens.arch, K, ens.input_dim, hidden=ens.hidden,
                          activation=ens.activation, bias=ens.bias,
                          train_readout=ens.train_readout, seeds=init_seeds,
                          init_scale=ens.init_scale, dtype=ens.dtype, device=ens.device)
    return _batched_rounds(ens, result, X, y, cfg, lambda rd: rd.masks, fresh, seeds)


def random_pruning_baseline(ens: Ensemble, result: IMPResult, X, y, cfg: TrainConfig, *,
                            mask_seeds: Sequence[int], seeds: Sequence[int] | None = None,
                            scope: str = "layerwise") -> list[IMPRound]:
    """Random masks with the counts of each pruned round's IMP mask, on the rewind-point weights
    (module docstring; :func:`models.random_masks_like`), one round per entry of
    ``result.rounds[1:]``. ``mask_seeds``: K seeds; member k's masks of all rounds rank the
    weights by the same random scores, so they are nested like IMP's. ``seeds``: the data-order
    / noise seeds, as given to :func:`iterative_magnitude_pruning`."""
    cfg = _check_cfg(cfg)
    result = _check_result(ens, result)
    scope = check_choice("scope", scope, SCOPES)
    mask_seeds = check_seeds("mask_seeds", mask_seeds, ens.n_members)
    rewound = ens.with_params(result.rewind_params)
    return _batched_rounds(ens, result, X, y, cfg,
                           lambda rd: random_masks_like(rewound, rd.masks, mask_seeds, scope),
                           rewound, seeds)
