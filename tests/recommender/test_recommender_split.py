"""The protocols: fractions, determinism, what is hidden from the content side."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.data import TagAssignments
from qfzz_chain.recommender.split import (
    cold_start_holdout,
    first_tag_months,
    random_holdout,
    temporal_holdout,
    visible_tag_counts,
)


def test_random_holdout_fraction_and_seed(plays):
    first = random_holdout(plays, seed=42)
    again = random_holdout(plays, seed=42)
    other = random_holdout(plays, seed=7)
    assert (first.train + first.test - plays).nnz == 0
    assert first.train.multiply(first.test).nnz == 0
    counts = np.diff(plays.indptr)
    held = np.diff(first.test.indptr)
    assert np.array_equal(held, np.maximum(1, np.rint(counts * 0.2)))
    assert (first.test != again.test).nnz == 0
    assert (first.test != other.test).nnz > 0


def test_random_holdout_skips_light_users():
    plays = sp.csr_matrix(np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=float))
    split = random_holdout(plays, seed=1, min_items=5)
    assert split.test[0].nnz == 0 and split.test[1].nnz == 1
    assert split.test_users.tolist() == [1]


def test_cold_start_holds_out_every_listen_of_the_chosen_items(plays):
    split = cold_start_holdout(plays, seed=3, item_fraction=0.2)
    cold = np.flatnonzero(split.candidates)
    assert len(cold) == 8
    assert sp.csc_matrix(split.train)[:, cold].nnz == 0
    held_items = np.unique(split.test.tocoo().col)
    assert set(held_items.tolist()) <= set(cold.tolist())


def _assignments(rows: list[tuple[int, int, int, int]], n_tags: int = 3) -> TagAssignments:
    user, item, tag, month = (np.array(c) for c in zip(*rows))
    return TagAssignments(user, item, tag, month, tuple(f"t{i}" for i in range(n_tags)))


def test_temporal_holdout_uses_first_tag_month_and_hides_later_tags():
    plays = sp.csr_matrix(np.ones((2, 3)))
    tags = _assignments([(0, 0, 0, 100), (0, 0, 1, 90), (0, 1, 0, 120), (1, 2, 2, 130), (1, 0, 0, -1)])
    months = first_tag_months(plays, tags)
    assert months.tolist() == [90, 120, -1, -1, -1, 130]
    split = temporal_holdout(plays, tags, test_fraction=0.5)
    assert split.tag_cutoff_month == 120
    assert sorted(zip(*split.test.nonzero())) == [(0, 1), (1, 2)]
    visible = visible_tag_counts(tags, 3, before_month=split.tag_cutoff_month)
    assert visible.sum() == 2  # only the assignments dated 90 and 100


def test_tags_on_held_out_pairs_are_hidden():
    tags = _assignments([(0, 0, 0, 5), (1, 0, 1, 5), (0, 2, 2, 5)])
    hidden = sp.csr_matrix(([1.0], ([0], [0])), shape=(2, 3))
    counts = visible_tag_counts(tags, 3, hidden=hidden)
    assert counts.toarray().tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]
