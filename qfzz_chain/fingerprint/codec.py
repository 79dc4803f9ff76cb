"""A track's acoustic fingerprint and the one encoding it is stored under (pure: no I/O).

A Chromaprint fingerprint (algorithm 2, ``fpcalc``'s default) is a sequence of 32-bit *items*,
one per 1365 samples at 11,025 Hz (0.1238 s, about 8.08 items per second). Each item encodes
how the 12-band chroma changes over a window of 20 analysis frames, so the first item needs
4096 + 19 * 1365 = 30,031 samples (2.72 s) and a clip shorter than that has none; a 3-minute
track has about 1,430 items (5.7 KB as raw uint32).

Stored form, inside the track's metadata JSON (specified here, once)::

    {"algorithm": "chromaprint-2", "data": "AQAD...", "duration_seconds": 179.61}

``data`` is Chromaprint's own *compressed* fingerprint, base64url without padding: exactly the
string ``fpcalc -json`` prints, which AcoustID and every Chromaprint tool read. It is the XOR of
each item with the previous one, written as the distances between its set bits (3 bits each,
5 more bits when a distance is 7 or more), after a 4-byte header (algorithm id 1 for algorithm
2, then the item count, 24-bit big-endian). It is about 2.4 to 4 bytes per item against 5.3
for base64 of the raw array: the stored JSON object takes 1,773 bytes a minute of audio (median of
33 real pieces, 1,945 at most), 5.6 KB for a 3-minute track against 7.6 KB as raw base64
(benchmarks/bench_fingerprint.py, docs/fingerprint.md). The encoding is canonical: one
fingerprint has exactly one ``data`` string, and :func:`decode_items` refuses any other.
``duration_seconds`` is the whole file's length as ``fpcalc`` reports it (two decimals).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from qfzz_chain.fingerprint.errors import InvalidFingerprintError

ALGORITHM = "chromaprint-2"
_ALGORITHM_ID = 1  # the header byte Chromaprint writes for algorithm 2 (CHROMAPRINT_ALGORITHM_TEST2)

SAMPLE_RATE_HZ = 11_025  # Chromaprint resamples everything to this rate
ITEM_HOP_SAMPLES = 1365  # frame 4096, overlap 4096 - 4096 // 3
FIRST_ITEM_SAMPLES = 4096 + 19 * ITEM_HOP_SAMPLES  # 20 frames: 5-tap chroma filter, 16-wide classifiers
ITEM_SECONDS = ITEM_HOP_SAMPLES / SAMPLE_RATE_HZ  # 0.1238 s

# The item Chromaprint emits when none of its filters responds over a window: digital silence,
# sound below its normalisation floor, and some long steady tones. Padding longer than 2.6 s is
# made of it, and it says nothing about which recording it came from: comparisons leave it out.
SILENCE_ITEM = 627_964_279

_BITS = np.arange(32, dtype=np.uint32)


def seconds_for_items(items: int) -> float:
    """The shortest audio (seconds) from which Chromaprint computes ``items`` items."""
    if items <= 0:
        return 0.0
    return (FIRST_ITEM_SAMPLES + (items - 1) * ITEM_HOP_SAMPLES) / SAMPLE_RATE_HZ


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Chromaprint items (``uint32``, shape ``(n,)``, read-only) and the file's duration."""

    items: np.ndarray
    duration_seconds: float

    def __post_init__(self) -> None:
        items = np.array(self.items, dtype=np.uint32).reshape(-1)  # a copy: callers keep theirs
        items.setflags(write=False)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "duration_seconds", float(self.duration_seconds))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return self.duration_seconds == other.duration_seconds and np.array_equal(self.items, other.items)

    def __hash__(self) -> int:
        return hash((self.duration_seconds, self.items.tobytes()))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def audible_items(self) -> int:
        """Items other than ``SILENCE_ITEM``: the ones that tell recordings apart."""
        return int(np.count_nonzero(self.items != SILENCE_ITEM))

    @property
    def audible_seconds(self) -> float:
        return self.audible_items * ITEM_SECONDS

    def to_metadata(self) -> dict[str, Any]:
        """The JSON object stored under the track metadata's fingerprint key."""
        return {"algorithm": ALGORITHM, "data": encode_items(self.items), "duration_seconds": self.duration_seconds}

    @classmethod
    def from_metadata(cls, value: Mapping[str, Any]) -> Fingerprint:
        """Read :meth:`to_metadata`'s object back; :class:`InvalidFingerprintError` names what is wrong."""
        if not isinstance(value, Mapping):
            kind = type(value).__name__
            raise InvalidFingerprintError(f"a stored fingerprint must be a JSON object, not {kind}")
        if set(value) != {"algorithm", "data", "duration_seconds"}:
            raise InvalidFingerprintError(
                f"a stored fingerprint has the keys algorithm, data, duration_seconds; got {sorted(value)}"
            )
        if value["algorithm"] != ALGORITHM:
            algorithm = value["algorithm"]
            raise InvalidFingerprintError(f"unknown fingerprint algorithm {algorithm!r} (expected {ALGORITHM!r})")
        duration = value["duration_seconds"]
        number = isinstance(duration, (int, float)) and not isinstance(duration, bool)
        if not number or not math.isfinite(duration) or duration < 0:
            raise InvalidFingerprintError(f"fingerprint duration_seconds must be a non-negative number, not {duration!r}")
        if not isinstance(value["data"], str):
            raise InvalidFingerprintError("fingerprint data must be a base64url string")
        return cls(decode_items(value["data"]), duration)


def encode_items(items: np.ndarray) -> str:
    """Chromaprint's compressed fingerprint (base64url, no padding) of algorithm-2 items."""
    items = np.asarray(items, dtype=np.uint32).reshape(-1)
    if len(items) >= 1 << 24:
        raise ValueError(f"{len(items)} items do not fit Chromaprint's 24-bit count")
    changes = items ^ np.concatenate(([np.uint32(0)], items[:-1]))
    rows, columns = np.nonzero((changes[:, None] >> _BITS) & 1)  # row-major: by item, then bit
    positions = columns.astype(np.int64) + 1
    starts_row = np.ones(len(rows), dtype=bool)
    starts_row[1:] = rows[1:] != rows[:-1]
    gaps = positions - np.where(starts_row, 0, np.roll(positions, 1))
    # One value per set bit (the gap since the previous one), then 0 to end each item.
    values = np.zeros(len(positions) + len(items), dtype=np.int64)
    values[np.arange(len(positions)) + rows] = gaps
    normal = np.minimum(values, 7)
    exceptional = values[values >= 7] - 7
    header = bytes([_ALGORITHM_ID]) + len(items).to_bytes(3, "big")
    packed = header + _pack(normal, 3) + _pack(exceptional, 5)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_items(data: str) -> np.ndarray:
    """The items of a compressed fingerprint; refuses anything :func:`encode_items` would not write."""
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidFingerprintError(f"fingerprint data is not base64url: {exc}") from exc
    if len(raw) < 4:
        raise InvalidFingerprintError(f"fingerprint data is {len(raw)} bytes, shorter than its 4-byte header")
    if raw[0] != _ALGORITHM_ID:
        raise InvalidFingerprintError(f"fingerprint data is for Chromaprint algorithm {raw[0] + 1}, not 2")
    count = int.from_bytes(raw[1:4], "big")
    body = raw[4:]
    normal = _unpack(body, 3, len(body) * 8 // 3)
    ends = np.flatnonzero(normal == 0)
    if len(ends) < count:
        raise InvalidFingerprintError(f"fingerprint data is truncated: {len(ends)} of {count} items")
    normal = normal[: ends[count - 1] + 1] if count else normal[:0]
    normal_bytes = (3 * len(normal) + 7) // 8
    exceptional_count = int(np.count_nonzero(normal == 7))
    exceptional = _unpack(body[normal_bytes:], 5, exceptional_count)
    if len(exceptional) < exceptional_count:
        raise InvalidFingerprintError("fingerprint data is truncated in its exceptional bits")
    values = normal.copy()
    values[normal == 7] += exceptional
    row = np.cumsum(values == 0) - (values == 0)  # the item each value belongs to
    set_bits = values != 0
    position = np.cumsum(values) - np.concatenate(([0], np.cumsum(values)[np.flatnonzero(values == 0)]))[row]
    if set_bits.any() and position[set_bits].max() > 32:
        raise InvalidFingerprintError("fingerprint data sets a bit beyond the 32 of an item")
    changes = np.zeros(count, dtype=np.uint32)
    np.bitwise_or.at(changes, row[set_bits], np.left_shift(np.uint32(1), (position[set_bits] - 1).astype(np.uint32)))
    items = np.bitwise_xor.accumulate(changes) if count else changes
    if encode_items(items) != data:  # trailing bytes, unused bits set, or padding: not canonical
        raise InvalidFingerprintError("fingerprint data is not in canonical form (extra or non-zero trailing bits)")
    return items


def _pack(values: np.ndarray, width: int) -> bytes:
    """``width``-bit values, least significant bit first, into bytes (the last one zero-filled)."""
    if len(values) == 0:
        return b""
    bits = ((np.asarray(values, dtype=np.uint8)[:, None] >> np.arange(width, dtype=np.uint8)) & 1).astype(np.uint8)
    return np.packbits(bits.reshape(-1), bitorder="little").tobytes()


def _unpack(data: bytes, width: int, count: int) -> np.ndarray:
    """Up to ``count`` ``width``-bit values from ``data`` (fewer if it runs out)."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
    count = min(count, len(bits) // width)
    groups = bits[: count * width].reshape(count, width).astype(np.int64)
    return groups @ (1 << np.arange(width, dtype=np.int64))
