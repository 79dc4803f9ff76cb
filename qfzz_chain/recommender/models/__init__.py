"""The model registry: every recommender by name, with defaults chosen on validation.

``build_model(name, **params)`` returns an unfitted model. The defaults are the settings the
benchmark's validation split picks (see docs/recommender.md), so ``qfzz recommend for`` serves a
sensible model without a tuning run.
"""

from __future__ import annotations

from typing import Any

from qfzz_chain.recommender.errors import InvalidParameterError
from qfzz_chain.recommender.models.als import ALS
from qfzz_chain.recommender.models.base import Model, top_n
from qfzz_chain.recommender.models.content import TagContent
from qfzz_chain.recommender.models.ease import EASE
from qfzz_chain.recommender.models.hybrid import Blend, DynamicHybrid
from qfzz_chain.recommender.models.knn import ItemKNN, UserKNN
from qfzz_chain.recommender.models.ncf import NCF
from qfzz_chain.recommender.models.popularity import Popularity

MODEL_NAMES = (
    "popularity", "itemknn_seed", "userknn_seed", "itemknn", "userknn",
    "als", "ncf", "ease", "content", "hybrid", "hybrid_fixed",
)
DEFAULT_MODEL = "hybrid"
DEFAULT_EASE = {"regularization": 50.0}
DEFAULT_ALS = {"factors": 32, "regularization": 50.0}
# ``bucket_lambdas``: λ per item-support bucket (SUPPORT_BUCKETS in hybrid.py), learned on validation;
# ``lambda_dense`` is the fixed λ the fixed-λ hybrid uses.
DEFAULT_HYBRID = {"als_weight": 1.0, "lambda_sparse": 0.4, "lambda_dense": 0.4, "kappa": 1.0,
                  "bucket_lambdas": (0.3, 0.55, 0.7, 0.4, 0.4, 0.4), "content": {"norm_power": 1.0}}
_KAPPA_RULE = ("lambda_sparse", "lambda_dense", "kappa")


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
        model = TagContent(**params)
    elif name in ("hybrid", "hybrid_fixed"):
        settings = {**DEFAULT_HYBRID, **params}
        if "bucket_lambdas" not in params and any(key in params for key in _KAPPA_RULE):
            settings["bucket_lambdas"] = None  # an explicit κ-rule setting asks for the κ rule
        ease = EASE(**{**DEFAULT_EASE, **settings.pop("ease", {})})
        als = ALS(**{**DEFAULT_ALS, **settings.pop("als", {})})
        content = TagContent(**settings.pop("content", {}))
        cf = Blend([ease, als], [1.0, settings.pop("als_weight")])
        if name == "hybrid_fixed":
            model = DynamicHybrid.fixed(cf, content, settings["lambda_dense"])
        else:
            model = DynamicHybrid(cf, content, **settings)
    else:
        raise InvalidParameterError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    model.name = name
    return model


__all__ = ["MODEL_NAMES", "DEFAULT_MODEL", "Model", "build_model", "top_n"]
