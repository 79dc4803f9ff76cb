"""What every model shares: the fit/score contract, play-count weighting and top-N selection.

A model is fitted on a users × items play-count matrix (plus, for content models, an items ×
features matrix) and then scores *histories*: rows of play counts. Scoring from the history
rather than from a stored user row is what makes real-time adaptation free: a new listen is a
changed row, and the next call already sees it. Models whose score is a sum over the history
(``score(u, i) = Σ_j w(h_uj) · W[j, i]``) also report each history item's exact contribution,
which is what explanations and counterfactuals are built on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError

WEIGHTINGS = ("log", "binary", "plays")


class Weighting:
    """Turns raw play counts into model input: ``log`` = log1p(plays) / mean log1p over training.

    The scale is fixed at fit time so a history scored later is weighted exactly as training was.
    """

    def __init__(self, kind: str = "log"):
        if kind not in WEIGHTINGS:
            raise InvalidParameterError(f"unknown weighting {kind!r}; choose one of {', '.join(WEIGHTINGS)}")
        self.kind = kind
        self.scale = 1.0

    def fit(self, plays: sp.csr_matrix) -> "Weighting":
        if self.kind == "log" and plays.nnz:
            self.scale = float(np.log1p(plays.data).mean())
        return self

    def __call__(self, plays: sp.csr_matrix) -> sp.csr_matrix:
        weighted = sp.csr_matrix(plays, dtype=np.float64, copy=True)
        if self.kind == "log":
            weighted.data = np.log1p(weighted.data) / self.scale
        elif self.kind == "binary":
            weighted.data = np.ones_like(weighted.data)
        return weighted

    def values(self, plays: np.ndarray) -> np.ndarray:
        """The same weighting for one history's stored play counts (a 1-D array)."""
        plays = np.asarray(plays, dtype=np.float64)
        if self.kind == "log":
            return np.log1p(plays) / self.scale
        if self.kind == "binary":
            return np.ones_like(plays)
        return plays.copy()


@dataclass(frozen=True)
class Attribution:
    """Why one history gave some target items their scores, exactly.

    ``contributions[t, j]`` is history item ``j``'s share of target ``t``'s score (``j`` indexes the
    history as given, not the catalogue); ``baseline[t]`` is what no history item owns. Each row
    plus its baseline adds up to the target's score.
    """

    contributions: np.ndarray  # (targets, history items) float64
    baseline: np.ndarray  # (targets,) float64


@dataclass(frozen=True)
class Served:
    """One history's scores over the catalogue, and what explaining any of them needs.

    ``explain(targets)`` reuses what scoring computed (factors solved, parts standardised), so a
    top-10 with explanations costs little more than the top-10 itself (docs/recommender.md).
    """

    scores: np.ndarray
    explain: Callable[[np.ndarray], Attribution]
    #: content models: ``matched(targets, top)`` → per target, {tag: weight} of its strongest shared tags
    matched: Callable[[np.ndarray, int], list[dict[int, float]]] | None = None


class Model(ABC):
    """A recommender: ``fit`` on training plays, then ``score`` histories."""

    #: registry name, also used as the metric prefix in benchmark results
    name = "model"
    #: True when ``contributions`` decomposes the score exactly over the history
    explainable = False
    #: True when every history item can only raise scores (non-negative weights)
    monotone = False

    @abstractmethod
    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "Model":
        """Learn from ``train`` (users × items play counts) and optional item content features."""

    @abstractmethod
    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        """Dense scores (rows of ``history`` × items); ``users`` are their training rows, if any.

        Models that learned per-user parameters use ``users``; history-based models only need
        it to leave the user out of their own neighbourhood.
        """

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        """``score`` of a single history given as (item indices, play counts): a 1-D score vector.

        The serving path (one user's top-N). Models override it with a direct dense computation
        that skips sparse-matrix construction; the default goes through ``score``.
        """
        history = sp.csr_matrix((np.asarray(plays, dtype=np.float64), np.asarray(items), [0, len(items)]),
                                shape=(1, n_items))
        return self.score(history, None if user is None else np.array([user]))[0]

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        """:meth:`score_one` plus a way to explain any of those scores (:class:`Served`).

        The default explains through :meth:`contributions` and :meth:`baseline`, one target at a
        time; explainable models override it with a path that reuses the scoring work.
        """
        scores = self.score_one(items, plays, n_items, user)

        def explain(targets: np.ndarray) -> Attribution:
            return self._attribution(items, plays, n_items, targets, user)

        return Served(scores, explain)

    def _attribution(self, items: np.ndarray, plays: np.ndarray, n_items: int, targets: np.ndarray,
                     user: int | None) -> Attribution:
        """:class:`Attribution` from :meth:`contributions` and :meth:`baseline`, one target at a time."""
        items = np.asarray(items)
        targets = np.asarray(targets, dtype=np.int64)
        contributions = np.zeros((len(targets), len(items)))
        baseline = np.zeros(len(targets))
        if not self.explainable:
            return Attribution(contributions, baseline)
        history = sp.csr_matrix((np.asarray(plays, dtype=np.float64), items, [0, len(items)]), shape=(1, n_items))
        position = {int(j): k for k, j in enumerate(items)}
        for t, item in enumerate(targets):
            for j, value in self.contributions(history, int(item), user).items():
                contributions[t, position[j]] = value
            baseline[t] = self.baseline(history, int(item), user)
        return Attribution(contributions, baseline)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        """Exact share of ``score(history)[item]`` owed to each history item (explainable models).

        The shares plus :meth:`baseline` add up to the score.
        """
        raise InvalidParameterError(f"model {self.name!r} cannot attribute its scores to history items")

    def baseline(self, history: sp.csr_matrix, item: int, user: int | None = None) -> float:
        """The part of ``score(history)[item]`` owed to no history item (0 for a plain sum)."""
        return 0.0

    def params(self) -> dict[str, float | int | str]:
        """The hyperparameters, for reports and explanation records."""
        return {}


def check_fitted(value: object, model: Model) -> None:
    if value is None:
        raise InvalidParameterError(f"model {model.name!r} is not fitted")


def gather_rows(matrix: sp.csr_matrix, rows: np.ndarray, weights: np.ndarray, n_columns: int) -> np.ndarray:
    """``Σ_r weights[r] · matrix[rows[r]]`` as a dense vector, without building a sparse result."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[np.asarray(rows) + 1] - starts
    if int(lengths.sum()) == 0:
        return np.zeros(n_columns)
    offsets = row_offsets(starts, lengths)
    return np.bincount(matrix.indices[offsets], weights=matrix.data[offsets] * np.repeat(weights, lengths),
                       minlength=n_columns)


def row_offsets(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions in a CSR matrix's ``indices``/``data`` of the rows starting at ``starts``."""
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))


def row(history: sp.csr_matrix, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(item indices, values) of one history row."""
    start, end = history.indptr[index], history.indptr[index + 1]
    return history.indices[start:end], history.data[start:end]


def top_n_one(scores: np.ndarray, exclude: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` best items of one score vector, best first, skipping the ``exclude`` indices.

    Ties are broken by the lower item index so the same scores always give the same list. NaN is
    never admissible; +inf ranks first. No padding: fewer than ``n`` indices come back when fewer
    items are admissible.
    """
    scores = np.array(scores, copy=True)
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    scores[np.isnan(scores)] = -np.inf
    scores[exclude] = -np.inf
    n_items = len(scores)
    n = min(n, n_items)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    # A lower bound on the n-th best value, then every admissible item at or above it (all ties),
    # sorted. The bound is the n-th best of the maxima of blocks of _TOP_N_BLOCK scores: n blocks
    # reach it, so at least n items do, and no item of the true top-n (ties included) is below it.
    # One pass over the scores and a partition of a few hundred maxima: 0.02 ms on 17,632 scores,
    # against 0.35 ms for a full sort and 0.13 ms for a partition of them all on this machine kind
    # (no AVX-512 sort); a partition also slows to 0.29 ms when most scores tie at the bottom, as
    # the zeros of a neighbourhood model or EASE do (measured). Exact either way: only the size of
    # the pool sorted at the end depends on how the scores are laid out.
    whole = n_items - n_items % _TOP_N_BLOCK
    maxima = scores[:whole].reshape(-1, _TOP_N_BLOCK).max(axis=1)
    if whole < n_items:
        maxima = np.append(maxima, scores[whole:].max())
    if len(maxima) >= n:
        threshold = np.partition(maxima, len(maxima) - n)[len(maxima) - n]
    else:
        threshold = np.partition(scores, n_items - n)[n_items - n]
    pool = np.flatnonzero(scores >= threshold) if threshold > -np.inf else np.flatnonzero(scores > -np.inf)
    return pool[np.lexsort((pool, -scores[pool]))][:n]


_TOP_N_BLOCK = 64


def top_n(scores: np.ndarray, exclude: sp.csr_matrix | None, n: int) -> np.ndarray:
    """:func:`top_n_one` for every row, ``exclude`` given as a sparse matrix of already known items.

    Rows with fewer than ``n`` admissible items are padded with -1.
    """
    scores = np.array(scores, copy=None, ndmin=2)
    exclude = sp.csr_matrix(exclude) if exclude is not None else sp.csr_matrix(scores.shape)
    result = np.full((len(scores), min(n, scores.shape[1])), -1, dtype=np.int64)
    for r in range(len(scores)):
        ranked = top_n_one(scores[r], exclude.indices[exclude.indptr[r]:exclude.indptr[r + 1]], n)
        result[r, : len(ranked)] = ranked
    return result
