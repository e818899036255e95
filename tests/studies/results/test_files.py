"""Atomic writes: the target appears whole or not at all, and a failed write leaves no temporary file."""
import pytest

from studies.results.files import atomic_write, atomic_write_text


def test_a_write_replaces_the_target_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "figure.png"
    target.write_text("old")

    def fails(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["figure.png"]


def test_the_temporary_keeps_the_suffix_writers_read_the_format_from(tmp_path):
    seen = []
    atomic_write(tmp_path / "x.parquet", lambda tmp: (seen.append(tmp.suffix), tmp.write_text("")))
    assert seen == [".parquet"]
