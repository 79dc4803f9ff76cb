"""`qfzz track` end to end: Brownie's anvil, the deploy script's record, the real store."""

import json

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
    assert registered["content_cid"].startswith("Qm") and registered["gas_used"] <= 60_000

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
    original = register(qfzz, audio(), artist)
    remix = register(qfzz, audio(), accounts[REMIXER_INDEX].address, "--parent", f"{original['content_cid']}:sample",
                     "--cid-version", "1")  # fmt: skip
    assert remix["content_cid"].startswith("bafk")  # one chunk: a raw leaf, as kubo
    shown = qfzz("track", "show", remix["content_cid"], "--json").json
    assert shown["parents"] == [{"track_id": original["track_id"], "relation": "sample"}]


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
    assert relayed.json["gas_used"] <= 85_000
    assert qfzz("track", "show", signed.json["content_cid"], "--json").json["artist"] == key.address

    assert_one_line_error(qfzz("track", "relay", str(request), "--from", relayer), "already registered")


def test_tampered_request_is_refused(qfzz, audio, accounts, tmp_path):
    key = Account.create()
    request = tmp_path / "request.json"
    assert qfzz("track", "sign", str(audio()), "--title", "T", "--out", str(request), QFZZ_PRIVATE_KEY=key.key.hex()).code == 0
    other = qfzz("ipfs", "add", str(audio()), "--json").json["cid"]
    tampered = json.loads(request.read_text()) | {"content": other}
    request.write_text(json.dumps(tampered))
    before = qfzz("track", "list", "--json", "--no-verify").json
    assert_one_line_error(qfzz("track", "relay", str(request), "--from", accounts[RELAYER_INDEX].address), "InvalidSignature")
    assert qfzz("track", "list", "--json", "--no-verify").json == before


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
    for damage in ({"signature": "0xzz"}, {"artist": "nobody"}, {"deadline": "soon"}, {"parents": [{"x": 1}]}):
        fields = {"chain_id": 31337, "registry": artist, "artist": artist, "content": "Qm" + "1" * 44,
                  "metadata": "Qm" + "1" * 44, "parents": [], "nonce": 0, "deadline": 1, "signature": "0x" + "11" * 65}
        request.write_text(json.dumps(fields | damage))
        assert_one_line_error(qfzz("track", "relay", str(request)), "damaged")
    request.write_text("[1, 2]")
    assert_one_line_error(qfzz("track", "relay", str(request)), "not a signed registration")
    assert_one_line_error(qfzz("track", "show", "b"), "neither")


def test_a_cid_must_be_the_registered_one_not_just_its_digest(qfzz, audio, artist):
    from multiformats import CID

    registered = register(qfzz, audio(), artist)
    same_digest = CID.decode(registered["content_cid"]).set(version=1, codec="raw", base="base32")
    assert_one_line_error(qfzz("track", "show", str(same_digest)), "is not a registered CID", registered["content_cid"])


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
    assert results[0].code == 0 and results[1].code == 1


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
