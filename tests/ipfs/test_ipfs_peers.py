"""Two homes, two servers on loopback: content added in one is fetched, verified and played back
byte-exact from the other; a peer serving a corrupted block is detected and skipped."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, repo_snapshot, running_server

from qfzz_chain.ipfs import BlockNotFoundError, open_store
from qfzz_chain.ipfs.car import read_header, read_sections
from qfzz_chain.ipfs.cid import block_matches, cid_bytes, cid_text, split_cid
from qfzz_chain.ipfs.dagpb import decode_node
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.peers import PeerSet


def _album(folder: Path) -> dict[str, bytes]:
    tracks = {"01.wav": pseudo_random_bytes(5 * CHUNK + 3, seed=11), "02.wav": pseudo_random_bytes(CHUNK // 2, seed=12)}
    folder.mkdir()
    for name, data in tracks.items():
        (folder / name).write_bytes(data)
    return tracks


def _qfzz(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("QFZZ_")}
    environment.update(QFZZ_HOME=str(home), **env)
    return subprocess.run([sys.executable, "-m", "qfzz_chain", "ipfs", *args], env=environment,
                          capture_output=True, timeout=120)  # fmt: skip


class _LyingGateway(http.server.BaseHTTPRequestHandler):
    """A peer that answers the trustless formats from a real store but alters one block, in
    ``format=raw`` answers and inside CARs (our own server never serves a block that fails its
    hash, so a liar has to be built)."""

    store: EmbeddedStore
    victim: bytes = b""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        cid = cid_bytes(url.path[len("/ipfs/") :])
        if "format=car" in url.query:
            out = io.BytesIO()
            self.store.export_car(cid_text(cid), out)
            body = out.getvalue().replace(self.store.get_block(cid_text(self.victim)), self._altered(), 1)
        else:
            body = self._altered() if cid == self.victim else self.store.get_block(cid_text(cid))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _altered(self) -> bytes:
        good = self.store.get_block(cid_text(self.victim))
        return bytes([good[0] ^ 0xFF]) + good[1:]  # same length, wrong bytes


@contextlib.contextmanager
def lying_gateway(store: EmbeddedStore, victim: bytes):
    handler = type("Liar", (_LyingGateway,), {"store": store, "victim": victim})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_album_added_in_one_home_plays_back_byte_exact_from_another(tmp_path):
    artist = EmbeddedStore(tmp_path / "artist" / "ipfs")
    tracks = _album(tmp_path / "album")
    album = artist.add_directory(tmp_path / "album")
    honest = EmbeddedStore(tmp_path / "mirror" / "ipfs")
    honest.import_car(_car(artist, album.cid))
    victim = decode_node(artist.get_block(album.files()["01.wav"])).links[2].cid

    with lying_gateway(artist, victim) as bad_url, running_server(honest) as good:
        bad = type("Peer", (), {"url": bad_url})
        listener = tmp_path / "listener"
        # The CLI, as a listener runs it: peers from the environment, the liar asked first.
        peers = f"{bad.url},{good.url}"
        played = _qfzz(listener, "cat", f"{album.cid}/01.wav", QFZZ_IPFS_PEERS=peers)
        assert played.returncode == 0, played.stderr
        assert played.stdout == tracks["01.wav"]
        # Every block the listener kept hashes to its name; nothing is pinned by a read.
        listener_store = EmbeddedStore(listener / "ipfs")
        for path in (listener / "ipfs" / "blocks").rglob("*.data"):
            key = path.name[: -len(".data")]
            assert block_matches(_multihash(key), path.read_bytes())
        assert listener_store.pin_ls() == []
        # `open_store` (what `track show` calls) honours QFZZ_IPFS_PEERS with no change to callers.
        os.environ["QFZZ_IPFS_PEERS"] = peers
        os.environ["QFZZ_HOME"] = str(tmp_path / "second-listener")
        try:
            store = open_store()
            assert store.peers.urls == (bad.url, good.url)
            assert store.read_bytes(f"{album.cid}/02.wav") == tracks["02.wav"]
            store.verify(album.cid)  # fetches the rest: the whole album, verified
            assert bad.url in store.peers.bad and "does not match" in store.peers.bad[bad.url]
            store.close()
        finally:
            del os.environ["QFZZ_IPFS_PEERS"]
            del os.environ["QFZZ_HOME"]
        # pin add fetches the whole DAG (one CAR request per peer: the liar's CAR stops at the
        # altered block, the rest comes from the next peer), then pins it.
        pinner = EmbeddedStore(tmp_path / "pinner", peers=(bad.url, good.url))
        assert pinner.pin_add(album.cid) == [album.cid]
        assert bad.url in pinner.peers.bad
        out = tmp_path / "copy"
        EmbeddedStore(tmp_path / "pinner").get(album.cid, out)  # no peers needed any more
        assert {p.name: p.read_bytes() for p in out.iterdir()} == tracks
        # get through the CLI with --peer
        got = _qfzz(tmp_path / "third", "--peer", good.url, "get", album.cid, "-o", str(tmp_path / "cli-copy"))
        assert got.returncode == 0, got.stderr
        assert (tmp_path / "cli-copy" / "02.wav").read_bytes() == tracks["02.wav"]


def _multihash(key: str) -> bytes:
    import base64

    return base64.b32decode(key + "=" * (-len(key) % 8))


def _car(store: EmbeddedStore, cid: str) -> io.BytesIO:
    out = io.BytesIO()
    store.export_car(cid, out)
    out.seek(0)
    return out


def test_no_peer_having_it_is_one_error_naming_each_peer(tmp_path):
    empty = EmbeddedStore(tmp_path / "empty")
    with running_server(empty) as server:
        store = EmbeddedStore(tmp_path / "repo", peers=(server.url, "http://127.0.0.1:9"))
        with pytest.raises(BlockNotFoundError) as caught:
            store.read_bytes("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        message = str(caught.value)
        assert "nor on any peer" in message and "HTTP 404" in message and "127.0.0.1:9: unreachable" in message
        assert repo_snapshot(tmp_path / "repo") == {}
        result = _qfzz(tmp_path / "home", "--peer", server.url, "cat", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        lines = result.stderr.decode().strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: ")


def test_the_gateway_answers_the_trustless_formats(tmp_path):
    store = EmbeddedStore(tmp_path / "repo")
    tracks = _album(tmp_path / "album")
    album = store.add_directory(tmp_path / "album", cid_version=1)
    with running_server(store) as server:
        host, port = server.server_address

        def get(path: str, headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
            connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()

        response, body = get(f"/ipfs/{album.cid}?format=raw")
        assert response.getheader("Content-Type") == "application/vnd.ipld.raw"
        assert block_matches(split_cid(cid_bytes(album.cid))[1], body)
        response, body = get(f"/ipfs/{album.cid}", {"Accept": "application/vnd.ipld.raw"})
        assert response.status == 200 and block_matches(split_cid(cid_bytes(album.cid))[1], body)
        response, body = get(f"/ipfs/{album.cid}/01.wav?format=car")
        assert response.getheader("Content-Type").startswith("application/vnd.ipld.car")
        stream = io.BytesIO(body)
        assert read_header(stream) == [cid_bytes(album.cid)]
        sections = list(read_sections(stream))
        assert all(block_matches(split_cid(s.cid)[1], s.data) for s in sections)
        assert len(sections) == 1 + 1 + 6  # the directory, the file's root, its 5 + 1 leaves
        response, body = get(f"/ipfs/{album.cid}/01.wav?format=car&dag-scope=block")
        assert len(list(_skip_header(body))) == 2  # the path's directory and the file's root only
        response, body = get(f"/ipfs/{album.cid}/02.wav")
        assert (response.status, body) == (200, tracks["02.wav"])
        response, body = get(f"/ipfs/{album.cid}/")
        assert response.status == 200 and b"01.wav" in body and response.getheader("Content-Type").startswith("text/html")
        response, _body = get(f"/ipfs/{album.cid}")
        assert response.status == 301 and response.getheader("Location").endswith("/")
        response, _body = get(f"/ipfs/{album.cid}/missing.wav")
        assert response.status == 404
        response, _body = get(f"/ipfs/{album.cid}?format=tar")
        assert response.status == 400


def _skip_header(body: bytes):
    stream = io.BytesIO(body)
    read_header(stream)
    return read_sections(stream)


def test_peer_urls_are_checked():
    from qfzz_chain.ipfs import IpfsError
    from qfzz_chain.ipfs.peers import parse_peers

    assert parse_peers("http://a:1, https://b/gw/ c:8080") == ("http://a:1", "https://b/gw", "http://c:8080")
    with pytest.raises(IpfsError, match="not an http"):
        parse_peers("ftp://x")
