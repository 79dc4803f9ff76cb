"""The artist's tasks — register a track, sign a registration for a relayer, show, list —
tying together the audio file, the IPFS store and the TrackRegistry contract.

Nothing here leaves half-done state: content and metadata are added (and pinned) to IPFS
before the transaction, which is checked for every known error before it is sent.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from qfzz_chain.audio import AudioInfo, probe_audio
from qfzz_chain.chain.signatures import register_track_typed_data, sign_typed_data
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.track_registry import TrackHistory, TrackRegistry, UnknownTrackError
from qfzz_chain.chain.transactions import Receipt
from qfzz_chain.chain.types import CidParts, Parent, Relation
from qfzz_chain.errors import ConfigError, IpfsError, QfzzError
from qfzz_chain.ipfs import ContentStore, Progress, parse_cid

METADATA_SCHEMA = "qfzz.track-metadata/1"
ISRC_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
RELATION_NAMES = {r.name.lower(): r for r in Relation}


class TrackInputError(QfzzError):
    """A track's fields are malformed (title, ISRC, parent reference, metadata JSON)."""


class TrackAlreadyRegisteredError(QfzzError):
    """The content is already registered (by anyone)."""


def canonical_json(value: Any) -> bytes:
    """Stable bytes for a JSON value (sorted keys, no spaces), so the same metadata has one CID."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_track_ref(text: str) -> bytes:
    """A track id (``0x`` + 64 hex digits) or a content CID, as the 32-byte track id."""
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text[2:])
    try:
        return CidParts.from_cid(parse_cid(text)).digest
    except IpfsError as exc:
        raise TrackInputError(f"{text!r} is neither a track id (0x + 64 hex digits) nor a CID") from exc


def parse_parent(text: str) -> Parent:
    """``ID_OR_CID[:remix|sample|cover]`` (remix when no relation is named)."""
    ref, _, relation = text.partition(":")
    relation = relation.lower() or "remix"
    if relation not in RELATION_NAMES:
        raise TrackInputError(f"parent {text!r}: the relation must be one of {', '.join(RELATION_NAMES)}")
    return Parent(parse_track_ref(ref), RELATION_NAMES[relation])


def parent_to_json(parent: Parent) -> dict:
    return {"track_id": "0x" + parent.track_id.hex(), "relation": parent.relation.name.lower()}


def parent_from_json(value: dict) -> Parent:
    return parse_parent(f"{value['track_id']}:{value['relation']}")


@dataclass(frozen=True)
class PreparedTrack:
    """A track whose audio and metadata are on IPFS, ready to register."""

    content_cid: str
    content_size: int
    metadata_cid: str
    metadata: dict
    audio: AudioInfo

    @property
    def content(self) -> CidParts:
        return CidParts.from_cid(parse_cid(self.content_cid))

    @property
    def metadata_parts(self) -> CidParts:
        return CidParts.from_cid(parse_cid(self.metadata_cid))

    @property
    def track_id(self) -> bytes:
        return self.content.digest


def check_fields(*, title: str, isrc: str | None) -> None:
    if not title.strip():
        raise TrackInputError("the title is empty")
    if isrc is not None and not ISRC_PATTERN.fullmatch(isrc.replace("-", "").upper()):
        raise TrackInputError(f"ISRC {isrc!r} is malformed (expected CC-XXX-YY-NNNNN, 12 characters)")


def build_metadata(
    *, title: str, artist_name: str | None, isrc: str | None, audio: AudioInfo, content_cid: str,
    content_size: int, extra: dict | None = None,
) -> dict:  # fmt: skip
    """The metadata JSON stored on IPFS; ``extra`` adds fields (genre, tags, ...) but cannot replace ours."""
    check_fields(title=title, isrc=isrc)
    metadata = dict(extra or {})
    metadata.update(
        schema=METADATA_SCHEMA,
        title=title.strip(),
        content=content_cid,
        duration_seconds=round(audio.duration_seconds, 3),
        audio={"format": audio.format, "encoding": audio.subtype, "sample_rate": audio.sample_rate,
               "channels": audio.channels, "bytes": content_size},
    )  # fmt: skip
    if artist_name:
        metadata["artist_name"] = artist_name
    if isrc:
        metadata["isrc"] = isrc.replace("-", "").upper()
    return metadata


def load_extra_metadata(text: str | None) -> dict:
    """``--metadata``: an inline JSON object, or else the path of a file holding one."""
    if not text:
        return {}
    source = text
    if not text.lstrip().startswith("{"):
        try:
            source = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrackInputError(f"--metadata {text!r} is neither a JSON object nor a readable JSON file") from exc
    try:
        value = json.loads(source, parse_constant=_reject_constant)
    except ValueError as exc:
        raise TrackInputError(f"--metadata is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise TrackInputError("--metadata must be a JSON object")
    return value


def prepare_track(
    store: ContentStore, path: Path, *, title: str, artist_name: str | None = None, isrc: str | None = None,
    extra: dict | None = None, cid_version: int = 0, progress: Progress | None = None,
) -> PreparedTrack:  # fmt: skip
    """Check the audio and fields, then add audio and metadata to IPFS (pinned)."""
    check_fields(title=title, isrc=isrc)
    audio = probe_audio(path)
    content = store.add_file(path, cid_version=cid_version, progress=progress)
    metadata = build_metadata(
        title=title, artist_name=artist_name, isrc=isrc, audio=audio, content_cid=content.cid,
        content_size=content.size, extra=extra,
    )  # fmt: skip
    metadata_cid = store.add_bytes(canonical_json(metadata), cid_version=cid_version).cid
    return PreparedTrack(content.cid, content.size, metadata_cid, metadata, audio)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def check_parents(registry: TrackRegistry, parents: tuple[Parent, ...]) -> None:
    """The contract's parent checks, made before anything is added, signed or paid for."""
    seen = set()
    for parent in parents:
        if parent.track_id in seen:
            raise TrackInputError(f"parent 0x{parent.track_id.hex()} is given twice")
        seen.add(parent.track_id)
        if not registry.is_registered(parent.track_id):
            raise UnknownTrackError(f"unknown parent: no track 0x{parent.track_id.hex()} is registered")


def check_registrable(registry: TrackRegistry, prepared: PreparedTrack, parents: tuple[Parent, ...]) -> None:
    """The contract's own checks, made first so the user gets them before signing or paying."""
    if registry.is_registered(prepared.track_id):
        owner = registry.get(prepared.track_id).artist
        raise TrackAlreadyRegisteredError(f"{prepared.content_cid} is already registered (artist {owner})")
    check_parents(registry, parents)


def register(registry: TrackRegistry, sender: Sender, prepared: PreparedTrack, parents: tuple[Parent, ...]) -> Receipt:
    check_registrable(registry, prepared, parents)
    return registry.register(sender, prepared.content, prepared.metadata_parts, parents)


# ---- relayed registration: the artist signs, anyone pays ----------------------------------


@dataclass(frozen=True)
class SignedRegistration:
    """An artist's signed request to register a track; a relayer submits it with ``relay``."""

    chain_id: int
    registry: str
    artist: str
    content: str
    metadata: str
    parents: list[dict]
    nonce: int
    deadline: int
    signature: str
    title: str = ""

    def parent_list(self) -> tuple[Parent, ...]:
        return tuple(parent_from_json(p) for p in self.parents)

    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature.removeprefix("0x"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> "SignedRegistration":
        """Read and check every field, so a damaged request is named before anything is sent."""
        try:
            signed = cls(**json.loads(Path(path).read_text()))
        except OSError as exc:
            raise TrackInputError(f"cannot read {path}: {exc.strerror}") from exc
        except (ValueError, TypeError) as exc:
            raise TrackInputError(f"{path} is not a signed registration made by `qfzz track sign`") from exc
        try:
            checks = [
                isinstance(signed.chain_id, int), isinstance(signed.nonce, int), isinstance(signed.deadline, int),
                Web3.is_address(signed.artist), Web3.is_address(signed.registry), len(signed.signature_bytes()) == 65,
                isinstance(signed.parents, list),
            ]  # fmt: skip
            parse_cid(signed.content), parse_cid(signed.metadata), signed.parent_list()
        except (ValueError, TypeError, KeyError, AttributeError, QfzzError) as exc:
            raise TrackInputError(f"{path} is damaged: {exc}") from exc
        if not all(checks):
            raise TrackInputError(f"{path} is damaged: a field has the wrong type or length")
        return signed


def sign_registration(
    registry: TrackRegistry, artist: Sender, prepared: PreparedTrack, parents: tuple[Parent, ...], *, valid_seconds: int
) -> SignedRegistration:
    if not artist.signs_locally:
        raise ConfigError("signing needs the artist's key: set QFZZ_PRIVATE_KEY, or pass --keystore or --account")
    check_registrable(registry, prepared, parents)
    chain_id = registry.w3.eth.chain_id
    nonce = registry.nonce(artist.address)
    deadline = int(time.time()) + valid_seconds
    typed = register_track_typed_data(
        chain_id=chain_id, registry=registry.address, artist=artist.address, content=prepared.content,
        metadata=prepared.metadata_parts, parents=parents, nonce=nonce, deadline=deadline,
    )  # fmt: skip
    return SignedRegistration(
        chain_id=chain_id, registry=registry.address, artist=artist.address, content=prepared.content_cid,
        metadata=prepared.metadata_cid,
        parents=[parent_to_json(p) for p in parents],
        nonce=nonce, deadline=deadline, signature="0x" + sign_typed_data(artist.private_key, typed).hex(),
        title=prepared.metadata.get("title", ""),
    )  # fmt: skip


def relay(registry: TrackRegistry, relayer: Sender, signed: SignedRegistration) -> Receipt:
    chain_id = registry.w3.eth.chain_id
    if signed.chain_id != chain_id or Web3.to_checksum_address(signed.registry) != registry.address:
        raise TrackInputError(
            f"the request was signed for registry {signed.registry} on chain {signed.chain_id}, "
            f"not {registry.address} on chain {chain_id}"
        )
    if signed.deadline < int(time.time()):
        raise TrackInputError(f"the signed request expired at {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(signed.deadline))}")
    if registry.nonce(signed.artist) != signed.nonce:
        raise TrackInputError("the signed request is void: the artist has since invalidated their signatures (nonce moved on)")
    content, metadata = CidParts.from_cid(parse_cid(signed.content)), CidParts.from_cid(parse_cid(signed.metadata))
    parents = signed.parent_list()
    if registry.is_registered(content.digest):
        raise TrackAlreadyRegisteredError(f"{signed.content} is already registered")
    return registry.register_for(
        relayer, artist=signed.artist, content=content, metadata=metadata, parents=parents,
        deadline=signed.deadline, signature=signed.signature_bytes(),
    )  # fmt: skip


# ---- reading tracks back -----------------------------------------------------------------


@dataclass(frozen=True)
class TrackView:
    """Everything known about a track: chain record, history, metadata and content check."""

    track_id: str
    content_cid: str
    artist: str
    registered_by: str
    registered_at: str
    block: int
    transaction: str
    metadata_version: int
    metadata_cid: str
    metadata: dict | None
    parents: list[dict]
    attribution_changes: list[dict] = field(default_factory=list)
    content_status: str = ""


def content_status(store: ContentStore, cid: str) -> str:
    """``verified`` when every block is present and hashes to its CID, else what is wrong."""
    try:
        store.verify(cid)
    except IpfsError as exc:
        return f"unverified: {exc}"
    return "verified"


METADATA_MAX_BYTES = 1 << 20


def _read_metadata(store: ContentStore, cid: str) -> dict | None:
    """The metadata JSON object, or None when it is unavailable, too large or not an object."""
    try:
        data = b"".join(store.cat(cid, length=METADATA_MAX_BYTES + 1))
        value = json.loads(data, parse_constant=_reject_constant)
    except (IpfsError, ValueError):
        return None
    return value if isinstance(value, dict) and len(data) <= METADATA_MAX_BYTES else None


def show(registry: TrackRegistry, store: ContentStore, ref: str, *, verify: bool = True) -> TrackView:
    """One track by id or content CID; a CID must be the very one registered, not just its digest."""
    track_id = parse_track_ref(ref)
    history = registry.history(track_id)
    registered = str(history.registration.content)
    if not ref.startswith("0x") and str(parse_cid(ref)) != registered:
        raise TrackInputError(f"{ref} is not a registered CID: track 0x{track_id.hex()} was registered as {registered}")
    return _view(store, history, verify)


def _view(store: ContentStore, history: TrackHistory, verify: bool) -> TrackView:
    registration, metadata = history.registration, history.metadata
    content_cid = str(registration.content)
    return TrackView(
        track_id="0x" + registration.track_id.hex(),
        content_cid=content_cid,
        artist=history.artist,
        registered_by=registration.artist,
        registered_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registration.timestamp)),
        block=registration.block,
        transaction=registration.transaction,
        metadata_version=metadata.version,
        metadata_cid=str(metadata.metadata),
        metadata=_read_metadata(store, str(metadata.metadata)),
        parents=[parent_to_json(p) for p in registration.parents],
        attribution_changes=[asdict(c) for c in history.attribution_changes],
        content_status=content_status(store, content_cid) if verify else "not checked",
    )


def list_tracks(
    registry: TrackRegistry, store: ContentStore, *, artist: str | None = None, verify: bool = True
) -> list[TrackView]:
    """Every registered track (or those now attributed to ``artist``), oldest first."""
    if artist is not None and not Web3.is_address(artist):
        raise TrackInputError(f"--artist {artist!r} is not an address")
    histories = list(registry.histories().values())
    if artist is not None:
        histories = [h for h in histories if h.artist == Web3.to_checksum_address(artist)]
    return [_view(store, h, verify) for h in histories]
