"""The notebook API: run a study and get its tidy table, or load a stored one.

    from studies import run, load, describe
    df = run("intrinsic_dimension", "runs/id-quick", preset="quick")   # a named study and preset
    df = run("my_study.toml", "runs/mine")                            # a spec file
    df = run({"study": "gibbs_learning", "seeds": [0, 1],              # a spec as a dict (the TOML's
              "base": {"ambient_dim": 16}, "grid": {"alpha": [1.0, 2.0]}}, "runs/g")   # structure)
    df = load("runs/id-quick")                                         # the table of a stored run
    print(describe("three_regime"))                                    # its fields and presets

``run`` writes the same results directory as ``prunelab run`` (so the CLI's status, report and export
read it) and resumes a directory that already holds the same study (the missing trials run, the finished
ones are read back). The table has one row per trial and sparsity level (``studies.results.table``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import catalog
from .report.summary import study_table
from .results.store import DB_NAME, Store
from .results.table import load_run
from .sweep.describe import describe_lines
from .sweep.runner import run_spec
from .sweep.spec import SpecError, load_toml


def _spec(spec, preset: str | None) -> dict:
    if isinstance(spec, dict):
        if preset is not None:
            raise SpecError("preset: a spec given as a dict needs no preset (presets belong to named studies)")
        return spec
    if not isinstance(spec, (str, Path)):
        raise SpecError(f"spec: expected a study name, a TOML path or a dict, got {type(spec).__name__}")
    text = str(spec)
    if text.endswith(".toml") or Path(text).is_file():
        if preset is not None:
            raise SpecError(f"preset: {text} is a spec file; presets belong to named studies")
        return load_toml(text)
    return catalog.preset_spec(text, preset or "quick")


def run(spec, out, preset: str | None = None, engine=None, progress: bool = False) -> pd.DataFrame:
    """Run ``spec`` (a study name with ``preset``, default quick; a TOML path; or a dict) into the results
    directory ``out`` and return its tidy table. A directory already holding this study is resumed."""
    spec = _spec(spec, preset)
    out = Path(out)
    resume = (out / DB_NAME).is_file()
    run_spec(spec, out, resume=resume, progress=progress, engine=engine)
    return load(out)


def load(directory) -> pd.DataFrame:
    """The tidy table of a stored run (a study that analyses another study's trials: its sources' table)."""
    store = Store.open(directory)
    try:
        row = store.study()
    finally:
        store.close()
    if row is None:
        return load_run(directory)
    return study_table(catalog.get(row["name"]), row["spec"], Path(directory))


def describe(study: str) -> str:
    """Every trial and analysis field of a named study, with type, default and help, and its presets."""
    return "\n".join(describe_lines(catalog.get(study), catalog.presets(study)))
