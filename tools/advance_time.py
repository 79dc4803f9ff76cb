"""Move a local anvil's clock forward and mine a block: what waiting costs on a real chain.

    python tools/advance_time.py SECONDS [RPC_URL]    # default: the chain of `qfzz chain up`

The demo uses it to let a registration become final (one day) without waiting a day. It refuses
any node that is not anvil, so it cannot be pointed at a real chain by mistake.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qfzz_chain.chain.connection import connect  # noqa: E402


def main() -> None:
    if len(sys.argv) not in (2, 3) or not sys.argv[1].isdigit():
        raise SystemExit("usage: python tools/advance_time.py SECONDS [RPC_URL]")
    w3 = connect(sys.argv[2] if len(sys.argv) == 3 else None)
    if "anvil" not in w3.client_version.lower():
        raise SystemExit(f"error: {w3.client_version} is not anvil: only a local chain's clock can be moved")
    w3.provider.make_request("evm_increaseTime", [int(sys.argv[1])])
    w3.provider.make_request("evm_mine", [])
    block = w3.eth.get_block("latest")
    print(f"the local chain's clock moved {int(sys.argv[1]):,} s forward: block {block['number']} at {block['timestamp']}")


if __name__ == "__main__":
    main()
