"""The ``theory`` subcommand: curves as csv/json, plots, and clean failures on bad input."""
import argparse
import csv
import io
import json

import numpy as np
import pytest

from studies.cli import theory_curves as theory_cli
from theory import perceptron, ridge


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="prunelab")
    sub = parser.add_subparsers(dest="command")
    theory_cli.add_parser(sub)
    status = theory_cli.run(parser.parse_args(["theory", *argv]))
    out, err = capsys.readouterr()
    return status, out, err


def test_gibbs_csv_matches_library(capsys):
    status, out, err = _run(["gibbs", "--alpha", "0.5:4:8", "--temperature", "0,1"], capsys)
    assert status == 0 and err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 16
    a = np.array([float(r["alpha"]) for r in rows[8:]])
    np.testing.assert_allclose([float(r["error"]) for r in rows[8:]], perceptron.gibbs_error(a, 1.0))


def test_ridge_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "ridge.png"
    status, out, _ = _run(["ridge", "--alpha", "0.5,2", "--noise-var", "0.25", "--reg", "0.1",
                           "--format", "json", "--plot", str(plot)], capsys)
    assert status == 0 and plot.stat().st_size > 0
    rows = json.loads(out)
    assert [r["alpha"] for r in rows] == [0.5, 2.0]
    assert rows[1]["excess_error"] == pytest.approx(ridge.excess_error(2.0, 0.25, 0.1))


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["gibbs", "--alpha=-1,2"], "alpha"),
        (["gibbs", "--alpha", "1:2"], "--alpha"),
        (["gibbs", "--alpha", "1", "--temperature=-1"], "temperature"),
        (["perceptron", "--alpha", "1"], "NAME"),
        (["ridge", "--alpha", "0.5", "--reg", "0", "--temperature", "1"], "reg = 0"),
    ],
)
def test_bad_input_exits_2_with_message(argv, fragment, capsys):
    status, out, err = _run(argv, capsys)
    assert status == 2 and out == ""
    assert fragment in err and "Traceback" not in err
