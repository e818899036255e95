"""Students as batched ensembles: K independent networks of one shape, stored as stacked tensors.

Every parameter is one tensor of shape (K, ...): member k is ``params[name][k]``. The forward pass
is a handful of batched matrix products over the member dimension, so K small networks cost about
as much as one network K times wider (no Python loop over members).

Architectures (all with a scalar output per input; labels +-1 for classification, or real targets):

- ``"linear"``: f(x) = w.x / sqrt(D) (+ b).  Params ``w`` (K, D), ``b`` (K,).
- ``"committee"``: the soft committee machine (Saad & Solla 1995; Engel & Van den Broeck 2001,
  ch. 12): f(x) = sum_j v_j g(w_j.x / sqrt(D) (+ b_j)), g(z) = erf(z / sqrt 2), with H hidden
  units. The readout ``w_out`` = v starts at v_j = 1/H (f is the mean of the hidden units, so
  |f| <= 1) and stays fixed unless ``train_readout``. Params ``w0`` (K, H, D), ``b0`` (K, H) if
  ``bias``, ``w_out`` (K, H). There is no output bias.
- ``"mlp"``: hidden layers of widths ``hidden`` with activation relu, tanh or erf (g above):
  a_0 = x, a_{i+1} = act(W_i a_i / sqrt(fan_in_i) + b_i), f = w_out.a_L / sqrt(h_L) + b_out.
  Params ``w{i}`` (K, h_i, fan_in_i), ``b{i}`` (K, h_i) if ``bias``, ``w_out`` (K, h_L),
  ``b_out`` (K,) if ``bias``. The readout (``w_out``, ``b_out``) trains iff ``train_readout``
  (False gives a random-features model).

Parameterisation: every weight is drawn N(0, 1) times ``init_scale`` and the 1/sqrt(fan_in) factor
sits in the forward pass (the statistical-mechanics / NTK convention, Jacot et al. 2018), so the
weights of all layers live on one scale and a global magnitude threshold compares like with like.
Biases start at zero. ``init_scale=0`` gives a zero init (a linear student then stays in the span
of the data). The committee's fixed readout 1/H is not scaled by ``init_scale``.

Prunable weights (``Ensemble.prunable``): the hidden weights ``w{i}`` (mlp, committee) or ``w``
(linear). Biases and the readout are never pruned. Trainable params (``Ensemble.trainable``):
everything except a readout with ``train_readout=False``.

Initialisation of member k uses only ``torch.Generator().manual_seed(seeds[k])`` (draws in float64
on the CPU, in the order of ``params``, then cast), so it depends neither on K, nor on the other
members, nor on the dtype or device.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .validation import check_choice, check_int, check_seeds

ARCHS = ("linear", "committee", "mlp")
ACTIVATIONS = ("relu", "tanh", "erf")

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_EVAL_CHUNK = 128  # examples per chunk of a gradient-free forward pass on shared inputs
_ACT_INPLACE = {"relu": torch.relu_, "tanh": torch.tanh_,
                "erf": lambda z: torch.erf_(z.mul_(_SQRT1_2))}


def _activation(name: str):
    if name == "relu":
        return torch.relu
    if name == "tanh":
        return torch.tanh
    return lambda z: torch.erf(z * _SQRT1_2)


class Ensemble:
    """K students of one architecture; see the module docstring for the architectures.

    Attributes: ``arch``, ``input_dim``, ``hidden`` (tuple of widths), ``activation``, ``bias``,
    ``train_readout``, ``seeds`` (init seeds, one per member), ``init_scale``, ``params`` (dict
    name -> (K, ...) tensor), ``prunable`` and ``trainable`` (tuples of param names).
    Build one with :func:`make_ensemble`.
    """

    def __init__(self, arch: str, params: dict[str, torch.Tensor], *, input_dim: int,
                 hidden: tuple[int, ...], activation: str, bias: bool, train_readout: bool,
                 seeds: tuple[int, ...], init_scale: float):
        self.arch = arch
        self.params = params
        self.input_dim = input_dim
        self.hidden = hidden
        self.activation = activation
        self.bias = bias
        self.train_readout = train_readout
        self.seeds = seeds
        self.init_scale = init_scale
        self._act = _activation(activation)
        if arch == "linear":
            self.prunable = ("w",)
            self.trainable = tuple(params)
        else:
            self.prunable = tuple(f"w{i}" for i in range(len(hidden)))
            readout = ("w_out", "b_out")
            self.trainable = tuple(n for n in params if train_readout or n not in readout)

    # ------------------------------------------------------------------ shape and copies
    @property
    def n_members(self) -> int:
        return next(iter(self.params.values())).shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.params.values())).dtype

    @property
    def device(self) -> torch.device:
        return next(iter(self.params.values())).device

    def with_params(self, params: dict[str, torch.Tensor]) -> "Ensemble":
        """A new ensemble of this architecture holding copies of ``params`` (same names and shapes,
        e.g. a checkpoint from a TrainReport or the params of an IMP round)."""
        if set(params) != set(self.params):
            raise ValueError(f"params must have the names {list(self.params)}, got {list(params)}")
        for n, p in self.params.items():
            if tuple(params[n].shape) != tuple(p.shape):
                raise ValueError(f"params[{n!r}] must have shape {tuple(p.shape)}, "
                                 f"got {tuple(params[n].shape)}")
        return self._with_params({n: params[n].detach().to(device=self.device, dtype=self.dtype)
                                  .clone() for n in self.params}, self.seeds)

    def _with_params(self, params: dict[str, torch.Tensor], seeds: tuple[int, ...]) -> "Ensemble":
        return Ensemble(self.arch, params, input_dim=self.input_dim, hidden=self.hidden,
                        activation=self.activation, bias=self.bias,
                        train_readout=self.train_readout, seeds=seeds, init_scale=self.init_scale)

    def clone(self) -> "Ensemble":
        """An independent copy (params copied)."""
        return self._with_params({n: p.detach().clone() for n, p in self.params.items()},
                                 self.seeds)

    def take(self, indices: Sequence[int]) -> "Ensemble":
        """A new ensemble whose member j is a copy of member ``indices[j]`` (repeats allowed);
        used to branch one trained model into many pruning levels."""
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64).reshape(-1))
        K = self.n_members
        if idx.numel() < 1 or int(idx.min()) < -K or int(idx.max()) >= K:
            raise ValueError(f"indices must be a non-empty sequence of member indices in "
                             f"[0, {K}), got {list(indices)!r}")
        idx = idx % K
        params = {n: p.detach()[idx.to(p.device)].clone() for n, p in self.params.items()}
        return self._with_params(params, tuple(self.seeds[i] for i in idx.tolist()))

    def to(self, device=None, dtype: torch.dtype | None = None) -> "Ensemble":
        """A copy on another device and/or dtype."""
        params = {n: p.detach().to(device=device, dtype=dtype).clone()
                  for n, p in self.params.items()}
        return self._with_params(params, self.seeds)

    def __repr__(self) -> str:
        return (f"Ensemble(arch={self.arch!r}, n_members={self.n_members}, input_dim="
                f"{self.input_dim}, hidden={self.hidden}, activation={self.activation!r}, "
                f"bias={self.bias}, train_readout={self.train_readout}, dtype={self.dtype}, "
                f"device={self.device})")

    # ------------------------------------------------------------------ forward
    def check_inputs(self, X) -> torch.Tensor:
        """X as a tensor on the ensemble's device/dtype; shape (n, D) or (K, n, D)."""
        X = torch.as_tensor(X).to(device=self.device, dtype=self.dtype)
        K, D = self.n_members, self.input_dim
        if not ((X.dim() == 2 and X.shape[1] == D) or
                (X.dim() == 3 and X.shape[0] == K and X.shape[2] == D)):
            raise ValueError(f"X must have shape (n, {D}) shared by all members or ({K}, n, {D}) "
                             f"per member, got {tuple(X.shape)}")
        return X

    def forward(self, X, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Outputs f of every member on its inputs: (K, n). X is (n, D) or (K, n, D).

        ``params`` (default ``self.params``) may be any dict of the same names and shapes, e.g. a
        checkpoint or an interpolation between two solutions."""
        X = self.check_inputs(X)
        return self._forward(X, self.params if params is None else params)

    __call__ = forward

    def representation(self, X, layer, params: dict[str, torch.Tensor] | None = None
                       ) -> torch.Tensor:
        """Activations (after the nonlinearity) of hidden layer ``layer`` (0-based int), or the
        output for ``layer="output"``: (K, n, width)."""
        X = self.check_inputs(X)
        params = self.params if params is None else params
        if layer == "output":
            return self._forward(X, params).unsqueeze(-1)
        n_hidden = len(self.hidden)
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or \
                not 0 <= layer < n_hidden:
            allowed = "'output'" if n_hidden == 0 else f"an int in [0, {n_hidden}) or 'output'"
            raise ValueError(f"layer must be {allowed}, got {layer!r}")
        a = X
        for i in range(int(layer) + 1):
            a = self._hidden_layer(a, params, i)
        return a

    def _hidden_layer(self, a: torch.Tensor, params, i: int, transposed: bool = False
                      ) -> torch.Tensor:
        W = params[f"w{i}"]
        b = params.get(f"b{i}")
        Wt = W if transposed else W.transpose(1, 2)
        z = _affine(a, Wt, b, 1.0 / math.sqrt(Wt.shape[1]))
        if torch.is_grad_enabled() and z.requires_grad:
            return self._act(z)
        return _ACT_INPLACE[self.activation](z)  # z is fresh: no second (K, n, h) allocation

    def _forward(self, X: torch.Tensor, params, transposed: bool = False) -> torch.Tensor:
        """Outputs (K, n). ``transposed``: the hidden weight matrices in ``params`` are stored as
        (K, fan_in, h) (the training loop's contiguous working layout, faster batched products)."""
        if self.arch == "linear":
            w, b = params["w"], params.get("b")
            scale = 1.0 / math.sqrt(self.input_dim)
            if X.dim() == 2:
                f = (X @ w.T).T * scale
            else:  # (K, 1, D) @ (K, D, n): a row times a matrix (faster than a matrix times a column)
                f = torch.bmm(w.unsqueeze(1), X.transpose(1, 2)).squeeze(1) * scale
            return f if b is None else f + b.unsqueeze(-1)
        a = X
        if X.dim() == 2 and not _needs_grad(X, params):
            # shared inputs, no gradient: chunks of examples, each broadcast over the members
            # (a stride-0 batch for bmm, no copy), so the (K, chunk, h) activations stay in cache
            n, K = X.shape[0], next(iter(params.values())).shape[0]
            if n > _EVAL_CHUNK:
                return torch.cat([self._forward(X[i:i + _EVAL_CHUNK], params, transposed)
                                  for i in range(0, n, _EVAL_CHUNK)], dim=1)
            a = X.expand(K, n, X.shape[1])
        for i in range(len(self.hidden)):
            a = self._hidden_layer(a, params, i, transposed)
        w_out = params["w_out"]
        scale = 1.0 if self.arch == "committee" else 1.0 / math.sqrt(w_out.shape[-1])
        b_out = params.get("b_out")
        aT = a.transpose(1, 2)  # the readout as (K, 1, h) @ (K, h, n): a row times a matrix
        if b_out is None:
            return torch.bmm(w_out.unsqueeze(1), aT).squeeze(1) * scale
        return torch.baddbmm(b_out[:, None, None], w_out.unsqueeze(1), aT, alpha=scale).squeeze(1)


def _needs_grad(X: torch.Tensor, params) -> bool:
    return torch.is_grad_enabled() and (X.requires_grad or
                                        any(p.requires_grad for p in params.values()))


def _affine(a: torch.Tensor, Wt: torch.Tensor, b: torch.Tensor | None, scale: float
            ) -> torch.Tensor:
    """Batched a Wt * scale + b. a: (n, f) shared or (K, n, f); Wt: (K, f, h) (a transposed view of
    a (K, h, f) weight, or contiguous); b: (K, h) -> (K, n, h)."""
    K, f, h = Wt.shape
    if a.dim() == 2:
        Wf = Wt.transpose(0, 1).reshape(f, K * h)
        if b is None:
            z = (a @ Wf) * scale
        else:
            z = torch.addmm(b.reshape(K * h), a, Wf, alpha=scale)
        return z.view(a.shape[0], K, h).transpose(0, 1)
    if b is None:
        return torch.bmm(a, Wt) * scale
    return torch.baddbmm(b.unsqueeze(1), a, Wt, alpha=scale)


def make_ensemble(arch: str, n_members: int, input_dim: int, *, hidden: Sequence[int] = (),
                  activation: str = "relu", bias: bool = True, train_readout: bool = True,
                  seeds: Sequence[int], init_scale: float = 1.0,
                  dtype: torch.dtype = torch.float32, device="cpu") -> Ensemble:
    """Build K = ``n_members`` students of one architecture (see the module docstring).

    ``hidden``: widths of the hidden layers (mlp: >= 1 layer; committee: exactly one, the number
    of hidden units H; linear: empty). ``activation`` applies to the mlp; the committee always
    uses erf units and the linear student has none. ``seeds``: K ints, member k's init uses seeds[k] only.
    ``init_scale`` multiplies the N(0, 1) weight init. ``device``: "cpu" (default) or a CUDA
    device, which must be available.
    """
    arch = check_choice("arch", arch, ARCHS)
    K = check_int("n_members", n_members, 1)
    D = check_int("input_dim", input_dim, 1)
    activation = check_choice("activation", activation, ACTIVATIONS)
    if isinstance(hidden, (int, np.integer)):
        hidden = (hidden,)
    hidden = tuple(check_int("hidden width", h, 1) for h in hidden)
    if arch == "linear" and hidden:
        raise ValueError(f"hidden must be () for arch='linear', got {hidden!r}")
    if arch == "mlp" and not hidden:
        raise ValueError("hidden must hold at least one width for arch='mlp' (use arch='linear' "
                         "for no hidden layer), got ()")
    if arch == "committee":
        if len(hidden) != 1:
            raise ValueError(f"hidden must be (H,), the number of hidden units, for "
                             f"arch='committee', got {hidden!r}")
        activation = "erf"  # the soft committee machine is defined with erf units
    seeds = check_seeds("seeds", seeds, K)
    if not isinstance(init_scale, (int, float, np.floating)) or not math.isfinite(init_scale) \
            or init_scale < 0:
        raise ValueError(f"init_scale must be a finite number >= 0, got {init_scale!r}")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was asked for but CUDA is not available; "
                         f"use device='cpu'")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or a CUDA device, got {str(device)!r}")

    shapes: list[tuple[str, tuple[int, ...], str]] = []  # name, per-member shape, init kind
    if arch == "linear":
        shapes.append(("w", (D,), "normal"))
        if bias:
            shapes.append(("b", (), "zero"))
    else:
        fan_in = D
        for i, h in enumerate(hidden):
            shapes.append((f"w{i}", (h, fan_in), "normal"))
            if bias:
                shapes.append((f"b{i}", (h,), "zero"))
            fan_in = h
        if arch == "committee":
            shapes.append(("w_out", (fan_in,), "mean"))
        else:
            shapes.append(("w_out", (fan_in,), "normal"))
            if bias:
                shapes.append(("b_out", (), "zero"))

    params = {n: torch.empty((K,) + s, dtype=torch.float64) for n, s, _ in shapes}
    for k, seed in enumerate(seeds):
        g = torch.Generator().manual_seed(seed)
        for name, shape, kind in shapes:
            if kind == "normal":
                params[name][k] = torch.randn(shape, generator=g, dtype=torch.float64) * init_scale
            elif kind == "zero":
                params[name][k] = 0.0
            else:
                params[name][k] = 1.0 / shape[0]
    params = {n: p.to(device=device, dtype=dtype) for n, p in params.items()}
    return Ensemble(arch, params, input_dim=D, hidden=hidden, activation=activation, bias=bool(bias),
                    train_readout=bool(train_readout), seeds=seeds, init_scale=float(init_scale))


def count_params(ens: Ensemble, masks: dict[str, torch.Tensor] | None = None) -> np.ndarray:
    """Trainable, unpruned parameters per member: (K,) int64 (docs/design.md's n_params N).

    A param counts if it is in ``ens.trainable`` and, where ``masks`` has an entry for it, its
    mask is True."""
    K = ens.n_members
    total = np.zeros(K, dtype=np.int64)
    for name in ens.trainable:
        p = ens.params[name]
        if masks is not None and name in masks:
            total += masks[name].reshape(K, -1).sum(1).cpu().numpy().astype(np.int64)
        else:
            total += int(p[0].numel())
    return total
