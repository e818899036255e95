"""The ``gibbs_learning`` study: Gibbs learning of the teacher-student perceptron at finite N, by exact
Monte Carlo, next to the replica-symmetric learning curves of :mod:`theory.perceptron`.

- ``fields``: the trial fields (N, load, temperature, chain lengths, pruning levels) and their checks;
- ``run``: every chain of a group in one batch of the exact sampler, with equilibrium diagnostics;
- ``analysis``: grid points, the theory's domain (finite size, equilibrium) and the agreement;
- ``figures``: error against the load with the theory, and after one-shot pruning;
- ``presets/``: quick (the demo), paper.
"""
from ...sweep.study import Study
from . import analysis, figures, fields, run

STUDY = Study(
    name="gibbs_learning",
    description="Gibbs learning of the teacher-student perceptron by exact Monte Carlo vs replica-symmetric theory",
    trial_fields=fields.GibbsLearningTrial,
    analysis_fields=fields.GibbsLearningAnalysis,
    check_trial=fields.check_trial,
    group_key=run.group_key,
    run_group=run.run_group,
    summarize=analysis.summarize,
    figures=figures.figures,
    theory_points=analysis.theory_points,
)
