"""dag-pb and UnixFS encoding through the ``protobuf`` library, schema compiled at import time.

The two schemas (dag-pb's ``PBNode``/``PBLink`` and UnixFS's ``Data``) are proto2, as kubo's are:
proto2 keeps an explicitly set empty ``Name`` on the wire (kubo writes ``12 00`` in every file
link) and leaves ``blocksizes`` unpacked. Building the descriptors here avoids shipping generated
``_pb2`` modules tied to one protoc version.

dag-pb's canonical form puts ``Links`` (field 2) before ``Data`` (field 1), the reverse of the
field-number order protobuf serialisers use, so a node is serialised as two messages (links
only, then data only) and concatenated: protobuf defines concatenation as merging, and the
bytes are exactly kubo's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from multiformats import varint

_F = descriptor_pb2.FieldDescriptorProto

# (message, [(field name, number, type, label, enum type name or "")])
_SCHEMA: list[tuple[str, list[tuple[str, int, int, int, str]]]] = [
    ("PBLink", [
        ("Hash", 1, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("Name", 2, _F.TYPE_STRING, _F.LABEL_OPTIONAL, ""),
        ("Tsize", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
    ]),
    ("PBNode", [
        ("Links", 2, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".qfzz.ipfs.PBLink"),
        ("Data", 1, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
    ]),
    ("UnixfsData", [
        ("Type", 1, _F.TYPE_ENUM, _F.LABEL_REQUIRED, ".qfzz.ipfs.UnixfsData.DataType"),
        ("Data", 2, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""),
        ("filesize", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
        ("blocksizes", 4, _F.TYPE_UINT64, _F.LABEL_REPEATED, ""),
        ("hashType", 5, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
        ("fanout", 6, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
        ("mode", 7, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, ""),
    ]),
]
_UNIXFS_TYPES = ["Raw", "Directory", "File", "Metadata", "Symlink", "HAMTShard"]

UNIXFS_RAW = 0
UNIXFS_FILE = 2


def _compile_schema():
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="qfzz_ipfs_dagpb_unixfs.proto", package="qfzz.ipfs", syntax="proto2"
    )
    for message_name, fields in _SCHEMA:
        message = file_proto.message_type.add(name=message_name)
        for name, number, type_, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=type_, label=label)
            if type_name:
                field.type_name = type_name
    data_type = file_proto.message_type[2].enum_type.add(name="DataType")
    for number, name in enumerate(_UNIXFS_TYPES):
        data_type.value.add(name=name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return tuple(
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"qfzz.ipfs.{name}"))
        for name, _ in _SCHEMA
    )


PBLink, PBNode, UnixfsData = _compile_schema()

# Length-delimited field keys, (field number << 3) | 2: PBNode.Data is 1, UnixfsData.Data is 2.
_PBNODE_DATA_TAG = b"\x0a"
_UNIXFS_DATA_TAG = b"\x12"
_LEAF_TYPE = UnixfsData(Type=UNIXFS_FILE).SerializeToString()  # b"\x08\x02"


@dataclass(frozen=True)
class Link:
    """A dag-pb link: the child's binary CID and the cumulative size of the child's DAG."""

    cid: bytes
    tsize: int
    name: str = ""


@dataclass(frozen=True)
class Node:
    """A decoded dag-pb node: its links and its opaque ``Data`` (``None`` when absent)."""

    links: tuple[Link, ...]
    data: bytes | None


@dataclass(frozen=True)
class UnixfsNode:
    """The UnixFS fields the file reader needs from a dag-pb node's ``Data``."""

    type: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]


def encode_node(links: Sequence[Link], data: bytes | None) -> bytes:
    """Serialise a dag-pb node in canonical form (links first, then data)."""
    links_part = PBNode(Links=[PBLink(Hash=link.cid, Name=link.name, Tsize=link.tsize) for link in links])
    data_part = PBNode(Data=data) if data is not None else PBNode()
    return links_part.SerializeToString() + data_part.SerializeToString()


def decode_node(block: bytes) -> Node:
    """Parse a dag-pb block; raises ``ValueError`` if it is not valid protobuf."""
    message = PBNode()
    try:
        message.ParseFromString(block)
    except DecodeError as exc:
        raise ValueError(f"not a dag-pb node: {exc}") from None
    links = tuple(Link(cid=link.Hash, tsize=link.Tsize, name=link.Name) for link in message.Links)
    return Node(links=links, data=message.Data if message.HasField("Data") else None)


def encode_file_leaf(chunk: bytes) -> bytes:
    """A UnixFS file leaf holding ``chunk`` (kubo's leaf when raw leaves are off, CIDv0).

    kubo leaves ``Data`` out only for the empty file, whose chunk is nil in Go.

    Built with one copy of the chunk: letting protobuf embed a 256 KiB chunk in UnixFS ``Data``
    and that in dag-pb ``Data`` copies it about five times, which cost more than hashing it.
    The small fields still go through protobuf; only the two length-delimited headers around
    the chunk (a tag byte and a varint length) are written here, in the field-number order
    protobuf itself serialises. ``encode_file_leaf_via_protobuf`` is the reference, and the
    tests check both give the same bytes.
    """
    size = len(chunk)
    head = _LEAF_TYPE + (_UNIXFS_DATA_TAG + varint.encode(size) if chunk else b"")
    tail = UnixfsData(filesize=size).SerializePartialToString()
    return b"".join((_PBNODE_DATA_TAG, varint.encode(len(head) + size + len(tail)), head, chunk, tail))


def encode_file_leaf_via_protobuf(chunk: bytes) -> bytes:
    """``encode_file_leaf`` entirely through protobuf (slower; the reference for tests)."""
    unixfs = UnixfsData(Type=UNIXFS_FILE, filesize=len(chunk))
    if chunk:
        unixfs.Data = chunk
    return encode_node((), unixfs.SerializeToString())


def encode_file_branch(links: Sequence[Link], blocksizes: Sequence[int]) -> bytes:
    """An inner UnixFS file node: one link per child and each child's file-byte count."""
    unixfs = UnixfsData(Type=UNIXFS_FILE, filesize=sum(blocksizes), blocksizes=blocksizes)
    return encode_node(links, unixfs.SerializeToString())


def decode_unixfs(data: bytes | None) -> UnixfsNode:
    """Parse a node's UnixFS ``Data``; raises ``ValueError`` if it is absent or malformed."""
    if data is None:
        raise ValueError("dag-pb node carries no UnixFS data")
    message = UnixfsData()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise ValueError(f"malformed UnixFS data: {exc}") from None
    return UnixfsNode(
        type=message.Type,
        data=message.Data,
        filesize=message.filesize if message.HasField("filesize") else None,
        blocksizes=tuple(message.blocksizes),
    )
