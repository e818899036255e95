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


def check_output_file(path) -> Path:
    """Refuse, before any work, an output path that cannot be written: a directory, or one whose folder
    does not exist or is not writable. The message names the path and what is wrong."""
    path = Path(path)
    if path.is_dir():
        raise OSError(f"--output {path} is a directory; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OSError(f"--output {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise OSError(f"--output {path}: the folder {folder} is not writable")
    return path
