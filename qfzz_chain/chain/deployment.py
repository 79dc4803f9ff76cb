"""Deployment records: where the suite lives on a chain, written by ``scripts/deploy.py``.

One JSON file per chain id in ``$QFZZ_DEPLOYMENTS`` (default ``$QFZZ_HOME/deployments``),
holding the chain's genesis hash (two anvils share a chain id), and per contract its address,
deploy transaction and block, runtime code hash and ABI, so the CLI and the oracle need no
build folder. A record is never overwritten silently: replacing one on a chain where its
contracts still live needs ``replace=True``, and any replaced record is archived.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_utils import keccak
from web3 import Web3

from qfzz_chain.chain.connection import genesis_hash
from qfzz_chain.config import qfzz_home
from qfzz_chain.errors import DeploymentError

RECORD_SCHEMA = 1


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
    genesis_hash: str
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
                f"the deployment on chain {self.chain_id} has no {name}; redeploy the suite"
            ) from None

    @property
    def first_block(self) -> int:
        return min(c.block for c in self.contracts.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "DeploymentRecord":
        data = json.loads(text)
        contracts = {name: ContractDeployment(**entry) for name, entry in data.pop("contracts").items()}
        return cls(contracts=contracts, **data)


def deployments_dir() -> Path:
    return Path(os.environ.get("QFZZ_DEPLOYMENTS", qfzz_home() / "deployments")).expanduser()


def record_path(chain_id: int) -> Path:
    return deployments_dir() / f"{chain_id}.json"


def code_hash(w3: Web3, address: str) -> str:
    return "0x" + keccak(bytes(w3.eth.get_code(Web3.to_checksum_address(address)))).hex()


def _read(path: Path) -> DeploymentRecord | None:
    if not path.exists():
        return None
    try:
        return DeploymentRecord.from_json(path.read_text())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DeploymentError(f"{path} is not a deployment record ({exc})") from exc


def _lives_on(record: DeploymentRecord, w3: Web3) -> bool:
    """True when this chain is the record's and every contract's code is still there."""
    if record.chain_id != w3.eth.chain_id or record.genesis_hash != genesis_hash(w3):
        return False
    return all(code_hash(w3, c.address) == c.code_hash for c in record.contracts.values())


def check_replaceable(w3: Web3, *, replace: bool) -> None:
    """Refuse (before any gas is spent) to replace a record whose contracts live on this chain."""
    path = record_path(w3.eth.chain_id)
    previous = _read(path)
    if previous is not None and not replace and _lives_on(previous, w3):
        raise DeploymentError(
            f"chain {previous.chain_id} already has a live deployment ({path}); "
            "set QFZZ_REDEPLOY=1 to replace it (the old record is archived)"
        )


def save_record(w3: Web3, record: DeploymentRecord, *, replace: bool = False) -> tuple[Path, Path | None]:
    """Write ``record``; returns (path, archived old record or None).

    Refuses to replace a record whose contracts still live on this chain unless ``replace``.
    """
    check_replaceable(w3, replace=replace)
    path = record_path(record.chain_id)
    previous = _read(path)
    archived = None
    if previous is not None:
        stem = f"{record.chain_id}-{previous.deployed_at.replace(':', '')}"
        archived = path.parent / "archive" / f"{stem}.json"
        archived.parent.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):  # two deployments within a second keep both archives
            if not archived.exists():
                break
            archived = archived.with_name(f"{stem}-{n}.json")
        path.replace(archived)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(record.to_json())
    temporary.replace(path)
    return path, archived


def load_record(w3: Web3) -> DeploymentRecord:
    """The record for the connected chain, checked against it; a clear error when unusable."""
    chain_id = w3.eth.chain_id
    path = record_path(chain_id)
    record = _read(path)
    if record is None:
        raise DeploymentError(
            f"no deployment on chain {chain_id} (no {path}): deploy with `qfzz chain deploy`"
        )
    if record.genesis_hash != genesis_hash(w3):
        raise DeploymentError(
            f"{path} belongs to another chain with id {chain_id} (a reset or different node): "
            "deploy again with `qfzz chain deploy`"
        )
    for contract in record.contracts.values():
        if code_hash(w3, contract.address) != contract.code_hash:
            raise DeploymentError(f"{contract.name} of {path} is not at {contract.address} on this chain: redeploy")
    return record


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
