"""The recommender's public API: fit once, then recommend, explain, score and adapt per listen.

    engine = RecommendationEngine.fit(load_lastfm())          # default: the dynamic-λ hybrid
    for rec in engine.recommend(user_id=2, n=10):
        rec.item, rec.score, rec.explanation_hash
    engine.record_listen(2, 89, plays=3)                      # next recommend() already sees it
    engine.counterfactual(2, rec.item)                        # "not without having played A"

The engine holds the listening histories (external ids ↔ rows), the fitted model and what
explanations need (item names, tag names). Models stay free of I/O and of external ids.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from qfzz_chain.recommender.data import Interactions, LastfmDataset
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.explain import Explanation, FeatureMatch, Prototype, Recommendation
from qfzz_chain.recommender.fairness import boosts, emerging_mask
from qfzz_chain.recommender.metrics import long_tail_items
from qfzz_chain.recommender.models import DEFAULT_MODEL, build_model
from qfzz_chain.recommender.models.base import Model, top_n_one
from qfzz_chain.recommender.models.content import TagContent
from qfzz_chain.recommender.models.hybrid import DynamicHybrid
from qfzz_chain.recommender.split import visible_tag_counts

PROTOTYPES_SHOWN = 3
FEATURES_SHOWN = 5


class _SingleThreadedBlas:
    """Runs one user's scoring with BLAS on one thread, then restores the previous thread counts.

    Those mat-vecs are big enough for OpenBLAS to split across threads, and when another process
    keeps a core busy a split product waits for a descheduled BLAS thread: a median of 2–5 ms
    instead of under 2 ms, measured with one core busy.
    The BLAS libraries are looked up once; threadpoolctl's own ``limit()`` re-inspects them on
    every call (40 µs, a twentieth of the whole top-10).

    Thread counts are process-wide, so are the saved counts: nested or concurrent scorings share
    one limit, taken by the first to enter and lifted by the last to leave.
    """

    def __init__(self) -> None:
        self._libraries = ThreadpoolController().select(user_api="blas").lib_controllers
        self._previous: list[int] = []
        self._depth = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._previous = [library.num_threads for library in self._libraries]
                for library in self._libraries:
                    library.set_num_threads(1)
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for library, threads in zip(self._libraries, self._previous):
                    library.set_num_threads(threads)


_SINGLE_THREADED_BLAS = _SingleThreadedBlas()

# Re-scored histories per batch in the counterfactual search (bounds memory to ~40 MB).
_COUNTERFACTUAL_BATCH = 256


@dataclass(frozen=True)
class Counterfactual:
    """The smallest set of history items whose removal drops ``item`` out of the user's top-``n``.

    ``removed`` is empty when no set up to the search limit works (then ``rank_after`` repeats
    ``rank_before``). ``exact`` means every smaller set was checked and failed; ``verified``
    means the final history was re-scored by the model and the item is indeed out of the top-N.
    Ranks are 1-based; ``rank_after`` is the item's rank without ``removed``.
    """

    user: int
    item: int
    n: int
    removed: tuple[Prototype, ...]
    rank_before: int
    rank_after: int
    exact: bool
    verified: bool


class RecommendationEngine:
    """A fitted model plus the histories and names it serves recommendations from."""

    def __init__(self, model: Model, interactions: Interactions, item_names: tuple[str, ...],
                 tag_names: tuple[str, ...] = (), emerging_ids: set[int] | None = None,
                 content: sp.csr_matrix | None = None):
        """``model`` is fitted on ``interactions.plays`` (and ``content``, the item × tag counts,
        which :meth:`refit` needs again); ``emerging_ids`` are artists to treat as emerging besides
        the long tail (the on-chain emerging-artist index)."""
        self.model = model
        self.interactions = interactions
        self.history = sp.csr_matrix(interactions.plays, dtype=np.float64, copy=True)
        self.item_names = item_names
        self.tag_names = tag_names
        self.content = content
        self.emerging_ids = set(emerging_ids or ())
        self.emerging = self._emerging_mask()

    def _emerging_mask(self) -> np.ndarray:
        listeners = np.diff(sp.csc_matrix(self.history).indptr)
        return emerging_mask(long_tail_items(listeners), self.interactions.item_ids, self.emerging_ids)

    @classmethod
    def fit(cls, dataset: LastfmDataset, model: str = DEFAULT_MODEL, params: dict[str, Any] | None = None,
            ease: dict[str, Any] | None = None, als: dict[str, Any] | None = None,
            emerging_ids: set[int] | None = None) -> "RecommendationEngine":
        """Fit ``model`` on all of ``dataset``'s listens (hybrids: with ``ease``/``als`` settings;
        the hybrid's content settings travel in ``params["content"]``)."""
        settings = dict(params or {})
        if model in ("hybrid", "hybrid_fixed"):
            settings.update({"ease": dict(ease or {}), "als": dict(als or {})})
        engine = cls.for_dataset(build_model(model, **settings), dataset, emerging_ids)
        engine.refit()
        return engine

    @classmethod
    def for_dataset(cls, model: Model, dataset: LastfmDataset,
                    emerging_ids: set[int] | None = None) -> "RecommendationEngine":
        """An engine serving ``model`` (fitted on all of ``dataset``, or to be :meth:`refit`) with the
        dataset's histories, names and the tag counts every model sees."""
        content = visible_tag_counts(dataset.tags, dataset.interactions.n_items)
        return cls(model, dataset.interactions, dataset.item_names, dataset.tags.tag_names, emerging_ids, content)

    # -- scoring ---------------------------------------------------------------------------
    def _row(self, user: int) -> sp.csr_matrix:
        return self.history[user]

    def _known(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, play counts) of the user's current history, read straight from the CSR arrays."""
        start, end = self.history.indptr[user], self.history.indptr[user + 1]
        return self.history.indices[start:end], self.history.data[start:end]

    def scores(self, user: int) -> np.ndarray:
        """The model's score of every item for the user at row ``user`` (current history)."""
        items, plays = self._known(user)
        with _SINGLE_THREADED_BLAS:
            return self.model.score_one(items, plays, self.interactions.n_items, user)

    def top_items(self, user: int, n: int = 10, fairness_boost: float = 0.0) -> np.ndarray:
        """Indices of the user's top-``n`` unknown items (row index in, item indices out)."""
        scores = self.scores(user)
        if fairness_boost:
            scores = scores + boosts(scores, self.emerging, fairness_boost)[0]
        return top_n_one(scores, self._known(user)[0], n)

    def score(self, user_id: int, item_id: int) -> float:
        """The model's score of one item for one user (external ids)."""
        user = self.interactions.user_index(user_id)
        return float(self.scores(user)[self.interactions.item_index(item_id)])

    def recommend(self, user_id: int, n: int = 10, fairness_boost: float = 0.0) -> list[Recommendation]:
        """The user's top-``n`` with explanations; ``fairness_boost`` lifts emerging artists."""
        if n < 1:
            raise InvalidParameterError(f"n must be at least 1, got {n}")
        user = self.interactions.user_index(user_id)
        scores = self.scores(user)
        added = boosts(scores, self.emerging, fairness_boost)[0] if fairness_boost else np.zeros_like(scores)
        ranked = top_n_one(scores + added, self._known(user)[0], n)
        result = []
        for position, item in enumerate(ranked):
            explanation = self._explain(user, int(item), float(scores[item]), float(added[item]))
            result.append(Recommendation(position + 1, int(self.interactions.item_ids[item]), self.item_names[item],
                                         float(scores[item] + added[item]), explanation))
        return result

    def explain(self, user_id: int, item_id: int) -> Explanation:
        """The explanation of any item's score for a user (recommended or not), without boost."""
        user = self.interactions.user_index(user_id)
        item = self.interactions.item_index(item_id)
        return self._explain(user, item, float(self.scores(user)[item]), 0.0)

    def _explain(self, user: int, item: int, score: float, boost: float) -> Explanation:
        history = self._row(user)
        prototypes: tuple[Prototype, ...] = ()
        if self.model.explainable:
            parts = self.model.contributions(history, item, user)
            strongest = sorted(parts.items(), key=lambda kv: (-kv[1], kv[0]))[:PROTOTYPES_SHOWN]
            prototypes = tuple(self._prototype(j, value) for j, value in strongest if value > 0)
        content = self._content_model()
        features: tuple[FeatureMatch, ...] = ()
        if content is not None:
            matched = content.matched_features(history, item, FEATURES_SHOWN)
            features = tuple(FeatureMatch(self.tag_names[t] if t < len(self.tag_names) else str(t), w)
                             for t, w in matched.items())
        cf_weight = float(self.model.lambdas[item]) if isinstance(self.model, DynamicHybrid) else None
        return Explanation(self.model.name, int(self.interactions.user_ids[user]), int(self.interactions.item_ids[item]),
                           score, prototypes, features, cf_weight, boost)

    def _prototype(self, item: int, contribution: float) -> Prototype:
        return Prototype(int(self.interactions.item_ids[item]), self.item_names[item], float(contribution))

    def _content_model(self) -> TagContent | None:
        if isinstance(self.model, TagContent):
            return self.model
        if isinstance(self.model, DynamicHybrid):
            return self.model.content
        return None

    # -- real-time adaptation ---------------------------------------------------------------
    def record_listen(self, user_id: int, item_id: int, plays: float = 1.0) -> None:
        """Add ``plays`` listens of an item to a user's history; the next call sees them (fold-in).

        History-based models (neighbourhoods, EASE, content, hybrids, ALS via its user
        half-step) change that user's scores at once, without refitting.
        """
        if plays <= 0:
            raise InvalidParameterError(f"plays must be positive, got {plays}")
        user = self.interactions.user_index(user_id)
        item = self.interactions.item_index(item_id)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
            self.history[user, item] = self.history[user, item] + plays

    def refit(self) -> None:
        """Fit the model again, in place, on the current histories: every recorded listen counts.

        The model is the one a fit on data that held those listens from the start gives (fits
        are deterministic given the model's seed), and what depends on listener counts (the
        hybrid's per-artist λ, the emerging long tail) is recounted.
        """
        if self.content is None:
            raise InvalidParameterError("this engine was built without the item features (tag counts) a refit needs")
        self.model.fit(self.history, self.content)
        self.emerging = self._emerging_mask()

    # -- counterfactuals --------------------------------------------------------------------
    def counterfactual(self, user_id: int, item_id: int, n: int = 10, max_size: int = 3,
                       max_candidates: int = 25) -> Counterfactual:
        """The smallest set of the user's history whose removal drops ``item_id`` out of the top-``n``.

        Sets are tried by increasing size (up to ``max_size``), every candidate set re-scored by
        the model itself. For monotone models (non-negative weights) only items that contribute
        to the item can help, so the search over them is exact; otherwise every history item is a
        candidate. Removed items stay excluded from the list: the question is what their
        *influence* did, not whether the user would now be shown them.
        """
        user = self.interactions.user_index(user_id)
        item = self.interactions.item_index(item_id)
        history = self._row(user)
        known = history.indices.copy()
        rank_before = _rank_of(self.scores(user), known, item)
        if rank_before > n:
            raise InvalidParameterError(f"item {item_id} is not in user {user_id}'s top {n} (rank {rank_before})")
        if self.model.monotone and self.model.explainable:
            parts = self.model.contributions(history, item, user)
            pool = [j for j, v in sorted(parts.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]
        elif self.model.explainable:
            parts = self.model.contributions(history, item, user)
            pool = sorted(known.tolist(), key=lambda j: (-parts.get(j, 0.0), j))
        else:
            pool = sorted(known.tolist(), key=lambda j: (-history[0, j], j))
        exact = True
        for size in range(1, max_size + 1):
            candidates = pool if size <= 2 else pool[:max_candidates]
            exact = exact and len(candidates) == len(pool)
            found = self._first_dropping_set(user, history, known, item, n, candidates, size)
            if found is not None:
                return self._counterfactual(user, item, n, found, rank_before, exact)
        # Nothing small enough: remove the strongest contributors one by one (not minimal).
        for size in range(max_size + 1, len(pool) + 1):
            removed = tuple(pool[:size])
            if _rank_of(self._scores_without(user, history, [removed])[0], known, item) > n:
                return self._counterfactual(user, item, n, removed, rank_before, False)
        return Counterfactual(int(user_id), int(item_id), n, (), rank_before, rank_before, False, False)

    def _scores_without(self, user: int, history: sp.csr_matrix, removals: list[tuple[int, ...]]) -> np.ndarray:
        """Scores of copies of ``history``, each with one set of items removed."""
        dense = np.repeat(history.toarray(), len(removals), axis=0)
        for r, removed in enumerate(removals):
            dense[r, list(removed)] = 0.0
        return self.model.score(sp.csr_matrix(dense), np.full(len(removals), user))

    def _first_dropping_set(self, user: int, history: sp.csr_matrix, known: np.ndarray, item: int, n: int,
                            candidates: list[int], size: int) -> tuple[int, ...] | None:
        combos = itertools.combinations(candidates, size)
        while True:
            batch = list(itertools.islice(combos, _COUNTERFACTUAL_BATCH))
            if not batch:
                return None
            scores = self._scores_without(user, history, batch)
            for removed, row_scores in zip(batch, scores):
                if _rank_of(row_scores, known, item) > n:
                    return removed

    def _counterfactual(self, user: int, item: int, n: int, removed: tuple[int, ...], rank_before: int,
                        exact: bool) -> Counterfactual:
        history = self._row(user)
        # Re-score the final history once more, on its own, as the check.
        rank_after = _rank_of(self._scores_without(user, history, [removed])[0], history.indices, item)
        contributions = self.model.contributions(history, item, user) if self.model.explainable else {}
        prototypes = tuple(self._prototype(j, contributions.get(j, 0.0)) for j in removed)
        return Counterfactual(int(self.interactions.user_ids[user]), int(self.interactions.item_ids[item]), n,
                              prototypes, rank_before, rank_after, exact, rank_after > n)


def _rank_of(scores: np.ndarray, known: np.ndarray, item: int) -> int:
    """1-based rank of ``item`` among the items not in ``known`` (ties: lower index first)."""
    admissible = np.ones(len(scores), dtype=bool)
    admissible[known] = False
    if not admissible[item]:
        raise InvalidParameterError(f"item index {item} is already in the user's history")
    target = scores[item]
    better = (scores > target) | ((scores == target) & (np.arange(len(scores)) < item))
    return int(np.count_nonzero(better & admissible)) + 1
