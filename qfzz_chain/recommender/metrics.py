"""Ranking, beyond-accuracy and fairness metrics for top-N lists.

Accuracy metrics take one user's ranked list and relevant set (binary relevance: a held-out
listen is relevant). Catalogue metrics take every user's list at once. :func:`evaluate_top_n`
averages everything over the evaluated users, which is what the benchmark reports.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp


def precision_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Share of the first ``k`` recommendations that are relevant (a short list still divides by k)."""
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Share of the relevant items found in the first ``k`` recommendations."""
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Binary-relevance NDCG: DCG of the list over the DCG of the ideal list of the same length."""
    if not relevant:
        return 0.0
    gains = [1.0 / np.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant]
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return float(sum(gains) / ideal)


def average_precision_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """AP@k: mean precision at each relevant hit, normalised by ``min(|relevant|, k)``."""
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (rank + 1)
    return total / min(len(relevant), k)


def exposure_counts(lists: Iterable[Sequence[int]], n_items: int) -> np.ndarray:
    """How many lists each item appears in."""
    counts = np.zeros(n_items, dtype=np.int64)
    for ranked in lists:
        counts[np.asarray(ranked, dtype=np.int64)] += 1
    return counts


def catalog_coverage(lists: Iterable[Sequence[int]], n_items: int) -> float:
    """Share of the catalogue recommended to at least one user."""
    return float(np.count_nonzero(exposure_counts(lists, n_items)) / n_items)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal exposure, → 1 = all on one item)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    n = len(values)
    if n == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * values) / (n * values.sum()))


def novelty(lists: Iterable[Sequence[int]], item_popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information ``-log2(p_i)`` of recommended items, ``p_i`` = share of users who know i.

    Items no training user knows get the probability of one user, so the value stays finite.
    """
    p = np.maximum(np.asarray(item_popularity, dtype=np.float64), 1.0) / n_users
    information = -np.log2(p)
    values = [information[np.asarray(ranked, dtype=np.int64)] for ranked in lists if len(ranked)]
    return float(np.mean(np.concatenate(values))) if values else 0.0


def serendipity(ranked: Sequence[int], relevant: set[int], expected: set[int], k: int) -> float:
    """Share of the first ``k`` recommendations that are relevant *and* unexpected.

    ``expected`` is what an obvious recommender (most-popular) would have shown this user
    (Ge et al. 2010, "beyond accuracy").
    """
    return sum(1 for item in ranked[:k] if item in relevant and item not in expected) / k


def emerging_exposure_share(lists: Iterable[Sequence[int]], emerging: np.ndarray) -> float:
    """Share of all recommendation slots that go to emerging (long-tail) items."""
    slots = np.concatenate([np.asarray(r, dtype=np.int64) for r in lists if len(r)] or [np.zeros(0, np.int64)])
    return float(emerging[slots].mean()) if len(slots) else 0.0


def long_tail_items(item_popularity: np.ndarray, head_share: float = 0.5) -> np.ndarray:
    """Boolean mask of emerging items: outside the most popular items that hold ``head_share`` of listens.

    The head is the smallest set of most-listened items that together carry at least
    ``head_share`` of all training listener–item pairs; everything else is the long tail.
    """
    popularity = np.asarray(item_popularity, dtype=np.float64)
    order = np.argsort(-popularity, kind="stable")
    cumulative = np.cumsum(popularity[order])
    total = cumulative[-1] if len(cumulative) else 0.0
    head_size = int(np.searchsorted(cumulative, head_share * total) + 1) if total else 0
    emerging = np.ones(len(popularity), dtype=bool)
    emerging[order[:head_size]] = False
    return emerging


def evaluate_top_n(
    top_n: np.ndarray,
    users: np.ndarray,
    test: sp.csr_matrix,
    train: sp.csr_matrix,
    k: int = 10,
    popular_top: Sequence[int] | None = None,
) -> dict[str, float]:
    """All metrics for ``top_n`` (one row of item indices per user in ``users``) against ``test``.

    Popularity, novelty and the long tail are measured on ``train`` (what the system knew);
    ``new_item_recall_at_k`` counts only held-out items without any training listener.
    ``popular_top`` is the most-popular list used as "expected" for serendipity; by default the
    training top-``k`` per user minus what the user already knows.
    """
    n_users, n_items = train.shape
    item_popularity = np.diff(sp.csc_matrix(train).indptr)
    emerging = long_tail_items(item_popularity)
    popular_order = np.argsort(-item_popularity, kind="stable")
    rows = {name: [] for name in ("precision", "recall", "ndcg", "map", "serendipity")}
    new_hits, new_relevant = 0, 0
    lists = []
    for row, user in zip(top_n, users):
        ranked = [int(i) for i in row[:k] if i >= 0]
        lists.append(ranked)
        relevant = set(test.indices[test.indptr[user]:test.indptr[user + 1]].tolist())
        if popular_top is None:
            known = set(train.indices[train.indptr[user]:train.indptr[user + 1]].tolist())
            expected = set()
            for item in popular_order:
                if len(expected) == k:
                    break
                if int(item) not in known:
                    expected.add(int(item))
        else:
            expected = set(int(i) for i in popular_top)
        rows["precision"].append(precision_at_k(ranked, relevant, k))
        rows["recall"].append(recall_at_k(ranked, relevant, k))
        rows["ndcg"].append(ndcg_at_k(ranked, relevant, k))
        rows["map"].append(average_precision_at_k(ranked, relevant, k))
        rows["serendipity"].append(serendipity(ranked, relevant, expected, k))
        unseen = {item for item in relevant if item_popularity[item] == 0}
        new_relevant += len(unseen)
        new_hits += sum(1 for item in ranked if item in unseen)
    exposure = exposure_counts(lists, n_items)
    return {
        f"precision_at_{k}": float(np.mean(rows["precision"])),
        f"recall_at_{k}": float(np.mean(rows["recall"])),
        f"ndcg_at_{k}": float(np.mean(rows["ndcg"])),
        f"map_at_{k}": float(np.mean(rows["map"])),
        "coverage": float(np.count_nonzero(exposure) / n_items),
        "gini": gini(exposure),
        "novelty": novelty(lists, item_popularity, n_users),
        "serendipity": float(np.mean(rows["serendipity"])),
        "emerging_share": emerging_exposure_share(lists, emerging),
        # Recall restricted to held-out items no training user played: what only content can find.
        f"new_item_recall_at_{k}": new_hits / new_relevant if new_relevant else 0.0,
        "users": int(len(users)),
    }
