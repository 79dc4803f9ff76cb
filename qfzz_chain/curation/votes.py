"""Votes on the seed's scale, their commitments, and the pass rule, as the contract has them.

``contracts/EmergingArtistCuration.sol`` is the specification; this module is its pure
replica (tests/contracts/test_curation.py checks both agree on anvil), for the CLI's ``status``
and for the simulation's expectations.

**Commitment** (specified by the contract): ``keccak256(abi.encode(address curation, uint256
proposalId, uint32 identity, uint8 vote, bytes32 salt))`` — bound to the contract, the proposal
and the voter's identity, so a copied commitment reveals nothing for its copier. The contract
keeps its first 24 bytes.

**Pass rule**: revealed weight ≥ ``quorum_bps`` of the eligible weight; agreement (strongly
agree + agree) > 60% of revealed weight; and > 60% still with any one bucket's votes taken out
(the targeted segments, and one bucket for identities in no targeted segment), so one segment's
votes alone never carry a proposal. A segment *passes* on its own when its agreement is > 60%.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from qfzz_chain.curation.errors import VoteError

AGREEMENT_BPS = 6_000
BPS = 10_000
OUTSIDE_SEGMENTS = 64
NO_SEGMENT = 255


class Vote(enum.IntEnum):
    """The seed's scale (mirrors ``IEmergingArtistCuration.Vote``)."""

    STRONGLY_AGREE = 0
    AGREE = 1
    NEUTRAL = 2
    DISAGREE = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def agrees(self) -> bool:
        return self in (Vote.STRONGLY_AGREE, Vote.AGREE)


VOTE_NAMES = {v.label: v for v in Vote}


def parse_vote(text: str) -> Vote:
    """``strongly-agree``, ``agree``, ``neutral`` or ``disagree`` (underscores or spaces also do)."""
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    if key not in VOTE_NAMES:
        raise VoteError(f"{text!r} is not a vote: use one of {', '.join(VOTE_NAMES)}")
    return VOTE_NAMES[key]


class Status(enum.IntEnum):
    NONE = 0
    OPEN = 1
    PASSED = 2
    REJECTED = 3


class Outcome(enum.IntEnum):
    PENDING = 0
    PASSED = 1
    NO_QUORUM = 2
    NO_AGREEMENT = 3
    ONE_SEGMENT = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


def make_commitment(curation: str, proposal_id: int, identity: int, vote: Vote, salt: bytes) -> bytes:
    """The 32-byte commitment the contract's ``makeCommitment`` returns."""
    if len(salt) != 32:
        raise VoteError(f"a vote salt is 32 bytes, not {len(salt)}")
    return keccak(encode(["address", "uint256", "uint32", "uint8", "bytes32"],
                         [Web3.to_checksum_address(curation), proposal_id, identity, int(vote), salt]))  # fmt: skip


@dataclass(frozen=True)
class Tally:
    """Revealed weight per vote in one bucket."""

    strongly_agree: int = 0
    agree: int = 0
    neutral: int = 0
    disagree: int = 0
    voters: int = 0

    @property
    def agreeing(self) -> int:
        return self.strongly_agree + self.agree

    @property
    def revealed(self) -> int:
        return self.agreeing + self.neutral + self.disagree

    @property
    def agreement(self) -> float | None:
        """The agreeing share of revealed weight, None when nothing was revealed."""
        return self.agreeing / self.revealed if self.revealed else None

    def add(self, vote: Vote, weight: int) -> "Tally":
        fields = {"strongly_agree": self.strongly_agree, "agree": self.agree, "neutral": self.neutral,
                  "disagree": self.disagree}  # fmt: skip
        fields[vote.name.lower()] += weight
        return Tally(**fields, voters=self.voters + 1)


def agrees(agreeing: int, revealed: int) -> bool:
    """Agreement strictly above 60% of a nonzero revealed weight (the contract's ``_agrees``)."""
    return revealed != 0 and agreeing * BPS > AGREEMENT_BPS * revealed


@dataclass(frozen=True)
class Result:
    """A proposal's result: the outcome and why, overall and per bucket."""

    outcome: Outcome
    agreeing: int
    revealed: int
    eligible: int
    quorum_bps: int
    passed_segments: tuple[int, ...]
    buckets: dict[int, Tally] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASSED

    @property
    def turnout(self) -> float:
        return self.revealed / self.eligible if self.eligible else 0.0


def outcome(buckets: dict[int, Tally], eligible: int, quorum_bps: int) -> Result:
    """The pass rule over ``buckets`` (segment → tally, ``OUTSIDE_SEGMENTS`` for the rest)."""
    agreeing = sum(t.agreeing for t in buckets.values())
    revealed = sum(t.revealed for t in buckets.values())
    passed_segments = tuple(sorted(s for s, t in buckets.items() if s != OUTSIDE_SEGMENTS and agrees(t.agreeing, t.revealed)))
    if revealed == 0 or revealed * BPS < quorum_bps * eligible:
        verdict = Outcome.NO_QUORUM
    elif not agrees(agreeing, revealed):
        verdict = Outcome.NO_AGREEMENT
    elif any(t.revealed and not agrees(agreeing - t.agreeing, revealed - t.revealed) for t in buckets.values()):
        verdict = Outcome.ONE_SEGMENT
    else:
        verdict = Outcome.PASSED
    return Result(verdict, agreeing, revealed, eligible, quorum_bps, passed_segments, dict(buckets))


def segment_mask(segments: list[int] | tuple[int, ...]) -> int:
    mask = 0
    for segment in segments:
        if not 0 <= segment < OUTSIDE_SEGMENTS:
            raise VoteError(f"segment {segment} is out of range (0 to 63)")
        mask |= 1 << segment
    return mask


def mask_segments(mask: int) -> list[int]:
    return [i for i in range(OUTSIDE_SEGMENTS) if mask >> i & 1]
