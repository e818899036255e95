"""Ising-perceptron Gibbs learning: RS theory against independent solvers, published values and
exhaustive enumeration of all 2^N students."""
import numpy as np
import pytest
from scipy import integrate, optimize, special

from theory import ising
from theory._checks import SaddlePointError

_SQRT2PI = np.sqrt(2 * np.pi)


# ----------------------------------------------------------------------------- independent routes
def _Dz(f, split=None):
    """int Dz f(z) by adaptive quadrature (scipy.integrate.quad), split at a feature if given."""
    g = lambda z: f(z) * np.exp(-0.5 * z * z) / _SQRT2PI  # noqa: E731
    kw = dict(epsabs=1e-13, epsrel=1e-12, limit=200)
    if split is None:
        return integrate.quad(g, -np.inf, np.inf, **kw)[0]
    return integrate.quad(g, -np.inf, split, **kw)[0] + integrate.quad(g, split, np.inf, **kw)[0]


def _tanh_moments(Rh, qh):
    """int Dz tanh, tanh^2, ln 2cosh of sqrt(qh) z + Rh."""
    h = lambda z: np.sqrt(qh) * z + Rh  # noqa: E731
    c = -Rh / np.sqrt(qh)
    return (_Dz(lambda z: np.tanh(h(z)), c), _Dz(lambda z: np.tanh(h(z)) ** 2, c),
            _Dz(lambda z: np.logaddexp(h(z), -h(z)), c))


# T = 0 (Nishimori line, q = R), written in R: Rh(R) = alpha I(R)/(pi sqrt(1-R)) (EvdB ch. 7)
def _I(R):
    return _Dz(lambda t: np.exp(-0.5 * R * t * t - special.log_ndtr(np.sqrt(R) * t)))


def _vs_R(alpha, grid=np.linspace(1e-4, 0.95, 30)):
    """Poor-branch R at T = 0: the first zero of F(R) = R - int Dz tanh(sqrt(Rh) z + Rh), Rh = Rh(R),
    on the grid (F < 0 at R = 0; the next zero, F going down, is the unstable branch). None if F has
    no zero there."""
    def F(R):
        Rh = alpha * _I(R) / (np.pi * np.sqrt(1 - R))
        return R - _tanh_moments(Rh, Rh)[0]

    vals = [F(r) for r in grid]
    for i in range(len(grid) - 1):
        if vals[i] < 0 <= vals[i + 1]:
            return optimize.brentq(F, grid[i], grid[i + 1], xtol=1e-13)
    return None


def _vs_entropy(alpha, **grid):
    """Version-space entropy on the poor branch at T = 0 (None where the branch does not exist)."""
    R = _vs_R(alpha, **grid)
    if R is None:
        return None, None
    Rh = alpha * _I(R) / (np.pi * np.sqrt(1 - R))
    a = np.sqrt(R / (1 - R))
    GE = 2 * _Dz(lambda t: special.ndtr(a * t) * special.log_ndtr(a * t))
    return R, -Rh * (1 + R) / 2 + _tanh_moments(Rh, Rh)[2] + alpha * GE


def _vs_spinodal():
    """max over R of alpha(R) = Rh pi sqrt(1-R)/I(R), Rh solving R = int Dz tanh(sqrt(Rh) z + Rh)."""
    def alpha_of(R):
        Rh = optimize.brentq(lambda x: _tanh_moments(x, x)[0] - R, 1e-9, 50, xtol=1e-13)
        return Rh * np.pi * np.sqrt(1 - R) / _I(R)

    res = optimize.minimize_scalar(lambda R: -alpha_of(R), bounds=(0.5, 0.99), method="bounded",
                                   options=dict(xatol=1e-9))
    return -res.fun


# finite T: the four RS equations in (R, q, Rh, qh) by scipy.optimize.root, dG_E by finite differences
def _G_E(R, q, beta):
    D, a, e = np.sqrt(q - R * R), np.sqrt(q / (1 - q)), np.exp(-beta)
    return 2 * _Dz(lambda t: special.ndtr(R * t / D) * np.log(e + (1 - e) * special.ndtr(a * t)), 0.0)


def _rs_solve(alpha, T, x0=None):
    """(R, q, phi, x) on the poor branch: damped iteration from R = 0.05 (or x0), then hybr root."""
    beta, h = 1 / T, 1e-5

    def hats(R, q):
        dR = (_G_E(R + h, q, beta) - _G_E(R - h, q, beta)) / (2 * h)
        dq = (_G_E(R, q + h, beta) - _G_E(R, q - h, beta)) / (2 * h)
        return alpha * dR, -2 * alpha * dq

    if x0 is None:
        R, q = 0.05, 0.01
        for _ in range(40):
            Rh, qh = hats(R, q)
            Rn, qn, _ = _tanh_moments(Rh, qh)
            R, q = 0.5 * (R + Rn), 0.5 * (q + qn)
        x0 = [R, q, *hats(R, q)]

    def F(x):
        R, q, Rh, qh = x
        m1, m2, _ = _tanh_moments(Rh, qh)
        hR, hq = hats(R, q)
        return [R - m1, q - m2, Rh - hR, qh - hq]

    sol = optimize.root(F, x0, method="hybr", options=dict(xtol=1e-12))
    assert sol.success, sol.message
    R, q, Rh, qh = sol.x
    phi = -Rh * R - qh * (1 - q) / 2 + _tanh_moments(Rh, qh)[2] + alpha * _G_E(R, q, beta)
    return R, q, phi, sol.x


def _annealed_poor_max(ratio):
    """max of s(R) - ratio arccos(R)/pi over R in [0, 0.75] (the poor branch's local maximum)."""
    s = lambda R: -(1 + R) / 2 * np.log((1 + R) / 2) - (1 - R) / 2 * np.log((1 - R) / 2)  # noqa: E731
    res = optimize.minimize_scalar(lambda R: -(s(R) - ratio * np.arccos(R) / np.pi), bounds=(0.0, 0.75),
                                   method="bounded", options=dict(xatol=1e-12))
    return -res.fun


# ----------------------------------------------------------------------------- T = 0
def test_zero_temperature_transition_and_spinodal_match_independent_route_and_published_values():
    alpha_c = ising.transition_load(0.0)
    # near alpha_c the poor root lies in (0.3, 0.85) and the unstable one near R = 0.98
    ref_c = optimize.brentq(lambda a: _vs_entropy(a, grid=[0.3, 0.85])[1], 1.2, 1.3, xtol=1e-10)
    assert abs(alpha_c - ref_c) < 1e-7, (alpha_c, ref_c)
    assert abs(alpha_c - 1.245) < 2e-3  # Gyorgyi 1990; EvdB ch. 7
    alpha_sp = ising.spinodal_load(0.0)
    ref_sp = _vs_spinodal()
    assert abs(alpha_sp - ref_sp) < 1e-6, (alpha_sp, ref_sp)
    assert abs(alpha_sp - 1.49) < 5e-3  # Gyorgyi 1990 (two digits)
    # the version-space entropy of the poor branch crosses zero there; the perfect state has entropy 0
    assert ising.free_entropy(alpha_c - 0.01, branch="poor") > 0 > ising.free_entropy(alpha_c + 0.01, branch="poor")
    assert ising.entropy(alpha_c + 0.01, branch="perfect") == 0.0


@pytest.mark.parametrize("alpha", [0.3, 0.8, 1.2, 1.3, 1.45, 2.0])
def test_zero_temperature_error_matches_independent_route_on_both_sides(alpha):
    R_ref, s_ref = _vs_entropy(alpha)
    if R_ref is not None and s_ref > 0:  # poor branch stable
        ref = np.arccos(R_ref) / np.pi
        assert abs(ising.free_entropy(alpha) - s_ref) < 1e-8
    else:  # poor branch absent (alpha > 1.4926) or with negative entropy: perfect generalisation
        ref = 0.0
    if R_ref is not None:
        assert abs(ising.gibbs_error(alpha, branch="poor") - np.arccos(R_ref) / np.pi) < 1e-8
        R, q = ising.order_parameters(alpha, branch="poor")
        assert q == R and abs(R - R_ref) < 1e-7
    else:
        assert np.isnan(ising.gibbs_error(alpha, branch="poor"))
    assert abs(ising.gibbs_error(alpha) - ref) < 1e-3
    assert ising.training_error(alpha) == 0.0


# ----------------------------------------------------------------------------- finite T
def test_finite_temperature_matches_independent_root_solver_on_both_sides_and_transition():
    T = 1.0
    alpha_c = ising.transition_load(T)
    x = None
    for alpha, side in [(1.5, "poor"), (2.2, "poor"), (2.45, "perfect")]:
        R, q, phi, x = _rs_solve(alpha, T, x)
        R_m, q_m = ising.order_parameters(alpha, T, branch="poor")
        assert abs(R_m - R) < 1e-7 and abs(q_m - q) < 1e-7, (alpha, R_m, R, q_m, q)
        assert abs(ising.free_entropy(alpha, T, branch="poor") - phi) < 1e-8
        ref = np.arccos(R) / np.pi if phi > 0 else 0.0
        assert (phi > 0) == (side == "poor") == (alpha < alpha_c)
        assert abs(ising.gibbs_error(alpha, T) - ref) < 1e-3
    # transition: phi_poor = 0, by brentq over the independent solver (warm started)
    state = {"x": x}

    def phi_of(alpha):
        _, _, phi, state["x"] = _rs_solve(alpha, T, state["x"])
        return phi

    ref_c = optimize.brentq(phi_of, 2.3, 2.37, xtol=1e-6)
    assert abs(alpha_c - ref_c) < 1e-5, (alpha_c, ref_c)


def test_high_temperature_transition_matches_direct_one_dimensional_computation():
    ref_c = optimize.brentq(_annealed_poor_max, 1.0, 2.0, xtol=1e-12)
    assert abs(ising.high_temperature_transition() - ref_c) < 1e-8
    # spinodal: the largest alpha/T with an interior local maximum, i.e. where min_R d phi/dR reaches 0
    # (d phi/dR -> +inf at R -> 1, the perfect state; on a grid)
    R = np.linspace(1e-4, 0.999, 200001)
    dphi = lambda y: -np.arctanh(R) + y / (np.pi * np.sqrt(1 - R * R))  # noqa: E731
    ref_sp = optimize.brentq(lambda y: np.min(dphi(y)), 1.5, 3.0, xtol=1e-12)
    assert abs(ising.high_temperature_spinodal() - ref_sp) < 1e-6
    # the value 2.0821 of Baum & Lyuu, Neural Comput. 3, 386 (1991)
    assert abs(ising.high_temperature_spinodal() - 2.0821) < 1e-4
    # the finite-T theory reaches the limit as T grows at fixed alpha/T, with a 1/T correction
    Ts = np.array([10.0, 100.0, 1000.0])
    dev_c = np.abs(ising.transition_load(Ts) / Ts - ising.high_temperature_transition())
    dev_sp = np.abs(ising.spinodal_load(Ts) / Ts - ising.high_temperature_spinodal())
    assert np.all(np.diff(dev_c) < 0) and dev_c[-1] < 1e-3 and dev_c[0] / dev_c[1] == pytest.approx(10, rel=0.2)
    assert np.all(np.diff(dev_sp) < 0) and dev_sp[-1] < 1e-3
    ratio = np.array([0.5, 1.5, 1.9, 2.5])
    err_T = ising.gibbs_error(ratio * 1000.0, 1000.0, branch="poor")
    np.testing.assert_allclose(err_T[:3], ising.high_temperature_error(ratio[:3], branch="poor"), atol=1e-3)
    assert np.isnan(err_T[3]) and np.isnan(ising.high_temperature_error(2.5, branch="poor"))
    assert ising.high_temperature_error(1.9) == 0.0 and ising.high_temperature_error(1.5) > 0.3
    np.testing.assert_allclose(ising.free_entropy(ratio[:2] * 1000.0, 1000.0),
                               ising.high_temperature_free_entropy(ratio[:2]), atol=1e-3)


def test_branches_vectorisation_and_limits():
    a = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    T = np.array([0.0, 0.5, 1.0])[:, None]
    err = ising.gibbs_error(a, T)
    assert err.shape == (3, 5) and np.all(err[:, 0] == 0.5)
    # the stable branch is the one with the larger free entropy
    phi_poor = ising.free_entropy(a, T, branch="poor")
    expect = np.where(np.nan_to_num(phi_poor, nan=-1) > 0, ising.gibbs_error(a, T, branch="poor"), 0.0)
    np.testing.assert_allclose(err, expect, atol=1e-12)
    assert ising.free_entropy(a, T, branch="perfect").max() == 0.0
    np.testing.assert_allclose(ising.free_energy(a, T), -T * ising.free_entropy(a, T), atol=1e-15)
    # f = e - T s on the poor branch at T = 1: energy alpha eps_t
    s1 = ising.entropy(a[1:3], 1.0, branch="poor")
    energy = a[1:3] * ising.training_error(a[1:3], 1.0, branch="poor")
    np.testing.assert_allclose(ising.free_energy(a[1:3], 1.0, branch="poor"), energy - s1)
    # poor branch: NaN beyond the spinodal; the error decreases along it and rises with T
    for t in (0.0, 1.0):
        sp = ising.spinodal_load(t)
        assert np.isnan(ising.gibbs_error(sp * 1.001, t, branch="poor"))
        curve = ising.gibbs_error(np.linspace(0.05, sp, 20), t, branch="poor")
        assert np.all(np.diff(curve) < 0)
    assert np.all(np.diff(ising.gibbs_error(0.8, np.array([0.0, 0.3, 1.0, 3.0])), axis=0) > 0)
    # T -> 0 continuity, including the critical loads
    np.testing.assert_allclose(ising.gibbs_error(a, 0.01), ising.gibbs_error(a), atol=1e-8)
    assert ising.transition_load(0.01) == pytest.approx(ising.transition_load(0.0), abs=1e-8)
    # small alpha: R = 2 alpha/pi (T = 0), phi = ln 2 - O(alpha)
    R, q = ising.order_parameters(1e-4)
    assert R == pytest.approx(2e-4 / np.pi, rel=1e-3) and q == R
    # training error: below the generalisation error, entropy positive on the poor branch at T > 0
    tr = ising.training_error(a[1:3], 1.0)
    assert np.all(tr < ising.gibbs_error(a[1:3], 1.0)) and np.all(ising.entropy(a[1:3], 1.0) > 0)
    assert ising.training_error(0.0, 1.0) == pytest.approx(1 / (1 + np.e))
    assert isinstance(ising.transition_load(), float) and ising.transition_load([0.0, 1.0]).shape == (2,)


# ----------------------------------------------------------------------------- enumeration
def _all_spins(n):
    idx = np.arange(2**n)[:, None]
    return 1.0 - 2.0 * ((idx >> np.arange(n)) & 1)


def _enumerate(N, P, rng):
    """counts[E, k]: the number of the 2^N students with E training errors and k weights equal to the
    teacher's (gauge: teacher B = (1, ..., 1), which leaves x ~ N(0, I) unchanged). The fields of the
    two halves of J are computed separately and added (2^(N/2) x 2^(N/2) per example)."""
    nl = N // 2
    SL, SR = _all_spins(nl), _all_spins(N - nl)
    X = rng.standard_normal((P, N))
    sX = np.sign(X.sum(axis=1))[:, None] * X
    A, B = sX[:, :nl] @ SL.T, sX[:, nl:] @ SR.T
    E = np.zeros((SL.shape[0], SR.shape[0]), np.int16)
    for mu in range(P):
        E += A[mu][:, None] < -B[mu][None, :]
    k = (SL > 0).sum(1)[:, None] + (SR > 0).sum(1)[None, :]
    return np.bincount((E.astype(np.int64) * (N + 1) + k).ravel(), minlength=(P + 1) * (N + 1)).reshape(P + 1, N + 1)


def _gibbs_averages(counts, N, T):
    """Exact Gibbs averages for one data set: generalisation error, training error, ln Z / N."""
    E = np.arange(counts.shape[0])[:, None]
    eps = np.arccos((2 * np.arange(N + 1) - N) / N)[None, :] / np.pi
    w = counts * (E == 0) if T == 0 else counts * np.exp(-E / T)
    Z = w.sum()
    return (w * eps).sum() / Z, (w * E).sum() / Z / max(counts.shape[0] - 1, 1), np.log(Z) / N


def test_exhaustive_enumeration_approaches_theory_as_N_grows():
    """All 2^N students for each of many data sets: version-space averages at T = 0, exact Gibbs
    averages at T = 1, at N = 13 and 19, on both sides of the transition (alpha_c = 1.245 at T = 0,
    2.333 at T = 1; spinodals 1.493 and 2.846)."""
    rng = np.random.default_rng(7)
    # alpha: (temperatures, data sets at N = 13, at N = 19)
    plan = {0.5: ((0.0, 1.0), 300, 100), 1.0: ((1.0,), 200, 60), 3.0: ((0.0,), 60, 12), 4.0: ((1.0,), 40, 10)}
    out = {}
    for alpha, (temps, n13, n19) in plan.items():
        for N, n_data in [(13, n13), (19, n19)]:
            P = int(round(alpha * N))
            rows = np.array([[_gibbs_averages(c, N, t) for t in temps]
                             for c in (_enumerate(N, P, rng) for _ in range(n_data))])  # (data, temps, 3)
            for j, t in enumerate(temps):
                mean, se = rows[:, j].mean(axis=0), rows[:, j].std(axis=0, ddof=1) / np.sqrt(n_data)
                theory = np.array([ising.gibbs_error(P / N, t), ising.training_error(P / N, t),
                                   ising.free_entropy(P / N, t)])
                out[(alpha, t, N)] = (mean - theory, se, theory)
    for alpha, t in [(0.5, 0.0), (0.5, 1.0), (1.0, 1.0)]:  # poor-generalisation side
        (d13, s13, th), (d19, s19, _) = out[(alpha, t, 13)], out[(alpha, t, 19)]
        assert th[0] > 0.4
        # the generalisation error: below the theory at finite N, within a finite-size allowance at N = 19
        assert d13[0] < 0 and d19[0] < 0
        assert abs(d19[0]) < 0.01 + 3 * s19[0] and abs(d19[0]) < abs(d13[0]) + 2 * np.hypot(s13[0], s19[0])
        if t > 0:  # training error and free entropy ln Z / N
            assert abs(d19[1]) < 0.01 + 3 * s19[1] and abs(d19[2]) < 0.01 + 3 * s19[2]
    (d13, s13, _), (d19, s19, _) = out[(1.0, 1.0, 13)], out[(1.0, 1.0, 19)]
    assert abs(d19[0]) < abs(d13[0]) - 2 * np.hypot(s13[0], s19[0])  # the finite-size shift shrinks
    for alpha, t in [(3.0, 0.0), (4.0, 1.0)]:  # perfect-generalisation side (beyond the spinodals): theory 0
        (d13, _, th), (d19, _, _) = out[(alpha, t, 13)], out[(alpha, t, 19)]
        assert th[0] == 0 and 0 <= d19[0] <= d13[0] < 0.01


def test_unconverged_root_raises():
    with pytest.raises(SaddlePointError, match="did not converge"):
        ising._illinois(lambda x, idx: x**3 - 0.3, np.array([0.0]), np.array([1.0]), np.array([-0.3]),
                        np.array([0.7]), max_iter=2)
    with pytest.raises(SaddlePointError, match="no sign change"):
        ising._illinois(lambda x, idx: x, np.array([1.0]), np.array([2.0]), np.array([1.0]), np.array([2.0]))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ising.gibbs_error(-1.0), "alpha"),
        (lambda: ising.gibbs_error(1.0, -0.5), "temperature"),
        (lambda: ising.gibbs_error([1.0, np.nan]), "alpha"),
        (lambda: ising.transition_load(-1.0), "temperature"),
        (lambda: ising.spinodal_load(np.inf), "temperature"),
        (lambda: ising.order_parameters(1.0, branch="metastable"), "branch"),
        (lambda: ising.high_temperature_error(-1.0), "alpha_over_T"),
    ],
)
def test_bad_input_raises_value_error(call, name):
    with pytest.raises(ValueError, match=name):
        call()
