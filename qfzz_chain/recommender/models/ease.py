"""EASE: the closed-form linear autoencoder of Steck (2019), used as model and as reference anchor.

``B = I − P · diag(1 / diag(P))`` with ``P = (XᵀX + λI)⁻¹``, diagonal forced to zero, on
log-weighted plays. Items with fewer than ``min_listeners`` training listeners are left out of
the Gram matrix: they carry no co-occurrence signal and would only cost cubic time.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Attribution, Model, Served, Weighting, check_fitted, row


class EASE(Model):
    """Item-item linear model ``score = w(h) · B``, fitted in closed form."""

    name = "ease"
    explainable = True

    def __init__(self, regularization: float = 100.0, min_listeners: int = 2, weighting: str = "log"):
        self.regularization = float(regularization)
        self.min_listeners = int(min_listeners)
        self.weighting = Weighting(weighting)
        self.kept: np.ndarray | None = None
        self.kept_position: np.ndarray | None = None  # item → row of ``weights``, −1 if left out
        self.weights: np.ndarray | None = None

    def params(self) -> dict[str, float | int | str]:
        return {"regularization": self.regularization, "min_listeners": self.min_listeners, "weighting": self.weighting.kind}

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "EASE":
        weighted = sp.csc_matrix(self.weighting.fit(train)(train))
        listeners = np.diff(sp.csc_matrix(train).indptr)
        self.kept = np.flatnonzero(listeners >= self.min_listeners)
        self.kept_position = np.full(train.shape[1], -1, dtype=np.int64)
        self.kept_position[self.kept] = np.arange(len(self.kept))
        columns = weighted[:, self.kept]
        # Single precision halves the cubic step; λ keeps the Gram matrix well conditioned.
        gram = np.asarray((columns.T @ columns).todense(), dtype=np.float32)
        gram[np.diag_indices_from(gram)] += self.regularization
        # Cholesky-based inverse of the SPD Gram matrix: about half the work of a general inverse.
        # (scipy.linalg is imported here: serving never needs it, and it costs 0.2 s to import.)
        import scipy.linalg

        factor, info = scipy.linalg.lapack.spotrf(gram, lower=1, overwrite_a=1)
        if info == 0:
            inverse, info = scipy.linalg.lapack.spotri(factor, lower=1, overwrite_c=1)
        if info != 0:
            raise InvalidParameterError(f"EASE Gram matrix is not positive definite (λ={self.regularization})")
        inverse = np.tril(inverse) + np.tril(inverse, -1).T
        weights = -inverse / np.diag(inverse)[None, :]
        np.fill_diagonal(weights, 0.0)
        self.weights = weights
        return self

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.weights, self)
        weighted = self.weighting(history)
        # Re-index the history onto the kept items directly (cheaper than column slicing), in
        # single precision like the weights, or scipy would upcast the whole dense matrix per call.
        positions = self.kept_position[weighted.indices]
        inside = positions >= 0
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        kept_history = sp.csr_matrix((weighted.data[inside].astype(np.float32), (rows[inside], positions[inside])),
                                     shape=(weighted.shape[0], len(self.kept)))
        scores = np.zeros(history.shape, dtype=np.float64)
        scores[:, self.kept] = kept_history @ self.weights
        return scores

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.weights, self)
        items = np.asarray(items)
        positions = self.kept_position[items]
        inside = np.flatnonzero(positions >= 0)
        scores = np.zeros(n_items, dtype=np.float32)
        values = self.weighting.values(np.asarray(plays)[inside])
        if len(inside):
            scores[self.kept] = values.astype(np.float32) @ self.weights[positions[inside]]

        def explain(targets: np.ndarray) -> Attribution:
            # score_t = Σ_j w(h_j) B[j, t]: each history item's share is one weight, read from B.
            targets = np.asarray(targets, dtype=np.int64)
            contributions = np.zeros((len(targets), len(items)))
            target_positions = self.kept_position[targets]
            kept = np.flatnonzero(target_positions >= 0)
            if len(inside) and len(kept):
                block = self.weights[np.ix_(positions[inside], target_positions[kept])].astype(np.float64)
                contributions[np.ix_(kept, inside)] = (block * values[:, None]).T
            return Attribution(contributions, np.zeros(len(targets)))

        return Served(scores, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        check_fitted(self.weights, self)
        position = self.kept_position[item]
        if position < 0:
            return {}
        items, values = row(self.weighting(history))
        result = {}
        for j, value in zip(items, values):
            k = self.kept_position[j]
            if k >= 0 and self.weights[k, position] != 0.0:
                result[int(j)] = float(value * self.weights[k, position])
        return result
