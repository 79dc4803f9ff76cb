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


_SCALES = (  # semitone steps from the key's root
    (0, 2, 4, 5, 7, 9, 11),  # major
    (0, 2, 3, 5, 7, 8, 10),  # natural minor
    (0, 2, 3, 5, 7, 9, 10),  # dorian
    (0, 2, 4, 7, 9),  # major pentatonic
    (0, 3, 5, 7, 10),  # minor pentatonic
    (0, 2, 4, 6, 8, 10),  # whole tone
)


def synthesize_distinct_track(
    path: str | Path, seed: int, *, seconds: float = 10.0, sample_rate: int = 22_050
) -> AudioInfo:
    """Write a short piece of synthetic music (mono; format from the suffix) that is its own for each seed.

    For tests that register many tracks: unlike :func:`synthesize_melody` with nearby notes, two
    seeds give acoustically distinct audio, which registration's near-duplicate check
    (qfzz_chain/fingerprint) must not confuse. Each seed draws a key, a scale, a step of
    0.13-0.24 s, a timbre and a random melody, bass line and chord pad, so every 5 s window holds
    20-40 random note events; the fingerprint comparison scores any two of 200 seeds at most 0.715
    (19,900 pairs in benchmarks/bench_fingerprint.py; tests/fingerprint/test_distinct_tracks.py
    checks 32 seeds), against a match threshold of 0.85. 10 s is above the 7.6 s of sound registration needs. Deterministic (only ``random.Random(seed).random()``, whose
    sequence Python guarantees): the same seed gives the same bytes. 10 s at 22,050 Hz is 441 KB
    as 16-bit WAV, about 150 KB as FLAC.
    """
    import random

    draw = random.Random(seed).random
    pick = lambda options: options[int(draw() * len(options))]  # noqa: E731 - one-line helper
    root = 110.0 * 2 ** (int(draw() * 12) / 12)  # A2 .. G#3
    scale = pick(_SCALES)
    step = 0.13 + 0.11 * draw()
    brightness = 0.5 + 1.5 * draw()  # harmonic k has amplitude k ** -brightness
    decay = 2.0 + 4.0 * draw()
    frames = int(seconds * sample_rate)
    out = np.zeros(frames)

    def pitch(degree: int) -> float:
        octave, index = divmod(degree, len(scale))
        return root * 2 ** (octave + scale[index] / 12)

    # One period of the timbre (harmonic k at k ** -brightness), looked up by phase: a table
    # gather per sample instead of five sines keeps a 10 s track at a few tens of milliseconds.
    table_size = 4096
    phase = 2 * np.pi * np.arange(table_size) / table_size
    wave = sum(k**-brightness * np.sin(k * phase) for k in range(1, 6))

    def add_note(start: float, length: float, frequency: float, level: float) -> None:
        first = int(start * sample_rate)
        count = min(int(length * sample_rate), frames - first)
        if count <= 0:
            return
        n = np.arange(count)
        tone = wave[(n * (frequency * table_size / sample_rate)).astype(np.int64) % table_size]
        fade = np.minimum(1.0, (count - n) / (0.01 * sample_rate))  # no click at the end
        out[first : first + count] += level * np.exp(n * (-decay / (length * sample_rate))) * fade * tone

    steps = int(seconds / step)
    at = 0
    while at < steps:  # melody: one or two steps a note, over two octaves above the pad
        length = 1 + int(draw() * 2)
        add_note(at * step, length * step, pitch(len(scale) + int(draw() * 2 * len(scale))), 0.30)
        at += length
    for bar in range(0, steps, 4):  # bass: a scale degree every four steps
        add_note(bar * step, 4 * step, pitch(int(draw() * len(scale))) / 2, 0.25)
    for bar in range(0, steps, 8):  # pad: a triad every eight steps
        degree = int(draw() * len(scale))
        for third in (0, 2, 4):
            add_note(bar * step, 8 * step, pitch(degree + third), 0.10)
    out *= 0.8 / max(1e-9, float(np.max(np.abs(out))))
    soundfile.write(str(path), out, sample_rate)
    return probe_audio(path)
