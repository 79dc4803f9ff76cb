"""``qfzz ipfs``: add, read, pin, move and serve content with kubo's CIDs, no daemon needed."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from qfzz_chain.cli._output import emit, json_option, table, to_jsonable
from qfzz_chain.errors import IpfsError
from qfzz_chain.ipfs import ContentStore, open_store
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import make_server

# Files at least this large get a progress bar even when stderr is not a terminal.
_LARGE_FILE_BYTES = 32 * 1024 * 1024
_CID = click.argument("cid", metavar="CID")


def _store(ctx: click.Context) -> ContentStore:
    """The backend chosen once per invocation: kubo when --api/QFZZ_IPFS_API is set, else embedded."""
    options = ctx.find_object(_Options) or _Options(None)
    if options.store is None:
        options.store = open_store(options.api)
        ctx.call_on_close(options.store.close)
    return options.store


class _Options:
    def __init__(self, api: str | None):
        self.api = api
        self.store: ContentStore | None = None


@click.group()
@click.option(
    "--api",
    metavar="URL",
    help="Use the kubo node whose RPC API is at URL (http://127.0.0.1:5001 or a multiaddr) "
    "instead of the embedded store. Default: $QFZZ_IPFS_API, else embedded.",
)
@click.pass_context
def ipfs(ctx: click.Context, api: str | None) -> None:
    """Content-addressed storage that gives the same CIDs as kubo's `ipfs add`.

    By default content lives in an embedded store under $QFZZ_IPFS_REPO (or $QFZZ_HOME/ipfs);
    no IPFS daemon is needed. Set QFZZ_IPFS_API or pass --api to use a real kubo node instead.

    \b
    Examples:
      qfzz ipfs add song.wav                  add and pin; prints "added CID song.wav"
      qfzz ipfs add --only-hash song.wav      just compute the CID
      qfzz ipfs cat CID > copy.wav            read it back (every block is verified)
      qfzz ipfs export CID song.car           move it to any IPFS node (ipfs dag import)
      qfzz ipfs serve --port 5001             kubo RPC API + gateway for other tools
    """
    ctx.obj = _Options(api)


@ipfs.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cid-version",
    type=click.IntRange(0, 1),
    default=0,
    show_default=True,
    help="0 gives Qm... CIDs (kubo's default); 1 gives bafy.../bafk... with raw leaves.",
)
@click.option("--only-hash", "-n", is_flag=True, help="Compute the CID without storing or pinning.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the CID.")
@json_option
@click.pass_context
def add(
    ctx: click.Context, file: Path, cid_version: int, only_hash: bool, quiet: bool, as_json: bool
) -> None:
    """Add FILE (256 KiB chunks, balanced DAG) and pin it; print its CID.

    The CID equals what `ipfs add FILE` (with the same --cid-version) gives on any kubo node.
    A progress bar shows on a terminal, or for files of 32 MiB and more.
    """
    store = _store(ctx)
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise IpfsError(f"cannot read {file}: {exc.strerror or exc}") from None
    show_bar = sys.stderr.isatty() or size >= _LARGE_FILE_BYTES
    if show_bar:
        with click.progressbar(length=size, label=f"adding {file.name}", file=sys.stderr) as bar:
            reported = 0

            def progress(done: int, _total: int) -> None:
                nonlocal reported
                bar.update(done - reported)
                reported = done

            result = store.add_file(file, cid_version=cid_version, only_hash=only_hash, progress=progress)
    else:
        result = store.add_file(file, cid_version=cid_version, only_hash=only_hash)
    if as_json:
        emit(result, True)
    elif quiet:
        click.echo(result.cid)
    else:
        click.echo(f"added {result.cid} {result.name}")


@ipfs.command()
@_CID
@click.pass_context
def cat(ctx: click.Context, cid: str) -> None:
    """Write the file CID to standard output, checking every block against its hash.

    Fails before writing anything if CID is malformed or not in the store.
    """
    out = click.get_binary_stream("stdout")
    try:
        for piece in _store(ctx).cat(cid):
            out.write(piece)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # about the unflushable stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


@ipfs.command()
@_CID
@click.pass_context
def verify(ctx: click.Context, cid: str) -> None:
    """Read every block under CID and check it; names the first missing or corrupted block."""
    _store(ctx).verify(cid)
    click.echo(f"{cid}: all blocks present and intact")


@ipfs.group()
def pin() -> None:
    """Keep content from garbage collection (`add` and `import` pin what they store)."""


@pin.command("add")
@_CID
@json_option
@click.pass_context
def pin_add(ctx: click.Context, cid: str, as_json: bool) -> None:
    """Pin CID recursively; every block under it must be in the store."""
    pins = _store(ctx).pin_add(cid)
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
@_CID
@click.argument("out", metavar="OUT.car", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, cid: str, out: Path) -> None:
    """Write the DAG under CID to OUT.car (CAR v1, as `ipfs dag export` writes).

    OUT.car appears only when complete: any error leaves no partial file behind.
    """
    store = _store(ctx)
    # The scratch file sits next to the real target (a symlink is followed), so the final rename
    # stays on one file system.
    target = out.resolve()
    try:
        scratch = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False)
    except OSError as exc:
        raise IpfsError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        with scratch:
            store.export_car(cid, scratch)
        os.replace(scratch.name, target)
    except OSError as exc:
        Path(scratch.name).unlink(missing_ok=True)
        raise IpfsError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        Path(scratch.name).unlink(missing_ok=True)
        raise
    click.echo(f"exported {cid} to {out}", err=True)


@ipfs.command("import")
@click.argument("car", metavar="IN.car", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def import_(ctx: click.Context, car: Path, as_json: bool) -> None:
    """Store the blocks of IN.car and pin its roots (as `ipfs dag import` does).

    Every block is checked against its CID before any is stored: a truncated or corrupted CAR
    leaves the store unchanged.
    """
    store = _store(ctx)
    try:
        handle = open(car, "rb")
    except OSError as exc:
        raise IpfsError(f"cannot read {car}: {exc.strerror or exc}") from None
    with handle:
        result = store.import_car(handle)

    def render(value: dict) -> str:
        lines = [f"imported {value['blocks']} blocks ({value['bytes']} bytes)"]
        for root in value["roots"]:
            status = f"NOT pinned: {root['pin_error']}" if root["pin_error"] else "pinned"
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
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=5001, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option("--quiet", is_flag=True, help="Do not log each request to stderr.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, quiet: bool) -> None:
    """Serve the embedded store over kubo's RPC API and a read-only HTTP gateway.

    \b
    RPC (POST): /api/v0/add, cat, block/get, pin/add, pin/rm, pin/ls, dag/export,
                dag/import, repo/gc, version  (kubo's JSON shapes; ipfshttpclient works)
    Gateway:    GET /ipfs/CID with Range requests (players can seek)

    The RPC API can add and delete content: keep it on 127.0.0.1 unless the network is trusted.
    Stop with Ctrl-C.
    """
    store = _store(ctx)
    if not isinstance(store, EmbeddedStore):
        raise IpfsError("serve exposes the embedded store; unset QFZZ_IPFS_API / --api to use it")
    try:
        server = make_server(store, host, port, access_log=not quiet)
    except OSError as exc:
        raise IpfsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"RPC API  {server.url}/api/v0/", err=True)
    click.echo(f"gateway  {server.url}/ipfs/CID", err=True)
    click.echo(f"repo     {store.repo}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
