"""The progress of a run on stderr: trials done, failed, and an estimate of the time left.

On a terminal it is one line redrawn in place; otherwise (a log file, a pipe) it writes plain lines
without carriage returns: one per tenth of the trials finished, one every ``LOG_EVERY_S`` seconds at
most in between, and one at the end.

A group runs as one ensemble, so the runner learns of its trials when the group ends. A study whose
group finishes its trials one after the other reports each with :func:`trial_finished`; when the group
runs in this process the bar moves per trial (in worker processes the call does nothing).
"""
from __future__ import annotations

import sys
import time

LOG_EVERY_S = 30.0
_sink = None  # the live bar of this process, if any


def trial_finished(n: int = 1) -> None:
    """Called by a study's ``run_group`` when it has finished ``n`` more of its trials."""
    if _sink is not None:
        _sink(n)


class Progress:
    def __init__(self, total: int, label: str, stream=None, enabled: bool = True):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = self.failed = self.partial = 0
        self.start = self.last_line = time.monotonic()
        self.last_tenth = -1
        self._draw(force=True)

    def __enter__(self):
        global _sink
        _sink = self.tick
        return self

    def __exit__(self, *exc):
        global _sink
        _sink = None
        self.close()
        return False

    def tick(self, n: int = 1) -> None:
        """Trials of the running group finished (not yet stored)."""
        self.partial += n
        self._draw()

    def update(self, done: int = 0, failed: int = 0) -> None:
        """A group's trials were stored."""
        self.done += done
        self.failed += failed
        self.partial = 0
        self._draw()

    def _line(self) -> str:
        finished = min(self.done + self.failed + self.partial, self.total)
        elapsed = time.monotonic() - self.start
        eta = "--:--" if finished == 0 else _clock(elapsed / finished * (self.total - finished))
        return f"{finished}/{self.total} trials, {self.failed} failed, {_clock(elapsed)} elapsed, left {eta}", finished

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        text, finished = self._line()
        if self.tty:
            frac = finished / self.total if self.total else 1.0
            width = 28
            bar = "#" * int(round(frac * width)) + "-" * (width - int(round(frac * width)))
            self.stream.write(f"\r{self.label} [{bar}] {text}")
        else:
            tenth = int(10 * finished / self.total) if self.total else 10
            if not (force or tenth > self.last_tenth or time.monotonic() - self.last_line >= LOG_EVERY_S):
                return
            self.stream.write(f"{self.label}: {text}\n")
            self.last_line, self.last_tenth = time.monotonic(), tenth
        self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write(f"  ({_clock(time.monotonic() - self.start)})\n")
        else:
            text, _ = self._line()
            self.stream.write(f"{self.label}: finished: {text}\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
