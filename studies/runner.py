"""Run a study spec into a results directory: validate, plan, execute, store.

Planning is a deterministic function of the spec: trials (in spec order) are grouped by the
study's ``group_key`` into ensembles of at most ``max_group_size`` members. A group with any
trial missing from the store is run whole (so a resumed sweep computes exactly what an
uninterrupted one would) and only its missing trials are written. The process that calls
:func:`run_spec` is the store's only writer; each trial is one transaction.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

from . import registry
from .progress import Progress
from .provenance import collect, now
from .spec import SpecError, expand, spec_hash, trial_name, validate
from .store import Store
from .study import Study, TrialOutcome


@dataclass
class Plan:
    study: Study
    spec: dict
    spec_hash: str
    trials: list[tuple[str, dict]]
    groups: list[list[tuple[str, dict]]]


def plan(spec: dict) -> Plan:
    """Validate a spec and every trial in it, and group the trials; raises SpecError before any work."""
    if not isinstance(spec, dict) or "study" not in spec:
        raise SpecError("a spec must name its study: study = \"NAME\"")
    if not isinstance(spec["study"], str):
        raise SpecError(f"study: expected the name of a study (a string), got {spec['study']!r}")
    study = registry.get(spec["study"])
    spec = validate(spec, study.trial_fields, study.analysis_fields)
    trials = []
    for fields in expand(spec, study.trial_fields):
        study.check_trial(fields)
        trials.append((trial_name(study.name, fields, study.trial_fields), fields))
    names = [n for n, _ in trials]
    if len(set(names)) != len(names):
        raise SpecError("the spec produces the same trial twice (a grid or zip axis repeats a value)")
    by_key: dict[tuple, list] = {}
    for item in trials:
        by_key.setdefault(study.group_key(item[1]), []).append(item)
    groups = []
    for members in by_key.values():
        for i in range(0, len(members), study.max_group_size):
            groups.append(members[i:i + study.max_group_size])
    return Plan(study, spec, spec_hash(spec), trials, groups)


def run_group_safely(study_name: str, group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Run one group; an exception fails the group's trials with its reason instead of the sweep."""
    import torch

    torch.set_flush_denormal(True)
    study = registry.get(study_name)
    try:
        return study.run_group(group)
    except Exception as e:  # a trial that raises is recorded with its reason; the sweep goes on
        reason = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        return [TrialOutcome(name, fields, "failed", reason) for name, fields in group]


def pending_groups(p: Plan, store: Store) -> tuple[list[list[tuple[str, dict]]], set[str]]:
    done = {n for n, status in store.trial_status().items() if status == "done"}
    return [g for g in p.groups if any(n not in done for n, _ in g)], done


def run_spec(spec: dict, out, resume: bool = False, progress: bool = True, engine=None) -> Path:
    """Run (or finish, with ``resume``) a study into ``out``; returns the directory.

    Order matters for safety: the spec is validated, the directory checked (read-only) and the
    engine connected (or started) before the results database is opened for writing, so a bad
    spec, a wrong directory or an unreachable cluster leaves an existing results directory as it was."""
    from .engines import LocalEngine

    p = plan(spec)
    out = Path(out)
    Store.preflight(out, p.study.name, p.spec_hash, resume)
    engine = engine or LocalEngine(workers=1)
    with engine:
        store = Store.create_or_resume(out, p.study.name, p.spec_hash, p.spec, now(), resume)
        try:
            _execute(p, store, engine, progress)
        finally:
            store.close()
    return out


def _execute(p: Plan, store: Store, engine, progress: bool) -> None:
    groups, done = pending_groups(p, store)
    missing = sum(1 for n, _ in p.trials if n not in done)
    run_id = store.begin_run(now(), collect(engine=engine.describe(), trials=len(p.trials), missing=missing))
    bar = Progress(missing, p.study.name, enabled=progress)
    status = "interrupted"
    try:
        for group, outcomes, started, ended in engine.map_groups(p.study.name, groups):
            n_done = n_failed = 0
            for o in outcomes:
                if o.name in done:
                    continue
                store.write_trial(run_id, o.name, o.fields, o.status, o.reason, o.results, o.rows, started, ended)
                if o.status == "done":
                    done.add(o.name)
                    n_done += 1
                else:
                    n_failed += 1
            bar.update(done=n_done, failed=n_failed)
        status = "finished"
    finally:
        bar.close()
        store.end_run(run_id, now(), status)
