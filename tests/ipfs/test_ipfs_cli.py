"""`qfzz ipfs` as a user runs it: a subprocess with its own QFZZ_HOME, real files, real exits."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, repo_snapshot

from qfzz_chain.ipfs.kubo import KuboStore

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
HELLO_V1 = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"


def _env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QFZZ_")}
    env["QFZZ_HOME"] = str(home)
    return env


def qfzz(home: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "qfzz_chain", "ipfs", *args],
        env=_env(home),
        input=input,
        capture_output=True,
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """A failure must be exactly one `error: ...` line on stderr and a non-zero exit."""
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_add_cat_pin_round_trip(home, tmp_path):
    song = tmp_path / "hello.txt"
    song.write_bytes(b"hello world\n")
    assert ok(qfzz(home, "add", str(song))) == f"added {HELLO_V0} hello.txt\n"
    added = json.loads(ok(qfzz(home, "add", "--cid-version", "1", "--json", str(song))))
    assert added == {"cid": HELLO_V1, "size": 12, "dag_size": 12, "name": "hello.txt"}
    assert qfzz(home, "cat", HELLO_V0).stdout == b"hello world\n"
    assert json.loads(ok(qfzz(home, "pin", "ls", "--json"))) == {"pins": sorted([HELLO_V0, HELLO_V1])}
    assert ok(qfzz(home, "pin", "rm", HELLO_V1)) == f"unpinned {HELLO_V1}\n"
    assert json.loads(ok(qfzz(home, "gc", "--json"))) == {"removed": [HELLO_V1]}
    assert "all blocks present" in ok(qfzz(home, "verify", HELLO_V0))


def test_only_hash_stores_nothing(home, tmp_path):
    song = tmp_path / "hello.txt"
    song.write_bytes(b"hello world\n")
    assert ok(qfzz(home, "add", "-n", "-q", str(song))) == HELLO_V0 + "\n"
    assert repo_snapshot(home / "ipfs") == {}


def test_export_and_import_into_an_empty_home(home, tmp_path):
    content = pseudo_random_bytes(2 * CHUNK + 7, seed=21)
    track = tmp_path / "track.wav"
    track.write_bytes(content)
    cid = ok(qfzz(home, "add", "-q", str(track))).strip()
    car = tmp_path / "track.car"
    ok(qfzz(home, "export", cid, str(car)))

    other = tmp_path / "other-home"
    assert one_error_line(qfzz(other, "cat", cid)).endswith("not found in the store")
    report = json.loads(ok(qfzz(other, "import", "--json", str(car))))
    assert report["roots"] == [{"cid": cid, "pin_error": ""}]
    assert report["blocks"] == 4
    assert qfzz(other, "cat", cid).stdout == content
    assert "pinned" in ok(qfzz(other, "import", str(car)))  # importing twice is harmless


def test_bad_input_is_one_line_and_leaves_the_store_unchanged(home, tmp_path):
    track = tmp_path / "track.wav"
    track.write_bytes(pseudo_random_bytes(CHUNK + 1))
    cid = ok(qfzz(home, "add", "-q", str(track))).strip()
    car = tmp_path / "track.car"
    ok(qfzz(home, "export", cid, str(car)))
    truncated = tmp_path / "truncated.car"
    truncated.write_bytes(car.read_bytes()[:-1000])
    snapshot = repo_snapshot(home / "ipfs")

    assert "'Qmnotacid' is not a valid CID" in one_error_line(qfzz(home, "cat", "Qmnotacid"))
    assert "not found" in one_error_line(qfzz(home, "cat", HELLO_V0))
    assert "truncated CAR" in one_error_line(qfzz(home, "import", str(truncated)))
    assert "cannot read" in one_error_line(qfzz(home, "add", str(tmp_path / "missing.wav")))
    assert "cannot read" in one_error_line(qfzz(home, "import", str(tmp_path / "missing.car")))
    assert "not pinned" in one_error_line(qfzz(home, "pin", "rm", HELLO_V0))
    assert "not found" in one_error_line(qfzz(home, "export", HELLO_V0, str(tmp_path / "x.car")))
    assert not (tmp_path / "x.car").exists()
    assert repo_snapshot(home / "ipfs") == snapshot

    usage = qfzz(home, "add", "--cid-version", "2", str(track))
    assert usage.returncode == 2 and b"--cid-version" in usage.stderr


def test_unreachable_api_is_one_line(home):
    result = qfzz(home, "--api", "http://127.0.0.1:9", "pin", "ls")
    assert "cannot reach the IPFS node at http://127.0.0.1:9" in one_error_line(result)


def test_serve_answers_kubo_clients_and_the_cli(home, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "qfzz_chain", "ipfs", "serve", "--port", "0", "--quiet"],
        env=_env(home),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stderr.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+)/api/v0/", first_line).group(1)
        kubo = KuboStore(url)
        content = pseudo_random_bytes(CHUNK + 5, seed=33)
        added = kubo.add_bytes(content)
        assert kubo.read_bytes(added.cid) == content
        kubo.close()
        # The CLI reaches the same node with --api.
        track = tmp_path / "hello.txt"
        track.write_bytes(b"hello world\n")
        client_home = tmp_path / "client-home"
        assert ok(qfzz(client_home, "--api", url, "add", str(track))) == f"added {HELLO_V0} hello.txt\n"
        assert qfzz(client_home, "--api", url, "cat", added.cid).stdout == content
        assert HELLO_V0 in ok(qfzz(client_home, "--api", url, "pin", "ls"))
        assert repo_snapshot(client_home / "ipfs") == {}  # everything went to the served store
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
    assert qfzz(home, "cat", added.cid).stdout == content


def test_help_teaches(home):
    text = ok(qfzz(home, "--help"))
    assert "QFZZ_IPFS_API" in text and "qfzz ipfs add song.wav" in text
    assert "--cid-version" in ok(qfzz(home, "add", "--help"))


def test_large_files_show_progress_on_stderr(home, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:  # sparse: 32 MiB of zeros costs no disk
        handle.truncate(32 * 1024 * 1024)
    result = qfzz(home, "add", str(big))
    assert ok(result).startswith("added Qm")
    assert "adding big.bin" in result.stderr.decode()
    small = tmp_path / "small.bin"
    small.write_bytes(b"tiny")
    assert qfzz(home, "add", str(small)).stderr == b""  # no bar for small files off a terminal


def _commands(group, prefix=()):
    import click

    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def test_every_ipfs_command_has_json_and_a_help_that_teaches(home):
    from qfzz_chain.cli.ipfs import ipfs

    commands = list(_commands(ipfs))
    assert len(commands) == 14  # add cat export gc get import ls pin{add,ls,rm} publish repair serve verify
    for path, command in commands:
        assert any("--json" in param.opts for param in command.params), path
        text = ok(qfzz(home, *path, "--help"))
        assert "--json" in text and len(text.splitlines()) > 4, path


def test_json_on_cat_export_verify_and_serve(home, tmp_path):
    song = tmp_path / "hello.txt"
    song.write_bytes(b"hello world\n")
    ok(qfzz(home, "add", str(song)))
    inline = json.loads(ok(qfzz(home, "cat", "--json", HELLO_V0)))
    assert inline == {"cid": HELLO_V0, "size": 12, "sha256": __import__("hashlib").sha256(b"hello world\n").hexdigest(),
                      "data_base64": "aGVsbG8gd29ybGQK"}  # fmt: skip
    out = tmp_path / "copy.txt"
    written = json.loads(ok(qfzz(home, "cat", "--json", "--output", str(out), HELLO_V0)))
    assert (written["file"], written["size"]) == (str(out), 12) and out.read_bytes() == b"hello world\n"
    assert qfzz(home, "cat", "--offset", "6", "--length", "5", HELLO_V0).stdout == b"world"
    car = tmp_path / "x.car"
    exported = json.loads(ok(qfzz(home, "export", "--json", HELLO_V0, str(car))))
    assert exported["bytes"] == car.stat().st_size > 0
    assert json.loads(ok(qfzz(home, "verify", "--json", HELLO_V0))) == {"cid": HELLO_V0, "ok": True}
    process = subprocess.Popen(
        [sys.executable, "-m", "qfzz_chain", "ipfs", "serve", "--port", "0", "--quiet", "--json"],
        env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        info = json.loads(process.stdout.readline())
        assert info["rpc"].startswith("http://127.0.0.1:") and info["pinning_service"] is None
        import requests

        assert requests.get(info["gateway"] + HELLO_V0, timeout=10).content == b"hello world\n"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    cid = ok(qfzz(home, "add", "-q", str(big))).strip()
    refused = qfzz(home, "cat", "--json", cid)  # under --json the error is one JSON object on stderr
    assert refused.returncode == 1 and len(refused.stderr.decode().strip().splitlines()) == 1
    error = json.loads(refused.stderr)
    assert error["kind"] == "IpfsError" and "use --json with --output FILE" in error["error"]
