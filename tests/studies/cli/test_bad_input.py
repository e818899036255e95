"""Bad input on `prunelab run`: a clear one-line error and exit status 2, before any engine starts
and before anything is written to an existing results directory."""
import hashlib

import pytest

from studies.sweep import engines
from studies.cli.main import main
from studies.sweep.runner import run_spec
from tests.studies.sweep_files import write_toml


def good_spec():
    return {
        "study": "intrinsic_dimension", "seeds": [0],
        "base": {"ambient_dim": 16, "n_test": 200, "epochs": 10, "retrain_epochs": 5, "loss": "mse", "lr": 4.0,
                 "sparsities": [0.5, 0.9]},
        "grid": {"intrinsic_dim": [2], "n_train": [200]},
        "analysis": {"n_bootstrap": 50},
    }


def digest(directory) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    out = tmp_path_factory.mktemp("bad-input") / "results"
    run_spec(good_spec(), out, progress=False)
    return out


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["base"].update(intrinsic_dimm=3), "base: unknown key 'intrinsic_dimm' (did you mean 'intrinsic_dim'?)"),
    (lambda s: s["base"].update(n_train="many"), "base.n_train: expected int, got 'many'"),
    (lambda s: s["grid"].update(intrinsic_dim=[]), "grid.intrinsic_dim: expected a non-empty list of values, got []"),
    (lambda s: s.update(seeds=[0, 1, 0]), "seeds: duplicates are not allowed, got [0] more than once"),
    (lambda s: s["grid"].update(intrinsic_dim=[2, 64]), "intrinsic_dim must be <= ambient_dim"),
    (lambda s: s.update(study=3), "study: expected the name of a study (a string), got 3"),
    (lambda s: s["base"].update(noise=0.01), "with other trials (changed: base.noise)"),  # valid, but not this directory's
])
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_bad_input_is_refused_before_any_engine_starts_and_nothing_is_written(
        existing, tmp_path, mutate, message, engine, monkeypatch, capsys):
    def no_start(self):
        raise AssertionError("the engine was started before the input was checked")

    monkeypatch.setattr(engines.DaskEngine, "open", no_start)
    spec = good_spec()
    mutate(spec)
    before = digest(existing)
    argv = ["run", str(write_toml(spec, tmp_path / "bad.toml")), "--out", str(existing), "--resume", "--quiet",
            "--engine", engine]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert digest(existing) == before
