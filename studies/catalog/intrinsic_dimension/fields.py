"""Trial and analysis fields of the ``intrinsic_dimension`` study, the training recipes, and the checks of
a trial.

Recipes. The training hyperparameters left null (lr, epochs, batch_size, momentum, schedule,
retrain_epochs, standardize, max_train_error) come from the trial's ``recipe`` (:func:`recipe`):

- ``"plain"``: full-batch gradient descent at lr 2.0 for 300 epochs, no momentum, a constant rate,
  200 retraining epochs, raw inputs (the study's first protocol; its trials keep their names);
- ``"converged"``: momentum 0.9 with a cosine schedule to 0, so the dense model ends on a plateau.
  MLP: SGD with batches of min(100, n_train), lr 0.5, 30 epochs or more (at least 600 steps), inputs
  standardised by one global
  factor (``standardize = "global"``: the mean squared input coordinate is 1, so the scale of the inputs,
  and with it the effective step of the first layer, is the same at every d; a linear manifold's raw
  coordinates have variance d/D). Linear student: full batch, 300 epochs, raw inputs, and
  lr = 1 / lambda_max, lambda_max the largest eigenvalue of the training inputs' second moment divided
  by D (the curvature of the mse loss of w.x/sqrt(D); ``lr`` null is resolved from the data at run time);
- ``"auto"`` (default): plain for one-shot pruning, converged for IMP and random pruning.

A value set in the spec always wins over the recipe's. The values a trial ran with are stored in its
results (the columns of the same names in the table).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import manifolds

from ...analysis.fields import BootstrapFields
from ...sweep.spec import SpecError, field
from ...trials.data import check_data_fields, generator
from ...trials.fields import DataFields, TrainingFields, check_training_fields

DEFAULT_DENSITIES = [0.8, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.035, 0.025, 0.018, 0.013, 0.009, 0.006,
                     0.004, 0.003]
DEFAULT_LADDER = [round(1 - d, 6) for d in DEFAULT_DENSITIES]
PRUNING = ("one_shot", "imp", "random")
BASELINES = ("reinit", "random")
SCHEDULES = ("constant", "cosine", "step")
STANDARDIZE = ("none", "global", "coordinate")
RECIPES = ("auto", "plain", "converged")
CONVERGENCE_BOUND = 0.01  # dense train error of a converged member on generated (learnable) data
MIN_STEPS = 600  # the converged MLP recipe trains for at least this many steps (30 epochs of 2,000 examples)


@dataclass
class IntrinsicDimensionTrial(TrainingFields, DataFields):
    manifold: str = field(
        "linear", f"generator kind, one of {', '.join(manifolds.MANIFOLD_KINDS)}, or a finite data set: digits "
        "(scikit-learn's bundled 8 x 8 digits, standardised, even against odd digits; options positive = [...], "
        "labels = 'teacher') or file (manifold_options {path = 'X.npy', labels = 'y.npy'}; without labels a "
        "teacher labels the points); a data set's intrinsic_dim is not used and its ambient_dim is its own")
    ambient_dim: int = field(256, "embedding dimension D (the student's input size); a data set's own D", low=1)
    # the recipe's hyperparameters: null takes the recipe's value (module docstring)
    lr: float | None = field(None, "learning rate of the dense training (null: the recipe's)", low=0, low_open=True)
    epochs: int | None = field(None, "dense training epochs (null: the recipe's)", low=1)
    batch_size: int | None = field(
        None, "SGD batch size (null: the recipe's: full batch for plain and for linear students, min(100, n_train) "
              "for MLPs under the converged recipe; give n_train for full batch)", low=1)
    momentum: float | None = field(None, "heavy-ball momentum (null: the recipe's)", low=0, high=1, high_open=True)
    schedule: str | None = field(
        None, "learning-rate schedule over each run: constant, cosine (to 0) or step (x0.1 at 50% and 75% of the "
              "run) (null: the recipe's)", choices=(None,) + SCHEDULES)
    recipe: str = field("auto", "training recipe filling the null hyperparameters: plain (full-batch GD, lr 2, 300 "
                        "epochs), converged (momentum 0.9, cosine schedule; see `fields.recipe`), auto (plain for "
                        "one-shot pruning, converged for imp and random)", choices=RECIPES)
    standardize: str | None = field(
        None, "inputs standardised with training-set statistics: none, global (one factor: mean squared coordinate "
              "1), coordinate (each coordinate centred, unit variance) (null: the recipe's: global for MLPs under "
              "the converged recipe, none otherwise)", choices=(None,) + STANDARDIZE)
    max_train_error: float | None = field(
        None, "a dense member is converged if its final train error is at most this and its loss changed by at "
              "most 1% over the last tenth of training (null: 0.01 + label_noise for generated data; no bound on "
              "the error, the plateau alone, for data sets, which need not be separable, and for a linear student "
              "with the mse loss, whose least-squares fit misclassifies training points)", low=0, high=1)
    # the student
    student: str = field("linear", "student architecture", choices=("linear", "mlp"))
    hidden: int | list[int] = field(64, "hidden width(s) of the mlp student: an int (one layer) or a list of widths "
                                        "(one per layer)", low=1)
    # pruning
    pruning: str = field(
        "one_shot", "one_shot: magnitude masks of the trained dense model at every ladder point, measured as they "
        "are and after retraining with the mask fixed; imp: iterative magnitude pruning with weight rewinding "
        "(every round prunes imp_fraction of the remaining weights, rewinds to rewind_epoch and trains the rest "
        "of the run), with its baselines; random: random masks on the ladder of imp, rewound and trained the "
        "same way", choices=PRUNING)
    rewind_epoch: int = field(1, "imp and random: the epoch of the dense run every pruned round restarts from "
                                 "(0: the initialisation)", low=0)
    imp_fraction: float = field(0.2, "imp and random: fraction of the remaining weights pruned per round", low=0,
                                high=1, low_open=True, high_open=True)
    imp_rounds: int | None = field(None, "imp and random: rounds of the ladder (null: the fewest that reach "
                                         "imp_target)", low=1)
    imp_target: float = field(0.997, "imp and random: the sparsity the ladder reaches when imp_rounds is null",
                              low=0, high=1, low_open=True, high_open=True)
    imp_baselines: list[str] = field(
        list(BASELINES), "baselines trained at every round of imp: reinit (the IMP mask on fresh weights, Frankle "
        "and Carbin 2019), random (random masks with the IMP mask's count in every layer, on the rewind-point "
        "weights)")
    retrain_epochs: int | None = field(None, "one_shot: epochs of retraining with the mask fixed (and of the dense "
                                             "control) (null: the recipe's: 200 plain, the dense epochs converged)",
                                       low=0)
    retrain_lr_scaling: str = field(
        "curvature", "one_shot retraining learning rate: lr (constant), lr / density (inverse_density), or lr times "
        "the ratio of the dense to the pruned top Hessian eigenvalue (curvature): the step keeps its ratio to the "
        "curvature, which shrinks with the fan-in of a pruned student",
        choices=("constant", "inverse_density", "curvature"))
    sparsities: list[float] = field(DEFAULT_LADDER, "one_shot: increasing sparsity ladder in (0, 1)")
    prune_scope: str = field("global", "magnitude (and random) pruning scope", choices=("global", "layerwise"))
    dimension_method: str | None = field(
        "twonn", "estimator of the data's intrinsic dimension, one of manifolds.DIMENSION_METHODS ('none' or null: skip)")
    dimension_options: dict = field({}, "options of the dimension estimator, e.g. {n_neighbors = 10} for mle")


@dataclass
class IntrinsicDimensionAnalysis(BootstrapFields):
    tolerance: float = field(0.005, "absolute test-error tolerance of prunability (the headline tolerance of the "
                                    "figures)", low=0)
    tolerances: list[float] = field([], "more absolute tolerances for the prunability table and the verdict", low=0)
    relative_tolerances: list[float] = field(
        [], "relative tolerances: a pruned model may lose this fraction of the dense error (error <= (1 + r) x "
            "the mean dense error)", low=0)


def widths(t: dict) -> tuple[int, ...]:
    """The MLP's hidden widths as a tuple (``hidden`` is an int or a list)."""
    h = t["hidden"]
    return (h,) if isinstance(h, int) else tuple(h)


def imp_ladder(t: dict) -> list[float]:
    """The sparsities of the imp and random ladders: s_r = 1 - (1 - f)^r, r = 1..R."""
    f = t["imp_fraction"]
    R = t["imp_rounds"] or math.ceil(math.log1p(-t["imp_target"]) / math.log1p(-f) - 1e-9)
    return [1.0 - (1.0 - f) ** r for r in range(1, R + 1)]


def ladder(t: dict) -> list[float]:
    """The pruned sparsities of a trial (without the dense 0)."""
    return list(t["sparsities"]) if t["pruning"] == "one_shot" else imp_ladder(t)


def recipe_name(t: dict) -> str:
    if t["recipe"] != "auto":
        return t["recipe"]
    return "plain" if t["pruning"] == "one_shot" else "converged"


def recipe(t: dict) -> dict:
    """The trial's effective hyperparameters: its own where set, the recipe's where null (module
    docstring). A linear student's converged lr is None here: it is resolved from the data at run time."""
    name = recipe_name(t)
    mlp = t["student"] == "mlp"
    if name == "plain":
        base = dict(lr=2.0, epochs=300, batch_size=None, momentum=0.0, schedule="constant", retrain_epochs=200,
                    standardize="none")
    elif mlp:
        batch = min(100, t["n_train"]) if t.get("batch_size") is None else t["batch_size"]
        steps_per_epoch = math.ceil(t["n_train"] / batch)
        base = dict(lr=0.5, epochs=max(30, math.ceil(MIN_STEPS / steps_per_epoch)), batch_size=batch, momentum=0.9,
                    schedule="cosine", retrain_epochs=None, standardize="global")
    else:
        base = dict(lr=None, epochs=300, batch_size=None, momentum=0.9, schedule="cosine", retrain_epochs=None,
                    standardize="none")
    out = {k: (t[k] if t.get(k) is not None else v) for k, v in base.items()}
    if out["retrain_epochs"] is None:
        out["retrain_epochs"] = out["epochs"]
    bound = t.get("max_train_error")
    if bound is None:
        # least squares of sign labels misclassifies training points like test points: a linear mse student
        # is judged by its loss plateau alone, as is any student of a data set (which need not be separable)
        fits = not manifolds.is_dataset(t["manifold"]) and not (t["student"] == "linear" and t["loss"] == "mse")
        bound = min(1.0, CONVERGENCE_BOUND + t["label_noise"]) if fits else 1.0
    out["max_train_error"] = bound
    out["recipe"] = name
    return out


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    check_data_fields(t)
    r = recipe(t)
    check_training_fields({**t, **r, "lr": r["lr"] or 1.0})
    method = t["dimension_method"]
    if method not in (None, "none"):
        if method not in manifolds.DIMENSION_METHODS:
            raise SpecError(f"dimension_method: {method!r} is not allowed; choose one of "
                            f"{', '.join(map(repr, manifolds.DIMENSION_METHODS))} or 'none'")
        try:
            manifolds.check_dimension_options(method, t["dimension_options"])
        except ValueError as e:
            raise SpecError(f"dimension_options: {e}") from None
    elif t["dimension_options"]:
        raise SpecError(f"dimension_options {t['dimension_options']} are set but dimension_method is {method!r}")
    h = widths(t)
    if not h or any(x < 1 for x in h):
        raise SpecError(f"hidden must be an int >= 1 or a non-empty list of them, got {t['hidden']}")
    if r["retrain_epochs"] < 0:
        raise SpecError(f"retrain_epochs must be >= 0, got {r['retrain_epochs']}")
    s = t["sparsities"]
    if not s or any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be a non-empty increasing list in (0, 1), got {s}")
    bad = [b for b in t["imp_baselines"] if b not in BASELINES]
    if bad or len(set(t["imp_baselines"])) != len(t["imp_baselines"]):
        raise SpecError(f"imp_baselines: {t['imp_baselines']} is not allowed; give distinct names among "
                        f"{', '.join(map(repr, BASELINES))} (or [] for none)")
    if t["pruning"] != "one_shot":
        if t["rewind_epoch"] > r["epochs"]:
            raise SpecError(f"rewind_epoch must be <= epochs ({r['epochs']}), got {t['rewind_epoch']}")
        if len(imp_ladder(t)) > 200:
            raise SpecError(f"the imp ladder has {len(imp_ladder(t))} rounds; raise imp_fraction or lower imp_target "
                            "(at most 200 rounds)")
    if manifolds.is_dataset(t["manifold"]):
        D = generator(t).ambient_dim
        if t["ambient_dim"] not in (D, DataFields.ambient_dim):
            raise SpecError(f"ambient_dim comes from the data: {t['manifold']} has D = {D}; leave ambient_dim unset "
                            f"(got {t['ambient_dim']})")
