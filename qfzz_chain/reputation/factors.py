"""The seed's four reputation factors (section 6.2) and the target score the updater posts.

Pure: every input is what the chain already holds (revealed votes and finalized proposals of
``EmergingArtistCuration``, the signer sets of ``RecommendationOracle``'s anchors) or what the
anchored receipts and later listens say (the listener confirmation of a listed artist). The
ledger then moves a stored score towards the posted target by at most ``rules.MAX_STEP`` (0.05)
per epoch, so one epoch's target, however extreme, moves a score at most 5 points
(docs/curation.md derives the formula and its weights).

Factors, each in [0, 1]:

- **historical agreement** *A* — how often the subject's judgement was later confirmed by
  listeners. Curator: per vote on an artist whose listing was measured, ``1 − |v − c|`` with
  ``v`` the vote on [0, 1] (strongly agree 1, agree 0.75, neutral 0.5, disagree 0) and ``c`` the
  listeners' confirmation (boosted recommendations of the artist followed by a listen, relative
  to organic ones, capped at 1). Oracle member: the share of its committee's anchored epochs
  whose aggregate its signature is in (its root is the one listeners can verify).
- **preference stability** *S* — how consistent the subject is. Curator: ``1 − |v_k − v_{k−1}|``
  averaged over consecutive votes on proposals sharing a segment (a taste, not a coin).
  Oracle member: ``1 −`` the share of consecutive epochs in which it switched between signing
  and not signing.
- **network validation** *V* — how many peers agree. Curator: per vote, ``1 − |v − m|`` with
  ``m`` the weight-averaged vote of the other revealers. Oracle member: per signed epoch, the
  share of the committee that signed the same root.
- **recommendation diversity** *D* — discovery over safety. Curator: the mean novelty (1 − the
  artist's listener percentile) of the artists it agreed with. Oracle member: the emerging
  share of its anchored batches' receipts over ``DIVERSITY_TARGET`` (0.3), capped at 1.

Target: ``R = 0.4·A + 0.25·V + A·(0.15·S + 0.2·D)``, shrunk towards the prior by the evidence it
rests on, ``(n·R + K·prior)/(n + K)`` with ``K = 5`` pseudo-observations, ``n`` the subject's
observations: **bootstrap without history** is the prior 0.2 (``rules.PRIOR_SCORE``), and a
subject with 5 observations is halfway to what it earned. Agreement leads (0.4) because it is
the only factor listeners confirm; validation (0.25) is the peers' view, which colluders can
inflate, so it stays below agreement. Stability and diversity are earned *in proportion to
agreement*: being consistently wrong, or pushing unknown artists listeners then skip, earns
nothing (seed 6.2, question 3: "encourage diversity while maintaining accuracy"), while
diversity (0.2) outweighs stability (0.15) because the seed warns that rewarding accuracy
alone breeds safe, conservative curation (4.2, "incentive misalignment"). Bounds: a perfect
subject's ``R`` is 1, a contradicted one's at most 0.25·V.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qfzz_chain.curation.votes import Vote
from qfzz_chain.reputation.rules import PRIOR_SCORE, REP_SCALE

WEIGHTS = {"agreement": 0.40, "stability": 0.15, "validation": 0.25, "diversity": 0.20}
PSEUDO_OBSERVATIONS = 5
DIVERSITY_TARGET = 0.30
VOTE_VALUE = {Vote.STRONGLY_AGREE: 1.0, Vote.AGREE: 0.75, Vote.NEUTRAL: 0.5, Vote.DISAGREE: 0.0}
_NEUTRAL_FACTOR = 0.5


@dataclass(frozen=True)
class CastVote:
    """One revealed vote and what is known of its proposal."""

    proposal_id: int
    vote: Vote
    segments: tuple[int, ...]
    others_mean: float | None  # weight-averaged vote value of the other revealers (None: alone)
    novelty: float  # 1 − the artist's listener percentile, in [0, 1]
    confirmation: float | None = None  # listeners' confirmation of the listed artist, [0, 1]; None: not measured


@dataclass(frozen=True)
class MemberEpoch:
    """One anchored epoch of an oracle member's committee."""

    epoch: int
    signed: bool
    signers: int
    committee_size: int
    emerging_share: float | None  # share of the batch's receipts on emerging items (None: receipts not read)


@dataclass(frozen=True)
class Factors:
    agreement: float
    stability: float
    validation: float
    diversity: float
    observations: int
    raw: float = field(default=0.0)
    target: int = field(default=PRIOR_SCORE)  # millionths, what is posted

    def as_dict(self) -> dict[str, float | int]:
        return {"agreement": round(self.agreement, 6), "stability": round(self.stability, 6),
                "validation": round(self.validation, 6), "diversity": round(self.diversity, 6),
                "observations": self.observations, "raw": round(self.raw, 6), "target": self.target}  # fmt: skip


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else _NEUTRAL_FACTOR


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def combine(agreement: float, stability: float, validation: float, diversity: float, observations: int) -> Factors:
    """The weighted factors, shrunk towards the prior by ``observations``, as a posted target."""
    raw = (WEIGHTS["agreement"] * agreement + WEIGHTS["validation"] * validation
           + agreement * (WEIGHTS["stability"] * stability + WEIGHTS["diversity"] * diversity))  # fmt: skip
    prior = PRIOR_SCORE / REP_SCALE
    shrunk = (observations * raw + PSEUDO_OBSERVATIONS * prior) / (observations + PSEUDO_OBSERVATIONS)
    return Factors(agreement, stability, validation, diversity, observations, raw, round(_clip(shrunk) * REP_SCALE))


def curator_factors(votes: list[CastVote]) -> Factors:
    """A curator's factors from its revealed votes, oldest first."""
    values = [VOTE_VALUE[v.vote] for v in votes]
    agreement = _mean([1 - abs(VOTE_VALUE[v.vote] - _clip(v.confirmation)) for v in votes if v.confirmation is not None])
    steps = [1 - abs(values[k] - values[k - 1]) for k in range(1, len(votes))
             if set(votes[k].segments) & set(votes[k - 1].segments)]  # fmt: skip
    validation = _mean([1 - abs(VOTE_VALUE[v.vote] - v.others_mean) for v in votes if v.others_mean is not None])
    diversity = _mean([_clip(v.novelty) for v in votes if v.vote.agrees])
    return combine(agreement, _mean(steps), validation, diversity, len(votes))


def member_factors(epochs: list[MemberEpoch]) -> Factors:
    """An oracle member's factors from its committee's anchored epochs, oldest first."""
    if not epochs:
        return combine(_NEUTRAL_FACTOR, _NEUTRAL_FACTOR, _NEUTRAL_FACTOR, _NEUTRAL_FACTOR, 0)
    signed = [e for e in epochs if e.signed]
    agreement = len(signed) / len(epochs)
    flips = sum(1 for k in range(1, len(epochs)) if epochs[k].signed != epochs[k - 1].signed)
    stability = 1 - flips / (len(epochs) - 1) if len(epochs) > 1 else 1.0
    validation = _mean([e.signers / e.committee_size for e in signed if e.committee_size])
    diversity = _mean([_clip(e.emerging_share / DIVERSITY_TARGET) for e in signed if e.emerging_share is not None])
    return combine(agreement, stability, validation, diversity, len(epochs))


def vote_value(vote: Vote) -> float:
    return VOTE_VALUE[vote]


def others_mean(revealed: dict[int, tuple[Vote, int, int]], identity: int) -> float | None:
    """The weight-averaged vote value of every revealer but ``identity`` (identity → (vote, weight, segment))."""
    total = sum(weight for other, (_, weight, _) in revealed.items() if other != identity)
    if not total:
        return None
    return sum(VOTE_VALUE[vote] * weight for other, (vote, weight, _) in revealed.items() if other != identity) / total
