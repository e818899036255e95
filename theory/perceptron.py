"""Teacher-student perceptron: learning curves of Gibbs, Bayes, Hebb and pseudo-inverse learning.

Setting (Engel & Van den Broeck, *Statistical Mechanics of Learning*, CUP 2001 = EvdB; Seung,
Sompolinsky & Tishby, PRA 45, 6056 (1992) = SST): a teacher B and a student J on the sphere
|J|^2 = |B|^2 = N, inputs x ~ N(0, I_N), labels sign(B.x), P = alpha N examples (the load alpha).
The generalization error is epsilon = arccos(R)/pi, R = J.B/N (EvdB eq. 1.3).

Gibbs learning at temperature T samples J from exp(-E(J)/T) on the sphere, with E(J) the *number*
of training errors (summed over examples, docs/design.md's convention). Replica-symmetric free energy
(EvdB ch. 2 and 4; SST sec. IV), with beta = 1/T, Delta = sqrt(q - R^2), a = sqrt(q/(1-q)):

    f(q, R) = 1/2 ln(1-q) + (q - R^2)/(2(1-q)) + alpha G_E,
    G_E     = 2 int Dt H(-R t/Delta) ln[e^-beta + (1 - e^-beta) H(-a t)],

H(x) = int_x^inf Dz; q is the overlap of two students. Stationarity in R and q gives

    R/(1-q)               = alpha dG_E/dR = alpha (2/sqrt(2 pi)) (1-q)^-1/2 int Ds K(b s),
    (q-R^2)/(2(1-q)^2)    = -alpha dG_E/dq,
    dG_E/dq = -(R/2q) dG_E/dR + (2/(2 sqrt(q)(1-q)^{3/2})) int Dt H(-R t/Delta) t K(a t),

with b = Delta/sqrt(1-q) and K(x) = (1 - e^-beta) phi(x) / [e^-beta + (1 - e^-beta) Phi(x)].
At T = 0 (version-space sampling) q = R (Nishimori symmetry) and the equations reduce to EvdB eq. 2.42:

    R / sqrt(1-R) = (alpha/pi) int Dt exp(-R t^2/2) / H(-sqrt(R) t).

The training error of the Gibbs student is  2 int Dt H(-R t/Delta) e^-beta H(a t) / [e^-beta + (1-e^-beta) H(-a t)].
High-temperature limit (T -> inf at fixed alpha/T; EvdB sec. 4.?, SST sec. V): q = R^2 and
R/sqrt(1-R^2) = alpha/(pi T), so epsilon depends on alpha/T only, epsilon ~ T/alpha for large alpha/T.

Bayes (optimal) learning: the centre of mass of the version space has R_B = sqrt(R_Gibbs(T=0))
(EvdB sec. 3.6). Hebb: R = sqrt(2 alpha/(2 alpha + pi)) (EvdB sec. 3.1). Pseudo-inverse
(minimum-norm interpolator of J.x/sqrt(N) = sigma, alpha < 1; EvdB sec. 3.2) and least squares
(alpha > 1): writing sigma = c t + eta with c = sqrt(2/pi), var(eta) = 1 - 2/pi,

    alpha < 1:  R^2 = 2 alpha (1 - alpha) / (pi - 2 alpha)       (epsilon -> 1/2 at alpha = 1)
    alpha > 1:  R^2 = 2 (alpha - 1) / (2 alpha + pi - 4).

Large-alpha asymptotics (EvdB eqs. 2.50, 3.25): with I = int Dt exp(-t^2/2)/H(-t) = 2.2630...,
epsilon_Gibbs ~ sqrt(2)/(I alpha) = 0.6250/alpha, epsilon_Bayes ~ 1/(I alpha) = 0.4419/alpha,
epsilon_Hebb ~ 1/sqrt(2 pi alpha), epsilon_PI ~ sqrt((pi-2)/2)/(pi sqrt(alpha)).

All functions are vectorised over alpha (and temperature, broadcast).
"""
from __future__ import annotations

import numpy as np
from scipy import integrate, special

from . import _checks
from ._checks import SaddlePointError, scalar_or_array

__all__ = [
    "gibbs_error",
    "gibbs_order_parameters",
    "gibbs_training_error",
    "bayes_error",
    "hebb_error",
    "pseudoinverse_error",
    "high_temperature_error",
    "asymptotic_constant",
    "gibbs_asymptotic_error",
    "bayes_asymptotic_error",
    "hebb_asymptotic_error",
    "pseudoinverse_asymptotic_error",
]

_SQRT2PI = np.sqrt(2.0 * np.pi)
# probabilists' Gauss-Hermite rule: int Dt f(t) ~ sum w_i f(t_i)
_GH_T, _GH_W = np.polynomial.hermite_e.hermegauss(60)
_GH_W = _GH_W / _SQRT2PI


def _sinh_grid(n_nodes: int = 200, c: float = 1e-5, span: float = 12.0):
    """Trapezoid nodes t = c sinh(u) (dense near 0, relative resolution ~2 asinh(span/c)/n) with Dt weights."""
    U = np.arcsinh(span / c)
    u, du = np.linspace(-U, U, n_nodes, retstep=True)
    t = c * np.sinh(u)
    w = c * np.cosh(u) * du * np.exp(-0.5 * t * t) / _SQRT2PI
    return t, w


_T_NODES, _T_WEIGHTS = _sinh_grid()
_GRIDS = (_GH_T, _GH_W, _T_NODES, _T_WEIGHTS)


# ----------------------------------------------------------------------------- helpers
def _log_phi_beta(x, beta):
    """ln[e^-beta + (1 - e^-beta) Phi(x)] (beta may be inf)."""
    return np.logaddexp(-beta, np.log1p(-np.exp(-beta)) + special.log_ndtr(x))


def _K(x, beta):
    """(1 - e^-beta) phi(x) / [e^-beta + (1 - e^-beta) Phi(x)].

    Direct evaluation where e^-beta > 1e-250 (the denominator is then bounded away from zero),
    in logs elsewhere (beta = inf included); beta broadcasts against x.
    """
    beta = np.asarray(beta, dtype=float)
    if np.all(beta < 575.0):
        # all direct: the beta factors are computed once per beta (beta may be a (n, 1) column)
        c = -np.expm1(-beta)
        return c * np.exp(-0.5 * x * x) / _SQRT2PI / (np.exp(-beta) + c * special.ndtr(x))
    x, beta = np.broadcast_arrays(x, beta)
    out = np.empty(x.shape)
    direct = beta < 575.0
    if np.any(direct):
        xd, bd = x[direct], beta[direct]
        e = np.exp(-bd)
        out[direct] = -np.expm1(-bd) * np.exp(-0.5 * xd * xd) / _SQRT2PI / (e - np.expm1(-bd) * special.ndtr(xd))
    if not np.all(direct):
        xl, bl = x[~direct], beta[~direct]
        out[~direct] = np.exp(np.log1p(-np.exp(-bl)) - 0.5 * xl * xl - np.log(_SQRT2PI) - _log_phi_beta(xl, bl))
    return out


def _alpha(alpha):
    return _checks.positive("alpha", alpha)


def _temperature(temperature):
    return _checks.nonnegative("temperature", temperature)


# ----------------------------------------------------------------------------- T = 0
def _zero_temperature_R(alpha: np.ndarray, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
    """Solve R/sqrt(1-R) = (alpha/pi) int Dt exp(-R t^2/2)/H(-sqrt(R) t), vectorised over alpha.

    Safeguarded Newton on x = -log(1 - R) in the bracket [0, 80]: the left side minus the right
    side is negative at R = 0 and +inf at R -> 1, so the bracket always holds; a Newton step that
    leaves the bracket is replaced by bisection. Solved once per distinct alpha.
    """
    uniq, inverse = np.unique(alpha.ravel(), return_inverse=True)
    a = uniq

    def residual(x):
        R = -np.expm1(-x)
        t = _GH_T[None, :]
        integrand = np.exp(-0.5 * R[:, None] * t * t - special.log_ndtr(np.sqrt(R)[:, None] * t))
        return R * np.exp(0.5 * x) - a / np.pi * (integrand @ _GH_W)

    lo = np.zeros_like(a)
    hi = np.full_like(a, 80.0)
    # start from the large-alpha asymptote 1 - R = (pi/(I alpha))^2, clipped into the bracket
    x = np.clip(2.0 * np.log(np.maximum(a * 2.264 / np.pi, 1e-3)), 1e-3, 60.0)
    h = 1e-7
    converged = np.zeros(a.shape, bool)
    for _ in range(max_iter):
        f = residual(x)
        lo = np.where(f < 0, x, lo)
        hi = np.where(f > 0, x, hi)
        fp = (residual(x + h) - f) / h
        with np.errstate(divide="ignore", invalid="ignore"):
            x_new = x - f / fp
        outside = ~((x_new > lo) & (x_new < hi)) | ~np.isfinite(x_new)
        x_new = np.where(outside, 0.5 * (lo + hi), x_new)
        converged = (np.abs(x_new - x) < tol * np.maximum(1.0, x)) | (f == 0)
        x = x_new
        if np.all(converged):
            break
    if not np.all(converged) or np.any(x > 79.0):
        bad = a[~converged | (x > 79.0)][0]
        raise SaddlePointError(f"Gibbs T=0 saddle point did not converge at alpha={bad!r}")
    return (-np.expm1(-x))[inverse].reshape(alpha.shape)


# ----------------------------------------------------------------------------- finite T
def _gradients(R, q, alpha, beta, jacobian=False, grids=None):
    """Relative residuals of the two stationarity equations (zero at the saddle point).

    With jacobian=True also returns their analytic Jacobian with respect to the solver's coordinates
    x = (logit R, logit s), q = R^2 + (1 - R^2) s, shape (n, 2, 2). It uses K'(x) = -x K(x) - K(x)^2
    (from phi' = -x phi), so the derivative costs one more exp on top of the residual.
    grids = (GH nodes, GH weights, sinh nodes, sinh weights); default the module's rules.
    """
    gh_t, gh_w, t_nodes, t_weights = _GRIDS if grids is None else grids
    one_q = 1.0 - q
    Delta2 = q - R * R
    Delta = np.sqrt(Delta2)
    sq1 = np.sqrt(one_q)
    b = Delta / sq1
    # dG_E/dR = (2/sqrt(2 pi)) (1-q)^-1/2 int Ds K(b s)
    bs = b[:, None] * gh_t[None, :]
    Kb = _K(bs, beta[:, None])
    kint = Kb @ gh_w
    c0 = 2.0 / _SQRT2PI
    dR = c0 / sq1 * kint
    # int Dt H(-R t/Delta) t K(a t) on the sinh grid (features at t ~ Delta/R and 1/a, both near 0)
    a = np.sqrt(q / one_q)
    t = t_nodes[None, :]
    z = R[:, None] * t / Delta[:, None]
    weight = special.ndtr(z)
    at = a[:, None] * t
    Ka = _K(at, beta[:, None])
    tK = t * Ka
    J = (weight * tK) @ t_weights
    m = 1.0 / (np.sqrt(q) * one_q**1.5)
    dq = -(R / (2.0 * q)) * dR + J * m
    A = 2.0 * alpha * one_q**2 / Delta2
    r1 = 1.0 - alpha * one_q * dR / R
    r2 = 1.0 + A * dq
    res = np.stack([r1, r2], axis=-1)
    if not jacobian:
        return res
    # derivatives with respect to (R, q)
    kint_b = (gh_t[None, :] * (-bs * Kb - Kb * Kb)) @ gh_w  # d kint / d b
    b_R = -R / (Delta * sq1)
    b_q = (1.0 - R * R) / (2.0 * b * one_q**2)
    dR_R = c0 / sq1 * kint_b * b_R
    dR_q = c0 * (0.5 * kint / one_q**1.5 + kint_b * b_q / sq1)
    # d/dz ndtr(z) = phi(z);  dz/dR = t q/Delta^3,  dz/dq = -t R/(2 Delta^3)
    phiz_tK = np.exp(-0.5 * z * z) / _SQRT2PI * t * tK
    Jz = phiz_tK @ t_weights
    J_R = Jz * q / (Delta2 * Delta)
    J_q = -Jz * R / (2.0 * Delta2 * Delta)
    # d/da: t K'(a t) t
    J_q += ((weight * t * t * (-at * Ka - Ka * Ka)) @ t_weights) / (2.0 * a * one_q**2)
    m_q = m * (-0.5 / q + 1.5 / one_q)
    dq_R = -dR / (2.0 * q) - (R / (2.0 * q)) * dR_R + m * J_R
    dq_q = R / (2.0 * q * q) * dR - (R / (2.0 * q)) * dR_q + m_q * J + m * J_q
    # r1 = 1 - alpha c0 sqrt(1-q) kint / R
    r1_R = -alpha * c0 * sq1 * (kint_b * b_R / R - kint / (R * R))
    r1_q = -alpha * c0 / R * (-0.5 / sq1 * kint + sq1 * kint_b * b_q)
    r2_R = A * (2.0 * R / Delta2) * dq + A * dq_R
    r2_q = A * (-2.0 / one_q - 1.0 / Delta2) * dq + A * dq_q
    # chain rule to x = (logit R, logit s)
    s = Delta2 / (1.0 - R * R)
    R_x0 = R * (1.0 - R)
    q_x0 = 2.0 * R * (1.0 - s) * R_x0
    q_x1 = (1.0 - R * R) * s * (1.0 - s)
    jac = np.empty(R.shape + (2, 2))
    jac[:, 0, 0] = r1_R * R_x0 + r1_q * q_x0
    jac[:, 0, 1] = r1_q * q_x1
    jac[:, 1, 0] = r2_R * R_x0 + r2_q * q_x0
    jac[:, 1, 1] = r2_q * q_x1
    return res, jac


def _to_params(x):
    R = special.expit(x[:, 0])
    s = special.expit(x[:, 1])
    q = R * R + (1.0 - R * R) * s
    return R, q


def _from_params(R, q):
    s = (q - R * R) / (1.0 - R * R)
    return np.stack([special.logit(R), special.logit(s)], axis=-1)


def _newton(x, alpha, beta, tol, max_iter, grids=None):
    """Damped Newton on the relative residuals in unconstrained coordinates x = (logit R, logit s).

    Analytic Jacobian (see _gradients), evaluated together with the residual at every accepted point;
    the step is clipped to 2 per coordinate and halved (per point) until the residual decreases.
    Only points whose residual is still above tol are iterated. Returns x and the residual norms.
    """
    x = x.copy()
    res, jac = _gradients(*_to_params(x), alpha, beta, jacobian=True, grids=grids)
    norm = np.max(np.abs(res), axis=-1)
    for _ in range(max_iter):
        active = np.flatnonzero(norm > tol)
        if active.size == 0:
            break
        xa, ra, ja, al, be = x[active], res[active], jac[active], alpha[active], beta[active]
        na = norm[active]
        det = ja[:, 0, 0] * ja[:, 1, 1] - ja[:, 0, 1] * ja[:, 1, 0]
        det = np.where(np.abs(det) < 1e-300, 1e-300, det)
        step0 = -(ja[:, 1, 1] * ra[:, 0] - ja[:, 0, 1] * ra[:, 1]) / det
        step1 = -(-ja[:, 1, 0] * ra[:, 0] + ja[:, 0, 0] * ra[:, 1]) / det
        step = np.clip(np.stack([step0, step1], axis=-1), -2.0, 2.0)
        # backtracking: halve the step until the residual decreases (per point)
        lam = np.ones(len(xa))
        new_x = xa + step
        new_r, new_j = _gradients(*_to_params(new_x), al, be, jacobian=True, grids=grids)
        for _ in range(30):
            worse = ~(np.max(np.abs(new_r), axis=-1) < na) | np.any(~np.isfinite(new_r), axis=-1)
            if not np.any(worse):
                break
            lam = np.where(worse, lam / 2, lam)
            new_x[worse] = xa[worse] + lam[worse, None] * step[worse]
            new_r[worse], new_j[worse] = _gradients(
                *_to_params(new_x[worse]), al[worse], be[worse], jacobian=True, grids=grids
            )
        x[active] = new_x
        res[active] = new_r
        jac[active] = new_j
        norm[active] = np.max(np.abs(new_r), axis=-1)
    return x, norm


def _finite_temperature_Rq(alpha, beta, R0, q0, tol=1e-10, max_iter=100):
    """Saddle point (R, q) at finite temperature by damped Newton (_newton) from (R0, q0).

    Raises SaddlePointError where the final relative residual exceeds 100 tol.
    """
    x, norm = _newton(_from_params(R0, q0), alpha, beta, tol, max_iter)
    if np.any(~(norm <= tol * 100)):
        i = int(np.argmax(~(norm <= tol * 100)))
        raise SaddlePointError(
            f"Gibbs saddle point did not converge at alpha={alpha[i]!r}, temperature={1 / beta[i]!r} "
            f"(residual {norm[i]:.2e})"
        )
    return _to_params(x)


def gibbs_order_parameters(alpha, temperature=0.0):
    """Replica-symmetric saddle point (R, q) of Gibbs learning at load alpha and temperature T.

    R = J.B/N (student-teacher), q = J1.J2/N (two students at the same data). At T = 0, q = R.
    Vectorised: alpha and temperature broadcast; the solve is vectorised over all points, starting
    from the T = 0 and high-temperature solutions (warm start). Raises SaddlePointError if the
    Newton iteration does not reach a relative residual of 1e-10.
    """
    al = _alpha(alpha)
    T = _temperature(temperature)
    al_b, T_b = np.broadcast_arrays(al, T)
    shape = al_b.shape
    al_f, T_f = al_b.ravel().astype(float), T_b.ravel().astype(float)
    R = np.empty_like(al_f)
    q = np.empty_like(al_f)
    zero = T_f == 0
    if np.any(zero):
        R[zero] = _zero_temperature_R(al_f[zero])
        q[zero] = R[zero]
    hot = ~zero
    if np.any(hot):
        a, beta = al_f[hot], 1.0 / T_f[hot]
        R_cold = _zero_temperature_R(a)
        y = a * beta / np.pi
        R_hot = y / np.sqrt(1 + y * y)
        R_init = np.clip(np.minimum(R_cold, R_hot), 1e-6, 1 - 1e-9)
        # start q between R^2 (high T) and R (T = 0), weighted by how cold the point is
        w = np.exp(-T_f[hot])
        q_init = R_init**2 + (R_init - R_init**2) * np.clip(w, 0.05, 0.95)
        R[hot], q[hot] = _finite_temperature_Rq(a, beta, R_init, q_init)
    return R.reshape(shape), q.reshape(shape)


def gibbs_error(alpha, temperature=0.0):
    """Generalization error arccos(R)/pi of Gibbs learning (T = 0: version-space sampling).

    E = number of training errors, Gibbs measure exp(-E/T). See the module docstring for the saddle
    point. Vectorised over alpha and temperature (broadcast).
    """
    R, _ = gibbs_order_parameters(alpha, temperature)
    return scalar_or_array(np.arccos(np.clip(R, -1, 1)) / np.pi, alpha, temperature)


def gibbs_training_error(alpha, temperature):
    """Mean fraction of training errors of the Gibbs student at temperature T > 0 (0 at T = 0).

    epsilon_t = 2 int Dt H(-R t/Delta) e^-beta H(a t) / [e^-beta + (1 - e^-beta) H(-a t)].
    """
    R, q = gibbs_order_parameters(alpha, temperature)
    T = np.broadcast_to(_temperature(temperature), R.shape).ravel()
    Rf, qf = R.ravel(), q.ravel()
    out = np.zeros_like(Rf)
    hot = T > 0
    if np.any(hot):
        Rh, qh, beta = Rf[hot, None], qf[hot, None], 1.0 / T[hot, None]
        Delta = np.sqrt(qh - Rh**2)
        a = np.sqrt(qh / (1 - qh))
        t = _T_NODES[None, :]
        log_err = -beta + special.log_ndtr(-a * t) - _log_phi_beta(a * t, beta)
        out[hot] = 2.0 * (special.ndtr(Rh * t / Delta) * np.exp(log_err)) @ _T_WEIGHTS
    return scalar_or_array(out.reshape(R.shape), alpha, temperature)


def high_temperature_error(alpha_over_T):
    """High-temperature limit of Gibbs learning: R/sqrt(1-R^2) = (alpha/T)/pi, error arccos(R)/pi."""
    y = _checks.positive("alpha_over_T", alpha_over_T) / np.pi
    return scalar_or_array(np.arccos(y / np.sqrt(1 + y * y)) / np.pi, alpha_over_T)


def bayes_error(alpha):
    """Bayes-optimal error arccos(sqrt(R_Gibbs))/pi (centre of mass of the version space)."""
    R = _zero_temperature_R(_alpha(alpha))
    return scalar_or_array(np.arccos(np.sqrt(R)) / np.pi, alpha)


def hebb_error(alpha):
    """Hebb rule J = sum_mu sigma_mu x_mu: R = sqrt(2 alpha / (2 alpha + pi)), error arccos(R)/pi."""
    al = _alpha(alpha)
    return scalar_or_array(np.arccos(np.sqrt(2 * al / (2 * al + np.pi))) / np.pi, alpha)


def pseudoinverse_error(alpha):
    """Minimum-norm interpolator (alpha < 1) / least squares (alpha > 1) of the labels sigma = +-1.

    R^2 = 2 alpha (1-alpha)/(pi - 2 alpha) for alpha < 1, 2 (alpha-1)/(2 alpha + pi - 4) for alpha > 1;
    the error is 1/2 at alpha = 1 (interpolation threshold).
    """
    al = _alpha(alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        R2 = np.where(al < 1, 2 * al * (1 - al) / (np.pi - 2 * al), 2 * (al - 1) / (2 * al + np.pi - 4))
    return scalar_or_array(np.arccos(np.sqrt(np.clip(R2, 0, 1))) / np.pi, alpha)


def asymptotic_constant() -> float:
    """I = int Dt exp(-t^2/2)/H(-t) (= 2.26301...), which sets the large-alpha constants."""
    val, _ = integrate.quad(lambda t: np.exp(-t * t - special.log_ndtr(t)) / _SQRT2PI, -np.inf, np.inf, epsabs=1e-13)
    return float(val)


def gibbs_asymptotic_error(alpha):
    """Large-alpha Gibbs (T = 0) error sqrt(2)/(I alpha) ~ 0.6250/alpha."""
    return scalar_or_array(np.sqrt(2) / (asymptotic_constant() * _alpha(alpha)), alpha)


def bayes_asymptotic_error(alpha):
    """Large-alpha Bayes error 1/(I alpha) ~ 0.4419/alpha."""
    return scalar_or_array(1.0 / (asymptotic_constant() * _alpha(alpha)), alpha)


def hebb_asymptotic_error(alpha):
    """Large-alpha Hebb error 1/sqrt(2 pi alpha)."""
    return scalar_or_array(1.0 / np.sqrt(2 * np.pi * _alpha(alpha)), alpha)


def pseudoinverse_asymptotic_error(alpha):
    """Large-alpha least-squares error sqrt((pi - 2)/2)/(pi sqrt(alpha))."""
    return scalar_or_array(np.sqrt((np.pi - 2) / 2) / (np.pi * np.sqrt(_alpha(alpha))), alpha)
