"""fpcalc at the edge: every format registration accepts, and one clear error per problem."""

from __future__ import annotations

import os
import shutil
import stat
import sys

import numpy as np
import pytest
import soundfile

from qfzz_chain.audio import synthesize_distinct_track, synthesize_melody
from qfzz_chain.errors import QfzzError
from qfzz_chain.fingerprint import (
    MATCH_THRESHOLD,
    MIN_AUDIBLE_SECONDS,
    AudioTooShortError,
    FingerprintError,
    FpcalcError,
    FpcalcNotFoundError,
    UndecodableAudioError,
    compute_fingerprint,
    fingerprint_file,
    similarity,
)
from qfzz_chain.fingerprint.fpcalc import compute_fingerprints, fingerprint_files


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_every_format_fingerprints_to_the_same_music(suffix, track, audio_dir, fingerprint_of):
    samples, rate = soundfile.read(str(track))
    path = audio_dir / f"format{suffix}"
    soundfile.write(str(path), samples, rate)  # libsndfile's default encoding for the suffix
    fingerprint = fingerprint_file(path)
    assert fingerprint.duration_seconds == pytest.approx(12.0, abs=0.1)
    assert similarity(fingerprint, fingerprint_of(track)) >= MATCH_THRESHOLD


def test_fpcalc_missing_says_how_to_install(track, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH where no fpcalc lives
    with pytest.raises(FpcalcNotFoundError, match="apt-get install libchromaprint-tools") as caught:
        fingerprint_file(track)
    assert isinstance(caught.value, QfzzError)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_text("hello, not audio"), "Invalid data"),
        (lambda p: p.write_bytes(b""), "Invalid data"),
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "not a regular file"),
    ],
    ids=["text", "empty", "missing", "directory"],
)
def test_undecodable_files_are_named(make, reason, tmp_path):
    path = tmp_path / "song.wav"
    make(path)
    with pytest.raises(UndecodableAudioError, match=reason) as caught:
        fingerprint_file(path)
    assert str(path) in str(caught.value) and caught.value.path == str(path)


def test_a_truncated_file_still_fingerprints_what_it_holds(track, tmp_path):
    data = track.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) * 3 // 4])  # a download that stopped at 9 s
    fingerprint = compute_fingerprint(cut)
    assert 50 < len(fingerprint) < len(compute_fingerprint(track))


def test_the_test_suites_old_tracks_are_too_short(tmp_path):
    path = tmp_path / "fixture.wav"
    synthesize_melody(path, [220.0, 330.0, 440.0], note_seconds=0.2)  # tests/cli/conftest.py's 0.6 s
    assert len(compute_fingerprint(path)) == 0  # Chromaprint needs 2.72 s for its first item
    with pytest.raises(AudioTooShortError, match=r"0\.6 s long: a track needs at least") as caught:
        fingerprint_file(path)
    assert caught.value.minimum_seconds == MIN_AUDIBLE_SECONDS


def test_the_minimum_duration_is_where_registration_starts(tmp_path):
    enough, short = tmp_path / "enough.wav", tmp_path / "short.wav"
    synthesize_distinct_track(enough, 1, seconds=MIN_AUDIBLE_SECONDS + 0.2)
    synthesize_distinct_track(short, 1, seconds=MIN_AUDIBLE_SECONDS - 0.3)
    assert fingerprint_file(enough).duration_seconds == pytest.approx(MIN_AUDIBLE_SECONDS + 0.2, abs=0.01)
    with pytest.raises(AudioTooShortError) as caught:
        fingerprint_file(short)
    assert caught.value.duration_seconds == pytest.approx(MIN_AUDIBLE_SECONDS - 0.3, abs=0.01)


def test_silence_is_too_short_however_long(tmp_path):
    path = tmp_path / "silence.flac"
    soundfile.write(str(path), np.zeros((30 * 44_100, 2)), 44_100)
    with pytest.raises(AudioTooShortError, match="30.0 s long, but only about 0.0 s of it is sound"):
        fingerprint_file(path)


def test_many_files_keep_their_order_and_the_first_error(track, tmp_path, fingerprint_of):
    other = tmp_path / "other.wav"
    synthesize_distinct_track(other, 99)
    broken = tmp_path / "broken.mp3"
    broken.write_text("not audio")
    first, second, again = compute_fingerprints([track, other, track])
    assert first == again == fingerprint_of(track) and second != first
    with pytest.raises(UndecodableAudioError, match="broken.mp3"):
        fingerprint_files([track, broken, other])


def fake_fpcalc(folder, script: str) -> None:
    """An executable named fpcalc that behaves as a broken build would."""
    path = folder / "fpcalc"
    path.write_text(f"#!{sys.executable}\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    "script, problem",
    [
        ("print('DURATION=12')", "something other than its JSON fingerprint"),
        ("print('{\"duration\": 1.0, \"fingerprint\": [-4, 2]}')", "not a list of unsigned 32-bit items"),
        ("import sys; sys.stderr.write('ERROR: Segmentation fault\\n'); sys.exit(139)", "Segmentation fault"),
    ],
    ids=["text-output", "negative-items", "crash"],
)
def test_a_misbehaving_fpcalc_is_an_fpcalc_error(script, problem, track, tmp_path, monkeypatch):
    fake_fpcalc(tmp_path, script)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("fpcalc") == str(tmp_path / "fpcalc")
    with pytest.raises(FpcalcError, match=problem) as caught:
        fingerprint_file(track)
    assert isinstance(caught.value, FingerprintError)
