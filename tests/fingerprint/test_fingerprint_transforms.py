"""Measured behaviour on real edits of a real file (the benchmark measures many more)."""

from __future__ import annotations

import pytest

from qfzz_chain.audio import synthesize_distinct_track
from qfzz_chain.fingerprint import MATCH_THRESHOLD, align, find_near_duplicates, fingerprint_file


@pytest.mark.parametrize(
    "transform", ["ogg", "mp3", "trim_start_1s", "pad_silence_2s", "gain_plus_6db", "gain_minus_6db", "resample_22050"]
)
def test_near_duplicates_are_caught(transform, track, edited, fingerprint_of):
    copy = fingerprint_file(edited(transform))  # the copy itself is registrable: long enough
    assert align(fingerprint_of(track), copy).similarity >= MATCH_THRESHOLD


def test_the_worst_trim_still_matches(track, edited, fingerprint_of):
    """1.062 s: the copy's item grid falls half an item (62 ms) between the original's."""
    result = align(fingerprint_of(track), fingerprint_of(edited("trim_start_1.06s")))
    assert result.offset_items in (8, 9)
    assert result.similarity >= MATCH_THRESHOLD


def test_registration_finds_the_original_among_others(track, edited, fingerprint_of, audio_dir):
    others = []
    for seed in (21, 22, 23):
        path = audio_dir / f"other-{seed}.wav"
        synthesize_distinct_track(path, seed, seconds=12.0)
        others.append((f"track-{seed}", fingerprint_of(path)))
    registered = [*others[:2], ("original", fingerprint_of(track)), others[2]]
    found = find_near_duplicates(fingerprint_of(edited("mp3")), registered)
    assert [ref for ref, _ in found] == ["original"]
    assert [ref for ref, _ in find_near_duplicates(others[0][1], registered)] == ["track-21"]
