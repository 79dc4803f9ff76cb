"""A small dataset in the HetRec Last.fm 2K file format, for committee tests that fit and load
models in seconds: three taste clusters of listeners over three blocks of tagged artists."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

FILES = ("artists.dat", "tags.dat", "user_artists.dat", "user_friends.dat", "user_taggedartists.dat")


def write_tiny_lastfm(folder: Path, n_users: int = 48, n_artists: int = 36, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    blocks = np.array_split(np.arange(1, n_artists + 1), 3)
    lines = {name: [] for name in FILES}
    lines["artists.dat"] = ["id\tname\turl\tpictureURL"] + [f"{a}\tArtist {a}\thttp://x/{a}\t" for a in range(1, n_artists + 1)]
    lines["tags.dat"] = ["tagID\ttagValue"] + [f"{t}\ttag-{t}" for t in range(1, 7)]
    lines["user_artists.dat"] = ["userID\tartistID\tweight"]
    lines["user_taggedartists.dat"] = ["userID\tartistID\ttagID\tday\tmonth\tyear"]
    lines["user_friends.dat"] = ["userID\tfriendID"]
    for user in range(2, n_users + 2):
        block = blocks[user % 3]
        liked = sorted(set(rng.choice(block, size=6, replace=False)) | set(rng.choice(np.arange(1, n_artists + 1), 2)))
        lines["user_artists.dat"] += [f"{user}\t{a}\t{int(rng.integers(1, 500))}" for a in liked]
        lines["user_friends.dat"].append(f"{user}\t{2 + (user - 1) % n_users}")
        for artist in liked[:2]:
            tag = 1 + 2 * (user % 3) + int(rng.integers(0, 2))
            lines["user_taggedartists.dat"].append(f"{user}\t{artist}\t{tag}\t1\t5\t2010")
    for name, content in lines.items():
        (folder / name).write_text("\n".join(content) + "\n")
    (folder / "readme.txt").write_text("A synthetic dataset in the HetRec 2011 Last.fm 2K format, for tests.\n")
    sums = [f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}" for n in (*FILES, "readme.txt")]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return folder
