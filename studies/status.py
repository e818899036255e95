"""``prunelab status DIR``: done / failed / pending trials of every study under DIR."""
from __future__ import annotations

from .runner import plan
from .store import Store
from .table import run_dirs


def status_lines(root) -> list[str]:
    lines = []
    for d in run_dirs(root):
        store = Store.open(d)
        try:
            study = store.study()
            status = store.trial_status()
            runs = store.runs()
        finally:
            store.close()
        total = len(plan(study["spec"]).trials)
        done = sum(1 for s in status.values() if s == "done")
        failed = sum(1 for s in status.values() if s != "done")
        last = runs[-1] if runs else None
        state = f"last run {last['status']} (started {last['started']})" if last else "never run"
        lines.append(f"{d}: {study['name']}: {done} done, {failed} failed, {total - done - failed} pending; {state}")
    return lines
