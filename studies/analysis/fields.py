"""Analysis-field groups shared by the studies' ``[analysis]`` dataclasses (as ``studies.trials.fields``
does for trial fields)."""
from __future__ import annotations

from dataclasses import dataclass

from ..sweep.spec import field


@dataclass
class BootstrapFields:
    """The percentile bootstrap over seeds behind every interval a summary reports."""

    n_bootstrap: int = field(1000, "bootstrap resamples over seeds", low=10)
    confidence: float = field(0.9, "coverage of the bootstrap intervals", low=0, high=1, low_open=True,
                              high_open=True)
