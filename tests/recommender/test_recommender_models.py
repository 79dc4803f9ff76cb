"""Models on small hand-made data: the seed's formulas, exact attributions, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models import MODEL_NAMES, build_model
from qfzz_chain.recommender.models.base import top_n
from qfzz_chain.recommender.models.hybrid import item_lambdas
from qfzz_chain.recommender.models.knn import ItemKNN

from tests.recommender.fast_models import fitted


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_scores_every_item_and_is_deterministic(name, plays, tags):
    users = np.arange(plays.shape[0])
    first = fitted(name, plays, tags).score(plays, users)
    second = fitted(name, plays, tags).score(plays, users)
    assert first.shape == plays.shape
    assert np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if build_model(n).explainable])
def test_contributions_add_up_to_the_score(name, plays, tags):
    model = fitted(name, plays, tags)
    user = 4
    history = plays[user]
    scores = model.score(history, np.array([user]))[0]
    for item in top_n(scores, history, 3)[0]:
        parts = model.contributions(history, int(item), user)
        assert set(parts) <= set(history.indices.tolist())
        total = sum(parts.values()) + model.baseline(history, int(item), user)
        assert total == pytest.approx(scores[item], rel=1e-4, abs=1e-6)


def test_seed_item_formula_by_hand():
    # two users, three items; sim(0,2) = 1·1/(√1·√2) with shrink 0, user 0 played items 0 and 1
    plays = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))
    model = ItemKNN(neighbours=5, shrink=0.0, normalize=True, weighting="binary").fit(plays)
    scores = model.score(plays[0])[0]
    # Σ_j sim(2, j) r_0j / Σ_j |sim(2, j)| over the user's rated neighbours j = {0}: one rating of 1
    assert scores[2] == pytest.approx(1.0)
    unnormalised = ItemKNN(neighbours=5, shrink=0.0, weighting="binary").fit(plays).score(plays[0])[0]
    assert unnormalised[2] == pytest.approx(1 / np.sqrt(2))


def test_knn_neighbourhood_is_pruned():
    plays = sp.csr_matrix(np.ones((3, 6)))
    model = ItemKNN(neighbours=2, shrink=0.0).fit(plays)
    assert np.all(np.diff(sp.csc_matrix(model.weights).indptr) == 2)


def test_dynamic_lambda_rule():
    lambdas = item_lambdas(np.array([0, 2, 1_000_000]), lambda_sparse=0.4, lambda_dense=0.8, kappa=2.0)
    assert lambdas[0] == pytest.approx(0.4)
    assert lambdas[1] == pytest.approx(0.6)
    assert lambdas[2] == pytest.approx(0.8, abs=1e-5)


def test_hybrid_reaches_items_nobody_played(plays, tags):
    plays = plays.tolil()
    plays[:, 0] = 0  # item 0 loses every listen but keeps its tags
    plays = sp.csr_matrix(plays)
    plays.eliminate_zeros()
    users = np.arange(plays.shape[0])
    cf = fitted("ease", plays, tags).score(plays, users)
    hybrid = fitted("hybrid", plays, tags).score(plays, users)
    assert np.all(cf[:, 0] == 0)
    assert 0 not in top_n(cf, plays, 10)
    assert 0 in top_n(hybrid, plays, 10)  # its tags alone put it in someone's top-10


def test_unknown_model_and_bad_parameters():
    with pytest.raises(InvalidParameterError):
        build_model("nope")
    with pytest.raises(InvalidParameterError):
        build_model("hybrid", lambda_sparse=1.5)
    with pytest.raises(InvalidParameterError):
        build_model("itemknn", weighting="sqrt")


def test_top_n_excludes_known_and_breaks_ties_by_index():
    scores = np.array([[0.5, 0.9, 0.5, 0.5, 0.1]])
    known = sp.csr_matrix(np.array([[0, 1, 0, 0, 0]]))
    assert top_n(scores, known, 3).tolist() == [[0, 2, 3]]
    assert top_n(scores, None, 10).tolist() == [[1, 0, 2, 3, 4]]
