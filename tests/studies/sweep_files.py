"""Helpers shared by the sweep tests: a spec written as TOML, and the trials a running sweep has stored."""
import json
import sqlite3

from studies.results.store import DB_NAME


def write_toml(spec, path):
    """Write a spec dict (study, seeds, base, grid, analysis; no nulls) as a TOML file."""
    lines = [f"study = {json.dumps(spec['study'])}", f"seeds = {json.dumps(spec['seeds'])}"]
    for name in ("base", "grid", "analysis"):
        lines += [f"[{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in spec.get(name, {}).items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def stored_trials(out) -> int:
    """Trials stored so far, read while the sweep writes (read-only connection, WAL)."""
    db = out / DB_NAME
    if not db.exists():
        return 0
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        con.close()
