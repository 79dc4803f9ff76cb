"""The comparison: bit agreement at the best alignment, exact, symmetric, blind to silence."""

from __future__ import annotations

import numpy as np
import pytest

from qfzz_chain.fingerprint import (
    MATCH_THRESHOLD,
    MIN_OVERLAP_ITEMS,
    SILENCE_ITEM,
    Fingerprint,
    align,
    find_near_duplicates,
    is_near_duplicate,
    similarity,
)

rng = np.random.default_rng(11)


def random_items(count: int) -> np.ndarray:
    items = rng.integers(0, 1 << 32, count, dtype=np.uint64).astype(np.uint32)
    items[items == SILENCE_ITEM] += 1
    return items


def fp(items) -> Fingerprint:
    return Fingerprint(items, len(items) * 0.1238)


def brute_force(a: np.ndarray, b: np.ndarray, min_overlap: int) -> tuple[float, int, int]:
    """Every offset, by XOR and popcount: what the FFT route must agree with exactly."""
    audible_a, audible_b = int(np.sum(a != SILENCE_ITEM)), int(np.sum(b != SILENCE_ITEM))
    needed = max(1, min(min_overlap, audible_a, audible_b))
    best = (0.0, 0, 0)
    for offset in range(-(len(b) - 1), len(a)):
        x = a[max(0, offset) : min(len(a), len(b) + offset)]
        y = b[max(0, -offset) : max(0, -offset) + len(x)]
        keep = (x != SILENCE_ITEM) & (y != SILENCE_ITEM)
        overlap = int(keep.sum())
        if overlap < needed:
            continue
        score = 1 - int(np.bitwise_count(x[keep] ^ y[keep]).sum()) / (32 * overlap)
        if score > best[0]:
            best = (score, offset, overlap)
    return best


def test_identity_is_one_at_offset_zero(track, fingerprint_of):
    fingerprint = fingerprint_of(track)
    assert align(fingerprint, fingerprint) == (align(fingerprint, fingerprint).__class__)(1.0, 0, len(fingerprint))
    assert similarity(fingerprint, fingerprint) == 1.0


def test_symmetric_with_the_offset_negated(track, edited, fingerprint_of):
    original, trimmed = fingerprint_of(track), fingerprint_of(edited("trim_start_1s"))
    forward, backward = align(original, trimmed), align(trimmed, original)
    assert forward.similarity == backward.similarity
    assert forward.offset_items == -backward.offset_items
    a, b = fp(random_items(300)), fp(random_items(200))
    assert similarity(a, b) == similarity(b, a)


def test_offset_search_finds_a_trim(track, edited, fingerprint_of):
    result = align(fingerprint_of(track), fingerprint_of(edited("trim_start_1s")))
    assert result.offset_items == 8  # 1 s is 8.08 items of 0.1238 s
    assert result.offset_seconds == pytest.approx(1.0, abs=0.1)
    assert result.similarity >= MATCH_THRESHOLD


def test_offset_search_finds_padding_and_ignores_the_silence(track, edited, fingerprint_of):
    original, padded = fingerprint_of(track), fingerprint_of(edited("pad_silence_5s_start"))
    silent = np.count_nonzero(padded.items == SILENCE_ITEM)
    assert silent > 10  # items whose whole 2.6 s window is silence; 2 s of padding would leave none
    assert padded.audible_items == len(padded) - silent
    result = align(original, padded)
    assert result.offset_items == -40  # the copy starts 5 s (40.4 items) earlier
    assert result.overlap_items <= len(original)  # the silence counted neither way
    assert result.similarity >= MATCH_THRESHOLD


@pytest.mark.parametrize("seed", range(6))
def test_fft_route_is_exact(seed):
    local = np.random.default_rng(seed)
    a = random_items(int(local.integers(5, 160)))
    b = np.concatenate([random_items(int(local.integers(0, 30))), a[int(local.integers(0, 5)) :]])
    b = b ^ (local.random(len(b)) < 0.2).astype(np.uint32) << local.integers(0, 32, len(b)).astype(np.uint32)
    b[local.random(len(b)) < 0.1] = SILENCE_ITEM
    for min_overlap in (1, 10, MIN_OVERLAP_ITEMS):
        expected = brute_force(a, b, min_overlap)
        result = align(fp(a), fp(b), min_overlap_items=min_overlap)
        assert (result.similarity, result.offset_items, result.overlap_items) == pytest.approx(expected)


def test_unrelated_items_score_about_a_half():
    score = similarity(fp(random_items(400)), fp(random_items(400)))
    assert 0.5 < score < 0.6  # the best of ~800 offsets of coin flips


def test_short_overlaps_at_the_edges_do_not_count():
    a, b = random_items(200), random_items(200)
    b[-MIN_OVERLAP_ITEMS + 5 :] = a[: MIN_OVERLAP_ITEMS - 5]  # identical, but over 35 items only
    assert similarity(fp(a), fp(b)) < 0.6
    assert similarity(fp(a), fp(b), min_overlap_items=10) == 1.0


def test_shared_silence_is_no_evidence():
    silence = np.full(300, SILENCE_ITEM, dtype=np.uint32)
    a, b = np.concatenate([silence, random_items(100)]), np.concatenate([silence, random_items(100)])
    assert similarity(fp(a), fp(b)) < 0.6
    assert align(fp(silence), fp(silence)) == align(fp(silence), fp(a))  # nothing audible: no alignment
    assert similarity(fp(silence), fp(a)) == 0.0


def test_a_short_fingerprint_can_match_inside_a_long_one():
    long = random_items(500)
    excerpt = long[200:220]  # fewer items than the minimum overlap: must lie wholly inside
    assert align(fp(long), fp(excerpt)).offset_items == 200
    assert similarity(fp(long), fp(excerpt)) == 1.0


def test_empty_fingerprints_match_nothing():
    assert align(fp([]), fp(random_items(50))).similarity == 0.0


def test_find_near_duplicates_sorted_best_first_above_the_threshold():
    query = random_items(300)
    noisy = query.copy()
    noisy[::10] ^= np.uint32(0xFFFF)  # 16 of 320 bits per 10 items: similarity 0.95
    candidates = [
        ("unrelated", fp(random_items(300))),
        ("noisy", fp(noisy)),
        ("trimmed", fp(query[25:])),
        ("also-trimmed", fp(query[40:])),
        ("padded", fp(np.concatenate([np.full(30, SILENCE_ITEM, dtype=np.uint32), query]))),
    ]
    found = find_near_duplicates(fp(query), iter(candidates))  # any iterable, consumed once
    assert [ref for ref, _ in found] == ["trimmed", "also-trimmed", "padded", "noisy"]  # ties keep their order
    assert [score for _, score in found] == [1.0, 1.0, 1.0, pytest.approx(0.95, abs=0.002)]
    assert find_near_duplicates(fp(query), candidates, threshold=0.99)[-1][0] == "padded"
    assert find_near_duplicates(fp(query), []) == []
    assert is_near_duplicate(fp(query), fp(noisy)) and not is_near_duplicate(fp(query), candidates[0][1])
