"""The ``three_regime`` study: in the plane of a temperature-like knob of the dense model and a
load-like knob (the density of the pruned model), where does raising the temperature help pruning and
where does it hurt? (Zhou, Yang, Chang and Mahoney, "A Three-regime Model of Network Pruning", ICML 2023.)

- ``fields``: the trial fields (data, dense recipe and its temperature knob, load axis, retraining);
- ``run``: one ensemble per group: dense members, their pruned branches and retrained members;
- ``analysis``: the phase-diagram cells, regimes, temperature effect and its flips; the summary;
- ``figures``: the phase diagram;
- ``presets/``: quick (the demo).
"""
from ...sweep.study import Study
from . import analysis, figures, fields, run

STUDY = Study(name="three_regime",
              description="temperature x load phase diagram of pruning: test error, LMC barrier, CKA and regimes",
              trial_fields=fields.ThreeRegimeTrial, analysis_fields=fields.ThreeRegimeAnalysis,
              check_trial=fields.check_trial, group_key=run.group_key, run_group=run.run_group,
              summarize=analysis.summarize, figures=figures.figures)
