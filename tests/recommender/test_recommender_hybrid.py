"""The hybrid's parts and rule: social part, never-played artists ranked by content, RP3beta by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.models import build_model
from qfzz_chain.recommender.models.base import top_n_one
from qfzz_chain.recommender.models.hybrid import support_bucket
from qfzz_chain.recommender.models.rp3beta import RP3beta

from tests.recommender.fast_models import FAST


def _without_listens(plays: sp.csr_matrix, items: list[int]) -> sp.csr_matrix:
    plays = plays.tolil(copy=True)
    plays[:, items] = 0
    plays = sp.csr_matrix(plays)
    plays.eliminate_zeros()
    return plays


def test_social_scores_are_the_friends_plays_and_ignore_the_own_history(plays, tags, friends):
    model = build_model("social", friends=friends).fit(plays, tags)
    user = 4
    expected = np.zeros(plays.shape[1])
    for friend in friends[user].indices:
        expected += model.weighting(plays[friend]).toarray()[0]
    np.testing.assert_allclose(model.score(plays[user], np.array([user]))[0], expected)
    other_history = plays[7]  # what the listener played does not enter
    np.testing.assert_allclose(model.score_one(other_history.indices, other_history.data, plays.shape[1], user), expected)
    assert not model.score_one(other_history.indices, other_history.data, plays.shape[1], None).any()
    shares = model.friend_shares(user, int(np.argmax(expected)))
    assert sum(shares.values()) == pytest.approx(expected.max())


def test_hybrid_with_friends_explains_exactly_and_uses_them(plays, tags, friends):
    with_friends = build_model("hybrid", friends=friends, social_weight=2.0, **FAST["hybrid"]).fit(plays, tags)
    without = build_model("hybrid", **FAST["hybrid"]).fit(plays, tags)
    user = 11
    history = plays[user]
    served = with_friends.serve_one(history.indices, history.data, plays.shape[1], user)
    assert not np.allclose(served.scores, without.score_one(history.indices, history.data, plays.shape[1], user))
    targets = np.argsort(-served.scores)[:4]
    attribution = served.explain(targets)
    totals = attribution.contributions.sum(axis=1) + attribution.baseline
    np.testing.assert_allclose(totals, served.scores[targets], rtol=1e-4, atol=1e-5)
    batch = with_friends.score(history, np.array([user]))[0]
    np.testing.assert_allclose(served.scores, batch, rtol=1e-4, atol=1e-5)


def test_never_played_artists_are_ranked_by_the_cold_content_model_alone(plays, tags):
    new = [0, 5, 17, 30]
    plays = _without_listens(plays, new)
    settings = dict(FAST["hybrid"], lambda_dense=0.6, lambda_new=0.3, content={"norm_power": 1.0},
                    cold_content={"norm_power": 0.5})
    hybrid = build_model("hybrid", **settings).fit(plays, tags)
    content = build_model("content", norm_power=0.5).fit(plays, tags)
    listeners = np.diff(sp.csc_matrix(plays).indptr)
    assert hybrid.lambdas[new].tolist() == [0.3] * 4
    assert set(hybrid.lambdas[listeners > 0].tolist()) == {0.6}
    others = np.setdiff1d(np.arange(plays.shape[1]), new)
    for user in range(0, 60, 7):
        history = plays[user]
        mixed = hybrid.score_one(history.indices, history.data, plays.shape[1], user)
        alone = content.score_one(history.indices, history.data, plays.shape[1], user)
        # among new artists the hybrid's order is the content model's (CF is constant there)
        assert list(top_n_one(mixed, others, 4)) == list(top_n_one(alone, others, 4))


def test_als_gives_never_played_items_exactly_zero_factors(plays, tags):
    plays = _without_listens(plays, [3, 8])
    model = build_model("als", iterations=3).fit(plays, tags)
    assert not model.item_factors[[3, 8]].any()
    assert model.item_factors[1].any()


def test_rp3beta_weights_by_hand():
    # users 0: {0, 1}, 1: {0, 2}; walk 0 → users {0, 1} → items: P(0→u) = 1/2, P(u→i) = 1/2
    plays = sp.csr_matrix(np.array([[3.0, 1.0, 0.0], [1.0, 0.0, 5.0]]))
    model = RP3beta(alpha=1.0, beta=0.0, neighbours=10).fit(plays)
    weights = model.weights.toarray()
    assert weights[0, 1] == pytest.approx(0.25) and weights[0, 2] == pytest.approx(0.25)
    assert weights[1, 0] == pytest.approx(0.5) and weights[1, 2] == 0.0
    penalised = RP3beta(alpha=1.0, beta=1.0, neighbours=10).fit(plays).weights.toarray()
    assert penalised[1, 0] == pytest.approx(0.5 / 2)  # item 0 has two listeners
    scores = model.score(plays[0])[0]
    assert scores[2] == pytest.approx(weights[0, 2] + weights[1, 2])


def test_two_level_rule_is_the_default_and_buckets_still_work(plays, tags):
    model = build_model("hybrid", **FAST["hybrid"]).fit(plays, tags)
    listeners = np.diff(sp.csc_matrix(plays).indptr)
    assert len(set(model.lambdas[listeners > 0].tolist())) == 1
    per_bucket = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    bucketed = build_model("hybrid", bucket_lambdas=per_bucket, **FAST["hybrid"]).fit(plays, tags)
    np.testing.assert_allclose(bucketed.lambdas, np.array(per_bucket)[support_bucket(listeners)])
