"""The ABIs the package ships (qfzz_chain/chain/abi/, `make abi`) are those of a fresh compile."""

import json

import pytest

from qfzz_chain.chain.abi import ABI_DIR, PACKAGED
from qfzz_chain.config import PROJECT_ROOT


@pytest.mark.parametrize("name", PACKAGED)
def test_the_packaged_abi_is_the_compiled_one(name, TrackRegistry):  # the fixture: the project is compiled
    build = PROJECT_ROOT / "build"
    artifact = build / "contracts" / f"{name}.json"
    if not artifact.exists():
        artifact = build / "interfaces" / f"{name}.json"
    packaged = json.loads((ABI_DIR / f"{name}.json").read_text())
    assert packaged == json.loads(artifact.read_text())["abi"], f"run `make abi`: {name} changed"
