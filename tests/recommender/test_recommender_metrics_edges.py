"""The metrics' edges and every figure of evaluate_top_n, worked out by hand.

These are the cases mutation testing (`make mutation`, docs/mutation.md) found unchecked: empty
relevant sets, empty lists, unsigned counts, ties in popularity and every key of the summary.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from qfzz_chain.recommender.metrics import (
    average_precision_at_k,
    emerging_exposure_share,
    evaluate_top_n,
    exposure_counts,
    gini,
    long_tail_items,
    ndcg_at_k,
    novelty,
    recall_at_k,
    serendipity,
)


def test_a_user_without_held_out_items_scores_zero_everywhere():
    for metric in (recall_at_k, ndcg_at_k, average_precision_at_k):
        assert metric([1, 2, 3], set(), 3) == 0.0


def test_exposure_counts_count_lists_as_integers_and_take_empty_lists():
    counts = exposure_counts([[0, 1], [], [1, 2], [1]], 4)
    assert counts.dtype == np.int64
    assert counts.tolist() == [1, 3, 1, 0]


def test_gini_of_no_or_zero_exposure_is_zero_and_of_concentrated_exposure_high():
    assert gini(np.array([])) == 0.0
    assert gini(np.zeros(3)) == 0.0
    assert gini(np.array([4])) == 0.0
    # sorted [0, 1]: (−1·0 + 1·1) / (2·1)
    assert gini(np.array([1, 0])) == pytest.approx(0.5)
    # sorted [0, 0, 3]: (−2·0 + 0·0 + 2·3) / (3·3)
    assert gini(np.array([0, 0, 3])) == pytest.approx(2 / 3)


def test_novelty_of_an_item_one_user_knows_is_the_full_information():
    # one user of 8 knows item 3: −log2(1/8) = 3 bits; nobody knows item 4: counted as one user
    assert novelty([[3]], np.array([8, 4, 2, 1, 0]), 8) == pytest.approx(3.0)
    assert novelty([[4], []], np.array([8, 4, 2, 1, 0]), 8) == pytest.approx(3.0)
    assert novelty([[], []], np.array([8]), 8) == 0.0


def test_no_recommendation_slots_give_no_emerging_share():
    assert emerging_exposure_share([[], []], np.array([True, False])) == 0.0
    assert emerging_exposure_share([], np.array([True])) == 0.0


def test_serendipity_leaves_out_what_the_obvious_recommender_would_show():
    assert serendipity([1, 2, 3, 4], relevant={1, 2, 3}, expected={1}, k=4) == pytest.approx(2 / 4)


def test_the_head_is_the_fewest_top_items_holding_half_the_listens():
    # sorted 40, 30, 30: cumulative 40, 70, 100; half (50) is reached by the second item
    assert long_tail_items(np.array([30, 30, 40])).tolist() == [False, True, False]
    # 10 each: half of 40 is reached exactly by the second
    assert long_tail_items(np.array([10, 10, 10, 10])).tolist() == [False, False, True, True]


def test_long_tail_edges_no_listens_no_items_unsigned_counts_and_ties():
    emerging = long_tail_items(np.zeros(3, dtype=np.int64))
    assert emerging.dtype == bool and emerging.tolist() == [True, True, True]
    assert long_tail_items(np.array([], dtype=np.int64)).tolist() == []
    # unsigned listener counts must not wrap when negated for the descending sort: the head is
    # 40 and the first 30, and the unplayed item stays in the tail
    assert long_tail_items(np.array([0, 30, 30, 40], dtype=np.uint32)).tolist() == [True, False, True, False]
    # ties keep catalogue order (a stable sort): of 30 items at 2, 1, 0 listens (30 in all), the
    # first seven at 2 (14 listens) fall short of half; the eighth (16) reaches it
    popularity = np.arange(30) % 3
    popularity = np.where(popularity == 0, 2, np.where(popularity == 1, 1, 0))
    head = np.flatnonzero(~long_tail_items(popularity)).tolist()
    assert head == [0, 3, 6, 9, 12, 15, 18, 21]


def _example():
    # 3 training users; item popularity [3, 1, 1, 0, 0]; items 3 and 4 have no training listener
    train = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=float))
    test = sp.csr_matrix(np.array([[0, 0, 1, 1, 0], [0, 1, 0, 0, 1], [0, 0, 0, 1, 0]], dtype=float))
    top = np.array([[2, -1], [4, 1]])  # user 0's list is padded with -1
    return top, np.array([0, 1]), test, train


def test_every_figure_of_evaluate_top_n_by_hand():
    top, users, test, train = _example()
    result = evaluate_top_n(top, users, test, train, k=2)
    ideal = 1 + 1 / math.log2(3)
    assert result == pytest.approx({
        "precision_at_2": (1 / 2 + 2 / 2) / 2,
        "recall_at_2": (1 / 2 + 2 / 2) / 2,
        "ndcg_at_2": (1 / ideal + 1.0) / 2,
        "map_at_2": ((1 / 1) / 2 + (1 / 1 + 2 / 2) / 2) / 2,
        "coverage": 3 / 5,  # items 1, 2, 4
        # exposure [0, 1, 1, 0, 1] sorted [0, 0, 1, 1, 1]: (−4·0 − 2·0 + 0·1 + 2·1 + 4·1) / (5·3)
        "gini": 6 / 15,
        # items 1, 2, 4 are each known to at most one of 3 users: log2(3) bits each
        "novelty": math.log2(3),
        # expected = the 2 most popular items the user does not know: user 0 {2, 3}, user 1 {1, 3};
        # user 0's hit (2) was expected, user 1's 4 was not, its 1 was
        "serendipity": (0 + 1 / 2) / 2,
        # the head is item 0 alone (3 of 5 listens): every recommended slot is emerging
        "emerging_share": 1.0,
        # held-out items without a training listener: 3 (user 0, missed) and 4 (user 1, found)
        "new_item_recall_at_2": 1 / 2,
        "users": 2,
    })


def test_evaluate_top_n_with_a_given_popular_list_and_the_default_k():
    top, users, test, train = _example()
    result = evaluate_top_n(top, users, test, train, k=2, popular_top=[4])
    assert result["serendipity"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    default = evaluate_top_n(top, users, test, train)
    assert "precision_at_10" in default and "new_item_recall_at_10" in default
    assert default["precision_at_10"] == pytest.approx((1 / 10 + 2 / 10) / 2)


def test_item_zero_counts_and_padding_does_not():
    train = sp.csr_matrix(np.array([[0, 1]], dtype=float))
    test = sp.csr_matrix(np.array([[1, 0]], dtype=float))
    result = evaluate_top_n(np.array([[0, -1]]), np.array([0]), test, train, k=2)
    assert result["precision_at_2"] == pytest.approx(1 / 2)
    assert result["coverage"] == pytest.approx(1 / 2)
    assert result["new_item_recall_at_2"] == pytest.approx(1.0)
