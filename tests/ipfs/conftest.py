"""Fixtures for the IPFS tests: real stores on disk in tmp_path, real HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import IpfsServer, make_server


@contextmanager
def running_server(backing: EmbeddedStore, **options) -> Iterator[IpfsServer]:
    """The RPC/gateway server over ``backing`` on a free loopback port, in a thread."""
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


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "repo")


@pytest.fixture
def served_store(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, IpfsServer]]:
    """An embedded store behind the RPC/gateway server on a free port, in a thread."""
    backing = EmbeddedStore(tmp_path / "served-repo")
    with running_server(backing) as server:
        yield backing, server
