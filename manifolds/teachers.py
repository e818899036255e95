"""Teachers: label functions of the latent z or the ambient x (they belong to the data process).

A teacher is a callable ``teacher(inputs, seed=None) -> labels``; which coordinates it acts on is
decided by what the caller passes (Z for a latent teacher, X for an ambient one; a latent teacher of a
generator takes ``manifold.latent_dim`` inputs). Every teacher computes a real pre-label
phi(v) and returns

- ``task="classification"``: y = sign(phi(v)) in {-1, +1} (0 mapped to +1); label noise
  ``flip_prob`` flips each label independently with that probability;
- ``task="regression"``: y = phi(v) + ``output_noise`` * xi, xi ~ N(0, 1) (additive output noise,
  as in the statistical mechanics of learning, e.g. Engel & Van den Broeck, "Statistical Mechanics of
  Learning", CUP 2001, ch. 5).

The noise is drawn from the ``seed`` passed at labelling time, so it is reproducible per sample and
independent of the teacher's weights (drawn from the teacher's own seed).

Weight layout (so that a student can be set to the teacher's weights): every layer is
h = a @ W.T / sqrt(fan_in) with W of shape (fan_out, fan_in) and entries N(0, 1), the layout of
``torch.nn.Linear`` with the 1/sqrt(fan_in) scale written out.
"""
from __future__ import annotations

import numpy as np

from .activations import get_activation
from .base import check_choice, check_int, check_nonnegative, check_seed

TASKS = ("classification", "regression")


class Teacher:
    """Shared validation, label noise and input checks; subclasses implement ``preactivation``."""

    def _store_common(self, input_dim, seed, task, flip_prob, output_noise) -> None:
        self.input_dim = check_int("input_dim", input_dim)
        self.seed = check_seed("seed", seed)
        self.task = check_choice("task", task, TASKS)
        self.flip_prob = check_nonnegative("flip_prob", flip_prob)
        if self.flip_prob > 0.5:
            raise ValueError(f"flip_prob must lie in [0, 0.5], got {self.flip_prob}")
        self.output_noise = check_nonnegative("output_noise", output_noise)
        if self.task == "regression" and self.flip_prob > 0:
            raise ValueError(f"flip_prob applies to task='classification' only, got flip_prob={self.flip_prob} with task='regression'")
        if self.task == "classification" and self.output_noise > 0:
            raise ValueError(
                f"output_noise applies to task='regression' only, got output_noise={self.output_noise} with task='classification'"
            )

    def _check_inputs(self, inputs) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=float)
        if inputs.ndim != 2 or inputs.shape[1] != self.input_dim:
            raise ValueError(f"inputs must have shape (n, {self.input_dim}), got {inputs.shape}")
        return inputs

    def preactivation(self, inputs: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, inputs: np.ndarray, seed: int | None = None) -> np.ndarray:
        phi = self.preactivation(self._check_inputs(inputs))
        noisy = self.flip_prob > 0 or self.output_noise > 0
        if noisy and seed is None:
            raise ValueError("seed is required when flip_prob > 0 or output_noise > 0 (label noise must be seeded)")
        if self.task == "regression":
            if self.output_noise > 0:
                phi = phi + self.output_noise * np.random.default_rng(check_seed("seed", seed)).standard_normal(len(phi))
            return phi
        y = np.where(phi >= 0, 1.0, -1.0)
        if self.flip_prob > 0:
            flips = np.random.default_rng(check_seed("seed", seed)).random(len(y)) < self.flip_prob
            y = np.where(flips, -y, y)
        return y

    def __repr__(self) -> str:
        return f"{type(self).__name__}(input_dim={self.input_dim}, seed={self.seed}, task={self.task!r})"


WEIGHT_PRIORS = ("spherical", "binary")


class PerceptronTeacher(Teacher):
    """phi(v) = u . v / sqrt(N), u ~ N(0, I_N) drawn from ``seed`` and normalised to |u|^2 = N
    (the spherical convention of the statistical mechanics of learning; Gardner & Derrida,
    J. Phys. A 21, 271, 1988). Classification gives y = sign(u . v). ``weights`` is u.

    ``weight_prior="binary"``: u_i = +-1 with equal probability, independently (the Ising perceptron's
    teacher; Gyorgyi, PRA 41, 7097, 1990), so |u|^2 = N as well.
    """

    def __init__(self, input_dim: int, seed: int = 0, flip_prob: float = 0.0,
                 task: str = "classification", output_noise: float = 0.0, weight_prior: str = "spherical"):
        self._store_common(input_dim, seed, task, flip_prob, output_noise)
        self.weight_prior = check_choice("weight_prior", weight_prior, WEIGHT_PRIORS)
        u = np.random.default_rng(self.seed).standard_normal(self.input_dim)
        if self.weight_prior == "binary":
            self.weights = np.where(u >= 0, 1.0, -1.0)
        else:
            self.weights = u * np.sqrt(self.input_dim) / np.linalg.norm(u)

    def preactivation(self, inputs):
        return inputs @ self.weights / np.sqrt(self.input_dim)


class SoftCommitteeTeacher(Teacher):
    """The soft committee machine (Saad & Solla, PRE 52, 4225, 1995; Biehl & Schwarze, J. Phys. A
    28, 643, 1995): phi(v) = sum_k g(w_k . v / sqrt(N)), k = 1..n_hidden, g = erf(. / sqrt(2)) by
    default, second-layer weights all 1 (``readout``). ``weights`` is W (n_hidden x N), entries N(0, 1).
    """

    def __init__(self, input_dim: int, seed: int = 0, flip_prob: float = 0.0,
                 task: str = "classification", output_noise: float = 0.0,
                 n_hidden: int = 2, activation: str = "erf"):
        self._store_common(input_dim, seed, task, flip_prob, output_noise)
        self.n_hidden = check_int("n_hidden", n_hidden)
        self._g = get_activation(activation)
        self.activation = activation
        self.weights = np.random.default_rng(self.seed).standard_normal((self.n_hidden, self.input_dim))
        self.readout = np.ones(self.n_hidden)

    def preactivation(self, inputs):
        return self._g(inputs @ self.weights.T / np.sqrt(self.input_dim)) @ self.readout


class RandomMLPTeacher(Teacher):
    """A frozen random MLP: a_0 = v, a_l = f(W_l a_(l-1) / sqrt(n_(l-1))) for each width in ``hidden``,
    phi = w_out . a_L / sqrt(n_L); all entries N(0, 1) from ``seed``. ``weights`` lists W_1..W_L, and
    w_out as a (1, n_L) matrix. For activations that are not odd (relu) phi is not centred, so
    classification labels can be unbalanced; odd activations (tanh, erf) give balanced labels on
    inputs with a symmetric law.
    """

    def __init__(self, input_dim: int, seed: int = 0, flip_prob: float = 0.0,
                 task: str = "classification", output_noise: float = 0.0,
                 hidden: tuple[int, ...] = (32,), activation: str = "tanh"):
        self._store_common(input_dim, seed, task, flip_prob, output_noise)
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            widths = tuple(check_int("hidden", h) for h in hidden)
        except TypeError:
            raise ValueError(f"hidden must be a sequence of integers >= 1 (layer widths), got {hidden!r}") from None
        if not widths:
            raise ValueError("hidden must name at least one layer width, got an empty sequence")
        self.hidden = widths
        self._f = get_activation(activation)
        self.activation = activation
        rng = np.random.default_rng(self.seed)
        fans = (self.input_dim,) + widths + (1,)
        self.weights = [rng.standard_normal((o, i)) for i, o in zip(fans[:-1], fans[1:])]

    def preactivation(self, inputs):
        a = inputs
        for W in self.weights[:-1]:
            a = self._f(a @ W.T / np.sqrt(W.shape[1]))
        W_out = self.weights[-1]
        return (a @ W_out.T / np.sqrt(W_out.shape[1]))[:, 0]
