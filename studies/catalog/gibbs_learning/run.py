"""How a group of ``gibbs_learning`` trials runs: every chain of every trial in one batch of the sampler.

Each trial draws a perceptron teacher B (``manifolds.PerceptronTeacher``, |B|^2 = N; Gaussian for
``weights = "spherical"``, +-1 for ``"ising"``), P = round(alpha N) training inputs x ~ N(0, I_N) with
labels sign(B.x) (``manifold = "gaussian"``: isotropic inputs, intrinsic_dim = ambient_dim = N), and runs
``chains`` Markov chains of the Gibbs measure exp(-E(w)/T), E = number of training errors (summed over
examples; T = ``langevin_T``, the temperature of the Gibbs measure that Langevin dynamics samples).
Half the chains start at the teacher, half elsewhere. After ``burn_in`` sweeps one sample is kept per
sweep. Every sample's generalization error is exact, arccos(R)/pi with R the cosine between the sample
and the teacher (EvdB eq. 1.3); ``test_error`` is its mean over chains and samples, the Gibbs error of
the trial. ``test_error_empirical`` is the error of the chains' final states on ``n_test`` fresh inputs.

Spherical weights (theory: :func:`theory.perceptron.gibbs_order_parameters`): the exact samplers of
:func:`models.gibbs_sampler.gibbs_sample`, ``sampler = "line"`` (exact line moves; a sweep is N moves)
or ``"hmc"`` (exact Hamiltonian Monte Carlo, :mod:`models.hmc_sampler`; a sweep is one trajectory). The
other chains start at a random Gaussian vector when T > 0, at the batch-perceptron solution from a random
vector when T = 0 (a version-space point other than the teacher). Optionally every sample is pruned
one-shot by magnitude (keep the round((1 - s) N) largest |w_i|; theory
:func:`theory.pruned_gibbs.pruned_error`, R sqrt(q(c))), and ``retrain_samples`` samples per chain are
retrained on their kept support S with the same P examples (theory :func:`theory.pruned_gibbs.retrained_error`,
``data="same"``):

- ridge: W = argmin 1/2 sum_mu (sigma_mu - W.x_mu/sqrt(N))^2 + retrain_reg/2 |W|^2 on S
  (:func:`models.ridge_fit`; the minimum-norm least-squares solution at retrain_reg = 0);
- gibbs: one sample of exp(-E_S(W)/T_r) on the sphere of R^S, T_r = ``retrain_T``: HMC on the patterns
  restricted to S (the coordinates off S then move freely and are dropped), started at the pruned sample,
  ``retrain_sweeps`` iterations, cos(W_S, B) averaged over the second half.

Ising weights (theory: :mod:`theory.ising`, stable branch, with the poor branch and the transition):
single-flip Metropolis (:func:`models.ising_metropolis`, random scan; a sweep is N proposals), the other
chains from a uniformly random J in {-1, +1}^N. Near the first-order transition alpha_c(T) the two starts
need not meet within the run: the teacher-started chains hold R = 1 below alpha_c and the others stay
on the poor branch above it (hysteresis). ``perfect_fraction_*`` is the fraction of a start's samples at
R >= 1 - 4/N (at most two spins off the teacher).

Equilibrium diagnostics per trial (``models.mixing.mixing_check`` of the error series, batch means
over 10 batches): the mean error of the teacher-started and of the other chains, and of the first and
second half of the samples, with standard errors; ``non_equilibrium`` is set when either pair differs
by more than 3 of its standard errors, or when a zero-temperature chain ends with training errors. The
report aggregates them over seeds, flags finite-size points, and compares with the theory
(studies/catalog/gibbs_learning/analysis.py).

Groups: trials of one N, kind of weights, sampler, run length and pruning and retraining recipe form
one group; all their chains are one batch of the sampler. Spherical groups hold one load (a line move
sorts the breakpoints of the batch's largest P, an HMC trajectory meets about P/2 hyperplanes at N = 64),
and the line sampler keeps zero and positive temperatures apart (a zero-temperature batch takes its fast
chord moves only when every chain is at T = 0). Ising groups hold every load, the patterns padded to the
largest P (``n_patterns``): a Metropolis sweep costs N small steps whatever P. A group runs with torch and
numpy's BLAS on one thread (``_one_thread``). The teacher, the data and the starts of a trial depend on its
seed only, so trials of one seed share their teacher and data across temperatures (common random numbers).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import manifolds
from models import gibbs_sampler, ising_metropolis, mixing_check, ridge_fit
from models.hmc_sampler import hmc_sample
from models.pruning import top_magnitude
from theory import ising as ising_theory
from theory import perceptron as perceptron_theory
from theory import pruned_gibbs
from theory import pruning as pruning_theory
from theory._checks import SaddlePointError

from ...sweep.study import TrialOutcome, derive_seeds

N_BATCHES = 10  # batch means for a trial's standard errors
TRIAL_Z = 3.0  # a trial is non_equilibrium when a diagnostic pair differs by more than this many SE

GROUP_FIELDS = ("ambient_dim", "weights", "sampler", "sweeps", "burn_in", "chains", "direction", "n_test",
                "retrain", "retrain_samples", "retrain_reg", "retrain_T", "retrain_sweeps")


def group_key(t: dict) -> tuple:
    key = tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)
    if t["weights"] == "spherical":
        # one load per batch: a line move sorts the breakpoints of the largest P of its batch, and an HMC
        # trajectory meets about P/2 hyperplanes (N = 64), one batched step each, so the largest load sets the
        # pace of the whole batch
        key += (("alpha", t["alpha"]),)
        if t["sampler"] == "line":  # the chord moves need a batch all at T = 0
            key += (("zero_T", t["langevin_T"] == 0),)
    return key


def n_train(t: dict) -> int:
    return int(round(t["alpha"] * t["ambient_dim"]))


def _trial_data(t: dict) -> dict:
    """Teacher, training set, test set and the non-teacher starts of one trial (numpy, from its seed)."""
    N, P = t["ambient_dim"], n_train(t)
    s = derive_seeds(t["seed"], "teacher", "train", "test", "start", "chains")
    ising = t["weights"] == "ising"
    teacher = manifolds.PerceptronTeacher(N, seed=s["teacher"], weight_prior="binary" if ising else "spherical")
    X = np.random.default_rng(s["train"]).standard_normal((P, N))
    Xte = np.random.default_rng(s["test"]).standard_normal((t["n_test"], N))
    other = np.random.default_rng(s["start"]).standard_normal((t["chains"] // 2, N))
    if ising:
        other = np.where(other >= 0, 1.0, -1.0)
    return {"B": teacher.weights, "X": X, "y": teacher(X), "Xte": Xte, "other": other, "seed": s["chains"], "P": P}


def _padded(data: list[dict], C: int):
    """Patterns, labels and pattern counts of every chain, padded to the group's largest P."""
    Pmax = max(max(d["P"] for d in data), 1)
    N = data[0]["X"].shape[1]
    X = np.zeros((len(data), Pmax, N))
    y = np.ones((len(data), Pmax))
    for k, d in enumerate(data):
        X[k, :d["P"]], y[k, :d["P"]] = d["X"], d["y"]
    n = np.array([d["P"] for d in data])
    return np.repeat(X, C, 0), np.repeat(y, C, 0), np.repeat(n, C)


def _diagnostics(err: np.ndarray, half: int) -> dict:
    """Two-start and split-half check of a trial's (samples, chains) error series (models.mixing)."""
    check = mixing_check(err, np.arange(err.shape[1]) < half, n_batches=N_BATCHES, z=TRIAL_Z)
    return {"test_error_teacher_start": check.teacher_start, "test_error_other_start": check.other_start,
            "start_difference": check.start_difference, "start_difference_se": check.start_difference_se,
            "test_error_first_half": check.first_half, "test_error_second_half": check.second_half,
            "drift": check.drift, "drift_se": check.drift_se, "test_error_se": check.se,
            "autocorrelation_time": check.autocorrelation_time, "_equilibrated": check.equilibrated}


def _empirical(w: np.ndarray, Xte: np.ndarray, yte: np.ndarray) -> float:
    """Mean error of the chains' weights (C, N) on the test set (NaN without one)."""
    if len(yte) == 0:
        return float("nan")
    return float(np.mean(np.where(w @ Xte.T >= 0, 1.0, -1.0) != yte[None]))


def _base_row(t: dict, P: int) -> dict:
    N = t["ambient_dim"]
    return {"load": P / N, "temperature_knob": "langevin_T", "temperature": float(t["langevin_T"]),
            "n_train": P, "n_params": N, "intrinsic_dim": N, "manifold": "gaussian"}


@contextmanager
def _one_thread():
    """torch and the BLAS of numpy on one thread for the duration of a group, then as they were. The
    samplers take one small batched step per event or proposal, where a second thread only adds
    synchronisation: an HMC group ran 6x slower on two threads than on one on a busy 2-core machine, and
    a stacked least-squares solve 12x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Sample every trial's chains as one batch, then summarise each trial."""
    with _one_thread():
        if group[0][1]["weights"] == "ising":
            return _run_ising(group)
        return _run_spherical(group)


# ----------------------------------------------------------------------------- spherical weights
def _theory(alpha: float, T: float) -> tuple[float, float, float]:
    """(R, generalization error, training error) of the replica-symmetric theory; NaN if unsolved."""
    try:
        R, _ = perceptron_theory.gibbs_order_parameters(alpha, T)
        train = 0.0 if T == 0 else float(perceptron_theory.gibbs_training_error(alpha, T))
        return float(R), float(pruning_theory.overlap_to_error(R)), train
    except SaddlePointError:
        return float("nan"), float("nan"), float("nan")


@functools.lru_cache(maxsize=4096)
def _pruned_theory(alpha: float, T: float, c: float, rule: str, reg: float, T_r: float) -> float:
    """theory.pruned_gibbs at one point (cached: the Gibbs-retraining saddle point takes about a second)."""
    try:
        if rule == "one_shot":
            return float(pruned_gibbs.pruned_error(alpha, T, c))
        if rule == "ridge":
            return float(pruned_gibbs.retrained_error(alpha, T, c, "ridge", reg=reg, data="same"))
        return float(pruned_gibbs.retrained_error(alpha, T, c, "gibbs", retrain_temperature=T_r, data="same"))
    except (SaddlePointError, ValueError, ArithmeticError):
        return float("nan")


def _errors_of(W: torch.Tensor, Bn: torch.Tensor) -> torch.Tensor:
    """arccos(cos(W, B))/pi per row; (M, N), (M, N) unit teachers -> (M,)."""
    norm = W.norm(dim=-1)
    cos = torch.where(norm > 0, (W * Bn).sum(-1) / norm.clamp(min=1e-300), torch.zeros_like(norm))
    return torch.arccos(cos.clamp(-1, 1)) / torch.pi


RETRAIN_CHAINS = 256  # HMC chains per batch of Gibbs retraining (memory: chains x P x N signed patterns)


def _retrain(t0: dict, data: list[dict], samples: torch.Tensor, keeps: list[int]) -> dict:
    """Retrain the chosen samples on their kept supports: {(rule, level): (test errors, train errors)}, each
    of shape (n_trials, n_samples); samples: (n_trials, n_samples, N). Every trial of a spherical group has
    the same P. The HMC seeds of a trial's retraining chains derive from the trial's own chain seed."""
    n_tr, n_s, N = samples.shape
    L = len(keeps)
    rules = [r for r in ("ridge", "gibbs") if r in t0["retrain"]]
    test = {r: np.empty((n_tr, L, n_s)) for r in rules}
    train = {r: np.empty((n_tr, L, n_s)) for r in rules}
    # per trial: its L x n_s supports (level, sample), the signed patterns and the unit teacher
    masks = [torch.stack([top_magnitude(samples[k], keep) for keep in keeps]).reshape(L * n_s, N) for k in range(n_tr)]
    Z = [torch.as_tensor(d["y"][:, None] * d["X"]) for d in data]
    Bn = [torch.as_tensor(d["B"] / np.linalg.norm(d["B"])) for d in data]

    def record(rule, k_list, W):  # W: (len(k_list) * L * n_s, N) retrained weights, zero off the support
        W = W.reshape(len(k_list), L * n_s, N)
        for j, k in enumerate(k_list):
            test[rule][k] = _errors_of(W[j], Bn[k].expand(L * n_s, N)).reshape(L, n_s).numpy()
            wrong = (Z[k] @ W[j].T < 0).double().mean(0) if Z[k].shape[0] else torch.zeros(L * n_s)
            train[rule][k] = wrong.reshape(L, n_s).numpy()

    if "ridge" in rules:
        # 1/2 |sigma - X W/sqrt(N)|^2 + reg/2 |W|^2 is ridge_fit's problem in beta = W/sqrt(N) with reg N
        reg = torch.full((L * n_s,), float(t0["retrain_reg"]) * N)
        for k, d in enumerate(data):
            record("ridge", [k], ridge_fit(torch.as_tensor(d["X"]), torch.as_tensor(d["y"]), reg, masks[k]))
    if "gibbs" in rules:
        sw = t0["retrain_sweeps"]
        kept = sw - sw // 2
        per_batch = max(1, RETRAIN_CHAINS // (L * n_s))
        for first in range(0, n_tr, per_batch):
            ks = list(range(first, min(n_tr, first + per_batch)))
            m = torch.cat([masks[k] for k in ks]).to(torch.float64)
            Zs = torch.cat([Z[k].expand(L * n_s, *Z[k].shape) for k in ks]) * m[:, None, :]
            Bm = torch.cat([Bn[k].expand(L * n_s, N) for k in ks])
            start = torch.cat([samples[k].repeat(L, 1) for k in ks]) * m
            seeds = [int(x) for k in ks
                     for x in np.random.SeedSequence([data[k]["seed"], 1]).generate_state(L * n_s)]

            def observe(w, E, m=m, Bm=Bm):
                return _errors_of(w * m, Bm)

            # the coordinates off the support see no pattern: they move freely and are dropped
            run = hmc_sample(Zs, torch.ones(Zs.shape[:2], dtype=Zs.dtype), float(t0["retrain_T"]), start,
                             sweeps=kept, burn_in=sw - kept, seeds=seeds, observe=observe)
            record("gibbs", ks, run.weights * m)
            test["gibbs"][ks] = run.samples.mean(0).reshape(len(ks), L, n_s).numpy()  # R averaged, second half
    return {(rule, i): (test[rule][:, i], train[rule][:, i]) for rule in rules for i in range(L)}


def _chains(group: list[tuple[str, dict]]):
    """What both samplers' runs of a group start from: each trial's data, and per chain (C of a trial, the
    first half started at the teacher) the padded patterns, labels and pattern counts, the teacher and the
    temperature."""
    C = group[0][1]["chains"]
    data = [_trial_data(t) for _, t in group]
    X, y, n_pat = _padded(data, C)
    teachers = np.repeat(np.stack([d["B"] for d in data]), C, axis=0)
    T = np.repeat([float(t["langevin_T"]) for _, t in group], C)
    return data, X, y, n_pat, teachers, T


def _run_spherical(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    t0 = group[0][1]
    N, C = t0["ambient_dim"], t0["chains"]
    half = C // 2
    data, X, y, n_pat, teachers, T = _chains(group)
    starts = []
    for (_, t), d in zip(group, data):
        other = d["other"]
        if t["langevin_T"] == 0:  # a version-space point other than the teacher
            other = gibbs_sampler.perceptron_algorithm(d["X"][None].repeat(half, 0), d["y"][None].repeat(half, 0),
                                                       other).numpy()
        starts.append(np.concatenate([np.repeat(d["B"][None], half, 0), other]))
    start = np.concatenate(starts)
    chain_seeds = [d["seed"] + j for d in data for j in range(C)]

    levels = list(t0["sparsities"])
    keeps = [int(round((1 - s) * N)) for s in levels]
    retrain = t0["retrain"] != "none"
    Bt = torch.as_tensor(teachers)
    Bn = Bt / Bt.norm(dim=-1, keepdim=True)
    valid = torch.arange(X.shape[1])[None, :] < torch.as_tensor(n_pat)[:, None]
    Z = torch.where(valid[..., None], torch.as_tensor(y[..., None] * X), torch.zeros(X.shape, dtype=torch.float64))

    def observe(w, E):
        # cosines to the teacher, clamped to [-1, 1] against rounding
        cols = [((w * Bn).sum(-1) / w.norm(dim=-1)).clamp(-1, 1), E.to(torch.float64)]
        for keep in keeps:
            wp = torch.where(top_magnitude(w, keep), w, torch.zeros_like(w))
            norm = wp.norm(dim=-1)
            cosine = torch.where(norm > 0, (wp * Bn).sum(-1) / norm.clamp(min=1e-300), torch.zeros_like(norm))
            cols.append(cosine.clamp(-1, 1))
            cols.append(gibbs_sampler.training_errors(Z, wp).to(torch.float64))
        out = torch.stack(cols, dim=-1)
        return torch.cat([out, w], dim=-1) if retrain else out

    run = gibbs_sampler.gibbs_sample(X, y, T, start, sweeps=t0["sweeps"], burn_in=t0["burn_in"], seeds=chain_seeds,
                                     direction=t0["direction"], observe=observe, n_patterns=n_pat,
                                     method=t0["sampler"])
    obs = run.samples.numpy()  # (n_saved, K, 2 + 2 * levels [+ N])
    final = run.weights.numpy()
    final_E = gibbs_sampler.training_errors(Z, run.weights).numpy()
    ncol = 2 + 2 * len(levels)

    retrained = {}
    if retrain:
        n_saved = obs.shape[0]
        pick = np.unique(np.linspace(0, n_saved - 1, t0["retrain_samples"]).round().astype(int))
        w = torch.as_tensor(obs[pick][..., ncol:])  # (n_pick, K, N)
        w = w.reshape(len(pick), len(group), C, N).permute(1, 0, 2, 3).reshape(len(group), len(pick) * C, N)
        retrained = _retrain(t0, data, w, keeps)

    outcomes = []
    for k, (name, t) in enumerate(group):
        sl = slice(k * C, (k + 1) * C)
        o = obs[:, sl, :ncol]
        P = data[k]["P"]
        err = pruning_theory.overlap_to_error(o[..., 0])  # (samples, chains)
        train = o[..., 1] / max(P, 1)
        diag = _diagnostics(err, half)
        equilibrated = diag.pop("_equilibrated")
        in_vs = bool(np.all(final_E[sl] == 0)) if t["langevin_T"] == 0 else True
        load = P / N
        R_th, err_th, train_th = _theory(load, float(t["langevin_T"]))
        results = {**diag, "in_version_space": in_vs, "theory_overlap": R_th,
                   "non_equilibrium": bool(not equilibrated or not in_vs)}
        Xte = data[k]["Xte"]
        yte = np.where(Xte @ data[k]["B"] >= 0, 1.0, -1.0)  # the teacher's labels, sign(B.x)
        base = _base_row(t, P)
        rows = [{**base, "sparsity": 0.0, "density": 1.0, "test_error": float(err.mean()),
                 "train_error": float(train.mean()), "theory_test_error": err_th, "theory_train_error": train_th,
                 "test_error_empirical": _empirical(final[sl], Xte, yte)}]
        for i, (s, keep) in enumerate(zip(levels, keeps)):
            Rp = o[..., 2 + 2 * i]
            wp = final[sl] * top_magnitude(final[sl], keep).numpy()
            c = keep / N
            th = _pruned_theory(load, float(t["langevin_T"]), c, "one_shot", 0.0, 0.0)
            row = {**base, "sparsity": float(s), "density": c, "n_params": keep,
                   "test_error": float(pruning_theory.overlap_to_error(Rp).mean()),
                   "train_error": float((o[..., 3 + 2 * i] / max(P, 1)).mean()), "theory_test_error": th,
                   "theory_train_error": float("nan"), "test_error_empirical": _empirical(wp, Xte, yte)}
            for rule in ("ridge", "gibbs"):
                if (rule, i) in retrained:
                    test_r, train_r = retrained[(rule, i)]
                    row[f"test_error_{rule}"] = float(test_r[k].mean())
                    row[f"train_error_{rule}"] = float(train_r[k].mean())
                    row[f"theory_test_error_{rule}"] = _pruned_theory(
                        load, float(t["langevin_T"]), c, rule, float(t["retrain_reg"]), float(t["retrain_T"]))
            rows.append(row)
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes


# ----------------------------------------------------------------------------- Ising weights
def _ising_theory(alpha: float, T: float) -> dict:
    """Errors of the stable and the poor branch, the stable training error, the transition and spinodal."""
    out = {}
    for key, fn in (("theory_test_error", lambda: ising_theory.gibbs_error(alpha, T)),
                    ("theory_test_error_poor", lambda: ising_theory.gibbs_error(alpha, T, branch="poor")),
                    ("theory_train_error", lambda: ising_theory.training_error(alpha, T)),
                    ("theory_transition_load", lambda: ising_theory.transition_load(T)),
                    ("theory_spinodal_load", lambda: ising_theory.spinodal_load(T))):
        try:
            out[key] = float(fn())
        except (SaddlePointError, ValueError, ArithmeticError):
            out[key] = float("nan")
    return out


def _run_ising(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    t0 = group[0][1]
    N, C = t0["ambient_dim"], t0["chains"]
    half = C // 2
    data, X, y, n_pat, teachers, T = _chains(group)
    start = np.concatenate([np.concatenate([np.repeat(d["B"][None], half, 0), d["other"]]) for d in data])
    chain_seeds = [d["seed"] + j for d in data for j in range(C)]
    run = ising_metropolis(X, y, T, start, teacher=teachers, sweeps=t0["sweeps"], burn_in=t0["burn_in"],
                           seeds=chain_seeds, n_patterns=n_pat, keep_samples=False)
    burn = t0["burn_in"]
    R = run.overlap_trace[burn:].numpy()  # (sweeps, K)
    E = run.energy_trace[burn:].numpy().astype(float)
    final = run.states.numpy().astype(float)
    perfect = R >= 1 - 4.0 / N
    outcomes = []
    for k, (name, t) in enumerate(group):
        sl = slice(k * C, (k + 1) * C)
        P = data[k]["P"]
        err = np.arccos(np.clip(R[:, sl], -1, 1)) / np.pi
        diag = _diagnostics(err, half)
        equilibrated = diag.pop("_equilibrated")
        in_vs = bool(np.all(E[-1, sl] == 0)) if t["langevin_T"] == 0 else True
        load = P / N
        th = _ising_theory(load, float(t["langevin_T"]))
        results = {**diag, "in_version_space": in_vs, "non_equilibrium": bool(not equilibrated or not in_vs),
                   "acceptance": float(run.acceptance[sl].mean()),
                   "perfect_fraction_teacher_start": float(perfect[:, sl][:, :half].mean()),
                   "perfect_fraction_other_start": float(perfect[:, sl][:, half:].mean()),
                   "theory_transition_load": th.pop("theory_transition_load"),
                   "theory_spinodal_load": th.pop("theory_spinodal_load")}
        Xte = data[k]["Xte"]
        yte = np.where(Xte @ data[k]["B"] >= 0, 1.0, -1.0)
        rows = [{**_base_row(t, P), "sparsity": 0.0, "density": 1.0, "test_error": float(err.mean()),
                 "train_error": float(E[:, sl].mean() / max(P, 1)), **th,
                 "test_error_empirical": _empirical(final[sl], Xte, yte)}]
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes
