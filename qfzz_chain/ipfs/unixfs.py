"""Pure UnixFS file importer: kubo's ``ipfs add`` defaults, as a stream of blocks.

Chunking is fixed-size (256 KiB, ``size-262144``); the layout is kubo's *balanced* one with at
most 174 links per node. CIDv0 puts each chunk in a UnixFS file leaf; CIDv1 uses raw leaves (as
kubo does unless ``--raw-leaves=false``), and inner nodes stay dag-pb in both.

The builder keeps one list of pending links per tree level, so memory is bounded by the tree
height (a few KB), not the file size. Its output is identical to go-unixfs's recursive
``balanced.Layout``: a full node is closed only when a further chunk arrives, which gives the
same left-filled tree with every leaf at the same depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator

from qfzz_chain.ipfs.cid import DAG_PB, RAW, block_cid
from qfzz_chain.ipfs.dagpb import Link, encode_file_branch, encode_file_leaf

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174


@dataclass(frozen=True)
class Block:
    """A block and its binary CID; ``dag_size`` counts the block and all below it (link Tsize)."""

    cid: bytes
    data: bytes
    dag_size: int
    file_size: int


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Full ``chunk_size`` pieces of ``stream`` (only the last may be shorter), like io.ReadFull.

    Short reads from pipes and sockets are joined so chunk boundaries (and so CIDs) do not
    depend on how the bytes arrived.
    """
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        while len(chunk) < chunk_size:
            more = stream.read(chunk_size - len(chunk))
            if not more:
                break
            chunk += more
        yield chunk
        if len(chunk) < chunk_size:
            return


@dataclass
class _Level:
    links: list[Link] = field(default_factory=list)
    file_sizes: list[int] = field(default_factory=list)


class _BalancedBuilder:
    """Pending links per level (0 = leaves); closing a level yields its node and pushes it up."""

    def __init__(self, cid_version: int):
        self._cid_version = cid_version
        self._levels: list[_Level] = [_Level()]

    def leaf(self, chunk: bytes) -> Block:
        if self._cid_version == 0:
            data = encode_file_leaf(chunk)
            cid = block_cid(data, codec=DAG_PB, version=0)
        else:
            data = chunk
            cid = block_cid(data, codec=RAW, version=1)
        return Block(cid=cid, data=data, dag_size=len(data), file_size=len(chunk))

    def push(self, level: int, child: Block) -> Iterator[Block]:
        """Add ``child`` under ``level``, first closing that level's node if it is full."""
        if len(self._levels) == level:
            self._levels.append(_Level())
        if len(self._levels[level].links) == MAX_LINKS:
            yield from self._close(level)
        pending = self._levels[level]
        pending.links.append(Link(cid=child.cid, tsize=child.dag_size))
        pending.file_sizes.append(child.file_size)

    def finish(self) -> Iterator[Block]:
        """Close every open level bottom-up; the last block yielded is the root.

        A file of one chunk has no inner node: its leaf (already yielded) is the root.
        """
        level = 0
        while level < len(self._levels) - 1:
            if self._levels[level].links:
                yield from self._close(level)
            level += 1
        if len(self._levels[-1].links) > 1:
            yield self._node(self._levels[-1])

    def _close(self, level: int) -> Iterator[Block]:
        node = self._node(self._levels[level])
        self._levels[level] = _Level()
        yield node
        yield from self.push(level + 1, node)

    def _node(self, pending: _Level) -> Block:
        data = encode_file_branch(pending.links, pending.file_sizes)
        return Block(
            cid=block_cid(data, codec=DAG_PB, version=self._cid_version),
            data=data,
            dag_size=len(data) + sum(link.tsize for link in pending.links),
            file_size=sum(pending.file_sizes),
        )


def file_blocks(chunks: Iterable[bytes], *, cid_version: int = 0) -> Iterator[Block]:
    """Every block of a UnixFS file built from ``chunks``, children before parents.

    The last block yielded is the root. An empty input gives kubo's empty-file node.
    """
    if cid_version not in (0, 1):
        raise ValueError(f"CID version must be 0 or 1, not {cid_version}")
    builder = _BalancedBuilder(cid_version)
    empty = True
    for chunk in chunks:
        empty = False
        leaf = builder.leaf(chunk)
        yield leaf
        yield from builder.push(0, leaf)
    if empty:
        yield builder.leaf(b"")
        return
    yield from builder.finish()
