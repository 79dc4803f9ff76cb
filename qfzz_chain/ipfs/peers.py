"""Fetching blocks from peers over the IPFS trustless gateway protocol, verifying every one.

A peer is any HTTP gateway that answers ``GET /ipfs/CID?format=raw`` with the block
(``application/vnd.ipld.raw``) and ``?format=car`` with a CAR of the DAG
(``application/vnd.ipld.car``): another ``qfzz ipfs serve``, a kubo gateway, or a Helia node.
Nothing a peer sends is trusted: a block is used only if it hashes to the CID asked for, so a
peer can withhold content but never change it. A peer that sends a wrong block is skipped for
the rest of the session (``PeerSet.bad``) and the next peer is asked.

Configure peers with ``QFZZ_IPFS_PEERS`` (URLs separated by commas or spaces) or ``--peer URL``.
Uses the standard library's ``http.client`` (one kept-alive connection per peer and thread) so a
``qfzz ipfs cat`` that needs no peer pays nothing to import an HTTP stack.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Iterator

from qfzz_chain.ipfs.car import read_header, read_sections
from qfzz_chain.ipfs.cid import block_matches, cid_text, hash_supported, split_cid
from qfzz_chain.ipfs.errors import BlockNotFoundError, CarFormatError, IpfsError

PEERS_ENV_VAR = "QFZZ_IPFS_PEERS"
RAW_TYPE = "application/vnd.ipld.raw"
CAR_TYPE = "application/vnd.ipld.car"
MAX_BLOCK_BYTES = 4 * 1024 * 1024  # bitswap's limit; a larger "block" from a peer is refused
DEFAULT_TIMEOUT = 30.0

if TYPE_CHECKING:
    import http.client


def peers_from_env() -> tuple[str, ...]:
    """The peer URLs in ``$QFZZ_IPFS_PEERS``."""
    return parse_peers(os.environ.get(PEERS_ENV_VAR, ""))


def parse_peers(text: str | None) -> tuple[str, ...]:
    """Peer URLs from a comma- or space-separated list; each must be an http(s) URL."""
    urls = [part for part in (text or "").replace(",", " ").split() if part]
    return tuple(normalize_peer(url) for url in urls)


def normalize_peer(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash; ``IpfsError`` otherwise."""
    parsed = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IpfsError(f"peer {url!r} is not an http(s) gateway URL")
    try:
        parsed.port
    except ValueError:
        raise IpfsError(f"peer {url!r} has an invalid port") from None
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


class PeerError(Exception):
    """One peer could not give a block (unreachable, not found, or a wrong block)."""


@dataclass
class PeerSet:
    """Gateways to fetch from, in the order given; the ones caught serving bad data are skipped."""

    urls: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT
    bad: dict[str, str] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def __bool__(self) -> bool:
        return bool(self.urls)

    def usable(self) -> list[str]:
        return [url for url in self.urls if url not in self.bad]

    # ---- connections ---------------------------------------------------------------------

    def _connection(self, url: str) -> "tuple[http.client.HTTPConnection, str]":
        import http.client  # 30-50 ms to import: only when a peer is asked

        pool = getattr(self._local, "connections", None)
        if pool is None:
            pool = self._local.connections = {}
        parsed = urllib.parse.urlsplit(url)
        connection = pool.get(url)
        if connection is None:
            kind = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
            connection = pool[url] = kind(parsed.hostname, parsed.port, timeout=self.timeout)
        return connection, parsed.path

    def _drop(self, url: str) -> None:
        connection = getattr(self._local, "connections", {}).pop(url, None)
        if connection is not None:
            connection.close()

    def _get(self, url: str, cid: str, query: str, accept: str) -> "http.client.HTTPResponse":
        """Send ``GET /ipfs/CID?query`` (retried once on a stale kept-alive connection)."""
        import http.client

        for attempt in (0, 1):
            connection, prefix = self._connection(url)
            try:
                connection.request("GET", f"{prefix}/ipfs/{cid}?{query}", headers={"Accept": accept})
                return connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(url)
                if attempt or not isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError,
                                                   BrokenPipeError)):  # fmt: skip
                    raise PeerError(f"unreachable ({exc.__class__.__name__}: {exc})") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        for connection in getattr(self._local, "connections", {}).values():
            connection.close()
        self._local.connections = {}

    # ---- blocks ---------------------------------------------------------------------------

    def _block_from(self, url: str, cid: bytes) -> bytes:
        import http.client

        text = cid_text(cid)
        response = self._get(url, text, "format=raw", RAW_TYPE)
        try:
            if response.status != 200:
                body = response.read(512).decode("utf-8", "replace").strip()
                raise PeerError(f"HTTP {response.status}" + (f" ({body.splitlines()[0]})" if body else ""))
            data = response.read(MAX_BLOCK_BYTES + 1)
            if len(data) > MAX_BLOCK_BYTES:
                self._drop(url)
                raise PeerError(f"sent more than {MAX_BLOCK_BYTES} bytes for one block")
        except (OSError, http.client.HTTPException) as exc:
            self._drop(url)
            raise PeerError(f"broke off the transfer ({exc})") from None
        if not block_matches(split_cid(cid)[1], data):
            self.bad[url] = f"served a block that does not match {text}"
            raise PeerError(self.bad[url])
        return data

    def get_block(self, cid: bytes) -> bytes:
        """The block from the first peer that has it, verified; ``BlockNotFoundError`` if none."""
        if not hash_supported(split_cid(cid)[1]):
            raise IpfsError(f"cannot verify {cid_text(cid)}: its hash function is not supported")
        reasons = []
        for url in self.usable():
            try:
                return self._block_from(url, cid)
            except PeerError as exc:
                reasons.append(f"{url}: {exc}")
        raise BlockNotFoundError(cid_text(cid), peers=reasons or [f"{url}: {why}" for url, why in self.bad.items()])

    def car_blocks(self, root: bytes) -> Iterator[tuple[str, Iterator[tuple[bytes, bytes]]]]:
        """For each usable peer in turn: (url, its verified blocks of the DAG under ``root``).

        A peer's stream stops at the first block that fails its hash (the peer is marked bad)
        or at a broken transfer; the caller moves on to the next peer for what is still missing.
        """
        text = cid_text(root)
        for url in self.usable():
            try:
                response = self._get(url, text, "format=car&dag-scope=all", CAR_TYPE)
            except PeerError:
                continue
            if response.status != 200:
                response.read()
                continue
            yield url, self._verified_sections(url, response)

    def _verified_sections(self, url: str, response: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
        import http.client

        try:
            read_header(response)
            for section in read_sections(response):
                if not block_matches(split_cid(section.cid)[1], section.data):
                    self.bad[url] = f"served a block that does not match {cid_text(section.cid)}"
                    self._drop(url)
                    return
                yield section.cid, section.data
        except (CarFormatError, OSError, http.client.HTTPException):
            self._drop(url)
            return
