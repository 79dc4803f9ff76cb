"""Copy each deployed contract's ABI from Brownie's build folder into the package.

    python tools/export_abi.py      # after `brownie compile` (make abi does both)

The CLI binds contracts with these ABIs where it has no deployment record (a relayer on another
machine works from the registry address in a signed request), so a checkout or an installed
package needs no build folder. A test compares them with a fresh compile.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qfzz_chain.chain.abi import ABI_DIR, PACKAGED  # noqa: E402


def main() -> None:
    for name in PACKAGED:
        artifact = ROOT / "build" / "contracts" / f"{name}.json"
        if not artifact.exists():  # an interface's ABI
            artifact = ROOT / "build" / "interfaces" / f"{name}.json"
        if not artifact.exists():
            raise SystemExit(f"no {artifact}: run `brownie compile` first")
        abi = json.loads(artifact.read_text())["abi"]
        (ABI_DIR / f"{name}.json").write_text(json.dumps(abi, indent=1, sort_keys=True) + "\n")
        print(f"wrote {ABI_DIR / f'{name}.json'}")


if __name__ == "__main__":
    main()
