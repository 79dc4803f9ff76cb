"""Evaluation protocols: how listens are divided into what a model sees and what it must find.

* ``random``: per user with at least ``min_items`` items, a seeded random 20 % of their items is
  held out. Items whose every listen lands in the test part are genuinely new to the model.
* ``cold-start``: a seeded random 10 % of the catalogue loses *all* its listens to the test part,
  so collaborative signal cannot reach those items at all; only content can. Models rank the
  new items only (the "new artists for you" slot): ``candidates`` marks them.
* ``temporal``: listens have no dates in Last.fm 2K, but a user's first tag on an artist does.
  Listens first tagged in the last months of the data (≈20 % of the dated listens) are held out,
  and tags from those months are hidden too, so nothing from the future leaks into the past.

Tag assignments a user made on an item held out *for that user* are always hidden from the
content features (otherwise the tag would reveal the held-out listen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.data import UNDATED, TagAssignments
from qfzz_chain.recommender.errors import InvalidParameterError

PROTOCOLS = ("random", "cold-start", "temporal")


@dataclass(frozen=True)
class Split:
    """Training and held-out play counts (same shape), plus what the content side may see."""

    protocol: str
    train: sp.csr_matrix
    test: sp.csr_matrix
    tag_cutoff_month: int | None = None
    candidates: np.ndarray | None = None  # items that may be recommended (None: all)

    @property
    def test_users(self) -> np.ndarray:
        """Rows with at least one held-out item and at least one training item."""
        has_test = np.diff(self.test.indptr) > 0
        has_train = np.diff(self.train.indptr) > 0
        return np.flatnonzero(has_test & has_train)


def _from_mask(plays: sp.csr_matrix, test_mask: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split the stored entries of ``plays`` into (train, test) by a boolean mask over them."""
    coo = plays.tocoo()
    shape = plays.shape

    def part(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=shape)

    return part(~test_mask), part(test_mask)


def random_holdout(
    plays: sp.csr_matrix, seed: int, test_fraction: float = 0.2, min_items: int = 5
) -> Split:
    """Per user with ``min_items`` or more items, hold out ``round(test_fraction · n)`` (≥ 1) of them."""
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameterError(f"test fraction must be in (0, 1), got {test_fraction}")
    plays = sp.csr_matrix(plays)
    plays.sort_indices()
    rng = np.random.default_rng(seed)
    counts = np.diff(plays.indptr)
    rows = np.repeat(np.arange(plays.shape[0]), counts)
    order = np.lexsort((rng.random(plays.nnz), rows))
    position = np.empty(plays.nnz, dtype=np.int64)
    position[order] = np.arange(plays.nnz) - plays.indptr[rows[order]]
    n_test = np.where(counts >= min_items, np.maximum(1, np.rint(counts * test_fraction)), 0)
    train, test = _from_mask(plays, position < n_test[rows])
    return Split("random", train, test)


def cold_start_holdout(
    plays: sp.csr_matrix, seed: int, item_fraction: float = 0.1, min_items: int = 5
) -> Split:
    """Hold out every listen of a seeded random ``item_fraction`` of the items.

    Only users with at least ``min_items`` items overall are evaluated, as in the random protocol.
    """
    if not 0.0 < item_fraction < 1.0:
        raise InvalidParameterError(f"item fraction must be in (0, 1), got {item_fraction}")
    plays = sp.csr_matrix(plays)
    rng = np.random.default_rng(seed)
    listened = np.flatnonzero(np.diff(plays.tocsc().indptr) > 0)
    cold = rng.choice(listened, size=int(round(item_fraction * len(listened))), replace=False)
    is_cold = np.zeros(plays.shape[1], dtype=bool)
    is_cold[cold] = True
    coo = plays.tocoo()
    eligible = np.diff(plays.indptr) >= min_items
    train, test = _from_mask(plays, is_cold[coo.col])
    # Users below the activity floor keep nothing in the test part (and lose the cold listens).
    test = sp.csr_matrix(sp.diags(eligible.astype(np.float64)) @ test)
    test.eliminate_zeros()
    return Split("cold-start", train, test, candidates=is_cold)


def first_tag_months(plays: sp.csr_matrix, tags: TagAssignments) -> np.ndarray:
    """For each stored entry of ``plays`` (CSR order), the month its user first tagged its item.

    ``UNDATED`` where the user never tagged the item (or only with implausible dates).
    """
    dated = tags.month != UNDATED
    n_items = plays.shape[1]
    keys = tags.user[dated].astype(np.int64) * n_items + tags.item[dated]
    months = tags.month[dated]
    order = np.lexsort((months, keys))
    tagged_keys, first = np.unique(keys[order], return_index=True)
    first_month = months[order][first]
    coo = sp.csr_matrix(plays).tocoo()
    entry_keys = coo.row.astype(np.int64) * n_items + coo.col
    if len(tagged_keys) == 0:
        return np.full(len(entry_keys), UNDATED, dtype=np.int64)
    pos = np.minimum(np.searchsorted(tagged_keys, entry_keys), len(tagged_keys) - 1)
    return np.where(tagged_keys[pos] == entry_keys, first_month[pos], UNDATED).astype(np.int64)


def temporal_holdout(plays: sp.csr_matrix, tags: TagAssignments, test_fraction: float = 0.2) -> Split:
    """Hold out the listens first tagged in the latest months holding ``test_fraction`` of dated listens."""
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameterError(f"test fraction must be in (0, 1), got {test_fraction}")
    plays = sp.csr_matrix(plays)
    months = first_tag_months(plays, tags)
    dated_months = months[months != UNDATED]
    if len(dated_months) == 0:
        raise InvalidParameterError("no dated listens: the temporal protocol needs tag dates")
    cutoff = int(np.quantile(dated_months, 1.0 - test_fraction, method="higher"))
    train, test = _from_mask(plays, months >= cutoff)
    return Split("temporal", train, test, tag_cutoff_month=cutoff)


def make_split(protocol: str, plays: sp.csr_matrix, tags: TagAssignments | None, seed: int) -> Split:
    """The split named ``protocol`` (one of :data:`PROTOCOLS`) with the documented defaults."""
    if protocol == "random":
        return random_holdout(plays, seed)
    if protocol == "cold-start":
        return cold_start_holdout(plays, seed)
    if protocol == "temporal":
        if tags is None:
            raise InvalidParameterError("the temporal protocol needs tag assignments")
        return temporal_holdout(plays, tags)
    raise InvalidParameterError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")


def visible_tag_counts(
    tags: TagAssignments,
    n_items: int,
    hidden: sp.csr_matrix | None = None,
    before_month: int | None = None,
) -> sp.csr_matrix:
    """Item × tag assignment counts, leaving out what an evaluation must not see.

    ``hidden`` (users × items) removes the tags a user put on an item held out for that user;
    ``before_month`` keeps only assignments dated strictly before that month.
    """
    keep = np.ones(len(tags.item), dtype=bool)
    if hidden is not None and hidden.nnz:
        n = hidden.shape[1]
        coo = hidden.tocoo()
        hidden_keys = np.unique(coo.row.astype(np.int64) * n + coo.col)
        keys = tags.user.astype(np.int64) * n + tags.item
        keep &= ~np.isin(keys, hidden_keys)
    if before_month is not None:
        keep &= (tags.month != UNDATED) & (tags.month < before_month)
    counts = sp.csr_matrix(
        (np.ones(int(keep.sum())), (tags.item[keep], tags.tag[keep])), shape=(n_items, tags.n_tags)
    )
    counts.sum_duplicates()
    return counts
