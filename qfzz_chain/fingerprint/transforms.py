"""The edits a near-duplicate is made of (re-encode, trim, pad, gain, resample), applied to real files.

For measuring and testing the fingerprint (benchmarks/bench_fingerprint.py, tests/fingerprint/):
each transform decodes a file with libsndfile (WAV, FLAC, OGG/Vorbis, MP3), edits the samples
and writes a new file, re-encoding with libsndfile's Vorbis and LAME encoders where it says so.

``IN_SCOPE`` are the edits issue 8 names, which registration must catch; ``BEYOND_SCOPE`` are
edits Chromaprint is not designed to survive (tempo and pitch change, heavy noise), measured so
the docs can say what is not caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile

Samples = np.ndarray  # float64, frames x channels, full scale +-1


@dataclass(frozen=True)
class Transform:
    name: str
    describe: str
    edit: Callable[[Samples, int], tuple[Samples, int]]  # (samples, rate) -> (samples, rate)
    format: str = "WAV"
    subtype: str = "PCM_16"
    compression_level: float | None = None  # libsndfile's 0..1: higher is smaller (and lower bitrate)
    bitrate_mode: str | None = None  # MP3: "CONSTANT", "AVERAGE" or "VARIABLE" (libsndfile's default)

    @property
    def suffix(self) -> str:
        return {"WAV": ".wav", "OGG": ".ogg", "MP3": ".mp3", "FLAC": ".flac"}[self.format]


def _same(samples: Samples, rate: int) -> tuple[Samples, int]:
    return samples, rate


def _trim_start(seconds: float) -> Callable[[Samples, int], tuple[Samples, int]]:
    return lambda samples, rate: (samples[int(round(seconds * rate)) :], rate)


def _pad(start_seconds: float, end_seconds: float) -> Callable[[Samples, int], tuple[Samples, int]]:
    def edit(samples: Samples, rate: int) -> tuple[Samples, int]:
        silence = [np.zeros((int(seconds * rate), samples.shape[1])) for seconds in (start_seconds, end_seconds)]
        return np.concatenate([silence[0], samples, silence[1]]), rate

    return edit


def _gain(decibels: float) -> Callable[[Samples, int], tuple[Samples, int]]:
    return lambda samples, rate: (samples * 10 ** (decibels / 20), rate)  # clipped on writing, as a DAW would


def _stretch(samples: Samples, up: int, down: int) -> Samples:
    """``len(samples) * up / down`` frames of the same band-limited signal (FFT resampling).

    The input is zero-padded to ``down * 2**k`` frames so both transforms have lengths made of
    small factors: numpy's FFT on a length with a large prime factor takes tens of seconds for a
    minute of audio. (scipy.signal.resample_poly would do, but importing it takes seconds.)
    """
    frames = int(round(len(samples) * up / down))
    if up == down:
        return samples.copy()
    blocks = 1 << max(0, -(-len(samples) // down) - 1).bit_length()  # a power of two >= len / down
    padded = np.zeros((down * blocks, samples.shape[1]))
    padded[: len(samples)] = samples
    stretched = np.fft.irfft(np.fft.rfft(padded, axis=0), up * blocks, axis=0) * (up / down)
    return stretched[:frames]


def _resample(target: int) -> Callable[[Samples, int], tuple[Samples, int]]:
    def edit(samples: Samples, rate: int) -> tuple[Samples, int]:
        divisor = gcd(target, rate)
        return _stretch(samples, target // divisor, rate // divisor), target

    return edit


def _mono(samples: Samples, rate: int) -> tuple[Samples, int]:
    return samples.mean(axis=1, keepdims=True), rate


def _chain(samples: Samples, rate: int) -> tuple[Samples, int]:
    """What a careless re-upload does: mono, 0.5 s off the start, 3 dB quieter (then MP3)."""
    mono, _ = _mono(samples, rate)
    return mono[rate // 2 :] * 10 ** (-3 / 20), rate


def _speed(faster: Fraction) -> Callable[[Samples, int], tuple[Samples, int]]:
    """Played ``faster`` times faster: tempo and pitch both change (a turntable's pitch fader)."""
    return lambda samples, rate: (_stretch(samples, faster.denominator, faster.numerator), rate)


def _noise(snr_db: float) -> Callable[[Samples, int], tuple[Samples, int]]:
    def edit(samples: Samples, rate: int) -> tuple[Samples, int]:
        power = float(np.mean(samples**2)) or 1e-12
        noise = np.random.default_rng(0).standard_normal(samples.shape) * np.sqrt(power / 10 ** (snr_db / 10))
        return samples + noise, rate

    return edit


IN_SCOPE: tuple[Transform, ...] = (
    Transform("ogg", "re-encoded to OGG Vorbis (libsndfile default quality)", _same, "OGG", "VORBIS"),
    Transform("mp3", "re-encoded to MP3 (LAME, libsndfile default)", _same, "MP3", "MPEG_LAYER_III"),
    Transform("mp3_56kbps", "re-encoded to MP3 at a constant 56 kbit/s (LAME)", _same, "MP3", "MPEG_LAYER_III", 0.9,
              "CONSTANT"),
    Transform("trim_start_1s", "1 s cut from the start", _trim_start(1.0)),
    Transform("trim_start_1.06s", "1.06 s cut: the worst case, half an item off the grid", _trim_start(1.062)),
    Transform("pad_silence_2s", "2 s of digital silence added at both ends", _pad(2.0, 2.0)),
    Transform("pad_silence_5s_start", "5 s of digital silence before the music", _pad(5.0, 0.0)),
    Transform("gain_plus_6db", "6 dB louder (clipping where the master is hot)", _gain(6.0)),
    Transform("gain_minus_6db", "6 dB quieter", _gain(-6.0)),
    Transform("resample_22050", "resampled to 22,050 Hz", _resample(22_050)),
    Transform("resample_48000", "resampled to 48,000 Hz", _resample(48_000)),
    Transform("mono", "downmixed to mono", _mono),
    Transform("chain_mono_trim_gain_mp3", "mono, 0.5 s trimmed, -3 dB, then MP3", _chain, "MP3", "MPEG_LAYER_III"),
    Transform("chain_trim_1.06s_mp3_56kbps", "the worst trim, then MP3 at 56 kbit/s", _trim_start(1.062), "MP3",
              "MPEG_LAYER_III", 0.9, "CONSTANT"),
)

BEYOND_SCOPE: tuple[Transform, ...] = (
    Transform("speed_plus_2pct", "played 2 % faster (tempo and pitch)", _speed(Fraction(51, 50))),
    Transform("speed_plus_1_semitone", "played 5.9 % faster: a semitone up, and faster", _speed(Fraction(18, 17))),
    Transform("noise_snr_10db", "white noise 10 dB below the music", _noise(10.0)),
)

TRANSFORMS = {transform.name: transform for transform in IN_SCOPE + BEYOND_SCOPE}


def read_samples(path: str | Path) -> tuple[Samples, int]:
    samples, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    return samples, rate


def write_samples(path: str | Path, samples: Samples, rate: int, transform: Transform) -> Path:
    """Write in blocks: libsndfile 1.2's Vorbis encoder crashes on one multi-minute write."""
    samples = np.clip(samples, -1.0, 1.0)
    settings = {"compression_level": transform.compression_level, "bitrate_mode": transform.bitrate_mode}
    kwargs = {key: value for key, value in settings.items() if value is not None}
    channels = samples.shape[1]
    with soundfile.SoundFile(str(path), "w", rate, channels, transform.subtype, format=transform.format, **kwargs) as out:
        for start in range(0, len(samples), 1 << 16):
            out.write(samples[start : start + (1 << 16)])
    return Path(path)


def apply(transform: Transform | str, source: str | Path, folder: str | Path) -> Path:
    """Write ``source`` edited by ``transform`` into ``folder`` (named after both) and return its path."""
    transform = TRANSFORMS[transform] if isinstance(transform, str) else transform
    samples, rate = read_samples(source)
    edited, edited_rate = transform.edit(samples, rate)
    target = Path(folder) / f"{Path(source).stem}.{transform.name}{transform.suffix}"
    return write_samples(target, edited, edited_rate, transform)
