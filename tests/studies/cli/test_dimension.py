"""The ``dimension`` subcommand, through its own argparse parser (as studies/cli.py registers it)."""
import argparse
import csv
import io

import numpy as np
import pytest

from studies.cli import dimension as dimension_cli


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="prunelab")
    sub = parser.add_subparsers(dest="command", required=True)
    dimension_cli.add_parser(sub)
    rc = dimension_cli.run(parser.parse_args(["dimension", *argv]))
    out, err = capsys.readouterr()
    return rc, out, err


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_kind_prints_a_csv_of_estimates(capsys):
    rc, out, err = _run(["linear", "--intrinsic-dim", "3", "--ambient-dim", "20", "--n", "800",
                         "--method", "twonn,mle", "--seed", "2"], capsys)
    assert rc == 0, err
    rows = _rows(out)
    assert [r["method"] for r in rows] == ["twonn", "mle"]
    assert all(r["kind"] == "linear" and r["intrinsic_dim"] == "3" and r["seed"] == "2" for r in rows)
    assert all(abs(float(r["estimated_dim"]) - 3) < 0.5 for r in rows)


def test_kind_options_and_noise_reach_the_generator(capsys):
    rc, out, err = _run(["hidden", "--intrinsic-dim", "2", "--ambient-dim", "30", "--n", "500",
                         "--option", "activation=relu", "--noise", "0.01"], capsys)
    assert rc == 0, err
    assert _rows(out)[0]["noise"] == "0.01"
    rc, _, err = _run(["hidden", "--intrinsic-dim", "2", "--ambient-dim", "30", "--option", "activation=soft"], capsys)
    assert rc == 2 and "activation must be one of" in err


def test_file_mode_estimates_user_data(tmp_path, capsys):
    X = np.random.default_rng(0).standard_normal((600, 2)) @ np.random.default_rng(1).standard_normal((2, 10))
    path = tmp_path / "points.npy"
    np.save(path, X)
    rc, out, err = _run(["--file", str(path), "--method", "twonn,gride"], capsys)
    assert rc == 0, err
    rows = _rows(out)
    assert [r["method"] for r in rows] == ["twonn", "gride"]
    assert rows[0]["n_points"] == "600" and rows[0]["n_features"] == "10"
    assert all(abs(float(r["estimated_dim"]) - 2) < 0.3 for r in rows)


@pytest.mark.parametrize(
    "content, match",
    [
        (np.zeros(50), "2-D array"),
        (np.array([["a", "b"]] * 10), "real numbers"),
        (np.array([[1.0, np.nan]] * 10), "finite numbers"),
        (np.array([{"a": 1}], dtype=object), "holds an array of Python objects, which is never unpickled"),
        (b"not a numpy file", "is not a .npy file"),
    ],
)
def test_file_mode_rejects_bad_files(tmp_path, capsys, content, match):
    path = tmp_path / "bad.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content, allow_pickle=True)
    rc, out, err = _run(["--file", str(path)], capsys)
    assert rc == 2 and out == ""
    assert match in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, match",
    [
        (["sphere", "--intrinsic-dim", "5", "--ambient-dim", "3"], "intrinsic_dim must be <= ambient_dim"),
        (["sphere", "--intrinsic-dim", "0", "--ambient-dim", "3"], "--intrinsic-dim must be >= 1, got 0"),
        (["sphere", "--ambient-dim", "3"], "--intrinsic-dim is required"),
        (["klein", "--intrinsic-dim", "2", "--ambient-dim", "3"], "KIND must be one of"),
        (["linear", "--intrinsic-dim", "2", "--ambient-dim", "3", "--method", "pca"], "--method must name methods"),
        (["linear", "--intrinsic-dim", "2", "--ambient-dim", "3", "--option", "radius"], "KEY=VALUE"),
        (["linear", "--intrinsic-dim", "2", "--ambient-dim", "3", "--option", "radius=2"], "unknown option"),
        (["--file", "missing.npy"], "not found"),
        (["linear", "--file", "x.npy"], "not both"),
        ([], "give a generator kind"),
        (["calibrate", "--kinds", "linear,blob"], "--kinds must name kinds"),
        (["calibrate", "--dims", "2,x"], "--dims must be comma-separated integers"),
    ],
)
def test_bad_input_is_one_line_on_stderr(capsys, argv, match):
    rc, out, err = _run(argv, capsys)
    assert rc == 2
    assert match in err and err.count("\n") == 1


def test_calibrate_writes_csv_and_figures(tmp_path, capsys):
    out_dir = tmp_path / "cal"
    rc, out, err = _run(["calibrate", "--out", str(out_dir), "--kinds", "linear,sphere", "--dims", "2,3",
                         "--ambient-dim", "16", "--n", "400", "--method", "twonn,mle"], capsys)
    assert rc == 0, err
    rows = _rows((out_dir / "calibration.csv").read_text())
    assert len(rows) == 8 and rows == _rows(out)
    assert {r["kind"] for r in rows} == {"linear", "sphere"}
    assert all(abs(float(r["estimated_dim"]) - int(r["nominal_dim"])) < 0.7 for r in rows)
    for ext in ("pdf", "png"):
        assert (out_dir / f"calibration.{ext}").stat().st_size > 1000
