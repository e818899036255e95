"""Training an ensemble at a temperature: (stochastic) gradient descent with momentum and a
learning-rate schedule, Langevin dynamics, SAM.

Update rule, per member k and per trainable parameter vector w (all members in one batched step
s = 0, 1, ..., S - 1), with g the gradient of the mean batch loss plus weight decay,

    g = grad_w[ mean_{i in batch} loss_i(w) ] + weight_decay_k * w,     lr = lr_k * m(s),

and m(s) the schedule's multiplier (``models.schedules``: constant, step decay, cosine, linear
warm-up; one schedule shared by all members, or one per member):

- momentum_k = 0 (plain (S)GD):       w <- w - lr g + sqrt(2 lr T_k / P) xi;
- heavy ball (momentum_k = mu > 0):   v <- mu v + g + sigma xi,   w <- w - lr v;
- Nesterov (``nesterov=True``):       v <- mu v + g,              w <- w - lr (g + mu v);

xi ~ N(0, I), P the number of training examples, v the velocity (updated first, then used; zero
at the start of every call of :func:`train`, so a run split into two calls restarts it). This
is ``torch.optim.SGD(lr, momentum=mu, dampening=0, weight_decay=weight_decay_k, nesterov=...)``
step for step (tested); a schedule evaluated per step equals ``torch.optim.lr_scheduler``
stepped after every optimiser step (``models.schedules``).

Langevin temperature. For momentum 0, full-batch training is the Euler-Maruyama discretisation
(step lr) of dw = -grad(E/P) dt + sqrt(2 T/P) dB, whose stationary law is the Gibbs measure
exp(-E/T) with

    E(w) = sum_{i=1}^P loss_i(w) + P * weight_decay / 2 * |w|^2,

the energy summed (not averaged) over the training set (Engel & Van den Broeck 2001, ch. 2;
Welling & Teh 2011 for the stochastic-gradient form). With heavy-ball momentum the noise goes into
the velocity, sigma = sqrt(2 (1 - mu) T / (lr P)) (0 at a step where lr = 0): this is stochastic
gradient Hamiltonian Monte Carlo (Chen, Fox & Guestrin 2014; friction 1 - mu, step lr T / P in
their units), whose stationary law is the same Gibbs measure at the same T: no friction-adjusted
temperature is needed. For momentum 0 both forms are the same rule. The discretisation biases the
stationary law by O(lr * curvature): for a quadratic E the stationary variance along a Hessian
eigendirection a (of E/P) is, exactly for the discrete chain at a constant lr,

    (T/P) / a / (1 - lr a / (2 (1 + mu))).

Langevin noise with Nesterov momentum is refused (its stationary law is not this one).
Weight decay acts on every trainable parameter (biases included).

SAM (Foret et al. 2021) with radius rho: the loss gradient in g is taken at w + rho_k d / |d|, d the
loss gradient at w (without weight decay) and |d| its norm over all trainable, unmasked parameters
of member k; the step (weight decay, momentum) starts from w, as SAM wrapped around
``torch.optim.SGD``.

Length of a run: ``epochs`` passes over the training set, or ``steps`` optimisation steps (the
batch-size knob at a fixed number of iterations): then the number of epochs is
ceil(steps / batches per epoch) and the last one may stop part way through its data order.
Members with different batch sizes cannot share one batched step: they are different ensembles
(one :func:`train` call each).

Checkpoints (the epochs knob as snapshots of one run): after each epoch in ``checkpoints`` (0 =
before training) the params of every member are copied and its loss and error on the whole
training set are recorded (``TrainReport.checkpoint_loss``, ``checkpoint_error``). The checkpoint
at epoch e of a 160-epoch run with step decay at 80 and 120 is that run's state at e (the
three-regime protocol), not a run of e epochs with a schedule of its own. ``history`` records the
same at the end of every epoch (``loss_history``, ``error_history``, row 0 before training), for
convergence and collapse checks. ``start_epoch`` resumes a run from its state after that epoch
(weight rewinding): the schedule and the random draws go on as in the uninterrupted run.

Masks (dict name -> bool tensor of the param's shape, True = kept): masked weights are set to zero
before training and stay exactly zero: the update (gradient, weight decay, noise) is multiplied by
the mask, as are the velocity and the SAM perturbation, and the weights are re-multiplied by the
mask after each step; the velocity of a pruned weight is exactly zero throughout.

Divergence: when a member's batch loss or any of its updated parameters is not finite (checked at every
step through one sum of the batch losses and updated parameters of all members, read on the host, and
only when that is not finite through one such sum per member, so finite values whose sum overflows,
~1e38 in float32, count too), the member is marked diverged at that step (the reported step is
exact), its parameters (and velocity) stay at the last finite values (the update that would
have made them non-finite is dropped) and it is never updated again; the others go on unaffected.
Its ``train_loss`` in the report is NaN, as are its checkpoint and history losses from then on.

Gradients: written out by hand for the three architectures and losses (``models._backward``, checked
against autograd in the tests); the step w - lr g (momentum: v <- mu v + g) is fused into the
weight-gradient product, with the per-member learning rate folded into the loss slope.

Layout: on a CPU the members train in chunks of equal size, one chunk after the other, each for the
whole run (``_member_chunks``: as many members as keep about ``_CHUNK_BYTES`` of working set, so the
step's products and passes run from cache; on other devices one chunk). A chunk's trainable params,
and its velocities, live in two flat buffers (param-major, hidden weight matrices transposed to
(fan_in, h)): each step writes the new values into the spare buffer and swaps, and the mask and the
divergence sum are one operation each on a flat buffer. The chunking depends on the shapes only.

Compiled step (``TrainConfig(compile=True)``, opt-in): the whole update of a step (forward
pass, loss slope, backward pass, weight decay, noise, mask, the new params and velocities and the
divergence sum) is one function handed to ``torch.compile`` (``dynamic=False``), so the
elementwise passes over the (C, B, h) intermediates and over the params fuse into a few loops
around the products. It is compiled on its first call for each set of shapes (chunk size, batch,
widths) and flags (loss, architecture, momentum, Nesterov, weight decay, noise, mask, SAM) and
reused by every later step and :func:`train` call of the process with the same ones (a short last
batch is a shape of its own); past torch's recompile limit (``torch._dynamo.config``, per set of
flags) a new shape runs the same function uncompiled. Where it cannot compile (no
C++ compiler, a platform torch.compile does not support), the run falls back to the eager step
with one :class:`CompileFallbackWarning` per set of flags. The results equal the eager
step's up to float rounding (the compiled kernels sum in another order; tested); the divergence
rule, chunking, randomness and layout are the same. The eager step is hand-fused and its batched
products take most of its time, so the compiled one is no faster on a CPU (``python
benchmarks/ensemble.py --compile`` times both, the compile time apart).

Randomness: member k owns one ``torch.Generator`` seeded with ``seeds[k]`` (on the CPU), used for its
data order (one ``randperm`` per epoch) and, if its T_k > 0, its Langevin noise, which is drawn in
chunks of ``max(1, 1024 // n_k)`` steps (n_k: that member's trainable parameter count); a member
with T_k = 0 draws no noise. Nothing a member draws depends on K or on the other members, so a
member's trajectory inside an ensemble (in any chunk) equals its trajectory alone (up to float
rounding of the batched products).
"""
from __future__ import annotations

import copy
import math
import types
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ._backward import descend
from .ensemble import Ensemble
from .losses import LOSSES, pointwise_error, pointwise_loss
from .schedules import Schedule
from .validation import check_choice, check_int, check_seeds, per_member

_NOISE_CHUNK = 1024  # noise numbers drawn per member per generator call (independent of K)
_CHUNK_BYTES = 1 << 22  # CPU: working set of one chunk of members trained together (_member_chunks)
_MIN_CHUNK = 8  # CPU: fewest members per chunk (fewer would pay the per-operation overhead)
DEFAULT_EPOCHS = 100


@dataclass
class TrainConfig:
    """Hyperparameters of one training run (shared by all members unless noted).

    ``lr``, ``momentum``, ``langevin_T``, ``weight_decay`` and ``sam_rho`` are floats or length-K
    sequences / tensors (one value per member, e.g. a temperature ladder in one ensemble).
    ``schedule`` is one :class:`models.Schedule` (or a dict of its fields) for all members, or a
    length-K sequence of them. Give ``epochs`` or ``steps``, not both (neither: 100 epochs).
    ``compile=True`` runs each step through ``torch.compile`` (module docstring, "Compiled
    step"); the default is the eager step."""

    loss: str = field(default="logistic", metadata={"help": "logistic | mse | hinge"})
    lr: float | Sequence[float] = field(
        default=0.1, metadata={"help": "base learning rate (>= 0), times the schedule"})
    epochs: int | None = field(
        default=None, metadata={"help": "passes over the training set (None: 100, or derived "
                                        "from steps)"})
    steps: int | None = field(
        default=None, metadata={"help": "optimisation steps instead of epochs; epochs = "
                                        "ceil(steps / batches per epoch)"})
    batch_size: int | None = field(
        default=None, metadata={"help": "examples per step; None = full batch (no shuffling)"})
    momentum: float | Sequence[float] = field(
        default=0.0, metadata={"help": "heavy-ball momentum mu in [0, 1) (torch.optim.SGD's)"})
    nesterov: bool = field(default=False, metadata={"help": "Nesterov momentum (needs mu > 0)"})
    schedule: Schedule | dict | Sequence | None = field(
        default=None, metadata={"help": "learning-rate schedule (models.schedules); None = "
                                        "constant"})
    langevin_T: float | Sequence[float] = field(
        default=0.0, metadata={"help": "Langevin temperature T >= 0 (Gibbs exp(-E/T), E summed)"})
    weight_decay: float | Sequence[float] = field(
        default=0.0, metadata={"help": "L2 coefficient lambda: adds lambda/2 |w|^2 to the mean loss"})
    sam_rho: float | Sequence[float] = field(
        default=0.0, metadata={"help": "SAM radius rho >= 0 (0 = plain gradient)"})
    checkpoints: Sequence[int] = field(
        default=(), metadata={"help": "epochs after which to snapshot params and record the "
                                      "training loss/error (0 = before training)"})
    history: bool = field(
        default=False, metadata={"help": "record the training loss/error after every epoch"})
    compile: bool = field(
        default=False, metadata={"help": "run each step through torch.compile (once per shape; "
                                         "eager if it cannot compile)"})

    def run_length(self, n_train: int) -> tuple[int, int, int]:
        """(epochs, steps, steps per epoch) of a run on ``n_train`` examples (checked)."""
        P = check_int("n_train", n_train, 1)
        if self.batch_size is None:
            B = P
        else:
            B = check_int("cfg.batch_size", self.batch_size, 1)
            if B > P:
                raise ValueError(f"cfg.batch_size must be <= the number of training examples "
                                 f"{P} (or None for full batch), got {B}")
        per_epoch = math.ceil(P / B)
        if self.steps is not None:
            if self.epochs is not None:
                raise ValueError(f"give cfg.epochs or cfg.steps, not both (epochs are derived "
                                 f"from steps), got epochs={self.epochs!r}, "
                                 f"steps={self.steps!r}")
            S = check_int("cfg.steps", self.steps, 0)
            return math.ceil(S / per_epoch), S, per_epoch
        E = DEFAULT_EPOCHS if self.epochs is None else check_int("cfg.epochs", self.epochs, 0)
        return E, E * per_epoch, per_epoch


@dataclass
class TrainReport:
    """What :func:`train` returns. Arrays are numpy, one entry per member (histories: one row
    per epoch from ``start_epoch``, one column per member). Losses are NaN for a member that has
    diverged by then; errors are those of its last finite params."""

    diverged: np.ndarray          # (K,) bool
    diverged_step: np.ndarray     # (K,) int64, step (0-based, counted over all epochs) or -1
    train_loss: np.ndarray        # (K,) float64, final mean training loss (NaN if diverged)
    train_error: np.ndarray       # (K,) float64, final training error (see models.losses)
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(repr=False)  # epoch -> params
    steps: int = 0                # optimisation steps taken per member (by this call)
    epochs: int = 0               # epochs of the run (in steps mode the last may be partial)
    start_epoch: int = 0          # the epoch this call started from (train's start_epoch)
    checkpoint_loss: dict[int, np.ndarray] = field(default_factory=dict)   # epoch -> (K,)
    checkpoint_error: dict[int, np.ndarray] = field(default_factory=dict)  # epoch -> (K,)
    loss_history: np.ndarray | None = field(default=None, repr=False)   # (epochs - start + 1, K)
    error_history: np.ndarray | None = field(default=None, repr=False)  # (epochs - start + 1, K)

    @property
    def initial_loss(self) -> np.ndarray | None:
        """(K,) training loss before training: from the history or the first checkpoint if it is
        the start of the run, else None."""
        if self.loss_history is not None:
            return self.loss_history[0]
        return self.checkpoint_loss.get(self.start_epoch)

    @property
    def initial_error(self) -> np.ndarray | None:
        if self.error_history is not None:
            return self.error_history[0]
        return self.checkpoint_error.get(self.start_epoch)

    def select(self, members: Sequence[int]) -> "TrainReport":
        """The report of the members ``members`` (indices), e.g. one round of a batched run."""
        idx = np.asarray(members, dtype=np.int64).reshape(-1)
        ti = torch.as_tensor(idx)
        return TrainReport(
            diverged=self.diverged[idx], diverged_step=self.diverged_step[idx],
            train_loss=self.train_loss[idx], train_error=self.train_error[idx],
            checkpoints={e: {n: p[ti.to(p.device)] for n, p in c.items()}
                         for e, c in self.checkpoints.items()},
            steps=self.steps, epochs=self.epochs, start_epoch=self.start_epoch,
            checkpoint_loss={e: v[idx] for e, v in self.checkpoint_loss.items()},
            checkpoint_error={e: v[idx] for e, v in self.checkpoint_error.items()},
            loss_history=None if self.loss_history is None else self.loss_history[:, idx],
            error_history=None if self.error_history is None else self.error_history[:, idx])


# ---------------------------------------------------------------------- data and masks
def prepare_data(ens: Ensemble, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """X -> (P, D) or (K, P, D) and y -> (P,) or (K, P) on the ensemble's device/dtype."""
    X = ens.check_inputs(X)
    y = torch.as_tensor(y).to(device=ens.device, dtype=ens.dtype)
    P, K = X.shape[-2], ens.n_members
    if not (y.shape == (P,) or y.shape == (K, P)):
        raise ValueError(f"y must have shape ({P},) or ({K}, {P}) to match X {tuple(X.shape)}, "
                         f"got {tuple(y.shape)}")
    if P < 1:
        raise ValueError("X must hold at least one example, got 0")
    return X, y


def check_masks(ens: Ensemble, masks) -> dict[str, torch.Tensor]:
    """Validate masks (names among ``ens.params``, shapes equal to the params') -> bool tensors."""
    if masks is None:
        return {}
    if not isinstance(masks, dict):
        raise ValueError(f"masks must be a dict name -> bool tensor, got {type(masks).__name__}")
    out = {}
    for name, m in masks.items():
        if name not in ens.params:
            raise ValueError(f"masks has an entry {name!r} that is not a param; params are "
                             f"{list(ens.params)}")
        m = torch.as_tensor(m, device=ens.device)
        if tuple(m.shape) != tuple(ens.params[name].shape):
            raise ValueError(f"mask {name!r} must have the param's shape "
                             f"{tuple(ens.params[name].shape)}, got {tuple(m.shape)}")
        if m.dtype != torch.bool:
            if not torch.all((m == 0) | (m == 1)):
                raise ValueError(f"mask {name!r} must be boolean (or 0/1), got other values")
            m = m.to(torch.bool)
        out[name] = m
    return out


def check_schedules(schedule, n_members: int) -> tuple[list[Schedule], np.ndarray]:
    """``cfg.schedule`` -> (distinct schedules, (K,) index of each member's schedule)."""
    if schedule is None or isinstance(schedule, (Schedule, dict)):
        return [Schedule.from_spec(schedule)], np.zeros(n_members, dtype=np.int64)
    if isinstance(schedule, (str, bytes)) or not hasattr(schedule, "__len__"):
        raise ValueError(f"cfg.schedule must be a Schedule, a dict of its fields, None or a "
                         f"sequence of {n_members} of them (one per member), got {schedule!r}")
    if len(schedule) != n_members:
        raise ValueError(f"cfg.schedule as a sequence must hold one schedule per member "
                         f"({n_members}), got {len(schedule)}")
    distinct: list[Schedule] = []
    index = np.empty(n_members, dtype=np.int64)
    for k, spec in enumerate(schedule):
        s = Schedule.from_spec(spec)
        if s not in distinct:
            distinct.append(s)
        index[k] = distinct.index(s)
    return distinct, index


def _member_view(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(K,) -> (K, 1, ..., 1) broadcasting against ``like``."""
    return v.view((-1,) + (1,) * (like.dim() - 1))


class _MemberRandom:
    """Per-member generators: data order and Langevin noise (see the module docstring). Only the
    members with ``noisy[k]`` draw noise (the others get zeros), so a member's draws never depend
    on the temperatures of the others."""

    def __init__(self, seeds: tuple[int, ...], n_noise: int, dtype, device, noisy=None):
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.noisy = [k for k in range(len(seeds)) if noisy is None or noisy[k]]
        self.n = n_noise
        self.chunk = max(1, _NOISE_CHUNK // max(n_noise, 1))
        self.buf = torch.zeros((len(seeds), self.chunk, n_noise), dtype=dtype)
        self.pos = self.chunk
        self.device = device

    def permutations(self, P: int) -> torch.Tensor:
        perm = torch.empty((len(self.gens), P), dtype=torch.int64)
        for k, g in enumerate(self.gens):
            torch.randperm(P, generator=g, out=perm[k])
        return perm.to(self.device)

    def noise(self) -> torch.Tensor:
        """(K, n_noise) standard normals for one step."""
        if self.pos == self.chunk:
            flat = self.buf.view(len(self.gens), -1)
            for k in self.noisy:
                torch.randn(flat.shape[1], generator=self.gens[k], dtype=flat.dtype, out=flat[k])
            self.dev_buf = self.buf.to(self.device)
            self.pos = 0
        self.pos += 1
        return self.dev_buf[:, self.pos - 1]


class _Rule:
    """The per-member coefficients of the update (module docstring) at the current step, as
    (K,) tensors on the ensemble's device: ``lr`` (the descend coefficient of plain SGD, or the
    position step with momentum), ``lrwd`` = lr wd (plain), ``noise`` (plain: sqrt(2 lr T/P) on
    the position; momentum: sigma on the velocity), ``mu``, ``wd``, ``lr1mu`` = lr (1 + mu) and
    ``lrmu`` = lr mu (Nesterov), ``minus_one`` (the descend coefficient that adds the gradient
    to the velocity). Constant unless a schedule is given; then :meth:`at` sets them for a step:
    each is its value at the base rate times a power of the multiplier m (m, or m^(1/2) and
    m^(-1/2) for the noise scales), from a table of all steps for a shared schedule (one
    multiplication per step) or per member otherwise."""

    def __init__(self, lr, wd, T, rho, mu, nesterov, P, table, groups, dt, dev):
        self.use_wd, self.use_sam = bool((wd > 0).any()), bool((rho > 0).any())
        self.use_noise = bool((T > 0).any())
        self.momentum, self.nesterov = bool((mu > 0).any()), nesterov
        self.scheduled = table is not None
        as_t = lambda a: torch.as_tensor(a, dtype=dt, device=dev)  # noqa: E731
        self.rho = as_t(rho)
        self.mu, self.wd = as_t(mu), as_t(wd)
        self.minus_one = as_t(-np.ones_like(lr))
        if self.momentum:  # sigma = sqrt(2 (1 - mu) T / (lr P)), 0 where lr = 0
            safe = np.where(lr > 0, lr, 1.0)
            sigma = np.where(lr * T > 0, np.sqrt(2.0 * (1.0 - mu) * T / (P * safe)), 0.0)
        else:
            sigma = np.sqrt(2.0 * lr * T / P)
        base = np.stack([lr, lr * wd, sigma, lr * (1.0 + mu), lr * mu])  # at m = 1
        self._coef = as_t(base)
        self.lr, self.lrwd, self.noise, self.lr1mu, self.lrmu = self._coef.unbind(0)
        # (K, 1, ..., 1) views for params of 1, 2 and 3 dims, made once (they follow _coef)
        self.v = {(n, d): getattr(self, n).view((-1,) + (1,) * (d - 1))
                  for n in ("lr", "lrwd", "noise", "lr1mu", "lrmu", "mu", "wd") for d in (1, 2, 3)}
        if self.scheduled:
            self._base = self._coef.clone()
            self.shared = table.shape[0] == 1
            if self.shared:  # a table of all steps, (S, 5, 1), broadcast over the members
                self._scales = as_t(self._powers(table[0])[:, :, None])
            else:  # per member: (S, G) multipliers, the powers taken at each step
                self._m, self._groups = table.T, groups

    def _powers(self, m: np.ndarray) -> np.ndarray:
        """(..., 5): the factor of each coefficient at multiplier(s) m: m, except m^(1/2) for
        the plain noise and m^(-1/2) (0 where m = 0) for the noise on the velocity."""
        root = np.sqrt(m)
        noise = np.where(m > 0, 1.0 / np.where(m > 0, root, 1.0), 0.0) if self.momentum \
            else root
        return np.stack([m, m, noise, m, m], -1)

    def members(self, sl: slice) -> "_Rule":
        """The rule of members ``sl``: the same flags and views of this rule's coefficients (so
        :meth:`at` on either moves both)."""
        part = copy.copy(self)
        for n in ("lr", "lrwd", "noise", "lr1mu", "lrmu", "rho", "mu", "wd", "minus_one"):
            setattr(part, n, getattr(self, n)[sl])
        part.v = {key: t[sl] for key, t in self.v.items()}
        return part

    def at(self, step: int):
        if self.shared:
            torch.mul(self._base, self._scales[step], out=self._coef)
        else:
            s = torch.from_numpy(self._powers(self._m[step][self._groups]).T)
            torch.mul(self._base, s.to(self._base.device), out=self._coef)


def _evaluate_work(ens: Ensemble, X, y, work, loss, alive: torch.Tensor):
    """(loss, error) numpy (K,) of the params in the working layout; loss NaN where not alive."""
    f = ens._forward(X, work, transposed=True)
    lo = pointwise_loss(f, y, loss).mean(-1).double().cpu().numpy()
    err = pointwise_error(f, y, loss).mean(-1).double().cpu().numpy()
    lo[~alive.cpu().numpy()] = np.nan
    return lo, err


# ---------------------------------------------------------------------- training
def train(ens: Ensemble, X, y, cfg: TrainConfig, masks=None, seeds=None,
          start_epoch: int = 0) -> TrainReport:
    """Train every member of ``ens`` in place on (X, y) with ``cfg`` (update rule: module docstring).

    X: (P, D) shared by all members or (K, P, D) per member; y: (P,) or (K, P).
    masks: optional dict name -> bool tensor (True = kept); masked weights stay exactly zero.
    seeds: K ints for the data order and the Langevin noise (required when ``batch_size`` < P or
    some temperature > 0; ignored otherwise).
    start_epoch: resume the run of ``cfg`` at the end of this epoch, from the params in ``ens``
    (e.g. a checkpoint; weight rewinding): only epochs start_epoch + 1 .. end are trained, the
    schedule, the checkpoints, the history and ``diverged_step`` count in the epochs / steps of
    the whole run, and the random draws of the skipped epochs (data orders, noise) are made and
    discarded, so that the rest uses the draws of the uninterrupted run; the velocity starts at
    zero. Every argument is checked before training starts.
    """
    torch.set_flush_denormal(True)
    K = ens.n_members
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    loss = check_choice("cfg.loss", cfg.loss, LOSSES)
    lr = per_member("cfg.lr", cfg.lr, K)
    T = per_member("cfg.langevin_T", cfg.langevin_T, K)
    wd = per_member("cfg.weight_decay", cfg.weight_decay, K)
    rho = per_member("cfg.sam_rho", cfg.sam_rho, K)
    mu = per_member("cfg.momentum", cfg.momentum, K, maximum=1.0, below_max=True)
    if not isinstance(cfg.nesterov, (bool, np.bool_)):
        raise ValueError(f"cfg.nesterov must be True or False, got {cfg.nesterov!r}")
    nesterov = bool(cfg.nesterov)
    if nesterov and not (mu > 0).any():
        raise ValueError("cfg.nesterov=True needs cfg.momentum > 0 (for some member), got "
                         "momentum 0 for every member")
    if nesterov and (T > 0).any():
        raise ValueError("cfg.langevin_T > 0 is not defined with cfg.nesterov=True (use heavy-"
                         "ball momentum, whose noise on the velocity keeps the Gibbs law)")
    if not isinstance(cfg.history, (bool, np.bool_)):
        raise ValueError(f"cfg.history must be True or False, got {cfg.history!r}")
    if not isinstance(cfg.compile, (bool, np.bool_)):
        raise ValueError(f"cfg.compile must be True or False, got {cfg.compile!r}")
    X, y = prepare_data(ens, X, y)
    P = X.shape[-2]
    epochs, n_steps, per_epoch = cfg.run_length(P)
    B = P if cfg.batch_size is None else int(cfg.batch_size)
    schedules, groups = check_schedules(cfg.schedule, K)
    table = None
    if not all(s.is_constant for s in schedules):
        table = np.stack([s.multipliers(n_steps, per_epoch) for s in schedules])
    first = check_int("start_epoch", start_epoch, 0)
    if first > epochs:
        raise ValueError(f"start_epoch must be <= {epochs} (the epochs of the run), got {first}")
    checkpoints = sorted({check_int("cfg.checkpoints entry", e, 0) for e in cfg.checkpoints})
    if checkpoints and (checkpoints[0] < first or checkpoints[-1] > epochs):
        raise ValueError(f"cfg.checkpoints must lie in [{first}, {epochs}] (start_epoch and the "
                         f"epochs of the run), got {checkpoints}")
    masks = check_masks(ens, masks)
    minibatch = B < P
    stochastic = minibatch or bool((T > 0).any())
    if stochastic:
        if seeds is None:
            raise ValueError("seeds (one int per member) are required when cfg.batch_size < P or "
                             "cfg.langevin_T > 0")
        seeds = check_seeds("seeds", seeds, K)

    names = ens.trainable
    dev, dt = ens.device, ens.dtype
    rule = _Rule(lr, wd, T, rho, mu, nesterov, P, table, groups, dt, dev)
    with torch.no_grad():
        for name, m in masks.items():
            ens.params[name].mul_(m)
        run = _Run(ens, X, y, loss, names, masks, rule, seeds if stochastic else None, T > 0,
                   B, epochs, n_steps, per_epoch, first, checkpoints, cfg.history,
                   bool(cfg.compile))
        for members in _member_chunks(ens, B, rule.momentum):
            run.train_members(members)
    return run.report()


def _member_chunks(ens: Ensemble, B: int, momentum: bool) -> list[slice]:
    """Contiguous chunks of members trained one after the other (each for the whole run). On a
    CPU a chunk holds at least as many members as keep its working set (params, spare buffers and
    velocities, the gathered batch and the (B, h) intermediates) near ``_CHUNK_BYTES`` (and fewer
    than twice as many), so the step's products and passes run from cache; chunks are of equal
    size (within one member).
    Elsewhere (CUDA) all members form one chunk. The chunking depends on the shapes only."""
    K = ens.n_members
    if ens.device.type != "cpu":
        return [slice(0, K)]
    n_params = sum(p[0].numel() for p in ens.params.values())
    widths = (ens.input_dim,) + tuple(ens.hidden)
    per_member = ens.params[ens.trainable[0]].element_size() * (
        n_params * (4 if momentum else 2) + B * (sum(widths) + 2 * sum(ens.hidden) + 4))
    size = max(_MIN_CHUNK, _CHUNK_BYTES // per_member)
    # as few chunks as hold at least `size` members each: every chunk pays the step's fixed per-operation
    # cost, so K = 64 at a budget of 54 is one chunk, not two of 32 (measured about 8% faster at K = 64)
    n_chunks = max(1, K // size)
    bounds = [i * K // n_chunks for i in range(n_chunks + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


class _Run:
    """One call of :func:`train`: the inputs shared by all members and the report, filled in one
    chunk of members at a time (:meth:`train_members`)."""

    def __init__(self, ens, X, y, loss, names, masks, rule, seeds, noisy, B, epochs, n_steps,
                 per_epoch, first, checkpoints, history, compiled=False):
        K = ens.n_members
        self.compiled = compiled
        self.ens, self.X, self.y, self.loss, self.names, self.masks = ens, X, y, loss, names, masks
        self.rule, self.seeds, self.noisy, self.B = rule, seeds, noisy, B
        self.epochs, self.n_steps, self.per_epoch, self.first = epochs, n_steps, per_epoch, first
        self.checkpoints, self.history = checkpoints, history
        self.sizes = [ens.params[n][0].numel() for n in names]
        dev = ens.device
        self.alive = torch.ones(K, dtype=torch.bool, device=dev)
        self.diverged_step = torch.full((K,), -1, dtype=torch.int64, device=dev)
        self.final_loss, self.final_err = np.empty(K), np.empty(K)
        self.snapshots = {e: {n: torch.empty_like(p) for n, p in ens.params.items()}
                          for e in checkpoints}
        self.ck_loss = {e: np.empty(K) for e in checkpoints}
        self.ck_err = {e: np.empty(K) for e in checkpoints}
        rows = epochs - first + 1
        self.hist_loss = np.empty((rows, K)) if history else None
        self.hist_err = np.empty((rows, K)) if history else None
        # hidden weight matrices are held transposed, (K, fan_in, h) contiguous (faster products)
        self.tr = {n for n in ens.params
                   if ens.arch != "linear" and n.startswith("w") and n != "w_out"}
        self.steps = 0

    def _record(self, epoch: int, sl: slice, X, y, work, alive):
        """Checkpoint and history entries of members ``sl`` after ``epoch``."""
        if epoch in self.checkpoints:
            for n, p in work.items():
                self.snapshots[epoch][n][sl] = p.transpose(1, 2) if n in self.tr else p
        if epoch in self.checkpoints or self.history:
            lo, er = _evaluate_work(self.ens, X, y, work, self.loss, alive)
            if epoch in self.checkpoints:
                self.ck_loss[epoch][sl], self.ck_err[epoch][sl] = lo, er
            if self.history:
                self.hist_loss[epoch - self.first, sl] = lo
                self.hist_err[epoch - self.first, sl] = er

    def train_members(self, sl: slice):
        """The whole run of members ``sl``, on a dict of tensors in a working layout,
        double-buffered: each step writes the new params (and velocities) into the spare buffers
        and swaps; the results are copied into the tensors of ens.params at the end, so training
        is in place for the caller."""
        ens, names, rule = self.ens, self.names, self.rule.members(sl)
        X = self.X if self.X.dim() == 2 else self.X[sl]
        y = self.y if self.y.dim() == 1 else self.y[sl]
        P, B, per_epoch, n_steps = X.shape[-2], self.B, self.per_epoch, self.n_steps
        minibatch = B < P
        tr = self.tr
        to_work = lambda n, p: p[sl].transpose(1, 2) if n in tr else p[sl]  # noqa: E731
        alive = self.alive[sl]
        state = _State(alive, self.diverged_step[sl])
        shapes = {n: tuple(to_work(n, ens.params[n]).shape) for n in names}
        state.slots = _Slots(shapes, ens.dtype, ens.device)
        work = {n: to_work(n, p).clone() for n, p in ens.params.items() if n not in shapes}
        work.update(state.slots.views[0])
        for n in names:
            work[n].copy_(to_work(n, ens.params[n]))
        spare = dict(state.slots.views[1])
        masks = {n: to_work(n, m).contiguous() for n, m in self.masks.items()}
        if masks:  # one flat multiplier of the update: the masks where given, else ones
            state.mask = torch.ones_like(state.slots.cur)
            off = 0
            for n in names:
                size = math.prod(shapes[n])
                if n in masks:
                    state.mask[off:off + size].view(shapes[n]).copy_(masks[n])
                off += size
        if rule.momentum:
            state.vslots = _Slots(shapes, ens.dtype, ens.device, zero=True)
            state.vel, state.vspare = dict(state.vslots.views[0]), dict(state.vslots.views[1])
        rng = None if self.seeds is None else _MemberRandom(
            self.seeds[sl], sum(self.sizes), ens.dtype, ens.device, self.noisy[sl])
        batches = _Batches(X, y, work[names[0]].shape[0], B) if minibatch else None
        step_fn = _momentum_step if rule.momentum else _step
        if self.compiled:
            step_fn = _CompiledStep(ens, self.loss, names, shapes, rule, bool(masks), step_fn)
        scheduled = rule.scheduled
        first = self.first
        self._record(first, sl, X, y, work, alive)
        step = 0
        for epoch in range(1, self.epochs + 1):
            if epoch <= first:  # skipped: the same random draws as the uninterrupted run
                n_skip = min(per_epoch, n_steps - step)
                if minibatch:
                    rng.permutations(P)
                if rule.use_noise:
                    for _ in range(n_skip):
                        rng.noise()
                step += n_skip
                continue
            if minibatch:
                batches.new_epoch(rng.permutations(P))
            for b in range(min(per_epoch, n_steps - step)):
                Xb, yb = batches.get(b) if minibatch else (X, y)
                if scheduled:
                    rule.at(step)
                step_fn(ens, work, spare, Xb, yb, self.loss, names, masks, rule, rng,
                        self.sizes, state, step)
                step += 1
            self._record(epoch, sl, X, y, work, alive)
        self.steps = step - min(first * per_epoch, n_steps)
        lo, er = _evaluate_work(ens, X, y, work, self.loss, alive)
        self.final_loss[sl], self.final_err[sl] = lo, er
        for n in names:
            ens.params[n][sl] = work[n].transpose(1, 2) if n in tr else work[n]

    def report(self) -> TrainReport:
        return TrainReport(diverged=(~self.alive).cpu().numpy(),
                           diverged_step=self.diverged_step.cpu().numpy(),
                           train_loss=self.final_loss, train_error=self.final_err,
                           checkpoints=self.snapshots, steps=self.steps, epochs=self.epochs,
                           start_epoch=self.first,
                           checkpoint_loss=self.ck_loss, checkpoint_error=self.ck_err,
                           loss_history=self.hist_loss, error_history=self.hist_err)


class _State:
    """Per chunk of members: the double-buffered storage of the trainable params (``slots``) and
    velocities (``vslots``), the update's mask, the backward pass's reused intermediates
    (``ws``), and the divergence bookkeeping: ``alive`` (C,) bool, ``diverged_step`` (C,) int64
    and whether any member has diverged yet (a Python bool)."""

    def __init__(self, alive: torch.Tensor, diverged_step: torch.Tensor):
        self.alive, self.diverged_step, self.any_dead = alive, diverged_step, False
        self.ws: dict = {}
        self.mask = None

    def check(self, total: torch.Tensor, step: int):
        """Mark the members whose ``total`` is not finite as diverged at ``step``."""
        # a sum is finite iff every term is, unless the terms are finite but their sum overflows
        # (~1e38 in float32): counted as diverged too
        ok = torch.isfinite(total)
        alive = self.alive
        newly = alive & ~ok
        if bool(newly.any()):
            self.diverged_step.masked_fill_(newly, step)
            alive &= ok
            self.any_dead = True

    def check_update(self, batch_loss: torch.Tensor, new: dict, names, step: int,
                     total: torch.Tensor | None = None):
        """Divergence check of a step (module docstring): one sum of every batch loss and updated
        param of the chunk (``total`` if given, e.g. by the compiled step), read on the host; only
        when it is not finite (or a member is already dead), one such sum per member."""
        if total is None and not self.any_dead:
            total = torch.add(batch_loss.sum(), self.slots.spare.sum())
        if not self.any_dead and _all_finite(total):
            return
        K = batch_loss.shape[0]
        total = batch_loss.clone()
        for name in names:
            total.add_(new[name].reshape(K, -1).sum(1))
        self.check(total, step)


def _all_finite(total: torch.Tensor) -> bool:
    """Whether a 0-dim sum is finite: the one host read of a step (a device sync on CUDA)."""
    return math.isfinite(total.item())


class _Slots:
    """Two flat buffers, each holding a chunk's trainable params (or velocities) in the working
    layout, param-major (param n a contiguous (C, ...) block of it), and their views: ``cur``
    holds the values now, ``spare`` receives the update; :meth:`swap` exchanges the two (in the
    dicts of views given), so elementwise work on all params at once (the mask, the divergence
    sum) is one operation on a flat buffer."""

    def __init__(self, shapes: dict, dtype, device, zero: bool = False):
        sizes = {n: math.prod(s) for n, s in shapes.items()}
        alloc = torch.zeros if zero else torch.empty
        self.flat = [alloc(sum(sizes.values()), dtype=dtype, device=device) for _ in range(2)]
        self.views = []
        for f in self.flat:
            views, off = {}, 0
            for n, s in shapes.items():
                views[n] = f[off:off + sizes[n]].view(s)
                off += sizes[n]
            self.views.append(views)
        self.i = 0

    @property
    def cur(self) -> torch.Tensor:
        return self.flat[self.i]

    @property
    def spare(self) -> torch.Tensor:
        return self.flat[1 - self.i]

    def swap(self, cur: dict, spare: dict):
        self.i = 1 - self.i
        cur.update(self.views[self.i])
        spare.update(self.views[1 - self.i])


class _Batches:
    """The mini-batches of all members, one batched gather per step: for each epoch the K data
    orders (K, P); batch b is X[order[k, bB:(b+1)B]] for every member k, copied by one
    ``index_select`` (on a flat (K P, D) view for per-member data) into a reused buffer."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, K: int, B: int):
        self.K, self.B, self.P = K, B, X.shape[-2]
        self.X = X if X.dim() == 2 else X.reshape(K * self.P, -1)
        self.y = y if y.dim() == 1 else y.reshape(-1)
        self.x_flat, self.y_flat = X.dim() == 3, y.dim() == 2
        self.xbuf = torch.empty((K * B, self.X.shape[1]), dtype=X.dtype, device=X.device)
        self.ybuf = torch.empty((K * B,), dtype=y.dtype, device=y.device)
        self.offsets = self.P * torch.arange(K, device=X.device).unsqueeze(1)

    def new_epoch(self, perm: torch.Tensor):
        """The epoch's orders (K, P), rearranged so that each batch's K B indices are contiguous."""
        K, B, P = self.K, self.B, self.P
        n_full = P // B

        def by_batch(p):
            full = p[:, :n_full * B].view(K, n_full, B).transpose(0, 1).reshape(n_full, K * B)
            return list(full) + ([p[:, n_full * B:].reshape(-1)] if n_full * B < P else [])
        self.perm = by_batch(perm)
        if self.x_flat or self.y_flat:
            self.perm_flat = by_batch(perm + self.offsets)

    def get(self, b: int):
        K, B = self.K, self.B
        idx = self.perm[b]
        idx_flat = self.perm_flat[b] if self.x_flat or self.y_flat else None
        n = idx.numel()
        full = n == K * B
        Xb = torch.index_select(self.X, 0, idx_flat if self.x_flat else idx,
                                out=self.xbuf if full else None)
        yb = torch.index_select(self.y, 0, idx_flat if self.y_flat else idx,
                                out=self.ybuf if full else None)
        return Xb.view(K, n // K, -1), yb.view(K, n // K)


def _add_noise(new: dict, names, sizes, rule, rng) -> None:
    """Add the step's Langevin noise (one draw for the chunk, flat in the parameter order) to the new
    params (plain SGD) or velocities (momentum), in place in their working layout."""
    noise, offset = rng.noise(), 0
    for name, size in zip(names, sizes):
        xi = noise[:, offset:offset + size].view(new[name].shape)
        new[name].addcmul_(rule.v["noise", new[name].dim()], xi)
        offset += size


def _step(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes, state, step):
    """One batched plain (S)GD / Langevin update of a chunk of members: writes the new params
    into ``spare`` and swaps the entries of ``work`` and ``spare``; marks members that diverge at
    this step and keeps their previous params (gradients: models._backward, checked against
    autograd in the tests)."""
    lr_t = rule.lr
    base = {}
    for n in names:
        p, d = work[n], spare[n]
        if rule.use_wd:  # w - lr wd w, then the gradient step from there
            base[n] = (torch.addcmul(p, rule.v["lrwd", p.dim()], p, value=-1.0, out=d), d)
        else:
            base[n] = (p, d)
    if rule.use_sam:
        batch_loss, grads = descend(ens, work, Xb, yb, loss, names, ws=state.ws)
        shifted = _sam_point(work, names, grads, masks, rule.rho)
        _, new = descend(ens, shifted, Xb, yb, loss, names, coef=lr_t, base=base, ws=state.ws)
    else:
        batch_loss, new = descend(ens, work, Xb, yb, loss, names, coef=lr_t, base=base,
                                  ws=state.ws)
    if rule.use_noise:
        _add_noise(new, names, sizes, rule, rng)
    if state.mask is not None:
        state.slots.spare.mul_(state.mask)  # masks the whole update: pruned weights stay zero
    state.check_update(batch_loss, new, names, step)
    if state.any_dead:
        alive = state.alive
        for name in names:
            torch.where(_member_view(alive, new[name]), new[name], work[name], out=new[name])
    state.slots.swap(work, spare)


def _momentum_step(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes, state, step):
    """One batched heavy-ball / Nesterov update (module docstring): v' = mu v + wd w + grad (the
    gradient added by the fused product of models._backward), Langevin noise on v', masks on v',
    then w' = w - lr v' (Nesterov: w - lr (g + mu v') = w - lr (1 + mu) v' + lr mu v). New params
    and velocities go into the spare buffers, which are swapped in; a member that diverges keeps
    its previous params and velocity."""
    vel, vspare = state.vel, state.vspare
    base = {}
    for n in names:
        p, dv = work[n], vspare[n]
        torch.mul(vel[n], rule.v["mu", p.dim()], out=dv)
        if rule.use_wd:
            dv.addcmul_(p, rule.v["wd", p.dim()])
        base[n] = (dv, dv)
    if rule.use_sam:
        batch_loss, grads = descend(ens, work, Xb, yb, loss, names, ws=state.ws)
        shifted = _sam_point(work, names, grads, masks, rule.rho)
        _, newv = descend(ens, shifted, Xb, yb, loss, names, coef=rule.minus_one, base=base,
                          ws=state.ws)
    else:
        batch_loss, newv = descend(ens, work, Xb, yb, loss, names, coef=rule.minus_one,
                                   base=base, ws=state.ws)
    if rule.use_noise:
        _add_noise(newv, names, sizes, rule, rng)
    if state.mask is not None:
        state.vslots.spare.mul_(state.mask)  # the velocity of a pruned weight stays exactly zero
    for name in names:
        v_new, p, d = newv[name], work[name], spare[name]
        if rule.nesterov:
            torch.addcmul(p, rule.v["lr1mu", p.dim()], v_new, value=-1.0, out=d)
            d.addcmul_(rule.v["lrmu", p.dim()], vel[name])
        else:
            torch.addcmul(p, rule.v["lr", p.dim()], v_new, value=-1.0, out=d)
    if state.mask is not None:
        state.slots.spare.mul_(state.mask)
    state.check_update(batch_loss, spare, names, step)
    if state.any_dead:
        alive = state.alive
        for name in names:
            keep = _member_view(alive, spare[name])
            torch.where(keep, spare[name], work[name], out=spare[name])
            torch.where(keep, vspare[name], vel[name], out=vspare[name])
    state.slots.swap(work, spare)
    state.vslots.swap(vel, vspare)


def _sam_point(work, names, grads, masks, rho_t):
    """w + rho g/|g| (per-member norm over the trainable, unmasked params): a new dict."""
    gm = [grads[n] * masks[n] if n in masks else grads[n] for n in names]
    sq = sum(g.reshape(g.shape[0], -1).pow(2).sum(1) for g in gm)
    norm = sq.sqrt()
    coef = torch.where(norm > 0, rho_t / torch.where(norm > 0, norm, 1.0), 0.0)
    shifted = dict(work)
    for n, g in zip(names, gm):
        shifted[n] = work[n] + _member_view(coef, g) * g
    return shifted


class CompileFallbackWarning(RuntimeWarning):
    """``TrainConfig(compile=True)`` could not compile a step: the run trains with the eager step."""


class _Arch:
    """What the backward pass reads of an ensemble (so a compiled step holds no params)."""

    def __init__(self, ens: Ensemble):
        self.arch, self.activation = ens.arch, ens.activation
        self.input_dim, self.hidden = ens.input_dim, tuple(ens.hidden)


_COMPILED: dict = {}  # flags and widths -> the torch.compile'd update (it caches per shape)
_FAILED: set = set()  # the keys whose compilation failed (trained eagerly, warned once)


def _split(flat: torch.Tensor, names, shapes: dict) -> dict:
    """Views of a flat buffer of C members laid out as ``_Slots`` (param-major); ``shapes``: the
    shape of one member's param (C is read off the buffer's length)."""
    C = flat.numel() // sum(math.prod(shapes[n]) for n in names)
    out, off = {}, 0
    for n in names:
        size = C * math.prod(shapes[n])
        out[n] = flat[off:off + size].view((C,) + tuple(shapes[n]))
        off += size
    return out


def _plain_update(arch, loss, names, shapes, use_wd, use_noise, use_sam):
    """The functional plain (S)GD / Langevin step of :func:`_step` (without the divergence
    handling; ``shapes``: one member's param shapes): writes the new params into ``spare``,
    returns (batch loss (C,), divergence sum)."""
    sizes = [math.prod(shapes[n]) for n in names]  # per member (the noise columns)

    def update(cur, spare, fixed, X, y, lr, lrwd, noise_c, rho, noise, mask):
        work = dict(fixed)
        work.update(_split(cur, names, shapes))
        point = work
        if use_sam:
            _, grads = descend(arch, work, X, y, loss, names)
            point = _sam_point(work, names, grads,
                               {} if mask is None else _split(mask, names, shapes), rho)
        base = {n: (work[n] - _member_view(lrwd, work[n]) * work[n] if use_wd else work[n],
                    None) for n in names}  # w - lr wd w, then the fused gradient step
        batch_loss, upd = descend(arch, point, X, y, loss, names, coef=lr, base=base)
        dest = _split(spare, names, shapes)
        kept = None if mask is None else _split(mask, names, shapes)
        total, off = batch_loss.sum(), 0
        for n, size in zip(names, sizes):
            new = upd[n]
            if use_noise:
                new = new + _member_view(noise_c, new) * noise[:, off:off + size].reshape(new.shape)
            if kept is not None:
                new = new * kept[n]
            dest[n].copy_(new)
            total = total + new.sum()
            off += size
        return batch_loss, total
    return update


def _momentum_update(arch, loss, names, shapes, use_wd, use_noise, use_sam, nesterov):
    """The functional heavy-ball / Nesterov step of :func:`_momentum_step` (without the
    divergence handling; ``shapes`` as above): writes the new params and velocities into
    ``spare`` and ``vspare``, returns (batch loss (C,), divergence sum)."""
    sizes = [math.prod(shapes[n]) for n in names]  # per member (the noise columns)

    def update(cur, vcur, spare, vspare, fixed, X, y, mu, wd, lr, lr1mu, lrmu, minus_one,
               noise_c, rho, noise, mask):
        work = dict(fixed)
        work.update(_split(cur, names, shapes))
        vel = _split(vcur, names, shapes)
        point = work
        if use_sam:
            _, grads = descend(arch, work, X, y, loss, names)
            point = _sam_point(work, names, grads,
                               {} if mask is None else _split(mask, names, shapes), rho)
        base = {}
        for n in names:  # v' = mu v + wd w, then + the gradient by the fused product
            p, v = work[n], vel[n]
            dv = v * _member_view(mu, v)
            base[n] = (dv + p * _member_view(wd, p) if use_wd else dv, None)
        batch_loss, upd = descend(arch, point, X, y, loss, names, coef=minus_one, base=base)
        dest, vdest = _split(spare, names, shapes), _split(vspare, names, shapes)
        kept = None if mask is None else _split(mask, names, shapes)
        total, off = batch_loss.sum(), 0
        for n, size in zip(names, sizes):
            nv, p = upd[n], work[n]
            if use_noise:
                nv = nv + _member_view(noise_c, nv) * noise[:, off:off + size].reshape(nv.shape)
            if kept is not None:
                nv = nv * kept[n]
            if nesterov:
                new = p - _member_view(lr1mu, p) * nv + _member_view(lrmu, p) * vel[n]
            else:
                new = p - _member_view(lr, p) * nv
            if kept is not None:
                new = new * kept[n]
            vdest[n].copy_(nv)
            dest[n].copy_(new)
            total = total + new.sum()
            off += size
        return batch_loss, total
    return update


class _CompiledStep:
    """The step of a chunk through ``torch.compile`` (module docstring, "Compiled step"), called
    as :func:`_step` / :func:`_momentum_step` (``eager``), which it falls back to, with one
    :class:`CompileFallbackWarning`, where compilation fails."""

    def __init__(self, ens, loss, names, shapes, rule, masked: bool, eager):
        self.eager, self.momentum = eager, rule.momentum
        self.key = (rule.momentum, rule.nesterov, ens.arch, ens.activation, ens.input_dim,
                    tuple(ens.hidden), loss, tuple(names), rule.use_wd, rule.use_noise,
                    rule.use_sam, masked, ens.dtype, ens.device.type,
                    tuple((n, shapes[n][1:]) for n in names))
        self.fn = None if self.key in _FAILED else _COMPILED.get(self.key)
        if self.fn is None and self.key not in _FAILED:
            arch, shapes = _Arch(ens), {n: shapes[n][1:] for n in names}  # one member's
            update = _momentum_update(arch, loss, names, shapes, rule.use_wd, rule.use_noise,
                                      rule.use_sam, rule.nesterov) if rule.momentum else \
                _plain_update(arch, loss, names, shapes, rule.use_wd, rule.use_noise,
                              rule.use_sam)
            # a code object of its own: torch's recompile limit (per code object) then counts
            # the shapes of this key only, and its guards are checked against those alone
            update = types.FunctionType(update.__code__.replace(), update.__globals__,
                                        update.__name__, None, update.__closure__)
            try:
                self.fn = torch.compile(update, dynamic=False)
            except Exception as e:  # torch.compile itself unsupported here
                self._fail(e)
            else:
                _COMPILED[self.key] = self.fn

    def _fail(self, e: Exception):
        _FAILED.add(self.key)
        _COMPILED.pop(self.key, None)
        self.fn = None
        first = (str(e).strip().splitlines() or [""])[0][:200]
        warnings.warn(f"cfg.compile=True: torch.compile failed ({type(e).__name__}: {first}); "
                      f"training with the eager step", CompileFallbackWarning, stacklevel=4)

    def __call__(self, ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes, state,
                 step):
        if self.fn is None:
            return self.eager(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes,
                              state, step)
        noise = rng.noise() if rule.use_noise else None
        fixed = {n: t for n, t in work.items() if n not in spare}
        slots = state.slots
        try:
            if self.momentum:
                vs = state.vslots
                batch_loss, total = self.fn(
                    slots.cur, vs.cur, slots.spare, vs.spare, fixed, Xb, yb, rule.mu, rule.wd,
                    rule.lr, rule.lr1mu, rule.lrmu, rule.minus_one, rule.noise, rule.rho, noise,
                    state.mask)
            else:
                batch_loss, total = self.fn(slots.cur, slots.spare, fixed, Xb, yb, rule.lr,
                                            rule.lrwd, rule.noise, rule.rho, noise, state.mask)
        except Exception as e:  # no compiler, an unsupported platform: the eager step
            if noise is not None:
                rng.pos -= 1  # the eager step draws this step's noise again
            self._fail(e)
            return self.eager(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes,
                              state, step)
        # the divergence rule of the eager steps: a diverged member keeps its previous values
        state.check_update(batch_loss, spare, names, step, total=total)
        if state.any_dead:
            keep = {n: _member_view(state.alive, spare[n]) for n in names}
            for n in names:
                torch.where(keep[n], spare[n], work[n], out=spare[n])
            if self.momentum:
                for n in names:
                    torch.where(keep[n], state.vspare[n], state.vel[n], out=state.vspare[n])
        slots.swap(work, spare)
        if self.momentum:
            state.vslots.swap(state.vel, state.vspare)


# ---------------------------------------------------------------------- evaluation
def evaluate(ens: Ensemble, X, y, loss: str = "logistic", params=None) -> dict[str, np.ndarray]:
    """Mean loss and error of every member on (X, y): {"error": (K,), "loss": (K,)} numpy float64.

    "error": classification error sign(f) != y for logistic/hinge (f == 0 counts half), mean
    squared error (y - f)^2 for mse (see models.losses)."""
    loss = check_choice("loss", loss, LOSSES)
    X, y = prepare_data(ens, X, y)
    with torch.no_grad():
        f = ens._forward(X, ens.params if params is None else params)
        return {"error": pointwise_error(f, y, loss).mean(-1).double().cpu().numpy(),
                "loss": pointwise_loss(f, y, loss).mean(-1).double().cpu().numpy()}


def dead_members(ens: Ensemble, X, atol: float = 0.0, params=None) -> np.ndarray:
    """(K,) bool: members whose output is constant on X (max - min <= atol), e.g. because pruning
    cut every path through a layer (docs/design.md pitfall: flag them, never average them in)."""
    X = ens.check_inputs(X)
    with torch.no_grad():
        f = ens._forward(X, ens.params if params is None else params)
        return ((f.max(-1).values - f.min(-1).values) <= atol).cpu().numpy()
