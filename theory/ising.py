"""Gibbs learning of the Ising perceptron: replica-symmetric theory and its first-order transition.

Setting (Gyorgyi, PRA 41, 7097 (1990); Sompolinsky, Tishby & Seung, PRL 65, 1683 (1990); Seung,
Sompolinsky & Tishby, PRA 45, 6056 (1992) = SST; Engel & Van den Broeck, *Statistical
Mechanics of Learning*, CUP 2001 = EvdB, ch. 7): teacher B and student J in {-1, +1}^N, inputs
x ~ N(0, I_N), labels sign(B.x), P = alpha N examples. E(J) = number of training errors (summed over
the examples), Gibbs measure exp(-E(J)/T) over the 2^N students; T = 0 is the uniform measure on the
version space E = 0. R = J.B/N, q = J1.J2/N (two students at the same data); a student's
generalisation error is arccos(R)/pi (|J|^2 = |B|^2 = N).

Replica-symmetric free entropy phi = (1/N) ln Z (= -f/T), extremised over R, q and their conjugates
Rh, qh (binary weights: the entropic part; gauge B = (1, ..., 1)), with beta = 1/T:

    phi = -Rh R - qh (1 - q)/2 + int Dz ln 2cosh(sqrt(qh) z + Rh) + alpha G_E(R, q),
    G_E = 2 int Dt H(-R t/Delta) ln[e^-beta + (1 - e^-beta) H(-a t)],  Delta = sqrt(q - R^2), a = sqrt(q/(1-q)),

H(x) = int_x^inf Dz. G_E is the energetic term of the spherical perceptron (theory.perceptron). Stationarity:

    R = int Dz tanh(sqrt(qh) z + Rh),        q = int Dz tanh^2(sqrt(qh) z + Rh),
    Rh = alpha dG_E/dR,                       qh = -2 alpha dG_E/dq,
    dG_E/dR = (2/sqrt(2 pi)) (1-q)^-1/2 int Ds K(b s),   b = Delta/sqrt(1-q),
    dG_E/dq = -(R/2q) dG_E/dR + (q^-1/2 (1-q)^-3/2) int Dt H(-R t/Delta) t K(a t),

K(x) = (1 - e^-beta) phi(x) / [e^-beta + (1 - e^-beta) Phi(x)]. At T = 0 the Nishimori symmetry gives q = R,
qh = Rh and (EvdB ch. 7; Gyorgyi 1990)

    R = int Dz tanh(sqrt(Rh) z + Rh),   Rh = alpha/(pi sqrt(1-R)) int Dt exp(-R t^2/2)/H(-sqrt(R) t),
    phi = s_vs = -Rh (1+R)/2 + int Dz ln 2cosh(sqrt(Rh) z + Rh) + 2 alpha int Dt H(-a t) ln H(-a t),

s_vs the entropy of the version space. The training error is eps_t = -dG_E/dbeta
= 2 int Dt H(-R t/Delta) e^-beta H(a t) / [e^-beta + (1 - e^-beta) H(-a t)], the energy per weight
alpha eps_t and the entropy s = phi + beta alpha eps_t.

Branches (``branch=``):

* "perfect": J = B, R = q = 1, phi = 0 (zero energy, zero entropy); a solution at every alpha and T
  (Rh, qh -> inf): the teacher is an isolated ground state.
* "poor": the R < 1 solution that starts at R = 0 for alpha = 0. The ratio of the two conjugate
  equations, qh dG_E/dR + 2 Rh dG_E/dq = 0, does not contain alpha: at given Rh and T it fixes qh
  (one bracketed root in ln(qh/Rh)), and then alpha = Rh / dG_E/dR. Along this curve alpha(Rh) rises to
  a maximum alpha_sp(T), the spinodal, where the poor branch merges with an unstable R < 1 branch (the
  curve's descending part, which runs back to alpha = 0 as R -> 1) and disappears; beyond it the poor
  branch does not exist (NaN). phi decreases along the poor branch (dphi/dalpha = G_E < 0).
* "stable": the branch with the larger phi (smaller free energy): poor for alpha < alpha_c(T), perfect
  for alpha >= alpha_c(T); alpha_c(T) (``transition_load``) solves phi_poor = 0 and is a first-order
  transition (R jumps to 1). At T = 0 the version-space entropy of the poor branch falls to zero at
  alpha_c = 1.2448 (EvdB: 1.245) and the branch ends at alpha_sp = 1.4926 (Gyorgyi: 1.49).

High-temperature limit (SST): T -> inf at fixed alpha/T; then qh -> 0, q = R^2 and the annealed
free entropy is exact, phi -> s(R) - (alpha/T) arccos(R)/pi with the binary entropy
s(R) = -(1+R)/2 ln((1+R)/2) - (1-R)/2 ln((1-R)/2). Poor branch: atanh(R) sqrt(1-R^2) = (alpha/T)/pi;
spinodal at R atanh(R) = 1, (alpha/T)_sp = pi sqrt(1-R^2)/R = 2.0821; transition where
s(R) = (alpha/T) arccos(R)/pi on the poor branch, (alpha/T)_c = 1.6959.

The theory is replica symmetric. At T = 0 (the Nishimori line) replica symmetry is exact on the poor
branch; at T > 0 its local (de Almeida-Thouless) stability is not checked here.

Numerics: Gauss-Hermite (100 nodes) for the integrals over z and s, a sinh-spaced trapezoid rule (dense
near t = 0, where the features of width Delta/R and 1/a sit) for those over t; all roots are bracketed
(Illinois regula falsi, vectorised), the spinodal is a golden-section maximum of alpha(Rh) in ln Rh.
The critical loads of each temperature are cached. Vectorised over alpha and temperature (broadcast).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from . import _checks
from ._checks import SaddlePointError, scalar_or_array
from .perceptron import _K, _log_phi_beta, _sinh_grid

__all__ = [
    "BRANCHES",
    "gibbs_error",
    "order_parameters",
    "free_entropy",
    "free_energy",
    "entropy",
    "training_error",
    "transition_load",
    "spinodal_load",
    "high_temperature_order_parameter",
    "high_temperature_error",
    "high_temperature_free_entropy",
    "high_temperature_transition",
    "high_temperature_spinodal",
]

BRANCHES = ("stable", "poor", "perfect")

_SQRT2PI = np.sqrt(2.0 * np.pi)
# probabilists' Gauss-Hermite rule: int Dz f(z) ~ sum w_i f(z_i)
_GH_Z, _GH_W = np.polynomial.hermite_e.hermegauss(100)
_GH_W = _GH_W / _SQRT2PI
_T_NODES, _T_WEIGHTS = _sinh_grid(400)
# the spinodal's conjugate Rh lies in this bracket for every temperature (3.26 at T = 0, 1.20 as T -> inf)
_RH_SEARCH = (0.05, 8.0)
_RH_SMALL = 1e-3  # far below the transition: phi = ln 2 - O(alpha)
_XTOL = 1e-13


# ----------------------------------------------------------------------------- validation
def _alpha(alpha):
    return _checks.nonnegative("alpha", alpha)


def _temperature(temperature):
    return _checks.nonnegative("temperature", temperature)


def _branch(branch):
    if branch not in BRANCHES:
        raise ValueError(f"branch must be one of {BRANCHES}, got {branch!r}")
    return branch


def _beta(T):
    with np.errstate(divide="ignore"):
        return np.where(T > 0, 1.0 / np.where(T > 0, T, 1.0), np.inf)


# ----------------------------------------------------------------------------- root finding
def _illinois(fun, lo, hi, f_lo, f_hi, xtol=_XTOL, max_iter=200, what="root"):
    """Roots of fun on the brackets [lo, hi] (f_lo, f_hi of opposite signs), vectorised.

    fun(x, idx) evaluates the points with indices idx at x. Illinois variant of regula falsi: the
    bracket is kept and shrinks superlinearly on both sides. Raises SaddlePointError if a bracket is
    not a bracket or the iteration does not reach width xtol * max(1, |x|).
    """
    lo, hi, f_lo, f_hi = (np.array(v, dtype=float, copy=True) for v in (lo, hi, f_lo, f_hi))
    if np.any(~(f_lo * f_hi <= 0)):
        i = int(np.argmax(~(f_lo * f_hi <= 0)))
        raise SaddlePointError(f"{what}: no sign change on [{lo[i]!r}, {hi[i]!r}] ({f_lo[i]!r}, {f_hi[i]!r})")
    x = np.where(f_lo == 0, lo, hi)
    side = np.zeros(lo.shape, int)
    active = np.flatnonzero((f_lo != 0) & (f_hi != 0))
    for _ in range(max_iter):
        if active.size == 0:
            return x
        a, b, fa, fb = lo[active], hi[active], f_lo[active], f_hi[active]
        c = (a * fb - b * fa) / (fb - fa)
        c = np.where(np.isfinite(c) & (c > a) & (c < b), c, 0.5 * (a + b))
        fc = fun(c, active)
        if np.any(~np.isfinite(fc)):
            i = active[int(np.argmax(~np.isfinite(fc)))]
            raise SaddlePointError(f"{what}: non-finite value at {c[np.argmax(~np.isfinite(fc))]!r} (point {i})")
        x[active] = c
        left = fc * fa > 0  # root in [c, b]: move lo
        s = side[active]
        fb_new = np.where(left & (s == 1), fb / 2, fb)
        fa_new = np.where(~left & (s == -1), fa / 2, fa)
        lo[active] = np.where(left, c, a)
        f_lo[active] = np.where(left, fc, fa_new)
        hi[active] = np.where(left, b, c)
        f_hi[active] = np.where(left, fb_new, fc)
        side[active] = np.where(left, 1, -1)
        done = (fc == 0) | (hi[active] - lo[active] < xtol * np.maximum(1.0, np.abs(c)))
        active = active[~done]
    if active.size:
        i = active[0]
        raise SaddlePointError(f"{what} did not converge in {max_iter} iterations (bracket [{lo[i]!r}, {hi[i]!r}])")
    return x


# ----------------------------------------------------------------------------- the RS terms
def _entropic(Rh, qh):
    """R, Delta^2 = q - R^2 (a variance, >= 0) and int Dz ln 2cosh(sqrt(qh) z + Rh)."""
    h = np.sqrt(qh)[:, None] * _GH_Z[None, :] + Rh[:, None]
    th = np.tanh(h)
    R = th @ _GH_W
    Delta2 = ((th - R[:, None]) ** 2) @ _GH_W
    log_cosh = np.logaddexp(h, -h) @ _GH_W
    return R, Delta2, log_cosh


def _energetic_gradient(R, Delta2, beta):
    """(dG_E/dR, dG_E/dq) at R, q = R^2 + Delta^2 (formulas in the module docstring)."""
    q = R * R + Delta2
    one_q = 1.0 - q
    Delta = np.sqrt(Delta2)
    b = Delta / np.sqrt(one_q)
    dR = 2.0 / _SQRT2PI / np.sqrt(one_q) * (_K(b[:, None] * _GH_Z[None, :], beta[:, None]) @ _GH_W)
    a = np.sqrt(q / one_q)
    t = _T_NODES[None, :]
    weight = special.ndtr(R[:, None] * t / Delta[:, None])
    J = (weight * t * _K(a[:, None] * t, beta[:, None])) @ _T_WEIGHTS
    dq = -(R / (2.0 * q)) * dR + J / (np.sqrt(q) * one_q**1.5)
    return dR, dq


def _energetic_values(R, Delta2, beta):
    """(G_E, eps_t): the energetic free entropy per example and the training error."""
    q = R * R + Delta2
    Delta = np.sqrt(Delta2)
    a = np.sqrt(q / (1.0 - q))
    t = _T_NODES[None, :]
    weight = special.ndtr(R[:, None] * t / Delta[:, None])
    at = a[:, None] * t
    be = beta[:, None]
    log_den = _log_phi_beta(at, be)
    G_E = 2.0 * (weight * log_den) @ _T_WEIGHTS
    with np.errstate(invalid="ignore"):
        eps = np.where(np.isfinite(be), np.exp(-be + special.log_ndtr(-at) - log_den), 0.0)
    eps_t = 2.0 * (weight * eps) @ _T_WEIGHTS
    return G_E, eps_t


def _curve(Rh, beta):
    """The R < 1 solution curve at conjugate Rh (> 0) and inverse temperature beta (arrays, same shape).

    Returns (alpha, R, Delta2, qh). At beta = inf, qh = Rh and q = R (Nishimori); at finite beta
    qh/Rh solves qh dG_E/dR + 2 Rh dG_E/dq = 0, bracketed in ln(qh/Rh) in [ln 1e-12, ln 1.05].
    """
    Rh = np.asarray(Rh, float)
    beta = np.asarray(beta, float)
    qh = Rh.copy()
    R, Delta2, _ = _entropic(Rh, qh)
    cold = ~np.isfinite(beta)
    Delta2 = np.where(cold, R * (1.0 - R), Delta2)
    hot = np.flatnonzero(~cold)
    if hot.size:
        Rh_h, beta_h = Rh[hot], beta[hot]

        def g(log_rho, idx):
            R_, D2_, _ = _entropic(Rh_h[idx], Rh_h[idx] * np.exp(log_rho))
            dR, dq = _energetic_gradient(R_, D2_, beta_h[idx])
            return np.exp(log_rho) * dR + 2.0 * dq

        every = np.arange(hot.size)
        lo = np.full(hot.size, np.log(1e-12))
        hi = np.full(hot.size, np.log(1.05))
        log_rho = _illinois(g, lo, hi, g(lo, every), g(hi, every), what="Ising RS conjugate ratio qh/Rh")
        qh[hot] = Rh_h * np.exp(log_rho)
        R[hot], Delta2[hot], _ = _entropic(Rh_h, qh[hot])
    dR, _ = _energetic_gradient(R, Delta2, beta)
    return Rh / dR, R, Delta2, qh


def _phi(alpha, Rh, qh, R, Delta2, beta):
    """Free entropy phi and training error at a solution of the saddle-point equations."""
    _, _, log_cosh = _entropic(Rh, qh)
    q = R * R + Delta2
    G_E, eps_t = _energetic_values(R, Delta2, beta)
    return -Rh * R - 0.5 * qh * (1.0 - q) + log_cosh + alpha * G_E, eps_t


# ----------------------------------------------------------------------------- critical loads
_CRITICAL: dict[float, tuple[float, float, float, float]] = {}


def _critical(T_unique):
    """(Rh_sp, alpha_sp, Rh_c, alpha_c) for each temperature of T_unique (cached per temperature)."""
    missing = np.array([t for t in T_unique if float(t) not in _CRITICAL], dtype=float)
    if missing.size:
        beta = _beta(missing)
        # spinodal: golden-section maximum of alpha(Rh) in u = ln Rh
        a, b = np.full(missing.size, np.log(_RH_SEARCH[0])), np.full(missing.size, np.log(_RH_SEARCH[1]))
        g = (np.sqrt(5.0) - 1.0) / 2.0
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = _curve(np.exp(c), beta)[0], _curve(np.exp(d), beta)[0]
        while np.max(b - a) > 1e-9:
            left = fc > fd  # maximum in [a, d]
            a, b = np.where(left, a, c), np.where(left, d, b)
            c_new = np.where(left, b - g * (b - a), d)
            d_new = np.where(left, c, a + g * (b - a))
            f_new = _curve(np.exp(np.where(left, c_new, d_new)), beta)[0]
            fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
            c, d = c_new, d_new
        u_sp = 0.5 * (a + b)
        if np.any(u_sp - np.log(_RH_SEARCH[0]) < 1e-6) or np.any(np.log(_RH_SEARCH[1]) - u_sp < 1e-6):
            raise SaddlePointError(
                f"spinodal of the poor branch not inside Rh in {_RH_SEARCH} at temperatures {missing!r}")
        Rh_sp = np.exp(u_sp)
        al_sp, R_sp, D2_sp, qh_sp = _curve(Rh_sp, beta)
        phi_sp, _ = _phi(al_sp, Rh_sp, qh_sp, R_sp, D2_sp, beta)

        # transition: phi = 0 on the poor branch, Rh in [_RH_SMALL, Rh_sp]
        def phi_of(Rh, idx):
            al, R, D2, qh = _curve(Rh, beta[idx])
            return _phi(al, Rh, qh, R, D2, beta[idx])[0]

        lo = np.full(missing.size, _RH_SMALL)
        every = np.arange(missing.size)
        Rh_c = _illinois(phi_of, lo, Rh_sp, phi_of(lo, every), phi_sp, what="Ising first-order transition")
        al_c = _curve(Rh_c, beta)[0]
        for i, t in enumerate(missing):
            _CRITICAL[float(t)] = (float(Rh_sp[i]), float(al_sp[i]), float(Rh_c[i]), float(al_c[i]))
    return np.array([_CRITICAL[float(t)] for t in T_unique]).reshape(-1, 4)


def transition_load(temperature=0.0):
    """Load alpha_c(T) of the first-order transition to perfect generalisation (phi_poor = 0).

    Below it the poor branch is stable, above it the perfect state J = B. alpha_c(0) = 1.2448
    (EvdB ch. 7: 1.245); alpha_c(T)/T -> high_temperature_transition() = 1.6959 as T -> inf.
    Vectorised over temperature.
    """
    T = _temperature(temperature)
    uniq, inverse = np.unique(T.ravel(), return_inverse=True)
    out = _critical(uniq)[:, 3][inverse].reshape(T.shape)
    return scalar_or_array(out, temperature)


def spinodal_load(temperature=0.0):
    """Load alpha_sp(T) where the poor branch ends (merges with the unstable R < 1 branch).

    alpha_sp(0) = 1.4926 (Gyorgyi 1990: 1.49); alpha_sp(T)/T -> high_temperature_spinodal() = 2.0821.
    Between alpha_c and alpha_sp the poor branch is metastable. Vectorised over temperature.
    """
    T = _temperature(temperature)
    uniq, inverse = np.unique(T.ravel(), return_inverse=True)
    out = _critical(uniq)[:, 1][inverse].reshape(T.shape)
    return scalar_or_array(out, temperature)


# ----------------------------------------------------------------------------- branches
def _solve(alpha, temperature, branch):
    """Flat arrays (R, q, phi, eps_t, shape) of the requested branch; NaN where it does not exist."""
    al = _alpha(alpha)
    T = _temperature(temperature)
    _branch(branch)
    al_b, T_b = np.broadcast_arrays(al, T)
    shape = al_b.shape
    a, t = al_b.ravel().astype(float), T_b.ravel().astype(float)
    beta = _beta(t)
    n = a.size
    R, q, phi, eps_t = np.ones(n), np.ones(n), np.zeros(n), np.zeros(n)
    if branch == "perfect" or n == 0:
        return R, q, phi, eps_t, shape
    uniq, inverse = np.unique(t, return_inverse=True)
    crit = _critical(uniq)[inverse]
    Rh_hi, al_hi = (crit[:, 0], crit[:, 1]) if branch == "poor" else (crit[:, 2], crit[:, 3])
    poor = a < al_hi if branch == "stable" else a <= al_hi
    if branch == "poor":
        R[~poor] = q[~poor] = phi[~poor] = eps_t[~poor] = np.nan
    zero = poor & (a == 0)
    R[zero], q[zero], phi[zero] = 0.0, 0.0, np.log(2.0)
    eps_t[zero] = np.where(np.isfinite(beta[zero]), special.expit(-beta[zero]), 0.0)
    idx = np.flatnonzero(poor & (a > 0))
    if idx.size:
        a_i, beta_i = a[idx], beta[idx]

        def resid(Rh, sub):
            return _curve(Rh, beta_i[sub])[0] - a_i[sub]

        Rh = _illinois(resid, np.zeros(idx.size), Rh_hi[idx], -a_i, al_hi[idx] - a_i, what="Ising poor branch")
        al_s, R_s, D2_s, qh_s = _curve(Rh, beta_i)
        phi_s, eps_s = _phi(a_i, Rh, qh_s, R_s, D2_s, beta_i)
        R[idx], q[idx], phi[idx], eps_t[idx] = R_s, R_s * R_s + D2_s, phi_s, eps_s
        cold = ~np.isfinite(beta_i)
        q[idx[cold]] = R_s[cold]
    return R, q, phi, eps_t, shape


def order_parameters(alpha, temperature=0.0, branch="stable"):
    """Replica-symmetric (R, q) of Gibbs learning at load alpha and temperature T on a branch.

    branch: "stable" (poor below transition_load(T), perfect from it on), "poor" (NaN beyond
    spinodal_load(T), where it does not exist) or "perfect" (R = q = 1). At T = 0, q = R.
    Vectorised: alpha and temperature broadcast. Raises SaddlePointError if a root is not found.
    """
    R, q, _, _, shape = _solve(alpha, temperature, branch)
    return scalar_or_array(R.reshape(shape), alpha, temperature), scalar_or_array(q.reshape(shape), alpha, temperature)


def gibbs_error(alpha, temperature=0.0, branch="stable"):
    """Generalisation error arccos(R)/pi of Gibbs learning of the Ising perceptron (T = 0: version space).

    On the stable branch it jumps to 0 at transition_load(T). NaN on the poor branch beyond its spinodal.
    Vectorised over alpha and temperature (broadcast).
    """
    R, _, _, _, shape = _solve(alpha, temperature, branch)
    return scalar_or_array(np.arccos(np.clip(R, -1, 1)).reshape(shape) / np.pi, alpha, temperature)


def free_entropy(alpha, temperature=0.0, branch="stable"):
    """phi = (1/N) ln Z = -f/T of a branch (T = 0: the entropy of the version space).

    The stable branch has the larger phi; phi_perfect = 0. Vectorised over alpha and temperature.
    """
    _, _, phi, _, shape = _solve(alpha, temperature, branch)
    return scalar_or_array(phi.reshape(shape), alpha, temperature)


def free_energy(alpha, temperature=0.0, branch="stable"):
    """Free energy per weight f = -T phi (energy alpha eps_t minus T s). At T = 0 every branch has f = 0
    (no training errors); the branches are then compared by free_entropy, the version-space entropy."""
    _, _, phi, _, shape = _solve(alpha, temperature, branch)
    T = np.broadcast_to(_temperature(temperature), shape).ravel()
    return scalar_or_array(np.where(T > 0, -T * phi, 0.0 * phi).reshape(shape), alpha, temperature)


def training_error(alpha, temperature=0.0, branch="stable"):
    """Mean fraction of training errors of the Gibbs student (0 at T = 0 and on the perfect branch)."""
    _, _, _, eps_t, shape = _solve(alpha, temperature, branch)
    return scalar_or_array(eps_t.reshape(shape), alpha, temperature)


def entropy(alpha, temperature=0.0, branch="stable"):
    """Entropy per weight s = phi + alpha eps_t / T of a branch (T = 0: s = phi; perfect branch: 0)."""
    _, _, phi, eps_t, shape = _solve(alpha, temperature, branch)
    al, T = np.broadcast_arrays(_alpha(alpha), _temperature(temperature))
    T = T.ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        s = phi + np.where(T > 0, al.ravel() * eps_t / np.where(T > 0, T, 1.0), 0.0)
    return scalar_or_array(s.reshape(shape), alpha, temperature)


# ----------------------------------------------------------------------------- high temperature
def _binary_entropy(R):
    p = 0.5 * (1.0 + R)
    return special.entr(p) + special.entr(1.0 - p)


def _ht_ratio(R):
    """(alpha/T)(R) on the poor branch: pi atanh(R) sqrt(1 - R^2)."""
    return np.pi * np.arctanh(R) * np.sqrt(1.0 - R * R)


_R_SP_HT = optimize.brentq(lambda r: r * np.arctanh(r) - 1.0, 0.5, 0.99, xtol=1e-15)
_RATIO_SP_HT = float(_ht_ratio(_R_SP_HT))
_R_C_HT = optimize.brentq(lambda r: _binary_entropy(r) - _ht_ratio(r) * np.arccos(r) / np.pi, 0.1, _R_SP_HT, xtol=1e-15)
_RATIO_C_HT = float(_ht_ratio(_R_C_HT))


def high_temperature_spinodal() -> float:
    """(alpha/T)_sp = pi sqrt(1 - R^2)/R at R atanh(R) = 1: 2.0821 (end of the poor branch, T -> inf)."""
    return _RATIO_SP_HT


def high_temperature_transition() -> float:
    """(alpha/T)_c = 1.6959: the first-order transition in the high-temperature limit (phi_poor = 0)."""
    return _RATIO_C_HT


def high_temperature_order_parameter(alpha_over_T, branch="stable"):
    """R in the high-temperature limit (q = R^2): atanh(R) sqrt(1-R^2) = (alpha/T)/pi on the poor branch.

    branch as in order_parameters: "stable" jumps to R = 1 at high_temperature_transition(), "poor" is
    NaN beyond high_temperature_spinodal(). Vectorised.
    """
    y = _checks.nonnegative("alpha_over_T", alpha_over_T)
    _branch(branch)
    flat = y.ravel().astype(float)
    R = np.ones(flat.size)
    if branch != "perfect":
        edge, R_edge = (_RATIO_C_HT, _R_C_HT) if branch == "stable" else (_RATIO_SP_HT, _R_SP_HT)
        poor = flat < edge if branch == "stable" else flat <= edge
        if branch == "poor":
            R[~poor] = np.nan
        idx = np.flatnonzero(poor)
        if idx.size:
            yi = flat[idx]
            R[idx] = _illinois(lambda r, sub: _ht_ratio(r) - yi[sub], np.zeros(idx.size), np.full(idx.size, R_edge),
                               -yi, _ht_ratio(R_edge) - yi, what="high-temperature poor branch")
    return scalar_or_array(R.reshape(y.shape), alpha_over_T)


def high_temperature_error(alpha_over_T, branch="stable"):
    """Generalisation error arccos(R)/pi in the high-temperature limit (depends on alpha/T only)."""
    R = high_temperature_order_parameter(alpha_over_T, branch)
    return scalar_or_array(np.arccos(np.clip(R, -1, 1)) / np.pi, alpha_over_T)


def high_temperature_free_entropy(alpha_over_T, branch="stable"):
    """lim phi = s(R) - (alpha/T) arccos(R)/pi (the annealed free entropy at its maximum on the branch)."""
    R = np.asarray(high_temperature_order_parameter(alpha_over_T, branch), float)
    y = _checks.nonnegative("alpha_over_T", alpha_over_T)
    with np.errstate(invalid="ignore"):
        out = _binary_entropy(R) - y * np.arccos(np.clip(R, -1, 1)) / np.pi
    return scalar_or_array(out, alpha_over_T)
