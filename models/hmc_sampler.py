"""Exact Hamiltonian Monte Carlo of the spherical perceptron's Gibbs measure, with reflection and
refraction at the pattern hyperplanes.

The measure (as in :mod:`models.gibbs_sampler`): for signed patterns z_mu = y_mu x_mu in R^N,
E(w) = #{mu : z_mu.w < 0}, and

    w ~ N(0, I_N) exp(-E(w)/T) / Z,

whose direction is the spherical Gibbs measure of the perceptron at temperature T (T = 0: uniform
on the version space {E = 0}).

Dynamics (Pakman & Paninski, "Exact Hamiltonian Monte Carlo for truncated multivariate Gaussians",
JCGS 23, 518 (2014)): with the potential U(w) = |w|^2/2 + E(w)/T and unit mass, between two
hyperplanes the motion is harmonic, w(t) = w0 cos t + v0 sin t, v(t) = -w0 sin t + v0 cos t, and
every stability a_mu(t) = z_mu.w(t) = a_mu cos t + b_mu sin t (b_mu = z_mu.v) is known in closed
form, so the time at which a trajectory next meets a hyperplane is exact: on the side s_mu of the
hyperplane (s_mu = +1 for a correctly classified pattern, -1 for an error; s_mu a_mu > 0) the next
zero of a_mu(t) is at t_mu = pi/2 + atan(b_mu/a_mu) in (0, pi), increasing in b_mu/a_mu, so one
division and one minimum over the patterns find the first event, and one arctangent its time.
At the hyperplane the potential jumps by dU = +1/T (the pattern becomes an error) or -1/T (it
stops being one). With n = z_mu/|z_mu| and v_n = v.n, the velocity is
refracted (the hyperplane is crossed) when v_n^2/2 > dU, with v_n -> sign(v_n) sqrt(v_n^2 - 2 dU)
(energy conserved), and reflected otherwise, v_n -> -v_n (Mohasel Afshar & Domke, "Reflection,
refraction, and Hamiltonian Monte Carlo", NeurIPS 2015; Pakman & Paninski, "Auxiliary-variable
exact Hamiltonian Monte Carlo samplers for binary distributions", NeurIPS 2013, on piecewise
potentials). Both maps preserve phase-space volume and are time-reversible, so with a full
refresh of the velocity v ~ N(0, I) at the start of every iteration the chain leaves the measure
invariant with no step size and no rejection: every iteration is exact. At T = 0 every hyperplane
of a correctly classified pattern reflects (the billiard in the version-space cone; Rujan 1997,
Neural Comput. 9, 99), and a chain started with errors crosses every hyperplane that removes one
with its velocity unchanged, so E never increases; such a chain samples the version space exactly
once it has reached it (check ``energy_trace``).

The travel time of an iteration is drawn uniformly in travel_time * [1 - jitter, 1 + jitter]
(default pi/2: without patterns w(pi/2) = v0, an independent draw; the jitter avoids the periodic
orbits of a fixed time; Neal 2011, "MCMC using Hamiltonian dynamics", in *Handbook of MCMC*). One iteration
costs one product Z w and one Z v per chain (O(P N)) and O(P) per boundary event, with the Gram
matrix z_mu.z_nu precomputed per chain (O(P^2) memory; on the fly, O(P N) per event, when the Gram
matrices of all chains would exceed ``gram_limit`` numbers).

Vectorised over K chains (each with its own patterns, labels, temperature and seed): all chains
handle their next event together, one step of a Python loop per event, until every chain has used
its travel time. Randomness: chain k owns one ``torch.Generator`` seeded with ``seeds[k]`` and draws
N + 1 normals per iteration (the velocity, and the travel time's uniform as Phi of the last), so its
trajectory does not depend on the other chains (up to float rounding of batched products). The
stabilities are recomputed from w at the start of every iteration (no drift). Padded patterns
(``n_patterns``) are zero and never hit.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .perceptron_chains import (ChainRecorder, GibbsChains, check_lengths, check_problem, check_start, check_teacher,
                                training_errors)
from .validation import check_int

__all__ = ["hmc_sample"]

_TINY = 1e-300
GRAM_LIMIT = 2 ** 25  # numbers (256 MiB of float64) in the Gram matrices of all chains together


def hmc_sample(patterns, labels, temperature, start, *, sweeps: int, seeds, burn_in: int = 0, thin: int = 1,
               n_patterns=None, observe: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
               teacher=None, travel_time: float = math.pi / 2, jitter: float = 0.1, max_events: int = 1_000_000,
               gram_limit: int = GRAM_LIMIT) -> GibbsChains:
    """Run K chains of exact HMC of N(0, I) exp(-E(w)/T) (see the module docstring).

    The arguments and the result are those of :func:`models.gibbs_sampler.gibbs_sample`, a sweep
    being one HMC iteration (a velocity refresh and one trajectory): patterns (K, P, N), labels
    (K, P) in {-1, +1}, temperature T >= 0 (a number or one per chain), start (K, N), sweeps after
    ``burn_in``, one sample per ``thin`` sweeps, seeds (one per chain), n_patterns (K,) for padded
    patterns, observe(w, energy), teacher (K, N) for the overlap trace. travel_time > 0 and
    jitter in [0, 1): the travel time of an iteration; max_events: a bound on the events of one
    iteration of one chain (RuntimeError beyond it); gram_limit: the most numbers held in Gram
    matrices. ``events`` of the result counts each chain's reflections and refractions.
    """
    X, y, T, valid, seeds = check_problem(patterns, labels, temperature, seeds, n_patterns)
    K, P, N = X.shape
    w = check_start(start, K, N)
    Bn = check_teacher(teacher, K, N)
    sweeps, burn_in, thin = check_lengths(sweeps, burn_in, thin)
    max_events = check_int("max_events", max_events, 1)
    gram_limit = check_int("gram_limit", gram_limit, 0)
    if not (isinstance(travel_time, (int, float)) and math.isfinite(travel_time) and travel_time > 0):
        raise ValueError(f"travel_time must be a finite number > 0, got {travel_time!r}")
    if not (isinstance(jitter, (int, float)) and 0 <= jitter < 1):
        raise ValueError(f"jitter must be a number in [0, 1), got {jitter!r}")

    Z = torch.where(valid[..., None], y[..., None] * X, torch.zeros_like(X))  # signed patterns z_mu
    if P == 0:  # one padded row keeps the event search's shapes; it is never hit
        Z, P, valid = torch.zeros((K, 1, N), dtype=torch.float64), 1, torch.zeros((K, 1), dtype=torch.bool)
    znorm = Z.norm(dim=-1)
    inv_norm = torch.where(znorm > 0, 1.0 / znorm.clamp(min=_TINY), torch.zeros_like(znorm))
    unit = Z * inv_norm[..., None]  # (K, P, N) the unit normals n_mu (0 for padded rows)
    # a velocity change delta n_nu changes v by delta n_nu and every rate b_mu by delta z_mu . n_nu:
    # row (k, nu) of H holds both, [z_mu . n_nu for all mu | n_nu] (on the fly beyond gram_limit)
    if K * P * P <= gram_limit:
        H = torch.cat([torch.bmm(unit, Z.transpose(1, 2)), unit], dim=-1).reshape(K * P, P + N)
    else:
        H, unit_f = None, unit.reshape(K * P, N)
    zero_T = T == 0
    beta = torch.where(zero_T, torch.full_like(T, torch.inf), 1.0 / torch.where(zero_T, torch.ones_like(T), T))
    up2 = 2.0 * beta  # twice the potential step into an error (inf at T = 0: always reflected)
    down2 = torch.where(zero_T, torch.zeros_like(beta), -2.0 * beta)  # and out of one (0 at T = 0: crossed unchanged)
    hittable = valid & (znorm > 0)  # padded rows and zero patterns are never hit
    pad = None if bool(hittable.all()) else torch.where(hittable, 0.0, torch.inf).to(torch.float64)
    offset = torch.arange(K) * P  # flat index of (k, nu) in (K, P): offset[k] + nu
    offset2 = torch.arange(K) * (P + N)  # and in (K, P + N)
    zero, tiny, minus_tiny = (torch.tensor(x, dtype=torch.float64) for x in (0.0, _TINY, -_TINY))
    inv_norm_f = inv_norm.reshape(-1)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    draws = torch.empty((K, N + 1), dtype=torch.float64)
    events = torch.zeros(K, dtype=torch.int64)

    total = burn_in + sweeps
    rec = ChainRecorder(total, K, N, burn_in, thin, observe, Bn)
    for sweep in range(total):
        for k, g in enumerate(gens):
            torch.randn(N + 1, generator=g, dtype=torch.float64, out=draws[k])
        v = draws[:, :N]
        u = torch.special.ndtr(draws[:, N])  # uniform on (0, 1)
        remaining = travel_time * (1.0 + jitter * (2.0 * u - 1.0))
        ab = torch.bmm(Z, torch.stack([w, v], dim=-1))  # recomputed every iteration: no drift
        # positions and velocities side by side, rotating together: X = [a | w], Y = [b | v], a_mu = z_mu.w,
        # b_mu = z_mu.v; st = s tiny holds the side s_mu of every hyperplane (-1: an error)
        X_, Y_ = torch.cat([ab[..., 0], w], -1), torch.cat([ab[..., 1], v], -1)
        st = torch.where(ab[..., 0] < 0, minus_tiny, tiny)
        active = torch.ones(K, dtype=torch.bool)
        for step in range(max_events + 1):
            # the first hyperplane each chain meets: s a cos t + s b sin t = 0 falling, at t = pi/2 + atan(b/a)
            # on the side s a > 0; on a hyperplane (a = 0 after an event) b/(s tiny) puts a chain leaving it at
            # t = pi and one meeting it at 0
            ratio = Y_[:, :P] / (X_[:, :P] + st)
            if pad is not None:
                ratio += pad  # padded rows: never
            r_min, nu = ratio.min(-1)
            t_hit = torch.atan(r_min) + math.pi / 2
            hit = active & (t_hit < remaining)
            dt = torch.where(hit, t_hit, torch.where(active, remaining, zero))
            c, s = torch.cos(dt)[:, None], torch.sin(dt)[:, None]
            X_, Y_ = torch.addcmul(X_ * c, Y_, s), torch.addcmul(Y_ * c, X_, s, value=-1.0)
            remaining = remaining - dt
            if not bool(hit.any()):
                break
            if step == max_events:
                raise RuntimeError(f"a chain met more than max_events={max_events} hyperplanes in one iteration")
            events += hit
            active = hit
            # the event at hyperplane nu of every hitting chain (the others get no change)
            idx, idx2 = offset + nu, offset2 + nu
            X_f, Y_f, st_f = X_.view(-1), Y_.view(-1), st.view(-1)
            s_nu = st_f.take(idx)
            vn = Y_f.take(idx2) * inv_norm_f.take(idx)  # v . n_nu
            # refraction iff v_n^2 > 2 dU, dU = +1/T into an error (s = +1), -1/T out of one; at T = 0 never
            # into an error and always out of one with the velocity unchanged (dU = 0: a descent)
            dU2 = torch.where(s_nu > 0, up2, down2)
            kinetic = vn * vn
            cross = kinetic > dU2
            vn_new = torch.where(cross, torch.sign(vn) * torch.sqrt((kinetic - dU2).clamp(min=0.0)), -vn)
            delta = torch.where(hit, vn_new - vn, zero)  # the change of v . n_nu
            if H is not None:
                Y_.addcmul_(delta[:, None], H.index_select(0, idx))
            else:
                n_nu = unit_f.index_select(0, idx)
                Y_[:, P:].addcmul_(delta[:, None], n_nu)
                Y_[:, :P].addcmul_(delta[:, None], torch.bmm(Z, n_nu.unsqueeze(-1)).squeeze(-1))
            # on the hyperplane: a_nu = 0 exactly; a crossing changes its side
            X_f.index_copy_(0, idx2, torch.where(hit, zero, X_f.take(idx2)))
            st_f.index_copy_(0, idx, torch.where(hit & cross, -s_nu, s_nu))
        w = X_[:, P:].contiguous()
        E = training_errors(Z, w)
        rec.record(sweep, w, E)
    return rec.result(w, events=events)
