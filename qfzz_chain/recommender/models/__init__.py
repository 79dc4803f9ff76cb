"""The model registry: every recommender by name, with defaults chosen on validation.

``build_model(name, **params)`` returns an unfitted model. The defaults are the settings the
benchmark's validation split picks (seed 42, see docs/recommender.md), so ``qfzz recommend for``
serves a sensible model without a tuning run. Models that use the friendship graph (``social``
and the hybrid's social part) take it as ``friends=`` (users × users); without it the hybrid simply
has no social part.
"""

from __future__ import annotations

from typing import Any

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.als import ALS
from qfzz_chain.recommender.models.base import Model, top_n
from qfzz_chain.recommender.models.content import TagContent
from qfzz_chain.recommender.models.ease import EASE
from qfzz_chain.recommender.models.hybrid import Blend, DynamicHybrid, two_level_lambdas
from qfzz_chain.recommender.models.knn import ItemKNN, UserKNN
from qfzz_chain.recommender.models.ncf import NCF
from qfzz_chain.recommender.models.popularity import Popularity
from qfzz_chain.recommender.models.rp3beta import RP3beta
from qfzz_chain.recommender.models.social import Social
from qfzz_chain.recommender.names import DEFAULT_MODEL, HYBRID_NAMES, MODEL_NAMES

DEFAULT_EASE = {"regularization": 200.0}
DEFAULT_ALS = {"factors": 64, "regularization": 50.0, "alpha": 3.0}
DEFAULT_CONTENT = {"norm_power": 0.5}
DEFAULT_RP3BETA = {"alpha": 0.8, "beta": 0.3, "neighbours": 500}
DEFAULT_EASE_TAGS = {"tag_weight": 2.0, "ease": {"regularization": 100.0}, "content": {"norm_power": 1.0}}
# The hybrid: CF = z(EASE) + als_weight · z(ALS) + social_weight · z(social), then
# λ · z(CF) + (1 − λ) · z(content) with λ = ``lambda_dense`` for artists with listeners and
# ``lambda_new`` for never-played ones, which ``cold_content`` (the standalone content model's
# setting) ranks. Explicit ``bucket_lambdas`` or κ-rule settings replace the two-level rule.
DEFAULT_HYBRID = {"als_weight": 6.0, "social_weight": 1.0, "lambda_dense": 0.5, "lambda_new": 0.2,
                  "content": {"norm_power": 1.0}, "cold_content": dict(DEFAULT_CONTENT)}
_KAPPA_RULE = ("lambda_sparse", "kappa")


def uses_friends(name: str) -> bool:
    """Whether model ``name`` takes the friendship graph (``friends=``) when there is one."""
    return name in ("social", *HYBRID_NAMES)


def build_model(name: str, **params: Any) -> Model:
    """An unfitted model called ``name`` (one of :data:`MODEL_NAMES`) with ``params`` over its defaults."""
    if name == "popularity":
        model: Model = Popularity(**params)
    elif name == "itemknn_seed":
        model = ItemKNN(normalize=True, **params)
    elif name == "userknn_seed":
        model = UserKNN(normalize=True, **params)
    elif name == "itemknn":
        model = ItemKNN(**params)
    elif name == "userknn":
        model = UserKNN(**params)
    elif name == "als":
        model = ALS(**{**DEFAULT_ALS, **params})
    elif name == "ncf":
        model = NCF(**params)
    elif name == "ease":
        model = EASE(**{**DEFAULT_EASE, **params})
    elif name == "content":
        model = TagContent(**{**DEFAULT_CONTENT, **params})
    elif name == "social":
        model = Social(**params)
    elif name == "rp3beta":
        model = RP3beta(**{**DEFAULT_RP3BETA, **params})
    elif name == "ease_tags":
        model = _ease_tags(params)
    elif name in HYBRID_NAMES:
        model = _hybrid(name, params)
    else:
        raise InvalidParameterError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    model.name = name
    return model


def _ease_tags(params: dict[str, Any]) -> Model:
    """The simple hybrid anchor: z(EASE) + tag_weight · z(tag content), nothing learned per item."""
    settings = {**DEFAULT_EASE_TAGS, **params}
    ease = EASE(**{**DEFAULT_EASE, **settings.pop("ease")})
    content = TagContent(**{**DEFAULT_CONTENT, **settings.pop("content")})
    weight = settings.pop("tag_weight")
    if settings:
        raise InvalidParameterError(f"unknown ease_tags settings: {', '.join(sorted(settings))}")
    return Blend([ease, content], [1.0, weight], scaling="z")


def _hybrid(name: str, params: dict[str, Any]) -> DynamicHybrid:
    settings = {**DEFAULT_HYBRID, **params}
    explicit_rule = "bucket_lambdas" in params or any(key in params for key in _KAPPA_RULE)
    lambda_new = settings.pop("lambda_new")
    if not explicit_rule:
        settings["bucket_lambdas"] = two_level_lambdas(settings["lambda_dense"], lambda_new)
    friends = settings.pop("friends", None)
    ease = EASE(**{**DEFAULT_EASE, **settings.pop("ease", {})})
    als = ALS(**{**DEFAULT_ALS, **settings.pop("als", {})})
    content = TagContent(**settings.pop("content", {}))
    cold_settings = settings.pop("cold_content", None)
    cold = TagContent(**cold_settings) if cold_settings is not None else None
    # The social part is always there, so a hybrid built without the graph has the same settings
    # and layout as one built with it (the oracle rebuilds a published model from its name alone
    # and restores the graph with the other arrays); without friends it scores zeros, which
    # standardise to zeros and add nothing.
    components: list[Model] = [ease, als, Social(friends)]
    weights = [1.0, settings.pop("als_weight"), settings.pop("social_weight")]
    cf = Blend(components, weights, scaling="z")
    if name == "hybrid_fixed":
        return DynamicHybrid.fixed(cf, content, settings["lambda_dense"], cold_content=cold)
    return DynamicHybrid(cf, content, cold_content=cold, **settings)


__all__ = ["MODEL_NAMES", "DEFAULT_MODEL", "Model", "build_model", "top_n", "uses_friends"]
