"""Reading what a track's audio file is (format, rate, duration), and making short real tracks.

Uses libsndfile through ``soundfile``: WAV, FLAC, OGG/Vorbis and the other formats it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from qfzz_chain.errors import QfzzError


class NotAudioError(QfzzError):
    """A file is missing, unreadable, or not audio that libsndfile can decode."""


@dataclass(frozen=True)
class AudioInfo:
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.sample_rate


def probe_audio(path: str | Path) -> AudioInfo:
    path = Path(path)
    if not path.is_file():
        raise NotAudioError(f"{path}: no such file")
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise NotAudioError(f"{path} is not an audio file libsndfile can read (WAV, FLAC, OGG, ...)") from exc
    return AudioInfo(info.format, info.subtype, info.samplerate, info.channels, info.frames)


def synthesize_melody(
    path: str | Path, frequencies_hz: list[float], *, note_seconds: float = 0.5, sample_rate: int = 44_100
) -> AudioInfo:
    """Write a stereo melody of plucked notes (format from the suffix: .wav, .flac, .ogg).

    Deterministic: the same notes give the same bytes, so the demo's CIDs are stable.
    """
    t = np.arange(int(note_seconds * sample_rate)) / sample_rate
    envelope = np.exp(-3.0 * t / note_seconds)
    notes = [envelope * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) for f in frequencies_hz]
    mono = 0.4 * np.concatenate(notes)
    stereo = np.stack([mono, np.roll(mono, sample_rate // 50)], axis=1)
    soundfile.write(str(path), stereo, sample_rate)  # the format's default encoding: PCM_16, Vorbis, ...
    return probe_audio(path)
