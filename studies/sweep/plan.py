"""The plan of a spec: its trials, named and grouped into ensembles, before anything runs.

Planning is a deterministic function of the spec: trials (in spec order) are grouped by the study's
``group_key`` into ensembles of at most ``max_group_size`` members, so the same spec gives the same
groups whatever the engine or the number of workers. A plan of fewer than ``SPLIT_TARGET`` groups
splits each into up to ``ceil(SPLIT_TARGET / groups)`` contiguous parts of near-equal size, none of
fewer than ``MIN_PART`` trials, so that a sweep of one or two large groups can keep several workers
busy; the split too depends on the spec alone (splitting changes the rounding of the batched
products, so it is never made per number of workers). Every trial is validated here (the spec's
structure and types by :func:`studies.sweep.spec.validate`, cross-field rules by the study's
``check_trial``, rules over the trials together by its ``check_trials``), so a bad spec is refused before
any work starts.

A study that analyses another study's stored trials (``Study.source_study``) has no trials of its
own: its plan is empty, and its spec names the results directory it reads (``source``).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import catalog
from .spec import SpecError, count_trials, expand, spec_hash, trial_name, validate
from .study import Study


@dataclass
class Plan:
    study: Study
    spec: dict
    spec_hash: str
    trials: list[tuple[str, dict]]
    groups: list[list[tuple[str, dict]]]


MAX_TRIALS = 20_000  # a larger plan is refused unless asked for (``--max-trials``): it is likely a typo
SPLIT_TARGET = 4  # a plan of fewer groups splits them into parts (module docstring)
MIN_PART = 8  # no part of a split group has fewer trials (smaller ensembles batch worse)


def plan(spec: dict, max_trials: int = MAX_TRIALS) -> Plan:
    """Validate a spec and every trial in it, and group the trials; raises SpecError before any work.
    A spec of more than ``max_trials`` trials is refused before it is expanded."""
    if not isinstance(spec, dict) or "study" not in spec:
        raise SpecError("a spec must name its study: study = \"NAME\"")
    if not isinstance(spec["study"], str):
        raise SpecError(f"study: expected the name of a study (a string), got {spec['study']!r}")
    study = catalog.get(spec["study"])
    spec = validate(spec, study.trial_fields, study.analysis_fields, source_study=study.source_study)
    if study.source_study is not None:
        return Plan(study, spec, spec_hash(spec), [], [])
    n = count_trials(spec)
    if n > max_trials:
        raise SpecError(f"the spec plans {n:,} trials, more than the limit of {max_trials:,}; check the grid "
                        "(its axes multiply), or raise the limit with --max-trials")
    trials = []
    for fields in expand(spec, study.trial_fields):
        study.check_trial(fields)
        trials.append((trial_name(study.name, fields, study.trial_fields), fields))
    if study.check_trials is not None:
        study.check_trials([t for _, t in trials], spec.get("analysis", {}))
    names = [n for n, _ in trials]
    if len(set(names)) != len(names):
        raise SpecError("the spec produces the same trial twice (a grid or zip axis repeats a value)")
    by_key: dict[tuple, list] = {}
    for item in trials:
        by_key.setdefault(study.group_key(item[1]), []).append(item)
    groups = []
    for members in by_key.values():
        for i in range(0, len(members), study.max_group_size):
            groups.append(members[i:i + study.max_group_size])
    return Plan(study, spec, spec_hash(spec), trials, split_groups(groups))


def split_groups(groups: list[list]) -> list[list]:
    """Fewer than ``SPLIT_TARGET`` groups: each split into up to ``ceil(SPLIT_TARGET / len(groups))``
    contiguous parts of near-equal size (the first ones one trial larger), none smaller than
    ``MIN_PART`` trials; otherwise the groups as they are."""
    if not groups or len(groups) >= SPLIT_TARGET:
        return groups
    per = -(-SPLIT_TARGET // len(groups))
    out = []
    for g in groups:
        parts = max(1, min(per, len(g) // MIN_PART))
        size, extra = divmod(len(g), parts)
        start = 0
        for p in range(parts):
            n = size + (p < extra)
            out.append(g[start:start + n])
            start += n
    return out


def pending_groups(p: Plan, done: set[str]) -> list[list[tuple[str, dict]]]:
    """The groups with a trial not yet done (a group runs whole, so a resumed sweep computes exactly
    what an uninterrupted one would; only its missing trials are written)."""
    return [g for g in p.groups if any(n not in done for n, _ in g)]
