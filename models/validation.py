"""Argument checks shared by the models package.

Every public function validates where its arguments enter and raises ``ValueError`` naming the
argument, the bad value and what is allowed (docs/design.md, "Errors at the boundary").
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


def check_choice(name: str, value, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ValueError."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_seeds(name: str, seeds, n: int | None = None) -> tuple[int, ...]:
    """Return ``seeds`` as a tuple of ints (length ``n`` if given), else raise ValueError."""
    if seeds is None or isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__"):
        raise ValueError(f"{name} must be a sequence of integer seeds, got {seeds!r}")
    seeds = list(seeds.tolist() if isinstance(seeds, (np.ndarray, torch.Tensor)) else seeds)
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"{name} must contain non-negative integers, got {s!r}")
    if n is not None and len(seeds) != n:
        raise ValueError(f"{name} must have one seed per member ({n}), got {len(seeds)}")
    if n is None and len(seeds) < 1:
        raise ValueError(f"{name} must hold at least one seed (one per member), got {seeds!r}")
    return tuple(int(s) for s in seeds)


def per_member(name: str, value, n_members: int, *, minimum: float = 0.0,
               maximum: float | None = None, below_max: bool = False) -> np.ndarray:
    """A float or a length-K sequence/tensor -> float64 array of shape (K,), checked element-wise.

    Allowed values are finite and >= ``minimum`` (and <= ``maximum``, or < it if ``below_max``).
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number or a sequence of {n_members} numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number or a sequence of {n_members} numbers, got {value!r}"
        ) from None
    if arr.ndim == 0:
        arr = np.full(n_members, float(arr))
    if arr.shape != (n_members,):
        raise ValueError(
            f"{name} must be a number or a sequence of length {n_members} (one per member), "
            f"got shape {arr.shape}"
        )
    upper = "" if maximum is None else (f" and < {maximum}" if below_max else f" and <= {maximum}")
    bad = ~np.isfinite(arr) | (arr < minimum)
    if maximum is not None:
        bad |= (arr >= maximum) if below_max else (arr > maximum)
    if bad.any():
        shown = value if arr.size <= 8 else f"{arr[bad][:4].tolist()}..."
        raise ValueError(f"{name} must be finite, >= {minimum}{upper}; got {shown!r}")
    return arr


def check_member_data(X, y, K: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The data of K members' linear problems as float64 (K, P, D) and (K, P): X given per member
    (K, P, D) or shared (P, D), y per member (K, P) or shared (P,); a shared array is expanded, not copied."""
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.as_tensor(y, dtype=torch.float64)
    if X.dim() not in (2, 3) or (X.dim() == 3 and X.shape[0] != K):
        raise ValueError(f"X must have shape (P, D) or (K={K}, P, D), got {tuple(X.shape)}")
    X = X.expand(K, -1, -1) if X.dim() == 2 else X
    P = X.shape[1]
    y = y.expand(K, -1) if y.dim() == 1 else y
    if tuple(y.shape) != (K, P):
        raise ValueError(f"y must have shape ({P},) or ({K}, {P}), got {tuple(y.shape)}")
    return X, y
