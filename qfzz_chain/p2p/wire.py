"""The wire format: one CBOR (RFC 8949, ``cbor2``) array per UDP datagram, versioned, size-bounded.

Specified here once. Every datagram is a definite-length CBOR array whose first two elements are
the protocol version and the message kind::

    gossip request / reply   [2, kind, nonce:uint32, summary:bstr, view:bstr, hints:[[addr:bstr, summary:bstr], ...]]
    recommend request        [2, 3, nonce, count:uint]
    recommend reply          [2, 4, nonce, body:map]

* ``summary`` is :func:`qfzz_chain.p2p.summary.encode_summary`'s byte layout (the sender's own);
* ``view`` packs peer-sampling descriptors, 7 bytes each: IPv4 address (4), UDP port (2, big
  endian), age in periods (1, saturating at 255);
* ``hints`` are second-hand summaries: the 6-byte address of a peer the sender found similar to
  itself, and that peer's summary as the sender received it (a claim, checked by ``defence.py``);
* the sender is the datagram's source address (no field for it: it could only lie).

A gossip message must fit in M bytes (``summary_bytes``): :func:`encode` refuses to build a larger
one (:class:`MessageTooLargeError`) and a receiver drops a larger datagram before decoding it.
Recommendation replies go to a local client, not to peers, and may use up to
:data:`QUERY_REPLY_LIMIT` bytes. Anything that is not exactly this shape raises
:class:`MalformedMessageError`; the transport counts and drops it.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import cbor2

from qfzz_chain.p2p.errors import MalformedMessageError, MessageTooLargeError

VERSION = 2  # 2: summaries carry 4-bit codes (summary.py); 1 carried 8-bit codes
GOSSIP_REQUEST = 1
GOSSIP_REPLY = 2
RECOMMEND_REQUEST = 3
RECOMMEND_REPLY = 4
GOSSIP_KINDS = (GOSSIP_REQUEST, GOSSIP_REPLY)
# A local client's answer (ten artists with their peers and shared artists) is ≈ 1–2 KB.
QUERY_REPLY_LIMIT = 16384
# Largest UDP payload the transport ever reads (the IPv4 maximum); M must stay below it.
MAX_DATAGRAM = 65507
DESCRIPTOR_BYTES = 7
ADDRESS_BYTES = 6

Address = tuple[str, int]


class Descriptor(NamedTuple):
    """A peer-sampling entry: where a peer listens and how many periods old the news is.

    A named tuple, not a dataclass: nodes build thousands per second and a frozen dataclass
    costs ~5x more to construct.
    """

    address: Address
    age: int = 0


@dataclass(frozen=True)
class Message:
    """One decoded datagram. Gossip fields are empty for the query kinds and vice versa."""

    kind: int
    nonce: int
    summary: bytes = b""
    view: tuple[Descriptor, ...] = ()
    hints: tuple[tuple[Address, bytes], ...] = ()
    count: int = 0
    body: dict[str, Any] = field(default_factory=dict)


# Addresses repeat in nearly every message; both directions are memoised (bounded, cleared when full).
_PACKED: dict[Address, bytes] = {}
_UNPACKED: dict[bytes, Address] = {}
_MEMO_LIMIT = 1 << 16


def pack_address(address: Address) -> bytes:
    packed = _PACKED.get(address)
    if packed is None:
        try:
            packed = socket.inet_aton(address[0]) + struct.pack(">H", address[1])
        except (OSError, struct.error, TypeError) as exc:
            raise MalformedMessageError(f"cannot pack address {address!r}: {exc}") from exc
        if len(_PACKED) >= _MEMO_LIMIT:
            _PACKED.clear()
        _PACKED[address] = packed
    return packed


def unpack_address(blob: bytes) -> Address:
    address = _UNPACKED.get(blob)
    if address is None:
        if len(blob) != ADDRESS_BYTES:
            raise MalformedMessageError(f"an address is {ADDRESS_BYTES} bytes, got {len(blob)}")
        address = (socket.inet_ntoa(blob[:4]), struct.unpack(">H", blob[4:])[0])
        if len(_UNPACKED) >= _MEMO_LIMIT:
            _UNPACKED.clear()
        _UNPACKED[bytes(blob)] = address
    return address


def pack_view(view: tuple[Descriptor, ...] | list[Descriptor]) -> bytes:
    return b"".join(pack_address(d.address) + bytes([min(max(d.age, 0), 255)]) for d in view)


def unpack_view(blob: bytes) -> tuple[Descriptor, ...]:
    if len(blob) % DESCRIPTOR_BYTES:
        raise MalformedMessageError(f"view of {len(blob)} bytes is not a whole number of descriptors")
    return tuple(Descriptor(unpack_address(blob[k:k + ADDRESS_BYTES]), blob[k + ADDRESS_BYTES])
                 for k in range(0, len(blob), DESCRIPTOR_BYTES))


def bstr_size(length: int) -> int:
    """Bytes CBOR spends on a byte string of ``length`` bytes (header + payload)."""
    if length < 24:
        return 1 + length
    if length < 256:
        return 2 + length
    if length < 65536:
        return 3 + length
    return 5 + length


def uint_size(value: int) -> int:
    if value < 24:
        return 1
    if value < 256:
        return 2
    if value < 65536:
        return 3
    return 5


def array_header_size(length: int) -> int:
    return 1 if length < 24 else 2 if length < 256 else 3


def gossip_size(nonce: int, summary_len: int, view_len: int, hint_summary_lens: list[int]) -> int:
    """Exact encoded size of a gossip message, without encoding it (``protocol.py`` fills M with it)."""
    hints = array_header_size(len(hint_summary_lens)) + sum(
        1 + bstr_size(ADDRESS_BYTES) + bstr_size(n) for n in hint_summary_lens)
    return (1 + 1 + 1 + uint_size(nonce) + bstr_size(summary_len) + bstr_size(view_len * DESCRIPTOR_BYTES)
            + hints)


def encode(message: Message, limit: int) -> bytes:
    """The datagram for ``message``; :class:`MessageTooLargeError` if it exceeds ``limit`` bytes."""
    if message.kind in GOSSIP_KINDS:
        value: list[Any] = [VERSION, message.kind, message.nonce, message.summary, pack_view(message.view),
                            [[pack_address(a), s] for a, s in message.hints]]
    elif message.kind == RECOMMEND_REQUEST:
        value = [VERSION, message.kind, message.nonce, message.count]
    elif message.kind == RECOMMEND_REPLY:
        value = [VERSION, message.kind, message.nonce, message.body]
    else:
        raise MalformedMessageError(f"unknown message kind {message.kind}")
    data = cbor2.dumps(value)
    if len(data) > limit:
        raise MessageTooLargeError(len(data), limit)
    return data


def _uint32(value: Any, what: str) -> int:
    if type(value) is not int or not 0 <= value < 2**32:
        raise MalformedMessageError(f"{what} is not a 32-bit unsigned integer")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if type(value) is not bytes:
        raise MalformedMessageError(f"{what} is not a byte string")
    return value


def decode(data: bytes, limit: int) -> Message:
    """Parse one datagram of at most ``limit`` bytes; raise on anything outside the format."""
    if len(data) > limit:
        raise MessageTooLargeError(len(data), limit)
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises CBORDecodeError, but also ValueError/TypeError/etc. on junk
        raise MalformedMessageError(f"not CBOR: {exc}") from exc
    if type(value) is not list or len(value) < 2:
        raise MalformedMessageError("a message is a CBOR array starting with version and kind")
    if value[0] != VERSION or type(value[0]) is not int:
        raise MalformedMessageError(f"unsupported protocol version {value[0]!r}")
    kind = value[1]
    if kind in GOSSIP_KINDS and type(kind) is int:
        if len(value) != 6:
            raise MalformedMessageError("a gossip message has 6 fields")
        hints_value = value[5]
        if type(hints_value) is not list:
            raise MalformedMessageError("hints are not an array")
        hints = []
        for hint in hints_value:
            if type(hint) is not list or len(hint) != 2:
                raise MalformedMessageError("a hint is [address, summary]")
            hints.append((unpack_address(_bytes(hint[0], "hint address")), _bytes(hint[1], "hint summary")))
        return Message(kind, _uint32(value[2], "nonce"), _bytes(value[3], "summary"),
                       unpack_view(_bytes(value[4], "view")), tuple(hints))
    if kind == RECOMMEND_REQUEST and type(kind) is int:
        if len(value) != 4:
            raise MalformedMessageError("a recommend request has 4 fields")
        count = value[3]
        if type(count) is not int or not 1 <= count <= 100:
            raise MalformedMessageError("a recommend request asks for 1 … 100 artists")
        return Message(kind, _uint32(value[2], "nonce"), count=count)
    if kind == RECOMMEND_REPLY and type(kind) is int:
        if len(value) != 4 or type(value[3]) is not dict:
            raise MalformedMessageError("a recommend reply is [2, 4, nonce, map]")
        return Message(kind, _uint32(value[2], "nonce"), body=value[3])
    raise MalformedMessageError(f"unknown message kind {kind!r}")
