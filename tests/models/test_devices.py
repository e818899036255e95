"""Device and dtype handling of the training engine, checked without a GPU: the whole hot path runs
on the "meta" device (no data: any CPU tensor mixed into an operation, any hidden ``.cpu()``,
``.item()`` or ``.numpy()`` raises), every floating tensor a float64 run makes is float64, and the
chunking of members (CPU only) leaves one chunk elsewhere."""
import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import models
from models import training


def _problem(K=6, P=40, D=5, per_member=False, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn((K, P, D) if per_member else (P, D), generator=g, dtype=dtype)
    y = torch.sign(X[..., 0] + 0.3)
    return X, y


CONFIGS = [
    dict(loss="logistic", lr=0.2, epochs=3, batch_size=8),
    dict(loss="mse", lr=0.1, epochs=3, batch_size=16, momentum=0.9, weight_decay=1e-3,
         langevin_T=[0.0, 0.01, 0.0, 0.02, 0.0, 0.0], schedule=models.Schedule("cosine")),
    dict(loss="hinge", lr=0.1, steps=7, batch_size=10, momentum=0.5, nesterov=True,
         sam_rho=0.05, weight_decay=1e-3, checkpoints=(1, 2), history=True),
    dict(loss="logistic", lr=[0.1, 0.2, 0.3, 0.1, 0.2, 0.3], epochs=4),  # full batch
]


class _Devices(TorchDispatchMode):
    """Records the devices and floating dtypes of every operation's tensor outputs."""

    def __init__(self):
        super().__init__()
        self.devices, self.dtypes = set(), set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.devices.add((func.__name__.split(".")[0], t.device.type))
                if t.is_floating_point():
                    self.dtypes.add((func.__name__.split(".")[0], t.dtype))
        return out


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("per_member", [False, True])
def test_the_training_hot_path_runs_on_a_device_without_host_data(cfg, per_member, monkeypatch):
    """On the meta device the step loop, the batches, the masks and the rule run as they would on
    CUDA; the two intended host reads (the per-step finiteness of one sum, the epoch-end and final
    evaluations that fill the report) are replaced by stand-ins."""
    K = 6
    X, y = _problem(K, per_member=per_member)
    cpu = models.make_ensemble("mlp", K, 5, hidden=(4, 3), seeds=range(K), dtype=torch.float64)
    masks = models.magnitude_masks(cpu, 0.5)
    ens = cpu.to(device="meta")
    evaluations = []

    def fake_evaluate(ens_, X_, y_, work, loss, alive):
        assert all(t.device.type == "meta" for t in [X_, y_, alive, *work.values()])
        evaluations.append(alive.shape[0])
        return np.zeros(alive.shape[0]), np.zeros(alive.shape[0])
    monkeypatch.setattr(training, "_evaluate_work", fake_evaluate)
    monkeypatch.setattr(training, "_all_finite", lambda total: total.device.type == "meta")
    monkeypatch.setattr(training._Run, "report", lambda self: self)
    seen = _Devices()
    with seen:
        run = models.train(ens, X.to("meta"), y.to("meta"), models.TrainConfig(**cfg),
                           masks={n: m.to("meta") for n, m in masks.items()}, seeds=range(K))
    assert run.steps > 0 and evaluations
    assert all(p.device.type == "meta" and p.dtype == torch.float64 for p in ens.params.values())
    # on the host: only the random draws of the members' CPU generators (then moved over)
    host = {name for name, dev in seen.devices if dev == "cpu"}
    assert host <= {"randperm", "randn", "normal_", "resize_", "zeros", "empty", "_to_copy",
                    "lift_fresh", "alias", "select", "view", "slice", "detach", "unbind"}, host


@pytest.mark.parametrize("cfg", CONFIGS)
def test_a_float64_run_makes_only_float64_tensors(cfg):
    K = 6
    X, y = _problem(K, per_member=True)
    ens = models.make_ensemble("mlp", K, 5, hidden=(4,), seeds=range(K), dtype=torch.float64)
    seen = _Devices()
    with seen:
        models.train(ens, X, y, models.TrainConfig(**cfg), masks=models.magnitude_masks(ens, 0.3),
                     seeds=range(K))
    assert {dt for _, dt in seen.dtypes} == {torch.float64}, seen.dtypes
    # and float32 stays float32: no arithmetic in float64 (only the conversions of the numpy
    # coefficients on the way in and of the report on the way out)
    ens32 = models.make_ensemble("mlp", K, 5, hidden=(4,), seeds=range(K))
    seen = _Devices()
    with seen:
        rep = models.train(ens32, X.float(), y.float(), models.TrainConfig(**cfg), seeds=range(K))
    wide = {name for name, dt in seen.dtypes if dt == torch.float64}
    assert wide <= {"_to_copy", "lift_fresh", "detach", "alias"}, wide
    assert rep.train_loss.dtype == np.float64


def test_members_are_chunked_on_the_cpu_only_and_the_chunks_cover_them_evenly(monkeypatch):
    ens = models.make_ensemble("mlp", 103, 100, hidden=(32,), seeds=range(103))
    monkeypatch.setattr(training, "_CHUNK_BYTES", 1 << 20)
    chunks = training._member_chunks(ens, 64, False)
    sizes = [c.stop - c.start for c in chunks]
    assert len(chunks) > 1 and chunks[0].start == 0 and chunks[-1].stop == 103
    assert all(a.stop == b.start for a, b in zip(chunks, chunks[1:]))
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= training._MIN_CHUNK
    per_member = 4 * (2 * (100 * 32 + 32 + 32 + 1) + 64 * (100 + 32 + 2 * 32 + 4))  # params x2, batch, intermediates
    budget = max(training._MIN_CHUNK, (1 << 20) // per_member)  # members in the working-set budget
    assert budget <= min(sizes) and max(sizes) < 2 * budget  # at least the budget, fewer than twice it
    for K in (10, 14, 64, 65):  # even splits for any K
        sizes = [c.stop - c.start for c in training._member_chunks(
            models.make_ensemble("mlp", K, 100, hidden=(32,), seeds=range(K)), 64, False)]
        assert sum(sizes) == K and max(sizes) - min(sizes) <= 1
    assert len(training._member_chunks(ens, 64, True)) >= len(chunks)  # velocities: more bytes
    assert training._member_chunks(ens.to(device="meta"), 64, False) == [slice(0, 103)]
