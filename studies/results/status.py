"""``prunelab status DIR``: done / failed / pending trials of every study under DIR.

It reads the store read-only and never blocks the writer (WAL), so it can be run while a sweep
runs, from another shell or another machine that sees the directory. A run still marked
``running`` whose writer no longer holds the directory's lock was killed; it is shown as such.
"""
from __future__ import annotations

from ..sweep.plan import plan
from ..sweep.spec import SpecError
from .store import Store, WriterLock
from .table import READ_ERRORS, run_dirs


def directory_status(d) -> dict:
    """Counts of one results directory: total, done, failed, pending, and the state of its last run."""
    store = Store.open(d)
    try:
        study = store.study()
        status = store.trial_status() if study is not None else {}
        runs = store.runs() if study is not None else []
    finally:
        store.close()
    if study is None:
        return {"directory": d, "study": None, "total": 0, "done": 0, "failed": 0, "pending": 0, "state": "empty"}
    names = {n for n, _ in plan(study["spec"]).trials}
    done = sum(1 for n, s in status.items() if s == "done" and n in names)
    failed = sum(1 for n, s in status.items() if s != "done" and n in names)
    last = runs[-1] if runs else None
    if last is None:
        state = "never run"
    else:
        run_state = last["status"]
        if run_state == "running" and WriterLock.writer_active(d) is False:
            run_state = "killed"
        state = f"last run {run_state} (started {last['started']})"
        if run_state != "running" and done < len(names):
            state += "; rerun with --resume to finish"
    return {"directory": d, "study": study["name"], "total": len(names), "done": done, "failed": failed,
            "pending": len(names) - done - failed, "state": state}


def tree_status(root) -> tuple[list[dict], list[str]]:
    """The status of every readable run directory under ``root``, and one line per directory that could
    not be read (its path and why)."""
    out, problems = [], []
    for d in run_dirs(root):
        try:
            out.append(directory_status(d))
        except READ_ERRORS + (SpecError,) as e:
            problems.append(f"{d}: {e}")
    return out, problems


def status_lines(root) -> list[str]:
    lines = []
    for s in tree_status(root)[0]:
        lines.append(f"{s['directory']}: {s['study']}: {s['done']} done, {s['failed']} failed, {s['pending']} pending; "
                     f"{s['state']}")
    return lines
