"""IMP with a training recipe (momentum, schedule, rewinding to an epoch), its re-initialisation
and random-pruning baselines, and random masks with the counts of given masks."""
import numpy as np
import pytest
import torch

import models

F64 = torch.float64


def _setup(K=2):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 6, generator=g, dtype=F64)
    y = torch.sign(X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2])
    ens = models.make_ensemble("mlp", K, 6, hidden=(8, 6), seeds=list(range(K)), dtype=F64)
    cfg = models.TrainConfig(lr=0.2, epochs=6, batch_size=10, momentum=0.9, weight_decay=1e-3,
                             schedule=models.Schedule("step", milestones=(3, 5), unit="epoch"))
    return ens, X, y, cfg


def _counts(masks, K):
    return {n: (~m).reshape(K, -1).sum(1) for n, m in masks.items()}


def test_imp_rounds_train_the_rest_of_the_run_from_the_rewind_epoch():
    ens, X, y, cfg = _setup()
    res = models.iterative_magnitude_pruning(ens, X, y, cfg, fraction_per_round=0.5, rounds=2,
                                             rewind_epoch=2, seeds=[3, 4])
    assert res.rounds[0].report.steps == 24 and res.rounds[0].report.start_epoch == 0
    for rd in res.rounds[1:]:
        assert rd.report.steps == 16 and rd.report.start_epoch == 2  # epochs 3..6
        for n, m in rd.masks.items():
            assert torch.all(rd.params[n][~m] == 0)
    # round 1 = the rewind-point weights, masked, trained on epochs 3..6 of the same run
    # (schedule at its epoch-2 position, the dense run's data orders of those epochs)
    one = ens.with_params(res.rewind_params)
    models.train(one, X, y, cfg, masks=res.rounds[1].masks, seeds=[3, 4], start_epoch=2)
    for n in one.params:
        torch.testing.assert_close(one.params[n], res.rounds[1].params[n], rtol=1e-12, atol=0)
    # not the same as retraining the whole run from the rewind point
    full = ens.with_params(res.rewind_params)
    models.train(full, X, y, cfg, masks=res.rounds[1].masks, seeds=[3, 4])
    assert not torch.allclose(full.params["w0"], res.rounds[1].params["w0"])
    with pytest.raises(ValueError, match="rewind_epoch"):
        steps_cfg = models.TrainConfig(lr=0.2, steps=9, batch_size=10)  # 3 epochs
        models.iterative_magnitude_pruning(ens, X, y, steps_cfg, sparsities=[0.5],
                                           rewind_epoch=4, seeds=[3, 4])


def test_reinitialised_baseline_keeps_the_masks_with_fresh_weights():
    ens, X, y, cfg = _setup()
    res = models.iterative_magnitude_pruning(ens, X, y, cfg, sparsities=[0.5, 0.8],
                                             rewind_epoch=1, seeds=[3, 4])
    base = models.reinitialised_baseline(ens, res, X, y, cfg, init_seeds=[10, 11], seeds=[3, 4])
    assert len(base) == 2
    fresh = models.make_ensemble("mlp", 2, 6, hidden=(8, 6), seeds=[10, 11], dtype=F64)
    assert not torch.allclose(fresh.params["w0"], ens.params["w0"])
    for rd, b in zip(res.rounds[1:], base):
        assert b.target_sparsity == rd.target_sparsity
        np.testing.assert_allclose(b.sparsity, rd.sparsity)
        for n in rd.masks:
            assert torch.equal(b.masks[n], rd.masks[n])
            assert torch.all(b.params[n][~b.masks[n]] == 0)
        assert b.report.steps == 20 and b.report.train_loss.shape == (2,)
        # the batched baseline round equals the masked fresh weights trained alone
        for k in range(2):
            one = fresh.take([k])
            mk = {n: m[k:k + 1] for n, m in rd.masks.items()}
            r1 = models.train(one, X, y, cfg, masks=mk, seeds=[[3, 4][k]], start_epoch=1)
            for n in one.params:
                torch.testing.assert_close(one.params[n][0], b.params[n][k], rtol=1e-9,
                                           atol=1e-11)
            assert b.report.train_loss[k] == pytest.approx(r1.train_loss[0], rel=1e-9)
        assert not torch.allclose(b.params["w0"], rd.params["w0"])
    with pytest.raises(ValueError, match="init_seeds"):
        models.reinitialised_baseline(ens, res, X, y, cfg, init_seeds=[0, 11], seeds=[3, 4])
    with pytest.raises(ValueError, match="init_seeds"):
        models.reinitialised_baseline(ens, res, X, y, cfg, init_seeds=[10], seeds=[3, 4])


@pytest.mark.parametrize("scope", ["layerwise", "global"])
def test_random_pruning_baseline_matches_the_counts_of_the_imp_masks(scope):
    ens, X, y, cfg = _setup()
    res = models.iterative_magnitude_pruning(ens, X, y, cfg, fraction_per_round=0.6, rounds=3,
                                             seeds=[3, 4])
    base = models.random_pruning_baseline(ens, res, X, y, cfg, mask_seeds=[7, 8], seeds=[3, 4],
                                          scope=scope)
    assert len(base) == 3
    for rd, b in zip(res.rounds[1:], base):
        imp_c, rnd_c = _counts(rd.masks, 2), _counts(b.masks, 2)
        if scope == "layerwise":
            for n in imp_c:
                assert torch.equal(imp_c[n], rnd_c[n])
        else:
            assert torch.equal(sum(imp_c.values()), sum(rnd_c.values()))
        np.testing.assert_allclose(b.sparsity, rd.sparsity)
        assert any(not torch.equal(b.masks[n], rd.masks[n]) for n in rd.masks)
        for n, m in b.masks.items():
            assert torch.all(b.params[n][~m] == 0)
        # trained from the rewind-point weights (here the init) with the random mask
        one = ens.with_params(res.rewind_params)
        models.train(one, X, y, cfg, masks=b.masks, seeds=[3, 4])
        for n in one.params:
            torch.testing.assert_close(one.params[n], b.params[n], rtol=1e-9, atol=1e-11)
    for prev, cur in zip(base, base[1:]):  # one seed per member: nested like IMP's masks
        for n in cur.masks:
            assert not torch.any(cur.masks[n] & ~prev.masks[n])


def test_random_masks_like_counts_and_member_independence():
    ens = models.make_ensemble("mlp", 3, 6, hidden=(7, 5), seeds=[0, 1, 2])
    like = models.magnitude_masks(ens, [0.2, 0.5, 0.9], scope="global")
    m = models.random_masks_like(ens, like, seeds=[5, 6, 7])
    for n in like:
        assert torch.equal(_counts(m, 3)[n], _counts(like, 3)[n])
    g = models.random_masks_like(ens, like, seeds=[5, 6, 7], scope="global")
    assert torch.equal(sum(_counts(g, 3).values()), sum(_counts(like, 3).values()))
    one = models.make_ensemble("mlp", 1, 6, hidden=(7, 5), seeds=[1])
    m1 = models.random_masks_like(one, {n: v[1:2] for n, v in like.items()}, seeds=[6])
    for n in m:
        assert torch.equal(m[n][1], m1[n][0])
    with pytest.raises(ValueError, match="like"):
        models.random_masks_like(ens, {"w0": like["w0"]}, seeds=[5, 6, 7])
    with pytest.raises(ValueError, match="seeds"):
        models.random_masks_like(ens, like, seeds=[5])
