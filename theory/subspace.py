"""A linear student on data on a d-dimensional linear subspace of R^D: its dense, one-shot pruned and
retrained test errors from the numbers n, d, D alone (no measured input).

Setting (as in :mod:`theory.pruning`): x = A z, A (D x d) Haar with orthonormal columns, z ~ N(0, I_d),
labels y = sign(u . z), n training examples; the student f(x) = w . x / sqrt(D) starts at w = 0 and is
trained by gradient descent (any step size that converges). Gradient descent from zero keeps w = A v in
the data span, so the learning problem is the d-dimensional one in v with the load alpha = n / d.

Least squares at finite n and d (the mse student, dense or retrained). Fitting the +-1 labels by least
squares in a k-dimensional space that holds the direction u_V, the fit's population coefficient is
c = E[t y] along u_V (t = u_V . z) and the residual y - c t has variance s^2 = 1 - c^2, uncorrelated
with z. From n examples the fitted vector deviates from c u_V in the k - 1 directions orthogonal to u_V
by a Gaussian vector of variance s^2 / (n - k) per direction (the residual is independent of those
coordinates of z), so the angle theta to u_V has tan^2(theta) = (s^2 / c^2) X / (n - k), X ~ chi^2_(k-1);
the error is averaged over X (Gauss-Legendre quadrature in probability). For k -> infinity at fixed
alpha = n / k, X / k -> 1 and cos^2(theta) -> c^2 (alpha - 1) / (c^2 (alpha - 1) + s^2): the
pseudo-inverse / least-squares learning curve of Engel and Van den Broeck (*Statistical Mechanics of
Learning*, CUP 2001, sec. 3.2; ``theory.perceptron.pseudoinverse_error``), R^2 = 2 (alpha - 1) /
(2 alpha + pi - 4) at c^2 = 2/pi. At small d the chi-square spread matters: at d = 2 the error is about
half the large-d formula's.

Dense error (``dense_error``), by the training loss:

- ``"mse"``: gradient descent from zero converges to the least-squares fit in the data span: the
  formula above with k = d, c^2 = 2/pi (n > d + 1).
- ``"logistic"``: the labels are separable, the weights grow without bound and their direction tends to
  the max-margin separator (Soudry, Hoffer, Nacson, Gunasekar and Srebro, JMLR 19, 2018), at a rate
  1 / log t only: ``theory.logistic.max_margin_error(alpha)`` is the *limit of infinitely long training*,
  not the error of a finite run (``DOMAIN`` says so).
- other losses: no prediction (ValueError).

One-shot magnitude pruning (``one_shot_error``): the dense student's error, as above, carried through
``theory.pruning.subspace_magnitude_error`` (w = A v has asymptotically i.i.d. Gaussian coordinates).

Retraining on the kept support at finite n (``retrained_error``, mse only), k = round(keep D) kept
coordinates S: the student is v = A_S^T w_S, so it reaches exactly the row space V of A_S (k x d), a
uniformly random min(k, d)-dimensional subspace of R^d. Converged retraining is least squares inside V:

- k >= d: V = R^d and the least-squares solution is the dense one: the retrained error equals the dense
  error, at every finite n (not only in the limit of infinite data, :mod:`theory.retraining`);
- k < d: write the teacher u = r u_V + sqrt(1 - r^2) u_perp with u_V the unit vector along P_V u,
  r^2 = |P_V u|^2 / |u|^2 ~ Beta(k/2, (d - k)/2). In V the labels are sign(r t + sqrt(1 - r^2) eta),
  eta independent N(0, 1), so c = sqrt(2/pi) r and the least-squares formula above applies in V with
  k dimensions; the fitted vector lies in V, so its overlap with u is R = r cos(theta). The error
  arccos(R)/pi is averaged over r^2 and X (Gauss-Legendre quadrature in probability). As n -> infinity this is R = r:
  the infinite-data reach of :mod:`theory.retraining`. That is a *random* support (``support="random"``).
- k < d with the *magnitude* support of the dense student w = A v (``support="magnitude"``): write each row
  of A as a_i = t_i v_hat + g_i, t_i = a_i . v_hat, g_i orthogonal to v_hat; the rows kept are those of
  largest |t_i|, and the g_i are independent of that choice. The reach of v_hat is r_v^2 = s / (1 + s) with
  s = t_S^T (G_S G_S^T)^-1 t_S; G_S G_S^T is Wishart (d - 1 dimensions, scale 1/D), so s = |t_S|^2 D / X,
  X ~ chi^2_(d-k), and |t_S|^2 is the energy the kept coordinates of a Gaussian vector hold, q(k/D)
  (theory.pruning's kept energy; a random support holds k/D of it, giving back the Beta law). The teacher
  u = R0 v_hat + sqrt(1 - R0^2) e (R0: the dense overlap) reaches r^2 = R0^2 r_v^2 + (1 - R0^2)(k - r_v^2) /
  (d - 1), its part e like a random direction of the complement; then as above.

Accuracy: exact as n -> infinity at any d for k >= d (and for the Beta average of the reach); the
finite-n corrections are those of least squares with a Gaussian design; the one-shot line is exact as
D -> infinity at fixed d/D (theory.pruning).
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import stats

from . import _checks
from .logistic import max_margin_error
from .pruning import gaussian_kept_energy, subspace_magnitude_error
from .retraining import kept_weights

__all__ = ["DOMAIN", "LOSSES", "dense_error", "one_shot_error", "retrained_error"]

LOSSES = ("mse", "logistic")
DOMAIN = {
    "mse": "least squares on the d-dimensional subspace (load n/d), reached by gradient descent from zero",
    "logistic": "max-margin limit of infinitely long training (approached like 1/log t): a finite run lies above it",
}


def _loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))} (no prediction for other losses), "
                         f"got {loss!r}")
    return loss


def dense_error(n_train, intrinsic_dim, loss: str = "mse"):
    """Test error of the converged dense linear student trained on n examples on a d-dim subspace."""
    n = _checks.positive("n_train", n_train)
    d = _checks.in_interval("intrinsic_dim", intrinsic_dim, 1.0, np.inf, closed_low=True, closed_high=False)
    if _loss(loss) == "mse":
        if np.any(d != np.round(d)):
            raise ValueError(f"intrinsic_dim must be an integer for loss 'mse', got {intrinsic_dim!r}")
        b = np.broadcast_arrays(n, d)
        out = np.array([_retrained_one(float(x), int(y), int(y)) for x, y in zip(*(a.ravel() for a in b))])
        out = out.reshape(b[0].shape)
    else:
        out = np.asarray(max_margin_error(n / d))
    return _checks.scalar_or_array(out, n_train, intrinsic_dim)


def one_shot_error(n_train, intrinsic_dim, ambient_dim, keep, loss: str = "mse"):
    """Test error after one-shot global magnitude pruning to the density ``keep`` (no retraining)."""
    e0 = np.asarray(dense_error(n_train, intrinsic_dim, loss))
    out = subspace_magnitude_error(intrinsic_dim, ambient_dim, keep, dense_error=e0)
    return _checks.scalar_or_array(np.asarray(out), n_train, intrinsic_dim, ambient_dim, keep)


_NODES = 96  # Gauss-Legendre nodes in probability of both averages (checked against adaptive quadrature)
_P, _W = np.polynomial.legendre.leggauss(_NODES)
_P, _W = (_P + 1.0) / 2.0, _W / 2.0  # on (0, 1): E f(X) = int_0^1 f(F^-1(p)) dp


@functools.lru_cache(maxsize=4096)
def _retrained_one(n: float, d: int, k: int, D: int = 0, support: str = "random") -> float:
    if k == 0:
        return 0.5  # nothing kept: the output is 0, a coin flip
    kk = min(k, d)
    if n <= kk + 1:
        raise ValueError(f"retrained_error needs n_train > min(kept weights, intrinsic_dim) + 1 (least squares "
                         f"with more examples than parameters), got n_train={n:g}, min(k, d)={kk}")
    # r^2 = |P_V u|^2 / |u|^2: 1 when V is all of R^d; else Beta(k/2, (d - k)/2) for a random support, and
    # for a magnitude support s / (1 + s), s = q(k/D) D / X, X ~ chi^2_(d-k) (module docstring)
    if kk == d:
        r2, wr = np.ones(1), np.ones(1)
    elif support == "random":
        r2, wr = stats.beta.ppf(_P, kk / 2.0, (d - kk) / 2.0), _W
    else:
        R0sq = np.cos(np.pi * _retrained_one(n, d, d)) ** 2
        s = float(gaussian_kept_energy(k / D)) * D / stats.chi2.ppf(_P, d - kk)
        along = s / (1.0 + s)  # the dense direction's reach; the teacher's other part reaches like a random one
        r2, wr = R0sq * along + (1.0 - R0sq) * (kk - along) / (d - 1.0), _W
    c2 = 2.0 * r2 / np.pi
    if kk == 1:
        cos_theta = np.ones((len(r2), 1))
        wx = np.ones(1)
    else:  # tan^2(theta) = (s^2 / c^2) X / (n - k), X ~ chi^2_(k-1)
        X = stats.chi2.ppf(_P, kk - 1)
        cos_theta = 1.0 / np.sqrt(1.0 + np.outer((1.0 - c2) / (c2 * (n - kk)), X))
        wx = _W
    err = np.arccos(np.clip(np.sqrt(r2)[:, None] * cos_theta, 0.0, 1.0)) / np.pi
    return float(wr @ (err @ wx))


SUPPORTS = ("random", "magnitude")


def retrained_error(n_train, intrinsic_dim, ambient_dim: int, keep, support: str = "random"):
    """Test error of the mse linear student retrained to convergence on round(keep * D) kept coordinates
    from n examples (module docstring); ``support``: how the kept coordinates were chosen (``random``, or
    ``magnitude``: the largest |w_i| of the converged dense student). Vectorised over n_train,
    intrinsic_dim and keep (broadcast)."""
    n = _checks.positive("n_train", n_train)
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    kappa = _checks.keep_fraction(keep)
    if support not in SUPPORTS:
        raise ValueError(f"support must be one of {', '.join(map(repr, SUPPORTS))}, got {support!r}")
    if np.any(d != np.round(d)) or np.any(D != np.round(D)):
        raise ValueError(f"intrinsic_dim and ambient_dim must be integers here, got {intrinsic_dim!r}, {ambient_dim!r}")
    if np.ndim(D) != 0:
        raise ValueError(f"ambient_dim must be one integer, got {ambient_dim!r}")
    k = kept_weights(kappa, int(D))
    b = np.broadcast_arrays(n, d, k)
    out = np.array([_retrained_one(float(x), int(y), int(z), int(D), support)
                    for x, y, z in zip(*(a.ravel() for a in b))])
    return _checks.scalar_or_array(out.reshape(b[0].shape), n_train, intrinsic_dim, keep)
