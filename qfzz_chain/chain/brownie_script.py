"""Run a Brownie script's ``main()`` as ``brownie run SCRIPT --network NAME`` does, from any folder.

    python -m qfzz_chain.chain.brownie_script scripts/deploy.py qfzz-local

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


def run_script(script: Path, network_name: str) -> object:
    """Load the Brownie project in the current folder, connect to ``network_name``, run ``script``'s main()."""
    from brownie import network, project
    from brownie._config import CONFIG

    CONFIG.argv["cli"] = "run"  # what `brownie run` sets: Brownie's run-time defaults follow it
    active = project.load()
    active.load_config()
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


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m qfzz_chain.chain.brownie_script SCRIPT NETWORK")
    run_script(Path(argv[0]).resolve(), argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
