"""Figure helpers shared by every study: the paper style, column sizes, log axes without crowded
minor labels, and one save function that writes each figure as PDF and PNG (atomically)."""
from __future__ import annotations

from pathlib import Path

from ..results.files import atomic_write

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
        paths.append(atomic_write(stem.with_suffix(f".{ext}"), lambda tmp: fig.savefig(tmp, format=ext)))
    _pyplot().close(fig)
    return paths


def log_axes(ax, x: bool = True, y: bool = True, base: float = 10) -> None:
    """Log scales without the crowded minor-tick labels matplotlib puts on short decades."""
    from matplotlib.ticker import LogLocator, NullFormatter

    if x:
        ax.set_xscale("log", base=base)
        if base != 10:
            ax.xaxis.set_major_locator(LogLocator(base=base))
            ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
        ax.xaxis.set_minor_formatter(NullFormatter())
    if y:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
