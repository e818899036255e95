"""`prunelab status`: a run that was killed is shown as killed; one directory has one writer.
(Reading status from another process while a sweep runs is tested in test_crash_safety.py.)"""
import sqlite3

import pytest

from studies.sweep.runner import run_spec
from studies.results.status import directory_status
from studies.results.store import DB_NAME, Store, StoreError, WriterLock


def status_spec():
    return {
        "study": "intrinsic_dimension", "seeds": [0, 1],
        "base": {"ambient_dim": 16, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse", "lr": 4.0,
                 "sparsities": [0.5, 0.9]},
        "grid": {"intrinsic_dim": [2, 4], "n_train": [200, 210, 220, 230, 240, 250]},
        "analysis": {"n_bootstrap": 50},
    }


@pytest.fixture
def small_run(tmp_path):
    spec = status_spec()
    spec.update(seeds=[0], grid={"intrinsic_dim": [2], "n_train": [200]})
    out = tmp_path / "small"
    run_spec(spec, out, progress=False)
    return spec, out


def test_a_run_left_marked_running_without_a_writer_shows_as_killed(small_run):
    spec, out = small_run
    con = sqlite3.connect(out / DB_NAME)
    con.execute("DELETE FROM trials")
    con.execute("INSERT INTO runs (started, provenance, status) VALUES ('2026-01-01T00:00:00+00:00', '{}', 'running')")
    con.commit()
    con.close()
    s = directory_status(out)
    assert (s["done"], s["pending"]) == (0, 1)
    assert s["state"].startswith("last run killed") and "--resume" in s["state"]
    # the next writer marks it killed for good, and finishes the sweep
    run_spec(spec, out, resume=True, progress=False)
    store = Store.open(out)
    assert [r["status"] for r in store.runs()] == ["finished", "killed", "finished"]
    store.close()


def test_a_directory_has_one_writer(small_run):
    spec, out = small_run
    lock = WriterLock(out)
    lock.acquire()
    try:
        assert WriterLock.writer_active(out) is True
        with pytest.raises(StoreError, match="being written by another prunelab run"):
            run_spec(spec, out, resume=True, progress=False)
    finally:
        lock.release()
    run_spec(spec, out, resume=True, progress=False)  # free again
