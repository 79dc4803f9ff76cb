"""Profile summaries: what a node reveals of its listening history, in at most M bytes.

A summary is the node's top-L artists with an 8-bit log-quantised play count each
(``code = round(log1p(plays) / QUANTUM)``, 1…255). QUANTUM = 0.05 covers ``log1p`` up to 12.75,
i.e. 344,000 plays, above the largest Last.fm 2K count (352,698 clips to it), and the rounding
error (≤ 0.025 in log1p, ≤ 2.5 % in plays) is far below the spread between one user's artists.
The quantisation is absolute, so no per-message scale travels and two summaries compare directly.

Byte layout (specified here once; ``wire.py`` carries it as a CBOR byte string)::

    width:u8   (2 or 4: bytes per artist id)
    ids:       L × width bytes, big-endian, strictly ascending
    codes:     L × u8, code of ids[k]

so a summary costs ``1 + (width + 1)·L`` bytes: a Last.fm user's ≈ 40 training artists take 121
bytes at width 2 (every Last.fm artist id is below 65,536). Fixed-width ids decode with one
``np.frombuffer`` (≈ 1 µs) where delta varints would need a Python loop (≈ 15 µs for 40 ids) and
save nothing here: 40 ids spread over 18,745 leave deltas of ≈ 470, two varint bytes each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qfzz_chain.p2p.errors import InvalidConfigError, MalformedMessageError

QUANTUM = 0.05
MAX_CODE = 255
# The smallest summary carries one artist: width byte + 2 id bytes + 1 code byte.
MIN_SUMMARY_BYTES = 4


def quantize(plays: np.ndarray) -> np.ndarray:
    """Play counts (float or int, > 0) to 8-bit log codes, 1…255."""
    plays = np.asarray(plays, dtype=np.float64)
    return np.clip(np.rint(np.log1p(np.maximum(plays, 0.0)) / QUANTUM), 1, MAX_CODE).astype(np.uint8)


def dequantize(codes: np.ndarray) -> np.ndarray:
    """8-bit codes back to ``log1p(plays)`` (float32): what similarity and scoring use."""
    return np.asarray(codes, dtype=np.float32) * np.float32(QUANTUM)


@dataclass(frozen=True)
class Profile:
    """A set of artists with one code each: ``items`` int64 ascending and unique, ``codes`` uint8."""

    items: np.ndarray
    codes: np.ndarray

    def __post_init__(self) -> None:
        if self.items.shape != self.codes.shape or self.items.ndim != 1:
            raise InvalidConfigError("a profile needs one code per item")

    @classmethod
    def from_plays(cls, items: np.ndarray, plays: np.ndarray) -> "Profile":
        """From external artist ids and play counts (duplicates summed, zero plays dropped)."""
        items = np.asarray(items, dtype=np.int64)
        plays = np.asarray(plays, dtype=np.float64)
        if items.shape != plays.shape:
            raise InvalidConfigError("one play count per artist id is needed")
        if np.any(items < 0) or np.any(items >= 2**32):
            raise InvalidConfigError("artist ids must lie in 0 … 2^32 − 1")
        unique, inverse = np.unique(items, return_inverse=True)
        summed = np.bincount(inverse, weights=plays, minlength=len(unique))
        keep = summed > 0
        return cls(unique[keep], quantize(summed[keep]))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def weights(self) -> np.ndarray:
        return dequantize(self.codes)

    def top(self, count: int) -> "Profile":
        """The ``count`` highest-coded artists (ties: lower id first), ids ascending again."""
        if count >= len(self.items):
            return self
        order = np.lexsort((self.items, -self.codes.astype(np.int64)))[:count]
        order.sort()
        return Profile(self.items[order], self.codes[order])

    def without(self, items: np.ndarray) -> "Profile":
        keep = ~np.isin(self.items, items)
        return Profile(self.items[keep], self.codes[keep])


def id_width(profile: Profile) -> int:
    return 2 if len(profile.items) == 0 or int(profile.items[-1]) < 2**16 else 4


def encoded_size(entries: int, width: int = 2) -> int:
    """Bytes a summary of ``entries`` artists takes at id ``width``."""
    return 1 + (width + 1) * entries


def capacity(budget: int, width: int = 2) -> int:
    """How many artists fit in ``budget`` bytes (0 when not even one does)."""
    return max(0, (budget - 1) // (width + 1))


def encode_summary(profile: Profile, budget: int) -> bytes:
    """The profile's top artists that fit in ``budget`` bytes, laid out as the module docstring says."""
    width = id_width(profile)
    top = profile.top(capacity(budget, width))
    dtype = ">u2" if width == 2 else ">u4"
    return bytes([width]) + top.items.astype(dtype).tobytes() + top.codes.astype(np.uint8).tobytes()


def decode_summary(blob: bytes) -> Profile:
    """Parse a summary; :class:`MalformedMessageError` on a bad width, length, order or code 0."""
    if len(blob) < 1:
        raise MalformedMessageError("empty summary")
    width = blob[0]
    if width not in (2, 4):
        raise MalformedMessageError(f"summary id width {width} is not 2 or 4")
    body = len(blob) - 1
    if body % (width + 1):
        raise MalformedMessageError(f"summary body of {body} bytes is not a whole number of entries")
    entries = body // (width + 1)
    items = np.frombuffer(blob, dtype=">u2" if width == 2 else ">u4", count=entries, offset=1).astype(np.int64)
    codes = np.frombuffer(blob, dtype=np.uint8, count=entries, offset=1 + width * entries)
    if entries > 1 and (items[1:] <= items[:-1]).any():
        raise MalformedMessageError("summary artist ids are not strictly ascending")
    if entries and not codes.all():
        raise MalformedMessageError("summary code 0 (codes are 1 … 255)")
    return Profile(items, codes.copy())
