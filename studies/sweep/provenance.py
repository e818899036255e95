"""Provenance of a run: code version, package versions, machine, command line."""
from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("prunelab", "numpy", "scipy", "torch", "scikit-learn", "sympy", "matplotlib", "pandas",
            "scikit-dimension", "dask", "distributed")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def git_commit() -> str:
    """The commit of the source tree the code was imported from, with ``+dirty`` for local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def collect(**extra) -> dict:
    return {
        "commit": git_commit(), "versions": versions(), "python": sys.version.split()[0],
        "platform": platform.platform(), "machine": platform.machine(), "argv": sys.argv, **extra,
    }
