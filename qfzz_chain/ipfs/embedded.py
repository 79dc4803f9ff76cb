"""The embedded content store (the default backend): kubo-compatible blocks and pins on disk.

Repository layout (``ipfs_repo_path()``)::

    blocks/XY/<BASE32 MULTIHASH>.data   one verified block per file (flatfs-like), fsync'ed
    tmp/                                scratch files, fsync'ed and renamed into ``blocks/``
    pins.json                           recursive pins, rewritten atomically and durably
    repo.lock, pins.lock                advisory locks (adders share, GC and repair exclude)

Reads stream one block at a time and check every block against its hash. A block that is not
on disk is fetched from the configured peers (trustless gateways, ``peers.py``), verified, and
kept as an unpinned cache entry (``gc`` removes it unless a pin reaches it), as kubo caches what
it fetches.

Write ordering (crash safety): blocks are durable (fsync, rename, folder fsync) before the pin
that names them is written, and the pin file is replaced atomically and durably. A crash at any
point leaves either the old pins or the new ones, and every pinned DAG complete; what a crashed
add had written is unpinned garbage that ``gc`` removes. ``tests/ipfs/test_ipfs_crash.py`` kills
adds at random points and checks exactly that.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat as stat_module
import threading
from collections import OrderedDict
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterator, Sequence

from qfzz_chain.ipfs.blockstore import FlatBlockstore, file_lock, fsync_path
from qfzz_chain.ipfs.car import (
    encode_header,
    encode_section,
    read_header,
    read_sections,
    verify_section,
)
from qfzz_chain.ipfs.cid import (
    DAG_CBOR,
    DAG_PB,
    RAW,
    block_cid,
    cid_bytes,
    cid_text,
    parse_path,
    split_cid,
)
from qfzz_chain.ipfs.dagpb import (
    UNIXFS_DIRECTORY,
    UNIXFS_FILE,
    UNIXFS_HAMT_SHARD,
    UNIXFS_RAW,
    UNIXFS_SYMLINK,
    decode_node,
    decode_unixfs,
)
from qfzz_chain.ipfs.directory import (
    HAMT_THRESHOLD,
    DirEntry,
    check_name,
    directory_blocks,
    directory_entries,
    find_entry,
    symlink_block,
)
from qfzz_chain.ipfs.errors import (
    BlockCorruptedError,
    BlockNotFoundError,
    CarFormatError,
    IpfsError,
    IsDirectoryError,
    NotAFileError,
    PathNotFoundError,
)
from qfzz_chain.ipfs.peers import PeerSet
from qfzz_chain.ipfs.store import (
    AddedEntry,
    AddResult,
    DirectoryAddResult,
    ImportedRoot,
    ImportResult,
    LsEntry,
    Progress,
    RepairResult,
    open_to_add,
)
from qfzz_chain.ipfs.unixfs import CHUNK_SIZE, MAX_CHUNK_SIZE, Block, file_blocks, read_chunks

MAX_BLOCK_PUT_BYTES = 1024 * 1024  # kubo's soft block limit for `block put`


class EmbeddedStore:
    """A ``ContentStore`` on the local disk, needing no IPFS daemon."""

    kind = "embedded"

    def __init__(
        self, repo: Path, *, peers: Sequence[str] = (), peer_timeout: float = 30.0, cache_bytes: int = 0
    ):
        """``cache_bytes`` keeps that many bytes of recently read, verified blocks in memory for
        file reads (a gateway serving one album to many listeners hashes each block once);
        verification, pinning and repair always read the disk."""
        self.repo = repo
        self._blocks = FlatBlockstore(repo)
        self._pins_path = repo / "pins.json"
        self._repo_lock = repo / "repo.lock"
        self._pins_lock = repo / "pins.lock"
        self.peers = PeerSet(tuple(peers), timeout=peer_timeout)
        self._fetched = 0  # blocks fetched from peers by this instance
        self._exclusive = False  # this instance holds the exclusive repository lock (repair)
        self._cache_budget = cache_bytes
        self._cache: "OrderedDict[bytes, bytes]" = OrderedDict()
        self._cache_size = 0
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.repo)!r}, peers={list(self.peers.urls)!r})"

    def close(self) -> None:
        """Close kept-alive connections to peers (everything else opens and closes per call)."""
        self.peers.close()

    # ---- reading blocks (local, else from peers) ----------------------------------------------

    def _read(self, cid: bytes) -> bytes:
        """A verified block: from disk, else from a peer (then cached on disk, unpinned)."""
        try:
            return self._blocks.get(cid)
        except (BlockNotFoundError, BlockCorruptedError) as local:
            if not self.peers:
                raise
            try:
                data = self.peers.get_block(cid)
            except BlockNotFoundError as remote:
                raise (remote if remote.peers else local) from None
        with contextlib.suppress(IpfsError):  # a read-only repository still serves reads
            # Under repair's exclusive lock already: taking the shared one would wait forever.
            lock = contextlib.nullcontext() if self._exclusive else file_lock(self._repo_lock, shared=True)
            with lock:
                self._blocks.put(cid, data, check_existing=False)
        self._fetched += 1
        return data

    def _read_cached(self, cid: bytes) -> bytes:
        """``_read`` through the in-memory cache of verified blocks (content never changes)."""
        if not self._cache_budget:
            return self._read(cid)
        with self._cache_lock:
            data = self._cache.get(cid)
            if data is not None:
                self._cache.move_to_end(cid)
                return data
        data = self._read(cid)
        if len(data) <= self._cache_budget // 4:
            with self._cache_lock:
                if cid not in self._cache:
                    self._cache[cid] = data
                    self._cache_size += len(data)
                    while self._cache_size > self._cache_budget:
                        _old, dropped = self._cache.popitem(last=False)
                        self._cache_size -= len(dropped)
        return data

    def _drop_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._cache_size = 0

    def get_block(self, cid: str) -> bytes:
        """One block's bytes, verified against its CID (fetched from a peer if need be)."""
        return self._read(cid_bytes(cid))

    def has_block(self, cid: str) -> bool:
        """Whether an intact copy of the block is on this disk (peers are not asked)."""
        return self._blocks.is_intact(cid_bytes(cid))

    # ---- adding ---------------------------------------------------------------------------

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        progress: Progress | None = None,
        raw_leaves: bool | None = None,
        chunk_size: int = CHUNK_SIZE,
        pin: bool = True,
        wrap: bool = False,
    ) -> AddResult:
        """Chunk, store and pin a file (``ipfs add FILE``); ``only_hash`` stores nothing.

        With ``wrap`` the file is put in a directory of its own (``ipfs add -w``): the result is
        the directory, whose one entry is the file under its name.
        """
        if wrap:
            return self.add_directory(
                path, cid_version=cid_version, only_hash=only_hash, progress=progress,
                raw_leaves=raw_leaves, chunk_size=chunk_size, pin=pin, wrap=True,
            )  # fmt: skip
        # Unbuffered: each read goes straight into the chunk, without a second copy.
        with open_to_add(path, buffering=0) as (handle, total):
            return self.add_stream(
                handle, name=Path(path).name, cid_version=cid_version, only_hash=only_hash,
                progress=progress, total=total, raw_leaves=raw_leaves, chunk_size=chunk_size, pin=pin,
            )  # fmt: skip

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, only_hash: bool = False, raw_leaves: bool | None = None
    ) -> AddResult:
        """Store and pin ``data`` as a UnixFS file."""
        return self.add_stream(io.BytesIO(data), cid_version=cid_version, only_hash=only_hash, raw_leaves=raw_leaves)

    def add_stream(
        self,
        stream: BinaryIO,
        *,
        name: str = "",
        cid_version: int = 0,
        only_hash: bool = False,
        pin: bool = True,
        progress: Progress | None = None,
        total: int = 0,
        raw_leaves: bool | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> AddResult:
        """Store everything read from ``stream`` as one UnixFS file and pin it (unless told not).

        A read error part-way removes the blocks this add wrote (unless a pin needs them), so
        the store is left as it was.
        """
        _check_add_options(cid_version, chunk_size)
        with self._adding(only_hash) as put:
            root = self._add_one_file(stream, name, put, cid_version, raw_leaves, chunk_size, progress, total)
            put.finish()
            if pin and not only_hash:
                self._add_pin(cid_text(root.cid))
        return AddResult(cid=cid_text(root.cid), size=root.file_size, dag_size=root.dag_size, name=name)

    def _add_one_file(
        self,
        stream: BinaryIO,
        name: str,
        put: "_Putter",
        cid_version: int,
        raw_leaves: bool | None,
        chunk_size: int,
        progress: Progress | None,
        total: int,
        base: int = 0,
    ) -> Block:
        done = 0

        def counted_chunks() -> Iterator[bytes]:
            nonlocal done
            try:
                for chunk in read_chunks(stream, chunk_size):
                    done += len(chunk)
                    yield chunk
                    if progress is not None:
                        progress(base + done, total)
            except OSError as exc:
                raise IpfsError(f"cannot read {name or 'input'}: {exc.strerror or exc}") from None

        root = None
        for block in file_blocks(counted_chunks(), cid_version=cid_version, raw_leaves=raw_leaves):
            put(block)
            root = block
        assert root is not None  # file_blocks always yields at least the root
        if progress is not None and done == 0:
            progress(base, total)
        return root

    @contextlib.contextmanager
    def _adding(self, only_hash: bool) -> Iterator["_Putter"]:
        """The shared lock and a durable writer for one add; on failure, its new blocks go again."""
        if only_hash:
            yield _Putter(None)
            return
        lock = file_lock(self._repo_lock, shared=True)
        writer = self._blocks.writer()
        try:
            with lock:
                yield _Putter(writer)
        except BaseException:
            writer.abandon()
            self._discard(writer.written)
            raise

    def add_directory(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        chunk_size: int = CHUNK_SIZE,
        pin: bool = True,
        only_hash: bool = False,
        hidden: bool = False,
        wrap: bool = False,
        progress: Progress | None = None,
        shard_threshold: int = HAMT_THRESHOLD,
    ) -> DirectoryAddResult:
        """Add a folder and everything in it as ``ipfs add -r`` does, and pin the root.

        Entries are read in name order; hidden entries (names starting with ``.``) are skipped
        unless ``hidden``; symlinks are stored as UnixFS symlinks, never followed. Directories
        shard into a HAMT above kubo's threshold. With ``wrap`` (``-w``) the folder (or a single
        file) becomes the one entry of a new directory.
        """
        _check_add_options(cid_version, chunk_size)
        source = Path(path)
        try:
            info = source.lstat()
        except OSError as exc:
            raise IpfsError(f"cannot read {source}: {exc.strerror or exc}") from None
        is_dir = stat_module.S_ISDIR(info.st_mode)
        if not is_dir and not wrap:
            raise IpfsError(f"{source} is not a directory")
        total = _tree_size(source, hidden) if progress is not None else 0
        entries: list[AddedEntry] = []
        options = (cid_version, raw_leaves, chunk_size, hidden, shard_threshold)
        with self._adding(only_hash) as put:
            state = _AddState(put, options, progress, total)
            if is_dir:
                root = self._add_tree(source, "", state, entries)
            else:
                root = self._add_path(source, source.name, state, entries)
            name = source.name or str(source)
            if wrap:
                top = directory_blocks([DirEntry(name, root.cid, root.dag_size)], cid_version=cid_version,
                                       shard_threshold=shard_threshold)  # fmt: skip
                for block in top:
                    put(block)
                root = top[-1]
                if is_dir:  # the folder itself, named as it appears inside the wrapper
                    last = entries[-1]
                    entries[-1] = AddedEntry(name, last.cid, last.size, last.dag_size, last.kind)
                entries.append(AddedEntry("", cid_text(root.cid), state.bytes, root.dag_size, "directory"))
            put.finish()
            if pin and not only_hash:
                self._add_pin(cid_text(root.cid))
        return DirectoryAddResult(
            cid=cid_text(root.cid), size=state.bytes, dag_size=root.dag_size, name=name, entries=tuple(entries)
        )

    def _add_tree(self, folder: Path, relative: str, state: "_AddState", entries: list[AddedEntry]) -> Block:
        try:
            names = sorted(os.listdir(folder), key=lambda n: os.fsencode(n))
        except OSError as exc:
            raise IpfsError(f"cannot read {folder}: {exc.strerror or exc}") from None
        children: list[DirEntry] = []
        for name in names:
            if name.startswith(".") and not state.hidden:
                continue
            try:
                check_name(name)
                name.encode()
            except (ValueError, UnicodeEncodeError):
                raise IpfsError(f"cannot add {folder / name}: the name is not valid UTF-8 or UnixFS") from None
            child_relative = f"{relative}/{name}" if relative else name
            block = self._add_path(folder / name, child_relative, state, entries)
            children.append(DirEntry(name, block.cid, block.dag_size))
        blocks = directory_blocks(children, cid_version=state.cid_version, shard_threshold=state.shard_threshold)
        for block in blocks:
            state.put(block)
        root = blocks[-1]
        entries.append(AddedEntry(relative or folder.name, cid_text(root.cid), 0, root.dag_size, "directory"))
        return root

    def _add_path(self, path: Path, relative: str, state: "_AddState", entries: list[AddedEntry]) -> Block:
        try:
            info = path.lstat()
        except OSError as exc:
            raise IpfsError(f"cannot read {path}: {exc.strerror or exc}") from None
        if stat_module.S_ISDIR(info.st_mode):
            return self._add_tree(path, relative, state, entries)
        if stat_module.S_ISLNK(info.st_mode):
            block = symlink_block(os.readlink(path), cid_version=state.cid_version)
            state.put(block)
            entries.append(AddedEntry(relative, cid_text(block.cid), 0, block.dag_size, "symlink"))
            return block
        if not stat_module.S_ISREG(info.st_mode):
            raise IpfsError(f"cannot add {path}: not a regular file, folder or symlink")
        with open_to_add(path, buffering=0) as (handle, _size):
            root = self._add_one_file(handle, relative, state.put, state.cid_version, state.raw_leaves,
                                      state.chunk_size, state.progress, state.total, state.bytes)  # fmt: skip
        state.bytes += root.file_size
        entries.append(AddedEntry(relative, cid_text(root.cid), root.file_size, root.dag_size, "file"))
        return root

    def put_block(self, data: bytes, *, codec: int = RAW, cid_version: int = 1, pin: bool = False) -> str:
        """Store one block as given (``ipfs block put``); returns its CID."""
        if len(data) > MAX_BLOCK_PUT_BYTES:
            raise IpfsError(
                "produced block is over 1MiB: big blocks can't be exchanged with other peers. "
                "consider using UnixFS for automatic chunking of bigger files"
            )
        if codec not in (RAW, DAG_PB, DAG_CBOR):
            raise IpfsError(f"codec {codec:#x} is not supported (raw, dag-pb or dag-cbor)")
        if codec == DAG_PB and cid_version == 0:
            pass
        elif cid_version == 0:
            raise IpfsError("CIDv0 only supports dag-pb: use CID version 1")
        cid = block_cid(data, codec=codec, version=cid_version)
        if codec == DAG_CBOR:
            _check_dag_cbor(cid, data, error=IpfsError)
        elif codec == DAG_PB:
            try:
                decode_node(data)
            except ValueError as exc:
                raise IpfsError(f"block is not valid dag-pb: {exc}") from None
        with self._adding(False) as put:
            put(Block(cid=cid, data=data, dag_size=len(data), file_size=0))
            put.finish()
            if pin:
                self._add_pin(cid_text(cid))
        return cid_text(cid)

    # ---- paths ------------------------------------------------------------------------------

    def resolve(self, path: str, *, trail: list[tuple[bytes, bytes]] | None = None) -> bytes:
        """The binary CID that ``CID/a/b`` names, walking directories (HAMTs by hash).

        ``trail`` collects every block read on the way (directories and HAMT shards), which a
        CAR answer for a path must carry so its receiver can verify the path.
        """
        parsed = parse_path(path)
        cid = parsed.root.binary

        def read(block: bytes) -> bytes:
            data = self._read_cached(block)
            if trail is not None:
                trail.append((block, data))
            return data

        for index, name in enumerate(parsed.names):
            data = read(cid)
            if split_cid(cid)[0] != DAG_PB:
                raise NotAFileError(f"no link named {name!r} under {cid_text(cid)}")
            try:
                link = find_entry(data, name, read)
            except ValueError:
                raise NotAFileError(f"no link named {name!r} under {cid_text(cid)}") from None
            if link is None:
                where = "/".join((str(parsed.root), *parsed.names[:index]))
                raise PathNotFoundError(f"no link named {name!r} under {where}")
            cid = link.cid
        return cid

    def node_type(self, cid: bytes, data: bytes | None = None) -> str:
        """``file``, ``directory``, ``symlink`` or ``unknown`` (not UnixFS) for a block."""
        codec = split_cid(cid)[0]
        if codec == RAW:
            return "file"
        if codec != DAG_PB:
            return "unknown"
        try:
            unixfs = decode_unixfs(decode_node(data if data is not None else self._read(cid)).data)
        except ValueError:
            return "unknown"
        return {UNIXFS_FILE: "file", UNIXFS_RAW: "file", UNIXFS_DIRECTORY: "directory",
                UNIXFS_HAMT_SHARD: "directory", UNIXFS_SYMLINK: "symlink"}.get(unixfs.type, "unknown")  # fmt: skip

    # ---- reading files ------------------------------------------------------------------------

    def cat(self, cid: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes from ``offset`` (at most ``length``), verifying each block.

        The root block is read before this returns, so unknown content fails here, before any
        byte is produced. ``cid`` may be a path into a directory.
        """
        if offset < 0 or (length is not None and length < 0):
            raise IpfsError("offset and length must not be negative")
        root = self.resolve(cid)
        data = self._read_cached(root)
        self._file_parts(root, data)  # not a UnixFS file: fail now, not mid-stream
        end = None if length is None else offset + length
        return self._read_range(root, data, offset, end)

    def read_bytes(self, cid: str) -> bytes:
        """A whole file's bytes, verified; for small content (use ``cat`` for large files)."""
        return b"".join(self.cat(cid))

    def file_size(self, cid: str) -> int:
        """A UnixFS file's size in bytes, from its root block alone."""
        root = self.resolve(cid)
        own, children = self._file_parts(root, self._read_cached(root))
        return len(own) + sum(size for _child, size in children)

    def _file_parts(self, cid: bytes, data: bytes) -> tuple[bytes, list[tuple[bytes, int]]]:
        """A file node's own bytes and its children (binary CIDs) with their file-byte sizes."""
        codec = split_cid(cid)[0]
        if codec == RAW:
            return data, []
        if codec != DAG_PB:
            raise NotAFileError(f"{cid_text(cid)} is not a UnixFS file (codec {codec:#x})")
        try:
            node = decode_node(data)
            unixfs = decode_unixfs(node.data)
        except ValueError as exc:
            raise NotAFileError(f"{cid_text(cid)} is not a UnixFS file ({exc})") from None
        if unixfs.type in (UNIXFS_DIRECTORY, UNIXFS_HAMT_SHARD):
            raise IsDirectoryError(f"{cid_text(cid)} is a directory: this dag node is a directory")
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise NotAFileError(f"{cid_text(cid)} is a UnixFS {('symlink' if unixfs.type == UNIXFS_SYMLINK else 'special node')}, not a file")
        if len(unixfs.blocksizes) != len(node.links):
            raise NotAFileError(f"{cid_text(cid)} is a malformed UnixFS file: links and sizes disagree")
        children = zip(node.links, unixfs.blocksizes, strict=True)
        return unixfs.data, [(link.cid, size) for link, size in children]

    def _read_range(self, cid: bytes, data: bytes, start: int, end: int | None) -> Iterator[bytes]:
        """The file bytes in ``[start, end)`` of the DAG under ``cid``, depth-first.

        An explicit stack, so a DAG of any depth (a CAR can hold one) is read without recursion;
        each node's bytes must add up to the size its parent claims for it.
        """
        stack: list[Iterator[tuple[bytes, int, int, int | None]]] = []
        node: tuple[bytes, bytes, int, int | None, int | None] | None = (cid, data, start, end, None)
        while True:
            if node is not None:
                cid, data, start, end, expected = node
                own, children = self._file_parts(cid, data)
                if expected is not None and len(own) + sum(size for _c, size in children) != expected:
                    raise BlockCorruptedError(
                        cid_text(cid), f"it holds a different number of file bytes than its parent says ({expected})"
                    )
                if own:
                    low, high = max(start, 0), len(own) if end is None else min(end, len(own))
                    if low < high:
                        yield own if (low, high) == (0, len(own)) else own[low:high]
                if children:
                    stack.append(_children_in_range(children, len(own), start, end))
                node = None
            if not stack:
                return
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                continue
            child, size, child_start, child_end = step
            node = (child, self._read_cached(child), child_start, child_end, size)

    # ---- directories ---------------------------------------------------------------------------

    def ls(self, path: str) -> list[LsEntry]:
        """The entries of the directory at ``path``, as ``ipfs ls`` lists them (sizes resolved)."""
        cid = self.resolve(path)
        data = self._read(cid)
        if self.node_type(cid, data) != "directory":
            raise NotAFileError(f"{path} is not a directory")
        out = []
        for link in self._entries(cid, data):
            child = self._read(link.cid)
            kind = self.node_type(link.cid, child)
            size = 0
            if kind == "file":
                own, children = self._file_parts(link.cid, child)
                size = len(own) + sum(s for _c, s in children)
            out.append(LsEntry(name=link.name, cid=cid_text(link.cid), size=size, type=kind))
        return out

    def _entries(self, cid: bytes, data: bytes):
        try:
            return list(directory_entries(data, self._read))
        except ValueError as exc:
            raise NotAFileError(f"{cid_text(cid)} is a malformed directory ({exc})") from None

    def get(self, path: str, out: str | os.PathLike[str], *, progress: Progress | None = None) -> int:
        """Write the file, directory or symlink at ``path`` to ``out`` (``ipfs get -o OUT``).

        Written beside ``out`` first and renamed into place when complete, so a failure leaves
        no partial tree; an existing ``out`` is refused. Returns the file bytes written.
        """
        import shutil
        import tempfile

        target = Path(out)
        if target.exists() or target.is_symlink():
            raise IpfsError(f"cannot write {target}: it already exists")
        root = self.resolve(path)
        parent = target.resolve().parent if target.parent != Path("") else Path.cwd()
        try:
            scratch = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}."))
        except OSError as exc:
            raise IpfsError(f"cannot write {target}: {exc.strerror or exc}") from None
        written = [0]
        try:
            self._materialise(root, scratch / "out", written, progress)
            os.replace(scratch / "out", target)
        except OSError as exc:
            raise IpfsError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return written[0]

    def _materialise(self, cid: bytes, dest: Path, written: list[int], progress: Progress | None) -> None:
        stack = [(cid, dest)]
        while stack:
            cid, dest = stack.pop()
            data = self._read(cid)
            kind = self.node_type(cid, data)
            if kind == "directory":
                dest.mkdir()
                for link in self._entries(cid, data):
                    try:
                        check_name(link.name)
                    except ValueError:
                        raise IpfsError(f"{cid_text(cid)} holds an unsafe entry name {link.name!r}") from None
                    stack.append((link.cid, dest / link.name))
            elif kind == "symlink":
                target = decode_unixfs(decode_node(data).data).data.decode("utf-8", "replace")
                os.symlink(target, dest)
            elif kind == "file":
                with open(dest, "wb") as handle:
                    for piece in self._read_range(cid, data, 0, None):
                        handle.write(piece)
                        written[0] += len(piece)
                        if progress is not None:
                            progress(written[0], 0)
            else:
                raise NotAFileError(f"{cid_text(cid)} is not UnixFS: it cannot be written out as a file")

    # ---- DAG walking ---------------------------------------------------------------------------

    def _links(self, cid: bytes, data: bytes) -> list[bytes]:
        codec = split_cid(cid)[0]
        if codec == RAW:
            return []
        if codec == DAG_PB:
            try:
                return [link.cid for link in decode_node(data).links]
            except ValueError as exc:
                raise IpfsError(f"block {cid_text(cid)} is not valid dag-pb ({exc})") from None
        if codec == DAG_CBOR:
            from qfzz_chain.ipfs.cbor import cbor_links

            _check_dag_cbor(cid, data, error=IpfsError)
            return list(cbor_links(data))
        raise IpfsError(f"cannot follow links in {cid_text(cid)}: codec {codec:#x} is not supported")

    def _walk(
        self,
        root: bytes,
        *,
        read_raw: bool = True,
        trusted: set[bytes] | None = None,
        fetch: bool = True,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every block of the DAG, depth-first in link order, each once, each verified.

        With ``read_raw=False`` raw blocks (which link nowhere) are only checked to exist, not
        read and hashed, and come with empty data: enough to know what a pin reaches. Blocks
        whose multihash is in ``trusted`` (just hash-checked and written by this process, under
        the lock) are read without hashing them again. ``fetch`` asks peers for missing blocks.
        """
        seen: set[bytes] = set()
        stack = [root]
        read = self._read if fetch else self._blocks.get
        while stack:
            cid = stack.pop()
            if cid in seen:
                continue
            seen.add(cid)
            if trusted and split_cid(cid)[1] in trusted:
                data = b"" if split_cid(cid)[0] == RAW else self._blocks.read_unchecked(cid)
                yield cid, data
                stack.extend(reversed(self._links(cid, data)))
                continue
            if not read_raw and split_cid(cid)[0] == RAW:
                if not self._blocks.has(cid):
                    if not fetch or not self.peers:
                        raise BlockNotFoundError(cid_text(cid))
                    read(cid)
                yield cid, b""
                continue
            data = read(cid)
            yield cid, data
            stack.extend(reversed(self._links(cid, data)))

    def _discard(self, written: list[bytes]) -> None:
        """Remove blocks a failed add or import created, keeping any a pin reaches.

        Runs under the exclusive lock, so no other add is half-way through using them.
        """
        if not written:
            return
        try:
            with file_lock(self._repo_lock, shared=False):
                reachable: set[bytes] = set()
                for pin in self._read_pins():
                    with contextlib.suppress(IpfsError):
                        for cid, _data in self._walk(cid_bytes(pin), read_raw=False, fetch=False):
                            reachable.add(split_cid(cid)[1])
                for cid in written:
                    multihash = split_cid(cid)[1]
                    if multihash not in reachable:
                        self._blocks.delete(multihash)
        except (IpfsError, OSError):
            pass  # pins unreadable or the repository unusable: keep the blocks (gc can remove them)

    def verify(self, cid: str) -> None:
        """Read and hash-check every block under ``cid``; raise the first problem found.

        Missing blocks are fetched from peers (verified) when peers are configured.
        """
        for _block in self._walk(self.resolve(cid)):
            pass

    def fetch(self, cid: str, *, progress: Progress | None = None) -> int:
        """Bring the whole DAG under ``cid`` onto this disk from peers; returns blocks fetched.

        Asks each peer in turn for a CAR of the DAG (one request) and keeps every block that
        hashes to its CID; whatever is still missing (a peer stopped or lied) is then fetched
        block by block from the others. Fetched blocks are cached, not pinned.
        """
        root = self.resolve(cid)
        if not self.peers or self._complete(root):
            return 0
        start = self._fetched
        with file_lock(self._repo_lock, shared=True):
            for _url, blocks in self.peers.car_blocks(root):
                for block, data in blocks:
                    if self._blocks.put(block, data):
                        self._fetched += 1
                        if progress is not None:
                            progress(self._fetched - start, 0)
                if self._complete(root):
                    return self._fetched - start
        for _block in self._walk(root):  # the rest block by block (``_read`` asks each peer)
            pass
        return self._fetched - start

    def _complete(self, root: bytes) -> bool:
        try:
            for _block in self._walk(root, fetch=False):
                pass
        except (BlockNotFoundError, BlockCorruptedError):
            return False
        return True

    # ---- pins and garbage collection ------------------------------------------------------

    def _read_pins(self) -> list[str]:
        try:
            return list(json.loads(self._pins_path.read_text())["recursive"])
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise IpfsError(f"pin file {self._pins_path} is damaged ({exc})") from None

    def _write_pins(self, pins: list[str]) -> None:
        """Replace ``pins.json`` atomically and durably (temp file, fsync, rename, folder fsync)."""
        import tempfile

        try:
            self.repo.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.repo, prefix="pins-", delete=False) as tmp:
                json.dump({"recursive": sorted(pins)}, tmp, indent=1)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, self._pins_path)
            fsync_path(self.repo)
        except OSError as exc:
            raise IpfsError(f"cannot write pins to {self._pins_path}: {exc.strerror or exc}") from None

    def _add_pin(self, cid: str) -> None:
        with file_lock(self._pins_lock, shared=False):
            pins = self._read_pins()
            if cid not in pins:
                self._write_pins(pins + [cid])

    def pin_add(self, cid: str) -> list[str]:
        """Pin the complete DAG under ``cid`` (every block checked; missing ones fetched from peers)."""
        root_cid = self.resolve(cid)
        root = cid_text(root_cid)
        if self.peers:
            self.fetch(root)
        with file_lock(self._repo_lock, shared=True):
            blocks = [block for block, _data in self._walk(root_cid)]
            self._blocks.sync_blocks(blocks)  # fetched blocks were cached without fsync
            self._add_pin(root)
        return [root]

    def pin_rm(self, cid: str) -> list[str]:
        """Remove a recursive pin; its blocks stay until ``gc``."""
        root = cid_text(cid_bytes(cid))
        with file_lock(self._pins_lock, shared=False):
            pins = self._read_pins()
            if root not in pins:
                raise IpfsError(f"{root} is not pinned")
            self._write_pins([pin for pin in pins if pin != root])
        return [root]

    def pin_ls(self) -> list[str]:
        """The recursively pinned CIDs, sorted."""
        return sorted(self._read_pins())

    def gc(self) -> list[str]:
        """Delete every block that no pin reaches, and stale scratch files.

        Refuses (deleting nothing) if a pinned DAG is incomplete, since what lies below a missing
        block cannot be told apart from garbage (``repair`` fetches or reports it).
        """
        with file_lock(self._repo_lock, shared=False):
            reachable: set[bytes] = set()
            for pin in self._read_pins():
                try:
                    for cid, _data in self._walk(cid_bytes(pin), read_raw=False, fetch=False):
                        reachable.add(split_cid(cid)[1])
                except BlockNotFoundError as exc:
                    raise IpfsError(f"gc refused: pinned {pin} is incomplete ({exc}); run `qfzz ipfs repair`") from None
                except BlockCorruptedError as exc:
                    raise IpfsError(f"gc refused: pinned {pin} is damaged ({exc}); run `qfzz ipfs repair`") from None
            removed = []
            self._drop_cache()
            for multihash in list(self._blocks.multihashes()):
                if multihash not in reachable:
                    self._blocks.delete(multihash)
                    removed.append(FlatBlockstore.cid_of_multihash(multihash))
            self._blocks.clear_scratch()
        return removed

    def repair(self) -> RepairResult:
        """Check every stored block, drop those that fail their hash, and refetch what pins need.

        Runs under the exclusive lock. Dropped blocks that a pin reaches are fetched again from
        the peers (verified); pins that stay incomplete are listed, not removed.
        """
        with file_lock(self._repo_lock, shared=False), self._holding_exclusive():
            self._drop_cache()
            scratch = len(self._blocks.scratch_files())
            self._blocks.clear_scratch()
            checked, removed = 0, []
            for multihash in list(self._blocks.multihashes()):
                checked += 1
                cid = b"\x01\x55" + multihash  # any codec: only the multihash names the file
                if not self._blocks.is_intact(cid):
                    self._blocks.delete(multihash)
                    removed.append(FlatBlockstore.cid_of_multihash(multihash))
            refetched, incomplete = [], []
            for pin in self._read_pins():
                if self._complete(cid_bytes(pin)):
                    continue
                try:
                    blocks = [cid for cid, _data in self._walk(cid_bytes(pin))]  # asks the peers
                except (BlockNotFoundError, BlockCorruptedError):
                    incomplete.append(pin)
                    continue
                self._blocks.sync_blocks(blocks)
                refetched.append(pin)
        return RepairResult(checked=checked, removed=tuple(removed), refetched=tuple(refetched),
                            incomplete=tuple(incomplete), scratch_removed=scratch)  # fmt: skip

    @contextlib.contextmanager
    def _holding_exclusive(self) -> Iterator[None]:
        self._exclusive = True
        try:
            yield
        finally:
            self._exclusive = False

    def repo_stat(self) -> dict[str, int]:
        """Block count and bytes on disk (``ipfs repo stat``)."""
        count = size = 0
        for multihash in self._blocks.multihashes():
            count += 1
            with contextlib.suppress(OSError):
                size += self._blocks._path(multihash).stat().st_size
        return {"NumObjects": count, "RepoSize": size}

    # ---- CAR ------------------------------------------------------------------------------

    def export_car(self, cid: str, out: IO[bytes]) -> None:
        """Write the DAG under ``cid`` as CAR v1, blocks in depth-first order like kubo."""
        root = self.resolve(cid)
        blocks = self._walk(root)
        first = next(blocks)  # an unknown root fails before anything is written
        out.write(encode_header([root]))
        out.write(encode_section(*first))
        for block_cid_, data in blocks:
            out.write(encode_section(block_cid_, data))

    def import_car(self, stream: BinaryIO, *, pin_roots: bool = True) -> ImportResult:
        """Store every block of a CAR v1, then pin each root whose DAG is complete.

        Every block is hash-checked into scratch files first; only when the whole CAR has been
        read and verified are they moved into the store (durably), so a bad CAR changes nothing.
        A stored block that fails its hash is replaced by the CAR's good copy.
        """
        roots = read_header(stream)
        staged: dict[bytes, tuple[Path, bytes]] = {}
        writer = self._blocks.writer()
        count = size = 0
        lock = contextlib.ExitStack()
        try:
            lock.enter_context(file_lock(self._repo_lock, shared=True))
            for section in read_sections(stream):
                verify_section(section)
                codec, key = split_cid(section.cid)
                if codec == DAG_CBOR:
                    _check_dag_cbor(section.cid, section.data)
                count += 1
                size += len(section.data)
                if key in staged or self._blocks.is_intact(section.cid):
                    continue
                staged[key] = (self._blocks.write_scratch(section.data), section.cid)
            for key, (scratch_path, block) in list(staged.items()):
                writer.stage(scratch_path, block)
                del staged[key]
            writer.finish()
        except BaseException:
            for scratch_path, _cid in staged.values():
                scratch_path.unlink(missing_ok=True)
            writer.abandon()
            lock.close()
            self._discard(writer.written)
            raise
        just_written = {split_cid(cid)[1] for cid in writer.written}
        try:
            imported = []
            for root in map(cid_text, roots):
                if not pin_roots:
                    imported.append(ImportedRoot(cid=root))
                    continue
                try:
                    # Complete DAGs only; the blocks this import wrote were hashed on the way in.
                    for _block in self._walk(cid_bytes(root), trusted=just_written, fetch=False):
                        pass
                    self._add_pin(root)
                    imported.append(ImportedRoot(cid=root))
                except IpfsError as exc:
                    imported.append(ImportedRoot(cid=root, pin_error=str(exc)))
        finally:
            lock.close()
        return ImportResult(roots=tuple(imported), blocks=count, bytes=size)


class _Putter:
    """Writes an add's blocks durably (or, for ``--only-hash``, not at all)."""

    def __init__(self, writer):
        self._writer = writer

    def __call__(self, block: Block) -> None:
        if self._writer is not None:
            self._writer.put(block.cid, block.data)

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.finish()


class _AddState:
    def __init__(self, put: _Putter, options, progress: Progress | None, total: int):
        self.put = put
        self.cid_version, self.raw_leaves, self.chunk_size, self.hidden, self.shard_threshold = options
        self.progress = progress
        self.total = total
        self.bytes = 0


def _tree_size(path: Path, hidden: bool) -> int:
    """The bytes of every regular file an add of ``path`` will read (for progress)."""
    if path.is_symlink():
        return 0
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, dirs, files in os.walk(path):
        if not hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            files = [f for f in files if not f.startswith(".")]
        for name in files:
            with contextlib.suppress(OSError):
                full = os.path.join(folder, name)
                if not os.path.islink(full):
                    total += os.path.getsize(full)
    return total


def _check_add_options(cid_version: int, chunk_size: int) -> None:
    if cid_version not in (0, 1):
        raise IpfsError(f"CID version must be 0 or 1, not {cid_version}")
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise IpfsError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE} bytes, not {chunk_size}")


def _children_in_range(
    children: list[tuple[bytes, int]], offset: int, start: int, end: int | None
) -> Iterator[tuple[bytes, int, int, int | None]]:
    """Each child overlapping ``[start, end)`` with its size and the range relative to it."""
    position = offset
    for child, size in children:
        child_start, position = position, position + size
        if position <= start:
            continue
        if end is not None and child_start >= end:
            return
        yield child, size, start - child_start, None if end is None else end - child_start


def _check_dag_cbor(cid: bytes, data: bytes, error: Callable[[str], Exception] = CarFormatError) -> None:
    import libipld

    try:
        libipld.decode_dag_cbor(data)
    except ValueError as exc:
        what = "CAR block" if error is CarFormatError else "block"
        raise error(f"{what} {cid_text(cid)} is not valid dag-cbor ({exc})") from None
