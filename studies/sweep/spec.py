"""Study specs: a base trial, ``grid`` and ``zip`` axes over any trial field, and a list of seeds.

A spec is a TOML file (or the same structure as a dict)::

    study = "intrinsic_dimension"
    seeds = [0, 1, 2]
    [base]                  # fields shared by every trial (defaults come from the study)
    ambient_dim = 256
    [grid]                  # the Cartesian product of these lists
    intrinsic_dim = [2, 4, 8]
    [zip]                   # lists of one length, varied together (optional)
    [analysis]              # study-level parameters that do not change any trial (tolerance, ...)
    tolerance = 0.005

Each study declares its trial fields as a dataclass whose field metadata carries the help text and,
where the field takes names, the allowed ``choices``. Trials are named by a hash of their canonical
spec with only the non-default fields, so adding a field with a default keeps old names (the
OpenLTH convention). Everything is validated before anything runs; errors name the key, the value
and what is allowed, and suggest the nearest valid key for a typo.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import tomllib
import typing
from pathlib import Path


class SpecError(ValueError):
    """A spec that cannot run; the message names the key, the value and what is allowed."""


TOP_KEYS = ("study", "seeds", "base", "grid", "zip", "analysis", "description", "source")
TRIAL_KEYS = ("seeds", "base", "grid", "zip")  # what a study with trials of its own plans from


def field(default, help: str, choices: tuple | None = None, *, low: float | None = None,
          high: float | None = None, low_open: bool = False, high_open: bool = False):
    """A trial (or analysis) field with its help text, and where they apply its allowed values
    (``choices``) and its range: ``low <= value <= high``, with ``low_open`` / ``high_open`` for strict
    bounds. A list field's range applies to each of its items. Both are checked when the spec is read."""
    meta = {"help": help}
    if choices is not None:
        meta["choices"] = tuple(choices)
    if low is not None or high is not None:
        meta["range"] = (low, high, low_open, high_open)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: json.loads(json.dumps(d)), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def range_text(name: str, bounds) -> str:
    """``0 < confidence < 1``, ``n_bootstrap >= 10``: a field's range as a user reads it."""
    low, high, low_open, high_open = bounds
    if low is not None and high is not None:
        return f"{low:g} {'<' if low_open else '<='} {name} {'<' if high_open else '<='} {high:g}"
    if low is not None:
        return f"{name} {'>' if low_open else '>='} {low:g}"
    return f"{name} {'<' if high_open else '<='} {high:g}"


def _in_range(value, bounds) -> bool:
    low, high, low_open, high_open = bounds
    if low is not None and (value <= low if low_open else value < low):
        return False
    return not (high is not None and (value >= high if high_open else value > high))


def _non_finite(value):
    """The first NaN or infinite number inside a value (lists and tables included), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for v in items:
        bad = _non_finite(v)
        if bad is not None:
            return bad
    return None


def _suggest(key: str, allowed) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_ok(value, tp) -> bool:
    origin = typing.get_origin(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_type_ok(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(tp) or (typing.Any,)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if origin is dict or tp is dict:
        return isinstance(value, dict)
    if tp is typing.Any:
        return True
    return isinstance(value, tp)


def _type_name(tp) -> str:
    """``int``, ``list[float]``, ``int | None``: the type as a user writes it."""
    if typing.get_origin(tp) is not None:
        return str(tp).replace("typing.", "").replace("NoneType", "None")
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_field(fields_cls, key: str, value, where: str) -> None:
    """Check one trial field's value against its declared type and choices."""
    known = {f.name: f for f in dataclasses.fields(fields_cls)}
    if key not in known:
        raise SpecError(f"{where}: unknown key {key!r}{_suggest(key, known)}; allowed keys: {', '.join(sorted(known))}")
    hints = typing.get_type_hints(fields_cls)
    if not _type_ok(value, hints[key]):
        raise SpecError(f"{where}.{key}: expected {_type_name(hints[key])}, got {value!r}")
    bad = _non_finite(value)
    if bad is not None:
        raise SpecError(f"{where}.{key}: {bad!r} is not a finite number; give a finite value")
    choices = known[key].metadata.get("choices")
    if choices is not None and value not in choices:
        raise SpecError(f"{where}.{key}: {value!r} is not allowed; choose one of {', '.join(map(repr, choices))}")
    bounds = known[key].metadata.get("range")
    if bounds is not None and value is not None:
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, (int, float)) and not _in_range(v, bounds):
                raise SpecError(f"{where}.{key}: {v!r} is out of range; allowed: {range_text(key, bounds)}")


def _as_declared(value, tp):
    """An integer given for a float field, as a float: ``lr = 4`` and ``lr = 4.0`` are one trial
    (one name, one spec hash). Values are already type-checked."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = typing.get_args(tp)
        return _as_declared(value, float) if float in args and type(value) is int else value
    if tp is float and type(value) is int:
        return float(value)
    if origin is list and isinstance(value, list):
        (item,) = typing.get_args(tp) or (typing.Any,)
        return [_as_declared(v, item) for v in value]
    return value


def _normalize(fields_cls, table: dict, is_axis: bool) -> dict:
    hints = typing.get_type_hints(fields_cls)
    if is_axis:
        return {k: [_as_declared(v, hints[k]) for v in values] for k, values in table.items()}
    return {k: _as_declared(v, hints[k]) for k, v in table.items()}


def defaults(fields_cls) -> dict:
    return dataclasses.asdict(fields_cls())


def expand(spec: dict, fields_cls) -> list[dict]:
    """All trials of a validated spec, each a dict of every field (defaults filled in), in a
    deterministic order: seeds outermost, then the grid (in key order), then the zip rows."""
    base = {**defaults(fields_cls), **spec.get("base", {})}
    grid = spec.get("grid", {})
    zipped = spec.get("zip", {})
    grid_keys = list(grid)
    zip_rows = [dict(zip(zipped, values)) for values in zip(*zipped.values())] if zipped else [{}]
    trials = []
    for seed in spec["seeds"]:
        for combo in itertools.product(*(grid[k] for k in grid_keys)):
            for zrow in zip_rows:
                trial = {**base, **dict(zip(grid_keys, combo)), **zrow, "seed": seed}
                trials.append(trial)
    return trials


def trial_name(study: str, trial: dict, fields_cls) -> str:
    """The trial's name: a hash of the study and the trial's non-default fields."""
    default = defaults(fields_cls)
    nondefault = {k: v for k, v in sorted(trial.items()) if k not in default or default[k] != v}
    blob = json.dumps({"study": study, "fields": nondefault}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


IDENTITY_KEYS = ("study", "seeds", "base", "grid", "zip", "source")  # what decides which trials run


def spec_hash(spec: dict) -> str:
    """The identity of a spec's trials: a hash of everything but ``[analysis]`` and the description, so a
    spec whose only change is in [analysis] resumes on the same results directory and re-reports."""
    identity = {k: spec[k] for k in IDENTITY_KEYS if k in spec}
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def changed_fields(old: dict, new: dict) -> list[str]:
    """What differs between two specs' trial definitions, as ``base.lr``, ``grid.intrinsic_dim``, ``seeds``."""
    out = []
    for key in IDENTITY_KEYS:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            out += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            out.append(key)
    return out


def count_trials(spec: dict) -> int:
    """How many trials a validated spec expands to, without expanding it."""
    n = len(spec["seeds"]) * math.prod(len(v) for v in spec.get("grid", {}).values())
    zipped = spec.get("zip", {})
    return n * (len(next(iter(zipped.values()))) if zipped else 1)


def _validate_source(spec: dict, source_study: str):
    """A study that reads another study's stored trials: ``source`` names the directories, and the
    keys that would plan trials of its own are refused with what to do instead."""
    own = [k for k in TRIAL_KEYS if k in spec]
    if own:
        raise SpecError(
            f"{spec['study']} analyses the stored trials of a {source_study} run and plans none of its own, "
            f"so {', '.join(own)} cannot be set here: run those trials as a {source_study} spec "
            f"(study = \"{source_study}\") and set source = \"DIR\" to its results directory")
    source = spec.get("source")
    ok = isinstance(source, str) and source or (
        isinstance(source, list) and source and all(isinstance(p, str) and p for p in source))
    if not ok:
        raise SpecError(f"source: expected the results directory of a {source_study} run (a path, or a list of "
                        f"paths), got {source!r}")
    # stored as absolute paths, so that the report finds them from any working directory
    paths = [source] if isinstance(source, str) else source
    resolved = [str(Path(p).expanduser().resolve()) for p in paths]
    return resolved[0] if isinstance(source, str) else resolved


def validate(spec: dict, fields_cls, analysis_cls, source_study: str | None = None) -> dict:
    """Validate a spec's structure and every field's type; returns the spec with the ``analysis``
    table filled with its defaults and integers given for float fields made floats. Cross-field checks
    (e.g. intrinsic_dim <= ambient_dim) are the study's, run on every expanded trial. A study with a
    ``source_study`` takes ``source`` instead of seeds and axes."""
    if not isinstance(spec, dict):
        raise SpecError(f"a spec must be a table, got {type(spec).__name__}")
    for key in spec:
        if key not in TOP_KEYS:
            raise SpecError(f"unknown top-level key {key!r}{_suggest(key, TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}")
    if not isinstance(spec.get("description", ""), str):
        raise SpecError(f"description: expected a string, got {spec['description']!r}")
    if source_study is not None:
        source = _validate_source(spec, source_study)
        return {**spec, "source": source, "analysis": _validate_analysis(spec, analysis_cls)}
    if "source" in spec:
        raise SpecError(f"source: {spec['study']} runs trials of its own; source is for studies that analyse "
                        "another study's stored trials")
    seeds = spec.get("seeds")
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise SpecError(f"seeds: expected a non-empty list of integers, got {seeds!r}")
    negative = [s for s in seeds if not 0 <= s < 2**63]
    if negative:
        raise SpecError(f"seeds: every seed must be an integer in [0, 2^63), got {negative}")
    if len(set(seeds)) != len(seeds):
        dup = sorted({s for s in seeds if seeds.count(s) > 1})
        raise SpecError(f"seeds: duplicates are not allowed, got {dup} more than once")
    for table in ("base", "grid", "zip", "analysis"):
        if not isinstance(spec.get(table, {}), dict):
            raise SpecError(f"{table}: expected a table, got {spec[table]!r}")
    for key, value in spec.get("base", {}).items():
        if key == "seed":
            raise SpecError("base.seed: set seeds with the top-level 'seeds' list")
        check_field(fields_cls, key, value, "base")
    lengths = set()
    for table in ("grid", "zip"):
        for key, values in spec.get(table, {}).items():
            if key == "seed":
                raise SpecError(f"{table}.seed: set seeds with the top-level 'seeds' list")
            if not isinstance(values, list) or not values:
                raise SpecError(f"{table}.{key}: expected a non-empty list of values, got {values!r}")
            for v in values:
                check_field(fields_cls, key, v, table)
            if table == "zip":
                lengths.add(len(values))
    if len(lengths) > 1:
        raise SpecError(f"zip: every list must have one length, got lengths {sorted(lengths)}")
    overlap = set(spec.get("grid", {})) & set(spec.get("zip", {}))
    if overlap:
        raise SpecError(f"grid and zip both vary {sorted(overlap)}; vary each key in one place")
    out = {**spec, "analysis": _validate_analysis(spec, analysis_cls)}
    for table in ("base", "grid", "zip"):
        if table in spec:
            out[table] = _normalize(fields_cls, spec[table], table != "base")
    return out


def _validate_analysis(spec: dict, analysis_cls) -> dict:
    if not isinstance(spec.get("analysis", {}), dict):
        raise SpecError(f"analysis: expected a table, got {spec['analysis']!r}")
    analysis = {**defaults(analysis_cls)}
    for key, value in spec.get("analysis", {}).items():
        check_field(analysis_cls, key, value, "analysis")
        analysis[key] = value
    return _normalize(analysis_cls, analysis, False)


def load_toml(path) -> dict:
    """A spec file read as TOML; every way it can fail names the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError(f"spec file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"spec file {str(path)!r} is a directory, not a TOML file") from None
    except UnicodeDecodeError as e:
        raise SpecError(f"spec file {str(path)!r} is not UTF-8 text (byte {e.start}: {e.reason}); "
                        "save it as UTF-8") from None
    except OSError as e:
        raise SpecError(f"spec file {str(path)!r} cannot be read: {e.strerror or e}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"spec file {str(path)!r} is not valid TOML: {e}") from None
