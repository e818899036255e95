"""Students as batched ensembles: training at a temperature, pruning masks, landscape metrics.

Takes tensors; never imports manifolds/, theory/ or studies/ (DESIGN.md).
"""
from .ensemble import ACTIVATIONS, ARCHS, Ensemble, count_params, make_ensemble
from .losses import LOSSES
from .pruning import SCOPES, apply_masks, magnitude_masks, mask_sparsity, random_masks
from .training import TrainConfig, TrainReport, dead_members, evaluate, train

__all__ = [
    "ACTIVATIONS", "ARCHS", "LOSSES", "SCOPES",
    "Ensemble", "make_ensemble", "count_params",
    "TrainConfig", "TrainReport", "train", "evaluate", "dead_members",
    "magnitude_masks", "random_masks", "apply_masks", "mask_sparsity",
]
