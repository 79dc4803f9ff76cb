"""Shared helpers for the IPFS tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

CHUNK = 256 * 1024


def pseudo_random_bytes(size: int, seed: int = 1) -> bytes:
    """Incompressible, reproducible test content (C-speed PRNG: ~150 MB/s)."""
    return random.Random(seed).randbytes(size)


def repo_snapshot(repo: Path) -> dict[str, str]:
    """Every durable file of a repository and a hash of its content (locks and scratch ignored)."""
    if not repo.exists():
        return {}
    return {
        str(path.relative_to(repo)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock") and path.parent.name != "tmp"
    }
