"""The curation suite on anvil for contract tests: oracle, ledger, registry, splits, curation,
identities bound from an attester's tree, final tracks with splits and parents."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import brownie
import pytest
from eth_utils import keccak

from qfzz_chain.curation.votes import Vote, make_commitment
from qfzz_chain.reputation.identity import Attestation, IdentityTree
from tests.contracts.helpers import cid_v0, register, set_next_block_time

EPOCH = 3600
COMMIT_SECONDS = 3600
REVEAL_SECONDS = 3600
QUORUM_BPS = 2000
LISTING_SECONDS = 30 * 86400
STAKE_SATURATION = 10**18
SEGMENTS = ("genre:electronic", "genre:jazz", "region:west-africa", "culture:k-pop")
FINAL_AFTER = 86_400 + 1
COMPOSITION, MASTER = 0, 1
NO_SEGMENT = 255
OUTSIDE = 64


def identity_of(account) -> bytes:
    return keccak(b"test identity:" + bytes.fromhex(str(account)[2:]))


@dataclass
class World:
    owner: object
    attester: object
    updater: object
    oracle: object
    ledger: object
    registry: object
    royalties: object
    curation: object
    people: list = field(default_factory=list)  # funded local accounts, one identity each
    tree: IdentityTree | None = None

    def post_tree(self, attestations: list[Attestation]) -> IdentityTree:
        self.tree = IdentityTree.build(attestations)
        self.ledger.postIdentityRoot(self.tree.root, len(self.tree), cid_v0(), {"from": self.attester})
        return self.tree

    def bind(self, account, ident: bytes | None = None):
        ident = ident or self.tree.identity_of(account.address)
        return self.ledger.bind(ident, self.tree.proof(account.address), {"from": account})

    def index(self, account) -> int:
        return self.ledger.voterOf(account)["identity"]

    def epoch(self) -> int:
        return self.ledger.currentEpoch()

    def next_epoch(self) -> None:
        start = self.oracle.genesisTime() + (self.oracle.currentEpoch() + 1) * EPOCH
        set_next_block_time(max(start, brownie.chain[-1].timestamp + 1))
        brownie.chain.mine()

    def post(self, updates, epoch=None):
        """Post (role, subject, target, segment) updates for the current epoch."""
        return self.ledger.postScores(self.epoch() if epoch is None else epoch, [tuple(u) for u in updates],
                                      {"from": self.updater})  # fmt: skip

    def final_track(self, artist, parents=()):
        """A track registered to ``artist`` and final (the take-over window over)."""
        track_id, _ = register(self.registry, artist, parents=parents)
        brownie.chain.sleep(FINAL_AFTER)
        brownie.chain.mine()
        return track_id

    def set_split(self, track_id, right, recipients, bps, sender, upstream=0):
        return self.royalties.setSplit(track_id, right, [str(r) for r in recipients], list(bps), upstream,
                                       {"from": sender})  # fmt: skip

    def ties(self, track_id, parents=(), composition=((), ()), master=((), ())):
        return (track_id, [tuple(p) for p in parents], ([str(r) for r in composition[0]], list(composition[1]), 0),
                ([str(r) for r in master[0]], list(master[1]), 0))  # fmt: skip

    def propose(self, proposer, artist, ties, segments=0b11):
        return self.curation.propose(artist, ties, segments, {"from": proposer})

    def commitment(self, proposal_id, voter, vote: Vote, salt: bytes) -> bytes:
        return make_commitment(self.curation.address, proposal_id, self.index(voter), vote, salt)

    def vote(self, proposal_id, voter, vote: Vote, salt: bytes | None = None):
        salt = salt or os.urandom(32)
        tx = self.curation.commit(proposal_id, self.commitment(proposal_id, voter, vote, salt), {"from": voter})
        return salt, tx

    def to_reveal_phase(self, proposal_id) -> None:
        commit_end, _ = self.curation.phases(proposal_id)
        set_next_block_time(max(commit_end, brownie.chain[-1].timestamp + 1))
        brownie.chain.mine()

    def to_settlement(self, proposal_id) -> None:
        _, reveal_end = self.curation.phases(proposal_id)
        set_next_block_time(max(reveal_end, brownie.chain[-1].timestamp + 1))
        brownie.chain.mine()


def deploy_world(accounts, people: int = 16) -> World:
    """The suite deployed by ``accounts[0]``; ``people`` funded fresh accounts."""
    owner, attester, updater = accounts[0], accounts[1], accounts[2]
    oracle = brownie.RecommendationOracle.deploy(owner, EPOCH, {"from": owner})
    registry = brownie.TrackRegistry.deploy({"from": owner})
    royalties = brownie.Royalties.deploy(registry, {"from": owner})
    # the ledger names the curation contract deployed right after it
    curation_address = owner.get_deployment_address(owner.nonce + 1)
    ledger = brownie.ReputationLedger.deploy(owner, oracle, curation_address, STAKE_SATURATION, {"from": owner})
    curation = brownie.EmergingArtistCuration.deploy(ledger, registry, royalties, COMMIT_SECONDS, REVEAL_SECONDS,
                                                     QUORUM_BPS, LISTING_SECONDS, {"from": owner})  # fmt: skip
    assert curation.address == curation_address
    ledger.setAttester(attester, {"from": owner})
    ledger.setUpdater(updater, {"from": owner})
    for name in SEGMENTS:
        ledger.addSegment(name, {"from": owner})
    world = World(owner, attester, updater, oracle, ledger, registry, royalties, curation)
    for _ in range(people):
        person = brownie.accounts.add()
        owner.transfer(person, "10 ether")
        world.people.append(person)
    return world


@pytest.fixture(scope="module")
def world(accounts):
    return deploy_world(accounts)


@pytest.fixture(autouse=True)
def tree_isolation(world):
    """The attester's tree is Python state: put it back with the chain after each test."""
    tree = world.tree
    yield
    world.tree = tree
