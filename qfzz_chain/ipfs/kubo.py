"""The kubo backend: the same ``ContentStore`` operations, sent to a kubo node's RPC API.

Uses ``ipfshttpclient.Client`` directly: ``ipfshttpclient.connect()`` refuses daemons newer than
0.8 by a version check, but the client class itself speaks current kubo's RPC. Every failure
becomes one ``IpfsError`` line: ``NodeUnavailableError`` when the node cannot be reached or
answers nonsense, plain ``IpfsError`` carrying kubo's own message when it refuses a request.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import urllib.parse
import warnings
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterator

import ipfshttpclient
import requests
from ipfshttpclient import exceptions as client_errors

from qfzz_chain.ipfs.car import read_header, read_sections
from qfzz_chain.ipfs.cid import (
    DAG_PB,
    block_matches,
    cid_bytes,
    cid_text,
    parse_root,
    split_cid,
)
from qfzz_chain.ipfs.dagpb import decode_node
from qfzz_chain.ipfs.errors import (
    BlockCorruptedError,
    BlockNotFoundError,
    CarFormatError,
    IpfsError,
    NodeUnavailableError,
)
from qfzz_chain.ipfs.store import (
    to_url,
    AddedEntry,
    AddResult,
    DirectoryAddResult,
    ImportedRoot,
    ImportResult,
    LsEntry,
    Progress,
    open_to_add,
)

_LS_KINDS = {1: "directory", 2: "file", 0: "file", 4: "symlink", 5: "directory"}


def to_multiaddr(api: str) -> str:
    """A kubo API address as the multiaddr ipfshttpclient wants.

    Accepts a multiaddr as is, or an ``http(s)://host:port`` URL (the form users copy).
    """
    if api.startswith("/"):
        return api
    url = urllib.parse.urlsplit(api if "://" in api else f"http://{api}")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise NodeUnavailableError(f"IPFS API address {api!r} is neither an http(s) URL nor a multiaddr")
    port = url.port or (443 if url.scheme == "https" else 80)
    host = url.hostname
    if host.replace(".", "").isdigit():
        protocol = "ip4"
    elif ":" in host:
        protocol = "ip6"
    else:
        protocol = "dns"
    return f"/{protocol}/{host}/tcp/{port}/{url.scheme}"


class _CountingReader(io.RawIOBase):
    """Reports progress as the HTTP client reads the file it uploads."""

    def __init__(self, stream: BinaryIO, name: str, progress: Progress | None, total: int):
        self._stream = stream
        self.name = name
        self._progress = progress
        self._total = total
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        if self._progress is not None and data:
            self._progress(self.count, self._total)
        return len(data)


class KuboStore:
    """A ``ContentStore`` backed by a kubo node's RPC API."""

    kind = "kubo"

    def __init__(self, api: str, *, timeout: float = 120):
        self.api = api
        try:
            self._client = ipfshttpclient.Client(to_multiaddr(api), timeout=timeout)
        except client_errors.AddressError:
            raise NodeUnavailableError(f"IPFS API address {api!r} is not usable") from None

    def __repr__(self) -> str:
        return f"KuboStore({self.api!r})"

    def close(self) -> None:
        """Close the client's pooled connections."""
        self._client.close()

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn the client's exceptions into one clear project error."""
        try:
            with warnings.catch_warnings():
                # ipfshttpclient 0.7 passes urllib3 2 a "strict" argument it ignores with a
                # FutureWarning per connection pool: noise to the user, nothing to act on.
                warnings.filterwarnings(
                    "ignore", message="The 'strict' parameter", category=FutureWarning
                )
                yield
        except client_errors.ErrorResponse as exc:
            raise IpfsError(f"IPFS node at {self.api} refused to {action}: {exc}") from None
        except client_errors.ConnectionError:
            raise NodeUnavailableError(f"cannot reach the IPFS node at {self.api} (is it running?)") from None
        except client_errors.TimeoutError:
            raise NodeUnavailableError(
                f"the IPFS node at {self.api} timed out while trying to {action}"
            ) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
            # kubo (and `qfzz ipfs serve`) cut a streamed answer short when a block fails
            raise IpfsError(
                f"the IPFS node at {self.api} broke off the transfer while trying to {action}: "
                "content is missing or corrupted on the node"
            ) from None
        except (client_errors.Error, ValueError, KeyError, TypeError) as exc:
            raise NodeUnavailableError(
                f"the IPFS node at {self.api} answered unexpectedly while trying to {action}: {exc}"
            ) from None

    def version(self) -> dict[str, Any]:
        """The node's version record (no version check: any kubo with this RPC API works)."""
        with self._errors("report its version"):
            return dict(self._client.version())

    # ---- adding ---------------------------------------------------------------------------

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        only_hash: bool = False,
        progress: Progress | None = None,
        raw_leaves: bool | None = None,
        chunk_size: int = 262144,
        pin: bool = True,
        wrap: bool = False,
    ) -> AddResult:
        """Have the node chunk, store and pin a file (``ipfs add FILE``)."""
        if wrap:
            return self.add_directory(path, cid_version=cid_version, only_hash=only_hash, raw_leaves=raw_leaves,
                                      chunk_size=chunk_size, pin=pin, wrap=True)  # type: ignore[return-value]
        with open_to_add(path) as (handle, total):
            return self.add_stream(
                handle, name=Path(path).name, cid_version=cid_version, only_hash=only_hash,
                progress=progress, total=total, raw_leaves=raw_leaves, chunk_size=chunk_size, pin=pin,
            )

    def add_bytes(self, data: bytes, *, cid_version: int = 0, only_hash: bool = False) -> AddResult:
        """Store and pin ``data`` as a UnixFS file on the node."""
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
        raw_leaves: bool | None = None,
        chunk_size: int = 262144,
    ) -> AddResult:
        """Upload ``stream`` as one file with kubo's defaults for the CID version."""
        if cid_version not in (0, 1):
            raise IpfsError(f"CID version must be 0 or 1, not {cid_version}")
        reader = _CountingReader(stream, name or "file", progress, total)
        with self._errors("add a file"):
            try:
                added = self._client.add(
                    reader,
                    cid_version=cid_version,
                    # the client sends raw-leaves=false unless told; kubo's CIDv1 default is raw
                    raw_leaves=cid_version == 1 if raw_leaves is None else raw_leaves,
                    only_hash=only_hash,
                    pin=pin,
                    chunker=f"size-{chunk_size}",
                )
            except OSError as exc:
                raise IpfsError(f"cannot read {name or 'input'}: {exc.strerror or exc}") from None
            return AddResult(cid=added["Hash"], size=reader.count, dag_size=int(added["Size"]), name=name)

    # ---- reading --------------------------------------------------------------------------

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
        """``ipfs add -r`` on the node (ipfshttpclient uploads the folder as multipart parts)."""
        source = Path(path)
        with self._errors("add a folder"):
            items = self._client.add(
                str(source), recursive=source.is_dir(), wrap_with_directory=wrap, cid_version=cid_version,
                raw_leaves=cid_version == 1 if raw_leaves is None else raw_leaves, only_hash=only_hash,
                pin=pin, chunker=f"size-{chunk_size}", **({"hidden": True} if hidden else {}),
            )  # fmt: skip
        items = items if isinstance(items, list) else [items]
        entries = tuple(
            AddedEntry(path=item["Name"], cid=item["Hash"], size=0, dag_size=int(item["Size"]), kind="file")
            for item in items
        )
        root = entries[-1]
        return DirectoryAddResult(cid=root.cid, size=0, dag_size=root.dag_size, name=source.name, entries=entries)

    def ls(self, path: str) -> list[LsEntry]:
        """``ipfs ls`` on the node."""
        with self._errors(f"list {path}"):
            objects = self._client.ls(path)["Objects"]
        return [
            LsEntry(name=link["Name"], cid=link["Hash"], size=int(link.get("Size", 0)),
                    type=_LS_KINDS.get(int(link.get("Type", 2)), "unknown"))  # fmt: skip
            for obj in objects
            for link in obj.get("Links", [])
        ]

    def get(self, path: str, out: str | os.PathLike[str], *, progress: Progress | None = None) -> int:
        """``ipfs get`` from the node into ``out`` (the node streams a tar; it is unpacked here)."""
        import shutil

        target = Path(out)
        if target.exists():
            raise IpfsError(f"cannot write {target}: it already exists")
        scratch = Path(tempfile.mkdtemp(dir=target.resolve().parent, prefix=f".{target.name}."))
        try:
            with self._errors(f"get {path}"):
                self._client.get(path, target=str(scratch))
            produced = list(scratch.iterdir())
            if len(produced) != 1:
                raise IpfsError(f"the IPFS node at {self.api} sent an unexpected archive for {path}")
            os.replace(produced[0], target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return sum(p.stat().st_size for p in ([target] if target.is_file() else target.rglob("*")) if p.is_file())

    def cat(self, cid: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Stream a file's bytes from the node (which checks each block as it reads it).

        kubo reports a failure after the first byte only in an ``X-Stream-Error`` trailer, which
        HTTP clients drop; the stream is therefore checked against kubo's ``X-Content-Length``
        and a short one is an error, never a quietly truncated file.
        """
        if offset < 0 or (length is not None and length < 0):
            raise IpfsError("offset and length must not be negative")
        root = cid if "/" in cid.strip("/").removeprefix("ipfs/") else str(parse_root(cid))
        params: dict[str, Any] = {"arg": root, "offset": offset}
        if length is not None:
            params["length"] = length
        with self._errors(f"cat {root}"):
            try:
                response = requests.post(f"{to_url(self.api)}/api/v0/cat", params=params, stream=True, timeout=120)
            except requests.exceptions.ConnectionError:
                raise NodeUnavailableError(f"cannot reach the IPFS node at {self.api} (is it running?)") from None
            if response.status_code != 200:
                try:
                    message = response.json().get("Message", response.text)
                except ValueError:
                    message = response.text.strip()
                if "not found" in message:
                    raise IpfsError(f"IPFS node at {self.api} refused to cat {root}: {message}")
                raise IpfsError(f"IPFS node at {self.api} refused to cat {root}: {message}")
            expected = response.headers.get("X-Content-Length")
            chunks = response.iter_content(256 * 1024)
            first = next(chunks, b"")
        return self._counted(f"cat {root}", first, chunks, int(expected) if expected and expected.isdigit() else None, response)

    def _counted(self, action: str, first: bytes, chunks: Iterator[bytes], expected: int | None, response) -> Iterator[bytes]:
        received = 0
        try:
            with self._errors(action):
                if first:
                    received += len(first)
                    yield first
                for chunk in chunks:
                    received += len(chunk)
                    yield chunk
        finally:
            response.close()
        if expected is not None and received < expected:
            raise IpfsError(
                f"the IPFS node at {self.api} broke off the transfer while trying to {action} "
                f"after {received} of {expected} bytes: content is missing or corrupted on the node"
            )

    def read_bytes(self, cid: str) -> bytes:
        """A whole file's bytes (for small content; use ``cat`` for large files)."""
        return b"".join(self.cat(cid))

    def get_block(self, cid: str) -> bytes:
        """One raw block from the node."""
        root = str(parse_root(cid))
        with self._errors(f"get block {root}"):
            return bytes(self._client.block.get(root))

    def verify(self, cid: str) -> None:
        """Fetch the whole DAG as a CAR and check it here: every block against its CID, and
        every dag-pb link against the blocks received (a node may end a stream early).

        The export is spooled to a temporary file, so memory stays constant for any size.
        """
        root = cid_bytes(cid)
        received: set[bytes] = set()
        linked: dict[bytes, bytes] = {split_cid(root)[1]: root}
        with tempfile.TemporaryFile() as spool:
            self.export_car(cid, spool)
            spool.seek(0)
            try:
                read_header(spool)
                for section in read_sections(spool):
                    codec, multihash = split_cid(section.cid)
                    if not block_matches(multihash, section.data):
                        raise BlockCorruptedError(cid_text(section.cid))
                    received.add(multihash)
                    if codec == DAG_PB:
                        for link in decode_node(section.data).links:
                            linked.setdefault(split_cid(link.cid)[1], link.cid)
            except (CarFormatError, ValueError) as exc:
                raise IpfsError(f"IPFS node at {self.api} sent a broken DAG export: {exc}") from None
        for multihash, linked_cid in linked.items():
            if multihash not in received:
                raise BlockNotFoundError(cid_text(linked_cid))

    # ---- pins and GC ----------------------------------------------------------------------

    def pin_add(self, cid: str) -> list[str]:
        """Pin recursively on the node (fetching the DAG if the node must)."""
        root = str(parse_root(cid))
        with self._errors(f"pin {root}"):
            return list(self._client.pin.add(root)["Pins"])

    def pin_rm(self, cid: str) -> list[str]:
        """Remove a recursive pin on the node."""
        root = str(parse_root(cid))
        with self._errors(f"unpin {root}"):
            return list(self._client.pin.rm(root)["Pins"])

    def pin_ls(self) -> list[str]:
        """The node's recursive pins, sorted."""
        with self._errors("list pins"):
            return sorted(self._client.pin.ls(type="recursive")["Keys"])

    def gc(self) -> list[str]:
        """Run the node's garbage collector; returns the removed blocks' CIDs."""
        with self._errors("collect garbage"):
            return [item["Key"]["/"] for item in self._client.repo.gc() if "Key" in item]

    # ---- CAR ------------------------------------------------------------------------------

    def export_car(self, cid: str, out: IO[bytes]) -> None:
        """Stream ``ipfs dag export`` of ``cid`` into ``out``."""
        root = str(parse_root(cid))
        with self._errors(f"export {root}"):
            for chunk in self._client.dag.export(root, stream=True):
                out.write(chunk)

    def import_car(self, stream: BinaryIO, *, pin_roots: bool = True) -> ImportResult:
        """Upload a CAR to ``ipfs dag import``; the node verifies and pins its roots."""
        reader = _CountingReader(stream, "import.car", None, 0)
        with self._errors("import a CAR"):
            items = list(
                self._client.dag.imprt(
                    reader, stream=True, opts={"pin-roots": pin_roots, "stats": True}
                )
            )
        roots = tuple(
            ImportedRoot(cid=item["Root"]["Cid"]["/"], pin_error=item["Root"].get("PinErrorMsg", ""))
            for item in items
            if "Root" in item
        )
        stats: dict[str, Any] = next((item["Stats"] for item in items if "Stats" in item), {})
        return ImportResult(
            roots=roots,
            blocks=int(stats.get("BlockCount", 0)),
            bytes=int(stats.get("BlockBytesCount", 0)),
        )
