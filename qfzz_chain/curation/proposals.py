"""Proposing an emerging artist: their tracks with the ties the contract checks, made up front.

The contract takes, per track, its registered parents and the lists of its current royalty
splits as calldata, checks each against the registry's ``parentsHash`` and the royalties
contract's ``splitHash``, and takes every account they name — the artist, the split recipients
and controllers, the parents' artists — out of the vote (``IEmergingArtistCuration`` says why).
``gather_ties`` rebuilds that calldata from the registry's and the royalties contract's events;
``tied_accounts`` lists the same accounts the contract will, each with the reason, so a proposer
tied to the artist is told before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.track_registry import TrackRegistry
from qfzz_chain.chain.transactions import Receipt
from qfzz_chain.curation.chain import COMPOSITION, MASTER, EmergingArtistCuration, RoyaltySplits, SplitList, TrackTies
from qfzz_chain.curation.errors import CurationError, NoIdentityError, SelfDealingError
from qfzz_chain.curation.votes import segment_mask
from qfzz_chain.reputation.chain import ReputationLedger

MAX_TRACKS = 8
RIGHT_NAMES = {COMPOSITION: "composition", MASTER: "master"}


@dataclass(frozen=True)
class Tie:
    """An account the proposal takes out of the vote, and why."""

    account: str
    reason: str


def tied_accounts(artist: str, ties: list[TrackTies], parent_artists: dict[bytes, str],
                  controllers: dict[tuple[bytes, int], tuple[str, str]]) -> list[Tie]:  # fmt: skip
    """The accounts in the order the contract collects them (its ``tied`` list), with reasons.

    ``parent_artists``: parent track id → its artist; ``controllers``: (track, right) →
    (controller, pending controller), for the rights whose split is set.
    """
    zero = "0x" + "00" * 20
    found = [Tie(Web3.to_checksum_address(artist), "the artist")]
    for track in ties:
        short = "0x" + track.track_id.hex()[:8]
        for parent in track.parents:
            found.append(Tie(parent_artists[parent.track_id], f"artist of the parent of track {short}"))
        for right, split in ((COMPOSITION, track.composition), (MASTER, track.master)):
            for recipient in split.recipients:
                found.append(Tie(Web3.to_checksum_address(recipient), f"paid by the {RIGHT_NAMES[right]} split of {short}"))
            controller, pending = controllers.get((track.track_id, right), (zero, zero))
            for account, role in ((controller, "controls"), (pending, "is offered control of")):
                if int(account, 16):
                    found.append(Tie(Web3.to_checksum_address(account), f"{role} the {RIGHT_NAMES[right]} split of {short}"))
    return found


def gather_ties(registry: TrackRegistry, splits: RoyaltySplits, track_id: bytes) -> tuple[TrackTies, dict, dict]:
    """A track's parents and current splits, as the contract wants them, with the parents'
    artists and the splits' controllers (for :func:`tied_accounts`)."""
    history = registry.history(track_id)
    parents = tuple(history.registration.parents)
    parent_artists = {p.track_id: registry.get(p.track_id).artist for p in parents}
    lists, controllers = {COMPOSITION: SplitList(), MASTER: SplitList()}, {}
    for right, version in splits.versions(track_id).items():
        lists[right] = splits.split_lists(track_id, right, version)
        controllers[(track_id, right)] = splits.controller_of(track_id, right)
    return TrackTies(track_id, parents, lists[COMPOSITION], lists[MASTER]), parent_artists, controllers


def artist_tracks(registry: TrackRegistry, artist: str) -> list[bytes]:
    """The artist's final registrations, newest first (what a proposal names by default)."""
    mine = [h for h in registry.histories().values() if h.artist == Web3.to_checksum_address(artist)]
    mine.sort(key=lambda h: h.registration.block, reverse=True)
    return [h.registration.track_id for h in mine if registry.is_final(h.registration.track_id)]


@dataclass(frozen=True)
class Proposed:
    proposal_id: int
    artist: str
    tracks: list[bytes]
    segments: list[int]
    tied: list[Tie]
    excluded_weight: int
    eligible_weight: int
    commit_end: int
    reveal_end: int
    receipt: Receipt


def resolve_segments(names: tuple[str, ...] | list[str], defined: list[str]) -> list[int]:
    """Segment names (or indices) to ledger segment indices; an unknown name is one clear error."""
    if not names:
        raise CurationError(f"name at least one --segment (defined: {', '.join(defined) or 'none'})")
    chosen = []
    for name in names:
        if name.isdigit() and int(name) < len(defined):
            index = int(name)
        elif name in defined:
            index = defined.index(name)
        else:
            raise CurationError(f"no segment {name!r} is defined (defined: {', '.join(defined) or 'none'})")
        if index not in chosen:
            chosen.append(index)
    return sorted(chosen)


def propose(curation: EmergingArtistCuration, ledger: ReputationLedger, registry: TrackRegistry,
            splits: RoyaltySplits, sender: Sender, artist: str, segment_names: list[str],
            track_ids: list[bytes] | None = None) -> Proposed:  # fmt: skip
    """Propose ``artist`` for segments, with their tracks (default: their final ones)."""
    if not Web3.is_address(artist):
        raise CurationError(f"{artist!r} is not an address")
    artist = Web3.to_checksum_address(artist)
    segments = resolve_segments(segment_names, ledger.segments())
    voter = ledger.voter_of(sender.address)
    if voter.identity == 0 or voter.weight == 0:
        raise NoIdentityError(f"{sender.address} has no voting weight (no identity bound): only curators with weight "
                              "propose; bind one with `qfzz reputation bind`")  # fmt: skip
    open_id = curation.open_proposal_of(artist)
    if open_id:
        raise CurationError(f"{artist} already has proposal {open_id} open: vote on it (`qfzz curate vote {open_id} ...`)")
    tracks = list(track_ids) if track_ids else artist_tracks(registry, artist)[:MAX_TRACKS]
    if not tracks:
        raise CurationError(f"{artist} has no final track on this registry (a registration is final a day after it)")
    ties, parent_artists, controllers = [], {}, {}
    for track_id in tracks:
        record = registry.get(track_id)
        if record.artist != artist:
            raise CurationError(f"track 0x{track_id.hex()} is attributed to {record.artist}, not to {artist}")
        if not registry.is_final(track_id):
            raise CurationError(f"track 0x{track_id.hex()} is not final yet (a day after registration): wait, then propose")
        track, parents, controlled = gather_ties(registry, splits, track_id)
        ties.append(track)
        parent_artists.update(parents)
        controllers.update(controlled)
    tied = tied_accounts(artist, ties, parent_artists, controllers)
    for tie in tied:
        if tie.account == sender.address or ledger.voter_of(tie.account).identity == voter.identity:
            raise SelfDealingError(f"you cannot propose {artist}: your identity is tied to them ({tie.account}: {tie.reason})")
    receipt = curation.propose(sender, artist, ties, segment_mask(segments))
    event = curation.contract.events.ProposalCreated().process_log(
        next(log for log in receipt.logs if log["address"] == curation.address))
    args = event.args
    return Proposed(args.proposalId, artist, tracks, segments, tied, args.excludedWeight, args.eligibleWeight,
                    args.commitEnd, args.revealEnd, receipt)  # fmt: skip
