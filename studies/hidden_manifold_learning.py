"""The ``hidden_manifold_learning`` study: learning curves of ridge and logistic students on
hidden-manifold data, against the Gaussian-covariate-model prediction, and how far the learned
students can be pruned.

Data (``manifolds.make_manifold("hidden", d, D, activation=f)``): x = f(F z / sqrt(d)), z ~ N(0, I_d).
Teacher on the latent coordinates: theta.z with theta a uniformly random unit vector (a
``PerceptronTeacher`` on z). Conventions, the ones of :func:`theory.hidden_manifold.hidden_manifold_ridge_mse`:

- The student sees the centred features x_c = x - kappa0 (kappa0 = E f(g), g ~ N(0, 1), the
  population mean of every coordinate) and predicts f(x) = beta.x_c, no bias. In the ensemble it is a
  linear student with w = sqrt(D) beta (``models``' 1/sqrt(D) convention); every coordinate of w is
  prunable, n_params = D.
- ``loss = "ridge"``: regression labels y = theta.z (teacher "linear") or sign(theta.z) (teacher
  "sign"), plus Gaussian noise of variance ``noise_var``; beta = argmin 1/2 sum_mu (y_mu - beta.x_mu)^2
  + reg/2 |beta|^2 (the sum, not the mean, over the P = n_train examples), solved in closed form
  (batched ``numpy.linalg.solve`` in float64; the minimum-norm interpolator, pinv, at reg = 0).
  test_error is the test MSE E (y - beta.x_c)^2 without a 1/2, against *noisy* test labels: the
  clean part is averaged over n_test fresh points and the label-noise part, noise_var, is added
  exactly (E over the test noise). This is the quantity the theory predicts.
- ``loss = "logistic"``: labels sign(theta.z + sqrt(noise_var) xi) for training (teacher must be
  "sign"), clean sign(theta.z) for testing; gradient descent on the mean logistic loss from w = 0 with
  weight decay reg / (P D) on w (the same penalty reg/2 |beta|^2 on the summed loss). test_error is
  the classification error. The Gaussian-covariate theory of logistic regression (Loureiro et al.
  2021) is not implemented: theory_test_error is NaN for these rows.

Pruning: one-shot global magnitude pruning of beta to every level of ``sparsities``; test_error of a
pruned row is after retraining with the mask fixed (ridge: the ridge solution restricted to the kept
coordinates, exact; logistic: ``retrain_epochs`` of gradient descent, and the sparsity-0 branch is a
dense control that gets the same extra training), test_error_one_shot before. theory_test_error is the
asymptotic deterministic equivalent (Marchenko-Pastur spectrum of F F^T / d) at sparsity 0 of ridge
rows, NaN elsewhere (no closed form in theory/pruning.py applies to pruned ridge estimators);
theory_test_error_exact_spectrum uses the spectrum of this trial's F (a finite-size prediction).
gaussian_equivalent_test_error, on every row, is the error that the Gaussian covariate model gives
to *this* student's weights: E (y - beta.x)^2 = Var y - 2 beta.c + beta' Omega beta with Omega =
kappa1^2 F F'/d + kappa_star^2 I, c = kappa1 mu1 F theta / sqrt(d) (ridge), or arccos(rho)/pi with rho
the student-teacher correlation under that model (logistic): a check of Gaussian equivalence for the
learned and the pruned students alike.

Temperature: the ridge estimator is the zero-temperature ground state of the Gibbs measure with energy
the penalised summed squared loss, so ridge rows record temperature_knob = "langevin_T",
temperature = 0; logistic rows record temperature_knob = "lr", temperature = lr.
load = n_train / n_params (n_train / D at sparsity 0), load_per_dim = n_train / d.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import torch

import manifolds
import models
from theory import hidden_manifold as hm_theory

from .spec import SpecError, field
from .study import Study, TrialOutcome, derive_seeds
from . import hidden_manifold_learning_report as report

ACTIVATIONS = ("tanh", "erf", "relu", "sign", "linear")
DEFAULT_LADDER = [0.2, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97]
STREAMS = ("manifold", "teacher", "train", "test", "noise", "order", "retrain")


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
    lr: float = field(2.0, "logistic: learning rate of full-batch gradient descent")
    epochs: int = field(300, "logistic: training epochs")
    retrain: bool = field(True, "retrain the pruned students with the mask fixed (ridge: exact refit on the kept "
                                "coordinates; logistic: retrain_epochs of gradient descent)")
    retrain_epochs: int = field(100, "logistic: epochs of retraining (and of the dense control)")
    sparsities: list[float] = field(DEFAULT_LADDER, "increasing one-shot magnitude-pruning ladder in (0, 1)")


@dataclass
class HiddenManifoldLearningAnalysis:
    tolerance: float = field(0.005, "prunability tolerance of logistic students: absolute classification error")
    mse_tolerance: float = field(0.01, "prunability tolerance of ridge students: absolute test MSE (labels have "
                                       "variance about 1)")
    n_bootstrap: int = field(1000, "bootstrap resamples over seeds")
    confidence: float = field(0.9, "coverage of the bootstrap interval")


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
    if t["loss"] == "logistic" and t["teacher"] != "sign":
        raise SpecError(f"loss = 'logistic' learns labels sign(theta.z): set teacher = 'sign', got teacher={t['teacher']!r}")
    s = t["sparsities"]
    if not s or any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be a non-empty increasing list in (0, 1), got {s}")


GROUP_FIELDS = ("loss", "ambient_dim", "n_train", "n_test", "epochs", "retrain", "retrain_epochs")


def group_key(t: dict) -> tuple:
    return tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)


@functools.lru_cache(maxsize=None)
def kappas(activation: str) -> tuple[float, float, float]:
    """(kappa0, kappa1, kappa_star) of the activation (theory.hidden_manifold.gaussian_equivalence)."""
    return hm_theory.gaussian_equivalence(activation)


def teacher_moments(teacher: str) -> tuple[float, float]:
    """(mu1, mu_star^2) of the teacher's label function of g = theta.z ~ N(0, 1)."""
    return (1.0, 0.0) if teacher == "linear" else (float(np.sqrt(2 / np.pi)), 1 - 2 / np.pi)


def trial_data(t: dict) -> dict:
    """Generator, teacher direction, centred train/test features and labels of one trial."""
    s = derive_seeds(t["seed"], *STREAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sign data are discrete; documented in manifolds.hidden
        gen = manifolds.make_manifold("hidden", t["intrinsic_dim"], t["ambient_dim"], seed=s["manifold"],
                                      activation=t["activation"])
    teacher = manifolds.make_teacher("perceptron", t["intrinsic_dim"], seed=s["teacher"], task="regression")
    X, Z = gen.sample(t["n_train"], seed=s["train"])
    Xte, Zte = gen.sample(t["n_test"], seed=s["test"])
    k0 = kappas(t["activation"])[0]
    g, gte = teacher(Z), teacher(Zte)  # theta.z, theta = u / sqrt(d) a unit vector
    noise = np.sqrt(t["noise_var"]) * np.random.default_rng(s["noise"]).standard_normal(len(g))
    if t["loss"] == "ridge":
        phi = (lambda v: v) if t["teacher"] == "linear" else (lambda v: np.where(v >= 0, 1.0, -1.0))
        y, yte = phi(g) + noise, phi(gte)
    else:
        y, yte = np.where(g + noise >= 0, 1.0, -1.0), np.where(gte >= 0, 1.0, -1.0)
    theta = teacher.weights / np.sqrt(t["intrinsic_dim"])
    return {"seeds": s, "X": X - k0, "y": y, "Xte": Xte - k0, "yte": yte, "F": gen.feature_matrix, "theta": theta}


def gaussian_equivalent_error(t: dict, F: np.ndarray, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Test error the Gaussian covariate model gives to students beta (rows): test MSE against noisy
    labels (ridge) or classification error against sign(theta.z) (logistic)."""
    d = t["intrinsic_dim"]
    _, k1, ks = kappas(t["activation"])
    mu1, mustar2 = teacher_moments(t["teacher"])
    proj = beta @ F / np.sqrt(d)                       # (K, d): F' beta / sqrt(d)
    quad = k1**2 * np.sum(proj**2, 1) + ks**2 * np.sum(beta**2, 1)   # beta' Omega beta
    cross = k1 * proj @ theta                          # beta' F theta k1 / sqrt(d)
    if t["loss"] == "ridge":
        return mu1**2 + mustar2 + t["noise_var"] - 2 * mu1 * cross + quad
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(quad > 0, cross / np.sqrt(np.maximum(quad, 1e-300)), 0.0)
    return np.arccos(np.clip(rho, -1, 1)) / np.pi


def ridge_theory(t: dict, F: np.ndarray | None = None) -> float:
    try:
        return float(hm_theory.hidden_manifold_ridge_mse(
            t["n_train"], t["intrinsic_dim"], t["ambient_dim"], activation=t["activation"], reg=t["reg"],
            teacher=t["teacher"], noise_var=t["noise_var"], feature_matrix=F))
    except (ValueError, ArithmeticError):  # outside the deterministic equivalent's domain (e.g. ridgeless, P = D)
        return float("nan")


def ridge_fit(X: torch.Tensor, y: torch.Tensor, reg: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """beta = argmin 1/2 |y - X beta|^2 + reg/2 |beta|^2 on the kept coordinates (mask), batched over
    members: X (K, P, D) or (P, D) shared, y (K, P) or (P,), reg (K,), mask (K, D) bool. Pruned
    coordinates are exactly zero (their rows of the normal equations read (reg) beta_j = 0).
    reg = 0 gives the minimum-norm least-squares solution (pinv)."""
    K = reg.shape[0]
    shared = X.dim() == 2
    X = X.expand(K, -1, -1) if shared else X
    y = y.expand(K, -1) if y.dim() == 1 else y
    D = X.shape[-1]
    m = torch.ones(K, D, dtype=X.dtype) if mask is None else mask.reshape(K, D).to(X.dtype)
    beta = torch.zeros(K, D, dtype=X.dtype)
    pos = reg > 0
    if pos.any():
        Xp = X[pos]
        if shared:  # one data set for all members: one Gram matrix
            G = (X[0].T @ X[0]).expand(int(pos.sum()), -1, -1)
            b = (X[0].T @ y[pos].T).T
        else:
            G = Xp.transpose(1, 2) @ Xp
            b = (Xp.transpose(1, 2) @ y[pos].unsqueeze(-1)).squeeze(-1)
        mp = m[pos]
        A = G * mp.unsqueeze(1) * mp.unsqueeze(2) + reg[pos, None, None] * torch.eye(D, dtype=X.dtype)
        # numpy's batched solve: torch's runs LAPACK inside its own parallel loop, and the nested
        # thread teams can spin for minutes on a small machine
        beta[pos] = torch.from_numpy(np.linalg.solve(A.numpy(), (b * mp).unsqueeze(-1).numpy())[..., 0])
    if (~pos).any():
        Xm = X[~pos] * m[~pos].unsqueeze(1)
        beta[~pos] = torch.from_numpy(np.linalg.pinv(Xm.numpy()) @ y[~pos].unsqueeze(-1).numpy())[..., 0] * m[~pos]
    return beta


def _linear_student(betas: np.ndarray | torch.Tensor, seeds: list[int], dtype=torch.float64) -> "models.Ensemble":
    betas = torch.as_tensor(betas, dtype=dtype)
    K, D = betas.shape
    ens = models.make_ensemble("linear", K, D, bias=False, seeds=seeds, init_scale=0.0, dtype=dtype)
    with torch.no_grad():
        ens.params["w"].copy_(betas * np.sqrt(D))
    return ens


def _betas(ens) -> np.ndarray:
    return ens.params["w"].detach().double().cpu().numpy() / np.sqrt(ens.input_dim)


def _errors(ens, X, y, t: dict) -> np.ndarray:
    """Test error per member: MSE (+ noise_var, the test-label noise averaged exactly) or classification error."""
    if t["loss"] == "ridge":
        return models.evaluate(ens, X, y, loss="mse")["error"] + t["noise_var"]
    return models.evaluate(ens, X, y, loss="logistic")["error"]


def _train_errors(ens, X, y, t: dict) -> np.ndarray:
    return models.evaluate(ens, X, y, loss="mse" if t["loss"] == "ridge" else "logistic")["error"]


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Fit the group's dense students at once (one batched solve, or one trained ensemble), then prune
    each trial's student to every level of the ladder and refit it with the mask fixed."""
    torch.set_flush_denormal(True)
    t0 = group[0][1]
    data = [trial_data(t) for _, t in group]
    P, D = t0["n_train"], t0["ambient_dim"]
    ridge = t0["loss"] == "ridge"
    dtype = torch.float64 if ridge else torch.float32
    X = torch.tensor(np.stack([d["X"] for d in data]), dtype=dtype)
    y = torch.tensor(np.stack([d["y"] for d in data]), dtype=dtype)
    seeds = [d["seeds"]["order"] for d in data]
    diverged = np.zeros(len(group), dtype=bool)
    if ridge:
        reg = torch.tensor([t["reg"] for _, t in group], dtype=dtype)
        dense = _linear_student(ridge_fit(X, y, reg), seeds)
    else:
        dense = models.make_ensemble("linear", len(group), D, bias=False, seeds=seeds, init_scale=0.0, dtype=dtype)
        cfg = models.TrainConfig(loss="logistic", lr=[t["lr"] for _, t in group], epochs=t0["epochs"],
                                 weight_decay=[t["reg"] / (P * D) for _, t in group])
        diverged = np.asarray(models.train(dense, X, y, cfg, seeds=seeds).diverged, dtype=bool)

    ladder = [0.0] + list(t0["sparsities"])
    L = len(ladder)
    outcomes = []
    for k, (name, t) in enumerate(group):
        if diverged[k]:
            outcomes.append(TrialOutcome(name, t, "failed", "dense training diverged"))
            continue
        dk = data[k]
        Xte = torch.tensor(dk["Xte"], dtype=dtype)
        yte = torch.tensor(dk["yte"], dtype=dtype)
        one = dense.take([k])
        dense_test = float(_errors(one, Xte, yte, t)[0])
        dense_train = float(_train_errors(one, X[k], y[k], t)[0])
        results = {"manifold": "hidden", "dense_test_error": dense_test, "dense_train_error": dense_train,
                   "temperature_knob": "langevin_T" if ridge else "lr", "temperature": 0.0 if ridge else t["lr"],
                   "load_per_dim": t["n_train"] / t["intrinsic_dim"]}
        branches = dense.take([k] * L)
        masks = models.magnitude_masks(branches, ladder, scope="global")
        models.apply_masks(branches, masks)
        one_test = _errors(branches, Xte, yte, t)
        one_train = _train_errors(branches, X[k], y[k], t)
        re_diverged = np.zeros(L, dtype=bool)
        if t["retrain"]:
            if ridge:
                regs = torch.full((L,), t["reg"], dtype=dtype)
                betas = ridge_fit(X[k], y[k], regs, masks["w"])
                branches = _linear_student(betas, [dk["seeds"]["retrain"] + i for i in range(L)])
            else:
                cfg = models.TrainConfig(loss="logistic", lr=t["lr"], epochs=t["retrain_epochs"],
                                         weight_decay=t["reg"] / (P * D))
                rep = models.train(branches, X[k], y[k], cfg, masks=masks,
                                   seeds=[dk["seeds"]["retrain"] + i for i in range(L)])
                re_diverged = np.asarray(rep.diverged, dtype=bool)
            re_test, re_train = _errors(branches, Xte, yte, t), _train_errors(branches, X[k], y[k], t)
        else:
            re_test, re_train = one_test, one_train
        results["control_test_error"] = float(re_test[0])
        ge = gaussian_equivalent_error(t, dk["F"], dk["theta"], _betas(branches))
        ge_one = gaussian_equivalent_error(t, dk["F"], dk["theta"], _betas(dense.take([k] * L)) *
                                           masks["w"].double().numpy())
        dead = models.dead_members(branches, Xte)
        n_params = models.count_params(branches, masks)
        theory = ridge_theory(t) if ridge else float("nan")
        theory_exact = ridge_theory(t, dk["F"]) if ridge else float("nan")
        rows = []
        for i, s in enumerate(ladder):
            rows.append({
                "sparsity": s, "density": 1.0 - s, "n_params": int(n_params[i]),
                "load": t["n_train"] / max(int(n_params[i]), 1),
                "test_error": float(re_test[i]), "train_error": float(re_train[i]),
                "test_error_one_shot": float(one_test[i]), "train_error_one_shot": float(one_train[i]),
                "theory_test_error": theory if s == 0 else float("nan"),
                "theory_test_error_exact_spectrum": theory_exact if s == 0 else float("nan"),
                "gaussian_equivalent_test_error": float(ge[i]),
                "gaussian_equivalent_test_error_one_shot": float(ge_one[i]),
                "dead": bool(dead[i]) and s > 0, "diverged": bool(re_diverged[i]),
            })
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes


STUDY = Study(
    name="hidden_manifold_learning",
    description="ridge and logistic learning curves on hidden-manifold data against the Gaussian covariate "
                "model, and prunability of the learned students",
    trial_fields=HiddenManifoldLearningTrial,
    analysis_fields=HiddenManifoldLearningAnalysis,
    check_trial=check_trial,
    group_key=group_key,
    run_group=run_group,
    max_group_size=16,
    summarize=report.summarize,
    figures=report.figures,
    theory_points=report.theory_points,
)
