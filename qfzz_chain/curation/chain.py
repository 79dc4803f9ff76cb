"""Clients of ``EmergingArtistCuration`` and of the royalty splits curation reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3 import Web3

from qfzz_chain.chain.contract import ContractClient
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, call
from qfzz_chain.chain.types import Parent
from qfzz_chain.curation.votes import OUTSIDE_SEGMENTS, Outcome, Status, Tally, Vote, mask_segments

COMPOSITION, MASTER = 0, 1


@dataclass(frozen=True)
class SplitList:
    """A split version's lists (``IEmergingArtistCuration.SplitList``); empty where none is set."""

    recipients: tuple[str, ...] = ()
    bps: tuple[int, ...] = ()
    upstream_bps: int = 0

    def as_tuple(self) -> tuple:
        return ([Web3.to_checksum_address(r) for r in self.recipients], list(self.bps), self.upstream_bps)


@dataclass(frozen=True)
class TrackTies:
    """A proposed track with its registered parents and current splits (``IEmergingArtistCuration.TrackTies``)."""

    track_id: bytes
    parents: tuple[Parent, ...] = ()
    composition: SplitList = SplitList()
    master: SplitList = SplitList()

    def as_tuple(self) -> tuple:
        return (self.track_id, [p.as_tuple() for p in self.parents], self.composition.as_tuple(),
                self.master.as_tuple())  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    """A proposal as stored, with its phases (Unix times)."""

    proposal_id: int
    created_at: int
    status: Status
    outcome: Outcome
    segments: tuple[int, ...]
    eligible_weight: int
    proposer: int
    artist: str
    passed_segments: tuple[int, ...]
    track_count: int
    commit_end: int
    reveal_end: int

    def phase(self, now: int) -> str:
        """``commit``, ``reveal``, ``settle`` (voting over, not settled) or ``settled``."""
        if self.status in (Status.PASSED, Status.REJECTED):
            return "settled"
        if now < self.commit_end:
            return "commit"
        if now < self.reveal_end:
            return "reveal"
        return "settle"


@dataclass(frozen=True)
class Created:
    """A ``ProposalCreated`` event: what the proposal names and who is out of its vote."""

    proposal_id: int
    artist: str
    proposer: int
    tracks: tuple[bytes, ...]
    tied: tuple[str, ...]
    eligible_weight: int
    excluded_weight: int
    block: int
    transaction: str


@dataclass(frozen=True)
class Listing:
    proposal_id: int
    listed_at: int
    until: int
    segments: tuple[int, ...]


@dataclass(frozen=True)
class VoteRecord:
    """An identity's vote on a proposal: 0 none (or revealed), 1 committed, 2 excluded as tied."""

    state: int
    weight: int
    segment: int
    commitment_prefix: bytes


@dataclass
class VoteHistory:
    """A proposal's votes as its events tell them."""

    committed: dict[int, bytes] = field(default_factory=dict)  # identity -> commitment
    revealed: dict[int, tuple[Vote, int, int]] = field(default_factory=dict)  # identity -> (vote, weight, segment)
    excluded: set[int] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)

    @property
    def unrevealed(self) -> list[int]:
        """Identities that committed and have neither revealed nor been excluded or reported."""
        return sorted(set(self.committed) - set(self.revealed) - self.excluded - self.reported)


class EmergingArtistCuration(ContractClient):
    CONTRACT = "EmergingArtistCuration"

    # ---- reads -----------------------------------------------------------------------------

    def proposal(self, proposal_id: int) -> Proposal | None:
        (created_at, status, outcome, segments, eligible, proposer, artist, passed, track_count, _,
         _) = self._call(self.contract.functions.proposal(proposal_id))  # fmt: skip
        if Status(status) == Status.NONE:
            return None
        commit_end = created_at + self.commit_seconds()
        return Proposal(proposal_id, created_at, Status(status), Outcome(outcome), tuple(mask_segments(segments)),
                        eligible, proposer, artist, tuple(mask_segments(passed)), track_count, commit_end,
                        commit_end + self.reveal_seconds())  # fmt: skip

    def tally(self, proposal_id: int, bucket: int) -> Tally:
        strongly, agree, neutral, disagree, voters, _ = self._call(self.contract.functions.tally(proposal_id, bucket))
        return Tally(strongly, agree, neutral, disagree, voters)

    def buckets(self, proposal: Proposal) -> dict[int, Tally]:
        """The revealed tally of each targeted segment and of the outside bucket."""
        return {b: self.tally(proposal.proposal_id, b) for b in (*proposal.segments, OUTSIDE_SEGMENTS)}

    def vote_of(self, proposal_id: int, identity: int) -> VoteRecord:
        state, weight, segment, prefix = self._call(self.contract.functions.voteOf(proposal_id, identity))
        return VoteRecord(state, weight, segment, bytes(prefix))

    def make_commitment(self, proposal_id: int, identity: int, vote: Vote, salt: bytes) -> bytes:
        return bytes(self._call(self.contract.functions.makeCommitment(proposal_id, identity, int(vote), salt)))

    def proposal_count(self) -> int:
        return self._call(self.contract.functions.proposalCount())

    def open_proposal_of(self, artist: str) -> int:
        return self._call(self.contract.functions.openProposalOf(Web3.to_checksum_address(artist)))

    def listing_of(self, artist: str, block: int | str = "latest") -> Listing | None:
        proposal_id, listed_at, until, segments = self._call(
            self.contract.functions.listingOf(Web3.to_checksum_address(artist)), block)
        return Listing(proposal_id, listed_at, until, tuple(mask_segments(segments))) if proposal_id else None

    def listed_artists(self, block: int | str = "latest") -> list[str]:
        count = self._call(self.contract.functions.listedCount(), block)
        return [self._call(self.contract.functions.listedArtist(i), block) for i in range(count)]

    def commit_seconds(self) -> int:
        return self._cached("commitSeconds")

    def reveal_seconds(self) -> int:
        return self._cached("revealSeconds")

    def quorum_bps(self) -> int:
        return self._cached("quorumBps")

    def ledger_address(self) -> str:
        return self._cached("ledger")

    def registry_address(self) -> str:
        return self._cached("registry")

    def royalties_address(self) -> str:
        return self._cached("royalties")

    def _cached(self, name: str):
        """Immutable settings, read once per client."""
        cache = self.__dict__.setdefault("_settings", {})
        if name not in cache:
            cache[name] = self._call(getattr(self.contract.functions, name)())
        return cache[name]

    # ---- events ----------------------------------------------------------------------------

    def created(self, proposal_id: int) -> Created | None:
        logs = self.logs("ProposalCreated", {"proposalId": proposal_id})
        if not logs:
            return None
        args = logs[-1].args
        return Created(proposal_id, args.artist, args.proposer, tuple(bytes(t) for t in args.tracks), tuple(args.tied),
                       args.eligibleWeight, args.excludedWeight, logs[-1].blockNumber,
                       logs[-1].transactionHash.to_0x_hex())  # fmt: skip

    def all_created(self) -> list[Created]:
        return [Created(log.args.proposalId, log.args.artist, log.args.proposer, tuple(bytes(t) for t in log.args.tracks),
                        tuple(log.args.tied), log.args.eligibleWeight, log.args.excludedWeight, log.blockNumber,
                        log.transactionHash.to_0x_hex()) for log in self.logs("ProposalCreated")]  # fmt: skip

    def vote_history(self, proposal_id: int) -> VoteHistory:
        history = VoteHistory()
        filters = {"proposalId": proposal_id}
        for log in self.logs("VoteCommitted", filters):
            history.committed[log.args.identity] = bytes(log.args.commitment)
        for log in self.logs("VoteRevealed", filters):
            history.revealed[log.args.identity] = (Vote(log.args.vote), log.args.weight, log.args.segment)
        history.excluded = {log.args.identity for log in self.logs("TiedIdentityExcluded", filters)}
        history.reported = {log.args.identity for log in self.logs("NonRevealReported", filters)}
        return history

    # ---- writes ----------------------------------------------------------------------------

    def propose(self, sender: Sender, artist: str, tracks: list[TrackTies], segment_mask: int) -> Receipt:
        function = self.contract.functions.propose(Web3.to_checksum_address(artist), [t.as_tuple() for t in tracks],
                                                   segment_mask)  # fmt: skip
        return self._send(sender, function)

    def commit(self, sender: Sender, proposal_id: int, commitment: bytes) -> Receipt:
        return self._send(sender, self.contract.functions.commit(proposal_id, commitment))

    def reveal(self, sender: Sender, proposal_id: int, vote: Vote, salt: bytes) -> Receipt:
        return self._send(sender, self.contract.functions.reveal(proposal_id, int(vote), salt))

    def finalize(self, sender: Sender, proposal_id: int) -> Receipt:
        return self._send(sender, self.contract.functions.finalize(proposal_id))

    def report_non_reveals(self, sender: Sender, proposal_id: int, identities: list[int]) -> Receipt:
        return self._send(sender, self.contract.functions.reportNonReveals(proposal_id, identities))

    def exclude_tied_identity(self, sender: Sender, proposal_id: int, tied: list[str], position: int,
                              identity_id: bytes, proof: list[bytes]) -> Receipt:  # fmt: skip
        function = self.contract.functions.excludeTiedIdentity(proposal_id, list(tied), position, identity_id, proof)
        return self._send(sender, function)


class RoyaltySplits(ContractClient):
    """The split records of the royalties contract, through ``IRoyaltySplits`` (its subset)."""

    CONTRACT = "IRoyaltySplits"

    def __init__(self, w3: Web3, address: str, first_block: int = 0):
        super().__init__(w3, address, None, first_block)

    def versions(self, track_id: bytes) -> dict[int, int]:
        """The current version of each right whose split is set (right -> version)."""
        _, _, _, _, split_set, _, versions = call(self.abi, self.contract.functions.trackState(track_id))
        return {right: versions[right] for right in (COMPOSITION, MASTER) if split_set[right]}

    def split_hash(self, track_id: bytes, right: int, version: int) -> bytes:
        return bytes(call(self.abi, self.contract.functions.splitHash(track_id, right, version)))

    def controller_of(self, track_id: bytes, right: int) -> tuple[str, str]:
        return tuple(call(self.abi, self.contract.functions.controllerOf(track_id, right)))

    def split_lists(self, track_id: bytes, right: int, version: int) -> SplitList:
        """The lists of one split version, from its ``SplitSet`` event."""
        for log in self.logs("SplitSet", {"trackId": track_id, "right": right}):
            if log.args.version == version:
                return SplitList(tuple(log.args.recipients), tuple(log.args.bps), log.args.upstreamBps)
        raise LookupError(f"no SplitSet event for version {version} of right {right} of track 0x{track_id.hex()}")
