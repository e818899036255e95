"""Online SGD for soft committee machines: the Saad-Solla order-parameter ODEs.

Reference: D. Saad & S. A. Solla, PRE 52, 4225 (1995) and PRL 74, 4337 (1995); Biehl & Schwarze,
J. Phys. A 28, 643 (1995). Conventions (as in the ODEs below):

* inputs xi ~ N(0, I_N); student fields lambda_i = J_i.xi/sqrt(N) (i = 1..K), teacher fields
  rho_n = B_n.xi/sqrt(N) (n = 1..M); activation g(u) = erf(u/sqrt(2)); outputs sum_i g(lambda_i)
  and sum_n g(rho_n) (+ label noise of variance noise_var).
* order parameters Q_ik = J_i.J_k/N, R_in = J_i.B_n/N, T_nm = B_n.B_m/N; time alpha = steps/N.
* one SGD step on e = 1/2 (y - sum_j g(lambda_j))^2:  J_i += (eta/sqrt(N)) delta_i xi,
  delta_i = g'(lambda_i) (y - sum_j g(lambda_j)). The learning rate eta is the temperature-like knob:
  the O(eta^2) term is the SGD noise.

As N -> infinity the order parameters obey

    dR_in/dalpha = eta E[delta_i rho_n]
    dQ_ik/dalpha = eta E[delta_i lambda_k + delta_k lambda_i] + eta^2 E[delta_i delta_k],

with the Gaussian averages in closed form for g = erf(./sqrt 2), C the covariance of the fields involved:

    I2 = E g(u) g(v)           = (2/pi) arcsin(C12 / sqrt((1+C11)(1+C22)))
    I3 = E g'(u) v g(w)        = (2/pi) (C23 (1+C11) - C12 C13) / ((1+C11) sqrt(L3)),  L3 = (1+C11)(1+C33) - C13^2
    I4 = E g'(u) g'(v) g(w) g(z) = (4/pi^2) L4^-1/2 arcsin(L0 / sqrt(L1 L2))   (Saad & Solla 1995, app.)
    E g'(u) g'(v)              = (2/pi) / sqrt((1+C11)(1+C22) - C12^2)

The generalization error is eps_g = 1/2 [sum_ik I2(Q_ik) + sum_nm I2(T_nm) - 2 sum_in I2(R_in)].
The ODEs are integrated with scipy.integrate.solve_ivp (RK45, rtol 1e-8).
"""
from __future__ import annotations

import numpy as np
from scipy import integrate

from . import _checks
from ._checks import SaddlePointError

__all__ = ["I2", "I3", "I4", "generalization_error", "saad_solla"]


def I2(c11, c12, c22):
    """E[g(u) g(v)], g = erf(./sqrt 2)."""
    return 2 / np.pi * np.arcsin(c12 / np.sqrt((1 + c11) * (1 + c22)))


def I3(c11, c12, c13, c22, c23, c33):
    """E[g'(u) v g(w)] for fields (u, v, w) with covariance entries c_ab (c22 does not enter)."""
    L3 = (1 + c11) * (1 + c33) - c13**2
    return 2 / np.pi / np.sqrt(L3) * (c23 * (1 + c11) - c12 * c13) / (1 + c11)


def I4(c11, c12, c13, c14, c22, c23, c24, c33, c34, c44):
    """E[g'(u) g'(v) g(w) g(z)] for fields (u, v, w, z) with covariance entries c_ab."""
    L4 = (1 + c11) * (1 + c22) - c12**2
    L0 = L4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22) + c12 * c13 * c24 + c12 * c14 * c23
    L1 = L4 * (1 + c33) - c23**2 * (1 + c11) - c13**2 * (1 + c22) + 2 * c12 * c13 * c23
    L2 = L4 * (1 + c44) - c24**2 * (1 + c11) - c14**2 * (1 + c22) + 2 * c12 * c14 * c24
    return 4 / np.pi**2 / np.sqrt(L4) * np.arcsin(L0 / np.sqrt(L1 * L2))


def generalization_error(Q, R, T):
    """eps_g = 1/2 E (sum_i g(lambda_i) - sum_n g(rho_n))^2 for order parameters Q (KxK), R (KxM), T (MxM)."""
    Q, R, T = (np.asarray(x, dtype=float) for x in (Q, R, T))
    dQ, dT = np.diag(Q), np.diag(T)
    return 0.5 * (
        I2(dQ[:, None], Q, dQ[None, :]).sum()
        + I2(dT[:, None], T, dT[None, :]).sum()
        - 2 * I2(dQ[:, None], R, dT[None, :]).sum()
    )


def _derivatives(Q, R, T, eta, noise_var):
    K, M = R.shape
    C = np.block([[Q, R], [R.T, T]])  # covariance of (lambda_1..K, rho_1..M)
    d = np.diag(C)
    sgn = np.concatenate([-np.ones(K), np.ones(M)])  # delta = g'(lambda_i) sum_b sgn_b g(field_b)
    i = np.arange(K)
    # E[delta_i v_a] = sum_b sgn_b I3(i, a, b), shape (K, K+M)
    i3 = I3(d[i, None, None], C[i][:, :, None], C[i][:, None, :], 0.0, C[None, :, :], d[None, None, :])
    Edv = np.einsum("iab,b->ia", i3, sgn)
    dR = eta * Edv[:, K:]
    dQ = eta * (Edv[:, :K] + Edv[:, :K].T)
    # E[delta_i delta_k] = sum_{b,c} sgn_b sgn_c I4(i, k, b, c) + noise_var E[g'(lambda_i) g'(lambda_k)]
    u, v = i[:, None, None, None], i[None, :, None, None]
    b = np.arange(K + M)[None, None, :, None]
    c = np.arange(K + M)[None, None, None, :]
    i4 = I4(d[u], C[u, v], C[u, b], C[u, c], d[v], C[v, b], C[v, c], d[b], C[b, c], d[c])
    Edd = np.einsum("ikbc,b,c->ik", i4, sgn, sgn)
    Edd = Edd + noise_var * 2 / np.pi / np.sqrt((1 + d[:K, None]) * (1 + d[None, :K]) - Q**2)
    dQ = dQ + eta**2 * Edd
    return dQ, dR


def saad_solla(alpha, Q0, R0, T, learning_rate, noise_var=0.0, rtol=1e-8):
    """Integrate the Saad-Solla ODEs from alpha = 0; return (Q, R, eps_g) at the requested times alpha.

    alpha: increasing array of times (steps/N) >= 0. Q0 (KxK), R0 (KxM), T (MxM): initial and teacher
    order parameters. learning_rate eta > 0; noise_var: variance of the output noise on the labels.
    Returns Q of shape (len(alpha), K, K), R (len(alpha), K, M) and eps_g (len(alpha),).
    """
    times = _checks.nonnegative("alpha", np.atleast_1d(alpha))
    if np.any(np.diff(times) < 0):
        raise ValueError(f"alpha must be increasing, got {alpha!r}")
    eta = float(_checks.positive("learning_rate", learning_rate))
    s2 = float(_checks.nonnegative("noise_var", noise_var))
    Q0, R0, T = (np.asarray(x, dtype=float) for x in (Q0, R0, T))
    K, M = R0.shape
    if Q0.shape != (K, K) or T.shape != (M, M):
        raise ValueError(f"Q0 must be ({K}, {K}) and T ({M}, {M}) for R0 of shape {R0.shape}, got {Q0.shape}, {T.shape}")
    for name, mat in (("Q0", Q0), ("T", T)):
        if not np.allclose(mat, mat.T) or np.any(np.linalg.eigvalsh(mat) < -1e-12):
            raise ValueError(f"{name} must be a symmetric positive semi-definite matrix, got {mat.tolist()}")

    def rhs(_, y):
        Q = y[: K * K].reshape(K, K)
        R = y[K * K :].reshape(K, M)
        dQ, dR = _derivatives(Q, R, T, eta, s2)
        return np.concatenate([dQ.ravel(), dR.ravel()])

    y0 = np.concatenate([Q0.ravel(), R0.ravel()])
    sol = integrate.solve_ivp(rhs, (0.0, float(times[-1])), y0, t_eval=times, rtol=rtol, atol=1e-10, method="RK45")
    if not sol.success or np.any(~np.isfinite(sol.y)):
        raise SaddlePointError(f"Saad-Solla ODE integration failed at learning_rate={eta!r}: {sol.message}")
    Q = sol.y[: K * K].T.reshape(-1, K, K)
    R = sol.y[K * K :].T.reshape(-1, K, M)
    eps = np.array([generalization_error(q, r, T) for q, r in zip(Q, R)])
    return Q, R, eps
