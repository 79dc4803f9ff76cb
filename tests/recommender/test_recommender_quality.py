"""A small-scale quality guard on real data: no model may fall to popularity's level.

A fixed subset of Last.fm users keeps this fast; the full comparison is the benchmark's job.
The seed's normalised neighbourhood formula is a rating predictor and is expected to lose
(documented), so it is checked to stay *below* popularity instead.
"""

from __future__ import annotations

import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.evaluation import ProtocolData, measure
from qfzz_chain.recommender.models import build_model
from qfzz_chain.recommender.split import Split, cold_start_holdout, random_holdout, visible_tag_counts

SUBSET_USERS = 500


def _subset(lastfm, split: Split) -> ProtocolData:
    padding = sp.csr_matrix((lastfm.interactions.n_users - SUBSET_USERS, split.test.shape[1]))
    hidden = sp.csr_matrix(sp.vstack([split.test, padding]))
    return ProtocolData(split, visible_tag_counts(lastfm.tags, lastfm.interactions.n_items, hidden=hidden))


@pytest.fixture(scope="module")
def random_subset(lastfm) -> ProtocolData:
    return _subset(lastfm, random_holdout(lastfm.interactions.plays[:SUBSET_USERS], seed=42))


@pytest.fixture(scope="module")
def ndcg(random_subset):
    """NDCG@10 per model on the subset, each model measured once."""
    cache: dict[str, float] = {}

    def of(name: str) -> float:
        if name not in cache:
            cache[name] = measure(build_model(name), random_subset)[0]["ndcg_at_10"]
        return cache[name]

    return of


@pytest.mark.parametrize("name,margin", [
    ("itemknn", 0.08), ("userknn", 0.05), ("ease", 0.08), ("als", 0.05), ("content", 0.05), ("hybrid", 0.08),
])
def test_model_beats_popularity(name, margin, ndcg):
    assert ndcg(name) > ndcg("popularity") + margin, (name, ndcg(name), ndcg("popularity"))


def test_seed_normalised_item_formula_collapses_as_a_ranker(ndcg):
    assert ndcg("itemknn_seed") < ndcg("popularity") / 2


def test_hybrid_beats_pure_cf_on_cold_start(lastfm):
    data = _subset(lastfm, cold_start_holdout(lastfm.interactions.plays[:SUBSET_USERS], seed=42))
    hybrid = measure(build_model("hybrid"), data)[0]["ndcg_at_10"]
    ease = measure(build_model("ease"), data)[0]["ndcg_at_10"]
    assert hybrid > ease + 0.05, (hybrid, ease)
