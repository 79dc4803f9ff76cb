"""One real node as its own process (``qfzz p2p node``), and the client that asks it for its list.

The I/O edge for a person at a terminal: read a history file, bind a UDP port, check the bootstrap
peer answers, then gossip every period and report newly found neighbours. A node answers
``RECOMMEND_REQUEST`` datagrams (``qfzz p2p recommend``) with its current top-N and, per artist,
the peers it came from and the artists shared with them.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np

from qfzz_chain.p2p.errors import (
    BootstrapUnreachableError,
    HistoryFileError,
    InvalidConfigError,
    MalformedMessageError,
    MessageTooLargeError,
    NodeUnreachableError,
)
from qfzz_chain.p2p.protocol import NodeState, ProtocolConfig
from qfzz_chain.p2p.summary import Profile
from qfzz_chain.p2p.transport import Endpoint, open_endpoint
from qfzz_chain.p2p.wire import (
    MAX_DATAGRAM,
    RECOMMEND_REPLY,
    RECOMMEND_REQUEST,
    Address,
    Message,
    decode,
    encode,
)

Event = Callable[[dict[str, Any]], None]


def parse_address(text: str) -> Address:
    """``HOST:PORT`` (IPv4 host) to an address; :class:`InvalidConfigError` otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidConfigError(f"{text!r} is not HOST:PORT")
    if host == "localhost":
        host = "127.0.0.1"
    parts = host.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        raise InvalidConfigError(f"{text!r}: the host must be an IPv4 address such as 127.0.0.1")
    return host, int(port)


def format_address(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


def read_history(path: Path) -> Profile:
    """A history file: one ``artist_id<TAB>plays`` per line (commas or spaces also split; an optional
    header line and ``#`` comments are skipped). Last.fm's user_artists.dat rows for one user,
    without the user column, are exactly this."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryFileError(f"cannot read history file {path}: {exc}") from exc
    items, plays = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.replace(",", " ").replace("\t", " ").split()
        if len(fields) != 2 or not fields[0].isdigit():
            if number == 1 and not items and not fields[0].isdigit():
                continue  # a header line
            raise HistoryFileError(f"{path}:{number}: expected 'artist_id<TAB>plays', got {line!r}")
        try:
            item, count = int(fields[0]), float(fields[1])
        except ValueError as exc:
            raise HistoryFileError(f"{path}:{number}: expected 'artist_id<TAB>plays', got {line!r}") from exc
        if count <= 0 or item >= 2**32:
            raise HistoryFileError(f"{path}:{number}: artist id below 2^32 and a positive play count needed")
        items.append(item)
        plays.append(count)
    if not items:
        raise HistoryFileError(f"history file {path} lists no artists")
    return Profile.from_plays(np.array(items), np.array(plays))


def describe(node: NodeState, count: int) -> dict[str, Any]:
    """The node's answer to a recommend request: its list, each artist with its peers (short keys)."""
    items = []
    for rec in node.recommend(count):
        items.append({"artist": rec.item, "score": round(rec.score, 6),
                      "peers": [{"peer": format_address(c.peer), "sim": c.similarity, "share": c.share,
                                 "shared": list(c.shared_items)} for c in rec.peers]})
    return {"node": format_address(node.address), "period": node.period,
            "neighbours": len(node.neighbours()), "items": items}


async def _wait_for_bootstrap(endpoint: Endpoint, node: NodeState, bootstrap: list[Address], timeout: float) -> None:
    """Send a first exchange to every bootstrap peer; fail unless one answers within ``timeout``."""
    loop = asyncio.get_running_loop()
    refused: asyncio.Future[None] = loop.create_future()

    def on_error(exc: Exception) -> None:
        if not refused.done():
            refused.set_result(None)

    endpoint.on_error = on_error
    deadline = loop.time() + timeout
    try:
        for _ in range(len(bootstrap)):
            endpoint.tick()
        while loop.time() < deadline:
            if any(p.first_hand for a, p in node.peers.items() if a in bootstrap) or any(
                    a in bootstrap for a in node.seen):
                return
            if node.inbox and any(entry[0] in bootstrap and entry[2] for entry in node.inbox):
                return
            if refused.done():
                break
            await asyncio.sleep(0.05)
    finally:
        endpoint.on_error = None
    names = ", ".join(format_address(a) for a in bootstrap)
    reason = "refused the connection (nothing listens there)" if refused.done() else f"did not answer within {timeout:g} s"
    raise BootstrapUnreachableError(f"bootstrap peer {names} {reason}")


async def run_node(profile: Profile, port: int, bootstrap: list[Address], config: ProtocolConfig,
                   period_seconds: float, periods: int | None, on_event: Event, host: str = "127.0.0.1",
                   bootstrap_timeout: float = 3.0, stop: asyncio.Event | None = None) -> NodeState:
    """Run one node until ``periods`` ticks (None: until ``stop`` is set or the task is cancelled)."""
    endpoint, address = await open_endpoint(config.summary_bytes, host=host, port=port)
    node = NodeState(address, profile, config, seed=random.randrange(2**31), bootstrap=bootstrap)
    endpoint.node = node
    endpoint.query = lambda count: describe(node, count)
    on_event({"event": "listening", "node": format_address(address), "artists": len(profile),
              "summary_bytes": config.summary_bytes, "defence": config.defence})
    try:
        if bootstrap:
            await _wait_for_bootstrap(endpoint, node, bootstrap, bootstrap_timeout)
            on_event({"event": "bootstrapped", "peers": [format_address(a) for a in bootstrap]})
        known: set[Address] = set()
        ticks = 0
        while periods is None or ticks < periods:
            if stop is not None and stop.is_set():
                break
            await asyncio.sleep(period_seconds * (1.0 + random.uniform(-0.1, 0.1)))
            endpoint.tick()
            ticks += 1
            for peer, similarity in node.neighbours()[:10]:
                if peer not in known:
                    known.add(peer)
                    on_event({"event": "neighbour", "peer": format_address(peer), "similarity": round(similarity, 4),
                              "shared": node.shared_items(peer), "period": node.period})
    finally:
        if endpoint.transport is not None:
            endpoint.transport.close()
    return node


class _Client(asyncio.DatagramProtocol):
    def __init__(self, nonce: int):
        self.nonce = nonce
        self.answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            message = decode(data, MAX_DATAGRAM)
        except (MalformedMessageError, MessageTooLargeError):
            return
        if message.kind == RECOMMEND_REPLY and message.nonce == self.nonce and not self.answer.done():
            self.answer.set_result(message.body)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(NodeUnreachableError(f"the node refused the request ({exc.strerror or exc})"))


async def ask_node(address: Address, count: int, timeout: float = 3.0) -> dict[str, Any]:
    """Ask a running node for its top-``count``; :class:`NodeUnreachableError` if it does not answer."""
    loop = asyncio.get_running_loop()
    nonce = random.randrange(2**32)
    transport, client = await loop.create_datagram_endpoint(lambda: _Client(nonce), remote_addr=address)
    try:
        transport.sendto(encode(Message(RECOMMEND_REQUEST, nonce, count=count), MAX_DATAGRAM))
        try:
            return await asyncio.wait_for(client.answer, timeout)
        except asyncio.TimeoutError:
            raise NodeUnreachableError(f"node {format_address(address)} did not answer within {timeout:g} s") from None
        except NodeUnreachableError as exc:
            raise NodeUnreachableError(f"node {format_address(address)}: {exc}") from None
    finally:
        transport.close()
