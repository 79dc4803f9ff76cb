"""Pure UnixFS file importer: kubo's ``ipfs add`` as a stream of blocks.

Chunking is fixed-size (``size-N``, 256 KiB by default, at most 1 MiB as kubo's chunker
allows); the layout is kubo's *balanced* one with at most 174 links per node. Leaves are raw
blocks (CIDv1, codec raw) or UnixFS file nodes in dag-pb: raw by default with CIDv1, UnixFS by
default with CIDv0, and either way when ``raw_leaves`` is given, exactly as kubo's
``--raw-leaves`` / ``--raw-leaves=false`` do (raw leaves under a CIDv0 root are CIDv1 ``bafk…``
blocks linked from ``Qm…`` nodes). Inner nodes are dag-pb with the requested CID version.

The builder keeps one list of pending links per tree level, so memory is bounded by the tree
height (a few KB), not the file size. Its output is identical to go-unixfs's recursive
``balanced.Layout``: a full node is closed only when a further chunk arrives, which gives the
same left-filled tree with every leaf at the same depth.
"""

from __future__ import annotations

from typing import BinaryIO, Iterable, Iterator, NamedTuple

from qfzz_chain.ipfs.cid import DAG_PB, RAW, block_cid
from qfzz_chain.ipfs.dagpb import Link, encode_file_branch, encode_file_leaf

CHUNK_SIZE = 256 * 1024
MAX_CHUNK_SIZE = 1024 * 1024  # boxo's ChunkSizeLimit: no leaf carries more than 1 MiB
MAX_LINKS = 174


def parse_chunker(spec: str | None) -> int:
    """The chunk size of a kubo ``--chunker`` value: ``size-N`` (or ``default``).

    ``ValueError`` with kubo's wording for the rest (rabin and buzhash are not implemented).
    """
    if spec in (None, "", "default"):
        return CHUNK_SIZE
    if spec.startswith("size-"):
        text = spec[len("size-") :]
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            raise ValueError(f"invalid chunker size {text!r}: expected a number of bytes")
        size = int(text)
        if size <= 0:
            raise ValueError("chunker size must be greater than 0")
        if size > MAX_CHUNK_SIZE:
            raise ValueError(f"chunker parameters may not exceed the maximum chunk size of {MAX_CHUNK_SIZE}")
        return size
    name = spec.split("-", 1)[0]
    if name in ("rabin", "buzhash"):
        raise ValueError(f"chunker {spec!r} is not supported here: use size-N")
    raise ValueError(f"unrecognized chunker option: {spec}")


class Block(NamedTuple):
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


class _Level:
    __slots__ = ("links", "file_sizes")

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.file_sizes: list[int] = []


class _BalancedBuilder:
    """Pending links per level (0 = leaves); closing a level yields its node and pushes it up."""

    def __init__(self, cid_version: int, raw_leaves: bool | None = None):
        self._cid_version = cid_version
        self._raw_leaves = cid_version == 1 if raw_leaves is None else raw_leaves
        self._levels: list[_Level] = [_Level()]

    def leaf(self, chunk: bytes) -> Block:
        if self._raw_leaves:
            data = chunk
            cid = block_cid(data, codec=RAW, version=1)
        else:
            data = encode_file_leaf(chunk)
            cid = block_cid(data, codec=DAG_PB, version=self._cid_version)
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


def file_blocks(
    chunks: Iterable[bytes], *, cid_version: int = 0, raw_leaves: bool | None = None
) -> Iterator[Block]:
    """Every block of a UnixFS file built from ``chunks``, children before parents.

    The last block yielded is the root. An empty input gives kubo's empty-file node (an empty
    raw block with raw leaves). ``raw_leaves=None`` is kubo's default for the CID version.
    """
    if cid_version not in (0, 1):
        raise ValueError(f"CID version must be 0 or 1, not {cid_version}")
    builder = _BalancedBuilder(cid_version, raw_leaves)
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
