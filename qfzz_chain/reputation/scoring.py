"""The updater's edge: read the anchored data, compute each subject's factors, post the targets.

Curators: every ``VoteRevealed`` of a finalized proposal (``EmergingArtistCuration``), with the
other revealers' votes; listener confirmation of listed artists comes from the receipts'
follow-up listens, handed in as ``confirmations`` (artist → rate relative to organic
recommendations: 1.0 = as often listened to as what the model found alone). Oracle members:
every ``BatchAnchored`` of ``RecommendationOracle`` since the member's committee started, its
``signers`` bitmap against ``committeeAt(epoch).members`` — the oracle's public events and views,
nothing it had to change for. ``factors`` holds the formula.
"""

from __future__ import annotations

from dataclasses import dataclass

from qfzz_chain.curation.chain import EmergingArtistCuration
from qfzz_chain.curation.votes import Status
from qfzz_chain.reputation.chain import ReputationLedger, Role, ScoreUpdate
from qfzz_chain.reputation.factors import CastVote, Factors, MemberEpoch, curator_factors, member_factors, others_mean
from qfzz_chain.reputation.rules import NO_SEGMENT, step_towards


@dataclass(frozen=True)
class Scored:
    """One subject's factors, its target, and what posting it will leave (the ledger's step)."""

    role: Role
    subject: int
    factors: Factors
    score_now: int
    score_after: int


def curator_votes(curation: EmergingArtistCuration, confirmations: dict[str, float] | None = None,
                  novelty: dict[str, float] | None = None) -> dict[int, list[CastVote]]:  # fmt: skip
    """identity → its revealed votes on settled proposals, oldest first. ``novelty``: artist →
    1 − listener percentile (default 1.0: an artist proposed as emerging has no listeners on record)."""
    confirmations = {k.lower(): v for k, v in (confirmations or {}).items()}
    novelty = {k.lower(): v for k, v in (novelty or {}).items()}
    found: dict[int, list[CastVote]] = {}
    for created in curation.all_created():
        proposal = curation.proposal(created.proposal_id)
        if proposal is None or proposal.status not in (Status.PASSED, Status.REJECTED):
            continue
        revealed = curation.vote_history(created.proposal_id).revealed
        artist = created.artist.lower()
        confirmation = confirmations.get(artist) if proposal.status == Status.PASSED else None
        for identity, (vote, _, _) in revealed.items():
            found.setdefault(identity, []).append(CastVote(
                created.proposal_id, vote, proposal.segments, others_mean(revealed, identity),
                novelty.get(artist, 1.0), confirmation))  # fmt: skip
    return found


def member_epochs(oracle, first_epoch: int = 0) -> dict[int, list[MemberEpoch]]:
    """member index → the anchored epochs of committees it belonged to, oldest first."""
    found: dict[int, list[MemberEpoch]] = {}
    for log in oracle.logs("BatchAnchored"):
        epoch = int(log.args.epoch)
        if epoch < first_epoch:
            continue
        committee = oracle.committee_at(epoch)
        signers, members = int(log.args.signers), committee.members
        count = bin(signers).count("1")
        for index in (i for i in range(256) if members >> i & 1):
            found.setdefault(index, []).append(MemberEpoch(epoch, bool(signers >> index & 1), count, committee.size, None))
    return found


def score_all(ledger: ReputationLedger, curation: EmergingArtistCuration, oracle=None,
              confirmations: dict[str, float] | None = None) -> list[Scored]:  # fmt: skip
    """Every subject with evidence, with its target and the score posting it would leave."""
    epoch = ledger.current_epoch()
    scored = []
    subjects: list[tuple[Role, int, Factors]] = [
        (Role.CURATOR, identity, curator_factors(votes)) for identity, votes in sorted(curator_votes(curation, confirmations).items())]
    if oracle is not None:
        subjects += [(Role.ORACLE_NODE, index, member_factors(epochs))
                     for index, epochs in sorted(member_epochs(oracle).items())]  # fmt: skip
    for role, subject, factors in subjects:
        reputation = ledger.reputation_of(role, subject)
        # the view's score is already decayed to this epoch; one post per subject and epoch
        after = reputation.score if reputation.last_posted_epoch == epoch else step_towards(reputation.score, factors.target)
        scored.append(Scored(role, subject, factors, reputation.score, after))
    return scored


def updates_of(scored: list[Scored], ledger: ReputationLedger) -> list[ScoreUpdate]:
    """The ``postScores`` entries (a curator keeps its segment)."""
    result = []
    for item in scored:
        segment = ledger.identity(item.subject).segment if item.role == Role.CURATOR else NO_SEGMENT
        result.append(ScoreUpdate(item.role, item.subject, item.factors.target, segment))
    return result
