"""The ``case_studies`` study: the three uses of the regime model (Zhou et al., ICML 2023, Sec. 5) --
which way to move the temperature, which model to prune, tuning the temperature for a target density --
measured on the stored trials of a ``three_regime`` run (its spec's ``source``), without training anything.

- ``fields``: the analysis fields;
- ``analysis``: the direction rule scored on held-out seeds, the selections and their regret, the summary;
- ``figures``: regret per target density;
- ``presets/``: quick (reads runs/three_regime-sam).
"""
from ...sweep.study import Study
from ..three_regime.fields import ThreeRegimeTrial
from . import analysis, fields, figures

STUDY = Study(name="case_studies",
              description="uses of the regime model: direction of the temperature, model selection, tuning for a "
                          "target density, on the stored trials of a three_regime run",
              trial_fields=ThreeRegimeTrial, analysis_fields=fields.CaseStudiesAnalysis,
              summarize=analysis.summarize, figures=figures.figures, source_study="three_regime")
