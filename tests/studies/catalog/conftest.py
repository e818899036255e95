"""The studies' tests train tiny ensembles: one torch thread (tests/conftest.py)."""
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    yield
