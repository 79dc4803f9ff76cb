"""Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky 2008).

Preference ``p_ui = 1`` for every listen, confidence ``c_ui = 1 + α · log1p(plays)``. Fitting
runs warm-started conjugate-gradient half-steps; scoring solves each user's weighted ridge
regression exactly, in batches of small ``f × f`` systems. A user's vector is always recomputed
from their history (the user half-step), so scoring a history *is* the fold-in: a new listen moves
the user's vector immediately and the next full fit starts from the same equations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.models.base import Attribution, Model, Served, check_fitted, row

# Solve at most this many (row, listen) outer products at once: bounds memory to a few tens of MB.
_ENTRIES_PER_BATCH = 8192


def solve_factors(confidence: sp.csr_matrix, other: np.ndarray, regularization: float,
                  gram: np.ndarray | None = None) -> np.ndarray:
    """Exact least-squares factors for every row of ``confidence`` (stored values are ``c − 1``).

    Row u solves ``(YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p_u`` with ``Y = other``; pass
    ``gram = YᵀY + λI`` when it is already known (it does not depend on the row).
    """
    n_rows = confidence.shape[0]
    factors = other.shape[1]
    if gram is None:
        gram = other.T @ other + regularization * np.eye(factors)
    result = np.zeros((n_rows, factors))
    indptr = confidence.indptr
    counts = np.diff(indptr)
    batch_starts = np.searchsorted(indptr, np.arange(0, confidence.nnz, _ENTRIES_PER_BATCH), side="right") - 1
    boundaries = np.unique(np.append(batch_starts, n_rows))
    for first, last in zip(boundaries[:-1], boundaries[1:]):
        lo, hi = indptr[first], indptr[last]
        if hi == lo:
            continue
        vectors = other[confidence.indices[lo:hi]]
        extra = confidence.data[lo:hi]
        occupied = counts[first:last] > 0
        starts = indptr[first:last][occupied] - lo
        outer = (vectors * extra[:, None])[:, :, None] * vectors[:, None, :]
        lhs = np.add.reduceat(outer, starts, axis=0) + gram
        rhs = np.add.reduceat(vectors * (1.0 + extra)[:, None], starts, axis=0)
        result[np.arange(first, last)[occupied]] = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]
    return result


def conjugate_gradient_factors(
    confidence: sp.csr_matrix, other: np.ndarray, regularization: float, start: np.ndarray, steps: int
) -> np.ndarray:
    """A few conjugate-gradient steps on every row's system at once, warm-started from ``start``.

    Same equations as :func:`solve_factors`; used while fitting, where each half-step only has to
    improve on the previous one (Takács et al. 2011), and it never forms an ``f × f`` matrix per row.
    """
    gram = other.T @ other + regularization * np.eye(other.shape[1])
    rows = np.repeat(np.arange(confidence.shape[0]), np.diff(confidence.indptr))
    columns = confidence.indices
    extra = confidence.data

    def apply(vectors: np.ndarray) -> np.ndarray:
        projections = np.einsum("ij,ij->i", vectors[rows], other[columns]) * extra
        scatter = sp.csr_matrix((projections, columns, confidence.indptr), shape=confidence.shape)
        return vectors @ gram + scatter @ other

    target = sp.csr_matrix((1.0 + extra, columns, confidence.indptr), shape=confidence.shape) @ other
    solution = start.copy()
    residual = target - apply(solution)
    direction = residual.copy()
    residual_norm = np.einsum("ij,ij->i", residual, residual)
    for _ in range(steps):
        product = apply(direction)
        curvature = np.einsum("ij,ij->i", direction, product)
        step = np.divide(residual_norm, curvature, out=np.zeros_like(curvature), where=curvature > 0)
        solution += step[:, None] * direction
        residual -= step[:, None] * product
        new_norm = np.einsum("ij,ij->i", residual, residual)
        ratio = np.divide(new_norm, residual_norm, out=np.zeros_like(new_norm), where=residual_norm > 0)
        direction = residual + ratio[:, None] * direction
        residual_norm = new_norm
    return solution


class ALS(Model):
    """Weighted matrix factorisation with exact alternating solves."""

    name = "als"
    explainable = True

    def __init__(self, factors: int = 32, regularization: float = 10.0, alpha: float = 3.0, iterations: int = 15,
                 cg_steps: int = 3, seed: int = 42):
        self.factors = int(factors)
        self.regularization = float(regularization)
        self.alpha = float(alpha)
        self.iterations = int(iterations)
        self.cg_steps = int(cg_steps)
        self.seed = int(seed)
        self.item_factors: np.ndarray | None = None
        self.item_gram: np.ndarray | None = None  # YᵀY + λI, shared by every user's solve
        self.serving_factors: np.ndarray | None = None  # Y in float32, C order: the one-user product

    def params(self) -> dict[str, float | int | str]:
        return {"factors": self.factors, "regularization": self.regularization, "alpha": self.alpha,
                "iterations": self.iterations, "cg_steps": self.cg_steps, "seed": self.seed}

    def _confidence(self, plays: sp.csr_matrix) -> sp.csr_matrix:
        extra = sp.csr_matrix(plays, dtype=np.float64, copy=True)
        extra.data = self.alpha * np.log1p(extra.data)
        return extra

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "ALS":
        rng = np.random.default_rng(self.seed)
        by_user = self._confidence(train)
        by_item = sp.csr_matrix(by_user.T)
        users = rng.normal(scale=0.01, size=(train.shape[0], self.factors))
        items = rng.normal(scale=0.01, size=(train.shape[1], self.factors))
        # The products here are tall-and-thin (n × 32); threaded BLAS only adds contention.
        from threadpoolctl import threadpool_limits  # here: serving does not need it

        with threadpool_limits(limits=1, user_api="blas"):
            for _ in range(self.iterations):
                users = conjugate_gradient_factors(by_user, items, self.regularization, users, self.cg_steps)
                items = conjugate_gradient_factors(by_item, users, self.regularization, items, self.cg_steps)
        # An item nobody played has the exact solution 0 (its system has no data term); a few CG
        # steps from the random start only approach it, and that residue would order new items
        # by noise. Zero, they all tie, and a hybrid ranks them by content alone.
        items[np.diff(by_item.indptr) == 0] = 0.0
        self.item_factors = items
        self.item_gram = items.T @ items + self.regularization * np.eye(self.factors)
        self.serving_factors = np.ascontiguousarray(items, dtype=np.float32)
        return self

    def user_factors(self, history: sp.csr_matrix) -> np.ndarray:
        """The user half-step for each history row: the fold-in of that history."""
        check_fitted(self.item_factors, self)
        return solve_factors(self._confidence(history), self.item_factors, self.regularization, self.item_gram)

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        return self.user_factors(history) @ self.item_factors.T

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        """One user's half-step solved directly (the same equations as :func:`solve_factors`)."""
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.item_factors, self)
        items = np.asarray(items)
        if len(items) == 0:
            return Served(np.zeros(n_items, dtype=np.float32),
                          lambda targets: Attribution(np.zeros((len(targets), 0)), np.zeros(len(targets))))
        extra = self.alpha * np.log1p(np.asarray(plays, dtype=np.float64))
        vectors = self.item_factors[items]
        lhs = self.item_gram + (vectors * extra[:, None]).T @ vectors
        factors = np.linalg.solve(lhs, vectors.T @ (1.0 + extra))
        # Half the memory traffic of the float64 product; equal to float32 rounding.
        scores = self.serving_factors @ factors.astype(np.float32)

        def explain(targets: np.ndarray) -> Attribution:
            # score_t = q_tᵀ A⁻¹ Σ_j c_j q_j: history item j's share is c_j · q_tᵀ A⁻¹ q_j (Hu et al. §5).
            targets = np.asarray(targets, dtype=np.int64)
            weights = np.linalg.solve(lhs, self.item_factors[targets].T)  # A⁻¹ q_t, one column per target
            contributions = (vectors @ weights).T * (1.0 + extra)[None, :]
            return Attribution(contributions, np.zeros(len(targets)))

        return Served(scores, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        check_fitted(self.item_factors, self)
        items, plays = row(sp.csr_matrix(history[0]))
        extra = self.alpha * np.log1p(plays)
        vectors = self.item_factors[items]
        lhs = self.item_gram + (vectors * extra[:, None]).T @ vectors
        # score_i = q_iᵀ A⁻¹ Σ_j c_j q_j, so history item j contributes c_j · q_iᵀ A⁻¹ q_j (Hu et al. §5).
        weights = np.linalg.solve(lhs, self.item_factors[item])
        parts = (1.0 + extra) * (vectors @ weights)
        return {int(j): float(v) for j, v in zip(items, parts)}
