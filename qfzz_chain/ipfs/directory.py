"""Pure UnixFS directories: kubo's basic directory nodes and HAMT shards, and reading them back.

A directory is one dag-pb node whose links are its entries, sorted by name (dag-pb's canonical
order), with UnixFS ``Data`` of type Directory (``08 01``). Above kubo's sharding threshold it
becomes a HAMT (UnixFS type HAMTShard, go-unixfs ``hamt``):

- Threshold: kubo's ``Internal.UnixFSShardingSizeThreshold``, 256 KiB by default, compared with
  the *estimated* size, the sum of ``len(name) + len(cid bytes)`` over the entries (boxo's
  ``productionLinkSize``); a directory shards when the estimate is at least the threshold
  (boxo's ``>=`` in kubo 0.2x–0.3x; the newest boxo, IPIP-499, uses ``>``, which differs only
  for a directory whose estimate is exactly 262,144 bytes).
- Hash: murmur3 x64 128-bit with seed 0, of which kubo keeps the first 64-bit half, big-endian
  (multicodec 0x22). Each level consumes 8 bits of it (fanout 256), most significant first.
- A slot holding one entry links to it under ``XX<name>`` (the slot index in two upper-case hex
  digits); a slot that several entries reach links to a child shard under ``XX``. Links follow
  slot order; the node's ``Data`` is the occupied-slot bitfield, big-endian with leading zero
  bytes dropped, plus ``hashType`` 0x22 and ``fanout`` 256.

The structure depends only on the set of names, not the order they were added in, so it is the
shard kubo builds. Tested against kubo's own CIDs for 100, 2,000 (forced sharding) and 5,960
entries (``test/sharness/t0260-sharding.sh``).
"""

from __future__ import annotations

from typing import Callable, Iterator, NamedTuple, Sequence

import mmh3

from qfzz_chain.ipfs.cid import DAG_PB, block_cid
from qfzz_chain.ipfs.dagpb import (
    UNIXFS_DIRECTORY,
    UNIXFS_HAMT_SHARD,
    UNIXFS_SYMLINK,
    Link,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
)
from qfzz_chain.ipfs.unixfs import Block

HAMT_THRESHOLD = 256 * 1024
HAMT_FANOUT = 256
HAMT_HASH_MURMUR3 = 0x22
_HASH_BYTES = 8


class DirEntry(NamedTuple):
    """One named child of a directory: its binary CID and its whole-DAG size (the link Tsize)."""

    name: str
    cid: bytes
    tsize: int


def check_name(name: str) -> None:
    """Refuse names a UnixFS directory cannot hold (as kubo's MFS refuses them)."""
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        raise ValueError(f"{name!r} is not a valid directory entry name")


def estimated_size(entries: Sequence[DirEntry]) -> int:
    """boxo's estimate of a basic directory's size: names plus binary CIDs."""
    return sum(len(entry.name.encode()) + len(entry.cid) for entry in entries)


def directory_blocks(
    entries: Sequence[DirEntry], *, cid_version: int = 0, shard_threshold: int = HAMT_THRESHOLD
) -> list[Block]:
    """The blocks of a directory holding ``entries``, children first, the root last.

    ``shard_threshold=0`` never shards (kubo with sharding off); 1 always shards (kubo's
    ``UnixFSShardingSizeThreshold: "1B"``).
    """
    names = [entry.name for entry in entries]
    for name in names:
        check_name(name)
    if len(set(names)) != len(names):
        raise ValueError("a directory cannot hold two entries of the same name")
    if shard_threshold and estimated_size(entries) >= shard_threshold:
        blocks: list[Block] = []
        _hamt(sorted(entries, key=_name_key), 0, cid_version, blocks)
        return blocks
    ordered = sorted(entries, key=_name_key)
    data = encode_node([Link(e.cid, e.tsize, e.name) for e in ordered], encode_unixfs(UNIXFS_DIRECTORY))
    return [_block(data, cid_version, sum(entry.tsize for entry in ordered))]


def symlink_block(target: str, *, cid_version: int = 0) -> Block:
    """A UnixFS symlink node (kubo adds symlinks as such, never following them)."""
    data = encode_node((), encode_unixfs(UNIXFS_SYMLINK, data=target.encode()))
    return _block(data, cid_version, 0)


def _name_key(entry: DirEntry) -> bytes:
    return entry.name.encode()


def _block(data: bytes, cid_version: int, below: int) -> Block:
    return Block(cid=block_cid(data, codec=DAG_PB, version=cid_version), data=data,
                 dag_size=len(data) + below, file_size=0)  # fmt: skip


def hamt_hash(name: str) -> bytes:
    """The 8 hash bytes kubo's HAMT indexes by: murmur3-x64-128's first half, big-endian."""
    return mmh3.mmh3_x64_128_digest(name.encode())[:_HASH_BYTES][::-1]


def _hamt(entries: list[DirEntry], depth: int, cid_version: int, out: list[Block]) -> Block:
    if depth >= _HASH_BYTES:
        raise ValueError("HAMT hash exhausted: too many names share a 64-bit murmur3 hash")
    slots: dict[int, list[DirEntry]] = {}
    for entry in entries:
        slots.setdefault(hamt_hash(entry.name)[depth], []).append(entry)
    links: list[Link] = []
    bitfield = 0
    for index in sorted(slots):
        bitfield |= 1 << index
        members = slots[index]
        if len(members) == 1:
            entry = members[0]
            links.append(Link(entry.cid, entry.tsize, f"{index:02X}{entry.name}"))
        else:
            child = _hamt(members, depth + 1, cid_version, out)
            links.append(Link(child.cid, child.dag_size, f"{index:02X}"))
    field = bitfield.to_bytes(HAMT_FANOUT // 8, "big").lstrip(b"\x00")
    unixfs = encode_unixfs(UNIXFS_HAMT_SHARD, data=field or None, hash_type=HAMT_HASH_MURMUR3, fanout=HAMT_FANOUT)
    block = _block(encode_node(links, unixfs), cid_version, sum(link.tsize for link in links))
    out.append(block)
    return block


# ---- reading ------------------------------------------------------------------------------------

GetBlock = Callable[[bytes], bytes]


def is_directory_node(data: bytes) -> bool:
    """Whether a dag-pb block is a UnixFS directory or HAMT shard."""
    try:
        return decode_unixfs(decode_node(data).data).type in (UNIXFS_DIRECTORY, UNIXFS_HAMT_SHARD)
    except ValueError:
        return False


def directory_entries(data: bytes, get_block: GetBlock) -> Iterator[Link]:
    """The entries of a directory node (basic: link order; HAMT: slot order, names unprefixed).

    ``get_block`` fetches (and verifies) a child shard's block. ``ValueError`` if ``data`` is
    not a directory or a shard is malformed.
    """
    node = decode_node(data)
    unixfs = decode_unixfs(node.data)
    if unixfs.type == UNIXFS_DIRECTORY:
        yield from node.links
        return
    if unixfs.type != UNIXFS_HAMT_SHARD:
        raise ValueError("not a UnixFS directory")
    stack = [iter(_shard_links(node, unixfs))]
    while stack:
        link = next(stack[-1], None)
        if link is None:
            stack.pop()
            continue
        if len(link.name) == _prefix_length(unixfs.fanout):
            child = decode_node(get_block(link.cid))
            stack.append(iter(_shard_links(child, decode_unixfs(child.data))))
        else:
            yield Link(link.cid, link.tsize, link.name[_prefix_length(unixfs.fanout) :])


def _prefix_length(fanout: int | None) -> int:
    return len(f"{(fanout or HAMT_FANOUT) - 1:X}")


def _shard_links(node, unixfs) -> tuple[Link, ...]:
    if unixfs.type != UNIXFS_HAMT_SHARD:
        raise ValueError("a HAMT links to a node that is not a shard")
    if unixfs.hash_type != HAMT_HASH_MURMUR3:
        raise ValueError(f"HAMT hash function {unixfs.hash_type} is not supported (only murmur3)")
    if unixfs.fanout != HAMT_FANOUT:
        raise ValueError(f"HAMT fanout {unixfs.fanout} is not supported (only {HAMT_FANOUT})")
    for link in node.links:
        if len(link.name) < _prefix_length(unixfs.fanout):
            raise ValueError(f"invalid HAMT link name {link.name!r}")
    return node.links


def find_entry(data: bytes, name: str, get_block: GetBlock) -> Link | None:
    """The entry called ``name`` in a directory node, or None; a HAMT is searched by hash."""
    node = decode_node(data)
    unixfs = decode_unixfs(node.data)
    if unixfs.type == UNIXFS_DIRECTORY:
        return next((link for link in node.links if link.name == name), None)
    if unixfs.type != UNIXFS_HAMT_SHARD:
        raise ValueError("not a UnixFS directory")
    digest = hamt_hash(name)
    for depth in range(_HASH_BYTES):
        prefix = f"{digest[depth]:02X}"
        links = _shard_links(node, unixfs)
        match = None
        for link in links:
            if link.name == prefix:
                match = link
                break
            if link.name == prefix + name:
                return Link(link.cid, link.tsize, name)
        if match is None:
            return None
        node = decode_node(get_block(match.cid))
        unixfs = decode_unixfs(node.data)
    return None
