"""Atomic file writes: every file prunelab produces is written to a temporary file in the target's
folder and renamed over the target, so a reader (or a crash) never sees half a file, and a failed
write leaves the previous version and no temporary file behind."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def atomic_write(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    The temporary name keeps the target's suffix (``.STEM.tmp.SUFFIX``), since some writers choose the
    format from it. On any failure the temporary file is removed and the error re-raised."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
