"""The one interface every backend implements, its result types, and the choice of backend.

``open_store()`` picks the backend once: kubo over its RPC API when an API address is given (or
``QFZZ_IPFS_API`` is set), else the embedded store in ``ipfs_repo_path()``, which fetches what it
lacks from the peers in ``peers=`` or ``$QFZZ_IPFS_PEERS`` (trustless gateways, every block
verified). Callers never branch on the backend afterwards.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterator, Protocol, Sequence

from qfzz_chain.config import ipfs_repo_path
from qfzz_chain.ipfs.errors import IpfsError

# progress(bytes_done, bytes_total); bytes_total is 0 when the size is not known in advance.
Progress = Callable[[int, int], None]

API_ENV_VAR = "QFZZ_IPFS_API"


@dataclass(frozen=True)
class AddResult:
    """What adding a file produced: its root CID, file bytes and whole-DAG bytes (kubo's Size)."""

    cid: str
    size: int
    dag_size: int
    name: str = ""


@dataclass(frozen=True)
class AddedEntry:
    """One file, folder or symlink of a directory add, by its path relative to the added folder."""

    path: str
    cid: str
    size: int
    dag_size: int
    kind: str  # "file", "directory" or "symlink"


@dataclass(frozen=True)
class DirectoryAddResult:
    """What ``add_directory`` produced: the directory's CID and every entry under it.

    ``entries`` lists files first-level-first as kubo's ``ipfs add -r`` prints them (each file,
    then its folder once complete); the last entry is the added folder itself.
    """

    cid: str
    size: int
    dag_size: int
    name: str
    entries: tuple[AddedEntry, ...]

    def files(self) -> dict[str, str]:
        """Each file's relative path mapped to its CID (an album's tracks, in path order)."""
        return {entry.path: entry.cid for entry in self.entries if entry.kind == "file"}


@dataclass(frozen=True)
class LsEntry:
    """One entry of a directory listing (``ipfs ls``): ``size`` is the file size (0 for folders)."""

    name: str
    cid: str
    size: int
    type: str  # "file", "directory", "symlink" or "unknown"


@dataclass(frozen=True)
class RepairResult:
    """What ``repair`` did: blocks checked, removed (failed their hash), fetched again from peers,
    and pins whose DAG is still incomplete."""

    checked: int
    removed: tuple[str, ...]
    refetched: tuple[str, ...]
    incomplete: tuple[str, ...]
    scratch_removed: int


@dataclass(frozen=True)
class ImportedRoot:
    """A root named by an imported CAR; ``pin_error`` says why it could not be pinned, if so."""

    cid: str
    pin_error: str = ""


@dataclass(frozen=True)
class ImportResult:
    """What a CAR import stored: its roots (pinned where complete) and its block count."""

    roots: tuple[ImportedRoot, ...]
    blocks: int
    bytes: int


def to_url(api: str) -> str:
    """A kubo API address as an ``http(s)://host:port`` base URL (from a multiaddr or a URL)."""
    if not api.startswith("/"):
        return (api if "://" in api else f"http://{api}").rstrip("/")
    parts = api.strip("/").split("/")
    if len(parts) >= 4 and parts[2] == "tcp" and parts[3].isdigit():
        scheme = parts[4] if len(parts) > 4 and parts[4] in ("http", "https") else "http"
        host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
        return f"{scheme}://{host}:{parts[3]}"
    raise IpfsError(f"IPFS API address {api!r} is not a TCP multiaddr or an http(s) URL")


@contextmanager
def open_to_add(path: str | os.PathLike[str], *, buffering: int = -1) -> Iterator[tuple[BinaryIO, int]]:
    """Open a file to add and yield (handle, size); a directory or unreadable file is a named error."""
    path = Path(path)
    try:
        handle = open(path, "rb", buffering=buffering)
    except IsADirectoryError:
        raise IpfsError(f"cannot add {path}: it is a directory (add files one by one)") from None
    except OSError as exc:
        raise IpfsError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle, os.fstat(handle.fileno()).st_size


class ContentStore(Protocol):
    """Content-addressed storage of files as kubo stores them (UnixFS, CIDv0 by default)."""

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        progress: Progress | None = None,
    ) -> AddResult:
        """Chunk, store and pin a file; with ``only_hash`` compute its CID and store nothing."""
        ...

    def add_bytes(self, data: bytes, *, cid_version: int = 0, only_hash: bool = False) -> AddResult:
        """Store and pin ``data`` as a UnixFS file."""
        ...

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
        """Store (and by default pin) everything read from ``stream`` as one UnixFS file."""
        ...

    def add_directory(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        chunk_size: int = 262144,
        pin: bool = True,
        only_hash: bool = False,
        hidden: bool = False,
        wrap: bool = False,
        progress: Progress | None = None,
    ) -> DirectoryAddResult:
        """Add a folder as ``ipfs add -r`` does: each file's CID and the directory's (kubo's CIDs)."""
        ...

    def cat(self, cid: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes (from ``offset``, at most ``length``), verifying every block.

        ``cid`` may be a path inside a directory (``CID/disc1/track.wav``).
        """
        ...

    def ls(self, path: str) -> list[LsEntry]:
        """The entries of the directory at ``path`` (``ipfs ls``)."""
        ...

    def get(self, path: str, out: str | os.PathLike[str]) -> int:
        """Write the file or directory at ``path`` to ``out`` (``ipfs get -o``); returns bytes written."""
        ...

    def read_bytes(self, cid: str) -> bytes:
        """A whole file's bytes, verified; for small content (use ``cat`` for large files)."""
        ...

    def get_block(self, cid: str) -> bytes:
        """One raw block, verified against its CID."""
        ...

    def verify(self, cid: str) -> None:
        """Read every block of the DAG under ``cid``; raise if any is missing or corrupted."""
        ...

    def pin_add(self, cid: str) -> list[str]:
        """Pin the DAG under ``cid`` recursively (it must be complete); returns the pinned CIDs."""
        ...

    def pin_rm(self, cid: str) -> list[str]:
        """Remove a recursive pin; returns the unpinned CIDs."""
        ...

    def pin_ls(self) -> list[str]:
        """The recursively pinned CIDs."""
        ...

    def export_car(self, cid: str, out: IO[bytes]) -> None:
        """Write the DAG under ``cid`` to ``out`` as CAR v1 (``ipfs dag export``)."""
        ...

    def import_car(self, stream: BinaryIO, *, pin_roots: bool = True) -> ImportResult:
        """Store every block of a CAR v1 and pin its roots (``ipfs dag import``)."""
        ...

    def gc(self) -> list[str]:
        """Delete every block no pin reaches; returns the removed blocks' CIDs."""
        ...

    def close(self) -> None:
        """Release connections or handles the backend holds."""
        ...


def open_store(api_url: str | None = None, *, peers: Sequence[str] | str | None = None) -> ContentStore:
    """The content store to use: kubo at ``api_url`` (or ``$QFZZ_IPFS_API``), else embedded.

    ``api_url`` is an HTTP URL (``http://127.0.0.1:5001``) or a multiaddr
    (``/ip4/127.0.0.1/tcp/5001/http``). The embedded store lives in ``ipfs_repo_path()`` and
    fetches blocks it lacks from ``peers`` (gateway URLs; a string may list several, separated by
    commas or spaces), by default those in ``$QFZZ_IPFS_PEERS``. A kubo node finds content
    through its own network, so peers do not apply to it.
    """
    api = api_url or os.environ.get(API_ENV_VAR) or None
    # Backends are imported on demand: the kubo client pulls in requests, which the embedded
    # store (and a quick `qfzz ipfs cat`) does not need; both import this module.
    if api:
        from qfzz_chain.ipfs.kubo import KuboStore

        return KuboStore(api)
    from qfzz_chain.ipfs.embedded import EmbeddedStore
    from qfzz_chain.ipfs.peers import parse_peers, peers_from_env

    if peers is None:
        urls = peers_from_env()
    elif isinstance(peers, str):
        urls = parse_peers(peers)
    else:
        urls = parse_peers(" ".join(peers))
    return EmbeddedStore(Path(ipfs_repo_path()), peers=urls)
