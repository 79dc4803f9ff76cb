"""The seed's four reputation factors and the posted target (qfzz_chain/reputation/factors.py)."""

import pytest

from qfzz_chain.curation.votes import Vote
from qfzz_chain.reputation.factors import (
    PSEUDO_OBSERVATIONS,
    CastVote,
    MemberEpoch,
    combine,
    curator_factors,
    member_factors,
    others_mean,
)
from qfzz_chain.reputation.rules import PRIOR_SCORE, REP_SCALE


def cast(vote, *, segments=(0,), others=None, novelty=1.0, confirmation=None, proposal=1):
    return CastVote(proposal, vote, segments, others, novelty, confirmation)


def test_without_history_the_target_is_the_prior():
    assert curator_factors([]).target == PRIOR_SCORE
    assert member_factors([]).target == PRIOR_SCORE


def test_the_target_moves_from_the_prior_by_the_evidence_it_rests_on():
    perfect = combine(1.0, 1.0, 1.0, 1.0, PSEUDO_OBSERVATIONS)
    assert perfect.raw == pytest.approx(1.0)
    assert perfect.target == round((1.0 + PRIOR_SCORE / REP_SCALE) / 2 * REP_SCALE)  # halfway after 5 observations
    assert combine(1.0, 1.0, 1.0, 1.0, 1000).target > 990_000
    assert combine(0.0, 0.0, 0.0, 0.0, 1000).target < 1_000


def test_a_curator_confirmed_by_listeners_and_peers_outscores_one_contradicted():
    good = [cast(Vote.STRONGLY_AGREE, others=0.9, confirmation=1.0, proposal=k) for k in range(10)]
    bad = [cast(Vote.DISAGREE, others=0.9, confirmation=1.0, proposal=k) for k in range(10)]
    g, b = curator_factors(good), curator_factors(bad)
    assert g.agreement == pytest.approx(1.0) and b.agreement == pytest.approx(0.0)
    assert g.validation == pytest.approx(0.9) and b.validation == pytest.approx(0.1)
    assert g.target > PRIOR_SCORE > b.target


def test_stability_counts_consecutive_votes_sharing_a_segment_only():
    flipping = [cast(Vote.STRONGLY_AGREE if k % 2 else Vote.DISAGREE, proposal=k) for k in range(6)]
    assert curator_factors(flipping).stability == pytest.approx(0.0)
    apart = [cast(Vote.STRONGLY_AGREE if k % 2 else Vote.DISAGREE, segments=(k,), proposal=k) for k in range(6)]
    assert curator_factors(apart).stability == 0.5  # no comparable pair: neutral


def test_diversity_rewards_agreeing_with_unknown_artists():
    discovery = curator_factors([cast(Vote.AGREE, novelty=1.0, proposal=k) for k in range(4)])
    safety = curator_factors([cast(Vote.AGREE, novelty=0.1, proposal=k) for k in range(4)])
    assert discovery.diversity == 1.0 and safety.diversity == pytest.approx(0.1)
    assert discovery.target > safety.target


def test_an_oracle_member_that_signs_with_its_committee_outscores_one_that_drops_out():
    steady = [MemberEpoch(e, True, 4, 4, 0.3) for e in range(8)]
    flaky = [MemberEpoch(e, e % 2 == 0, 3, 4, 0.3) for e in range(8)]
    s, f = member_factors(steady), member_factors(flaky)
    assert (s.agreement, s.stability, s.validation, s.diversity) == (1.0, 1.0, 1.0, 1.0)
    assert f.agreement == 0.5 and f.stability == 0.0 and f.validation == 0.75
    assert s.target > f.target


def test_unread_receipts_leave_a_member_diversity_neutral():
    assert member_factors([MemberEpoch(1, True, 4, 4, None)]).diversity == 0.5


def test_others_mean_is_weighted_and_leaves_the_voter_out():
    revealed = {1: (Vote.STRONGLY_AGREE, 3, 0), 2: (Vote.DISAGREE, 1, 0), 3: (Vote.NEUTRAL, 100, 0)}
    assert others_mean(revealed, 3) == pytest.approx(0.75)
    assert others_mean({1: (Vote.AGREE, 5, 0)}, 1) is None
