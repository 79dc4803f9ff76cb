"""The embedded content store (the default backend): kubo-compatible blocks and pins on disk.

Repository layout (``ipfs_repo_path()``)::

    blocks/XY/<BASE32 MULTIHASH>.data   one verified block per file (flatfs-like)
    tmp/                                scratch files, renamed into ``blocks/`` when complete
    pins.json                           recursive pins, rewritten atomically
    repo.lock, pins.lock                advisory locks (adders share, GC excludes)

Reads stream one block at a time and check every block against its hash.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterator

import dag_cbor
from multiformats import CID

from qfzz_chain.ipfs.blockstore import FlatBlockstore, file_lock
from qfzz_chain.ipfs.car import (
    encode_header,
    encode_section,
    read_header,
    read_sections,
    verify_section,
)
from qfzz_chain.ipfs.cid import DAG_CBOR, DAG_PB, RAW, cid_bytes, cid_text, split_cid
from qfzz_chain.ipfs.dagpb import UNIXFS_FILE, UNIXFS_RAW, decode_node, decode_unixfs
from qfzz_chain.ipfs.errors import (
    BlockCorruptedError,
    BlockNotFoundError,
    CarFormatError,
    IpfsError,
    NotAFileError,
)
from qfzz_chain.ipfs.store import AddResult, ImportedRoot, ImportResult, Progress, open_to_add
from qfzz_chain.ipfs.unixfs import file_blocks, read_chunks


class EmbeddedStore:
    """A ``ContentStore`` on the local disk, needing no IPFS daemon."""

    kind = "embedded"

    def __init__(self, repo: Path):
        self.repo = repo
        self._blocks = FlatBlockstore(repo)
        self._pins_path = repo / "pins.json"
        self._repo_lock = repo / "repo.lock"
        self._pins_lock = repo / "pins.lock"

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.repo)!r})"

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own files."""

    # ---- adding ---------------------------------------------------------------------------

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        progress: Progress | None = None,
    ) -> AddResult:
        """Chunk, store and pin a file (``ipfs add FILE``); ``only_hash`` stores nothing."""
        # Unbuffered: each 256 KiB read goes straight into the chunk, without a second copy.
        with open_to_add(path, buffering=0) as (handle, total):
            return self.add_stream(
                handle,
                name=Path(path).name,
                cid_version=cid_version,
                only_hash=only_hash,
                progress=progress,
                total=total,
            )

    def add_bytes(self, data: bytes, *, cid_version: int = 0, only_hash: bool = False) -> AddResult:
        """Store and pin ``data`` as a UnixFS file."""
        return self.add_stream(io.BytesIO(data), cid_version=cid_version, only_hash=only_hash)

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
    ) -> AddResult:
        """Store everything read from ``stream`` as one UnixFS file and pin it (unless told not).

        A read error part-way removes the blocks this add wrote (unless a pin needs them), so
        the store is left as it was.
        """
        if cid_version not in (0, 1):
            raise IpfsError(f"CID version must be 0 or 1, not {cid_version}")
        done = 0

        def counted_chunks() -> Iterator[bytes]:
            nonlocal done
            try:
                for chunk in read_chunks(stream):
                    done += len(chunk)
                    yield chunk
                    if progress is not None:
                        progress(done, total)
            except OSError as exc:
                raise IpfsError(f"cannot read {name or 'input'}: {exc.strerror or exc}") from None

        lock = contextlib.nullcontext() if only_hash else file_lock(self._repo_lock, shared=True)
        written: list[bytes] = []  # blocks this add created, removed again if it fails
        try:
            with lock:
                root = None
                for block in file_blocks(counted_chunks(), cid_version=cid_version):
                    if not only_hash and self._blocks.put(block.cid, block.data):
                        written.append(block.cid)
                    root = block
                assert root is not None  # file_blocks always yields at least the root
                if pin and not only_hash:
                    self._add_pin(cid_text(root.cid))
        except BaseException:
            self._discard(written)
            raise
        if progress is not None and done == 0:
            progress(0, total)
        return AddResult(cid=cid_text(root.cid), size=root.file_size, dag_size=root.dag_size, name=name)

    # ---- reading --------------------------------------------------------------------------

    def get_block(self, cid: str) -> bytes:
        """One block's bytes, verified against its CID."""
        return self._blocks.get(cid_bytes(cid))

    def cat(self, cid: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes from ``offset`` (at most ``length``), verifying each block.

        The root block is read before this returns, so unknown content fails here, before any
        byte is produced.
        """
        if offset < 0 or (length is not None and length < 0):
            raise IpfsError("offset and length must not be negative")
        root = cid_bytes(cid)
        data = self._blocks.get(root)
        self._file_parts(root, data)  # not a UnixFS file: fail now, not mid-stream
        end = None if length is None else offset + length
        return self._read_range(root, data, offset, end)

    def read_bytes(self, cid: str) -> bytes:
        """A whole file's bytes, verified; for small content (use ``cat`` for large files)."""
        return b"".join(self.cat(cid))

    def file_size(self, cid: str) -> int:
        """A UnixFS file's size in bytes, from its root block alone."""
        root = cid_bytes(cid)
        data = self._blocks.get(root)
        own, children = self._file_parts(root, data)
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
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise NotAFileError(f"{cid_text(cid)} is a UnixFS directory or special node, not a file")
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
            node = (child, self._blocks.get(child), child_start, child_end, size)

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
            try:
                value = dag_cbor.decode(data)
            except Exception as exc:  # the decoder raises several kinds of error
                raise IpfsError(f"block {cid_text(cid)} is not valid dag-cbor ({exc})") from None
            return [bytes(link) for link in _cids_in(value)]
        raise IpfsError(f"cannot follow links in {cid_text(cid)}: codec {codec:#x} is not supported")

    def _walk(
        self, root: bytes, *, read_raw: bool = True, trusted: set[bytes] | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every block of the DAG, depth-first in link order, each once, each verified.

        With ``read_raw=False`` raw blocks (which link nowhere) are only checked to exist, not
        read and hashed, and come with empty data: enough to know what a pin reaches. Blocks
        whose multihash is in ``trusted`` (just hash-checked and written by this process, under
        the lock) are read without hashing them again.
        """
        seen: set[bytes] = set()
        stack = [root]
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
                    raise BlockNotFoundError(cid_text(cid))
                yield cid, b""
                continue
            data = self._blocks.get(cid)
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
                        for cid, _data in self._walk(cid_bytes(pin), read_raw=False):
                            reachable.add(split_cid(cid)[1])
                for cid in written:
                    multihash = split_cid(cid)[1]
                    if multihash not in reachable:
                        self._blocks.delete(multihash)
        except (IpfsError, OSError):
            pass  # pins unreadable or the repository unusable: keep the blocks (gc can remove them)

    def verify(self, cid: str) -> None:
        """Read and hash-check every block under ``cid``; raise the first problem found."""
        for _block in self._walk(cid_bytes(cid)):
            pass

    # ---- pins and garbage collection ------------------------------------------------------

    def _read_pins(self) -> list[str]:
        try:
            return list(json.loads(self._pins_path.read_text())["recursive"])
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise IpfsError(f"pin file {self._pins_path} is damaged ({exc})") from None

    def _write_pins(self, pins: list[str]) -> None:
        try:
            self.repo.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.repo, prefix="pins-", delete=False) as tmp:
                json.dump({"recursive": sorted(pins)}, tmp, indent=1)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, self._pins_path)
        except OSError as exc:
            raise IpfsError(f"cannot write pins to {self._pins_path}: {exc.strerror or exc}") from None

    def _add_pin(self, cid: str) -> None:
        with file_lock(self._pins_lock, shared=False):
            pins = self._read_pins()
            if cid not in pins:
                self._write_pins(pins + [cid])

    def pin_add(self, cid: str) -> list[str]:
        """Pin the complete DAG under ``cid`` (every block is checked first)."""
        root = cid_text(cid_bytes(cid))
        with file_lock(self._repo_lock, shared=True):
            self.verify(root)
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
        block cannot be told apart from garbage.
        """
        with file_lock(self._repo_lock, shared=False):
            reachable: set[bytes] = set()
            for pin in self._read_pins():
                try:
                    for cid, _data in self._walk(cid_bytes(pin), read_raw=False):
                        reachable.add(split_cid(cid)[1])
                except BlockNotFoundError as exc:
                    raise IpfsError(f"gc refused: pinned {pin} is incomplete ({exc})") from None
            removed = []
            for multihash in list(self._blocks.multihashes()):
                if multihash not in reachable:
                    self._blocks.delete(multihash)
                    removed.append(FlatBlockstore.cid_of_multihash(multihash))
            self._blocks.clear_scratch()
        return removed

    # ---- CAR ------------------------------------------------------------------------------

    def export_car(self, cid: str, out: IO[bytes]) -> None:
        """Write the DAG under ``cid`` as CAR v1, blocks in depth-first order like kubo."""
        root = cid_bytes(cid)
        blocks = self._walk(root)
        first = next(blocks)  # an unknown root fails before anything is written
        out.write(encode_header([root]))
        out.write(encode_section(*first))
        for block_cid, data in blocks:
            out.write(encode_section(block_cid, data))

    def import_car(self, stream: BinaryIO, *, pin_roots: bool = True) -> ImportResult:
        """Store every block of a CAR v1, then pin each root whose DAG is complete.

        Every block is hash-checked into scratch files first; only when the whole CAR has been
        read and verified are they moved into the store, so a bad CAR changes nothing.
        """
        roots = read_header(stream)
        staged: dict[bytes, tuple[Path, bytes]] = {}
        committed: list[bytes] = []
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
                if key in staged or self._blocks.has(section.cid):
                    continue
                staged[key] = (self._blocks.write_scratch(section.data), section.cid)
            for key, (scratch_path, block_cid) in list(staged.items()):
                self._blocks.commit(scratch_path, block_cid)
                committed.append(block_cid)
                del staged[key]
        except BaseException:
            for scratch_path, _cid in staged.values():
                scratch_path.unlink(missing_ok=True)
            lock.close()
            self._discard(committed)
            raise
        just_written = {split_cid(cid)[1] for cid in committed}
        try:
            imported = []
            for root in map(cid_text, roots):
                if not pin_roots:
                    imported.append(ImportedRoot(cid=root))
                    continue
                try:
                    # Complete DAGs only; the blocks this import wrote were hashed on the way in.
                    for _block in self._walk(cid_bytes(root), trusted=just_written):
                        pass
                    self._add_pin(root)
                    imported.append(ImportedRoot(cid=root))
                except IpfsError as exc:
                    imported.append(ImportedRoot(cid=root, pin_error=str(exc)))
        finally:
            lock.close()
        return ImportResult(roots=tuple(imported), blocks=count, bytes=size)


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


def _check_dag_cbor(cid: bytes, data: bytes) -> None:
    try:
        dag_cbor.decode(data)
    except Exception as exc:  # the decoder raises several kinds of error
        raise CarFormatError(f"CAR block {cid_text(cid)} is not valid dag-cbor ({exc})") from None


def _cids_in(value: Any) -> Iterator[CID]:
    """Every CID inside a decoded dag-cbor value, in document order."""
    if isinstance(value, CID):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _cids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cids_in(item)
