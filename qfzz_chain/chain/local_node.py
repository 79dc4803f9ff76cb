"""A local anvil in the background whose state survives ``qfzz chain down`` / ``up`` and crashes.

State lives in ``$QFZZ_HOME/chain/``: anvil's state dump (``state.json``, loaded at start), the
running node's pid and port (``node.json``) and its log. anvil writes the dump every few seconds
and on SIGTERM; a crash (``kill -9``, power loss) loses what came after its last dump, so every
transaction the CLI sends also has the dump written (``anvil_dumpState``, then an atomic rename
after fsync) before it is reported done. ``state.good.json`` is a copy of the last dump this
module wrote, used when a crash tore anvil's own write of ``state.json``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from qfzz_chain.config import PROJECT_ROOT, qfzz_home
from qfzz_chain.chain.errors import ChainError

DEFAULT_PORT = 8645  # Brownie's network `qfzz-local` points here
CHAIN_ID = 31337
STATE_INTERVAL_SECONDS = 2
START_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class LocalNode:
    pid: int
    port: int
    state_file: str
    log_file: str

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def chain_dir() -> Path:
    return qfzz_home() / "chain"


def _node_file() -> Path:
    return chain_dir() / "node.json"


def anvil_executable() -> str:
    found = shutil.which("anvil") or str(PROJECT_ROOT / "node_modules" / ".bin" / "anvil")
    if not Path(found).exists():
        raise ChainError("anvil not found: run `make` (it installs @foundry-rs/anvil from npm) or put anvil on PATH")
    return found


def _is_our_anvil(node: "LocalNode") -> bool:
    """True while ``node.pid`` is still the anvil we started on ``node.port``.

    A pid in a stale record can belong to another process by now; only the command line tells.
    """
    try:
        status = Path(f"/proc/{node.pid}/status").read_text()
        arguments = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if "\nState:\tZ" in status:  # exited, not yet reaped
        return False
    return Path(arguments[0].decode(errors="replace")).name == "anvil" and str(node.port).encode() in arguments


def _answers(url: str) -> bool:
    try:
        reply = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1)
        return reply.ok and "result" in reply.json()
    except (requests.exceptions.RequestException, ValueError):
        return False


def status() -> LocalNode | None:
    """The running local node, or None (a stale record of a dead node is removed)."""
    try:
        node = LocalNode(**json.loads(_node_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not _is_our_anvil(node):
        _node_file().unlink(missing_ok=True)
        return None
    return node


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def persist_state(node: LocalNode) -> None:
    """Have the node's state on disk now: what was mined survives a crash of anvil."""
    try:
        reply = requests.post(node.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_dumpState", "params": []},
                              timeout=60)  # fmt: skip
        state = gzip.decompress(bytes.fromhex(reply.json()["result"][2:]))
    except (requests.exceptions.RequestException, ValueError, KeyError, OSError) as exc:
        raise ChainError(f"could not save the local chain's state ({type(exc).__name__}); see {node.log_file}") from exc
    _write_atomically(Path(node.state_file).with_name("state.good.json"), state)
    _write_atomically(Path(node.state_file), state)


def persist_if_local(w3) -> None:
    """``persist_state`` when ``w3`` talks to the local node of ``qfzz chain up``; else nothing."""
    node = status()
    if node is not None and getattr(w3.provider, "endpoint_uri", None) == node.rpc_url:
        persist_state(node)


def _usable_state(directory: Path) -> Path:
    """``state.json``, or the last good dump when a crash left ``state.json`` torn."""
    state, good = directory / "state.json", directory / "state.good.json"
    if state.exists():
        try:
            json.loads(state.read_bytes())
        except ValueError:
            if good.exists():
                state.with_name("state.torn.json").write_bytes(state.read_bytes())
                _write_atomically(state, good.read_bytes())
    return state


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def up(port: int = DEFAULT_PORT) -> tuple[LocalNode, bool]:
    """Start the local node (loading saved state) unless it runs; returns (node, started_now)."""
    running = status()
    if running is not None:
        return running, False
    if not _port_free(port):
        raise ChainError(f"port {port} is taken by another program: stop it or pass --port")
    directory = chain_dir()
    directory.mkdir(parents=True, exist_ok=True)
    state_file, log_file = _usable_state(directory), directory / "anvil.log"
    command = [
        anvil_executable(), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID),
        "--state", str(state_file), "--state-interval", str(STATE_INTERVAL_SECONDS),
        # as Brownie's own development chain: Brownie sends development transactions at gas price 0
        "--block-base-fee-per-gas", "0",
    ]  # fmt: skip
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    node = LocalNode(process.pid, port, str(state_file), str(log_file))
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _answers(node.rpc_url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise ChainError(f"anvil did not start on port {port}; see {log_file}")
        time.sleep(0.1)
    _node_file().write_text(json.dumps(asdict(node)))
    return node, True


def down() -> LocalNode | None:
    """Stop the local node; anvil writes its state on SIGTERM. Returns the node it stopped."""
    node = status()
    if node is None:
        return None
    try:
        os.kill(node.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise ChainError(f"not allowed to stop anvil (pid {node.pid}): it runs as another user") from exc
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while _is_our_anvil(node):
        if time.monotonic() > deadline:
            raise ChainError(f"anvil (pid {node.pid}) did not stop within {START_TIMEOUT_SECONDS} s")
        time.sleep(0.05)
    _node_file().unlink(missing_ok=True)
    return node
