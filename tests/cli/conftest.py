"""CLI tests run the real `qfzz` in a subprocess against a live anvil and the real IPFS store."""

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from qfzz_chain.audio import synthesize_distinct_track


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)


def run_qfzz(*args: str, home: Path, rpc_url: str | None = None, **env: str) -> Result:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QFZZ_")}
    environment.update(QFZZ_HOME=str(home), **env)
    if rpc_url:
        environment["QFZZ_RPC_URL"] = rpc_url
    done = subprocess.run([sys.executable, "-m", "qfzz_chain", *args], capture_output=True, text=True,
                          env=environment, timeout=180)  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """A refused command: exit 1, nothing on stdout, one `error: ...` line naming the problem."""
    assert result.code == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def audio(tmp_path_factory):
    """Real audio files, each acoustically its own (so each registers once, and no two are
    near-duplicates of each other to the fingerprint check)."""
    folder = tmp_path_factory.mktemp("audio")
    counter = iter(range(1000))

    def make(suffix: str = ".wav") -> Path:
        n = next(counter)
        path = folder / f"track-{n}{suffix}"
        synthesize_distinct_track(path, seed=n)
        return path

    return make
