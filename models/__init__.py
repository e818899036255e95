"""Students as batched ensembles: training at a temperature, pruning masks, landscape metrics.

Takes tensors; never imports manifolds/, theory/ or studies/ (docs/design.md).

- ensemble.py: ``make_ensemble``, ``Ensemble`` (K students as stacked params), ``count_params``
- training.py: ``TrainConfig``, ``train`` (GD/SGD, Langevin, SAM, masks), ``evaluate``, ``dead_members``
- pruning.py: ``magnitude_masks``, ``random_masks``, ``apply_masks``, ``mask_sparsity``, ``top_magnitude``
- ridge.py: ``ridge_fit`` (exact batched ridge / least-squares solutions of linear students)
- imp.py: ``iterative_magnitude_pruning`` with weight rewinding
- metrics.py: ``lmc_barrier``, ``linear_cka``
- hessian.py: ``hessian_trace``, ``hessian_top_eigenvalue``, ``hessian_vector_product``
"""
from .ensemble import ACTIVATIONS, ARCHS, Ensemble, count_params, make_ensemble
from .hessian import hessian_top_eigenvalue, hessian_trace, hessian_vector_product
from .imp import IMPResult, IMPRound, imp_ladder, iterative_magnitude_pruning
from .losses import LOSSES
from .metrics import interpolate, linear_cka, lmc_barrier
from .pruning import SCOPES, apply_masks, magnitude_masks, mask_sparsity, random_masks, top_magnitude
from .ridge import ridge_fit
from .training import TrainConfig, TrainReport, dead_members, evaluate, train

__all__ = [
    "ACTIVATIONS", "ARCHS", "LOSSES", "SCOPES",
    "Ensemble", "make_ensemble", "count_params",
    "TrainConfig", "TrainReport", "train", "evaluate", "dead_members",
    "magnitude_masks", "random_masks", "apply_masks", "mask_sparsity", "top_magnitude", "ridge_fit",
    "IMPResult", "IMPRound", "imp_ladder", "iterative_magnitude_pruning",
    "interpolate", "lmc_barrier", "linear_cka",
    "hessian_trace", "hessian_top_eigenvalue", "hessian_vector_product",
]
