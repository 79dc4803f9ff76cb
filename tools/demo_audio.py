"""Write the demo's four tracks: real audio files (FLAC, WAV, OGG) with stable bytes, long enough to
fingerprint (registration needs 7.6 s of sound), and a re-encoded copy of the first one."""

import sys
from pathlib import Path

from qfzz_chain.audio import synthesize_distinct_track
from qfzz_chain.fingerprint.transforms import apply

TRACKS = (("night-drive.flac", 11), ("night-drive-remix.wav", 23), ("cover.ogg", 37), ("slow-tide.wav", 53))

if __name__ == "__main__":
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for name, seed in TRACKS:
        info = synthesize_distinct_track(folder / name, seed, seconds=12.0)
        print(f"  {name:<24} {info.format} {info.subtype} {info.sample_rate} Hz, {info.duration_seconds:.1f} s")
    copy = apply("ogg", folder / "night-drive.flac", folder).rename(folder / "night-drive-copy.ogg")
    print(f"  {copy.name:<24} the first track re-encoded as OGG: other bytes, the same music")
