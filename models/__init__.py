"""Students as batched ensembles: training at a temperature, pruning masks, landscape metrics.

Takes tensors; never imports manifolds/, theory/ or studies/ (docs/design.md).

- ensemble.py: ``make_ensemble``, ``Ensemble`` (K students as stacked params), ``count_params``
- training.py: ``TrainConfig``, ``TrainReport``, ``train`` (GD/SGD with momentum, Langevin, SAM,
  masks, epochs or steps, checkpoints and histories), ``evaluate``, ``dead_members``
- schedules.py: ``Schedule`` (constant, step decay, cosine, linear warm-up; per step)
- pruning.py: ``magnitude_masks``, ``random_masks``, ``random_masks_like``, ``apply_masks``,
  ``mask_sparsity``, ``top_magnitude``
- ridge.py: ``ridge_fit`` (exact batched ridge / least-squares solutions of linear students)
- logistic.py: ``logistic_fit`` (batched minimisers of L2-regularised logistic regression, Newton's method)
- imp.py: ``iterative_magnitude_pruning`` with weight rewinding; the re-initialisation and
  random-pruning baselines (``reinitialised_baseline``, ``random_pruning_baseline``)
- gibbs_sampler.py: ``gibbs_sample`` (exact line moves or ``method="hmc"``) of the perceptron's Gibbs measure
- hmc_sampler.py: ``hmc_sample``, exact HMC with reflection and refraction at the pattern hyperplanes
- ising_sampler.py: ``ising_metropolis``, single-flip Metropolis of the Ising (+-1) perceptron
- mixing.py: ``mixing_check``, ``batch_means_se``, ``integrated_autocorrelation_time``
- metrics.py: ``lmc_barrier``, ``mode_connectivity``, ``linear_cka``
- hessian.py: ``hessian_trace``, ``hessian_top_eigenvalue``, ``hessian_vector_product``
"""
from .ensemble import ACTIVATIONS, ARCHS, Ensemble, count_params, make_ensemble
from .gibbs_sampler import METHODS, GibbsChains, gibbs_sample
from .hmc_sampler import hmc_sample
from .ising_sampler import SCANS, IsingChains, ising_metropolis, ising_training_errors
from .hessian import hessian_top_eigenvalue, hessian_trace, hessian_vector_product
from .imp import (IMPResult, IMPRound, imp_ladder, iterative_magnitude_pruning,
                  random_pruning_baseline, reinitialised_baseline)
from .losses import LOSSES
from .metrics import (interpolate, linear_cka, lmc_barrier, mode_connectivity,
                      mode_connectivity_of_curve)
from .mixing import MixingCheck, batch_means_se, integrated_autocorrelation_time, mixing_check
from .pruning import (SCOPES, apply_masks, magnitude_masks, mask_sparsity, random_masks,
                      random_masks_like, top_magnitude)
from .logistic import LogisticFit, logistic_fit
from .ridge import ridge_fit
from .schedules import SCHEDULES, Schedule
from .training import (CompileFallbackWarning, TrainConfig, TrainReport, dead_members, evaluate,
                       train)

__all__ = [
    "ACTIVATIONS", "ARCHS", "LOSSES", "SCOPES",
    "Ensemble", "make_ensemble", "count_params",
    "TrainConfig", "TrainReport", "train", "evaluate", "dead_members", "CompileFallbackWarning",
    "Schedule", "SCHEDULES",
    "magnitude_masks", "random_masks", "random_masks_like", "apply_masks", "mask_sparsity", "top_magnitude",
    "ridge_fit", "logistic_fit", "LogisticFit",
    "IMPResult", "IMPRound", "imp_ladder", "iterative_magnitude_pruning",
    "reinitialised_baseline", "random_pruning_baseline",
    "interpolate", "lmc_barrier", "mode_connectivity", "mode_connectivity_of_curve", "linear_cka",
    "gibbs_sample", "GibbsChains", "METHODS", "hmc_sample", "ising_metropolis", "IsingChains",
    "ising_training_errors", "SCANS", "mixing_check", "MixingCheck", "batch_means_se",
    "integrated_autocorrelation_time",
    "hessian_trace", "hessian_top_eigenvalue", "hessian_vector_product",
]
