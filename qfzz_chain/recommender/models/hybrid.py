"""Hybrids: a blend of collaborative models, and the CF + content hybrid with a dynamic λ.

Scores of different models live on different scales. Inside a blend, each component's scores
are divided by that history's largest absolute score (per user, per component). The CF +
content hybrid standardises its two parts instead: per user, over the whole catalogue,
``z = (x − mean) / std``. Max-scaling ties each part's scale to one extreme item; standardising
puts both parts' bulk on one scale, so λ trades like with like. Measured on validation and test
it is what lets a per-item λ help at all (docs/recommender.md, "Dynamic vs fixed λ"). Within one
history the mean and std are constants, so exact per-item contributions stay exact: the score is
their sum plus a per-item baseline (:meth:`DynamicHybrid.baseline`, the centring).

Dynamic λ (seed section 2.3): ``score(u, i) = λ_i · z_cf(u, i) + (1 − λ_i) · z_content(u, i)`` where
λ_i depends on ``n_i``, the item's number of training listeners. Two forms:

* **learned per support bucket** (the default): ``λ_i = λ_b(n_i)`` with one λ per log-spaced
  bucket of ``n_i`` — {0}, {1}, 2–5, 6–20, 21–100, > 100 (:data:`SUPPORT_BUCKETS`) — each chosen by
  coordinate ascent on validation NDCG@10 starting from the best fixed λ (see
  ``evaluation.tune_hybrid``). For never-played items (no CF signal) λ_0 sets how strongly pure
  content competes with everything else; for the other buckets it trades CF against content
  where CF evidence is thin or rich. No shape is imposed: the data says where content helps.
* **the κ rule** ``λ_i = λ_dense − (λ_dense − λ_sparse) · κ / (n_i + κ)`` (the earlier, smooth form,
  kept for comparison and used when those three parameters are given).

The fixed-λ hybrid is the special case of one λ for every item, so on validation the dynamic
rule can only tie or beat it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Model, check_fitted
from qfzz_chain.recommender.models.content import TagContent


def row_max_scale(scores: np.ndarray) -> np.ndarray:
    """Each row's largest absolute score (1 where a row is all zeros), as a column vector."""
    scale = np.max(np.abs(scores), axis=1, keepdims=True)
    return np.where(scale > 0, scale, 1.0)


def vector_max_scale(scores: np.ndarray) -> float:
    """:func:`row_max_scale` of a single score vector (two reductions, no temporary)."""
    scale = max(float(scores.max()), -float(scores.min())) if len(scores) else 0.0
    return scale if scale > 0 else 1.0


# A spread below this fraction of the row's magnitude is rounding noise (float32 included): the row is constant.
_CONSTANT_ROW = 1e-6


def row_standardization(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's mean and standard deviation (1 where a row is constant), as column vectors."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return mean, np.where(std > _CONSTANT_ROW * np.maximum(1.0, np.abs(mean)), std, 1.0)


def standardized_rows(scores: np.ndarray) -> np.ndarray:
    """``(x − row mean) / row std``: every row on one scale (see the module docstring)."""
    mean, std = row_standardization(scores)
    return (scores - mean) / std


def standardize_in_place(scores: np.ndarray) -> None:
    """:func:`standardized_rows` of one score vector, in place (the mean summed in double precision)."""
    if len(scores) == 0:
        return
    mean = float(np.add.reduce(scores, dtype=np.float64)) / len(scores)
    scores -= scores.dtype.type(mean)
    std = (float(np.dot(scores, scores)) / len(scores)) ** 0.5
    if std > _CONSTANT_ROW * max(1.0, abs(mean)):
        scores *= scores.dtype.type(1.0 / std)


class Blend(Model):
    """Weighted sum of several models' row-scaled scores."""

    name = "blend"

    def __init__(self, components: list[Model], weights: list[float]):
        if len(components) != len(weights) or not components:
            raise InvalidParameterError("a blend needs one weight per component")
        self.components = components
        self.weights = [float(w) for w in weights]
        self.explainable = all(c.explainable for c in components)
        self.fitted = False

    def params(self) -> dict[str, float | int | str]:
        result: dict[str, float | int | str] = {}
        for component, weight in zip(self.components, self.weights):
            result[f"{component.name}_weight"] = weight
            result.update({f"{component.name}_{k}": v for k, v in component.params().items()})
        return result

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "Blend":
        for component in self.components:
            component.fit(train, content)
        self.fitted = True
        return self

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.fitted or None, self)
        total = np.zeros(history.shape, dtype=np.float64)
        for component, weight in zip(self.components, self.weights):
            if weight:
                scores = component.score(history, users)
                total += weight * scores / row_max_scale(scores)
        return total

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        check_fitted(self.fitted or None, self)
        # Components may answer in float32 (the serving path); the sum keeps their precision.
        total: np.ndarray | None = None
        for component, weight in zip(self.components, self.weights):
            if weight:
                scores = component.score_one(items, plays, n_items, user)
                scores *= scores.dtype.type(weight / vector_max_scale(scores))
                if total is None:
                    total = scores
                else:
                    total += scores
        return total if total is not None else np.zeros(n_items)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        users = None if user is None else np.array([user])
        result: dict[int, float] = {}
        for component, weight in zip(self.components, self.weights):
            if not weight:
                continue
            scale = float(row_max_scale(component.score(history[0], users))[0, 0])
            for j, value in component.contributions(history, item, user).items():
                result[j] = result.get(j, 0.0) + weight * value / scale
        return result


class DynamicHybrid(Model):
    """CF and tag content mixed per item by a λ that grows with the item's listener count."""

    name = "hybrid"

    def __init__(self, cf: Model, content: TagContent, lambda_sparse: float = 0.5, lambda_dense: float = 0.8,
                 kappa: float = 5.0, bucket_lambdas: tuple[float, ...] | list[float] | None = None):
        if kappa <= 0:
            raise InvalidParameterError(f"the hybrid needs κ > 0, got {kappa}")
        for value in (lambda_sparse, lambda_dense, *(bucket_lambdas or ())):
            if not 0.0 <= value <= 1.0:
                raise InvalidParameterError(f"λ must be in [0, 1], got {value}")
        if bucket_lambdas is not None and len(bucket_lambdas) != len(SUPPORT_BUCKETS):
            raise InvalidParameterError(f"bucket_lambdas needs one λ per support bucket ({len(SUPPORT_BUCKETS)}), "
                                        f"got {len(bucket_lambdas)}")
        self.cf = cf
        self.content = content
        self.lambda_sparse = float(lambda_sparse)
        self.lambda_dense = float(lambda_dense)
        self.kappa = float(kappa)
        self.bucket_lambdas = None if bucket_lambdas is None else tuple(float(v) for v in bucket_lambdas)
        self._serving: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # λ, 1 − λ in float32
        self.explainable = cf.explainable
        self.lambdas: np.ndarray | None = None

    @classmethod
    def fixed(cls, cf: Model, content: TagContent, lam: float) -> "DynamicHybrid":
        """The same λ for every item: the baseline the dynamic rule is compared with."""
        hybrid = cls(cf, content, lambda_sparse=lam, lambda_dense=lam, kappa=1.0)
        hybrid.name = "hybrid_fixed"
        return hybrid

    def params(self) -> dict[str, float | int | str]:
        if self.bucket_lambdas is not None:
            result: dict[str, float | int | str] = {f"lambda_{bucket_label(b)}": v for b, v in enumerate(self.bucket_lambdas)}
        else:
            result = {"lambda_sparse": self.lambda_sparse, "lambda_dense": self.lambda_dense}
            if self.lambda_sparse != self.lambda_dense:
                result["kappa"] = self.kappa
        result.update({f"cf_{k}": v for k, v in self.cf.params().items()})
        return result

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "DynamicHybrid":
        self.cf.fit(train, content)
        self.content.fit(train, content)
        listeners = np.diff(sp.csc_matrix(train).indptr)
        if self.bucket_lambdas is not None:
            self.lambdas = np.asarray(self.bucket_lambdas, dtype=np.float64)[support_bucket(listeners)]
        else:
            self.lambdas = item_lambdas(listeners, self.lambda_sparse, self.lambda_dense, self.kappa)
        return self

    def parts(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Standardised (cf, content) scores, before the λ mix."""
        check_fitted(self.lambdas, self)
        return standardized_rows(self.cf.score(history, users)), standardized_rows(self.content.score(history))

    def mix(self, cf: np.ndarray, content: np.ndarray) -> np.ndarray:
        """``λ_i · cf + (1 − λ_i) · content`` for standardised parts."""
        return self.lambdas * cf + (1.0 - self.lambdas) * content

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        return self.mix(*self.parts(history, users))

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        check_fitted(self.lambdas, self)
        if self._serving is None or self._serving[0] is not self.lambdas:
            lambdas = self.lambdas.astype(np.float32)
            self._serving = (self.lambdas, lambdas, (1.0 - self.lambdas).astype(np.float32))
        _, cf_weight, content_weight = self._serving
        # Both halves in this thread: scoring the content half on a second one saved nothing on a
        # quiet two-core machine and cost 0.05 ms when another process kept a core busy (measured).
        cf = self.cf.score_one(items, plays, n_items, user).astype(np.float32, copy=False)
        content = self.content.score_one(items, plays, n_items, user).astype(np.float32, copy=False)
        # In place, in single precision: λ_i · (cf − μ) / σ + (1 − λ_i) · (content − μ') / σ'.
        for part, weight in ((cf, cf_weight), (content, content_weight)):
            standardize_in_place(part)
            part *= weight
        cf += content
        return cf

    def _standardization(self, history: sp.csr_matrix, user: int | None) -> tuple[float, float, float, float]:
        """(μ_cf, σ_cf, μ_content, σ_content) of one history's parts."""
        users = None if user is None else np.array([user])
        cf_mean, cf_std = row_standardization(self.cf.score(history[0], users))
        content_mean, content_std = row_standardization(self.content.score(history[0]))
        return float(cf_mean[0, 0]), float(cf_std[0, 0]), float(content_mean[0, 0]), float(content_std[0, 0])

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        """Each history item's share of the standardised score; :meth:`baseline` holds the rest."""
        check_fitted(self.lambdas, self)
        _, cf_std, _, content_std = self._standardization(history, user)
        lam = float(self.lambdas[item])
        result: dict[int, float] = {}
        for j, value in self.cf.contributions(history, item, user).items():
            result[j] = result.get(j, 0.0) + lam * value / cf_std
        for j, value in self.content.contributions(history, item, user).items():
            result[j] = result.get(j, 0.0) + (1.0 - lam) * value / content_std
        return result

    def baseline(self, history: sp.csr_matrix, item: int, user: int | None = None) -> float:
        """The centring: ``−(λ_i · μ_cf / σ_cf + (1 − λ_i) · μ_content / σ_content)``, owed to no one item."""
        check_fitted(self.lambdas, self)
        cf_mean, cf_std, content_mean, content_std = self._standardization(history, user)
        lam = float(self.lambdas[item])
        return -(lam * cf_mean / cf_std + (1.0 - lam) * content_mean / content_std)


def item_lambdas(listeners: np.ndarray, lambda_sparse: float, lambda_dense: float, kappa: float) -> np.ndarray:
    """Per-item CF weight: ``λ_dense − (λ_dense − λ_sparse) · κ / (n + κ)``."""
    listeners = np.asarray(listeners, dtype=np.float64)
    return lambda_dense - (lambda_dense - lambda_sparse) * kappa / (listeners + kappa)


# Item-support buckets of the learned dynamic λ: training listeners n_i in {0}, {1}, [2, 5], [6, 20],
# [21, 100], [101, ∞) — log-spaced, with the never-played items (content only) a bucket of their own.
SUPPORT_BUCKETS = (0, 1, 2, 6, 21, 101)


def support_bucket(listeners: np.ndarray) -> np.ndarray:
    """Index into :data:`SUPPORT_BUCKETS` of every item's training listener count."""
    return np.searchsorted(SUPPORT_BUCKETS, np.asarray(listeners), side="right") - 1


def bucket_label(bucket: int) -> str:
    """``n0``, ``n1``, ``n2_5``, ``n6_20``, ``n21_100``, ``n101_plus``: names for params and reports."""
    low = SUPPORT_BUCKETS[bucket]
    if bucket + 1 == len(SUPPORT_BUCKETS):
        return f"n{low}_plus"
    high = SUPPORT_BUCKETS[bucket + 1] - 1
    return f"n{low}" if high == low else f"n{low}_{high}"
