"""From a spec to executed groups of trials.

- ``spec``: trial fields with their help text, spec validation, expansion into trials, trial names;
- ``study``: what a named study provides (:class:`~studies.sweep.study.Study`);
- ``describe``: every field of a study with its type, default and help, for ``prunelab describe``;
- ``plan``: the trials of a spec grouped into ensembles (a deterministic function of the spec);
- ``engines``: where groups run (this process, a process pool, a Dask cluster);
- ``runner``: runs a plan into a results directory as its one writer;
- ``progress``, ``provenance``: the progress line and what a run records about itself.
"""
