"""Every shipped preset of every study validates (plans) before anything runs, and the registry finds
the studies by their folders."""
import pytest

from studies import catalog
from studies.sweep.plan import plan
from studies.sweep.spec import SpecError

PRESETS = [(name, preset) for name in catalog.names() for preset in catalog.presets(name)]


def test_the_registry_finds_every_study_folder():
    assert {"intrinsic_dimension", "three_regime", "gibbs_learning", "hidden_manifold_learning", "case_studies",
            "example"} <= set(catalog.names())
    for name in catalog.names():
        assert catalog.get(name).name == name
        assert catalog.presets(name), f"{name} has no preset"


@pytest.mark.parametrize("name,preset", PRESETS, ids=[f"{n}.{p}" for n, p in PRESETS])
def test_every_preset_plans(name, preset):
    spec = catalog.preset_spec(name, preset)
    p = plan(spec)
    if catalog.get(name).source_study is None:
        assert p.trials and p.groups
    else:
        assert p.spec["source"]


def test_an_unknown_study_or_preset_is_named_with_what_exists():
    with pytest.raises(SpecError, match="unknown study 'nope'; known studies: .*three_regime"):
        catalog.get("nope")
    with pytest.raises(SpecError, match="unknown preset 'big' for study 'three_regime'; presets: batch_size, epochs, lr, paper, quick, sam"):
        catalog.preset_spec("three_regime", "big")
