"""What a named study is: its trial fields, how trials group into ensembles, how a group runs,
and how its table is summarised and drawn.

The runner knows nothing of any particular study; each study module builds one :class:`Study`
and the registry (:mod:`studies.registry`) maps names to them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass
class TrialOutcome:
    """What one trial produced: trial-level results and one row per sparsity level.

    status is ``done`` or ``failed``; a failed trial carries its reason and may have no rows.
    """

    name: str
    fields: dict
    status: str = "done"
    reason: str | None = None
    results: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    trial_fields: type
    analysis_fields: type
    check_trial: Callable[[dict], None]
    group_key: Callable[[dict], tuple]
    run_group: Callable[[list[tuple[str, dict]]], list[TrialOutcome]]
    summarize: Callable[..., list[str]]
    figures: Callable[..., list[Path]]
    max_group_size: int = 64
    # (table, analysis) -> one row per compared point with columns deviation_se (signed or not)
    # and in_domain; None: studies.agreement compares theory_test_error generically
    theory_points: Callable[..., "object"] | None = None


def derive_seeds(seed: int, *names: str) -> dict[str, int]:
    """Independent integer seeds for the named random streams of one trial, derived from the
    trial's seed alone (numpy SeedSequence), so no stream depends on the others or on grouping."""
    states = np.random.SeedSequence(int(seed)).generate_state(len(names), dtype=np.uint32)
    return {name: int(s) for name, s in zip(names, states)}
