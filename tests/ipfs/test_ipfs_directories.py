"""Directories (albums) and kubo's add options, checked against CIDs kubo itself produced."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes

from qfzz_chain.ipfs import IpfsError, IsDirectoryError, PathNotFoundError, add_directory
from qfzz_chain.ipfs.cid import cid_text, parse_cid, split_cid
from qfzz_chain.ipfs.dagpb import UNIXFS_HAMT_SHARD, decode_node, decode_unixfs
from qfzz_chain.ipfs.directory import DirEntry, directory_blocks, hamt_hash
from qfzz_chain.ipfs.embedded import EmbeddedStore

# kubo's test/sharness/t0260-sharding.sh: files whose content is "$i\n".
KUBO_SMALL_DIR = "QmdBXmm4HRpUhyzzctbFvi2tLai3XFL1YjmE1qfpJe61NX"  # 100 x file%06d, not sharded
KUBO_TESTDATA_UNSHARDED = "QmavrTrQG4VhoJmantURAYuw3bowq3E2WcvP36NRQDAC1N"  # 2000 x file$i
KUBO_TESTDATA_SHARDED = "QmSCJD1KYLhVVHqBK3YyXuoEqHt7vggyJhzoFYbT8v1XYL"  # the same, threshold 1B
KUBO_BIG_DIR_SHARDED = "QmWfjnRWRvdvYezQWnfbvrvY7JjrpevsE9cato1x76UqGr"  # 5960 x file%06d: auto HAMT
EMPTY_DIR_V0 = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
EMPTY_DIR_V1 = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"
HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
HELLO_RAW = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


def _numbered(folder: Path, count: int, name: str) -> Path:
    folder.mkdir()
    for i in range(1, count + 1):
        (folder / (name % i)).write_bytes(f"{i}\n".encode())
    return folder


@pytest.fixture(scope="module")
def kubo_folders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("kubo-vectors")
    return {
        "small": _numbered(base / "small_dir", 100, "file%06d"),
        "testdata": _numbered(base / "testdata", 2000, "file%d"),
        "big": _numbered(base / "big_dir", 5960, "file%06d"),
    }


def test_directory_cids_match_kubos_including_hamt_sharding(kubo_folders, tmp_path):
    store = EmbeddedStore(tmp_path / "repo")
    assert store.add_directory(kubo_folders["small"], only_hash=True).cid == KUBO_SMALL_DIR
    assert store.add_directory(kubo_folders["testdata"], only_hash=True, shard_threshold=0).cid == KUBO_TESTDATA_UNSHARDED
    assert store.add_directory(kubo_folders["testdata"], only_hash=True, shard_threshold=1).cid == KUBO_TESTDATA_SHARDED
    # 5,960 entries of 10-byte names and 34-byte CIDs: 262,240 bytes >= 256 KiB, so kubo shards.
    big = store.add_directory(kubo_folders["big"])
    assert big.cid == KUBO_BIG_DIR_SHARDED
    root = decode_node(store.get_block(big.cid))
    assert decode_unixfs(root.data).type == UNIXFS_HAMT_SHARD
    # Paths resolve through the HAMT by hash, listings enumerate it, CARs carry it whole.
    assert store.read_bytes(f"{big.cid}/file000030") == b"30\n"
    assert len(store.ls(big.cid)) == 5960
    with pytest.raises(PathNotFoundError):
        store.read_bytes(f"{big.cid}/file009999")
    car = io.BytesIO()
    store.export_car(big.cid, car)
    other = EmbeddedStore(tmp_path / "other")
    other.import_car(io.BytesIO(car.getvalue()))
    assert other.read_bytes(f"/ipfs/{big.cid}/file005960") == b"5960\n"
    assert other.pin_ls() == [big.cid]


def test_a_directory_shards_when_its_estimate_reaches_256_kib():
    """boxo (kubo 0.2x-0.3x) shards at estimate >= 262,144 bytes: names plus binary CIDs."""
    cid = bytes.fromhex("1220") + bytes(32)
    entries = [DirEntry(f"f{i:09d}", cid, 1) for i in range(5957)]  # 10 + 34 = 44 bytes each
    assert sum(len(e.name) + len(e.cid) for e in entries) == 262108

    def kind(extra_name: str) -> int:
        blocks = directory_blocks(entries + [DirEntry(extra_name, cid, 1)])
        return decode_unixfs(decode_node(blocks[-1].data).data).type

    assert kind("a") == 1  # 262,143 bytes: a basic directory
    assert kind("ab") == UNIXFS_HAMT_SHARD  # 262,144 bytes: a HAMT


def test_hamt_hash_is_the_first_half_of_murmur3_x64_128_big_endian():
    # murmur3-x64-128("hello", seed 0) = cbd8a7b341bd9b02 5b1e906a48ae1d19 (h1 first)
    assert hamt_hash("hello").hex() == "cbd8a7b341bd9b02"


def test_empty_directories_and_wrapping(tmp_path):
    store = EmbeddedStore(tmp_path / "repo")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert store.add_directory(empty).cid == EMPTY_DIR_V0
    assert store.add_directory(empty, cid_version=1).cid == EMPTY_DIR_V1
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello world\n")
    wrapped = store.add_file(hello, wrap=True)
    assert [(e.path, e.cid) for e in wrapped.entries[:1]] == [("hello.txt", HELLO_V0)]
    assert store.ls(wrapped.cid)[0].name == "hello.txt"
    assert store.read_bytes(f"{wrapped.cid}/hello.txt") == b"hello world\n"
    with pytest.raises(IsDirectoryError, match="this dag node is a directory"):
        store.read_bytes(wrapped.cid)


def _album(folder: Path) -> dict[str, bytes]:
    tracks = {
        "01 intro.wav": pseudo_random_bytes(3 * CHUNK + 5, seed=1),
        "02 song.wav": pseudo_random_bytes(CHUNK, seed=2),
        "bonus/03 demo.wav": pseudo_random_bytes(17, seed=3),
        "cover.txt": b"",
    }
    for name, data in tracks.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / ".DS_Store").write_bytes(b"hidden")
    os.symlink("01 intro.wav", folder / "latest.wav")
    return tracks


def test_an_album_round_trips_through_get_with_each_tracks_cid(tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    tracks = _album(album)
    store = EmbeddedStore(tmp_path / "repo")
    added = add_directory(store, album, cid_version=1)
    files = added.files()
    assert sorted(files) == sorted(tracks)  # hidden files skipped, as kubo does by default
    for name, data in tracks.items():
        assert files[name] == store.add_bytes(data, cid_version=1, only_hash=True).cid  # the file's own CID
        assert store.read_bytes(f"{added.cid}/{name}") == data
    kinds = {e.path: e.kind for e in added.entries}
    assert kinds["latest.wav"] == "symlink" and kinds["bonus"] == "directory" and kinds["album"] == "directory"
    assert added.entries[-1].cid == added.cid
    assert store.pin_ls() == [added.cid]
    out = tmp_path / "copy"
    assert store.get(added.cid, out) == sum(len(d) for d in tracks.values())
    for name, data in tracks.items():
        assert (out / name).read_bytes() == data
    assert os.readlink(out / "latest.wav") == "01 intro.wav"
    with pytest.raises(IpfsError, match="already exists"):
        store.get(added.cid, out)
    with_hidden = store.add_directory(album, hidden=True, cid_version=1)
    assert ".DS_Store" in with_hidden.files() and with_hidden.cid != added.cid


@pytest.mark.parametrize(("cid_version", "raw_leaves", "leaf_codec", "root_prefix"), [
    (0, None, 0x70, "Qm"), (0, True, 0x55, "Qm"), (1, None, 0x55, "bafybei"), (1, False, 0x70, "bafybei"),
])  # fmt: skip
def test_raw_leaves_either_way_with_either_cid_version(store, cid_version, raw_leaves, leaf_codec, root_prefix):
    content = pseudo_random_bytes(2 * CHUNK + 1, seed=9)
    added = store.add_bytes(content, cid_version=cid_version, raw_leaves=raw_leaves)
    assert added.cid.startswith(root_prefix)
    leaves = decode_node(store.get_block(added.cid)).links
    assert {split_cid(link.cid)[0] for link in leaves} == {leaf_codec}
    assert store.read_bytes(added.cid) == content
    one_chunk = store.add_bytes(b"hello world\n", cid_version=cid_version, raw_leaves=raw_leaves).cid
    assert one_chunk == (HELLO_RAW if (raw_leaves if raw_leaves is not None else cid_version == 1) else
                         (HELLO_V0 if cid_version == 0 else cid_text(b"\x01\x70" + bytes(parse_cid(HELLO_V0)))))


def test_chunker_size_n(store):
    content = pseudo_random_bytes(1000, seed=4)
    added = store.add_stream(io.BytesIO(content), chunk_size=100)
    assert len(decode_node(store.get_block(added.cid)).links) == 10
    assert store.read_bytes(added.cid) == content
    with pytest.raises(IpfsError, match="chunk size"):
        store.add_stream(io.BytesIO(content), chunk_size=2 * 1024 * 1024)


def _qfzz(home: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QFZZ_")}
    env["QFZZ_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "qfzz_chain", "ipfs", *args], env=env, input=input,
                          capture_output=True, timeout=120)  # fmt: skip


def test_cli_add_options_as_kubo_users_pass_them(tmp_path):
    home = tmp_path / "home"
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello world\n")
    run = lambda *a, **k: _qfzz(home, *a, **k)  # noqa: E731
    assert run("add", "-q", "-").returncode == 0
    assert run("add", "-q", "-", input=b"hello world\n").stdout.decode() == HELLO_V0 + "\n"
    assert run("add", "-q", "--raw-leaves", str(hello)).stdout.decode().strip() == HELLO_RAW
    assert run("add", "-q", "--cid-version", "1", "--raw-leaves=false", str(hello)).stdout.decode().strip().startswith("bafybei")
    assert run("add", "-q", "--chunker", "size-4", str(hello)).stdout.decode().strip().startswith("Qm")
    bad = run("add", "--chunker", "rabin-1-2-3", str(hello))
    assert bad.returncode == 1 and b"size-N" in bad.stderr
    loose = tmp_path / "loose.txt"
    loose.write_bytes(b"not pinned\n")
    unpinned = run("add", "-q", "--pin=false", str(loose)).stdout.decode().strip()
    assert unpinned not in json.loads(run("pin", "ls", "--json").stdout)["pins"]
    assert run("cat", unpinned).stdout == b"not pinned\n"  # stored, only left to gc
    assert json.loads(run("gc", "--json").stdout)["removed"]
    assert b"not found" in run("cat", unpinned).stderr  # gc took it: it was never pinned
    album = tmp_path / "album"
    album.mkdir()
    tracks = _album(album)
    refused = run("add", str(album))
    assert refused.returncode == 1 and b"add it with -r" in refused.stderr
    lines = run("add", "-r", str(album)).stdout.decode().splitlines()
    assert lines[-1].endswith(" album") and all(line.startswith("added ") for line in lines)
    assert any(line.endswith(" album/bonus/03 demo.wav") for line in lines)  # kubo's names
    root = run("add", "-Q", "-r", str(album)).stdout.decode().strip()
    assert lines[-1].split()[1] == root
    report = json.loads(run("add", "-r", "--json", str(album)).stdout)
    assert report["cid"] == root and {e["path"] for e in report["entries"]} >= set(tracks)
    wrapped = run("add", "-w", "-Q", str(hello)).stdout.decode().strip()
    assert run("cat", f"{wrapped}/hello.txt").stdout == b"hello world\n"
    listing = json.loads(run("ls", "--json", root).stdout)
    assert [e["name"] for e in listing["entries"]] == ["01 intro.wav", "02 song.wav", "bonus", "cover.txt", "latest.wav"]
    assert "02 song.wav" in run("ls", root).stdout.decode()
    got = json.loads(run("get", root, "-o", str(tmp_path / "out"), "--json").stdout)
    assert got["bytes"] == sum(len(d) for d in tracks.values())
    assert (tmp_path / "out" / "bonus" / "03 demo.wav").read_bytes() == tracks["bonus/03 demo.wav"]
    car = tmp_path / "album.car"
    exported = json.loads(run("export", root, str(car), "--json").stdout)
    assert exported["bytes"] == car.stat().st_size
    other = tmp_path / "other"
    assert json.loads(_qfzz(other, "import", str(car), "--json").stdout)["roots"] == [{"cid": root, "pin_error": ""}]
    assert _qfzz(other, "cat", f"{root}/02 song.wav").stdout == tracks["02 song.wav"]


def test_wrapping_a_folder_puts_it_under_its_name(tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    (album / "a.wav").write_bytes(b"a")
    store = EmbeddedStore(tmp_path / "repo")
    plain = store.add_directory(album)
    wrapped = store.add_directory(album, wrap=True)
    assert [(e.name, e.cid) for e in store.ls(wrapped.cid)] == [("album", plain.cid)]
    assert [e.path for e in wrapped.entries] == ["a.wav", "album", ""]  # files relative to the folder
    assert store.read_bytes(f"{wrapped.cid}/album/a.wav") == b"a"
