"""The named studies and their presets (TOML files in studies/specs/NAME.PRESET.toml)."""
from __future__ import annotations

import importlib
from pathlib import Path

from .spec import SpecError, load_toml
from .study import Study

STUDY_MODULES = {
    "gibbs_learning": "studies.gibbs_learning",
    "intrinsic_dimension": "studies.intrinsic_dimension",
    "three_regime": "studies.three_regime",
    "case_studies": "studies.case_studies",
    "hidden_manifold_learning": "studies.hidden_manifold_learning",
}
SPEC_DIR = Path(__file__).parent / "specs"


def names() -> list[str]:
    return sorted(STUDY_MODULES)


def get(name: str) -> Study:
    if name not in STUDY_MODULES:
        raise SpecError(f"unknown study {name!r}; known studies: {', '.join(names())}")
    return importlib.import_module(STUDY_MODULES[name]).STUDY


def presets(name: str) -> list[str]:
    return sorted(p.name[len(name) + 1:-len(".toml")] for p in SPEC_DIR.glob(f"{name}.*.toml"))


def preset_spec(name: str, preset: str) -> dict:
    get(name)
    path = SPEC_DIR / f"{name}.{preset}.toml"
    if not path.is_file():
        raise SpecError(f"unknown preset {preset!r} for study {name!r}; presets: {', '.join(presets(name))}")
    spec = load_toml(path)
    if spec.get("study") != name:
        raise SpecError(f"preset file {path} names study {spec.get('study')!r}, expected {name!r}")
    return spec
