"""``qfzz ipfs serve``: the embedded store behind kubo's RPC API, a trustless gateway and the
IPFS Pinning Service API, on aiohttp.

- RPC, ``POST /api/v0/...``: add, cat, get, ls, block/get, block/put, block/stat, dag/get,
  dag/export, dag/import, object/stat, pin/add, pin/rm, pin/ls, repo/gc, repo/stat, id, version.
  Errors as kubo answers them: a command's failure is HTTP 500 with
  ``{"Message", "Code": 0, "Type": "error"}``; what kubo's request parser refuses (a missing
  argument, a number that does not parse or is out of range) is HTTP 400 in plain text; an
  unknown command is 404 and a GET is 405, both plain text. A stream that fails after its first
  byte ends with an ``X-Stream-Error`` trailer, as kubo's does.
- Gateway, ``GET``/``HEAD /ipfs/CID[/path]``: files with single ``Range`` requests (players seek),
  directories (their ``index.html``, else a listing), and the trustless formats: ``?format=raw``
  (``application/vnd.ipld.raw``, one block) and ``?format=car`` (``application/vnd.ipld.car``, the
  DAG, ``dag-scope=all|entity|block``), which is what ``peers.py`` (and Helia, and kubo's gateway
  client) fetch and verify.
- Pinning Service API, ``/pins`` (when started with a token): a client asks this node to pin a
  CID; the node fetches it from the request's ``origins`` (HTTP gateways, as multiaddrs
  ``/ip4/…/tcp/…/http`` or URLs) and its own peers, verifying every block, and pins it.

Hardening (aiohttp's parser plus ``_Guard``): request headers must arrive within
``header_timeout`` (60 s) of the connection opening or of the previous response, a request body
may not stall longer than ``body_timeout`` between reads, at most ``max_connections`` are open at
once (further ones are closed at once), header lines and fields are capped at 8 KiB and 64
fields, uploads at ``max_upload_bytes``. Store calls run on a thread pool, so 100 slowloris
connections cost 100 idle sockets, not 100 threads, and a fresh request is still answered at
once (``benchmarks/bench_ipfs.py`` measures it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import json
import mimetypes
import os
import platform
import re
import secrets
import socket
import sys
import tarfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, BinaryIO, Callable, Iterator

import multipart
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from qfzz_chain.ipfs.car import encode_header, encode_section
from qfzz_chain.ipfs.cid import (
    CODEC_NAMES,
    DAG_CBOR,
    DAG_PB,
    RAW,
    cid_text,
    parse_root,
    parse_path,
    split_cid,
)
from qfzz_chain.ipfs.dagpb import decode_node, decode_unixfs
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.errors import (
    BlockNotFoundError,
    CarFormatError,
    InvalidCidError,
    IpfsError,
    IsDirectoryError,
    NotAFileError,
    PathNotFoundError,
)
from qfzz_chain.ipfs.unixfs import parse_chunker

# The kubo release whose RPC shapes this server follows; reported by /api/v0/version.
KUBO_API_VERSION = "0.22.0"
_READ_SIZE = 256 * 1024
_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}
_INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class ServerLimits:
    """The hardening bounds; the defaults suit a node serving an album library on a LAN."""

    header_timeout: float = 60.0  # seconds for a request's headers to arrive
    body_timeout: float = 60.0  # longest pause allowed while reading a request body
    keepalive_timeout: float = 15.0  # an idle kept-alive connection is closed after this
    max_connections: int = 1024
    max_upload_bytes: int = 64 * 1024**3
    max_json_bytes: int = 64 * 1024
    workers: int = 4  # threads running store calls (more only contend for the GIL with the loop)
    cache_bytes: int = 64 * 1024 * 1024  # verified blocks kept in memory for gateway reads


class ParseError(Exception):
    """What kubo's request parser refuses: HTTP 400, plain text."""


class CommandError(Exception):
    """A command's own failure: HTTP 500 with kubo's error JSON (Code 0)."""


def parse_bool(value: str | None, default: bool, name: str) -> bool:
    """A kubo boolean option (Go's strconv.ParseBool spellings); ``default`` when absent."""
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ParseError(f'invalid value "{value}" for option "{name}": expected a boolean')


def parse_count(value: str | None, name: str, default: int | None = None, *, signed: bool = False) -> int | None:
    """A decimal int64 option; ``ParseError`` if it does not parse or is out of range."""
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    digits = text[1:] if signed and text[:1] == "-" else text
    if not digits.isascii() or not digits.isdigit():
        raise ParseError(f'invalid value "{value}" for option "{name}": expected an integer')
    number = int(text)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        raise ParseError(f'invalid value "{value}" for option "{name}": out of range for int64')
    return number


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


# ---- connection guard ----------------------------------------------------------------------


class _Guard:
    """Open connections and their header deadlines."""

    def __init__(self, limits: ServerLimits):
        self.limits = limits
        self.open: set["_GuardedHandler"] = set()
        self.refused = 0
        self.timed_out = 0


class _GuardedHandler(RequestHandler):
    """aiohttp's connection handler, plus a header deadline and the connection bound."""

    guard: _Guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        guard = self.guard
        if len(guard.open) >= guard.limits.max_connections:
            guard.refused += 1
            transport.close()
            return
        guard.open.add(self)
        self._qfzz_deadline: asyncio.TimerHandle | None = None
        self.qfzz_expect_request()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.open.discard(self)
        deadline = getattr(self, "_qfzz_deadline", None)
        if deadline is not None:
            deadline.cancel()
        super().connection_lost(exc)

    def qfzz_expect_request(self) -> None:
        """(Re)start the clock for the next request's headers."""
        deadline = getattr(self, "_qfzz_deadline", None)
        if deadline is not None:
            deadline.cancel()
        loop = asyncio.get_event_loop()
        self._qfzz_deadline = loop.call_later(self.guard.limits.header_timeout, self._qfzz_expire)

    def qfzz_request_started(self) -> None:
        deadline = getattr(self, "_qfzz_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._qfzz_deadline = None

    def _qfzz_expire(self) -> None:
        self.guard.timed_out += 1
        if self.transport is not None:
            self.transport.close()


class _GuardedServer(web.Server):
    def __init__(self, handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]], guard: _Guard, **kwargs: Any):
        super().__init__(handler, **kwargs)
        self._guard = guard

    def __call__(self) -> RequestHandler:
        handler_class = type("GuardedHandler", (_GuardedHandler,), {"guard": self._guard})
        try:
            return handler_class(self, loop=self._loop, **self._kwargs)
        except TypeError:  # pragma: no cover - aiohttp's constructor signature moved
            return handler_class(self, loop=self._loop)


# ---- bridging the synchronous store -------------------------------------------------------


class _AsyncBodyReader(io.RawIOBase):
    """A request body as a blocking file, for store calls running on a worker thread."""

    def __init__(self, request: web.BaseRequest, loop: asyncio.AbstractEventLoop, limits: ServerLimits):
        self._content = request.content
        self._loop = loop
        self._limits = limits
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        async def read() -> bytes:
            return await asyncio.wait_for(self._content.read(len(buffer)), self._limits.body_timeout)

        try:
            data = asyncio.run_coroutine_threadsafe(read(), self._loop).result()
        except asyncio.TimeoutError:
            raise ParseError(f"request body stalled for more than {self._limits.body_timeout:g} s") from None
        except (ConnectionError, asyncio.CancelledError) as exc:
            raise ParseError(f"request body cut off ({exc.__class__.__name__})") from None
        self.count += len(data)
        if self.count > self._limits.max_upload_bytes:
            raise ParseError(f"request body is larger than {self._limits.max_upload_bytes} bytes")
        buffer[: len(data)] = data
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
    """Each part of a ``multipart/form-data`` body as (file name, part type, streamed body)."""
    _kind, options = multipart.parse_options_header(content_type)
    boundary = options.get("boundary")
    if not boundary:
        raise ParseError("expected a multipart/form-data body with a boundary")

    def events() -> Iterator[Any]:
        try:
            with multipart.PushMultipartParser(boundary) as parser:
                while not parser.closed:
                    chunk = body.read(_READ_SIZE)
                    yield from parser.parse(chunk)
                    if not chunk:
                        break
        except multipart.MultipartError as exc:
            raise ParseError(f"malformed multipart body: {exc}") from None

    stream = events()
    for event in stream:
        if not isinstance(event, multipart.MultipartSegment):
            raise ParseError("malformed multipart body")
        part = _PartReader(stream)
        filename = urllib.parse.unquote(event.filename or event.name or "")
        yield filename, event.content_type or "", io.BufferedReader(part, _READ_SIZE)
        part.drain()


class _ThreadWriter(io.RawIOBase):
    """A blocking file whose writes become pieces of an async response (bounded queue)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: "asyncio.Queue[bytes | None]"):
        self._loop = loop
        self._queue = queue

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if data:
            asyncio.run_coroutine_threadsafe(self._queue.put(bytes(data)), self._loop).result()
        return len(data)


# ---- the application ----------------------------------------------------------------------

Query = dict[str, list[str]]


class IpfsServer:
    """The RPC API, gateway and pinning service over one store, on one listening socket.

    ``serve_forever()`` runs the event loop in the calling thread; ``shutdown()`` (from any
    other thread) stops it. The socket is bound when the server is made, so a busy port is an
    ``OSError`` at once.
    """

    def __init__(
        self,
        store: EmbeddedStore,
        host: str = "127.0.0.1",
        port: int = 5001,
        *,
        access_log: bool = True,
        pin_token: str | None = None,
        limits: ServerLimits | None = None,
    ):
        self.limits = limits or ServerLimits()
        if not store._cache_budget and self.limits.cache_bytes:
            store = EmbeddedStore(store.repo, peers=store.peers.urls, peer_timeout=store.peers.timeout,
                                  cache_bytes=self.limits.cache_bytes)  # fmt: skip
        self.store = store
        self.access_log = access_log
        self.pin_token = pin_token
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(1024)
        except OSError:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()[:2]
        self.guard = _Guard(self.limits)
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="qfzz-serve")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()
        self.pins = _PinService(self)
        self._identity = _identity(store)

    @property
    def url(self) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:5001``."""
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # ---- running ------------------------------------------------------------------------

    def serve_forever(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            loop.close()
            self._stopped.set()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = _GuardedServer(
            self._handle,
            self.guard,
            loop=asyncio.get_running_loop(),
            keepalive_timeout=self.limits.keepalive_timeout,
            max_line_size=8190,
            max_field_size=8190,
            max_headers=64,
            access_log=None,
        )
        runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.SockSite(runner, self.socket)
        await site.start()
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def wait_started(self, timeout: float = 10.0) -> bool:
        return self._started.wait(timeout)

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread) and wait for it to return."""
        if self._loop is not None and self._stop is not None and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._stopped.wait(15)

    def server_close(self) -> None:
        self.socket.close()
        self.store.close()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking store call on the worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    # ---- dispatch -------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        protocol = request.protocol
        if isinstance(protocol, _GuardedHandler):
            protocol.qfzz_request_started()
        started = time.monotonic()
        response: web.StreamResponse | None = None
        try:
            response = await self._route(request)
            return response
        finally:
            if isinstance(protocol, _GuardedHandler):
                protocol.qfzz_expect_request()
            if self.access_log:
                status = response.status if response is not None else 0
                sys.stderr.write(f'{request.remote} "{request.method} {request.path_qs}" {status} '
                                 f"{(time.monotonic() - started) * 1000:.1f}ms\n")  # fmt: skip

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path.startswith("/api/v0/"):
            if request.method != "POST":
                return _text(405, f"405 - Method Not Allowed: {request.method} is not accepted, use POST")
            command = path[len("/api/v0/") :].rstrip("/")
            route = _RPC_ROUTES.get(command)
            if route is None:
                return _text(404, "404 page not found")
            return await self._rpc(request, route)
        if path.startswith("/ipfs/"):
            if request.method not in ("GET", "HEAD"):
                return _text(405, "405 - Method Not Allowed: use GET or HEAD")
            return await self._gateway(request)
        if path == "/pins" or path.startswith("/pins/"):
            return await self.pins.handle(request)
        return _text(404, "404 page not found")

    async def _rpc(self, request: web.BaseRequest, route: "RpcRoute") -> web.StreamResponse:
        query: Query = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        try:
            return await route(self, request, query)
        except ParseError as exc:
            return _text(400, str(exc))
        except (CommandError, IpfsError) as exc:
            return _rpc_error(str(exc))
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug: answer as kubo does rather than drop the connection
            sys.stderr.write(f"internal error: {exc!r}\n")
            return _rpc_error(f"internal error: {exc}")

    # ---- gateway --------------------------------------------------------------------------

    async def _gateway(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            path = parse_path(urllib.parse.unquote(request.path))
        except InvalidCidError as exc:
            return _text(400, str(exc))
        accept = request.headers.get("Accept", "")
        fmt = request.query.get("format", "")
        if fmt == "raw" or (not fmt and "application/vnd.ipld.raw" in accept):
            return await self._gateway_raw(request, path)
        if fmt == "car" or (not fmt and "application/vnd.ipld.car" in accept):
            return await self._gateway_car(request, path)
        if fmt not in ("", "unixfs"):
            return _text(400, f"unsupported format {fmt!r}: use raw or car")
        try:
            cid = await self.run(self.store.resolve, str(path))
            data = await self.run(self.store._read, cid)
            kind = self.store.node_type(cid, data)
        except (BlockNotFoundError, PathNotFoundError) as exc:
            return _text(404, str(exc))
        except IpfsError as exc:
            return _text(500, str(exc))
        if kind == "directory":
            return await self._gateway_directory(request, path, cid, data)
        if kind != "file":
            return _text(501, f"{cid_text(cid)} is a UnixFS {kind}: only files and directories are served")
        return await self._gateway_file(request, cid)

    async def _gateway_raw(self, request: web.BaseRequest, path) -> web.StreamResponse:
        try:
            cid = await self.run(self.store.resolve, str(path))
            block = await self.run(self.store._read, cid)
        except (BlockNotFoundError, PathNotFoundError) as exc:
            return _text(404, str(exc))
        except IpfsError as exc:
            return _text(500, str(exc))
        text = cid_text(cid)
        headers = _immutable(f'"{text}.raw"', f"/ipfs/{path}")
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Disposition"] = f'attachment; filename="{text}.bin"'
        if request.headers.get("If-None-Match") == headers["Etag"]:
            return web.Response(status=304, headers=headers)
        return web.Response(status=200, body=block if request.method != "HEAD" else None,
                            headers={**headers, "Content-Type": "application/vnd.ipld.raw",
                                     "Content-Length": str(len(block))})  # fmt: skip

    async def _gateway_car(self, request: web.BaseRequest, path) -> web.StreamResponse:
        scope = request.query.get("dag-scope", "all")
        if scope not in ("all", "entity", "block"):
            return _text(400, f"invalid dag-scope {scope!r}: use all, entity or block")
        store = self.store
        trail: list[tuple[bytes, bytes]] = []

        def resolve_with_trail() -> bytes:
            return store.resolve(str(path), trail=trail)  # the blocks a verifier walks the path by

        try:
            terminal = await self.run(resolve_with_trail)
            first = await self.run(store._read, terminal)
        except (BlockNotFoundError, PathNotFoundError) as exc:
            return _text(404, str(exc))
        except IpfsError as exc:
            return _text(500, str(exc))
        text = str(path.root)
        headers = _immutable(f'"{text}.car.{scope}"', f"/ipfs/{path}")
        headers["Content-Type"] = "application/vnd.ipld.car; version=1; order=dfs; dups=n"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Disposition"] = f'attachment; filename="{cid_text(terminal)}.car"'
        if request.headers.get("If-None-Match") == headers["Etag"]:
            return web.Response(status=304, headers=headers)
        response = web.StreamResponse(status=200, headers=headers)
        await response.prepare(request)
        if request.method == "HEAD":
            return response

        def produce(out: BinaryIO) -> None:
            out.write(encode_header([path.root.binary]))
            sent: set[bytes] = set()
            for cid, data in trail:
                if cid not in sent:
                    sent.add(cid)
                    out.write(encode_section(cid, data))
            if scope == "block":
                blocks: Iterator[tuple[bytes, bytes]] = iter([(terminal, first)])
            else:
                blocks = store._walk(terminal)
            for cid, data in blocks:
                if cid not in sent:
                    sent.add(cid)
                    out.write(encode_section(cid, data))

        error = await self._pump(response, produce)
        if error is not None:
            # Headers are gone: cut the connection so the client sees a broken CAR, not a short one.
            _abort(request)
            return response
        await response.write_eof()
        return response

    async def _gateway_directory(self, request: web.BaseRequest, path, cid: bytes, data: bytes) -> web.StreamResponse:
        if not request.path.endswith("/"):
            query = f"?{request.query_string}" if request.query_string else ""
            return web.Response(status=301, headers={"Location": request.path + "/" + query})
        try:
            index = await self.run(self.store.resolve, f"{path}/index.html")
            return await self._gateway_file(request, index, filename="index.html")
        except (PathNotFoundError, BlockNotFoundError, NotAFileError):
            pass
        try:
            entries = await self.run(self.store.ls, cid_text(cid))
        except IpfsError as exc:
            return _text(500, str(exc))
        rows = "".join(
            f'<tr><td><a href="{urllib.parse.quote(e.name)}{"/" if e.type == "directory" else ""}">'
            f"{html.escape(e.name)}</a></td><td>{e.type}</td><td>{e.size}</td><td>{e.cid}</td></tr>"
            for e in entries
        )
        body = (f"<!doctype html><title>/ipfs/{html.escape(str(path))}</title><h1>/ipfs/{html.escape(str(path))}</h1>"
                f"<table><tr><th>name</th><th>type</th><th>size</th><th>CID</th></tr>{rows}</table>\n").encode()  # fmt: skip
        headers = _immutable(f'"DirIndex-{cid_text(cid)}"', f"/ipfs/{path}")
        return web.Response(status=200, body=body if request.method != "HEAD" else None,
                            headers={**headers, "Content-Type": "text/html; charset=utf-8"})  # fmt: skip

    async def _gateway_file(self, request: web.BaseRequest, cid: bytes, filename: str = "") -> web.StreamResponse:
        store = self.store
        text = cid_text(cid)
        try:
            size = await self.run(store.file_size, text)
        except BlockNotFoundError as exc:
            return _text(404, str(exc))
        except IpfsError as exc:
            return _text(500, str(exc))
        filename = filename or request.query.get("filename", "")
        content_type = (mimetypes.guess_type(filename)[0] if filename else None) or "application/octet-stream"
        headers = _immutable(f'"{text}"', f"/ipfs/{text}")
        headers["Accept-Ranges"] = "bytes"
        if filename and filename != "index.html":
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{urllib.parse.quote(filename)}"
        if request.headers.get("If-None-Match") == headers["Etag"]:
            return web.Response(status=304, headers=headers)
        try:
            byte_range = parse_byte_range(request.headers.get("Range"), size)
        except ValueError:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
        start, end = byte_range or (0, size)
        pieces: Iterator[bytes] = iter(())
        first = b""
        if request.method != "HEAD" and end > start:
            # The first piece is read before the headers go out, so a damaged start of the file
            # (a missing block, sizes that do not add up) is an error status, not a short body.
            try:
                pieces = await self.run(lambda: store.cat(text, offset=start, length=end - start))
                first = await self.run(next, pieces, b"")
            except BlockNotFoundError as exc:
                return _text(404, str(exc))
            except IpfsError as exc:
                return _text(500, str(exc))
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(end - start)
        if byte_range:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        response = web.StreamResponse(status=206 if byte_range else 200, headers=headers)
        await response.prepare(request)
        if request.method == "HEAD" or end == start:
            await response.write_eof()
            return response
        try:
            await response.write(first)
            while True:
                piece = await self.run(next, pieces, None)
                if piece is None:
                    break
                await response.write(piece)
        except (ConnectionResetError, ConnectionError):
            return response  # the player seeked or went away: nothing to report
        except IpfsError as exc:
            sys.stderr.write(f"gateway stream aborted: {exc}\n")
            _abort(request)  # headers are gone: a cut connection makes the short body visible
            return response
        await response.write_eof()
        return response

    # ---- streaming helpers ------------------------------------------------------------------

    async def _pump(self, response: web.StreamResponse, produce: Callable[[BinaryIO], None],
                    write: Callable[[bytes], Awaitable[None]] | None = None) -> Exception | None:  # fmt: skip
        """Run ``produce`` on a worker thread, writing what it writes to ``response``.

        Returns the error that stopped it (after the response started), or None.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
        failure: list[Exception] = []

        def work() -> None:
            try:
                produce(_ThreadWriter(loop, queue))  # type: ignore[arg-type]
            except Exception as exc:
                failure.append(exc)
            finally:
                asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

        task = loop.run_in_executor(self._pool, work)
        send = write or response.write
        try:
            while True:
                piece = await queue.get()
                if piece is None:
                    break
                await send(piece)
        except (ConnectionError, asyncio.CancelledError):
            # the client went away: let the producer finish into the void
            while not task.done():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                await asyncio.sleep(0.01)
            raise
        await task
        return failure[0] if failure else None


def _abort(request: web.BaseRequest) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain", charset="utf-8")


def _rpc_error(message: str, status: int = 500, code: int = 0) -> web.Response:
    body = json.dumps({"Message": message, "Code": code, "Type": "error"}) + "\n"
    return web.Response(status=status, text=body, content_type="application/json")


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(value) + "\n", content_type="application/json", headers=headers)


def _immutable(etag: str, ipfs_path: str) -> dict[str, str]:
    return {"Etag": etag, "Cache-Control": "public, max-age=29030400, immutable", "X-Ipfs-Path": ipfs_path}


class _KuboStream:
    """A kubo-style streamed RPC answer: chunked, ``X-Stream-Output``, and on failure after
    the first byte an ``X-Stream-Error`` trailer in the final chunk (go-ipfs-cmds' behaviour).

    aiohttp writes no trailers, so this response frames its chunks itself: its payload writer's
    automatic chunking is switched off once the headers are prepared.
    """

    def __init__(self, request: web.BaseRequest, content_type: str, extra: dict[str, str] | None = None):
        self.request = request
        self.response = web.StreamResponse(status=200, headers={
            "Content-Type": content_type, "X-Stream-Output": "1", "X-Chunked-Output": "1",
            "Trailer": "X-Stream-Error", "Transfer-Encoding": "chunked", **(extra or {}),
        })  # fmt: skip

    async def start(self) -> None:
        await self.response.prepare(self.request)
        writer = self.response._payload_writer  # aiohttp has no trailer API: frame chunks here
        if writer is not None:
            writer.chunked = False

    async def write(self, data: bytes) -> None:
        if data:
            await self.response.write(b"%x\r\n" % len(data) + data + b"\r\n")

    async def finish(self, error: str | None = None) -> web.StreamResponse:
        trailer = ""
        if error:
            trailer = "X-Stream-Error: " + " ".join(error.split()) + "\r\n"
        await self.response.write(b"0\r\n" + trailer.encode("utf-8", "replace") + b"\r\n")
        await self.response.write_eof()
        return self.response


async def _stream_from_thread(server: IpfsServer, request: web.BaseRequest, content_type: str,
                              prepare: Callable[[], Any], produce: Callable[[Any, BinaryIO], None],
                              extra: Callable[[Any], dict[str, str]] | None = None) -> web.StreamResponse:  # fmt: skip
    """``prepare()`` on a worker (errors are normal RPC errors), then stream ``produce``."""
    state = await server.run(prepare)
    stream = _KuboStream(request, content_type, extra(state) if extra else None)
    await stream.start()
    error = await server._pump(stream.response, lambda out: produce(state, out), write=stream.write)
    return await stream.finish(str(error) if error else None)


# ---- RPC commands ---------------------------------------------------------------------------

RpcRoute = Callable[[IpfsServer, web.BaseRequest, Query], Awaitable[web.StreamResponse]]


def _option(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _args(query: Query, *, required: bool = True, name: str = "ipfs-path") -> list[str]:
    args = query.get("arg", [])
    if required and not args:
        raise ParseError(f'argument "{name}" is required')
    return args


def _path_arg(text: str) -> str:
    """A kubo path argument: ``/ipfs/CID/...`` or ``CID/...``; a bad one is a command error."""
    try:
        return str(parse_path(text))
    except InvalidCidError:
        raise CommandError(f'invalid path "{text}": not a valid CID or /ipfs/ path') from None


async def _read_body(server: IpfsServer, request: web.BaseRequest) -> _AsyncBodyReader:
    return _AsyncBodyReader(request, asyncio.get_running_loop(), server.limits)


async def _rpc_add(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    cid_version = parse_count(_option(query, "cid-version"), "cid-version", 0)
    if cid_version not in (0, 1):
        raise CommandError(f"unknown CID version: {cid_version}")
    raw_leaves_text = _option(query, "raw-leaves")
    raw_leaves = None if raw_leaves_text in (None, "") else parse_bool(raw_leaves_text, False, "raw-leaves")
    for name in ("trickle", "nocopy", "inline"):
        if parse_bool(_option(query, name), False, name):
            raise CommandError(f"option {name}=true is not supported by this node")
    hash_name = _option(query, "hash") or "sha2-256"
    if hash_name != "sha2-256":
        raise CommandError(f"hash {hash_name!r} is not supported by this node (only sha2-256)")
    try:
        chunk_size = parse_chunker(_option(query, "chunker"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    only_hash = parse_bool(_option(query, "only-hash"), False, "only-hash")
    pin = parse_bool(_option(query, "pin"), True, "pin")
    wrap = parse_bool(_option(query, "wrap-with-directory"), False, "wrap-with-directory")
    content_type = request.headers.get("Content-Type", "")
    body = await _read_body(server, request)
    store = server.store
    options = dict(cid_version=cid_version, only_hash=only_hash, pin=pin, raw_leaves=raw_leaves, chunk_size=chunk_size)

    def add_all() -> list[dict[str, str]]:
        return _add_parts(store, io.BufferedReader(body, _READ_SIZE), content_type, options, wrap)

    results = await server.run(add_all)
    return web.Response(status=200, text="".join(json.dumps(r) + "\n" for r in results),
                        content_type="application/json", headers={"X-Chunked-Output": "1"})  # fmt: skip


def _add_parts(store: EmbeddedStore, body: BinaryIO, content_type: str, options: dict, wrap: bool) -> list[dict[str, str]]:
    """Add each multipart part; ``application/x-directory`` parts build folders (``add -r``)."""
    results: list[dict[str, str]] = []
    tree: dict[str, Any] = {}  # folder path -> {name: (cid, dag size)} for directory uploads
    folders: list[str] = []
    pin = options["pin"]
    file_options = dict(options, pin=False)  # the roots are pinned once every part is stored
    for filename, part_type, stream in multipart_files(body, content_type):
        name = filename.strip("/")
        if part_type == "application/x-directory":
            folders.append(name)
            tree.setdefault(name, {})
            continue
        added = store.add_stream(stream, name=name, **file_options)
        results.append({"Name": name or added.cid, "Hash": added.cid, "Size": str(added.dag_size)})
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        tree.setdefault(parent, {})[name.rsplit("/", 1)[-1]] = (added.cid, added.dag_size)
    if not results and not folders:
        raise CommandError("no file was sent")
    roots = _build_folders(store, tree, folders, results, options)
    if wrap:
        top = {n: v for n, v in ((r["Name"], (r["Hash"], int(r["Size"]))) for r in results) if "/" not in n}
        cid, size = store_directory(store, top, options)
        results.append({"Name": "", "Hash": cid, "Size": str(size)})
        roots = [cid]
    elif not roots:
        roots = [r["Hash"] for r in results if "/" not in r["Name"]]
    if pin and not options["only_hash"]:
        for root in roots:
            store._add_pin(root)
    return results


def _build_folders(store: EmbeddedStore, tree: dict[str, Any], folders: list[str],
                   results: list[dict[str, str]], options: dict) -> list[str]:  # fmt: skip
    """Make the directory nodes of an uploaded tree, deepest first; returns the top folders' CIDs."""
    roots = []
    for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):
        cid, size = store_directory(store, tree.get(folder, {}), options)
        results.append({"Name": folder, "Hash": cid, "Size": str(size)})
        if "/" in folder:
            parent, name = folder.rsplit("/", 1)
            tree.setdefault(parent, {})[name] = (cid, size)
        else:
            roots.append(cid)
    return roots


def store_directory(store: EmbeddedStore, entries: dict[str, tuple[str, int]], options: dict) -> tuple[str, int]:
    """Store a directory node over already stored entries; returns (CID, DAG size)."""
    from qfzz_chain.ipfs.cid import cid_bytes
    from qfzz_chain.ipfs.directory import DirEntry, directory_blocks

    blocks = directory_blocks([DirEntry(n, cid_bytes(c), s) for n, (c, s) in entries.items()],
                              cid_version=options["cid_version"])  # fmt: skip
    if not options["only_hash"]:
        with store._adding(False) as put:
            for block in blocks:
                put(block)
            put.finish()
    return cid_text(blocks[-1].cid), blocks[-1].dag_size


async def _rpc_cat(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    offset = parse_count(_option(query, "offset"), "offset", 0, signed=True)
    length = parse_count(_option(query, "length"), "length", None, signed=True)
    assert offset is not None
    if offset < 0:
        raise CommandError("cannot specify negative offset")
    if length is not None and length < 0:
        raise CommandError("cannot specify negative length")
    paths = [_path_arg(arg) for arg in _args(query)]
    store = server.store

    def prepare() -> tuple[list[tuple[str, int, int | None]], int]:
        """kubo's cat(): the offset runs over the concatenation, the length caps the total."""
        plan: list[tuple[str, int, int | None]] = []
        remaining_offset, total = offset, 0
        if length == 0:
            return plan, 0
        for path in paths:
            size = store.file_size(path)
            if remaining_offset > size:
                remaining_offset -= size
                continue
            start, remaining_offset = remaining_offset, 0
            piece = size - start
            if length is not None and total + piece >= length:
                plan.append((path, start, length - total))
                total = length
                break
            plan.append((path, start, None))
            total += piece
        return plan, total

    def produce(state: tuple[list[tuple[str, int, int | None]], int], out: BinaryIO) -> None:
        for path, start, count in state[0]:
            for piece in store.cat(path, offset=start, length=count):
                out.write(piece)

    return await _stream_from_thread(server, request, "text/plain", prepare, produce,
                                     extra=lambda state: {"X-Content-Length": str(state[1])})  # fmt: skip


async def _rpc_get(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query)[0])
    if parse_bool(_option(query, "compress"), False, "compress"):
        raise CommandError("compress is not supported by this node")
    store = server.store

    def prepare() -> bytes:
        return store.resolve(path)

    def produce(root: bytes, out: BinaryIO) -> None:
        _write_tar(store, root, cid_text(root) if "/" not in path else path.rsplit("/", 1)[-1], out)

    return await _stream_from_thread(server, request, "application/x-tar", prepare, produce)


def _write_tar(store: EmbeddedStore, root: bytes, top: str, out: BinaryIO) -> None:
    """The tar ``ipfs get`` streams: the file, or the folder tree, under the name ``top``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        stack = [(root, top)]
        while stack:
            cid, name = stack.pop()
            data = store._read(cid)
            kind = store.node_type(cid, data)
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "directory":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
                for link in reversed(store._entries(cid, data)):
                    stack.append((link.cid, f"{name}/{link.name}"))
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = decode_unixfs(decode_node(data).data).data.decode("utf-8", "replace")
                archive.addfile(info)
            elif kind == "file":
                info.size, info.mode = store.file_size(cid_text(cid)), 0o644
                archive.addfile(info, _IterReader(store._read_range(cid, data, 0, None)))
            else:
                raise NotAFileError(f"{cid_text(cid)} is not UnixFS and cannot be put in a tar")


class _IterReader(io.RawIOBase):
    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._pieces, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size], self._pending = self._pending[:size], self._pending[size:]
        return size


_LS_TYPES = {"directory": 1, "file": 2, "symlink": 4, "unknown": 0}


async def _rpc_ls(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    paths = [_path_arg(arg) for arg in _args(query)]
    store = server.store

    def listing() -> list[dict[str, Any]]:
        objects = []
        for path in paths:
            cid = store.resolve(path)
            if store.node_type(cid) != "directory":
                # kubo lists a file as an object with no links
                objects.append({"Hash": path, "Links": []})
                continue
            links = [{"Name": e.name, "Hash": e.cid, "Size": e.size, "Type": _LS_TYPES[e.type], "Target": ""}
                     for e in store.ls(path)]  # fmt: skip
            objects.append({"Hash": path, "Links": links})
        return objects

    return _json({"Objects": await server.run(listing)})


async def _rpc_block_get(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query, name="cid")[0])
    block = await server.run(lambda: server.store._read(server.store.resolve(path)))
    return web.Response(status=200, body=block, content_type="text/plain")


async def _rpc_block_stat(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query, name="cid")[0])

    def stat() -> dict[str, Any]:
        cid = server.store.resolve(path)
        return {"Key": cid_text(cid), "Size": len(server.store._read(cid))}

    return _json(await server.run(stat))


_CODECS = {"raw": RAW, "dag-pb": DAG_PB, "dag-cbor": DAG_CBOR, "protobuf": DAG_PB, "cbor": DAG_CBOR, "v0": DAG_PB}


async def _rpc_block_put(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    codec_name = _option(query, "cid-codec") or _option(query, "format") or "raw"
    if codec_name not in _CODECS:
        raise CommandError(f"unknown codec {codec_name!r}: use raw, dag-pb or dag-cbor")
    mhtype = _option(query, "mhtype") or "sha2-256"
    if mhtype != "sha2-256":
        raise CommandError(f"hash {mhtype!r} is not supported by this node (only sha2-256)")
    mhlen = parse_count(_option(query, "mhlen"), "mhlen", -1, signed=True)
    if mhlen not in (-1, 32):
        raise CommandError(f"mhlen {mhlen} is not supported for sha2-256 (32 bytes)")
    version = 0 if codec_name == "v0" else 1
    pin = parse_bool(_option(query, "pin"), False, "pin")
    content_type = request.headers.get("Content-Type", "")
    body = await _read_body(server, request)

    def put_all() -> list[dict[str, Any]]:
        out = []
        for _name, _type, stream in multipart_files(io.BufferedReader(body, _READ_SIZE), content_type):
            data = stream.read(1024 * 1024 + 1)
            cid = server.store.put_block(data, codec=_CODECS[codec_name], cid_version=version, pin=pin)
            out.append({"Key": cid, "Size": len(data)})
        if not out:
            raise CommandError("no block was sent")
        return out

    results = await server.run(put_all)
    return web.Response(status=200, text="".join(json.dumps(r) + "\n" for r in results), content_type="application/json")


def _dag_json(value: Any) -> Any:
    """A decoded IPLD value in dag-json's data model (links as {"/": cid}, bytes as base64)."""
    if isinstance(value, bytes):
        return {"/": {"bytes": base64.b64encode(value).decode().rstrip("=")}}
    if isinstance(value, dict):
        return {str(k): _dag_json(v) for k, v in sorted(value.items(), key=lambda kv: (len(str(kv[0])), str(kv[0])))}
    if isinstance(value, list):
        return [_dag_json(v) for v in value]
    return value


async def _rpc_dag_get(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query, name="ref")[0])
    output = _option(query, "output-codec") or "dag-json"
    if output not in ("dag-json", "json"):
        raise CommandError(f"output codec {output!r} is not supported by this node (dag-json)")

    def get() -> Any:
        cid = server.store.resolve(path)
        data = server.store._read(cid)
        codec = split_cid(cid)[0]
        if codec == RAW:
            return _dag_json(data)
        if codec == DAG_PB:
            node = decode_node(data)
            out: dict[str, Any] = {}
            if node.data is not None:
                out["Data"] = _dag_json(node.data)
            out["Links"] = [{"Hash": {"/": cid_text(l.cid)}, "Name": l.name, "Tsize": l.tsize} for l in node.links]
            return out
        if codec == DAG_CBOR:
            import dag_cbor
            from multiformats import CID

            def convert(value: Any) -> Any:
                if isinstance(value, CID):
                    return {"/": cid_text(bytes(value))}
                if isinstance(value, dict):
                    return {k: convert(v) for k, v in value.items()}
                if isinstance(value, list):
                    return [convert(v) for v in value]
                return _dag_json(value) if isinstance(value, bytes) else value

            return convert(dag_cbor.decode(data))
        raise CommandError(f"codec {CODEC_NAMES.get(codec, hex(codec))} cannot be shown by this node")

    value = await server.run(get)
    return web.Response(status=200, text=json.dumps(value, separators=(",", ":")) + "\n", content_type="application/json")


async def _rpc_object_stat(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query, name="key")[0])

    def stat() -> dict[str, Any]:
        cid = server.store.resolve(path)
        data = server.store._read(cid)
        if split_cid(cid)[0] != DAG_PB:
            raise CommandError(f"{cid_text(cid)} is not a dag-pb node: object stat needs one")
        node = decode_node(data)
        data_size = len(node.data or b"")
        return {"Hash": cid_text(cid), "NumLinks": len(node.links), "BlockSize": len(data),
                "LinksSize": len(data) - data_size, "DataSize": data_size,
                "CumulativeSize": len(data) + sum(l.tsize for l in node.links)}  # fmt: skip

    return _json(await server.run(stat))


async def _rpc_pin_add(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    if not parse_bool(_option(query, "recursive"), True, "recursive"):
        raise CommandError("only recursive pins are supported by this node")
    paths = [_path_arg(arg) for arg in _args(query)]

    def pin_all() -> list[str]:
        return [cid for path in paths for cid in server.store.pin_add(path)]

    return _json({"Pins": await server.run(pin_all)})


async def _rpc_pin_rm(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    paths = [_path_arg(arg) for arg in _args(query)]
    return _json({"Pins": await server.run(lambda: [c for p in paths for c in server.store.pin_rm(p)])})


async def _rpc_pin_ls(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    pin_type = _option(query, "type") or "all"
    if pin_type not in ("all", "recursive", "direct", "indirect"):
        raise CommandError(f"invalid type '{pin_type}', must be one of {{direct, indirect, recursive, all}}")
    pinned = await server.run(server.store.pin_ls) if pin_type in ("all", "recursive") else []
    wanted = [_path_arg(arg) for arg in _args(query, required=False)]
    if wanted:
        for cid in wanted:
            if cid not in pinned:
                raise CommandError(f"path '{cid}' is not pinned")
        pinned = wanted
    return _json({"Keys": {cid: {"Type": "recursive"} for cid in pinned}})


async def _rpc_dag_export(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    path = _path_arg(_args(query, name="root")[0])
    store = server.store

    def prepare() -> bytes:
        root = store.resolve(path)
        store._read(root)  # an unknown root is an error status, not an empty stream
        return root

    return await _stream_from_thread(server, request, "application/vnd.ipld.car", prepare,
                                     lambda root, out: store.export_car(cid_text(root), out))  # fmt: skip


async def _rpc_dag_import(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    pin_roots = parse_bool(_option(query, "pin-roots"), True, "pin-roots")
    stats = parse_bool(_option(query, "stats"), False, "stats")
    content_type = request.headers.get("Content-Type", "")
    body = await _read_body(server, request)

    def import_all() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        blocks = block_bytes = 0
        for _filename, _part_type, stream in multipart_files(io.BufferedReader(body, _READ_SIZE), content_type):
            try:
                imported = server.store.import_car(stream, pin_roots=pin_roots)
            except CarFormatError as exc:
                raise CommandError(str(exc)) from None
            blocks += imported.blocks
            block_bytes += imported.bytes
            if pin_roots:
                results += [{"Root": {"Cid": {"/": r.cid}, "PinErrorMsg": r.pin_error}} for r in imported.roots]
        if stats:
            results.append({"Stats": {"BlockCount": blocks, "BlockBytesCount": block_bytes}})
        return results

    results = await server.run(import_all)
    return web.Response(status=200, text="".join(json.dumps(r) + "\n" for r in results),
                        content_type="application/json", headers={"X-Chunked-Output": "1"})  # fmt: skip


async def _rpc_repo_gc(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    removed = await server.run(server.store.gc)
    return web.Response(status=200, text="".join(json.dumps({"Key": {"/": c}}) + "\n" for c in removed),
                        content_type="application/json", headers={"X-Chunked-Output": "1"})  # fmt: skip


async def _rpc_repo_stat(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    size_only = parse_bool(_option(query, "size-only"), False, "size-only")
    stat = await server.run(server.store.repo_stat)
    usage = shutil_disk_total(server.store.repo)
    out: dict[str, Any] = {"RepoSize": stat["RepoSize"], "StorageMax": usage}
    if not size_only:
        out.update(NumObjects=stat["NumObjects"], RepoPath=str(server.store.repo), Version="fs-repo@14")
    return _json(out)


def shutil_disk_total(path: Path) -> int:
    import shutil

    probe = path if path.exists() else path.parent
    with contextlib.suppress(OSError):
        return shutil.disk_usage(probe).total
    return 0


async def _rpc_id(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    if _args(query, required=False):
        raise CommandError("this node only knows its own identity: call id without an argument")
    host, port = server.server_address
    return _json({
        "ID": server._identity,
        "PublicKey": "",
        "Addresses": [f"/ip4/{host}/tcp/{port}/http"] if ":" not in host else [f"/ip6/{host}/tcp/{port}/http"],
        "AgentVersion": f"kubo/{KUBO_API_VERSION}/qfzz-embedded",
        "ProtocolVersion": "ipfs/0.1.0",
        "Protocols": ["/ipfs/gateway", "/ipfs/trustless-gateway"],
    })


async def _rpc_version(server: IpfsServer, request: web.BaseRequest, query: Query) -> web.StreamResponse:
    return _json({
        "Version": KUBO_API_VERSION,
        "Commit": "qfzz-embedded",
        "Repo": "14",
        "System": f"{platform.machine()}/{sys.platform}",
        "Golang": f"python{platform.python_version()}",
    })


_RPC_ROUTES: dict[str, RpcRoute] = {
    "add": _rpc_add,
    "cat": _rpc_cat,
    "get": _rpc_get,
    "ls": _rpc_ls,
    "block/get": _rpc_block_get,
    "block/stat": _rpc_block_stat,
    "block/put": _rpc_block_put,
    "dag/get": _rpc_dag_get,
    "dag/export": _rpc_dag_export,
    "dag/import": _rpc_dag_import,
    "object/stat": _rpc_object_stat,
    "pin/add": _rpc_pin_add,
    "pin/rm": _rpc_pin_rm,
    "pin/ls": _rpc_pin_ls,
    "repo/gc": _rpc_repo_gc,
    "repo/stat": _rpc_repo_stat,
    "id": _rpc_id,
    "version": _rpc_version,
}


def _identity(store: EmbeddedStore) -> str:
    """A stable peer-ID-shaped name for this repository (``12D3KooW…``).

    The store speaks HTTP, not libp2p, so there is no key pair behind it; the 32 random bytes
    in ``identity`` stand in for an Ed25519 public key so ``ipfs id`` callers get a kubo shape.
    """
    path = store.repo / "identity"
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        key = secrets.token_bytes(32)
        with contextlib.suppress(OSError):
            store.repo.mkdir(parents=True, exist_ok=True)
            path.write_text(key.hex() + "\n")
    multihash = b"\x00\x24\x08\x01\x12\x20" + key  # identity(protobuf PublicKey{Ed25519, key})
    from qfzz_chain.ipfs.cid import _B58

    number, digits = int.from_bytes(multihash, "big"), []
    while number:
        number, digit = divmod(number, 58)
        digits.append(_B58[digit])
    return "1" * (len(multihash) - len(multihash.lstrip(b"\x00"))) + "".join(reversed(digits))


# ---- the Pinning Service API ------------------------------------------------------------------


def origin_url(origin: str) -> str | None:
    """An HTTP gateway URL from a PSA origin: ``/ip4|ip6|dns|dns4|dns6/H/tcp/P/http(s)`` or a URL."""
    if origin.startswith(("http://", "https://")):
        return origin.rstrip("/")
    parts = origin.strip("/").split("/")
    if len(parts) >= 5 and parts[0] in ("ip4", "ip6", "dns", "dns4", "dns6") and parts[2] == "tcp" \
            and parts[4] in ("http", "https") and parts[3].isdigit():  # fmt: skip
        host = f"[{parts[1]}]" if parts[0] == "ip6" else parts[1]
        return f"{parts[4]}://{host}:{parts[3]}"
    return None  # a libp2p origin: this node cannot dial it


class _PinService:
    """The IPFS Pinning Service API (``/pins``), backed by this store, persisted in ``psa.json``."""

    STATUSES = ("queued", "pinning", "pinned", "failed")

    def __init__(self, server: IpfsServer):
        self.server = server
        self.path = server.store.repo / "psa.json"
        self.lock = threading.Lock()
        self.requests: dict[str, dict[str, Any]] = {}
        with contextlib.suppress(OSError, ValueError):
            self.requests = json.loads(self.path.read_text())

    def _save(self) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_suffix(".tmp")
            scratch.write_text(json.dumps(self.requests, indent=1))
            os.replace(scratch, self.path)

    @staticmethod
    def _error(status: int, reason: str, details: str) -> web.Response:
        return _json({"error": {"reason": reason, "details": details}}, status)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        token = self.server.pin_token
        if not token:
            return self._error(404, "NOT_FOUND", "the pinning service API is off: start `qfzz ipfs serve --pin-token`")
        offered = request.headers.get("Authorization", "")
        if not secrets.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return self._error(401, "UNAUTHORIZED", "missing or wrong access token (Authorization: Bearer TOKEN)")
        parts = request.path.strip("/").split("/")
        if len(parts) == 1:
            if request.method == "GET":
                return self._list(request)
            if request.method == "POST":
                return await self._add(request, None)
        elif len(parts) == 2:
            requestid = parts[1]
            if requestid not in self.requests:
                return self._error(404, "NOT_FOUND", f"no pin request {requestid}")
            if request.method == "GET":
                return _json(self.requests[requestid])
            if request.method == "POST":
                return await self._add(request, requestid)
            if request.method == "DELETE":
                await self.server.run(self._remove, requestid)
                return web.Response(status=202)
        return self._error(400, "BAD_REQUEST", f"{request.method} {request.path} is not part of the pinning service API")

    def _list(self, request: web.BaseRequest) -> web.Response:
        query = request.query
        wanted_cids = set(filter(None, query.get("cid", "").split(",")))
        statuses = set(filter(None, query.get("status", "pinned").split(",")))
        if not statuses <= set(self.STATUSES):
            return self._error(400, "BAD_REQUEST", f"unknown status in {query.get('status')!r}")
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return self._error(400, "BAD_REQUEST", "limit must be a number")
        if not 1 <= limit <= 1000:
            return self._error(400, "BAD_REQUEST", "limit must be between 1 and 1000")
        name = query.get("name")
        matches = [r for r in self.requests.values() if r["status"] in statuses
                   and (not wanted_cids or r["pin"]["cid"] in wanted_cids)
                   and (name is None or r["pin"].get("name") == name)]  # fmt: skip
        matches.sort(key=lambda r: r["created"], reverse=True)
        return _json({"count": len(matches), "results": matches[:limit]})

    async def _add(self, request: web.BaseRequest, replaces: str | None) -> web.Response:
        raw = await request.content.read(self.server.limits.max_json_bytes + 1)
        if len(raw) > self.server.limits.max_json_bytes:
            return self._error(400, "BAD_REQUEST", "request body too large")
        try:
            pin = json.loads(raw)
            cid = str(parse_root(pin["cid"]))
        except (ValueError, KeyError, TypeError, InvalidCidError):
            return self._error(400, "BAD_REQUEST", 'the body must be JSON with a valid "cid"')
        origins = [str(o) for o in pin.get("origins") or []][:20]
        requestid = uuid.uuid4().hex
        host, port = self.server.server_address
        status = {
            "requestid": requestid,
            "status": "queued",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "pin": {"cid": cid, "name": str(pin.get("name") or ""), "origins": origins, "meta": pin.get("meta") or {}},
            "delegates": [f"/ip4/{host}/tcp/{port}/http"],
            "info": {},
        }
        with self.lock:
            self.requests[requestid] = status
            self._save()
        asyncio.get_running_loop().run_in_executor(self.server._pool, self._pin, requestid, replaces)
        return _json(status, 202)

    def _pin(self, requestid: str, replaces: str | None) -> None:
        """Fetch the DAG from the origins and this node's peers (every block verified), then pin."""
        record = self.requests[requestid]
        with self.lock:
            record["status"] = "pinning"
            self._save()
        urls = [u for u in (origin_url(o) for o in record["pin"]["origins"]) if u]
        store = EmbeddedStore(self.server.store.repo, peers=tuple(urls) + self.server.store.peers.urls)
        try:
            store.pin_add(record["pin"]["cid"])
            outcome, info = "pinned", {}
            if replaces and replaces in self.requests:
                self._remove(replaces)
        except IpfsError as exc:
            outcome, info = "failed", {"status_details": str(exc)}
        finally:
            store.close()
        with self.lock:
            record["status"], record["info"] = outcome, info
            self._save()

    def _remove(self, requestid: str) -> None:
        with self.lock:
            record = self.requests.pop(requestid, None)
            self._save()
        if record is None:
            return
        cid = record["pin"]["cid"]
        still_wanted = any(r["pin"]["cid"] == cid and r["status"] == "pinned" for r in self.requests.values())
        if record["status"] == "pinned" and not still_wanted:
            with contextlib.suppress(IpfsError):
                self.server.store.pin_rm(cid)


# ---- construction ---------------------------------------------------------------------------

# The old name, kept for callers of the threading server this replaced.
IpfsHttpServer = IpfsServer


def make_server(
    store: EmbeddedStore,
    host: str = "127.0.0.1",
    port: int = 5001,
    *,
    access_log: bool = True,
    pin_token: str | None = None,
    limits: ServerLimits | None = None,
) -> IpfsServer:
    """Bind the RPC API, gateway and (with ``pin_token``) pinning service on ``host:port``.

    Port 0 picks a free one. Call ``serve_forever()`` on the result (it blocks), and
    ``shutdown()`` from another thread to stop it, then ``server_close()``.
    """
    return IpfsServer(store, host, port, access_log=access_log, pin_token=pin_token, limits=limits)
