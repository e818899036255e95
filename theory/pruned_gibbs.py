"""Pruning a Gibbs perceptron: the temperature-density diagram, solved exactly (replica symmetric).

Setting (theory.perceptron; Engel & Van den Broeck, *Statistical Mechanics of Learning*, CUP 2001 = EvdB;
Seung, Sompolinsky & Tishby, PRA 45, 6056 (1992) = SST): teacher B with i.i.d. N(0, 1) coordinates
(|B|^2 = N), inputs x ~ N(0, I_N), labels sigma = sign(B.x), P = alpha N examples. The dense student J is
one sample of the Gibbs measure exp(-E(J)/T) on the sphere |J|^2 = N, E = number of training errors;
R = J.B/N and q = J1.J2/N (two samples) are theory.perceptron's saddle point. Magnitude pruning to
density c keeps the set S of the cN largest |J_i| (threshold t = Phi^-1(1 - c/2)); q(c) = c + 2 t phi(t)
is the Gaussian kept energy (theory.pruning). The test error of any direction W is arccos(cos(W, B))/pi.

1. The coordinates of a Gibbs sample (one-shot pruning)
-------------------------------------------------------
The joint law of (B, X, J) is invariant under (B, X, J) -> (O B, X O^T, O J) for every orthogonal O: B and
the rows of X are isotropic Gaussians, the labels sign(B.x) are unchanged, and the Gibbs energy depends on
X J only. So, given their Gram matrix, the three vectors B, <J> (the Gibbs mean) and J form a uniformly
rotated frame, and the Gram matrix self-averages (B.J/N -> R, B.<J>/N -> R, J.<J>/N = |<J>|^2/N -> q). The
coordinates of a uniformly random k-frame in R^N are asymptotically i.i.d. Gaussian (Diaconis & Freedman,
Ann. IHP 23, 397 (1987)), hence for N -> infinity the triples are i.i.d. with

    B_i = g_i,   <J>_i = R g_i + Delta z_i,   J_i = R g_i + Delta z_i + sqrt(1-q) zeta_i,    (G)

g, z, zeta i.i.d. N(0, 1), Delta = sqrt(q - R^2): the teacher, a data part common to all samples and a
thermal part. The pair (J_i, B_i) is bivariate Gaussian with correlation R, so theory.pruning's
truncated-moment law applies to a sample: E[J_i B_i 1{|J_i|>t}] = R q(c), E[J_i^2 1{...}] = q(c),

    pruned sample:   R' = R sqrt(q(c));      pruned Gibbs mean:   R' = (R/sqrt(q)) sqrt(q(c)),

the mean having overlap R/sqrt(q) before pruning (at T = 0, sqrt(R): the Bayes student, EvdB 3.6). The
teacher's norm kept on the support of a sample, the best overlap any student on S can reach, is

    rho^2 = E[B_i^2 1{|J_i| > t}] = c + (q(c) - c) R^2,                                      (K)

and the second moments on S of e = (g, z, zeta) are E[e e^T 1{|J_i|>t}] = c I + (q(c) - c) a a^T,
a = (R, Delta, sqrt(1-q)) (write e = a J_i + e_perp with e_perp independent of J_i). With a binary
teacher, (G) fails (the coordinates of B are not Gaussian).

2. Retraining on the support (the reference construction)
---------------------------------------------------------
The retrained student W lives on S and learns from examples; with *fresh* examples only rho (K) matters:
the labels are sign(rho u_S + sqrt(1 - rho^2) eta) with u_S the field of B_S/|B_S| and eta independent of
every x_S, a teacher with Gaussian output noise of variance 1 - rho^2 on cN inputs at load alpha/c (the
"weight noise" teacher of EvdB ch. 5). With the *same* P examples (pruning and retraining), S is
correlated with the data: J was drawn from them. The average of the retrained student over the data and
over the dense sample J ~ Gibbs(T) is that of a system coupled to a quenched reference configuration drawn
from an equilibrium measure (Franz & Parisi, J. Phys. I 5, 1401 (1995)):

    Phi = E_{B,X} < ln Z_W[S(J)] >_J ,   Z_W = int_{R^S} dmu(W) exp(-beta_r E_r(W)),

computed with n -> 0 replicas J^a of the reference (J^1 fixes the support) and m -> 0 replicas W^b.
At m -> 0 the J sector is untouched (R, q from theory.perceptron). Replica-symmetric W sector: M = W.B/N,
P1 = W.J^1/N, P0 = W.J^a/N (a != 1), Qd = |W|^2/N, Q0 = W^b.W^c/N; write A = (P0 - R M)/Delta and
C = (P1 - P0)/sqrt(1-q) (overlaps with the data part and the thermal part of the reference, normalised).

Entropic term. W^b lives in R^S and has prescribed overlaps with B_S, J^1_S and J^a_S (a >= 2); in the
basis (G), the latter add n - 1 -> -1 thermal vectors zeta^a_S of norm c, with which W may have an overlap
theta (entering the Schur complement as (n-1) theta^2/c). The volume is exp[(cN/2) ln det(Q - p^T Gram^-1 p)],
and extremising over theta (d = (0, -r, 1) is orthogonal to a),

    S_W/(N m) = (c/2) [ ln(Qd - Q0) + (Q0 - Pi*)/(Qd - Q0) ],
    Pi* = (1/c) [ M^2 + C^2 (1 - 1/r^2) + 2 A C / r - kappa P1^2 ],                       (S)

r = sqrt(1-q)/Delta, kappa = 1 - c/q(c), P1 = R M + Delta A + sqrt(1-q) C. Check: extremising Pi* over
(A, C) alone (no coupling in the energetic term, i.e. fresh data) gives Pi* = M^2/rho^2: a teacher of
norm rho on S, as in (K).

Energetic term. Per example the fields u = B.x/sqrt(N), lambda^a = J^a.x/sqrt(N) = R u + Delta v +
sqrt(1-q) xi^a and w^b = W^b.x/sqrt(N) = M u + A v + C xi^1 + s y + sqrt(Qd - Q0) eta^b, with
s^2 = Q0 - M^2 - A^2 - C^2 and u, v, xi, y, eta i.i.d. N(0, 1), give at n -> 0

    G_W = E_{u,v} [ Z_J^-1 int Dxi e^{-beta theta(-sigma lambda)} int Dy ln int Deta e^{-beta_r l(sigma, w)} ],
    Z_J(u, v) = int Dxi e^{-beta theta(-sigma lambda)} = e^-beta + (1 - e^-beta) Phi(sigma (R u + Delta v)/sqrt(1-q)),

sigma = sign(u), l the retraining loss per example. The reuse of the examples is entirely the tilt of
the reference's thermal field xi on its own training examples (towards sigma) seen by W through C, and
through A; for fresh examples the J factor is absent and G_W depends on (M, Q0) only. The W saddle point
extremises phi_W = S_W/(N m) + alpha G_W. At c = 1 it does not depend on T (C = 0: retraining on all
coordinates forgets J).

(a) Gibbs retraining: W ~ exp(-E_S(W)/T_r) on the sphere of R^S (Qd = 1), l = theta(-sigma w). With
V = 1 - Q0, X = (M u + A v + C xi + s y)/sqrt(V), k(X) = (1 - e^-beta_r) phi(X)/[e^-beta_r + (1 - e^-beta_r)
Phi(X)] (theory.perceptron's K), Gaussian integration by parts in y gives the stationarity equations

    (c/V) K p = alpha ( E[(u, v, xi) k]/sqrt(V) - p E[g''] ),   c (Q0 - Pi*) = alpha V E[k^2],
    E[g''] = -(E[X k] + E[k^2])/V,       p = (M, A, C),  Pi* = p^T K p  (S),

the expectations over u > 0 (doubled), v, and z = (C xi + s y)/tau, tau^2 = Q0 - M^2 - A^2, with xi given z
Gaussian: weight [e^-beta + (1 - e^-beta) Phi(d)]/Z_J, d = (C z - xi0 tau)/s, xi0 = -(R u + Delta v)/sqrt(1-q).
Solved by damped Newton (a 3-d quadrature refined until it resolves sqrt(V)/tau and s/|C|); at c = 1 it
is theory.perceptron's Gibbs saddle point at T_r. cos(W, B) = M. For c < 1 the retraining problem is
unrealizable; the replica-symmetric solution may be unstable at low T_r (EvdB ch. 5), not checked here.

(b) Ridge retraining (the best linear retraining): W minimises 1/2 sum_mu (sigma_mu - W.x_mu/sqrt(N))^2
+ reg/2 |W|^2 on S; T_r -> 0 with Qd - Q0 = chi/beta_r. phi_W/beta_r -> (c/2)(Q - Pi*)/chi - reg Q/2 -
alpha L/(2(1 + chi)), L = E[(sigma - omega)^2] = 1 + Q - 2 b.p + p^T D p, with b = (sqrt(2/pi), 0, m) and
D = [[0, 0, mu_u], [0, 0, mu_v], [mu_u, mu_v, mu2 - 1]] from the tilted moments m = E[sigma xi],
mu2 = E[xi^2], mu_u = E[u xi], mu_v = E[v xi] (fresh data: m = mu_u = mu_v = 0, mu2 = 1). Closed form:

    nu = chi/(1+chi):  alpha nu^2 - (alpha + c + reg) nu + c = 0  (Marchenko-Pastur at dimension c),
    p = (c K + alpha nu D)^-1 alpha nu b,   Q = [p^T K p + gamma (1 - 2 b.p + p^T D p)]/(1 - gamma),
    gamma = alpha nu^2/c,    cos(W, B) = M/sqrt(Q).

At c = 1 this is theory.perceptron's pseudo-inverse / least-squares curve (reg = 0); for fresh data it is
theory.ridge's Marchenko-Pastur ridge on the support with signal sqrt(2/pi) rho. ``reg="optimal"``
maximises the overlap over reg (the best ridge retraining).

3. The sign of d(error)/dT across density
-----------------------------------------
* One-shot pruning: error = arccos(R(alpha, T) sqrt(q(c)))/pi, so d error/dT has the sign of -dR/dT at
  every density (c enters through the positive factor sqrt(q(c))); the same for the pruned Gibbs mean
  (R/sqrt(q)). No flip is possible.
* Retraining on fresh data, and the infinite-data ceiling rho: T enters only through (K), and since
  q(c) > c for c < 1, rho^2 is increasing in R^2; the retrained overlap rho cos_S increases with rho
  (less output noise: from the closed form for ridge, numerically for Gibbs retraining), so again the
  sign is that of -dR/dT at every c < 1, and 0 at c = 1.
* Retraining on the same data adds the reuse terms (A, C and the tilted moments), which depend on T
  through (R, q) separately: the same-data student is better than the fresh-data one (by up to 0.012 in
  error for ridge), and this bonus is not monotone in T (at large alpha it first grows with T). Computed
  on alpha in [0.2, 10], T in [0.1, 3], c in [0.02, 0.95] (least-squares retraining), a growing bonus
  cancels at most 4% of the fresh-data slope, so the same-data slope keeps its sign.
At every (alpha, T > 0) computed, dR/dT < 0: raising the dense temperature raises the error at every
density c < 1, the slope vanishes at c = 1 (retraining forgets J) and as T -> 0 (every T-derivative of the
Gibbs overlaps vanishes there, R(T) - R(0) ~ e^-1/T). This model has no sign flip: a hotter dense Gibbs
student always has a support that keeps less of the teacher (K), and the selection bias of reusing its
examples is too weak to turn that around.

Checks against exact Gibbs sampling (models.gibbs_sampler; alpha = 2, T = 0.5, c = 0.5 and 0.25):
the reuse effect, cos(W_same, B) - cos(W_fresh, B) for least squares on the same support, is
0.0128 +- 0.0022 and 0.0143 +- 0.0020 at N = 40 (512 chains), 0.0104 +- 0.0022 and 0.0159 +- 0.0020 at
N = 80 (256), 0.0107 +- 0.0017 and 0.0156 +- 0.0015 at N = 160 (128 chains x 4 samples), against 0.0108
and 0.0139 here; Gibbs retraining at T_r = 0.5 (c = 0.5) gives 0.596 +- 0.003 (N = 40, 80) and
0.600 +- 0.004 (N = 160) against 0.589, and 0.592-0.594 once the sampled dense overlap (0.620-0.623,
theory 0.614) is put into the theory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from . import _checks
from ._checks import SaddlePointError, scalar_or_array
from .perceptron import _K as _k_beta
from .perceptron import _log_phi_beta, gibbs_order_parameters
from .pruning import gaussian_kept_energy

__all__ = [
    "RETRAIN_RULES",
    "DATA_CHOICES",
    "QUANTITIES",
    "RetrainedSaddle",
    "TemperatureEffect",
    "kept_teacher_energy",
    "pruned_overlap",
    "pruned_error",
    "tilted_moments",
    "retrained_saddle",
    "retrained_overlap",
    "retrained_error",
    "temperature_effect",
]

RETRAIN_RULES = ("ridge", "gibbs")
DATA_CHOICES = ("same", "fresh")
_SQRT2PI = np.sqrt(2.0 * np.pi)
_A0 = np.sqrt(2.0 / np.pi)  # E|u| = E[sign(u) u]


# ----------------------------------------------------------------------------- quadrature
def _half_line(n: int = 64, upper: float = 8.5):
    """Gauss-Legendre nodes on (0, upper) with the weights of 2 Du (the density of |u|, u ~ N(0, 1))."""
    x, w = np.polynomial.legendre.leggauss(n)
    u = 0.5 * upper * (x + 1.0)
    return u, 0.5 * upper * w * 2.0 * np.exp(-0.5 * u * u) / _SQRT2PI


def _line(step: float = 0.2, span: float = 8.5):
    """Trapezoid nodes on (-span, span) with the weights of Dv (exponentially accurate for smooth integrands)."""
    v = np.arange(-span, span + 0.5 * step, step)
    return v, step * np.exp(-0.5 * v * v) / _SQRT2PI


_U, _WU = _half_line(32)
_V, _WV = _line(0.4)
_Z_STEP = 0.4  # default z step of the retrained-Gibbs integral, refined where the integrand is sharper
_Z_RESOLUTION = 1.5  # the z step may not exceed 1.5 times the narrowest width (quadrature error ~1e-6)


# ----------------------------------------------------------------------------- validation
def _alpha(alpha):
    return _checks.positive("alpha", alpha)


def _temperature(temperature, name="temperature"):
    return _checks.nonnegative(name, temperature)


def _density(density):
    return _checks.keep_fraction(density, "density")


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _beta(T):
    with np.errstate(divide="ignore"):
        return np.where(T > 0, 1.0 / np.where(T > 0, T, 1.0), np.inf)


# ----------------------------------------------------------------------------- 1. one-shot pruning
def kept_teacher_energy(alpha, temperature, density):
    """E[B_i^2 1{|J_i| > t}]: the fraction of |B|^2 on the magnitude support of one Gibbs sample J.

    rho^2 = c + (q(c) - c) R^2, with R = R(alpha, T) the Gibbs overlap and q(c) the Gaussian kept energy
    (theory.pruning.gaussian_kept_energy). rho is the best overlap any student on the support can reach.
    """
    al, T, c = _alpha(alpha), _temperature(temperature), _density(density)
    R, _ = gibbs_order_parameters(al, T)
    qc = np.asarray(gaussian_kept_energy(c))
    return scalar_or_array(c + (qc - c) * R * R, alpha, temperature, density)


def pruned_overlap(alpha, temperature, density, estimator: str = "sample"):
    """Overlap with the teacher after keeping the fraction ``density`` of largest |J_i|, no retraining.

    ``estimator="sample"``: one Gibbs sample J, R' = R sqrt(q(c)); ``"mean"``: the Gibbs mean <J>
    (overlap R/sqrt(q) before pruning), R' = (R/sqrt(q)) sqrt(q(c)).
    """
    al, T, c = _alpha(alpha), _temperature(temperature), _density(density)
    _choice("estimator", estimator, ("sample", "mean"))
    R, q = gibbs_order_parameters(al, T)
    R0 = R if estimator == "sample" else R / np.sqrt(q)
    return scalar_or_array(R0 * np.sqrt(np.asarray(gaussian_kept_energy(c))), alpha, temperature, density)


def pruned_error(alpha, temperature, density, estimator: str = "sample"):
    """Test error arccos(R')/pi of the one-shot magnitude-pruned Gibbs sample (or mean); see pruned_overlap."""
    Rp = np.asarray(pruned_overlap(alpha, temperature, density, estimator))
    return scalar_or_array(np.arccos(np.clip(Rp, -1.0, 1.0)) / np.pi, alpha, temperature, density)


# ----------------------------------------------------------------------------- 2. the reference's example fields
def _tilted_grid(R, q, beta):
    """Per point: the reference's tilt on the (u > 0, v) grid.

    Returns xi0 = -(R u + Delta v)/sqrt(1 - q) (n, nu, nv), log Z_J (n, nu, nv) and e^-beta (n, 1, 1);
    Z_J = e^-beta + (1 - e^-beta) Phi(-xi0) is the Boltzmann factor of the sample's field averaged over
    its thermal part xi ~ N(0, 1).
    """
    R, q, beta = (np.asarray(x, float).reshape(-1, 1, 1) for x in (R, q, beta))
    Delta = np.sqrt(np.maximum(q - R * R, 0.0))
    s1 = np.sqrt(1.0 - q)
    u = _U[None, :, None]
    v = _V[None, None, :]
    xi0 = -(R * u + Delta * v) / s1
    logZ = _log_phi_beta(-xi0, beta)
    return xi0, logZ, np.exp(-beta)


def tilted_moments(alpha, temperature):
    """Moments of the thermal part xi of a Gibbs sample's training fields, lambda = R u + Delta v + sqrt(1-q) xi.

    u (the teacher's field) and v (the field of the posterior mean's data part) are independent N(0, 1);
    given them, xi has the density Dxi exp(-beta theta(-sign(u) lambda)) / Z_J(u, v) (replica-symmetric
    law of the stabilities, EvdB ch. 4). Returns a dict with m = E[sign(u) xi], mu2 = E[xi^2],
    mu_u = E[u xi] and mu_v = E[v xi] (arrays over alpha, temperature broadcast). At infinite temperature
    xi is untilted: m = mu_u = mu_v = 0, mu2 = 1.
    """
    al, T = _alpha(alpha), _temperature(temperature)
    al, T = np.broadcast_arrays(al, T)
    R, q = gibbs_order_parameters(al, T)
    out = _moments(R.ravel(), q.ravel(), _beta(T.ravel()))
    return {k: scalar_or_array(v.reshape(al.shape), alpha, temperature) for k, v in out.items()}


def _moments(R, q, beta):
    xi0, logZ, e = _tilted_grid(R, q, beta)
    # <xi> = (1 - e^-beta) phi(xi0) / Z_J ;  <xi^2> = 1 + xi0 <xi>
    mean = np.exp(np.log1p(-e) - 0.5 * xi0 * xi0 - np.log(_SQRT2PI) - logZ)
    w = _WU[:, None] * _WV[None, :]
    u = _U[:, None]
    v = _V[None, :]
    return {
        "m": np.sum(w * mean, axis=(1, 2)),
        "mu2": np.sum(w * (1.0 + xi0 * mean), axis=(1, 2)),
        "mu_u": np.sum(w * u * mean, axis=(1, 2)),
        "mu_v": np.sum(w * v * mean, axis=(1, 2)),
    }


# ----------------------------------------------------------------------------- the support's geometry
def _support_form(R, q, c):
    """The quadratic form Pi*(p) = p^T K p of the retrained student's overlaps p = (M, A, C), (n, 3, 3).

    Pi* = (1/c) [M^2 + C^2 (1 - 1/r^2) + 2 A C / r - kappa P1^2], r = sqrt(1-q)/Delta,
    P1 = R M + Delta A + sqrt(1-q) C, kappa = 1 - c/q(c) (module docstring, eq. S).
    """
    R, q, c = (np.asarray(x, float).ravel() for x in (R, q, c))
    Delta = np.sqrt(np.maximum(q - R * R, 1e-300))
    s1 = np.sqrt(1.0 - q)
    r = s1 / Delta
    kappa = 1.0 - c / np.asarray(gaussian_kept_energy(c))
    K = np.zeros((R.size, 3, 3))
    K[:, 0, 0] = 1.0
    K[:, 1, 2] = K[:, 2, 1] = 1.0 / r
    K[:, 2, 2] = 1.0 - 1.0 / r**2
    a = np.stack([R, Delta, s1], axis=-1)
    K -= kappa[:, None, None] * a[:, :, None] * a[:, None, :]
    return K / c[:, None, None]


# ----------------------------------------------------------------------------- 2b. ridge retraining
def _ridge(alpha, R, q, beta, c, reg, data):
    """Ridge on the support: p = (M, A, C) and Q = |W|^2/N, vectorised over points (1-D arrays)."""
    n = alpha.size
    K = _support_form(R, q, c)
    b = np.zeros((n, 3))
    b[:, 0] = _A0
    D = np.zeros((n, 3, 3))
    if data == "same":
        mo = _moments(R, q, beta)
        b[:, 2] = mo["m"]
        D[:, 0, 2] = D[:, 2, 0] = mo["mu_u"]
        D[:, 1, 2] = D[:, 2, 1] = mo["mu_v"]
        D[:, 2, 2] = mo["mu2"] - 1.0
    # nu = chi/(1+chi), c (1-nu)/nu = reg + alpha (1-nu)  (Marchenko-Pastur at dimension c, load alpha)
    s = alpha + c + reg
    nu = 2.0 * c / (s + np.sqrt(np.maximum(s * s - 4.0 * alpha * c, 0.0)))
    lhs = c[:, None, None] * K + (alpha * nu)[:, None, None] * D
    p = np.linalg.solve(lhs, ((alpha * nu)[:, None] * b)[..., None])[..., 0]
    gamma = alpha * nu**2 / c
    pKp = np.einsum("ni,nij,nj->n", p, K, p)
    loss = 1.0 - 2.0 * np.einsum("ni,ni->n", b, p) + np.einsum("ni,nij,nj->n", p, D, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        Q = (pKp + gamma * loss) / (1.0 - gamma)
    return p, Q


# ----------------------------------------------------------------------------- 2a. Gibbs retraining
class _GibbsEnergetic:
    """The retrained student's energetic term and its gradient for one point (grid arrays reused)."""

    def __init__(self, alpha, R, q, beta, c, beta_r, data, z_step=_Z_STEP):
        self.alpha, self.c, self.beta_r, self.z_step = alpha, c, beta_r, z_step
        self.K = _support_form(R, q, c)[0]
        if data == "same":
            xi0, logZ, e = _tilted_grid(R, q, beta)
            self.xi0 = xi0[0][:, :, None]  # (nu, nv, 1)
            self.logZ = logZ[0][:, :, None]
            self.e = float(e.ravel()[0])
            self.beta = float(beta)
        else:
            self.xi0 = None
        z, wz = _line(z_step)
        self.u = _U[:, None, None]
        self.v = _V[None, :, None]
        self.z = z[None, None, :]
        self.w = _WU[:, None, None] * _WV[None, :, None] * wz[None, None, :]

    def resolves(self, x) -> bool:
        """Whether the z grid resolves the two scales of the integrand at x: sqrt(1-Q0)/tau (the retrained
        student's Boltzmann factor) and s/|C| (the reference's tilt)."""
        M, A, C, Q0 = x
        tau = np.sqrt(Q0 - M * M - A * A)
        s = np.sqrt(max(tau * tau - C * C, 0.0))
        width = min(np.sqrt(1.0 - Q0) / tau, s / max(abs(C), 1e-300) if self.xi0 is not None else np.inf)
        return self.z_step <= _Z_RESOLUTION * width

    def moments(self, x):
        """E[k], E[u k], E[v k], E[xi k], E[X k], E[k^2] with X = m/sqrt(1-Q0), k = k_beta_r(X)."""
        M, A, C, Q0 = x
        tau2 = Q0 - M * M - A * A
        s2 = tau2 - C * C
        if not (Q0 < 1.0 and s2 > 0.0):
            return None
        tau, s = np.sqrt(tau2), np.sqrt(s2)
        V = 1.0 - Q0
        X = (M * self.u + A * self.v + tau * self.z) / np.sqrt(V)
        k = _k_beta(X, self.beta_r)
        muc = C * self.z / tau
        if self.xi0 is None:
            weight = self.w
            xi_weight = self.w * muc
        else:
            # the reference's tilt given (u, v, z): [e + (1-e) Phi(d)] / Z_J, d = (C z - xi0 tau)/s, and
            # E[xi f_J | u, v, z] / Z_J with xi | z ~ N(C z/tau, s^2/tau^2):  C z/tau * tilt + (1-e) (s/tau) phi(d)/Z_J
            d = (C * self.z - self.xi0 * tau) / s
            tilt = np.exp(_log_phi_beta(d, self.beta) - self.logZ)
            phi_over_Z = np.exp(-0.5 * d * d - np.log(_SQRT2PI) - self.logZ)
            weight = self.w * tilt
            xi_weight = self.w * (muc * tilt + (1.0 - self.e) * (s / tau) * phi_over_Z)
        wk = weight * k
        return np.array([
            wk.sum(),
            (wk * self.u).sum(),
            (wk * self.v).sum(),
            (xi_weight * k).sum(),
            (wk * X).sum(),
            (wk * k).sum(),
        ])

    def residual(self, x):
        mo = self.moments(x)
        if mo is None:
            return None
        M, A, C, Q0 = x
        V = 1.0 - Q0
        _, Euk, Evk, Exik, EXk, Ekk = mo
        Gamma = -(EXk + Ekk) / V  # E[g'']
        p = np.array([M, A, C])
        grad_p = np.array([Euk, Evk, Exik]) / np.sqrt(V) - p * Gamma
        Pi = p @ self.K @ p
        r_p = (self.c / V) * (self.K @ p) - self.alpha * grad_p
        r_q = self.c * (Q0 - Pi) - self.alpha * V * Ekk
        return np.concatenate([r_p, [r_q]])


def _newton(fun, x0, tol=1e-10, max_iter=60, h=1e-7):
    """Damped quasi-Newton: a forward-difference Jacobian, then Broyden updates.

    The difference Jacobian is recomputed when a step fails to halve the residual; steps that leave the
    domain (fun -> None) or do not decrease the residual are halved. Returns x and the final max-norm of
    the residual.
    """
    x = np.asarray(x0, float).copy()
    r = fun(x)
    if r is None:
        raise SaddlePointError(f"retrained saddle point: the start {x} lies outside the domain")

    def jacobian(x, r):
        J = np.empty((r.size, x.size))
        for j in range(x.size):
            dx = np.zeros_like(x)
            dx[j] = h
            rj = fun(x + dx)
            J[:, j] = (rj - r) / h if rj is not None else (r - fun(x - dx)) / h
        return J

    J, fresh_J = jacobian(x, r), True
    norm = np.max(np.abs(r))
    for _ in range(max_iter):
        if norm < tol:
            break
        try:
            step = -np.linalg.solve(J, r)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(J, r, rcond=None)[0]
        lam, accepted = 1.0, False
        for _ in range(20 if fresh_J else 1):  # a stale (Broyden) Jacobian gets one try, then a new one
            x_new = x + lam * step
            r_new = fun(x_new)
            if r_new is not None and np.max(np.abs(r_new)) < norm:
                accepted = True
                break
            lam /= 2.0
        if not accepted:
            if fresh_J:
                break
            J, fresh_J = jacobian(x, r), True
            continue
        new_norm = np.max(np.abs(r_new))
        dx, dr = x_new - x, r_new - r
        x, r = x_new, r_new
        if new_norm > 0.5 * norm and new_norm >= tol:
            J, fresh_J = jacobian(x, r), True
        else:
            J = J + np.outer(dr - J @ dx, dx) / (dx @ dx)  # Broyden's update
            fresh_J = False
        norm = new_norm
    return x, norm


def _solve_refined(alpha, R, q, beta, c, beta_r, data, x0, tol, z_step=_Z_STEP, max_iter=60):
    """Newton from x0 on a z grid of step z_step, then on finer ones until the grid resolves the solution.

    Returns the solution and the z step it was found on."""
    step = z_step
    x = np.asarray(x0, float)
    for _ in range(6):
        en = _GibbsEnergetic(alpha, R, q, beta, c, beta_r, data, z_step=step)
        if en.residual(x) is None:
            raise SaddlePointError(f"retrained Gibbs saddle point: the start {x} lies outside the domain")
        x, norm = _newton(en.residual, x, tol=tol, max_iter=max_iter)
        if norm > 100 * tol:
            raise SaddlePointError(
                f"retrained Gibbs saddle point ({data} data) did not converge at alpha={alpha!r}, density={c!r}, "
                f"retrain_temperature={1 / beta_r!r} (residual {norm:.2e})"
            )
        if en.resolves(x):
            return x, step
        M, A, C, Q0 = x
        tau = np.sqrt(Q0 - M * M - A * A)
        s = np.sqrt(max(tau * tau - C * C, 0.0))
        width = min(np.sqrt(1.0 - Q0) / tau, s / max(abs(C), 1e-300) if data == "same" else np.inf)
        step = max(_Z_RESOLUTION * width * 0.9, 1e-3)
    raise SaddlePointError(
        f"retrained Gibbs saddle point: no grid resolves the solution at alpha={alpha!r}, density={c!r}"
    )


def _gibbs_point(alpha, R, q, beta, c, beta_r, data, tol=1e-10, z_step=_Z_STEP, max_iter=60):
    """Saddle point x = (M, A, C, Q0) of Gibbs retraining on the support for one point, and its z step.

    Starts from the noiseless load-alpha/c Gibbs overlaps scaled into the support, solves the fresh-data
    problem, and from there the same-data one; where the direct fresh-data solve fails, it follows the
    retraining temperature down from max(T_r, 1) (continuation).
    """
    Delta = np.sqrt(max(q - R * R, 0.0))
    s1 = np.sqrt(1.0 - q)
    qc = float(gaussian_kept_energy(c))
    kappa = 1.0 - c / qc
    rho = np.sqrt(c + (qc - c) * R * R)

    def start(T_r):
        RS, qS = (float(x) for x in gibbs_order_parameters(alpha / c, T_r))
        M = 0.8 * rho * RS
        P1 = R * M / (1.0 - kappa * (1.0 - R * R))
        A, C = kappa * Delta * P1, kappa * s1 * P1
        Q0 = min(max(qS, 1.1 * (M * M + A * A + C * C) + 1e-3), 0.99)
        return np.array([M, A, C, Q0])

    T_r = 0.0 if np.isinf(beta_r) else 1.0 / beta_r
    try:
        x, step = _solve_refined(alpha, R, q, beta, c, beta_r, "fresh", start(T_r), tol, z_step)
    except SaddlePointError:
        T_hi = max(T_r, 1.0)
        x, step = _solve_refined(alpha, R, q, beta, c, 1.0 / T_hi, "fresh", start(T_hi), tol, z_step)
        for T_k in np.geomspace(T_hi, max(T_r, 1e-3), 12)[1:]:
            x, step = _solve_refined(alpha, R, q, beta, c, 1.0 / T_k, "fresh", x, tol, step)
        if T_r == 0:
            x, step = _solve_refined(alpha, R, q, beta, c, np.inf, "fresh", x, tol, step)
    if data == "same":
        x, step = _solve_refined(alpha, R, q, beta, c, beta_r, "same", x, tol, step, max_iter)
    return x, step


# ----------------------------------------------------------------------------- public: retraining
@dataclass(frozen=True)
class RetrainedSaddle:
    """Order parameters of the student W retrained on the magnitude support of one Gibbs sample J.

    Arrays of the broadcast shape of (alpha, temperature, density). overlap = cos(W, B) = M/sqrt(Q);
    M = W.B/N; Q = |W|^2/N for ridge, the overlap W1.W2/N of two retrained samples for Gibbs retraining
    (|W|^2 = N); A = (W.<J>/N - R M)/Delta and C = (W.J - W.<J>)/(N sqrt(1-q)): the retrained student's
    overlaps with the data part of the dense Gibbs mean <J> and with the thermal part of the sample J
    whose support it uses (both normalised); reg: the ridge penalty used (nan for Gibbs retraining).
    """

    overlap: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    A: np.ndarray
    C: np.ndarray
    reg: np.ndarray


def _retrain_args(retrain, data, reg, retrain_temperature):
    _choice("retrain", retrain, RETRAIN_RULES)
    _choice("data", data, DATA_CHOICES)
    if retrain == "ridge":
        if isinstance(reg, str):
            _choice("reg", reg, ("optimal",))
        else:
            reg = _checks.nonnegative("reg", reg)
    else:
        retrain_temperature = _temperature(retrain_temperature, "retrain_temperature")
    return reg, retrain_temperature


def _ridge_overlap(alpha, R, q, beta, c, reg, data):
    p, Q = _ridge(alpha, R, q, beta, c, reg, data)
    with np.errstate(divide="ignore", invalid="ignore"):
        ov = np.where(np.isfinite(Q) & (Q > 0), p[:, 0] / np.sqrt(np.where(Q > 0, Q, 1.0)), 0.0)
    return ov, p, Q


def _optimal_reg(alpha, R, q, beta, c, data):
    """The ridge penalty that maximises the retrained overlap, per point (bounded search in log10 reg)."""
    out = np.empty(alpha.size)
    for i in range(alpha.size):
        args = [np.array([x[i]]) for x in (alpha, R, q, beta, c)]

        def neg(logreg):
            return -_ridge_overlap(*args, np.array([10.0**logreg]), data)[0][0]

        res = optimize.minimize_scalar(neg, bounds=(-8.0, 4.0), method="bounded", options={"xatol": 1e-7})
        out[i] = 10.0**res.x
    return out


def _flat_points(alpha, temperature, density, *extra):
    arrays = np.broadcast_arrays(alpha, temperature, density, *extra)
    return arrays[0].shape, [a.ravel().astype(float) for a in arrays]


def retrained_saddle(alpha, temperature, density, retrain: str = "ridge", *, reg=0.0,
                     retrain_temperature=0.5, data: str = "same") -> RetrainedSaddle:
    """Order parameters of the student retrained on the kept support of a magnitude-pruned Gibbs sample.

    The dense student is one sample of the Gibbs measure at (alpha, temperature); its fraction ``density``
    of largest |J_i| is the support S; the retrained student W lives on S and learns from
    ``data="same"`` (the P = alpha N training examples of J, the setting of pruning and retraining) or
    ``"fresh"`` (P new examples: then only the kept teacher energy rho^2 matters).
    ``retrain="ridge"``: W minimises 1/2 sum_mu (sigma_mu - W.x_mu/sqrt(N))^2 + reg/2 |W|^2 (reg >= 0,
    or ``"optimal"``: the reg that maximises the overlap); ``"gibbs"``: W is one sample of the Gibbs
    measure exp(-E_S(W)/T_r) on the sphere of the support, T_r = ``retrain_temperature``.
    Replica-symmetric theory of the module docstring (section 2); vectorised (broadcast), the Gibbs rule
    solves one point at a time (about a second each). Raises SaddlePointError where Newton fails.
    """
    al, T, c = _alpha(alpha), _temperature(temperature), _density(density)
    reg, T_r = _retrain_args(retrain, data, reg, retrain_temperature)
    if retrain == "gibbs":
        extra = [T_r]  # broadcast with the points
    else:
        extra = [] if isinstance(reg, str) else [reg]
    shape, flat = _flat_points(al, T, c, *extra)
    al_f, T_f, c_f = flat[:3]
    R, q = gibbs_order_parameters(al_f, T_f)
    beta = _beta(T_f)
    n = al_f.size
    if retrain == "ridge":
        reg_f = _optimal_reg(al_f, R, q, beta, c_f, data) if isinstance(reg, str) else flat[3]
        ov, p, Q = _ridge_overlap(al_f, R, q, beta, c_f, reg_f, data)
        M, A, C = p[:, 0], p[:, 1], p[:, 2]
    else:
        reg_f = np.full(n, np.nan)
        x = np.array([_gibbs_point(al_f[i], R[i], q[i], beta[i], c_f[i], float(_beta(flat[3][i])), data)[0]
                      for i in range(n)]).reshape(n, 4)
        M, A, C, Q = x.T
        ov = M
    fields = [np.asarray(f).reshape(shape) for f in (ov, M, Q, A, C, reg_f)]
    return RetrainedSaddle(*fields)


def retrained_overlap(alpha, temperature, density, retrain: str = "ridge", **kwargs):
    """cos(W, B) of the retrained student; arguments as retrained_saddle."""
    s = retrained_saddle(alpha, temperature, density, retrain, **kwargs)
    return scalar_or_array(s.overlap, alpha, temperature, density)


def retrained_error(alpha, temperature, density, retrain: str = "ridge", **kwargs):
    """Test error arccos(cos(W, B))/pi of the retrained student; arguments as retrained_saddle."""
    ov = np.asarray(retrained_overlap(alpha, temperature, density, retrain, **kwargs))
    return scalar_or_array(np.arccos(np.clip(ov, -1.0, 1.0)) / np.pi, alpha, temperature, density)


# ----------------------------------------------------------------------------- 3. the sign of d(error)/dT
QUANTITIES = ("retrained", "pruned", "dense")


@dataclass(frozen=True)
class TemperatureEffect:
    """The temperature-density diagram: errors and their temperature slopes on a grid.

    alpha (n_a,), temperatures (n_T,), densities (n_c,); error, slope = d error/dT and sign, shape
    (n_a, n_T, n_c); sign = +1 where raising the dense temperature raises the error (hotter hurts),
    -1 where it lowers it (hotter helps), 0 where |slope| <= flat (flat: e.g. at T = 0, where every
    T-derivative of the Gibbs overlaps vanishes, or at density 1 with retraining, which forgets J).
    """

    alpha: np.ndarray
    temperatures: np.ndarray
    densities: np.ndarray
    error: np.ndarray
    slope: np.ndarray
    sign: np.ndarray

    def flips(self):
        """(alpha, temperature, density_below, density_above) wherever the sign changes between +1 and
        -1 along the density axis (zeros skipped), in grid order."""
        out = []
        for i, a in enumerate(self.alpha):
            for j, T in enumerate(self.temperatures):
                row = self.sign[i, j]
                nz = np.flatnonzero(row != 0)
                for k0, k1 in zip(nz[:-1], nz[1:]):
                    if row[k0] != row[k1]:
                        out.append((float(a), float(T), float(self.densities[k0]), float(self.densities[k1])))
        return out


def _error_points(al, T, c, quantity, retrain, reg, T_r, data, estimator, z_steps=None):
    """Errors at 1-D arrays of points (and, for Gibbs retraining, the z steps used)."""
    if quantity == "dense":
        R, _ = gibbs_order_parameters(al, T)
        return np.arccos(R) / np.pi, None
    if quantity == "pruned":
        return np.asarray(pruned_error(al, T, c, estimator), float), None
    if retrain == "ridge":
        return np.asarray(retrained_error(al, T, c, "ridge", reg=reg, data=data), float), None
    R, q = gibbs_order_parameters(al, T)
    beta = _beta(T)
    beta_r = float(_beta(np.asarray(T_r)))
    ov, steps = np.empty(al.size), np.empty(al.size)
    for i in range(al.size):
        x, steps[i] = _gibbs_point(al[i], R[i], q[i], beta[i], c[i], beta_r, data,
                                   z_step=_Z_STEP if z_steps is None else z_steps[i])
        ov[i] = x[0]
    return np.arccos(np.clip(ov, -1.0, 1.0)) / np.pi, steps


def temperature_effect(alpha, temperatures, densities, quantity: str = "retrained", *, retrain: str = "ridge",
                       reg=0.0, retrain_temperature=0.5, data: str = "same", estimator: str = "sample",
                       rel_step: float = 1e-2, flat: float = 1e-6) -> TemperatureEffect:
    """Errors and d(error)/dT of the pruned Gibbs student on the grid alpha x temperatures x densities.

    quantity: ``"retrained"`` (retrained_error with retrain, reg, retrain_temperature, data),
    ``"pruned"`` (pruned_error with estimator) or ``"dense"`` (gibbs error, density ignored).
    The slope is a central difference with step h = rel_step * max(T, 0.1) (forward where T < h);
    every error is deterministic to about 1e-10, so |slope| <= flat (default 1e-6) is reported as 0.
    """
    _choice("quantity", quantity, QUANTITIES)
    _choice("estimator", estimator, ("sample", "mean"))
    reg, T_r = _retrain_args(retrain, data, reg, retrain_temperature)
    al = np.atleast_1d(_alpha(alpha)).astype(float).ravel()
    Ts = np.atleast_1d(_temperature(temperatures)).astype(float).ravel()
    cs = np.atleast_1d(_density(densities)).astype(float).ravel()
    rel_step = float(_checks.positive("rel_step", rel_step))
    flat = float(_checks.nonnegative("flat", flat))
    A, T, C = (x.ravel() for x in np.meshgrid(al, Ts, cs, indexing="ij"))
    h = rel_step * np.maximum(T, 0.1)
    lo = np.where(T - h >= 0, T - h, T)
    hi = T + h
    args = (quantity, retrain, reg, T_r, data, estimator)
    err, steps = _error_points(A, T, C, *args)
    e_lo = _error_points(A, lo, C, *args, z_steps=steps)[0] if np.any(lo < T) else err
    e_lo = np.where(lo < T, e_lo, err)
    e_hi = _error_points(A, hi, C, *args, z_steps=steps)[0]
    slope = (e_hi - e_lo) / (hi - lo)
    sign = np.where(np.abs(slope) <= flat, 0, np.sign(slope)).astype(int)
    shape = (al.size, Ts.size, cs.size)
    return TemperatureEffect(al, Ts, cs, err.reshape(shape), slope.reshape(shape), sign.reshape(shape))
