"""Brownie's network entries, without racing other checkouts for ``~/.brownie``.

Brownie keeps networks in one global file, ``~/.brownie/network-config.yaml``; `brownie networks
add/delete` rewrite it whole, so two checkouts installing or deploying at once failed ("Network
'qfzz-local' already exists") or pointed each other's deploys at the wrong node. Here:

- ``install()`` (run by ``tools/bootstrap.sh``) writes the documented ``qfzz-local`` entry only
  when it is missing or different, under an exclusive lock, by an atomic rename;
- ``qfzz chain deploy`` never edits the file: ``register_in_memory`` gives the running Brownie
  the entry for the node in use (``qfzz_chain.chain.brownie_script --rpc-url``), so concurrent
  deploys to different nodes cannot cross.
"""

from __future__ import annotations

import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path

LOCAL_NETWORK = "qfzz-local"
REMOTE_NETWORK = "qfzz-rpc"
LOCAL_PORT = 8645  # qfzz_chain.chain.local_node.DEFAULT_PORT


def config_path() -> Path:
    return Path.home() / ".brownie" / "network-config.yaml"


@contextmanager
def _locked():
    lock_path = Path.home() / ".brownie" / ".qfzz-networks.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def local_entry(port: int = LOCAL_PORT, chain_id: int = 31337) -> dict:
    """A development network Brownie attaches to (and leaves running) at ``port``."""
    return {"cmd": "anvil", "cmd_settings": {"accounts": 10, "chain_id": chain_id, "port": port},
            "host": "http://127.0.0.1", "id": LOCAL_NETWORK, "name": LOCAL_NETWORK}  # fmt: skip


def remote_entry(host: str, chain_id: int) -> dict:
    return {"chainid": str(chain_id), "host": host, "id": REMOTE_NETWORK, "name": REMOTE_NETWORK}


def install() -> bool:
    """Write the ``qfzz-local`` entry into Brownie's file unless it is already there; True if written."""
    import yaml

    with _locked():
        path = config_path()
        if not path.exists():
            import brownie._config  # noqa: F401  Brownie writes its default file on first import
        config = yaml.safe_load(path.read_text()) or {}
        development = config.setdefault("development", [])
        wanted = local_entry()
        current = next((n for n in development if n.get("id") == LOCAL_NETWORK), None)
        if current == wanted:
            return False
        config["development"] = [n for n in development if n.get("id") != LOCAL_NETWORK] + [wanted]
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(yaml.safe_dump(config, sort_keys=False))
        os.replace(temporary, path)
        return True


def register_in_memory(rpc_url: str, chain_id: int, local_port: int | None) -> str:
    """Give the running Brownie an entry for the node at ``rpc_url``; returns the network's name.

    The local node of ``qfzz chain up`` (``local_port`` set) is a development network, so Brownie
    keeps no deployment artifacts that go stale on a reset; any other RPC is a live network.
    """
    from brownie._config import CONFIG

    if local_port is not None:
        CONFIG.networks[LOCAL_NETWORK] = local_entry(local_port, chain_id)
        return LOCAL_NETWORK
    CONFIG.networks[REMOTE_NETWORK] = remote_entry(rpc_url, chain_id)
    return REMOTE_NETWORK


def forget_brownie_deployments(chain_id: int, project_root: Path | None = None) -> None:
    """Drop Brownie's own cache of live deployments on ``chain_id`` (``build/deployments``).

    Brownie reloads it when connecting to a live network and fails with ``ContractNotFound`` on
    any address without code (a reset chain, another node with the same id); the deployment
    record is the project's truth, so the deploy script removes what Brownie saved.
    """
    import json
    import shutil

    from qfzz_chain.config import PROJECT_ROOT

    deployments = (project_root or PROJECT_ROOT) / "build" / "deployments"
    shutil.rmtree(deployments / str(chain_id), ignore_errors=True)
    deployment_map = deployments / "map.json"
    if deployment_map.exists():
        entries = json.loads(deployment_map.read_text())
        if entries.pop(str(chain_id), None) is not None:
            deployment_map.write_text(json.dumps(entries, indent=2))


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        raise SystemExit("usage: python -m qfzz_chain.chain.brownie_networks install")
    print("wrote Brownie network qfzz-local" if install() else "Brownie network qfzz-local is up to date")
