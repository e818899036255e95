"""The ``prunelab`` command line: demo, list, describe, run, status, report, export, dimension, theory.

Exit status: 0 when everything asked for was done; 1 when the command ran but some of it failed (a trial
of ``run``, an unreadable directory of ``status``, ``report`` or ``export``; the last lines say which and
where to look); 2 for bad input or a file that cannot be used, refused before any work starts, with one
line on stderr naming the argument or path and what is wrong (never a traceback); 130 when interrupted.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

from .. import catalog
from ..results.store import StoreError
from ..sweep.engines import EngineError
from ..sweep.plan import MAX_TRIALS
from ..sweep.spec import SpecError, load_toml
from . import dimension, theory_curves

USER_ERRORS = (SpecError, StoreError, EngineError, ValueError)
SUBCOMMANDS = {"dimension": dimension, "theory": theory_curves}  # commands defined in modules of their own


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prunelab", description="A synthetic-data testbed for the theory of neural-network pruning.")
    p.add_argument("--version", action="version", version=f"prunelab {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="run the quick studies and write their report (a few minutes on 2 cores)")
    d.add_argument("--out", default="runs/demo", help="results directory (default runs/demo)")

    sub.add_parser("list", help="list the named studies and their presets")

    de = sub.add_parser("describe", help="print every trial and analysis field of a study with its type, default "
                                         "and help, and its presets")
    de.add_argument("study", help="a study name (see `prunelab list`)")

    r = sub.add_parser("run", help="run a named study (or a TOML spec file) into a results directory")
    r.add_argument("study", help="a study name (see `prunelab list`) or a path to a spec .toml")
    r.add_argument("--preset", default="quick", help="preset of a named study (default quick)")
    r.add_argument("--out", help="results directory (default runs/NAME-PRESET)")
    r.add_argument("--resume", action="store_true", help="finish the missing trials of an existing results directory")
    r.add_argument("--source", action="append",
                   help="for a study that analyses another study's stored trials (case_studies): its results "
                        "directory (repeatable; replaces the spec's source)")
    r.add_argument("--engine", default="local", choices=("local", "dask"),
                   help="local: a process pool on this machine (default); dask: a Dask cluster")
    r.add_argument("--address", help="tcp://HOST:PORT of a running Dask scheduler (default: start a LocalCluster on loopback)")
    r.add_argument("--workers", type=int, default=1,
                   help="worker processes (default 1; capped at the number of groups and of cores)")
    r.add_argument("--max-trials", type=int, default=MAX_TRIALS,
                   help=f"refuse a spec of more trials than this (default {MAX_TRIALS:,}; a larger grid is usually a typo)")
    r.add_argument("--no-report", action="store_true", help="do not draw the figures at the end")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    st = sub.add_parser("status", help="show done / failed / pending trials of a results directory (also while it runs)")
    st.add_argument("dir")
    st.add_argument("--json", action="store_true", help="one JSON document: every directory's counts and state")

    rep = sub.add_parser("report", help="draw figures and write summaries for every study under DIR")
    rep.add_argument("dir")

    e = sub.add_parser("export", help="write the tidy table of every study under DIR")
    e.add_argument("dir")
    e.add_argument("--format", default="csv", choices=("csv", "parquet"))
    e.add_argument("--output", help="file to write (default: stdout)")
    e.add_argument("--table", help="a derived table of the studies that offer one (e.g. prunability), computed "
                                   "from the stored rows and [analysis]; default: the tidy table of every row")

    for mod in SUBCOMMANDS.values():
        mod.add_parser(sub)
    return p


def _version() -> str:
    try:
        return metadata.version("prunelab")
    except metadata.PackageNotFoundError:  # run from a source tree without installing it
        return "unknown (not installed)"


def _problems(problems: list[str], what: str) -> int:
    """Name every directory that could not be handled on stderr; 1 if there was one, else 0."""
    done = {"read": "read", "report": "reported"}[what]
    for line in problems:
        print(f"prunelab: cannot {what} {line}", file=sys.stderr)
    if problems:
        print(f"prunelab: {len(problems)} directory(ies) could not be {done}; the others were", file=sys.stderr)
    return 1 if problems else 0


def _print_results(made: list[dict]) -> None:
    for m in made:
        print(f"\n{m['study']}: {m['done']} trials done, {m['failed']} failed -> {m['directory']}")
        for p in m["figures"]:
            if p.suffix == ".png":
                print(f"  figure: {p}")
        print(f"  summary: {m['directory'] / 'summary.md'}")
        table = [line for line in m["summary"] if line.startswith("| ") or line.startswith("|---")]
        for line in table[:12]:
            print("  " + line)
        for line in m["summary"]:
            if "flip" in line and not line.startswith("|"):
                print("  " + line)


def cmd_run(args) -> int:
    from ..sweep.engines import make_engine
    from ..sweep.runner import run_spec

    target = args.study
    if target.endswith(".toml") or Path(target).is_file():
        spec = load_toml(target)
        default_out = Path("runs") / Path(target).stem
    else:
        spec = catalog.preset_spec(target, args.preset)
        default_out = Path("runs") / f"{target}-{args.preset}"
    if args.source:
        spec = {**spec, "source": args.source[0] if len(args.source) == 1 else args.source}

    out = Path(args.out) if args.out else default_out
    engine = make_engine(args.engine, workers=args.workers, address=args.address)
    run_spec(spec, out, resume=args.resume, progress=not args.quiet, engine=engine, max_trials=args.max_trials)
    failed = _report_failures(out)
    if not args.no_report:
        from ..report.index import report

        made, problems = report(out)
        _print_results(made)
        return 1 if _problems(problems, "report") or failed else 0
    return 1 if failed else 0


def _report_failures(out: Path) -> int:
    """Say how many trials of a run directory failed and where to read why; returns that number."""
    from ..results.status import directory_status

    s = directory_status(out)
    if s["failed"]:
        print(f"prunelab: {s['failed']} of {s['total']} trials failed in {out}; their reasons are in "
              f"{out / 'summary.md'} (prunelab report) and `prunelab status {out}`", file=sys.stderr)
    return s["failed"]


DEMO_STUDIES = ("intrinsic_dimension", "three_regime", "gibbs_learning")


def cmd_demo(args) -> int:
    from ..report.index import report
    from ..results.store import DB_NAME, Store
    from ..sweep.runner import run_spec

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise StoreError(f"--out {out} is a file; the demo writes a directory of run directories there")
    for name in DEMO_STUDIES:
        target = out / name
        resume = False
        if (target / DB_NAME).is_file():
            store = Store.open(target)
            existing = store.study()
            store.close()
            resume = existing is not None and existing["name"] == name  # a finished demo is re-reported
        run_spec(catalog.preset_spec(name, "quick"), target, resume=resume)
    failed = sum(_report_failures(out / name) for name in DEMO_STUDIES)
    made, problems = report(out)
    _print_results(made)
    print(f"\nindex: {out / 'index.md'}")
    return 1 if failed or _problems(problems, "report") else 0


def cmd_list(args) -> int:
    for name in catalog.names():
        study = catalog.get(name)
        print(f"{name}: {study.description} (presets: {', '.join(catalog.presets(name))})")
    return 0


def cmd_describe(args) -> int:
    from ..sweep.describe import describe_lines

    print("\n".join(describe_lines(catalog.get(args.study), catalog.presets(args.study))))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "describe":
            return cmd_describe(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "status":
            from ..results.status import tree_status

            statuses, problems = tree_status(args.dir)
            if args.json:
                doc = {"directories": [{**st, "directory": str(st["directory"])} for st in statuses],
                       "unreadable": problems}
                print(json.dumps(doc, indent=2))
            else:
                for st in statuses:
                    print(f"{st['directory']}: {st['study']}: {st['done']} done, {st['failed']} failed, "
                          f"{st['pending']} pending; {st['state']}")
            return _problems(problems, "read")
        if args.command == "report":
            from ..report.index import report

            made, problems = report(args.dir)
            _print_results(made)
            return _problems(problems, "report")
        if args.command == "export":
            from ..results.table import export

            _, problems = export(args.dir, args.format, args.output, table=args.table)
            return _problems(problems, "read")
        if args.command in SUBCOMMANDS:
            return SUBCOMMANDS[args.command].run(args)
        parser.error(f"unknown command {args.command!r}")
    except USER_ERRORS as e:
        print(f"prunelab: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        sys.stderr.close()
        return 0
    except OSError as e:  # a file the command cannot use: full disk, read-only, missing folder, permissions
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"prunelab: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except sqlite3.Error as e:
        print(f"prunelab: error: the results database cannot be used ({type(e).__name__}: {e})", file=sys.stderr)
        return 2
    except MemoryError:
        print("prunelab: error: out of memory; ask for smaller sizes", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("prunelab: interrupted; rerun with --resume to finish the missing trials", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
