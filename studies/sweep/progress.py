"""A one-line progress bar on stderr: trials done, failed, and an estimate of the time left."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, stream=None, enabled: bool = True):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = self.failed = 0
        self.start = time.monotonic()
        self._draw()

    def update(self, done: int = 0, failed: int = 0) -> None:
        self.done += done
        self.failed += failed
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        finished = self.done + self.failed
        frac = finished / self.total if self.total else 1.0
        width = 28
        bar = "#" * int(round(frac * width)) + "-" * (width - int(round(frac * width)))
        elapsed = time.monotonic() - self.start
        eta = "--:--" if finished == 0 else _clock(elapsed / finished * (self.total - finished))
        line = f"\r{self.label} [{bar}] {finished}/{self.total} trials, {self.failed} failed, left {eta}"
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write(f"  ({_clock(time.monotonic() - self.start)})\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
