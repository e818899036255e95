"""What every sampler of a perceptron's Gibbs measure shares: the checks of a problem (patterns, labels,
temperatures, seeds, padding), of its starts and teachers, the training errors and teacher cosines of
its chains, and the result it returns (:class:`GibbsChains`). The samplers are
:mod:`models.gibbs_sampler` (exact line moves), :mod:`models.hmc_sampler` (exact Hamiltonian Monte
Carlo) and :mod:`models.ising_sampler` (Metropolis on +-1 weights)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .mixing import MixingCheck, mixing_check
from .validation import check_int, check_seeds, per_member


@dataclass
class GibbsChains:
    """What :func:`gibbs_sample` returns (torch tensors, float64 unless said).

    samples: (n_saved, K, ...) what ``observe`` returned at each saved sweep (default: the weights,
    (n_saved, K, N)); energy: (n_saved, K) training errors (int64) at the saved sweeps;
    energy_trace: (sweeps, K) training errors at the end of every sweep, burn-in included;
    weights: (K, N) the final state; saved_sweeps: the 1-based sweep index of each saved sample;
    overlap_trace: (sweeps, K) the cosine R of w and the teacher at the end of every sweep, burn-in
    included (None without a ``teacher``); burn_in: the sweeps discarded; events: (K,) int64 the
    boundary events (reflections and refractions) of each chain over all iterations (HMC only).
    """

    samples: torch.Tensor
    energy: torch.Tensor
    energy_trace: torch.Tensor
    weights: torch.Tensor
    saved_sweeps: list[int]
    overlap_trace: torch.Tensor | None = None
    burn_in: int = 0
    events: torch.Tensor | None = None

    def mixing(self, teacher_started, values=None, *, n_batches: int = 10, z: float = 3.0) -> MixingCheck:
        """Two-start and split-half check (:func:`models.mixing.mixing_check`) of ``values``
        (n, K) (default: the overlap trace after the burn-in) over K chains of one problem;
        teacher_started: (K,) booleans."""
        if values is None:
            if self.overlap_trace is None:
                raise ValueError("values must be given when the chains were run without a teacher")
            values = self.overlap_trace[self.burn_in:]
        return mixing_check(values, teacher_started, n_batches=n_batches, z=z)


def _as_tensor(name: str, value, ndim: int) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach().to(device="cpu", dtype=torch.float64)
    else:
        t = torch.from_numpy(np.array(value, dtype=np.float64))
    if t.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite")
    return t


def check_problem(patterns, labels, temperature, seeds, n_patterns):
    """The checked arguments every perceptron sampler shares: (X, y, T, valid, seeds).

    patterns (K, P, N) and labels (K, P) as float64 tensors, T: (K,) float64 temperatures >= 0,
    valid: (K, P) booleans (the first n_patterns[k] rows of chain k; all rows without
    n_patterns), seeds: K ints. Raises ValueError naming the bad argument."""
    X = _as_tensor("patterns", patterns, 3)
    y = _as_tensor("labels", labels, 2)
    K, P, N = X.shape
    if N < 1 or K < 1:
        raise ValueError(f"patterns must have shape (K >= 1, P, N >= 1), got {tuple(X.shape)}")
    if tuple(y.shape) != (K, P):
        raise ValueError(f"labels must have shape {(K, P)} (chains, patterns), got {tuple(y.shape)}")
    T = torch.as_tensor(per_member("temperature", temperature, K, minimum=0.0))
    seeds = check_seeds("seeds", seeds, K)
    valid = torch.ones((K, P), dtype=torch.bool)
    if n_patterns is not None:
        n = np.asarray(n_patterns)
        if n.shape != (K,) or not np.issubdtype(n.dtype, np.integer) or (n < 0).any() or (n > P).any():
            raise ValueError(f"n_patterns must be K={K} integers in [0, {P}], got {n_patterns!r}")
        valid = torch.arange(P)[None, :] < torch.as_tensor(n)[:, None]
    yv = y[valid]
    if not torch.all((yv == 1) | (yv == -1)):
        raise ValueError("labels must be -1 or +1")
    return X, y, T, valid, seeds


def check_lengths(sweeps, burn_in, thin) -> tuple[int, int, int]:
    """The run length every sampler shares: sweeps >= 1 kept after burn_in >= 0, one sample per thin >= 1."""
    return check_int("sweeps", sweeps, 1), check_int("burn_in", burn_in, 0), check_int("thin", thin, 1)


def check_start(start, K: int, N: int) -> torch.Tensor:
    """A float64 copy of the (K, N) start weights, checked."""
    w = _as_tensor("start", start, 2).clone()
    if tuple(w.shape) != (K, N):
        raise ValueError(f"start must have shape {(K, N)} (chains, inputs), got {tuple(w.shape)}")
    return w


def check_teacher(teacher, K: int, N: int) -> torch.Tensor | None:
    """The (K, N) teacher directions B/|B| (None without a teacher), checked."""
    if teacher is None:
        return None
    B = _as_tensor("teacher", teacher, 2)
    if tuple(B.shape) != (K, N):
        raise ValueError(f"teacher must have shape {(K, N)} (chains, inputs), got {tuple(B.shape)}")
    norm = B.norm(dim=-1, keepdim=True)
    if bool((norm == 0).any()):
        raise ValueError("teacher must be nonzero in every chain")
    return B / norm


def cosine(w: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """R = w.B/(|w||B|) of each chain, (K, N), (K, N) unit vectors -> (K,) (0 for w = 0)."""
    norm = w.norm(dim=-1)
    return torch.where(norm > 0, (w * unit).sum(-1) / norm.clamp(min=1e-300), torch.zeros_like(norm))


def training_errors(signed_patterns: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Number of training errors of each chain: #{mu : y_mu w.x_mu < 0}; (K, P, N), (K, N) -> (K,).

    Padded rows (zero patterns) have stability 0 and never count."""
    a = torch.bmm(signed_patterns, w.unsqueeze(-1)).squeeze(-1)
    return (a < 0).sum(-1)


class ChainRecorder:
    """The bookkeeping every sampler does after each sweep: the energy trace, the teacher-overlap trace
    (where a teacher is given) and the kept samples (every ``thin``-th sweep after ``burn_in``, or what
    ``observe(w, E)`` makes of them)."""

    def __init__(self, total: int, K: int, N: int, burn_in: int, thin: int, observe, teacher_unit):
        self.K, self.N, self.burn_in, self.thin, self.observe, self.unit = K, N, burn_in, thin, observe, teacher_unit
        self.trace = torch.empty((total, K), dtype=torch.int64)
        self.overlap = None if teacher_unit is None else torch.empty((total, K), dtype=torch.float64)
        self.saved, self.saved_E, self.saved_at = [], [], []

    def record(self, sweep: int, w: torch.Tensor, E: torch.Tensor) -> None:
        self.trace[sweep] = E
        if self.overlap is not None:
            self.overlap[sweep] = cosine(w, self.unit)
        if sweep >= self.burn_in and (sweep - self.burn_in + 1) % self.thin == 0:
            self.saved.append(w.clone() if self.observe is None else self.observe(w.clone(), E))
            self.saved_E.append(E)
            self.saved_at.append(sweep + 1)

    def result(self, w: torch.Tensor, **extra) -> GibbsChains:
        samples = torch.stack(self.saved) if self.saved else torch.empty((0, self.K, self.N), dtype=torch.float64)
        energy = torch.stack(self.saved_E) if self.saved_E else torch.empty((0, self.K), dtype=torch.int64)
        return GibbsChains(samples=samples, energy=energy, energy_trace=self.trace, weights=w,
                           saved_sweeps=self.saved_at, overlap_trace=self.overlap, burn_in=self.burn_in, **extra)
