"""Fingerprint errors a user can cause; each is one clear line through the CLI (``QfzzError``)."""

from __future__ import annotations

from qfzz_chain.errors import QfzzError

__all__ = [
    "AudioTooShortError",
    "FingerprintError",
    "FpcalcError",
    "FpcalcNotFoundError",
    "InvalidFingerprintError",
    "UndecodableAudioError",
]

INSTALL_HINT = "install Chromaprint's fpcalc with `apt-get install libchromaprint-tools` (tools/bootstrap.sh does it)"


class FingerprintError(QfzzError):
    """Root of the acoustic-fingerprint errors."""


class FpcalcNotFoundError(FingerprintError):
    """Chromaprint's ``fpcalc`` is not on ``PATH``: registration cannot check for near-duplicates."""

    def __init__(self) -> None:
        super().__init__(f"fpcalc (Chromaprint) was not found on PATH: {INSTALL_HINT}")


class UndecodableAudioError(FingerprintError):
    """``fpcalc`` (FFmpeg) could not open or decode the file: missing, not audio, or corrupt."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: not an audio file fpcalc can decode, so it cannot be fingerprinted ({reason})")
        self.path = path
        self.reason = reason


class AudioTooShortError(FingerprintError):
    """The audio holds too little sound for a fingerprint that near-duplicate checks can trust.

    ``duration_seconds`` is the file's length, ``audible_seconds`` about how much of it the
    fingerprint can use (not silence, nor a steady tone Chromaprint cannot tell from silence),
    ``minimum_seconds`` what registration needs.
    """

    def __init__(self, path: str, duration_seconds: float, audible_seconds: float, minimum_seconds: float):
        if audible_seconds + 0.5 < duration_seconds:
            heard = (
                f"{duration_seconds:.1f} s long, but only about {audible_seconds:.1f} s of it is sound a "
                "fingerprint can use (the rest is silence or a steady tone)"
            )
        else:
            heard = f"{duration_seconds:.1f} s long"
        super().__init__(
            f"{path} is {heard}: a track needs at least {minimum_seconds:.1f} s of sound to be "
            "fingerprinted and checked for near-duplicates"
        )
        self.path = path
        self.duration_seconds = duration_seconds
        self.audible_seconds = audible_seconds
        self.minimum_seconds = minimum_seconds


class FpcalcError(FingerprintError):
    """``fpcalc`` failed in a way that says nothing about the file (crash, timeout, odd output)."""


class InvalidFingerprintError(FingerprintError):
    """A stored fingerprint (track metadata) is malformed: unknown algorithm, bad base64, truncated."""
