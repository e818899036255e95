"""The results store: one SQLite database per run directory, the store of record.

Tables
- ``study``: the study name, its canonical spec (JSON) and the spec's hash; one row.
- ``runs``: one row per invocation (start and end time, commit, package versions, command line).
- ``trials``: one row per trial: its name (hash of the spec), its fields (JSON), status
  (``done`` or ``failed``), the failure reason, and trial-level results (JSON).
- ``rows``: one row per trial and sparsity level, its measurements (JSON).

Every trial is written in one transaction together with its rows, so a crash loses at most the
trials in flight, and a reader sees a trial either whole or not at all. WAL mode lets readers
(``prunelab status``) read while the writer writes. Nothing is pickled: JSON only.
"""
from __future__ import annotations

import json
import math
import sqlite3
from contextlib import contextmanager
from pathlib import Path

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
    """A results directory that cannot be used as asked (another study's results, no database)."""


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


class Store:
    """A handle on ``DIR/results.sqlite``. Open with :meth:`create_or_resume` to write, :meth:`open` to read."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=60000")

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, directory) -> "Store":
        path = Path(directory) / DB_NAME
        if not path.is_file():
            raise StoreError(f"no results database in {directory} (expected {path})")
        return cls(path)

    @classmethod
    def create_or_resume(cls, directory, name: str, spec_hash: str, spec: dict, created: str, resume: bool) -> "Store":
        """Open DIR for writing a study. A directory holding another study's results, or the same
        study without ``resume``, is refused and left untouched."""
        directory = Path(directory)
        path = directory / DB_NAME
        if path.exists():
            store = cls(path)
            existing = store.study()
            if existing is not None and (existing["name"], existing["spec_hash"]) != (name, spec_hash):
                store.close()
                raise StoreError(
                    f"--out {directory} holds results of another study ({existing['name']}, spec "
                    f"{existing['spec_hash']}); choose another --out"
                )
            if existing is not None and not resume:
                store.close()
                raise StoreError(
                    f"--out {directory} already holds results of this study; pass --resume to finish "
                    "the missing trials, or choose another --out"
                )
            if existing is not None:
                return store
            store.close()
        elif directory.exists() and any(directory.iterdir()) and not resume:
            raise StoreError(f"--out {directory} exists and is not a prunelab results directory; choose another --out")
        directory.mkdir(parents=True, exist_ok=True)
        store = cls(path)
        with store.transaction() as c:
            for statement in SCHEMA.strip().split(";"):
                if statement.strip():
                    c.execute(statement)
            if c.execute("SELECT COUNT(*) FROM study").fetchone()[0] == 0:
                c.execute("INSERT INTO study VALUES (?, ?, ?, ?)", (name, spec_hash, _dumps(spec), created))
        return store

    def close(self) -> None:
        self.conn.close()

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
    def study(self) -> dict | None:
        try:
            row = self.conn.execute("SELECT name, spec_hash, spec, created FROM study").fetchone()
        except sqlite3.OperationalError:
            return None
        if row is None:
            return None
        return {"name": row[0], "spec_hash": row[1], "spec": json.loads(row[2]), "created": row[3]}

    def trial_status(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT trial, status FROM trials").fetchall())

    def trials(self) -> list[dict]:
        out = []
        for trial, fields, status, reason, results, started, ended in self.conn.execute(
            "SELECT trial, fields, status, reason, results, started, ended FROM trials ORDER BY trial"
        ):
            out.append({
                "trial": trial, "fields": json.loads(fields), "status": status, "reason": reason,
                "results": json.loads(results) if results else {}, "started": started, "ended": ended,
            })
        return out

    def rows(self) -> list[dict]:
        return [
            {"trial": t, "sparsity": s, **json.loads(d)}
            for t, s, d in self.conn.execute("SELECT trial, sparsity, data FROM rows ORDER BY trial, sparsity")
        ]

    def runs(self) -> list[dict]:
        return [
            {"run_id": r, "started": s, "ended": e, "status": st, "provenance": json.loads(p)}
            for r, s, e, p, st in self.conn.execute("SELECT run_id, started, ended, provenance, status FROM runs")
        ]

    # -- writing -------------------------------------------------------------------------
    def begin_run(self, started: str, provenance: dict) -> int:
        with self.transaction() as c:
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
