"""Intrinsic-dimension estimation with scikit-dimension's estimators (Bac et al., Entropy 23, 1368,
2021), by name; no estimator is written here.

Methods (``DIMENSION_METHODS``):
- ``"twonn"``: TwoNN (Facco, d'Errico, Rodriguez & Laio, Sci. Rep. 7, 12140, 2017): the ratio
  mu = r2 / r1 of second- to first-neighbour distances is Pareto(1, d) under local uniformity.
  The neighbour distances are computed here with scikit-learn and passed to ``skdim.id.TwoNN(dist=True)``.
- ``"mle"``: Levina & Bickel (NeurIPS 2004) maximum likelihood on k nearest neighbours (skdim's MLE,
  Haro et al. 2008 variant; option ``n_neighbors``, default 20).
- ``"gride"``: Gride (Denti, Doimo, Laio & Mira, Sci. Rep. 12, 20005, 2022), ratios of the n2-th to
  n1-th neighbour distances (options ``n1``, ``n2``).
- ``"lpca"``: global PCA with the Fukunaga-Olsen eigenvalue threshold (Fukunaga & Olsen, IEEE Trans.
  Comput. C-20, 176, 1971): counts linear directions, so it overestimates on curved manifolds.
- ``"ess"``: expected simplex skewness (Johnsson, Soneson & Fontes, IEEE TPAMI 37, 196, 2015); slow
  (tens of seconds for 100 points here).
- ``"danco"``: DANCo (Ceruti et al., Pattern Recognit. 47, 2569, 2014), very slow with its default
  calibration (minutes for a few thousand points).

Known bias (read before comparing numbers): kNN estimators underestimate at larger d, because with
n points the neighbourhoods are not small compared to the manifold (or its boundary) once d is large:
n would have to grow exponentially in d (Levina & Bickel 2004; Facco et al. 2017, fig. 3;
Campadelli, Casiraghi, Ceruti & Rozza, Math. Probl. Eng. 2015, 759567, who compare estimators on
the benchmark manifolds and find all of them biased low for d >~ 10). Curvature at the scale of the
neighbour distances and off-manifold noise bias them high instead. ``calibrate`` measures both.
"""
from __future__ import annotations

import numpy as np

from .base import check_choice

DIMENSION_METHODS = ("twonn", "mle", "gride", "lpca", "ess", "danco")

# the fewest points each method accepts (the kNN methods need their neighbours)
_MIN_POINTS = {"twonn": 3, "mle": 21, "gride": 3, "lpca": 3, "ess": 21, "danco": 12}


def _estimator(method: str):
    import skdim

    return {
        "twonn": skdim.id.TwoNN,
        "mle": skdim.id.MLE,
        "gride": skdim.id.GRIDE,
        "lpca": skdim.id.lPCA,
        "ess": skdim.id.ESS,
        "danco": skdim.id.DANCo,
    }[method]


def check_data(X, name: str = "X", min_points: int = 3) -> np.ndarray:
    """A 2-D array of finite real numbers with at least ``min_points`` rows and 2 columns, as float64."""
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
        raise ValueError(f"{name} must be a 2-D array of real numbers, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_points, n_features), got shape {X.shape}")
    if X.shape[0] < min_points:
        raise ValueError(f"{name} must have at least {min_points} points (rows), got {X.shape[0]}")
    if X.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 features (columns), got {X.shape[1]}")
    X = X.astype(float)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{name} must contain only finite numbers, found {bad.sum()} NaN/inf entries (first at row {i}, column {j})"
        )
    return X


def _split_options(cls, method: str, options: dict) -> tuple[dict, dict]:
    """Route each option to the estimator's constructor or to its ``fit``; reject the rest."""
    import inspect

    init = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    fit = [p for p in inspect.signature(cls.fit).parameters if p not in ("self", "X", "y")]
    unknown = sorted(set(options) - set(init) - set(fit))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for method {method!r}; allowed: {', '.join(init + fit)}"
        )
    return ({k: v for k, v in options.items() if k in init}, {k: v for k, v in options.items() if k not in init})


def check_dimension_options(method: str, options: dict) -> None:
    """Refuse, before any data exist, an unknown method or an option its skdim estimator does not take."""
    check_choice("method", method, DIMENSION_METHODS)
    if not isinstance(options, dict):
        raise ValueError(f"options must be a table of the estimator's keyword options, got {options!r}")
    _split_options(_estimator(method), method, options)


def estimate_dimension(X, method: str = "twonn", **options) -> float:
    """The intrinsic dimension of the points X (n_points x n_features) by ``method`` (one of
    DIMENSION_METHODS); ``options`` go to the skdim estimator's constructor or ``fit``."""
    check_choice("method", method, DIMENSION_METHODS)
    X = check_data(X, min_points=_MIN_POINTS[method])
    distinct = len(np.unique(X, axis=0))
    if distinct < _MIN_POINTS[method]:
        raise ValueError(f"X holds {distinct} distinct point(s) among its {X.shape[0]} rows; {method!r} needs at "
                         f"least {_MIN_POINTS[method]} distinct points (identical points have no dimension)")
    cls = _estimator(method)
    init_opts, fit_opts = _split_options(cls, method, options)
    if method == "lpca":
        init_opts.setdefault("verbose", False)
    if method == "twonn" and not init_opts.get("dist", False):
        from sklearn.neighbors import NearestNeighbors

        dists, _ = NearestNeighbors(n_neighbors=2).fit(X).kneighbors()
        X, init_opts = dists, {**init_opts, "dist": True}
    try:
        return float(cls(**init_opts).fit(X, **fit_opts).dimension_)
    except TypeError as err:  # a wrongly typed option reaches skdim
        raise ValueError(f"bad option for method {method!r}: {err}") from None
