"""The ``gibbs_learning`` study: Gibbs learning of the teacher-student perceptron at finite N, by exact
Monte Carlo, next to the replica-symmetric learning curves of :mod:`theory.perceptron`.

Spherical weights (theory.perceptron; exact line moves or exact HMC) and Ising weights (theory.ising,
single-flip Metropolis, the first-order transition); pruned samples, one-shot and retrained on their
kept support, against theory.pruned_gibbs, and its temperature-density diagram.

- ``fields``: the trial fields (N, load, temperature, weights, sampler, chain lengths, pruning levels,
  retraining) and their checks;
- ``run``: every chain of a group in one batch of the sampler, with equilibrium diagnostics;
- ``analysis``: grid points, the theory's domain (finite size, equilibrium) and the agreement;
- ``figures``: error against the load with the theory, the pruned and retrained errors, the
  temperature-density diagram, the Ising jump from two starts;
- ``presets/``: quick (the demo), paper, pruned (two sizes), ising.
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
    # n_test = 0 skips the empirical test error (NaN by design)
    optional_columns=("test_error_empirical",),
)
