"""``qfzz ipfs``: add, read, pin, move, publish and serve content with kubo's CIDs, no daemon needed.

Each command imports what it uses when it runs (the server's aiohttp only for ``serve``, the kubo
client only with ``--api``), so ``qfzz ipfs add -n`` starts in tens of milliseconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from qfzz_chain.cli._output import emit, json_option, table, to_jsonable
from qfzz_chain.errors import IpfsError

# Files at least this large get a progress bar even when stderr is not a terminal.
_LARGE_FILE_BYTES = 32 * 1024 * 1024
# `cat --json` without -o carries the bytes in the JSON (base64) up to this size.
_CAT_JSON_INLINE_BYTES = 1024 * 1024
_CID = click.argument("cid", metavar="CID")
_PATH = click.argument("path", metavar="CID[/PATH]")


class _Options:
    def __init__(self, api: str | None, peers: tuple[str, ...]):
        self.api = api
        self.peers = peers
        self.store: Any = None


def _store(ctx: click.Context):
    """The backend chosen once per invocation: kubo when --api/QFZZ_IPFS_API is set, else embedded."""
    from qfzz_chain.ipfs.store import open_store

    options = ctx.find_object(_Options) or _Options(None, ())
    if options.store is None:
        options.store = open_store(options.api, peers=list(options.peers) if options.peers else None)
        ctx.call_on_close(options.store.close)
    return options.store


def _bool_option(name: str, default: bool | None, help_text: str):
    """A kubo-style boolean: ``--NAME`` means true, ``--NAME=false`` (or ``--no-NAME``) false."""
    return click.option(f"--{name}/--no-{name}", default=default, help=help_text + " Also --" + name + "=BOOL.")


class _KuboBools(click.Command):
    """Accepts kubo's ``--flag=true|false`` spelling for boolean flags (Go's ParseBool values)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = {opt.lstrip("-") for param in self.params if isinstance(param, click.Option)
                 and param.secondary_opts for opt in param.opts}  # fmt: skip
        rewritten = []
        for arg in args:
            name, sep, value = arg.partition("=")
            if sep and name.startswith("--") and name[2:] in flags:
                if value.lower() in ("1", "t", "true"):
                    arg = name
                elif value.lower() in ("0", "f", "false"):
                    arg = f"--no-{name[2:]}"
                else:
                    raise click.BadParameter(f"{value!r} is not a boolean (true or false)", param_hint=name)
            rewritten.append(arg)
        return super().parse_args(ctx, rewritten)


def _progress_bar(total: int, label: str, force: bool = False):
    """A click progress bar on stderr for big transfers (or any on a terminal); else None."""
    if not (force or sys.stderr.isatty() or total >= _LARGE_FILE_BYTES):
        return None
    return click.progressbar(length=max(total, 1), label=label, file=sys.stderr)


@click.group()
@click.option(
    "--api",
    metavar="URL",
    help="Use the kubo node whose RPC API is at URL (http://127.0.0.1:5001 or a multiaddr) "
    "instead of the embedded store. Default: $QFZZ_IPFS_API, else embedded.",
)
@click.option(
    "--peer",
    "peers",
    metavar="URL",
    multiple=True,
    help="Fetch blocks the embedded store lacks from this gateway (repeatable; another "
    "`qfzz ipfs serve`, a kubo gateway). Default: $QFZZ_IPFS_PEERS. Every block is verified.",
)
@click.pass_context
def ipfs(ctx: click.Context, api: str | None, peers: tuple[str, ...]) -> None:
    """Content-addressed storage that gives the same CIDs as kubo's `ipfs add`.

    By default content lives in an embedded store under $QFZZ_IPFS_REPO (or $QFZZ_HOME/ipfs);
    no IPFS daemon is needed. Blocks it lacks are fetched from peers ($QFZZ_IPFS_PEERS or
    --peer URL: trustless gateways, each block checked against its CID). Set QFZZ_IPFS_API or
    pass --api to use a real kubo node instead.

    \b
    Examples:
      qfzz ipfs add song.wav                  add and pin; prints "added CID song.wav"
      qfzz ipfs add -r album/                 a folder: one CID per track and the album's
      qfzz ipfs add --only-hash song.wav      just compute the CID
      qfzz ipfs cat CID > copy.wav            read it back (every block is verified)
      qfzz ipfs get CID -o album              write a file or folder out
      qfzz --peer http://10.0.0.5:8080 ipfs cat CID   (or QFZZ_IPFS_PEERS) fetch from a peer
      qfzz ipfs export CID song.car           move it to any IPFS node (ipfs dag import)
      qfzz ipfs publish CID                   pin it on the configured remote
      qfzz ipfs serve --port 5001             kubo RPC API + gateway for other tools
    """
    ctx.obj = _Options(api, peers)


@ipfs.command(cls=_KuboBools)
@click.argument("path", metavar="PATH", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--recursive", "-r", is_flag=True, help="Add a folder and everything in it (an album).")
@click.option("--wrap-with-directory", "-w", "wrap", is_flag=True,
              help="Put the file (or folder) in a directory of its own and print that CID too.")  # fmt: skip
@click.option("--cid-version", type=click.IntRange(0, 1), default=0, show_default=True,
              help="0 gives Qm... CIDs (kubo's default); 1 gives bafy.../bafk... CIDs.")  # fmt: skip
@_bool_option("raw-leaves", None, "Store chunks as raw blocks (default: true with --cid-version 1, false with 0); "
              "--raw-leaves=false keeps UnixFS leaves with CIDv1, as kubo does.")  # fmt: skip
@click.option("--chunker", "-s", default="size-262144", show_default=True, metavar="size-N",
              help="Chunk size in bytes (at most 1048576), as kubo's --chunker.")  # fmt: skip
@_bool_option("pin", True, "Pin what is added (default true; --pin=false leaves it to gc).")
@click.option("--only-hash", "-n", is_flag=True, help="Compute the CID without storing or pinning.")
@click.option("--hidden", "-H", is_flag=True, help="Include files whose name starts with a dot (with -r).")
@click.option("--quiet", "-q", is_flag=True, help="Print only CIDs.")
@click.option("--quieter", "-Q", is_flag=True, help="Print only the final (root) CID.")
@json_option
@click.pass_context
def add(ctx: click.Context, path: Path, recursive: bool, wrap: bool, cid_version: int, raw_leaves: bool | None,
        chunker: str, pin: bool, only_hash: bool, hidden: bool, quiet: bool, quieter: bool, as_json: bool) -> None:  # fmt: skip
    """Add PATH (a file, a folder with -r, or - for standard input) and pin it; print its CID.

    The CIDs equal what `ipfs add` with the same options gives on any kubo node (0.2x-0.3x),
    including directories and the HAMT sharding of very large ones. A progress bar shows on a
    terminal, or for 32 MiB and more.
    """
    from qfzz_chain.ipfs.unixfs import parse_chunker

    try:
        chunk_size = parse_chunker(chunker)
    except ValueError as exc:
        raise IpfsError(str(exc)) from None
    store = _store(ctx)
    options: dict[str, Any] = dict(cid_version=cid_version, raw_leaves=raw_leaves, chunk_size=chunk_size,
                                   pin=pin, only_hash=only_hash)  # fmt: skip
    if str(path) == "-":
        if recursive or wrap:
            raise IpfsError("standard input is one file: -r and -w need a path")
        stream = click.get_binary_stream("stdin")
        result = store.add_stream(stream, name="", **options)
        _report_file(result, as_json, quiet or quieter)
        return
    try:
        info = path.stat()
    except OSError as exc:
        raise IpfsError(f"cannot read {path}: {exc.strerror or exc}") from None
    is_dir = path.is_dir()
    if is_dir and not recursive:
        raise IpfsError(f"{path} is a directory: add it with -r")
    size = info.st_size if not is_dir else _folder_bytes(path, hidden)
    bar = _progress_bar(size, f"adding {path.name or path}")
    reported = 0

    def progress(done: int, _total: int) -> None:
        nonlocal reported
        if bar is not None:
            bar.update(done - reported)
        reported = done

    with bar if bar is not None else _nothing():
        if is_dir or wrap:
            result = store.add_directory(path, hidden=hidden, wrap=wrap, progress=progress, **options)
        else:
            result = store.add_file(path, progress=progress, **options)
    if is_dir or wrap:
        _report_tree(result, as_json, quiet, quieter, folder=result.name if is_dir else "")
    else:
        _report_file(result, as_json, quiet or quieter)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _folder_bytes(path: Path, hidden: bool) -> int:
    total = 0
    for folder, dirs, files in os.walk(path):
        if not hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            files = [f for f in files if not f.startswith(".")]
        for name in files:
            full = os.path.join(folder, name)
            if not os.path.islink(full):
                try:
                    total += os.path.getsize(full)
                except OSError:
                    pass
    return total


def _report_file(result: Any, as_json: bool, quiet: bool) -> None:
    if as_json:
        emit(result, True)
    elif quiet:
        click.echo(result.cid)
    else:
        click.echo(f"added {result.cid} {result.name}".rstrip())


def _report_tree(result: Any, as_json: bool, quiet: bool, quieter: bool, folder: str = "") -> None:
    """kubo's lines: each entry under the added folder's name (``album/01.wav``), then the folder."""

    def label(path: str) -> str:
        return path if not folder or path in ("", folder) else f"{folder}/{path}"

    if as_json:
        emit(result, True)
    elif quieter:
        click.echo(result.cid)
    elif quiet:
        click.echo("\n".join(entry.cid for entry in result.entries))
    else:
        click.echo("\n".join(f"added {e.cid} {label(e.path)}".rstrip() for e in result.entries))


@ipfs.command()
@_PATH
@click.option("--offset", "-o", "offset", type=click.IntRange(min=0), default=0, help="Start at this byte.")
@click.option("--length", "-l", type=click.IntRange(min=0), default=None, help="Write at most this many bytes.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write to FILE (atomically: it appears only when complete) instead of standard output.")  # fmt: skip
@json_option
@click.pass_context
def cat(ctx: click.Context, path: str, offset: int, length: int | None, output: Path | None, as_json: bool) -> None:
    """Write the file at CID[/PATH] to standard output, checking every block against its hash.

    Fails before writing anything if the CID is malformed or not in the store (nor on a peer).

    With --json the bytes never go to standard output, which carries the JSON instead: with
    --output FILE it reports what was written ({"cid", "file", "size", "sha256"}); without, the
    content itself as {"cid", "size", "sha256", "data_base64"} for files up to 1 MiB.
    """
    store = _store(ctx)
    pieces = store.cat(path, offset=offset, length=length)
    if output is not None:
        size, digest = _write_atomically(output, pieces)
        report = {"cid": path, "file": str(output), "size": size, "sha256": digest}
        emit(report, as_json, lambda v: f"wrote {v['size']} bytes of {v['cid']} to {v['file']}")
        return
    if as_json:
        import base64
        import hashlib

        data = bytearray()
        for piece in pieces:
            data += piece
            if len(data) > _CAT_JSON_INLINE_BYTES:
                raise IpfsError(f"{path} is larger than {_CAT_JSON_INLINE_BYTES} bytes: use --json with --output FILE")
        emit({"cid": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
              "data_base64": base64.b64encode(bytes(data)).decode()}, True)  # fmt: skip
        return
    out = click.get_binary_stream("stdout")
    bar = None
    if not sys.stdout.isatty() and hasattr(store, "file_size"):  # a bar only beside redirected output
        total = store.file_size(path) - offset
        bar = _progress_bar(total if length is None else min(total, length), f"reading {path}")
    try:
        with bar if bar is not None else _nothing():
            for piece in pieces:
                out.write(piece)
                if bar is not None:
                    bar.update(len(piece))
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # about the unflushable stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


def _write_atomically(target: Path, pieces: Any) -> tuple[int, str]:
    """Write ``pieces`` to a scratch file beside ``target`` and rename it there when complete."""
    import hashlib
    import tempfile

    resolved = target.resolve()
    try:
        scratch = tempfile.NamedTemporaryFile(dir=resolved.parent, prefix=f".{resolved.name}.", delete=False)
    except OSError as exc:
        raise IpfsError(f"cannot write {target}: {exc.strerror or exc}") from None
    size, digest = 0, hashlib.sha256()
    try:
        with scratch:
            for piece in pieces:
                scratch.write(piece)
                digest.update(piece)
                size += len(piece)
        os.replace(scratch.name, resolved)
    except OSError as exc:
        Path(scratch.name).unlink(missing_ok=True)
        raise IpfsError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        Path(scratch.name).unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


@ipfs.command()
@_PATH
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, metavar="OUT",
              help="Where to write (default: the CID, or the last path name, in the current folder).")  # fmt: skip
@json_option
@click.pass_context
def get(ctx: click.Context, path: str, output: Path | None, as_json: bool) -> None:
    """Write the file or folder at CID[/PATH] to OUT (as `ipfs get -o OUT`).

    Folders are written with their files and symlinks; nothing appears at OUT until it is
    complete, and an existing OUT is refused.
    """
    from qfzz_chain.ipfs.cid import parse_path

    parsed = parse_path(path)
    target = output or Path(parsed.names[-1] if parsed.names else str(parsed.root))
    store = _store(ctx)
    bar = None
    try:
        size = store.file_size(path) if hasattr(store, "file_size") else 0
    except IpfsError:
        size = 0  # a folder: its size is known only once walked
    bar = _progress_bar(size, f"getting {path}") if size else None
    reported = 0

    def progress(done: int, _total: int) -> None:
        nonlocal reported
        if bar is not None:
            bar.update(done - reported)
        reported = done

    with bar if bar is not None else _nothing():
        written = store.get(path, target, progress=progress)
    emit({"cid": path, "path": str(target), "bytes": written}, as_json,
         lambda v: f"saved {v['cid']} to {v['path']} ({v['bytes']} bytes)")  # fmt: skip


@ipfs.command("ls")
@_PATH
@json_option
@click.pass_context
def ls_(ctx: click.Context, path: str, as_json: bool) -> None:
    """List the folder at CID[/PATH]: CID, size and name of each entry (as `ipfs ls`)."""
    entries = _store(ctx).ls(path)
    emit({"path": path, "entries": entries}, as_json, lambda v: table(
        [{"cid": e.cid, "size": e.size, "name": e.name + ("/" if e.type == "directory" else "")}
         for e in v["entries"]], ["cid", "size", "name"]))  # fmt: skip


@ipfs.command()
@_PATH
@json_option
@click.pass_context
def verify(ctx: click.Context, path: str, as_json: bool) -> None:
    """Read every block under CID and check it; names the first missing or corrupted block.

    With peers configured, a block missing here is fetched (and checked) from them.
    """
    _store(ctx).verify(path)
    emit({"cid": path, "ok": True}, as_json, lambda v: f"{v['cid']}: all blocks present and intact")


@ipfs.group()
def pin() -> None:
    """Keep content from garbage collection (`add` and `import` pin what they store)."""


@pin.command("add")
@_PATH
@json_option
@click.pass_context
def pin_add(ctx: click.Context, path: str, as_json: bool) -> None:
    """Pin CID recursively; blocks missing here are fetched from peers first."""
    pins = _store(ctx).pin_add(path)
    emit({"pins": pins}, as_json, lambda value: "\n".join(f"pinned {c} recursively" for c in value["pins"]))


@pin.command("rm")
@_CID
@json_option
@click.pass_context
def pin_rm(ctx: click.Context, cid: str, as_json: bool) -> None:
    """Unpin CID; its blocks stay until `qfzz ipfs gc`."""
    pins = _store(ctx).pin_rm(cid)
    emit({"pins": pins}, as_json, lambda value: "\n".join(f"unpinned {c}" for c in value["pins"]))


@pin.command("ls")
@json_option
@click.pass_context
def pin_ls(ctx: click.Context, as_json: bool) -> None:
    """List recursively pinned CIDs."""
    pins = _store(ctx).pin_ls()
    emit(
        {"pins": pins},
        as_json,
        lambda value: table([{"cid": c, "type": "recursive"} for c in value["pins"]], ["cid", "type"]),
    )


@ipfs.command()
@_PATH
@click.argument("out", metavar="OUT.car", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def export(ctx: click.Context, path: str, out: Path, as_json: bool) -> None:
    """Write the DAG under CID (a file or a whole folder) to OUT.car (CAR v1, as `ipfs dag export`).

    OUT.car appears only when complete: any error leaves no partial file behind.
    """
    store = _store(ctx)
    size, digest = _write_atomically(out, _export_chunks(store, path))
    report = {"cid": path, "file": str(out), "bytes": size, "sha256": digest}
    if as_json:
        emit(report, True)
    else:
        click.echo(f"exported {path} to {out}", err=True)


def _export_chunks(store: Any, path: str) -> Any:
    """The CAR export as a stream of pieces (the store writes to a file object)."""
    import queue
    import threading

    pieces: "queue.Queue[Any]" = queue.Queue(maxsize=16)
    done = object()

    class Sink:
        def write(self, data: bytes) -> int:
            pieces.put(bytes(data))
            return len(data)

    failure: list[BaseException] = []

    def work() -> None:
        try:
            store.export_car(path, Sink())
        except BaseException as exc:  # handed to the reading thread
            failure.append(exc)
        finally:
            pieces.put(done)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while (piece := pieces.get()) is not done:
        yield piece
    thread.join()
    if failure:
        raise failure[0]


@ipfs.command("import", cls=_KuboBools)
@click.argument("car", metavar="IN.car", type=click.Path(dir_okay=False, path_type=Path))
@_bool_option("pin-roots", True, "Pin the CAR's roots (default true).")
@json_option
@click.pass_context
def import_(ctx: click.Context, car: Path, pin_roots: bool, as_json: bool) -> None:
    """Store the blocks of IN.car and pin its roots (as `ipfs dag import` does).

    Every block is checked against its CID before any is stored: a truncated or corrupted CAR
    leaves the store unchanged. A stored block that fails its hash is replaced by the CAR's copy.
    """
    store = _store(ctx)
    try:
        handle = open(car, "rb")
    except OSError as exc:
        raise IpfsError(f"cannot read {car}: {exc.strerror or exc}") from None
    with handle:
        result = store.import_car(handle, pin_roots=pin_roots)

    def render(value: dict) -> str:
        lines = [f"imported {value['blocks']} blocks ({value['bytes']} bytes)"]
        for root in value["roots"]:
            status = f"NOT pinned: {root['pin_error']}" if root["pin_error"] else ("pinned" if pin_roots else "not pinned")
            lines.append(f"root {root['cid']} {status}")
        return "\n".join(lines)

    emit(result, as_json, lambda value: render(to_jsonable(value)))


@ipfs.command()
@json_option
@click.pass_context
def gc(ctx: click.Context, as_json: bool) -> None:
    """Delete every block that no pin reaches."""
    removed = _store(ctx).gc()
    emit({"removed": removed}, as_json, lambda value: f"removed {len(value['removed'])} blocks")


@ipfs.command()
@json_option
@click.pass_context
def repair(ctx: click.Context, as_json: bool) -> None:
    """Check every stored block, drop those that fail their hash, and fetch what pins need again.

    Damaged blocks a pin reaches are fetched from peers (--peer / $QFZZ_IPFS_PEERS) and
    checked; pins that stay incomplete are listed. Re-adding or importing the content repairs
    it too.
    """
    store = _store(ctx)
    if not hasattr(store, "repair"):
        raise IpfsError("repair works on the embedded store; a kubo node has `ipfs repo verify`")
    result = store.repair()

    def render(value: Any) -> str:
        lines = [f"checked {value.checked} blocks, removed {len(value.removed)} damaged, "
                 f"{value.scratch_removed} scratch files"]  # fmt: skip
        lines += [f"removed {cid}" for cid in value.removed]
        lines += [f"refetched {cid}" for cid in value.refetched]
        lines += [f"INCOMPLETE {cid}: re-add or import it, or add a peer that has it" for cid in value.incomplete]
        return "\n".join(lines)

    emit(result, as_json, render)
    if result.incomplete:
        ctx.exit(1)


@ipfs.command()
@_CID
@click.option("--name", default="", help="A name for the pin on the remote.")
@click.option("--wait", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait for a pinning service to report the pin done.")  # fmt: skip
@json_option
@click.pass_context
def publish(ctx: click.Context, cid: str, name: str, wait: float, as_json: bool) -> None:
    """Pin CID (and its whole DAG) on the configured remote, so it stays online.

    \b
    QFZZ_IPFS_PUBLISH_API=URL        a kubo node's RPC API: the DAG is sent as a CAR
    QFZZ_IPFS_PIN_SERVICE=URL        an IPFS Pinning Service API endpoint, with
    QFZZ_IPFS_PIN_TOKEN=TOKEN          its access token, and
    QFZZ_IPFS_PIN_ORIGINS=URL,...      gateways it can fetch from (e.g. your `qfzz ipfs serve`)

    Exit status 1 when the content could not be published (the line says why).
    """
    from qfzz_chain.ipfs.publishing import publish as publish_dag

    result = publish_dag(_store(ctx), cid, name=name, wait=wait)
    emit(result, as_json, lambda value: value.line())
    if not result.published:
        ctx.exit(1)


@ipfs.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5001, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--quiet", is_flag=True, help="Do not log each request to stderr.")
@click.option("--pin-token", envvar="QFZZ_IPFS_SERVE_PIN_TOKEN", metavar="TOKEN", default=None,
              help="Offer the Pinning Service API at /pins to clients that send this bearer token "
                   "[env QFZZ_IPFS_SERVE_PIN_TOKEN]. Off without it.")  # fmt: skip
@click.option("--header-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds a client has to send a request's headers.")  # fmt: skip
@click.option("--max-connections", type=click.IntRange(min=1), default=1024, show_default=True,
              help="Connections open at once; more are closed at once.")  # fmt: skip
@json_option
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, quiet: bool, pin_token: str | None,
          header_timeout: float, max_connections: int, as_json: bool) -> None:  # fmt: skip
    """Serve the embedded store over kubo's RPC API, a trustless gateway and (with --pin-token)
    the IPFS Pinning Service API.

    \b
    RPC (POST): /api/v0/add, cat, get, ls, block/get, block/put, block/stat, dag/get,
                dag/export, dag/import, object/stat, pin/add, pin/rm, pin/ls, repo/gc,
                repo/stat, id, version   (kubo's shapes and errors; ipfshttpclient works)
    Gateway:    GET /ipfs/CID[/path] with Range requests; ?format=raw and ?format=car
                for other nodes (this is what --peer URL points at)
    Pinning:    /pins (POST, GET, DELETE) with Authorization: Bearer TOKEN

    With --json one line of JSON on stdout gives the addresses once listening. The RPC API can
    add and delete content: keep it on 127.0.0.1 unless the network is trusted. Stop with Ctrl-C.
    """
    import json

    from qfzz_chain.ipfs.embedded import EmbeddedStore
    from qfzz_chain.ipfs.server import ServerLimits, make_server

    store = _store(ctx)
    if not isinstance(store, EmbeddedStore):
        raise IpfsError("serve exposes the embedded store; unset QFZZ_IPFS_API / --api to use it")
    limits = ServerLimits(header_timeout=header_timeout, max_connections=max_connections)
    try:
        server = make_server(store, host, port, access_log=not quiet, pin_token=pin_token, limits=limits)
    except OSError as exc:
        raise IpfsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    info = {"rpc": f"{server.url}/api/v0/", "gateway": f"{server.url}/ipfs/", "repo": str(store.repo),
            "pinning_service": f"{server.url}/pins" if pin_token else None, "peers": list(store.peers.urls)}  # fmt: skip
    if as_json:
        click.echo(json.dumps(info))
        sys.stdout.flush()
    click.echo(f"RPC API  {info['rpc']}", err=True)
    click.echo(f"gateway  {info['gateway']}CID", err=True)
    if pin_token:
        click.echo(f"pinning  {info['pinning_service']}", err=True)
    click.echo(f"repo     {store.repo}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
