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


def loss_and_slope(f: torch.Tensor, y: torch.Tensor, loss: str):
    """(pointwise loss, d loss / d f), both shaped like f (y broadcast against f); the values
    equal ``models.losses.pointwise_loss``. The logistic slope is -y sigmoid(-y f) everywhere
    (autograd's softplus takes 1 for sigmoid above t = 20, a difference below 2e-9, zero in
    float32); relu's and hinge's kink counts as flat, as in autograd."""
    if loss == "logistic":
        my = -y
        t = my * f
        return F.softplus(t), torch.sigmoid(t).mul_(my)
    if loss == "mse":
        d = f - y
        return 0.5 * (d * d), d
    m = 1.0 - y * f
    return torch.relu(m), torch.where(m > 0, -y, 0.0).expand_as(f)


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
      fused product per weight matrix: the SGD step).

    X: (B, D) shared or (K, B, D); y: (B,) or (K, B). Params are read from ``work``. ``ws``: an
    optional dict the caller keeps between calls, holding the (K, B, h) intermediates (reused
    buffers instead of fresh allocations, which on a CPU cost page faults of their own)."""
    want = set(names)
    B = X.shape[-2]
    # ---- forward, keeping what the backward pass needs
    if ens.arch == "linear":
        w_out, b_out, out_names = work["w"], work.get("b"), ("w", "b")
        s_out = 1.0 / math.sqrt(ens.input_dim)
        if X.dim() == 2:
            f = torch.mm(w_out, X.T)
        else:  # (K, 1, D) @ (K, D, B): as a row times a matrix (a matrix times a column is slower)
            f = torch.bmm(w_out.unsqueeze(1), X.transpose(1, 2)).squeeze(1)
        f = f.mul_(s_out) if b_out is None else torch.add(b_out.unsqueeze(-1), f, alpha=s_out)
        acts, pres = [X], []
    else:
        acts, pres = [X], []
        a = X
        for i in range(len(ens.hidden)):
            Wt, b = work[f"w{i}"], work.get(f"b{i}")
            s = 1.0 / math.sqrt(Wt.shape[1])
            if a.dim() == 3 and ws is not None:
                zb = _buffer(ws, ("z", i), (a.shape[0], a.shape[1], Wt.shape[2]), a)
                if b is None:
                    z = torch.bmm(a, Wt, out=zb).mul_(s)
                else:
                    z = torch.baddbmm(b.unsqueeze(1), a, Wt, alpha=s, out=zb)
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
            f = torch.bmm(w_out.unsqueeze(1), aT).squeeze(1).mul_(s_out)
        else:
            f = torch.baddbmm(b_out[:, None, None], w_out.unsqueeze(1), aT,
                              alpha=s_out).squeeze(1)
    ploss, slope = loss_and_slope(f, y, loss)
    batch_loss = ploss.mean(-1)

    # ---- backward
    c = (1.0 / B) if coef is None else (coef / B).unsqueeze(-1)
    g_f = slope * c                                   # (K, B): d(sum_k c_k L_k) / df
    out: dict[str, torch.Tensor] = {}

    def put(name, grad, fused=None):
        """out[name] = grad(), or start - grad() written into dest (``fused(start, dest)`` does it
        in one op) for (start, dest) = base[name]."""
        if base is None:
            out[name] = grad()
        else:
            start, dest = base[name]
            if fused is not None:
                fused(start, dest)
            else:
                torch.sub(start, grad(), out=dest)
            out[name] = dest

    a_last = acts[-1]
    n_hidden = len(acts) - 1
    if out_names[0] in want:
        if a_last.dim() == 2:  # linear student on shared inputs: (K, B) @ (B, D)
            put(out_names[0], lambda: torch.mm(g_f, a_last).mul_(s_out),
                lambda st, d: torch.addmm(st, g_f, a_last, alpha=-s_out, out=d))
        else:
            gf3 = g_f.unsqueeze(1)
            put(out_names[0], lambda: torch.bmm(gf3, a_last).squeeze(1).mul_(s_out),
                lambda st, d: torch.baddbmm(st.unsqueeze(1), gf3, a_last, alpha=-s_out,
                                            out=d.unsqueeze(1)))
    if b_out is not None and out_names[1] in want:
        put(out_names[1], lambda: g_f.sum(-1))
    if n_hidden == 0:
        return batch_loss, out
    g_a = torch.mul((g_f * s_out).unsqueeze(-1), w_out.unsqueeze(1),  # (K, B, h)
                    out=_buffer(ws, ("ga", n_hidden), a_last.shape, a_last))
    for i in reversed(range(n_hidden)):
        Wt = work[f"w{i}"]
        s = 1.0 / math.sqrt(Wt.shape[1])
        g_z = _act_backward(ens, g_a, pres[i], acts[i + 1])
        a_in = acts[i]
        if i > 0:  # before the weights are updated (the update below may be in place)
            g_a = torch.bmm(g_z, Wt.transpose(1, 2),
                            out=_buffer(ws, ("ga", i), acts[i].shape, g_z)).mul_(s)
        name = f"w{i}"
        if name in want:
            if a_in.dim() == 2:  # shared inputs (full batch): one (D, B) @ (B, K h) product
                K, _, h = g_z.shape
                gzf = g_z.transpose(0, 1).reshape(a_in.shape[0], K * h)

                def grad_w(a_in=a_in, gzf=gzf, K=K, h=h, s=s):
                    return torch.mm(a_in.T, gzf).mul_(s).view(-1, K, h).transpose(0, 1)
                put(name, grad_w)
            else:
                aT = a_in.transpose(1, 2)
                put(name, lambda aT=aT, g_z=g_z, s=s: torch.bmm(aT, g_z).mul_(s),
                    lambda st, d, aT=aT, g_z=g_z, s=s: torch.baddbmm(st, aT, g_z, alpha=-s,
                                                                      out=d))
        if f"b{i}" in work and f"b{i}" in want:
            put(f"b{i}", lambda g_z=g_z: g_z.sum(1))
    return batch_loss, out
