"""The artist's tasks — register a track, sign a registration for a relayer, transfer it, show,
list — tying together the audio file, the IPFS store, the local journal and the TrackRegistry.

A track's id is the SHA-256 of its audio file, so the same bytes have one id whatever CID
located them. Registration is commit-reveal (``ITrackRegistry`` says why): ``register`` hides
the two steps, journalling the salt before the commitment is sent, so a crash between the
steps is finished by running the same command again (or ``qfzz track resume``), with the same
salt. Nothing here leaves half-done state: content and metadata are added (and pinned) to IPFS,
and every check the contract makes is made, before the first transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from web3 import Web3

from qfzz_chain.audio import AudioInfo, probe_audio
from qfzz_chain.chain.errors import TrackAlreadyRegisteredError, TransactionReverted, UnknownTrackError
from qfzz_chain.chain.signatures import (
    invalidate_nonce_typed_data,
    register_track_typed_data,
    sign_typed_data,
    signature_is_valid,
)
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.track_registry import TrackHistory, TrackRegistry, make_commitment
from qfzz_chain.chain.transactions import Receipt
from qfzz_chain.chain.types import CidParts, Parent, Relation
from qfzz_chain.config import qfzz_home
from qfzz_chain.errors import ConfigError, IpfsError, QfzzError
from qfzz_chain.failpoints import crash_point
from qfzz_chain.ipfs import ContentStore, Progress, parse_cid
from qfzz_chain.journal import Journal

METADATA_SCHEMA = "qfzz.track-metadata/2"
ISRC_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
RELATION_NAMES = {r.name.lower(): r for r in Relation}
# Fields the CLI writes itself; `--metadata` may add others but not set these.
RESERVED_METADATA = frozenset(
    {"schema", "title", "content", "duration_seconds", "audio", "artist_name", "isrc", "fingerprint",
     "duplicate_override"}
)  # fmt: skip
HASH_CHUNK_BYTES = 1 << 20
REVEAL_WAIT_SECONDS = 120


class TrackInputError(QfzzError):
    """A track's fields are malformed (title, ISRC, parent reference, metadata JSON)."""


class NearDuplicateError(QfzzError):
    """The audio sounds like a registered track (a re-encode, trim or gain change of it)."""


def canonical_json(value: Any) -> bytes:
    """Stable bytes for a JSON value (sorted keys, no spaces), so the same metadata has one CID."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_file(path: Path) -> bytes:
    """SHA-256 of a file's bytes (what ``sha256sum`` prints): a track's id."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.digest()


def _track_id_text(text: str) -> bytes | None:
    return bytes.fromhex(text[2:]) if re.fullmatch(r"0x[0-9a-fA-F]{64}", text) else None


def resolve_track_ref(registry: TrackRegistry, text: str) -> bytes:
    """A track id (``0x`` + 64 hex digits, the audio's SHA-256) or a registered content CID, as the id."""
    track_id = _track_id_text(text)
    if track_id is not None:
        return track_id
    try:
        cid = str(parse_cid(text))
    except IpfsError as exc:
        raise TrackInputError(f"{text!r} is neither a track id (0x + 64 hex digits) nor a CID") from exc
    for history in registry.histories().values():
        if str(history.registration.content) == cid:
            return history.registration.track_id
    raise UnknownTrackError(f"no track is registered with content CID {cid}")


def parse_parent(registry: TrackRegistry, text: str) -> Parent:
    """``ID_OR_CID[:remix|sample|cover]`` (remix when no relation is named)."""
    ref, _, relation = text.partition(":")
    relation = relation.lower() or "remix"
    if relation not in RELATION_NAMES:
        raise TrackInputError(f"parent {text!r}: the relation must be one of {', '.join(RELATION_NAMES)}")
    return Parent(resolve_track_ref(registry, ref), RELATION_NAMES[relation])


def parent_to_json(parent: Parent) -> dict:
    return {"track_id": "0x" + parent.track_id.hex(), "relation": parent.relation.name.lower()}


def parent_from_json(value: dict) -> Parent:
    track_id = _track_id_text(value["track_id"])
    if track_id is None or value["relation"] not in RELATION_NAMES:
        raise TrackInputError(f"malformed parent {value!r}")
    return Parent(track_id, RELATION_NAMES[value["relation"]])


@dataclass(frozen=True)
class PreparedTrack:
    """A track whose audio and metadata are on IPFS, ready to register."""

    audio_hash: bytes
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
        return self.audio_hash


def check_fields(*, title: str, isrc: str | None) -> None:
    if not title.strip():
        raise TrackInputError("the title is empty")
    if isrc is not None and not ISRC_PATTERN.fullmatch(isrc.replace("-", "").upper()):
        raise TrackInputError(f"ISRC {isrc!r} is malformed (expected CC-XXX-YY-NNNNN, 12 characters)")


def build_metadata(
    *, title: str, artist_name: str | None, isrc: str | None, audio: AudioInfo, audio_hash: bytes, content_cid: str,
    content_size: int, extra: dict | None = None, fingerprint: dict | None = None,
    duplicate_override: dict | None = None,
) -> dict:  # fmt: skip
    """The metadata JSON stored on IPFS; ``extra`` adds fields (genre, tags, ...) but cannot set ours."""
    check_fields(title=title, isrc=isrc)
    extra = dict(extra or {})
    reserved = sorted(RESERVED_METADATA & extra.keys())
    if reserved:
        raise TrackInputError(
            f"--metadata may not set {', '.join(reserved)}: the CLI writes those (use --title, --artist-name, --isrc)"
        )
    metadata = dict(extra)
    metadata.update(
        schema=METADATA_SCHEMA,
        title=title.strip(),
        content=content_cid,
        duration_seconds=round(audio.duration_seconds, 3),
        audio={"format": audio.format, "encoding": audio.subtype, "sample_rate": audio.sample_rate,
               "channels": audio.channels, "bytes": content_size, "sha256": audio_hash.hex()},
    )  # fmt: skip
    if artist_name:
        metadata["artist_name"] = artist_name
    if isrc:
        metadata["isrc"] = isrc.replace("-", "").upper()
    if fingerprint is not None:
        metadata["fingerprint"] = fingerprint
    if duplicate_override is not None:
        metadata["duplicate_override"] = duplicate_override
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


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def prepare_track(
    store: ContentStore, path: Path, *, title: str, artist_name: str | None = None, isrc: str | None = None,
    extra: dict | None = None, cid_version: int = 0, progress: Progress | None = None,
    fingerprint: dict | None = None, duplicate_override: dict | None = None,
) -> PreparedTrack:  # fmt: skip
    """Check the audio and fields, then add audio and metadata to IPFS (pinned)."""
    check_fields(title=title, isrc=isrc)
    audio = probe_audio(path)
    audio_hash = sha256_file(path)
    build_metadata(title=title, artist_name=artist_name, isrc=isrc, audio=audio, audio_hash=audio_hash,
                   content_cid="", content_size=0, extra=extra)  # refuse bad fields before adding  # fmt: skip
    content = store.add_file(path, cid_version=cid_version, progress=progress)
    metadata = build_metadata(
        title=title, artist_name=artist_name, isrc=isrc, audio=audio, audio_hash=audio_hash, content_cid=content.cid,
        content_size=content.size, extra=extra, fingerprint=fingerprint, duplicate_override=duplicate_override,
    )  # fmt: skip
    metadata_cid = store.add_bytes(canonical_json(metadata), cid_version=cid_version).cid
    return PreparedTrack(audio_hash, content.cid, content.size, metadata_cid, metadata, audio)


def check_parents(registry: TrackRegistry, parents: tuple[Parent, ...]) -> None:
    """The contract's parent checks, made before anything is added, signed or paid for."""
    seen = set()
    for parent in parents:
        if parent.track_id in seen:
            raise TrackInputError(f"parent 0x{parent.track_id.hex()} is given twice")
        seen.add(parent.track_id)
        if not registry.is_registered(parent.track_id):
            raise UnknownTrackError(f"unknown parent: no track 0x{parent.track_id.hex()} is registered")


def already_registered(registry: TrackRegistry, audio_hash: bytes) -> TrackAlreadyRegisteredError | None:
    """The error naming the existing track when this audio is registered, else None."""
    if not registry.is_registered(audio_hash):
        return None
    history = registry.history(audio_hash)
    return TrackAlreadyRegisteredError(
        f"this audio is already registered as track 0x{audio_hash.hex()} (artist {history.artist}, "
        f"content {history.registration.content}, block {history.registration.block})"
    )


def check_audio_is_new(registry: TrackRegistry, audio_hash: bytes) -> None:
    error = already_registered(registry, audio_hash)
    if error is not None:
        raise error


# ---- near-duplicates: the same music in other bytes ----------------------------------------


@dataclass(frozen=True)
class DuplicateCheck:
    """Registered tracks that sound like the audio, best first, and how many could not be compared
    (registered without a fingerprint, or their metadata is not in the store)."""

    matches: list[dict]
    compared: int
    unchecked: int


def near_duplicates(
    registry: TrackRegistry, store: ContentStore, fingerprint, *, exclude: set[bytes] = frozenset(),
    histories: dict | None = None,
) -> DuplicateCheck:  # fmt: skip
    """Compare ``fingerprint`` with every registered track's (those in ``exclude`` aside)."""
    from qfzz_chain.fingerprint import Fingerprint, InvalidFingerprintError, find_near_duplicates

    histories = registry.histories() if histories is None else histories
    candidates, titles, unchecked = [], {}, 0
    for track_id, history in histories.items():
        if track_id in exclude:
            continue
        metadata = read_metadata(store, str(history.metadata.metadata)) or {}
        try:
            candidates.append((track_id, Fingerprint.from_metadata(metadata["fingerprint"])))
        except (KeyError, TypeError, InvalidFingerprintError):
            unchecked += 1
            continue
        titles[track_id] = (metadata.get("title", "?"), history.artist)
    matches = [{"track_id": "0x" + track_id.hex(), "title": titles[track_id][0], "artist": titles[track_id][1],
                "similarity": round(score, 3)}
               for track_id, score in find_near_duplicates(fingerprint, candidates)]  # fmt: skip
    return DuplicateCheck(matches, len(candidates), unchecked)


def check_not_a_duplicate(check: DuplicateCheck, *, force: bool, reason: str | None) -> dict | None:
    """Refuse a close match unless forced with a reason; returns the override to record, if any."""
    if not check.matches:
        return None
    best = check.matches[0]
    if not force:
        raise NearDuplicateError(
            f"this audio sounds like track {best['track_id']} \"{best['title']}\" by {best['artist']} "
            f"(similarity {best['similarity']:.2f}, a re-encode, trim or gain change of it); if it is a work of its "
            "own, register it with --force --reason \"...\" (the reason is recorded), or declare it with --parent"
        )
    if not reason or not reason.strip():
        raise TrackInputError("--force needs --reason: why this audio is not a copy of the track it matches")
    return {"reason": reason.strip(), "matches": check.matches}


# ---- commit-reveal, with the salt journalled first ---------------------------------------


def journal() -> Journal:
    """Pending registrations of this QFZZ_HOME: ``$QFZZ_HOME/journal/registrations``."""
    return Journal(qfzz_home() / "journal" / "registrations")


def _journal_key(registry: TrackRegistry, artist: str, audio_hash: bytes) -> str:
    return f"{registry.w3.eth.chain_id}-{registry.address.lower()}-{artist.lower()}-{audio_hash.hex()}"


@dataclass(frozen=True)
class Registered:
    """A finished registration: the commit (None when a relayer or an earlier run sent it) and the reveal."""

    track_id: bytes
    artist: str
    commitment: bytes
    commit: Receipt | None
    reveal: Receipt

    @property
    def gas_used(self) -> int:
        return self.reveal.gas_used + (self.commit.gas_used if self.commit else 0)


def _pending_entry(registry: TrackRegistry, artist: str, prepared: PreparedTrack, parents: tuple[Parent, ...]) -> dict:
    return {
        "kind": "register", "state": "prepared", "chain_id": registry.w3.eth.chain_id, "registry": registry.address,
        "artist": artist, "audio_hash": "0x" + prepared.audio_hash.hex(), "salt": "0x" + secrets.token_bytes(32).hex(),
        "content": prepared.content_cid, "metadata": prepared.metadata_cid, "title": prepared.metadata.get("title", ""),
        "parents": [parent_to_json(p) for p in parents], "created_at": int(time.time()),
    }  # fmt: skip


def _ensure_committed(registry: TrackRegistry, sender: Sender, commitment: bytes) -> Receipt | None:
    """Send the commitment unless the chain already holds it; returns the commit receipt or None."""
    if registry.commitment_of(commitment)[0] != 0:
        return None
    try:
        return registry.commit(sender, commitment)
    except TransactionReverted as exc:
        if exc.error == "CommitmentExists":  # someone (a relayer, a copier) sent the same hash first
            return None
        raise


def _reveal(reveal: Callable[[], Receipt], registry: TrackRegistry) -> Receipt:
    """Send the reveal; on a node that estimates in the commitment's own block, wait for the next."""
    deadline = time.monotonic() + REVEAL_WAIT_SECONDS
    while True:
        try:
            return reveal()
        except TransactionReverted as exc:
            if exc.error != "CommitmentTooNew" or time.monotonic() > deadline:
                raise
            time.sleep(1)


def register(
    registry: TrackRegistry, sender: Sender, prepared: PreparedTrack, parents: tuple[Parent, ...],
    *, entries: Journal | None = None,
) -> Registered:  # fmt: skip
    """Commit, wait for the next block, reveal; resumes a journalled registration of the same audio."""
    entries = entries or journal()
    key = _journal_key(registry, sender.address, prepared.audio_hash)
    entry = entries.get(key)
    if entry is None:
        check_audio_is_new(registry, prepared.audio_hash)
        check_parents(registry, parents)
        entry = _pending_entry(registry, sender.address, prepared, parents)
        entries.put(key, entry)  # the salt is on disk before the commitment exists
        crash_point("after-journal")
    else:  # an earlier run stopped between the steps: finish it with its salt and fields
        prepared_parents = [parent_to_json(p) for p in parents]
        if (entry["content"], entry["metadata"], entry["parents"]) != (prepared.content_cid, prepared.metadata_cid,
                                                                       prepared_parents):  # fmt: skip
            raise TrackInputError(
                f"a registration of this audio with other fields is pending (content {entry['content']}, metadata "
                f"{entry['metadata']}): finish it with `qfzz track resume` or drop it with `qfzz track resume --drop`"
            )
    return _finish(registry, sender, entries, key, entry)


def _finish(registry: TrackRegistry, sender: Sender, entries: Journal, key: str, entry: dict) -> Registered:
    audio_hash, salt = bytes.fromhex(entry["audio_hash"][2:]), bytes.fromhex(entry["salt"][2:])
    commitment = make_commitment(audio_hash, sender.address, salt)
    if registry.commitment_of(commitment)[0] == 0 and registry.is_registered(audio_hash):
        entries.delete(key)  # the salt can reveal nothing more
        registration = registry.history(audio_hash).registration
        if registration.artist != sender.address:
            raise already_registered(registry, audio_hash)
        receipt = Receipt(registration.transaction, registration.block, 0, [])  # revealed before a crash
        return Registered(audio_hash, sender.address, commitment, None, receipt)
    commit = _ensure_committed(registry, sender, commitment)
    if commit is not None:
        entries.put(key, {**entry, "state": "committed", "commit_transaction": commit.transaction,
                          "commit_block": commit.block})  # fmt: skip
    crash_point("after-commit")
    content, metadata = CidParts.from_cid(parse_cid(entry["content"])), CidParts.from_cid(parse_cid(entry["metadata"]))
    parents = tuple(parent_from_json(p) for p in entry["parents"])
    reveal = _reveal(lambda: registry.register(sender, audio_hash, salt, content, metadata, parents), registry)
    entries.delete(key)
    return Registered(audio_hash, sender.address, commitment, commit, reveal)


def pending_registrations(registry: TrackRegistry, artist: str | None = None) -> list[dict]:
    """Journalled registrations on this registry not yet revealed (of ``artist`` when given)."""
    prefix = f"{registry.w3.eth.chain_id}-{registry.address.lower()}-{(artist or '').lower()}"
    return [{"key": key, **entry} for key, entry in journal().entries() if key.startswith(prefix)]


def resume(registry: TrackRegistry, sender: Sender, *, drop: bool = False) -> list[Registered | dict]:
    """Finish (or, with ``drop``, forget) every pending registration of ``sender``."""
    entries, done = journal(), []
    for pending in pending_registrations(registry, sender.address):
        key = pending.pop("key")
        if drop:
            entries.delete(key)
            done.append(pending)
        else:
            done.append(_finish(registry, sender, entries, key, pending))
    return done


# ---- relayed registration: the artist signs, anyone pays ----------------------------------


@dataclass(frozen=True)
class SignedRegistration:
    """An artist's signed request to register a track; a relayer commits and reveals it with ``relay``.

    It holds the salt: whoever holds the request can reveal it, but only for the artist who
    signed it, so the request is safe to hand to a relayer. A relayer who has the audio could
    commit it as their own before committing the artist's commitment; hand the request only to
    a relayer you trust not to, or relay the commitment yourself first.
    """

    chain_id: int
    registry: str
    artist: str
    audio_hash: str
    salt: str
    commitment: str
    content: str
    metadata: str
    parents: list[dict]
    nonce: int
    deadline: int
    signature: str
    title: str = ""
    kind: str = "register"

    def parent_list(self) -> tuple[Parent, ...]:
        return tuple(parent_from_json(p) for p in self.parents)

    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature.removeprefix("0x"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class SignedInvalidation:
    """An artist's signed request to void every registration signature not yet relayed."""

    chain_id: int
    registry: str
    artist: str
    nonce: int
    deadline: int
    signature: str
    kind: str = "invalidate-nonce"

    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature.removeprefix("0x"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def _hex32(text: str) -> bytes:
    value = bytes.fromhex(text.removeprefix("0x"))
    if len(value) != 32:
        raise ValueError("expected 32 bytes")
    return value


def read_request(path: Path) -> SignedRegistration | SignedInvalidation:
    """Read and check every field, so a damaged request is named before anything is sent."""
    try:
        data = json.loads(Path(path).read_text())
        kind = data.get("kind", "register") if isinstance(data, dict) else None
        signed = {"register": SignedRegistration, "invalidate-nonce": SignedInvalidation}[kind](**data)
    except OSError as exc:
        raise TrackInputError(f"cannot read {path}: {exc.strerror}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise TrackInputError(f"{path} is not a signed request made by `qfzz track sign`") from exc
    try:
        checks = [
            isinstance(signed.chain_id, int), isinstance(signed.nonce, int), isinstance(signed.deadline, int),
            Web3.is_address(signed.artist), Web3.is_address(signed.registry), len(signed.signature_bytes()) == 65,
        ]  # fmt: skip
        if isinstance(signed, SignedRegistration):
            audio_hash, salt = _hex32(signed.audio_hash), _hex32(signed.salt)
            checks += [isinstance(signed.parents, list),
                       make_commitment(audio_hash, signed.artist, salt) == _hex32(signed.commitment)]  # fmt: skip
            parse_cid(signed.content), parse_cid(signed.metadata), signed.parent_list()
    except (ValueError, TypeError, KeyError, AttributeError, QfzzError) as exc:
        raise TrackInputError(f"{path} is damaged: {exc}") from exc
    if not all(checks):
        raise TrackInputError(f"{path} is damaged: a field has the wrong type or length, or the commitment is not its hash")
    return signed


def _require_local_key(artist: Sender) -> None:
    if not artist.signs_locally:
        raise ConfigError("signing needs the artist's key: set QFZZ_PRIVATE_KEY, or pass --keystore or --account")


def sign_registration(
    registry: TrackRegistry, artist: Sender, prepared: PreparedTrack, parents: tuple[Parent, ...], *, valid_seconds: int
) -> SignedRegistration:
    _require_local_key(artist)
    check_audio_is_new(registry, prepared.audio_hash)
    check_parents(registry, parents)
    chain_id = registry.w3.eth.chain_id
    nonce = registry.nonce(artist.address)
    deadline = int(time.time()) + valid_seconds
    salt = secrets.token_bytes(32)
    typed = register_track_typed_data(
        chain_id=chain_id, registry=registry.address, artist=artist.address, audio_hash=prepared.audio_hash,
        content=prepared.content, metadata=prepared.metadata_parts, parents=parents, nonce=nonce, deadline=deadline,
    )  # fmt: skip
    return SignedRegistration(
        chain_id=chain_id, registry=registry.address, artist=artist.address,
        audio_hash="0x" + prepared.audio_hash.hex(), salt="0x" + salt.hex(),
        commitment="0x" + make_commitment(prepared.audio_hash, artist.address, salt).hex(),
        content=prepared.content_cid, metadata=prepared.metadata_cid, parents=[parent_to_json(p) for p in parents],
        nonce=nonce, deadline=deadline, signature="0x" + sign_typed_data(artist.private_key, typed).hex(),
        title=prepared.metadata.get("title", ""),
    )  # fmt: skip


def sign_invalidation(registry: TrackRegistry, artist: Sender, *, valid_seconds: int) -> SignedInvalidation:
    _require_local_key(artist)
    chain_id, nonce = registry.w3.eth.chain_id, registry.nonce(artist.address)
    deadline = int(time.time()) + valid_seconds
    typed = invalidate_nonce_typed_data(chain_id=chain_id, registry=registry.address, artist=artist.address,
                                        nonce=nonce, deadline=deadline)  # fmt: skip
    return SignedInvalidation(chain_id, registry.address, artist.address, nonce, deadline,
                              "0x" + sign_typed_data(artist.private_key, typed).hex())  # fmt: skip


def _check_request(registry: TrackRegistry, signed: SignedRegistration | SignedInvalidation) -> None:
    chain_id = registry.w3.eth.chain_id
    if signed.chain_id != chain_id or Web3.to_checksum_address(signed.registry) != registry.address:
        raise TrackInputError(
            f"the request was signed for registry {signed.registry} on chain {signed.chain_id}, "
            f"not {registry.address} on chain {chain_id}"
        )
    if signed.deadline < int(time.time()):
        expired = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(signed.deadline))
        raise TrackInputError(f"the signed request expired at {expired}")
    if registry.nonce(signed.artist) != signed.nonce:
        raise TrackInputError("the signed request is void: the artist has since invalidated their signatures (nonce moved on)")
    if isinstance(signed, SignedInvalidation):
        typed = invalidate_nonce_typed_data(chain_id=chain_id, registry=registry.address, artist=signed.artist,
                                            nonce=signed.nonce, deadline=signed.deadline)  # fmt: skip
    else:
        typed = register_track_typed_data(
            chain_id=chain_id, registry=registry.address, artist=signed.artist, audio_hash=_hex32(signed.audio_hash),
            content=CidParts.from_cid(parse_cid(signed.content)), metadata=CidParts.from_cid(parse_cid(signed.metadata)),
            parents=signed.parent_list(), nonce=signed.nonce, deadline=signed.deadline,
        )  # fmt: skip
    if not signature_is_valid(registry.w3, signed.artist, typed, signed.signature_bytes()):
        raise TrackInputError(
            f"the signature is not {signed.artist}'s over these fields: the request was altered or signed by someone "
            "else (InvalidSignature); nothing was sent"
        )


def relay(registry: TrackRegistry, relayer: Sender, signed: SignedRegistration | SignedInvalidation) -> Registered | Receipt:
    """Submit a signed request: a registration's commitment then its reveal, or a nonce invalidation.

    Running it again after a crash finishes the same registration (the commitment is on-chain).
    """
    _check_request(registry, signed)
    if isinstance(signed, SignedInvalidation):
        return registry.invalidate_nonce_for(relayer, artist=signed.artist, deadline=signed.deadline,
                                             signature=signed.signature_bytes())  # fmt: skip
    audio_hash, salt, commitment = _hex32(signed.audio_hash), _hex32(signed.salt), _hex32(signed.commitment)
    if registry.is_registered(audio_hash) and registry.get(audio_hash).artist == Web3.to_checksum_address(signed.artist) \
            and registry.commitment_of(commitment)[0] == 0:  # fmt: skip
        raise TrackAlreadyRegisteredError(f"this request was already relayed: track 0x{audio_hash.hex()} is {signed.artist}'s")
    if registry.commitment_of(commitment)[0] == 0:
        check_audio_is_new(registry, audio_hash)
    commit = _ensure_committed(registry, relayer, commitment)
    crash_point("after-commit")
    content, metadata = CidParts.from_cid(parse_cid(signed.content)), CidParts.from_cid(parse_cid(signed.metadata))
    reveal = _reveal(lambda: registry.register_for(
        relayer, artist=signed.artist, audio_hash=audio_hash, salt=salt, content=content, metadata=metadata,
        parents=signed.parent_list(), deadline=signed.deadline, signature=signed.signature_bytes(),
    ), registry)  # fmt: skip
    return Registered(audio_hash, Web3.to_checksum_address(signed.artist), commitment, commit, reveal)


# ---- attribution transfers ----------------------------------------------------------------


def _artist_only(registry: TrackRegistry, sender: Sender, track_id: bytes) -> None:
    record = registry.get(track_id)
    if record.artist != sender.address:
        raise TrackInputError(f"track 0x{track_id.hex()} is attributed to {record.artist}, not to {sender.address}")


def propose_transfer(registry: TrackRegistry, sender: Sender, track_id: bytes, new_artist: str | None) -> Receipt:
    """Offer the track's attribution to ``new_artist`` (None withdraws a pending offer)."""
    if new_artist is not None and not Web3.is_address(new_artist):
        raise TrackInputError(f"{new_artist!r} is not an address")
    _artist_only(registry, sender, track_id)
    return registry.propose_transfer(sender, track_id, new_artist or "0x" + "00" * 20)


def accept_transfer(registry: TrackRegistry, sender: Sender, track_id: bytes) -> Receipt:
    pending = registry.pending_artist(track_id)
    if pending != sender.address:
        offered = "no one" if int(pending, 16) == 0 else pending
        raise TrackInputError(f"track 0x{track_id.hex()} is offered to {offered}, not to {sender.address}")
    return registry.accept_transfer(sender, track_id)


# ---- reading tracks back -----------------------------------------------------------------


@dataclass(frozen=True)
class TrackView:
    """Everything known about a track: chain record, history, metadata, content check, relatives."""

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
    derivatives: list[dict] = field(default_factory=list)
    attribution_changes: list[dict] = field(default_factory=list)
    superseded: list[dict] = field(default_factory=list)
    possible_duplicates: list[dict] = field(default_factory=list)
    content_status: str = ""


def content_status(store: ContentStore, cid: str, track_id: bytes) -> str:
    """``verified`` when every block is there, hashes to its CID, and the file's SHA-256 is the track id."""
    digest = hashlib.sha256()
    try:
        store.verify(cid)
        for chunk in store.cat(cid):
            digest.update(chunk)
    except IpfsError as exc:
        return f"unverified: {exc}"
    if digest.digest() != track_id:
        return f"MISMATCH: the bytes of {cid} hash to 0x{digest.hexdigest()}, not to the track id"
    return "verified"


METADATA_MAX_BYTES = 1 << 20


def read_metadata(store: ContentStore, cid: str) -> dict | None:
    """The metadata JSON object, or None when it is unavailable, too large or not an object."""
    try:
        data = b"".join(store.cat(cid, length=METADATA_MAX_BYTES + 1))
        value = json.loads(data, parse_constant=_reject_constant)
    except (IpfsError, ValueError):
        return None
    return value if isinstance(value, dict) and len(data) <= METADATA_MAX_BYTES else None


def show(registry: TrackRegistry, store: ContentStore, ref: str, *, verify: bool = True) -> TrackView:
    """One track by id or content CID, with its parents, derivatives and possible duplicates named."""
    from qfzz_chain.fingerprint import Fingerprint, InvalidFingerprintError

    track_id = resolve_track_ref(registry, ref)
    histories = registry.histories()
    if track_id not in histories:
        raise UnknownTrackError(f"no track 0x{track_id.hex()} is registered on this chain")
    view = _view(store, histories[track_id], verify, histories, {})
    try:
        fingerprint = Fingerprint.from_metadata((view.metadata or {})["fingerprint"])
    except (KeyError, TypeError, InvalidFingerprintError):
        return view
    relatives = {track_id, *(p.track_id for p in histories[track_id].registration.parents),
                 *(bytes.fromhex(d["track_id"][2:]) for d in view.derivatives)}  # fmt: skip
    check = near_duplicates(registry, store, fingerprint, exclude=relatives, histories=histories)
    return replace(view, possible_duplicates=check.matches)


def _title(store: ContentStore, history: TrackHistory, titles: dict) -> str:
    key = history.registration.track_id
    if key not in titles:
        titles[key] = (read_metadata(store, str(history.metadata.metadata)) or {}).get("title", "?")
    return titles[key]


def _view(store: ContentStore, history: TrackHistory, verify: bool, histories: dict, titles: dict) -> TrackView:
    registration, metadata_version = history.registration, history.metadata
    content_cid = str(registration.content)
    metadata = read_metadata(store, str(metadata_version.metadata))
    titles[registration.track_id] = (metadata or {}).get("title", "?")
    parents = []
    for parent in registration.parents:
        entry = parent_to_json(parent)
        related = histories.get(parent.track_id)
        if related is not None:
            entry.update(title=_title(store, related, titles), content_cid=str(related.registration.content))
        parents.append(entry)
    derivatives = [
        {"track_id": "0x" + other.registration.track_id.hex(), "relation": p.relation.name.lower(),
         "title": _title(store, other, titles), "artist": other.artist}
        for other in histories.values() for p in other.registration.parents if p.track_id == registration.track_id
    ]  # fmt: skip
    return TrackView(
        track_id="0x" + registration.track_id.hex(),
        content_cid=content_cid,
        artist=history.artist,
        registered_by=registration.artist,
        registered_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(registration.timestamp)),
        block=registration.block,
        transaction=registration.transaction,
        metadata_version=metadata_version.version,
        metadata_cid=str(metadata_version.metadata),
        metadata=metadata,
        parents=parents,
        derivatives=derivatives,
        attribution_changes=[asdict(c) for c in history.attribution_changes],
        superseded=[{"artist": r.artist, "block": r.block, "transaction": r.transaction} for r in history.superseded],
        content_status=content_status(store, content_cid, registration.track_id) if verify else "not checked",
    )


def list_tracks(
    registry: TrackRegistry, store: ContentStore, *, artist: str | None = None, verify: bool = True
) -> list[TrackView]:
    """Every registered track (or those now attributed to ``artist``), oldest first."""
    if artist is not None and not Web3.is_address(artist):
        raise TrackInputError(f"--artist {artist!r} is not an address")
    histories = registry.histories()
    selected = list(histories.values())
    if artist is not None:
        selected = [h for h in selected if h.artist == Web3.to_checksum_address(artist)]
    titles: dict = {}
    return [_view(store, h, verify, histories, titles) for h in selected]
