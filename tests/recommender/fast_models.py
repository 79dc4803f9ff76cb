"""Small-budget model settings shared by the recommender tests, so they fit in milliseconds."""

from qfzz_chain.recommender.models import build_model

FAST = {"ncf": {"epochs": 2}, "als": {"iterations": 5}, "ease": {"regularization": 5.0, "min_listeners": 1},
        "hybrid": {"ease": {"regularization": 5.0, "min_listeners": 1}, "als": {"iterations": 5}},
        "hybrid_fixed": {"ease": {"regularization": 5.0, "min_listeners": 1}, "als": {"iterations": 5}}}


def fitted(name, plays, tags):
    return build_model(name, **FAST.get(name, {})).fit(plays, tags)
