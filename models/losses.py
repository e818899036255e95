"""Per-example losses and errors for a scalar output f and a target y.

- ``"logistic"``: log(1 + exp(-y f)), labels +-1 (computed as softplus(-y f), finite for any finite f).
- ``"mse"``: (y - f)^2 / 2.
- ``"hinge"``: max(0, 1 - y f), labels +-1.

Error: for logistic and hinge the classification error, sign(f) != y, where f == 0 counts as half an
error (the expected error of a coin flip, so a member stuck at zero output reads as chance, not as
100% wrong); for mse the mean squared error (y - f)^2 (without the 1/2).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("logistic", "mse", "hinge")


def pointwise_loss(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Loss of every example, same shape as f (y broadcast against f)."""
    if loss == "logistic":
        return F.softplus(-y * f)
    if loss == "mse":
        return 0.5 * (y - f) ** 2
    return torch.relu(1.0 - y * f)


def pointwise_error(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Error of every example (see the module docstring)."""
    if loss == "mse":
        return (y - f) ** 2
    s = torch.sign(f)
    return torch.where(s == 0, 0.5, (s != y).to(f.dtype)).to(f.dtype)
