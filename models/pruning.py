"""Pruning masks: magnitude (global or layerwise), random (also with the counts of given masks),
and applying them.

A mask set is a dict name -> bool tensor of the param's shape (K, ...), True = kept, with one entry
per prunable param (``ens.prunable``: hidden weights; biases and readout are never pruned).

Counting: member k with sparsity s_k prunes exactly round(s_k * n) weights, n the number of
prunable weights in the scope (all prunable weights of the member for ``scope="global"``, each
param separately for ``"layerwise"``), with Python's round (half to even), the rule of
``torch.nn.utils.prune`` (``_compute_nparams_toprune``), so the global magnitude mask equals
``prune.global_unstructured(..., pruning_method=prune.L1Unstructured, amount=s)`` on the same weights.

Ties: the weights are ordered by score with a stable sort over the flattened weights (params in the
order of ``ens.prunable``, each flattened row-major), so among equal magnitudes the earlier weight
is pruned first. Weights already pruned by ``current`` masks rank below every other weight, which
makes iterative pruning nested.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from .ensemble import Ensemble
from .training import check_masks
from .validation import check_choice, check_seeds, per_member

SCOPES = ("global", "layerwise")


def _counts(sparsity: np.ndarray, n: int) -> torch.Tensor:
    return torch.tensor([round(float(s) * n) for s in sparsity], dtype=torch.int64)


def _mask_from_scores(scores: torch.Tensor, n_prune: torch.Tensor) -> torch.Tensor:
    """scores (K, n): prune the n_prune[k] lowest of row k (stable order) -> bool keep (K, n)."""
    K, n = scores.shape
    order = torch.sort(scores, dim=1, stable=True).indices
    rank_kept = torch.arange(n, device=scores.device).unsqueeze(0) >= \
        n_prune.to(scores.device).unsqueeze(1)
    keep = torch.empty((K, n), dtype=torch.bool, device=scores.device)
    keep.scatter_(1, order, rank_kept)
    return keep


def _split(ens: Ensemble, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    out, offset = {}, 0
    for name in ens.prunable:
        p = ens.params[name]
        size = p[0].numel()
        out[name] = flat[:, offset:offset + size].reshape(p.shape).clone()
        offset += size
    return out


def _scored_masks(ens: Ensemble, scores: dict[str, torch.Tensor], sparsity: np.ndarray,
                  scope: str) -> dict[str, torch.Tensor]:
    K = ens.n_members
    if scope == "global":
        flat = torch.cat([scores[n].reshape(K, -1) for n in ens.prunable], dim=1)
        return _split(ens, _mask_from_scores(flat, _counts(sparsity, flat.shape[1])))
    out = {}
    for name in ens.prunable:
        s = scores[name].reshape(K, -1)
        out[name] = _mask_from_scores(s, _counts(sparsity, s.shape[1])).reshape(
            ens.params[name].shape)
    return out


def magnitude_masks(ens: Ensemble, sparsity, scope: str = "global", current=None,
                    params=None) -> dict[str, torch.Tensor]:
    """Keep the largest |w| of each member: prune round(s_k * n) prunable weights of member k.

    sparsity: float in [0, 1) or a (K,) sequence (per member). scope: "global" (one threshold
    over all prunable weights of a member) or "layerwise" (each param separately).
    current: masks already applied (their pruned weights are pruned first; the result is nested in
    them if the count allows). params: weights to score (default ``ens.params``)."""
    K = ens.n_members
    sparsity = per_member("sparsity", sparsity, K, minimum=0.0, maximum=1.0, below_max=True)
    scope = check_choice("scope", scope, SCOPES)
    current = check_masks(ens, current)
    params = ens.params if params is None else params
    scores = {}
    for name in ens.prunable:
        s = params[name].detach().abs()
        if name in current:
            s = torch.where(current[name], s, torch.full_like(s, -1.0))
        scores[name] = s
    return _scored_masks(ens, scores, sparsity, scope)


def _random_scores(ens: Ensemble, seeds: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """Uniform scores of every prunable weight; member k's from its own generator seeds[k]."""
    K = ens.n_members
    sizes = [ens.params[n][0].numel() for n in ens.prunable]
    flat = torch.empty((K, sum(sizes)), dtype=torch.float64)
    for k, seed in enumerate(seeds):
        torch.rand(flat.shape[1], generator=torch.Generator().manual_seed(seed),
                   dtype=torch.float64, out=flat[k])
    return {n: s.to(ens.device) for n, s in _split(ens, flat).items()}


def random_masks(ens: Ensemble, sparsity, seeds: Sequence[int], scope: str = "global"
                 ) -> dict[str, torch.Tensor]:
    """Prune round(s_k * n) prunable weights of member k uniformly at random (a random-pruning
    baseline). Member k's mask uses ``torch.Generator().manual_seed(seeds[k])`` only."""
    K = ens.n_members
    sparsity = per_member("sparsity", sparsity, K, minimum=0.0, maximum=1.0, below_max=True)
    scope = check_choice("scope", scope, SCOPES)
    seeds = check_seeds("seeds", seeds, K)
    return _scored_masks(ens, _random_scores(ens, seeds), sparsity, scope)


def random_masks_like(ens: Ensemble, like, seeds: Sequence[int], scope: str = "layerwise"
                      ) -> dict[str, torch.Tensor]:
    """Random masks pruning as many weights as the masks ``like`` (e.g. found by IMP), member by
    member: ``"layerwise"`` the same count in every prunable param (the layer-wise proportions
    kept; OpenLTH's ``randomly_prune`` strategy of that name), ``"global"`` the same total count,
    placed uniformly over all prunable weights. The weights are ranked by the uniform scores of
    :func:`random_masks` (member k's from ``seeds[k]`` only), so the masks drawn with one seed
    for increasing counts are nested."""
    scope = check_choice("scope", scope, SCOPES)
    like = check_masks(ens, like)
    K = ens.n_members
    seeds = check_seeds("seeds", seeds, K)
    missing = [n for n in ens.prunable if n not in like]
    if missing:
        raise ValueError(f"like must hold a mask for every prunable param {list(ens.prunable)}, "
                         f"missing {missing}")
    pruned = {n: (~like[n]).reshape(K, -1).sum(1) for n in ens.prunable}
    scores = _random_scores(ens, seeds)
    if scope == "global":
        flat = torch.cat([scores[n].reshape(K, -1) for n in ens.prunable], dim=1)
        return _split(ens, _mask_from_scores(flat, sum(pruned.values())))
    return {n: _mask_from_scores(scores[n].reshape(K, -1), pruned[n]).reshape(
        ens.params[n].shape) for n in ens.prunable}


def apply_masks(ens: Ensemble, masks) -> None:
    """Zero the pruned weights of ``ens`` in place."""
    masks = check_masks(ens, masks)
    with torch.no_grad():
        for name, m in masks.items():
            ens.params[name].mul_(m)


def mask_sparsity(ens: Ensemble, masks) -> np.ndarray:
    """Fraction of prunable weights pruned by ``masks``, per member: (K,) float64."""
    masks = check_masks(ens, masks)
    K = ens.n_members
    total = sum(ens.params[n][0].numel() for n in ens.prunable)
    kept = np.zeros(K, dtype=np.int64)
    for name in ens.prunable:
        if name in masks:
            kept += masks[name].reshape(K, -1).sum(1).cpu().numpy().astype(np.int64)
        else:
            kept += ens.params[name][0].numel()
    return 1.0 - kept / total


def top_magnitude(weights, keep) -> torch.Tensor:
    """Bool mask of the ``keep`` largest |w| in each row of a plain (K, n) weight tensor: one-shot
    magnitude pruning of vectors that are not an ensemble's params (e.g. Monte Carlo samples).
    ``keep`` is an int or K ints; ties are broken like :func:`magnitude_masks` (stable order)."""
    w = torch.as_tensor(weights)
    if w.dim() != 2:
        raise ValueError(f"weights must have shape (K, n), got {tuple(w.shape)}")
    K, n = w.shape
    keep = np.broadcast_to(np.asarray(keep), (K,))
    if not np.issubdtype(keep.dtype, np.integer) or (keep < 0).any() or (keep > n).any():
        raise ValueError(f"keep must be integers in [0, {n}], got {keep.tolist()}")
    return _mask_from_scores(w.abs(), torch.as_tensor(n - keep, dtype=torch.int64))
