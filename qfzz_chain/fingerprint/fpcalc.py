"""Fingerprinting an audio file with Chromaprint's ``fpcalc`` (the subprocess edge).

``fpcalc -raw -json`` decodes with FFmpeg (WAV, FLAC, OGG, MP3 and whatever else FFmpeg reads),
resamples to 11,025 Hz mono and prints the raw items: 0.08 s of CPU for a 10 s file, most of it
starting FFmpeg, and 0.34 s for a 3-minute one (docs/fingerprint.md, "Timings").

Exit status: 0 is success, 2 a fatal error, 3 a non-fatal decoding error after which the
fingerprint was still computed. Debian bookworm's fpcalc 1.5.1 with FFmpeg 5 returns 3 with
"Error decoding audio frame (End of file)" for most files (chromaprint issue #122; fixed
upstream, Debian #1062530), so 3 with a fingerprint on stdout is accepted.

What registration does with short audio: it refuses it. A fingerprint needs at least
``MIN_AUDIBLE_ITEMS`` items that are not silence: the ``MIN_OVERLAP_ITEMS`` (40) over which the
comparison trusts a match, which takes ``MIN_AUDIBLE_SECONDS`` (7.6 s) of sound. Then every
registrable copy of a registered track (trimmed, padded, re-encoded) overlaps it by at least
that much and is found; below it a near-duplicate could neither be found nor ruled out, and "one
audio, one owner" would have a hole. :class:`AudioTooShortError` carries the figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from qfzz_chain.fingerprint.codec import Fingerprint, seconds_for_items
from qfzz_chain.fingerprint.compare import MIN_OVERLAP_ITEMS
from qfzz_chain.fingerprint.errors import (
    AudioTooShortError,
    FpcalcError,
    FpcalcNotFoundError,
    UndecodableAudioError,
)

MIN_AUDIBLE_ITEMS = MIN_OVERLAP_ITEMS
MIN_AUDIBLE_SECONDS = round(seconds_for_items(MIN_AUDIBLE_ITEMS), 1)  # 7.6 s

# The first 10 minutes are fingerprinted: all of nearly every song, so a copy cut from anywhere in
# it still lines up; about 4,800 items (18 to 20 KB stored) at most.
MAX_SECONDS = 600
TIMEOUT_SECONDS = 120.0

_NON_FATAL = 3
_UNDECODABLE = (  # fpcalc's messages for a file FFmpeg cannot open or read (src/cmd/fpcalc.cpp)
    "Could not open the input file",
    "Could not find",
    "Error reading from the audio source",
    "Error decoding the audio source",
    "Could not create",
)


def fingerprint_file(path: str | Path, *, max_seconds: int = MAX_SECONDS) -> Fingerprint:
    """The Chromaprint fingerprint of an audio file, ready to compare and to store.

    Raises :class:`FpcalcNotFoundError` (with how to install it), :class:`UndecodableAudioError`
    (missing, not audio, corrupt), :class:`AudioTooShortError` (under ``MIN_AUDIBLE_SECONDS`` of
    sound), :class:`FpcalcError` (anything else fpcalc does wrong).
    """
    return fingerprint_files([path], max_seconds=max_seconds)[0]


def fingerprint_files(paths: Sequence[str | Path], *, max_seconds: int = MAX_SECONDS) -> list[Fingerprint]:
    """:func:`fingerprint_file` for many files (same order; the first failing file's error)."""
    fingerprints = compute_fingerprints(paths, max_seconds=max_seconds)
    for path, fingerprint in zip(paths, fingerprints):
        check_fingerprintable(fingerprint, str(path))
    return fingerprints


def check_fingerprintable(fingerprint: Fingerprint, name: str) -> None:
    """Refuse a fingerprint with too little sound to be checked for near-duplicates (the policy above)."""
    if fingerprint.audible_items < MIN_AUDIBLE_ITEMS:
        # No item at all: fpcalc computed nothing, so how much of the clip is sound is unknown.
        audible = _audible_seconds(fingerprint) if len(fingerprint) else fingerprint.duration_seconds
        raise AudioTooShortError(name, fingerprint.duration_seconds, audible, MIN_AUDIBLE_SECONDS)


def compute_fingerprint(path: str | Path, *, max_seconds: int = MAX_SECONDS) -> Fingerprint:
    """Run ``fpcalc`` and parse its items, without the minimum-length policy (for measurement).

    A decodable clip too short for any item (under 2.72 s) gives a fingerprint with no items.
    """
    return compute_fingerprints([path], max_seconds=max_seconds)[0]


def compute_fingerprints(
    paths: Sequence[str | Path], *, max_seconds: int = MAX_SECONDS, workers: int | None = None
) -> list[Fingerprint]:
    """:func:`compute_fingerprint` for many files, ``workers`` fpcalc processes at a time.

    One fpcalc run per file: given several files, Debian's fpcalc 1.5.1 stops after the first
    one that reports its spurious end-of-file error, which is nearly every file. Starting fpcalc
    (loading FFmpeg) costs more than fingerprinting a 10 s file, so runs overlap; ``workers``
    defaults to the number of CPUs.
    """
    executable = shutil.which("fpcalc")
    if executable is None:
        raise FpcalcNotFoundError()
    files = [_checked_file(path) for path in paths]
    if len(files) <= 1:
        return [_fingerprint_one(executable, file, str(path), max_seconds) for file, path in zip(files, paths)]
    names = [str(path) for path in paths]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        runs = [pool.submit(_fingerprint_one, executable, file, name, max_seconds) for file, name in zip(files, names)]
        return [run.result() for run in runs]  # in order; the first failing file's error


def _fingerprint_one(executable: str, file: Path, name: str, max_seconds: int) -> Fingerprint:
    done, problems = _run(executable, file, max_seconds)
    if done.returncode in (0, _NON_FATAL) and done.stdout.strip():
        return _parse(done.stdout, name)
    return _diagnose(done, problems, file, name)


def _checked_file(path: str | Path) -> Path:
    file = Path(path)
    if not file.is_file():
        raise UndecodableAudioError(str(path), "no such file" if not file.exists() else "not a regular file")
    return file


def _run(executable: str, file: Path, max_seconds: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    command = [executable, "-raw", "-json", "-length", str(int(max_seconds)), str(file.resolve())]
    try:
        environment = {**os.environ, "LC_ALL": "C"}
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=environment)
    except subprocess.TimeoutExpired as exc:
        raise FpcalcError(f"fpcalc took more than {TIMEOUT_SECONDS:.0f} s on {file}") from exc
    except OSError as exc:
        raise FpcalcError(f"fpcalc could not be run: {exc}") from exc
    problems = [line.removeprefix("ERROR: ").strip() for line in done.stderr.splitlines() if line.strip()]
    return done, problems


def _diagnose(done: subprocess.CompletedProcess, problems: list[str], file: Path, name: str) -> Fingerprint:
    """The empty fingerprint of a too-short clip, or the error fpcalc's messages point to."""
    last = problems[-1] if problems else f"exit status {done.returncode}"
    if any(p.startswith(("Empty fingerprint", "Not enough audio data")) for p in problems):
        return Fingerprint([], _probe_duration(file))  # decodable but under 2.72 s: no item at all
    if any(p.startswith(_UNDECODABLE) for p in problems):
        raise UndecodableAudioError(name, last)
    raise FpcalcError(f"fpcalc failed on {name}: {last}")


def _parse(stdout: str, name: str) -> Fingerprint:
    try:
        output = json.loads(stdout)
        items = output["fingerprint"]
        duration = float(output["duration"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FpcalcError(f"fpcalc printed something other than its JSON fingerprint for {name}") from exc
    if not isinstance(items, list) or not all(isinstance(i, int) and 0 <= i < 1 << 32 for i in items):
        raise FpcalcError(f"fpcalc printed a fingerprint that is not a list of unsigned 32-bit items for {name}")
    return Fingerprint(items, duration)


def _probe_duration(file: Path) -> float:
    """The length of a clip too short for any item (fpcalc prints none); 0.0 if libsndfile cannot tell."""
    from qfzz_chain.audio import NotAudioError, probe_audio

    try:
        return round(probe_audio(file).duration_seconds, 2)
    except NotAudioError:
        return 0.0


def _audible_seconds(fingerprint: Fingerprint) -> float:
    """Roughly how much of the file is sound: the audio its audible items need, at most its length."""
    return min(seconds_for_items(fingerprint.audible_items), fingerprint.duration_seconds)
