"""``prunelab report DIR``: every run directory under DIR gets its summary and figures
(:func:`studies.report.summary.report_run`); DIR gets ``index.md`` listing every study with its
figures, after a table of theory against simulation over all of them."""
from __future__ import annotations

from pathlib import Path

from ..analysis.agreement import agreement_lines
from ..results.files import atomic_write_text
from ..results.store import StoreError
from ..results.table import run_dirs
from .summary import report_run


def report(root) -> list[dict]:
    root = Path(root)
    made = [report_run(d) for d in run_dirs(root)]
    if not made:
        raise StoreError(f"no results database under {root}")
    lines = ["# prunelab report", "", "## Theory against simulation", "",
             "Deviation of the seed-averaged test error from the theory's prediction, in standard errors over seeds "
             "(per study, over every condition and sparsity level with a prediction).", ""]
    lines += agreement_lines([m["agreement"] for m in made if m["agreement"]]) + [""]
    for m in made:
        rel = m["directory"].relative_to(root).as_posix() if m["directory"] != root else "."
        counts = (f"{m['done']} trials done, {m['failed']} failed; " if m["done"] or m["failed"] else "")
        lines += [f"## {m['study']} ({rel})", "", f"{counts}[summary]({rel}/summary.md)", ""]
        lines += [f"![{p.stem}]({rel}/figures/{p.name})" for p in m["figures"] if p.suffix == ".png"] + [""]
    atomic_write_text(root / "index.md", "\n".join(lines) + "\n")
    return made
