"""Real audio files and real fpcalc: a synthetic track per test session, and its edits."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from qfzz_chain.audio import synthesize_distinct_track
from qfzz_chain.fingerprint import Fingerprint, compute_fingerprint
from qfzz_chain.fingerprint.transforms import apply

@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fingerprint-audio")


@pytest.fixture(scope="session")
def track(audio_dir: Path) -> Path:
    """12 s of synthetic music (44.1 kHz, so resampling and re-encoding have work to do)."""
    path = audio_dir / "original.wav"
    synthesize_distinct_track(path, 7, seconds=12.0, sample_rate=44_100)
    return path


@pytest.fixture(scope="session")
def fingerprint_of() -> Callable[[Path], Fingerprint]:
    """fpcalc once per file per session."""
    cache: dict[Path, Fingerprint] = {}

    def get(path: Path) -> Fingerprint:
        if path not in cache:
            cache[path] = compute_fingerprint(path)
        return cache[path]

    return get


@pytest.fixture(scope="session")
def edited(track: Path, audio_dir: Path) -> Callable[[str], Path]:
    """The session track edited by a transform from qfzz_chain.fingerprint.transforms, made once."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = apply(name, track, audio_dir)
        return made[name]

    return get
