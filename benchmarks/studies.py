"""A named study preset run by the engine against each of its trials trained alone, side by side.

The same trials (a preset's plan, or its first ``--limit`` trials) three ways, in one run:

(a) per trial: every trial trained alone, one after the other (groups of one, in this process): what
    a loop over trials costs;
(b) engine: the plan's groups (trials of one shape batched into one ensemble, a large group split
    into parts by the plan) on ``LocalEngine(workers=1)``;
(c) engine on ``LocalEngine(workers=N)`` for each further N of ``--workers`` (worker processes, one
    group each, one torch thread each).

Each line gives the wall-clock seconds and the CPU seconds (this process and its worker processes),
and the ratios to the per-trial run; the last column compares the trials' numbers with the per-trial
run (largest absolute difference of any row value, e.g. a test error: batching changes the rounding
of the products only). Ratios of one run are the point: the machine is shared.

    python benchmarks/studies.py STUDY PRESET [--limit N] [--workers 1,2] [--skip-alone] [--json] [--record]
    python benchmarks/studies.py SPEC.toml [...]

e.g. ``python benchmarks/studies.py three_regime quick`` or ``intrinsic_dimension paper --limit 24``; a
spec file instead of a study and preset times that spec.
``--record`` appends the run to benchmarks/RESULTS.md; ``--json`` prints, as the last line, a JSON
object {study, preset, trials, groups, runs: [{name, workers, wall_s, cpu_s}]}.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.ensemble import machine  # noqa: E402
from studies import catalog  # noqa: E402
from studies.sweep.engines import LocalEngine  # noqa: E402
from studies.sweep.plan import plan  # noqa: E402
from studies.sweep.spec import load_toml  # noqa: E402

try:  # a checkout from before groups ran on one thread each: run this process on one too
    from studies.sweep.engines import GROUP_THREADS  # noqa: E402
except ImportError:  # pragma: no cover - older trees only
    GROUP_THREADS = 1
try:  # a checkout from before plans split their few large groups: none split
    from studies.sweep.plan import split_groups  # noqa: E402
except ImportError:  # pragma: no cover - older trees only
    def split_groups(groups):
        return groups


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the pool's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def limited(p, limit: int | None) -> list[list]:
    """The groups of the plan ``p``, or, with ``limit``, the groups the plan would make of its first
    ``limit`` trials (in spec order): grouped by the study's key, cut at ``max_group_size``, split
    as the plan splits."""
    if limit is None:
        return p.groups
    by_key: dict = {}
    for item in p.trials[:limit]:
        by_key.setdefault(p.study.group_key(item[1]), []).append(item)
    size = p.study.max_group_size
    return split_groups([m[i:i + size] for m in by_key.values() for i in range(0, len(m), size)])


def timed_run(study: str, groups: list[list], workers: int) -> tuple[float, float, dict]:
    """(wall s, CPU s, trial name -> outcome) of the groups on a local engine."""
    outcomes = {}
    wall, cpu = time.perf_counter(), _cpu_seconds()
    with LocalEngine(workers) as engine:
        for _, outs, _, _ in engine.map_groups(study, groups):
            outcomes.update({o.name: o for o in outs})
    return time.perf_counter() - wall, _cpu_seconds() - cpu, outcomes


def largest_difference(a: dict, b: dict) -> float:
    """Largest absolute difference of any number in the rows and results of trials done in both."""
    worst = 0.0
    for name, oa in a.items():
        ob = b.get(name)
        if ob is None or oa.status != "done" or ob.status != "done":
            continue
        pairs = [(oa.results, ob.results)] + list(zip(oa.rows, ob.rows))
        for ra, rb in pairs:
            for k, va in ra.items():
                vb = rb.get(k)
                if isinstance(va, float) and isinstance(vb, float) and math.isfinite(va) and math.isfinite(vb):
                    worst = max(worst, abs(va - vb))
    return worst


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", help="a named study, or a spec file (.toml)")
    ap.add_argument("preset", nargs="?", default=None, help="the study's preset (none for a spec file)")
    ap.add_argument("--limit", type=int, default=None, help="time only the plan's first N trials")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts for the engine runs")
    ap.add_argument("--skip-alone", action="store_true", help="leave out the per-trial run")
    ap.add_argument("--json", action="store_true", help="print a JSON object as the last line")
    ap.add_argument("--record", action="store_true", help="append the run to benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    args.command = "python benchmarks/studies.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.limit is not None and args.limit < 1:
        ap.error(f"--limit must be >= 1, got {args.limit}")
    workers = [int(w) for w in args.workers.split(",")]

    import torch

    torch.set_num_threads(GROUP_THREADS)
    if args.study.endswith(".toml"):
        spec = load_toml(args.study)
        args.study, args.preset = spec["study"], Path(args.study).name
    elif args.preset is None:
        ap.error("give a preset of the study, or a spec file")
    else:
        spec = catalog.preset_spec(args.study, args.preset)
    p = plan(spec)
    groups = limited(p, args.limit)
    trials = [t for g in groups for t in g]
    head = machine().split(", load")[0] + f", groups on {GROUP_THREADS} torch thread(s), load" + machine().split(", load")[1]
    print(head)
    print(f"{args.study} {args.preset}: {len(trials)} of {len(p.trials)} trials, {len(groups)} group(s) "
          f"(sizes {', '.join(str(len(g)) for g in groups)})")
    runs, reference = [], None
    if not args.skip_alone:
        wall, cpu, outs = timed_run(args.study, [[t] for t in trials], 1)
        reference = outs
        runs.append({"name": "per trial (groups of one)", "workers": 1, "wall_s": wall, "cpu_s": cpu,
                     "failed": sum(o.status != "done" for o in outs.values()), "max_diff": 0.0})
    for w in workers:
        wall, cpu, outs = timed_run(args.study, groups, w)
        runs.append({"name": "engine", "workers": w, "wall_s": wall, "cpu_s": cpu,
                     "failed": sum(o.status != "done" for o in outs.values()),
                     "max_diff": None if reference is None else largest_difference(reference, outs)})
    load_end = os.getloadavg()[0]
    base = runs[0]
    print(f"{'run':>26} {'workers':>7} {'wall s':>9} {'CPU s':>9} {'wall / per-trial':>16} "
          f"{'CPU / per-trial':>15} {'failed':>6} {'max diff':>9}")
    for r in runs:
        print(_line(r, base, "{:>26} {:>7} {:>9.1f} {:>9.1f} {:>16} {:>15} {:>6} {:>9}"))
    print(f"load average {load_end:.1f} at the end")
    out = {"study": args.study, "preset": args.preset, "trials": len(trials), "groups": len(groups), "runs": runs}
    if args.record:
        _record(head, args, trials, groups, p, runs, load_end)
    if args.json:
        print(json.dumps(out))
    return out


def _line(r, base, fmt):
    per_trial = base["name"].startswith("per trial")
    speed = (lambda k: f"{base[k] / r[k]:.2f}x faster" if per_trial and r[k] > 0 else "")
    diff = "" if r["max_diff"] is None else f"{r['max_diff']:.1e}"
    return fmt.format(r["name"], r["workers"], r["wall_s"], r["cpu_s"], speed("wall_s"), speed("cpu_s"),
                      r["failed"], diff)


def _record(head, args, trials, groups, p, runs, load_end):
    path = Path(__file__).with_name("RESULTS.md")
    limit = f", first {len(trials)} of {len(p.trials)} trials" if args.limit else f", {len(trials)} trials"
    lines = [f"\n### Run {time.strftime('%Y-%m-%d %H:%M')}: `{args.command}` ({args.study} {args.preset})"
             f"{limit}, {len(groups)} group(s); {head}, "
             f"{load_end:.1f} at the end\n\n",
             "| run | workers | wall s | CPU s | wall: per-trial / this | CPU: per-trial / this | failed | max diff |\n",
             "|---|---:|---:|---:|---:|---:|---:|---:|\n"]
    for r in runs:
        lines.append(_line(r, runs[0], "| {} | {} | {:.1f} | {:.1f} | {} | {} | {} | {} |") + "\n")
    with path.open("a") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
