"""Argument validation shared by the theory modules, and the error raised by saddle-point solvers.

Every public theory function validates its arguments where they enter; the ValueError names the
argument, the bad value and what is allowed. A solver that does not converge raises
SaddlePointError instead of returning a number that may be wrong.
"""
from __future__ import annotations

import numpy as np


class SaddlePointError(RuntimeError):
    """A saddle-point (fixed-point / root-finding) solver did not converge to its tolerance."""


def _as_float_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not be NaN, got {value!r}")
    return arr


def _show(value) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(value if not isinstance(value, np.ndarray) else arr.item())
    return f"array containing {arr.ravel()[0]!r}"


def positive(name: str, value, allow_inf: bool = False) -> np.ndarray:
    """Array of value, every element > 0 (finite unless allow_inf)."""
    arr = _as_float_array(name, value)
    bad = ~(arr > 0) | (~np.isfinite(arr) if not allow_inf else np.zeros(arr.shape, bool))
    if np.any(bad):
        allowed = "> 0" if allow_inf else "finite and > 0"
        raise ValueError(f"{name} must be {allowed}, got {_show(arr[bad].ravel()[0]) if arr.ndim else _show(value)}")
    return arr


def nonnegative(name: str, value, allow_inf: bool = False) -> np.ndarray:
    """Array of value, every element >= 0 (finite unless allow_inf)."""
    arr = _as_float_array(name, value)
    bad = ~(arr >= 0) | (~np.isfinite(arr) if not allow_inf else np.zeros(arr.shape, bool))
    if np.any(bad):
        allowed = ">= 0" if allow_inf else "finite and >= 0"
        raise ValueError(f"{name} must be {allowed}, got {_show(arr[bad].ravel()[0]) if arr.ndim else _show(value)}")
    return arr


def in_interval(name: str, value, low: float, high: float, closed_low: bool, closed_high: bool) -> np.ndarray:
    """Array of value, every element in the interval from low to high (open or closed ends)."""
    arr = _as_float_array(name, value)
    ok_low = arr >= low if closed_low else arr > low
    ok_high = arr <= high if closed_high else arr < high
    bad = ~(ok_low & ok_high)
    if np.any(bad):
        interval = f"{'[' if closed_low else '('}{low:g}, {high:g}{']' if closed_high else ')'}"
        raise ValueError(f"{name} must lie in {interval}, got {_show(arr[bad].ravel()[0]) if arr.ndim else _show(value)}")
    return arr


def keep_fraction(value, name: str = "keep") -> np.ndarray:
    """The kept fraction of weights (density): must lie in (0, 1]."""
    return in_interval(name, value, 0.0, 1.0, closed_low=False, closed_high=True)


def overlap(value, name: str = "R") -> np.ndarray:
    """A cosine overlap: must lie in [-1, 1]."""
    return in_interval(name, value, -1.0, 1.0, closed_low=True, closed_high=True)


def classification_error(value, name: str) -> np.ndarray:
    """A test error of a sign classifier: must lie in [0, 1/2] (above 1/2 flip the sign)."""
    return in_interval(name, value, 0.0, 0.5, closed_low=True, closed_high=True)


def dims(intrinsic_dim, ambient_dim) -> tuple[np.ndarray, np.ndarray]:
    """(d, D) arrays with 1 <= d <= D (non-integers are allowed: the formulas are smooth in d and D)."""
    d = _as_float_array("intrinsic_dim", intrinsic_dim)
    D = _as_float_array("ambient_dim", ambient_dim)
    if np.any(~(d >= 1) | ~np.isfinite(d)):
        raise ValueError(f"intrinsic_dim must be finite and >= 1, got {intrinsic_dim!r}")
    if np.any(~(D >= 1) | ~np.isfinite(D)):
        raise ValueError(f"ambient_dim must be finite and >= 1, got {ambient_dim!r}")
    if np.any(np.broadcast_to(d, np.broadcast(d, D).shape) > np.broadcast_to(D, np.broadcast(d, D).shape)):
        raise ValueError(
            f"intrinsic_dim must be <= ambient_dim, got intrinsic_dim={intrinsic_dim!r}, ambient_dim={ambient_dim!r}"
        )
    return d, D


def scalar_or_array(result: np.ndarray, *inputs):
    """Return a Python float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(np.asarray(result).reshape(()))
    return result
