"""Equilibrium checks of Markov chains: batch-means standard errors, integrated autocorrelation
times, and the two-start / split-half comparison of a scalar observable.

Batch means (Flegal, Haran & Jones 2008, Stat. Sci. 23, 250): split a series of n correlated samples
into b consecutive batches; when a batch is much longer than the autocorrelation time the batch
means are nearly independent, and sd(batch means)/sqrt(b) is the standard error of the mean.

Integrated autocorrelation time (Sokal 1997, "Monte Carlo methods in statistical mechanics", in
*Functional Integration*, Springer): tau = 1 + 2 sum_{t >= 1} rho(t); the variance of a mean over
n samples is tau var(x)/n, so n/tau is the number of effectively independent samples. The sum is
cut by Geyer's initial monotone sequence (Geyer 1992, "Practical Markov chain Monte Carlo", Stat.
Sci. 7, 473): the pair sums rho(2k) + rho(2k + 1) are added while positive, made non-increasing;
unlike a fixed window this is right for anticorrelated chains as well (tau < 1), which exact HMC
with a travel time near pi/2 produces. Several chains: the autocorrelation function is averaged
over chains, each centred on its own mean.

The mixing check of K chains of one problem (``mixing_check``): the mean of the teacher-started
chains against the mean of the others (two starts), and the first half of the samples against the
second half (drift), each difference with a batch-means standard error; the chains are called
equilibrated when both differences are within ``z`` of their standard errors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["MixingCheck", "batch_means_se", "integrated_autocorrelation_time", "mixing_check"]


def _series(name: str, x, ndim: tuple[int, ...]) -> np.ndarray:
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    a = a.astype(np.float64)
    if a.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimensions, got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 samples along its first axis, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return a


def batch_means_se(x, n_batches: int = 10) -> float:
    """Standard error of the mean of a (n,) series from ``n_batches`` consecutive batch means
    (fewer when n < n_batches); NaN with a single batch."""
    a = _series("x", x, (1,))
    nb = min(int(n_batches), len(a))
    if nb < 2:
        return float("nan")
    means = np.array([b.mean() for b in np.array_split(a, nb)])
    return float(means.std(ddof=1) / np.sqrt(nb))


def integrated_autocorrelation_time(x) -> float:
    """Integrated autocorrelation time of a (n,) series or of (n, K) chains (in samples).

    Autocorrelation by FFT, averaged over chains (each centred on its own mean), summed by Geyer's
    initial monotone sequence (valid for anticorrelated chains too: tau < 1 there). A constant
    series returns 1."""
    a = _series("x", x, (1, 2))
    if a.ndim == 1:
        a = a[:, None]
    n = a.shape[0]
    d = a - a.mean(0)
    f = np.fft.rfft(d, n=2 * n, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[:n].mean(1) / n
    if acov[0] <= 0:
        return 1.0
    rho = acov / acov[0]
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(1)  # Gamma_k = rho(2k) + rho(2k + 1)
    positive = pairs > 0
    m = int(np.argmin(positive)) if not positive.all() else len(pairs)
    gamma = np.minimum.accumulate(pairs[:m])
    return float(max(2.0 * gamma.sum() - 1.0, 1.0 / n)) if m > 0 else 1.0 / n


@dataclass
class MixingCheck:
    """The equilibrium check of one observable over K chains (see the module docstring).

    mean, se: over all chains and samples, se from the batch means of the chain-averaged series;
    teacher_start, other_start: means over the teacher-started chains and the others (NaN when one
    group is empty); start_difference = teacher_start - other_start, with start_difference_se;
    first_half, second_half: means of the chain-averaged series' halves; drift = second_half -
    first_half, with drift_se; autocorrelation_time: integrated, in samples, of the single chains
    (averaged autocorrelation function); n_samples: samples per chain; z: the threshold."""

    mean: float
    se: float
    teacher_start: float
    other_start: float
    start_difference: float
    start_difference_se: float
    first_half: float
    second_half: float
    drift: float
    drift_se: float
    autocorrelation_time: float
    n_samples: int
    z: float

    @property
    def start_z(self) -> float:
        return _zscore(self.start_difference, self.start_difference_se)

    @property
    def drift_z(self) -> float:
        return _zscore(self.drift, self.drift_se)

    @property
    def equilibrated(self) -> bool:
        """Both differences within z standard errors (a missing start group is not held against it)."""
        return (not self.start_z > self.z) and self.drift_z <= self.z


def _zscore(d: float, se: float) -> float:
    if np.isnan(d):
        return float("nan")
    if se > 0:
        return abs(d) / se
    return 0.0 if d == 0 else float("inf")


def mixing_check(values, teacher_started, *, n_batches: int = 10, z: float = 3.0) -> MixingCheck:
    """Two-start and split-half check of ``values`` (n_samples, K) of K chains of one problem.

    teacher_started: (K,) booleans, True for the chains that started at the teacher."""
    v = _series("values", values, (2,))
    n, K = v.shape
    ts = np.asarray(teacher_started.cpu().numpy() if isinstance(teacher_started, torch.Tensor) else teacher_started)
    if ts.shape != (K,) or ts.dtype != bool:
        raise ValueError(f"teacher_started must be {K} booleans (one per chain), got {teacher_started!r}")
    if not (isinstance(z, (int, float)) and z > 0):
        raise ValueError(f"z must be a number > 0, got {z!r}")
    pooled = v.mean(1)
    if ts.any() and (~ts).any():
        a, b = v[:, ts].mean(1), v[:, ~ts].mean(1)
        d_start = float(a.mean() - b.mean())
        se_start = float(np.hypot(batch_means_se(a, n_batches), batch_means_se(b, n_batches)))
        t_mean, o_mean = float(a.mean()), float(b.mean())
    else:
        d_start = se_start = float("nan")
        t_mean = float(v[:, ts].mean()) if ts.any() else float("nan")
        o_mean = float(v[:, ~ts].mean()) if (~ts).any() else float("nan")
    h = n // 2
    first, second = pooled[:h], pooled[n - h:]
    if h >= 2:
        drift_se = float(np.hypot(batch_means_se(first, n_batches), batch_means_se(second, n_batches)))
    else:
        drift_se = float("nan")
    return MixingCheck(
        mean=float(pooled.mean()), se=batch_means_se(pooled, n_batches), teacher_start=t_mean,
        other_start=o_mean, start_difference=d_start, start_difference_se=se_start,
        first_half=float(first.mean()), second_half=float(second.mean()),
        drift=float(second.mean() - first.mean()), drift_se=drift_se,
        autocorrelation_time=integrated_autocorrelation_time(v), n_samples=n, z=float(z))
