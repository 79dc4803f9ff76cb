"""``qfzz track``: artists register tracks by IPFS CID; anyone shows and lists them."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from qfzz_chain import tracks
from qfzz_chain.cli._chain import ChainSession, chain_options
from qfzz_chain.cli._output import emit, json_option, key_values, table

PROGRESS_MIN_BYTES = 8 * 1024 * 1024


@click.group()
def track() -> None:
    """Register tracks by the IPFS CID of their audio, and read them back from the chain.

    \b
    qfzz track register song.flac --title "Night Drive" --artist-name "Ada"
    qfzz track register remix.wav --title "Night Drive (remix)" --parent CID:remix
    qfzz track sign song.wav --title T --out request.json    # the artist signs, pays no gas
    qfzz track relay request.json                             # anyone submits it
    qfzz track show CID_OR_ID
    qfzz track list --artist 0x...

    Sending commands use QFZZ_PRIVATE_KEY, --keystore, --account or an account the node
    unlocks (a local anvil's).
    """


def _track_fields(command):
    for option in reversed([
        click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--title", required=True, help="The track's title."),
        click.option("--artist-name", help="The artist's name as shown to listeners."),
        click.option("--isrc", help="International Standard Recording Code, e.g. USRC17607839."),
        click.option("--metadata", "extra_metadata", metavar="JSON|FILE",
                     help='More metadata fields, inline JSON or a file: \'{"genre": "techno"}\'.'),
        click.option("--parent", "parents", multiple=True, metavar="ID_OR_CID[:RELATION]",
                     help="A registered track this one derives from; RELATION is remix (default), sample or cover. Repeatable."),
        click.option("--cid-version", type=click.Choice(["0", "1"]), default="0", show_default=True,
                     help="CIDv0 (Qm...) as `ipfs add`, or CIDv1 with raw leaves (bafk...)."),
    ]):  # fmt: skip
        command = option(command)
    return command


@contextmanager
def _progress_bar(path: Path):
    """A progress bar on stderr while a large file is added; nothing for small files."""
    size = path.stat().st_size if path.is_file() else 0
    if size < PROGRESS_MIN_BYTES:
        yield None
        return
    with click.progressbar(length=size, label=f"Adding {path.name} to IPFS", file=sys.stderr) as bar:
        done = [0]

        def advance(bytes_done: int, _total: int) -> None:
            bar.update(bytes_done - done[0])
            done[0] = bytes_done

        yield advance


def _prepare(session: ChainSession, file, title, artist_name, isrc, extra_metadata, cid_version):
    extra = tracks.load_extra_metadata(extra_metadata)
    with _progress_bar(file) as progress:
        return tracks.prepare_track(
            session.store, file, title=title, artist_name=artist_name, isrc=isrc, extra=extra,
            cid_version=int(cid_version), progress=progress,
        )  # fmt: skip


def _receipt_view(prepared: tracks.PreparedTrack, receipt, artist: str) -> dict:
    return {
        "track_id": "0x" + prepared.track_id.hex(),
        "content_cid": prepared.content_cid,
        "metadata_cid": prepared.metadata_cid,
        "artist": artist,
        "duration_seconds": prepared.metadata["duration_seconds"],
        "transaction": receipt.transaction,
        "block": receipt.block,
        "gas_used": receipt.gas_used,
    }


@track.command()
@_track_fields
@chain_options(sends=True)
@json_option
def register(session: ChainSession, file, title, artist_name, isrc, extra_metadata, parents, cid_version, as_json):
    """Add FILE and its metadata to IPFS and register the track on-chain as the sender's."""
    parent_list = tuple(tracks.parse_parent(p) for p in parents)
    registry = session.registry  # a missing chain, deployment, sender or parent fails before any add
    sender = session.sender()
    tracks.check_parents(registry, parent_list)
    prepared = _prepare(session, file, title, artist_name, isrc, extra_metadata, cid_version)
    receipt = tracks.register(registry, sender, prepared, parent_list)
    emit(_receipt_view(prepared, receipt, sender.address), as_json)


@track.command()
@_track_fields
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed request for a relayer.")
@click.option("--valid-for", type=click.IntRange(1), default=86_400, show_default=True,
              help="Seconds the signature stays valid.")
@chain_options(sends=True)
@json_option
def sign(session: ChainSession, file, title, artist_name, isrc, extra_metadata, parents, cid_version, out, valid_for, as_json):
    """Add FILE to IPFS and sign its registration (EIP-712) for a relayer to submit: no gas needed."""
    if not out.parent.is_dir():
        raise tracks.TrackInputError(f"--out {out}: the folder {out.parent} does not exist")
    parent_list = tuple(tracks.parse_parent(p) for p in parents)
    registry = session.registry
    artist = session.sender()
    tracks.check_parents(registry, parent_list)
    prepared = _prepare(session, file, title, artist_name, isrc, extra_metadata, cid_version)
    signed = tracks.sign_registration(registry, artist, prepared, parent_list, valid_seconds=valid_for)
    out.write_text(signed.to_json())
    emit({"request": str(out), "track_id": "0x" + prepared.track_id.hex(), "content_cid": prepared.content_cid,
          "artist": signed.artist, "deadline": signed.deadline}, as_json)  # fmt: skip


@track.command()
@click.argument("request", type=click.Path(dir_okay=False, path_type=Path))
@chain_options(sends=True)
@json_option
def relay(session: ChainSession, request: Path, as_json: bool):
    """Submit an artist's signed REQUEST (from `qfzz track sign`), paying its gas."""
    signed = tracks.SignedRegistration.from_file(request)
    sender = session.sender()
    receipt = tracks.relay(session.registry, sender, signed)
    emit({"track_id": "0x" + tracks.parse_track_ref(signed.content).hex(), "content_cid": signed.content,
          "artist": signed.artist, "relayer": sender.address, "transaction": receipt.transaction,
          "block": receipt.block, "gas_used": receipt.gas_used}, as_json)  # fmt: skip


def _render_view(view: tracks.TrackView) -> str:
    metadata = view.metadata or {}
    lines = {
        "track": view.track_id,
        "title": metadata.get("title", "(metadata not available)"),
        "artist": view.artist + (f" (registered by {view.registered_by})" if view.registered_by != view.artist else ""),
        "artist name": metadata.get("artist_name", ""),
        "duration": f"{metadata['duration_seconds']} s" if "duration_seconds" in metadata else "",
        "content": f"{view.content_cid} [{view.content_status}]",
        "metadata": f"{view.metadata_cid} (version {view.metadata_version})",
        "registered": f"{view.registered_at} in block {view.block}, tx {view.transaction}",
    }
    if view.parents:
        lines["parents"] = ", ".join(f"{p['track_id']} ({p['relation']})" for p in view.parents)
    for change in view.attribution_changes:
        lines.setdefault("transfers", "")
        lines["transfers"] += f"{change['from_artist']} -> {change['to_artist']} (block {change['block']}) "
    return key_values({k: v for k, v in lines.items() if v})


@track.command()
@click.argument("track_ref", metavar="ID|CID")
@click.option("--no-verify", is_flag=True, help="Skip re-reading the content from IPFS.")
@chain_options(sends=False)
@json_option
def show(session: ChainSession, track_ref: str, no_verify: bool, as_json: bool):
    """Show a track by id or content CID: chain record, metadata, parents and a content check."""
    emit(tracks.show(session.registry, session.store, track_ref, verify=not no_verify), as_json, _render_view)


@track.command("list")
@click.option("--artist", metavar="ADDRESS", help="Only tracks now attributed to this address.")
@click.option("--no-verify", is_flag=True, help="Skip re-reading each track's content from IPFS.")
@chain_options(sends=False)
@json_option
def list_(session: ChainSession, artist: str | None, no_verify: bool, as_json: bool):
    """List registered tracks, oldest first, with a check that their content matches its CID."""
    views = tracks.list_tracks(session.registry, session.store, artist=artist, verify=not no_verify)
    rows = [{"track": v.content_cid, "title": (v.metadata or {}).get("title", "?"), "artist": v.artist,
             "block": v.block, "content": v.content_status} for v in views]  # fmt: skip
    emit(views, as_json, lambda _: table(rows, ["track", "title", "artist", "block", "content"]) if rows else "No tracks.")
