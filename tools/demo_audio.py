"""Write the demo's tracks: short real audio files (FLAC, WAV, OGG) with stable bytes."""

import sys
from pathlib import Path

from qfzz_chain.audio import synthesize_melody

A_MINOR_WALK = [220.0, 261.63, 329.63, 392.0, 440.0, 392.0, 329.63, 261.63]
REMIX = [329.63, 392.0, 440.0, 523.25, 440.0, 392.0]
COVER = [261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25]

if __name__ == "__main__":
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for name, notes in (("night-drive.flac", A_MINOR_WALK), ("night-drive-remix.wav", REMIX), ("cover.ogg", COVER)):
        info = synthesize_melody(folder / name, notes)
        print(f"  {name:<24} {info.format} {info.subtype} {info.sample_rate} Hz, {info.duration_seconds:.1f} s")
