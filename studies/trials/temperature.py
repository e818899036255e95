"""The temperature of a trial: which hyperparameter plays it (``temperature_knob``) and its value.

Knobs (docs/design.md, "temperature"): ``langevin_T`` (the statistical-mechanics temperature of the
Gibbs measure exp(-E/T), E summed over examples), ``lr``, ``lr_over_batch`` (the SGD noise scale
lr / B), ``sam_rho``, ``epochs`` and ``batch_size`` (at a fixed number of iterations). A larger
value is hotter for every knob but ``epochs`` and ``batch_size``: training longer, or on larger
batches, is colder (Zhou et al., ICML 2023, Sec. 2), so analyses that ask what *raising* the
temperature does read those axes reversed (:data:`COLD_KNOBS`).
"""
from __future__ import annotations

KNOBS = ("epochs", "lr", "lr_over_batch", "langevin_T", "sam_rho", "batch_size")
COLD_KNOBS = ("epochs", "batch_size")  # a larger value of these knobs is a lower temperature


def temperature(t: dict) -> float:
    """The value of trial ``t``'s temperature knob."""
    knob = t["temperature_knob"]
    if knob not in KNOBS:
        raise ValueError(f"temperature_knob: {knob!r} is not allowed; choose one of {', '.join(KNOBS)}")
    if knob == "lr_over_batch":
        return t["lr"] / t["batch_size"]
    return float(t[knob])
