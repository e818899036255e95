"""Linear teacher-student regression: ridge and Langevin (Gibbs) learning curves.

Setting: x ~ N(0, I_N), y = w*.x/sqrt(N) + noise, noise ~ N(0, noise_var), |w*|^2 = N (w* isotropic),
P = alpha N examples, energy (summed over examples, docs/design.md's convention)

    E(w) = 1/2 sum_mu (y_mu - w.x_mu/sqrt(N))^2 + reg/2 |w|^2.

The minimiser is w_hat = (S + reg)^-1 X^T y/sqrt(N) with S = X^T X/N, whose spectrum follows the
Marchenko-Pastur law. Its Stieltjes transform g(z) = lim (1/N) tr (S - z)^-1 at z = -reg solves
(Marchenko & Pastur 1967; Bai & Silverstein 2010, ch. 3)

    reg g^2 + (reg + alpha - 1) g - 1 = 0,      g = [1 - alpha - reg + sqrt((reg + alpha - 1)^2 + 4 reg)] / (2 reg),

and g' = d g(z)/dz at z = -reg is g (1 + g) / (2 reg g + reg + alpha - 1). The excess error
(|w_hat - w*|^2/N; the test mean squared error is noise_var + excess) is

    excess = reg^2 g' + noise_var (g - reg g')            (bias + variance).

Ridgeless limit (reg -> 0, derived with sympy in ``ridgeless_excess_error_symbolic``):
alpha < 1: (1 - alpha) + noise_var alpha/(1 - alpha); alpha > 1: noise_var/(alpha - 1): the double
descent peak at the interpolation threshold alpha = 1 (Hastie, Montanari, Rosset & Tibshirani, AoS 2022;
Advani & Saxe 2017).

Langevin at temperature T: the Gibbs measure exp(-E/T) is Gaussian with mean w_hat and covariance
T (S + reg)^-1, so a sample has |w - w*|^2/N = excess + T g(-reg) (requires reg > 0 when alpha <= 1,
otherwise the measure is not normalisable).

Data on a d-dimensional linear subspace of R^D (x = A z, A Haar with orthonormal columns, z ~ N(0, I_d)):
only v = A^T w enters the predictions, and gradient flow from zero / ridge keeps w in the column space.
With the teacher y = u.z/sqrt(d) + noise, |u|^2 = d and the student prediction w.x/sqrt(d), v solves the
d-dimensional problem above: the load is P/d, not P/D. With the ambient normalisation w.x/sqrt(D) the
same holds with reg replaced by reg D/d (the data's scale shrinks with d/D). At T > 0 the D - d directions
orthogonal to the data have only the ridge penalty (variance T/reg each): they do not change the test error.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from ._checks import scalar_or_array

__all__ = [
    "stieltjes_mp",
    "excess_error",
    "ridgeless_excess_error",
    "ridgeless_excess_error_symbolic",
    "manifold_excess_error",
    "test_mse",
]


def stieltjes_mp(alpha, reg):
    """(g, g') of S = X^T X/N (X: P x N Gaussian, alpha = P/N) at z = -reg, reg > 0."""
    al = _checks.positive("alpha", alpha)
    lam = _checks.positive("reg", reg)
    b = lam + al - 1.0
    root = np.sqrt(b * b + 4.0 * lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        # the two algebraically equal forms, each free of cancellation on its side of b = 0
        g = np.where(b > 0, 2.0 / (b + root), (root - b) / (2.0 * lam))
    gp = g * (1.0 + g) / (2.0 * lam * g + b)
    return g, gp


def ridgeless_excess_error(alpha, noise_var=0.0):
    """reg -> 0 limit: 1 - alpha + noise_var alpha/(1 - alpha) (alpha < 1), noise_var/(alpha - 1) (alpha > 1).

    Diverges at alpha = 1 when noise_var > 0 (double descent); alpha = 1 exactly returns inf (or 0 noise: 0).
    """
    al = _checks.positive("alpha", alpha)
    s2 = _checks.nonnegative("noise_var", noise_var)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = 1.0 - al + s2 * al / (1.0 - al)
        over = s2 / (al - 1.0)
        out = np.where(al < 1, under, np.where(al > 1, over, np.where(s2 > 0, np.inf, 0.0)))
    return scalar_or_array(out, alpha, noise_var)


def excess_error(alpha, noise_var=0.0, reg=0.0, temperature=0.0):
    """|w - w*|^2/N for ridge (T = 0) or for a Langevin sample at temperature T (Gibbs exp(-E/T)).

    Vectorised (broadcast) over alpha, noise_var, reg and temperature. reg = 0 gives the ridgeless
    (minimum-norm for alpha < 1) limit; reg = 0 with T > 0 requires alpha > 1.
    """
    al = _checks.positive("alpha", alpha)
    s2 = _checks.nonnegative("noise_var", noise_var)
    lam = _checks.nonnegative("reg", reg)
    T = _checks.nonnegative("temperature", temperature)
    al, s2, lam, T = np.broadcast_arrays(al, s2, lam, T)
    if np.any((lam == 0) & (T > 0) & (al <= 1)):
        raise ValueError(
            "temperature > 0 with reg = 0 requires alpha > 1 (the Gibbs measure is not normalisable); "
            f"got alpha={alpha!r}, reg={reg!r}, temperature={temperature!r}"
        )
    out = np.empty(al.shape)
    zero = lam == 0
    if np.any(zero):
        out[zero] = np.asarray(ridgeless_excess_error(al[zero], s2[zero]))
        with np.errstate(divide="ignore"):
            out[zero] += np.where(T[zero] > 0, T[zero] / (al[zero] - 1.0), 0.0)  # g(0) = 1/(alpha - 1)
    if np.any(~zero):
        g, gp = stieltjes_mp(al[~zero], lam[~zero])
        l = lam[~zero]
        out[~zero] = l * l * gp + s2[~zero] * (g - l * gp) + T[~zero] * g
    return scalar_or_array(out, alpha, noise_var, reg, temperature)


def test_mse(alpha, noise_var=0.0, reg=0.0, temperature=0.0):
    """Test mean squared error on a fresh noisy example: noise_var + excess_error."""
    return scalar_or_array(
        np.asarray(excess_error(alpha, noise_var, reg, temperature)) + _checks.nonnegative("noise_var", noise_var),
        alpha, noise_var, reg, temperature,
    )


test_mse.__test__ = False  # not a pytest test


def ridgeless_excess_error_symbolic():
    """The reg -> 0 limits of the Marchenko-Pastur excess error, computed with sympy.

    Returns ((under, over), (alpha, sigma2)): sympy expressions for alpha < 1 and alpha > 1, obtained
    by sympy.limit of reg^2 g' + sigma2 (g - reg g') with alpha = 1 -+ delta, delta > 0.
    """
    import sympy as sp

    lam, delta = sp.symbols("lambda delta", positive=True)
    alpha, s2 = sp.symbols("alpha sigma2", positive=True)
    out = []
    for a_val, back in ((1 - delta, 1 - alpha), (1 + delta, alpha - 1)):
        b = lam + a_val - 1
        g = (sp.sqrt(b**2 + 4 * lam) - b) / (2 * lam)
        gp = g * (1 + g) / (2 * lam * g + b)
        lim = sp.limit(lam**2 * gp + s2 * (g - lam * gp), lam, 0, "+")
        out.append(sp.simplify(lim.subs(delta, back)))
    return tuple(out), (alpha, s2)


def manifold_excess_error(n_train, intrinsic_dim, ambient_dim, noise_var=0.0, reg=0.0, temperature=0.0,
                          normalisation="intrinsic"):
    """Excess error |v - u|^2/d of ridge / Langevin on data on a d-dimensional linear subspace of R^D.

    The load is P/d. ``normalisation="intrinsic"``: prediction w.x/sqrt(d), teacher u.z/sqrt(d), |u|^2 = d;
    ``"ambient"``: prediction w.x/sqrt(D) (teacher unchanged), equivalent to reg -> reg D/d.
    """
    P = _checks.positive("n_train", n_train)
    d, D = _checks.dims(intrinsic_dim, ambient_dim)
    if normalisation == "intrinsic":
        reg_eff = _checks.nonnegative("reg", reg)
    elif normalisation == "ambient":
        reg_eff = _checks.nonnegative("reg", reg) * D / d
    else:
        raise ValueError(f"normalisation must be 'intrinsic' or 'ambient', got {normalisation!r}")
    return excess_error(P / d, noise_var, reg_eff, temperature)
