"""Hybrids: a blend of collaborative models, and the CF + content hybrid with a dynamic λ.

Scores of different models live on different scales. A :class:`Blend` either divides each
component by that history's largest absolute score (``scaling="max"``) or standardises it per
history over the whole catalogue (``scaling="z"``, ``z = (x − mean) / std``), then sums the
weighted components. The CF + content hybrid standardises its two halves as well. Max-scaling ties
a part's scale to one extreme item; standardising puts every part's bulk on one scale, so weights
trade like with like (docs/recommender.md, "Dynamic vs fixed λ"). Within one history the mean and
std are constants, so exact per-item contributions stay exact: the score is their sum plus a
per-item baseline (:meth:`DynamicHybrid.baseline`, the centring, plus any part owed to no history
item, such as the social part's friends).

Dynamic λ (seed section 2.3): ``score(u, i) = λ_i · z_cf(u, i) + (1 − λ_i) · z_content(u, i)`` where
λ_i depends on ``n_i``, the item's number of training listeners:

* **two levels** (the served default): one λ for every artist someone has listened to, and one,
  ``lambda_new``, for never-played artists. For those CF has no evidence at all, so the hybrid
  ranks them by content alone — by the standalone content model's own setting (``cold_content``),
  which is why it can never lose to content on new artists — and ``lambda_new`` only sets how
  strongly they compete with the rest. Learned on validation, this rule means the same thing on
  every split; per-bucket λs for 1–5, 6–20, … listeners changed from seed to seed without a
  consistent gain (docs/recommender.md, "The λ rule across seeds").
* **one λ per support bucket** — {0}, {1}, 2–5, 6–20, 21–100, > 100 (:data:`SUPPORT_BUCKETS`) —
  for comparison (``bucket_lambdas``);
* **the κ rule** ``λ_i = λ_dense − (λ_dense − λ_sparse) · κ / (n_i + κ)`` (the first, smooth form,
  used when those three parameters are given).

The fixed-λ hybrid is the special case of one λ for every item, so on validation the dynamic
rule can only tie or beat it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.base import Attribution, Model, Served, check_fitted, row
from qfzz_chain.recommender.models.content import TagContent

SCALINGS = ("max", "z")


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


def standardize_in_place(scores: np.ndarray) -> tuple[float, float]:
    """:func:`standardized_rows` of one score vector, in place (the mean summed in double precision).

    Returns the (mean, std) it used, so an explanation can undo the scaling exactly.
    """
    if len(scores) == 0:
        return 0.0, 1.0
    mean = float(np.add.reduce(scores, dtype=np.float64)) / len(scores)
    scores -= scores.dtype.type(mean)
    std = (float(np.dot(scores, scores)) / len(scores)) ** 0.5
    if std > _CONSTANT_ROW * max(1.0, abs(mean)):
        scores *= scores.dtype.type(1.0 / std)
    else:
        std = 1.0
    return mean, std


def _as_history(items: np.ndarray, plays: np.ndarray, n_items: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.asarray(plays, dtype=np.float64), np.asarray(items), [0, len(items)]), shape=(1, n_items))


def _one_target(served: Served, items: np.ndarray, item: int) -> tuple[dict[int, float], float]:
    """One target's contributions (by history item) and baseline from a :class:`Served`."""
    attribution = served.explain(np.array([item]))
    shares = {int(j): float(v) for j, v in zip(items, attribution.contributions[0]) if v != 0.0}
    return shares, float(attribution.baseline[0])


class Blend(Model):
    """Weighted sum of several models' scaled scores (``scaling``: ``"max"`` or ``"z"``, see above)."""

    name = "blend"

    def __init__(self, components: list[Model], weights: list[float], scaling: str = "max"):
        if len(components) != len(weights) or not components:
            raise InvalidParameterError("a blend needs one weight per component")
        if scaling not in SCALINGS:
            raise InvalidParameterError(f"unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS)}")
        self.components = components
        self.weights = [float(w) for w in weights]
        self.scaling = scaling
        self.explainable = all(c.explainable for c in components)
        self.fitted = False

    def params(self) -> dict[str, float | int | str]:
        result: dict[str, float | int | str] = {"scaling": self.scaling}
        for component, weight in zip(self.components, self.weights):
            result[f"{component.name}_weight"] = weight
            result.update({f"{component.name}_{k}": v for k, v in component.params().items()})
        return result

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "Blend":
        for component, weight in zip(self.components, self.weights):
            if weight:
                component.fit(train, content)
        self.fitted = True
        return self

    def _scaled(self, scores: np.ndarray) -> np.ndarray:
        return standardized_rows(scores) if self.scaling == "z" else scores / row_max_scale(scores)

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        check_fitted(self.fitted or None, self)
        total = np.zeros(history.shape, dtype=np.float64)
        for component, weight in zip(self.components, self.weights):
            if weight:
                total += weight * self._scaled(component.score(history, users))
        return total

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.fitted or None, self)
        # Components may answer in float32 (the serving path); the sum keeps their precision.
        total: np.ndarray | None = None
        parts: list[tuple[Served, float, float, float]] = []  # (served, weight, mean, scale)
        for component, weight in zip(self.components, self.weights):
            if not weight:
                continue
            served = component.serve_one(items, plays, n_items, user)
            scores = np.array(served.scores, copy=True)
            if self.scaling == "z":
                mean, scale = standardize_in_place(scores)
                scores *= scores.dtype.type(weight)
            else:
                mean, scale = 0.0, vector_max_scale(scores)
                scores *= scores.dtype.type(weight / scale)
            parts.append((served, weight, mean, scale))
            if total is None:
                total = scores
            else:
                total += scores
        if total is None:
            total = np.zeros(n_items)

        def explain(targets: np.ndarray) -> Attribution:
            targets = np.asarray(targets, dtype=np.int64)
            contributions = np.zeros((len(targets), len(items)))
            baseline = np.zeros(len(targets))
            for served, weight, mean, scale in parts:
                attribution = served.explain(targets)
                contributions += (weight / scale) * attribution.contributions
                baseline += (weight / scale) * (attribution.baseline - mean)
            return Attribution(contributions, baseline)

        return Served(total, explain)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        items, plays = row(history)
        return _one_target(self.serve_one(items, plays, history.shape[1], user), items, item)[0]

    def baseline(self, history: sp.csr_matrix, item: int, user: int | None = None) -> float:
        items, plays = row(history)
        return _one_target(self.serve_one(items, plays, history.shape[1], user), items, item)[1]


class DynamicHybrid(Model):
    """CF and tag content mixed per item by a λ that depends on the item's listener count."""

    name = "hybrid"

    def __init__(self, cf: Model, content: TagContent, lambda_sparse: float = 0.5, lambda_dense: float = 0.8,
                 kappa: float = 5.0, bucket_lambdas: tuple[float, ...] | list[float] | None = None,
                 cold_content: TagContent | None = None):
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
        self.cold_content = cold_content
        self.lambda_sparse = float(lambda_sparse)
        self.lambda_dense = float(lambda_dense)
        self.kappa = float(kappa)
        self.bucket_lambdas = None if bucket_lambdas is None else tuple(float(v) for v in bucket_lambdas)
        self._serving: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # λ, 1 − λ in float32
        self.explainable = cf.explainable
        self.lambdas: np.ndarray | None = None
        self.new_items: np.ndarray | None = None  # items without a training listener (cold content ranks them)

    @classmethod
    def fixed(cls, cf: Model, content: TagContent, lam: float,
              cold_content: TagContent | None = None) -> "DynamicHybrid":
        """The same λ for every item: the baseline the dynamic rule is compared with."""
        hybrid = cls(cf, content, lambda_sparse=lam, lambda_dense=lam, kappa=1.0, cold_content=cold_content)
        hybrid.name = "hybrid_fixed"
        return hybrid

    def params(self) -> dict[str, float | int | str]:
        if self.bucket_lambdas is not None:
            result: dict[str, float | int | str] = {f"lambda_{bucket_label(b)}": v for b, v in enumerate(self.bucket_lambdas)}
        else:
            result = {"lambda_sparse": self.lambda_sparse, "lambda_dense": self.lambda_dense}
            if self.lambda_sparse != self.lambda_dense:
                result["kappa"] = self.kappa
        result.update({f"content_{k}": v for k, v in self.content.params().items()})
        if self.cold_content is not None:
            result.update({f"cold_content_{k}": v for k, v in self.cold_content.params().items()})
        result.update({f"cf_{k}": v for k, v in self.cf.params().items()})
        return result

    def fit(self, train: sp.csr_matrix, content: sp.csr_matrix | None = None) -> "DynamicHybrid":
        self.cf.fit(train, content)
        self.content.fit(train, content)
        if self.cold_content is not None:
            self.cold_content.fit(train, content)
        listeners = np.diff(sp.csc_matrix(train).indptr)
        if self.bucket_lambdas is not None:
            self.lambdas = np.asarray(self.bucket_lambdas, dtype=np.float64)[support_bucket(listeners)]
        else:
            self.lambdas = item_lambdas(listeners, self.lambda_sparse, self.lambda_dense, self.kappa)
        self.new_items = np.flatnonzero(listeners == 0)
        return self

    def _cold(self) -> TagContent | None:
        """The content model for never-played items, when it differs from the warm one and is needed."""
        return self.cold_content if self.cold_content is not None and len(self.new_items) else None

    def parts(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Standardised (cf, content) scores, before the λ mix; never-played items take the cold content's."""
        check_fitted(self.lambdas, self)
        cf = standardized_rows(self.cf.score(history, users))
        content = standardized_rows(self.content.score(history))
        cold = self._cold()
        if cold is not None:
            content[:, self.new_items] = standardized_rows(cold.score(history))[:, self.new_items]
        return cf, content

    def mix(self, cf: np.ndarray, content: np.ndarray) -> np.ndarray:
        """``λ_i · cf + (1 − λ_i) · content`` for standardised parts."""
        return self.lambdas * cf + (1.0 - self.lambdas) * content

    def score(self, history: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        return self.mix(*self.parts(history, users))

    def score_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> np.ndarray:
        return self.serve_one(items, plays, n_items, user).scores

    def serve_one(self, items: np.ndarray, plays: np.ndarray, n_items: int, user: int | None = None) -> Served:
        check_fitted(self.lambdas, self)
        if self._serving is None or self._serving[0] is not self.lambdas:
            lambdas = self.lambdas.astype(np.float32)
            self._serving = (self.lambdas, lambdas, (1.0 - self.lambdas).astype(np.float32))
        _, cf_weight, content_weight = self._serving
        # Both halves in this thread: scoring the content half on a second one saved nothing on a
        # quiet two-core machine and cost 0.05 ms when another process kept a core busy (measured).
        cf_served = self.cf.serve_one(items, plays, n_items, user)
        content_served = self.content.serve_one(items, plays, n_items, user)
        cf = np.array(cf_served.scores, dtype=np.float32, copy=True)
        content = np.array(content_served.scores, dtype=np.float32, copy=True)
        # In place, in single precision: λ_i · (cf − μ) / σ + (1 − λ_i) · (content − μ') / σ'.
        cf_mean, cf_std = standardize_in_place(cf)
        content_mean, content_std = standardize_in_place(content)
        cold = self._cold()
        cold_served, cold_mean, cold_std = None, 0.0, 1.0
        if cold is not None:
            cold_served = cold.serve_one(items, plays, n_items, user)
            cold_scores = np.array(cold_served.scores, dtype=np.float32, copy=True)
            cold_mean, cold_std = standardize_in_place(cold_scores)
            content[self.new_items] = cold_scores[self.new_items]
        cf *= cf_weight
        content *= content_weight
        cf += content
        lambdas, new_items = self.lambdas, self.new_items

        def explain(targets: np.ndarray) -> Attribution:
            targets = np.asarray(targets, dtype=np.int64)
            lam = lambdas[targets]
            cf_part = cf_served.explain(targets)
            content_part = content_served.explain(targets)
            contributions = (lam / cf_std)[:, None] * cf_part.contributions
            baseline = lam * (cf_part.baseline - cf_mean) / cf_std
            warm_contributions = ((1.0 - lam) / content_std)[:, None] * content_part.contributions
            warm_baseline = (1.0 - lam) * (content_part.baseline - content_mean) / content_std
            if cold_served is not None:
                is_new = np.isin(targets, new_items)
                if is_new.any():
                    cold_part = cold_served.explain(targets)
                    warm_contributions[is_new] = (((1.0 - lam) / cold_std)[:, None] * cold_part.contributions)[is_new]
                    warm_baseline[is_new] = ((1.0 - lam) * (cold_part.baseline - cold_mean) / cold_std)[is_new]
            return Attribution(contributions + warm_contributions, baseline + warm_baseline)

        matched = content_served.matched
        if cold_served is not None and cold_served.matched is not None and content_served.matched is not None:
            warm_matched, cold_matched = content_served.matched, cold_served.matched

            def matched(targets: np.ndarray, top: int) -> list[dict[int, float]]:
                is_new = np.isin(targets, new_items)
                warm, frozen = warm_matched(targets, top), cold_matched(targets, top)
                return [frozen[k] if is_new[k] else warm[k] for k in range(len(targets))]

        return Served(cf, explain, matched)

    def contributions(self, history: sp.csr_matrix, item: int, user: int | None = None) -> dict[int, float]:
        """Each history item's share of the standardised score; :meth:`baseline` holds the rest."""
        items, plays = row(history)
        return _one_target(self.serve_one(items, plays, history.shape[1], user), items, item)[0]

    def baseline(self, history: sp.csr_matrix, item: int, user: int | None = None) -> float:
        """The centring ``−(λ_i · μ_cf / σ_cf + (1 − λ_i) · μ_content / σ_content)`` plus whatever the
        parts owe to no history item (the social part's friends), scaled alike."""
        items, plays = row(history)
        return _one_target(self.serve_one(items, plays, history.shape[1], user), items, item)[1]

    def content_for(self, item: int) -> TagContent:
        """The content model that scores ``item`` (the cold one for never-played items)."""
        check_fitted(self.lambdas, self)
        cold = self._cold()
        return cold if cold is not None and item in set(self.new_items.tolist()) else self.content


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


def two_level_lambdas(lambda_listened: float, lambda_new: float) -> tuple[float, ...]:
    """The two-level rule as per-bucket λs: ``lambda_new`` for never-played items, one λ for the rest."""
    return (float(lambda_new),) + (float(lambda_listened),) * (len(SUPPORT_BUCKETS) - 1)
