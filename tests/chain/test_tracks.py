"""The artist's tasks in-process (`qfzz track` is these functions behind click): preparing a track,
commit-reveal with the journal, signed requests and relaying, transfers, show and list."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from eth_account import Account

from qfzz_chain import tracks
from qfzz_chain.audio import AudioInfo, NotAudioError, synthesize_melody
from qfzz_chain.chain.errors import TrackAlreadyRegisteredError, TransactionReverted, UnknownTrackError
from qfzz_chain.chain.track_registry import make_commitment
from qfzz_chain.chain.types import CidParts, Parent, Relation
from qfzz_chain.errors import ConfigError
from qfzz_chain.journal import Journal
from qfzz_chain.tracks import (
    METADATA_SCHEMA,
    RESERVED_METADATA,
    SignedInvalidation,
    SignedRegistration,
    TrackInputError,
    already_registered,
    build_metadata,
    canonical_json,
    check_fields,
    check_parents,
    content_status,
    load_extra_metadata,
    parent_from_json,
    parent_to_json,
    parse_parent,
    prepare_track,
    read_metadata,
    read_request,
    resolve_track_ref,
    sha256_file,
)
from tests.chain.conftest import deploy

AUDIO = AudioInfo("WAV", "PCM_16", 44_100, 2, 44_100 * 3 // 2)
_NOTES = iter(range(10_000))


@pytest.fixture
def audio(tmp_path):
    """Real audio files, each with distinct bytes (so each registers once)."""

    def make(suffix: str = ".wav") -> Path:
        n = next(_NOTES)
        path = tmp_path / f"track-{n}{suffix}"
        synthesize_melody(path, [220.0 + 7 * n, 330.0 + 5 * n], note_seconds=0.1)
        return path

    return make


def prepare(store, path: Path, title: str = "Song", **options):
    return prepare_track(store, path, title=title, **options)


# ---- pure parts ------------------------------------------------------------------------------


def test_canonical_json_is_stable_compact_utf8():
    assert canonical_json({"b": 1, "a": ["é", 2]}) == '{"a":["é",2],"b":1}'.encode()


def test_sha256_file_is_what_sha256sum_prints(tmp_path, monkeypatch):
    path = tmp_path / "f"
    data = os.urandom(3000)
    path.write_bytes(data)
    monkeypatch.setattr(tracks, "HASH_CHUNK_BYTES", 1000)  # several chunks, the last one full
    assert sha256_file(path) == hashlib.sha256(data).digest()


def test_fields_are_checked(monkeypatch):
    check_fields(title="Song", isrc=None)
    check_fields(title="Song", isrc="us-rc1-76-07839")
    for title in ("", "   "):
        with pytest.raises(TrackInputError, match="the title is empty"):
            check_fields(title=title, isrc=None)
    for isrc in ("123", "USRC1760783", "USRC176078399", "U1RC17607839", "USRC1A607839"):
        with pytest.raises(TrackInputError, match=f"ISRC '{isrc}' is malformed"):
            check_fields(title="Song", isrc=isrc)


def test_metadata_has_the_clis_fields_and_refuses_to_let_extra_set_them():
    audio_hash = os.urandom(32)
    metadata = build_metadata(title="  Song ", artist_name="Ada", isrc="us-rc1-76-07839", audio=AUDIO,
                              audio_hash=audio_hash, content_cid="QmX", content_size=123, extra={"genre": "synth"},
                              fingerprint={"duration": 1.5}, duplicate_override={"reason": "mine"})  # fmt: skip
    assert metadata == {
        "genre": "synth", "schema": METADATA_SCHEMA, "title": "Song", "content": "QmX", "duration_seconds": 1.5,
        "audio": {"format": "WAV", "encoding": "PCM_16", "sample_rate": 44_100, "channels": 2, "bytes": 123,
                  "sha256": audio_hash.hex()},
        "artist_name": "Ada", "isrc": "USRC17607839", "fingerprint": {"duration": 1.5},
        "duplicate_override": {"reason": "mine"},
    }  # fmt: skip
    assert METADATA_SCHEMA == "qfzz.track-metadata/2"
    bare = build_metadata(title="T", artist_name=None, isrc=None, audio=AUDIO, audio_hash=audio_hash,
                          content_cid="QmX", content_size=1)  # fmt: skip
    assert set(bare) == {"schema", "title", "content", "duration_seconds", "audio"}
    assert RESERVED_METADATA >= set(metadata) - {"genre"}
    for key in sorted(RESERVED_METADATA):
        with pytest.raises(TrackInputError, match=f"--metadata may not set {key}: the CLI writes those"):
            build_metadata(title="T", artist_name=None, isrc=None, audio=AUDIO, audio_hash=audio_hash,
                           content_cid="", content_size=0, extra={key: 1})  # fmt: skip
    with pytest.raises(TrackInputError, match="may not set audio, title"):
        build_metadata(title="T", artist_name=None, isrc=None, audio=AUDIO, audio_hash=audio_hash, content_cid="",
                       content_size=0, extra={"title": 1, "audio": 2})  # fmt: skip
    with pytest.raises(TrackInputError, match="ISRC"):
        build_metadata(title="T", artist_name=None, isrc="bad", audio=AUDIO, audio_hash=audio_hash, content_cid="",
                       content_size=0)  # fmt: skip


def test_extra_metadata_inline_or_from_a_file(tmp_path):
    assert load_extra_metadata(None) == {} and load_extra_metadata("") == {}
    assert load_extra_metadata(' {"genre": "synth"}') == {"genre": "synth"}
    file = tmp_path / "extra.json"
    file.write_text('{"tags": ["a"]}', encoding="utf-8")
    assert load_extra_metadata(str(file)) == {"tags": ["a"]}
    with pytest.raises(TrackInputError, match="neither a JSON object nor a readable JSON file"):
        load_extra_metadata(str(tmp_path / "missing.json"))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(TrackInputError, match="neither a JSON object nor a readable JSON file"):
        load_extra_metadata(str(binary))
    with pytest.raises(TrackInputError, match="--metadata is not valid JSON"):
        load_extra_metadata("{oops")
    with pytest.raises(TrackInputError, match="--metadata is not valid JSON: NaN is not a JSON number"):
        load_extra_metadata('{"x": NaN}')
    file.write_text("[1, 2]")
    with pytest.raises(TrackInputError, match="--metadata must be a JSON object"):
        load_extra_metadata(str(file))


def test_parents_to_and_from_json():
    parent = Parent(b"\xab" * 32, Relation.SAMPLE)
    assert parent_to_json(parent) == {"track_id": "0x" + "ab" * 32, "relation": "sample"}
    assert parent_from_json(parent_to_json(parent)) == parent
    for bad in ({"track_id": "0x" + "ab" * 31, "relation": "sample"}, {"track_id": "0x" + "ab" * 32, "relation": "x"},
                {"track_id": "ab" * 32, "relation": "cover"}):  # fmt: skip
        with pytest.raises(TrackInputError, match="malformed parent"):
            parent_from_json(bad)


def test_metadata_is_read_only_when_it_is_a_small_json_object(store, monkeypatch):
    assert read_metadata(store, store.add_bytes(b'{"title": "x"}').cid) == {"title": "x"}
    assert read_metadata(store, store.add_bytes(b"[1]").cid) is None
    assert read_metadata(store, store.add_bytes(b'{"x": NaN}').cid) is None
    assert read_metadata(store, store.add_bytes(b"not json").cid) is None
    assert read_metadata(store, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o") is None  # not in the store
    monkeypatch.setattr(tracks, "METADATA_MAX_BYTES", 16)
    exactly = store.add_bytes(b'{"t": "abcdefg"}').cid  # 16 bytes: the limit itself is fine
    assert read_metadata(store, exactly) == {"t": "abcdefg"}
    assert read_metadata(store, store.add_bytes(b'{"t": "abcdefgh"}').cid) is None


def test_content_is_verified_against_the_track_id(store):
    data = os.urandom(1000)
    cid = store.add_bytes(data).cid
    assert content_status(store, cid, hashlib.sha256(data).digest()) == "verified"
    wrong = hashlib.sha256(b"other").digest()
    assert content_status(store, cid, wrong) == (
        f"MISMATCH: the bytes of {cid} hash to 0x{hashlib.sha256(data).hexdigest()}, not to the track id")
    missing = content_status(store, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", wrong)
    assert missing.startswith("unverified: ")


def test_preparing_adds_audio_and_metadata_to_ipfs(store, audio):
    path = audio(".flac")
    prepared = prepare(store, path, "My Song", artist_name="Ada", extra={"genre": "x"}, cid_version=1)
    assert prepared.audio_hash == prepared.track_id == hashlib.sha256(path.read_bytes()).digest()
    assert prepared.content_size == path.stat().st_size and prepared.content_cid.startswith("bafk")
    assert store.read_bytes(prepared.content_cid) == path.read_bytes()
    assert json.loads(store.read_bytes(prepared.metadata_cid)) == prepared.metadata
    assert store.read_bytes(prepared.metadata_cid) == canonical_json(prepared.metadata)
    assert prepared.metadata["content"] == prepared.content_cid and prepared.metadata["genre"] == "x"
    assert prepared.metadata["audio"]["format"] == "FLAC" and prepared.audio.format == "FLAC"
    assert prepared.content == CidParts.from_cid(tracks.parse_cid(prepared.content_cid))
    assert prepared.metadata_parts.version == 1 and str(prepared.metadata_parts) == prepared.metadata_cid
    assert set(store.pin_ls()) >= {prepared.content_cid, prepared.metadata_cid}


def test_bad_fields_are_refused_before_anything_is_added(store, audio, tmp_path):
    path = audio()
    for options in ({"title": " "}, {"title": "T", "isrc": "x"}, {"title": "T", "extra": {"schema": 1}}):
        with pytest.raises(TrackInputError):
            prepare_track(store, path, **options)
    with pytest.raises(NotAudioError):
        prepare(store, tmp_path / "missing.wav")
    assert store.pin_ls() == []


# ---- references to tracks --------------------------------------------------------------------


def register_prepared(registry, sender, prepared, parents=(), entries=None):
    return tracks.register(registry, sender, prepared, tuple(parents), entries=entries)


def test_a_track_is_named_by_its_id_or_its_content_cid(registry, store, audio, node_senders):
    prepared = prepare(store, audio())
    register_prepared(registry, node_senders[1], prepared)
    track_id = prepared.audio_hash
    assert resolve_track_ref(registry, "0x" + track_id.hex()) == track_id
    assert resolve_track_ref(registry, "0x" + track_id.hex().upper()) == track_id
    assert resolve_track_ref(registry, prepared.content_cid) == track_id
    assert resolve_track_ref(registry, f"/ipfs/{prepared.content_cid}") == track_id
    other = store.add_bytes(b"unregistered").cid
    with pytest.raises(UnknownTrackError, match=f"no track is registered with content CID {other}"):
        resolve_track_ref(registry, other)
    for text in ("QmNotACid", "0x" + "ab" * 31, "ab" * 32):
        with pytest.raises(TrackInputError, match="is neither a track id .* nor a CID"):
            resolve_track_ref(registry, text)


def test_a_parent_reference_names_its_relation(registry, store, audio, node_senders):
    prepared = prepare(store, audio())
    register_prepared(registry, node_senders[1], prepared)
    ref = "0x" + prepared.audio_hash.hex()
    assert parse_parent(registry, ref) == Parent(prepared.audio_hash, Relation.REMIX)
    assert parse_parent(registry, f"{prepared.content_cid}:SAMPLE") == Parent(prepared.audio_hash, Relation.SAMPLE)
    assert parse_parent(registry, f"{ref}:cover") == Parent(prepared.audio_hash, Relation.COVER)
    with pytest.raises(TrackInputError, match="the relation must be one of remix, sample, cover"):
        parse_parent(registry, f"{ref}:bogus")


def test_parents_are_checked_before_anything_is_sent(registry, store, audio, node_senders):
    prepared = prepare(store, audio())
    register_prepared(registry, node_senders[1], prepared)
    known = Parent(prepared.audio_hash, Relation.REMIX)
    check_parents(registry, (known,))
    with pytest.raises(TrackInputError, match=f"parent 0x{known.track_id.hex()} is given twice"):
        check_parents(registry, (known, Parent(known.track_id, Relation.COVER)))
    unknown = Parent(os.urandom(32), Relation.REMIX)
    with pytest.raises(UnknownTrackError, match=f"unknown parent: no track 0x{unknown.track_id.hex()}"):
        check_parents(registry, (known, unknown))


# ---- commit-reveal with the journal ----------------------------------------------------------


def test_register_commits_reveals_and_forgets_the_salt(w3, registry, store, audio, node_senders):
    artist = node_senders[1]
    prepared = prepare(store, audio())
    done = register_prepared(registry, artist, prepared)
    assert (done.track_id, done.artist) == (prepared.audio_hash, artist.address)
    assert done.commit is not None and done.reveal.block == done.commit.block + 1
    assert done.gas_used == done.commit.gas_used + done.reveal.gas_used
    record = registry.get(prepared.audio_hash)
    assert record.artist == artist.address and record.committed_at == done.commit.block
    registration = registry.history(prepared.audio_hash).registration
    assert str(registration.content) == prepared.content_cid and str(registration.metadata) == prepared.metadata_cid
    assert registry.commitment_of(done.commitment) == (0, 0)
    assert list(tracks.journal().entries()) == []
    with pytest.raises(TrackAlreadyRegisteredError, match=f"already registered as track 0x{prepared.audio_hash.hex()}"):
        register_prepared(registry, node_senders[2], prepared)


def test_the_journal_is_this_homes(home, registry, node_senders):
    assert tracks.journal().directory == home / "journal" / "registrations"
    key = tracks._journal_key(registry, node_senders[1].address, b"\x01" * 32)
    assert key == f"31337-{registry.address.lower()}-{node_senders[1].address.lower()}-{'01' * 32}"


def test_the_salt_is_on_disk_before_the_commitment_is_sent(w3, registry, store, audio, node_senders, monkeypatch):
    artist = node_senders[1]
    prepared = prepare(store, audio())
    parent = prepare(store, audio())
    register_prepared(registry, artist, parent)
    seen = {}

    def commit(sender, commitment):
        seen["entries"] = list(tracks.journal().entries())
        seen["commitment"] = commitment
        raise RuntimeError("the node went away")

    monkeypatch.setattr(registry, "commit", commit)
    parents = (Parent(parent.audio_hash, Relation.COVER),)
    with pytest.raises(RuntimeError):
        register_prepared(registry, artist, prepared, parents)
    (key, entry), = seen["entries"]
    assert key == tracks._journal_key(registry, artist.address, prepared.audio_hash)
    assert entry["state"] == "prepared" and entry["kind"] == "register"
    assert (entry["chain_id"], entry["registry"], entry["artist"]) == (31337, registry.address, artist.address)
    assert entry["audio_hash"] == "0x" + prepared.audio_hash.hex() and len(bytes.fromhex(entry["salt"][2:])) == 32
    assert (entry["content"], entry["metadata"], entry["title"]) == (prepared.content_cid, prepared.metadata_cid, "Song")
    assert entry["parents"] == [parent_to_json(p) for p in parents] and abs(entry["created_at"] - time.time()) < 60
    salt = bytes.fromhex(entry["salt"][2:])
    assert seen["commitment"] == make_commitment(prepared.audio_hash, artist.address, salt)
    assert tracks.journal().get(key) == entry  # kept after the failure: the salt is not lost


def test_a_stopped_registration_finishes_with_the_same_salt(w3, registry, store, audio, node_senders, monkeypatch):
    artist = node_senders[1]
    prepared = prepare(store, audio())
    real_register = registry.register
    monkeypatch.setattr(registry, "register", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        register_prepared(registry, artist, prepared)
    (key, entry), = tracks.journal().entries()
    assert entry["state"] == "committed" and entry["commit_block"] > 0 and entry["commit_transaction"].startswith("0x")
    salt = bytes.fromhex(entry["salt"][2:])
    assert registry.commitment_of(make_commitment(prepared.audio_hash, artist.address, salt))[0] == entry["commit_block"]

    monkeypatch.setattr(registry, "register", real_register)
    different = prepare(store, audio())
    with pytest.raises(TrackInputError, match="a registration of this audio with other fields is pending"):
        tracks.register(registry, artist, tracks.PreparedTrack(prepared.audio_hash, different.content_cid,
                        prepared.content_size, prepared.metadata_cid, prepared.metadata, prepared.audio), ())  # fmt: skip
    done = register_prepared(registry, artist, prepared)
    assert done.commit is None  # the commitment was already on the chain
    assert done.commitment == make_commitment(prepared.audio_hash, artist.address, salt)
    assert registry.get(prepared.audio_hash).committed_at == entry["commit_block"]
    assert list(tracks.journal().entries()) == []


def test_a_reveal_that_landed_before_a_crash_is_reported_once(w3, registry, store, audio, node_senders, monkeypatch):
    artist = node_senders[1]
    prepared = prepare(store, audio())
    real_delete = Journal.delete
    monkeypatch.setattr(Journal, "delete", lambda self, key: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        register_prepared(registry, artist, prepared)
    monkeypatch.setattr(Journal, "delete", real_delete)
    assert registry.get(prepared.audio_hash).artist == artist.address
    done = register_prepared(registry, artist, prepared)
    history = registry.history(prepared.audio_hash)
    assert done.commit is None and done.reveal.transaction == history.registration.transaction
    assert done.reveal.block == history.registration.block and done.reveal.gas_used == 0
    assert list(tracks.journal().entries()) == []


def test_a_journalled_registration_someone_else_revealed_is_refused(w3, registry, store, audio, node_senders):
    artist, other = node_senders[1], node_senders[2]
    prepared = prepare(store, audio())
    key = tracks._journal_key(registry, artist.address, prepared.audio_hash)
    entry = tracks._pending_entry(registry, artist.address, prepared, ())
    tracks.journal().put(key, entry)
    register_prepared(registry, other, prepared)
    with pytest.raises(TrackAlreadyRegisteredError, match=f"artist {other.address}"):
        register_prepared(registry, artist, prepared)
    assert tracks.journal().get(key) is None  # the salt can reveal nothing more


def test_a_commitment_someone_else_sent_first_is_used(w3, registry, store, audio, node_senders, monkeypatch):
    """A relayer or a copier may send the same commitment hash first: the reveal still works."""
    artist = node_senders[1]
    prepared = prepare(store, audio())
    real_commit = registry.commit

    def raced(sender, commitment):
        real_commit(node_senders[5], commitment)  # lands first
        return real_commit(sender, commitment)

    monkeypatch.setattr(registry, "commitment_of", lambda commitment: (0, 0))  # the check saw nothing yet
    monkeypatch.setattr(registry, "commit", raced)
    monkeypatch.setattr(registry, "is_registered", lambda track_id: False)
    done = register_prepared(registry, artist, prepared)
    assert done.commit is None and registry.get(prepared.audio_hash).artist == artist.address


def test_other_commit_reverts_are_not_swallowed(registry, node_senders, monkeypatch):
    def refuse(sender, commitment):
        raise TransactionReverted("SomethingElse")

    monkeypatch.setattr(registry, "commit", refuse)
    with pytest.raises(TransactionReverted, match="SomethingElse"):
        tracks._ensure_committed(registry, node_senders[1], os.urandom(32))


def test_a_reveal_waits_out_a_node_that_estimates_in_the_commitments_block(monkeypatch):
    attempts = []
    monkeypatch.setattr(tracks.time, "sleep", lambda seconds: attempts.append(("sleep", seconds)))

    def reveal():
        attempts.append("try")
        if attempts.count("try") < 3:
            raise TransactionReverted("CommitmentTooNew")
        return "receipt"

    assert tracks._reveal(reveal, None) == "receipt"
    assert attempts == ["try", ("sleep", 1), "try", ("sleep", 1), "try"]
    with pytest.raises(TransactionReverted, match="UnknownCommitment"):
        tracks._reveal(lambda: (_ for _ in ()).throw(TransactionReverted("UnknownCommitment")), None)
    clock = iter([0.0, 0.0, tracks.REVEAL_WAIT_SECONDS + 1.0])
    monkeypatch.setattr(tracks.time, "monotonic", lambda: next(clock))
    with pytest.raises(TransactionReverted, match="CommitmentTooNew"):
        tracks._reveal(lambda: (_ for _ in ()).throw(TransactionReverted("CommitmentTooNew")), None)
    assert tracks.REVEAL_WAIT_SECONDS == 120


def test_resume_finishes_or_drops_the_senders_pending_registrations(w3, registry, store, audio, node_senders):
    artist, other = node_senders[1], node_senders[2]
    mine = [prepare(store, audio()) for _ in range(2)]
    theirs = prepare(store, audio())
    for sender, prepared in ((artist, mine[0]), (artist, mine[1]), (other, theirs)):
        key = tracks._journal_key(registry, sender.address, prepared.audio_hash)
        tracks.journal().put(key, tracks._pending_entry(registry, sender.address, prepared, ()))
    pending = tracks.pending_registrations(registry, artist.address)
    assert sorted(p["audio_hash"] for p in pending) == sorted("0x" + p.audio_hash.hex() for p in mine)
    assert all(p["key"].startswith(f"31337-{registry.address.lower()}-{artist.address.lower()}") for p in pending)
    assert len(tracks.pending_registrations(registry)) == 3
    done = tracks.resume(registry, artist)
    assert sorted(d.track_id for d in done) == sorted(p.audio_hash for p in mine)
    assert all(registry.get(p.audio_hash).artist == artist.address for p in mine)
    assert [p["artist"] for p in tracks.pending_registrations(registry)] == [other.address]
    dropped = tracks.resume(registry, other, drop=True)
    assert [d["audio_hash"] for d in dropped] == ["0x" + theirs.audio_hash.hex()] and "key" not in dropped[0]
    assert tracks.pending_registrations(registry) == [] and not registry.is_registered(theirs.audio_hash)


# ---- signed requests and relaying ----------------------------------------------------------


def _artist_key() -> tuple:
    account = Account.create()
    from qfzz_chain.chain.signer import Sender

    return account, Sender(account.address, bytes(account.key))


def test_a_signed_request_relays_for_the_artist(w3, registry, store, audio, node_senders, tmp_path):
    account, artist = _artist_key()
    relayer = node_senders[9]
    parent = prepare(store, audio())
    register_prepared(registry, node_senders[1], parent)
    prepared = prepare(store, audio(), "Gasless")
    parents = (Parent(parent.audio_hash, Relation.SAMPLE),)
    before = int(time.time())
    signed = tracks.sign_registration(registry, artist, prepared, parents, valid_seconds=600)
    assert (signed.chain_id, signed.registry, signed.artist, signed.nonce) == (31337, registry.address, artist.address, 0)
    assert before + 600 <= signed.deadline <= int(time.time()) + 600
    assert signed.title == "Gasless" and signed.kind == "register" and signed.parent_list() == parents
    assert signed.commitment == "0x" + make_commitment(prepared.audio_hash, artist.address, bytes.fromhex(signed.salt[2:])).hex()
    request = tmp_path / "request.json"
    request.write_text(signed.to_json())
    assert read_request(request) == signed

    done = tracks.relay(registry, relayer, read_request(request))
    assert (done.track_id, done.artist) == (prepared.audio_hash, artist.address) and done.commit is not None
    history = registry.history(prepared.audio_hash)
    assert (history.artist, history.registration.relayer, history.registration.parents) == (artist.address,
                                                                                            relayer.address, parents)
    with pytest.raises(TrackAlreadyRegisteredError, match="this request was already relayed"):
        tracks.relay(registry, relayer, signed)


def test_a_relay_after_a_crash_finishes_from_the_commitment(w3, registry, store, audio, node_senders, monkeypatch):
    _, artist = _artist_key()
    relayer = node_senders[9]
    prepared = prepare(store, audio())
    signed = tracks.sign_registration(registry, artist, prepared, (), valid_seconds=600)
    registry.commit(node_senders[8], bytes.fromhex(signed.commitment[2:]))  # the first run got this far
    done = tracks.relay(registry, relayer, signed)
    assert done.commit is None and registry.get(prepared.audio_hash).artist == artist.address


def test_a_request_for_registered_audio_is_refused_before_gas(w3, registry, store, audio, node_senders):
    _, artist = _artist_key()
    prepared = prepare(store, audio())
    signed = tracks.sign_registration(registry, artist, prepared, (), valid_seconds=600)
    register_prepared(registry, node_senders[1], prepared)
    relayer = node_senders[9]
    nonce = w3.eth.get_transaction_count(relayer.address)
    with pytest.raises(TrackAlreadyRegisteredError, match="this audio is already registered"):
        tracks.relay(registry, relayer, signed)
    assert w3.eth.get_transaction_count(relayer.address) == nonce
    with pytest.raises(TrackAlreadyRegisteredError):
        tracks.sign_registration(registry, artist, prepared, (), valid_seconds=600)


def test_a_request_is_checked_before_anything_is_sent(w3, registry, store, audio, node_senders, monkeypatch):
    account, artist = _artist_key()
    relayer = node_senders[9]
    prepared = prepare(store, audio())
    other = prepare(store, audio())
    signed = tracks.sign_registration(registry, artist, prepared, (), valid_seconds=600)
    nonce = w3.eth.get_transaction_count(relayer.address)
    cases = {
        "signed for registry": SignedRegistration(**{**signed.__dict__, "chain_id": 1}),
        "not 0x": SignedRegistration(**{**signed.__dict__, "registry": "0x" + "12" * 20}),
        "the signature is not": SignedRegistration(**{**signed.__dict__, "content": other.content_cid}),
        "expired at": SignedRegistration(**{**signed.__dict__, "deadline": int(time.time()) - 5}),
    }
    for fragment, request in cases.items():
        with pytest.raises(TrackInputError, match=fragment):
            tracks.relay(registry, relayer, request)
    registry.invalidate_nonce(_fund(w3, artist))
    with pytest.raises(TrackInputError, match="nonce moved on"):
        tracks.relay(registry, relayer, signed)
    assert w3.eth.get_transaction_count(relayer.address) == nonce  # nothing sent


def _fund(w3, sender):
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": sender.address, "value": 10**18})
    w3.eth.wait_for_transaction_receipt(tx)
    return sender


def test_an_invalidation_request_relays(w3, registry, node_senders, tmp_path):
    _, artist = _artist_key()
    relayer = node_senders[9]
    before = int(time.time())
    signed = tracks.sign_invalidation(registry, artist, valid_seconds=300)
    assert (signed.chain_id, signed.registry, signed.artist, signed.nonce, signed.kind) == (
        31337, registry.address, artist.address, 0, "invalidate-nonce")
    assert before + 300 <= signed.deadline <= int(time.time()) + 300
    request = tmp_path / "invalidate.json"
    request.write_text(signed.to_json())
    assert read_request(request) == signed
    receipt = tracks.relay(registry, relayer, read_request(request))
    assert receipt.block > 0 and registry.nonce(artist.address) == 1
    forged = SignedInvalidation(**{**signed.__dict__, "nonce": 1})
    with pytest.raises(TrackInputError, match="InvalidSignature"):
        tracks.relay(registry, relayer, forged)


def test_signing_needs_the_artists_key(registry, store, audio, node_senders):
    prepared = prepare(store, audio())
    with pytest.raises(ConfigError, match="signing needs the artist's key"):
        tracks.sign_registration(registry, node_senders[1], prepared, (), valid_seconds=60)
    with pytest.raises(ConfigError, match="signing needs the artist's key"):
        tracks.sign_invalidation(registry, node_senders[1], valid_seconds=60)


def test_a_signing_checks_parents_first(registry, store, audio):
    _, artist = _artist_key()
    prepared = prepare(store, audio())
    with pytest.raises(UnknownTrackError, match="unknown parent"):
        tracks.sign_registration(registry, artist, prepared, (Parent(os.urandom(32), Relation.REMIX),), valid_seconds=60)


def _valid_request(registry, tmp_path) -> dict:
    artist = Account.create()
    salt, audio_hash = "0x" + "22" * 32, "0x" + "33" * 32
    commitment = "0x" + make_commitment(bytes.fromhex(audio_hash[2:]), artist.address, bytes.fromhex(salt[2:])).hex()
    return {"chain_id": 31337, "registry": registry.address, "artist": artist.address, "audio_hash": audio_hash,
            "salt": salt, "commitment": commitment, "content": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
            "metadata": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", "parents": [], "nonce": 0,
            "deadline": 2_000_000_000, "signature": "0x" + "11" * 65, "title": "T"}  # fmt: skip


def test_a_damaged_request_is_named(registry, tmp_path):
    path = tmp_path / "request.json"
    good = _valid_request(registry, tmp_path)
    path.write_text(json.dumps(good))
    assert read_request(path) == SignedRegistration(**good)
    damages = {
        "damaged": [{"signature": "0xzz"}, {"artist": "nobody"}, {"deadline": "soon"}, {"nonce": "0"},
                    {"chain_id": "31337"}, {"parents": [{"x": 1}]}, {"parents": "none"}, {"salt": "0x22"},
                    {"commitment": "0x" + "44" * 32}, {"content": "QmNotACid"}, {"metadata": "nope"},
                    {"registry": "0x12"}, {"signature": "0x" + "11" * 64}, {"audio_hash": "0x" + "33" * 33}],
        "not a signed request made by": [{"unknown_field": 1}, {"kind": "other"}],
    }  # fmt: skip
    for fragment, changes in damages.items():
        for change in changes:
            path.write_text(json.dumps({**good, **change}))
            with pytest.raises(TrackInputError, match=fragment):
                read_request(path)
    for text in ("[]", "not json"):
        path.write_text(text)
        with pytest.raises(TrackInputError, match="not a signed request made by `qfzz track sign`"):
            read_request(path)
    with pytest.raises(TrackInputError, match="cannot read .*missing.json: No such file"):
        read_request(tmp_path / "missing.json")
    invalidation = {k: good[k] for k in ("chain_id", "registry", "artist", "nonce", "deadline", "signature")}
    path.write_text(json.dumps({**invalidation, "kind": "invalidate-nonce"}))
    assert isinstance(read_request(path), SignedInvalidation)
    path.write_text(json.dumps({**invalidation, "kind": "invalidate-nonce", "deadline": 1.5}))
    with pytest.raises(TrackInputError, match="a field has the wrong type"):
        read_request(path)


def test_hex32_takes_exactly_32_bytes():
    assert tracks._hex32("0x" + "ab" * 32) == b"\xab" * 32 == tracks._hex32("ab" * 32)
    with pytest.raises(ValueError, match="expected 32 bytes"):
        tracks._hex32("0x" + "ab" * 31)


def test_signed_requests_serialise_sorted_with_a_final_newline(registry, tmp_path):
    signed = SignedRegistration(**_valid_request(registry, tmp_path))
    text = signed.to_json()
    assert text.endswith("}\n") and json.loads(text)["kind"] == "register"
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert signed.signature_bytes() == b"\x11" * 65
    invalidation = SignedInvalidation(31337, registry.address, registry.address, 0, 1, "11" * 65)
    assert invalidation.signature_bytes() == b"\x11" * 65 and invalidation.to_json().endswith("}\n")


# ---- transfers -----------------------------------------------------------------------------


def test_a_transfer_is_offered_accepted_or_withdrawn(w3, registry, store, audio, node_senders):
    artist, heir, stranger = node_senders[1], node_senders[2], node_senders[3]
    prepared = prepare(store, audio())
    register_prepared(registry, artist, prepared)
    track_id = prepared.audio_hash
    with pytest.raises(TrackInputError, match="'nobody' is not an address"):
        tracks.propose_transfer(registry, artist, track_id, "nobody")
    with pytest.raises(TrackInputError, match=f"is attributed to {artist.address}, not to {stranger.address}"):
        tracks.propose_transfer(registry, stranger, track_id, heir.address)
    with pytest.raises(TrackInputError, match=f"is offered to no one, not to {heir.address}"):
        tracks.accept_transfer(registry, heir, track_id)
    tracks.propose_transfer(registry, artist, track_id, heir.address)
    with pytest.raises(TrackInputError, match=f"is offered to {heir.address}, not to {stranger.address}"):
        tracks.accept_transfer(registry, stranger, track_id)
    tracks.propose_transfer(registry, artist, track_id, None)  # withdrawn
    assert registry.pending_artist(track_id) == "0x" + "00" * 20
    tracks.propose_transfer(registry, artist, track_id, heir.address.lower())
    tracks.accept_transfer(registry, heir, track_id)
    assert registry.get(track_id).artist == heir.address


# ---- show and list -------------------------------------------------------------------------


def test_show_names_parents_and_derivatives_and_verifies_content(w3, registry, store, audio, node_senders):
    artist, remixer = node_senders[1], node_senders[2]
    original = prepare(store, audio(), "Original")
    register_prepared(registry, artist, original)
    remix = prepare(store, audio(), "Remix", cid_version=1)
    register_prepared(registry, remixer, remix, (Parent(original.audio_hash, Relation.SAMPLE),))

    shown = tracks.show(registry, store, original.content_cid)
    assert shown.track_id == "0x" + original.audio_hash.hex() and shown.content_cid == original.content_cid
    assert (shown.artist, shown.registered_by) == (artist.address, artist.address)
    assert shown.metadata == original.metadata and shown.metadata_cid == original.metadata_cid
    assert shown.metadata_version == 0 and shown.parents == [] and shown.content_status == "verified"
    assert shown.derivatives == [{"track_id": "0x" + remix.audio_hash.hex(), "relation": "sample", "title": "Remix",
                                  "artist": remixer.address}]  # fmt: skip
    history = registry.history(original.audio_hash)
    assert (shown.block, shown.transaction) == (history.registration.block, history.registration.transaction)
    assert shown.registered_at == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(history.registration.timestamp))

    remixed = tracks.show(registry, store, "0x" + remix.audio_hash.hex(), verify=False)
    assert remixed.parents == [{"track_id": "0x" + original.audio_hash.hex(), "relation": "sample",
                                "title": "Original", "content_cid": original.content_cid}]  # fmt: skip
    assert remixed.content_status == "not checked" and remixed.derivatives == []
    with pytest.raises(UnknownTrackError, match="no track 0x"):
        tracks.show(registry, store, "0x" + "cd" * 32)


def test_show_follows_metadata_versions_transfers_and_take_overs(w3, registry, store, audio, node_senders):
    artist, heir, copier = node_senders[1], node_senders[2], node_senders[4]
    prepared = prepare(store, audio(), "First")
    register_prepared(registry, artist, prepared)
    newer = store.add_bytes(canonical_json({"title": "Second"})).cid
    registry.update_metadata(artist, prepared.audio_hash, CidParts.from_cid(tracks.parse_cid(newer)))
    registry.propose_transfer(artist, prepared.audio_hash, heir.address)
    accepted = registry.accept_transfer(heir, prepared.audio_hash)
    shown = tracks.show(registry, store, prepared.content_cid, verify=False)
    assert shown.metadata_version == 1 and shown.metadata == {"title": "Second"} and shown.metadata_cid == newer
    assert (shown.artist, shown.registered_by) == (heir.address, artist.address)
    assert shown.attribution_changes == [{"from_artist": artist.address, "to_artist": heir.address,
                                          "block": accepted.block, "transaction": accepted.transaction}]  # fmt: skip
    assert shown.superseded == []


def test_list_tracks_by_artist_oldest_first(w3, registry, store, audio, node_senders):
    artist, other = node_senders[1], node_senders[2]
    first, second, theirs = (prepare(store, audio(), t) for t in ("A", "B", "C"))
    register_prepared(registry, artist, first)
    register_prepared(registry, other, theirs)
    register_prepared(registry, artist, second)
    listed = tracks.list_tracks(registry, store, verify=False)
    assert [v.metadata["title"] for v in listed] == ["A", "C", "B"]
    mine = tracks.list_tracks(registry, store, artist=artist.address.lower())
    assert [v.metadata["title"] for v in mine] == ["A", "B"] and {v.content_status for v in mine} == {"verified"}
    with pytest.raises(TrackInputError, match="--artist 'nobody' is not an address"):
        tracks.list_tracks(registry, store, artist="nobody")


def test_a_title_missing_from_metadata_shows_as_a_question_mark(w3, registry, store, audio, node_senders):
    artist = node_senders[1]
    original = prepare(store, audio(), "Original")
    register_prepared(registry, artist, original)
    untitled = store.add_bytes(b"[]").cid
    registry.update_metadata(artist, original.audio_hash, CidParts.from_cid(tracks.parse_cid(untitled)))
    remix = prepare(store, audio(), "Remix")
    register_prepared(registry, artist, remix, (Parent(original.audio_hash, Relation.REMIX),))
    shown = tracks.show(registry, store, remix.content_cid, verify=False)
    assert shown.parents[0]["title"] == "?"
    assert tracks.show(registry, store, original.content_cid, verify=False).metadata is None


def test_already_registered_names_the_track(registry, store, audio, node_senders):
    prepared = prepare(store, audio())
    assert already_registered(registry, prepared.audio_hash) is None
    register_prepared(registry, node_senders[1], prepared)
    error = already_registered(registry, prepared.audio_hash)
    history = registry.history(prepared.audio_hash)
    assert str(error) == (f"this audio is already registered as track 0x{prepared.audio_hash.hex()} (artist "
                          f"{node_senders[1].address}, content {prepared.content_cid}, block {history.registration.block})")


def test_a_wallet_artist_is_checked_through_erc1271(w3, registry, store, audio, node_senders):
    owner, wallet_sender = _artist_key()
    wallet = deploy(w3, "ERC1271Wallet", owner.address).address
    prepared = prepare(store, audio())
    signed = tracks.sign_registration(registry, wallet_sender, prepared, (), valid_seconds=600)
    as_wallet = SignedRegistration(**{
        **signed.__dict__, "artist": wallet,
        "commitment": "0x" + make_commitment(prepared.audio_hash, wallet, bytes.fromhex(signed.salt[2:])).hex(),
    })  # fmt: skip
    from qfzz_chain.chain.signatures import register_track_typed_data, sign_typed_data

    typed = register_track_typed_data(chain_id=31337, registry=registry.address, artist=wallet,
                                      audio_hash=prepared.audio_hash, content=prepared.content,
                                      metadata=prepared.metadata_parts, parents=(), nonce=0, deadline=signed.deadline)  # fmt: skip
    as_wallet = SignedRegistration(**{**as_wallet.__dict__,
                                      "signature": "0x" + sign_typed_data(bytes(owner.key), typed).hex()})  # fmt: skip
    done = tracks.relay(registry, node_senders[9], as_wallet)
    assert registry.get(done.track_id).artist == wallet
