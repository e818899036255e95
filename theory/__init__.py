"""Analytical predictions of the statistical mechanics of learning (numpy, scipy, sympy only)."""

from ._checks import SaddlePointError  # noqa: E402,F401  (raised by every saddle-point solver)
