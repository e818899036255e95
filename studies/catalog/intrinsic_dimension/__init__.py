"""The ``intrinsic_dimension`` study: how far can a student be pruned when its inputs lie on a
d-dimensional manifold in R^D? (Ankner, Renda, Dziugaite, Frankle and Jin, "The Effect of Data
Dimensionality on Neural Network Prunability", 2022.)

- ``fields``: the trial fields (data, training recipe, student, pruning ladder) and their checks;
- ``run``: how a group of trials trains, prunes and retrains as one ensemble;
- ``analysis``: prunability per condition with intervals and the theory's prediction, the summary;
- ``figures``: prunability against d, the estimated d and d/D; error against density;
- ``presets/``: quick (the demo), paper, generators.
"""
from ...sweep.study import Study
from . import analysis, figures, fields, run

STUDY = Study(
    name="intrinsic_dimension",
    description="prunability of students trained on data of intrinsic dimension d embedded in R^D",
    trial_fields=fields.IntrinsicDimensionTrial,
    analysis_fields=fields.IntrinsicDimensionAnalysis,
    check_trial=fields.check_trial,
    group_key=run.group_key,
    run_group=run.run_group,
    summarize=analysis.summarize,
    figures=figures.figures,
)
