"""Speed of the Gibbs perceptron saddle point: 200 loads x 10 temperatures in one vectorised call.

Target: under 1 s on 2 cores. Reports the T = 0 curve (200 loads) in the same run for comparison,
and the ratio of the two. Run: .venv/bin/python benchmarks/theory_speed.py
"""
from __future__ import annotations

import time

import numpy as np

from theory import perceptron


def _best_of(fn, repeats=3):
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    alpha = np.geomspace(0.1, 100.0, 200)
    temps = np.geomspace(0.05, 20.0, 10)
    grid = _best_of(lambda: perceptron.gibbs_error(alpha[None, :], temps[:, None]))
    zero = _best_of(lambda: perceptron.gibbs_error(alpha))
    print(f"gibbs_error, 200 alpha x 10 T: {grid:.3f} s (target < 1 s)")
    print(f"gibbs_error, 200 alpha at T = 0: {zero:.3f} s")
    print(f"ratio grid / T=0: {grid / zero:.1f}")


if __name__ == "__main__":
    main()
