"""Engines execute planned groups and hand their outcomes back to the single writer.

``LocalEngine`` runs groups in this process (workers=1) or in a pool of worker processes, each
with ``torch.set_num_threads(cores // workers)`` (DESIGN.md: oversubscription is 5-15x slower).
The numbers do not depend on the engine or the number of workers: every member draws from its
own seeds, and groups are fixed by the plan.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from .provenance import now


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def _run(study_name, group):
    from .runner import run_group_safely

    started = now()
    outcomes = run_group_safely(study_name, group)
    return outcomes, started, now()


class LocalEngine:
    def __init__(self, workers: int = 1):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        self.workers = workers

    def describe(self) -> dict:
        return {"engine": "local", "workers": self.workers}

    def map_groups(self, study_name, groups):
        """Yield ``(group, outcomes, started, ended)`` as groups finish."""
        if self.workers == 1:
            for g in groups:
                outcomes, started, ended = _run(study_name, g)
                yield g, outcomes, started, ended
            return
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        with ProcessPoolExecutor(self.workers, initializer=_init_worker, initargs=(threads,)) as pool:
            futures = {pool.submit(_run, study_name, g): g for g in groups}
            for f in as_completed(futures):
                outcomes, started, ended = f.result()
                yield futures[f], outcomes, started, ended


def make_engine(name: str, workers: int = 1, address: str | None = None):
    """The engine named on the command line (``--engine``, ``--workers``, ``--address``)."""
    if name == "local":
        if address is not None:
            raise ValueError("--address is for --engine dask only")
        return LocalEngine(workers)
    if name == "dask":
        raise ValueError("--engine dask is not available in this build")
    raise ValueError(f"--engine must be local or dask, got {name!r}")
