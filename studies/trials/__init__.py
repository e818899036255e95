"""What the trials of every study share.

- ``fields``: the trial-field groups declared once (data: generator and teacher; training: the recipe
  and its temperature knob) that a study's trial dataclass extends;
- ``data``: a trial's generator, teacher, samples and the classification error of an ensemble;
- ``temperature``: the value of a trial's temperature knob.
"""
