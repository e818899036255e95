"""Which trained members failed, and why: a failed member is stored as a failed trial with its own
reason, never as a result, and the other members of its ensemble go on.

A dense member has failed when
- it **diverged**: its loss or a parameter became non-finite (``models.train`` marks the member and its
  step and stops updating it);
- it **collapsed**: its test error or its training error is at chance level (>= ``CHANCE_ERROR``; chance
  is 1/2 for balanced +-1 labels, and test labels are clean, so such a model learned nothing), or its
  training loss grew over training to more than ``LOSS_GROWTH`` times its initial value.

A trial whose post-processing raises fails alone (:func:`isolated`); a done trial whose stored numbers
are not finite is turned into a failed one by the engine (``Study.screen``).

A member that did not fail may still be unconverged: :func:`converged` states the criterion every study
records in its ``converged`` columns, and analyses set unconverged conditions apart instead of averaging
them in.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..sweep.study import TrialOutcome

CHANCE_ERROR = 0.45  # a dense test error at or above this is chance level
LOSS_GROWTH = 2.0    # a final training loss above this many times the initial one is a collapse


def dense_failures(diverged, diverged_step, test_error, train_error, initial_loss, final_loss) -> list[str | None]:
    """Per member: why its dense training failed, or None. Arrays of one entry per member."""
    out = []
    for div, step, err, tr, first, last in zip(np.asarray(diverged, bool), np.asarray(diverged_step),
                                               np.asarray(test_error, float), np.asarray(train_error, float),
                                               np.asarray(initial_loss, float), np.asarray(final_loss, float)):
        if div or not np.isfinite(last):
            out.append(f"diverged: non-finite loss or weights at step {int(step)} of the dense training")
        elif not (np.isfinite(err) and np.isfinite(tr)):
            out.append("diverged: non-finite error of the dense model")
        elif err >= CHANCE_ERROR:
            out.append(f"collapsed: dense test error {err:.4f} is at chance level (>= {CHANCE_ERROR})")
        elif tr >= CHANCE_ERROR:
            out.append(f"collapsed: dense training error {tr:.4f} is at chance level (>= {CHANCE_ERROR})")
        elif np.isfinite(first) and first > 0 and last > LOSS_GROWTH * first:
            out.append(f"collapsed: training loss grew from {first:.4g} to {last:.4g} "
                       f"(more than {LOSS_GROWTH:g} times)")
        else:
            out.append(None)
    return out


PLATEAU = 0.01  # relative change of the training loss over the last tenth of training that counts as flat


def converged(train_error, max_train_error: float, loss_history=None, plateau: float = PLATEAU) -> np.ndarray:
    """Per member: did its training converge? The criterion: the final training error is at most
    ``max_train_error`` and, where a per-epoch loss history (epochs x members, e.g.
    ``TrainReport.loss_history``) is given, the training loss changed by at most ``plateau`` (relative)
    over the last tenth of the epochs (at least the last two). A non-finite error or loss is unconverged."""
    err = np.asarray(train_error, float)
    ok = np.isfinite(err) & (err <= max_train_error)
    if loss_history is not None:
        h = np.asarray(loss_history, float)
        if h.ndim == 2 and h.shape[0] >= 2:
            tail = h[-max(2, h.shape[0] // 10):]
            first, last = tail[0], tail[-1]
            with np.errstate(invalid="ignore", divide="ignore"):
                change = np.abs(first - last) / np.maximum(np.abs(first), 1e-12)
            ok &= np.isfinite(change) & (change <= plateau)
    return ok


@contextmanager
def isolated(outcomes: list[TrialOutcome], name: str, fields: dict):
    """Run one trial's part of a group's work; if it raises, the trial is recorded as failed with its
    reason and the others go on."""
    try:
        yield
    except Exception as e:  # noqa: BLE001 - any failure of this trial is this trial's reason
        outcomes.append(TrialOutcome(name, fields, "failed", f"{type(e).__name__}: {e}"))
