"""``prunelab describe STUDY`` prints every field with its type, default and help text."""
import dataclasses

import pytest

from studies import catalog
from studies.cli.main import main
from studies.sweep.describe import describe_lines, field_rows


@pytest.mark.parametrize("name", catalog.names())
def test_every_field_of_every_study_has_help_text(name):
    study = catalog.get(name)
    for cls in (study.trial_fields, study.analysis_fields):
        rows = field_rows(cls)
        assert [r["name"] for r in rows] == [f.name for f in dataclasses.fields(cls)]
        assert all(r["help"].strip() for r in rows), [r["name"] for r in rows if not r["help"].strip()]


def test_describe_three_regime_lists_densities_with_help_and_the_presets(capsys):
    assert main(["describe", "three_regime"]) == 0
    out = capsys.readouterr().out
    assert "densities (list[float], default [0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005]" in out
    assert "the load axis: densities of the pruned model" in out
    assert "temperature_knob (str, default \"lr\"; one of \"epochs\", \"lr\"" in out
    assert "Presets: batch_size, epochs, lr, paper, quick, sam" in out


def test_describe_a_derived_study_names_its_source():
    text = "\n".join(describe_lines(catalog.get("case_studies"), ["quick"]))
    assert "stored trials of a three_regime run" in text and "Trial fields" not in text


def test_describe_an_unknown_study_exits_2_with_the_known_ones(capsys):
    assert main(["describe", "three_regimes"]) == 2
    assert "unknown study 'three_regimes'; known studies:" in capsys.readouterr().err
