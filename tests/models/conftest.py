"""The models tests use tiny tensors: one torch thread (tests/conftest.py)."""
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread):
    yield
