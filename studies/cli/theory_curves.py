"""``prunelab theory NAME``: print (and optionally plot) an analytical learning curve.

    prunelab theory gibbs --alpha 0.1:10:200 --temperature 0,0.5,1 --format csv
    prunelab theory ridge --alpha 0.5,1,2 --noise-var 0.25 --reg 0.01 --format json
    prunelab theory hebb --alpha 1:50:50 --plot hebb.png

--alpha (and --temperature, --reg, --noise-var) take a list "0.5,1,2" or a range "START:STOP:N"
(N points, linearly spaced). Bad input gives a one-line message on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys

import numpy as np

from ..results.files import atomic_write

CURVES = {
    "gibbs": "Gibbs learning of the perceptron, error arccos(R)/pi (T = 0: version space)",
    "gibbs-training": "training error of the Gibbs perceptron at temperature T",
    "bayes": "Bayes-optimal perceptron error",
    "hebb": "Hebb-rule perceptron error",
    "pseudoinverse": "pseudo-inverse / least-squares perceptron error",
    "high-temperature": "high-temperature limit of Gibbs learning (uses alpha/T)",
    "ridge": "excess error |w - w*|^2/N of ridge / Langevin linear regression",
}


def parse_values(text: str, name: str) -> np.ndarray:
    """A list "a,b,c" or a range "start:stop:n" (n points, inclusive); the error names the option."""
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
            if n < 1:
                raise ValueError
            return np.linspace(start, stop, n)
        values = np.array([float(v) for v in text.split(",") if v.strip() != ""])
        if values.size == 0:
            raise ValueError
        return values
    except ValueError:
        raise ValueError(
            f"--{name} must be a list like '0.5,1,2' or a range 'START:STOP:N', got {text!r}"
        ) from None


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``theory`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "theory",
        help="print an analytical learning curve (gibbs, bayes, hebb, pseudoinverse, ridge, ...)",
        description="Print an analytical learning curve. Curves: "
        + "; ".join(f"{k}: {v}" for k, v in CURVES.items()),
    )
    p.add_argument("name", help=f"the curve: one of {', '.join(CURVES)}")
    p.add_argument("--alpha", required=True, help="loads P/N: a list '0.5,1,2' or a range 'START:STOP:N'")
    p.add_argument("--temperature", default="0", help="temperature(s) T (Gibbs measure exp(-E/T), E summed); default 0")
    p.add_argument("--noise-var", default="0", help="ridge: label-noise variance (default 0)")
    p.add_argument("--reg", default="0", help="ridge: ridge penalty reg (default 0, ridgeless)")
    p.add_argument("--format", default="csv", choices=("csv", "json"), help="output format (default csv)")
    p.add_argument("--plot", metavar="FILE", help="also draw the curve(s) into FILE (png, pdf, svg)")
    p.add_argument("--max-points", type=int, default=MAX_POINTS,
                   help=f"refuse more curve points than this (default {MAX_POINTS:,}: each point solves a saddle point)")
    return p


MAX_POINTS = 100_000


def _rows(args) -> tuple[list[dict], str]:
    from theory import perceptron, ridge

    name = args.name
    if name not in CURVES:
        raise ValueError(f"NAME must be one of {', '.join(CURVES)}, got {name!r}")
    alpha = parse_values(args.alpha, "alpha")
    temps = parse_values(args.temperature, "temperature")
    others = [parse_values(args.noise_var, "noise-var"), parse_values(args.reg, "reg")] if name == "ridge" else []
    points = len(alpha) * (len(temps) if name not in ("bayes", "hebb", "pseudoinverse") else 1)
    points *= int(np.prod([len(v) for v in others])) if others else 1
    if points > args.max_points:
        raise ValueError(f"the curve asks for {points:,} points, more than --max-points {args.max_points:,}; "
                         "ask for fewer (e.g. --alpha START:STOP:200) or raise --max-points")
    rows: list[dict] = []
    if name == "ridge":
        noise, regs = others
        for s2 in noise:
            for lam in regs:
                for T in temps:
                    values = np.atleast_1d(ridge.excess_error(alpha, s2, lam, T))
                    rows += [dict(alpha=a, temperature=T, noise_var=s2, reg=lam, excess_error=v)
                             for a, v in zip(alpha, values)]
        return rows, "excess_error"
    if name in ("bayes", "hebb", "pseudoinverse"):
        fn = {"bayes": perceptron.bayes_error, "hebb": perceptron.hebb_error,
              "pseudoinverse": perceptron.pseudoinverse_error}[name]
        return [dict(alpha=a, error=v) for a, v in zip(alpha, np.atleast_1d(fn(alpha)))], "error"
    for T in temps:
        if name == "gibbs":
            values = perceptron.gibbs_error(alpha, T)
        elif name == "gibbs-training":
            values = perceptron.gibbs_training_error(alpha, T)
        else:
            if T <= 0:
                raise ValueError(f"--temperature must be > 0 for high-temperature, got {T!r}")
            values = perceptron.high_temperature_error(alpha / T)
        rows += [dict(alpha=a, temperature=T, error=v) for a, v in zip(alpha, np.atleast_1d(values))]
    return rows, "error"


def _plot(rows: list[dict], value: str, name: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in rows[0] if k not in ("alpha", value)]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for key, rs in groups.items():
        label = ", ".join(f"{k}={v:g}" for k, v in zip(keys, key)) or None
        ax.plot([r["alpha"] for r in rs], [r[value] for r in rs], label=label)
    ax.set_xlabel("alpha = P/N")
    ax.set_ylabel(value.replace("_", " "))
    ax.set_title(name)
    if len(groups) > 1:
        ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp))
    plt.close(fig)


def run(args) -> int:
    """Run the ``theory`` subcommand; returns the exit status (2 on bad input, message on stderr)."""
    from theory import SaddlePointError

    try:
        rows, value = _rows(args)
        if args.plot:
            _plot(rows, value, args.name, args.plot)
    except (ValueError, SaddlePointError, OSError) as e:
        print(f"prunelab theory: error: {e}", file=sys.stderr)
        return 2
    rows = [{k: float(v) for k, v in r.items()} for r in rows]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: repr(v) for k, v in r.items()})
    return 0
