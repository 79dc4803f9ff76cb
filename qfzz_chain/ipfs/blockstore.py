"""Blocks on disk, one file per block, laid out like kubo's flatfs (``next-to-last/2``).

A block's file name is the base32 of its multihash, so CIDv0 and CIDv1 of the same bytes share
a file. Every read is checked against the hash.

Crash safety, as kubo's flatfs with ``sync: true``: a block is written to a scratch file,
``fsync``'ed, and only then renamed to its real name, and the folders renamed into are
``fsync``'ed before the caller records anything that relies on the block (a pin). So after a
crash or power cut a block file under its real name is whole, and a pin never names a block that
is not on disk. ``fsync`` costs ~4 ms per block on this machine kind's virtual disk when done one
after another (64 MB/s at most), but the file system commits concurrent ``fsync`` calls together:
``BlockWriter`` hands them to ``SYNC_THREADS`` threads while the caller hashes the next chunk,
which measured 0.5 ms per block with 8 threads.

A block whose file exists but fails its hash (a disk fault, or an empty file left by a crash of a
system without these guarantees) is replaced when the same block is written again (re-add,
import, fetch), and ``EmbeddedStore.repair`` drops such blocks.

Identity multihashes (code 0x00) hold their block inline, as kubo serves them: nothing is stored
for them. Other multihashes longer than ``MAX_MULTIHASH`` bytes are refused.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from qfzz_chain.ipfs.cid import block_matches, cid_text, split_cid
from qfzz_chain.ipfs.dagpb import read_varint
from qfzz_chain.ipfs.errors import BlockCorruptedError, BlockNotFoundError, InvalidCidError, IpfsError

_SUFFIX = ".data"
IDENTITY = 0x00
MAX_MULTIHASH = 128  # sha2-512 is 66 bytes; longer keys would make file names too long
SYNC_THREADS = 8
_sync_pool: "ThreadPoolExecutor | None" = None
_sync_pool_lock = threading.Lock()

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor


def _pool() -> "ThreadPoolExecutor":
    """One process-wide pool of fsync threads (fsync releases the GIL), made on first use.

    ``concurrent.futures`` (and the ``logging`` it pulls in) is imported here, not at the top:
    it is ~15 ms of start-up that ``add --only-hash`` never needs.
    """
    global _sync_pool
    with _sync_pool_lock:
        if _sync_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _sync_pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="qfzz-fsync")
        return _sync_pool


def fsync_path(path: Path) -> None:
    """``fsync`` a file or folder by path (a folder's fsync makes the renames into it durable)."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _key(multihash: bytes) -> str:
    return base64.b32encode(multihash).decode("ascii").rstrip("=")


def _multihash(key: str) -> bytes:
    return base64.b32decode(key + "=" * (-len(key) % 8))


class FlatBlockstore:
    """Immutable blocks under ``root/blocks``; scratch files under ``root/tmp``."""

    def __init__(self, root: Path):
        self.root = root
        self._blocks = root / "blocks"
        self._tmp = root / "tmp"
        self._serial = itertools.count()

    def _path(self, multihash: bytes) -> Path:
        if len(multihash) > MAX_MULTIHASH:
            raise InvalidCidError(
                f"multihash of {len(multihash)} bytes is too long (at most {MAX_MULTIHASH} are stored)"
            )
        key = _key(multihash)
        return self._blocks / key[-3:-1] / (key + _SUFFIX)

    def has(self, cid: bytes) -> bool:
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            return _identity_data(multihash) is not None
        try:
            return self._path(multihash).is_file()
        except OSError as exc:
            raise IpfsError(f"cannot read block {cid_text(cid)}: {exc.strerror or exc}") from None

    def get(self, cid: bytes) -> bytes:
        """The block of a binary CID; ``BlockNotFoundError`` or ``BlockCorruptedError`` otherwise."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            inline = _identity_data(multihash)
            if inline is None:
                raise InvalidCidError(f"malformed identity multihash in {cid_text(cid)}")
            return inline
        try:
            data = self._path(multihash).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise BlockNotFoundError(cid_text(cid)) from None
        except OSError as exc:
            raise IpfsError(f"cannot read block {cid_text(cid)}: {exc.strerror or exc}") from None
        if not block_matches(multihash, data):
            raise BlockCorruptedError(cid_text(cid))
        return data

    def read_unchecked(self, cid: bytes) -> bytes:
        """A block's bytes without the hash check, for blocks this process just verified."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            return self.get(cid)
        try:
            return self._path(multihash).read_bytes()
        except FileNotFoundError:
            raise BlockNotFoundError(cid_text(cid)) from None
        except OSError as exc:
            raise IpfsError(f"cannot read block {cid_text(cid)}: {exc.strerror or exc}") from None

    def is_intact(self, cid: bytes) -> bool:
        """Whether the block is stored and hashes to its CID (identity CIDs always are)."""
        try:
            self.get(cid)
        except (BlockNotFoundError, BlockCorruptedError):
            return False
        return True

    def write_scratch(self, data: bytes) -> Path:
        """Write ``data`` to a new scratch file (for a later atomic rename) and return its path.

        Plain ``os`` calls, and folders created only when missing: a fresh add is bound by file
        system metadata operations, so each one saved per block shows in the throughput.
        """
        with self._write_errors():
            return self._write_scratch(data)

    def _write_scratch(self, data: bytes) -> Path:
        while True:
            scratch = self._tmp / f"block-{os.getpid()}-{threading.get_ident()}-{next(self._serial)}"
            try:
                handle = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileNotFoundError:
                self._tmp.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                continue  # left by an earlier process with the same pid
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
        except BaseException:
            os.close(handle)
            scratch.unlink(missing_ok=True)
            raise
        os.close(handle)
        return scratch

    def clear_scratch(self) -> None:
        """Remove scratch files left by interrupted writes (only safe while no one writes)."""
        if self._tmp.is_dir():
            for leftover in self._tmp.iterdir():
                leftover.unlink(missing_ok=True)

    def put(self, cid: bytes, data: bytes, *, check_existing: bool = True) -> bool:
        """Store a block without fsync (the caller vouches that ``data`` hashes to ``cid``).

        False if an intact copy is already stored; a damaged copy is replaced. For cached
        blocks; ``BlockWriter`` writes durably.
        """
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            return False  # inline
        target = self._path(multihash)
        if target.is_file() and (not check_existing or self.is_intact(cid)):
            return False
        self._move(self.write_scratch(data), target)  # the path (a base32 of the key) once
        return True

    def writer(self) -> "BlockWriter":
        """A durable writer for one add or import (see ``BlockWriter``)."""
        return BlockWriter(self)

    def sync_blocks(self, cids: list[bytes]) -> None:
        """Make already stored blocks durable (fetched blocks, before they are pinned)."""
        paths = {self._path(split_cid(cid)[1]) for cid in cids if split_cid(cid)[1][:1] != b"\x00"}
        with self._write_errors():
            for future in [_pool().submit(fsync_path, path) for path in paths if path.exists()]:
                future.result()
            folders = {path.parent for path in paths} | ({self._blocks} if paths else set())
            for future in [_pool().submit(fsync_path, folder) for folder in folders if folder.exists()]:
                future.result()

    def commit(self, scratch: Path, cid: bytes) -> None:
        """Move a fully written scratch file into place as ``cid``'s block."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":  # inline: nothing to store
            scratch.unlink(missing_ok=True)
            return
        self._move(scratch, self._path(multihash))

    def _move(self, scratch: Path, target: Path) -> None:
        with self._write_errors():
            try:
                os.replace(scratch, target)
            except FileNotFoundError:  # the first block of its shard
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(scratch, target)

    @contextlib.contextmanager
    def _write_errors(self) -> Iterator[None]:
        """A full disk or a read-only repository is one clear error, not a traceback."""
        try:
            yield
        except OSError as exc:
            reason = exc.strerror or exc
            raise IpfsError(f"cannot write to the IPFS repository {self.root}: {reason}") from None

    def scratch_files(self) -> list[Path]:
        """Scratch files present now (left by interrupted writes when no one is writing)."""
        return sorted(self._tmp.iterdir()) if self._tmp.is_dir() else []

    def delete(self, multihash: bytes) -> None:
        if multihash[:1] == b"\x00" or len(multihash) > MAX_MULTIHASH:
            return  # never stored
        with contextlib.suppress(FileNotFoundError):
            self._path(multihash).unlink()

    def multihashes(self) -> Iterator[bytes]:
        """The multihash of every stored block."""
        if not self._blocks.is_dir():
            return
        for shard in self._blocks.iterdir():
            for path in shard.glob("*" + _SUFFIX):
                yield _multihash(path.name[: -len(_SUFFIX)])

    @staticmethod
    def cid_of_multihash(multihash: bytes) -> str:
        """The CID kubo reports for a bare blockstore key (CIDv1, raw codec)."""
        return cid_text(b"\x01\x55" + multihash)


def _identity_data(multihash: bytes) -> bytes | None:
    """The bytes an identity multihash holds, or None if it is malformed."""
    try:
        length, offset = read_varint(multihash, 1)
    except ValueError:
        return None
    data = multihash[offset:]
    return data if len(data) == length else None


class BlockWriter:
    """Durable block writes for one add or import: write, fsync (in the pool), rename; then
    ``finish()`` waits for every fsync and rename and fsyncs the folders renamed into.

    Until ``finish()`` returns, nothing may record the blocks (pin them). ``written`` lists the
    blocks this writer created or replaced, for the caller to remove again if it fails.
    """

    def __init__(self, store: FlatBlockstore):
        self._store = store
        self._pending: list["Future[None]"] = []
        self._folders: set[Path] = set()
        self.written: list[bytes] = []
        self._new_shards = False

    def put(self, cid: bytes, data: bytes) -> bool:
        """Queue a block for a durable write; False if an intact copy is already stored."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            return False
        target = self._store._path(multihash)
        if target.is_file() and self._store.is_intact(cid):
            return False
        self.stage(self._store.write_scratch(data), cid)
        return True

    def stage(self, scratch: Path, cid: bytes) -> None:
        """Make an already written scratch file ``cid``'s block, durably (fsync, then rename)."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            scratch.unlink(missing_ok=True)
            return
        target = self._store._path(multihash)
        if not target.parent.is_dir():
            with self._store._write_errors():
                target.parent.mkdir(parents=True, exist_ok=True)
            self._new_shards = True
        self._folders.add(target.parent)
        self.written.append(cid)
        self._pending.append(_pool().submit(self._sync_and_move, scratch, target))
        if len(self._pending) > 4 * SYNC_THREADS:  # bound the scratch files waiting for fsync
            self._drain(len(self._pending) - 2 * SYNC_THREADS)

    def _sync_and_move(self, scratch: Path, target: Path) -> None:
        try:
            fsync_path(scratch)
            os.replace(scratch, target)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise

    def _drain(self, count: int) -> None:
        done, self._pending = self._pending[:count], self._pending[count:]
        with self._store._write_errors():
            for future in done:
                future.result()

    def finish(self) -> None:
        """Wait for every queued block; fsync the folders so the renames survive a power cut."""
        self._drain(len(self._pending))
        folders = set(self._folders)
        if self._new_shards:
            folders.add(self._store._blocks)
        with self._store._write_errors():
            for future in [_pool().submit(fsync_path, folder) for folder in folders]:
                future.result()
        self._folders.clear()

    def abandon(self) -> None:
        """Wait for queued writes without raising (the caller is failing and will clean up)."""
        for future in self._pending:
            with contextlib.suppress(BaseException):
                future.result()
        self._pending.clear()


@contextlib.contextmanager
def file_lock(path: Path, *, shared: bool) -> Iterator[None]:
    """An advisory ``flock`` on ``path``: shared for writers of new blocks, exclusive for GC.

    Each call opens its own file description, so the lock also orders threads of one process.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+b")
    except OSError as exc:
        raise IpfsError(f"cannot open the IPFS repository {path.parent}: {exc.strerror or exc}") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
