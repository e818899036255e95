"""Run a study spec into a results directory: validate, plan, execute, store.

The process that calls :func:`run_spec` is the store's only writer; each trial is one transaction.
A group with any trial missing from the store is run whole (so a resumed sweep computes exactly what
an uninterrupted one would) and only its missing trials are written.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from ..results.store import DB_NAME, Store, StoreError
from .engines import LocalEngine
from .plan import MAX_TRIALS, Plan, pending_groups, plan
from .progress import Progress
from .provenance import collect, now
from .spec import changed_fields, spec_hash


def run_spec(spec: dict, out, resume: bool = False, progress: bool = True, engine=None,
             max_trials: int = MAX_TRIALS) -> Path:
    """Run (or finish, with ``resume``) a study into ``out``; returns the directory.

    Order matters for safety: the spec is validated, the directory checked (read-only) and the
    engine connected (or started) before the results database is opened for writing, so a bad
    spec, a wrong directory or an unreachable cluster leaves an existing results directory as it was."""
    p = plan(spec, max_trials)
    p.study.check_sources(p.spec)
    out = Path(out)

    def differs(existing: dict) -> str | None:
        """Why a stored run of this study has other trials than the spec (None: the same trials; a
        change in [analysis] alone is the same trials, re-reported)."""
        if spec_hash(existing["spec"]) == p.spec_hash:
            return None
        changed = changed_fields(existing["spec"], p.spec)
        return "changed: " + ", ".join(changed) if changed else "its spec differs"

    Store.preflight(out, p.study.name, resume, differs)
    engine = engine or LocalEngine(workers=1)
    with engine:
        store = Store.create_or_resume(out, p.study.name, p.spec_hash, p.spec, now(), resume, differs)
        try:
            _execute(p, store, engine, progress)
        except sqlite3.Error as e:  # e.g. a full disk: what was committed stays, the rest runs on --resume
            raise StoreError(f"{out / DB_NAME} cannot be written ({e}); free the cause and rerun with --resume") from None
        finally:
            store.close()
    return out


def _execute(p: Plan, store: Store, engine, progress: bool) -> None:
    done = {n for n, status in store.trial_status().items() if status == "done"}
    groups = pending_groups(p, done)
    missing = sum(1 for n, _ in p.trials if n not in done)
    run_id = store.begin_run(now(), collect(engine=engine.describe(), trials=len(p.trials), missing=missing))
    status = "interrupted"
    try:
        with Progress(missing, p.study.name, enabled=progress and bool(p.trials)) as bar:
            for group, outcomes, started, ended in engine.map_groups(p.study.name, groups):
                n_done = n_failed = 0
                for o in outcomes:
                    if o.name in done:
                        continue
                    store.write_trial(run_id, o.name, o.fields, o.status, o.reason, o.results, o.rows, started,
                                      ended)
                    if o.status == "done":
                        done.add(o.name)
                        n_done += 1
                    else:
                        n_failed += 1
                bar.update(done=n_done, failed=n_failed)
        status = "finished"
    finally:
        store.end_run(run_id, now(), status)
