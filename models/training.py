"""Training an ensemble at a temperature: (stochastic) gradient descent, Langevin dynamics, SAM.

Update rule, per member k and per trainable parameter vector w (all members in one batched step):

    w <- w - lr_k * grad_w[ mean_{i in batch} loss_i(w) + weight_decay_k / 2 * |w|^2 ]
           + sqrt(2 * lr_k * T_k / P) * xi,            xi ~ N(0, I)

with P the number of training examples. For full-batch training this is the Euler-Maruyama
discretisation (step lr) of the Langevin equation dw = -grad(E/P) dt + sqrt(2 T/P) dB, whose
stationary law is the Gibbs measure exp(-E/T) with

    E(w) = sum_{i=1}^P loss_i(w) + P * weight_decay / 2 * |w|^2,

the energy summed (not averaged) over the training set -- the statistical-mechanics convention of
docs/design.md (Engel & Van den Broeck 2001, ch. 2; Welling & Teh 2011 for the stochastic-gradient
form). The discretisation biases the stationary law by O(lr * curvature): for a quadratic E the
stationary covariance along a Hessian eigendirection a (of E/P) is (T/P)/a / (1 - lr a / 2).
Weight decay acts on every trainable parameter (biases included).

SAM (Foret et al. 2021) with radius rho: the gradient is taken at w + rho_k g / |g|, g the gradient
at w and |g| its norm over all trainable parameters of member k; the step starts from w.

Masks (dict name -> bool tensor of the param's shape, True = kept): masked weights are set to zero
before training and stay exactly zero: the update (gradient, weight decay, noise) is multiplied by
the mask, as is the SAM perturbation, and the weights are re-multiplied by the mask after each step.

Divergence: when a member's batch loss or any of its updated parameters is not finite (checked at every
step through one per-member sum of the batch loss and all updated parameters, so finite values whose sum
overflows, ~1e38 in float32, count too), the member is marked diverged at that step (the reported step is
exact), its parameters stay at the last finite values (the update that would
have made them non-finite is dropped) and it is never updated again; the others go on unaffected.
Its ``train_loss`` in the report is NaN.

Gradients: written out by hand for the three architectures and losses (``models._backward``, checked
against autograd in the tests); the step w - lr g is fused into the weight-gradient product, with the
per-member learning rate folded into the loss slope.

Randomness: member k owns one ``torch.Generator`` seeded with ``seeds[k]`` (on the CPU), used for its
data order (one ``randperm`` per epoch) and its Langevin noise, which is drawn in chunks of
``max(1, 1024 // n_k)`` steps (n_k: that member's trainable parameter count). Nothing a member
draws depends on K or on the other members, so a member's trajectory inside an ensemble equals its
trajectory alone (up to float rounding of the batched products).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ._backward import descend
from .ensemble import Ensemble
from .losses import LOSSES, pointwise_error, pointwise_loss
from .validation import check_choice, check_int, check_seeds, per_member

_NOISE_CHUNK = 1024  # noise numbers drawn per member per generator call (independent of K)


@dataclass
class TrainConfig:
    """Hyperparameters of one training run (shared by all members unless noted).

    ``lr``, ``langevin_T``, ``weight_decay`` and ``sam_rho`` are floats or length-K sequences /
    tensors (one value per member, e.g. a temperature ladder in one ensemble)."""

    loss: str = field(default="logistic", metadata={"help": "logistic | mse | hinge"})
    lr: float | Sequence[float] = field(default=0.1, metadata={"help": "learning rate (>= 0)"})
    epochs: int = field(default=100, metadata={"help": "passes over the training set"})
    batch_size: int | None = field(
        default=None, metadata={"help": "examples per step; None = full batch (no shuffling)"})
    langevin_T: float | Sequence[float] = field(
        default=0.0, metadata={"help": "Langevin temperature T >= 0 (Gibbs exp(-E/T), E summed)"})
    weight_decay: float | Sequence[float] = field(
        default=0.0, metadata={"help": "L2 coefficient lambda: adds lambda/2 |w|^2 to the mean loss"})
    sam_rho: float | Sequence[float] = field(
        default=0.0, metadata={"help": "SAM radius rho >= 0 (0 = plain gradient)"})
    checkpoints: Sequence[int] = field(
        default=(), metadata={"help": "epochs after which to snapshot params (0 = before training)"})


@dataclass
class TrainReport:
    """What :func:`train` returns. Arrays are numpy, one entry per member."""

    diverged: np.ndarray          # (K,) bool
    diverged_step: np.ndarray     # (K,) int64, step (0-based, counted over all epochs) or -1
    train_loss: np.ndarray        # (K,) float64, final mean training loss (NaN if diverged)
    train_error: np.ndarray       # (K,) float64, final training error (see models.losses)
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(repr=False)  # epoch -> params
    steps: int = 0                # optimisation steps taken per member


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


def _member_view(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(K,) -> (K, 1, ..., 1) broadcasting against ``like``."""
    return v.view((-1,) + (1,) * (like.dim() - 1))


class _MemberRandom:
    """Per-member generators: data order and Langevin noise (see the module docstring)."""

    def __init__(self, seeds: tuple[int, ...], n_noise: int, dtype, device):
        self.gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.n = n_noise
        self.chunk = max(1, _NOISE_CHUNK // max(n_noise, 1))
        self.buf = torch.empty((len(seeds), self.chunk, n_noise), dtype=dtype)
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
            for k, g in enumerate(self.gens):
                torch.randn(flat.shape[1], generator=g, dtype=flat.dtype, out=flat[k])
            self.dev_buf = self.buf.to(self.device)
            self.pos = 0
        self.pos += 1
        return self.dev_buf[:, self.pos - 1]


def member_loss(ens: Ensemble, params, X, y, loss: str, transposed: bool = False) -> torch.Tensor:
    """Mean loss of each member on (X, y): (K,)."""
    return pointwise_loss(ens._forward(X, params, transposed), y, loss).mean(-1)


# ---------------------------------------------------------------------- training
def train(ens: Ensemble, X, y, cfg: TrainConfig, masks=None, seeds=None) -> TrainReport:
    """Train every member of ``ens`` in place on (X, y) with ``cfg`` (update rule: module docstring).

    X: (P, D) shared by all members or (K, P, D) per member; y: (P,) or (K, P).
    masks: optional dict name -> bool tensor (True = kept); masked weights stay exactly zero.
    seeds: K ints for the data order and the Langevin noise (required when ``batch_size`` < P or
    some temperature > 0; ignored otherwise).
    """
    torch.set_flush_denormal(True)
    K = ens.n_members
    if not isinstance(cfg, TrainConfig):
        raise ValueError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    loss = check_choice("cfg.loss", cfg.loss, LOSSES)
    epochs = check_int("cfg.epochs", cfg.epochs, 0)
    lr = per_member("cfg.lr", cfg.lr, K)
    T = per_member("cfg.langevin_T", cfg.langevin_T, K)
    wd = per_member("cfg.weight_decay", cfg.weight_decay, K)
    rho = per_member("cfg.sam_rho", cfg.sam_rho, K)
    X, y = prepare_data(ens, X, y)
    P = X.shape[-2]
    if cfg.batch_size is None:
        B = P
    else:
        B = check_int("cfg.batch_size", cfg.batch_size, 1)
        if B > P:
            raise ValueError(f"cfg.batch_size must be <= the number of training examples {P} "
                             f"(or None for full batch), got {B}")
    checkpoints = sorted({check_int("cfg.checkpoints entry", e, 0) for e in cfg.checkpoints})
    if checkpoints and checkpoints[-1] > epochs:
        raise ValueError(f"cfg.checkpoints must lie in [0, cfg.epochs={epochs}], got {checkpoints}")
    masks = check_masks(ens, masks)
    minibatch = B < P
    stochastic = minibatch or bool((T > 0).any())
    if stochastic:
        if seeds is None:
            raise ValueError("seeds (one int per member) are required when cfg.batch_size < P or "
                             "cfg.langevin_T > 0")
        seeds = check_seeds("seeds", seeds, K)

    names = ens.trainable
    params = ens.params
    dev, dt = ens.device, ens.dtype
    as_t = lambda a: torch.as_tensor(a, dtype=dt, device=dev)  # noqa: E731
    lr_t, lrwd_t, rho_t = as_t(lr), as_t(lr * wd), as_t(rho)
    noise_t = as_t(np.sqrt(2.0 * lr * T / P))
    use_wd, use_sam, use_noise = bool((wd > 0).any()), bool((rho > 0).any()), bool((T > 0).any())
    sizes = [params[n][0].numel() for n in names]

    with torch.no_grad():
        for name, m in masks.items():
            params[name].mul_(m)
    snapshots: dict[int, dict[str, torch.Tensor]] = {}
    if 0 in checkpoints:
        snapshots[0] = {n: p.detach().clone() for n, p in params.items()}
    rng = _MemberRandom(seeds, sum(sizes), dt, dev) if stochastic else None

    alive = torch.ones(K, dtype=torch.bool, device=dev)
    diverged_step = torch.full((K,), -1, dtype=torch.int64, device=dev)
    state = _State(alive, diverged_step)
    n_batches = math.ceil(P / B)
    step = 0
    # The loop works on a dict of tensors in a working layout, double-buffered: each step writes
    # the new params into the spare buffers and swaps; the results are copied into the tensors of
    # ens.params at the end, so training is in place for the caller. Hidden weight matrices are
    # held transposed, (K, fan_in, h) contiguous, for faster products.
    tr = {n for n in names if ens.arch != "linear" and n.startswith("w") and n != "w_out"}
    to_work = lambda n, p: p.transpose(1, 2).contiguous() if n in tr else p.detach().clone()  # noqa
    from_work = lambda n, p: p.transpose(1, 2).clone() if n in tr else p.detach().clone()  # noqa
    with torch.no_grad():
        work = {n: to_work(n, p) for n, p in params.items()}
        spare = {n: torch.empty_like(work[n]) for n in names}
        masks_w = {n: to_work(n, m) for n, m in masks.items()}
        batches = _Batches(X, y, K, B) if minibatch else None
        state.ws = {}  # reused intermediates of the backward pass
        for epoch in range(1, epochs + 1):
            if minibatch:
                batches.new_epoch(rng.permutations(P))
            for b in range(n_batches):
                Xb, yb = batches.get(b) if minibatch else (X, y)
                _step(ens, work, spare, Xb, yb, loss, names, masks_w, lr_t, lrwd_t, rho_t,
                      noise_t, use_wd, use_sam, use_noise, rng, sizes, state, step)
                step += 1
            if epoch in checkpoints:
                snapshots[epoch] = {n: from_work(n, p) for n, p in work.items()}
        for n in names:
            params[n].copy_(work[n].transpose(1, 2) if n in tr else work[n])

    with torch.no_grad():
        f = ens._forward(X, params)
        final_loss = pointwise_loss(f, y, loss).mean(-1)
        final_err = pointwise_error(f, y, loss).mean(-1)
    diverged = (~alive).cpu().numpy()
    final_loss = final_loss.double().cpu().numpy()
    final_loss[diverged] = np.nan
    return TrainReport(diverged=diverged, diverged_step=diverged_step.cpu().numpy(),
                       train_loss=final_loss, train_error=final_err.double().cpu().numpy(),
                       checkpoints=snapshots, steps=step)


class _State:
    """Divergence bookkeeping of a training run: ``alive`` (K,) bool, ``diverged_step`` (K,)
    int64 and whether any member has diverged yet (a Python bool, so that the common case of no
    divergence costs one host read per step)."""

    def __init__(self, alive: torch.Tensor, diverged_step: torch.Tensor):
        self.alive, self.diverged_step, self.any_dead = alive, diverged_step, False


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

    def new_epoch(self, perm: torch.Tensor):
        self.perm = perm
        if self.x_flat or self.y_flat:
            self.perm_flat = perm + self.P * torch.arange(self.K, device=perm.device).unsqueeze(1)

    def get(self, b: int):
        K, B = self.K, self.B
        sl = slice(b * B, (b + 1) * B)
        idx = self.perm[:, sl].reshape(-1)
        idx_flat = self.perm_flat[:, sl].reshape(-1) if self.x_flat or self.y_flat else None
        n = idx.numel()
        full = n == K * B
        Xb = torch.index_select(self.X, 0, idx_flat if self.x_flat else idx,
                                out=self.xbuf if full else None)
        yb = torch.index_select(self.y, 0, idx_flat if self.y_flat else idx,
                                out=self.ybuf if full else None)
        return Xb.view(K, n // K, -1), yb.view(K, n // K)


def _step(ens, work, spare, Xb, yb, loss, names, masks, lr_t, lrwd_t, rho_t, noise_t, use_wd,
          use_sam, use_noise, rng, sizes, state, step):
    """One batched update of all members: writes the new params into ``spare`` and swaps the
    entries of ``work`` and ``spare``; marks members that diverge at this step and keeps their
    previous params (gradients: models._backward, checked against autograd in the tests)."""
    K = lr_t.shape[0]
    base = {}
    for n in names:
        p, d = work[n], spare[n]
        if use_wd:  # w - lr wd w, then the gradient step from there
            base[n] = (torch.addcmul(p, _member_view(lrwd_t, p), p, value=-1.0, out=d), d)
        else:
            base[n] = (p, d)
    if use_sam:
        batch_loss, grads = descend(ens, work, Xb, yb, loss, names, ws=state.ws)
        shifted = _sam_point(work, names, grads, masks, rho_t)
        _, new = descend(ens, shifted, Xb, yb, loss, names, coef=lr_t, base=base, ws=state.ws)
    else:
        batch_loss, new = descend(ens, work, Xb, yb, loss, names, coef=lr_t, base=base,
                                  ws=state.ws)
    noise = rng.noise() if use_noise else None
    offset = 0
    total = batch_loss.clone()  # per member: batch loss + the sum of every updated param
    for name, size in zip(names, sizes):
        cand = new[name]
        if use_noise:
            xi = noise[:, offset:offset + size].view(cand.shape)  # in the working layout
            cand.addcmul_(_member_view(noise_t, cand), xi)
        offset += size
        m = masks.get(name)
        if m is not None:
            cand.mul_(m)  # masks the whole update and keeps pruned weights exactly zero
        total.add_(cand.reshape(K, -1).sum(1))
    # a sum is finite iff every term is, unless the terms are finite but their sum overflows
    # (~1e38 in float32): counted as diverged too
    ok = torch.isfinite(total)
    alive = state.alive
    newly = alive & ~ok
    if bool(newly.any()):
        state.diverged_step.masked_fill_(newly, step)
        alive &= ok
        state.any_dead = True
    if state.any_dead:
        for name in names:
            torch.where(_member_view(alive, new[name]), new[name], work[name], out=new[name])
    for name in names:
        work[name], spare[name] = new[name], work[name]


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
