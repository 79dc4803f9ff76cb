"""Shared helpers for the IPFS tests (a uniquely named module: tests/ has no packages)."""

from __future__ import annotations

import hashlib
import random
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


@contextmanager
def running_server(backing, **options) -> Iterator:
    """The RPC/gateway server over ``backing`` on a free loopback port, in a thread."""
    from qfzz_chain.ipfs.server import make_server

    server = make_server(backing, "127.0.0.1", 0, access_log=False, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    assert server.wait_started(10)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
