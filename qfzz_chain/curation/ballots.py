"""A curator's side of a vote: the salt kept locally before the commitment is sent, the reveal
from it, and a proposal's standing; plus the emerging-artist index as the recommender reads it.

**Salts** live in ``$QFZZ_HOME/curation/votes/`` (``qfzz_chain.journal``: owner-only files,
written and fsync'ed *before* the commitment is sent), one entry per chain, curation contract,
proposal and account: a crash after the commit leaves an entry that can reveal it, and nobody
without the file learns the vote before the reveal phase. A revealed entry is kept (marked
revealed) as the voter's record; its salt is public on-chain by then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from web3 import Web3

from qfzz_chain.chain.errors import TransactionReverted
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt
from qfzz_chain.config import qfzz_home
from qfzz_chain.curation.chain import EmergingArtistCuration, Proposal
from qfzz_chain.curation.errors import CurationError, NoIdentityError, PhaseError, SelfDealingError, VoteError
from qfzz_chain.curation.votes import OUTSIDE_SEGMENTS, Result, Status, Vote, make_commitment, outcome
from qfzz_chain.journal import Journal
from qfzz_chain.reputation.chain import ReputationLedger


def journal() -> Journal:
    return Journal(qfzz_home() / "curation" / "votes")


def _key(curation: EmergingArtistCuration, proposal_id: int, account: str) -> str:
    return f"{curation.w3.eth.chain_id}-{curation.address.lower()}-{proposal_id}-{account.lower()}"


def _proposal(curation: EmergingArtistCuration, proposal_id: int) -> Proposal:
    proposal = curation.proposal(proposal_id)
    if proposal is None:
        raise CurationError(f"no proposal {proposal_id} (there are {curation.proposal_count()})")
    return proposal


def _now(curation: EmergingArtistCuration) -> int:
    return curation.w3.eth.get_block("latest")["timestamp"]


def translate(exc: TransactionReverted) -> Exception:
    """A curation revert as the user's error, naming what to do."""
    args = exc.arguments
    if exc.error == "SelfDealing":
        return SelfDealingError(f"self-dealing: {args['account']} is tied to the proposed artist of proposal "
                                f"{args['proposalId']} (the artist, a collaborator or a parent's artist): it cannot vote on it")  # fmt: skip
    if exc.error == "NoVotingWeight":
        return NoIdentityError(f"{args['account']} has no voting weight: bind an attested identity first (`qfzz reputation bind`)")
    if exc.error == "IdentityTooNew":
        return NoIdentityError(f"identity {args['identity']} was bound after the proposal was made: it votes from the next one")
    if exc.error == "CommitPhaseOver":
        return PhaseError(f"voting on proposal {args['proposalId']} closed at {args['commitEnd']} (Unix time): reveal instead")
    if exc.error == "NotRevealPhase":
        return PhaseError(f"proposal {args['proposalId']} takes reveals from {args['commitEnd']} until {args['revealEnd']} (Unix time)")
    if exc.error == "RevealMismatch":
        return VoteError(f"reveal mismatch: that vote and salt are not what identity {args['identity']} committed on proposal "
                         f"{args['proposalId']}")  # fmt: skip
    if exc.error == "AlreadyCommitted":
        return VoteError(f"identity {args['identity']} already voted on proposal {args['proposalId']} (one vote per identity)")
    if exc.error == "NothingToReveal":
        return VoteError(f"identity {args['identity']} has no committed vote on proposal {args['proposalId']} to reveal")
    if exc.error == "VotingNotOver":
        return PhaseError(f"proposal {args['proposalId']} is settled after its reveal phase ends at {args['revealEnd']}")
    if exc.error == "AlreadySettled":
        return PhaseError(f"proposal {args['proposalId']} is already settled")
    return exc


@dataclass(frozen=True)
class Committed:
    proposal_id: int
    identity: int
    weight: int
    commitment: bytes
    reveal_from: int
    reveal_until: int
    kept_at: str
    receipt: Receipt


def commit_vote(curation: EmergingArtistCuration, ledger: ReputationLedger, sender: Sender, proposal_id: int,
                vote: Vote, salt: bytes | None = None) -> Committed:  # fmt: skip
    """Commit ``vote``: the salt is journalled first, then the commitment sent."""
    proposal = _proposal(curation, proposal_id)
    now = _now(curation)
    if proposal.status != Status.OPEN or now >= proposal.commit_end:
        raise PhaseError(f"voting on proposal {proposal_id} closed at {proposal.commit_end} (Unix time; now {now}): "
                         "reveal instead, if you voted")  # fmt: skip
    voter = ledger.voter_of(sender.address)
    if voter.identity == 0:
        raise NoIdentityError(f"{sender.address} has no identity bound: voting weight needs an attested identity "
                              "(`qfzz reputation bind`)")  # fmt: skip
    entries, key = journal(), _key(curation, proposal_id, sender.address)
    earlier = entries.get(key)
    record = curation.vote_of(proposal_id, voter.identity)
    if record.state == 1 or (earlier and earlier.get("state") in ("committed", "revealed")):
        raise VoteError(f"identity {voter.identity} already voted on proposal {proposal_id}: reveal it with "
                        f"`qfzz curate reveal {proposal_id}` once voting closes")  # fmt: skip
    salt = salt or os.urandom(32)
    commitment = make_commitment(curation.address, proposal_id, voter.identity, vote, salt)
    entries.put(key, {"chain_id": curation.w3.eth.chain_id, "curation": curation.address, "proposal_id": proposal_id,
                      "account": sender.address, "identity": voter.identity, "vote": vote.label, "salt": salt.hex(),
                      "commitment": commitment.hex(), "state": "pending"})  # fmt: skip
    try:
        receipt = curation.commit(sender, proposal_id, commitment)
    except TransactionReverted as exc:
        entries.delete(key)  # nothing was committed: the salt protects nothing
        raise translate(exc) from exc
    entries.put(key, {**entries.get(key), "state": "committed", "transaction": receipt.transaction})
    return Committed(proposal_id, voter.identity, voter.weight, commitment, proposal.commit_end, proposal.reveal_end,
                     str(entries.directory), receipt)  # fmt: skip


@dataclass(frozen=True)
class Revealed:
    proposal_id: int
    identity: int
    vote: Vote
    receipt: Receipt


def reveal_vote(curation: EmergingArtistCuration, ledger: ReputationLedger, sender: Sender, proposal_id: int,
                vote: Vote | None = None, salt: bytes | None = None) -> Revealed:  # fmt: skip
    """Reveal the journalled vote (or the ``vote`` and ``salt`` given, e.g. from a backup)."""
    proposal = _proposal(curation, proposal_id)
    now = _now(curation)
    entries, key = journal(), _key(curation, proposal_id, sender.address)
    entry = entries.get(key)
    if vote is None or salt is None:
        if entry is None:
            raise VoteError(f"no vote on proposal {proposal_id} from {sender.address} is kept in {entries.directory}: "
                            "give --vote and --salt")  # fmt: skip
        vote = vote if vote is not None else Vote[entry["vote"].upper().replace("-", "_")]
        salt = salt if salt is not None else bytes.fromhex(entry["salt"])
    if now < proposal.commit_end or now >= proposal.reveal_end:
        raise PhaseError(f"proposal {proposal_id} takes reveals from {proposal.commit_end} until {proposal.reveal_end} "
                         f"(Unix time; now {now})")  # fmt: skip
    try:
        receipt = curation.reveal(sender, proposal_id, vote, salt)
    except TransactionReverted as exc:
        raise translate(exc) from exc
    if entry is not None:
        entries.put(key, {**entry, "state": "revealed", "reveal_transaction": receipt.transaction})
    return Revealed(proposal_id, ledger.voter_of(sender.address).identity, vote, receipt)


@dataclass(frozen=True)
class Standing:
    """A proposal as it stands: its phase, the revealed tallies, and the pass rule applied to them."""

    proposal: Proposal
    phase: str
    segment_names: dict[int, str]
    result: Result
    committed: int
    revealed: int
    unrevealed: list[int]
    tied: tuple[str, ...]
    excluded_weight: int


def standing(curation: EmergingArtistCuration, ledger: ReputationLedger, proposal_id: int) -> Standing:
    proposal = _proposal(curation, proposal_id)
    names = ledger.segments()
    buckets = curation.buckets(proposal)
    result = outcome(buckets, proposal.eligible_weight, curation.quorum_bps())
    history = curation.vote_history(proposal_id)
    created = curation.created(proposal_id)
    segment_names = {s: names[s] if s < len(names) else str(s) for s in proposal.segments}
    segment_names[OUTSIDE_SEGMENTS] = "other segments"
    return Standing(proposal, proposal.phase(_now(curation)), segment_names, result, len(history.committed),
                    len(history.revealed), history.unrevealed, created.tied if created else (),
                    created.excluded_weight if created else 0)  # fmt: skip


def finalize(curation: EmergingArtistCuration, sender: Sender, proposal_id: int) -> Receipt:
    _proposal(curation, proposal_id)
    try:
        return curation.finalize(sender, proposal_id)
    except TransactionReverted as exc:
        raise translate(exc) from exc


def report_non_reveals(curation: EmergingArtistCuration, sender: Sender, proposal_id: int) -> tuple[list[int], Receipt]:
    """Report every identity that committed and did not reveal (after the reveal phase)."""
    proposal = _proposal(curation, proposal_id)
    if _now(curation) < proposal.reveal_end:
        raise PhaseError(f"non-reveals are reported after the reveal phase ends at {proposal.reveal_end} (Unix time)")
    missing = curation.vote_history(proposal_id).unrevealed
    if not missing:
        raise CurationError(f"proposal {proposal_id} has no unrevealed vote left to report")
    try:
        return missing, curation.report_non_reveals(sender, proposal_id, missing)
    except TransactionReverted as exc:
        raise translate(exc) from exc


# ---- the emerging-artist index, as the recommender reads it ------------------------------------

LASTFM_FIELD = "lastfm_id"


@dataclass(frozen=True)
class IndexEntry:
    """A listed artist, its listing, and the Last.fm artist ids its tracks' metadata name."""

    artist: str
    proposal_id: int
    until: int
    segments: tuple[str, ...]
    lastfm_ids: tuple[int, ...]


def emerging_index(curation: EmergingArtistCuration, ledger: ReputationLedger | None, registry, store,
                   block: int | str = "latest") -> list[IndexEntry]:
    """The artists listed at ``block`` (by its timestamp), each with the catalogue items its
    registered tracks name (``ledger`` names the segments; without one they stay numbers).

    A track's metadata field ``lastfm_id`` ties it to the Last.fm artist the models are fitted
    on (the catalogue the recommender serves); a listed artist without one is listed but has
    nothing to boost there yet.
    """
    from qfzz_chain.tracks import read_metadata

    header = curation.w3.eth.get_block(block)
    now, names = header["timestamp"], (ledger.segments() if ledger is not None else [])
    histories = registry.histories(to_block=header["number"])
    found = []
    for artist in curation.listed_artists(header["number"]):
        listing = curation.listing_of(artist, header["number"])
        if listing is None or listing.until <= now:
            continue
        ids = []
        for history in histories.values():
            if history.artist != Web3.to_checksum_address(artist):
                continue
            metadata = read_metadata(store, str(history.metadata.metadata)) or {}
            value = metadata.get(LASTFM_FIELD)
            if isinstance(value, int) and not isinstance(value, bool) and value not in ids:
                ids.append(value)
        found.append(IndexEntry(Web3.to_checksum_address(artist), listing.proposal_id, listing.until,
                                tuple(names[s] if s < len(names) else str(s) for s in listing.segments), tuple(ids)))  # fmt: skip
    return found


def curated_items(curation: EmergingArtistCuration, registry, store, block: int) -> tuple[int, ...]:
    """The Last.fm artist ids the index lists at ``block``, sorted: what an epoch's receipts boost."""
    return tuple(sorted({i for entry in emerging_index(curation, None, registry, store, block) for i in entry.lastfm_ids}))
