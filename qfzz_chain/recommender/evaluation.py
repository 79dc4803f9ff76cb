"""The evaluation protocol: split, choose hyperparameters on validation, refit, measure on test.

For each protocol the training part is split once more (per user 80/20, seed + 1) into a
validation fit/holdout pair. Every model's small grid is scored on that validation holdout by
NDCG@10; the winner is refitted on the whole training part and measured once on the test part.
The test part never influences a choice. Cold-start and temporal runs reuse the hyperparameters
chosen on the random protocol's validation split (one configuration serves every situation) and
refit on their own training data.

Content features always hide the tags a user put on an item held out for that user, in both the
validation and the test stage (see :mod:`qfzz_chain.recommender.split`).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.data import LastfmDataset
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.metrics import evaluate_top_n, ndcg_at_k
from qfzz_chain.recommender.models import MODEL_NAMES, build_model
from qfzz_chain.recommender.models.base import Model, top_n
from qfzz_chain.recommender.models.hybrid import SUPPORT_BUCKETS, row_max_scale, standardized_rows, support_bucket
from qfzz_chain.recommender.split import PROTOCOLS, Split, make_split, random_holdout, visible_tag_counts

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class ProtocolData:
    """One fit/holdout pair: training plays, held-out plays, and the tag counts a model may see."""

    split: Split
    content: sp.csr_matrix

    @property
    def users(self) -> np.ndarray:
        return self.split.test_users


def protocol_data(dataset: LastfmDataset, protocol: str, seed: int) -> ProtocolData:
    """The test-stage data of ``protocol``: what models fit on, and what they are measured on."""
    split = make_split(protocol, dataset.interactions.plays, dataset.tags, seed)
    content = visible_tag_counts(dataset.tags, dataset.interactions.n_items, hidden=split.test,
                                 before_month=split.tag_cutoff_month)
    return ProtocolData(split, content)


def validation_data(dataset: LastfmDataset, outer: ProtocolData, seed: int) -> ProtocolData:
    """A random 80/20 holdout carved from ``outer``'s training part, for choosing hyperparameters."""
    inner = random_holdout(outer.split.train, seed + 1)
    hidden = outer.split.test + inner.test
    content = visible_tag_counts(dataset.tags, dataset.interactions.n_items, hidden=hidden,
                                 before_month=outer.split.tag_cutoff_month)
    return ProtocolData(Split("validation", inner.train, inner.test, outer.split.tag_cutoff_month), content)


def rank(scores: np.ndarray, data: ProtocolData, k: int = 10) -> np.ndarray:
    """Top-``k`` item indices per evaluated user: known items excluded, only the split's candidates."""
    if data.split.candidates is not None:
        scores = np.where(data.split.candidates[None, :], scores, -np.inf)
    return top_n(scores, data.split.train[data.users], k)


def user_ndcgs(scores: np.ndarray, data: ProtocolData, k: int = 10) -> np.ndarray:
    """NDCG@k of ``scores`` (rows = ``data.users``) on the holdout, one value per user."""
    ranked = rank(scores, data, k)
    test = data.split.test
    return np.array([ndcg_at_k(row.tolist(), set(test.indices[test.indptr[u]:test.indptr[u + 1]].tolist()), k)
                     for row, u in zip(ranked, data.users)])


def mean_ndcg(scores: np.ndarray, data: ProtocolData, k: int = 10) -> float:
    """Mean NDCG@k of ``scores`` (rows = ``data.users``) on the holdout: the selection criterion."""
    return float(np.mean(user_ndcgs(scores, data, k)))


@dataclass
class ModelResult:
    """What one model achieved on one protocol, with the hyperparameters validation chose."""

    name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    validation_ndcg: float
    fit_seconds: float
    score_seconds: float
    model: Model | None = field(default=None, repr=False)


@dataclass
class Candidate:
    """A hyperparameter setting tried on validation and its NDCG@10 there."""

    params: dict[str, Any]
    ndcg: float


def score_users(model: Model, data: ProtocolData) -> np.ndarray:
    users = data.users
    return model.score(data.split.train[users], users)


def measure(model: Model, data: ProtocolData, k: int = 10) -> tuple[dict[str, float], float, float]:
    """Fit ``model`` on ``data``'s training part; (test metrics, fit seconds, scoring seconds)."""
    started = time.perf_counter()
    model.fit(data.split.train, data.content)
    fitted = time.perf_counter()
    scores = score_users(model, data)
    scored = time.perf_counter()
    ranked = rank(scores, data, k)
    metrics = evaluate_top_n(ranked, data.users, data.split.test, data.split.train, k)
    return metrics, fitted - started, scored - fitted


# Hyperparameter grids: deliberately small, so a full benchmark runs in minutes on two cores.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "itemknn_seed": [{"neighbours": 200, "shrink": 10.0}],
    "userknn_seed": [{"neighbours": 50, "shrink": 10.0}],
    "itemknn": [{"neighbours": n, "shrink": 10.0} for n in (50, 200)],
    "userknn": [{"neighbours": n, "shrink": 10.0} for n in (50, 150)],
    "als": [{"factors": 32, "regularization": r} for r in (10.0, 50.0, 150.0)],
    "ncf": [{"epochs": e} for e in (4, 8)],
    "ease": [{"regularization": r} for r in (50.0, 150.0, 400.0)],
    "content": [{"norm_power": p} for p in (0.5, 1.0)],
}
# The hybrid's CF part is EASE plus ``als_weight`` × ALS (each row-scaled); its content part is the
# tag model with either length damping (what complements CF best need not be what wins alone).
HYBRID_ALS_WEIGHTS = (0.5, 1.0)
HYBRID_CONTENT_NORM_POWER = (0.5, 1.0)
# Fixed λ grid: as fine as the bucket grid, so the baseline is not beaten by resolution alone.
HYBRID_LAMBDA_FIXED = tuple(round(0.3 + 0.05 * k, 2) for k in range(13))  # 0.30 … 0.90, the bucket grid's step
# Dynamic λ: coordinate ascent over one λ per item-support bucket, from the best fixed point.
HYBRID_BUCKET_GRID = tuple(round(0.05 * k, 2) for k in range(21))  # 0.00 … 1.00
HYBRID_ASCENT_SWEEPS = 2
HYBRID_MODELS = ("hybrid", "hybrid_fixed")


def tune(name: str, validation: ProtocolData, extra: dict[str, "ExtraModel"] | None = None,
         progress: Progress = _quiet) -> tuple[list[Candidate], Model]:
    """Try every grid point of model ``name`` on validation; (all candidates, best fitted model)."""
    builder, grid = _builder_and_grid(name, extra)
    candidates, best, best_model = [], -1.0, None
    for params in grid:
        model = builder(params)
        model.fit(validation.split.train, validation.content)
        ndcg = mean_ndcg(score_users(model, validation), validation)
        progress(f"  validation {name} {format_params(params)}: NDCG@10 {ndcg:.4f}")
        candidates.append(Candidate(params, ndcg))
        if ndcg > best:
            best, best_model = ndcg, model
    return candidates, best_model


@dataclass(frozen=True)
class ExtraModel:
    """A model from outside the package (e.g. a benchmark anchor) with its own grid."""

    build: Callable[[dict[str, Any]], Model]
    grid: list[dict[str, Any]]


def _builder_and_grid(name: str, extra: dict[str, ExtraModel] | None
                      ) -> tuple[Callable[[dict[str, Any]], Model], list[dict[str, Any]]]:
    if extra and name in extra:
        return extra[name].build, extra[name].grid
    if name in GRIDS:
        return (lambda params: build_model(name, **params)), GRIDS[name]
    raise InvalidParameterError(f"unknown model {name!r}")


def format_params(params: dict[str, Any]) -> str:
    """``key=value`` pairs, nested settings flattened as ``outer.inner=value``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return " ".join(f"{k}={v}" for k, v in sorted(flat.items())) or "(defaults)"


def hybrid_grid() -> list[dict[str, Any]]:
    """Every fixed-λ (content, als_weight, λ) point tried; the dynamic rule starts from the best one."""
    grid: list[dict[str, Any]] = []
    for power, weight, lam in itertools.product(HYBRID_CONTENT_NORM_POWER, HYBRID_ALS_WEIGHTS, HYBRID_LAMBDA_FIXED):
        grid.append({"content": {"norm_power": power}, "als_weight": weight, "lambda_sparse": lam, "lambda_dense": lam,
                     "kappa": 1.0})
    return grid


class BucketMixNDCG:
    """Mean NDCG@k of ``λ_b(i) · cf + (1 − λ_b(i)) · content`` for any per-bucket λ in [low, high], fast.

    An item's mixed score is linear in its own λ, so over λ ∈ [low, high] it stays between its
    scores at the two ends. An item whose best possible score is below the k-th largest of the
    items' worst possible scores can never reach a user's top-k, whatever the λ vector: it is
    dropped once (exact pruning). Each evaluation then only re-mixes the few candidates left per
    user. Ties between exactly equal scores are not broken by item index here; the chosen point
    is re-scored with :func:`mean_ndcg`.
    """

    def __init__(self, cf: np.ndarray, content: np.ndarray, buckets: np.ndarray, data: ProtocolData,
                 low: float, high: float, k: int = 10):
        self.k = k
        admissible = np.ones(cf.shape, dtype=bool)
        known = data.split.train[data.users].tocoo()
        admissible[known.row, known.col] = False
        if data.split.candidates is not None:
            admissible[:, ~data.split.candidates] = False
        at_low = low * cf + (1.0 - low) * content
        at_high = high * cf + (1.0 - high) * content
        worst = np.where(admissible, np.minimum(at_low, at_high), -np.inf)
        best = np.where(admissible, np.maximum(at_low, at_high), -np.inf)
        del at_low, at_high
        threshold = np.partition(worst, cf.shape[1] - k, axis=1)[:, cf.shape[1] - k]
        keep = admissible & (best >= threshold[:, None])
        del worst, best, admissible
        rows, columns = np.nonzero(keep)
        counts = np.bincount(rows, minlength=cf.shape[0])
        width = max(int(counts.max()) if len(counts) else 0, k)
        slots = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        shape = (cf.shape[0], width)
        self.cf = np.zeros(shape, dtype=np.float32)
        self.content = np.zeros(shape, dtype=np.float32)
        self.bucket = np.zeros(shape, dtype=np.int64)
        self.valid = np.zeros(shape, dtype=bool)
        self.relevant = np.zeros(shape, dtype=bool)
        self.cf[rows, slots] = cf[rows, columns]
        self.content[rows, slots] = content[rows, columns]
        self.bucket[rows, slots] = buckets[columns]
        self.valid[rows, slots] = True
        test = data.split.test[data.users]
        self.relevant[rows, slots] = np.asarray(test[rows, columns]).ravel() > 0
        self.candidates_per_user = float(np.mean(counts)) if len(counts) else 0.0
        self.discount = 1.0 / np.log2(np.arange(2, k + 2))
        held_out = np.minimum(np.diff(test.indptr), k)
        self.ideal = np.cumsum(self.discount)[np.maximum(held_out, 1) - 1]

    def __call__(self, lambdas: list[float] | np.ndarray) -> float:
        lam = np.asarray(lambdas, dtype=np.float32)[self.bucket]
        scores = np.where(self.valid, lam * self.cf + (1.0 - lam) * self.content, -np.inf)
        top = np.argpartition(-scores, self.k - 1, axis=1)[:, : self.k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        hits = np.take_along_axis(self.relevant, top, axis=1).astype(np.float64)
        return float(np.mean(hits @ self.discount / self.ideal))


def tune_hybrid(validation: ProtocolData, ease: Model, als: Model, progress: Progress = _quiet) -> dict[str, Candidate]:
    """Best fixed-λ hybrid on validation, then the dynamic λ learned per item-support bucket from it.

    The component scores are computed once; each grid point only re-mixes them. The fixed-λ
    grid picks the content setting, the ALS weight and λ. The dynamic hybrid keeps those and
    learns one λ per bucket of training listeners (:data:`SUPPORT_BUCKETS`) by coordinate
    ascent on validation NDCG@10: bucket by bucket, every λ of :data:`HYBRID_BUCKET_GRID` is
    tried and the best kept (a change must strictly improve), for up to
    :data:`HYBRID_ASCENT_SWEEPS` sweeps. It starts at the fixed point, so it can only tie or win
    on validation; the test part never enters.
    """
    users = validation.users
    history = validation.split.train[users]
    ease_part = ease.score(history, users)
    ease_part /= row_max_scale(ease_part)
    als_part = als.score(history, users)
    als_part /= row_max_scale(als_part)
    content_parts = {}
    for power in HYBRID_CONTENT_NORM_POWER:
        content = build_model("content", norm_power=power).fit(validation.split.train, validation.content)
        part = content.score(history)
        content_parts[power] = standardized_rows(part)
    best: dict[str, Candidate] = {}
    cf_weight, cf = None, None
    for params in hybrid_grid():
        if params["als_weight"] != cf_weight:  # the grid runs through λ with the weight held
            cf_weight, cf = params["als_weight"], standardized_rows(ease_part + params["als_weight"] * als_part)
        lam = params["lambda_dense"]
        ndcg = mean_ndcg(lam * cf + (1.0 - lam) * content_parts[params["content"]["norm_power"]], validation)
        progress(f"  validation hybrid_fixed {format_params(params)}: NDCG@10 {ndcg:.4f}")
        if "hybrid_fixed" not in best or ndcg > best["hybrid_fixed"].ndcg:
            best["hybrid_fixed"] = Candidate(params, ndcg)
    fixed = best["hybrid_fixed"].params
    cf = standardized_rows(ease_part + fixed["als_weight"] * als_part).astype(np.float32)
    content_part = content_parts[fixed["content"]["norm_power"]].astype(np.float32)
    del ease_part, als_part, content_parts
    buckets = support_bucket(np.diff(sp.csc_matrix(validation.split.train).indptr))
    objective = BucketMixNDCG(cf, content_part, buckets, validation, min(HYBRID_BUCKET_GRID), max(HYBRID_BUCKET_GRID))
    progress(f"  validation hybrid ascent: {objective.candidates_per_user:.0f} candidate items per user after pruning")
    lambdas = learn_bucket_lambdas(objective, len(SUPPORT_BUCKETS), set(np.unique(buckets).tolist()),
                                   fixed["lambda_dense"], progress)
    dynamic = {"content": dict(fixed["content"]), "als_weight": fixed["als_weight"], "bucket_lambdas": lambdas}
    chosen = np.asarray(lambdas, dtype=np.float64)[buckets]
    ndcg = mean_ndcg(chosen * cf.astype(np.float64) + (1.0 - chosen) * content_part.astype(np.float64), validation)
    progress(f"  validation hybrid {format_params(dynamic)}: NDCG@10 {ndcg:.4f}")
    best["hybrid"] = Candidate(dynamic, ndcg)
    return best


def learn_bucket_lambdas(objective: Callable[[list[float]], float], n_buckets: int, present: set[int], start: float,
                         progress: Progress = _quiet) -> list[float]:
    """Coordinate ascent of one λ per bucket on ``objective(λ per bucket)``, from ``start`` everywhere.

    Buckets not in ``present`` (no item there) keep ``start``. A change must strictly improve.
    """
    lambdas = [float(start)] * n_buckets
    value = objective
    current = value(lambdas)
    for sweep in range(HYBRID_ASCENT_SWEEPS):
        changed = False
        for bucket in range(n_buckets):
            if bucket not in present:
                continue
            for lam in HYBRID_BUCKET_GRID:
                if lam == lambdas[bucket]:
                    continue
                trial = list(lambdas)
                trial[bucket] = lam
                score = value(trial)
                if score > current + 1e-9:
                    current, lambdas, changed = score, trial, True
            progress(f"  validation hybrid ascent sweep {sweep + 1} bucket {bucket}: λ {lambdas} NDCG@10 {current:.4f}")
        if not changed:
            break
    return lambdas


def build_hybrid(params: dict[str, Any], ease_params: dict[str, Any], als_params: dict[str, Any],
                 fixed: bool = False) -> Model:
    """An unfitted hybrid over EASE + ALS and tag content with the given settings."""
    return build_model("hybrid_fixed" if fixed else "hybrid", **params, ease=ease_params, als=als_params)


def run_evaluation(
    dataset: LastfmDataset,
    models: list[str],
    protocols: list[str] | tuple[str, ...] = PROTOCOLS,
    seed: int = 42,
    extra: dict[str, ExtraModel] | None = None,
    progress: Progress = _quiet,
) -> tuple[dict[str, dict[str, ModelResult]], dict[str, dict[str, Any]]]:
    """Choose every model's hyperparameters on validation, then measure each protocol's test part.

    Returns ``(results[protocol][model], chosen[model] = {"params", "validation_ndcg"})``.
    """
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise InvalidParameterError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    known = set(MODEL_NAMES) | set(extra or {})
    for name in models:
        if name not in known:
            raise InvalidParameterError(f"unknown model {name!r}; choose from {', '.join(sorted(known))}")

    progress(f"choosing hyperparameters on a validation split of the random protocol (seed {seed})")
    random_data = protocol_data(dataset, "random", seed)
    validation = validation_data(dataset, random_data, seed)
    wants_hybrid = any(name in HYBRID_MODELS for name in models)
    to_tune = [n for n in models if n not in HYBRID_MODELS]
    if wants_hybrid:
        to_tune += [n for n in ("ease", "als") if n not in to_tune]
    chosen: dict[str, dict[str, Any]] = {}
    fitted: dict[str, Model] = {}
    for name in to_tune:
        candidates, fitted[name] = tune(name, validation, extra, progress)
        best = max(candidates, key=lambda c: c.ndcg)
        chosen[name] = {"params": best.params, "validation_ndcg": best.ndcg}
    if wants_hybrid:
        for kind, candidate in tune_hybrid(validation, fitted["ease"], fitted["als"], progress).items():
            chosen[kind] = {"params": candidate.params, "validation_ndcg": candidate.ndcg}

    results: dict[str, dict[str, ModelResult]] = {}
    for protocol in protocols:
        progress(f"protocol {protocol}: refitting on the training part and measuring the test part")
        data = random_data if protocol == "random" else protocol_data(dataset, protocol, seed)
        results[protocol] = {}
        for name in models:
            model = _final_model(name, chosen, extra)
            metrics, fit_s, score_s = measure(model, data)
            progress(f"  {protocol} {name}: NDCG@10 {metrics['ndcg_at_10']:.4f} (fit {fit_s:.1f}s)")
            results[protocol][name] = ModelResult(name, chosen[name]["params"], metrics, chosen[name]["validation_ndcg"],
                                                  fit_s, score_s, model)
    return results, chosen


def _final_model(name: str, chosen: dict[str, dict[str, Any]], extra: dict[str, ExtraModel] | None) -> Model:
    if name in HYBRID_MODELS:
        return build_hybrid(chosen[name]["params"], chosen["ease"]["params"], chosen["als"]["params"],
                            fixed=name == "hybrid_fixed")
    builder, _ = _builder_and_grid(name, extra)
    return builder(chosen[name]["params"])


def best_model(chosen: dict[str, dict[str, Any]], candidates: list[str]) -> str:
    """The model with the highest validation NDCG@10 among ``candidates`` (never the test score)."""
    return max(candidates, key=lambda name: chosen[name]["validation_ndcg"])
