"""``prunelab report``: ``summary.md`` and figures per run directory (``summary``), ``index.md`` with the
theory-against-simulation table for a tree of runs (``index``)."""
