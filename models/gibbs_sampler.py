"""Exact Markov-chain sampler of the Gibbs measure of a perceptron, E(w) = number of training errors.

The measure: for training patterns x_mu in R^N with labels y_mu = +-1, the energy
E(w) = #{mu : y_mu w.x_mu < 0} depends on the direction of w only, and Gibbs learning at temperature
T >= 0 samples the direction of w from exp(-E/T) on the sphere (Engel & Van den Broeck, *Statistical
Mechanics of Learning*, CUP 2001, ch. 2-4; E summed over examples as in docs/design.md). We sample

    w ~ N(0, I_N) exp(-E(w)/T) / Z,

whose direction w/|w| is exactly that spherical Gibbs measure (the Gaussian prior is rotation
invariant and E ignores |w|). T = 0 is the uniform measure on the version space {E = 0}.

Moves. Each move resamples w along a line w + t u exactly from its conditional (a Gibbs step in a
rotated coordinate; Smith 1984, "Efficient Monte Carlo procedures for generating points uniformly
distributed over bounded regions", Oper. Res. 32, 1296: hit-and-run). With |u| = 1 the prior of t
is N(m, 1), m = -w.u, and E(w + t u) is piecewise constant in t with breakpoints where a stability
crosses zero, t_mu = -a_mu / b_mu (a_mu = y_mu w.x_mu, b_mu = y_mu u.x_mu): crossing t_mu upwards
removes an error when b_mu > 0 and adds one when b_mu < 0. So the exact conditional is a mixture of
truncated Gaussians over the P + 1 segments with log-weights

    -E_seg / T + log(Phi(hi - m) - Phi(lo - m)),

computed stably (tail masses, energies relative to the minimum); at T = 0 only the segments of minimal energy on the line keep their weight
(the T -> 0 limit of the conditional: inside the version space the single zero-error segment, i.e.
hit-and-run on the version space; from a start with errors, a descent that never increases E).
A segment is drawn by inverting the cumulative weights and t inside it by inverting the truncated
normal distribution function, so a move costs one sort of P breakpoints per chain.

``direction="coordinate"`` (default) takes u = e_i, i running over a fresh random permutation of the
N coordinates every sweep (the systematic-scan Gibbs sampler: b = the i-th column of the signed
patterns, no matrix product); ``direction="random"`` takes u uniform on the sphere (hit-and-run,
one matrix-vector product per move). A sweep is N moves. Both leave the measure invariant exactly;
the version space of the perceptron is a convex polyhedral cone, the setting of the billiard
sampler of Rujan (1997, Neural Comput. 9, 99), which is related work.

A faster exact sampler of the same measure, Hamiltonian Monte Carlo with reflection and refraction
at the pattern hyperplanes, is :func:`models.hmc_sampler.hmc_sample` (``method="hmc"`` here, same
arguments and result). With a ``teacher`` both record the cosine R of w and the teacher after every
sweep (``overlap_trace``), and :meth:`GibbsChains.mixing` compares teacher-started chains with the
others and the two halves of the run (:mod:`models.mixing`).

Vectorised over K independent chains (each with its own patterns, labels, temperature and seed),
float64 throughout. Randomness: chain k owns one ``torch.Generator`` seeded with ``seeds[k]``; per
sweep it draws its scan order (or directions) and 2 N uniforms, so a chain's trajectory does not
depend on the other chains (up to float rounding of batched products). Chains may have different
numbers of patterns: pass them padded to a common P with ``n_patterns``; padded rows never count.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .perceptron_chains import (ChainRecorder, GibbsChains, _as_tensor, check_lengths, check_problem, check_start,
                                check_teacher, cosine, training_errors)
from .validation import check_choice, check_int

DIRECTIONS = ("coordinate", "random")
METHODS = ("line", "hmc")

__all__ = ["DIRECTIONS", "METHODS", "GibbsChains", "check_problem", "check_start", "check_teacher", "cosine",
           "gibbs_sample", "perceptron_algorithm", "training_errors", "truncated_normal"]


def truncated_normal(lo: torch.Tensor, hi: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The u-quantile of N(0, 1) truncated to [lo, hi] (inverse distribution function).

    Mirrored into the left tail when lo > 0; a segment so far in the tail that its probabilities
    underflow (beyond about 37 standard deviations) returns its end nearer the mean."""
    flip = lo > 0
    l = torch.where(flip, -hi, lo)
    h = torch.where(flip, -lo, hi)
    pl = torch.special.ndtr(l)
    ph = torch.special.ndtr(h)
    x = torch.special.ndtri(pl + u * (ph - pl))
    x = torch.where(torch.isfinite(x), x, h)  # underflow: the end nearer the mean
    # strictly inside a finite segment, so rounding never puts the point on a breakpoint's wrong side
    width = h - l
    inner = l + width * ((x - l) / width).clamp(1e-9, 1 - 1e-9)
    x = torch.where(torch.isfinite(width) & (width > 0), inner, torch.minimum(torch.maximum(x, l), h))
    return torch.where(flip, -x, x)


def _segments(a, b, m, beta, zero_T):
    """The exact conditional along the line for every chain (the general case).

    a, b: (K, P) stabilities of the current point and their rates along the direction; m: (K,) the
    prior mean of t; beta: (K,) 1/T (ignored where zero_T). Returns the bounds (lo, hi) of the P + 1
    segments, standardised (t - m), and their weights, shape (K, P + 1). Masses are computed in linear
    space: a segment beyond about 37 standard deviations (prior mass < 1e-300) gets weight 0, which
    is exact unless it would lower the energy by more than about 690 T relative to the segments
    near the mean (never in equilibrium; the segment holding the current point always has weight)."""
    K, P = a.shape
    nonzero = b != 0
    bp = torch.where(nonzero, -a / torch.where(nonzero, b, torch.ones_like(b)), torch.full_like(a, -torch.inf))
    bp, order = torch.sort(bp - m[:, None], dim=-1)
    step = torch.where(b > 0, -1, torch.where(b < 0, 1, 0)).to(torch.int64)
    step = torch.gather(step, 1, order)
    E0 = (b > 0).sum(-1, keepdim=True)
    E = torch.cat([E0, E0 + torch.cumsum(step, dim=-1)], dim=-1).to(torch.float64)
    inf = torch.full((K, 1), torch.inf, dtype=a.dtype)
    lo = torch.cat([-inf, bp], dim=-1)
    hi = torch.cat([bp, inf], dim=-1)
    # tail masses Phi(-|x|) of the breakpoints, one special function per breakpoint; a segment on one
    # side of the mean has mass |F_hi - F_lo|, the segment across it 1 - F_lo - F_hi
    F = torch.special.ndtr(-bp.abs())
    zero = torch.zeros((K, 1), dtype=a.dtype)
    F_lo = torch.cat([zero, F], dim=-1)
    F_hi = torch.cat([F, zero], dim=-1)
    mass = torch.where((lo < 0) & (hi > 0), 1.0 - F_lo - F_hi, (F_hi - F_lo).abs())
    Emin = torch.where(mass > 0, E, torch.full_like(E, torch.inf)).amin(-1, keepdim=True)
    hot = mass * torch.exp(-(E - Emin) * beta[:, None])
    cold = torch.where(E <= Emin, mass, torch.zeros_like(mass))
    weights = torch.where(zero_T[:, None], cold, hot)
    return lo, hi, weights


def _draw(lo, hi, wts, u_seg, u_pos):
    """Draw a segment by inverting the cumulative weights, then t inside it (standardised)."""
    cum = torch.cumsum(wts, -1)
    target = (u_seg * cum[:, -1]).unsqueeze(-1)
    k = torch.searchsorted(cum, target).clamp(max=cum.shape[1] - 1)
    # never land on an empty segment (ties of the cumulative sum at its right end)
    k = torch.where(torch.gather(wts, 1, k) > 0, k, torch.argmax(wts, -1, keepdim=True))
    l = torch.gather(lo, 1, k).squeeze(-1)
    h = torch.gather(hi, 1, k).squeeze(-1)
    return truncated_normal(l, h, u_pos)


def _version_space_chord(a, b, m):
    """Inside the version space (every a >= 0) at T = 0 the conditional is N(m, 1) on the chord
    {t : a + t b >= 0}: (lo, hi), standardised, from a max and a min over the patterns (no sort)."""
    ratio = -a / torch.where(b != 0, b, torch.ones_like(b))
    lo = torch.where(b > 0, ratio, torch.full_like(a, -torch.inf)).amax(-1)
    hi = torch.where(b < 0, ratio, torch.full_like(a, torch.inf)).amin(-1)
    return lo - m, hi - m


def _move(a, b, m, beta, zero_T, in_vs, u_seg, u_pos):
    """Standardised displacement t - m of one exact move for every chain: the chord rule for chains
    at T = 0 inside the version space (``in_vs``), the general segment mixture for the others."""
    if bool(in_vs.all()):
        return truncated_normal(*_version_space_chord(a, b, m), u_pos)
    if not bool(in_vs.any()):
        return _draw(*_segments(a, b, m, beta, zero_T), u_seg, u_pos)
    x = torch.empty_like(m)
    c, h = in_vs, ~in_vs
    x[c] = truncated_normal(*_version_space_chord(a[c], b[c], m[c]), u_pos[c])
    x[h] = _draw(*_segments(a[h], b[h], m[h], beta[h], zero_T[h]), u_seg[h], u_pos[h])
    return x


def gibbs_sample(patterns, labels, temperature, start, *, sweeps: int, seeds, burn_in: int = 0,
                 thin: int = 1, direction: str = "coordinate", n_patterns=None,
                 observe: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 teacher=None, method: str = "line") -> GibbsChains:
    """Run K chains of the exact sampler of N(0, I) exp(-E(w)/T) (see the module docstring).

    patterns: (K, P, N) inputs; labels: (K, P) in {-1, +1}; temperature: T >= 0, a number or one
    per chain; start: (K, N) initial weights (at T = 0 a start with errors first descends to the
    version space); sweeps: sweeps after ``burn_in`` (a sweep is N moves); a sample is saved at the
    end of every ``thin``-th sweep after the burn-in; seeds: one int per chain; n_patterns: (K,)
    valid rows per chain when the patterns are padded (the rest are ignored); observe(w, energy):
    what to save per sample, (K, N), (K,) -> (K, ...) (default: a copy of w); teacher: (K, N)
    optional, for the overlap trace; method: "line" (the line moves above) or "hmc"
    (:func:`models.hmc_sampler.hmc_sample`, exact Hamiltonian Monte Carlo, a sweep being one
    iteration; ``direction`` is then ignored).
    """
    if method != "line":
        check_choice("method", method, METHODS)
        from .hmc_sampler import hmc_sample
        return hmc_sample(patterns, labels, temperature, start, sweeps=sweeps, seeds=seeds, burn_in=burn_in,
                          thin=thin, n_patterns=n_patterns, observe=observe, teacher=teacher)
    X, y, T, valid, seeds = check_problem(patterns, labels, temperature, seeds, n_patterns)
    K, P, N = X.shape
    w = check_start(start, K, N)
    Bn = check_teacher(teacher, K, N)
    sweeps, burn_in, thin = check_lengths(sweeps, burn_in, thin)
    direction = check_choice("direction", direction, DIRECTIONS)

    Z = torch.where(valid[..., None], y[..., None] * X, torch.zeros_like(X))  # signed patterns y_mu x_mu
    Zt = Z.transpose(1, 2).contiguous()  # (K, N, P): the columns b of coordinate moves
    zero_T = T == 0
    beta = torch.where(zero_T, torch.zeros_like(T), 1.0 / torch.where(zero_T, torch.ones_like(T), T))
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    rows = torch.arange(K)
    order = torch.empty((K, N), dtype=torch.int64)
    uniforms = torch.empty((K, 2, N), dtype=torch.float64)
    dirs = torch.empty((K, N, N), dtype=torch.float64) if direction == "random" else None

    rec = ChainRecorder(burn_in + sweeps, K, N, burn_in, thin, observe, Bn)
    for sweep in range(burn_in + sweeps):
        for k, g in enumerate(gens):
            if direction == "coordinate":
                torch.randperm(N, generator=g, out=order[k])
            else:
                torch.randn((N, N), generator=g, dtype=torch.float64, out=dirs[k])
            torch.rand((2, N), generator=g, dtype=torch.float64, out=uniforms[k])
        if dirs is not None:
            dirs /= dirs.norm(dim=-1, keepdim=True)
        a = torch.bmm(Z, w.unsqueeze(-1)).squeeze(-1)  # recomputed every sweep: no drift
        in_vs = zero_T & (a >= 0).all(-1)  # T = 0 moves never leave the version space
        for j in range(N):
            if direction == "coordinate":
                i = order[:, j]
                b = Zt[rows, i]
                m = -w[rows, i]
            else:
                u = dirs[:, j]
                b = torch.bmm(Z, u.unsqueeze(-1)).squeeze(-1)
                m = -(w * u).sum(-1)
            t = m + _move(a, b, m, beta, zero_T, in_vs, uniforms[:, 0, j], uniforms[:, 1, j])
            if direction == "coordinate":
                w[rows, i] += t
            else:
                w += t[:, None] * u
            a += t[:, None] * b
        E = training_errors(Z, w)
        rec.record(sweep, w, E)
    return rec.result(w)


def perceptron_algorithm(patterns, labels, start, *, max_iter: int = 10_000, n_patterns=None) -> torch.Tensor:
    """Batch perceptron algorithm (Rosenblatt; EvdB sec. 3.3) from ``start``, one chain per row:
    w += sum of the misclassified y_mu x_mu (stability <= 0) until no pattern is misclassified or
    ``max_iter`` updates. For separable data it ends inside the version space: a start of the
    zero-temperature sampler other than the teacher. Returns (K, N); rows that did not finish
    still have errors (check with :func:`training_errors`)."""
    X = _as_tensor("patterns", patterns, 3)
    y = _as_tensor("labels", labels, 2)
    w = _as_tensor("start", start, 2).clone()
    K, P, N = X.shape
    if tuple(y.shape) != (K, P) or tuple(w.shape) != (K, N):
        raise ValueError(f"labels must have shape {(K, P)} and start {(K, N)}, got {tuple(y.shape)}, {tuple(w.shape)}")
    max_iter = check_int("max_iter", max_iter, 0)
    valid = torch.ones((K, P), dtype=torch.bool)
    if n_patterns is not None:
        valid = torch.arange(P)[None, :] < torch.as_tensor(np.asarray(n_patterns))[:, None]
    Z = torch.where(valid[..., None], y[..., None] * X, torch.zeros_like(X))
    for _ in range(max_iter):
        a = torch.bmm(Z, w.unsqueeze(-1)).squeeze(-1)
        wrong = (a <= 0) & valid
        if not bool(wrong.any()):
            break
        w += torch.bmm(wrong.to(Z.dtype).unsqueeze(1), Z).squeeze(1)
    return w
