"""The named studies: one package per study in this folder, found here without a list to keep.

A study package ``studies/catalog/NAME/`` defines ``STUDY`` (a :class:`studies.sweep.study.Study`)
in its ``__init__.py`` and keeps its presets as ``presets/PRESET.toml``. Adding a study is adding
such a folder (and its tests); docs/design.md shows a minimal one (``example``).
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ..sweep.spec import SpecError, load_toml
from ..sweep.study import Study

CATALOG_DIR = Path(__file__).parent


def names() -> list[str]:
    """Every study in the catalog (the folders holding an ``__init__.py``), sorted."""
    return sorted(p.name for p in CATALOG_DIR.iterdir()
                  if p.is_dir() and (p / "__init__.py").is_file() and not p.name.startswith("_"))


def get(name: str) -> Study:
    if not isinstance(name, str) or name not in names():
        raise SpecError(f"unknown study {name!r}; known studies: {', '.join(names())}")
    study = importlib.import_module(f"{__name__}.{name}").STUDY
    if study.name != name:
        raise SpecError(f"the study in {CATALOG_DIR / name} calls itself {study.name!r}, not {name!r}")
    return study


def preset_dir(name: str) -> Path:
    return CATALOG_DIR / name / "presets"


def presets(name: str) -> list[str]:
    return sorted(p.stem for p in preset_dir(name).glob("*.toml"))


def preset_path(name: str, preset: str) -> Path:
    get(name)
    path = preset_dir(name) / f"{preset}.toml"
    if not isinstance(preset, str) or not path.is_file():
        raise SpecError(f"unknown preset {preset!r} for study {name!r}; presets: {', '.join(presets(name)) or 'none'}")
    return path


def preset_spec(name: str, preset: str) -> dict:
    path = preset_path(name, preset)
    spec = load_toml(path)
    if spec.get("study") != name:
        raise SpecError(f"preset file {path} names study {spec.get('study')!r}, expected {name!r}")
    return spec
