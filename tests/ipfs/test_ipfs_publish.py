"""Publishing: the Pinning Service API (client against `qfzz ipfs serve`'s server side) and the
kubo RPC route (dag/import), each checked on the receiving node; failures are one result line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, running_server

from qfzz_chain.ipfs import PublishError, publish
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.publishing import PublishTarget, target_from_env
from qfzz_chain.ipfs.server import origin_url

TOKEN = "secret-token"


def test_a_pinning_service_fetches_from_the_origin_verifies_and_pins(tmp_path):
    artist = EmbeddedStore(tmp_path / "artist")
    content = pseudo_random_bytes(3 * CHUNK + 1, seed=5)
    cid = artist.add_bytes(content).cid
    service_store = EmbeddedStore(tmp_path / "service")
    with running_server(artist) as origin, running_server(service_store, pin_token=TOKEN) as service:
        host, port = origin.server_address
        target = PublishTarget("pinning-service", service.url, TOKEN, (f"/ip4/{host}/tcp/{port}/http",))
        result = publish(artist, cid, target=target, name="track 1", wait=30)
        assert result.published and result.status == "pinned", result
        assert service_store.pin_ls() == [cid]
        assert service_store.read_bytes(cid) == content
        # The standard listing and status calls answer in the spec's shapes.
        listing = _psa(service.url, "GET", f"/pins?cid={cid}")
        assert listing["count"] == 1 and listing["results"][0]["pin"]["name"] == "track 1"
        status = _psa(service.url, "GET", f"/pins/{result.requestid}")
        assert status["status"] == "pinned" and status["delegates"]
        # A second artist content that the origin does not have fails with a reason.
        missing = publish(artist, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", target=target, wait=30)
        assert not missing.published and missing.status == "failed" and "not found" in missing.detail
        # A wrong token is refused, on one line.
        refused = publish(artist, cid, target=PublishTarget("pinning-service", service.url, "wrong"), wait=5)
        assert not refused.published and "UNAUTHORIZED" in refused.detail
        assert refused.line().startswith("not published: ")
        # DELETE removes the pin.
        request = urllib.request.Request(f"{service.url}/pins/{result.requestid}", method="DELETE",
                                         headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        assert urllib.request.urlopen(request, timeout=10).status == 202
        assert service_store.pin_ls() == []


def _psa(url: str, method: str, path: str) -> dict:
    request = urllib.request.Request(url + path, method=method, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_publishing_to_a_kubo_rpc_sends_the_dag_as_a_car(tmp_path):
    artist = EmbeddedStore(tmp_path / "artist")
    album = tmp_path / "album"
    album.mkdir()
    (album / "a.wav").write_bytes(pseudo_random_bytes(2 * CHUNK, seed=1))
    (album / "b.wav").write_bytes(b"b")
    added = artist.add_directory(album)
    node = EmbeddedStore(tmp_path / "node")
    with running_server(node) as kubo_like:
        result = publish(artist, added.cid, target=PublishTarget("kubo", kubo_like.url))
        assert result.published, result
        assert node.pin_ls() == [added.cid]
        assert node.read_bytes(f"{added.cid}/a.wav") == (album / "a.wav").read_bytes()
    down = publish(artist, added.cid, target=PublishTarget("kubo", "http://127.0.0.1:9"))
    assert not down.published and down.status == "unreachable"


def test_targets_come_from_the_environment():
    assert target_from_env({}) is None
    assert target_from_env({"QFZZ_IPFS_PUBLISH_API": "/ip4/127.0.0.1/tcp/5001/http"}) == PublishTarget(
        "kubo", "http://127.0.0.1:5001"
    )
    psa = target_from_env({"QFZZ_IPFS_PIN_SERVICE": "https://pins.example/psa/", "QFZZ_IPFS_PIN_TOKEN": "t",
                           "QFZZ_IPFS_PIN_ORIGINS": "http://a:8080, /ip4/1.2.3.4/tcp/80/http"})  # fmt: skip
    assert psa == PublishTarget("pinning-service", "https://pins.example/psa", "t",
                                ("http://a:8080", "/ip4/1.2.3.4/tcp/80/http"))  # fmt: skip
    with pytest.raises(PublishError, match="QFZZ_IPFS_PIN_TOKEN"):
        target_from_env({"QFZZ_IPFS_PIN_SERVICE": "https://pins.example"})
    with pytest.raises(PublishError, match="not both"):
        target_from_env({"QFZZ_IPFS_PIN_SERVICE": "https://p", "QFZZ_IPFS_PUBLISH_API": "http://k:5001"})
    assert origin_url("/dns4/gw.example/tcp/443/https") == "https://gw.example:443"
    assert origin_url("/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW") is None


def test_cli_publish_reports_one_line_and_its_exit_status(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QFZZ_")}
    env["QFZZ_HOME"] = str(home)
    song = tmp_path / "song.wav"
    song.write_bytes(b"la la la")

    def qfzz(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qfzz_chain", "ipfs", *args], env={**env, **extra},
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    cid = qfzz("add", "-q", str(song)).stdout.strip()
    unconfigured = qfzz("publish", cid)
    assert unconfigured.returncode == 1 and unconfigured.stdout.startswith("not published")
    node = EmbeddedStore(tmp_path / "node")
    with running_server(node) as kubo_like:
        done = qfzz("publish", "--json", cid, QFZZ_IPFS_PUBLISH_API=kubo_like.url)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["published"] is True
    assert node.pin_ls() == [cid]
