"""Values, fixtures and steps shared by the Royalties contract tests."""

import brownie
import pytest

from tests.contracts.helpers import register

COMPOSITION, MASTER = 0, 1
BPS = 10_000
ETH = "0x0000000000000000000000000000000000000000"
DAY = 86_400


@pytest.fixture(scope="module")
def registry(TrackRegistry, accounts):
    return TrackRegistry.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def royalties(Royalties, registry, accounts):
    return Royalties.deploy(registry, {"from": accounts[0]})


@pytest.fixture(scope="module")
def stablecoin(TestStablecoin, accounts):
    return TestStablecoin.deploy({"from": accounts[0]})


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Every test starts from the module's freshly deployed contracts."""


def pass_finality() -> None:
    """Move the chain past every registration's take-over window (one day)."""
    brownie.chain.sleep(DAY + 1)
    brownie.chain.mine()


def final_track(registry, artist, parents=()):
    """A registration that no older commitment can take over any more: (track id, reveal tx)."""
    track_id, tx = register(registry, artist, parents=parents)
    pass_finality()
    return track_id, tx


def lineage(royalties, registry, track_id, parents=(), sender=None):
    return royalties.recordLineage(track_id, list(parents), {"from": sender or brownie.accounts[0]})


def split(royalties, track_id, right, shares, upstream=0, sender=None):
    """Set a split from ``{account: bps}`` (insertion order is allocation order)."""
    recipients = [getattr(a, "address", a) for a in shares]
    return royalties.setSplit(track_id, right, recipients, list(shares.values()), upstream, {"from": sender})


def owed(royalties, track_id, right, version, recipient, token=ETH):
    return royalties.owed(track_id, right, version, getattr(recipient, "address", recipient), token)
