"""Acoustic fingerprints: so a re-encoded, trimmed, padded or re-levelled copy of a registered
track is recognised as that track (issue 8, "One audio, one owner").

Three steps, the first at the edge and the others pure::

    fingerprint = fingerprint_file("song.flac")          # runs Chromaprint's fpcalc
    metadata["fingerprint"] = fingerprint.to_metadata()  # about 5.6 KB for 3 minutes
    matches = find_near_duplicates(fingerprint, ((track_id, Fingerprint.from_metadata(m)) for ...))

How the comparison works and how its threshold was measured: docs/fingerprint.md.
"""

from qfzz_chain.fingerprint.codec import ALGORITHM, SILENCE_ITEM, Fingerprint, decode_items, encode_items
from qfzz_chain.fingerprint.compare import (
    MATCH_THRESHOLD,
    MIN_OVERLAP_ITEMS,
    Alignment,
    align,
    find_near_duplicates,
    is_near_duplicate,
    similarity,
)
from qfzz_chain.fingerprint.errors import (
    AudioTooShortError,
    FingerprintError,
    FpcalcError,
    FpcalcNotFoundError,
    InvalidFingerprintError,
    UndecodableAudioError,
)
from qfzz_chain.fingerprint.fpcalc import (
    MAX_SECONDS,
    MIN_AUDIBLE_ITEMS,
    MIN_AUDIBLE_SECONDS,
    check_fingerprintable,
    compute_fingerprint,
    fingerprint_file,
)

__all__ = [
    "ALGORITHM",
    "MATCH_THRESHOLD",
    "MAX_SECONDS",
    "MIN_AUDIBLE_ITEMS",
    "MIN_AUDIBLE_SECONDS",
    "MIN_OVERLAP_ITEMS",
    "SILENCE_ITEM",
    "Alignment",
    "AudioTooShortError",
    "Fingerprint",
    "FingerprintError",
    "FpcalcError",
    "FpcalcNotFoundError",
    "InvalidFingerprintError",
    "UndecodableAudioError",
    "align",
    "check_fingerprintable",
    "compute_fingerprint",
    "decode_items",
    "encode_items",
    "find_near_duplicates",
    "fingerprint_file",
    "is_near_duplicate",
    "similarity",
]
