"""Run a Brownie script's ``main()`` as ``brownie run SCRIPT --network NAME`` does, from any folder.

    python -m qfzz_chain.chain.brownie_script scripts/deploy.py NETWORK
    python -m qfzz_chain.chain.brownie_script scripts/deploy.py --rpc-url URL [--local-port PORT]

The second form needs no entry in Brownie's global network file: the entry for the node at URL
is given to Brownie in memory (``brownie_networks.register_in_memory``), so deploys from two
checkouts to two nodes never cross.

``brownie run`` imports the script under a module name made of its absolute path's folders
joined by dots, so it fails (``No module named 'tmp.tmp'``) in any checkout whose path has a dot
in a folder name, such as ``mktemp -d``'s ``/tmp/tmp.XXXXXXXXXX``. This runner loads the project
in the current folder, connects, and imports the script by its file location instead. Brownie's
own command is unchanged for everyone else.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def run_script(script: Path, network_name: str | None, *, rpc_url: str | None = None,
               local_port: int | None = None) -> object:  # fmt: skip
    """Load the Brownie project in the current folder, connect to ``network_name`` (or the node
    at ``rpc_url``), run ``script``'s main()."""
    from brownie import network, project
    from brownie._config import CONFIG

    CONFIG.argv["cli"] = "run"  # what `brownie run` sets: Brownie's run-time defaults follow it
    active = project.load()
    active.load_config()
    if rpc_url is not None:
        from web3 import Web3

        from qfzz_chain.chain.brownie_networks import register_in_memory

        chain_id = Web3(Web3.HTTPProvider(rpc_url)).eth.chain_id
        network_name = register_in_memory(rpc_url, chain_id, local_port)
    network.connect(network_name)
    # What `brownie run` does too, so that the script's `from brownie import TrackRegistry` works.
    active._add_to_main_namespace()
    try:
        spec = importlib.util.spec_from_file_location(f"brownie_script_{script.stem}", script)
        if spec is None or spec.loader is None:
            raise SystemExit(f"error: cannot load {script} as a Python script")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.main()
    finally:
        active._remove_from_main_namespace()
        network.disconnect()  # stops a node Brownie launched; leaves a node it attached to running


USAGE = "usage: python -m qfzz_chain.chain.brownie_script SCRIPT (NETWORK | --rpc-url URL [--local-port PORT])"


def main(argv: list[str]) -> None:
    if len(argv) == 2 and not argv[1].startswith("--"):
        run_script(Path(argv[0]).resolve(), argv[1])
    elif len(argv) in (3, 5) and argv[1] == "--rpc-url" and (len(argv) == 3 or argv[3] == "--local-port"):
        run_script(Path(argv[0]).resolve(), None, rpc_url=argv[2], local_port=int(argv[4]) if len(argv) == 5 else None)
    else:
        raise SystemExit(USAGE)


if __name__ == "__main__":
    main(sys.argv[1:])
