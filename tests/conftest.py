import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Run a test on one torch intra-op thread and restore the count after it: tests of tiny tensors and
    ensembles gain nothing from a second thread, and on a loaded machine two threads ran them up to 15x
    slower (docs/design.md's pitfall). The test packages that need it make it autouse in their conftest."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
