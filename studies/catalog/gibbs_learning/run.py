"""How a group of ``gibbs_learning`` trials runs: every chain of every trial in one batch of the sampler.

Each trial draws a perceptron teacher B (``manifolds.PerceptronTeacher``, |B|^2 = N), P = round(alpha N) training inputs x ~ N(0, I_N) with labels
sign(B.x) (``manifold = "gaussian"``: isotropic inputs, intrinsic_dim = ambient_dim = N), and runs
``chains`` Markov chains of the exact sampler :func:`models.gibbs_sampler.gibbs_sample` of
exp(-E(w)/T), E = number of training errors (summed over examples; T = ``langevin_T``, the
temperature of the Gibbs measure that Langevin dynamics samples). Half the chains start at the teacher,
half elsewhere: at a random Gaussian vector when T > 0, at the batch-perceptron solution from a random
vector when T = 0 (a version-space point other than the teacher). After ``burn_in`` sweeps one
sample is kept per sweep. Every sample's generalization error is exact, arccos(R)/pi with R the
cosine between the sample and the teacher (EvdB eq. 1.3); ``test_error`` is its mean over chains and
samples, the Gibbs error of the trial. ``test_error_empirical`` is the error of the chains' final
states on ``n_test`` fresh inputs. Optionally every sample is also pruned one-shot by magnitude
(keep the round((1 - s) N) largest |w_i|); the theory of those rows is
:func:`theory.pruning.magnitude_overlap` applied to the Gibbs overlap.

Equilibrium diagnostics per trial (in the trial's results): the mean error of the teacher-started and
of the other chains, and of the first and second half of the samples, with standard errors from 10
batch means; ``non_equilibrium`` is set when either pair differs by more than 3 of its standard
errors, or when a zero-temperature chain ends outside the version space. The report aggregates them
over seeds, flags finite-size points, and compares with the theory (studies/catalog/gibbs_learning/analysis.py).

Trials of one N, load, run length and kind of temperature (zero or positive) form one group: all their chains (any temperatures) are one
batch of the sampler. The teacher, the data and the starts of a trial depend on its seed only, so
trials of one seed share their teacher and data across temperatures (common random numbers).
"""
from __future__ import annotations

import numpy as np
import torch

import manifolds
from models import gibbs_sampler
from models.pruning import top_magnitude
from theory import perceptron as perceptron_theory
from theory import pruning as pruning_theory
from theory._checks import SaddlePointError

from ...sweep.study import TrialOutcome, derive_seeds

N_BATCHES = 10  # batch means for a trial's standard errors
TRIAL_Z = 3.0  # a trial is non_equilibrium when a diagnostic pair differs by more than this many SE


GROUP_FIELDS = ("ambient_dim", "alpha", "sweeps", "burn_in", "chains", "direction", "n_test")


def group_key(t: dict) -> tuple:
    # zero and positive temperatures apart: a zero-temperature batch takes the sampler's fast chord moves
    return (tuple((k, t[k]) for k in GROUP_FIELDS) + (("sparsities", tuple(t["sparsities"])),)
            + (("zero_T", t["langevin_T"] == 0),))


def n_train(t: dict) -> int:
    return int(round(t["alpha"] * t["ambient_dim"]))


def _trial_data(t: dict):
    """Teacher, training set, test set and the non-teacher start of one trial (numpy, from its seed)."""
    N, P = t["ambient_dim"], n_train(t)
    s = derive_seeds(t["seed"], "teacher", "train", "test", "start", "chains")
    teacher = manifolds.PerceptronTeacher(N, seed=s["teacher"])
    X = np.random.default_rng(s["train"]).standard_normal((P, N))
    Xte = np.random.default_rng(s["test"]).standard_normal((t["n_test"], N))
    B, y = teacher.weights, teacher(X)
    other = np.random.default_rng(s["start"]).standard_normal((t["chains"] // 2, N))
    return B, X, y, Xte, other, s["chains"]


def _theory(alpha: float, T: float) -> tuple[float, float, float]:
    """(R, generalization error, training error) of the replica-symmetric theory; NaN if unsolved."""
    try:
        R, _ = perceptron_theory.gibbs_order_parameters(alpha, T)
        train = 0.0 if T == 0 else float(perceptron_theory.gibbs_training_error(alpha, T))
        return float(R), float(pruning_theory.overlap_to_error(R)), train
    except SaddlePointError:
        return float("nan"), float("nan"), float("nan")


def _batch_se(x: np.ndarray) -> float:
    """Standard error of the mean of a (samples,) series from N_BATCHES batch means."""
    nb = min(N_BATCHES, len(x))
    means = np.array([b.mean() for b in np.array_split(x, nb)])
    return float(means.std(ddof=1) / np.sqrt(nb)) if nb > 1 else float("nan")


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of the means of two (samples,) series and its batch-means standard error."""
    return float(a.mean() - b.mean()), float(np.hypot(_batch_se(a), _batch_se(b)))


def run_group(group: list[tuple[str, dict]]) -> list[TrialOutcome]:
    """Sample every trial's chains as one batch, then summarise each trial."""
    t0 = group[0][1]
    N, P, C = t0["ambient_dim"], n_train(t0), t0["chains"]
    data = [_trial_data(t) for _, t in group]
    half = C // 2
    X = np.repeat(np.stack([d[1] for d in data]), C, axis=0)
    y = np.repeat(np.stack([d[2] for d in data]), C, axis=0)
    teachers = np.repeat(np.stack([d[0] for d in data]), C, axis=0)
    T = np.repeat([float(t["langevin_T"]) for _, t in group], C)
    starts = []
    for (_, t), d in zip(group, data):
        other = d[4]
        if t["langevin_T"] == 0:  # a version-space point other than the teacher
            other = gibbs_sampler.perceptron_algorithm(d[1][None].repeat(half, 0), d[2][None].repeat(half, 0),
                                                       other).numpy()
        starts.append(np.concatenate([np.repeat(d[0][None], half, 0), other]))
    start = np.concatenate(starts)
    chain_seeds = [d[5] + j for d in data for j in range(C)]

    levels = list(t0["sparsities"])
    keeps = [int(round((1 - s) * N)) for s in levels]
    Bt = torch.as_tensor(teachers)
    Bn = Bt / Bt.norm(dim=-1, keepdim=True)
    Z = torch.as_tensor(y[..., None] * X)

    def observe(w, E):
        # cosines to the teacher, clamped to [-1, 1] against rounding
        cols = [((w * Bn).sum(-1) / w.norm(dim=-1)).clamp(-1, 1), E.to(torch.float64)]
        for keep in keeps:
            wp = torch.where(top_magnitude(w, keep), w, torch.zeros_like(w))
            norm = wp.norm(dim=-1)
            cosine = torch.where(norm > 0, (wp * Bn).sum(-1) / norm.clamp(min=1e-300), torch.zeros_like(norm))
            cols.append(cosine.clamp(-1, 1))
            cols.append(gibbs_sampler.training_errors(Z, wp).to(torch.float64))
        return torch.stack(cols, dim=-1)

    run = gibbs_sampler.gibbs_sample(X, y, T, start, sweeps=t0["sweeps"], burn_in=t0["burn_in"], seeds=chain_seeds,
                                     direction=t0["direction"], observe=observe)
    obs = run.samples.numpy()  # (n_saved, K, 2 + 2 * levels)
    final = run.weights.numpy()
    final_E = gibbs_sampler.training_errors(Z, run.weights).numpy()

    outcomes = []
    for k, (name, t) in enumerate(group):
        sl = slice(k * C, (k + 1) * C)
        o = obs[:, sl]
        err = pruning_theory.overlap_to_error(o[..., 0])  # (samples, chains)
        train = o[..., 1] / P
        pooled = err.mean(1)
        d_start, se_start = _pair(err[:, :half].mean(1), err[:, half:].mean(1))
        n = len(pooled) // 2
        d_drift, se_drift = _pair(pooled[n:], pooled[:n])
        in_vs = bool(np.all(final_E[sl] == 0)) if t["langevin_T"] == 0 else True
        z_start = abs(d_start) / se_start if se_start > 0 else (0.0 if d_start == 0 else np.inf)
        z_drift = abs(d_drift) / se_drift if se_drift > 0 else (0.0 if d_drift == 0 else np.inf)
        load = P / N
        R_th, err_th, train_th = _theory(load, float(t["langevin_T"]))
        results = {
            "test_error_teacher_start": float(err[:, :half].mean()), "test_error_other_start": float(err[:, half:].mean()),
            "start_difference": d_start, "start_difference_se": se_start,
            "test_error_first_half": float(pooled[:n].mean()), "test_error_second_half": float(pooled[n:].mean()),
            "drift": d_drift, "drift_se": se_drift, "test_error_se": _batch_se(pooled),
            "in_version_space": in_vs, "theory_overlap": R_th,
            "non_equilibrium": bool(z_start > TRIAL_Z or z_drift > TRIAL_Z or not in_vs),
        }
        Xte = data[k][3]
        yte = np.where(Xte @ data[k][0] >= 0, 1.0, -1.0)  # the teacher's labels, sign(B.x)
        base = {"load": load, "temperature_knob": "langevin_T", "temperature": float(t["langevin_T"]),
                "n_train": P, "n_params": N, "intrinsic_dim": N, "manifold": "gaussian"}
        rows = [{**base, "sparsity": 0.0, "density": 1.0, "test_error": float(err.mean()),
                 "train_error": float(train.mean()), "theory_test_error": err_th, "theory_train_error": train_th,
                 "test_error_empirical": _empirical(final[sl], Xte, yte)}]
        for i, (s, keep) in enumerate(zip(levels, keeps)):
            Rp = o[..., 2 + 2 * i]
            wp = final[sl] * top_magnitude(final[sl], keep).numpy()
            th = (float(pruning_theory.overlap_to_error(pruning_theory.magnitude_overlap(R_th, keep / N)))
                  if np.isfinite(R_th) else float("nan"))
            rows.append({**base, "sparsity": float(s), "density": keep / N, "n_params": keep,
                         "test_error": float(pruning_theory.overlap_to_error(Rp).mean()),
                         "train_error": float((o[..., 3 + 2 * i] / P).mean()), "theory_test_error": th,
                         "theory_train_error": float("nan"), "test_error_empirical": _empirical(wp, Xte, yte)})
        outcomes.append(TrialOutcome(name, t, "done", None, results, rows))
    return outcomes


def _empirical(w: np.ndarray, Xte: np.ndarray, yte: np.ndarray) -> float:
    """Mean error of the chains' weights (C, N) on the test set (NaN without one)."""
    if len(yte) == 0:
        return float("nan")
    return float(np.mean(np.where(w @ Xte.T >= 0, 1.0, -1.0) != yte[None]))

