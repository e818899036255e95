"""Spec validation: every error names the key, the value and what is allowed, before anything runs."""
import pytest

from studies.sweep.plan import plan
from studies.sweep.spec import SpecError



def test_a_valid_spec_expands_to_named_trials(spec):
    p = plan(spec)
    assert len(p.trials) == 4
    assert len({n for n, _ in p.trials}) == 4
    assert [t["seed"] for _, t in p.trials] == [0, 0, 1, 1]


def test_trial_names_ignore_fields_left_at_their_default(make_spec):
    a = plan(make_spec())
    b = plan(make_spec(noise=0.0))  # the default, written out
    assert [n for n, _ in a.trials] == [n for n, _ in b.trials]
    c = plan(make_spec(noise=0.1))
    assert not set(n for n, _ in a.trials) & set(n for n, _ in c.trials)


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["base"].update(intrinsic_dimm=3), "did you mean 'intrinsic_dim'"),
    (lambda s: s["base"].update(n_train="many"), "n_train: expected int, got 'many'"),
    (lambda s: s["grid"].update(intrinsic_dim=[]), "grid.intrinsic_dim: expected a non-empty list"),
    (lambda s: s.update(seeds=[0, 1, 1]), "duplicates"),
    (lambda s: s["grid"].update(intrinsic_dim=[2, 32]), "intrinsic_dim must be <= ambient_dim"),
    (lambda s: s["grid"].update(intrinsic_dim=[0]), "grid.intrinsic_dim: 0 is out of range; allowed: intrinsic_dim >= 1"),
    (lambda s: s["base"].update(student="cnn"), "choose one of 'linear', 'mlp'"),
    (lambda s: s["base"].update(sparsities=[0.5, 1.0]), "sparsities must be a non-empty increasing list in (0, 1)"),
    (lambda s: s["base"].update(n_train=0), "base.n_train: 0 is out of range; allowed: n_train >= 1"),
    (lambda s: s.update(study="nope"), "unknown study 'nope'"),
    (lambda s: s.update(sedes=[1]), "unknown top-level key 'sedes'"),
    (lambda s: s["analysis"].update(tolerance="x"), "analysis.tolerance"),
    (lambda s: s["base"].update(dimension_method="twonm"), "dimension_method: 'twonm' is not allowed"),
    (lambda s: s["base"].update(manifold="cube"), "kind must be one of"),
])
def test_bad_specs_are_refused_with_a_clear_message(mutate, message, make_spec):
    s = make_spec()
    mutate(s)
    with pytest.raises(SpecError) as e:
        plan(s)
    assert message in str(e.value)


def test_dimension_estimation_can_be_switched_off_from_toml(make_spec):
    """TOML has no null: the string 'none' skips the estimator."""
    assert plan(make_spec(dimension_method="none")).trials
