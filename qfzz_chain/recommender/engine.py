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

import copy
import itertools
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.data import Interactions
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.explain import Explanation, FeatureMatch, Prototype, Recommendation
from qfzz_chain.recommender.fairness import boosts, emerging_mask
from qfzz_chain.recommender.metrics import long_tail_items
from qfzz_chain.recommender.models import DEFAULT_MODEL, build_model, uses_friends
from qfzz_chain.recommender.models.base import Attribution, Model, Served, top_n_one
from qfzz_chain.recommender.models.hybrid import DynamicHybrid

if TYPE_CHECKING:
    from qfzz_chain.recommender.data import LastfmDataset

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
        self._found: list[Any] | None = None
        self._previous: list[int] = []
        self._depth = 0
        self._lock = threading.Lock()

    @property
    def _libraries(self) -> list[Any]:
        """The BLAS libraries, looked up on first use (threadpoolctl's import and scan cost ≈ 30 ms)."""
        if self._found is None:
            from threadpoolctl import ThreadpoolController

            self._found = ThreadpoolController().select(user_api="blas").lib_controllers
        return self._found

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
# Candidate sets whose removal a counterfactual checks by a real refit, at most (each refit of the
# served hybrid takes seconds; docs/recommender.md gives the figures).
COUNTERFACTUAL_REFITS = 3


@dataclass(frozen=True)
class Counterfactual:
    """The smallest set of history items whose removal drops ``item`` out of the user's top-``n``.

    The search re-scores candidate sets with the fitted model (the listener's history without
    them: what the model would say *without refitting*), smallest sets first; every set it reports
    is then checked by a **real refit** on the histories without those listens (``engine.refit()``'s
    model, fitted afresh) unless the caller asked for re-scoring only.

    ``removed`` is empty when no set up to the size limit drops the item, or none of those checked
    holds under a refit: there is then no counterfactual explanation to give, and
    ``rank_after``/``rank_after_refit`` repeat ``rank_before``. ``exact`` means every smaller set
    was re-scored and failed; ``verified`` means the reported history was re-scored and the item is
    out of the top-N; ``holds_under_refit`` means the refitted model agrees (``rank_after_refit``);
    ``refits`` counts the refits made. Ranks are 1-based.
    """

    user: int
    item: int
    n: int
    removed: tuple[Prototype, ...]
    rank_before: int
    rank_after: int
    exact: bool
    verified: bool
    rank_after_refit: int | None = None
    holds_under_refit: bool = False
    refits: int = 0


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
        # Refits made for counterfactual checks, by the removed (user row, items): they are
        # deterministic, so one refit answers for every recommended item of that listener.
        self._refit_ranks: dict[tuple[int, tuple[int, ...]], np.ndarray] = {}

    def _emerging_mask(self) -> np.ndarray:
        listeners = np.diff(sp.csc_matrix(self.history).indptr)
        return emerging_mask(long_tail_items(listeners), self.interactions.item_ids, self.emerging_ids)

    @classmethod
    def fit(cls, dataset: "LastfmDataset", model: str = DEFAULT_MODEL, params: dict[str, Any] | None = None,
            ease: dict[str, Any] | None = None, als: dict[str, Any] | None = None,
            emerging_ids: set[int] | None = None) -> "RecommendationEngine":
        """Fit ``model`` on all of ``dataset``'s listens (hybrids: with ``ease``/``als`` settings;
        the hybrid's content settings travel in ``params["content"]``; models that use the
        friendship graph get the dataset's)."""
        settings = dict(params or {})
        if model in ("hybrid", "hybrid_fixed"):
            settings.update({"ease": dict(ease or settings.get("ease", {})), "als": dict(als or settings.get("als", {}))})
        if uses_friends(model):
            settings["friends"] = dataset.friends
        engine = cls.for_dataset(build_model(model, **settings), dataset, emerging_ids)
        engine.refit()
        return engine

    @classmethod
    def for_dataset(cls, model: Model, dataset: "LastfmDataset",
                    emerging_ids: set[int] | None = None) -> "RecommendationEngine":
        """An engine serving ``model`` (fitted on all of ``dataset``, or to be :meth:`refit`) with the
        dataset's histories, names and the tag counts every model sees."""
        from qfzz_chain.recommender.split import visible_tag_counts

        content = visible_tag_counts(dataset.tags, dataset.interactions.n_items)
        return cls(model, dataset.interactions, dataset.item_names, dataset.tags.tag_names, emerging_ids, content)

    # -- scoring ---------------------------------------------------------------------------
    def _row(self, user: int) -> sp.csr_matrix:
        return self.history[user]

    def _known(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, play counts) of the user's current history, read straight from the CSR arrays."""
        start, end = self.history.indptr[user], self.history.indptr[user + 1]
        return self.history.indices[start:end], self.history.data[start:end]

    def _served(self, user: int) -> Served:
        items, plays = self._known(user)
        with _SINGLE_THREADED_BLAS:
            return self.model.serve_one(items, plays, self.interactions.n_items, user)

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
        """The user's top-``n`` with explanations; ``fairness_boost`` lifts emerging artists.

        One scoring pass serves both the list and its explanations (:meth:`Model.serve_one`).
        """
        if n < 1:
            raise InvalidParameterError(f"n must be at least 1, got {n}")
        user = self.interactions.user_index(user_id)
        with _SINGLE_THREADED_BLAS:
            items, plays = self._known(user)
            served = self.model.serve_one(items, plays, self.interactions.n_items, user)
            scores = served.scores
            added = boosts(scores, self.emerging, fairness_boost)[0] if fairness_boost else None
            ranked = top_n_one(scores + added if added is not None else scores, items, n)
            explanations = self._explanations(user, items, served, ranked, added)
        result = []
        for position, (item, explanation) in enumerate(zip(ranked, explanations)):
            item = int(item)
            result.append(Recommendation(position + 1, int(self.interactions.item_ids[item]), self.item_names[item],
                                         explanation.score + explanation.fairness_boost, explanation))
        return result

    def explain(self, user_id: int, item_id: int) -> Explanation:
        """The explanation of any item's score for a user (recommended or not), without boost."""
        user = self.interactions.user_index(user_id)
        item = self.interactions.item_index(item_id)
        with _SINGLE_THREADED_BLAS:
            items, plays = self._known(user)
            served = self.model.serve_one(items, plays, self.interactions.n_items, user)
            return self._explanations(user, items, served, np.array([item]), None)[0]

    def _explanations(self, user: int, items: np.ndarray, served: Served, targets: np.ndarray,
                      added: np.ndarray | None) -> list[Explanation]:
        """One :class:`Explanation` per target from one served history: prototypes, tags, λ, boost."""
        targets = np.asarray(targets, dtype=np.int64)
        if self.model.explainable:
            attribution = served.explain(targets)
        else:
            attribution = Attribution(np.zeros((len(targets), len(items))), np.zeros(len(targets)))
        matched = served.matched(targets, FEATURES_SHOWN) if served.matched is not None else [{}] * len(targets)
        lambdas = self.model.lambdas if isinstance(self.model, DynamicHybrid) else None
        user_id = int(self.interactions.user_ids[user])
        contributions = attribution.contributions
        # Per target, the largest positive shares first; ties broken by the lower item index (= lower
        # item id). One sort for all targets, and plain Python numbers from here on (numpy scalars
        # cost a call each: together a third of the explanations' time, measured).
        strongest = np.lexsort((np.broadcast_to(items, contributions.shape), -contributions))[:, :PROTOTYPES_SHOWN]
        shown = np.take_along_axis(contributions, strongest, axis=1).tolist()
        history_ids = self.interactions.item_ids[items].tolist()
        history_rows = items.tolist()
        target_ids = self.interactions.item_ids[targets].tolist()
        scores = served.scores[targets].tolist()
        cf_weights = lambdas[targets].tolist() if lambdas is not None else [None] * len(targets)
        boosts_added = added[targets].tolist() if added is not None else [0.0] * len(targets)
        baselines = attribution.baseline.tolist()
        result = []
        for t, order in enumerate(strongest.tolist()):
            prototypes = tuple(Prototype(history_ids[k], self.item_names[history_rows[k]], share)
                               for k, share in zip(order, shown[t]) if share > 0)
            features = tuple(FeatureMatch(self._tag_name(tag), weight) for tag, weight in matched[t].items())
            result.append(Explanation(self.model.name, user_id, target_ids[t], scores[t], prototypes, features,
                                      cf_weights[t], boosts_added[t], baseline=baselines[t]))
        return result

    def _tag_name(self, tag: int) -> str:
        return self.tag_names[tag] if tag < len(self.tag_names) else str(tag)

    def _prototype(self, item: int, contribution: float) -> Prototype:
        return Prototype(int(self.interactions.item_ids[item]), self.item_names[item], float(contribution))

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
        self._refit_ranks.clear()

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
        self._refit_ranks.clear()

    # -- counterfactuals --------------------------------------------------------------------
    def counterfactual(self, user_id: int, item_id: int, n: int = 10, max_size: int = 3,
                       max_candidates: int = 25, refits: int = COUNTERFACTUAL_REFITS,
                       progress: Callable[[str], None] | None = None) -> Counterfactual:
        """The smallest set (≤ ``max_size``) of the user's history whose removal drops ``item_id``
        out of the top-``n`` — and still does after refitting the model without those listens.

        Candidate sets are tried by increasing size, each re-scored by the fitted model (for
        monotone models only items that contribute can help, so that search is exact; otherwise
        every history item is a candidate, size 3 over the ``max_candidates`` strongest). The sets
        that drop the item are then checked, smallest and most decisive first, by a real refit on
        the histories without those listens (``refits`` at most; 0 skips the check and reports the
        re-scored answer). Removed items stay excluded from the list: the question is what their
        *influence* did, not whether the user would now be shown them. When no set holds, the
        answer says so (``removed`` is empty) rather than offering a long list nobody reads.
        """
        if self.content is None and refits:
            raise InvalidParameterError("this engine was built without the item features (tag counts) a refit needs")
        user = self.interactions.user_index(user_id)
        item = self.interactions.item_index(item_id)
        history = self._row(user)
        known = history.indices.copy()
        rank_before = _rank_of(self.scores(user), known, item)
        if rank_before > n:
            raise InvalidParameterError(f"item {item_id} is not in user {user_id}'s top {n} (rank {rank_before})")
        if self.model.explainable:
            parts = self._served(user).explain(np.array([item]))
            shares = dict(zip(known.tolist(), parts.contributions[0].tolist()))
        else:
            shares = {int(j): float(v) for j, v in zip(known, history.data)}
        if self.model.monotone and self.model.explainable:
            pool = [j for j, v in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])) if v > 0]
        else:
            pool = sorted(known.tolist(), key=lambda j: (-shares.get(j, 0.0), j))
        none = Counterfactual(int(user_id), int(item_id), n, (), rank_before, rank_before, False, False,
                              rank_before if refits else None, False, 0)
        exact = True
        made = 0
        for size in range(1, max_size + 1):
            candidates = pool if size <= 2 else pool[:max_candidates]
            exact = exact and len(candidates) == len(pool)
            found = self._dropping_sets(user, history, known, item, n, candidates, size)
            if not found:
                continue
            if not refits:
                removed, rank_after = found[0]
                return self._counterfactual(user, item, n, removed, rank_before, rank_after, exact, None, 0)
            # Most decisive first: the sets that push the item furthest down when re-scored.
            for removed, rank_after in sorted(found, key=lambda pair: (-pair[1], pair[0])):
                if made >= refits:
                    break
                cached = (user, tuple(sorted(removed))) in self._refit_ranks
                rank_refit = self._rank_after_refit(user, removed, item, progress)
                made += 0 if cached else 1
                if rank_refit > n:
                    return self._counterfactual(user, item, n, removed, rank_before, rank_after, exact, rank_refit,
                                                made)
            if made >= refits:
                break
        return Counterfactual(none.user, none.item, n, (), rank_before, rank_before, False, False,
                              rank_before if refits else None, False, made)

    def _dropping_sets(self, user: int, history: sp.csr_matrix, known: np.ndarray, item: int, n: int,
                       candidates: list[int], size: int) -> list[tuple[tuple[int, ...], int]]:
        """Every ``size``-subset of ``candidates`` whose removal drops ``item`` out of the re-scored top-``n``,
        with the item's re-scored rank."""
        combos = itertools.combinations(candidates, size)
        found = []
        while True:
            batch = list(itertools.islice(combos, _COUNTERFACTUAL_BATCH))
            if not batch:
                return found
            scores = self._scores_without(user, history, batch)
            for removed, row_scores in zip(batch, scores):
                rank = _rank_of(row_scores, known, item)
                if rank > n:
                    found.append((tuple(int(j) for j in removed), rank))

    def _scores_without(self, user: int, history: sp.csr_matrix, removals: list[tuple[int, ...]]) -> np.ndarray:
        """Scores of copies of ``history``, each with one set of items removed."""
        dense = np.repeat(history.toarray(), len(removals), axis=0)
        for r, removed in enumerate(removals):
            dense[r, list(removed)] = 0.0
        return self.model.score(sp.csr_matrix(dense), np.full(len(removals), user))

    def _rank_after_refit(self, user: int, removed: tuple[int, ...], item: int,
                          progress: Callable[[str], None] | None) -> int:
        """``item``'s rank for ``user`` from a model refitted on the histories without ``removed``'s listens."""
        key = (user, tuple(sorted(removed)))
        known = self.history.indices[self.history.indptr[user]:self.history.indptr[user + 1]]
        if key not in self._refit_ranks:
            if progress is not None:
                names = ", ".join(self.item_names[j] for j in key[1])
                progress(f"refitting without {names} to check a counterfactual")
            without = self.history.tolil(copy=True)
            without[user, list(key[1])] = 0.0
            without = sp.csr_matrix(without)
            without.eliminate_zeros()
            refitted = copy.deepcopy(self.model)
            refitted.fit(without, self.content)
            start, end = without.indptr[user], without.indptr[user + 1]
            with _SINGLE_THREADED_BLAS:
                scores = refitted.score_one(without.indices[start:end], without.data[start:end],
                                            self.interactions.n_items, user)
            self._refit_ranks[key] = _ranks(scores, known)
        return int(self._refit_ranks[key][item])

    def _counterfactual(self, user: int, item: int, n: int, removed: tuple[int, ...], rank_before: int,
                        rank_after: int, exact: bool, rank_refit: int | None, refits: int) -> Counterfactual:
        history = self._row(user)
        contributions = self.model.contributions(history, item, user) if self.model.explainable else {}
        prototypes = tuple(self._prototype(j, contributions.get(j, 0.0)) for j in removed)
        return Counterfactual(int(self.interactions.user_ids[user]), int(self.interactions.item_ids[item]), n,
                              prototypes, rank_before, rank_after, exact, rank_after > n, rank_refit,
                              rank_refit is not None and rank_refit > n, refits)


def _rank_of(scores: np.ndarray, known: np.ndarray, item: int) -> int:
    """1-based rank of ``item`` among the items not in ``known`` (ties: lower index first)."""
    admissible = np.ones(len(scores), dtype=bool)
    admissible[known] = False
    if not admissible[item]:
        raise InvalidParameterError(f"item index {item} is already in the user's history")
    target = scores[item]
    better = (scores > target) | ((scores == target) & (np.arange(len(scores)) < item))
    return int(np.count_nonzero(better & admissible)) + 1


def _ranks(scores: np.ndarray, known: np.ndarray) -> np.ndarray:
    """1-based rank of every item among the items not in ``known`` (ties: lower index first; known
    items get a rank past the end)."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    scores[np.isnan(scores)] = -np.inf
    admissible = np.ones(len(scores), dtype=bool)
    admissible[known] = False
    order = np.lexsort((np.arange(len(scores)), -scores))
    order = order[admissible[order]]
    ranks = np.full(len(scores), len(scores) + 1, dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks
