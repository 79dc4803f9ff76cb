"""Listening epochs on anvil: a funded pool, an OpenZeppelin standard-tree root built in Python,
each leaf claimed once into its track's splits; every refusal by name."""

import pytest

from qfzz_chain.royalties import epochs
from qfzz_chain.royalties.merkle import StandardMerkleTree
from tests.contracts.helpers import plain, reverts_with
from tests.contracts.royalties_helpers import (  # noqa: F401 (fixtures)
    BPS, COMPOSITION, ETH, MASTER, final_track, isolation, owed, registry, royalties, split, stablecoin,
)  # fmt: skip


@pytest.fixture
def operator(accounts):
    return accounts[9]


@pytest.fixture
def tracks(royalties, registry, accounts):
    found = []
    for n in (1, 2, 3):
        track = final_track(registry, accounts[n])[0]
        split(royalties, track, COMPOSITION, {accounts[n]: BPS}, sender=accounts[n])
        split(royalties, track, MASTER, {accounts[n]: BPS}, sender=accounts[n])
        found.append(track)
    return found


def build(tracks, plays, pool, composition_bps=2000):
    amounts = epochs.pro_rata(dict(zip(tracks, plays)), pool)
    return epochs.epoch_tree(amounts, composition_bps)


def test_an_epoch_pays_each_track_once_by_its_proof(royalties, tracks, operator, accounts):
    tree = build(tracks, [700, 200, 100], 10_000)
    tx = royalties.postEpoch(ETH, 10_000, tree.root, len(tree), {"from": operator, "value": 10_000})
    assert plain(tx.events["EpochPosted"]) == {"epochId": 0, "operator": operator, "token": ETH, "amount": 10_000,
                                               "root": tree.root, "leafCount": 3}  # fmt: skip
    for position, (index, track, composition, master) in enumerate(tree.values):
        assert not royalties.isClaimed(0, index)
        tx = royalties.claimEpoch(0, index, track, composition, master, tree.proof(position), {"from": accounts[8]})
        assert plain(tx.events["EpochClaimed"]) == {"epochId": 0, "trackId": track, "index": index,
                                                    "composition": composition, "master": master}  # fmt: skip
        assert royalties.isClaimed(0, index)
        with reverts_with("AlreadyClaimed", 0, index):
            royalties.claimEpoch(0, index, track, composition, master, tree.proof(position), {"from": accounts[8]})
    assert plain(royalties.epoch(0)) == (tree.root, ETH, 0)
    assert owed(royalties, tracks[0], COMPOSITION, 0, accounts[1]) == 1400  # 70% of the pool, 20% of it composition
    assert owed(royalties, tracks[0], MASTER, 0, accounts[1]) == 5600


def test_a_wrong_proof_an_unknown_epoch_and_an_overdrawn_pool_are_refused(royalties, tracks, operator, stablecoin):
    tree = build(tracks, [1, 1, 1], 3000)
    stablecoin.mint(operator, 10**6, {"from": operator})
    stablecoin.approve(royalties, 2**256 - 1, {"from": operator})
    # funded with less than its leaves promise: the last claim finds the pool short
    royalties.postEpoch(stablecoin, 2500, tree.root, len(tree), {"from": operator})
    index, track, composition, master = tree.values[0]
    with reverts_with("InvalidProof", 0, index):
        royalties.claimEpoch(0, index, track, composition + 1, master, tree.proof(0), {"from": operator})
    with reverts_with("InvalidProof", 0, index):
        royalties.claimEpoch(0, index, track, composition, master, tree.proof(1), {"from": operator})
    with reverts_with("UnknownEpoch", 1):
        royalties.claimEpoch(1, index, track, composition, master, tree.proof(0), {"from": operator})
    with reverts_with("AlreadyClaimed", 0, 5):  # past the leaf count
        royalties.claimEpoch(0, 5, track, composition, master, tree.proof(0), {"from": operator})
    royalties.claimEpoch(0, index, track, composition, master, tree.proof(0), {"from": operator})
    royalties.claimEpoch(0, *tree.values[1], tree.proof(1), {"from": operator})
    with reverts_with("EpochOverdrawn", 0, 1000, 500):
        royalties.claimEpoch(0, *tree.values[2], tree.proof(2), {"from": operator})


def test_posting_needs_funds_a_root_and_leaves(royalties, operator, stablecoin, FeeOnTransferToken):
    root = b"\x01" * 32
    with reverts_with("ZeroPayment"):
        royalties.postEpoch(ETH, 0, root, 1, {"from": operator})
    with reverts_with("EmptyEpoch"):
        royalties.postEpoch(ETH, 5, bytes(32), 1, {"from": operator, "value": 5})
    with reverts_with("EmptyEpoch"):
        royalties.postEpoch(ETH, 5, root, 0, {"from": operator, "value": 5})
    with reverts_with("EthAmountMismatch", 4, 5):
        royalties.postEpoch(ETH, 5, root, 1, {"from": operator, "value": 4})
    with reverts_with("EthAmountMismatch", 1, 0):
        royalties.postEpoch(stablecoin, 5, root, 1, {"from": operator, "value": 1})
    with reverts_with("AmountTooLarge", 2**96, 2**96 - 1):
        royalties.postEpoch(stablecoin, 2**96, root, 1, {"from": operator})
    fee_token = FeeOnTransferToken.deploy(100, {"from": operator})
    fee_token.mint(operator, 10**6, {"from": operator})
    fee_token.approve(royalties, 2**256 - 1, {"from": operator})
    with reverts_with("TokenTransferShort", fee_token, 10_000, 9_900):  # its leaves would overdraw it
        royalties.postEpoch(fee_token, 10_000, root, 1, {"from": operator})


def test_every_leaf_of_a_large_epoch_is_claimable_at_both_ends_of_a_bitmap_word(royalties, tracks, operator):
    """513 leaves: three bitmap words, the last with one bit; claims at 0, 255, 256 and 512."""
    leaves = {bytes([n % 256, n // 256]) * 16: 1 for n in range(509)}
    leaves.update({t: 1 for t in tracks})
    amounts = dict(sorted(leaves.items()))
    tree = epochs.epoch_tree(amounts, 5000)
    assert len(tree) == 512
    extra = epochs.epoch_tree({**amounts, b"\xff" * 32: 1}, 5000)
    assert len(extra) == 513
    royalties.postEpoch(ETH, 513, extra.root, 513, {"from": operator, "value": 513})
    ours = [p for p, value in enumerate(extra.values) if value[1] in tracks]
    for position in ours:
        royalties.claimEpoch(0, *extra.values[position], extra.proof(position), {"from": operator})
    for index in (0, 255, 256, 512):
        assert royalties.isClaimed(0, index) == (index in [extra.values[p][0] for p in ours])
    assert royalties.isClaimed(0, 513)  # no such leaf: never claimable
