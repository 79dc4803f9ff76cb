"""Blocks on disk, one file per block, laid out like kubo's flatfs (``next-to-last/2``).

A block's file name is the base32 of its multihash, so CIDv0 and CIDv1 of the same bytes share
a file. Every write goes to a temp file in the repository first and is renamed into place, so a
block never appears under its real name half-written while the system runs; every read is checked
against the hash. Blocks are not fsync'ed (kubo's flatfs is, by default), so this is not crash
safe: after a power loss a block may be empty or missing. The hash check on read then reports it
as corrupted or missing, never as wrong content; ``pins.json`` alone is fsync'ed.

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
from typing import Iterator

from multiformats import varint

from qfzz_chain.ipfs.cid import block_matches, cid_text, split_cid
from qfzz_chain.ipfs.errors import BlockCorruptedError, BlockNotFoundError, InvalidCidError, IpfsError

_SUFFIX = ".data"
IDENTITY = 0x00
MAX_MULTIHASH = 128  # sha2-512 is 66 bytes; longer keys would make file names too long


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
        except FileNotFoundError:
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

    def put(self, cid: bytes, data: bytes) -> bool:
        """Store a block (the caller vouches that ``data`` hashes to ``cid``); False if present."""
        multihash = split_cid(cid)[1]
        if multihash[:1] == b"\x00":
            return False  # inline
        target = self._path(multihash)
        if target.is_file():
            return False
        self._move(self.write_scratch(data), target)  # the path (a base32 of the key) once
        return True

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
        length, size, _ = varint.decode_raw(multihash[1:])
    except ValueError:
        return None
    data = multihash[1 + size :]
    return data if len(data) == length else None


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
