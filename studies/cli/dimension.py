"""``prunelab dimension``: intrinsic-dimension estimates on the command line.

    prunelab dimension KIND --intrinsic-dim d --ambient-dim D [--n N] [--method twonn,mle] [--noise s]
                            [--seed k] [--option KEY=VALUE ...]
        sample a generator (manifolds.make_manifold) and print a CSV of estimates to stdout;
    prunelab dimension --file X.npy [--method ...]
        estimate the dimension of your own data (a 2-D numeric .npy array, rows are points);
    prunelab dimension calibrate [--out DIR] [--kinds ...] [--dims 2,4,8,16] [--method ...]
        estimated versus nominal d for each generator and method: DIR/calibration.csv and
        DIR/calibration.pdf/.png.

Bad input prints one line on stderr and returns exit status 2. The estimators and their known biases
are described in manifolds.dimension.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from pathlib import Path

import numpy as np

import manifolds

from ..results.files import atomic_write_text

DEFAULT_CALIBRATION_KINDS = ("linear", "hidden", "sphere", "torus", "roll", "random_mlp", "fourier")
DEFAULT_CALIBRATION_DIMS = "2,4,8,16"
DEFAULT_CALIBRATION_METHODS = "twonn,mle,gride"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``dimension`` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "dimension",
        help="estimate intrinsic dimensions (of a generator, of your .npy data, or calibrate the estimators)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", nargs="?", metavar="KIND|calibrate",
                   help=f"a generator kind ({', '.join(manifolds.MANIFOLD_KINDS)}) or 'calibrate'; omit with --file")
    p.add_argument("--file", help="a .npy file holding a 2-D numeric array (rows are points)")
    p.add_argument("--intrinsic-dim", type=int, help="latent dimension d of the generator")
    p.add_argument("--ambient-dim", type=int, help="ambient dimension D (calibrate: default 256)")
    p.add_argument("--n", type=int, help="number of points (default 4000)")
    p.add_argument("--method", help=f"comma-separated estimators from {', '.join(manifolds.DIMENSION_METHODS)} "
                                    f"(default twonn; calibrate: {DEFAULT_CALIBRATION_METHODS})")
    p.add_argument("--noise", type=float, default=0.0, help="off-manifold Gaussian noise std per coordinate (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generator and of the sample (default 0)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a generator option, e.g. --option activation=relu (repeatable)")
    p.add_argument("--kinds", help="calibrate: comma-separated generator kinds "
                                   f"(default {','.join(DEFAULT_CALIBRATION_KINDS)})")
    p.add_argument("--dims", help=f"calibrate: comma-separated nominal dimensions (default {DEFAULT_CALIBRATION_DIMS})")
    p.add_argument("--out", default="runs/dimension-calibration",
                   help="calibrate: output directory (default runs/dimension-calibration)")
    return p


def run(args) -> int:
    """Run the subcommand; returns the exit status (2 for bad input, with a message on stderr)."""
    try:
        if args.file is not None:
            if args.target is not None:
                raise ValueError(f"give either KIND|calibrate or --file, not both (got {args.target!r} and --file)")
            return _run_file(args)
        if args.target is None:
            raise ValueError("give a generator kind, 'calibrate', or --file X.npy")
        if args.target == "calibrate":
            return _run_calibrate(args)
        return _run_kind(args)
    except (ValueError, OSError) as err:
        print(f"prunelab dimension: error: {err}", file=sys.stderr)
        return 2


def _split(text: str, name: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise ValueError(f"{name} must be a comma-separated list, got {text!r}")
    return items


def _methods(text: str | None, default: str) -> list[str]:
    methods = _split(text or default, "--method")
    for m in methods:
        if m not in manifolds.DIMENSION_METHODS:
            raise ValueError(f"--method must name methods from {', '.join(manifolds.DIMENSION_METHODS)}; got {m!r}")
    return methods


def _value(text: str):
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option must look like KEY=VALUE, got {pair!r}")
        options[key.strip().replace("-", "_")] = _value(value.strip())
    return options


def _write_csv(rows: list[dict], stream) -> None:
    writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _run_kind(args) -> int:
    kind = args.target
    if kind not in manifolds.MANIFOLD_KINDS:
        raise ValueError(f"KIND must be one of {', '.join(manifolds.MANIFOLD_KINDS)} or 'calibrate'; got {kind!r}")
    for flag, value in (("--intrinsic-dim", args.intrinsic_dim), ("--ambient-dim", args.ambient_dim)):
        if value is None:
            raise ValueError(f"{flag} is required with KIND={kind!r}")
    methods = _methods(args.method, "twonn")
    n = 4000 if args.n is None else args.n
    check_sample_size(n, args.intrinsic_dim, args.ambient_dim)
    gen = manifolds.make_manifold(kind, args.intrinsic_dim, args.ambient_dim, noise=args.noise, seed=args.seed,
                                  **_options(args.option))
    X, _ = gen.sample(n, seed=args.seed)
    rows = [
        {"kind": kind, "intrinsic_dim": gen.intrinsic_dim, "ambient_dim": gen.ambient_dim, "n": n,
         "noise": gen.noise, "seed": args.seed, "method": m, "estimated_dim": f"{manifolds.estimate_dimension(X, m):.4f}"}
        for m in methods
    ]
    _write_csv(rows, sys.stdout)
    return 0


NPY_MAGIC = b"\x93NUMPY"
MAX_ENTRIES = 200_000_000  # numbers a generated sample (and its embedding) may hold: 1.6 GB in float64


def load_points(path: str) -> np.ndarray:
    """A 2-D numeric array from a .npy file (never unpickled); ValueError naming the file otherwise."""
    if not os.path.isfile(path):
        raise ValueError(f"--file must be an existing .npy file, got {path!r} (not found)")
    with open(path, "rb") as f:
        head = f.read(len(NPY_MAGIC))
    if head[:2] == b"PK":
        raise ValueError(f"--file {path!r} is an .npz archive; save one 2-D array with numpy.save and give that")
    if head != NPY_MAGIC:
        raise ValueError(f"--file {path!r} is not a .npy file (it does not start with numpy's .npy header); "
                         "save the points (rows) as a 2-D array with numpy.save")
    try:
        X = np.load(path, allow_pickle=False)
    except ValueError as err:  # an object array, which would need unpickling
        raise ValueError(f"--file {path!r} holds an array of Python objects, which is never unpickled; save a "
                         f"numeric array instead ({err})") from None
    except (EOFError, OSError) as err:
        raise ValueError(f"--file {path!r} is a damaged or truncated .npy file ({err})") from None
    return manifolds.check_data(X, name=f"the array in {path}")


def check_sample_size(n: int, intrinsic_dim: int, ambient_dim: int) -> None:
    """Refuse, before anything is allocated, a sample (n x D) or embedding (D x d) too large to hold."""
    for flag, value in (("--n", n), ("--intrinsic-dim", intrinsic_dim), ("--ambient-dim", ambient_dim)):
        if value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    entries = n * ambient_dim + ambient_dim * (intrinsic_dim + 1)
    if entries > MAX_ENTRIES:
        raise ValueError(f"--n {n} x --ambient-dim {ambient_dim} asks for {entries:,} numbers "
                         f"({entries * 8 / 2**30:.1f} GiB), more than the {MAX_ENTRIES:,} this command holds; "
                         "ask for fewer points or a smaller ambient dimension")


def _run_file(args) -> int:
    methods = _methods(args.method, "twonn")
    X = load_points(args.file)
    rows = [
        {"file": args.file, "n_points": X.shape[0], "n_features": X.shape[1], "method": m,
         "estimated_dim": f"{manifolds.estimate_dimension(X, m):.4f}"}
        for m in methods
    ]
    _write_csv(rows, sys.stdout)
    return 0


def _run_calibrate(args) -> int:
    methods = _methods(args.method, DEFAULT_CALIBRATION_METHODS)
    kinds = _split(args.kinds, "--kinds") if args.kinds else list(DEFAULT_CALIBRATION_KINDS)
    for k in kinds:
        if k not in manifolds.MANIFOLD_KINDS:
            raise ValueError(f"--kinds must name kinds from {', '.join(manifolds.MANIFOLD_KINDS)}; got {k!r}")
    try:
        dims = [int(s) for s in _split(args.dims or DEFAULT_CALIBRATION_DIMS, "--dims")]
    except ValueError:
        raise ValueError(f"--dims must be comma-separated integers, got {args.dims!r}") from None
    D = 256 if args.ambient_dim is None else args.ambient_dim
    n = 4000 if args.n is None else args.n
    check_sample_size(n, max(dims), D)
    records = manifolds.calibrate(kinds, dims, D, n, methods=methods, seed=args.seed, noise=args.noise)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [{**r._asdict(), "ambient_dim": D, "n": n, "noise": args.noise, "seed": args.seed} for r in records]
    buf = io.StringIO()
    _write_csv(rows, buf)
    csv_path = out / "calibration.csv"
    atomic_write_text(csv_path, buf.getvalue())
    figures = plot_calibration(records, out / "calibration", title=f"D = {D}, n = {n}, noise = {args.noise}")
    print(buf.getvalue(), end="")
    for path in [csv_path, *figures]:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def plot_calibration(records, stem, title: str = "") -> list[Path]:
    """Estimated versus nominal d, one panel per method, one line per generator; writes STEM.pdf/.png."""
    from ..plots.style import new_figure, save

    methods = list(dict.fromkeys(r.method for r in records))
    kinds = list(dict.fromkeys(r.kind for r in records))
    fig, axes = new_figure("double", ncols=len(methods), squeeze=False, sharey=True)
    axes = axes[0]
    dims = sorted({r.nominal_dim for r in records})
    grid = np.array([min(dims), max(dims)], dtype=float)
    for ax, method in zip(axes, methods):
        ax.fill_between(grid, 0.85 * grid, 1.15 * grid, color="0.9", lw=0, label="$\\pm$15%")
        ax.plot(grid, grid, color="0.4", lw=0.8, ls="--", label="estimate = d")
        for i, kind in enumerate(kinds):
            pts = sorted((r.nominal_dim, r.estimated_dim) for r in records if r.method == method and r.kind == kind)
            ax.plot(*zip(*pts), marker="o", ms=3, lw=1, color=f"C{i}", label=kind)
        ax.set_title(method)
        ax.set_xlabel("nominal intrinsic dimension d")
        ax.set_xticks(dims)
    axes[0].set_ylabel("estimated dimension")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, stem)
