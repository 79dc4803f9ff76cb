"""The served kubo RPC subset and gateway, and the kubo backend talking to it over real HTTP."""

from __future__ import annotations

import http.client
import http.server
import io
import json
import socket
import threading

import pytest
import requests
from ipfs_test_support import CHUNK, pseudo_random_bytes

from qfzz_chain.ipfs import BlockCorruptedError, BlockNotFoundError, IpfsError, NodeUnavailableError
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.kubo import KuboStore, to_multiaddr
from qfzz_chain.ipfs.server import parse_byte_range

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


@pytest.fixture
def kubo(served_store):
    client = KuboStore(served_store[1].url)
    yield client
    client.close()


def _post(server, command: str, **params) -> requests.Response:
    return requests.post(f"{server.url}/api/v0/{command}", params=params, timeout=30)


def _get(
    server, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> http.client.HTTPResponse:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request(method, path, headers=headers or {})
    return connection.getresponse()


def test_kubo_backend_round_trips_through_the_served_rpc(kubo, served_store, tmp_path):
    backing, _server = served_store
    content = pseudo_random_bytes(3 * CHUNK + 11, seed=9)
    path = tmp_path / "track.bin"
    path.write_bytes(content)
    progress: list[int] = []
    for cid_version in (0, 1):
        added = kubo.add_file(path, cid_version=cid_version, progress=lambda done, _t: progress.append(done))
        assert added.cid == backing.add_file(path, cid_version=cid_version, only_hash=True).cid
        assert added.size == len(content)
        assert kubo.read_bytes(added.cid) == content
        assert b"".join(kubo.cat(added.cid, offset=CHUNK - 5, length=10)) == content[CHUNK - 5 : CHUNK + 5]
        kubo.verify(added.cid)
    assert progress[-1] == len(content)
    assert kubo.add_bytes(b"hello world\n").cid == HELLO_V0
    empty_v1 = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert kubo.add_bytes(b"", cid_version=1).cid == empty_v1
    assert kubo.get_block(HELLO_V0) == backing.get_block(HELLO_V0)


def test_kubo_backend_export_import_into_an_empty_node(kubo, served_store, tmp_path):
    content = pseudo_random_bytes(2 * CHUNK + 1, seed=4)
    added = kubo.add_bytes(content, cid_version=1)
    car = io.BytesIO()
    kubo.export_car(added.cid, car)
    # Import into a second, empty store through the first one's exported bytes.
    kubo.pin_rm(added.cid)
    kubo.gc()
    with pytest.raises(IpfsError, match="not found"):
        kubo.read_bytes(added.cid)
    car.seek(0)
    result = kubo.import_car(car)
    assert [root.cid for root in result.roots] == [added.cid]
    assert result.blocks == 4
    assert kubo.read_bytes(added.cid) == content
    assert added.cid in kubo.pin_ls()
    fresh = EmbeddedStore(tmp_path / "fresh")
    car.seek(0)
    fresh.import_car(car)
    assert fresh.read_bytes(added.cid) == content


def test_kubo_backend_pins_and_gc(kubo):
    kept = kubo.add_bytes(b"kept").cid
    dropped = kubo.add_bytes(b"dropped").cid
    assert kubo.pin_rm(dropped) == [dropped]
    assert kubo.pin_ls() == [kept]
    removed = kubo.gc()
    assert len(removed) == 1
    assert kubo.pin_add(kept) == [kept]
    with pytest.raises(IpfsError, match="not found"):
        kubo.pin_add(dropped)


def test_kubo_backend_names_missing_and_corrupt_blocks(kubo, served_store):
    backing, _server = served_store
    added = kubo.add_bytes(pseudo_random_bytes(2 * CHUNK + 1), cid_version=1)
    leaf_path = next(p for p in (backing.repo / "blocks").rglob("*.data") if p.stat().st_size == 1)
    leaf_path.write_bytes(b"X")
    # The node finds the bad block mid-stream and ends the stream with an X-Stream-Error
    # trailer, as kubo does; clients drop trailers, so the kubo backend checks what arrived:
    # the CAR against its links, the cat against kubo's X-Content-Length.
    with pytest.raises(BlockCorruptedError):
        backing.verify(added.cid)
    with pytest.raises(BlockNotFoundError):
        kubo.verify(added.cid)
    with pytest.raises(IpfsError, match="broke off the transfer while trying to cat"):
        kubo.read_bytes(added.cid)
    leaf_path.unlink()
    with pytest.raises(BlockNotFoundError):
        backing.verify(added.cid)
    with pytest.raises(BlockNotFoundError):
        kubo.verify(added.cid)


def test_unreachable_node_is_one_clear_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = KuboStore(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(NodeUnavailableError, match="cannot reach the IPFS node"):
        store.pin_ls()
    with pytest.raises(NodeUnavailableError):
        store.add_bytes(b"x")


def test_api_address_forms():
    assert to_multiaddr("http://127.0.0.1:5001") == "/ip4/127.0.0.1/tcp/5001/http"
    assert to_multiaddr("localhost:5001") == "/dns/localhost/tcp/5001/http"
    assert to_multiaddr("https://ipfs.example:443") == "/dns/ipfs.example/tcp/443/https"
    assert to_multiaddr("/ip4/10.0.0.1/tcp/5001/http") == "/ip4/10.0.0.1/tcp/5001/http"
    with pytest.raises(NodeUnavailableError):
        to_multiaddr("ftp://host")


def test_rpc_json_shapes_and_errors(served_store):
    backing, server = served_store
    backing.add_bytes(b"hello world\n")
    version = _post(server, "version").json()
    assert set(version) >= {"Version", "Commit", "Repo", "System", "Golang"}
    assert _post(server, "pin/ls").json() == {"Keys": {HELLO_V0: {"Type": "recursive"}}}
    one = _post(server, "pin/ls", arg=HELLO_V0, type="recursive").json()
    assert one["Keys"] == {HELLO_V0: {"Type": "recursive"}}
    bad = _post(server, "cat", arg="not-a-cid")  # a command error: kubo answers 500, Code 0
    assert bad.status_code == 500
    assert bad.json()["Type"] == "error" and bad.json()["Code"] == 0 and "not-a-cid" in bad.json()["Message"]
    missing = _post(server, "block/get", arg="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
    assert missing.status_code == 500
    assert missing.json()["Code"] == 0 and "not found" in missing.json()["Message"]
    required = _post(server, "cat")  # kubo's request parser answers in plain text
    assert (required.status_code, required.text) == (400, 'argument "ipfs-path" is required\n')
    assert required.headers["Content-Type"].startswith("text/plain")
    assert _post(server, "no/such/command").status_code == 404
    assert requests.get(f"{server.url}/api/v0/version", timeout=10).status_code == 405


def test_rpc_add_with_plain_multipart_and_kubo_options(served_store):
    _backing, server = served_store
    files = {"file": ("hello.txt", b"hello world\n", "application/octet-stream")}
    response = requests.post(f"{server.url}/api/v0/add", params={"cid-version": "1"}, files=files, timeout=30)
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines == [{
        "Name": "hello.txt",
        "Hash": "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
        "Size": "12",
    }]
    refused = requests.post(f"{server.url}/api/v0/add", params={"chunker": "rabin"}, files=files, timeout=30)
    assert refused.status_code == 500 and "chunker" in refused.json()["Message"]
    dag = requests.post(f"{server.url}/api/v0/dag/import", params={"stats": "true"},
                        files={"file": ("x.car", b"garbage", "application/octet-stream")}, timeout=30)
    assert dag.status_code == 500 and "CAR" in dag.json()["Message"]


def test_gateway_serves_whole_files_and_ranges(served_store):
    backing, server = served_store
    content = pseudo_random_bytes(2 * CHUNK + 500, seed=12)
    cid = backing.add_bytes(content, cid_version=1).cid

    whole = _get(server, f"/ipfs/{cid}?filename=track.mp3")
    assert whole.status == 200
    assert whole.read() == content
    assert whole.getheader("Content-Type") == "audio/mpeg"
    assert whole.getheader("Accept-Ranges") == "bytes"
    assert whole.getheader("Etag") == f'"{cid}"'

    for header, (start, end) in {
        "bytes=0-99": (0, 100),
        f"bytes={CHUNK - 10}-{CHUNK + 9}": (CHUNK - 10, CHUNK + 10),
        "bytes=-300": (len(content) - 300, len(content)),
        f"bytes={len(content) - 5}-": (len(content) - 5, len(content)),
        f"bytes=10-{10 * len(content)}": (10, len(content)),
    }.items():
        partial = _get(server, f"/ipfs/{cid}", {"Range": header})
        assert partial.status == 206, header
        assert partial.getheader("Content-Range") == f"bytes {start}-{end - 1}/{len(content)}"
        assert partial.read() == content[start:end]

    unsatisfiable = _get(server, f"/ipfs/{cid}", {"Range": f"bytes={len(content)}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.getheader("Content-Range") == f"bytes */{len(content)}"
    head = _get(server, f"/ipfs/{cid}", method="HEAD")
    assert head.status == 200 and head.getheader("Content-Length") == str(len(content))
    assert _get(server, f"/ipfs/{cid}", {"If-None-Match": f'"{cid}"'}).status == 304
    assert _get(server, "/ipfs/not-a-cid").status == 400
    assert _get(server, f"/ipfs/{HELLO_V0}").status == 404


def test_byte_range_parsing():
    assert parse_byte_range(None, 100) is None
    assert parse_byte_range("bytes=0-0", 100) == (0, 1)
    assert parse_byte_range("bytes=0-1,5-6", 100) is None  # multiple ranges: whole file
    assert parse_byte_range("items=0-1", 100) is None
    with pytest.raises(ValueError):
        parse_byte_range("bytes=100-", 100)
    with pytest.raises(ValueError):
        parse_byte_range("bytes=-0", 100)


def test_chunked_upload_from_a_stream(served_store):
    """ipfshttpclient streams uploads with chunked transfer encoding; so do other clients."""
    backing, server = served_store
    boundary = "qfzzboundary"
    content = pseudo_random_bytes(CHUNK + 3, seed=5)

    def body():
        yield f"--{boundary}\r\n".encode()
        yield b'Content-Disposition: form-data; name="file"; filename="a%20b.bin"\r\n'
        yield b"Content-Type: application/octet-stream\r\n\r\n"
        for start in range(0, len(content), 10_000):
            yield content[start : start + 10_000]
        yield f"\r\n--{boundary}--\r\n".encode()

    response = requests.post(
        f"{server.url}/api/v0/add",
        data=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    added = response.json()
    assert added["Name"] == "a b.bin"
    assert backing.read_bytes(added["Hash"]) == content
    with pytest.raises(BlockNotFoundError):
        backing.read_bytes(HELLO_V0)


class _MisbehavingNode(http.server.BaseHTTPRequestHandler):
    """A node that answers nonsense to pin/ls and ends a DAG export early but cleanly, as kubo
    does (the error goes to an HTTP trailer that clients ignore) when a block goes missing."""

    car = b""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = b"<html>surprise</html>" if "pin/ls" in self.path else self.car
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def misbehaving_node(store):
    content = pseudo_random_bytes(2 * CHUNK + 1, seed=8)
    cid = store.add_bytes(content, cid_version=1).cid
    car = io.BytesIO()
    store.export_car(cid, car)
    # Drop the last section: the 1-byte leaf (1-byte length, 36-byte CIDv1, 1 data byte).
    _MisbehavingNode.car = car.getvalue()[:-38]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MisbehavingNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", cid
    finally:
        server.shutdown()
        server.server_close()


def test_a_misbehaving_node_is_one_clear_error(misbehaving_node):
    url, cid = misbehaving_node
    node = KuboStore(url)
    with pytest.raises(NodeUnavailableError, match="answered unexpectedly"):
        node.pin_ls()
    with pytest.raises(BlockNotFoundError):
        node.verify(cid)


def test_a_cut_off_upload_is_refused_and_pins_nothing(served_store):
    backing, server = served_store
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n' + b"x" * 1000
    response = requests.post(
        f"{server.url}/api/v0/add",
        data=body,  # no closing boundary
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "multipart" in response.text
    assert backing.pin_ls() == []
    assert not (backing.repo / "blocks").exists() or not list((backing.repo / "blocks").rglob("*.data"))
