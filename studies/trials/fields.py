"""Trial-field groups declared once and shared by the studies' trial dataclasses.

A study's trial fields are a dataclass (``studies.sweep.spec.field`` puts the help text beside each
field); a study that draws its data from a generator and a teacher, or trains a student with a recipe,
extends :class:`DataFields` and :class:`TrainingFields` instead of declaring those fields again. A
study whose defaults differ redeclares just the default with :func:`with_default`, which keeps the
field's type, help text and allowed values::

    @dataclass
    class MyTrial(TrainingFields, DataFields):
        ambient_dim: int = with_default(DataFields, "ambient_dim", 32)
        hidden: int = field(32, "hidden width")

Trials are named by their non-default fields (``studies.sweep.spec.trial_name``), so a default must
not change once a study has stored results under it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import manifolds

from ..sweep.spec import SpecError, field
from .temperature import KNOBS


def with_default(group, name: str, default):
    """Field ``name`` of ``group`` with another default (same help text, allowed values and range)."""
    f = {x.name: x for x in dataclasses.fields(group)}[name]
    low, high, low_open, high_open = f.metadata.get("range", (None, None, False, False))
    return field(default, f.metadata["help"], f.metadata.get("choices"), low=low, high=high,
                 low_open=low_open, high_open=high_open)


@dataclass
class DataFields:
    """A generator of inputs on a manifold (``manifolds.make_manifold``), a teacher on its latent
    coordinates (``manifolds.make_teacher``) and the sizes of the train and test sets."""

    manifold: str = field("linear", f"generator kind, one of {', '.join(manifolds.MANIFOLD_KINDS)}")
    manifold_options: dict = field({}, "extra generator options, e.g. {activation = 'tanh'}")
    intrinsic_dim: int = field(8, "latent dimension d of the generator", low=1)
    ambient_dim: int = field(256, "embedding dimension D (the student's input size)", low=1)
    noise: float = field(0.0, "std of isotropic off-manifold Gaussian noise per ambient coordinate", low=0)
    teacher: str = field("perceptron", "label function of the latent coordinates, one of "
                         f"{', '.join(manifolds.TEACHER_KINDS)}")
    teacher_options: dict = field({}, "extra teacher options, e.g. {n_hidden = 4} for a committee")
    label_noise: float = field(0.0, "probability that a training label is flipped (lowers the effective load)",
                               low=0, high=0.5)
    n_train: int = field(2000, "number of training examples P", low=1)
    n_test: int = field(4000, "number of test examples (clean labels)", low=1)


@dataclass
class TrainingFields:
    """The dense training recipe and which of its hyperparameters is reported as the temperature."""

    loss: str = field("logistic", "training loss", choices=("logistic", "hinge", "mse"))
    temperature_knob: str = field("lr", "which hyperparameter is reported as the temperature", choices=KNOBS)
    lr: float = field(2.0, "learning rate of the dense training", low=0, low_open=True)
    batch_size: int | None = field(None, "SGD batch size (null: full batch)", low=1)
    epochs: int = field(300, "dense training epochs", low=1)
    langevin_T: float = field(0.0, "Langevin temperature T (Gibbs measure exp(-E/T), E summed over examples; "
                                   "0: plain gradient descent)", low=0)
    sam_rho: float = field(0.0, "SAM radius rho (0: plain gradient)", low=0)
    weight_decay: float = field(0.0, "L2 weight decay lambda (adds lambda/2 |w|^2 to the mean loss)", low=0)


def check_training_fields(t: dict) -> None:
    """Range checks of the training group, shared by every study that extends it."""
    if t["epochs"] < 1:
        raise SpecError(f"epochs must be >= 1, got {t['epochs']}")
    if t["batch_size"] is not None and not 1 <= t["batch_size"] <= t["n_train"]:
        raise SpecError(f"batch_size must lie in [1, n_train={t['n_train']}], got {t['batch_size']}")
    if not t["lr"] > 0:
        raise SpecError(f"lr must be > 0, got {t['lr']}")
    for key in ("langevin_T", "sam_rho", "weight_decay"):
        if t[key] < 0:
            raise SpecError(f"{key} must be >= 0, got {t[key]}")
    if t["temperature_knob"] == "lr_over_batch" and t["batch_size"] is None:
        raise SpecError("temperature_knob = 'lr_over_batch' needs a batch_size")
