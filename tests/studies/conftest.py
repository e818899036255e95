import pytest


def tiny_spec(**base):
    """A small intrinsic_dimension spec that runs in seconds."""
    b = dict(ambient_dim=16, n_train=200, n_test=400, epochs=30, retrain_epochs=20, loss="mse", lr=4.0,
             sparsities=[0.5, 0.75, 0.9], dimension_method=None)
    b.update(base)
    return {"study": "intrinsic_dimension", "seeds": [0, 1], "base": b, "grid": {"intrinsic_dim": [2, 4]},
            "analysis": {"n_bootstrap": 50}}


@pytest.fixture
def spec():
    return tiny_spec()


@pytest.fixture(scope="session")
def make_spec():
    return tiny_spec
