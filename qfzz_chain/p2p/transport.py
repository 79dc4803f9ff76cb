"""The asyncio edge: one UDP endpoint per node on the loopback interface, many nodes per event loop.

UDP because the protocol is one datagram each way per exchange, loss is part of the model (a lost
datagram is a lost exchange, nothing retries), and one loop serves thousands of endpoints without
a connection each. Every received datagram is checked before it is decoded: larger than M (or
than the client limit for query replies) → dropped as ``oversized``; not the wire format →
dropped as ``malformed``. Neither can raise out of ``datagram_received``.

The edge also owns the experiment knobs that are not protocol: simulated message ``loss`` (a
share of received datagrams is discarded), churn (an ``offline`` endpoint ignores everything
and does not tick, like a sleeping phone, and resumes with its state) and per-node clock skew (each
node's period is T·(1 + ε), ε uniform in ±``skew``, with a random first phase, so no two nodes
tick in lockstep).
"""

from __future__ import annotations

import asyncio
import errno
import random
from typing import Any, Callable, Protocol

from qfzz_chain.p2p.errors import MalformedMessageError, MessageTooLargeError, PortInUseError
from qfzz_chain.p2p.protocol import Ledger
from qfzz_chain.p2p.wire import (
    GOSSIP_KINDS,
    QUERY_REPLY_LIMIT,
    RECOMMEND_REPLY,
    RECOMMEND_REQUEST,
    Address,
    Message,
    decode,
    encode,
)


class Peer(Protocol):
    """What an endpoint drives: an honest :class:`NodeState` or an attacker."""

    address: Address

    def tick(self) -> list[tuple[Address, Message]]: ...

    def receive(self, sender: Address, message: Message) -> list[tuple[Address, Message]]: ...


QueryHandler = Callable[[int], dict[str, Any]]


class Endpoint(asyncio.DatagramProtocol):
    """A node's socket: decodes within the limit, feeds the node, sends what it answers."""

    def __init__(self, limit: int, loss: float = 0.0, seed: int = 0):
        self.limit = limit
        self.loss = loss
        self.random = random.Random(seed)
        self.ledger = Ledger()
        self.node: Peer | None = None
        self.query: QueryHandler | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.online = True
        self.ticks = 0
        self.on_error: Callable[[Exception], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def error_received(self, exc: Exception) -> None:
        # An ICMP port-unreachable for an earlier datagram (the peer is gone): UDP loses it anyway.
        self.ledger.drop("unreachable")
        if self.on_error is not None:
            self.on_error(exc)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.online:
            self.ledger.drop("offline")
            return
        if self.loss and self.random.random() < self.loss:
            self.ledger.drop("lost")
            return
        if len(data) > self.limit:
            self.ledger.drop("oversized")
            return
        try:
            message = decode(data, self.limit)
        except (MalformedMessageError, MessageTooLargeError):
            self.ledger.drop("malformed")
            return
        self.ledger.messages_received += 1
        self.ledger.bytes_received += len(data)
        sender = (addr[0], addr[1])
        if message.kind == RECOMMEND_REQUEST:
            if self.query is not None:
                self.send(sender, Message(RECOMMEND_REPLY, message.nonce, body=self.query(message.count)),
                          QUERY_REPLY_LIMIT)
            return
        if message.kind not in GOSSIP_KINDS or self.node is None:
            self.ledger.drop("unexpected")
            return
        for destination, reply in self.node.receive(sender, message):
            self.send(destination, reply)

    def send(self, destination: Address, message: Message, limit: int | None = None) -> None:
        try:
            data = encode(message, self.limit if limit is None else limit)
        except MessageTooLargeError:
            self.ledger.drop("too_large_to_send")
            return
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.sendto(data, destination)
        self.ledger.messages_sent += 1
        self.ledger.bytes_sent += len(data)
        if len(data) > self.ledger.largest_sent:
            self.ledger.largest_sent = len(data)

    def tick(self) -> None:
        if not self.online or self.node is None:
            return
        self.ticks += 1
        for destination, message in self.node.tick():
            self.send(destination, message)


async def open_endpoint(limit: int, host: str = "127.0.0.1", port: int = 0, loss: float = 0.0,
                        seed: int = 0) -> tuple[Endpoint, Address]:
    """Bind one endpoint; :class:`PortInUseError` when ``port`` is taken."""
    loop = asyncio.get_running_loop()
    try:
        transport, endpoint = await loop.create_datagram_endpoint(
            lambda: Endpoint(limit, loss, seed), local_addr=(host, port), reuse_port=False)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"UDP port {port} on {host} is already in use") from exc
        raise
    sockname = transport.get_extra_info("sockname")
    return endpoint, (sockname[0], sockname[1])


class Clock:
    """Ticks many endpoints, each at its own skewed period and phase, on the running loop."""

    def __init__(self, period: float, skew: float, seed: int):
        self.period = period
        self.skew = skew
        self.random = random.Random(seed)
        self.handles: list[asyncio.TimerHandle] = []
        self.running = False

    def start(self, endpoints: list[Endpoint]) -> None:
        loop = asyncio.get_running_loop()
        self.running = True
        for endpoint in endpoints:
            factor = 1.0 + self.random.uniform(-self.skew, self.skew)
            self.handles.append(loop.call_later(self.random.uniform(0.0, self.period * factor), self._fire,
                                                endpoint, factor))

    def _fire(self, endpoint: Endpoint, factor: float) -> None:
        if not self.running:
            return
        endpoint.tick()
        # Relative scheduling: after a stall (an evaluation, a busy core) nodes do not burst to catch
        # up; ``period`` is read afresh, so a pacer can stretch every node's period at once.
        asyncio.get_running_loop().call_later(self.period * factor, self._fire, endpoint, factor)

    def stop(self) -> None:
        self.running = False
        for handle in self.handles:
            handle.cancel()
