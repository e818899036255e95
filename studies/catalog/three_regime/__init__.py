"""The ``three_regime`` study: in the plane of a temperature-like knob of the dense model and a
load-like knob (the density of the pruned model), where does raising the temperature help pruning and
where does it hurt, and which of the three regimes is each point in? (Zhou, Yang, Chang and Mahoney,
"A Three-regime Model of Network Pruning", ICML 2023.)

- ``fields``: the trial fields, whose defaults are the paper's protocol in a teacher-student world;
- ``run``: one ensemble per group: dense runs (checkpoints of one run for the epochs knob), their
  pruned branches and retrained members, and the metrics between retrained pairs;
- ``analysis``: the regimes per row and per cell, their sensitivity to the thresholds, the temperature
  effect per load and its flips, the summary;
- ``figures``: the phase diagram;
- ``presets/``: quick (the demo), paper (a Fig. 2-class diagram), epochs, batch_size (at fixed iterations),
  lr, sam (case_studies reads it).

Derived tables (``prunelab export DIR --table NAME``): ``cells`` (per temperature and load, with the
regime), ``effect`` (per load), ``baseline_effect`` (the same effect on the unpruned models: the dense
model and the retrained control) and ``regime_sensitivity``.
"""
from ...sweep.study import Study
from . import analysis, figures, fields, run

STUDY = Study(name="three_regime",
              description="temperature x load phase diagram of pruning: test error, mode connectivity, CKA, "
                          "Regimes I / II-A / II-B and where raising the temperature helps or hurts",
              trial_fields=fields.ThreeRegimeTrial, analysis_fields=fields.ThreeRegimeAnalysis,
              check_trial=fields.check_trial, check_trials=fields.check_axes, group_key=run.group_key,
              run_group=run.run_group,
              summarize=analysis.summarize, figures=figures.figures, max_group_size=8,
              columns=analysis.columns,
              tables={"cells": analysis.cells, "effect": analysis.effect,
                      "baseline_effect": analysis.baseline_effect,
                      "regime_sensitivity": lambda table, a: analysis.sensitivity(analysis.cells(table, a), a)})
