"""Analysis fields of the ``case_studies`` study (it has no trials of its own)."""
from __future__ import annotations

from dataclasses import dataclass

from ...sweep.spec import field


@dataclass
class CaseStudiesAnalysis:
    barrier_threshold: float | None = field(None, "LMC barrier threshold of Regime I (null: fitted)")
    cka_threshold: float | None = field(None, "CKA threshold of II-B (null: fitted)")
    n_bootstrap: int = field(1000, "bootstrap resamples over seeds")
    confidence: float = field(0.9, "coverage of the bootstrap intervals")
