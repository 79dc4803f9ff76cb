"""RP3beta: a three-step random walk on the user–item graph with a popularity penalty (Paudel et al. 2017).

The walk goes item j → user u → item i with transition probabilities ``P_iu = 1/deg(j)`` and
``P_ui = 1/deg(u)`` on the binary listening graph, each raised to the power ``alpha``; the
item–item weight ``W[j, i] = Σ_u P_ju^α P_ui^α`` is divided by ``popularity(i)^beta`` and pruned to
the ``neighbours`` strongest per row. Scores are ``Σ_{j ∈ history} W[j, i]``. It is one of the
anchors of the benchmark (Dacrema et al. 2019 found it among the strongest simple baselines) and,
being a sum over the history, it explains itself exactly like item-kNN.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Attribution, Model, Served, check_fitted, gather_rows, row
from qfzz_chain.recommender.models.knn import keep_top_per_row


class RP3beta(Model):
    """Item–item random-walk similarity with popularity penalty; binary histories."""

    name = "rp3beta"
    explainable = True
    monotone = True

    def __init__(self, alpha: float = 0.8, beta: float = 0.3, neighbours: int = 500):
        if alpha <= 0 or beta < 0 or neighbours < 1:
            raise InvalidParameterError(f"RP3beta needs alpha > 0, beta ≥ 0 and neighbours ≥ 1, got "
                                        f"{alpha}, {beta}, {neighbours}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.neighbours = int(neighbours)
        self.weights: sp.csr_matrix | None = None  # W[j, i]: row j holds what history item j adds

    def params(self) -> dict[str, float | int | str]:
        return {"alpha": self.alpha, "beta": self.beta, "neighbours": self.neighbours}

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "RP3beta":
        graph = sp.csr_matrix(train, dtype=np.float64, copy=True)
        graph.eliminate_zeros()
        graph.data[:] = 1.0
        user_degree = np.diff(graph.indptr).astype(np.float64)
        by_item = sp.csr_matrix(graph.T)
        item_degree = np.diff(by_item.indptr).astype(np.float64)
        to_user = sp.csr_matrix(sp.diags(1.0 / np.maximum(item_degree, 1.0)) @ by_item)  # item → user
        to_item = sp.csr_matrix(sp.diags(1.0 / np.maximum(user_degree, 1.0)) @ graph)  # user → item
        to_user.data **= self.alpha
        to_item.data **= self.alpha
        walk = sp.csr_matrix(to_user @ to_item)
        walk = sp.csr_matrix(walk @ sp.diags(np.maximum(item_degree, 1.0) ** -self.beta))
        walk.setdiag(0.0)
        walk.eliminate_zeros()
        self.weights = keep_top_per_row(walk, self.neighbours)
        return self

    @staticmethod
    def _binary(history: sp.csr_matrix) -> sp.csr_matrix:
        binary = sp.csr_matrix(history, dtype=np.float64, copy=True)
        binary.data = (binary.data != 0).astype(np.float64)
        return binary

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.weights, self)
        return np.asarray((self._binary(history) @ self.weights).todense())

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.weights, self)
        items = np.asarray(items)
        values = (np.asarray(plays, dtype=np.float64) != 0).astype(np.float64)
        scores = gather_rows(self.weights, items, values, n_items)

        def explain(targets: np.ndarray) -> Attribution:
            targets = np.asarray(targets, dtype=np.int64)
            block = self.weights[items][:, targets].toarray()
            return Attribution((block * values[:, None]).T, np.zeros(len(targets)))

        return Served(scores, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        check_fitted(self.weights, self)
        items, values = row(self._binary(history))
        column = np.asarray(self.weights[:, item].todense()).ravel()
        return {int(j): float(v * column[j]) for j, v in zip(items, values) if column[j] != 0.0}
