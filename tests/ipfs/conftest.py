"""Fixtures for the IPFS tests: real stores on disk in tmp_path, real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import pytest

from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import IpfsHttpServer, make_server


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "repo")


@pytest.fixture
def served_store(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, IpfsHttpServer]]:
    """An embedded store behind the RPC/gateway server on a free port, in a thread."""
    backing = EmbeddedStore(tmp_path / "served-repo")
    server = make_server(backing, "127.0.0.1", 0, access_log=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield backing, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
