"""``prunelab report DIR``: figures (PDF and PNG) and a markdown summary for every study under DIR.

Each run directory gets ``figures/`` and ``summary.md`` (the study's summary, its spec and its
provenance); DIR gets ``index.md`` listing every study with its figures. Everything is read from
the tidy table (the store of record), so a report can be redrawn at any time.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import registry
from .store import Store
from .table import load_run, run_dirs


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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
    study = registry.get(study_row["name"])
    analysis = study_row["spec"]["analysis"]
    table = load_run(directory)
    failed = [t for t in trials if t["status"] != "done"]
    lines = [f"# {study.name}", "", study.description, ""]
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
    lines += ["", "## Trials", "", f"{len(trials) - len(failed)} done, {len(failed)} failed."]
    for t in failed[:20]:
        lines.append(f"- {t['trial']}: {(t['reason'] or '').splitlines()[0] if t['reason'] else ''}")
    lines += ["", "## Spec", "", "```json", json.dumps(study_row["spec"], indent=2, sort_keys=True), "```"]
    lines += ["", "## Provenance", ""]
    for r in runs:
        p = r["provenance"]
        lines.append(f"- run {r['run_id']}: {r['started']} to {r['ended'] or '(running)'} ({r['status']}), "
                     f"commit {p.get('commit')}, engine {p.get('engine')}, python {p.get('python')}")
    if runs:
        lines.append(f"- packages: {json.dumps(runs[-1]['provenance'].get('versions', {}), sort_keys=True)}")
    _write(directory / "summary.md", "\n".join(lines) + "\n")
    import dataclasses

    from .agreement import agreement_from_points, agreement_row

    if table.empty:
        agreement = None
    elif study.theory_points is not None:
        agreement = agreement_from_points(study.name, study.theory_points(table, analysis))
    else:
        agreement = agreement_row(study.name, table, [f.name for f in dataclasses.fields(study.trial_fields)])
    return {"study": study.name, "directory": directory, "figures": figures, "summary": summary,
            "done": len(trials) - len(failed), "failed": len(failed), "agreement": agreement}


def report(root) -> list[dict]:
    root = Path(root)
    made = [report_run(d) for d in run_dirs(root)]
    if not made:
        from .store import StoreError
        raise StoreError(f"no results database under {root}")
    from .agreement import agreement_lines

    lines = ["# prunelab report", "", "## Theory against simulation", "",
             "Deviation of the seed-averaged test error from the theory's prediction, in standard errors over seeds "
             "(per study, over every condition and sparsity level with a prediction).", ""]
    lines += agreement_lines([m["agreement"] for m in made if m["agreement"]]) + [""]
    for m in made:
        rel = m["directory"].relative_to(root).as_posix() if m["directory"] != root else "."
        lines += [f"## {m['study']} ({rel})", "", f"{m['done']} trials done, {m['failed']} failed; "
                  f"[summary]({rel}/summary.md)", ""]
        lines += [f"![{p.stem}]({rel}/figures/{p.name})" for p in m["figures"] if p.suffix == ".png"] + [""]
    _write(root / "index.md", "\n".join(lines) + "\n")
    return made
