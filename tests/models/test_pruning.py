"""Pruning masks and IMP: agreement with torch.nn.utils.prune, counting, ties, nesting, bad input."""
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune

import models


def _ens(K=3, seeds=None, **kw):
    kw = {"hidden": (7, 5), **kw}
    return models.make_ensemble("mlp", K, 6, seeds=seeds or list(range(K)), **kw)


@pytest.mark.parametrize("amount", [0.0, 0.25, 0.5, 0.9, 0.99])
def test_global_magnitude_mask_equals_torch_prune_global_l1(amount):
    ens = _ens()
    masks = models.magnitude_masks(ens, amount, scope="global")
    for k in range(ens.n_members):
        mods = []
        for name in ens.prunable:
            lin = torch.nn.Linear(1, 1, bias=False)
            lin.weight = torch.nn.Parameter(ens.params[name][k].clone())
            mods.append(lin)
        prune.global_unstructured([(m, "weight") for m in mods],
                                  pruning_method=prune.L1Unstructured, amount=amount)
        for name, m in zip(ens.prunable, mods):
            assert torch.equal(masks[name][k], m.weight_mask.bool())


def test_layerwise_masks_equal_torch_prune_l1_per_layer_and_counts_round_half_even():
    ens = _ens(K=2)
    masks = models.magnitude_masks(ens, 0.4, scope="layerwise")
    for name in ens.prunable:
        for k in range(2):
            ref = prune.L1Unstructured(amount=0.4).compute_mask(ens.params[name][k],
                                                                torch.ones_like(ens.params[name][k]))
            assert torch.equal(masks[name][k], ref.bool())
    # 5*7 = 35 weights in w1: 0.4 * 35 = 14 pruned; w0: 0.4 * 42 = 16.8 -> 17
    assert int((~masks["w1"][0]).sum()) == 14 and int((~masks["w0"][0]).sum()) == 17
    # half to even: 0.5 * 35 = 17.5 -> 18, 0.3 * 35 = 10.5 -> 10 (Python round, as torch prune)
    m = models.magnitude_masks(ens, 0.3, scope="layerwise")
    assert int((~m["w1"][0]).sum()) == round(0.3 * 35) == 10


def test_per_member_sparsity_ties_and_apply():
    ens = _ens(K=3)
    ens.params["w0"][1] = 1.0  # all ties in member 1's first layer
    s = [0.1, 0.5, 0.8]
    masks = models.magnitude_masks(ens, s)
    np.testing.assert_allclose(models.mask_sparsity(ens, masks), [round(x * 77) / 77 for x in s])
    again = models.magnitude_masks(ens, s)
    for n in masks:
        assert torch.equal(masks[n], again[n])  # deterministic
    # ties: the stable order prunes the earlier weights (member 1: 0.5 * 77 = 38 or 39)
    flat = torch.cat([masks[n][1].reshape(-1) for n in ens.prunable])
    w = torch.cat([ens.params[n][1].abs().reshape(-1) for n in ens.prunable])
    assert w[~flat].max() <= w[flat].min()
    models.apply_masks(ens, masks)
    for n, m in masks.items():
        assert torch.all(ens.params[n][~m] == 0) and torch.all(ens.params[n][m] != 0)


def test_random_masks_exact_count_and_member_independence():
    ens = _ens(K=4, seeds=[0, 1, 2, 3])
    m = models.random_masks(ens, 0.6, seeds=[5, 6, 7, 8])
    np.testing.assert_allclose(models.mask_sparsity(ens, m), round(0.6 * 77) / 77)
    one = _ens(K=1, seeds=[2])
    m1 = models.random_masks(one, 0.6, seeds=[7])
    for n in m:
        assert torch.equal(m[n][2], m1[n][0])
    assert not torch.equal(m["w0"][0], m["w0"][1])


def test_masks_nest_when_current_given():
    ens = _ens(K=2)
    m1 = models.magnitude_masks(ens, 0.5)
    ens.params["w0"].add_(0.3)  # change magnitudes
    m2 = models.magnitude_masks(ens, 0.8, current=m1)
    for n in m1:
        assert not torch.any(m2[n] & ~m1[n])  # kept now implies kept before


@pytest.mark.parametrize("sparsity", [1.0, -0.1, 1.5, float("nan"), [0.1, 0.2]])
def test_bad_sparsity_raises(sparsity):
    with pytest.raises(ValueError, match="sparsity"):
        models.magnitude_masks(_ens(K=3), sparsity)


def test_bad_scope_and_mask_shape_raise():
    ens = _ens(K=2)
    with pytest.raises(ValueError, match="scope"):
        models.magnitude_masks(ens, 0.5, scope="neuron")
    with pytest.raises(ValueError, match="shape"):
        models.apply_masks(ens, {"w0": torch.ones(2, 7, 5, dtype=torch.bool)})
    with pytest.raises(ValueError, match="seeds"):
        models.random_masks(ens, 0.5, seeds=[1])


def test_imp_with_rewinding_reaches_the_ladder_with_nested_masks():
    P, D = 60, 6
    g = torch.Generator().manual_seed(0)
    X = torch.randn(P, D, generator=g)
    y = torch.sign(X[:, 0] + 0.5 * X[:, 1])
    ens = _ens(K=2, hidden=(8,))
    before = {n: p.clone() for n, p in ens.params.items()}
    cfg = models.TrainConfig(lr=0.5, epochs=15, batch_size=20)
    res = models.iterative_magnitude_pruning(ens, X, y, cfg, fraction_per_round=0.5, rounds=3,
                                             rewind_epoch=1, seeds=[3, 4])
    for n in before:
        assert torch.equal(before[n], ens.params[n])  # input untouched
    assert len(res.rounds) == 4
    np.testing.assert_allclose(res.sparsities, [0, 0.5, 0.75, 0.875])
    for r in res.rounds[1:]:
        np.testing.assert_allclose(r.sparsity, round(r.target_sparsity * 48) / 48)
        for n, m in r.masks.items():
            assert torch.all(r.params[n][~m] == 0)
    for prev, cur in zip(res.rounds[1:], res.rounds[2:]):
        for n in cur.masks:
            assert not torch.any(cur.masks[n] & ~prev.masks[n])
    # the rewind point is the params after one epoch of dense training, not the init
    assert not torch.equal(res.rewind_params["w0"], before["w0"])
    with pytest.raises(ValueError, match="sparsities"):
        models.iterative_magnitude_pruning(ens, X, y, cfg, sparsities=[0.5, 0.4], seeds=[3, 4])
    with pytest.raises(ValueError, match="rewind_epoch"):
        models.iterative_magnitude_pruning(ens, X, y, cfg, sparsities=[0.5], rewind_epoch=99,
                                           seeds=[3, 4])
