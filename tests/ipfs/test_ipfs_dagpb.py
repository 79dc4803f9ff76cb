"""The hand-written dag-pb/UnixFS codec against protobuf's own serialisation of kubo's proto2 schemas."""

from __future__ import annotations

import random

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from ipfs_test_support import CHUNK, pseudo_random_bytes

from qfzz_chain.ipfs import dagpb
from qfzz_chain.ipfs.dagpb import Link

_F = descriptor_pb2.FieldDescriptorProto
_SCHEMA = [
    ("PBLink", [("Hash", 1, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""), ("Name", 2, _F.TYPE_STRING, _F.LABEL_OPTIONAL, ""),
                ("Tsize", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, "")]),
    ("PBNode", [("Links", 2, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, ".ref.PBLink"),
                ("Data", 1, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, "")]),
    ("Data", [("Type", 1, _F.TYPE_ENUM, _F.LABEL_REQUIRED, ".ref.Data.DataType"),
              ("Data", 2, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, ""), ("filesize", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""),
              ("blocksizes", 4, _F.TYPE_UINT64, _F.LABEL_REPEATED, ""),
              ("hashType", 5, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, ""), ("fanout", 6, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, "")]),
]  # fmt: skip


def _compile():
    proto = descriptor_pb2.FileDescriptorProto(name="ref_unixfs.proto", package="ref", syntax="proto2")
    for message_name, fields in _SCHEMA:
        message = proto.message_type.add(name=message_name)
        for name, number, type_, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=type_, label=label)
            if type_name:
                field.type_name = type_name
    kinds = proto.message_type[2].enum_type.add(name="DataType")
    for number, name in enumerate(dagpb.UNIXFS_TYPES):
        kinds.value.add(name=name, number=number)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return [message_factory.GetMessageClass(pool.FindMessageTypeByName(f"ref.{n}")) for n, _ in _SCHEMA]


PBLink, PBNode, UnixfsData = _compile()


def reference_node(links, data):
    """Canonical dag-pb through protobuf: links then data, serialised as two merged messages."""
    head = PBNode(Links=[PBLink(Hash=l.cid, Name=l.name, Tsize=l.tsize) for l in links]).SerializeToString()
    return head + (PBNode(Data=data).SerializeToString() if data is not None else b"")


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16383, 16384, CHUNK - 1, CHUNK])
def test_file_leaf_is_protobufs_bytes(size):
    chunk = pseudo_random_bytes(size, seed=size)
    unixfs = UnixfsData(Type=2, filesize=size)
    if chunk:
        unixfs.Data = chunk
    assert dagpb.encode_file_leaf(chunk) == reference_node((), unixfs.SerializeToString())


def test_nodes_and_unixfs_messages_are_protobufs_bytes_and_round_trip():
    rng = random.Random(7)
    for _ in range(200):
        links = [Link(rng.randbytes(rng.choice([34, 36])), rng.randrange(1 << rng.randrange(1, 63)),
                      rng.choice(["", "a", "ü" * rng.randrange(60), f"{rng.randrange(256):02X}x"]))
                 for _ in range(rng.randrange(5))]  # fmt: skip
        sizes = [rng.randrange(1 << 40) for _ in range(rng.randrange(4))]
        kind = rng.choice([1, 2, 4, 5])
        fields = {"Type": kind}
        if kind == 2:
            fields.update(filesize=sum(sizes), blocksizes=sizes)
        if kind in (4, 5) and rng.random() < 0.8:
            fields["Data"] = rng.randbytes(rng.randrange(40))
        if kind == 5:
            fields.update(hashType=0x22, fanout=256)
        reference = UnixfsData(**fields).SerializeToString()
        ours = dagpb.encode_unixfs(kind, data=fields.get("Data"), filesize=fields.get("filesize"),
                                   blocksizes=fields.get("blocksizes", ()), hash_type=fields.get("hashType"),
                                   fanout=fields.get("fanout"))  # fmt: skip
        assert ours == reference
        block = dagpb.encode_node(links, ours)
        assert block == reference_node(links, reference)
        node = dagpb.decode_node(block)
        assert node.links == tuple(links) and node.data == ours
        decoded = dagpb.decode_unixfs(node.data)
        assert (decoded.type, decoded.blocksizes) == (kind, tuple(fields.get("blocksizes", ())))


@pytest.mark.parametrize("bad", [b"\x0a", b"\x0a\x05ab", b"\x1a\x00", b"\x12\x02\x18\x01", b"\xff" * 11])
def test_malformed_dag_pb_is_a_value_error(bad):
    with pytest.raises(ValueError):
        dagpb.decode_node(bad)


def test_packed_blocksizes_are_read():
    packed = UnixfsData(Type=2, filesize=3)
    raw = packed.SerializeToString() + b"\x22\x02\x01\x02"  # field 4, length-delimited: [1, 2]
    assert dagpb.decode_unixfs(raw).blocksizes == (1, 2)
