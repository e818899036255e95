"""The ``hidden_manifold_learning`` study: learning curves of ridge and logistic students on
hidden-manifold data against the Gaussian-covariate-model prediction, and how far the learned students
can be pruned.

- ``fields``: the trial fields (activation, d, D, n_train, teacher, loss, ladder) and their checks;
- ``run``: dense students fitted at once, pruned and refitted with the mask fixed;
- ``analysis``: learning curves against the theory, prunability, the summary;
- ``figures``: learning curves and error against density;
- ``presets/``: quick, paper.
"""
from ...sweep.study import Study
from . import analysis, figures, fields, run

STUDY = Study(
    name="hidden_manifold_learning",
    description="ridge and logistic learning curves on hidden-manifold data against the Gaussian covariate "
                "model, and prunability of the learned students",
    trial_fields=fields.HiddenManifoldLearningTrial,
    analysis_fields=fields.HiddenManifoldLearningAnalysis,
    check_trial=fields.check_trial,
    group_key=run.group_key,
    run_group=run.run_group,
    max_group_size=16,
    summarize=analysis.summarize,
    figures=figures.figures,
    theory_points=analysis.theory_points,
)
