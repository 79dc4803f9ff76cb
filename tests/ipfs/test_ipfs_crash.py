"""Crash safety: adds killed at random points leave a consistent store, the write order is the
one a power cut needs (fsync, rename, folder fsync, then the pin), and repair drops bad blocks."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, running_server

from qfzz_chain.ipfs import blockstore as blockstore_module
from qfzz_chain.ipfs import embedded as embedded_module
from qfzz_chain.ipfs.cid import block_matches
from qfzz_chain.ipfs.embedded import EmbeddedStore


def _env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QFZZ_")}
    env["QFZZ_HOME"] = str(home)
    return env


def _check_consistent(repo: Path) -> None:
    """No torn block under a real name, every pin complete, and gc willing to run."""
    for path in (repo / "blocks").rglob("*.data") if (repo / "blocks").exists() else ():
        key = path.name[: -len(".data")]
        multihash = base64.b32decode(key + "=" * (-len(key) % 8))
        assert block_matches(multihash, path.read_bytes()), f"torn block {path}"
    store = EmbeddedStore(repo)
    if (repo / "pins.json").exists():
        json.loads((repo / "pins.json").read_text())
    for pin in store.pin_ls():
        store.verify(pin)
    store.gc()


def test_adds_killed_at_random_points_leave_a_consistent_store(tmp_path):
    content = pseudo_random_bytes(48 * CHUNK + 7, seed=77)  # 12.6 MB: 49 blocks and a root
    track = tmp_path / "track.wav"
    track.write_bytes(content)
    expected = EmbeddedStore(tmp_path / "reference").add_file(track, only_hash=True).cid
    command = [sys.executable, "-m", "qfzz_chain", "ipfs", "add", "-q", str(track)]
    home = tmp_path / "home"
    started = time.monotonic()
    subprocess.run(command, env=_env(tmp_path / "timing"), check=True, capture_output=True, timeout=120)
    full = time.monotonic() - started
    rng = random.Random(2026)
    outcomes = {"killed": 0, "finished": 0}
    for run in range(8):
        # A fresh home for half the runs (kill during the first add), the same home for the rest
        # (kill while re-adding over a partial earlier attempt).
        run_home = home if run % 2 else tmp_path / f"home-{run}"
        process = subprocess.Popen(command, env=_env(run_home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.15, 1.1) * full)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        outcomes["killed" if process.returncode == -signal.SIGKILL else "finished"] += 1
        repo = run_home / "ipfs"
        _check_consistent(repo)
        store = EmbeddedStore(repo)
        assert set(store.pin_ls()) <= {expected}
        if expected in store.pin_ls():
            assert store.read_bytes(expected) == content
    assert outcomes["killed"] >= 4, outcomes
    # After any crash, adding again completes and gives the same CID and bytes.
    again = subprocess.run(command, env=_env(home), capture_output=True, timeout=120)
    assert again.stdout.decode().strip() == expected
    assert EmbeddedStore(home / "ipfs").read_bytes(expected) == content


def test_blocks_are_durable_before_the_pin_that_names_them(tmp_path, monkeypatch):
    """The order a power cut needs: each scratch file fsync'ed before its rename, each folder
    renamed into fsync'ed after the rename, and all of it before pins.json is replaced."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = blockstore_module.fsync_path, os.replace

    def fsync_path(path: Path) -> None:
        events.append(("fsync", str(path)))
        real_fsync(path)

    def replace(source, target) -> None:
        events.append(("rename", f"{source}->{target}"))
        real_replace(source, target)

    monkeypatch.setattr(blockstore_module, "fsync_path", fsync_path)
    monkeypatch.setattr(embedded_module, "fsync_path", fsync_path)
    monkeypatch.setattr(blockstore_module.os, "replace", replace)
    store = EmbeddedStore(tmp_path / "repo")
    store.add_bytes(pseudo_random_bytes(5 * CHUNK, seed=3))
    renames = [(i, e[1].split("->")) for i, e in enumerate(events) if e[0] == "rename" and "/blocks/" in e[1]]
    pins = next(i for i, e in enumerate(events) if e[0] == "rename" and e[1].endswith("pins.json"))
    assert len(renames) == 6
    for index, (scratch, target) in renames:
        synced = [i for i, e in enumerate(events) if e == ("fsync", scratch)]
        assert synced and synced[0] < index, f"{scratch} renamed before its fsync"
        folder = str(Path(target).parent)
        folder_synced = [i for i, e in enumerate(events) if e == ("fsync", folder) and i > index]
        assert folder_synced and folder_synced[0] < pins, f"{folder} not fsync'ed before the pin"
    assert ("fsync", str(tmp_path / "repo")) in events[pins:]  # the pin's rename made durable too


def test_repair_drops_damaged_blocks_and_refetches_them(tmp_path):
    
    content = pseudo_random_bytes(3 * CHUNK + 1, seed=4)
    store = EmbeddedStore(tmp_path / "repo")
    cid = store.add_bytes(content).cid
    mirror = EmbeddedStore(tmp_path / "mirror")
    mirror.add_bytes(content)
    blocks = sorted((tmp_path / "repo" / "blocks").rglob("*.data"))
    blocks[0].write_bytes(b"")  # what a crash of a system without fsync can leave
    blocks[1].write_bytes(b"\x00" * blocks[1].stat().st_size)
    (tmp_path / "repo" / "tmp").mkdir(exist_ok=True)
    (tmp_path / "repo" / "tmp" / "block-1-2-3").write_bytes(b"half")
    with pytest.raises(Exception, match="damaged|corrupted"):
        store.gc()
    result = store.repair()
    assert (result.checked, len(result.removed), result.scratch_removed) == (5, 2, 1)
    assert result.incomplete == (cid,)
    with running_server(mirror) as peer:
        healed = EmbeddedStore(tmp_path / "repo", peers=(peer.url,)).repair()
    assert healed.refetched == (cid,) and healed.incomplete == ()
    assert EmbeddedStore(tmp_path / "repo").read_bytes(cid) == content
    store.gc()


def test_re_adding_replaces_a_block_that_fails_its_hash(tmp_path):
    content = pseudo_random_bytes(2 * CHUNK + 5, seed=8)
    store = EmbeddedStore(tmp_path / "repo")
    cid = store.add_bytes(content).cid
    for path in (tmp_path / "repo" / "blocks").rglob("*.data"):
        path.write_bytes(b"")  # every block zero-length, as after a power cut without fsync
    with pytest.raises(Exception, match="corrupted"):
        store.read_bytes(cid)
    assert store.add_bytes(content).cid == cid
    assert store.read_bytes(cid) == content
