"""Fairness-aware re-ranking: more exposure for emerging artists at a bounded accuracy cost.

Each emerging item's score is raised by ``boost`` times the user's best score before the top-N
is cut. Since the lift is at most ``boost`` of the top score, an emerging item can only pass an
established one that was already within that margin: the ranking changes only among near-ties,
which is what bounds the accuracy cost (the benchmark reports the NDCG/exposure trade-off per
boost). The emerging set is the training long tail, optionally joined by an external list (the
on-chain emerging-artist index once the curation issue provides it).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import top_n


def boosts(scores: np.ndarray, emerging: np.ndarray, boost: float) -> np.ndarray:
    """The amount added to each score: ``boost · max_i |score|`` per row, on emerging items only."""
    if boost < 0:
        raise InvalidParameterError(f"the fairness boost must be ≥ 0, got {boost}")
    scores = np.atleast_2d(scores)
    scale = np.max(np.abs(scores), axis=1, keepdims=True)
    return boost * scale * np.asarray(emerging, dtype=np.float64)[None, :]


def fair_rerank(scores: np.ndarray, exclude: sp.csr_matrix | None, emerging: np.ndarray, boost: float, n: int) -> np.ndarray:
    """Top-``n`` item indices per row after lifting emerging items by :func:`boosts`."""
    scores = np.atleast_2d(scores)
    return top_n(scores + boosts(scores, emerging, boost), exclude, n)


def emerging_mask(long_tail: np.ndarray, item_ids: np.ndarray, extra_ids: set[int] | None = None) -> np.ndarray:
    """The long-tail mask, plus any item whose external id is in ``extra_ids``."""
    mask = np.array(long_tail, dtype=bool, copy=True)
    if extra_ids:
        mask |= np.isin(item_ids, np.fromiter(extra_ids, dtype=np.int64))
    return mask
