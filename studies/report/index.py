"""``prunelab report DIR``: every run directory under DIR gets its summary and figures
(:func:`studies.report.summary.report_run`); DIR gets ``index.md`` listing every study with its
figures, after a table of theory against simulation over all of them."""
from __future__ import annotations

from pathlib import Path

from ..analysis.agreement import agreement_lines
from ..results.files import atomic_write_text
from ..results.store import StoreError
from ..results.table import READ_ERRORS, run_dirs
from ..sweep.spec import SpecError
from .summary import report_run


def report(root) -> tuple[list[dict], list[str]]:
    """Report every readable run directory under ``root``; returns what was made and one line per
    directory that could not be reported (its path and why), which index.md lists too."""
    root = Path(root)
    dirs = run_dirs(root)
    if not dirs:
        raise StoreError(f"no results database under {root}")
    made, problems = [], []
    for d in dirs:
        try:
            made.append(report_run(d))
        except READ_ERRORS + (SpecError,) as e:
            problems.append(f"{d}: {e}")
        except Exception as e:  # noqa: BLE001 - an analysis that fails names itself; the stored trials stay intact
            problems.append(f"{d}: its analysis failed ({type(e).__name__}: {e}); the stored trials are intact")
    lines = ["# prunelab report", "", "## Theory against simulation", "",
             "Deviation of the seed-averaged test error from the theory's prediction, in standard errors over seeds "
             "(per study, over every condition and sparsity level with a prediction).", ""]
    lines += agreement_lines([m["agreement"] for m in made if m["agreement"]]) + [""]
    for m in made:
        rel = m["directory"].relative_to(root).as_posix() if m["directory"] != root else "."
        counts = (f"{m['done']} trials done, {m['failed']} failed; " if m["done"] or m["failed"] else "")
        lines += [f"## {m['study']} ({rel})", "", f"{counts}[summary]({rel}/summary.md)", ""]
        lines += [f"![{p.stem}]({rel}/figures/{p.name})" for p in m["figures"] if p.suffix == ".png"] + [""]
    if problems:
        lines += ["## Not reported", ""] + [f"- {p}" for p in problems] + [""]
    atomic_write_text(root / "index.md", "\n".join(lines) + "\n")
    return made, problems
