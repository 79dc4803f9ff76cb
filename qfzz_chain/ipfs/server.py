"""``qfzz ipfs serve``: the embedded store behind a subset of kubo's RPC API and a gateway.

RPC (``POST /api/v0/...``, kubo's JSON shapes and ``{"Message", "Code", "Type"}`` errors):
``add``, ``cat``, ``block/get``, ``pin/add``, ``pin/rm``, ``pin/ls``, ``dag/export``,
``dag/import``, ``repo/gc`` and ``version``. Gateway (``GET``/``HEAD /ipfs/CID``): read-only file
bytes with single-range ``Range`` requests, so a player can seek in a track.

Uploads (multipart, possibly chunked as ipfshttpclient sends them) and downloads are streamed, so
serving a 100 MB file needs no more memory than a few blocks. The standard library's
``ThreadingHTTPServer`` serves each connection on its own thread; the store's file locks keep
concurrent adds and GC apart.
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import platform
import re
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, Callable, Iterable, Iterator, cast

import multipart

from qfzz_chain.ipfs.cid import parse_cid
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.errors import (
    BlockNotFoundError,
    CarFormatError,
    InvalidCidError,
    IpfsError,
    NotAFileError,
)

# The kubo release whose RPC shapes this server follows; reported by /api/v0/version.
KUBO_API_VERSION = "0.22.0"
_READ_SIZE = 256 * 1024
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


class ClientError(Exception):
    """A bad request: kubo answers these with HTTP 400 and ``Code: 1``."""


# A client that hangs up mid-response is routine (a player seeking), not an error to log.
_DISCONNECTED = (BrokenPipeError, ConnectionResetError)


def parse_bool(value: str | None, default: bool, name: str) -> bool:
    """A kubo boolean option (Go's strconv.ParseBool spellings); ``default`` when absent."""
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ClientError(f"invalid value {value!r} for boolean option {name!r}")


def parse_count(value: str | None, name: str, default: int | None = None) -> int | None:
    """A non-negative decimal number from a header or query option; ``ClientError`` if it is not."""
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ClientError(f"invalid value {value!r} for {name}: expected a non-negative integer")
    return int(text)


def parse_byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` of a single ``bytes=`` range, ``None`` to serve the whole file.

    Raises ``ValueError`` for a range that cannot be satisfied (answered with 416). Multiple
    ranges, and invalid ones (``bytes=500-100``), are ignored and the whole file served, as
    RFC 9110 allows (section 14.2).
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError("empty suffix range, or a suffix of an empty file")
        return max(size - length, 0), size
    start = int(first)
    if last != "" and int(last) < start:
        return None  # last < first: an invalid range, ignored
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size:
        raise ValueError("range starts past the end")
    return start, end


class _ChunkedBody(io.RawIOBase):
    """A request body sent with ``Transfer-Encoding: chunked``, decoded as it is read."""

    def __init__(self, raw: io.BufferedIOBase):
        self._raw = raw
        self._left = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        if self._left == 0:
            size_line = self._raw.readline(1024)
            if not size_line:
                raise ClientError("request body ends inside a chunk header")
            try:
                self._left = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ClientError("malformed chunked request body") from None
            if self._left == 0:
                while self._raw.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                self._done = True
                return 0
        data = self._raw.read(min(len(buffer), self._left))
        if not data:
            raise ClientError("request body ends inside a chunk")
        buffer[: len(data)] = data
        self._left -= len(data)
        if self._left == 0:
            self._raw.readline(8)  # the CRLF closing the chunk
        return len(data)


class _LimitedBody(io.RawIOBase):
    """A request body of known ``Content-Length``."""

    def __init__(self, raw: io.BufferedIOBase, length: int):
        self._raw = raw
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._raw.read(min(len(buffer), self._left))
        if not data:
            raise ClientError("request body is shorter than its Content-Length")
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


class _PartReader(io.RawIOBase):
    """The body of the current multipart part, pulled from the parser as it is read."""

    def __init__(self, events: Iterator[Any]):
        self._events = events
        self._pending = memoryview(b"")
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._finished:
            event = next(self._events, None)  # the parser itself reports a cut-off body
            if event is None:
                self._finished = True
            else:
                self._pending = memoryview(event)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def drain(self) -> None:
        while self.readinto(bytearray(_READ_SIZE)):
            pass


def multipart_files(body: BinaryIO, content_type: str) -> Iterator[tuple[str, str, BinaryIO]]:
    """Each part of a ``multipart/form-data`` body as (file name, part type, streamed body).

    A part must be read (or is skipped) before the next one is produced.
    """
    _kind, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary")
    if not boundary:
        raise ClientError("expected a multipart/form-data body with a boundary")

    def events() -> Iterator[Any]:
        try:
            with multipart.PushMultipartParser(boundary) as parser:
                while not parser.closed:
                    chunk = body.read(_READ_SIZE)
                    yield from parser.parse(chunk)
                    if not chunk:
                        break
        except multipart.MultipartError as exc:
            raise ClientError(f"malformed multipart body: {exc}") from None

    stream = events()
    for event in stream:
        if not isinstance(event, multipart.MultipartSegment):
            raise ClientError("malformed multipart body")
        part = _PartReader(stream)
        filename = urllib.parse.unquote(event.filename or event.name or "")
        yield filename, event.content_type or "", io.BufferedReader(part, _READ_SIZE)
        part.drain()


class _Handler(BaseHTTPRequestHandler):
    server: "IpfsHttpServer"
    protocol_version = "HTTP/1.1"
    server_version = "qfzz-ipfs"

    # ---- plumbing ---------------------------------------------------------------------------

    _responded = False

    def send_response(self, code: int, message: str | None = None) -> None:
        self._responded = True  # from here on, an error can only cut the connection
        super().send_response(code, message)

    def handle_one_request(self) -> None:
        self._responded = False
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def _send_bytes(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, value: Any, status: int = 200) -> None:
        self._send_bytes(status, (json.dumps(value) + "\n").encode(), "application/json")

    def _send_ndjson(self, values: Iterable[Any]) -> None:
        body = "".join(json.dumps(value) + "\n" for value in values).encode()
        self._send_bytes(200, body, "application/json", {"X-Chunked-Output": "1"})

    def _send_rpc_error(self, message: str, *, client: bool) -> None:
        status = HTTPStatus.BAD_REQUEST if client else HTTPStatus.INTERNAL_SERVER_ERROR
        self._send_json({"Message": message, "Code": 1 if client else 0, "Type": "error"}, status)

    def _send_text(self, status: int, message: str) -> None:
        self._send_bytes(status, (message + "\n").encode(), "text/plain; charset=utf-8")

    def _stream(self, produce: Callable[[BinaryIO], None], content_type: str) -> None:
        """Send what ``produce`` writes as a chunked 200 response, starting on its first write.

        An error before the first write becomes a normal error response; after it, the
        connection is dropped without the final chunk, so the client sees a broken transfer
        rather than a short file that looks complete.
        """
        handler = self

        class Writer(io.RawIOBase):
            started = False

            def writable(self) -> bool:
                return True

            def write(self, data: Any) -> int:
                if not data:
                    return 0
                if not self.started:
                    handler.send_response(200)
                    handler.send_header("Content-Type", content_type)
                    handler.send_header("Transfer-Encoding", "chunked")
                    handler.send_header("X-Stream-Output", "1")
                    handler.end_headers()
                    self.started = True
                handler.wfile.write(b"%x\r\n" % len(data))
                handler.wfile.write(data)
                handler.wfile.write(b"\r\n")
                return len(data)

        writer = Writer()
        try:
            produce(cast(BinaryIO, writer))
        except _DISCONNECTED:
            self.close_connection = True
            return
        except (IpfsError, ClientError) as exc:
            if writer.started:
                self.log_error("stream aborted: %s", exc)
                self.close_connection = True
                return
            raise
        if not writer.started:
            writer.started = True
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        self.wfile.write(b"0\r\n\r\n")

    def _body(self) -> BinaryIO:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return io.BufferedReader(_ChunkedBody(self.rfile), _READ_SIZE)
        length = parse_count(self.headers.get("Content-Length"), "Content-Length", 0)
        assert length is not None
        return io.BufferedReader(_LimitedBody(self.rfile, length), _READ_SIZE)

    # ---- routing ----------------------------------------------------------------------------

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/api/v0/"):
            self._send_text(404, "404 page not found")
            return
        command = url.path[len("/api/v0/") :].rstrip("/")
        route = _RPC_ROUTES.get(command)
        if route is None:
            self._send_text(404, "404 page not found")
            return
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body: BinaryIO | None = None
        try:
            try:
                body = self._body()
                route(self, query, body)
            except ClientError as exc:
                self._send_rpc_error(str(exc), client=True)
            except InvalidCidError as exc:
                self._send_rpc_error(str(exc), client=True)
            except IpfsError as exc:
                self._send_rpc_error(str(exc), client=False)
            except _DISCONNECTED:
                raise
            except Exception as exc:  # a bug: answer as kubo does rather than drop the connection
                self.log_error("internal error: %r", exc)
                self.close_connection = True
                if not self._responded:
                    self._send_rpc_error(f"internal error: {exc}", client=False)
        except _DISCONNECTED:
            self.close_connection = True
            return
        finally:
            # Whatever the outcome, the next request on this connection must start at a boundary.
            if body is None:
                self.close_connection = True
            else:
                try:
                    while body.read(_READ_SIZE):
                        pass
                except (ClientError, OSError):
                    self.close_connection = True

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/api/v0/"):
            self._send_text(405, f"405 - Method Not Allowed: {self.command} is not accepted, use POST")
            return
        if not url.path.startswith("/ipfs/"):
            self._send_text(404, "404 page not found")
            return
        try:
            self._gateway(url)
        except _DISCONNECTED:
            self.close_connection = True
        except Exception as exc:  # a bug: a 500 (if headers are not yet out), never a traceback
            self.log_error("internal error: %r", exc)
            self.close_connection = True
            if not self._responded:
                with contextlib.suppress(Exception):
                    self._send_text(500, f"internal error: {exc}")

    do_HEAD = do_GET

    # ---- gateway ----------------------------------------------------------------------------

    def _gateway(self, url: urllib.parse.SplitResult) -> None:
        store = self.server.store
        parts = url.path[len("/ipfs/") :].split("/", 1)
        if len(parts) > 1 and parts[1]:
            self._send_text(404, "paths inside a CID are not served: only UnixFS files are")
            return
        try:
            cid = str(parse_cid(parts[0]))
            size = store.file_size(cid)
        except InvalidCidError as exc:
            self._send_text(400, str(exc))
            return
        except BlockNotFoundError as exc:
            self._send_text(404, str(exc))
            return
        except NotAFileError as exc:
            self._send_text(501, str(exc))
            return
        except IpfsError as exc:
            self._send_text(500, str(exc))
            return
        etag = f'"{cid}"'
        query = urllib.parse.parse_qs(url.query)
        filename = (query.get("filename") or [""])[0]
        content_type = (mimetypes.guess_type(filename)[0] if filename else None) or "application/octet-stream"
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": "public, max-age=29030400, immutable",
            "Etag": etag,
            "X-Ipfs-Path": f"/ipfs/{cid}",
        }
        if filename:
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{urllib.parse.quote(filename)}"
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        try:
            byte_range = parse_byte_range(self.headers.get("Range"), size)
        except ValueError:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = byte_range or (0, size)
        pieces: Iterator[bytes] = iter(())
        first = b""
        if self.command != "HEAD" and end > start:
            # The first piece is read before the headers go out, so a damaged start of the file
            # (a missing block, sizes that do not add up) is an error status, not a short body.
            try:
                pieces = store.cat(cid, offset=start, length=end - start)
                first = next(pieces, b"")
            except BlockNotFoundError as exc:
                self._send_text(404, str(exc))
                return
            except IpfsError as exc:
                self._send_text(500, str(exc))
                return
        self.send_response(206 if byte_range else 200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(end - start))
        if byte_range:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD" or end == start:
            return
        try:
            self.wfile.write(first)
            for piece in pieces:
                self.wfile.write(piece)
        except _DISCONNECTED:
            self.close_connection = True  # the player seeked or went away: nothing to report
        except IpfsError as exc:
            # Headers are gone: closing early makes the short body visible as an error.
            self.log_error("gateway stream aborted: %s", exc)
            self.close_connection = True


# ---- RPC commands ---------------------------------------------------------------------------

Query = dict[str, list[str]]


def _option(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _args(query: Query, *, required: bool = True) -> list[str]:
    args = query.get("arg", [])
    if required and not args:
        raise ClientError('argument "ipfs-path" is required')
    return [urllib.parse.unquote(arg) for arg in args]


def _refuse_unsupported(query: Query, unsupported: dict[str, Callable[[str], bool]]) -> None:
    for name, is_unsupported in unsupported.items():
        value = _option(query, name)
        if value is not None and value != "" and is_unsupported(value):
            raise ClientError(f"option {name}={value} is not supported by this node")


def _rpc_add(handler: _Handler, query: Query, body: BinaryIO) -> None:
    cid_version_text = _option(query, "cid-version") or "0"
    if cid_version_text not in ("0", "1"):
        raise ClientError(f"unsupported CID version {cid_version_text}")
    cid_version = int(cid_version_text)
    raw_leaves = parse_bool(_option(query, "raw-leaves"), cid_version == 1, "raw-leaves")
    if raw_leaves != (cid_version == 1):
        raise ClientError("raw-leaves must match the CID version (raw leaves exactly with CIDv1)")
    _refuse_unsupported(query, {
        "trickle": lambda v: parse_bool(v, False, "trickle"),
        "wrap-with-directory": lambda v: parse_bool(v, False, "wrap-with-directory"),
        "nocopy": lambda v: parse_bool(v, False, "nocopy"),
        "inline": lambda v: parse_bool(v, False, "inline"),
        "chunker": lambda v: v != "size-262144",
        "hash": lambda v: v != "sha2-256",
    })
    only_hash = parse_bool(_option(query, "only-hash"), False, "only-hash")
    pin = parse_bool(_option(query, "pin"), True, "pin")
    results = []
    for filename, part_type, stream in multipart_files(body, handler.headers.get("Content-Type", "")):
        if part_type == "application/x-directory":
            raise ClientError("adding directories is not supported by this node; add files")
        added = handler.server.store.add_stream(
            stream, name=filename, cid_version=cid_version, only_hash=only_hash, pin=pin
        )
        results.append({"Name": filename or added.cid, "Hash": added.cid, "Size": str(added.dag_size)})
    if not results:
        raise ClientError("no file was sent")
    handler._send_ndjson(results)


def _rpc_cat(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    offset = parse_count(_option(query, "offset"), "offset", 0)
    length = parse_count(_option(query, "length"), "length")
    assert offset is not None
    pieces = [handler.server.store.cat(cid, offset=offset, length=length) for cid in _args(query)]

    def produce(out: BinaryIO) -> None:
        for stream in pieces:
            for piece in stream:
                out.write(piece)

    handler._stream(produce, "text/plain")


def _rpc_block_get(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    block = handler.server.store.get_block(_args(query)[0])
    handler._send_bytes(200, block, "text/plain")


def _rpc_pin_add(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    if not parse_bool(_option(query, "recursive"), True, "recursive"):
        raise ClientError("only recursive pins are supported by this node")
    pins: list[str] = []
    for cid in _args(query):
        pins += handler.server.store.pin_add(cid)
    handler._send_json({"Pins": pins})


def _rpc_pin_rm(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    pins: list[str] = []
    for cid in _args(query):
        pins += handler.server.store.pin_rm(cid)
    handler._send_json({"Pins": pins})


def _rpc_pin_ls(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    pin_type = _option(query, "type") or "all"
    if pin_type not in ("all", "recursive", "direct", "indirect"):
        raise ClientError(f"invalid type {pin_type!r}, must be one of direct, indirect, recursive, all")
    pinned = handler.server.store.pin_ls() if pin_type in ("all", "recursive") else []
    wanted = _args(query, required=False)
    if wanted:
        for cid in wanted:
            if str(parse_cid(cid)) not in pinned:
                raise IpfsError(f"path '{cid}' is not pinned")
        pinned = [str(parse_cid(cid)) for cid in wanted]
    handler._send_json({"Keys": {cid: {"Type": "recursive"} for cid in pinned}})


def _rpc_dag_export(handler: _Handler, query: Query, _body: BinaryIO) -> None:
    cid = _args(query)[0]
    handler._stream(lambda out: handler.server.store.export_car(cid, out), "application/vnd.ipld.car")


def _rpc_dag_import(handler: _Handler, query: Query, body: BinaryIO) -> None:
    pin_roots = parse_bool(_option(query, "pin-roots"), True, "pin-roots")
    stats = parse_bool(_option(query, "stats"), False, "stats")
    results: list[dict[str, Any]] = []
    blocks = block_bytes = 0
    for _filename, _part_type, stream in multipart_files(body, handler.headers.get("Content-Type", "")):
        try:
            imported = handler.server.store.import_car(stream, pin_roots=pin_roots)
        except CarFormatError as exc:
            raise ClientError(str(exc)) from None
        blocks += imported.blocks
        block_bytes += imported.bytes
        if pin_roots:
            results += [
                {"Root": {"Cid": {"/": root.cid}, "PinErrorMsg": root.pin_error}} for root in imported.roots
            ]
    if stats:
        results.append({"Stats": {"BlockCount": blocks, "BlockBytesCount": block_bytes}})
    handler._send_ndjson(results)


def _rpc_repo_gc(handler: _Handler, _query: Query, _body: BinaryIO) -> None:
    handler._send_ndjson({"Key": {"/": cid}} for cid in handler.server.store.gc())


def _rpc_version(handler: _Handler, _query: Query, _body: BinaryIO) -> None:
    handler._send_json({
        "Version": KUBO_API_VERSION,
        "Commit": "qfzz-embedded",
        "Repo": "14",
        "System": f"{platform.machine()}/{sys.platform}",
        "Golang": f"python{platform.python_version()}",
    })


_RPC_ROUTES: dict[str, Callable[[_Handler, Query, BinaryIO], None]] = {
    "add": _rpc_add,
    "cat": _rpc_cat,
    "block/get": _rpc_block_get,
    "pin/add": _rpc_pin_add,
    "pin/rm": _rpc_pin_rm,
    "pin/ls": _rpc_pin_ls,
    "dag/export": _rpc_dag_export,
    "dag/import": _rpc_dag_import,
    "repo/gc": _rpc_repo_gc,
    "version": _rpc_version,
}


class IpfsHttpServer(ThreadingHTTPServer):
    """A threading HTTP server holding the store its handlers serve."""

    daemon_threads = True

    def __init__(self, store: EmbeddedStore, host: str, port: int, *, access_log: bool = True):
        self.store = store
        self.access_log = access_log
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:5001``."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"


def make_server(
    store: EmbeddedStore, host: str = "127.0.0.1", port: int = 5001, *, access_log: bool = True
) -> IpfsHttpServer:
    """Bind the RPC API and gateway on ``host:port`` (port 0 picks a free one).

    Call ``serve_forever()`` on the result, and ``shutdown()`` from another thread to stop it.
    """
    return IpfsHttpServer(store, host, port, access_log=access_log)
