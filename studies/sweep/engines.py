"""Engines execute planned groups and hand their outcomes back to the single writer.

An engine is used as a context manager (``with engine: ...``): entering it connects to (or
starts) whatever runs the groups, and fails with :class:`EngineError` before any trial runs when
that is impossible; :meth:`map_groups` then yields ``(group, outcomes, started, ended)`` as groups
finish, in any order. The runner, in the calling process, is the store's only writer.

- ``LocalEngine``: groups run in this process (workers=1) or in a pool of worker processes. Every
  group runs on one torch thread (``GROUP_THREADS``), here as on a Dask worker: parallelism is across
  processes, one group each, so the numbers of a group never depend on how many threads ran it
  (on a shared 2-core machine, one group on two threads ran 12x slower than on one, the threads
  waiting on each other; two processes with two threads each ran 5-15x slower than with one each).
  A sweep of one large group is split into parts by the plan (``studies.sweep.plan``), which
  ``--workers 2`` runs side by side.
- ``DaskEngine``: groups run as tasks on a Dask distributed cluster: the scheduler at ``address``
  (``tcp://HOST:PORT``, ``tls://HOST:PORT`` or a scheduler file; TLS credentials from Dask's
  configuration, docs/cluster.md), or, without an address, a ``LocalCluster`` that listens on
  127.0.0.1 only, over TLS with credentials generated for it (``Security.temporary()``), with no
  dashboard, one single-threaded process per worker. A task
  lost with its worker is rerun elsewhere by the scheduler; a task that fails is retried
  ``retries`` times, then its trials are recorded as failed with the reason.

Whatever crosses a process boundary on the way back is JSON text (:func:`outcomes_to_json`), never
a pickled object. The numbers do not depend on the engine or the number of workers: every member
draws from its own seeds, and groups are fixed by the plan.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, fields
from pathlib import Path

from .. import catalog
from .provenance import now
from .study import TrialOutcome

CONNECT_TIMEOUT_S = 5
GROUP_THREADS = 1  # torch threads of the process running a group, whatever the engine (module docstring)
DASK_RETRIES = 2
ADDRESS_SCHEMES = ("tcp://", "tls://", "ws://", "wss://", "ucx://")


class EngineError(ValueError):
    """An engine that cannot run: a bad option, an unreachable scheduler, workers without prunelab."""


# -- outcomes as JSON -----------------------------------------------------------------------
_OUTCOME_KEYS = {f.name for f in fields(TrialOutcome)}


def outcomes_to_json(outcomes: list[TrialOutcome]) -> str:
    return json.dumps([asdict(o) for o in outcomes])


def outcomes_from_json(text: str) -> list[TrialOutcome]:
    items = json.loads(text)
    if not isinstance(items, list) or not all(isinstance(d, dict) and set(d) == _OUTCOME_KEYS for d in items):
        raise EngineError("a worker returned something that is not a list of trial outcomes")
    return [TrialOutcome(**d) for d in items]


def failed_outcomes(group, reason: str) -> list[TrialOutcome]:
    return [TrialOutcome(name, fields_, "failed", reason) for name, fields_ in group]


# -- the work of one group, wherever it runs -------------------------------------------------
def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)


def run_group_safely(study_name: str, group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Run one group; an exception fails the group's trials with its reason instead of the sweep."""
    import torch

    torch.set_flush_denormal(True)
    study = catalog.get(study_name)
    try:
        outcomes = study.run_group(group)
    except Exception as e:  # a group that raises is recorded with its reason; the sweep goes on
        reason = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
        return failed_outcomes(group, reason)
    by_name = {o.name: o for o in outcomes}
    missing = [(n, f) for n, f in group if n not in by_name]
    return [study.screen(o) for o in outcomes] + failed_outcomes(missing, "the study returned no outcome for it")


def _run(study_name, group):
    started = now()
    outcomes = run_group_safely(study_name, group)
    return outcomes, started, now()


def _run_as_json(study_name, group, threads: int | None = None) -> tuple[str, str, str]:
    """Run one group in a worker process; the outcomes travel back as JSON text."""
    if threads is not None:
        _set_threads(threads)
    outcomes, started, ended = _run(study_name, group)
    return outcomes_to_json(outcomes), started, ended


class LocalEngine:
    """Groups run in this process (``workers=1``) or in a pool of ``workers`` processes, each group on
    ``GROUP_THREADS`` torch threads (this process's setting is restored afterwards)."""

    def __init__(self, workers: int = 1):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise EngineError(f"--workers must be an integer >= 1, got {workers!r}")
        self.workers = workers

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def describe(self) -> dict:
        return {"engine": "local", "workers": self.workers}

    def map_groups(self, study_name, groups):
        """Yield ``(group, outcomes, started, ended)`` as groups finish. More workers than groups or than
        cores would only idle or oversubscribe: they are capped, with a note on stderr."""
        cores = os.cpu_count() or 1
        workers = max(1, min(self.workers, len(groups), cores))
        if workers < self.workers:
            print(f"prunelab: --workers {self.workers} capped at {workers} ({len(groups)} group(s) to run, "
                  f"{cores} core(s))", file=sys.stderr)
        if workers == 1:
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(GROUP_THREADS)
            try:
                for g in groups:
                    outcomes, started, ended = _run(study_name, g)
                    yield g, outcomes, started, ended
            finally:
                torch.set_num_threads(before)
            return
        with ProcessPoolExecutor(workers, initializer=_set_threads, initargs=(GROUP_THREADS,)) as pool:
            futures = {pool.submit(_run_as_json, study_name, g): g for g in groups}
            for f in as_completed(futures):
                text, started, ended = f.result()
                yield futures[f], outcomes_from_json(text), started, ended


# -- Dask --------------------------------------------------------------------------------------
def _worker_probe() -> str:
    """Runs on every connected worker before any trial: can it import the studies?"""
    for name in catalog.names():
        catalog.get(name)
    return "ok"


def _check_address(address: str) -> None:
    if not isinstance(address, str) or not address:
        raise EngineError(f"--address must be tcp://HOST:PORT or a Dask scheduler file, got {address!r}")
    if "://" in address:
        scheme = address.split("://")[0] + "://"
        if scheme not in ADDRESS_SCHEMES:
            raise EngineError(f"--address {address!r}: the scheme must be one of {', '.join(ADDRESS_SCHEMES)}")
        return
    if not Path(address).is_file():
        raise EngineError(f"--address {address!r} is neither tcp://HOST:PORT nor an existing Dask scheduler file")


class DaskEngine:
    """Groups run as tasks on a Dask distributed cluster (see docs/cluster.md).

    ``address``: ``tcp://HOST:PORT`` of a running scheduler, or the path of its scheduler file;
    None starts a ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1.
    """

    def __init__(self, workers: int = 1, address: str | None = None, retries: int = DASK_RETRIES,
                 connect_timeout: float = CONNECT_TIMEOUT_S, security=None):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise EngineError(f"--workers must be an integer >= 1, got {workers!r}")
        if address is not None:
            _check_address(address)
        self.workers, self.address, self.retries, self.connect_timeout = workers, address, retries, connect_timeout
        self.security = security  # a distributed.Security for --address (None: Dask's configuration)
        self.client = self.cluster = None
        self._depth = 0

    # entering opens the connection once; nested ``with`` blocks share it
    def __enter__(self):
        if self._depth == 0:
            self.open()
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            self.close()
        return False

    def open(self) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - dask[distributed] is a dependency
            raise EngineError(f"--engine dask needs dask[distributed]: {e}") from None
        timeout = f"{self.connect_timeout}s"
        if self.address is None:
            # everything on loopback (the scheduler, the workers, and the scheduler's HTTP endpoint for
            # health and metrics; no dashboard) and over TLS with credentials made for this cluster alone,
            # so another user of the machine can neither connect to the scheduler nor run code on it
            from distributed import Security

            security = self.security = Security.temporary()
            self.cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                protocol="tls://", security=security,
                dashboard_address=None, worker_dashboard_address=None,
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            )
            self.client = Client(self.cluster, security=security, set_as_default=False, timeout=timeout)
        else:
            where = {"scheduler_file": self.address} if "://" not in self.address else {"address": self.address}
            if self.security is not None:
                where["security"] = self.security
            try:
                self.client = Client(**where, set_as_default=False, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as e:
                raise EngineError(
                    f"cannot reach the Dask scheduler at {self.address} within {self.connect_timeout:g} s "
                    f"({type(e).__name__}: {e}); start it first (docs/cluster.md), or leave out --address "
                    "to start a local cluster") from None
        try:
            self._probe_workers()
        except BaseException:
            self.close()
            raise

    def _probe_workers(self) -> None:
        try:
            answers = self.client.run(_worker_probe, on_error="return")
        except Exception as e:  # noqa: BLE001 - any failure here means the workers cannot run trials
            raise EngineError(f"the Dask workers cannot be reached: {type(e).__name__}: {e}") from None
        bad = {w: a for w, a in answers.items() if a != "ok"}
        if bad:
            worker, answer = next(iter(bad.items()))
            raise EngineError(f"{len(bad)} Dask worker(s) cannot import prunelab's studies, e.g. {worker}: "
                              f"{type(answer).__name__}: {answer}; install prunelab in the workers' environment")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    @property
    def scheduler_address(self) -> str | None:
        return self.client.scheduler.address if self.client is not None else None

    def describe(self) -> dict:
        d = {"engine": "dask", "address": self.scheduler_address or self.address, "retries": self.retries}
        if self.address is None:
            d["workers"] = self.workers
        return d

    def map_groups(self, study_name, groups):
        """Submit every group (first planned, first run) and yield them as they finish."""
        from distributed import as_completed as dask_completed

        if self.client is None:
            raise EngineError("DaskEngine.map_groups needs an open engine: use it in a `with` block")
        token = uuid.uuid4().hex[:8]
        futures = {}
        for i, g in enumerate(groups):
            f = self.client.submit(_run_as_json, study_name, g, GROUP_THREADS, key=f"prunelab-{study_name}-{token}-{i}",
                                   pure=False, retries=self.retries, priority=-i)
            futures[f] = g
        try:
            for f in dask_completed(list(futures), loop=self.client.loop):
                g = futures[f]
                try:
                    text, started, ended = f.result()
                except Exception as e:  # noqa: BLE001 - lost beyond retries: record the reason, go on
                    yield g, failed_outcomes(g, f"engine: {type(e).__name__}: {e}"), now(), now()
                    continue
                yield g, outcomes_from_json(text), started, ended
        finally:
            self.client.cancel(list(futures))


def make_engine(name: str, workers: int = 1, address: str | None = None):
    """The engine named on the command line (``--engine``, ``--workers``, ``--address``).

    Nothing connects here; the runner enters the engine after the spec is validated and before
    the results database is touched."""
    if name == "local":
        if address is not None:
            raise EngineError("--address is for --engine dask only")
        return LocalEngine(workers)
    if name == "dask":
        return DaskEngine(workers, address)
    raise EngineError(f"--engine must be local or dask, got {name!r}")
