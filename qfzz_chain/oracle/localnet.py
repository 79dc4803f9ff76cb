"""A committee's nodes run as background processes on this machine, one per member.

``start`` launches ``qfzz oracle node`` for each member (its log in the member's home, its pid
in ``node.pid`` there), ``stop`` ends them (SIGTERM; the journal makes any point safe),
``running`` says which are up. Each node is its own process talking to the others over
loopback TCP, as on separate machines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from qfzz_chain.oracle.errors import NodeError


def _members(committee_file: Path) -> list[dict]:
    try:
        return json.loads(Path(committee_file).read_text())["members"]
    except (OSError, ValueError, KeyError) as exc:
        raise NodeError(f"{committee_file} is not a committee file: {exc}") from exc


def _pid_file(member: dict) -> Path:
    return Path(member["home"]) / "node.pid"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def running(committee_file: Path) -> dict[int, int]:
    """Member index -> pid of each node that runs."""
    found = {}
    for member in _members(committee_file):
        try:
            pid = int(_pid_file(member).read_text())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            found[int(member["index"])] = pid
    return found


def start(committee_file: Path, indices: list[int] | None = None, env: dict[str, str] | None = None) -> dict[int, int]:
    """Start the nodes of ``indices`` (default: every member) that do not run; returns their pids."""
    members = {int(m["index"]): m for m in _members(committee_file)}
    up = running(committee_file)
    started = {}
    for index in indices if indices is not None else sorted(members):
        if index in up:
            continue
        member = members[index]
        log = open(Path(member["home"]) / "node.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "qfzz_chain", "oracle", "node", "--committee", str(committee_file), "--index", str(index)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env=dict(os.environ, **(env or {})),
        )  # fmt: skip
        _pid_file(member).write_text(str(process.pid))
        started[index] = process.pid
    return started


def stop(committee_file: Path, indices: list[int] | None = None, *, kill: bool = False, timeout: float = 20) -> list[int]:
    """Stop the nodes of ``indices`` (default: all); ``kill`` sends SIGKILL, as a crash would."""
    stopped = []
    for index, pid in running(committee_file).items():
        if indices is not None and index not in indices:
            continue
        try:
            os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)
        stopped.append(index)
    return stopped
