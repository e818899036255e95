"""Analytical predictions of the statistical mechanics of learning (numpy, scipy, sympy only)."""
