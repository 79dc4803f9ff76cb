"""The evaluation protocol: split, choose hyperparameters on validation, refit, measure on test.

For each protocol a validation fit/holdout pair is carved from that protocol's own training part
(seed + 1), in the protocol's own manner: a per-user random 80/20 for the random and temporal
protocols, and a further 10 % of the training artists losing all their listens for cold start
(validation then ranks only those, as the test does). Every model's hyperparameters are searched
on that holdout by NDCG@10 with the same procedure and the same budget
(:data:`TUNING_BUDGET` distinct settings, :func:`qfzz_chain.recommender.tuning.coordinate_search`);
the winner is refitted on the whole training part and measured once on the test part. The test
part never influences a choice, and no protocol reuses another's choices, with one exception: on
cold start, models that cannot score an artist nobody has played (every pure-CF model) keep their
random-protocol settings, since no setting changes their ranking of new artists.

Content features always hide the tags a user put on an item held out for that user, in both the
validation and the test stage (see :mod:`qfzz_chain.recommender.split`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from qfzz_chain.recommender.data import LastfmDataset
from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.metrics import evaluate_top_n, ndcg_at_k
from qfzz_chain.recommender.models import HYBRID_NAMES, MODEL_NAMES, build_model, uses_friends
from qfzz_chain.recommender.models.base import Model, top_n
from qfzz_chain.recommender.models.hybrid import SUPPORT_BUCKETS, standardized_rows, support_bucket
from qfzz_chain.recommender.split import PROTOCOLS, Split, cold_start_holdout, make_split, random_holdout, visible_tag_counts
from qfzz_chain.recommender.tuning import Dimension, TuningResult, coordinate_search, log_grid

Progress = Callable[[str], None]

# Distinct settings each model may try on validation — anchors and our hybrid alike.
TUNING_BUDGET = 32
# Models whose ranking of never-played artists depends on their settings (they read item tags).
CONTENT_MODELS = ("content", "ease_tags", *HYBRID_NAMES)


def _quiet(message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class ProtocolData:
    """One fit/holdout pair: training plays, held-out plays, and the tag counts a model may see."""

    split: Split
    content: sp.csr_matrix
    friends: sp.csr_matrix | None = None

    @property
    def users(self) -> np.ndarray:
        return self.split.test_users


def protocol_data(dataset: LastfmDataset, protocol: str, seed: int) -> ProtocolData:
    """The test-stage data of ``protocol``: what models fit on, and what they are measured on."""
    split = make_split(protocol, dataset.interactions.plays, dataset.tags, seed)
    content = visible_tag_counts(dataset.tags, dataset.interactions.n_items, hidden=split.test,
                                 before_month=split.tag_cutoff_month)
    return ProtocolData(split, content, dataset.friends)


def validation_data(dataset: LastfmDataset, outer: ProtocolData, seed: int) -> ProtocolData:
    """A holdout carved from ``outer``'s training part, for choosing hyperparameters.

    Cold start carves cold start (a further 10 % of the training artists, ranked alone); every
    other protocol a per-user random 80/20.
    """
    if outer.split.protocol == "cold-start":
        inner = cold_start_holdout(outer.split.train, seed + 1)
    else:
        inner = random_holdout(outer.split.train, seed + 1)
    hidden = outer.split.test + inner.test
    content = visible_tag_counts(dataset.tags, dataset.interactions.n_items, hidden=hidden,
                                 before_month=outer.split.tag_cutoff_month)
    return ProtocolData(Split("validation", inner.train, inner.test, outer.split.tag_cutoff_month, inner.candidates),
                        content, outer.friends)


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
    edges: tuple[str, ...] = ()
    evaluations: int = 0


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


# Search spaces: every hyperparameter on a grid wide enough that the optimum is inside it (a choice
# at an edge is flagged in the results), searched from a sensible start within TUNING_BUDGET.
_LAMBDAS = tuple(round(0.05 * k, 2) for k in range(2, 19))  # 0.10 … 0.90
SPACES: dict[str, tuple[Dimension, ...]] = {
    "popularity": (),
    "itemknn_seed": (),
    "userknn_seed": (),
    "itemknn": (Dimension("neighbours", (25, 50, 100, 200, 400, 800, 1600), 200),
                Dimension("shrink", (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0), 10.0)),
    "userknn": (Dimension("neighbours", (10, 20, 50, 100, 200, 400, 800), 50),
                Dimension("shrink", (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0), 10.0)),
    # The numpy ALS is the hybrid's serving factor model: its size is capped where one user's top-10
    # stays well under a millisecond (64 factors: 4.5 MB of item factors read per call).
    "als": (Dimension("regularization", log_grid(1.0, 5000.0), 50.0),
            Dimension("alpha", (0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 40.0), 3.0),
            Dimension("factors", (16, 32, 64), 32)),
    "ncf": (Dimension("epochs", (2, 4, 8, 16), 8),),
    "ease": (Dimension("regularization", log_grid(5.0, 20000.0, fine=True), 100.0),),
    "content": (Dimension("norm_power", (0.0, 0.25, 0.5, 0.75, 1.0), 0.5),),
    "social": (),
    "rp3beta": (Dimension("alpha", (0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5), 0.8),
                Dimension("beta", (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8), 0.3),
                Dimension("neighbours", (50, 100, 200, 500, 1000, 2000), 500)),
    # EASE + tag content, z-scored and summed: the simple hybrid anchor (its own EASE λ and content
    # setting searched with the mix weight, from the standalone models' choices).
    "ease_tags": (Dimension("tag_weight", (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0), 1.5),
                  Dimension("ease.regularization", log_grid(5.0, 20000.0, fine=True), 100.0),
                  Dimension("content.norm_power", (0.0, 0.25, 0.5, 0.75, 1.0), 1.0)),
    # The hybrid's own settings; its EASE, ALS, cold content and social parts are the standalone
    # models' validation choices (each searched with the same budget).
    "hybrid": (Dimension("lambda_dense", _LAMBDAS, 0.5),
               Dimension("als_weight", (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0), 2.0),
               Dimension("social_weight", (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0), 0.5),
               Dimension("content.norm_power", (0.25, 0.5, 0.75, 1.0), 1.0),
               Dimension("lambda_new", (0.0,) + _LAMBDAS, 0.5)),
}
SPACES["hybrid_fixed"] = SPACES["hybrid"][:-1]  # one λ for every item: lambda_new is tied to lambda_dense


@dataclass(frozen=True)
class ExtraModel:
    """A model from outside the package (e.g. a benchmark anchor) with its own search space."""

    build: Callable[[dict[str, Any]], Model]
    space: tuple[Dimension, ...]
    #: False for models that cannot score never-played items (cold start keeps their random choice)
    reads_content: bool = False


def nest(params: dict[str, Any]) -> dict[str, Any]:
    """``{"ease.regularization": 50}`` → ``{"ease": {"regularization": 50}}`` (dotted names are nested settings)."""
    result: dict[str, Any] = {}
    for key, value in params.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            result.setdefault(outer, {})[inner] = value
        else:
            result[key] = value
    return result


def flatten(params: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`nest`."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def format_params(params: dict[str, Any]) -> str:
    """``key=value`` pairs, nested settings flattened as ``outer.inner=value``."""
    return " ".join(f"{k}={v}" for k, v in sorted(flatten(params).items())) or "(defaults)"


def _builder(name: str, extra: dict[str, ExtraModel] | None, friends: sp.csr_matrix | None
             ) -> tuple[Callable[[dict[str, Any]], Model], tuple[Dimension, ...]]:
    if extra and name in extra:
        return extra[name].build, extra[name].space
    if name in SPACES:
        def build(params: dict[str, Any]) -> Model:
            settings = nest(params)
            if uses_friends(name) and friends is not None:
                settings["friends"] = friends
            return build_model(name, **settings)

        return build, SPACES[name]
    raise InvalidParameterError(f"unknown model {name!r}")


@dataclass
class Tuned:
    """A model's validation choice: the search result and the model fitted there with it."""

    result: TuningResult
    model: Model | None = field(default=None, repr=False)


def tune(name: str, validation: ProtocolData, extra: dict[str, ExtraModel] | None = None,
         progress: Progress = _quiet, budget: int = TUNING_BUDGET,
         start: dict[str, Any] | None = None) -> Tuned:
    """Search model ``name``'s space on validation within ``budget`` fits; the best fitted model too.

    ``start`` overrides where the search begins (the grid values nearest to it).
    """
    build, space = _builder(name, extra, validation.friends)
    space = _started(space, start)
    best: dict[str, Any] = {"value": -1.0, "model": None}

    def evaluate(params: dict[str, Any]) -> float:
        model = build(params)
        model.fit(validation.split.train, validation.content)
        value = mean_ndcg(score_users(model, validation), validation)
        if value > best["value"]:
            best["value"], best["model"] = value, model
        return value

    result = coordinate_search(space, evaluate, budget, progress=progress, label=name)
    return Tuned(result, best["model"])


def _started(space: tuple[Dimension, ...], start: dict[str, Any] | None) -> tuple[Dimension, ...]:
    """``space`` with each named dimension starting at the grid value closest to ``start``'s."""
    if not start:
        return space
    moved = []
    for dimension in space:
        if dimension.name in start and dimension.ordered:
            wanted = float(start[dimension.name])
            nearest = min(dimension.values, key=lambda v: (abs(np.log(max(v, 1e-12)) - np.log(max(wanted, 1e-12)))
                                                           if wanted > 0 and v > 0 else abs(v - wanted)))
            dimension = Dimension(dimension.name, dimension.values, nearest, dimension.ordered)
        moved.append(dimension)
    return tuple(moved)


class _Parts:
    """Standardised validation score matrices of the parts that mixes are made of, computed once each."""

    def __init__(self, validation: ProtocolData):
        self.validation = validation
        self.history = validation.split.train[validation.users]
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def forget(self, name: str, keep: dict[str, Any]) -> None:
        """Drop the cached matrices of ``name`` other than the one for ``keep`` (each is ≈ 130 MB)."""
        kept = format_params(keep)
        for key in [k for k in self._cache if k[0] == name and k[1] != kept]:
            del self._cache[key]

    def of(self, name: str, params: dict[str, Any], model: Model | None = None) -> np.ndarray:
        key = (name, format_params(params))
        if key not in self._cache:
            if model is None:
                settings = nest(params)
                if uses_friends(name) and self.validation.friends is not None:
                    settings["friends"] = self.validation.friends
                model = build_model(name, **settings).fit(self.validation.split.train, self.validation.content)
            scores = model.score(self.history, self.validation.users)
            self._cache[key] = standardized_rows(scores.astype(np.float32))
        return self._cache[key]


def tune_ease_tags(validation: ProtocolData, parts: _Parts, ease: dict[str, Any], content: dict[str, Any],
                   progress: Progress = _quiet, budget: int = TUNING_BUDGET) -> Tuned:
    """The EASE + tags anchor's search: its EASE λ and content setting (refitted only when they
    change) and the mix weight, from the standalone EASE and content choices."""
    space = _started(SPACES["ease_tags"], {"ease.regularization": ease["regularization"]})

    def evaluate(params: dict[str, Any]) -> float:
        mixed = parts.of("ease", {"regularization": params["ease.regularization"]}) + \
            params["tag_weight"] * parts.of("content", {"norm_power": params["content.norm_power"]})
        return mean_ndcg(mixed, validation)

    return Tuned(coordinate_search(space, evaluate, budget, progress=progress, label="ease_tags"))


def tune_hybrid(validation: ProtocolData, parts: _Parts, chosen: dict[str, dict[str, Any]], kind: str = "hybrid",
                progress: Progress = _quiet, budget: int = TUNING_BUDGET) -> Tuned:
    """The hybrid's own search (λ, λ for never-played artists, part weights, warm content) over
    its parts' validation scores; the parts are the standalone EASE, ALS, content and social
    choices in ``chosen``. Each evaluation only re-mixes cached matrices."""
    space = SPACES[kind]
    if validation.friends is None:
        space = tuple(d if d.name != "social_weight" else Dimension(d.name, (0.0,), 0.0) for d in space)
    ease = parts.of("ease", chosen["ease"])
    als = parts.of("als", chosen["als"])
    social = parts.of("social", chosen.get("social", {})) if validation.friends is not None else None
    cold = parts.of("content", chosen["content"])
    listeners = np.diff(sp.csc_matrix(validation.split.train).indptr)
    new = listeners == 0
    cf_cache: dict[tuple[float, float], np.ndarray] = {}

    def evaluate(params: dict[str, Any]) -> float:
        key = (params["als_weight"], params["social_weight"])
        if key not in cf_cache:
            cf_cache.clear()  # one at a time: the line search moves one weight at a time
            total = ease + params["als_weight"] * als
            if social is not None and params["social_weight"]:
                total = total + params["social_weight"] * social
            cf_cache[key] = standardized_rows(total)
        cf = cf_cache[key]
        content = parts.of("content", {"norm_power": params["content.norm_power"]})
        lam = np.where(new, params.get("lambda_new", params["lambda_dense"]), params["lambda_dense"]).astype(np.float32)
        mixed = lam * cf + (1.0 - lam) * np.where(new[None, :], cold, content)
        return mean_ndcg(mixed, validation)

    return Tuned(coordinate_search(space, evaluate, budget, progress=progress, label=kind))


def hybrid_settings(params: dict[str, Any], chosen: dict[str, dict[str, Any]], fixed: bool = False) -> dict[str, Any]:
    """``build_model`` settings of the hybrid from its searched ``params`` and its parts' choices."""
    settings = nest(params)
    settings.update({"ease": dict(chosen["ease"]), "als": dict(chosen["als"]), "cold_content": dict(chosen["content"])})
    if fixed:
        settings.pop("lambda_new", None)
    return settings


# Per-bucket λ (the comparison rule of docs/recommender.md, "The λ rule across seeds"): coordinate
# ascent over one λ per item-support bucket on this grid, from the best single λ.
HYBRID_BUCKET_GRID = tuple(round(0.05 * k, 2) for k in range(21))  # 0.00 … 1.00
HYBRID_ASCENT_SWEEPS = 2


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




def tune_all(models: list[str], validation: ProtocolData, extra: dict[str, ExtraModel] | None = None,
             progress: Progress = _quiet, budget: int = TUNING_BUDGET,
             inherited: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Every model's validation choice: ``{name: {"params", "validation_ndcg", "edges", "evaluations"}}``.

    The hybrids' parts (EASE, ALS, content and, with a friendship graph, social) are tuned too even
    if not asked for. ``inherited`` choices are taken as they are for models that cannot score
    never-played items when ``validation`` is a cold-start split (see the module docstring).
    """
    known = set(MODEL_NAMES) | set(extra or {})
    for name in models:
        if name not in known:
            raise InvalidParameterError(f"unknown model {name!r}; choose from {', '.join(sorted(known))}")
    wanted = list(models)
    if any(name in HYBRID_NAMES for name in models):
        parts = ["ease", "als", "content"] + (["social"] if validation.friends is not None else [])
        wanted = [n for n in parts if n not in wanted] + wanted
    if "ease_tags" in models:
        wanted = [n for n in ("ease", "content") if n not in wanted] + wanted
    cold = validation.split.candidates is not None
    parts_cache = _Parts(validation)
    chosen: dict[str, dict[str, Any]] = {}
    for name in [n for n in wanted if n not in HYBRID_NAMES and n != "ease_tags"]:
        reads_content = name in CONTENT_MODELS or (extra is not None and name in extra and extra[name].reads_content)
        if cold and not reads_content and inherited and name in inherited:
            chosen[name] = dict(inherited[name], inherited=True)
            progress(f"  {name}: keeps its random-protocol settings (it cannot rank never-played artists)")
            continue
        tuned = tune(name, validation, extra, progress, budget)
        chosen[name] = _choice(tuned.result)
        if name in ("ease", "als", "content", "social") and tuned.model is not None:
            parts_cache.of(name, tuned.result.params, tuned.model)
        del tuned
    if "ease_tags" in wanted:
        chosen["ease_tags"] = _choice(tune_ease_tags(validation, parts_cache, chosen["ease"]["params"],
                                                     chosen["content"]["params"], progress, budget).result)
        parts_cache.forget("ease", chosen["ease"]["params"])
    for kind in HYBRID_NAMES:
        if kind in wanted and cold and inherited and kind in inherited:
            # On new artists only the cold content (chosen above, on this split) orders the hybrid's
            # list: its other settings cannot change it, so they stay the random protocol's.
            chosen[kind] = dict(inherited[kind], inherited=True)
            progress(f"  {kind}: keeps its random-protocol mix; its new artists are ranked by the content choice above")
        elif kind in wanted:
            result = tune_hybrid(validation, parts_cache, {n: c["params"] for n, c in chosen.items()}, kind,
                                 progress, budget).result
            chosen[kind] = _choice(result)
    return chosen


def _choice(result: TuningResult) -> dict[str, Any]:
    return {"params": nest(result.params), "validation_ndcg": result.value, "edges": result.edges,
            "evaluations": result.evaluations}


def final_model(name: str, chosen: dict[str, dict[str, Any]], extra: dict[str, ExtraModel] | None = None,
                friends: sp.csr_matrix | None = None) -> Model:
    """The unfitted model ``name`` with its validation-chosen settings (hybrids: with their parts')."""
    if name in HYBRID_NAMES:
        settings = hybrid_settings(flatten(chosen[name]["params"]), {n: c["params"] for n, c in chosen.items()},
                                   fixed=name == "hybrid_fixed")
        if friends is not None:
            settings["friends"] = friends
        return build_model(name, **settings)
    build, _ = _builder(name, extra, friends)
    return build(flatten(chosen[name]["params"]))


def run_evaluation(
    dataset: LastfmDataset,
    models: list[str],
    protocols: list[str] | tuple[str, ...] = PROTOCOLS,
    seed: int = 42,
    extra: dict[str, ExtraModel] | None = None,
    progress: Progress = _quiet,
    budget: int = TUNING_BUDGET,
) -> tuple[dict[str, dict[str, ModelResult]], dict[str, dict[str, Any]]]:
    """Choose every model's hyperparameters on each protocol's validation split, then measure its test part.

    Returns ``(results[protocol][model], chosen[model])`` where ``chosen`` is the first protocol's
    choices (``{"params", "validation_ndcg", "edges", "evaluations"}``); each protocol's own choices
    are in its :class:`ModelResult` entries.
    """
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            raise InvalidParameterError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    order = sorted(protocols, key=lambda p: p == "cold-start")  # cold start may inherit the random choices
    results: dict[str, dict[str, ModelResult]] = {}
    by_protocol: dict[str, dict[str, dict[str, Any]]] = {}
    for protocol in order:
        data = protocol_data(dataset, protocol, seed)
        validation = validation_data(dataset, data, seed)
        progress(f"protocol {protocol} (seed {seed}): choosing settings on a validation split of its training part")
        chosen = tune_all(models, validation, extra, progress, budget, inherited=by_protocol.get("random"))
        by_protocol[protocol] = chosen
        del validation
        progress(f"protocol {protocol}: refitting on the training part and measuring the test part")
        results[protocol] = {}
        for name in models:
            model = final_model(name, chosen, extra, data.friends)
            metrics, fit_s, score_s = measure(model, data)
            progress(f"  {protocol} {name}: NDCG@10 {metrics['ndcg_at_10']:.4f} (fit {fit_s:.1f}s)")
            choice = chosen[name]
            results[protocol][name] = ModelResult(name, choice["params"], metrics, choice["validation_ndcg"], fit_s,
                                                  score_s, model, tuple(choice.get("edges", ())),
                                                  int(choice.get("evaluations", 0)))
    results = {protocol: results[protocol] for protocol in protocols}
    return results, by_protocol[protocols[0]]


def best_model(chosen: dict[str, dict[str, Any]], candidates: list[str]) -> str:
    """The model with the highest validation NDCG@10 among ``candidates`` (never the test score)."""
    return max(candidates, key=lambda name: chosen[name]["validation_ndcg"])
