"""``prunelab describe STUDY``: every trial and analysis field of a study with its type, default, allowed
values and help text, and the study's presets, read from the field declarations themselves."""
from __future__ import annotations

import dataclasses
import json
import typing

from .spec import _type_name, range_text
from .study import Study


def field_rows(fields_cls) -> list[dict]:
    """One dict per field: name, type, default, choices (or None) and help, in declaration order."""
    hints = typing.get_type_hints(fields_cls)
    rows = []
    for f in dataclasses.fields(fields_cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rows.append({"name": f.name, "type": _type_name(hints[f.name]), "default": default,
                     "choices": f.metadata.get("choices"), "range": f.metadata.get("range"),
                     "help": f.metadata.get("help", "")})
    return rows


def _value(v) -> str:
    return "null" if v is None else json.dumps(v)


def describe_lines(study: Study, presets: list[str]) -> list[str]:
    """The text ``prunelab describe`` prints."""
    lines = [f"{study.name}: {study.description}", ""]
    if study.source_study is not None:
        lines += [f"It analyses the stored trials of a {study.source_study} run: its spec sets "
                  f"source = \"DIR\" (a {study.source_study} results directory, or a list of them) and [analysis].", ""]
    sections = [] if study.source_study is not None else [("Trial fields ([base], [grid], [zip])", study.trial_fields)]
    sections.append(("Analysis fields ([analysis]; they change no trial)", study.analysis_fields))
    for title, cls in sections:
        lines += [f"{title}:", ""]
        for r in field_rows(cls):
            choices = f"; one of {', '.join(_value(c) for c in r['choices'])}" if r["choices"] else ""
            choices += f"; {range_text(r['name'], r['range'])}" if r["range"] else ""
            lines.append(f"  {r['name']} ({r['type']}, default {_value(r['default'])}{choices})")
            lines.append(f"      {r['help']}")
        lines.append("")
    lines.append(f"Presets: {', '.join(presets) or 'none'} (prunelab run {study.name} --preset NAME)")
    return lines
