"""Analysis fields of the ``case_studies`` study (it has no trials of its own)."""
from __future__ import annotations

from dataclasses import dataclass

from ...analysis.fields import BootstrapFields
from ...sweep.spec import field
from ..three_regime.fields import CKA_COLUMNS


@dataclass
class CaseStudiesAnalysis(BootstrapFields):
    barrier_threshold: float | None = field(None, "Regime I where the mode connectivity is below -barrier_threshold; "
                                                  "null: the source run's regimes (its [analysis])", low=0)
    cka_threshold: float | None = field(None, "CKA above which well-connected rows are II-B; null: the source "
                                              "run's regimes", low=0, high=1)
    regime_cka: str = field("cka_output", "the CKA of the regimes where a threshold is set here", choices=CKA_COLUMNS)
