"""Trial and analysis fields of the ``hidden_manifold_learning`` study, and the checks of a trial."""
from __future__ import annotations

from dataclasses import dataclass

from ...analysis.fields import BootstrapFields
from ...sweep.spec import SpecError, field

ACTIVATIONS = ("tanh", "erf", "relu", "sign", "linear")
DEFAULT_LADDER = [0.2, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97]


@dataclass
class HiddenManifoldLearningTrial:
    activation: str = field("tanh", "activation f of the hidden manifold x = f(F z / sqrt(d))", choices=ACTIVATIONS)
    intrinsic_dim: int = field(20, "latent dimension d")
    ambient_dim: int = field(200, "input dimension D (the student's number of weights)")
    n_train: int = field(400, "number of training examples P (the learning-curve axis)")
    n_test: int = field(4000, "number of test examples")
    teacher: str = field("linear", "label function of the latent z: theta.z (linear) or sign(theta.z) (sign)",
                         choices=("linear", "sign"))
    noise_var: float = field(0.0, "variance of the Gaussian label noise (logistic: added before the sign)")
    loss: str = field("ridge", "student: closed-form ridge regression or logistic regression by gradient descent",
                      choices=("ridge", "logistic"))
    reg: float = field(0.1, "ridge penalty lambda on the summed loss: 1/2 sum (y - beta.x)^2 + reg/2 |beta|^2")
    solver: str = field("gd", "logistic: gd (full-batch gradient descent from w = 0, lr and epochs; at small reg it "
                        "stops far from the minimiser and is recorded unconverged) or newton (the minimiser of the "
                        "convex loss, models.logistic_fit: damped Newton to a decrement of 1e-12; the presets use "
                        "it, and the theory line describes it)", choices=("gd", "newton"))
    lr: float = field(2.0, "logistic, solver gd: learning rate of full-batch gradient descent")
    epochs: int = field(300, "logistic, solver gd: training epochs")
    retrain: bool = field(True, "retrain the pruned students with the mask fixed (ridge: exact refit on the kept "
                                "coordinates; logistic: retrain_epochs of gradient descent, or with solver newton "
                                "the exact minimiser on the kept coordinates)")
    retrain_epochs: int = field(100, "logistic, solver gd: epochs of retraining (and of the dense control)")
    sparsities: list[float] = field(DEFAULT_LADDER, "increasing one-shot magnitude-pruning ladder in (0, 1)")


@dataclass
class HiddenManifoldLearningAnalysis(BootstrapFields):
    tolerance: float = field(0.005, "prunability tolerance of logistic students: absolute classification error",
                             low=0)
    mse_tolerance: float = field(0.01, "prunability tolerance of ridge students: absolute test MSE (labels have "
                                       "variance about 1)", low=0)


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    if t["activation"] not in ACTIVATIONS:
        raise SpecError(f"activation: {t['activation']!r} is not allowed; choose one of {', '.join(ACTIVATIONS)}")
    for key in ("intrinsic_dim", "ambient_dim", "n_train", "epochs"):
        if t[key] < 1:
            raise SpecError(f"{key} must be >= 1, got {t[key]}")
    if t["n_test"] < 2:
        raise SpecError(f"n_test must be >= 2, got {t['n_test']}")
    if t["intrinsic_dim"] > t["ambient_dim"]:
        raise SpecError(f"intrinsic_dim must be <= ambient_dim, got intrinsic_dim={t['intrinsic_dim']} > "
                        f"ambient_dim={t['ambient_dim']}")
    for key in ("reg", "noise_var"):
        if not t[key] >= 0:
            raise SpecError(f"{key} must be >= 0, got {t[key]}")
    if not t["lr"] > 0:
        raise SpecError(f"lr must be > 0, got {t['lr']}")
    if t["retrain_epochs"] < 0:
        raise SpecError(f"retrain_epochs must be >= 0, got {t['retrain_epochs']}")
    if t["loss"] == "logistic" and t["solver"] == "newton" and not t["reg"] > 0:
        raise SpecError(f"reg must be > 0 for loss = 'logistic' with solver = 'newton' (the unregularised logistic "
                        f"loss of separable labels has no minimiser), got reg={t['reg']}")
    if t["loss"] == "logistic" and t["teacher"] != "sign":
        raise SpecError(f"loss = 'logistic' learns labels sign(theta.z): set teacher = 'sign', got teacher={t['teacher']!r}")
    s = t["sparsities"]
    if not s or any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be a non-empty increasing list in (0, 1), got {s}")
