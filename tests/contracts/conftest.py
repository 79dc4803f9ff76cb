import pytest


@pytest.fixture(scope="module")
def registry(TrackRegistry, accounts):
    return TrackRegistry.deploy({"from": accounts[0]})


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the module's freshly deployed registry."""
