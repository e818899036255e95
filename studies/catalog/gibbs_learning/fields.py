"""Trial and analysis fields of the ``gibbs_learning`` study, and the checks of a trial."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import gibbs_sampler

from ...sweep.spec import SpecError, field


SAMPLERS = ("line", "hmc")
WEIGHTS = ("spherical", "ising")
RETRAIN = ("none", "ridge", "gibbs", "ridge+gibbs")


@dataclass
class GibbsLearningTrial:
    ambient_dim: int = field(40, "input dimension N of the perceptron (its n_params; intrinsic_dim = N)")
    alpha: float = field(1.0, "load alpha = P/N; the trial uses P = round(alpha N) training examples")
    langevin_T: float = field(0.0, "temperature T >= 0 of the Gibbs measure exp(-E/T), E = number of training "
                              "errors (summed over examples); 0: uniform sampling of the version space")
    weights: str = field("spherical", "the student's and the teacher's weights: spherical (w on the sphere, Gaussian "
                         "teacher; theory.perceptron) or ising (w in {-1, +1}^N, binary teacher, single-flip "
                         "Metropolis; theory.ising, with its first-order transition)", choices=WEIGHTS)
    sampler: str = field("line", "spherical weights: line (exact line moves, models.gibbs_sampler) or hmc (exact "
                         "Hamiltonian Monte Carlo with reflection and refraction at the pattern hyperplanes, "
                         "models.hmc_sampler: 60-110x more effective samples per CPU-second at N = 64-100; the "
                         "presets use it). The default stays line: the trials stored before this field ran the "
                         "line sampler under the same names. Ignored for ising weights", choices=SAMPLERS)
    sweeps: int = field(100, "sweeps kept after the burn-in, one sample per sweep. A sweep is N line moves per "
                        "chain (line), one HMC trajectory of travel time about pi/2 after a fresh velocity (hmc; "
                        "about 3 of them decorrelate R), or N single-flip proposals (ising)")
    burn_in: int = field(50, "sweeps discarded at the start of every chain")
    chains: int = field(2, "chains per trial (even): half start at the teacher, half elsewhere (a random point; at "
                        "T = 0 on the sphere a version-space point found by the perceptron algorithm)")
    direction: str = field("coordinate", "line sampler: moves along coordinates (Gibbs sampler) or random "
                           "directions (hit-and-run); ignored by hmc and ising", choices=gibbs_sampler.DIRECTIONS)
    n_test: int = field(2000, "fresh test inputs for the empirical error of the final states (0: skip)")
    sparsities: list[float] = field([], "one-shot magnitude-pruning levels applied to every sample, in (0, 1) "
                                    "(spherical weights only)")
    retrain: str = field("none", "retraining of the pruned samples on their kept support with the same P examples: "
                         "ridge (least squares with retrain_reg, exact), gibbs (a Gibbs sample at retrain_T on the "
                         "support, by HMC), both, or none; theory: theory.pruned_gibbs", choices=RETRAIN)
    retrain_samples: int = field(4, "samples per chain (evenly spaced over the kept sweeps) that are pruned and "
                                 "retrained", low=1)
    retrain_reg: float = field(0.0, "ridge retraining: penalty reg of 1/2 sum (sigma - W.x/sqrt(N))^2 + reg/2 |W|^2 "
                               "(0: least squares, the minimum-norm solution where P < kept weights)", low=0)
    retrain_T: float = field(0.5, "Gibbs retraining: its temperature T_r > 0", low=0, low_open=True)
    retrain_sweeps: int = field(20, "Gibbs retraining: HMC iterations from the pruned sample; R is averaged over "
                                "the second half", low=2)


@dataclass
class GibbsLearningAnalysis:
    z: float = field(3.0, "agreement with theory: |mean - theory| <= z standard errors over seeds + c/N (c = "
                          "finite_size_c)", low=0, low_open=True)
    equilibrium_z: float = field(3.0, "a point is non_equilibrium when the teacher-started and other chains, or the "
                                 "first and second half of the samples, differ by more than this many SE over seeds",
                                 low=0, low_open=True)
    finite_size_c: float = field(0.25, "scale c of the O(1/N) finite-size correction of the Gibbs error, c/N", low=0)
    finite_size_ratio: float = field(1.5, "a point is finite_size when c/N exceeds this many of its standard errors",
                                     low=0, low_open=True)
    min_n_train: int = field(10, "a point with fewer training examples P is finite_size", low=1)
    diagram_alpha: float = field(2.0, "temperature-density diagram (theory.pruned_gibbs): the load of its (T, density) "
                                 "plane", low=0, low_open=True)
    diagram_T: float = field(0.5, "temperature-density diagram: the dense temperature of its (alpha, density) plane",
                             low=0)
    diagram_points: int = field(8, "temperature-density diagram: grid points per axis (one-shot and ridge panels)",
                                low=2, high=40)
    diagram_gibbs_points: int = field(0, "temperature-density diagram: grid points per axis of the Gibbs-retraining "
                                      "panels (about 3 s per cell; 0: no Gibbs panels)", low=0, high=12)


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
    if t["weights"] == "ising" and s:
        raise SpecError(f"sparsities must be empty for weights = 'ising' (every |J_i| = 1: magnitude pruning has "
                        f"nothing to rank), got {s}")
    if t["retrain"] != "none" and not s:
        raise SpecError(f"retrain = {t['retrain']!r} retrains pruned samples: give sparsities, got none")
    if t["retrain"] != "none" and t["retrain_samples"] > t["sweeps"]:
        raise SpecError(f"retrain_samples must be <= sweeps (one kept sample per sweep), got retrain_samples="
                        f"{t['retrain_samples']} > sweeps={t['sweeps']}")
