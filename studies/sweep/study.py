"""What a named study is: its trial fields, how trials group into ensembles, how a group runs,
and how its table is summarised and drawn.

The runner knows nothing of any particular study; each study package in ``studies/catalog/`` builds
one :class:`Study` (its ``STUDY``) and the registry (:mod:`studies.catalog`) finds them.

A study may instead analyse the stored trials of another study (``source_study``): it has no trials
of its own, its spec names the results directory it reads (``source``), and its summary and figures
are drawn from that directory's table.
"""
from __future__ import annotations

import math
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
    trial_fields: type            # dataclass of the trial fields (the columns of the rows it reads)
    analysis_fields: type         # dataclass of the [analysis] fields
    summarize: Callable[..., list[str]]     # (table, analysis) -> markdown lines
    figures: Callable[..., list[Path]]      # (table, analysis, outdir) -> paths written
    # a study with trials of its own: cross-field checks, the ensemble a trial joins, how a group runs
    check_trial: Callable[[dict], None] | None = None
    # (trials, analysis) -> None: checks of the trials together (e.g. which fields may vary), before any work
    check_trials: Callable[[list[dict], dict], None] | None = None
    group_key: Callable[[dict], tuple] | None = None
    run_group: Callable[[list[tuple[str, dict]]], list[TrialOutcome]] | None = None
    max_group_size: int = 64
    # (table, analysis) -> one row per compared point with columns deviation_se (signed or not)
    # and in_domain; None: studies.analysis.agreement compares theory_test_error generically
    theory_points: Callable[..., "object"] | None = None
    # the study whose stored trials this one analyses (None: it runs trials of its own)
    source_study: str | None = None
    # derived tables a user can export (``prunelab export DIR --table NAME``): name -> (table, analysis) ->
    # DataFrame, computed from the stored rows and the stored [analysis], so they re-report without retraining
    tables: dict = field(default_factory=dict)
    # row and result columns that may hold NaN in a done trial (where undefined, e.g. a theory outside its
    # domain); every other number must be finite. Rows with dead members may leave their metrics NaN.
    optional_columns: tuple[str, ...] = ()
    # (table, analysis) -> table with columns derived from the stored rows and [analysis] (e.g. a regime
    # read with the analysis thresholds), added wherever the study's tidy table is read (load_run)
    columns: Callable[..., "object"] | None = None

    def screen(self, outcome: TrialOutcome) -> TrialOutcome:
        """A done outcome with a non-finite number where one is required becomes a failed outcome with
        the column (and sparsity) named: a failure is never stored as a result."""
        if outcome.status != "done":
            return outcome
        bad = _non_finite(outcome.results, self.optional_columns)
        if bad:
            return TrialOutcome(outcome.name, outcome.fields, "failed", f"non-finite result {bad}")
        for row in outcome.rows:
            optional = self.optional_columns + (METRIC_COLUMNS if row.get("dead") else ())
            bad = _non_finite(row, optional)
            if bad:
                return TrialOutcome(outcome.name, outcome.fields, "failed",
                                    f"non-finite {bad} at sparsity {row.get('sparsity')}")
        return outcome

    def check_sources(self, spec: dict) -> None:
        """Refuse, before anything is written, a ``source`` that does not hold ``source_study``'s results."""
        if self.source_study is None:
            return
        from ..results.store import Store, StoreError

        for path in source_dirs(spec):
            try:
                store = Store.open(path)
            except StoreError as e:
                raise StoreError(f"source: {e}; run the {self.source_study} study there first "
                                 f"(prunelab run {self.source_study} --out {path})") from None
            try:
                found = store.study()
            finally:
                store.close()
            if found is None or found["name"] != self.source_study:
                raise StoreError(f"source: {path} holds results of {found['name'] if found else 'no study'}, "
                                 f"expected {self.source_study}")


# metrics a row may leave undefined when its members are dead (constant output): no live member to measure
METRIC_COLUMNS = ("test_error", "train_error", "test_loss", "train_loss", "test_error_spread", "lmc_barrier",
                  "lmc_barrier_error", "cka", "cka_output", "mode_connectivity")


def _optional(column: str, optional: tuple[str, ...]) -> bool:
    return column.startswith("theory_") or any(column == o or (o.endswith("*") and column.startswith(o[:-1]))
                                               for o in optional)


def _non_finite(record: dict, optional: tuple[str, ...]) -> str | None:
    """The first required column of a record holding NaN or an infinity, or None."""
    for key, value in record.items():
        if isinstance(value, float) and not math.isfinite(value) and not _optional(key, optional):
            return key
    return None


def source_dirs(spec: dict) -> list[Path]:
    """The results directories a derived study's spec reads (``source``: a path or a list of paths)."""
    source = spec.get("source", [])
    return [Path(p) for p in ([source] if isinstance(source, str) else source)]


def derive_seeds(seed: int, *names: str) -> dict[str, int]:
    """Independent integer seeds for the named random streams of one trial, derived from the
    trial's seed alone (numpy SeedSequence), so no stream depends on the others or on grouping."""
    states = np.random.SeedSequence(int(seed)).generate_state(len(names), dtype=np.uint32)
    return {name: int(s) for name, s in zip(names, states)}
