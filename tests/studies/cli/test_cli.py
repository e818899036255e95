"""The command line: bad input ends in one clear line and exit status 2; run, report, export work."""
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from studies.cli.main import main


def write_spec(path, spec):
    lines = [f'study = "{spec["study"]}"', f"seeds = {spec['seeds']}", "[base]"]
    for k, v in spec["base"].items():
        lines.append(f"{k} = {json.dumps(v) if v is not None else 'nan'}")
    lines.append("[grid]")
    for k, v in spec["grid"].items():
        lines.append(f"{k} = {json.dumps(v)}")
    lines.append("[analysis]")
    for k, v in spec["analysis"].items():
        lines.append(f"{k} = {json.dumps(v)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def clean_base(spec):
    spec["base"]["dimension_method"] = "twonn"  # TOML has no null ('none' would skip the estimate)
    return spec


@pytest.mark.parametrize("argv, message", [
    (["run", "nope"], "unknown study 'nope'"),
    (["run", "intrinsic_dimension", "--preset", "huge"], "unknown preset 'huge'"),
    (["run", "missing.toml"], "does not exist"),
    (["report", "/nonexistent/dir"], "is not a directory"),
    (["export", "/nonexistent/dir"], "is not a directory"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_spec_with_d_above_D_is_refused_before_anything_is_written(tmp_path, make_spec, capsys):
    spec = clean_base(make_spec())
    spec["grid"]["intrinsic_dim"] = [2, 64]
    path = write_spec(tmp_path / "bad.toml", spec)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "intrinsic_dim must be <= ambient_dim" in capsys.readouterr().err
    assert not out.exists()


def test_run_report_export_round_trip(tmp_path, make_spec, capsys):
    spec = clean_base(make_spec())
    spec["seeds"] = [0]
    path = write_spec(tmp_path / "s.toml", spec)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "figure:" in printed and "summary.md" in printed
    for name in ("prunability_vs_dimension", "error_vs_density"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert (out / "figures" / f"{name}.pdf").stat().st_size > 1000
    assert "Prunability" in (out / "summary.md").read_text()
    assert main(["export", str(tmp_path), "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(df) == 2 * 4 and {"estimated_dim", "theory_test_error"} <= set(df.columns)
    assert main(["export", str(tmp_path), "--format", "parquet", "--output", str(tmp_path / "t.parquet")]) == 0
    pq = pd.read_parquet(tmp_path / "t.parquet")
    assert list(pq.columns) == list(df.columns) and len(pq) == len(df)
    pd.testing.assert_series_equal(pq["test_error"], df["test_error"])
    # running the same spec into the same directory again is refused, and nothing changes
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_the_console_script_lists_the_studies():
    r = subprocess.run([sys.executable, "-m", "studies.cli", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and "intrinsic_dimension" in r.stdout
