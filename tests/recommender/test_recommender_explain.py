"""Explanations: the one canonical format, and the fast serving path agreeing with the exact decomposition."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eth_hash.auto import keccak

from qfzz_chain.recommender.engine import RecommendationEngine
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.explain import (
    EXPLANATION_VERSION,
    Explanation,
    FeatureMatch,
    Prototype,
    canonical_json,
    explanation_hash,
)
from qfzz_chain.recommender.models import MODEL_NAMES, build_model

from tests.recommender.fast_models import FAST, fitted


def _random_explanation(rng: np.random.Generator) -> Explanation:
    names = ["Björk", "Sigur Rós", 'The "Band"', "a\\b", "日本", "plain", ""]
    prototypes = tuple(Prototype(int(rng.integers(1, 20000)), str(rng.choice(names)), float(rng.normal()))
                       for _ in range(int(rng.integers(0, 4))))
    features = tuple(FeatureMatch(str(rng.choice(names)), float(rng.exponential())) for _ in range(int(rng.integers(0, 6))))
    cf_weight = None if rng.random() < 0.3 else float(rng.random())
    return Explanation(str(rng.choice(["hybrid", "ease"])), int(rng.integers(1, 3000)), int(rng.integers(1, 20000)),
                       float(rng.normal()), prototypes, features, cf_weight, float(rng.choice([0.0, -0.0, 0.01])),
                       baseline=float(rng.choice([-0.0000001, 0.0, rng.normal()])))


def test_direct_rendering_is_the_canonical_json_of_the_document():
    rng = np.random.default_rng(0)
    for _ in range(200):
        explanation = _random_explanation(rng)
        document = explanation.to_dict()
        assert explanation.canonical_bytes() == canonical_json(document)
        assert explanation.keccak() == explanation_hash(document) == "0x" + keccak(canonical_json(document)).hex()
        parsed = json.loads(explanation.canonical_bytes())
        assert parsed["version"] == EXPLANATION_VERSION == 2
        assert list(parsed) == sorted(parsed)


def test_the_document_has_exactly_the_specified_keys_and_fixed_decimals():
    explanation = Explanation("hybrid", 2, 89, 1.5, (Prototype(51, "Duran Duran", 0.25),),
                              (FeatureMatch("new wave", 0.5),), 0.4, 0.0, baseline=-0.0000004)
    assert explanation.canonical_bytes() == (
        b'{"baseline":0.000000,"cf_weight":0.400000,"fairness_boost":0.000000,"item":89,'
        b'"matched_features":[{"feature":"new wave","weight":0.500000}],"model":"hybrid",'
        b'"prototypes":[{"contribution":0.250000,"item":51,"name":"Duran Duran"}],"score":1.500000,"user":2,'
        b'"version":2}')
    with pytest.raises(InvalidParameterError):
        Explanation("m", 1, 2, float("inf"), (), (), None, 0.0).canonical_bytes()


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if build_model(n).explainable])
def test_served_attribution_matches_the_exact_decomposition(name, plays, tags):
    model = fitted(name, plays, tags)
    user = 9
    history = plays[user]
    served = model.serve_one(history.indices, history.data, plays.shape[1], user)
    targets = np.argsort(-served.scores)[:5]
    attribution = served.explain(targets)
    for t, item in enumerate(targets):
        slow = model.contributions(history, int(item), user)
        fast = {int(j): float(v) for j, v in zip(history.indices, attribution.contributions[t]) if v != 0.0}
        assert fast.keys() <= set(history.indices.tolist())
        for j in set(slow) | set(fast):
            assert fast.get(j, 0.0) == pytest.approx(slow.get(j, 0.0), rel=1e-4, abs=1e-6)
        assert attribution.baseline[t] == pytest.approx(model.baseline(history, int(item), user), rel=1e-4, abs=1e-5)
        total = attribution.contributions[t].sum() + attribution.baseline[t]
        assert total == pytest.approx(float(served.scores[item]), rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("name", ["hybrid", "ease", "content", "itemknn"])
def test_recommend_explains_with_the_strongest_exact_shares(name, interactions, tags):
    model = build_model(name, **FAST.get(name, {})).fit(interactions.plays, tags)
    engine = RecommendationEngine(model, interactions, tuple(f"artist {i}" for i in interactions.item_ids),
                                  tuple(f"tag{t}" for t in range(tags.shape[1])), content=tags)
    user_id = 105
    user = interactions.user_index(user_id)
    history = engine.history[user]
    for rec in engine.recommend(user_id, 5):
        explanation = rec.explanation
        item = interactions.item_index(rec.item)
        shares = model.contributions(history, item, user)
        strongest = sorted(((v, j) for j, v in shares.items() if v > 0), key=lambda vj: (-vj[0], vj[1]))[:3]
        assert [p.item for p in explanation.prototypes] == [int(interactions.item_ids[j]) for _, j in strongest]
        for prototype, (value, _) in zip(explanation.prototypes, strongest):
            assert prototype.contribution == pytest.approx(value, rel=1e-4, abs=1e-6)
        assert explanation.baseline + sum(shares.values()) == pytest.approx(explanation.score, rel=1e-4, abs=1e-5)
        assert engine.explain(user_id, rec.item).canonical_bytes() == explanation.canonical_bytes()
        if name in ("hybrid", "content"):
            assert explanation.matched_features and all(m.weight > 0 for m in explanation.matched_features)
