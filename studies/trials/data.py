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
    dataset = manifolds.is_dataset(t["manifold"])
    fields = {"manifold": t["manifold"], "intrinsic_dim": t["intrinsic_dim"], "ambient_dim": t["ambient_dim"],
              "noise": t["noise"], "manifold_options": t.get("manifold_options", {}),
              "teacher": t.get("teacher", "perceptron"), "teacher_options": t.get("teacher_options", {}),
              # only a finite data set's size is checked against the data
              "n_train": t["n_train"] if dataset else None, "n_test": t["n_test"] if dataset else None}
    reason = _build_error(json.dumps(fields, sort_keys=True))
    if reason is not None:
        where = (f"manifold={t['manifold']!r}" if dataset
                 else f"intrinsic_dim={t['intrinsic_dim']}, ambient_dim={t['ambient_dim']}")
        raise SpecError(f"trial with {where}: {reason}")


@functools.lru_cache(maxsize=4096)
def _build_error(key: str) -> str | None:
    """Why this generator, data set size and teacher cannot be built, or None; once per distinct set of
    data fields (a plan checks every trial, and most trials of a sweep share their data fields)."""
    t = json.loads(key)
    try:
        gen = generator(t)
        if manifolds.is_dataset(t["manifold"]):
            gen.check_sizes(t["n_train"], t["n_test"])
        manifolds.make_teacher(t["teacher"], gen.latent_dim, **t["teacher_options"])
    except (ValueError, TypeError) as e:
        return str(e)
    return None


def trial_data(t: dict) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(seeds, X, y, X_test, y_test)`` for a trial with the generator fields (manifold,
    manifold_options, intrinsic_dim, ambient_dim, noise), teacher fields (teacher,
    teacher_options, label_noise: flip probability of training labels), n_train, n_test and seed.
    The teacher acts on the latent coordinates Z returned by the generator; test labels are clean.
    A finite data set (``manifolds.DATASET_KINDS``) gives disjoint train and test sets and its own
    labels where it has them (else the teacher acts on its points)."""
    s = derive_seeds(t["seed"], *STREAMS)
    gen = generator(t, seed=s["manifold"])
    if manifolds.is_dataset(t["manifold"]):
        # a finite data set: disjoint train and test sets drawn without replacement, labels where it has them
        (X, Z, y), (Xte, Zte, yte) = gen.split(t["n_train"], t["n_test"], seed=s["train"])
    else:
        X, Z = gen.sample(t["n_train"], seed=s["train"])
        Xte, Zte = gen.sample(t["n_test"], seed=s["test"])
        y = yte = None
    if y is None:
        # the teacher reads the latent coordinates as the generator gives them (d + 1 for a d-sphere; the
        # points themselves for a data set)
        teacher = manifolds.make_teacher(t.get("teacher", "perceptron"), Z.shape[1], seed=s["teacher"],
                                         **t.get("teacher_options", {}))
        y, yte = teacher(Z), teacher(Zte)
    if t.get("label_noise", 0.0) > 0:
        flips = np.random.default_rng(s["labels"]).random(len(y)) < t["label_noise"]
        y = np.where(flips, -y, y)
    return s, X, y, Xte, yte


def generator(t: dict, seed: int = 0):
    """The trial's generator, or its finite data set (whose ambient_dim comes from the data, so the
    trial's ambient_dim is not passed)."""
    kind = t["manifold"]
    D = None if manifolds.is_dataset(kind) else t["ambient_dim"]
    return manifolds.make_manifold(kind, t["intrinsic_dim"], D, noise=t["noise"], seed=seed,
                                   **t.get("manifold_options", {}))


def stack(arrays, dtype=torch.float32) -> torch.Tensor:
    return torch.tensor(np.stack(arrays), dtype=dtype)


def metrics(ens, X, y, loss: str) -> dict:
    """Mean training loss and classification error (labels +-1) of every member: numpy (K,)."""
    ev = models.evaluate(ens, X, y, loss=loss)
    if loss == "mse":
        ev["error"] = models.evaluate(ens, X, y, loss="hinge")["error"]
    return ev
