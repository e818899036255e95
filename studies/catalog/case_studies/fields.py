"""Analysis fields of the ``case_studies`` study (it has no trials of its own)."""
from __future__ import annotations

from dataclasses import dataclass

from ...analysis.fields import BootstrapFields
from ...sweep.spec import field


@dataclass
class CaseStudiesAnalysis(BootstrapFields):
    barrier_threshold: float | None = field(None, "LMC barrier threshold of Regime I (null: fitted)", low=0)
    cka_threshold: float | None = field(None, "CKA threshold of II-B (null: fitted)", low=0, high=1)
