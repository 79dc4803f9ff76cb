"""Neighbourhood models: item-kNN and user-kNN with shrunk cosine similarity (seed section 2.1).

Each comes in two forms. ``normalize=True`` is the seed's formula, a *rating predictor*: the
weighted average of the user's values over the neighbours, divided by the sum of |similarity|.
On implicit data it collapses as a top-N ranker (an item with one weak neighbour in the history
gets the same score as one with fifty strong ones). ``normalize=False`` drops the denominator,
so evidence adds up; that is the form that ranks well, and the one explanations decompose.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.models.base import Attribution, Model, Served, Weighting, check_fitted, gather_rows, row


def keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest stored values of every row (ties: lower column first)."""
    matrix = sp.csr_matrix(matrix)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
    keep = rank < k
    pruned = sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)
    return pruned


def shrunk_cosine(vectors: sp.csr_matrix, shrink: float) -> sp.csr_matrix:
    """Cosine similarity of the rows of ``vectors``, shrunk: ``a·b / (|a||b| + shrink)``; no self-pairs."""
    gram = sp.csr_matrix(vectors @ vectors.T)
    gram.setdiag(0.0)
    gram.eliminate_zeros()
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    coo = gram.tocoo()
    data = coo.data / (norms[coo.row] * norms[coo.col] + shrink)
    return sp.csr_matrix((data, (coo.row, coo.col)), shape=gram.shape)


class ItemKNN(Model):
    """Item-based CF: ``score(u, i) = Σ_{j ∈ N(i)} sim(i, j) · w(r_uj)`` (÷ Σ|sim| when normalised)."""

    name = "itemknn"

    def __init__(self, neighbours: int = 200, shrink: float = 10.0, normalize: bool = False, weighting: str = "log"):
        self.neighbours = int(neighbours)
        self.shrink = float(shrink)
        self.normalize = bool(normalize)
        self.weighting = Weighting(weighting)
        self.explainable = not normalize
        self.monotone = not normalize
        self.weights: sp.csr_matrix | None = None  # W[j, i] = sim(i, j) for j in N(i)

    def params(self) -> dict[str, float | int | str]:
        return {"neighbours": self.neighbours, "shrink": self.shrink, "normalize": int(self.normalize),
                "weighting": self.weighting.kind}

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "ItemKNN":
        weighted = self.weighting.fit(train)(train)
        similarity = shrunk_cosine(sp.csr_matrix(weighted.T), self.shrink)
        # Row i of the pruned matrix is N(i); transposing makes column i hold item i's neighbours.
        self.weights = sp.csr_matrix(keep_top_per_row(similarity, self.neighbours).T)
        return self

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.weights, self)
        weighted = self.weighting(history)
        numerator = np.asarray((weighted @ self.weights).todense())
        if not self.normalize:
            return numerator
        known = weighted.copy()
        known.data = np.ones_like(known.data)
        denominator = np.asarray((known @ abs(self.weights)).todense())
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, numerator / denominator, 0.0)

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        if self.normalize:
            return super().score_one(items, plays, n_items, user)
        check_fitted(self.weights, self)
        return gather_rows(self.weights, np.asarray(items), self.weighting.values(plays), n_items)

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        if self.normalize:
            return super().serve_one(items, plays, n_items, user)
        check_fitted(self.weights, self)
        items = np.asarray(items)
        values = self.weighting.values(plays)
        scores = gather_rows(self.weights, items, values, n_items)

        def explain(targets: np.ndarray) -> Attribution:
            # score_t = Σ_j w(h_j) W[j, t]: the history rows of W, read at the targets.
            targets = np.asarray(targets, dtype=np.int64)
            block = self.weights[items][:, targets].toarray()
            return Attribution((block * values[:, None]).T, np.zeros(len(targets)))

        return Served(scores, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        check_fitted(self.weights, self)
        if self.normalize:
            return super().contributions(history, item, user)
        items, values = row(self.weighting(history))
        column = np.asarray(self.weights[:, item].todense()).ravel()
        return {int(j): float(v * column[j]) for j, v in zip(items, values) if column[j] != 0.0}


class UserKNN(Model):
    """User-based CF over the ``neighbours`` most similar users (shrunk cosine on weighted plays).

    Normalised (seed): ``r̄_u + Σ_v sim(u,v)(r_vi − r̄_v) / Σ_v |sim(u,v)|`` over neighbours who
    played i. Un-normalised: ``Σ_v sim(u,v) · w(r_vi)``.
    """

    name = "userknn"

    def __init__(self, neighbours: int = 50, shrink: float = 10.0, normalize: bool = False, weighting: str = "log"):
        self.neighbours = int(neighbours)
        self.shrink = float(shrink)
        self.normalize = bool(normalize)
        self.weighting = Weighting(weighting)
        self.explainable = not normalize
        self.monotone = False  # adding a listen also moves the user's neighbourhood
        self.profiles: sp.csr_matrix | None = None
        self.norms: np.ndarray | None = None

    def params(self) -> dict[str, float | int | str]:
        return {"neighbours": self.neighbours, "shrink": self.shrink, "normalize": int(self.normalize),
                "weighting": self.weighting.kind}

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "UserKNN":
        self.profiles = self.weighting.fit(train)(train)
        self.norms = np.sqrt(np.asarray(self.profiles.multiply(self.profiles).sum(axis=1)).ravel())
        return self

    def _similarities(self, weighted: sp.csr_matrix, users: np.ndarray | None) -> np.ndarray:
        """Dense (histories × training users) shrunk cosine, pruned to the top neighbours."""
        dots = np.asarray((weighted @ self.profiles.T).todense())
        history_norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        sims = dots / (history_norms[:, None] * self.norms[None, :] + self.shrink)
        if users is not None:
            sims[np.arange(len(users)), users] = 0.0  # a user is not their own neighbour
        k = min(self.neighbours, sims.shape[1])
        if k < sims.shape[1]:
            cut = np.argpartition(-sims, k - 1, axis=1)[:, k:]
            np.put_along_axis(sims, cut, 0.0, axis=1)
        return sims

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.profiles, self)
        weighted = self.weighting(history)
        sims = self._similarities(weighted, users)
        if not self.normalize:
            return np.asarray((sp.csr_matrix(sims) @ self.profiles).todense())
        counts = np.diff(self.profiles.indptr)
        means = np.asarray(self.profiles.sum(axis=1)).ravel() / np.maximum(counts, 1)
        centred = self.profiles.copy()
        centred.data = centred.data - np.repeat(means, counts)
        known = self.profiles.copy()
        known.data = np.ones_like(known.data)
        sparse_sims = sp.csr_matrix(sims)
        numerator = np.asarray((sparse_sims @ centred).todense())
        denominator = np.asarray((abs(sparse_sims) @ known).todense())
        history_counts = np.maximum(np.diff(weighted.indptr), 1)
        own_mean = (np.asarray(weighted.sum(axis=1)).ravel() / history_counts)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, own_mean + numerator / denominator, 0.0)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        check_fitted(self.profiles, self)
        if self.normalize:
            return super().contributions(history, item, user)
        weighted = self.weighting(history[0])
        sims = self._similarities(weighted, None if user is None else np.array([user]))[0]
        neighbours = np.flatnonzero(sims)
        history_norm = float(np.sqrt(weighted.multiply(weighted).sum()))
        # sim(u,v) = Σ_j h_j x_vj / (|h||x_v| + shrink), so item j's part of Σ_v sim(u,v) x_vi is exact.
        neighbour_profiles = self.profiles[neighbours]
        item_values = np.asarray(neighbour_profiles[:, item].todense()).ravel()
        scale = item_values / (history_norm * self.norms[neighbours] + self.shrink)
        per_item = np.asarray(neighbour_profiles.T @ scale).ravel()
        items, values = row(weighted)
        return {int(j): float(v * per_item[j]) for j, v in zip(items, values) if per_item[j] != 0.0}
