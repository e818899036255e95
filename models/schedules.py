"""Learning-rate schedules: a multiplier of each member's base learning rate at every step.

The learning rate of member k at optimisation step s (0-based, counted over the whole run of S
steps) is lr_k * m(s), with m the schedule's multiplier, evaluated per step:

    m(s) = w(s) * c(s)

- main curve c:
  ``"constant"``  c(s) = 1;
  ``"step"``      c(s) = factor^(number of milestones <= s) (step decay);
  ``"cosine"``    c(s) = final + (1 - final) (1 + cos(pi s / S)) / 2 (cosine annealing to the
  fraction ``final`` of the base rate, reached at s = S, one step after the last one taken);
- linear warm-up over the first W steps: w(s) = start + (1 - start) s / W for s < W, 1 after
  (W = 0: no warm-up).

The warm-up multiplies the main curve, both over the absolute step s, so a milestone stays where it
was put (the product is what ``torch.optim.lr_scheduler.ChainedScheduler([LinearLR(...),
MultiStepLR(...)])`` gives). Stepped once per optimisation step, these equal
``torch.optim.lr_scheduler`` for the same setting: ``MultiStepLR(milestones=<steps>,
gamma=factor)``, ``CosineAnnealingLR(T_max=S, eta_min=final * lr)`` and ``LinearLR(start_factor=
start, end_factor=1, total_iters=W)`` (torch refuses start = 0, allowed here). A step decay with
milestones on epoch boundaries equals ``MultiStepLR`` stepped once per epoch.

Milestones are given in ``unit``: ``"fraction"`` of the run (in (0, 1), resolved to step
round(f S)), ``"epoch"`` (ints, the milestone e is the first step of epoch e + 1, s = e * n_b with
n_b batches per epoch) or ``"step"`` (ints). The warm-up length likewise in ``warmup_unit``.
A milestone at or past the end of the run, or a warm-up longer than the run, is refused when the
run's length is known (:meth:`Schedule.multipliers`).

The three-regime paper's recipe (160 epochs, x0.1 at epochs 80 and 120):
``Schedule("step", milestones=(80, 120), unit="epoch", factor=0.1)``, or the same with
``milestones=(0.5, 0.75)`` as fractions of the run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Mapping

import numpy as np

SCHEDULES = ("constant", "step", "cosine")
UNITS = ("fraction", "epoch", "step")


def _number(name: str, value, low: float, high: float | None = None, *, low_open=False,
            high_open=False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else math.nan
    ok = ok and math.isfinite(v) and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        lo = f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise ValueError(f"{name} must be a finite number {lo}{hi}, got {value!r}")
    return v


@dataclass(frozen=True)
class Schedule:
    """A learning-rate multiplier per step (module docstring). Checked at construction; the
    milestones and the warm-up are checked against the run's length by :meth:`multipliers`."""

    kind: str = "constant"               # "constant" | "step" | "cosine"
    milestones: tuple = ()               # step decay: where the rate is multiplied by `factor`
    unit: str = "fraction"               # unit of the milestones: "fraction" | "epoch" | "step"
    factor: float = 0.1                  # step decay: multiplier at each milestone (> 0)
    final: float = 0.0                   # cosine: final rate as a fraction of the base, [0, 1]
    warmup: float = 0                    # length of a linear warm-up (0 = none), in warmup_unit
    warmup_unit: str = "epoch"           # "fraction" | "epoch" | "step"
    warmup_start: float = 0.0            # warm-up multiplier at step 0, in [0, 1]

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"schedule kind must be one of {list(SCHEDULES)}, got {self.kind!r}")
        for name in ("unit", "warmup_unit"):
            if getattr(self, name) not in UNITS:
                raise ValueError(f"schedule {name} must be one of {list(UNITS)}, "
                                 f"got {getattr(self, name)!r}")
        ms = self.milestones
        if isinstance(ms, (str, bytes)) or not hasattr(ms, "__iter__"):
            raise ValueError(f"schedule milestones must be a sequence of numbers, got {ms!r}")
        ms = tuple(ms)
        if self.kind != "step" and ms:
            raise ValueError(f"schedule milestones are for kind='step' only, got {ms!r} with "
                             f"kind={self.kind!r}")
        if self.kind == "step" and not ms:
            raise ValueError("schedule kind='step' needs at least one milestone, got ()")
        for m in ms:
            if self.unit == "fraction":
                _number("schedule milestone (a fraction of the run)", m, 0.0, 1.0,
                        low_open=True, high_open=True)
            elif isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
                raise ValueError(f"schedule milestones in unit {self.unit!r} must be integers "
                                 f">= 1, got {m!r}")
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"schedule milestones must be strictly increasing, got {ms!r}")
        object.__setattr__(self, "milestones",
                           tuple(float(m) if self.unit == "fraction" else int(m) for m in ms))
        _number("schedule factor", self.factor, 0.0, low_open=True)
        _number("schedule final", self.final, 0.0, 1.0)
        _number("schedule warmup_start", self.warmup_start, 0.0, 1.0)
        if self.warmup_unit == "fraction":
            _number("schedule warmup (a fraction of the run)", self.warmup, 0.0, 1.0)
        else:
            _number(f"schedule warmup (in {self.warmup_unit}s)", self.warmup, 0.0)
            if self.warmup_unit == "step" and not float(self.warmup).is_integer():
                raise ValueError(f"schedule warmup in steps must be a whole number, "
                                 f"got {self.warmup!r}")

    @classmethod
    def from_spec(cls, spec) -> "Schedule":
        """A Schedule, a dict of its fields (unknown keys refused) or None (constant)."""
        if spec is None:
            return cls()
        if isinstance(spec, Schedule):
            return spec
        if isinstance(spec, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(spec) - known)
            if unknown:
                raise ValueError(f"schedule spec has unknown keys {unknown}; allowed: "
                                 f"{sorted(known)}")
            return cls(**spec)
        raise ValueError(f"schedule must be a Schedule, a dict of its fields or None, got "
                         f"{type(spec).__name__}")

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant" and self.warmup == 0

    @staticmethod
    def _to_steps(value, unit: str, n_steps: int, steps_per_epoch: int) -> int:
        if unit == "fraction":
            return int(round(float(value) * n_steps))
        if unit == "epoch":
            return int(round(float(value) * steps_per_epoch))
        return int(value)

    def milestone_steps(self, n_steps: int, steps_per_epoch: int) -> list[int]:
        """The milestones as step indices (the first step taken at the decayed rate)."""
        out = [self._to_steps(m, self.unit, n_steps, steps_per_epoch)
               for m in self.milestones]
        for m, s in zip(self.milestones, out):
            if not 0 < s < n_steps:
                raise ValueError(
                    f"schedule milestone {m!r} (unit {self.unit!r}) is step {s}, outside the run "
                    f"of {n_steps} steps ({steps_per_epoch} per epoch): milestones must fall "
                    f"strictly inside the run")
        return out

    def warmup_steps(self, n_steps: int, steps_per_epoch: int) -> int:
        W = self._to_steps(self.warmup, self.warmup_unit, n_steps, steps_per_epoch)
        if W > n_steps:
            raise ValueError(f"schedule warmup {self.warmup!r} (unit {self.warmup_unit!r}) is "
                             f"{W} steps, longer than the run of {n_steps} steps")
        return W

    def multipliers(self, n_steps: int, steps_per_epoch: int) -> np.ndarray:
        """m(s) for s = 0..n_steps-1: float64 (n_steps,). Refuses milestones outside the run and
        a warm-up longer than it."""
        s = np.arange(n_steps, dtype=np.float64)
        if self.kind == "constant":
            m = np.ones(n_steps)
        elif self.kind == "step":
            ms = np.asarray(self.milestone_steps(n_steps, steps_per_epoch))
            m = float(self.factor) ** np.searchsorted(ms, s, side="right").astype(np.float64)
        else:
            f = float(self.final)
            m = f + (1.0 - f) * (1.0 + np.cos(math.pi * s / max(n_steps, 1))) / 2.0
        W = self.warmup_steps(n_steps, steps_per_epoch)
        if W > 0:
            a = float(self.warmup_start)
            w = a + (1.0 - a) * np.minimum(s, W) / W
            m = w * m
        return m
