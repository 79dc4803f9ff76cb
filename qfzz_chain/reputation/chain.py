"""Client of the ``ReputationLedger`` contract: identities, stakes, scores, weights, slashing."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from eth_utils import keccak, to_canonical_address
from rlp import encode as rlp_encode
from web3 import Web3

from qfzz_chain.chain.contract import ContractClient
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, call
from qfzz_chain.chain.types import CidParts



class Role(enum.IntEnum):
    """Whose reputation (mirrors ``IReputationLedger.Role``)."""

    CURATOR = 0
    ORACLE_NODE = 1

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Voter:
    """What a vote is weighed with (``IReputationLedger.Voter``)."""

    identity: int
    weight: int
    bound_at: int
    segment: int


@dataclass(frozen=True)
class IdentityRecord:
    index: int
    identity_id: bytes
    account: str
    bound_at: int
    segment: int
    revoked: bool


@dataclass(frozen=True)
class Reputation:
    """A score now (decayed to the current epoch), as stored, the epoch it is as of, and the
    epoch of its last posted update (None: never)."""

    score: int
    stored: int
    as_of_epoch: int
    last_posted_epoch: int | None


@dataclass(frozen=True)
class StakeRecord:
    active: int
    unbonding: int
    release_at: int


@dataclass(frozen=True)
class ScoreUpdate:
    """One posted target (``IReputationLedger.ScoreUpdate``)."""

    role: Role
    subject: int
    target: int
    segment: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (int(self.role), self.subject, self.target, self.segment)


def create_address(deployer: str, nonce: int) -> str:
    """The address a ``CREATE`` from ``deployer`` at ``nonce`` deploys to (how the suite names the
    curation contract to the ledger deployed just before it)."""
    return Web3.to_checksum_address(keccak(rlp_encode([to_canonical_address(deployer), nonce]))[12:])


class ReputationLedger(ContractClient):
    CONTRACT = "ReputationLedger"

    # ---- reads -----------------------------------------------------------------------------

    def voter_of(self, account: str) -> Voter:
        identity, weight, bound_at, segment = self._call(self.contract.functions.voterOf(Web3.to_checksum_address(account)))
        return Voter(identity, weight, bound_at, segment)

    def identity(self, index: int) -> IdentityRecord:
        identity_id, account, bound_at, segment, revoked = self._call(self.contract.functions.identity(index))
        return IdentityRecord(index, bytes(identity_id), account, bound_at, segment, revoked)

    def index_of(self, identity_id: bytes) -> int:
        return self._call(self.contract.functions.indexOf(identity_id))

    def identity_count(self) -> int:
        return self._call(self.contract.functions.identityCount())

    def is_attested(self, account: str, identity_id: bytes, proof: list[bytes]) -> bool:
        return self._call(self.contract.functions.isAttested(Web3.to_checksum_address(account), identity_id, proof))

    def reputation_of(self, role: Role, subject: int) -> Reputation:
        score, stored, as_of, posted = self._call(self.contract.functions.reputationOf(int(role), subject))
        return Reputation(score, stored, as_of, posted - 1 if posted else None)

    def stake_of(self, role: Role, subject: int) -> StakeRecord:
        return StakeRecord(*self._call(self.contract.functions.stakeOf(int(role), subject)))

    def weight_of(self, index: int) -> int:
        return self._call(self.contract.functions.weightOf(index))

    def total_weight(self) -> int:
        return self._call(self.contract.functions.totalWeight())

    def compute_weight(self, score: int, stake: int) -> int:
        return self._call(self.contract.functions.computeWeight(score, stake))

    def current_epoch(self) -> int:
        return self._call(self.contract.functions.currentEpoch())

    def stake_saturation(self) -> int:
        return self._call(self.contract.functions.stakeSaturation())

    def identity_root(self) -> bytes:
        return bytes(self._call(self.contract.functions.identityRoot()))

    def attester(self) -> str:
        return self._call(self.contract.functions.attester())

    def updater(self) -> str:
        return self._call(self.contract.functions.updater())

    def oracle_address(self) -> str:
        return self._call(self.contract.functions.oracle())

    def reward_of(self, account: str) -> int:
        return self._call(self.contract.functions.rewardOf(Web3.to_checksum_address(account)))

    def segments(self) -> list[str]:
        count = self._call(self.contract.functions.segmentCount())
        return [self._call(self.contract.functions.segmentName(i)) for i in range(count)]

    # ---- events ----------------------------------------------------------------------------

    def latest_tree_cid(self) -> CidParts | None:
        """Where the attester published the current identity tree (its ``IdentityRootPosted``)."""
        posted = self.logs("IdentityRootPosted")
        return CidParts.from_tuple(posted[-1].args.tree) if posted else None

    # ---- writes ----------------------------------------------------------------------------

    def add_segment(self, sender: Sender, name: str) -> Receipt:
        return self._send(sender, self.contract.functions.addSegment(name))

    def set_attester(self, sender: Sender, attester: str) -> Receipt:
        return self._send(sender, self.contract.functions.setAttester(Web3.to_checksum_address(attester)))

    def set_updater(self, sender: Sender, updater: str) -> Receipt:
        return self._send(sender, self.contract.functions.setUpdater(Web3.to_checksum_address(updater)))

    def post_identity_root(self, sender: Sender, root: bytes, count: int, tree: CidParts) -> Receipt:
        return self._send(sender, self.contract.functions.postIdentityRoot(root, count, tree.as_tuple()))

    def bind(self, sender: Sender, identity_id: bytes, proof: list[bytes]) -> Receipt:
        return self._send(sender, self.contract.functions.bind(identity_id, proof))

    def revoke(self, sender: Sender, identity_id: bytes) -> Receipt:
        return self._send(sender, self.contract.functions.revoke(identity_id))

    def stake(self, sender: Sender, role: Role, subject: int, amount: int) -> Receipt:
        return self._send(sender, self.contract.functions.stake(int(role), subject), value=amount)

    def request_unstake(self, sender: Sender, role: Role, subject: int, amount: int) -> Receipt:
        return self._send(sender, self.contract.functions.requestUnstake(int(role), subject, amount))

    def withdraw_stake(self, sender: Sender, role: Role, subject: int) -> Receipt:
        return self._send(sender, self.contract.functions.withdrawStake(int(role), subject))

    def post_scores(self, sender: Sender, epoch: int, updates: list[ScoreUpdate]) -> Receipt:
        return self._send(sender, self.contract.functions.postScores(epoch, [u.as_tuple() for u in updates]))

    def apply_decay(self, sender: Sender, role: Role, subjects: list[int]) -> Receipt:
        return self._send(sender, self.contract.functions.applyDecay(int(role), subjects))

    def slash_equivocation(self, sender: Sender, proof: tuple) -> Receipt:
        return self._send(sender, self.contract.functions.slashEquivocation(proof))

    def withdraw_reward(self, sender: Sender) -> Receipt:
        return self._send(sender, self.contract.functions.withdrawReward())

