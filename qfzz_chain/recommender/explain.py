"""Explanations as data, and their canonical bytes: what the oracle hashes and anchors on-chain.

This module is the one place the explanation document is specified. An explanation is a JSON
object with exactly these keys (version :data:`EXPLANATION_VERSION`):

==================  =====================================================================
``version``         integer, the document format (bumped whenever a key or rule changes)
``model``           string, the serving model's registry name
``user``            integer, the listener's external id
``item``            integer, the recommended item's (artist's) external id
``score``           float, the model's score before any fairness boost
``baseline``        float, the part of ``score`` owed to no history item (the hybrid's
                    centring; 0 for a plain sum)
``prototypes``      up to three ``{"contribution", "item", "name"}``: the history items with the
                    largest positive share of ``score``, largest first (ties: lower item id)
``matched_features`` up to five ``{"feature", "weight"}``: the tags adding most to the content
                    score, largest first
``cf_weight``       float or null: the hybrid's collaborative weight λ for this item
``fairness_boost``  float, what the fairness re-ranker added to the score
==================  =====================================================================

Canonical JSON: keys sorted, separators ``,`` and ``:``, ASCII only (``json.dumps`` escapes),
every float rendered with exactly six decimals (``-0.000000`` normalised to ``0.000000``),
integers as integers, ``null``/``true``/``false`` as JSON, NaN or infinity refused. The same
explanation therefore always yields the same bytes and the same keccak-256, whatever the order
its fields were built in. :func:`canonical_json` is the rule for any plain data;
:meth:`Explanation.canonical_bytes` is a direct rendering of the fixed layout above (the serving
path renders ten of these per request; a test holds the two equal byte for byte).

Version history: 1 — the first layout (no ``version``, no ``baseline``); 2 — ``version`` and
``baseline`` added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

# tiny-keccak: one Rust call, ~5x less than eth_hash's backend (23 against 124 µs for a 600-byte
# document, measured on a busy machine); the same digest (tested against eth_utils.keccak).
from tiny_keccak import keccak256 as _keccak

from qfzz_chain.recommender.errors import InvalidParameterError

EXPLANATION_VERSION = 2
DECIMALS = 6
_NEGATIVE_ZERO = "-0." + "0" * DECIMALS


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
    """Why ``item`` was recommended to ``user`` by ``model`` (the fields are the document's keys).

    ``score`` is the model's score before any fairness boost; ``fairness_boost`` is what the
    re-ranker added; ``cf_weight`` is the hybrid's λ for this item (None for other models);
    ``baseline`` is what the score owes to no history item.
    """

    model: str
    user: int
    item: int
    score: float
    prototypes: tuple[Prototype, ...]
    matched_features: tuple[FeatureMatch, ...]
    cf_weight: float | None
    fairness_boost: float
    baseline: float = 0.0
    version: int = EXPLANATION_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline, "cf_weight": self.cf_weight, "fairness_boost": self.fairness_boost,
            "item": self.item,
            "matched_features": [{"feature": m.feature, "weight": m.weight} for m in self.matched_features],
            "model": self.model,
            "prototypes": [{"contribution": p.contribution, "item": p.item, "name": p.name} for p in self.prototypes],
            "score": self.score, "user": self.user, "version": self.version,
        }

    def canonical_bytes(self) -> bytes:
        """:func:`canonical_json` of :meth:`to_dict`, rendered directly (keys already in sorted order)."""
        return self._canonical

    def canonical_text(self, with_user: bool = True) -> str:
        """The canonical JSON as text; ``with_user=False`` leaves the ``user`` key out (what the
        oracle's explanation documents embed: the listener stays behind their commitment)."""
        if with_user:
            return self._canonical.decode("ascii")
        return self._text(with_user=False)

    @cached_property
    def _canonical(self) -> bytes:
        # Rendered once: the serving path asks for the bytes and then for their hash.
        return self._text(with_user=True).encode("ascii")

    def _text(self, with_user: bool) -> str:
        prototypes = ",".join(f'{{"contribution":{_float(p.contribution)},"item":{_int(p.item)},"name":{_string(p.name)}}}'
                              for p in self.prototypes)
        features = ",".join(f'{{"feature":{_string(m.feature)},"weight":{_float(m.weight)}}}'
                            for m in self.matched_features)
        cf_weight = "null" if self.cf_weight is None else _float(self.cf_weight)
        user_key = f'"user":{_int(self.user)},' if with_user else ""
        return (f'{{"baseline":{_float(self.baseline)},"cf_weight":{cf_weight},'
                f'"fairness_boost":{_float(self.fairness_boost)},"item":{_int(self.item)},'
                f'"matched_features":[{features}],"model":{_string(self.model)},"prototypes":[{prototypes}],'
                f'"score":{_float(self.score)},{user_key}"version":{_int(self.version)}}}')

    def keccak(self) -> str:
        """0x-prefixed keccak-256 of the canonical bytes (what the oracle anchors)."""
        return "0x" + _keccak(self._canonical).hex()


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


def _float(value: float) -> str:
    # "%.6f" renders NaN and the infinities as "nan", "inf", "-inf" (the only renderings ending in
    # a letter); one formatting call and a character test instead of float() and isfinite().
    try:
        text = _FIXED % value
    except TypeError:
        raise InvalidParameterError(f"expected a number in an explanation, got {type(value).__name__}") from None
    if text[-1] in "nf":
        raise InvalidParameterError("explanations cannot hold NaN or infinite numbers")
    return text[1:] if text == _NEGATIVE_ZERO else text


_FIXED = f"%.{DECIMALS}f"


def _int(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        if hasattr(value, "item") and callable(value.item):  # numpy integers
            return _int(value.item())
        raise InvalidParameterError(f"expected an integer in an explanation, got {type(value).__name__}")
    return str(value)


def _string(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidParameterError(f"expected a string in an explanation, got {type(value).__name__}")
    return _quoted(value)


@lru_cache(maxsize=1 << 16)
def _quoted(value: str) -> str:
    # Cached: the same artist and tag names recur in every listener's explanations, and a
    # non-ASCII name costs a json.dumps call (3 µs) each time otherwise.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # what json.dumps gives for printable ASCII without quotes or backslashes
    return json.dumps(value, ensure_ascii=True)


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(_string(k) + ":" + _render(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_render(v) for v in value) + "]"
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _render(value.item())
    raise InvalidParameterError(f"cannot put a {type(value).__name__} in canonical JSON")


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of plain data (dicts, lists, str, int, float, bool, None)."""
    return _render(value).encode("ascii")


def canonical_json_text(value: Any) -> str:
    """:func:`canonical_json` as text, for documents that splice pre-rendered parts together."""
    return _render(value)


def explanation_hash(value: Any) -> str:
    """0x-prefixed keccak-256 of ``canonical_json(value)``."""
    return "0x" + _keccak(canonical_json(value)).hex()
