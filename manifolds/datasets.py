"""Finite data sets beside the generators: scikit-learn's bundled handwritten digits, and a user's
``.npy`` array, so that a study can put real data next to synthetic manifolds of matched estimated
dimension.

A data set is a fixed array of N points in R^D (and, where it has them, labels). Unlike a generator
it has no latent law to draw fresh points from, so a trial's train and test sets are drawn *without
replacement* from the same N points: ``split(n_train, n_test, seed)`` permutes the N points with
``seed`` and takes the first n_train for training and the next n_test for testing (disjoint sets);
n_train + n_test > N is a ValueError naming both numbers. Off-manifold Gaussian noise of standard
deviation ``noise`` per coordinate is added to the drawn points, as for every generator.

- ``DigitsData`` (kind ``"digits"``): ``sklearn.datasets.load_digits`` (1,797 8 x 8 images of the
  digits 0-9, 64 pixel values 0..16; bundled with scikit-learn, nothing is downloaded). With
  ``standardize=True`` (the default) every pixel is centred and scaled to unit variance over the whole
  data set (the 3 pixels that are 0 in every image stay 0), so |x|^2 ~ D like a hidden manifold.
  Labels: ``labels="classes"`` (default): +1 for the digit classes in ``positive`` (default the even
  digits, a balanced task a linear classifier solves to ~10% test error), -1 for the others;
  ``labels="teacher"``: no labels, a teacher acting on the (standardised) pixels labels them.
- ``ArrayData`` (kind ``"file"``): a 2-D ``.npy`` array of finite numbers at ``path`` (read with
  ``allow_pickle=False``). ``labels``: the path of a ``.npy`` file of N labels, mapped to +-1: with
  ``positive`` the listed values are +1, else the labels must take exactly two values (the larger is
  +1); without ``labels`` a teacher labels the points. ``standardize`` as for the digits (default
  False: the array as given).

What Z means here: a data set has no latent coordinates, so Z is the clean ambient point itself
(``latent_dim = D``): a teacher "on the latent" of real data acts on the ambient coordinates. The
intrinsic dimension is not known (``intrinsic_dim`` is None): estimate it with
``manifolds.estimate_dimension``. The ``intrinsic_dim`` argument of the common signature is ignored;
``ambient_dim`` comes from the data and may be given only as None or the data's own D.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from .base import Manifold, check_choice, check_int, check_nonnegative, check_seed
from .dimension import check_data

N_DIGITS = 1797


class Dataset(Manifold):
    """A finite data set in R^D: ``points`` (N, D) and ``targets`` (N,) in {-1, +1} or None.
    Subclasses call ``_store_data``."""

    intrinsic_dim = None
    points: np.ndarray
    targets: np.ndarray | None

    def _store_data(self, name: str, points, targets, ambient_dim, noise, seed, standardize: bool) -> None:
        X = check_data(points, name, min_points=2)
        if not isinstance(standardize, (bool, np.bool_)):
            raise ValueError(f"standardize must be true or false, got {standardize!r}")
        if standardize:
            X = standardized(X)
        if ambient_dim is not None and check_int("ambient_dim", ambient_dim) != X.shape[1]:
            raise ValueError(f"ambient_dim comes from the data: {name} has D = {X.shape[1]} coordinates, got "
                             f"ambient_dim={ambient_dim} (leave it unset)")
        self.name = name
        self.points = X
        self.targets = targets
        self.ambient_dim = int(X.shape[1])
        self.noise = check_nonnegative("noise", noise)
        self.seed = check_seed("seed", seed)
        self.standardize = bool(standardize)

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def latent_dim(self) -> int:
        return self.ambient_dim

    @property
    def has_labels(self) -> bool:
        return self.targets is not None

    def check_sizes(self, n_train: int, n_test: int) -> None:
        """Refuse a train and test set that do not fit in the data set together."""
        n_train, n_test = check_int("n_train", n_train), check_int("n_test", n_test)
        if n_train + n_test > self.n_points:
            raise ValueError(f"n_train + n_test = {n_train} + {n_test} = {n_train + n_test} exceeds the "
                             f"{self.n_points} points of {self.name}; train and test sets are drawn without "
                             f"replacement, so lower n_train or n_test")

    def split(self, n_train: int, n_test: int, seed: int):
        """Disjoint train and test sets: ``((X, Z, y), (X_test, Z_test, y_test))``, y None without labels."""
        self.check_sizes(n_train, n_test)
        rng = np.random.default_rng(check_seed("seed", seed))
        order = rng.permutation(self.n_points)
        return tuple(self._draw(idx, rng) for idx in (order[:n_train], order[n_train:n_train + n_test]))

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """n distinct points (without replacement): ``(X, Z)`` with Z the clean points."""
        n = check_int("n", n)
        if n > self.n_points:
            raise ValueError(f"n = {n} exceeds the {self.n_points} points of {self.name} (drawn without replacement)")
        rng = np.random.default_rng(check_seed("seed", seed))
        X, Z, _ = self._draw(rng.permutation(self.n_points)[:n], rng)
        return X, Z

    def _draw(self, idx, rng):
        Z = self.points[idx]
        X = Z + self.noise * rng.standard_normal(Z.shape) if self.noise > 0 else Z.copy()
        return X, Z.copy(), None if self.targets is None else self.targets[idx].copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_points={self.n_points}, ambient_dim={self.ambient_dim}, noise={self.noise})"


def standardized(X: np.ndarray) -> np.ndarray:
    """Every column centred and scaled to unit variance; a constant column becomes 0."""
    X = np.asarray(X, dtype=float)
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def binary_labels(labels, positive=None, what: str = "labels") -> np.ndarray:
    """Labels mapped to +-1: the values in ``positive`` are +1; without ``positive`` the labels must take
    exactly two values, the larger being +1."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of one label per point, got shape {labels.shape}")
    values = np.unique(labels)
    if positive is None:
        if len(values) != 2:
            raise ValueError(f"{what} take {len(values)} distinct values; without 'positive' they must take "
                             f"exactly two (give positive = [...] to choose the +1 classes)")
        return np.where(labels == values[1], 1.0, -1.0)
    positive = np.atleast_1d(np.asarray(positive))
    missing = [v.item() for v in positive if v not in values]
    if missing:
        raise ValueError(f"positive names {missing}, which the {what} never take; they take {values.tolist()}")
    y = np.where(np.isin(labels, positive), 1.0, -1.0)
    if np.all(y == y[0]):
        raise ValueError(f"positive = {positive.tolist()} makes every label {int(y[0]):+d}; a binary task needs both")
    return y


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


class DigitsData(Dataset):
    """scikit-learn's 1,797 handwritten digits (module docstring); ``classes`` the digit of each point."""

    def __init__(self, intrinsic_dim=None, ambient_dim=None, noise: float = 0.0, seed: int = 0,
                 positive=(0, 2, 4, 6, 8), labels: str = "classes", standardize: bool = True):
        X, classes = _digits()
        self.labels = check_choice("labels", labels, ("classes", "teacher"))
        self.positive = tuple(int(v) for v in np.atleast_1d(positive))
        targets = binary_labels(classes, self.positive, "digit classes") if labels == "classes" else None
        self.classes = classes
        self._store_data("the digits data set", X, targets, ambient_dim, noise, seed, standardize)


class ArrayData(Dataset):
    """A user's .npy array of points (module docstring)."""

    def __init__(self, intrinsic_dim=None, ambient_dim=None, noise: float = 0.0, seed: int = 0,
                 path: str = "", labels: str | None = None, positive=None, standardize: bool = False):
        self.path = path
        self.labels = labels
        X = load_npy(path, "path")
        targets = None
        if labels is not None:
            raw = load_npy(labels, "labels", ndim=1)
            if raw.shape[0] != X.shape[0]:
                raise ValueError(f"labels: {labels!r} holds {raw.shape[0]} labels for the {X.shape[0]} points of {path!r}")
            targets = binary_labels(raw, positive, f"labels in {labels!r}")
        elif positive is not None:
            raise ValueError("positive applies to labels read from a file; give labels = 'LABELS.npy' too")
        self._store_data(f"the array in {path!r}", X, targets, ambient_dim, noise, seed, standardize)


def load_npy(path, what: str, ndim: int = 2) -> np.ndarray:
    """A numeric .npy array (never unpickled) with ``ndim`` dimensions; ValueError naming ``what`` and the path."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"{what} must be the path of a .npy file, got {path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"{what}: {str(path)!r} is not a file")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise ValueError(f"{what}: {str(path)!r} is not a readable .npy array of numbers ({e})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{what}: {str(path)!r} must hold numbers, got dtype {getattr(arr, 'dtype', type(arr))}")
    if arr.ndim != ndim:
        raise ValueError(f"{what}: {str(path)!r} must hold a {ndim}-D array, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"{what}: {str(path)!r} holds NaN or infinite values")
    return arr
