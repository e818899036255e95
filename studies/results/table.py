"""The tidy table: one row per trial and sparsity level, every trial field and measurement a column.

Read from the store of record (``results.sqlite``) of one run directory, or of every run directory
below a folder. Trial fields that are lists or tables (the ladder, generator options) are kept as
JSON text so the table stays flat.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from .files import atomic_write, check_output_file
from .store import DB_NAME, Store, StoreError

LEADING = ["study", "trial", "seed", "manifold", "intrinsic_dim", "ambient_dim", "n_train", "load",
           "temperature_knob", "temperature", "sparsity", "test_error", "train_error", "theory_test_error"]


def run_dirs(root) -> list[Path]:
    """Every run directory at or below ``root`` (a directory holding results.sqlite)."""
    root = Path(root)
    if not root.is_dir():
        raise StoreError(f"{root} is not a directory")
    return sorted(p.parent for p in root.rglob(DB_NAME))


def load_run(directory) -> pd.DataFrame:
    store = Store.open(directory)
    try:
        study = store.study()
        if study is None:
            raise StoreError(f"{directory} holds no study")
        trials = {t["trial"]: t for t in store.trials() if t["status"] == "done"}
        records = []
        for row in store.rows():
            t = trials.get(row["trial"])
            if t is None:
                continue
            fields = {k: (json.dumps(v, sort_keys=True) if isinstance(v, (list, dict)) else v) for k, v in t["fields"].items()}
            records.append({"study": study["name"], **fields, **t["results"], **row})
    finally:
        store.close()
    df = pd.DataFrame.from_records(records)
    if df.empty:
        return df
    for col in ("theory_test_error",):
        if col not in df:
            df[col] = float("nan")
    df = _derived_columns(df, study)
    first = [c for c in LEADING if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]].reset_index(drop=True)


def _derived_columns(df: pd.DataFrame, study: dict) -> pd.DataFrame:
    """The columns the study derives from its rows and its stored [analysis] (``Study.columns``)."""
    from .. import catalog

    if study["name"] not in catalog.names():
        return df
    derive = catalog.get(study["name"]).columns
    return df if derive is None else derive(df, study["spec"].get("analysis", {}))


# what reading one run directory can raise: a damaged or foreign database, an unreadable file
READ_ERRORS = (StoreError, sqlite3.Error, OSError, ValueError)


def load_all(root) -> pd.DataFrame:
    """The tidy table of every run directory under ``root``; the first unreadable one raises."""
    df, problems = load_tree(root, strict=True)
    return df


def load_tree(root, strict: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """The tidy table of every readable run directory under ``root``, and one line per directory that could
    not be read (its path and why); ``strict`` raises on the first instead."""
    dirs = run_dirs(root)
    if not dirs:
        raise StoreError(f"no results database ({DB_NAME}) under {root}")
    frames, problems = [], []
    for d in dirs:
        try:
            frames.append(load_run(d))
        except READ_ERRORS as e:
            if strict:
                raise
            problems.append(f"{d}: {e}")
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=LEADING), problems
    return pd.concat(frames, ignore_index=True, sort=False), problems


def derived_table(root, name: str) -> tuple[pd.DataFrame, list[str]]:
    """The derived table ``name`` (``Study.tables``) of every run directory under ``root`` whose study
    offers it, computed from the stored rows and the stored ``[analysis]``, with a ``directory`` column."""
    from .. import catalog

    frames, problems, offered = [], [], set()
    for d in run_dirs(root):
        try:
            stored = Store.existing(d)
            if stored is None:
                continue
            study = catalog.get(stored["name"])
            offered.update(study.tables)
            if name not in study.tables:
                continue
            rows = load_run(d)
            if not rows.empty:
                frames.append(study.tables[name](rows, stored["spec"]["analysis"]).assign(directory=str(d)))
        except READ_ERRORS as e:
            problems.append(f"{d}: {e}")
    if not frames and not problems:
        raise ValueError(f"--table {name!r}: no study under {root} offers it"
                         + (f"; tables there: {', '.join(sorted(offered))}" if offered else ""))
    return (pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()), problems


def export(root, fmt: str, output=None, table: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Write the tidy table of every readable study under ``root`` (or the derived ``table`` of the studies
    that offer it) as csv or parquet, to ``output`` or stdout; returns the table and the directories that
    could not be read. The output is checked before anything is read, and written atomically (a failed
    write leaves no file behind)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"--format must be csv or parquet, got {fmt!r}")
    if output is not None:
        check_output_file(output)
    df, problems = load_tree(root) if table is None else derived_table(root, table)
    if output is None:
        import sys

        if fmt == "csv":
            df.to_csv(sys.stdout, index=False)
        else:
            df.to_parquet(sys.stdout.buffer, index=False)
        return df, problems
    write = (lambda tmp: df.to_csv(tmp, index=False)) if fmt == "csv" else (lambda tmp: df.to_parquet(tmp, index=False))
    atomic_write(output, write)
    return df, problems
