"""Training: exactness of members inside an ensemble, the Langevin Gibbs posterior, masks,
divergence, checkpoints, evaluation and bad input."""
import math
import warnings

import numpy as np
import pytest
import torch

import models

F64 = torch.float64


def _data(P, D, seed=0, dtype=F64, K=None):
    g = torch.Generator().manual_seed(seed)
    shape = (P, D) if K is None else (K, P, D)
    X = torch.randn(shape, generator=g, dtype=dtype)
    u = torch.randn(D, generator=g, dtype=dtype)
    y = torch.sign(X @ u)
    return X, y


def _alone(ens_kwargs, k, init_seeds):
    return models.make_ensemble(**{**ens_kwargs, "n_members": 1, "seeds": [init_seeds[k]]})


@pytest.mark.parametrize("cfg_kwargs", [
    dict(loss="logistic", batch_size=16, epochs=4, weight_decay=1e-3, sam_rho=0.05),
    dict(loss="mse", batch_size=None, epochs=30, langevin_T=0.05, weight_decay=1e-2),
    dict(loss="hinge", batch_size=10, epochs=3, langevin_T=0.02),
])
def test_member_inside_ensemble_of_64_matches_training_alone(cfg_kwargs):
    K, P, D = 64, 40, 6
    X, y = _data(P, D)
    kw = dict(arch="mlp", input_dim=D, hidden=(5,), activation="tanh", dtype=F64)
    init_seeds = list(range(100, 100 + K))
    train_seeds = list(range(500, 500 + K))
    lr = np.linspace(0.02, 0.2, K)  # per-member learning rate
    ens = models.make_ensemble(n_members=K, seeds=init_seeds, **kw)
    rep = models.train(ens, X, y, models.TrainConfig(lr=lr, **cfg_kwargs), seeds=train_seeds)
    assert not rep.diverged.any()
    for k in (0, 17, 63):
        one = _alone(kw, k, init_seeds)
        r1 = models.train(one, X, y, models.TrainConfig(lr=lr[k], **cfg_kwargs),
                          seeds=[train_seeds[k]])
        for n in ens.params:
            torch.testing.assert_close(ens.params[n][k], one.params[n][0], rtol=1e-9, atol=1e-11)
        assert rep.train_loss[k] == pytest.approx(r1.train_loss[0], rel=1e-9)
    # the members really differ (different seeds / lr)
    assert not torch.allclose(ens.params["w0"][0], ens.params["w0"][1])


def test_per_member_data_matches_training_alone():
    K, P, D = 8, 30, 5
    X, y = _data(P, D, K=K)
    kw = dict(arch="linear", input_dim=D, dtype=F64)
    cfg = models.TrainConfig(loss="logistic", lr=0.3, epochs=5, batch_size=7, langevin_T=0.01)
    ens = models.make_ensemble(n_members=K, seeds=range(K), **kw)
    models.train(ens, X, y, cfg, seeds=range(10, 10 + K))
    for k in (2, 5):
        one = models.make_ensemble(n_members=1, seeds=[k], **kw)
        models.train(one, X[k], y[k], cfg, seeds=[10 + k])
        torch.testing.assert_close(ens.params["w"][k], one.params["w"][0], rtol=1e-10, atol=1e-12)
    # shared inputs with per-member labels (e.g. per-member label noise)
    shared = models.make_ensemble(n_members=K, seeds=range(K), **kw)
    models.train(shared, X[0], y, cfg, seeds=range(10, 10 + K))
    one = models.make_ensemble(n_members=1, seeds=[5], **kw)
    models.train(one, X[0], y[5], cfg, seeds=[15])
    torch.testing.assert_close(shared.params["w"][5], one.params["w"][0], rtol=1e-10, atol=1e-12)


def test_langevin_linear_mse_samples_the_exact_gaussian_posterior():
    """Gibbs measure exp(-E/T), E = sum_i (y_i - w.x_i/sqrt D)^2 / 2 + P lam/2 |w|^2: Gaussian with
    precision H/T, H = X^T X / D + P lam I, mean H^{-1} X^T y / sqrt D. The Euler-Maruyama chain
    with step lr has the exact stationary covariance T H^{-1} (I - lr H/(2P))^{-1} (module docstring
    of models.training), which tends to the Gibbs covariance T H^{-1} as lr -> 0."""
    K, P, D = 6000, 20, 4
    T, lam, lr = 0.5, 0.2, 0.1
    X, _ = _data(P, D, seed=3)
    g = torch.Generator().manual_seed(4)
    y = X @ torch.randn(D, generator=g, dtype=F64) / math.sqrt(D) + 0.3 * torch.randn(
        P, generator=g, dtype=F64)
    ens = models.make_ensemble("linear", K, D, bias=False, init_scale=0.0, seeds=range(K),
                               dtype=F64)
    cfg = models.TrainConfig(loss="mse", lr=lr, epochs=300, langevin_T=T, weight_decay=lam)
    rep = models.train(ens, X, y, cfg, seeds=range(K, 2 * K))
    assert not rep.diverged.any()
    Xn, yn = X.numpy(), y.numpy()
    H = Xn.T @ Xn / D + P * lam * np.eye(D)
    mean = np.linalg.solve(H, Xn.T @ yn / math.sqrt(D))
    cov_gibbs = T * np.linalg.inv(H)
    cov_chain = cov_gibbs @ np.linalg.inv(np.eye(D) - lr * H / (2 * P))
    bias = np.abs(np.diag(cov_chain) / np.diag(cov_gibbs) - 1).max()
    assert 0 < bias < 0.06
    W = ens.params["w"].numpy()
    # whiten with the exact law: Z ~ N(0, I) if the chain samples it
    L = np.linalg.cholesky(cov_chain)
    Z = np.linalg.solve(L, (W - mean).T).T
    se = 1 / math.sqrt(K)
    assert np.abs(Z.mean(0)).max() < 5 * se
    C = np.cov(Z.T)
    assert np.abs(np.diag(C) - 1).max() < 5 * math.sqrt(2) * se
    assert np.abs(C - np.diag(np.diag(C))).max() < 5 * se
    # the Gibbs variance itself, within sampling error and the known discretisation bias
    np.testing.assert_allclose(W.var(0), np.diag(cov_gibbs), rtol=bias + 5 * math.sqrt(2) * se)


def test_masked_weights_stay_exactly_zero_through_training():
    K, P, D = 4, 50, 8
    X, y = _data(P, D, dtype=torch.float32)
    ens = models.make_ensemble("mlp", K, D, hidden=(6, 4), seeds=range(K))
    masks = models.magnitude_masks(ens, [0.3, 0.5, 0.7, 0.9])
    cfg = models.TrainConfig(lr=0.5, epochs=10, batch_size=10, langevin_T=0.1,
                             weight_decay=0.01, sam_rho=0.1)
    before = {n: p.clone() for n, p in ens.params.items()}
    rep = models.train(ens, X, y, cfg, masks=masks, seeds=range(K))
    assert not rep.diverged.any()
    for n, m in masks.items():
        assert torch.all(ens.params[n][~m] == 0)
        assert torch.all(ens.params[n][m] != before[n][m])  # the kept weights did move
    np.testing.assert_allclose(models.mask_sparsity(ens, masks), [0.3, 0.5, 0.7, 0.9], atol=0.02)


def test_divergent_members_are_flagged_and_the_others_unaffected():
    K, P, D = 5, 30, 6
    X, y = _data(P, D)
    X = X * 10
    lr = [0.01, 1e4, 0.02, 1e6, 0.005]
    kw = dict(arch="mlp", input_dim=D, hidden=(4,), dtype=F64)
    ens = models.make_ensemble(n_members=K, seeds=range(K), **kw)
    cfg = dict(loss="mse", epochs=40)
    rep = models.train(ens, X, y, models.TrainConfig(lr=lr, **cfg))
    np.testing.assert_array_equal(rep.diverged, [False, True, False, True, False])
    assert (rep.diverged_step[[1, 3]] >= 0).all() and (rep.diverged_step[[0, 2, 4]] == -1).all()
    assert np.isnan(rep.train_loss[[1, 3]]).all() and np.isfinite(rep.train_loss[[0, 2, 4]]).all()
    for p in ens.params.values():
        assert torch.isfinite(p).all()  # frozen at the last finite values
    for k in (0, 2, 4):
        one = models.make_ensemble(n_members=1, seeds=[k], **kw)
        models.train(one, X, y, models.TrainConfig(lr=lr[k], **cfg))
        for n in ens.params:
            torch.testing.assert_close(ens.params[n][k], one.params[n][0], rtol=1e-10, atol=1e-12)


def test_checkpoints_and_training_learns_a_perceptron():
    P, D = 200, 10
    X, y = _data(P, D, dtype=torch.float32)
    ens = models.make_ensemble("linear", 2, D, seeds=[0, 1])
    init = ens.params["w"].clone()
    rep = models.train(ens, X, y, models.TrainConfig(lr=1.0, epochs=50, checkpoints=(0, 10)))
    assert set(rep.checkpoints) == {0, 10} and rep.steps == 50
    assert torch.equal(rep.checkpoints[0]["w"], init)
    assert not torch.equal(rep.checkpoints[10]["w"], ens.params["w"])
    ev = models.evaluate(ens, X, y)
    assert (ev["error"] < 0.1).all()
    np.testing.assert_allclose(ev["loss"], rep.train_loss, rtol=1e-6)
    np.testing.assert_allclose(ev["error"], rep.train_error)


def test_evaluate_mse_and_dead_members():
    ens = models.make_ensemble("mlp", 3, 4, hidden=(5,), seeds=[0, 1, 2])
    X = torch.randn(20, 4, generator=torch.Generator().manual_seed(0))
    y = torch.zeros(20)
    ens.params["w0"][1] = 0.0  # every path through layer 0 cut: constant output
    dead = models.dead_members(ens, X)
    np.testing.assert_array_equal(dead, [False, True, False])
    ev = models.evaluate(ens, X, y, loss="mse")
    f = ens.forward(X)
    np.testing.assert_allclose(ev["error"], (f ** 2).mean(1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ev["loss"], 0.5 * (f ** 2).mean(1).numpy(), rtol=1e-6)
    # zero output counts as half an error for classification
    zero = models.make_ensemble("linear", 1, 4, bias=False, init_scale=0.0, seeds=[0])
    assert models.evaluate(zero, X, torch.sign(X[:, 0]))["error"][0] == 0.5


@pytest.mark.parametrize("cfg_kwargs,extra,match", [
    (dict(loss="huber"), {}, "loss"),
    (dict(lr=-0.1), {}, "lr"),
    (dict(langevin_T=-1.0), {"seeds": [0, 1]}, "langevin_T"),
    (dict(langevin_T=[0.1, -0.1]), {"seeds": [0, 1]}, "langevin_T"),
    (dict(lr=[0.1, 0.2, 0.3]), {}, "lr"),
    (dict(batch_size=11), {"seeds": [0, 1]}, "batch_size"),
    (dict(batch_size=0), {"seeds": [0, 1]}, "batch_size"),
    (dict(epochs=-1), {}, "epochs"),
    (dict(checkpoints=(5,), epochs=2), {}, "checkpoints"),
    (dict(batch_size=5), {}, "seeds"),
    (dict(langevin_T=0.1), {"seeds": [0]}, "seeds"),
    (dict(), {"masks": {"w": torch.ones(2, 4, dtype=torch.bool)}}, "mask"),
    (dict(), {"masks": {"v": torch.ones(2, 3, dtype=torch.bool)}}, "mask"),
])
def test_train_rejects_bad_arguments(cfg_kwargs, extra, match):
    ens = models.make_ensemble("linear", 2, 3, seeds=[0, 1])
    X, y = torch.randn(10, 3), torch.ones(10)
    with pytest.raises(ValueError, match=match):
        models.train(ens, X, y, models.TrainConfig(**{"epochs": 1, **cfg_kwargs}), **extra)


def test_train_rejects_mismatched_labels():
    ens = models.make_ensemble("linear", 2, 3, seeds=[0, 1])
    with pytest.raises(ValueError, match="y must have shape"):
        models.train(ens, torch.randn(10, 3), torch.ones(9), models.TrainConfig(epochs=1))


@pytest.mark.parametrize("cfg_kwargs,per_member", [
    (dict(loss="logistic", batch_size=7, epochs=4, momentum=0.9, weight_decay=1e-3,
          schedule=models.Schedule("step", milestones=(0.5,)), checkpoints=(0, 2, 4),
          history=True), True),
    (dict(loss="mse", batch_size=12, steps=9, sam_rho=0.05, langevin_T=0.01), False),
    (dict(loss="hinge", epochs=5, momentum=0.5, nesterov=True, history=True), False),
])
def test_members_trained_in_chunks_equal_members_trained_together(cfg_kwargs, per_member,
                                                                  monkeypatch):
    """On a CPU the members train in chunks, each its whole run (models.training._member_chunks);
    chunks of 3 or more give the run of one chunk, with a diverged member, masks, a short last batch,
    resuming at an epoch, checkpoints and histories in the report."""
    from models import training
    K, P, D = 14, 40, 5
    X, y = _data(P, D, K=K if per_member else None)
    X = X * torch.linspace(1, 2, P, dtype=F64).unsqueeze(-1)
    lr = np.linspace(0.05, 0.3, K)
    if cfg_kwargs["loss"] == "mse":
        lr[5] = 1e60  # diverges
    kw = dict(arch="mlp", input_dim=D, hidden=(6,), activation="tanh", dtype=F64)
    start = models.make_ensemble(n_members=K, seeds=range(K), **kw)
    masks = models.magnitude_masks(start, np.linspace(0.0, 0.8, K))
    runs = {}
    for chunk in (10 ** 12, 1):
        monkeypatch.setattr(training, "_CHUNK_BYTES", chunk)
        monkeypatch.setattr(training, "_MIN_CHUNK", 3 if chunk == 1 else 1)
        assert len(training._member_chunks(start, 7, True)) == (4 if chunk == 1 else 1)  # 14 // 3
        ens = start.clone()
        cfg = models.TrainConfig(lr=lr, **cfg_kwargs)
        rep = models.train(ens, X, y, cfg, masks=masks, seeds=range(30, 30 + K))
        cfg1 = models.TrainConfig(lr=lr, **{**cfg_kwargs, "checkpoints": (2,)})
        resumed = models.train(start.clone(), X, y, cfg1, masks=masks, seeds=range(30, 30 + K),
                               start_epoch=1)
        runs[chunk] = (ens, rep, resumed)
    (a, ra, sa), (b, rb, sb) = runs.values()
    for n in a.params:
        torch.testing.assert_close(a.params[n], b.params[n], rtol=1e-12, atol=1e-14)
    for x, z in ((ra, rb), (sa, sb)):
        np.testing.assert_array_equal(x.diverged, z.diverged)
        np.testing.assert_array_equal(x.diverged_step, z.diverged_step)
        np.testing.assert_allclose(x.train_loss, z.train_loss, rtol=1e-12)
        np.testing.assert_allclose(x.train_error, z.train_error, rtol=1e-12)
        assert x.steps == z.steps and x.epochs == z.epochs
        for e in x.checkpoints:
            np.testing.assert_allclose(x.checkpoint_loss[e], z.checkpoint_loss[e], rtol=1e-12)
            for n in x.checkpoints[e]:
                torch.testing.assert_close(x.checkpoints[e][n], z.checkpoints[e][n], rtol=1e-12,
                                           atol=1e-14)
        if x.loss_history is not None:
            np.testing.assert_allclose(x.loss_history, z.loss_history, rtol=1e-12)
            np.testing.assert_allclose(x.error_history, z.error_history, rtol=1e-12)
    assert ra.diverged.sum() == (cfg_kwargs["loss"] == "mse") == ra.diverged[5]
    assert set(ra.checkpoints) == set(cfg_kwargs.get("checkpoints", ()))


def test_a_member_without_temperature_draws_no_noise():
    """Noise is drawn only by members with T > 0, so a T = 0 member of a Langevin ensemble has the
    data orders (and the trajectory) it has alone."""
    K, P, D = 4, 30, 5
    X, y = _data(P, D)
    kw = dict(arch="mlp", input_dim=D, hidden=(4,), dtype=F64)
    ens = models.make_ensemble(n_members=K, seeds=range(K), **kw)
    cfg = models.TrainConfig(lr=0.2, epochs=4, batch_size=6, langevin_T=[0.05, 0.0, 0.1, 0.0])
    models.train(ens, X, y, cfg, seeds=range(10, 10 + K))
    for k in (1, 3):
        one = models.make_ensemble(n_members=1, seeds=[k], **kw)
        models.train(one, X, y, models.TrainConfig(lr=0.2, epochs=4, batch_size=6), seeds=[10 + k])
        for n in ens.params:
            torch.testing.assert_close(ens.params[n][k], one.params[n][0], rtol=1e-10, atol=1e-12)


def _compiler_works() -> bool:
    """Whether torch.compile (inductor) can build a kernel here (a C++ compiler, a supported
    platform)."""
    try:
        return bool(torch.compile(lambda t: t * 2 + 1, dynamic=False)(torch.ones(3))[0] == 3)
    except Exception:
        return False


@pytest.mark.parametrize("cfg_kwargs,per_member", [
    (dict(loss="logistic", batch_size=12, epochs=3, weight_decay=1e-3, langevin_T=0.01), False),
    (dict(loss="mse", epochs=6, momentum=0.9, weight_decay=1e-2, langevin_T=0.01), False),
    (dict(loss="hinge", batch_size=18, epochs=3, momentum=0.5, nesterov=True, sam_rho=0.05),
     True),
])
def test_the_compiled_step_equals_the_eager_step(cfg_kwargs, per_member):
    """TrainConfig(compile=True): the same run as the eager step up to float32 rounding (plain
    SGD with mini-batches, heavy-ball momentum at full batch, Nesterov with SAM on per-member
    data; weight decay, Langevin noise, masks and a member with a huge learning rate, which
    diverges), with no fallback where torch.compile works."""
    if not _compiler_works():
        pytest.skip("torch.compile cannot build kernels here")
    K, P, D = 6, 36, 5
    X, y = _data(P, D, dtype=torch.float32, K=K if per_member else None)
    lr = np.linspace(0.05, 0.3, K)
    lr[4] = 1e30  # diverges (logistic, mse)
    start = models.make_ensemble("mlp", K, D, hidden=(7,), activation="tanh", seeds=range(K))
    masks = models.magnitude_masks(start, np.linspace(0.0, 0.6, K))
    runs = []
    for compiled in (False, True):
        ens = start.clone()
        with warnings.catch_warnings():
            warnings.simplefilter("error", models.CompileFallbackWarning)
            rep = models.train(ens, X, y, models.TrainConfig(lr=lr, compile=compiled, **cfg_kwargs),
                               masks=masks, seeds=range(20, 20 + K))
        runs.append((ens, rep))
    (a, ra), (b, rb) = runs
    np.testing.assert_array_equal(ra.diverged, rb.diverged)
    np.testing.assert_array_equal(ra.diverged_step, rb.diverged_step)
    if cfg_kwargs["loss"] != "hinge":  # the hinge's slope vanishes past the margin: no overflow
        assert ra.diverged[4] and ra.diverged.sum() == 1
    for n in a.params:
        torch.testing.assert_close(a.params[n], b.params[n], rtol=1e-4, atol=1e-5)
        if n in masks:
            assert (b.params[n][~masks[n]] == 0).all()
    np.testing.assert_allclose(ra.train_loss, rb.train_loss, rtol=1e-4)


def test_the_compiled_step_falls_back_to_the_eager_step(monkeypatch):
    """Where torch.compile fails, TrainConfig(compile=True) warns once and trains eagerly (the
    eager run exactly)."""
    from models import training

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler")
    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(training, "_COMPILED", {})
    monkeypatch.setattr(training, "_FAILED", set())
    K, P, D = 4, 20, 3
    X, y = _data(P, D, dtype=torch.float32)
    start = models.make_ensemble("mlp", K, D, hidden=(4,), seeds=range(K))
    cfg = dict(loss="logistic", batch_size=5, epochs=2, langevin_T=0.01, momentum=0.5)
    a, b = start.clone(), start.clone()
    models.train(a, X, y, models.TrainConfig(**cfg), seeds=range(K))
    with pytest.warns(models.CompileFallbackWarning, match="no compiler"):
        models.train(b, X, y, models.TrainConfig(compile=True, **cfg), seeds=range(K))
    with warnings.catch_warnings():
        warnings.simplefilter("error", models.CompileFallbackWarning)  # warned once per key
        models.train(start.clone(), X, y, models.TrainConfig(compile=True, **cfg), seeds=range(K))
    for n in a.params:
        torch.testing.assert_close(a.params[n], b.params[n], rtol=0, atol=0)
    with pytest.raises(ValueError, match="cfg.compile must be True or False"):
        models.train(start.clone(), X, y, models.TrainConfig(compile="yes", **cfg), seeds=range(K))
