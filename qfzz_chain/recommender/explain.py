"""Explanations as data, and their canonical bytes: what the oracle hashes and anchors on-chain.

Canonical JSON: keys sorted, separators ``,`` and ``:``, ASCII only, every float rendered with
exactly six decimals (``-0.000000`` normalised to ``0.000000``), integers as integers, and NaN or
infinity refused. The same explanation therefore always yields the same bytes and the same
keccak-256, whatever the order its fields were built in.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from eth_utils import keccak

from qfzz_chain.recommender.errors import InvalidParameterError

DECIMALS = 6


@dataclass(frozen=True)
class Prototype:
    """A history item that pushed the score up (or down): "you played A"."""

    item: int
    name: str
    contribution: float


@dataclass(frozen=True)
class FeatureMatch:
    """A content feature (tag) shared by the user's profile and the item, with its weight."""

    feature: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    """Why ``item`` was recommended to ``user`` by ``model``.

    ``score`` is the model's score before any fairness boost; ``fairness_boost`` is what the
    re-ranker added; ``cf_weight`` is the hybrid's λ for this item (None for other models).
    """

    model: str
    user: int
    item: int
    score: float
    prototypes: tuple[Prototype, ...]
    matched_features: tuple[FeatureMatch, ...]
    cf_weight: float | None
    fairness_boost: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    def keccak(self) -> str:
        """0x-prefixed keccak-256 of the canonical bytes (what the oracle anchors)."""
        return explanation_hash(self.to_dict())


@dataclass(frozen=True)
class Recommendation:
    """One recommended item with its final (possibly boosted) score and its explanation."""

    rank: int
    item: int
    name: str
    score: float
    explanation: Explanation

    @property
    def explanation_hash(self) -> str:
        return self.explanation.keccak()


def _render(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameterError("explanations cannot hold NaN or infinite numbers")
        text = f"{value:.{DECIMALS}f}"
        return text[1:] if text == "-" + "0." + "0" * DECIMALS else text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=True) + ":" + _render(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_render(v) for v in value) + "]"
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _render(value.item())
    raise InvalidParameterError(f"cannot put a {type(value).__name__} in canonical JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of plain data (dicts, lists, str, int, float, bool, None)."""
    return _render(value).encode("ascii")


def explanation_hash(value: Any) -> str:
    """0x-prefixed keccak-256 of ``canonical_json(value)``."""
    return "0x" + keccak(canonical_json(value)).hex()
