"""Learning curves of L2-regularised logistic regression on a perceptron teacher (replica / GCM theory).

Model (Aubin, Krzakala, Lu & Zdeborova, "Generalization error in high-dimensional perceptrons:
approaching Bayes error with convex optimization", NeurIPS 2020 = AKLZ; Loureiro, Gerbelot, Cui, Goldt,
Krzakala, Mezard & Zdeborova, "Learning curves of generic features maps for realistic datasets with a
teacher-student model", NeurIPS 2021 = LGCGKMZ): inputs x ~ N(0, I_N), labels y = sign(u.x) of a
teacher with |u|^2 = N (so the teacher field nu = u.x/sqrt(N) ~ N(0, 1), rho = 1), P = alpha N
examples, and the estimator

    w = argmin  sum_mu log(1 + exp(-y_mu w.x_mu/sqrt(N))) + lam/2 |w|^2.

(scikit-learn's LogisticRegression(C=1/lam, fit_intercept=False) on the inputs x/sqrt(N).) As N -> inf
at fixed alpha the overlaps m = w.u/N and q = |w|^2/N concentrate; the test error is
arccos(m/sqrt(q))/pi (the student field h = w.x/sqrt(N) and nu are jointly Gaussian with E h nu = m,
E h^2 = q, E nu^2 = 1).

Saddle point (AKLZ; LGCGKMZ with Omega = Phi = Psi = I): with the proximal operator
of the loss l(y, h) = log(1 + e^{-y h}),

    prox(y, omega, V) = argmin_h [ (h - omega)^2/(2V) + l(y, h) ],  f = (prox - omega)/V = y sigma(-y prox),
    -d f/d omega = l''/(1 + V l''),  l'' = sigma(prox) sigma(-prox),

and the teacher channel Z0(y, omega0, V0) = Phi(y omega0/sqrt(V0)) at omega0 = (m/sqrt(q)) xi,
V0 = rho - m^2/q (xi ~ N(0, 1)), the channel ("hat") equations are

    mh = alpha E_xi sum_y dZ0/domega0 f(y, sqrt(q) xi, V),
    qh = alpha E_xi sum_y Z0 f(y, sqrt(q) xi, V)^2,
    Vh = alpha E_xi sum_y Z0 l''/(1 + V l''),

and the L2 ("prior") equations are V = 1/(lam + Vh), m = mh/(lam + Vh), q = (mh^2 + qh)/(lam + Vh)^2.
The sum over y = +-1 is twice the y = +1 term (xi -> -xi). The prox solves u = omega + V sigma(-u) for
u = y prox, by safeguarded Newton in the bracket [omega, omega + V] (vectorised over quadrature nodes
and warm-started from the previous iteration). The equations are iterated with damping 1/2 from the
large-lam (Hebbian) point until the relative change of (m, q, V) is below 1e-11; SaddlePointError
otherwise. Training loss and error at the fixed point: E l(y, prox) and P(y prox < 0), the latter in
closed form Phi(xi*) - 2 T(xi*, R/sqrt(1-R^2)) (Owen's T), xi* = -V/(2 sqrt(q)), R = m/sqrt(q).

lam = 0. Noiseless sign labels are linearly separable at every alpha, so the unregularised logistic
loss has no minimiser (|w| -> inf); the direction of the regularisation path converges to the
max-margin separator as lam -> 0+ (Rosset, Zhu & Hastie, JMLR 5, 941 (2004)). ``test_error(alpha, 0)``
is therefore the max-margin error (the lam -> 0+ limit of the learning curve; it is approached slowly,
like 1/log(1/lam)), and ``order_parameters(alpha, 0)`` is refused (m, q are infinite). The max-margin
teacher-student theory (the Gardner volume at stability kappa in the limit q -> 1 of the maximally
stable perceptron; EvdB = Engel & Van den Broeck, *Statistical Mechanics of Learning*, CUP 2001; AKLZ):
with s = sqrt(1 - R^2),

    C(kappa, R) = 1 - R^2 - 2 alpha I1 = 0,   dC/dR = -2R - 2 alpha I2/s^3 = 0,
    I1 = int Dt H(-R t/s) (kappa - t)_+^2 = s^2 int_0^inf Dnu g((kappa - R nu)/s),  g(a) = (a^2+1) Phi(a) + a phi(a),
    I2 = int Dt (kappa - t)_+^2 t phi(R t/s)  (closed form with the truncated Gaussian moments),

i.e. kappa(R) is the largest stability at overlap R and the max-margin student maximises it over R.
Large alpha: epsilon ~ 0.5005/alpha (EvdB).

Hidden-manifold data (Goldt, Mezard, Krzakala & Zdeborova, PRX 10, 041044 (2020); Gerace et al.,
ICML 2020; LGCGKMZ): x = f(F z/sqrt(d)) - kappa0 in R^D (centred), z ~ N(0, I_d), labels
y = sign(theta.z), |theta| = 1, P = n_train examples, w = argmin sum log(1 + exp(-y w.x/sqrt(D)))
+ reg/2 |w|^2 (alpha = n_train/D). By Gaussian equivalence (theory.hidden_manifold) x has covariance
Omega = kappa1^2 F F^T/d + kappa_star^2 I and cross-covariance b = E x nu = kappa1 F theta/sqrt(d) with the
teacher field nu = theta.z. The channel equations are unchanged (rho = 1, m = w.b/sqrt(D),
q = w^T Omega w/D); the prior equations become, with A = reg I + Vh Omega,

    V = (1/D) tr Omega A^-1,   m = mh b^T A^-1 b,   q = mh^2 b^T Omega A^-2 b + (qh/D) tr Omega^2 A^-2,

evaluated on the spectrum of Omega: omega_k = kappa1^2 s_k + kappa_star^2 on the r = min(d, D)
eigenvalues s_k of F F^T/d (Marchenko-Pastur quantiles, or the exact spectrum of a given F), each with
b_k^2 = kappa1^2 s_k/d (theta random: the average of (v_k.theta)^2 is 1/d), and kappa_star^2 on the
other D - r directions (b_k = 0) -- the same spectrum as hidden_manifold_ridge_mse. reg must be > 0 there.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special

from . import _checks
from . import hidden_manifold as _hm
from ._checks import SaddlePointError, scalar_or_array

__all__ = [
    "test_error",
    "order_parameters",
    "training_loss",
    "training_error",
    "max_margin_error",
    "max_margin_order_parameters",
    "hidden_manifold_test_error",
    "hidden_manifold_order_parameters",
]

_SQRT2PI = np.sqrt(2.0 * np.pi)
_TOL = 1e-11
_MAX_ITER = 50_000
_DAMPING = 0.5


def _sinh_grid(n_nodes: int = 400, c: float = 1e-5, span: float = 12.0):
    """Trapezoid nodes xi = c sinh(u) with Dxi weights: dense near xi = 0, where Z0 has a step of
    width sqrt(q/m^2 - 1) that becomes sharp as the error vanishes."""
    U = np.arcsinh(span / c)
    u, du = np.linspace(-U, U, n_nodes, retstep=True)
    xi = c * np.sinh(u)
    return xi, c * np.cosh(u) * du * np.exp(-0.5 * xi * xi) / _SQRT2PI


_XI, _W = _sinh_grid()


# ----------------------------------------------------------------------------- channel
def _prox(omega, V, u):
    """u = y prox solving u = omega + V sigma(-u) (omega = y omega), safeguarded Newton in [omega, omega + V].

    g(u) = u - omega - V sigma(-u) is increasing with an inflection point at u = 0, where plain Newton can
    cycle between the two sides; as in rtsafe (Press et al., *Numerical Recipes*, sec. 9.4) a step that
    leaves the bracket, or that does not at least halve the step before last, is a bisection."""
    lo, hi = omega.copy(), omega + V
    u = np.clip(u, lo, hi)
    step_old = hi - lo
    for _ in range(200):
        s = special.expit(-u)
        g = u - omega - V * s
        lo = np.where(g < 0, u, lo)
        hi = np.where(g > 0, u, hi)
        dg = 1.0 + V * s * (1.0 - s)
        u_newton = u - g / dg
        slow = np.abs(2.0 * g) > np.abs(step_old * dg)
        bisect = ~((u_newton >= lo) & (u_newton <= hi)) | slow
        u_new = np.where(bisect, 0.5 * (lo + hi), u_newton)
        step_old = np.abs(u_new - u)
        if np.all(step_old <= 1e-13 * np.maximum(1.0, np.abs(u))):
            return u_new
        u = u_new
    raise SaddlePointError("proximal operator of the logistic loss did not converge")


def _channel(alpha, m, q, V, u):
    """(mh, qh, Vh, u) of the sign teacher and the logistic loss; arrays (n,), u (n, nodes)."""
    sq = np.sqrt(q)
    R = m / sq
    sV0 = np.sqrt(np.maximum(1.0 - R * R, 1e-300))
    u = _prox(sq[:, None] * _XI[None, :], V[:, None], u)
    f = special.expit(-u)
    l2 = f * (1.0 - f)
    z = (R / sV0)[:, None] * _XI[None, :]
    mh = 2.0 * alpha * ((np.exp(-0.5 * z * z) / _SQRT2PI * f) @ _W) / sV0
    Z0 = special.ndtr(z)
    qh = 2.0 * alpha * ((Z0 * f * f) @ _W)
    Vh = 2.0 * alpha * ((Z0 * l2 / (1.0 + V[:, None] * l2)) @ _W)
    return mh, qh, Vh, u


def _isotropic_prior(mh, qh, Vh, lam):
    A = lam + Vh
    return mh / A, (mh * mh + qh) / (A * A), 1.0 / A


def _spectral_prior(omega, mult, b2, p):
    """Prior equations on a spectrum: eigenvalues omega (K,), multiplicities mult, signal b_k^2, dimension p."""

    def prior(mh, qh, Vh, lam):
        A = lam[:, None] + Vh[:, None] * omega[None, :]
        V = (mult * omega / A).sum(axis=1) / p
        m = mh * (mult * b2 / A).sum(axis=1)
        q = mh * mh * (mult * b2 * omega / A**2).sum(axis=1) + qh * (mult * omega**2 / A**2).sum(axis=1) / p
        return m, q, V

    return prior


def _fixed_point(alpha, lam, prior, what):
    """Damped iteration of channel and prior equations, vectorised over the points (alpha, lam)."""
    n = alpha.size
    # start at the large-lam (Hebbian) point: f = 1/2, l'' = 1/4 at w = 0
    m, q, V = prior(alpha / _SQRT2PI, alpha / 4.0, alpha / 4.0, lam)
    u = np.sqrt(q)[:, None] * _XI[None, :]
    active = np.arange(n)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        a, l = alpha[active], lam[active]
        mh, qh, Vh, u_new = _channel(a, m[active], q[active], V[active], u[active])
        m_new, q_new, V_new = prior(mh, qh, Vh, l)
        if not (np.all(np.isfinite(m_new)) and np.all(np.isfinite(q_new)) and np.all(q_new > 0)):
            i = active[int(np.argmax(~np.isfinite(q_new) | ~(q_new > 0)))]
            raise SaddlePointError(f"{what}: non-finite order parameters at alpha={alpha[i]!r}, lam={lam[i]!r}")
        change = np.maximum.reduce([np.abs(m_new / m[active] - 1), np.abs(q_new / q[active] - 1),
                                    np.abs(V_new / V[active] - 1)])
        m[active] += _DAMPING * (m_new - m[active])
        q[active] += _DAMPING * (q_new - q[active])
        V[active] += _DAMPING * (V_new - V[active])
        u[active] = u_new
        active = active[change >= _TOL]
    if active.size:
        i = active[0]
        raise SaddlePointError(f"{what}: saddle point did not converge at alpha={alpha[i]!r}, lam={lam[i]!r}")
    return m, q, V, u


def _iso(alpha, lam):
    al = _checks.positive("alpha", alpha)
    lm = _checks.nonnegative("lam", lam)
    if np.any(lm == 0):
        raise ValueError(
            "lam = 0: the unregularised logistic loss has no minimiser on separable (noiseless sign) labels, "
            "|w| diverges; use test_error(alpha, 0) or max_margin_order_parameters(alpha) for the lam -> 0+ limit"
        )
    a, l = np.broadcast_arrays(al, lm)
    shape = a.shape
    m, q, V, u = _fixed_point(a.ravel().astype(float), l.ravel().astype(float), _isotropic_prior, "logistic regression")
    return m, q, V, u, shape


def order_parameters(alpha, lam):
    """(m, q, V) of L2-regularised logistic regression at load alpha = P/N and ridge lam > 0.

    m = w.u/N, q = |w|^2/N, V the response (variance) of the student field (module docstring).
    Vectorised: alpha and lam broadcast. SaddlePointError if the iteration does not converge.
    """
    m, q, V, _, shape = _iso(alpha, lam)
    return tuple(scalar_or_array(x.reshape(shape), alpha, lam) for x in (m, q, V))


def test_error(alpha, lam):
    """Test error arccos(m/sqrt(q))/pi of L2-regularised logistic regression (lam = 0: the max-margin limit).

    alpha > 0 (P/N), lam >= 0 (the ridge on sum of losses + lam/2 |w|^2, inputs x/sqrt(N)). Vectorised.
    """
    al = _checks.positive("alpha", alpha)
    lm = _checks.nonnegative("lam", lam)
    a, l = np.broadcast_arrays(al, lm)
    out = np.empty(a.shape, float)
    zero = l == 0
    if np.any(zero):
        out[zero] = _max_margin_R(a[zero])[0]
    if np.any(~zero):
        m, q, _, _, _ = _iso(a[~zero], l[~zero])
        out[~zero] = m / np.sqrt(q)
    return scalar_or_array(np.arccos(np.clip(out, -1, 1)) / np.pi, alpha, lam)


def _train(m, q, V, u):
    R = m / np.sqrt(q)
    sV0 = np.sqrt(np.maximum(1.0 - R * R, 1e-300))
    Z0 = special.ndtr((R / sV0)[:, None] * _XI[None, :])
    loss = 2.0 * (Z0 * np.logaddexp(0.0, -u)) @ _W
    xi_star = -V / (2.0 * np.sqrt(q))
    err = special.ndtr(xi_star) - 2.0 * special.owens_t(xi_star, R / sV0)
    return loss, err


def training_loss(alpha, lam):
    """Mean training loss (1/P) sum_mu log(1 + exp(-y_mu w.x_mu/sqrt(N))) at the minimiser (lam > 0)."""
    m, q, V, u, shape = _iso(alpha, lam)
    return scalar_or_array(_train(m, q, V, u)[0].reshape(shape), alpha, lam)


def training_error(alpha, lam):
    """Fraction of misclassified training examples at the minimiser (lam > 0)."""
    m, q, V, u, shape = _iso(alpha, lam)
    return scalar_or_array(_train(m, q, V, u)[1].reshape(shape), alpha, lam)


# ----------------------------------------------------------------------------- max margin (lam -> 0+)
def _g(a):
    return (a * a + 1.0) * special.ndtr(a) + a * np.exp(-0.5 * a * a) / _SQRT2PI


_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)


def _gauss_legendre(f, a, b):
    h = 0.5 * (b - a)
    return h * np.dot(_GL_W, f(a + h * (_GL_X + 1.0)))


def _I1(kappa, R):
    """s^2 int_0^inf Dnu g((kappa - R nu)/s): Gauss-Legendre on [0, knee] and on two pieces past the knee
    nu = kappa/R, where g decays on the scale s/R (nu > 14 is negligible)."""
    s = np.sqrt(1.0 - R * R)
    f = lambda nu: np.exp(-0.5 * nu * nu) / _SQRT2PI * _g((kappa - R * nu) / s)  # noqa: E731
    knee, scale, end = max(kappa / R, 0.0), s / R, 14.0
    total = _gauss_legendre(f, 0.0, min(knee, end)) if knee > 0 else 0.0
    if knee < end:
        e1, e2 = min(knee + 8.0 * scale, end), min(knee + 40.0 * scale, end)
        total += _gauss_legendre(f, knee, e1)
        if e2 > e1:
            total += _gauss_legendre(f, e1, e2)
    return s * s * total


def _I2(kappa, R):
    s = np.sqrt(1.0 - R * R)
    a = kappa / s
    e = np.exp(-0.5 * a * a)
    M1, M2, M3 = -e, _SQRT2PI * special.ndtr(a) - a * e, -(a * a + 2.0) * e
    return s * s / (2.0 * np.pi) * (kappa * kappa * M1 - 2.0 * kappa * s * M2 + s * s * M3)


def _kappa_of_R(R, alpha):
    """Largest stability at overlap R: the root of C = 1 - R^2 - 2 alpha I1(kappa, R) (decreasing in kappa)."""
    C = lambda k: 1.0 - R * R - 2.0 * alpha * _I1(k, R)  # noqa: E731
    lo, hi = -1.0, 1.0
    while C(lo) <= 0:
        lo *= 2.0
    while C(hi) >= 0:
        hi *= 2.0
        if hi > 1e8:
            raise SaddlePointError(f"max-margin stability not bracketed at alpha={alpha!r}")
    return optimize.brentq(C, lo, hi, xtol=1e-14, rtol=1e-14)


def _max_margin_R(alpha):
    """(R, kappa) arrays of the max-margin student: dC/dR = 0 at kappa = kappa(R), bracketed on a logit grid."""
    alpha = np.asarray(alpha, float)
    R_out, k_out = np.empty(alpha.shape), np.empty(alpha.shape)
    for i, a in np.ndenumerate(alpha):
        def dC(R):
            k = _kappa_of_R(R, a)
            return -2.0 * R - 2.0 * a * _I2(k, R) / (1.0 - R * R) ** 1.5

        grid = special.expit(np.linspace(-8.0, 16.0, 13))
        vals = np.array([dC(r) for r in grid])
        change = np.flatnonzero((vals[:-1] > 0) & (vals[1:] <= 0))
        if change.size != 1:
            raise SaddlePointError(f"max-margin overlap not bracketed at alpha={a!r}")
        j = change[0]
        R_out[i] = optimize.brentq(dC, grid[j], grid[j + 1], xtol=1e-15, rtol=1e-14)
        k_out[i] = _kappa_of_R(R_out[i], a)
    return R_out, k_out


def max_margin_order_parameters(alpha):
    """(R, kappa) of the max-margin separator: R its overlap with the teacher, kappa its margin
    min_mu y_mu w.x_mu/|w| (in units of the typical field), the lam -> 0+ limit of logistic regression."""
    al = _checks.positive("alpha", alpha)
    R, k = _max_margin_R(al)
    return scalar_or_array(R, alpha), scalar_or_array(k, alpha)


def max_margin_error(alpha):
    """Test error arccos(R)/pi of the max-margin separator (= test_error(alpha, 0)); ~0.5005/alpha at large alpha."""
    R, _ = max_margin_order_parameters(alpha)
    return scalar_or_array(np.arccos(np.clip(R, -1, 1)) / np.pi, alpha)


# ----------------------------------------------------------------------------- hidden manifold
def _hm_spectrum(intrinsic_dim, ambient_dim, activation, feature_matrix):
    """(omega, mult, b2): the spectrum of the Gaussian-equivalent covariance and the teacher signal per direction."""
    d, D = intrinsic_dim, ambient_dim
    _, k1, ks = _hm.gaussian_equivalence(activation)
    r = int(min(d, D))
    if feature_matrix is not None:
        F = np.asarray(feature_matrix, dtype=float)
        if F.shape != (int(D), int(d)):
            raise ValueError(
                f"feature_matrix must have shape (ambient_dim, intrinsic_dim) = ({int(D)}, {int(d)}), got {F.shape}")
        s = np.clip(np.linalg.eigvalsh(F.T @ F / d), 0, None)[-r:]
    else:
        s = (D / d) * _hm.marchenko_pastur_quantiles(d / D, r) if d <= D else _hm.marchenko_pastur_quantiles(D / d, r)
    omega = np.concatenate([k1**2 * s + ks**2, [ks**2]])
    mult = np.concatenate([np.ones(r), [D - r]])
    b2 = np.concatenate([k1**2 * s / d, [0.0]])
    keep = (mult > 0) & (omega > 0)
    return omega[keep], mult[keep], b2[keep]


def _hm_solve(n_train, intrinsic_dim, ambient_dim, activation, reg, feature_matrix):
    P = _checks.positive("n_train", n_train)
    d = float(_checks.positive("intrinsic_dim", intrinsic_dim))
    D = float(_checks.positive("ambient_dim", ambient_dim))
    if activation not in _hm.ACTIVATIONS:
        raise ValueError(f"activation must be one of {_hm.ACTIVATIONS}, got {activation!r}")
    lam = _checks.positive("reg", reg)
    omega, mult, b2 = _hm_spectrum(d, D, activation, feature_matrix)
    Pb, lb = np.broadcast_arrays(P, lam)
    m, q, V, _ = _fixed_point((Pb / D).ravel().astype(float), lb.ravel().astype(float),
                              _spectral_prior(omega, mult, b2, D), "hidden-manifold logistic regression")
    return m, q, V, Pb.shape


def hidden_manifold_order_parameters(n_train, intrinsic_dim, ambient_dim, activation="erf", reg=0.01,
                                     feature_matrix=None):
    """(m, q, V) of logistic regression on centred hidden-manifold features (Gaussian-equivalent theory).

    m = w.b/sqrt(D), q = w^T Omega w/D (module docstring); arguments as hidden_manifold_test_error.
    """
    m, q, V, shape = _hm_solve(n_train, intrinsic_dim, ambient_dim, activation, reg, feature_matrix)
    return tuple(scalar_or_array(x.reshape(shape), n_train, reg) for x in (m, q, V))


def hidden_manifold_test_error(n_train, intrinsic_dim, ambient_dim, activation="erf", reg=0.01,
                               feature_matrix=None):
    """Test error of L2-regularised logistic regression on hidden-manifold data, labels sign(theta.z).

    Features x = f(F z/sqrt(d)) - kappa0 (D of them), loss sum log(1 + exp(-y w.x/sqrt(D))) + reg/2 |w|^2,
    reg > 0. n_train (and reg) may be arrays (broadcast). feature_matrix: optional F (D x d) to use its
    exact spectrum instead of the Marchenko-Pastur quantiles (as in hidden_manifold_ridge_mse).
    Error arccos(m/sqrt(q))/pi of the Gaussian-equivalent model.
    """
    m, q, _, shape = _hm_solve(n_train, intrinsic_dim, ambient_dim, activation, reg, feature_matrix)
    return scalar_or_array((np.arccos(np.clip(m / np.sqrt(q), -1, 1)) / np.pi).reshape(shape), n_train, reg)
