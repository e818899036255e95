"""Figure helpers shared by every study: the paper style, column sizes, and one save function
that writes each figure as PDF and PNG (atomically)."""
from __future__ import annotations

import os
from pathlib import Path

STYLE = Path(__file__).with_name("prunelab.mplstyle")


def _pyplot():
    """pyplot on the headless Agg backend, imported on first use (it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


SIZES = {"single": (3.4, 2.5), "double": (7.0, 2.7), "double_tall": (7.0, 4.6)}


def new_figure(size: str = "single", ncols: int = 1, nrows: int = 1, **kwargs):
    """A figure in the paper style at a column width: ``single`` (3.4 in) or ``double`` (7 in).

    The style is applied for the whole process (matplotlib reads rc parameters when titles,
    colorbars and labels are drawn, not only when the figure is made)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    plt = _pyplot()
    plt.style.use(str(STYLE))
    return plt.subplots(nrows, ncols, figsize=SIZES[size], **kwargs)


def save(fig, stem) -> list[Path]:
    """Save ``fig`` as STEM.pdf and STEM.png; returns both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("pdf", "png"):
        path = stem.with_suffix(f".{ext}")
        tmp = path.with_name(f".{path.stem}.tmp.{ext}")
        fig.savefig(tmp, format=ext)
        os.replace(tmp, path)
        paths.append(path)
    _pyplot().close(fig)
    return paths
