"""Hand-written batched forward and backward pass of the students for one training step.

The training loop needs, per member k, the mean batch loss L_k and the gradient of L_k with
respect to each trainable param; autograd's graph bookkeeping costs more than the arithmetic for
these small networks, so the chain rule is written out here for the three architectures
(``linear``, ``committee``, ``mlp``; relu / tanh / erf units) and the three losses of
``models.losses``. Weights are in the training loop's working layout: hidden weight matrices
``w{i}`` as (K, fan_in, h) contiguous, everything else as in ``Ensemble.params``.

Forward (per member; s_i = 1/sqrt(fan_in_i), s_out = 1 for the committee, 1/sqrt(h) otherwise):

    a_0 = x,  z_{i+1} = s_i a_i W_i + b_i,  a_{i+1} = act(z_{i+1}),  f = s_out a_L . w_out + b_out

Backward, with g_f = c_k / B * dloss/df (c_k a per-member coefficient, e.g. the learning rate):

    grad w_out = s_out a_L^T g_f,  grad b_out = sum g_f,  g_a = s_out g_f w_out^T,
    g_z = g_a * act'(z),  grad W_i = s_i a_i^T g_z,  grad b_i = sum g_z,  g_a_i = s_i g_z W_i^T.

``tests/models/test_models_backward.py`` checks it against autograd.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .ensemble import _affine

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT1_2 = 1.0 / math.sqrt(2.0)


def _loss_and_slope(f: torch.Tensor, y: torch.Tensor, loss: str, coef):
    """(mean loss per member (K,), c_k dloss/df (K, B)) for outputs f (K, B) and labels y ((B,)
    or (K, B)); ``coef`` (K, 1) or None (1). The pointwise losses equal
    ``models.losses.pointwise_loss``; the logistic slope is -y sigmoid(-y f) everywhere (autograd's
    softplus takes 1 for sigmoid above t = 20, a difference below 2e-9, zero in float32); relu's and
    hinge's kink counts as flat, as in autograd."""
    if loss == "logistic":
        my = torch.neg(y)
        t = torch.mul(my, f)
        batch_loss = F.softplus(t).mean(-1)
        g = torch.sigmoid(t)
        return batch_loss, g.mul_(my if coef is None else torch.mul(my, coef))
    if loss == "mse":
        d = torch.sub(f, y)
        batch_loss = torch.mul(d, d).mean(-1).mul_(0.5)
        return batch_loss, d if coef is None else d.mul_(coef)
    m = torch.mul(y, f).neg_().add_(1.0)
    batch_loss = torch.relu(m).mean(-1)
    g = torch.mul(y, m > 0).neg_()
    return batch_loss, g if coef is None else g.mul_(coef)


def _act_forward(ens, z: torch.Tensor) -> torch.Tensor:
    act = ens.activation
    if act == "relu":
        return torch.relu_(z)  # z is not needed again: relu'(z) is read off the output
    if act == "tanh":
        return torch.tanh_(z)  # likewise: tanh' = 1 - tanh^2
    return torch.erf(z * _SQRT1_2)


def _act_backward(ens, g_a: torch.Tensor, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """g_a * act'(z) (g_a is a fresh tensor and may be overwritten); relu and tanh use the
    fused kernels of their autograd formulas, g_a * (a > 0) and g_a * (1 - a^2)."""
    act = ens.activation
    if act == "relu":
        return torch.ops.aten.threshold_backward.grad_input(g_a, a, 0, grad_input=g_a)
    if act == "tanh":
        return torch.ops.aten.tanh_backward.grad_input(g_a, a, grad_input=g_a)
    return g_a.mul_(torch.exp(z * z * -0.5).mul_(_SQRT_2_OVER_PI))


def _buffer(ws: dict | None, key, shape, like: torch.Tensor) -> torch.Tensor | None:
    """A reusable buffer from the workspace ``ws`` (None: no workspace, let torch allocate)."""
    if ws is None:
        return None
    key = (key, tuple(shape))  # a short last batch gets buffers of its own
    t = ws.get(key)
    if t is None:
        t = ws[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
    return t


def descend(ens, work: dict, X: torch.Tensor, y: torch.Tensor, loss: str, names,
            coef: torch.Tensor | None = None, base: dict | None = None, ws: dict | None = None):
    """Mean batch loss of every member, (K,), and per trainable name in ``names``:

    - ``base`` None: the gradient of sum_k coef_k L_k (coef None: 1) w.r.t. that param;
    - ``base`` given (dict name -> (start, dest), tensors shaped like the param, dest not read
      by the forward pass, dest may be start): ``start - gradient`` written into ``dest`` (one
      fused product per weight matrix: the SGD step); dest None: into a new tensor (the
      compiled step of ``models.training``, where torch.compile places the result).

    X: (B, D) shared or (K, B, D); y: (B,) or (K, B). Params are read from ``work``. ``ws``: an
    optional dict the caller keeps between calls, holding the (K, B, h) intermediates (reused
    buffers instead of fresh allocations, which on a CPU cost page faults of their own).

    The backward pass holds each gradient up to a scalar factor (``scale``: 1/B, then the
    1/sqrt(fan_in) factors on the way down), which goes into the ``alpha`` of the product that
    consumes it, so no pass over a (K, B, h) tensor only rescales it."""
    want = set(names)
    B = X.shape[-2]
    # ---- forward, keeping what the backward pass needs
    if ens.arch == "linear":
        w_out, b_out, out_names = work["w"], work.get("b"), ("w", "b")
        s_out = 1.0 / math.sqrt(ens.input_dim)
        if X.dim() == 2:
            f = torch.mm(w_out, X.T) if b_out is None else \
                torch.addmm(b_out.unsqueeze(-1), w_out, X.T, alpha=s_out)
        else:  # (K, 1, D) @ (K, D, B): a row times a matrix (a matrix times a column is slower)
            f = torch.bmm(w_out.unsqueeze(1), X.transpose(1, 2)) if b_out is None else \
                torch.baddbmm(b_out[:, None, None], w_out.unsqueeze(1), X.transpose(1, 2),
                              alpha=s_out)
            f = f.view(f.shape[0], B)
        if b_out is None:
            f = f.mul_(s_out)
        acts, pres = [X], []
    else:
        acts, pres = [X], []
        a = X
        for i in range(len(ens.hidden)):
            Wt, b = work[f"w{i}"], work.get(f"b{i}")
            s = 1.0 / math.sqrt(Wt.shape[1])
            if a.dim() == 3 and ws is not None:
                zb = _buffer(ws, ("z", i), (a.shape[0], a.shape[1], Wt.shape[2]), a)
                z = torch.baddbmm(zb if b is None else b.unsqueeze(1), a, Wt,
                                  beta=0.0 if b is None else 1.0, alpha=s, out=zb)
            else:
                z = _affine(a, Wt, b, s)
            pres.append(z if ens.activation == "erf" else None)
            a = _act_forward(ens, z)
            acts.append(a)
        w_out, b_out, out_names = work["w_out"], work.get("b_out"), ("w_out", "b_out")
        s_out = 1.0 if ens.arch == "committee" else 1.0 / math.sqrt(w_out.shape[-1])
        # f = s_out a w_out + b_out as (K, 1, h) @ (K, h, B): a row times a matrix
        aT = a.transpose(1, 2)
        if b_out is None:
            f = torch.bmm(w_out.unsqueeze(1), aT).mul_(s_out)
        else:
            f = torch.baddbmm(b_out[:, None, None], w_out.unsqueeze(1), aT, alpha=s_out)
        f = f.view(f.shape[0], B)
    batch_loss, g_f = _loss_and_slope(f, y, loss, None if coef is None else coef.unsqueeze(-1))

    # ---- backward: the true gradient w.r.t. f is scale * g_f
    scale = 1.0 / B
    out: dict[str, torch.Tensor] = {}
    a_last = acts[-1]
    n_hidden = len(acts) - 1
    K = g_f.shape[0]
    name = out_names[0]
    if name in want:
        if a_last.dim() == 2:  # linear student on shared inputs: (K, B) @ (B, D)
            if base is None:
                out[name] = torch.mm(g_f, a_last).mul_(s_out * scale)
            else:
                start, dest = base[name]
                out[name] = torch.addmm(start, g_f, a_last, alpha=-s_out * scale, out=dest)
        else:  # (K, 1, B) @ (K, B, h)
            gf3 = g_f.view(K, 1, B)
            if base is None:
                out[name] = torch.bmm(gf3, a_last).mul_(s_out * scale).view(K, -1)
            else:
                start, dest = base[name]
                new = torch.baddbmm(start.unsqueeze(1), gf3, a_last, alpha=-s_out * scale,
                                    out=None if dest is None else dest.unsqueeze(1))
                out[name] = new.view(K, -1) if dest is None else dest
    name = out_names[1]
    if b_out is not None and name in want:
        if base is None:
            out[name] = g_f.sum(-1).mul_(scale)
        else:
            start, dest = base[name]
            out[name] = torch.sub(start, g_f.sum(-1), alpha=scale, out=dest)
    if n_hidden == 0:
        return batch_loss, out
    # g_a = s_out g_f w_out^T, held without s_out
    g_a = torch.mul(g_f.view(K, B, 1), w_out.unsqueeze(1),
                    out=_buffer(ws, ("ga", n_hidden), a_last.shape, a_last))
    scale *= s_out
    for i in reversed(range(n_hidden)):
        Wt = work[f"w{i}"]
        s = 1.0 / math.sqrt(Wt.shape[1])
        g_z = _act_backward(ens, g_a, pres[i], acts[i + 1])
        a_in = acts[i]
        if i > 0:  # before the weights are updated (the update below may be in place)
            g_a = torch.bmm(g_z, Wt.transpose(1, 2), out=_buffer(ws, ("ga", i), a_in.shape, g_z))
        name = f"w{i}"
        if name in want:
            if a_in.dim() == 2:  # shared inputs (full batch): one (D, B) @ (B, K h) product
                h = g_z.shape[2]
                gzf = g_z.transpose(0, 1).reshape(a_in.shape[0], K * h)
                grad = torch.mm(a_in.T, gzf).mul_(s * scale).view(-1, K, h).transpose(0, 1)
                if base is None:
                    out[name] = grad
                else:
                    start, dest = base[name]
                    out[name] = torch.sub(start, grad, out=dest)
            elif base is None:
                out[name] = torch.bmm(a_in.transpose(1, 2), g_z).mul_(s * scale)
            else:
                start, dest = base[name]
                out[name] = torch.baddbmm(start, a_in.transpose(1, 2), g_z, alpha=-s * scale,
                                          out=dest)
        name = f"b{i}"
        if name in work and name in want:
            if base is None:
                out[name] = g_z.sum(1).mul_(scale)
            else:
                start, dest = base[name]
                out[name] = torch.sub(start, g_z.sum(1), alpha=scale, out=dest)
        scale *= s
    return batch_loss, out
