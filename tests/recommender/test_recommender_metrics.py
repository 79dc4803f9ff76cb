"""Every metric against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.metrics import (
    average_precision_at_k,
    catalog_coverage,
    emerging_exposure_share,
    evaluate_top_n,
    gini,
    long_tail_items,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
    serendipity,
)

RANKED = [5, 1, 7, 3, 9]
RELEVANT = {1, 3, 4}


def test_precision_and_recall():
    assert precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert precision_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 2)
    assert recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, set(), 5) == 0.0


def test_ndcg_by_hand():
    # hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal with 3 relevant = 1 + 1/log2(3) + 1/2
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at_k([1, 3, 4], RELEVANT, 3) == pytest.approx(1.0)
    assert ndcg_at_k([9, 8], RELEVANT, 2) == 0.0


def test_average_precision_by_hand():
    # precision at the hits: 1/2 and 2/4, normalised by min(|relevant|, k) = 3
    assert average_precision_at_k(RANKED, RELEVANT, 5) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert average_precision_at_k([1], {1}, 10) == pytest.approx(1.0)


def test_coverage_gini_novelty_emerging():
    lists = [[0, 1], [0, 2]]
    assert catalog_coverage(lists, 4) == pytest.approx(3 / 4)
    # exposures sorted [0, 1, 1, 2]: Gini = Σ(2i − n − 1)x_i / (n Σx) = (−3·0 − 1·1 + 1·1 + 3·2) / (4·4)
    assert gini(np.array([2, 1, 1, 0])) == pytest.approx(6 / 16)
    assert gini(np.array([5, 5, 5])) == pytest.approx(0.0)
    popularity = np.array([8, 4, 2, 0])
    expected = np.mean([-math.log2(8 / 8), -math.log2(4 / 8), -math.log2(8 / 8), -math.log2(2 / 8)])
    assert novelty(lists, popularity, 8) == pytest.approx(expected)
    assert emerging_exposure_share(lists, np.array([False, True, True, True])) == pytest.approx(2 / 4)


def test_serendipity_counts_relevant_unexpected_only():
    assert serendipity([1, 2, 3, 4], relevant={1, 2}, expected={1}, k=4) == pytest.approx(1 / 4)


def test_long_tail_head_holds_half_of_listens():
    popularity = np.array([50, 30, 10, 5, 5])
    # the most popular item alone holds 50/100: it is the head, the rest is the tail
    assert long_tail_items(popularity).tolist() == [False, True, True, True, True]


def test_evaluate_top_n_averages_users_and_counts_new_items():
    train = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [0, 0, 1, 0, 0]], dtype=float))
    top = np.array([[1, 4], [3, 2]])
    result = evaluate_top_n(top, np.array([0, 1]), test, train, k=2)
    assert result["precision_at_2"] == pytest.approx((2 / 2 + 1 / 2) / 2)
    assert result["recall_at_2"] == pytest.approx((1 + 1) / 2)
    assert result["ndcg_at_2"] == pytest.approx((1.0 + (1 / math.log2(3)) / 1.0) / 2)
    # items 2 and 4 have no training listener; both held-out ones were found
    assert result["new_item_recall_at_2"] == pytest.approx(1.0)
    assert result["users"] == 2
