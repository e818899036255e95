"""A sweep killed with SIGKILL at random moments and resumed ends with exactly the table of an
uninterrupted run: one row per trial and sparsity level, nothing lost, nothing twice. While the
first attempt runs, `prunelab status` reads it from this process without blocking it."""
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.results.status import directory_status, status_lines
from studies.results.store import DB_NAME, WriterLock
from studies.results.table import export
from tests.studies.sweep_files import stored_trials, write_toml

ROOT = Path(__file__).resolve().parents[3]  # the repository
KILLS = 3


def sweep_spec():
    """Ten groups of four small trials (groups are fixed by n_train), so kills land mid-sweep."""
    return {
        "study": "intrinsic_dimension", "seeds": [0, 1],
        "base": {"ambient_dim": 16, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse", "lr": 4.0,
                 "sparsities": [0.5, 0.9]},
        "grid": {"intrinsic_dim": [2, 4], "n_train": [200, 210, 220, 230, 240, 250, 260, 270, 280, 290]},
        "analysis": {"n_bootstrap": 50},
    }


def status_during_the_run(out, total):
    """From this process, while the sweep writes: `prunelab status` sees it half done, and a reader
    holding a snapshot open does not stop the writer from committing more trials (WAL)."""
    s = directory_status(out)
    assert 0 < s["done"] < total and s["pending"] == total - s["done"] - s["failed"]
    assert s["state"].startswith("last run running") and WriterLock.writer_active(out) is True
    uri = f"{(out / DB_NAME).resolve().as_uri()}?mode=ro"
    held = sqlite3.connect(uri, uri=True, isolation_level=None)
    fresh = sqlite3.connect(uri, uri=True)
    try:
        held.execute("BEGIN")
        at_snapshot = held.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and fresh.execute("SELECT COUNT(*) FROM trials").fetchone()[0] <= at_snapshot:
            time.sleep(0.02)
        assert fresh.execute("SELECT COUNT(*) FROM trials").fetchone()[0] > at_snapshot  # the writer went on
        assert held.execute("SELECT COUNT(*) FROM trials").fetchone()[0] == at_snapshot  # the snapshot stayed put
        held.execute("COMMIT")
    finally:
        held.close()
        fresh.close()


def cli(*args):
    return [sys.executable, "-m", "studies.cli", "run", *map(str, args), "--quiet", "--no-report"]


def test_a_sweep_killed_at_random_moments_and_resumed_equals_an_uninterrupted_run(tmp_path):
    spec = sweep_spec()
    total = len(plan(spec).trials)
    assert len(plan(spec).groups) == 10
    path = write_toml(spec, tmp_path / "sweep.toml")
    out = tmp_path / "killed"
    rng = random.Random(1234)
    counts = []
    for _ in range(KILLS):
        before = stored_trials(out)
        proc = subprocess.Popen(cli(path, "--out", out, "--resume"), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        # once this attempt is writing, kill it after a random delay: mid-group or mid-write
        deadline = time.monotonic() + 120
        while stored_trials(out) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if before == 0:
            status_during_the_run(out, total)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, f"the attempt ended before the kill: {err.decode()[-2000:]}"
        counts.append(stored_trials(out))
    assert 0 < counts[0] <= counts[-1] < total  # every kill landed mid-sweep

    done = subprocess.run(cli(path, "--out", out, "--resume"), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]

    con = sqlite3.connect(out / DB_NAME)
    statuses = con.execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall()
    n_rows, n_keys = con.execute("SELECT COUNT(*), COUNT(DISTINCT trial || '/' || sparsity) FROM rows").fetchone()
    runs = [r[0] for r in con.execute("SELECT status FROM runs ORDER BY run_id")]
    con.close()
    assert statuses == [("done", total)]
    assert n_rows == n_keys == total * 3  # the dense control and two ladder points per trial
    assert runs == ["killed"] * KILLS + ["finished"]
    (line,) = status_lines(out)
    assert f"{total} done, 0 failed, 0 pending; last run finished" in line

    reference = tmp_path / "uninterrupted"
    run_spec(spec, reference, progress=False)
    for d in (out, reference):
        export(d, "csv", d / "table.csv")
        export(d, "parquet", d / "table.parquet")
    assert (out / "table.csv").read_bytes() == (reference / "table.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "table.parquet"), pd.read_parquet(reference / "table.parquet"))
