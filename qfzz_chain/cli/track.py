"""``qfzz track``: artists register tracks by the SHA-256 of their audio, located by IPFS CID."""

from __future__ import annotations

import functools
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
    """Register tracks by the SHA-256 of their audio (located by IPFS CID), and read them back.

    A registration is two transactions, a commitment and, a block later, its reveal, so nobody
    who sees it pending can take the track first; `register` sends both and, if it is stopped
    between them, the same command (or `resume`) finishes it with the journalled salt.

    \b
    qfzz track register song.flac --title "Night Drive" --artist-name "Ada"
    qfzz track register remix.wav --title "Night Drive (remix)" --parent CID:remix
    qfzz track sign song.wav --title T --out request.json    # the artist signs, pays no gas
    qfzz track relay request.json                             # anyone submits it
    qfzz track show CID_OR_ID
    qfzz track list --artist 0x...
    qfzz track transfer ID 0xNEW... / qfzz track accept ID    # hand a track over (two steps)

    Sending commands use QFZZ_PRIVATE_KEY, --keystore, --account or an account the node
    unlocks (a local anvil's).
    """


def _track_fields(command, folders: bool = False):
    for option in reversed([
        click.argument("file", type=click.Path(dir_okay=folders, path_type=Path)),
        click.option("--title", required=True, help="The track's title."),
        click.option("--artist-name", help="The artist's name as shown to listeners."),
        click.option("--isrc", help="International Standard Recording Code, e.g. USRC17607839."),
        click.option("--metadata", "extra_metadata", metavar="JSON|FILE",
                     help='More metadata fields, inline JSON or a file: \'{"genre": "techno", "tags": ["night"]}\'. '
                          "The fields the CLI writes (title, audio, fingerprint, ...) are refused here."),
        click.option("--parent", "parents", multiple=True, metavar="ID_OR_CID[:RELATION]",
                     help="A registered track this one derives from; RELATION is remix (default), sample or cover. Repeatable."),
        click.option("--cid-version", type=click.Choice(["0", "1"]), default="0", show_default=True,
                     help="Locate the audio by CIDv0 (Qm...) as `ipfs add`, or CIDv1 with raw leaves (bafk...). "
                          "The track id (the file's SHA-256) is the same either way."),
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


def _prepare(session: ChainSession, file, title, artist_name, isrc, extra_metadata, cid_version, **extra_fields):
    extra = tracks.load_extra_metadata(extra_metadata)
    with _progress_bar(file) as progress:
        return tracks.prepare_track(
            session.store, file, title=title, artist_name=artist_name, isrc=isrc, extra=extra,
            cid_version=int(cid_version), progress=progress, **extra_fields,
        )  # fmt: skip


def _parents(session: ChainSession, parents: tuple[str, ...]):
    parent_list = tuple(tracks.parse_parent(session.registry, p) for p in parents)
    tracks.check_parents(session.registry, parent_list)
    return parent_list


def _registered_view(done: tracks.Registered, **fields) -> dict:
    view = {
        "track_id": "0x" + done.track_id.hex(),
        "artist": done.artist,
        "commitment": "0x" + done.commitment.hex(),
        "commit_transaction": done.commit.transaction if done.commit else None,
        "transaction": done.reveal.transaction,
        "block": done.reveal.block,
        "gas_used": done.gas_used,
    }
    view.update(fields)
    return view


def _duplicate_options(command):
    command = click.option("--reason", help="With --force: why this audio is a work of its own (recorded in its metadata).")(command)
    return click.option("--force", is_flag=True,
                        help="Register even though the audio sounds like a registered track (needs --reason).")(command)


def _checked_audio(session: ChainSession, file: Path, parent_list, force: bool, reason: str | None):
    """The file's SHA-256 and fingerprint, refused when registered or when it sounds like a track."""
    from qfzz_chain.fingerprint import fingerprint_file

    if not file.is_file():
        raise tracks.TrackInputError(f"{file}: no such file")
    tracks.check_audio_is_new(session.registry, tracks.sha256_file(file))
    fingerprint = fingerprint_file(file)
    check = tracks.near_duplicates(session.registry, session.store, fingerprint,
                                   exclude={p.track_id for p in parent_list})  # fmt: skip
    override = tracks.check_not_a_duplicate(check, force=force, reason=reason)
    return {"fingerprint": fingerprint.to_metadata(), "duplicate_override": override}, check


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")


def _publish(session: ChainSession, cids: list[str], name: str) -> list[str]:
    """Pin what was registered on the configured remote (kubo or a pinning service), one line each."""
    from qfzz_chain.ipfs import publishing

    if publishing.target_from_env() is None:
        return []
    lines = []
    for cid in cids:
        result = publishing.publish(session.store, cid, name=name)
        lines.append(result.line())
        if not result.published:
            click.echo(result.line(), err=True)
    return lines


def _register_one(session, sender, file, title, artist_name, isrc, extra_metadata, parent_list, cid_version, force,
                  reason, album: dict | None = None) -> dict:  # fmt: skip
    extra_fields, check = _checked_audio(session, file, parent_list, force, reason)
    metadata = tracks.load_extra_metadata(extra_metadata)
    if album is not None:
        if "album" in metadata:
            raise tracks.TrackInputError("--metadata may not set album when registering a folder: the album is the folder")
        metadata = {**metadata, "album": album}
    with _progress_bar(file) as progress:
        prepared = tracks.prepare_track(session.store, file, title=title, artist_name=artist_name, isrc=isrc,
                                        extra=metadata, cid_version=int(cid_version), progress=progress,
                                        **extra_fields)  # fmt: skip
    done = tracks.register(session.registry, sender, prepared, parent_list)
    return _registered_view(done, content_cid=prepared.content_cid, metadata_cid=prepared.metadata_cid,
                            title=prepared.metadata["title"], duration_seconds=prepared.metadata["duration_seconds"],
                            duplicate_check={"compared": check.compared, "unchecked": check.unchecked,
                                             "forced_over": check.matches})  # fmt: skip


@track.command()
@functools.partial(_track_fields, folders=True)
@_duplicate_options
@chain_options(sends=True)
@json_option
def register(session: ChainSession, file, title, artist_name, isrc, extra_metadata, parents, cid_version, force, reason,
             as_json):  # fmt: skip
    """Add FILE and its metadata to IPFS and register the track as the sender's.

    FILE may be a folder: an album, added as kubo's `ipfs add -r` would (one directory CID), each
    audio file in it registered as a track titled by its file name, the album (its CID, --title,
    the track number) in every track's metadata.

    Sends the commitment, then its reveal in a later block. Stopped in between (a crash, a
    closed laptop), running the same command again finishes it with the same salt. Audio that
    sounds like a registered track (a re-encode, a trim, a gain change; parents declared with
    --parent aside) is refused unless --force --reason. With QFZZ_IPFS_PUBLISH_API or
    QFZZ_IPFS_PIN_SERVICE set, what was registered is pinned there too.
    """
    registry = session.registry  # a missing chain, deployment, sender or parent fails before any add
    sender = session.sender()
    parent_list = _parents(session, parents)
    if file.is_dir():
        songs = sorted(p for p in file.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        if not songs:
            raise tracks.TrackInputError(f"{file} holds no audio files ({', '.join(AUDIO_SUFFIXES)})")
        tracks.check_fields(title=title, isrc=None)
        added = session.store.add_directory(file, cid_version=int(cid_version))
        views = []
        for number, song in enumerate(songs, start=1):
            album = {"cid": added.cid, "title": title.strip(), "track": number, "path": song.name}
            views.append(_register_one(session, sender, song, song.stem, artist_name, None, extra_metadata, parent_list,
                                       cid_version, force, reason, album))  # fmt: skip
        published = _publish(session, [added.cid, *(v["metadata_cid"] for v in views)], title)
        emit({"album": added.cid, "title": title, "tracks": views, "published": published}, as_json,
             lambda v: f"album {v['album']} \"{title}\": {len(views)} tracks registered\n"
                       + table(views, ["track_id", "title", "content_cid", "gas_used"]))
        return
    view = _register_one(session, sender, file, title, artist_name, isrc, extra_metadata, parent_list, cid_version,
                         force, reason)  # fmt: skip
    view["published"] = _publish(session, [view["content_cid"], view["metadata_cid"]], title)
    emit(view, as_json)


@track.command()
@_track_fields
@_duplicate_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed request for a relayer.")
@click.option("--valid-for", type=click.IntRange(1), default=86_400, show_default=True,
              help="Seconds the signature stays valid.")
@chain_options(sends=True, node_accounts=False)
@json_option
def sign(session: ChainSession, file, title, artist_name, isrc, extra_metadata, parents, cid_version, force, reason, out,
         valid_for, as_json):  # fmt: skip
    """Add FILE to IPFS and sign its registration (EIP-712) for a relayer: no gas needed.

    The request holds the commitment and the signed reveal; `qfzz track relay REQUEST` sends
    both. It can only ever register the track to you.
    """
    if not out.parent.is_dir():
        raise tracks.TrackInputError(f"--out {out}: the folder {out.parent} does not exist")
    registry = session.registry
    artist = session.sender()
    parent_list = _parents(session, parents)
    extra_fields, _ = _checked_audio(session, file, parent_list, force, reason)
    prepared = _prepare(session, file, title, artist_name, isrc, extra_metadata, cid_version, **extra_fields)
    signed = tracks.sign_registration(registry, artist, prepared, parent_list, valid_seconds=valid_for)
    out.write_text(signed.to_json())
    out.chmod(0o600)
    emit({"request": str(out), "track_id": signed.audio_hash, "content_cid": prepared.content_cid,
          "artist": signed.artist, "deadline": signed.deadline}, as_json)  # fmt: skip


@track.command()
@click.argument("request", type=click.Path(dir_okay=False, path_type=Path))
@chain_options(sends=True)
@json_option
def relay(session: ChainSession, request: Path, as_json: bool):
    """Submit an artist's signed REQUEST (from `qfzz track sign` or `invalidate-nonce --out`), paying its gas.

    Needs no deployment record: the request names the registry. Stopped between the commitment
    and the reveal, running it again finishes the registration.
    """
    signed = tracks.read_request(request)
    sender = session.sender()
    registry = session.registry_at(signed.registry)
    result = tracks.relay(registry, sender, signed)
    if isinstance(result, tracks.Registered):
        emit(_registered_view(result, content_cid=signed.content, relayer=sender.address), as_json)
    else:
        emit({"artist": signed.artist, "invalidated_nonce": signed.nonce, "relayer": sender.address,
              "transaction": result.transaction, "block": result.block, "gas_used": result.gas_used}, as_json)  # fmt: skip


@track.command()
@click.option("--drop", is_flag=True, help="Forget the pending registrations instead of finishing them.")
@chain_options(sends=True)
@json_option
def resume(session: ChainSession, drop: bool, as_json: bool):
    """Finish the sender's registrations that were stopped between commitment and reveal."""
    done = tracks.resume(session.registry, session.sender(), drop=drop)
    views = [d if isinstance(d, dict) else _registered_view(d) for d in done]
    emit(views, as_json, lambda v: f"{'Dropped' if drop else 'Finished'} {len(v)} pending registration(s)"
         + "".join(f"\n  {x['track_id'] if 'track_id' in x else x['audio_hash']}" for x in v))  # fmt: skip


@track.command()
@click.option("--artist", metavar="ADDRESS", help="Only this artist's (default: every artist's in this QFZZ_HOME).")
@chain_options(sends=False)
@json_option
def pending(session: ChainSession, artist: str | None, as_json: bool):
    """List registrations journalled here and not yet revealed (their salts are kept until then)."""
    entries = tracks.pending_registrations(session.registry, artist)
    shown = [{k: v for k, v in e.items() if k != "salt"} for e in entries]
    rows = [{"track": e["audio_hash"], "title": e["title"], "artist": e["artist"], "state": e["state"]} for e in shown]
    emit(shown, as_json, lambda _: table(rows, ["track", "title", "artist", "state"]) if rows else "Nothing pending.")


@track.command("invalidate-nonce")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the invalidation for a relayer (`qfzz track relay FILE`) instead of sending it.")
@click.option("--valid-for", type=click.IntRange(1), default=86_400, show_default=True,
              help="Seconds a signed invalidation stays valid (with --out).")
@chain_options(sends=True)
@json_option
def invalidate_nonce(session: ChainSession, out: Path | None, valid_for: int, as_json: bool):
    """Void every registration you signed that no relayer has submitted yet.

    Without ether, sign it with --out and have anyone relay it.
    """
    registry, artist = session.registry, session.sender()
    if out is not None:
        if not out.parent.is_dir():
            raise tracks.TrackInputError(f"--out {out}: the folder {out.parent} does not exist")
        signed = tracks.sign_invalidation(registry, artist, valid_seconds=valid_for)
        out.write_text(signed.to_json())
        emit({"request": str(out), "artist": signed.artist, "nonce": signed.nonce, "deadline": signed.deadline}, as_json)
        return
    nonce = registry.nonce(artist.address)
    receipt = registry.invalidate_nonce(artist)
    emit({"artist": artist.address, "invalidated_nonce": nonce, "transaction": receipt.transaction,
          "block": receipt.block, "gas_used": receipt.gas_used}, as_json)  # fmt: skip


@track.command()
@click.argument("track_ref", metavar="ID|CID")
@click.argument("new_artist", metavar="ADDRESS", required=False)
@click.option("--cancel", is_flag=True, help="Withdraw a pending offer instead of making one.")
@chain_options(sends=True)
@json_option
def transfer(session: ChainSession, track_ref: str, new_artist: str | None, cancel: bool, as_json: bool):
    """Offer a track's attribution to ADDRESS, who takes it with `qfzz track accept`."""
    if cancel == (new_artist is not None):
        raise tracks.TrackInputError("give either the new artist's ADDRESS or --cancel")
    track_id = tracks.resolve_track_ref(session.registry, track_ref)
    receipt = tracks.propose_transfer(session.registry, session.sender(), track_id, new_artist)
    emit({"track_id": "0x" + track_id.hex(), "offered_to": new_artist, "transaction": receipt.transaction,
          "block": receipt.block}, as_json)  # fmt: skip


@track.command()
@click.argument("track_ref", metavar="ID|CID")
@chain_options(sends=True)
@json_option
def accept(session: ChainSession, track_ref: str, as_json: bool):
    """Accept the attribution of a track offered to you."""
    track_id = tracks.resolve_track_ref(session.registry, track_ref)
    sender = session.sender()
    receipt = tracks.accept_transfer(session.registry, sender, track_id)
    emit({"track_id": "0x" + track_id.hex(), "artist": sender.address, "transaction": receipt.transaction,
          "block": receipt.block}, as_json)  # fmt: skip


def _relative(entry: dict) -> str:
    title = entry.get("title")
    named = f'"{title}" ' if title and title != "?" else ""
    where = entry.get("content_cid") or entry["track_id"]
    return f"{named}{where} ({entry['relation']})"


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
        "parents": ", ".join(_relative(p) for p in view.parents),
        "derivatives": ", ".join(f"{_relative(d)} by {d['artist']}" for d in view.derivatives),
        "duplicates": ", ".join(f"{d['track_id']} ({d['similarity']:.2f})" for d in view.possible_duplicates),
    }
    if "duplicate_override" in metadata:
        lines["override"] = f"registered despite a close match: {metadata['duplicate_override'].get('reason', '')}"
    for change in view.attribution_changes:
        lines.setdefault("transfers", "")
        lines["transfers"] += f"{change['from_artist']} -> {change['to_artist']} (block {change['block']}) "
    for earlier in view.superseded:
        lines.setdefault("superseded", "")
        lines["superseded"] += f"{earlier['artist']} (block {earlier['block']}, a later commitment) "
    return key_values({k: v for k, v in lines.items() if v})


@track.command()
@click.argument("track_ref", metavar="ID|CID")
@click.option("--no-verify", is_flag=True, help="Skip re-reading the content from IPFS.")
@chain_options(sends=False)
@json_option
def show(session: ChainSession, track_ref: str, no_verify: bool, as_json: bool):
    """Show a track by id or content CID: chain record, metadata, parents, derivatives, and a check
    that the content's bytes hash to the track id."""
    emit(tracks.show(session.registry, session.store, track_ref, verify=not no_verify), as_json, _render_view)


@track.command("list")
@click.option("--artist", metavar="ADDRESS", help="Only tracks now attributed to this address.")
@click.option("--no-verify", is_flag=True, help="Skip re-reading each track's content from IPFS.")
@chain_options(sends=False)
@json_option
def list_(session: ChainSession, artist: str | None, no_verify: bool, as_json: bool):
    """List registered tracks, oldest first, with a check that their content matches the track id."""
    views = tracks.list_tracks(session.registry, session.store, artist=artist, verify=not no_verify)
    rows = [{"track": v.content_cid, "title": (v.metadata or {}).get("title", "?"), "artist": v.artist,
             "block": v.block, "content": v.content_status} for v in views]  # fmt: skip
    emit(views, as_json, lambda _: table(rows, ["track", "title", "artist", "block", "content"]) if rows else "No tracks.")
