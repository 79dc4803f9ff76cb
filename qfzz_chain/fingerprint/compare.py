"""How alike two fingerprints are, wherever they line up (pure: no I/O).

The similarity of two fingerprints is the share of their bits that agree at the alignment where
the most agree: 1 minus the bit error rate over the overlapping 32-bit items, maximised over
every offset. The offset search is what makes it robust to trimming and padding: a copy with
1 s cut from the start lines up 8 items later. Items equal to Chromaprint's silence item are
left out (on either side), so the silence a padded copy adds, or two tracks' silent intros,
count neither for nor against a match (codec.SILENCE_ITEM). Offsets whose overlap is shorter than
``MIN_OVERLAP_ITEMS`` audible items (about 5 s) are not considered: over a few items two
unrelated sounds can agree by chance (docs/fingerprint.md, "How two fingerprints are compared").

All offsets are scored at once by cross-correlating the +-1 bit planes with FFTs: for items
``a`` and ``b`` the cost is 66 real float32 FFTs of length ``next_pow2(len(a) + len(b))``, about
1 to 2 ms for two 3-minute tracks on an idle core. The counts are exact (rounded to integers;
tests/fingerprint/test_fingerprint_compare.py checks them against XOR and popcount).

``MATCH_THRESHOLD`` comes from benchmarks/bench_fingerprint.py: 966 real edits (OGG and MP3
re-encodes down to 56 kbit/s, trims, silence padding, +-6 dB gain, resampling) of 69 pieces of
real music, speech and synthetic music score at least 0.914 against their original; 68,034 pairs
of distinct recordings score at most 0.764 (two arrangements of one piece; 0.825 over their whole
length) and 0.752 otherwise. The figures and the choice are in docs/fingerprint.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, TypeVar

import numpy as np

from qfzz_chain.fingerprint.codec import ITEM_SECONDS, SILENCE_ITEM, Fingerprint

MATCH_THRESHOLD = 0.85
MIN_OVERLAP_ITEMS = 40  # audible items, about 5 s of sound (40 * 0.1238 s)

TrackRef = TypeVar("TrackRef")


@dataclass(frozen=True)
class Alignment:
    """The best alignment of ``b`` against ``a``: ``b``'s item 0 lines up with ``a``'s item ``offset_items``.

    ``similarity`` is the share of agreeing bits there (0.5 is what unrelated noise would give,
    1.0 identical audible items); ``overlap_items`` how many audible item pairs it was counted over.
    A pair with no allowed offset (too little audible overlap) has similarity 0.0 and overlap 0.
    """

    similarity: float
    offset_items: int
    overlap_items: int

    @property
    def offset_seconds(self) -> float:
        """How much later ``b`` starts in ``a`` (negative: earlier), in seconds of audio."""
        return self.offset_items * ITEM_SECONDS


class _Spectra:
    """One fingerprint's bit planes and audible mask, Fourier-transformed once per FFT size.

    float32 throughout: for the longest fingerprints (4,800 items, FFT size 16,384) the counts
    come out within 0.003 of the integers that float64 gives, so rounding keeps them exact;
    it halves the cost (about 1 ms a 3-minute track).
    """

    def __init__(self, items: np.ndarray):
        audible = items != SILENCE_ITEM
        self.length = len(items)
        self.audible_count = int(np.count_nonzero(audible))
        mask = audible.astype(np.float32)
        # bit b of item i, little-endian bytes so plane b is bit b; +-1 where audible, 0 where silent
        bits = np.unpackbits(items.astype("<u4").view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")
        planes = (bits.T.astype(np.float32) * 2.0 - 1.0) * mask
        self._signal = np.vstack([planes, mask[None, :]])  # 32 masked +-1 planes, then the mask
        self._cache: dict[int, np.ndarray] = {}

    def spectrum(self, size: int) -> np.ndarray:
        if size not in self._cache:
            self._cache[size] = np.fft.rfft(self._signal, size, axis=1)
        return self._cache[size]


def align(a: Fingerprint, b: Fingerprint, *, min_overlap_items: int = MIN_OVERLAP_ITEMS) -> Alignment:
    """The offset at which ``a`` and ``b`` agree most, and how much (symmetric: swapping negates the offset)."""
    return _align(_Spectra(a.items), _Spectra(b.items), min_overlap_items)


def similarity(a: Fingerprint, b: Fingerprint, *, min_overlap_items: int = MIN_OVERLAP_ITEMS) -> float:
    """Share of agreeing bits at the best alignment, in [0, 1]; ``align(a, b).similarity``."""
    return align(a, b, min_overlap_items=min_overlap_items).similarity


def is_near_duplicate(a: Fingerprint, b: Fingerprint, *, threshold: float = MATCH_THRESHOLD) -> bool:
    """True when ``b`` is the same recording as ``a`` re-encoded, trimmed, padded or re-levelled."""
    return similarity(a, b) >= threshold


def find_near_duplicates(
    fingerprint: Fingerprint,
    candidates: Iterable[tuple[TrackRef, Fingerprint]],
    *,
    threshold: float = MATCH_THRESHOLD,
    min_overlap_items: int = MIN_OVERLAP_ITEMS,
) -> list[tuple[TrackRef, float]]:
    """The candidates at least ``threshold`` similar to ``fingerprint``, most similar first.

    ``candidates`` pairs any reference (a track id, a CID) with that track's fingerprint; ties
    keep the candidates' order. The query's transforms are computed once for all candidates,
    so each candidate costs about one FFT of its own bit planes (1 to 3 ms for a 3-minute track).
    """
    query = _Spectra(fingerprint.items)
    found: list[tuple[TrackRef, float]] = []
    for reference, candidate in candidates:
        score = _align(query, _Spectra(candidate.items), min_overlap_items).similarity
        if score >= threshold:
            found.append((reference, score))
    found.sort(key=lambda pair: -pair[1])  # stable: equal scores keep the candidates' order
    return found


def _align(a: _Spectra, b: _Spectra, min_overlap_items: int) -> Alignment:
    if a.length == 0 or b.length == 0:
        return Alignment(0.0, 0, 0)
    # A fingerprint shorter than the minimum can still match whole inside a longer one.
    needed = max(1, min(min_overlap_items, a.audible_count, b.audible_count))
    size = 1 << (a.length + b.length - 2).bit_length()  # >= len(a) + len(b) - 1: no circular wrap-around
    spectrum_a, spectrum_b = a.spectrum(size), b.spectrum(size)
    # Correlation at lag k: sum over i of a[i + k] * b[i]; planes sum to (agreeing - disagreeing) bits.
    agreement = np.fft.irfft((spectrum_a[:32] * spectrum_b[:32].conj()).sum(axis=0), size)
    overlap = np.fft.irfft(spectrum_a[32] * spectrum_b[32].conj(), size)
    lags = np.concatenate((np.arange(a.length), np.arange(-(b.length - 1), 0)))
    overlap_items = np.rint(overlap[lags % size].astype(np.float64))
    agreeing_bits = (32.0 * overlap_items + np.rint(agreement[lags % size].astype(np.float64))) / 2.0
    allowed = overlap_items >= needed
    if not allowed.any():
        return Alignment(0.0, 0, 0)
    scores = np.where(allowed, agreeing_bits / np.maximum(32.0 * overlap_items, 1.0), -1.0)
    best = int(np.argmax(scores))
    return Alignment(float(scores[best]), int(lags[best]), int(overlap_items[best]))
