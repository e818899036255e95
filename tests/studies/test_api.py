"""The notebook API: ``from studies import run, load, describe``."""
import pytest

from studies import describe, load, run
from studies.sweep.spec import SpecError

SPEC = {"study": "example", "seeds": [0, 1], "base": {"ambient_dim": 24, "n_train": 100, "n_test": 200},
        "grid": {"intrinsic_dim": [2, 6]}}


def test_run_a_dict_spec_returns_the_table_and_load_returns_the_same_rows(tmp_path):
    table = run(SPEC, tmp_path / "run")
    assert len(table) == 2 * 2 * 5  # seeds x dimensions x (dense + 4 densities)
    assert {"trial", "seed", "intrinsic_dim", "sparsity", "test_error"} <= set(table.columns)
    again = load(tmp_path / "run")
    assert again.equals(table)


def test_running_again_resumes_and_trains_nothing(tmp_path, monkeypatch):
    first = run(SPEC, tmp_path / "run")
    monkeypatch.setattr("studies.sweep.engines.run_group_safely", lambda *a: pytest.fail("trained again"))
    assert run(SPEC, tmp_path / "run").equals(first)


def test_a_named_study_a_preset_and_a_toml_path_are_accepted(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('study = "example"\nseeds = [0]\n[base]\nambient_dim = 16\nn_train = 50\nn_test = 50\n'
                    '[grid]\nintrinsic_dim = [2]\n')
    assert len(run(spec, tmp_path / "toml")) == 5
    assert len(run("example", tmp_path / "named", preset="quick")) == 4 * 3 * 5


def test_bad_arguments_are_refused_with_their_name(tmp_path):
    with pytest.raises(SpecError, match="preset"):
        run(SPEC, tmp_path / "a", preset="quick")
    with pytest.raises(SpecError, match="unknown preset 'nope'"):
        run("example", tmp_path / "b", preset="nope")
    with pytest.raises(SpecError, match="expected a study name"):
        run(42, tmp_path / "c")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_describe_lists_the_fields_with_their_help():
    text = describe("three_regime")
    assert "densities (list[float]" in text and "the load axis: densities of the pruned model" in text
    assert "Presets:" in text
