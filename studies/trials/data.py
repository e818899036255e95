"""Data and evaluation shared by the studies: a trial's generator, teacher and samples (the fields of
:class:`studies.trials.fields.DataFields`), and the classification error of an ensemble whatever its
training loss."""
from __future__ import annotations

import functools
import json

import numpy as np
import torch

import manifolds
import models

from ..sweep.spec import SpecError
from ..sweep.study import derive_seeds

STREAMS = ("manifold", "teacher", "train", "test", "labels", "init", "order", "retrain")


def check_data_fields(t: dict) -> None:
    """Range checks of the data group, then the trial's generator and teacher built once, so a bad kind,
    option or (d, D) pair is refused with the generator's own message before anything runs."""
    for key in ("n_train", "n_test"):
        if t[key] < 1:
            raise SpecError(f"{key} must be >= 1, got {t[key]}")
    if not 0 <= t["label_noise"] <= 0.5:
        raise SpecError(f"label_noise must lie in [0, 0.5], got {t['label_noise']}")
    if t["noise"] < 0:
        raise SpecError(f"noise must be >= 0, got {t['noise']}")
    key = json.dumps([t["manifold"], t["intrinsic_dim"], t["ambient_dim"], t["noise"], t.get("manifold_options", {}),
                      t.get("teacher", "perceptron"), t.get("teacher_options", {})], sort_keys=True)
    reason = _build_error(key)
    if reason is not None:
        raise SpecError(f"trial with intrinsic_dim={t['intrinsic_dim']}, ambient_dim={t['ambient_dim']}: {reason}")


@functools.lru_cache(maxsize=4096)
def _build_error(key: str) -> str | None:
    """Why this generator and teacher cannot be built, or None; once per distinct set of data fields
    (a plan checks every trial, and most trials of a sweep share their data fields)."""
    kind, d, D, noise, options, teacher, teacher_options = json.loads(key)
    try:
        manifolds.make_manifold(kind, d, D, noise=noise, **options)
        manifolds.make_teacher(teacher, d, **teacher_options)
    except (ValueError, TypeError) as e:
        return str(e)
    return None


def trial_data(t: dict) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(seeds, X, y, X_test, y_test)`` for a trial with the generator fields (manifold,
    manifold_options, intrinsic_dim, ambient_dim, noise), teacher fields (teacher,
    teacher_options, label_noise: flip probability of training labels), n_train, n_test and seed.
    The teacher acts on the latent coordinates Z returned by the generator; test labels are clean."""
    s = derive_seeds(t["seed"], *STREAMS)
    gen = manifolds.make_manifold(t["manifold"], t["intrinsic_dim"], t["ambient_dim"], noise=t["noise"],
                                  seed=s["manifold"], **t.get("manifold_options", {}))
    X, Z = gen.sample(t["n_train"], seed=s["train"])
    Xte, Zte = gen.sample(t["n_test"], seed=s["test"])
    # the teacher reads the latent coordinates as the generator gives them (d + 1 for a d-sphere)
    teacher = manifolds.make_teacher(t.get("teacher", "perceptron"), Z.shape[1], seed=s["teacher"],
                                     **t.get("teacher_options", {}))
    y = teacher(Z)
    if t.get("label_noise", 0.0) > 0:
        flips = np.random.default_rng(s["labels"]).random(len(y)) < t["label_noise"]
        y = np.where(flips, -y, y)
    yte = teacher(Zte)
    return s, X, y, Xte, yte


def stack(arrays, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor(np.stack(arrays), dtype=dtype)


def metrics(ens, X, y, loss: str) -> dict:
    """Mean training loss and classification error (labels +-1) of every member: numpy (K,)."""
    ev = models.evaluate(ens, X, y, loss=loss)
    if loss == "mse":
        ev["error"] = models.evaluate(ens, X, y, loss="hinge")["error"]
    return ev
