"""synthesize_distinct_track: the tracks a test suite registers by the dozen must not look alike."""

from __future__ import annotations

import itertools

from qfzz_chain.audio import synthesize_distinct_track, synthesize_melody
from qfzz_chain.fingerprint import MATCH_THRESHOLD, fingerprint_file, similarity
from qfzz_chain.fingerprint.compare import MIN_OVERLAP_ITEMS, _align, _Spectra
from qfzz_chain.fingerprint.fpcalc import compute_fingerprints, fingerprint_files

SEEDS = 32  # 496 pairs here; benchmarks/bench_fingerprint.py checks 200 seeds (19,900 pairs)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first, again, other = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    info = synthesize_distinct_track(first, 5)
    synthesize_distinct_track(again, 5)
    synthesize_distinct_track(other, 6)
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    assert (info.channels, info.sample_rate, info.duration_seconds) == (1, 22_050, 10.0)


def test_every_format_and_length_is_registrable(tmp_path):
    for suffix in (".wav", ".flac", ".ogg"):
        path = tmp_path / f"track{suffix}"
        synthesize_distinct_track(path, 3)
        assert fingerprint_file(path).duration_seconds == 10.0


def test_seeds_are_pairwise_distinct_to_the_fingerprint(tmp_path):
    paths = []
    for seed in range(SEEDS):
        paths.append(tmp_path / f"seed-{seed}.wav")
        synthesize_distinct_track(paths[-1], seed)
    spectra = [_Spectra(fp.items) for fp in fingerprint_files(paths)]  # each one registrable
    pairs = itertools.combinations(range(SEEDS), 2)
    scores = [_align(spectra[i], spectra[j], MIN_OVERLAP_ITEMS).similarity for i, j in pairs]
    assert max(scores) < MATCH_THRESHOLD - 0.1, max(scores)


def test_the_old_fixture_collides_once_long_enough(tmp_path):
    """Why the helper exists: tests/cli/conftest.py's melodies, lengthened, match their neighbours."""
    paths = [tmp_path / f"n{n}.wav" for n in (0, 1)]
    for n, path in enumerate(paths):
        synthesize_melody(path, [220.0 + 7 * n, 330.0 + 5 * n, 440.0 + 3 * n], note_seconds=3.0)
    first, second = compute_fingerprints(paths)  # 9 s, some of it steady tone: under the minimum
    assert similarity(first, second) >= MATCH_THRESHOLD
