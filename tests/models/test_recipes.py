"""Training recipes: momentum (heavy ball, Nesterov), learning-rate schedules, steps mode,
checkpoint losses and histories, resuming at an epoch; against torch.optim.SGD and
torch.optim.lr_scheduler, members alone against members inside an ensemble, masks, the Gibbs law
with momentum, and bad input."""
import math

import numpy as np
import pytest
import torch
from scipy.linalg import solve_discrete_lyapunov
from torch.optim import lr_scheduler as lrs

import models
from models.losses import pointwise_loss

F64 = torch.float64


def _data(P, D, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(P, D, generator=g, dtype=dtype)
    y = torch.sign(X @ torch.randn(D, generator=g, dtype=dtype))
    return X, y


# ---------------------------------------------------------------------- schedules alone
def _torch_lrs(make, n_steps, per_epoch_calls=None):
    """The lr that torch uses at each optimiser step, the scheduler stepped after every step
    (or, with ``per_epoch_calls``, after every ``per_epoch_calls`` steps)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sch = make(opt)
    out = []
    for s in range(n_steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if per_epoch_calls is None or (s + 1) % per_epoch_calls == 0:
            sch.step()
    return np.array(out)


@pytest.mark.parametrize("schedule,make,per_epoch", [
    (models.Schedule("step", milestones=(30, 45), unit="step", factor=0.1),
     lambda o: lrs.MultiStepLR(o, milestones=[30, 45], gamma=0.1), None),
    (models.Schedule("step", milestones=(0.5, 0.75), factor=0.2),  # fractions of 60 steps
     lambda o: lrs.MultiStepLR(o, milestones=[30, 45], gamma=0.2), None),
    # epoch milestones evaluated per step equal MultiStepLR stepped once per epoch (6 steps)
    (models.Schedule("step", milestones=(4, 7), unit="epoch", factor=0.1),
     lambda o: lrs.MultiStepLR(o, milestones=[4, 7], gamma=0.1), 6),
    (models.Schedule("cosine", final=0.05),
     lambda o: lrs.CosineAnnealingLR(o, T_max=60, eta_min=0.05), None),
    (models.Schedule("cosine"), lambda o: lrs.CosineAnnealingLR(o, T_max=60), None),
    (models.Schedule(warmup=12, warmup_unit="step", warmup_start=0.1),
     lambda o: lrs.LinearLR(o, start_factor=0.1, total_iters=12), None),
    (models.Schedule("step", milestones=(5, 8), unit="epoch", warmup=2, warmup_start=0.25),
     lambda o: lrs.ChainedScheduler([lrs.LinearLR(o, start_factor=0.25, total_iters=12),
                                     lrs.MultiStepLR(o, milestones=[30, 48], gamma=0.1)]), None),
    (models.Schedule("cosine", warmup=0.1, warmup_unit="fraction", warmup_start=0.5),
     lambda o: lrs.ChainedScheduler([lrs.LinearLR(o, start_factor=0.5, total_iters=6),
                                     lrs.CosineAnnealingLR(o, T_max=60)]), None),
])
def test_schedule_multipliers_equal_torch_lr_scheduler(schedule, make, per_epoch):
    m = schedule.multipliers(60, 6)  # 60 steps, 6 per epoch
    np.testing.assert_allclose(m, _torch_lrs(make, 60, per_epoch), rtol=1e-12, atol=1e-15)


def test_schedule_from_spec_and_warmup_from_zero():
    s = models.Schedule.from_spec({"kind": "step", "milestones": [80, 120], "unit": "epoch"})
    assert s == models.Schedule("step", milestones=(80, 120), unit="epoch", factor=0.1)
    m = s.multipliers(160 * 3, 3)
    assert m[80 * 3 - 1] == 1.0 and m[80 * 3] == pytest.approx(0.1) and m[-1] == pytest.approx(0.01)
    w = models.Schedule(warmup=4, warmup_unit="step").multipliers(10, 10)
    np.testing.assert_allclose(w, [0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1, 1])


# ---------------------------------------------------------------------- against torch.optim
def _torch_reference(ens, X, y, loss, *, lr, epochs=None, steps=None, batch_size=None,
                     momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None, seed=0,
                     masks=None, sam_rho=0.0, langevin=None):
    """Member 0 of ``ens`` trained by torch.optim.SGD (+ a torch.optim.lr_scheduler factory
    ``schedule(opt)`` stepped after every step), gradients by autograd through Ensemble.forward,
    data order: one randperm per epoch from torch.Generator(seed), as models.train draws it.
    SAM: the gradient at w + rho d/|d| put into .grad before the step. ``langevin(step)``: a
    dict name -> noise added to .grad (noise on the velocity)."""
    ps = {n: p[:1].clone().requires_grad_(n in ens.trainable) for n, p in ens.params.items()}
    trainable = [ps[n] for n in ens.trainable]
    opt = torch.optim.SGD(trainable, lr=lr, momentum=momentum, nesterov=nesterov,
                          weight_decay=weight_decay)
    sch = schedule(opt) if schedule is not None else None
    P = X.shape[0]
    B = P if batch_size is None else batch_size
    nb = math.ceil(P / B)
    total = steps if steps is not None else epochs * nb
    g = torch.Generator().manual_seed(seed)
    masks = masks or {}
    with torch.no_grad():
        for n, m in masks.items():
            ps[n].mul_(m[:1])

    def grads_at(params, xb, yb):
        L = pointwise_loss(ens.forward(xb, params), yb, loss).mean()
        gr = torch.autograd.grad(L, [params[n] for n in ens.trainable])
        return {n: (gg * masks[n][:1] if n in masks else gg) for n, gg in zip(ens.trainable, gr)}

    step = 0
    while step < total:
        perm = torch.randperm(P, generator=g) if B < P else torch.arange(P)
        for b in range(nb):
            if step == total:
                break
            idx = perm[b * B:(b + 1) * B]
            xb, yb = X[idx], y[idx]
            gr = grads_at(ps, xb, yb)
            if sam_rho > 0:
                norm = torch.sqrt(sum((gg ** 2).sum() for gg in gr.values()))
                shifted = dict(ps)
                for n in ens.trainable:
                    shifted[n] = (ps[n] + sam_rho * gr[n] / norm).detach().requires_grad_(True)
                gr = grads_at(shifted, xb, yb)
            if langevin is not None:
                gr = {n: gg + langevin(step)[n] for n, gg in gr.items()}
            for n in ens.trainable:
                ps[n].grad = gr[n].detach().clone()
            opt.step()
            if sch is not None:
                sch.step()
            step += 1
    return {n: p.detach() for n, p in ps.items()}


def _mlp(K=1, D=5, seeds=None, **kw):
    kw = {"hidden": (6, 4), "activation": "tanh", **kw}
    return models.make_ensemble("mlp", K, D, seeds=seeds or list(range(3, 3 + K)), dtype=F64, **kw)


@pytest.mark.parametrize("case", [
    dict(momentum=0.9, weight_decay=1e-2, epochs=6, batch_size=8,
         schedule=(models.Schedule("step", milestones=(2, 4), unit="epoch"),
                   lambda o: lrs.MultiStepLR(o, milestones=[10, 20], gamma=0.1))),
    dict(momentum=0.8, nesterov=True, weight_decay=5e-3, epochs=5, batch_size=10,
         schedule=(models.Schedule("cosine", final=0.1),
                   lambda o: lrs.CosineAnnealingLR(o, T_max=20, eta_min=0.03))),
    dict(momentum=0.5, epochs=4, batch_size=7,  # a short last batch (40 = 5 * 7 + 5)
         schedule=(models.Schedule("step", milestones=(0.5,), warmup=1, warmup_start=0.2),
                   lambda o: lrs.ChainedScheduler([lrs.LinearLR(o, start_factor=0.2,
                                                                total_iters=6),
                                                   lrs.MultiStepLR(o, [12], gamma=0.1)]))),
    dict(momentum=0.9, steps=23, batch_size=8, weight_decay=1e-3,  # steps mode: 4.6 epochs
         schedule=(models.Schedule("cosine", warmup=5, warmup_unit="step", warmup_start=0.1),
                   lambda o: lrs.ChainedScheduler([lrs.LinearLR(o, start_factor=0.1,
                                                                total_iters=5),
                                                   lrs.CosineAnnealingLR(o, T_max=23)]))),
    dict(momentum=0.9, epochs=8, weight_decay=1e-2, loss="mse"),  # full batch
    dict(momentum=0.9, epochs=4, batch_size=10, weight_decay=1e-3, sam_rho=0.05, masked=True),
    dict(momentum=0.7, nesterov=True, epochs=4, batch_size=10, masked=True, loss="hinge"),
])
def test_one_member_equals_torch_sgd_and_lr_scheduler(case):
    case = dict(case)
    sched = case.pop("schedule", None)
    masked = case.pop("masked", False)
    loss = case.pop("loss", "logistic")
    X, y = _data(40, 5)
    ens = _mlp()
    masks = models.magnitude_masks(ens, 0.4) if masked else None
    ref = _torch_reference(ens, X, y, loss, lr=0.3, seed=11, masks=masks,
                           schedule=None if sched is None else sched[1], **case)
    cfg = models.TrainConfig(loss=loss, lr=0.3, schedule=None if sched is None else sched[0],
                             **case)
    models.train(ens, X, y, cfg, masks=masks, seeds=[11])
    for n in ens.params:
        torch.testing.assert_close(ens.params[n], ref[n], rtol=1e-9, atol=1e-11)
    if masks:
        for n, m in masks.items():
            assert torch.all(ens.params[n][~m] == 0)



def test_langevin_with_momentum_is_torch_sgd_with_noise_on_the_velocity():
    """Heavy ball with noise sigma xi, sigma = sqrt(2 (1 - mu) T / (lr P)), added to the gradient
    (so to the velocity) of torch.optim.SGD; the noise drawn as models.train draws it (member
    generator, chunks of 1024 // n steps of n numbers, params in order)."""
    P, D, mu, T, lr, epochs = 30, 4, 0.8, 0.05, 0.2, 40
    X, y = _data(P, D)
    ens = models.make_ensemble("linear", 1, D, seeds=[1], dtype=F64)
    sched = models.Schedule("step", milestones=(0.5,), factor=0.5)
    n = D + 1
    chunk = 1024 // n
    g = torch.Generator().manual_seed(9)
    draws = []

    def noise(step):
        while len(draws) <= step:
            draws.extend(torch.randn(chunk * n, generator=g, dtype=F64).view(chunk, n))
        lr_s = lr * (0.5 if step >= epochs // 2 else 1.0)
        xi = draws[step] * math.sqrt(2 * (1 - mu) * T / (lr_s * P))
        return {"w": xi[:D].view(1, D), "b": xi[D:].view(1)}

    ref = _torch_reference(ens, X, y, "mse", lr=lr, epochs=epochs, momentum=mu,
                           weight_decay=1e-2, seed=9, langevin=noise,
                           schedule=lambda o: lrs.MultiStepLR(o, [epochs // 2], gamma=0.5))
    cfg = models.TrainConfig(loss="mse", lr=lr, epochs=epochs, momentum=mu, weight_decay=1e-2,
                             langevin_T=T, schedule=sched)
    models.train(ens, X, y, cfg, seeds=[9])
    for name in ens.params:
        torch.testing.assert_close(ens.params[name], ref[name], rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------------- members alone vs inside
_SCHED_STEP = models.Schedule("step", milestones=(0.4, 0.8), factor=0.2)
_SCHED_COS = models.Schedule("cosine", final=0.05, warmup=1, warmup_start=0.1)


@pytest.mark.parametrize("cfg_kwargs", [
    dict(momentum=0.9, weight_decay=1e-3, batch_size=8, epochs=5, schedule=_SCHED_STEP),
    dict(momentum=np.linspace(0.5, 0.95, 10), nesterov=True, batch_size=10, epochs=4,
         schedule=_SCHED_COS),
    dict(momentum=[0.0, 0.9] * 5, steps=17, batch_size=8, weight_decay=1e-2,
         schedule={"kind": "cosine", "warmup": 3, "warmup_unit": "step"}),
    dict(momentum=0.8, batch_size=10, epochs=3, sam_rho=0.05, weight_decay=1e-3, masked=True),
    dict(momentum=0.9, loss="mse", epochs=20, langevin_T=0.02, weight_decay=1e-2,
         schedule=_SCHED_STEP),
    dict(momentum=0.5, batch_size=8, epochs=6, masked=True,
         schedule=[models.Schedule("step", milestones=(k + 1,), unit="epoch") for k in range(5)]
         + [_SCHED_COS] * 5),
    dict(steps=13, batch_size=10, schedule=_SCHED_COS, langevin_T=0.01),  # no momentum
])
def test_member_inside_ensemble_of_10_matches_training_alone(cfg_kwargs):
    cfg_kwargs = dict(cfg_kwargs)
    masked = cfg_kwargs.pop("masked", False)
    K, P, D = 10, 40, 5
    X, y = _data(P, D, seed=1)
    lr = np.linspace(0.05, 0.4, K)
    init = list(range(20, 20 + K))
    order = list(range(50, 50 + K))
    ens = _mlp(K, D, seeds=init)
    masks = models.magnitude_masks(ens, np.linspace(0.1, 0.8, K)) if masked else None

    def member(v, k):
        if isinstance(v, (list, np.ndarray)) and len(v) == K:
            return v[k]
        return v

    rep = models.train(ens, X, y, models.TrainConfig(lr=lr, **cfg_kwargs), masks=masks,
                       seeds=order)
    assert not rep.diverged.any()
    for k in (0, 3, 9):
        one = _mlp(1, D, seeds=[init[k]])
        mk = None if masks is None else {n: m[k:k + 1] for n, m in masks.items()}
        kw = {n: member(v, k) for n, v in cfg_kwargs.items()}
        if isinstance(cfg_kwargs.get("schedule"), list):
            kw["schedule"] = cfg_kwargs["schedule"][k]
        r1 = models.train(one, X, y, models.TrainConfig(lr=lr[k], **kw), masks=mk,
                          seeds=[order[k]])
        for n in ens.params:
            torch.testing.assert_close(ens.params[n][k], one.params[n][0], rtol=1e-9, atol=1e-11)
        assert rep.train_loss[k] == pytest.approx(r1.train_loss[0], rel=1e-9)
        assert r1.steps == rep.steps
    assert not torch.allclose(ens.params["w0"][0], ens.params["w0"][1])


def test_masked_weights_and_their_velocities_stay_exactly_zero(monkeypatch):
    from models import training
    seen = []
    real = training._momentum_step

    def spy(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes, state, step):
        real(ens, work, spare, Xb, yb, loss, names, masks, rule, rng, sizes, state, step)
        seen.append(({n: state.vel[n].clone() for n in masks},
                     {n: work[n].clone() for n in masks}, masks))
    monkeypatch.setattr(training, "_momentum_step", spy)
    K, P, D = 4, 40, 6
    X, y = _data(P, D, dtype=torch.float32)
    ens = models.make_ensemble("mlp", K, D, hidden=(6, 5), seeds=range(K))
    masks = models.magnitude_masks(ens, [0.3, 0.5, 0.7, 0.9])
    before = {n: p.clone() for n, p in ens.params.items()}
    cfg = models.TrainConfig(lr=0.3, epochs=5, batch_size=10, momentum=[0.9, 0.5, 0.9, 0.99],
                             langevin_T=0.05, weight_decay=1e-2, sam_rho=0.05,
                             schedule=_SCHED_STEP)
    rep = models.train(ens, X, y, cfg, masks=masks, seeds=range(K))
    assert not rep.diverged.any() and len(seen) == rep.steps == 20
    for vel, w, mw in seen:
        for n, m in mw.items():
            assert torch.all(vel[n][~m] == 0) and torch.all(w[n][~m] == 0)
            assert torch.all(vel[n][m] != 0)  # the kept weights do have a velocity
    for n, m in masks.items():
        assert torch.all(ens.params[n][~m] == 0)
        assert torch.all(ens.params[n][m] != before[n][m])
    nesterov = models.TrainConfig(lr=0.3, epochs=2, batch_size=10, momentum=0.9, nesterov=True)
    models.train(ens, X, y, nesterov, masks=masks, seeds=range(K))
    for n, m in masks.items():
        assert torch.all(ens.params[n][~m] == 0)


# ---------------------------------------------------------------------- the Gibbs law
def test_langevin_with_momentum_samples_the_gibbs_posterior_with_the_stated_bias():
    """Linear student, mse, weight decay: E/P quadratic with Hessian A = X^T X / (D P) + lam I.
    The heavy-ball chain with noise on the velocity is linear in (w, v); its exact stationary
    covariance (a discrete Lyapunov equation, solved by scipy) equals the closed form of the
    module docstring, T/P A^{-1} (I - lr A / (2 (1 + mu)))^{-1}, which tends to the Gibbs
    covariance T/P A^{-1} as lr -> 0; the ensemble samples it."""
    K, P, D = 6000, 20, 4
    T, lam, lr, mu = 0.5, 0.2, 0.1, 0.6
    X, _ = _data(P, D, seed=3)
    g = torch.Generator().manual_seed(4)
    y = X @ torch.randn(D, generator=g, dtype=F64) / math.sqrt(D) + 0.3 * torch.randn(
        P, generator=g, dtype=F64)
    Xn, yn = X.numpy(), y.numpy()
    A = Xn.T @ Xn / (D * P) + lam * np.eye(D)
    mean = np.linalg.solve(A, Xn.T @ yn / (math.sqrt(D) * P))
    # the chain on z = (w - mean, v): v' = mu v + A w + sigma xi, w' = w - lr v'
    sigma2 = 2 * (1 - mu) * T / (lr * P)
    I = np.eye(D)
    M = np.block([[I - lr * A, -lr * mu * I], [A, mu * I]])
    Nz = np.block([[-lr * I], [I]])
    C = solve_discrete_lyapunov(M, sigma2 * Nz @ Nz.T)[:D, :D]
    closed = T / P * np.linalg.inv(A) @ np.linalg.inv(I - lr * A / (2 * (1 + mu)))
    np.testing.assert_allclose(C, closed, rtol=1e-9, atol=1e-12)
    gibbs = T / P * np.linalg.inv(A)
    bias = np.abs(np.diag(closed) / np.diag(gibbs) - 1).max()
    assert 0 < bias < 0.04
    epochs = 400
    assert np.abs(np.linalg.eigvals(M)).max() ** epochs < 1e-6  # the start is forgotten
    ens = models.make_ensemble("linear", K, D, bias=False, init_scale=0.0, seeds=range(K),
                               dtype=F64)
    cfg = models.TrainConfig(loss="mse", lr=lr, epochs=epochs, momentum=mu, langevin_T=T,
                             weight_decay=lam)
    rep = models.train(ens, X, y, cfg, seeds=range(K, 2 * K))
    assert not rep.diverged.any()
    W = ens.params["w"].numpy()
    Z = np.linalg.solve(np.linalg.cholesky(C), (W - mean).T).T
    se = 1 / math.sqrt(K)
    assert np.abs(Z.mean(0)).max() < 5 * se
    Cz = np.cov(Z.T)
    assert np.abs(np.diag(Cz) - 1).max() < 5 * math.sqrt(2) * se
    assert np.abs(Cz - np.diag(np.diag(Cz))).max() < 5 * se
    # a wrong temperature convention (noise on the position, or no (1 - mu)) is far outside
    assert abs(W.var(0).sum() / np.trace(gibbs) - 1) < bias + 0.05


# ---------------------------------------------------------------------- checkpoints and history
def test_checkpoints_of_one_run_record_train_loss_and_error_and_history():
    P, D, K = 60, 6, 3
    X, y = _data(P, D, seed=2)
    ens = _mlp(K, D)
    init = ens.clone()
    sched = models.Schedule("step", milestones=(8, 12), unit="epoch")  # 160/80/120, scaled
    cfg = models.TrainConfig(lr=0.5, epochs=16, batch_size=12, momentum=0.9, weight_decay=1e-4,
                             schedule=sched, checkpoints=range(0, 17, 2), history=True)
    rep = models.train(ens, X, y, cfg, seeds=[1, 2, 3])
    assert sorted(rep.checkpoints) == list(range(0, 17, 2)) == sorted(rep.checkpoint_loss)
    assert rep.loss_history.shape == rep.error_history.shape == (17, K)
    for e, params in rep.checkpoints.items():
        ev = models.evaluate(ens, X, y, params=params)
        np.testing.assert_allclose(rep.checkpoint_loss[e], ev["loss"], rtol=1e-10)
        np.testing.assert_allclose(rep.checkpoint_error[e], ev["error"])
        np.testing.assert_allclose(rep.loss_history[e], ev["loss"], rtol=1e-10)
    ev0 = models.evaluate(init, X, y)
    np.testing.assert_allclose(rep.initial_loss, ev0["loss"], rtol=1e-12)
    np.testing.assert_allclose(rep.initial_error, ev0["error"])
    np.testing.assert_allclose(rep.loss_history[-1], rep.train_loss, rtol=1e-10)
    np.testing.assert_allclose(rep.checkpoint_error[16], rep.train_error)
    assert (rep.loss_history[-1] < rep.loss_history[0]).all()
    # the checkpoint at epoch 8 is the run stopped there: 8 epochs of the same recipe
    part = _mlp(K, D)
    short = models.TrainConfig(lr=0.5, epochs=8, batch_size=12, momentum=0.9, weight_decay=1e-4)
    r8 = models.train(part, X, y, short, seeds=[1, 2, 3])
    for n in part.params:
        torch.testing.assert_close(part.params[n], rep.checkpoints[8][n], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(r8.train_loss, rep.checkpoint_loss[8], rtol=1e-9)
    # without history or checkpoint 0 nothing extra is evaluated
    plain = models.train(_mlp(K, D), X, y, short, seeds=[1, 2, 3])
    assert plain.loss_history is None and plain.initial_loss is None and not plain.checkpoint_loss


def test_history_marks_diverged_members_nan_from_the_divergence_on():
    X, y = _data(30, 6)
    ens = models.make_ensemble("mlp", 3, 6, hidden=(4,), seeds=range(3), dtype=F64)
    cfg = models.TrainConfig(loss="mse", lr=[0.01, 1e5, 0.02], epochs=10, momentum=0.9,
                             history=True, checkpoints=(10,))
    rep = models.train(ens, X * 10, y, cfg)
    np.testing.assert_array_equal(rep.diverged, [False, True, False])
    # full batch: row j is the loss after step j - 1; step e's batch loss is row e's (it may be
    # inf, the params are still finite), its update was dropped and the member flagged
    e = int(rep.diverged_step[1])
    assert 0 < e < 10 and np.isfinite(rep.loss_history[:e, 1]).all()
    assert not np.isnan(rep.loss_history[e, 1]) and np.isnan(rep.loss_history[e + 1:, 1]).all()
    assert np.isfinite(rep.loss_history[:, [0, 2]]).all() and np.isnan(rep.checkpoint_loss[10][1])
    for p in ens.params.values():
        assert torch.isfinite(p).all()


# ---------------------------------------------------------------------- steps and resuming
def test_steps_mode_derives_epochs_and_stops_mid_epoch():
    X, y = _data(40, 5)
    cfg = models.TrainConfig(lr=0.2, steps=23, batch_size=8, momentum=0.9, history=True,
                             checkpoints=(4, 5))
    ens = _mlp(2, 5)
    rep = models.train(ens, X, y, cfg, seeds=[1, 2])
    assert rep.steps == 23 and rep.epochs == 5 and cfg.run_length(40) == (5, 23, 5)
    assert rep.loss_history.shape == (6, 2)
    assert not torch.equal(rep.checkpoints[4]["w0"], rep.checkpoints[5]["w0"])
    torch.testing.assert_close(rep.checkpoints[5]["w0"], ens.params["w0"])
    # full batch: steps are epochs
    a, b = _mlp(2, 5), _mlp(2, 5)
    models.train(a, X, y, models.TrainConfig(lr=0.2, steps=7, momentum=0.5))
    models.train(b, X, y, models.TrainConfig(lr=0.2, epochs=7, momentum=0.5))
    for n in a.params:
        assert torch.equal(a.params[n], b.params[n])
    # the batch-size knob at a fixed number of steps: one ensemble per batch size
    for B in (5, 10, 20):
        r = models.train(_mlp(2, 5), X, y, models.TrainConfig(lr=0.2, steps=24, batch_size=B),
                         seeds=[1, 2])
        assert r.steps == 24 and r.epochs == math.ceil(24 / math.ceil(40 / B))


def test_resuming_at_an_epoch_continues_the_uninterrupted_run():
    X, y = _data(40, 5)
    sched = models.Schedule("cosine", final=0.1, warmup=1)
    cfg = models.TrainConfig(lr=0.3, epochs=6, batch_size=8, schedule=sched, langevin_T=1e-3,
                             weight_decay=1e-3, checkpoints=(2, 6), history=True)
    whole = _mlp(3, 5)
    rw = models.train(whole, X, y, cfg, seeds=[4, 5, 6])
    rest = whole.with_params(rw.checkpoints[2])
    rr = models.train(rest, X, y, cfg, seeds=[4, 5, 6], start_epoch=2)
    for n in whole.params:
        torch.testing.assert_close(rest.params[n], whole.params[n], rtol=1e-10, atol=1e-12)
    assert rr.steps == 20 and rr.start_epoch == 2 and rr.loss_history.shape == (5, 3)
    np.testing.assert_allclose(rr.loss_history, rw.loss_history[2:], rtol=1e-9)
    np.testing.assert_allclose(rr.initial_loss, rw.checkpoint_loss[2], rtol=1e-12)
    assert sorted(rr.checkpoints) == [2, 6]


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cfg_kwargs,extra,match", [
    (dict(momentum=-0.1), {}, "momentum"),
    (dict(momentum=1.0), {}, "momentum"),
    (dict(momentum=[0.5, 1.2]), {}, "momentum"),
    (dict(momentum=float("nan")), {}, "momentum"),
    (dict(nesterov=True), {}, "nesterov"),
    (dict(nesterov="yes", momentum=0.9), {}, "nesterov"),
    (dict(nesterov=True, momentum=0.9, langevin_T=0.1), {"seeds": [0, 1]}, "nesterov"),
    (dict(schedule="cosine"), {}, "schedule"),
    (dict(schedule={"kind": "exponential"}), {}, "kind"),
    (dict(schedule={"kind": "step", "milestone": [1]}), {}, "unknown keys"),
    (dict(schedule=[models.Schedule()] * 3), {}, "one schedule per member"),
    (dict(schedule={"kind": "step", "milestones": [0.5, 1.0]}), {}, "milestone"),
    (dict(schedule={"kind": "step", "milestones": [3], "unit": "epoch"}), {}, "milestone"),
    (dict(schedule={"kind": "step", "milestones": [30], "unit": "step"}), {}, "milestone"),
    (dict(schedule={"kind": "step", "milestones": [2, 1], "unit": "epoch"}), {}, "increasing"),
    (dict(schedule={"kind": "step"}), {}, "milestone"),
    (dict(schedule={"kind": "cosine", "milestones": [0.5]}), {}, "milestones"),
    (dict(schedule={"kind": "step", "milestones": [0.5], "factor": 0}), {}, "factor"),
    (dict(schedule={"kind": "cosine", "final": 1.5}), {}, "final"),
    (dict(schedule={"warmup": 4, "warmup_unit": "epoch"}), {}, "warmup"),
    (dict(schedule={"warmup": 31, "warmup_unit": "step"}), {}, "warmup"),
    (dict(schedule={"warmup": 1.5, "warmup_unit": "fraction"}), {}, "warmup"),
    (dict(schedule={"warmup": 2, "warmup_unit": "minute"}), {}, "warmup_unit"),
    (dict(schedule={"warmup_start": -0.1, "warmup": 1}), {}, "warmup_start"),
    (dict(steps=10), {}, "not both"),
    (dict(epochs=None, steps=-1), {}, "steps"),
    (dict(history="yes"), {}, "history"),
    (dict(checkpoints=(1,)), {"start_epoch": 2}, "checkpoints"),
    (dict(), {"start_epoch": 4}, "start_epoch"),
])
def test_recipes_reject_bad_arguments(cfg_kwargs, extra, match):
    ens = models.make_ensemble("linear", 2, 3, seeds=[0, 1])
    X, y = torch.randn(10, 3), torch.ones(10)
    with pytest.raises(ValueError, match=match):
        cfg = models.TrainConfig(**{"epochs": 3, "batch_size": 1, **cfg_kwargs})
        models.train(ens, X, y, cfg, **{"seeds": [0, 1], **extra})
