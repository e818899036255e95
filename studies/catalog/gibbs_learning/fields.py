"""Trial and analysis fields of the ``gibbs_learning`` study, and the checks of a trial."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import gibbs_sampler

from ...sweep.spec import SpecError, field


@dataclass
class GibbsLearningTrial:
    ambient_dim: int = field(40, "input dimension N of the perceptron (its n_params; intrinsic_dim = N)")
    alpha: float = field(1.0, "load alpha = P/N; the trial uses P = round(alpha N) training examples")
    langevin_T: float = field(0.0, "temperature T >= 0 of the Gibbs measure exp(-E/T), E = number of training "
                              "errors (summed over examples); 0: uniform sampling of the version space")
    sweeps: int = field(100, "sweeps kept after the burn-in (a sweep: N exact line moves per chain); one sample "
                        "per sweep")
    burn_in: int = field(50, "sweeps discarded at the start of every chain")
    chains: int = field(2, "chains per trial (even): half start at the teacher, half elsewhere")
    direction: str = field("coordinate", "line moves along coordinates (Gibbs sampler) or random directions "
                           "(hit-and-run)", choices=gibbs_sampler.DIRECTIONS)
    n_test: int = field(2000, "fresh test inputs for the empirical error of the final states (0: skip)")
    sparsities: list[float] = field([], "one-shot magnitude-pruning levels applied to every sample, in (0, 1)")


@dataclass
class GibbsLearningAnalysis:
    z: float = field(3.0, "agreement with theory: |mean - theory| <= z standard errors over seeds", low=0,
                     low_open=True)
    equilibrium_z: float = field(3.0, "a point is non_equilibrium when the teacher-started and other chains, or the "
                                 "first and second half of the samples, differ by more than this many SE over seeds",
                                 low=0, low_open=True)
    finite_size_c: float = field(0.25, "scale c of the O(1/N) finite-size correction of the Gibbs error, c/N", low=0)
    finite_size_ratio: float = field(1.5, "a point is finite_size when c/N exceeds this many of its standard errors",
                                     low=0, low_open=True)
    min_n_train: int = field(10, "a point with fewer training examples P is finite_size", low=1)


def check_trial(t: dict) -> None:
    """Cross-field checks, run on every trial before anything runs."""
    if t["ambient_dim"] < 1:
        raise SpecError(f"ambient_dim (N) must be >= 1, got {t['ambient_dim']}")
    if not (t["alpha"] > 0 and np.isfinite(t["alpha"])):
        raise SpecError(f"alpha must be a finite number > 0, got {t['alpha']}")
    if round(t["alpha"] * t["ambient_dim"]) < 1:
        raise SpecError(f"alpha * ambient_dim must round to >= 1 training example, got alpha={t['alpha']}, "
                        f"ambient_dim={t['ambient_dim']}")
    if not (t["langevin_T"] >= 0 and np.isfinite(t["langevin_T"])):
        raise SpecError(f"langevin_T must be a finite number >= 0, got {t['langevin_T']}")
    if t["sweeps"] < 2:
        raise SpecError(f"sweeps must be >= 2, got {t['sweeps']}")
    if t["burn_in"] < 0:
        raise SpecError(f"burn_in must be >= 0, got {t['burn_in']}")
    if t["chains"] < 2 or t["chains"] % 2:
        raise SpecError(f"chains must be even and >= 2 (half start at the teacher), got {t['chains']}")
    if t["n_test"] < 0:
        raise SpecError(f"n_test must be >= 0, got {t['n_test']}")
    s = t["sparsities"]
    if any(not (0 < x < 1) for x in s) or any(b <= a for a, b in zip(s, s[1:])):
        raise SpecError(f"sparsities must be an increasing list in (0, 1), got {s}")
