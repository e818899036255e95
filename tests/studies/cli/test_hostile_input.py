"""A hostile new user at the command line: every case ends with the documented exit status, no traceback,
a message that names the field or the path and what is wrong, and nothing already stored damaged.

Exit status (studies/cli/main.py): 0 all done; 1 the command ran but part of it failed (a trial, an
unreadable directory); 2 bad input or an unusable file, refused before any work starts.
"""
import errno
import hashlib
import json
import sqlite3

import numpy as np
import pytest

from studies.cli.main import main
from studies.results.store import DB_NAME
from studies.results.table import load_all
from studies.sweep import engines
from studies.sweep.runner import run_spec

BASE = {"ambient_dim": "16", "n_train": "120", "n_test": "200", "epochs": "20", "retrain_epochs": "10",
        "loss": '"mse"', "lr": "4.0", "sparsities": "[0.5, 0.9]", "dimension_method": '"none"'}


def toml(tmp_path, text: str, name: str = "spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def id_spec(base: str = "", grid: str = "intrinsic_dim = [2]", seeds: str = "[0]", analysis: str = "n_bootstrap = 20",
            top: str = "") -> str:
    """An intrinsic_dimension spec as TOML text (so that NaN, inf and other raw values can be written);
    ``base`` holds ``key = value`` lines that replace or add to BASE's."""
    fields = dict(BASE)
    for line in base.strip().splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip()
    base_text = "".join(f"{k} = {v}\n" for k, v in fields.items())
    return (f'study = "intrinsic_dimension"\nseeds = {seeds}\n{top}\n[base]\n{base_text}\n[grid]\n{grid}\n'
            f'[analysis]\n{analysis}\n')


def cli(argv, capsys):
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return rc, captured.out, captured.err


def digest(directory) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A finished run directory that the refused commands must leave exactly as it is."""
    out = tmp_path_factory.mktemp("hostile") / "stored"
    spec = {"study": "intrinsic_dimension", "seeds": [0],
            "base": {"ambient_dim": 16, "n_train": 120, "n_test": 200, "epochs": 20, "retrain_epochs": 10,
                     "loss": "mse", "lr": 4.0, "sparsities": [0.5, 0.9], "dimension_method": "none"},
            "grid": {"intrinsic_dim": [2]}, "analysis": {"n_bootstrap": 20}}
    run_spec(spec, out, progress=False)
    return out


# -- 1. bad specs: refused before anything runs, nothing created or changed ------------------------------
BAD_SPECS = [
    ("nan lr", id_spec(base="lr = nan\n"), "base.lr: nan is not a finite number"),
    ("inf lr", id_spec(base="lr = inf\n"), "base.lr: inf is not a finite number"),
    ("-inf noise", id_spec(base="noise = -inf\n"), "base.noise: -inf is not a finite number"),
    ("nan in a grid", id_spec(grid="intrinsic_dim = [2]\nlr = [0.5, nan]"), "grid.lr: nan is not a finite number"),
    ("nan in options", id_spec(base="manifold_options = {scale = nan}\n"),
     "base.manifold_options: nan is not a finite number"),
    ("negative seed", id_spec(seeds="[-1, 2]"), "seeds: every seed must be an integer in [0, 2^63), got [-1]"),
    ("float seed", id_spec(seeds="[1.5]"), "seeds: expected a non-empty list of integers, got [1.5]"),
    ("no seeds", id_spec(seeds="[]"), "seeds: expected a non-empty list of integers, got []"),
    ("duplicate seeds", id_spec(seeds="[0, 0]"), "seeds: duplicates are not allowed, got [0] more than once"),
    ("n_bootstrap 0", id_spec(analysis="n_bootstrap = 0"),
     "analysis.n_bootstrap: 0 is out of range; allowed: n_bootstrap >= 10"),
    ("negative tolerance", id_spec(analysis="tolerance = -0.1"),
     "analysis.tolerance: -0.1 is out of range; allowed: tolerance >= 0"),
    ("confidence 2", id_spec(analysis="confidence = 2"),
     "analysis.confidence: 2 is out of range; allowed: 0 < confidence < 1"),
    ("confidence 0", id_spec(analysis="confidence = 0.0"),
     "analysis.confidence: 0.0 is out of range; allowed: 0 < confidence < 1"),
    ("nan tolerance", id_spec(analysis="tolerance = nan"), "analysis.tolerance: nan is not a finite number"),
    ("unknown analysis key", id_spec(analysis="tolerence = 0.01"),
     "analysis: unknown key 'tolerence' (did you mean 'tolerance'?)"),
    ("unknown top key", id_spec(top='seed = 3'), "unknown top-level key 'seed' (did you mean 'seeds'?)"),
    ("typo in base", id_spec(base="intrinsic_dimm = 3\n"), "base: unknown key 'intrinsic_dimm' (did you mean"),
    ("wrong type", id_spec(base='hidden = "wide"\n'), "base.hidden: expected int | list[int], got 'wide'"),
    ("bad choice", id_spec(base='student = "cnn"\n'), "base.student: 'cnn' is not allowed; choose one of"),
    ("d above D", id_spec(grid="intrinsic_dim = [2, 64]"), "intrinsic_dim must be <= ambient_dim"),
    ("label noise 0.7", id_spec(base="label_noise = 0.7\n"),
     "base.label_noise: 0.7 is out of range; allowed: 0 <= label_noise <= 0.5"),
    ("zero lr", id_spec(base="lr = 0.0\n"), "base.lr: 0.0 is out of range; allowed: lr > 0"),
    ("zero n_train", id_spec(grid="intrinsic_dim = [2]\nn_train = [0]"), "grid.n_train: 0 is out of range"),
    ("ladder not increasing", id_spec(base="sparsities = [0.9, 0.5]\n"),
     "sparsities must be a non-empty increasing list in (0, 1)"),
    ("empty axis", id_spec(grid="intrinsic_dim = []"), "grid.intrinsic_dim: expected a non-empty list of values"),
    ("zip lengths", id_spec(top="") + "[zip]\nlr = [1.0, 2.0]\nnoise = [0.0]\n",
     "zip: every list must have one length, got lengths [1, 2]"),
    ("grid and zip", id_spec() + "[zip]\nintrinsic_dim = [4]\n", "grid and zip both vary ['intrinsic_dim']"),
    ("seed in base", id_spec(base="seed = 3\n"), "base.seed: set seeds with the top-level 'seeds' list"),
    ("unknown study", 'study = "three_regimes"\nseeds = [0]\n', "unknown study 'three_regimes'; known studies:"),
    ("no study", 'seeds = [0]\n', 'a spec must name its study: study = "NAME"'),
    ("study not a string", 'study = 3\nseeds = [0]\n', "study: expected the name of a study (a string), got 3"),
    ("unknown dimension estimator", id_spec(base='dimension_method = "pca9"\n'),
     "dimension_method: 'pca9' is not allowed"),
    ("bad generator option", id_spec(base='manifold = "hidden"\nmanifold_options = {activation = "swish"}\n'),
     "trial with intrinsic_dim=2, ambient_dim=16:"),
    ("three_regime one retraining seed", 'study = "three_regime"\nseeds = [0]\n[base]\nretrain_seeds = 1\n',
     "base.retrain_seeds: 1 is out of range; allowed: retrain_seeds >= 2"),
    ("three_regime decay outside a short retraining run",
     'study = "three_regime"\nseeds = [0]\n[base]\nn_train = 100\nepochs = 2\nbatch_size = 50\n'
     'retrain_epochs = 1\nretrain_batch_size = 50\n',
     "lr_decay_at: the milestones [0.5, 0.75] fall at steps [1, 2] of the retraining run of 2 steps"),
    ("gibbs odd chains", 'study = "gibbs_learning"\nseeds = [0]\n[base]\nchains = 3\n', "chains must be even and >= 2"),
    ("hidden manifold logistic needs a sign teacher",
     'study = "hidden_manifold_learning"\nseeds = [0]\n[base]\nloss = "logistic"\n',
     "loss = 'logistic' learns labels sign(theta.z): set teacher = 'sign'"),
    ("case_studies old form", 'study = "case_studies"\nseeds = [0]\n[grid]\nsam_rho = [0.0, 0.1]\n',
     "case_studies analyses the stored trials of a three_regime run and plans none of its own"),
    ("case_studies without source", 'study = "case_studies"\n', "source: expected the results directory"),
]


@pytest.mark.parametrize("text, message", [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_a_bad_spec_is_refused_with_its_field_named_and_nothing_is_created(tmp_path, text, message, capsys):
    out = tmp_path / "out"
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", out, "--quiet"], capsys)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("text", [c[1] for c in BAD_SPECS[:16]], ids=[c[0] for c in BAD_SPECS[:16]])
def test_a_bad_spec_given_to_a_stored_directory_leaves_it_as_it_was(stored, tmp_path, text, capsys):
    before = digest(stored)
    rc, _, _ = cli(["run", toml(tmp_path, text), "--out", stored, "--resume", "--quiet"], capsys)
    assert rc == 2 and digest(stored) == before


# -- 2. spec files that cannot be read --------------------------------------------------------------------
def test_a_spec_that_is_not_utf8_names_the_file(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes('study = "intrinsic_dimension"\ndescription = "d\xe9j\xe0 vu"\n'.encode("latin-1"))
    rc, _, err = cli(["run", path, "--out", tmp_path / "o"], capsys)
    assert rc == 2 and f"spec file '{path}' is not UTF-8 text" in err


def test_a_spec_that_is_not_toml_names_the_file(tmp_path, capsys):
    rc, _, err = cli(["run", toml(tmp_path, "study = \n"), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and "is not valid TOML" in err and "spec.toml" in err


def test_a_missing_spec_file_is_named(tmp_path, capsys):
    rc, _, err = cli(["run", tmp_path / "nope.toml", "--out", tmp_path / "o"], capsys)
    assert rc == 2 and "nope.toml' does not exist" in err


def test_a_spec_path_that_is_a_directory_is_named(tmp_path, capsys):
    (tmp_path / "d.toml").mkdir()
    rc, _, err = cli(["run", tmp_path / "d.toml", "--out", tmp_path / "o"], capsys)
    assert rc == 2 and "is a directory, not a TOML file" in err


def test_an_unknown_preset_names_the_presets(tmp_path, capsys):
    rc, _, err = cli(["run", "three_regime", "--preset", "huge", "--out", tmp_path / "o"], capsys)
    assert rc == 2 and "unknown preset 'huge' for study 'three_regime'; presets:" in err


# -- 3. size guards -----------------------------------------------------------------------------------------
def test_a_four_million_trial_grid_is_refused_before_it_is_expanded(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("studies.sweep.plan.expand", lambda *a: pytest.fail("the grid was expanded"))
    axis = ", ".join(str(0.001 * (i + 1)) for i in range(2000))
    text = id_spec(grid=f"intrinsic_dim = [2]\nlr = [{axis}]\nnoise = [{axis}]")
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", tmp_path / "o"], capsys)
    assert rc == 2 and "the spec plans 4,000,000 trials, more than the limit of 20,000" in err
    assert "--max-trials" in err and not (tmp_path / "o").exists()


def test_max_trials_refuses_below_and_allows_above(tmp_path, capsys):
    text = id_spec(grid="intrinsic_dim = [2, 3]")
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", tmp_path / "a", "--max-trials", "1"], capsys)
    assert rc == 2 and "plans 2 trials, more than the limit of 1" in err
    rc, _, _ = cli(["run", toml(tmp_path, text), "--out", tmp_path / "b", "--max-trials", "2", "--quiet",
                    "--no-report"], capsys)
    assert rc == 0


def test_too_many_workers_are_capped_with_a_note(tmp_path, capsys):
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", tmp_path / "o", "--workers", "32", "--quiet",
                      "--no-report"], capsys)
    assert rc == 0 and "--workers 32 capped at 1 (1 group(s) to run" in err


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers must be an integer >= 1, got 0"),
    (["--engine", "dask", "--address", "http://127.0.0.1:1"], "the scheme must be one of"),
    (["--address", "tcp://127.0.0.1:1"], "--address is for --engine dask only"),
    (["--engine", "dask", "--address", "no-such-scheduler-file.json"], "is neither tcp://HOST:PORT nor an existing"),
])
def test_bad_engine_options_are_refused_before_anything_is_written(tmp_path, argv, message, capsys, monkeypatch):
    monkeypatch.setattr(engines.DaskEngine, "open", lambda self: pytest.fail("the engine was started"))
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", tmp_path / "o", *argv], capsys)
    assert rc == 2 and message in err and not (tmp_path / "o").exists()


# -- 4. the results directory ---------------------------------------------------------------------------------
def test_a_spec_edited_and_resumed_names_the_changed_fields(stored, tmp_path, capsys):
    before = digest(stored)
    text = id_spec(base="noise = 0.01\nepochs = 30\n")
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", stored, "--resume"], capsys)
    assert rc == 2 and "with other trials (changed: base.epochs, base.noise)" in err
    assert digest(stored) == before


def test_another_studys_directory_is_refused(stored, tmp_path, capsys):
    before = digest(stored)
    rc, _, err = cli(["run", toml(tmp_path, 'study = "example"\nseeds = [0]\n'), "--out", stored, "--resume"], capsys)
    assert rc == 2 and "holds results of another study (intrinsic_dimension)" in err and digest(stored) == before


def test_a_finished_directory_without_resume_is_refused(stored, tmp_path, capsys):
    before = digest(stored)
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", stored], capsys)
    assert rc == 2 and "pass --resume" in err and digest(stored) == before


def test_an_out_that_is_a_file_or_a_foreign_folder_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", tmp_path / "file"], capsys)
    assert rc == 2 and "is a file; choose a directory" in err and (tmp_path / "file").read_text() == "x"
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("mine")
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", tmp_path / "folder"], capsys)
    assert rc == 2 and "is not a prunelab results directory" in err
    assert [p.name for p in (tmp_path / "folder").iterdir()] == ["notes.txt"]


def test_changing_only_the_analysis_resumes_trains_nothing_and_re_reports(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert cli(["run", toml(tmp_path, id_spec()), "--out", out, "--quiet", "--no-report"], capsys)[0] == 0
    rows = load_all(out)
    monkeypatch.setattr("studies.sweep.engines.run_group_safely", lambda *a: pytest.fail("trained again"))
    text = id_spec(analysis="n_bootstrap = 30\ntolerance = 0.02")
    rc, _, _ = cli(["run", toml(tmp_path, text, "new.toml"), "--out", out, "--resume", "--quiet"], capsys)
    assert rc == 0
    summary = (out / "summary.md").read_text()
    assert "tolerance 0.02 absolute" in summary and '"n_bootstrap": 30' in summary
    assert load_all(out).equals(rows)  # the stored rows are the ones trained before


# -- 5. failed members: each trial fails alone with its own reason, and never as a result ---------------------
def test_one_bad_learning_rate_fails_only_its_own_trials(tmp_path, capsys):
    text = id_spec(base='student = "mlp"\nhidden = 8\nloss = "logistic"\n',
                   grid="intrinsic_dim = [2]\nlr = [4.0, 40.0, 400.0, 1e30]")
    out = tmp_path / "lr"
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", out, "--quiet"], capsys)
    assert rc == 1
    assert "of 4 trials failed in" in err and "summary.md" in err
    con = sqlite3.connect(out / DB_NAME)
    rows = con.execute("SELECT fields, status, reason FROM trials").fetchall()
    con.close()
    by_lr = {json.loads(f)["lr"]: (s, r) for f, s, r in rows}
    assert by_lr[4.0] == ("done", None)
    assert by_lr[1e30][0] == "failed" and by_lr[1e30][1].startswith("diverged")
    for lr in (40.0, 400.0):  # each with its own reason, not a neighbour's
        status, reason = by_lr[lr]
        assert status == "failed" and reason.split(":")[0] in ("diverged", "collapsed")
    table = load_all(out)
    assert set(table["lr"]) == {4.0} and np.isfinite(table["test_error"]).all()
    summary = (out / "summary.md").read_text()
    assert "failed." in summary and ("diverged" in summary or "collapsed" in summary)


def test_a_run_whose_every_trial_failed_exits_1_and_its_report_still_succeeds(tmp_path, capsys):
    text = id_spec(base="lr = 1e30\n")
    out = tmp_path / "all-failed"
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", out, "--quiet"], capsys)
    assert rc == 1 and "1 of 1 trials failed" in err
    summary = (out / "summary.md").read_text()
    assert "No finished trials yet." in summary and "0 done, 1 failed." in summary
    rc, _, _ = cli(["report", out], capsys)
    assert rc == 0


def test_a_three_regime_run_at_an_absurd_learning_rate_stores_no_nan_and_reports(tmp_path, capsys):
    text = ('study = "three_regime"\nseeds = [0]\n[base]\nambient_dim = 12\nintrinsic_dim = 4\nhidden = 8\n'
            'n_train = 100\nn_test = 100\nepochs = 2\nbatch_size = 50\ndensities = [0.5]\nretrain_epochs = 1\n'
            'retrain_batch_size = 50\nlr_decay_at = []\n[grid]\nlr = [1000.0]\n')
    out = tmp_path / "tr"
    rc, _, err = cli(["run", toml(tmp_path, text), "--out", out, "--quiet"], capsys)
    assert rc == 1 and "1 of 1 trials failed" in err
    con = sqlite3.connect(out / DB_NAME)
    ((status, reason),) = con.execute("SELECT status, reason FROM trials").fetchall()
    assert con.execute("SELECT COUNT(*) FROM rows").fetchone()[0] == 0
    con.close()
    assert status == "failed" and reason.split(":")[0] in ("diverged", "collapsed")


def test_a_done_outcome_with_a_nan_is_stored_as_failed_with_the_column_named():
    from studies import catalog
    from studies.sweep.study import TrialOutcome

    study = catalog.get("intrinsic_dimension")
    bad = TrialOutcome("t", {}, "done", None, {"dense_test_error": 0.1},
                       [{"sparsity": 0.0, "test_error": 0.1, "dead": False},
                        {"sparsity": 0.5, "test_error": float("nan"), "dead": False}])
    screened = study.screen(bad)
    assert screened.status == "failed" and screened.reason == "non-finite test_error at sparsity 0.5"
    dead = TrialOutcome("t", {}, "done", None, {}, [{"sparsity": 0.9, "test_error": float("nan"), "dead": True},
                                                   {"sparsity": 0.0, "theory_test_error": float("nan")}])
    assert study.screen(dead).status == "done"  # a dead row and a theory outside its domain are not failures
    worse = TrialOutcome("t", {}, "done", None, {"dense_train_loss": float("inf")}, [])
    assert study.screen(worse).reason == "non-finite result dense_train_loss"


def test_a_trial_whose_analysis_raises_fails_alone(tmp_path, capsys, monkeypatch):
    import theory.subspace

    real = theory.subspace.dense_error

    def fails_for_d3(n, d, *args, **kwargs):
        if d == 3:
            raise ArithmeticError("no saddle point for d = 3")
        return real(n, d, *args, **kwargs)

    monkeypatch.setattr(theory.subspace, "dense_error", fails_for_d3)
    out = tmp_path / "one-fails"
    rc, _, _ = cli(["run", toml(tmp_path, id_spec(grid="intrinsic_dim = [2, 3]")), "--out", out, "--quiet",
                    "--no-report"], capsys)
    assert rc == 1
    con = sqlite3.connect(out / DB_NAME)
    rows = {json.loads(f)["intrinsic_dim"]: (s, r) for f, s, r in con.execute("SELECT fields, status, reason FROM trials")}
    con.close()
    assert rows[2] == ("done", None) and rows[3] == ("failed", "ArithmeticError: no saddle point for d = 3")


def test_an_analysis_that_raises_is_named_and_the_stored_trials_stay(tmp_path, capsys, monkeypatch):
    from studies.catalog.intrinsic_dimension import analysis

    def broken(*args, **kwargs):
        raise TypeError("sequence item 0: expected str instance, float found")

    monkeypatch.setattr(analysis, "task_key", broken)
    out = tmp_path / "an"
    rc, _, err = cli(["run", toml(tmp_path, id_spec()), "--out", out, "--quiet"], capsys)
    assert rc == 1 and "Traceback" not in err
    assert "its analysis failed (TypeError: sequence item 0" in err and "the stored trials are intact" in err
    con = sqlite3.connect(out / DB_NAME)
    assert con.execute("SELECT status FROM trials").fetchall() == [("done",)]
    con.close()
    assert "## Not reported" in (out / "index.md").read_text()


def test_run_exits_0_when_every_trial_is_done(tmp_path, capsys):
    rc, out, err = cli(["run", toml(tmp_path, id_spec()), "--out", tmp_path / "o", "--quiet"], capsys)
    assert rc == 0 and "failed" not in err


# -- 6. files and databases that cannot be used ------------------------------------------------------------
def test_export_to_a_missing_folder_names_it(stored, tmp_path, capsys):
    rc, _, err = cli(["export", stored, "--output", tmp_path / "nowhere" / "x.csv"], capsys)
    assert rc == 2 and f"the folder {tmp_path / 'nowhere'} does not exist" in err


def test_export_to_a_directory_names_it_and_leaves_no_temporary_file(stored, tmp_path, capsys):
    target = tmp_path / "adir"
    target.mkdir()
    rc, _, err = cli(["export", stored, "--output", target], capsys)
    assert rc == 2 and f"--output {target} is a directory" in err
    assert list(target.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["adir"]


@pytest.mark.parametrize("code, words", [(errno.EROFS, "Read-only file system"), (errno.ENOSPC, "No space left")])
def test_a_read_only_or_full_disk_on_export_is_one_line_naming_the_path(stored, tmp_path, code, words, capsys,
                                                                       monkeypatch):
    def refuse(path, write):
        raise OSError(code, words, str(path))

    monkeypatch.setattr("studies.results.table.atomic_write", refuse)
    rc, _, err = cli(["export", stored, "--output", tmp_path / "t.csv"], capsys)
    assert rc == 2 and f"{tmp_path / 't.csv'}: {words}" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_during_a_run_names_the_database_and_keeps_what_was_committed(tmp_path, capsys, monkeypatch):
    from studies.results.store import Store

    out = tmp_path / "full"
    calls = {"n": 0}
    real = Store.write_trial

    def fills_up(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write_trial", fills_up)
    rc, _, err = cli(["run", toml(tmp_path, id_spec(grid="intrinsic_dim = [2, 3]")), "--out", out, "--quiet",
                      "--no-report"], capsys)
    assert rc == 2 and f"{out / DB_NAME} cannot be written (database or disk is full)" in err
    monkeypatch.setattr(Store, "write_trial", real)
    assert len(load_all(out)["trial"].unique()) == 1  # the committed trial is intact
    rc, _, _ = cli(["run", toml(tmp_path, id_spec(grid="intrinsic_dim = [2, 3]")), "--out", out, "--resume",
                    "--quiet", "--no-report"], capsys)
    assert rc == 0 and len(load_all(out)["trial"].unique()) == 2


def damaged_copy(stored, tmp_path, how: str):
    import shutil

    copy = tmp_path / "root" / how
    shutil.copytree(stored, copy)
    db = copy / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3] if how == "truncated" else b"\x00garbage" * 512)
    return copy


@pytest.mark.parametrize("how", ["truncated", "corrupted"])
@pytest.mark.parametrize("command", ["status", "report", "export"])
def test_a_damaged_database_is_named_and_the_command_exits_nonzero(stored, tmp_path, how, command, capsys):
    copy = damaged_copy(stored, tmp_path, how)
    rc, _, err = cli([command, copy], capsys)
    assert rc in (1, 2) and str(copy) in err and ("damaged" in err or "not a readable" in err)


@pytest.mark.parametrize("command", ["status", "report", "export"])
def test_one_broken_directory_does_not_stop_the_others(stored, tmp_path, command, capsys):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(stored, root / "good")
    broken = damaged_copy(stored, tmp_path, "corrupted")
    rc, out, err = cli([command, root], capsys)
    assert rc == 1 and str(broken) in err and "could not be" in err
    if command == "status":
        assert str(root / "good") in out and "1 done" in out
    if command == "report":
        assert (root / "good" / "summary.md").is_file()
        assert "Not reported" in (root / "index.md").read_text()
    if command == "export":
        assert "intrinsic_dimension" in out and out.count("\n") > 2


def test_status_json_is_machine_readable_and_lists_the_unreadable(stored, tmp_path, capsys):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(stored, root / "good")
    damaged_copy(stored, tmp_path, "truncated")
    rc, out, _ = cli(["status", root, "--json"], capsys)
    doc = json.loads(out)
    assert rc == 1 and doc["directories"][0]["done"] == 1 and doc["directories"][0]["study"] == "intrinsic_dimension"
    assert len(doc["unreadable"]) == 1 and "truncated" in doc["unreadable"][0]


def test_demo_into_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    rc, _, err = cli(["demo", "--out", tmp_path / "f"], capsys)
    assert rc == 2 and "is a file" in err and (tmp_path / "f").read_text() == "x"


def test_status_of_a_path_that_is_not_a_directory(tmp_path, capsys):
    rc, _, err = cli(["status", tmp_path / "missing"], capsys)
    assert rc == 2 and "is not a directory" in err


# -- 7. the dimension and theory commands ---------------------------------------------------------------------
@pytest.mark.parametrize("content, message", [
    (b"1 2 3\n4 5 6\n", "is not a .npy file"),
    (b"PK\x03\x04rest", "is an .npz archive"),
], ids=["text", "npz"])
def test_dimension_file_that_is_not_an_npy_array(tmp_path, content, message, capsys):
    path = tmp_path / "points.npy"
    path.write_bytes(content)
    rc, _, err = cli(["dimension", "--file", path], capsys)
    assert rc == 2 and message in err and str(path) in err


def test_dimension_of_identical_points_says_so(tmp_path, capsys):
    path = tmp_path / "same.npy"
    np.save(path, np.ones((50, 4)))
    rc, _, err = cli(["dimension", "--file", path], capsys)
    assert rc == 2 and "holds 1 distinct point(s) among its 50 rows" in err


def test_dimension_of_a_missing_file(tmp_path, capsys):
    rc, _, err = cli(["dimension", "--file", tmp_path / "no.npy"], capsys)
    assert rc == 2 and "no.npy" in err and "not found" in err


def test_dimension_of_a_huge_generator_is_refused_before_allocating(capsys):
    rc, _, err = cli(["dimension", "linear", "--intrinsic-dim", "4", "--ambient-dim", "100000000"], capsys)
    assert rc == 2 and "--ambient-dim 100000000 asks for" in err and "GiB" in err


def test_a_theory_range_of_a_million_points_is_refused(capsys):
    rc, _, err = cli(["theory", "gibbs", "--alpha", "0.5:20:1000000"], capsys)
    assert rc == 2 and "asks for 1,000,000 points, more than --max-points 100,000" in err


def test_max_points_lets_a_user_go_beyond(capsys):
    rc, out, _ = cli(["theory", "hebb", "--alpha", "1:2:5", "--max-points", "5"], capsys)
    assert rc == 0 and len(out.strip().splitlines()) == 6


# -- 8. what a user reads ------------------------------------------------------------------------------------------
def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("prunelab ")


def test_progress_in_a_log_moves_per_trial_without_carriage_returns(tmp_path, capsys):
    rc, _, err = cli(["run", toml(tmp_path, id_spec(grid="intrinsic_dim = [2, 3, 4]")), "--out", tmp_path / "o",
                      "--no-report"], capsys)
    assert rc == 0 and "\r" not in err
    import re

    counts = [int(n) for n in re.findall(r"(\d+)/3 trials", err)]
    assert counts[0] == 0 and counts[-1] == 3 and {1, 2} <= set(counts)  # one group of three, seen per trial
