"""The models tests use tiny tensors, where a second intra-op thread only adds synchronisation
(and, on a loaded machine, oversubscription: docs/design.md's pitfall); run them on one thread."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
