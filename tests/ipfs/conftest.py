"""Fixtures for the IPFS tests: real stores on disk in tmp_path, real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from ipfs_test_support import running_server

from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import IpfsServer


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "repo")


@pytest.fixture
def served_store(tmp_path: Path) -> Iterator[tuple[EmbeddedStore, IpfsServer]]:
    """An embedded store behind the RPC/gateway server on a free port, in a thread."""
    backing = EmbeddedStore(tmp_path / "served-repo")
    with running_server(backing) as server:
        yield backing, server
