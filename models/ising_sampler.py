"""Exact single-spin-flip Metropolis sampler of the Ising perceptron's Gibbs measure.

The model (Gardner & Derrida 1989; Gyorgyi, PRA 41, 7097 (1990); Seung, Sompolinsky & Tishby, PRA 45,
6056 (1992) = SST; Engel & Van den Broeck, *Statistical Mechanics of Learning*, CUP 2001 = EvdB,
ch. 7): a teacher B and a student J in {-1, +1}^N, P = alpha N training inputs x_mu ~ N(0, I_N)
with labels y_mu = sign(B.x_mu), stabilities lambda_mu = y_mu J.x_mu / sqrt(N), energy
E(J) = #{mu : lambda_mu < 0} (the number of training errors, summed over examples as in the
Gibbs measure exp(-E/T) of the spherical case), and the Gibbs measure

    p(J) = exp(-E(J)/T) / Z   over the 2^N binary students,

T = 0: uniform over the zero-error students (the version space). The overlap is R = J.B/N (the
cosine of J and B, J.B/(sqrt(N)|B|), for a teacher that is not binary), and the generalisation
error arccos(R)/pi (EvdB eq. 1.3).

Moves: Metropolis (Metropolis et al. 1953) with a symmetric single-spin-flip proposal. Flipping J_i
changes every stability by -2 J_i y_mu x_mu,i / sqrt(N), so the energy change dE (an integer) is
counted in O(P) per move; the flip is accepted with probability min(1, exp(-dE/T)), at T = 0 iff dE
<= 0. Detailed balance holds for each single-site update, so both scans leave p invariant:
``scan="random"`` (default) draws N sites uniformly with replacement per sweep (a reversible chain),
``scan="systematic"`` visits i = 0, ..., N-1 in order (T > 0 only, see below). A sweep is N
proposals. The stabilities are float64, updated incrementally and recomputed from scratch at the
start of every sweep (no drift); the energy is an exact integer count.

Zero temperature. The systematic scan is then a deterministic map (every flip with dE <= 0 is
accepted) and is refused; the random scan is used. From a zero-error start the chain is a random
walk on the version space that rejects every flip creating an error: uniform on the version space's
component (under single flips) that holds the start, which need not be the whole version space; near
and above alpha_c the teacher is often an isolated point, and the chain never moves. From a start
with errors the chain only descends and can stay forever in a local minimum with E > 0 (the zero-
temperature Metropolis chain is not ergodic). Finite T > 0 is ergodic.

The first-order transition (Gyorgyi 1990; SST sec. VI; EvdB sec. 7.2). In the thermodynamic limit
at T = 0 the perfect-generalisation state R = 1 is the equilibrium state above alpha_c ~ 1.245,
and a poor-generalisation metastable branch exists up to its spinodal alpha ~ 1.49. Chains started
at the teacher and at a random J show the jump and its hysteresis; at finite N and T > 0 the
transition appears as a bimodal distribution of R across chains (and long stays in each mode).
Single flips mix slowly here: at N = 100 and T <= 0.25 (400 sweeps) every chain from the teacher
kept R ~ 1 and every chain from a random J stayed near R ~ 0.3 with errors, at every alpha in
[0.8, 2] (acceptance below 1%): the hysteresis of a non-ergodic chain, not the equilibrium one.
At N = 40, T = 0.5 (2000 sweeps) both starts agreed, with R ~ 0.3-0.5 up to alpha = 1.2, a bimodal
R (chains at 1 and near 0.5) at alpha = 1.4-1.6 and R ~ 1 from alpha = 1.8. Check with
:meth:`IsingChains.mixing`.

Vectorised over K independent chains (each with its own patterns, labels, temperature, teacher
and seed). Randomness: chain k owns one ``torch.Generator`` seeded with ``seeds[k]`` and draws, per
sweep, N acceptance uniforms (and N more for the sites of the random scan), so its trajectory does
not depend on the other chains. Chains may have different numbers of patterns: pad them to a common P and pass
``n_patterns``; padded rows never count.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .perceptron_chains import _as_tensor, check_lengths, check_problem, check_teacher
from .mixing import MixingCheck, mixing_check
from .validation import check_choice

SCANS = ("systematic", "random")

__all__ = ["SCANS", "IsingChains", "ising_metropolis", "ising_training_errors"]


@dataclass
class IsingChains:
    """What :func:`ising_metropolis` returns (torch tensors).

    overlap_trace: (burn_in + sweeps, K) float64 R = J.B/N at the end of every sweep, burn-in
    included; energy_trace: (burn_in + sweeps, K) int64 training errors at the end of every sweep;
    acceptance: (K,) fraction of accepted flips over all sweeps; samples: (n_saved, K, N) int8 the
    students at the saved sweeps (None if ``keep_samples=False``); states: (K, N) int8 the final
    students; saved_sweeps: the 1-based sweep index of each saved sample; burn_in: sweeps discarded.
    """

    overlap_trace: torch.Tensor
    energy_trace: torch.Tensor
    acceptance: torch.Tensor
    samples: torch.Tensor | None
    states: torch.Tensor
    saved_sweeps: list[int]
    burn_in: int

    @property
    def error_trace(self) -> torch.Tensor:
        """Generalisation error arccos(R)/pi at the end of every sweep, (burn_in + sweeps, K)."""
        return torch.arccos(self.overlap_trace.clamp(-1.0, 1.0)) / torch.pi

    def mixing(self, teacher_started, *, n_batches: int = 10, z: float = 3.0) -> MixingCheck:
        """Two-start and split-half check of the overlap R after the burn-in, over all K chains
        (which should be chains of one problem): see :func:`models.mixing.mixing_check`."""
        return mixing_check(self.overlap_trace[self.burn_in:], teacher_started, n_batches=n_batches, z=z)


def ising_training_errors(patterns, labels, students) -> torch.Tensor:
    """Training errors #{mu : y_mu J.x_mu < 0} of binary students; (K, P, N), (K, P), (K, N) -> (K,) int64.
    (Padded rows with zero patterns never count.)"""
    X = _as_tensor("patterns", patterns, 3)
    y = _as_tensor("labels", labels, 2)
    J = _as_tensor("students", students, 2)
    a = torch.bmm(y[..., None] * X, J.unsqueeze(-1)).squeeze(-1)
    return (a < 0).sum(-1)


def _binary(name: str, value, shape: tuple[int, int]) -> torch.Tensor:
    t = value.detach().cpu() if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
    if tuple(t.shape) != shape:
        raise ValueError(f"{name} must have shape {shape} (chains, inputs), got {tuple(t.shape)}")
    t = t.to(torch.float64)
    if not torch.all((t == 1) | (t == -1)):
        raise ValueError(f"{name} must hold only -1 and +1 (binary students)")
    return t


def ising_metropolis(patterns, labels, temperature, start, *, teacher, sweeps: int, seeds, burn_in: int = 0,
                     thin: int = 1, scan: str = "random", n_patterns=None,
                     keep_samples: bool = True) -> IsingChains:
    """Run K Metropolis chains of the Ising perceptron's Gibbs measure (see the module docstring).

    patterns: (K, P, N) inputs; labels: (K, P) in {-1, +1}; temperature: T >= 0, a number or one per
    chain; start: (K, N) in {-1, +1}; teacher: (K, N) the teacher (any nonzero vector; binary for
    the Ising teacher), used for R; sweeps: sweeps after ``burn_in`` (a sweep is N proposals); a
    sample is saved at the end of every ``thin``-th sweep after the burn-in; seeds: one int per
    chain; scan: "random" or "systematic" (T > 0 only); n_patterns: (K,) valid rows per chain when the patterns
    are padded; keep_samples: keep the saved students (False: traces only).
    """
    X, y, T, valid, seeds = check_problem(patterns, labels, temperature, seeds, n_patterns)
    K, P, N = X.shape
    J = _binary("start", start, (K, N)).clone()
    if teacher is None:
        raise ValueError("teacher must be given: a (K, N) nonzero vector per chain")
    Bn = check_teacher(teacher, K, N)
    sweeps, burn_in, thin = check_lengths(sweeps, burn_in, thin)
    scan = check_choice("scan", scan, SCANS)
    if scan == "systematic" and bool((T == 0).any()):
        raise ValueError("scan='systematic' at temperature 0 is a deterministic map (every flip with dE <= 0 "
                         "is accepted), not an ergodic chain: use scan='random' for zero-temperature chains")

    Z = torch.where(valid[..., None], y[..., None] * X, torch.zeros_like(X)) / np.sqrt(N)
    Zt = Z.transpose(1, 2).contiguous()  # (K, N, P): row i holds the column x_{., i} y / sqrt(N)
    zero_T = T == 0
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    rows = torch.arange(K)
    draws = 2 * N if scan == "random" else N  # per chain and sweep: N acceptance uniforms (and N sites)
    uniforms = torch.empty((K, draws), dtype=torch.float64)
    accepted = torch.zeros(K, dtype=torch.int64)
    total = burn_in + sweeps
    R_trace = torch.empty((total, K), dtype=torch.float64)
    E_trace = torch.empty((total, K), dtype=torch.int64)
    saved, saved_at = [], []
    for sweep in range(total):
        for k, g in enumerate(gens):
            torch.rand(draws, generator=g, dtype=torch.float64, out=uniforms[k])
        if scan == "random":  # site floor(u N), uniform on 0..N-1
            sites = (uniforms[:, N:] * N).to(torch.int64).clamp(max=N - 1)
        # accept iff u < exp(-dE/T), i.e. dE < -T log u; at T = 0 iff dE <= 0. dE is an integer, so
        # "dE <= 0" is "dE < 1/2" and one threshold per proposal covers both
        threshold = torch.where(zero_T[:, None], 0.0, -T[:, None] * torch.log(uniforms[:, :N])).clamp(min=0.5)
        lam = torch.bmm(Z, J.unsqueeze(-1)).squeeze(-1)  # recomputed every sweep: no drift
        E = (lam < 0).sum(-1)
        for j in range(N):
            if scan == "systematic":
                s, column = J[:, j], Zt[:, j]
            else:
                i = sites[:, j]
                s, column = J[rows, i], Zt[rows, i]
            new = torch.addcmul(lam, s[:, None], column, value=-2.0)
            E_new = (new < 0).sum(-1)
            acc = (E_new - E) < threshold[:, j]
            lam = torch.where(acc[:, None], new, lam)
            flipped = torch.where(acc, -s, s)
            if scan == "systematic":
                J[:, j] = flipped
            else:
                J[rows, i] = flipped
            E = torch.where(acc, E_new, E)
            accepted += acc
        E_trace[sweep] = E
        R_trace[sweep] = (J * Bn).sum(-1) / np.sqrt(N)
        if keep_samples and sweep >= burn_in and (sweep - burn_in + 1) % thin == 0:
            saved.append(J.to(torch.int8))
            saved_at.append(sweep + 1)
    if keep_samples:
        samples = torch.stack(saved) if saved else torch.empty((0, K, N), dtype=torch.int8)
    else:
        samples = None
    return IsingChains(overlap_trace=R_trace, energy_trace=E_trace, acceptance=accepted / float(total * N),
                       samples=samples, states=J.to(torch.int8), saved_sweeps=saved_at, burn_in=burn_in)

