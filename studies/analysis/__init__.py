"""Statistics read off the tidy table, shared by the studies.

- ``statistics``: mean curves over seeds, bootstrap intervals, seed-by-sparsity matrices;
- ``prunability``: prunability of a condition's error-versus-sparsity curves with intervals;
- ``regimes``: the three regimes and the sign of the temperature effect on a phase diagram;
- ``agreement``: theory against simulation in units of the simulation's standard error.
"""
