"""Which trained members failed, and why: a failed member is stored as a failed trial with its own
reason, never as a result, and the other members of its ensemble go on.

A dense member has failed when
- it **diverged**: its loss or a parameter became non-finite (``models.train`` marks the member and its
  step and stops updating it);
- it **collapsed**: its test error is at chance level although the task is learnable (test labels are
  clean, so a dense error >= ``CHANCE_ERROR`` means it learned nothing; chance is 1/2 for balanced
  +-1 labels), or its training loss grew by more than ``LOSS_GROWTH`` times over training.

A trial whose post-processing raises fails alone (:func:`isolated`); a done trial whose stored numbers
are not finite is turned into a failed one by the engine (``Study.screen``).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..sweep.study import TrialOutcome

CHANCE_ERROR = 0.45  # a dense test error at or above this is chance level
LOSS_GROWTH = 10.0   # a final training loss above this many times the initial one is a collapse


def dense_failures(diverged, diverged_step, test_error, initial_loss, final_loss) -> list[str | None]:
    """Per member: why its dense training failed, or None. Arrays of one entry per member."""
    out = []
    for div, step, err, first, last in zip(np.asarray(diverged, bool), np.asarray(diverged_step),
                                           np.asarray(test_error, float), np.asarray(initial_loss, float),
                                           np.asarray(final_loss, float)):
        if div or not np.isfinite(last):
            out.append(f"diverged: non-finite loss or weights at step {int(step)} of the dense training")
        elif not np.isfinite(err):
            out.append("diverged: non-finite test error of the dense model")
        elif err >= CHANCE_ERROR:
            out.append(f"collapsed: dense test error {err:.4f} is at chance level (>= {CHANCE_ERROR})")
        elif np.isfinite(first) and first > 0 and last > LOSS_GROWTH * first:
            out.append(f"collapsed: training loss grew from {first:.4g} to {last:.4g} "
                       f"(more than {LOSS_GROWTH:g} times)")
        else:
            out.append(None)
    return out


@contextmanager
def isolated(outcomes: list[TrialOutcome], name: str, fields: dict):
    """Run one trial's part of a group's work; if it raises, the trial is recorded as failed with its
    reason and the others go on."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - any failure of this trial is this trial's reason
        outcomes.append(TrialOutcome(name, fields, "failed", f"{type(e).__name__}: {e}"))
