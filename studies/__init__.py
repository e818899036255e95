"""prunelab's studies: declarative sweeps from a spec to a stored table, figures and a report.

The pipeline, one folder per stage (docs/design.md):

- ``sweep/``: spec (fields, validation, trial names) -> plan (trials grouped into ensembles) ->
  engines (where the groups run) -> runner (the one writer of a results directory);
- ``trials/``: what the trials of every study share (field groups, data, temperature);
- ``results/``: the store of record (SQLite), the tidy table, status, atomic file writes;
- ``analysis/``: statistics over seeds, prunability, regimes, theory against simulation;
- ``plots/``: the paper style and the figure helpers;
- ``report/``: summary.md per run directory and index.md per tree;
- ``catalog/``: the named studies, one package each, found by the registry in ``catalog/__init__``;
- ``cli/``: the ``prunelab`` command line.

From a notebook::

    from studies import run, load
    table = run("intrinsic_dimension", "runs/id", preset="quick")   # a pandas DataFrame
    same = load("runs/id")
"""
from __future__ import annotations

__all__ = ["run", "load", "describe"]


def __getattr__(name: str):
    # the notebook API is imported on first use, so that `import studies.<stage>` stays light
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
