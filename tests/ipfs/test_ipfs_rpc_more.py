"""The kubo RPC endpoints clients call first, through ipfshttpclient (the client kubo users run),
kubo's error formats and X-Stream-Error trailers on the wire, and the server's hardening."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time
import warnings

import ipfshttpclient
import pytest
import requests
from ipfs_test_support import CHUNK, pseudo_random_bytes, running_server

from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import ServerLimits

warnings.filterwarnings("ignore", message="The 'strict' parameter", category=FutureWarning)


@pytest.fixture
def node(tmp_path):
    store = EmbeddedStore(tmp_path / "node")
    with running_server(store) as server:
        host, port = server.server_address
        client = ipfshttpclient.Client(f"/ip4/{host}/tcp/{port}/http", timeout=30)
        yield store, server, client
        client.close()


def test_ipfshttpclient_id_ls_get_block_dag_object_repo(node, tmp_path):
    store, server, client = node
    album = tmp_path / "album"
    album.mkdir()
    (album / "a.wav").write_bytes(pseudo_random_bytes(CHUNK + 9, seed=1))
    (album / "b.txt").write_bytes(b"bee\n")
    added = store.add_directory(album)

    identity = client.id()
    assert identity["ID"].startswith("12D3KooW") and identity["AgentVersion"].startswith("kubo/")
    assert client.id()["ID"] == identity["ID"]  # stable

    links = client.ls(added.cid)["Objects"][0]["Links"]
    assert [(l["Name"], l["Type"], l["Size"]) for l in links] == [("a.wav", 2, CHUNK + 9), ("b.txt", 2, 4)]

    client.get(added.cid, target=str(tmp_path / "got"))
    assert (tmp_path / "got" / added.cid / "a.wav").read_bytes() == (album / "a.wav").read_bytes()
    client.get(f"{added.cid}/b.txt", target=str(tmp_path / "got-file"))
    assert (tmp_path / "got-file" / "b.txt").read_bytes() == b"bee\n"

    stat = client.block.stat(added.cid)
    assert stat["Key"] == added.cid and stat["Size"] == len(store.get_block(added.cid))
    put = client.block.put(io.BytesIO(b"raw block"))
    assert put["Key"].startswith("bafkrei") and put["Size"] == 9
    assert client.block.get(put["Key"]) == b"raw block"

    dag = client.dag.get(added.cid)
    assert [link["Name"] for link in dag["Links"]] == ["a.wav", "b.txt"]
    assert dag["Links"][0]["Hash"]["/"] == added.files()["a.wav"]
    assert "bytes" in dag["Data"]["/"]

    obj = client.object.stat(added.cid)
    assert obj["NumLinks"] == 2 and obj["CumulativeSize"] == added.dag_size
    assert obj["BlockSize"] == obj["LinksSize"] + obj["DataSize"]

    repo = client.repo.stat()
    assert repo["NumObjects"] >= 4 and repo["RepoSize"] > CHUNK

    uploaded = client.add(str(album), recursive=True)
    assert uploaded[-1]["Hash"] == added.cid  # a folder uploaded the way kubo users do gets kubo's CID
    assert client.add_bytes(b"hello world\n") == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    v1 = client.add(io.BytesIO(b"hello world\n"), cid_version=1)  # the client sends raw-leaves=false
    assert v1["Hash"].startswith("bafybei")


def _raw_request(server, request: bytes, *, read_for: float = 10) -> bytes:
    host, port = server.server_address
    with socket.create_connection((host, port), timeout=read_for) as connection:
        connection.sendall(request)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
                if b"0\r\n" in b"".join(chunks[-2:]) and b"\r\n\r\n" in b"".join(chunks)[-4:]:
                    break
        except socket.timeout:
            pass
    return b"".join(chunks)


def test_a_stream_that_fails_midway_ends_with_an_x_stream_error_trailer(node):
    store, server, _client = node
    cid = store.add_bytes(pseudo_random_bytes(3 * CHUNK, seed=2), cid_version=1).cid
    leaf = next(p for p in sorted((store.repo / "blocks").rglob("*.data")) if p.stat().st_size == CHUNK)
    leaf.write_bytes(b"x" * CHUNK)
    wire = _raw_request(server, f"POST /api/v0/cat?arg={cid} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n".encode())  # fmt: skip
    head, _, body = wire.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Trailer: X-Stream-Error" in head
    assert b"X-Stream-Output: 1" in head and b"Transfer-Encoding: chunked" in head
    assert b"\r\n0\r\nX-Stream-Error: block " in body and b"is corrupted" in body
    assert body.endswith(b"\r\n\r\n")


def test_cat_offset_and_length_apply_to_the_whole_stream_of_several_cids(node):
    store, server, _client = node
    first, second = b"0123456789", b"abcdefghij"
    a, b = store.add_bytes(first).cid, store.add_bytes(second).cid
    both = first + second

    def cat(**params) -> requests.Response:
        return requests.post(f"{server.url}/api/v0/cat", params=[("arg", a), ("arg", b), *params.items()], timeout=30)

    for offset, length in [(0, None), (5, None), (10, None), (12, 3), (8, 4), (3, 0), (25, None), (0, 100)]:
        params = {"offset": offset} | ({"length": length} if length is not None else {})
        answer = cat(**params)
        expected = both[offset:] if length is None else both[offset : offset + length]
        assert answer.content == expected, params
        assert answer.headers["X-Content-Length"] == str(len(expected))
    tooth = cat(offset="9223372036854775808")
    assert tooth.status_code == 400 and "out of range" in tooth.text


def test_errors_answer_as_kubo_does(node):
    _store, server, _client = node

    def post(command: str, **params) -> requests.Response:
        return requests.post(f"{server.url}/api/v0/{command}", params=params, timeout=30)

    missing = post("ls")
    assert (missing.status_code, missing.text) == (400, 'argument "ipfs-path" is required\n')
    bad = post("block/stat", arg="nonsense")
    assert bad.status_code == 500 and bad.json()["Code"] == 0 and bad.json()["Type"] == "error"
    not_found = post("dag/get", arg="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
    assert not_found.status_code == 500 and "not found" in not_found.json()["Message"]
    assert post("no/such").status_code == 404
    assert requests.get(f"{server.url}/api/v0/id", timeout=10).status_code == 405
    big = requests.post(f"{server.url}/api/v0/block/put",
                        files={"file": ("b", b"x" * (1024 * 1024 + 1))}, timeout=30)  # fmt: skip
    assert big.status_code == 500 and "over 1MiB" in big.json()["Message"]


def test_half_sent_headers_are_dropped_and_fresh_requests_still_answered(tmp_path):
    store = EmbeddedStore(tmp_path / "node")
    limits = ServerLimits(header_timeout=3.0, max_connections=40)
    with running_server(store, limits=limits) as server:
        host, port = server.server_address
        slow = []
        for _ in range(30):
            connection = socket.create_connection((host, port), timeout=10)
            connection.sendall(b"GET /ipfs/bafkqaaa HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            slow.append(connection)
        # Answered while they hang (how fast is the benchmark's business: slowloris_fresh_request_ms).
        assert requests.post(f"{server.url}/api/v0/version", timeout=30).status_code == 200
        assert server.guard.timed_out == 0 and len(server.guard.open) >= 30
        # Past the connection bound a connection is closed at once, not queued.
        extra = [socket.create_connection((host, port), timeout=10) for _ in range(12)]
        time.sleep(0.3)
        closed = 0
        for connection in extra:
            connection.settimeout(2)
            try:
                closed += connection.recv(1) == b""
            except (ConnectionResetError, socket.timeout):
                closed += 1
        assert closed >= 2
        # The half-sent requests are dropped once the header timeout passes.
        time.sleep(3.5)
        for connection in slow:
            connection.settimeout(3)
            try:
                assert connection.recv(1024) == b""  # closed by the server, no answer sent
            except ConnectionResetError:
                pass
        assert server.guard.timed_out >= 30
        for connection in slow + extra:
            connection.close()
