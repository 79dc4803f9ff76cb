"""`qfzz track` end to end: Brownie's anvil, the deploy script's record, the real store."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from eth_account import Account

from tests.cli.conftest import assert_one_line_error, run_qfzz

ARTIST_INDEX, REMIXER_INDEX, RELAYER_INDEX = 1, 2, 9


@pytest.fixture(scope="module")
def home(tmp_path_factory, module_isolation, TrackRegistry):
    """A QFZZ_HOME with a deployment record written by scripts/deploy.py on Brownie's anvil."""
    import os

    from scripts import deploy

    path = tmp_path_factory.mktemp("qfzz-home")
    previous = os.environ.get("QFZZ_HOME")
    os.environ["QFZZ_HOME"] = str(path)
    try:
        deploy.main(replace=False)
    finally:
        if previous is None:
            os.environ.pop("QFZZ_HOME")
        else:
            os.environ["QFZZ_HOME"] = previous
    return path


@pytest.fixture(scope="module")
def rpc_url():
    import brownie

    return brownie.web3.provider.endpoint_uri


@pytest.fixture(scope="module")
def qfzz(home, rpc_url):
    def run(*args, **env):
        return run_qfzz(*args, home=home, rpc_url=rpc_url, **env)

    return run


@pytest.fixture(scope="module")
def artist(accounts):
    return accounts[ARTIST_INDEX].address


def register(qfzz, path, sender, *extra):
    result = qfzz("track", "register", str(path), "--title", f"Song {path.stem}", "--from", sender, "--json", *extra)
    assert result.code == 0, result.stderr
    return result.json


def test_register_show_and_list(qfzz, audio, artist):
    path = audio(".flac")
    registered = register(qfzz, path, artist, "--artist-name", "Ada", "--isrc", "US-RC1-76-07839",
                          "--metadata", '{"genre": "synthwave"}')  # fmt: skip
    assert registered["artist"] == artist
    assert registered["content_cid"].startswith("Qm") and registered["gas_used"] <= 110_000  # commit + reveal
    assert registered["track_id"] == "0x" + hashlib.sha256(path.read_bytes()).hexdigest()

    shown = qfzz("track", "show", registered["content_cid"], "--json").json
    assert shown["track_id"] == registered["track_id"]
    assert shown["content_status"] == "verified"
    assert shown["metadata"]["title"] == f"Song {path.stem}"
    assert shown["metadata"]["isrc"] == "USRC17607839"
    assert shown["metadata"]["genre"] == "synthwave"
    assert shown["metadata"]["audio"]["format"] == "FLAC"
    assert shown["metadata"]["content"] == registered["content_cid"]
    assert qfzz("track", "show", registered["track_id"], "--json").json == shown

    listed = qfzz("track", "list", "--artist", artist, "--json").json
    assert registered["content_cid"] in [t["content_cid"] for t in listed]
    text = qfzz("track", "show", registered["content_cid"])
    assert "verified" in text.stdout and f"Song {path.stem}" in text.stdout


def test_remix_declares_its_parent(qfzz, audio, artist, accounts):
    original_path, remix_path = audio(), audio()
    original = register(qfzz, original_path, artist)
    remix = register(qfzz, remix_path, accounts[REMIXER_INDEX].address, "--parent", f"{original['content_cid']}:sample",
                     "--cid-version", "1")  # fmt: skip
    assert remix["content_cid"].startswith("bafybei")  # 12 s of audio is several chunks: a dag-pb root, as kubo
    shown = qfzz("track", "show", remix["content_cid"], "--json").json
    assert shown["parents"] == [{"track_id": original["track_id"], "relation": "sample", "title": f"Song {original_path.stem}",
                                 "content_cid": original["content_cid"]}]  # fmt: skip
    parent = qfzz("track", "show", original["track_id"], "--json").json
    assert parent["derivatives"] == [{"track_id": remix["track_id"], "relation": "sample", "title": f"Song {remix_path.stem}",
                                      "artist": accounts[REMIXER_INDEX].address}]  # fmt: skip
    text = qfzz("track", "show", original["track_id"]).stdout
    assert f'"Song {remix_path.stem}"' in text and "derivatives" in text


def test_relayed_registration_for_an_artist_without_ether(qfzz, audio, accounts, tmp_path):
    key = Account.create()
    request = tmp_path / "request.json"
    path = audio()
    signed = qfzz("track", "sign", str(path), "--title", "Gasless", "--out", str(request), "--json",
                  QFZZ_PRIVATE_KEY=key.key.hex())  # fmt: skip
    assert signed.code == 0, signed.stderr
    relayer = accounts[RELAYER_INDEX].address
    relayed = qfzz("track", "relay", str(request), "--from", relayer, "--json")
    assert relayed.code == 0, relayed.stderr
    assert relayed.json["artist"] == key.address and relayed.json["relayer"] == relayer
    assert relayed.json["gas_used"] <= 140_000  # commit + relayed reveal
    assert qfzz("track", "show", signed.json["content_cid"], "--json").json["artist"] == key.address

    assert_one_line_error(qfzz("track", "relay", str(request), "--from", relayer), "already relayed")


def test_tampered_request_is_refused(qfzz, audio, accounts, tmp_path):
    key = Account.create()
    request = tmp_path / "request.json"
    assert qfzz("track", "sign", str(audio()), "--title", "T", "--out", str(request), QFZZ_PRIVATE_KEY=key.key.hex()).code == 0
    other = qfzz("ipfs", "add", str(audio()), "--json").json["cid"]
    tampered = json.loads(request.read_text()) | {"content": other}
    request.write_text(json.dumps(tampered))
    before = qfzz("track", "list", "--json", "--no-verify").json
    relayer = accounts[RELAYER_INDEX].address
    nonce = accounts[RELAYER_INDEX].nonce
    assert_one_line_error(qfzz("track", "relay", str(request), "--from", relayer), "InvalidSignature", "nothing was sent")
    assert qfzz("track", "list", "--json", "--no-verify").json == before
    assert accounts[RELAYER_INDEX].nonce == nonce  # refused before the commitment: no gas spent


def test_bad_input_is_one_line_and_loses_nothing(qfzz, audio, artist, tmp_path):
    register(qfzz, audio(), artist)
    before = qfzz("track", "list", "--json", "--no-verify").json
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("not a song")

    assert_one_line_error(qfzz("track", "register", str(tmp_path / "missing.wav"), "--title", "X"), "no such file")
    assert_one_line_error(qfzz("track", "register", str(not_audio), "--title", "X"), "not an audio file")
    fresh = audio()
    assert_one_line_error(
        qfzz("track", "register", str(fresh), "--title", "X", "--parent", "QmNotACid"), "QmNotACid", "neither"
    )
    assert_one_line_error(
        qfzz("track", "register", str(fresh), "--title", "X", "--parent", "0x" + "ab" * 32), "unknown parent"
    )
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--isrc", "123"), "ISRC")
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", " "), "title")
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--metadata", "{oops"), "JSON")
    assert_one_line_error(
        qfzz("track", "register", str(audio()), "--title", "X", "--from", "0x" + "12" * 20), "does not unlock"
    )
    # the refused attempts above registered nothing: the file still registers once, then never again
    assert qfzz("track", "register", str(fresh), "--title", "X", "--from", artist).code == 0
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "Again"), "already registered")
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--cid-version", "1"), "already registered")
    assert_one_line_error(qfzz("track", "show", "0x" + "cd" * 32), "no track")
    assert_one_line_error(qfzz("track", "show", "QmNotACid"), "neither")
    assert_one_line_error(qfzz("track", "list", "--artist", "nobody"), "not an address")

    after = qfzz("track", "list", "--json", "--no-verify").json
    assert after[: len(before)] == before and len(after) == len(before) + 1


def test_no_chain_and_no_deployment(tmp_path, audio, rpc_url):
    unreachable = run_qfzz("track", "list", home=tmp_path, rpc_url="http://127.0.0.1:9")
    assert_one_line_error(unreachable, "cannot reach the chain", "127.0.0.1:9")
    assert_one_line_error(run_qfzz("track", "list", home=tmp_path), "no chain configured", "qfzz chain up")
    assert_one_line_error(run_qfzz("track", "list", home=tmp_path, rpc_url=rpc_url), "no deployment on chain")
    path = audio()
    assert_one_line_error(
        run_qfzz("track", "register", str(path), "--title", "X", home=tmp_path, rpc_url=rpc_url), "no deployment"
    )
    assert not (tmp_path / "ipfs").exists()  # nothing was added to IPFS before the chain was checked


def test_bad_keys_requests_and_references_are_one_line(qfzz, audio, artist, tmp_path):
    fresh = audio()
    keystore = tmp_path / "keystore.json"
    keystore.write_text("{}")
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--keystore", str(keystore),
                               QFZZ_KEYSTORE_PASSWORD="pw"), "not a keystore")  # fmt: skip
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--keystore", str(tmp_path / "none")),
                          "cannot read keystore")  # fmt: skip
    for bad_key in ("0x1234", "0x" + "ff" * 32):
        assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", QFZZ_PRIVATE_KEY=bad_key),
                              "not a valid private key")  # fmt: skip
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--parent", "0x" + "ab" * 32 + ":bogus"),
                          "relation must be one of")  # fmt: skip
    assert_one_line_error(qfzz("track", "register", str(fresh), "--title", "X", "--metadata", str(tmp_path / "no.json")),
                          "neither a JSON object nor a readable JSON file")  # fmt: skip
    assert_one_line_error(qfzz("track", "sign", str(fresh), "--title", "X", "--out", str(tmp_path / "no" / "r.json"),
                               QFZZ_PRIVATE_KEY=Account.create().key.hex()), "does not exist")  # fmt: skip
    request = tmp_path / "request.json"
    salt = "0x" + "22" * 32
    audio_hash = "0x" + "33" * 32
    from qfzz_chain.chain.track_registry import make_commitment

    commitment = "0x" + make_commitment(bytes.fromhex(audio_hash[2:]), artist, bytes.fromhex(salt[2:])).hex()
    for damage in ({"signature": "0xzz"}, {"artist": "nobody"}, {"deadline": "soon"}, {"parents": [{"x": 1}]},
                   {"salt": "0x" + "44" * 32}, {"audio_hash": "0x12"}):  # fmt: skip
        fields = {"chain_id": 31337, "registry": artist, "artist": artist, "content": "Qm" + "1" * 44,
                  "metadata": "Qm" + "1" * 44, "parents": [], "nonce": 0, "deadline": 1, "signature": "0x" + "11" * 65,
                  "audio_hash": audio_hash, "salt": salt, "commitment": commitment}  # fmt: skip
        request.write_text(json.dumps(fields | damage))
        assert_one_line_error(qfzz("track", "relay", str(request)), "damaged")
    request.write_text("[1, 2]")
    assert_one_line_error(qfzz("track", "relay", str(request)), "not a signed request")
    assert_one_line_error(qfzz("track", "show", "b"), "neither")


def test_a_cid_must_be_the_registered_one_not_just_its_digest(qfzz, audio, artist):
    from multiformats import CID

    registered = register(qfzz, audio(), artist)
    same_digest = CID.decode(registered["content_cid"]).set(version=1, codec="raw", base="base32")
    assert_one_line_error(qfzz("track", "show", str(same_digest)), "no track is registered with content CID", str(same_digest))


def test_keys_are_never_printed(qfzz, audio, tmp_path):
    key = Account.create()
    request = tmp_path / "request.json"
    results = [
        qfzz("track", "sign", str(audio()), "--title", "K", "--out", str(request), "--json", QFZZ_PRIVATE_KEY=key.key.hex()),
        qfzz("track", "register", str(audio()), "--title", "K", QFZZ_PRIVATE_KEY=key.key.hex()),  # no ether: refused
    ]
    for result in results:
        output = result.stdout + result.stderr + request.read_text()
        assert key.key.hex().removeprefix("0x") not in output
    assert results[0].code == 0
    assert_one_line_error(results[1], "no ether to pay gas", key.address, "qfzz track sign")


def test_keystore_and_brownie_account_send(qfzz, audio, accounts, tmp_path):
    owner = Account.create()
    accounts[0].transfer(owner.address, "1 ether")
    keystore = tmp_path / "artist.json"
    keystore.write_text(json.dumps(Account.encrypt(owner.key, "correct horse")))

    by_keystore = qfzz("track", "register", str(audio()), "--title", "K", "--keystore", str(keystore), "--json",
                       QFZZ_KEYSTORE_PASSWORD="correct horse")  # fmt: skip
    assert by_keystore.code == 0, by_keystore.stderr
    assert by_keystore.json["artist"] == owner.address

    wrong = qfzz("track", "register", str(audio()), "--title", "K", "--keystore", str(keystore),
                 QFZZ_KEYSTORE_PASSWORD="wrong")  # fmt: skip
    assert_one_line_error(wrong, "wrong password")

    brownie_home = tmp_path / "home"
    (brownie_home / ".brownie" / "accounts").mkdir(parents=True)
    (brownie_home / ".brownie" / "accounts" / "ada.json").write_text(keystore.read_text())
    by_account = qfzz("track", "register", str(audio()), "--title", "K", "--account", "ada", "--json",
                      QFZZ_KEYSTORE_PASSWORD="correct horse", HOME=str(brownie_home))  # fmt: skip
    assert by_account.code == 0, by_account.stderr
    assert by_account.json["artist"] == owner.address
    assert_one_line_error(qfzz("track", "register", str(audio()), "--title", "K", "--account", "nobody",
                               HOME=str(brownie_home)), "no Brownie account 'nobody'")  # fmt: skip


# ---- commit-reveal as the artist meets it ------------------------------------------------------


@pytest.mark.parametrize("crash_at", ["after-journal", "after-commit"])
def test_a_registration_stopped_between_its_steps_finishes_with_the_same_salt(qfzz, audio, artist, crash_at):
    path = audio()
    crashed = qfzz("track", "register", str(path), "--title", "Crash", "--from", artist, QFZZ_CRASH_AT=crash_at)
    assert crashed.code == 70  # killed without cleanup, as kill -9
    pending = qfzz("track", "pending", "--json").json
    entry, = [p for p in pending if p["audio_hash"] == "0x" + hashlib.sha256(path.read_bytes()).hexdigest()]
    assert entry["state"] == ("prepared" if crash_at == "after-journal" else "committed") and "salt" not in entry

    finished = qfzz("track", "register", str(path), "--title", "Crash", "--from", artist, "--json")
    assert finished.code == 0, finished.stderr
    assert (finished.json["commit_transaction"] is None) == (crash_at == "after-commit")  # committed once
    assert qfzz("track", "show", finished.json["track_id"], "--json").json["artist"] == artist
    assert entry["audio_hash"] not in [p["audio_hash"] for p in qfzz("track", "pending", "--json").json]


def test_resume_finishes_every_pending_registration(qfzz, audio, artist):
    paths = [audio(), audio()]
    for path in paths:
        assert qfzz("track", "register", str(path), "--title", "R", "--from", artist, QFZZ_CRASH_AT="after-commit").code == 70
    resumed = qfzz("track", "resume", "--from", artist, "--json")
    assert resumed.code == 0, resumed.stderr
    ids = {"0x" + hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert ids <= {r["track_id"] for r in resumed.json}
    assert qfzz("track", "pending", "--artist", artist, "--json").json == []


def test_the_same_audio_as_cidv1_is_the_same_track(qfzz, audio, artist, accounts):
    path = audio()
    registered = register(qfzz, path, artist)
    copy = qfzz("track", "register", str(path), "--title", "Copy", "--cid-version", "1",
                "--from", accounts[REMIXER_INDEX].address)  # fmt: skip
    assert_one_line_error(copy, "already registered as track", registered["track_id"], artist)


def test_a_relayer_without_a_deployment_record_relays_from_the_request(qfzz, audio, accounts, tmp_path, rpc_url):
    key = Account.create()
    request = tmp_path / "request.json"
    assert qfzz("track", "sign", str(audio()), "--title", "Elsewhere", "--out", str(request),
                QFZZ_PRIVATE_KEY=key.key.hex()).code == 0  # fmt: skip
    elsewhere = tmp_path / "relayer-home"  # another machine: no record, no store
    relayed = run_qfzz("track", "relay", str(request), "--from", accounts[RELAYER_INDEX].address, "--json",
                       home=elsewhere, rpc_url=rpc_url)  # fmt: skip
    assert relayed.code == 0, relayed.stderr
    assert relayed.json["artist"] == key.address
    assert not (elsewhere / "deployments").exists()
    request.write_text(json.dumps(json.loads(request.read_text()) | {"registry": accounts[0].address}))
    assert_one_line_error(run_qfzz("track", "relay", str(request), home=elsewhere, rpc_url=rpc_url), "no contract at")


def test_transfer_and_accept(qfzz, audio, artist, accounts):
    heir = accounts[REMIXER_INDEX].address
    registered = register(qfzz, audio(), artist)
    track_id = registered["track_id"]
    assert_one_line_error(qfzz("track", "accept", track_id, "--from", heir), "offered to no one")
    assert_one_line_error(qfzz("track", "transfer", track_id, heir, "--from", heir), "is attributed to", artist)
    assert_one_line_error(qfzz("track", "transfer", track_id, "--from", artist), "either the new artist")
    offered = qfzz("track", "transfer", track_id, heir, "--from", artist, "--json")
    assert offered.code == 0, offered.stderr
    assert qfzz("track", "show", track_id, "--json").json["artist"] == artist  # nothing moves before acceptance
    assert qfzz("track", "accept", track_id, "--from", heir, "--json").code == 0
    shown = qfzz("track", "show", track_id, "--json").json
    assert shown["artist"] == heir and shown["attribution_changes"][0]["to_artist"] == heir


def test_a_gasless_artist_invalidates_signatures_through_a_relayer(qfzz, audio, accounts, tmp_path):
    key = Account.create()
    outstanding, invalidation = tmp_path / "outstanding.json", tmp_path / "invalidate.json"
    assert qfzz("track", "sign", str(audio()), "--title", "Void", "--out", str(outstanding),
                QFZZ_PRIVATE_KEY=key.key.hex()).code == 0  # fmt: skip
    signed = qfzz("track", "invalidate-nonce", "--out", str(invalidation), "--json", QFZZ_PRIVATE_KEY=key.key.hex())
    assert signed.code == 0, signed.stderr
    relayer = accounts[RELAYER_INDEX].address
    relayed = qfzz("track", "relay", str(invalidation), "--from", relayer, "--json")
    assert relayed.code == 0, relayed.stderr
    assert relayed.json["invalidated_nonce"] == 0
    assert_one_line_error(qfzz("track", "relay", str(outstanding), "--from", relayer), "nonce moved on")
    assert_one_line_error(qfzz("track", "relay", str(invalidation), "--from", relayer), "nonce moved on")


def test_errors_under_json_are_objects(qfzz, audio, artist):
    result = qfzz("track", "show", "0x" + "cd" * 32, "--json")
    assert result.code == 1 and result.stdout == ""
    error = json.loads(result.stderr)
    assert error["kind"] == "UnknownTrackError" and "no track" in error["error"]
    usage = qfzz("track", "register", "--json")
    assert usage.code == 2 and json.loads(usage.stderr)["kind"] == "MissingParameter"


def test_reserved_metadata_fields_are_refused(qfzz, audio, artist):
    result = qfzz("track", "register", str(audio()), "--title", "X", "--from", artist,
                  "--metadata", '{"title": "Other", "genre": "x", "audio": {}}')  # fmt: skip
    assert_one_line_error(result, "may not set audio, title")


def test_help_matches_behaviour():
    from click.testing import CliRunner

    from qfzz_chain.cli import cli

    sign_help = CliRunner().invoke(cli, ["track", "sign", "--help"]).output
    assert "--from" not in sign_help and "--keystore" in sign_help
    assert "--from" in CliRunner().invoke(cli, ["track", "register", "--help"]).output


def test_a_re_encoded_copy_is_refused_as_a_near_duplicate(qfzz, audio, artist, accounts, tmp_path):
    from qfzz_chain.fingerprint.transforms import apply

    original = audio(".flac")
    registered = register(qfzz, original, artist)
    copy = apply("mp3", original, tmp_path)  # other bytes, the same music
    other = accounts[REMIXER_INDEX].address
    refused = qfzz("track", "register", str(copy), "--title", "Mine now", "--from", other)
    assert_one_line_error(refused, "sounds like track", registered["track_id"], f"Song {original.stem}", "--force")
    assert_one_line_error(qfzz("track", "register", str(copy), "--title", "Mine", "--from", other, "--force"),
                          "--force needs --reason")  # fmt: skip
    forced = qfzz("track", "register", str(copy), "--title", "Live version", "--from", other, "--force",
                  "--reason", "a live take of my own song", "--json")  # fmt: skip
    assert forced.code == 0, forced.stderr
    assert [m["track_id"] for m in forced.json["duplicate_check"]["forced_over"]] == [registered["track_id"]]
    shown = qfzz("track", "show", forced.json["track_id"], "--json").json
    assert shown["metadata"]["duplicate_override"]["reason"] == "a live take of my own song"
    assert [d["track_id"] for d in shown["possible_duplicates"]] == [registered["track_id"]]
    assert shown["metadata"]["fingerprint"]["algorithm"] == "chromaprint-2"
    first = qfzz("track", "show", registered["track_id"])
    assert forced.json["track_id"] in first.stdout and "duplicates" in first.stdout


def test_a_declared_parent_may_sound_alike(qfzz, audio, artist, accounts, tmp_path):
    from qfzz_chain.fingerprint.transforms import apply

    original = audio()
    registered = register(qfzz, original, artist)
    louder = apply("gain_plus_6db", original, tmp_path)
    remix = register(qfzz, louder, accounts[REMIXER_INDEX].address, "--parent", f"{registered['track_id']}:remix")
    assert remix["duplicate_check"]["forced_over"] == []


def test_audio_too_short_to_fingerprint_is_refused(qfzz, artist, tmp_path):
    from qfzz_chain.audio import synthesize_melody

    short = tmp_path / "short.wav"
    synthesize_melody(short, [440.0, 550.0], note_seconds=0.5)
    assert_one_line_error(qfzz("track", "register", str(short), "--title", "Short", "--from", artist), "needs at least 7.6 s")


def test_an_album_registers_every_track_and_is_published(qfzz, audio, artist, tmp_path):
    """A folder is an album: kubo's `ipfs add -r` CID in every track's metadata, and with a kubo
    RPC configured (here another store's `qfzz ipfs serve`) everything is pinned there too."""
    import shutil
    import subprocess
    import sys

    from tests.cli.conftest import free_port

    album = tmp_path / "album"
    album.mkdir()
    for name in ("01 Intro.wav", "02 Night.flac"):
        shutil.copy(audio(Path(name).suffix), album / name)
    expected = qfzz("ipfs", "add", "-r", "--only-hash", str(album), "--json").json
    remote_home, port = tmp_path / "remote", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QFZZ_")} | {"QFZZ_HOME": str(remote_home)}
    server = subprocess.Popen([sys.executable, "-m", "qfzz_chain", "ipfs", "serve", "--port", str(port), "--json"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        server.stdout.readline()  # listening
        done = qfzz("track", "register", str(album), "--title", "Night Album", "--from", artist, "--json",
                    QFZZ_IPFS_PUBLISH_API=f"http://127.0.0.1:{port}")  # fmt: skip
        assert done.code == 0, done.stderr
        album_cid = done.json["album"]
        assert album_cid == (expected[-1]["cid"] if isinstance(expected, list) else expected["cid"])
        assert [t["title"] for t in done.json["tracks"]] == ["01 Intro", "02 Night"]
        assert all(line.startswith("published ") for line in done.json["published"])
        for number, view in enumerate(done.json["tracks"], start=1):
            shown = qfzz("track", "show", view["track_id"], "--json").json
            assert shown["metadata"]["album"] == {"cid": album_cid, "title": "Night Album", "track": number,
                                                  "path": ["01 Intro.wav", "02 Night.flac"][number - 1]}  # fmt: skip
        remote = run_qfzz("ipfs", "ls", album_cid, "--json", home=remote_home)
        assert remote.code == 0 and sorted(e["name"] for e in remote.json["entries"]) == ["01 Intro.wav", "02 Night.flac"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    down = qfzz("track", "register", str(audio()), "--title", "Unpublished", "--from", artist,
                QFZZ_IPFS_PUBLISH_API="http://127.0.0.1:9")  # fmt: skip
    assert down.code == 0 and down.stderr.strip().startswith("not published: ")
