"""A small engine on a hand-made listening world, so batch tests run in milliseconds."""

import numpy as np
import pytest

from qfzz_chain.recommender.data import Interactions
from qfzz_chain.recommender.engine import RecommendationEngine
from tests.recommender.conftest import synthetic_plays, synthetic_tags
from tests.recommender.fast_models import fitted

USER_BASE, ITEM_BASE = 100, 1000


def small_engine(model: str = "hybrid") -> RecommendationEngine:
    plays, tags = synthetic_plays(), synthetic_tags()
    coo = plays.tocoo()
    interactions = Interactions.from_triples(coo.row + USER_BASE, coo.col + ITEM_BASE, coo.data,
                                             item_ids=np.arange(plays.shape[1]) + ITEM_BASE)  # fmt: skip
    names = tuple(f"Artist {i}" for i in range(plays.shape[1]))
    tag_names = tuple(f"tag{t}" for t in range(tags.shape[1]))
    return RecommendationEngine(fitted(model, interactions.plays, tags), interactions, names, tag_names, content=tags)


@pytest.fixture
def engine():
    return small_engine()
