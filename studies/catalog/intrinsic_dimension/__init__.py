"""The ``intrinsic_dimension`` study: how far can a student be pruned when its inputs lie on a
d-dimensional manifold in R^D? (Ankner, Renda, Dziugaite, Frankle and Jin, "The Effect of Data
Dimensionality on Neural Network Prunability", 2022, whose protocol is iterative magnitude pruning
with weight rewinding from the lottery-ticket line of work.)

- ``fields``: the trial fields (data, training recipe, student, pruning method and ladder), the recipes
  that fill the hyperparameters a spec leaves null, and the checks of a trial;
- ``run``: how a group of trials trains, prunes (one-shot, IMP with its re-initialisation and random
  baselines, random) and retrains as one ensemble, with convergence flags and theory columns;
- ``analysis``: prunability per condition, curve and tolerance with bootstrap intervals and the theory's
  line (the derived table ``prunability``), the verdict, the summary;
- ``figures``: prunability against d, the estimated d, d/D and the tolerance; error against density;
  the MLP first layer against theory.frozen_weights;
- ``presets/``: quick (the demo), paper, imp, confounds, generators, digits.
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
    tables={"prunability": analysis.prunability_table},
)
