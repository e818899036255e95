"""``summary.md`` and the figures of one run directory.

Everything is read from the tidy table (the store of record), so a report can be redrawn at any
time. A study that analyses another study's stored trials draws from the table of its ``source``
directories; its own directory holds no trials.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from .. import catalog
from ..analysis.agreement import agreement_from_points, agreement_row
from ..results.files import atomic_write_text
from ..results.store import Store
from ..results.table import load_run
from ..sweep.study import source_dirs


def study_table(study, spec: dict, directory: Path) -> pd.DataFrame:
    """The table a study's summary and figures read: its own rows, or its sources' rows."""
    if study.source_study is None:
        return load_run(directory)
    frames = [load_run(p) for p in source_dirs(spec)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()


def report_run(directory) -> dict:
    """Draw one run directory's figures and write its summary; returns what was made."""
    directory = Path(directory)
    store = Store.open(directory)
    try:
        study_row = store.study()
        trials = store.trials()
        runs = store.runs()
    finally:
        store.close()
    study = catalog.get(study_row["name"])
    spec = study_row["spec"]
    analysis = spec["analysis"]
    table = study_table(study, spec, directory)
    failed = [t for t in trials if t["status"] != "done"]
    lines = [f"# {study.name}", "", study.description, ""]
    if study.source_study is not None:
        lines += [f"Reads the stored trials of {', '.join(str(p) for p in source_dirs(spec))} "
                  f"({study.source_study}).", ""]
    figures = []
    if table.empty:
        lines += ["No finished trials yet."]
        summary = []
    else:
        summary = study.summarize(table, analysis)
        figures = study.figures(table, analysis, directory / "figures")
        lines += summary + [""]
        lines += ["## Figures", ""] + [f"- [{p.name}](figures/{p.name})" for p in figures if p.suffix == ".pdf"]
        lines += [""] + [f"![{p.stem}](figures/{p.name})" for p in figures if p.suffix == ".png"]
    if study.source_study is None:
        lines += ["", "## Trials", "", f"{len(trials) - len(failed)} done, {len(failed)} failed."]
        for t in failed[:20]:
            lines.append(f"- {t['trial']}: {(t['reason'] or '').splitlines()[0] if t['reason'] else ''}")
    lines += ["", "## Spec", "", "```json", json.dumps(spec, indent=2, sort_keys=True), "```"]
    lines += ["", "## Provenance", ""]
    for r in runs:
        p = r["provenance"]
        lines.append(f"- run {r['run_id']}: {r['started']} to {r['ended'] or '(running)'} ({r['status']}), "
                     f"commit {p.get('commit')}, engine {p.get('engine')}, python {p.get('python')}")
    if runs:
        lines.append(f"- packages: {json.dumps(runs[-1]['provenance'].get('versions', {}), sort_keys=True)}")
    atomic_write_text(directory / "summary.md", "\n".join(lines) + "\n")

    if table.empty or study.source_study is not None:
        agreement = None
    elif study.theory_points is not None:
        agreement = agreement_from_points(study.name, study.theory_points(table, analysis))
    else:
        agreement = agreement_row(study.name, table, [f.name for f in dataclasses.fields(study.trial_fields)])
    return {"study": study.name, "directory": directory, "figures": figures, "summary": summary,
            "done": len(trials) - len(failed), "failed": len(failed), "agreement": agreement}
