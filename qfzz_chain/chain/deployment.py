"""Deployment records: where the suite lives on a node, written by ``scripts/deploy.py``.

A record is a JSON file in ``$QFZZ_DEPLOYMENTS`` (default ``$QFZZ_HOME/deployments``) holding,
per contract, its address, deploy transaction and block, runtime code hash and ABI, so the CLI
and the oracle need no build folder.

Which node a record belongs to: chain id alone is not enough (every anvil is 31337) and the
genesis hash is not stable (anvil's ``--state`` reload makes a new block 0 after a few restarts,
which stranded every track behind "redeploy" advice). A record is instead anchored to the block
its first contract was deployed in: ``anchor_block`` and that block's hash, which a node keeps
across restarts and no other node shares (blocks carry timestamps). A node holds a record's
suite when that block has that hash and every contract's code is at its address. The file is
``<chain id>-<first 8 hex digits of the anchor hash>.json``, so two nodes with one chain id keep
two records, and a deploy to one never archives the other's.

The suite grows: deploying a contract the record lacks adds it beside the live ones (the record
is rewritten with the old entries kept); replacing the live suite needs ``replace=True`` and
archives the replaced record.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_utils import keccak
from web3 import Web3

from qfzz_chain.chain.errors import DeploymentError
from qfzz_chain.config import qfzz_home

RECORD_SCHEMA = 2


@dataclass(frozen=True)
class ContractDeployment:
    name: str
    address: str
    transaction: str
    block: int
    code_hash: str
    abi: list = field(repr=False)


@dataclass(frozen=True)
class DeploymentRecord:
    chain_id: int
    anchor_block: int
    anchor_hash: str
    network: str
    deployer: str
    deployed_at: str
    contracts: dict[str, ContractDeployment]
    schema: int = RECORD_SCHEMA

    def contract(self, name: str) -> ContractDeployment:
        try:
            return self.contracts[name]
        except KeyError:
            raise DeploymentError(
                f"the deployment on chain {self.chain_id} has no {name} yet: run `qfzz chain deploy`, "
                "which adds it beside the live contracts"
            ) from None

    @property
    def file_name(self) -> str:
        return f"{self.chain_id}-{self.anchor_hash[2:10]}.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "DeploymentRecord":
        data = json.loads(text)
        if data.get("schema") != RECORD_SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {RECORD_SCHEMA}")
        contracts = {name: ContractDeployment(**entry) for name, entry in data.pop("contracts").items()}
        return cls(contracts=contracts, **data)


def deployments_dir() -> Path:
    return Path(os.environ.get("QFZZ_DEPLOYMENTS", qfzz_home() / "deployments")).expanduser()


def code_hash(w3: Web3, address: str) -> str:
    return "0x" + keccak(bytes(w3.eth.get_code(Web3.to_checksum_address(address)))).hex()


def block_hash(w3: Web3, number: int) -> str | None:
    """The hash of block ``number``, or None when the node has no such block (yet)."""
    from web3.exceptions import BlockNotFound

    try:
        return w3.eth.get_block(number)["hash"].to_0x_hex()
    except BlockNotFound:
        return None


def _read(path: Path) -> DeploymentRecord:
    try:
        return DeploymentRecord.from_json(path.read_text())
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DeploymentError(f"{path} is not a deployment record this version reads ({exc})") from exc


def records_for_chain(chain_id: int) -> list[tuple[Path, DeploymentRecord]]:
    """Every readable record for ``chain_id``, whichever node it belongs to."""
    found = []
    for path in sorted(deployments_dir().glob(f"{chain_id}-*.json")):
        try:
            found.append((path, _read(path)))
        except DeploymentError:
            continue  # an unreadable file is named by `chain status`, not fatal to other nodes
    return found


def _missing_code(record: DeploymentRecord, w3: Web3) -> list[ContractDeployment]:
    return [c for c in record.contracts.values() if code_hash(w3, c.address) != c.code_hash]


def _anchored_here(record: DeploymentRecord, w3: Web3) -> bool:
    return record.chain_id == w3.eth.chain_id and block_hash(w3, record.anchor_block) == record.anchor_hash


def find_record(w3: Web3) -> tuple[Path, DeploymentRecord] | None:
    """This node's record, or None. Raises when the node's suite lost code (never silently)."""
    for path, record in records_for_chain(w3.eth.chain_id):
        if _anchored_here(record, w3):
            missing = _missing_code(record, w3)
            if missing:
                raise DeploymentError(
                    f"{path}: the code of {', '.join(c.name for c in missing)} is no longer at its address on "
                    "this node, although the node's history is the record's; the node's state is damaged"
                )
            return path, record
    return None


def load_record(w3: Web3) -> DeploymentRecord:
    """This node's record, checked against it; a clear error (never a redeploy hint over live data)."""
    found = find_record(w3)
    if found is not None:
        return found[1]
    chain_id = w3.eth.chain_id
    others = records_for_chain(chain_id)
    if others:
        names = ", ".join(path.name for path, _ in others)
        raise DeploymentError(
            f"no deployment on this node: the records for chain {chain_id} in {deployments_dir()} ({names}) belong "
            "to other nodes or to a chain that was reset; point --rpc-url at that node, or deploy to this one "
            "with `qfzz chain deploy`"
        )
    raise DeploymentError(
        f"no deployment on chain {chain_id} (no record in {deployments_dir()}): deploy with `qfzz chain deploy`"
    )


def save_record(record: DeploymentRecord, *, replaced: DeploymentRecord | None = None) -> tuple[Path, Path | None]:
    """Write ``record`` (atomically); returns (path, archived replaced record or None).

    Extending a record keeps its file; a ``replaced`` record of this node is moved to ``archive/``.
    Records of other nodes are never touched.
    """
    directory = deployments_dir()
    directory.mkdir(parents=True, exist_ok=True)
    archived = None
    if replaced is not None:
        old = directory / replaced.file_name
        if old.exists():
            stem = f"{old.stem}-{replaced.deployed_at.replace(':', '')}"
            archived = directory / "archive" / f"{stem}.json"
            archived.parent.mkdir(parents=True, exist_ok=True)
            for n in range(1, 1000):  # two deployments within a second keep both archives
                if not archived.exists():
                    break
                archived = archived.with_name(f"{stem}-{n}.json")
            old.replace(archived)
    path = directory / record.file_name
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(record.to_json())
    temporary.replace(path)
    return path, archived


def record_path(record: DeploymentRecord) -> Path:
    return deployments_dir() / record.file_name


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
