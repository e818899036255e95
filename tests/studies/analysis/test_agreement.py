"""The report's theory-vs-simulation table: deviations in standard errors, the domain respected."""
import numpy as np
import pandas as pd

from studies.analysis.agreement import agreement_from_points, agreement_row


def test_generic_rows_are_averaged_over_seeds_and_out_of_domain_rows_left_out():
    rows = []
    for seed, err in enumerate([0.10, 0.12, 0.14]):  # mean 0.12, SE 0.01155
        rows.append({"seed": seed, "x": 1, "sparsity": 0.0, "test_error": err, "theory_test_error": 0.10, "in_domain": True})
        rows.append({"seed": seed, "x": 1, "sparsity": 0.5, "test_error": err, "theory_test_error": 0.5, "in_domain": False})
    r = agreement_row("s", pd.DataFrame(rows), ["x"])
    assert r["points"] == 1 and r["outside_domain"] == "3 rows"
    assert np.isclose(r["max_dev_se"], 0.02 / (0.02 / np.sqrt(3)))


def test_a_study_s_own_points_count_only_inside_the_domain():
    pts = pd.DataFrame({"deviation_se": [-1.0, 2.5, -8.0], "in_domain": [True, True, False]})
    r = agreement_from_points("g", pts)
    assert r["points"] == 2 and r["within_3se"] == 2 and r["max_dev_se"] == 2.5 and r["outside_domain"] == "1 points"
