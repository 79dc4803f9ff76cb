"""Review findings: bad numbers and ranges over HTTP, hostile CARs (identity, bad dag-cbor, deep,
lying sizes), failed adds and imports that leave the store as it was, and the balanced layout
checked against a port of go-unixfs's builder at depth 3."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, repo_snapshot
from multiformats import varint

from qfzz_chain.ipfs import BlockCorruptedError, CarFormatError, InvalidCidError, IpfsError
from qfzz_chain.ipfs.car import encode_header, encode_section
from qfzz_chain.ipfs.cid import DAG_PB, block_cid, cid_bytes, cid_text, parse_cid, split_cid
from qfzz_chain.ipfs.dagpb import Link, encode_file_branch, encode_file_leaf
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.server import parse_byte_range
from qfzz_chain.ipfs.unixfs import MAX_LINKS, Block, _BalancedBuilder, file_blocks


def _blocks(repo: Path) -> list[Path]:
    return sorted((repo / "blocks").rglob("*.data")) if (repo / "blocks").exists() else []


def _scratch(repo: Path) -> list[Path]:
    return sorted((repo / "tmp").iterdir()) if (repo / "tmp").exists() else []


def _request(server, method: str, path: str, headers: dict[str, str], body: bytes = b""):
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders(body or None)
    response = connection.getresponse()
    return response, response.read()


# ---- HTTP: numbers and ranges ---------------------------------------------------------------


def test_bad_content_length_is_a_400_and_the_server_carries_on(served_store):
    _backing, server = served_store
    response, _body = _request(server, "POST", "/api/v0/version", {"Content-Length": "abc"})
    assert response.status == 400
    response, body = _request(server, "POST", "/api/v0/version", {"Content-Length": "0"})
    assert response.status == 200 and json.loads(body)["Commit"] == "qfzz-embedded"


@pytest.mark.parametrize("option", ["offset=x", "length=1.5", "length=99999999999999999999999"])
def test_a_cat_number_kubos_parser_refuses_is_a_400_in_text(served_store, option):
    backing, server = served_store
    cid = backing.add_bytes(b"hello world\n").cid
    response, body = _request(server, "POST", f"/api/v0/cat?arg={cid}&{option}", {"Content-Length": "0"})
    assert response.status == 400
    assert response.getheader("Content-Type").startswith("text/plain")
    name = option.split("=")[0]
    assert f'for option "{name}"' in body.decode()
    # The server is still up and answering on a fresh connection.
    response, body = _request(server, "POST", f"/api/v0/cat?arg={cid}&offset=6", {"Content-Length": "0"})
    assert (response.status, body) == (200, b"world\n")


@pytest.mark.parametrize(("option", "message"), [("offset=-1", "cannot specify negative offset"),
                                                 ("length=-5", "cannot specify negative length")])
def test_a_negative_cat_number_is_kubos_500(served_store, option, message):
    backing, server = served_store
    cid = backing.add_bytes(b"hello world\n").cid
    response, body = _request(server, "POST", f"/api/v0/cat?arg={cid}&{option}", {"Content-Length": "0"})
    assert response.status == 500
    assert json.loads(body) == {"Message": message, "Code": 0, "Type": "error"}


def test_byte_ranges_on_empty_files_and_invalid_ranges():
    with pytest.raises(ValueError):
        parse_byte_range("bytes=-500", 0)
    with pytest.raises(ValueError):
        parse_byte_range("bytes=0-", 0)
    assert parse_byte_range("bytes=500-100", 1000) is None  # last < first: ignored
    assert parse_byte_range("bytes=x-1", 1000) is None
    assert parse_byte_range("bytes=-500", 100) == (0, 100)
    assert parse_byte_range("bytes=10-", 100) == (10, 100)


def test_gateway_answers_416_for_an_empty_file_and_ignores_invalid_ranges(served_store):
    backing, server = served_store
    empty = backing.add_bytes(b"").cid
    response, body = _request(server, "GET", f"/ipfs/{empty}", {"Range": "bytes=-500"})
    assert response.status == 416
    assert response.getheader("Content-Range") == "bytes */0"
    content = pseudo_random_bytes(1000, seed=3)
    cid = backing.add_bytes(content).cid
    response, body = _request(server, "GET", f"/ipfs/{cid}", {"Range": "bytes=500-100"})
    assert (response.status, body) == (200, content)
    response, body = _request(server, "GET", f"/ipfs/{cid}", {"Range": "bytes=990-"})
    assert (response.status, body) == (206, content[990:])


def test_a_client_hanging_up_mid_download_leaves_the_server_serving(served_store, capfd):
    backing, server = served_store
    content = pseudo_random_bytes(40 * CHUNK, seed=4)
    cid = backing.add_bytes(content).cid
    host, port = server.server_address[:2]
    for _ in range(3):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("GET", f"/ipfs/{cid}")
        response = connection.getresponse()
        response.read(1000)
        connection.sock.close()  # hang up with megabytes still to send
        connection.close()
    response, body = _request(server, "GET", f"/ipfs/{cid}", {"Range": "bytes=0-9"})
    assert (response.status, body) == (206, content[:10])
    assert "Traceback" not in capfd.readouterr().err  # a hang-up is routine, not logged


def test_paths_inside_a_cid_are_refused():
    with pytest.raises(InvalidCidError, match="path inside a CID"):
        parse_cid("/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/foo")
    assert str(parse_cid("/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/")).startswith("QmT78")


# ---- hostile CARs -----------------------------------------------------------------------------


def _identity_cid(data: bytes) -> bytes:
    return b"\x01\x55\x00" + varint.encode(len(data)) + data


def test_identity_cids_are_served_inline(store):
    data = b"inline " * 43  # 301 bytes: far too long for a file name
    cid = _identity_cid(data)
    result = store.import_car(io.BytesIO(encode_header([cid]) + encode_section(cid, data)))
    assert [root.pin_error for root in result.roots] == [""]
    assert store.read_bytes(cid_text(cid)) == data
    assert _blocks(store.repo) == [] and _scratch(store.repo) == []
    store.verify(cid_text(cid))
    assert store.gc() == []


def test_an_identity_cid_is_served_by_cat_and_the_gateway(served_store, tmp_path):
    backing, server = served_store
    data = b"x" * 300
    text = cid_text(_identity_cid(data))
    response, body = _request(server, "GET", f"/ipfs/{text}", {})
    assert (response.status, body) == (200, data)
    home = tmp_path / "home"
    result = _qfzz(home, "cat", text)
    assert (result.returncode, result.stdout) == (0, data), result.stderr


def test_an_over_long_multihash_is_a_named_error(store):
    sha512_like = b"\x01\x55" + b"\x13" + varint.encode(200) + bytes(200)  # no real hash is this long
    with pytest.raises(InvalidCidError, match="too long"):
        store.get_block(cid_text(sha512_like))


def _leaf_car(store_factory, tmp_path: Path, content: bytes) -> tuple[bytes, list[bytes]]:
    source = store_factory(tmp_path / "source")
    cid = source.add_bytes(content, cid_version=1).cid
    out = io.BytesIO()
    source.export_car(cid, out)
    return out.getvalue(), [block for block, _data in source._walk(cid_bytes(cid))]


def test_a_commit_failing_part_way_rolls_the_import_back(tmp_path):
    car, cids = _leaf_car(EmbeddedStore, tmp_path, pseudo_random_bytes(3 * CHUNK + 5, seed=11))
    store = EmbeddedStore(tmp_path / "repo")
    shards = [store._blocks._path(split_cid(cid)[1]).parent for cid in cids]
    assert shards[-1] not in shards[:-1]
    shards[-1].parent.mkdir(parents=True)
    shards[-1].write_bytes(b"")  # a file where the last block's folder must go: its commit fails
    with pytest.raises(IpfsError, match="cannot write"):
        store.import_car(io.BytesIO(car))
    assert _blocks(store.repo) == [] and _scratch(store.repo) == []
    assert store.pin_ls() == []


def test_bad_dag_cbor_is_refused_on_import_and_named_when_stored(store):
    bad = b"\xff\xfe garbage"
    cid = b"\x01\x71\x12\x20" + hashlib.sha256(bad).digest()
    before = repo_snapshot(store.repo)
    with pytest.raises(CarFormatError, match="not valid dag-cbor"):
        store.import_car(io.BytesIO(encode_header([cid]) + encode_section(cid, bad)))
    assert repo_snapshot(store.repo) == before and _scratch(store.repo) == []
    store._blocks.put(cid, bad)  # as if written by an older version
    for operation in (store.verify, store.pin_add):
        with pytest.raises(IpfsError, match="not valid dag-cbor"):
            operation(cid_text(cid))
    out = io.BytesIO()
    with pytest.raises(IpfsError, match="not valid dag-cbor"):
        store.export_car(cid_text(cid), out)


def _deep_car(levels: int) -> tuple[bytes, str]:
    leaf = encode_file_leaf(b"x")
    cid = block_cid(leaf, codec=DAG_PB, version=0)
    sections, size = [encode_section(cid, leaf)], len(leaf)
    for _ in range(levels):
        node = encode_file_branch([Link(cid=cid, tsize=size)], [1])
        cid = block_cid(node, codec=DAG_PB, version=0)
        size += len(node)
        sections.append(encode_section(cid, node))
    return encode_header([cid]) + b"".join(reversed(sections)), cid_text(cid)


def test_a_3000_level_dag_reads_without_recursion(served_store):
    backing, server = served_store
    car, root = _deep_car(3000)
    assert [r.pin_error for r in backing.import_car(io.BytesIO(car)).roots] == [""]
    assert backing.read_bytes(root) == b"x"
    assert b"".join(backing.cat(root, offset=0, length=1)) == b"x"
    out = io.BytesIO()
    backing.export_car(root, out)
    assert out.getvalue() == car
    response, body = _request(server, "GET", f"/ipfs/{root}", {})
    assert (response.status, body) == (200, b"x")


def _lying_car() -> tuple[bytes, str]:
    leaf = encode_file_leaf(b"x")
    leaf_cid = block_cid(leaf, codec=DAG_PB, version=0)
    node = encode_file_branch([Link(cid=leaf_cid, tsize=len(leaf))], [10])  # claims 10 bytes
    cid = block_cid(node, codec=DAG_PB, version=0)
    return encode_header([cid]) + encode_section(cid, node) + encode_section(leaf_cid, leaf), cid_text(cid)


def test_child_sizes_must_match_what_the_parent_claims(served_store, tmp_path):
    backing, server = served_store
    car, root = _lying_car()
    backing.import_car(io.BytesIO(car))
    assert backing.file_size(root) == 10
    with pytest.raises(BlockCorruptedError, match="different number of file bytes"):
        backing.read_bytes(root)
    # The gateway finds out before its headers: an error status, not Content-Length 10 and 1 byte.
    response, body = _request(server, "GET", f"/ipfs/{root}", {})
    assert response.status == 500
    assert b"different number of file bytes" in body
    car_path = tmp_path / "lie.car"
    car_path.write_bytes(car)
    home = tmp_path / "home"
    assert _qfzz(home, "import", str(car_path)).returncode == 0
    assert "different number of file bytes" in _one_error_line(_qfzz(home, "cat", root))


# ---- failed adds leave the store as it was ------------------------------------------------------


class _FailingStream(io.RawIOBase):
    """Gives ``good`` bytes, then fails like a disk read error."""

    def __init__(self, good: bytes):
        self._data = io.BytesIO(good)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = self._data.readinto(buffer)
        if size == 0:
            raise OSError(5, "Input/output error")
        return size


def test_a_failed_add_removes_the_blocks_it_wrote(store):
    kept = pseudo_random_bytes(2 * CHUNK, seed=31)
    kept_cid = store.add_bytes(kept).cid
    before = repo_snapshot(store.repo)
    # Shares its first chunk with the pinned file, then writes three new ones, then fails.
    failing = kept[:CHUNK] + pseudo_random_bytes(3 * CHUNK, seed=32)
    with pytest.raises(IpfsError, match="Input/output error"):
        store.add_stream(io.BufferedReader(_FailingStream(failing), CHUNK))
    assert repo_snapshot(store.repo) == before
    assert store.read_bytes(kept_cid) == kept


def test_a_cut_off_upload_leaves_no_blocks(served_store):
    backing, server = served_store
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'
    body += pseudo_random_bytes(3 * CHUNK, seed=33)  # whole chunks stored, then no boundary
    response, answer = _request(
        server, "POST", "/api/v0/add", {"Content-Type": "multipart/form-data; boundary=b",
                                         "Content-Length": str(len(body))}, body
    )
    assert response.status == 400
    assert backing.pin_ls() == [] and _blocks(backing.repo) == []


class _GatedStream(io.RawIOBase):
    """Gives one chunk, signals ``reached``, and waits for ``go`` before giving the rest."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.reached = threading.Event()
        self.go = threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._data.tell() >= CHUNK and not self.go.is_set():
            self.reached.set()
            assert self.go.wait(30)
        return self._data.readinto(buffer)


def test_gc_waits_for_an_add_in_progress_and_loses_no_block(store):
    content = pseudo_random_bytes(3 * CHUNK + 9, seed=34)
    stream = _GatedStream(content)
    added: list[str] = []
    removed: list[list[str]] = []
    adder = threading.Thread(target=lambda: added.append(store.add_stream(io.BufferedReader(stream, CHUNK)).cid))
    adder.start()
    assert stream.reached.wait(30)
    deadline = time.monotonic() + 10
    while not _blocks(store.repo) and time.monotonic() < deadline:
        time.sleep(0.01)  # the first block's fsync and rename run in the writer's pool
    assert _blocks(store.repo)  # the first block is written but not yet pinned
    collector = threading.Thread(target=lambda: removed.append(store.gc()))
    collector.start()
    time.sleep(0.3)
    assert collector.is_alive()  # blocked by the add's shared lock
    stream.go.set()
    adder.join(30)
    collector.join(30)
    assert removed == [[]]
    assert store.read_bytes(added[0]) == content


# ---- the CLI ------------------------------------------------------------------------------------


def _qfzz(home: Path, *args: str, preexec=None) -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QFZZ_")}
    env["QFZZ_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "qfzz_chain", "ipfs", *args],
        env=env, capture_output=True, timeout=120, preexec_fn=preexec,
    )


def _one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_cli_names_the_missing_root_of_a_path(tmp_path):
    line = _one_error_line(_qfzz(tmp_path / "home", "cat", "/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/a"))
    assert "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o not found" in line


def test_cli_export_onto_a_symlink_writes_its_target(tmp_path):
    home = tmp_path / "home"
    track = tmp_path / "t.bin"
    track.write_bytes(b"hello world\n")
    cid = _qfzz(home, "add", "-q", str(track)).stdout.decode().strip()
    (tmp_path / "elsewhere").mkdir()
    target = tmp_path / "elsewhere" / "real.car"
    target.write_bytes(b"old")
    link = tmp_path / "link.car"
    link.symlink_to(target)
    assert _qfzz(home, "export", cid, str(link)).returncode == 0
    assert link.is_symlink() and b"roots" in target.read_bytes()[:12]  # a CAR header
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["real.car"]


def test_cli_export_of_a_file_too_large_is_one_line(tmp_path):
    home = tmp_path / "home"
    track = tmp_path / "t.bin"
    track.write_bytes(pseudo_random_bytes(4 * CHUNK, seed=35))
    cid = _qfzz(home, "add", "-q", str(track)).stdout.decode().strip()

    def small_files() -> None:  # Python ignores SIGXFSZ, so writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (CHUNK, CHUNK))

    out = tmp_path / "out" / "big.car"
    out.parent.mkdir()
    line = _one_error_line(_qfzz(home, "export", cid, str(out), preexec=small_files))
    assert "cannot write" in line and "too large" in line
    assert list(out.parent.iterdir()) == []


# ---- the balanced layout at depth 3 -------------------------------------------------------------


def _reference_root(chunks: list[bytes], cid_version: int) -> Block:
    """go-unixfs's balanced builder (importer/balanced/builder.go), ported literally:
    a new root over the old one, filled depth-first with ``fillNodeRec``, until input runs out."""
    builder = _BalancedBuilder(cid_version)
    remaining = iter(chunks)
    pending: list[bytes | None] = [next(remaining, None)]

    def done() -> bool:
        return pending[0] is None

    def take() -> bytes:
        chunk = pending[0]
        assert chunk is not None
        pending[0] = next(remaining, None)
        return chunk

    def node(children: list[Block]) -> Block:
        data = encode_file_branch(
            [Link(child.cid, child.dag_size) for child in children], [child.file_size for child in children]
        )
        return Block(
            block_cid(data, codec=DAG_PB, version=cid_version),
            data,
            len(data) + sum(child.dag_size for child in children),
            sum(child.file_size for child in children),
        )

    def fill(children: list[Block], depth: int) -> Block:
        while len(children) < MAX_LINKS and not done():
            children.append(builder.leaf(take()) if depth == 1 else fill([], depth - 1))
        return node(children)

    if done():
        return builder.leaf(b"")
    root, depth = builder.leaf(take()), 1
    while not done():
        root, depth = fill([root], depth), depth + 1
    return root


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("count", [1, 174, 175, 174 * 174, 174 * 174 + 1])
def test_balanced_layout_matches_go_unixfs_up_to_depth_3(count, cid_version):
    # Tiny distinct chunks keep a three-level DAG (more than 174² leaves) fast to build.
    chunks = [index.to_bytes(2, "big") for index in range(count)]
    ours = list(file_blocks(iter(chunks), cid_version=cid_version))[-1]
    reference = _reference_root(chunks, cid_version)
    assert (ours.cid, ours.dag_size, ours.file_size) == (reference.cid, reference.dag_size, reference.file_size)


def test_an_unexpected_error_is_a_500_with_kubos_error_json(served_store):
    backing, server = served_store
    backing.repo.mkdir(parents=True, exist_ok=True)
    (backing.repo / "pins.json").mkdir()  # reading the pins raises IsADirectoryError
    response, body = _request(server, "POST", "/api/v0/pin/ls", {"Content-Length": "0"})
    assert response.status == 500
    answer = json.loads(body)
    assert (answer["Code"], answer["Type"]) == (0, "error") and "internal error" in answer["Message"]
    response, body = _request(server, "POST", "/api/v0/version", {"Content-Length": "0"})
    assert response.status == 200


def test_gc_keeps_a_pinned_dag_whose_raw_leaf_is_damaged(store):
    """gc only needs to know what a pin reaches: raw leaves link nowhere, so they are checked to
    exist but not re-hashed, and a damaged one is kept (verify reports it), not deleted."""
    content = pseudo_random_bytes(2 * CHUNK + 1, seed=36)
    cid = store.add_bytes(content, cid_version=1).cid
    garbage = store.add_bytes(b"unpinned", cid_version=1).cid
    store.pin_rm(garbage)
    leaf = next(path for path in _blocks(store.repo) if path.stat().st_size == 1)
    leaf.write_bytes(b"X")
    before = _blocks(store.repo)
    assert store.gc() == [garbage]
    assert len(_blocks(store.repo)) == len(before) - 1
    with pytest.raises(BlockCorruptedError):
        store.verify(cid)
    leaf.unlink()
    with pytest.raises(IpfsError, match="incomplete"):
        store.gc()


def test_import_replaces_a_damaged_block_it_carries(tmp_path):
    """A damaged copy already in the store does not stop an import that carries the block: the
    CAR's good copy replaces it, and the root is pinned."""
    content = pseudo_random_bytes(2 * CHUNK + 1, seed=37)
    car, cids = _leaf_car(EmbeddedStore, tmp_path, content)
    store = EmbeddedStore(tmp_path / "repo")
    leaf = cids[-1]
    store._blocks.put(leaf, b"X")  # a damaged copy of the 1-byte leaf, already present
    result = store.import_car(io.BytesIO(car))
    assert [root.pin_error for root in result.roots] == [""]
    assert store.read_bytes(result.roots[0].cid) == content
