"""Social model: what a listener's friends play (Last.fm 2K's friendship graph, 25,434 links).

``score(u, i) = Σ_{v ∈ friends(u)} w(x_vi)``, the friends' log-weighted training plays. It is a
signal the listening matrix alone does not have (a friend's taste, not a co-listener's), and on
its own it ranks far above popularity (validation NDCG@10 ≈ 0.12 against 0.07, docs/recommender.md).
As a part of the hybrid it adds about 0.003–0.004 NDCG@10 on the random protocol.

It never reads the listener's own history: removing a listener's listens cannot change their
social scores, which keeps counterfactual explanations exact for this part, and a listener with
no friends (or a history scored without a user row) gets all zeros. Friends' new listens count
from the next fit (the part keeps the training plays it was fitted on).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Attribution, Model, Served, Weighting, check_fitted, gather_rows


class Social(Model):
    """Friends' plays as scores; ``friends`` is the users × users adjacency (any non-zero is a link)."""

    name = "social"
    explainable = True  # exactly: nothing is owed to the history, everything to the baseline (the friends)

    def __init__(self, friends: sp.csr_matrix | None = None, weighting: str = "log"):
        self.friends = None if friends is None else _adjacency(friends)
        self.weighting = Weighting(weighting)
        self.plays: sp.csr_matrix | None = None  # weighted training plays, users × items

    def params(self) -> dict[str, float | int | str]:
        # Not the graph's size: the settings are the same with or without it (the dataset's
        # checksums pin the graph wherever a fitted model is keyed or published).
        return {"weighting": self.weighting.kind}

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "Social":
        if self.friends is not None and self.friends.shape[0] != train.shape[0]:
            raise InvalidParameterError(f"the friendship graph has {self.friends.shape[0]} users, "
                                        f"the plays {train.shape[0]}")
        self.plays = self.weighting.fit(train)(train)
        if self.friends is None:
            self.friends = sp.csr_matrix((train.shape[0], train.shape[0]))
        return self

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.plays, self)
        if users is None:
            return np.zeros(history.shape)
        return np.asarray((self.friends[np.asarray(users)] @ self.plays).todense())

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.plays, self)
        if user is None:
            scores = np.zeros(n_items)
        else:
            start, end = self.friends.indptr[user], self.friends.indptr[user + 1]
            scores = gather_rows(self.plays, self.friends.indices[start:end], np.ones(end - start), n_items)

        def explain(targets: np.ndarray) -> Attribution:
            # The listener's own history owns none of it: all of a target's score is "baseline".
            targets = np.asarray(targets, dtype=np.int64)
            return Attribution(np.zeros((len(targets), len(items))), scores[targets].astype(np.float64))

        return Served(scores, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        return {}

    def baseline(self, history: sp.csr_matrix, item: int, user: int | None = None) -> float:
        return float(self.score(history[0], None if user is None else np.array([user]))[0, item])

    def friend_shares(self, user: int, item: int) -> dict[int, float]:
        """Each friend's (training row's) share of ``score(user, item)``: who to thank."""
        check_fitted(self.plays, self)
        start, end = self.friends.indptr[user], self.friends.indptr[user + 1]
        result = {}
        for friend in self.friends.indices[start:end]:
            value = float(self.plays[friend, item])
            if value:
                result[int(friend)] = value
        return result


def _adjacency(friends: sp.spmatrix) -> sp.csr_matrix:
    """The graph as a CSR 0/1 matrix without self-links."""
    graph = sp.csr_matrix(friends, dtype=np.float64, copy=True)
    graph.setdiag(0.0)
    graph.eliminate_zeros()
    graph.data[:] = 1.0
    return graph
