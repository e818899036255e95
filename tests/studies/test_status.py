"""`prunelab status` reads a sweep while it runs, from another process, without blocking the
writer; one directory has one writer; a run that was killed is shown as killed."""
import json
import multiprocessing
import sqlite3
import time

import pytest

from studies.cli import main
from studies.runner import plan, run_spec
from studies.status import directory_status, status_lines
from studies.store import DB_NAME, Store, StoreError, WriterLock


def status_spec():
    return {
        "study": "intrinsic_dimension", "seeds": [0, 1],
        "base": {"ambient_dim": 16, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse", "lr": 4.0,
                 "sparsities": [0.5, 0.9]},
        "grid": {"intrinsic_dim": [2, 4], "n_train": [200, 210, 220, 230, 240, 250]},
        "analysis": {"n_bootstrap": 50},
    }


def write_toml(spec, path):
    lines = [f'study = "{spec["study"]}"', f"seeds = {json.dumps(spec['seeds'])}"]
    for name in ("base", "grid", "analysis"):
        lines += [f"[{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in spec[name].items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(argv):
    raise SystemExit(main(argv))


def count(con) -> int:
    return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]


def test_status_reads_a_running_sweep_from_another_process_without_blocking_the_writer(tmp_path):
    spec = status_spec()
    total = len(plan(spec).trials)
    out = tmp_path / "sweep"
    argv = ["run", str(write_toml(spec, tmp_path / "s.toml")), "--out", str(out), "--quiet", "--no-report"]
    writer = multiprocessing.get_context("fork").Process(target=run_cli, args=(argv,))
    writer.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / DB_NAME).exists():
            time.sleep(0.02)
        seen = None
        while time.monotonic() < deadline and writer.is_alive():
            s = directory_status(out)
            if 0 < s["done"] <= total // 2:
                seen = s
                break
            time.sleep(0.02)
        assert seen is not None, "never saw the sweep half done"
        assert seen["state"].startswith("last run running") and seen["pending"] == total - seen["done"]
        assert WriterLock.writer_active(out) is True

        # a reader holding a snapshot open does not stop the writer from committing more trials
        held = sqlite3.connect(f"{(out / DB_NAME).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        held.execute("BEGIN")
        at_snapshot = count(held)
        fresh = sqlite3.connect(f"{(out / DB_NAME).resolve().as_uri()}?mode=ro", uri=True)
        while time.monotonic() < deadline and count(fresh) <= at_snapshot:
            time.sleep(0.02)
        assert count(fresh) > at_snapshot == count(held)  # the writer moved on; the snapshot stayed put
        held.execute("COMMIT")
        held.close()
        fresh.close()
        writer.join(timeout=max(1.0, deadline - time.monotonic()))
        assert writer.exitcode == 0
    finally:
        if writer.is_alive():
            writer.kill()
            writer.join()
    (line,) = status_lines(tmp_path)
    assert f"{total} done, 0 failed, 0 pending; last run finished" in line
    assert WriterLock.writer_active(out) is False


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
