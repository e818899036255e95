"""Engines: the same spec gives the same table with 1 or 2 local workers and on a Dask cluster;
the cluster prunelab starts listens on loopback only; a worker killed mid-sweep costs no trial;
an unreachable scheduler is refused before anything runs or is written."""
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import threading
import time

import pandas as pd
import psutil
import pytest

from studies.cli.main import main
from studies.sweep.engines import DaskEngine, EngineError, LocalEngine, make_engine
from studies.sweep.engines import run_group_safely
from studies.sweep.plan import plan
from studies.sweep.runner import run_spec
from studies.results.store import DB_NAME
from studies.results.table import load_all
from tests.studies.sweep_files import stored_trials, write_toml


def engine_spec():
    """Six groups of four small trials (groups are fixed by n_train)."""
    return {
        "study": "intrinsic_dimension", "seeds": [0, 1],
        "base": {"ambient_dim": 16, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse", "lr": 4.0,
                 "sparsities": [0.5, 0.9], "dimension_method": None},
        "grid": {"intrinsic_dim": [2, 4], "n_train": [200, 210, 220, 230, 240, 250]},
        "analysis": {"n_bootstrap": 50},
    }


def table(out):
    return load_all(out).sort_values(["trial", "sparsity"]).reset_index(drop=True)


def progress_counts(stderr: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+)/\d+ trials", stderr)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("engines") / "local1"
    run_spec(engine_spec(), out, progress=False)
    return table(out)


@pytest.fixture(scope="module")
def cluster():
    """A cluster started by prunelab itself: a LocalCluster of two worker processes."""
    with DaskEngine(workers=2) as engine:
        yield engine


def test_one_and_two_local_workers_give_identical_tables(reference, tmp_path, capsys):
    assert len(plan(engine_spec()).groups) == 6
    run_spec(engine_spec(), tmp_path / "local2", engine=LocalEngine(workers=2))
    pd.testing.assert_frame_equal(reference, table(tmp_path / "local2"))
    # with worker processes the progress moves once per finished group (then the closing line)
    assert progress_counts(capsys.readouterr().err) == [0, 4, 8, 12, 16, 20, 24, 24]


def one_group_spec():
    """Sixteen small trials of one shape: one group by the study's key, which the plan splits in two."""
    return {
        "study": "intrinsic_dimension", "seeds": list(range(8)),
        "base": {"ambient_dim": 16, "n_train": 200, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse",
                 "lr": 4.0, "sparsities": [0.5, 0.9], "dimension_method": None},
        "grid": {"intrinsic_dim": [2, 4]},
        "analysis": {"n_bootstrap": 50},
    }


def test_a_sweep_of_one_group_runs_in_parts_on_two_workers_with_the_same_table(tmp_path, capsys):
    import torch

    p = plan(one_group_spec())
    assert len({p.study.group_key(t) for _, t in p.trials}) == 1
    assert [[n for n, _ in g] for g in p.groups] == [[n for n, _ in p.trials[:8]], [n for n, _ in p.trials[8:]]]
    threads = torch.get_num_threads()
    run_spec(one_group_spec(), tmp_path / "w1", progress=False, engine=LocalEngine(workers=1))
    assert torch.get_num_threads() == threads  # the in-process engine restores the caller's setting
    run_spec(one_group_spec(), tmp_path / "w2", engine=LocalEngine(workers=2))
    err = capsys.readouterr().err
    # two worker processes, not capped, the progress moving once per part
    assert "capped" not in err and progress_counts(err) == [0, 8, 16, 16]
    pd.testing.assert_frame_equal(table(tmp_path / "w1"), table(tmp_path / "w2"))


def test_the_plan_splits_only_few_groups_and_never_below_the_smallest_part():
    from studies.sweep.plan import MIN_PART, SPLIT_TARGET, split_groups

    def sizes(*lengths):
        groups = [list(range(sum(lengths[:i]), sum(lengths[:i + 1]))) for i in range(len(lengths))]
        out = split_groups(groups)
        assert [x for g in out for x in g] == [x for g in groups for x in g]  # in order, each trial once
        return [len(g) for g in out]

    assert SPLIT_TARGET == 4 and MIN_PART == 8
    assert sizes(48) == [12, 12, 12, 12]
    assert sizes(15) == [15] and sizes(16) == [8, 8] and sizes(31) == [11, 10, 10]
    assert sizes(40, 9) == [20, 20, 9]
    assert sizes(4, 4, 4, 4, 4, 4) == [4] * 6 and sizes(64, 64, 64, 64) == [64] * 4
    assert len(plan(engine_spec()).groups) == 6  # six groups of four: left as they are


def test_the_cluster_prunelab_starts_listens_on_loopback_only_over_tls(cluster):
    assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
    workers = cluster.client.scheduler_info()["workers"]
    assert len(workers) == 2 and all(w.startswith("tls://127.0.0.1:") for w in workers)
    # every listening socket of the scheduler (this process) and of the worker processes is on 127.0.0.1
    pids = [os.getpid(), *cluster.client.run(os.getpid).values()]
    listening = [c.laddr for pid in pids for c in psutil.Process(pid).net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN]
    assert len(listening) >= 4 and {a.ip for a in listening} == {"127.0.0.1"}
    assert cluster.describe()["engine"] == "dask"


def test_dask_and_local_engines_give_identical_tables(cluster, reference, tmp_path, capsys):
    # connect to the running scheduler by address (with its credentials), as `--engine dask --address` does
    engine = DaskEngine(address=cluster.scheduler_address, security=cluster.security)
    run_spec(engine_spec(), tmp_path / "dask", engine=engine)
    pd.testing.assert_frame_equal(reference, table(tmp_path / "dask"))
    assert progress_counts(capsys.readouterr().err) == [0, 4, 8, 12, 16, 20, 24, 24]


def test_the_local_cluster_refuses_a_client_without_its_credentials(cluster):
    from distributed import Client, Security

    plain = "tcp://" + cluster.scheduler_address.split("://", 1)[1]
    with pytest.raises((OSError, TimeoutError)):
        Client(plain, timeout="2s", set_as_default=False)
    with pytest.raises((OSError, TimeoutError)):  # TLS, with credentials of another certificate authority
        Client(cluster.scheduler_address, security=Security.temporary(), timeout="2s", set_as_default=False)


def test_a_group_that_raises_on_a_dask_worker_is_recorded_failed_with_its_reason(cluster):
    group = [("broken", {"ambient_dim": 16})]  # run_group needs many more fields: KeyError on the worker
    ((_, outcomes, _, _),) = list(cluster.map_groups("intrinsic_dimension", [group]))
    assert [(o.name, o.status) for o in outcomes] == [("broken", "failed")]
    assert "KeyError" in outcomes[0].reason
    assert run_group_safely("intrinsic_dimension", group)[0].reason.split("\n")[0] == outcomes[0].reason.split("\n")[0]


def test_a_dask_worker_killed_mid_sweep_costs_no_trial(cluster, reference, tmp_path):
    out = tmp_path / "killed-worker"
    total = len(plan(engine_spec()).trials)
    killed = {}

    def kill_a_busy_worker():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [w for w, keys in cluster.client.processing().items() if keys]
            stored = stored_trials(out)
            if busy and stored >= 4:  # mid-sweep: some trials stored, a worker computing a group
                pid = cluster.client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.update(pid=pid, stored=stored)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    run_spec(engine_spec(), out, progress=False, engine=cluster)
    killer.join()
    assert killed and killed["stored"] < total
    assert not psutil.pid_exists(killed["pid"]) or psutil.Process(killed["pid"]).status() == psutil.STATUS_ZOMBIE
    con = sqlite3.connect(out / DB_NAME)
    assert con.execute("SELECT status, COUNT(*) FROM trials GROUP BY status").fetchall() == [("done", total)]
    con.close()
    pd.testing.assert_frame_equal(reference, table(out))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(directory) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def test_an_unreachable_scheduler_is_refused_before_anything_runs_or_is_written(tmp_path, capsys):
    spec = engine_spec()
    del spec["base"]["dimension_method"]  # TOML has no null
    spec.update(seeds=[0], grid={"intrinsic_dim": [2], "n_train": [200]})
    existing = tmp_path / "existing"
    run_spec(spec, existing, progress=False)
    before = digest(existing)
    toml = write_toml(spec, tmp_path / "s.toml")
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    argv = ["run", str(toml), "--out", str(existing), "--resume", "--engine", "dask", "--address", address, "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err and "Traceback" not in err
    assert digest(existing) == before  # no run row, no trial, not even a lock file
    # a malformed address is refused at once, without trying to connect
    with pytest.raises(EngineError, match="scheme must be one of"):
        make_engine("dask", address="http://127.0.0.1:8786")
    with pytest.raises(EngineError, match="neither tcp://HOST:PORT nor an existing Dask scheduler file"):
        make_engine("dask", address=str(tmp_path / "no-such-scheduler.json"))
    with pytest.raises(EngineError, match="--address is for --engine dask only"):
        make_engine("local", address=address)
    shutil.rmtree(existing)
