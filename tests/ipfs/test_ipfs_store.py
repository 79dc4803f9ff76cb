"""The embedded store on a real disk: round trips, ranges, verification, pins and GC."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, repo_snapshot

from qfzz_chain.ipfs import (
    BlockCorruptedError,
    BlockNotFoundError,
    IpfsError,
    NotAFileError,
    open_store,
)
from qfzz_chain.ipfs.cid import block_cid, cid_text, split_cid
from qfzz_chain.ipfs.dagpb import decode_node
from qfzz_chain.ipfs.embedded import EmbeddedStore
from qfzz_chain.ipfs.kubo import KuboStore


def _block_files(store: EmbeddedStore) -> list[Path]:
    return sorted((store.repo / "blocks").rglob("*.data"))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
@pytest.mark.parametrize("cid_version", [0, 1])
def test_add_then_cat_round_trips(store, tmp_path, size, cid_version):
    content = pseudo_random_bytes(size, seed=size)
    path = tmp_path / "track.bin"
    path.write_bytes(content)
    added = store.add_file(path, cid_version=cid_version)
    assert added.size == size
    assert added.name == "track.bin"
    assert b"".join(store.cat(added.cid)) == content
    assert store.read_bytes(added.cid) == content
    assert store.file_size(added.cid) == size
    assert added.cid in store.pin_ls()
    store.verify(added.cid)


def test_cat_streams_one_block_at_a_time(store):
    added = store.add_bytes(pseudo_random_bytes(4 * CHUNK + 5), cid_version=1)
    pieces = list(store.cat(added.cid))
    assert max(len(piece) for piece in pieces) <= CHUNK
    assert len(pieces) == 5


def test_cat_ranges_match_slices(store):
    content = pseudo_random_bytes(3 * CHUNK + 100, seed=3)
    for cid_version in (0, 1):
        cid = store.add_bytes(content, cid_version=cid_version).cid
        ranges = [(0, 10), (CHUNK - 3, 6), (CHUNK, CHUNK), (5, None), (3 * CHUNK + 99, 50)]
        ranges += [(len(content), 5), (0, 0)]
        for offset, length in ranges:
            expected = content[offset:] if length is None else content[offset : offset + length]
            assert b"".join(store.cat(cid, offset=offset, length=length)) == expected


def test_only_hash_stores_nothing(store, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(pseudo_random_bytes(2 * CHUNK))
    added = store.add_file(path, only_hash=True)
    assert added.cid == store.add_file(path).cid  # same CID either way
    store.pin_rm(added.cid)
    store.gc()
    assert store.add_file(path, only_hash=True).cid == added.cid
    assert _block_files(store) == []
    with pytest.raises(BlockNotFoundError):
        store.read_bytes(added.cid)


def test_progress_reports_bytes_against_the_total(store, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(pseudo_random_bytes(2 * CHUNK + 1))
    calls: list[tuple[int, int]] = []
    store.add_file(path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(CHUNK, 2 * CHUNK + 1), (2 * CHUNK, 2 * CHUNK + 1), (2 * CHUNK + 1, 2 * CHUNK + 1)]


def test_two_level_dag_of_175_full_chunks(store, tmp_path):
    """A ~46 MB file: more than 174 chunks needs a second level; it must survive every path."""
    content = pseudo_random_bytes(175 * CHUNK + 1, seed=175)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    added = store.add_file(path)
    root = decode_node(store.get_block(added.cid))
    assert len(root.links) == 2
    assert len(decode_node(store._blocks.get(root.links[0].cid)).links) == 174
    assert len(decode_node(store._blocks.get(root.links[1].cid)).links) == 2
    assert b"".join(store.cat(added.cid)) == content
    tail = content[174 * CHUNK - 10 : 174 * CHUNK + 10]
    assert b"".join(store.cat(added.cid, offset=174 * CHUNK - 10, length=20)) == tail
    assert added.dag_size > added.size  # DAG bytes include the UnixFS wrapping
    assert len(_block_files(store)) == 176 + 3


def test_unknown_content_is_a_named_error(store):
    with pytest.raises(BlockNotFoundError, match="QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"):
        store.cat("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")


def test_corrupted_block_is_detected_on_read_and_verify(store):
    content = pseudo_random_bytes(2 * CHUNK + 3)
    added = store.add_bytes(content)
    leaf = decode_node(store.get_block(added.cid)).links[1].cid
    leaf_path = store._blocks._path(split_cid(leaf)[1])
    damaged = bytearray(leaf_path.read_bytes())
    damaged[-1] ^= 0xFF
    leaf_path.write_bytes(bytes(damaged))
    with pytest.raises(BlockCorruptedError, match="corrupted"):
        store.read_bytes(added.cid)
    with pytest.raises(BlockCorruptedError):
        store.verify(added.cid)
    # The first chunk is still served: corruption shows up exactly where it is.
    assert b"".join(store.cat(added.cid, length=CHUNK)) == content[:CHUNK]


def test_missing_block_is_detected_by_verify(store):
    added = store.add_bytes(pseudo_random_bytes(2 * CHUNK + 3), cid_version=1)
    leaf = decode_node(store.get_block(added.cid)).links[0].cid
    store._blocks._path(split_cid(leaf)[1]).unlink()
    with pytest.raises(BlockNotFoundError, match="not found"):
        store.verify(added.cid)
    with pytest.raises(BlockNotFoundError):
        store.pin_add(added.cid)


def test_gc_removes_only_unpinned_blocks(store):
    kept_content = pseudo_random_bytes(3 * CHUNK, seed=1)
    kept = store.add_bytes(kept_content)
    # Shares its first chunk with `kept`, so that block must survive the GC.
    dropped = store.add_bytes(kept_content[:CHUNK] + pseudo_random_bytes(CHUNK, seed=2))
    before = len(_block_files(store))
    store.pin_rm(dropped.cid)
    removed = store.gc()
    assert len(removed) == 2  # dropped's root and its unshared leaf
    assert len(_block_files(store)) == before - 2
    assert store.read_bytes(kept.cid) == kept_content
    with pytest.raises(BlockNotFoundError):
        store.read_bytes(dropped.cid)
    assert store.gc() == []


def test_pins_add_remove_and_list(store):
    first = store.add_bytes(b"one").cid
    second = store.add_bytes(b"two", cid_version=1).cid
    assert store.pin_ls() == sorted([first, second])
    assert store.pin_rm(first) == [first]
    assert store.pin_ls() == [second]
    assert store.pin_add(first) == [first]
    assert store.pin_ls() == sorted([first, second])
    with pytest.raises(IpfsError, match="not pinned"):
        store.pin_rm("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")


def test_gc_refuses_when_a_pinned_dag_is_incomplete(store):
    added = store.add_bytes(pseudo_random_bytes(2 * CHUNK))
    store.add_bytes(b"unpinned soon")
    store.pin_rm(store.add_bytes(b"unpinned soon").cid)
    leaf = decode_node(store.get_block(added.cid)).links[0].cid
    store._blocks._path(split_cid(leaf)[1]).unlink()
    snapshot = repo_snapshot(store.repo)
    with pytest.raises(IpfsError, match="gc refused"):
        store.gc()
    assert repo_snapshot(store.repo) == snapshot


def test_unreadable_inputs_leave_the_store_unchanged(store, tmp_path):
    store.add_bytes(b"existing")
    snapshot = repo_snapshot(store.repo)
    with pytest.raises(IpfsError, match="cannot read"):
        store.add_file(tmp_path / "missing.wav")
    with pytest.raises(IpfsError, match="directory"):
        store.add_file(tmp_path)
    if os.geteuid() != 0:  # root reads anything, so permission errors cannot be staged
        locked = tmp_path / "locked"
        locked.write_bytes(b"x")
        locked.chmod(0)
        with pytest.raises(IpfsError, match="cannot read"):
            store.add_file(locked)
    assert repo_snapshot(store.repo) == snapshot


def test_a_directory_node_is_not_a_file(store):
    # A UnixFS directory node (Type=1) with no entries: kubo's empty directory.
    empty_dir = b"\x0a\x02\x08\x01"
    cid = block_cid(empty_dir, codec=0x70, version=0)
    store._blocks.put(cid, empty_dir)
    assert cid_text(cid) == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    with pytest.raises(NotAFileError):
        store.cat(cid_text(cid))


def test_open_store_picks_the_backend_once(monkeypatch, tmp_path):
    monkeypatch.delenv("QFZZ_IPFS_API", raising=False)
    monkeypatch.delenv("QFZZ_IPFS_REPO", raising=False)
    monkeypatch.setenv("QFZZ_HOME", str(tmp_path))
    embedded = open_store()
    assert isinstance(embedded, EmbeddedStore)
    assert embedded.repo == tmp_path / "ipfs"
    monkeypatch.setenv("QFZZ_IPFS_API", "http://127.0.0.1:5999")
    assert isinstance(open_store(), KuboStore)
    assert isinstance(open_store("/ip4/127.0.0.1/tcp/5999/http"), KuboStore)


def test_an_unusable_repository_is_one_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the repository should be")
    broken = EmbeddedStore(blocker / "repo")
    with pytest.raises(IpfsError, match="IPFS repository"):
        broken.add_bytes(b"anything")
    with pytest.raises(IpfsError, match="IPFS repository"):
        broken.gc()
    assert broken.add_bytes(b"anything", only_hash=True).cid.startswith("Qm")
