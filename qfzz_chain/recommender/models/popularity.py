"""Most-popular baseline: every user gets the items with the most training listeners."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.models.base import Model, check_fitted


class Popularity(Model):
    """Scores an item by how many training users listened to it (the same for everyone)."""

    name = "popularity"

    def __init__(self) -> None:
        self.listeners: np.ndarray | None = None

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "Popularity":
        self.listeners = np.diff(sp.csc_matrix(train).indptr).astype(np.float64)
        return self

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.listeners, self)
        return np.tile(self.listeners, (history.shape[0], 1))

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        check_fitted(self.listeners, self)
        return self.listeners.copy()
