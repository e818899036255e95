"""The results store: one SQLite database per run directory, the store of record.

Tables
- ``study``: the study name, its canonical spec (JSON) and the spec's hash; one row.
- ``runs``: one row per invocation (start and end time, commit, package versions, command line).
- ``trials``: one row per trial: its name (hash of the spec), its fields (JSON), status
  (``done`` or ``failed``), the failure reason, and trial-level results (JSON).
- ``rows``: one row per trial and sparsity level, its measurements (JSON).

Every trial is written in one transaction together with its rows, so a crash loses at most the
trials in flight, and a reader sees a trial either whole or not at all. WAL mode lets readers
(``prunelab status``) read while the writer writes; readers open the database read-only. The
writer holds an exclusive lock on ``DIR/.writer.lock`` while it runs, so two runs cannot write one
directory, and a run that is still marked ``running`` while no one holds the lock was killed.
Nothing is pickled: JSON only.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no writer lock
    fcntl = None

DB_NAME = "results.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS study (
    name TEXT NOT NULL, spec_hash TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, ended TEXT,
    provenance TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE IF NOT EXISTS trials (
    trial TEXT PRIMARY KEY, fields TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    results TEXT, started TEXT, ended TEXT, run_id INTEGER
);
CREATE TABLE IF NOT EXISTS rows (
    trial TEXT NOT NULL, sparsity REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (trial, sparsity)
);
"""


class StoreError(ValueError):
    """A results directory that cannot be used as asked (another study's results, no database, damage)."""


class _Uninitialised(Exception):
    """The database exists but its tables do not (its creation was cut short)."""


def _dumps(obj) -> str:
    """JSON with NaN/inf written as null (strict JSON, readable by any tool)."""

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), sort_keys=True, allow_nan=False)


LOCK_NAME = ".writer.lock"


class WriterLock:
    """An exclusive ``flock`` on ``DIR/.writer.lock``, held by the one process writing DIR.

    The kernel releases it when that process ends, however it ends (SIGKILL included), so a
    held lock always means a live writer. Where ``fcntl`` is missing (Windows) there is no lock."""

    def __init__(self, directory):
        self.path = Path(directory) / LOCK_NAME
        self.fd = None

    def acquire(self, wait_s: float = 3.0) -> None:
        if fcntl is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s  # a status reader holds a shared lock for an instant
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise StoreError(f"{self.path.parent} is being written by another prunelab run (pid {holder}); "
                                     "wait for it to finish, or stop it and rerun with --resume") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd

    @property
    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None

    @staticmethod
    def writer_active(directory) -> bool | None:
        """Whether a process holds DIR's writer lock now (None where that cannot be known)."""
        if fcntl is None:
            return None
        path = Path(directory) / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except OSError:
            return True
        finally:
            os.close(fd)  # releases the shared lock at once


class Store:
    """A handle on ``DIR/results.sqlite``. Open with :meth:`create_or_resume` to write (the one
    writer, holding DIR's :class:`WriterLock`), with :meth:`open` to read (read-only; never blocks
    the writer, which WAL mode lets go on while readers read)."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.lock: WriterLock | None = None
        try:
            if readonly:
                self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=60,
                                            isolation_level=None)
            else:
                self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=60000")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a readable prunelab results database ({e})") from None

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, directory) -> "Store":
        """Open DIR's database read-only (``prunelab status``, ``export``, ``report``)."""
        path = Path(directory) / DB_NAME
        if not path.is_file():
            raise StoreError(f"no results database in {directory} (expected {path})")
        return cls(path, readonly=True)

    @classmethod
    def existing(cls, directory) -> dict | None:
        """The study row of DIR's database (name, spec_hash, spec, created), or None where there is no
        database or its creation was cut short. Read through a read-write handle that only reads: unlike
        a read-only one, it leaves no -wal/-shm files behind when it closes."""
        path = Path(directory) / DB_NAME
        if not path.is_file():
            return None
        store = cls(path)
        try:
            return store.study()
        finally:
            store.close()

    @classmethod
    def preflight(cls, directory, name: str, resume: bool, differs=None) -> None:
        """Refuse, without writing anything, a DIR that cannot take this study: one holding another
        study's results, the same study with other trials (``differs(existing_study_row)`` returns why,
        or None when the trials are the same), the same study without ``resume``, or a folder that is not
        a results directory."""
        directory = Path(directory)
        path = directory / DB_NAME
        if path.exists():
            existing = cls.existing(directory)
            if existing is not None and existing["name"] != name:
                raise StoreError(f"--out {directory} holds results of another study ({existing['name']}); "
                                 "choose another --out")
            reason = differs(existing) if existing is not None and differs is not None else None
            if reason:
                raise StoreError(f"--out {directory} holds results of {name} with other trials ({reason}); "
                                 "undo those changes to resume it, or choose another --out for the new trials")
            if existing is not None and not resume:
                raise StoreError(
                    f"--out {directory} already holds results of this study; pass --resume to finish "
                    "the missing trials, or choose another --out"
                )
        elif directory.exists() and not directory.is_dir():
            raise StoreError(f"--out {directory} is a file; choose a directory")
        elif directory.exists() and any(p.name != LOCK_NAME for p in directory.iterdir()) and not resume:
            raise StoreError(f"--out {directory} exists and is not a prunelab results directory; choose another --out")

    @classmethod
    def create_or_resume(cls, directory, name: str, spec_hash: str, spec: dict, created: str, resume: bool,
                         differs=None) -> "Store":
        """Open DIR for writing a study, as its only writer. A directory holding another study's
        results, other trials of this study, or this study without ``resume``, is refused and left
        untouched. Resuming with another ``[analysis]`` (or description) stores the new spec: the trials
        are the same, the report reads the new analysis."""
        directory = Path(directory)
        cls.preflight(directory, name, resume, differs)
        directory.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(directory)
        lock.acquire()
        try:
            cls.preflight(directory, name, resume, differs)  # again, now that no one else can write
            store = cls(directory / DB_NAME)
            store.lock = lock
        except BaseException:
            lock.release()
            raise
        existing = store.study()
        if existing is None:  # a new directory, or one whose creation was cut short
            with store.transaction() as c:
                for statement in SCHEMA.strip().split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute("INSERT INTO study VALUES (?, ?, ?, ?)", (name, spec_hash, _dumps(spec), created))
        elif _dumps(existing["spec"]) != _dumps(spec) or existing["spec_hash"] != spec_hash:
            with store.transaction() as c:
                c.execute("UPDATE study SET spec = ?, spec_hash = ?", (_dumps(spec), spec_hash))
        return store

    def close(self) -> None:
        self.conn.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------
    def _query(self, sql: str) -> list[tuple]:
        """Rows of a read; a damaged database (truncated, corrupted, not SQLite, undecodable JSON) is a
        StoreError naming the file."""
        try:
            return self.conn.execute(sql).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise _Uninitialised() from None
            raise StoreError(f"{self.path} cannot be read ({e}); it may be damaged") from None
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a readable prunelab results database ({e})") from None

    def study(self) -> dict | None:
        try:
            rows = self._query("SELECT name, spec_hash, spec, created FROM study")
        except _Uninitialised:
            return None
        if not rows:
            return None
        name, spec_hash, spec, created = rows[0]
        return {"name": name, "spec_hash": spec_hash, "spec": self._json(spec), "created": created}

    def _json(self, text):
        try:
            return json.loads(text)
        except (TypeError, ValueError) as e:
            raise StoreError(f"{self.path} holds a record that is not valid JSON ({e}); it may be damaged") from None

    def trial_status(self) -> dict[str, str]:
        try:
            return dict(self._query("SELECT trial, status FROM trials"))
        except _Uninitialised:
            return {}

    def trials(self) -> list[dict]:
        try:
            rows = self._query("SELECT trial, fields, status, reason, results, started, ended FROM trials ORDER BY trial")
        except _Uninitialised:
            return []
        return [{"trial": trial, "fields": self._json(fields), "status": status, "reason": reason,
                 "results": self._json(results) if results else {}, "started": started, "ended": ended}
                for trial, fields, status, reason, results, started, ended in rows]

    def rows(self) -> list[dict]:
        try:
            rows = self._query("SELECT trial, sparsity, data FROM rows ORDER BY trial, sparsity")
        except _Uninitialised:
            return []
        return [{"trial": t, "sparsity": s, **self._json(d)} for t, s, d in rows]

    def runs(self) -> list[dict]:
        try:
            rows = self._query("SELECT run_id, started, ended, provenance, status FROM runs")
        except _Uninitialised:
            return []
        return [{"run_id": r, "started": s, "ended": e, "status": st, "provenance": self._json(p)}
                for r, s, e, p, st in rows]

    # -- writing -------------------------------------------------------------------------
    def begin_run(self, started: str, provenance: dict) -> int:
        with self.transaction() as c:
            if self.lock is not None and self.lock.held:
                # no other writer can be alive: a run still marked running was killed
                c.execute("UPDATE runs SET status = 'killed' WHERE status = 'running'")
            cur = c.execute("INSERT INTO runs (started, provenance) VALUES (?, ?)", (started, _dumps(provenance)))
            return int(cur.lastrowid)

    def end_run(self, run_id: int, ended: str, status: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE runs SET ended = ?, status = ? WHERE run_id = ?", (ended, status, run_id))

    def write_trial(self, run_id: int, trial: str, fields: dict, status: str, reason: str | None,
                    results: dict, rows: list[dict], started: str, ended: str) -> None:
        """Write one trial and all its rows in one transaction (replacing a failed earlier attempt)."""
        with self.transaction() as c:
            c.execute("DELETE FROM rows WHERE trial = ?", (trial,))
            c.execute(
                "INSERT OR REPLACE INTO trials VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (trial, _dumps(fields), status, reason, _dumps(results), started, ended, run_id),
            )
            for row in rows:
                data = {k: v for k, v in row.items() if k != "sparsity"}
                c.execute("INSERT INTO rows VALUES (?, ?, ?)", (trial, float(row["sparsity"]), _dumps(data)))
