"""Deploy the QFZZ contract suite and write the deployment record the CLI and oracle read.

    qfzz chain deploy                                                  # the chain in use
    python -m qfzz_chain.chain.brownie_script scripts/deploy.py NETWORK  # any Brownie network
    brownie run scripts/deploy.py --network NETWORK                    # the same, by Brownie's runner

The deployer is, in order: QFZZ_PRIVATE_KEY, the Brownie account QFZZ_DEPLOYER_ACCOUNT, or the
node's first unlocked account (a local anvil's).

The suite grows: on a node that already holds the suite, only the contracts of ``SUITE`` that
its record lacks are deployed, beside the live ones, and added to the record; the registry and
its data stay. QFZZ_REDEPLOY=1 deploys the whole suite afresh (the old record is archived). QFZZ_EPOCH_SECONDS
sets the oracle's epoch length (default 3600); curation's settings: QFZZ_COMMIT_SECONDS and
QFZZ_REVEAL_SECONDS (default a day each), QFZZ_CURATION_QUORUM_BPS (2000: a fifth of the eligible
weight), QFZZ_LISTING_SECONDS (90 days in the index), QFZZ_STAKE_SATURATION_WEI (1 ether).
"""

import os

from brownie import accounts, network, project, rpc, web3

from qfzz_chain.chain.brownie_networks import forget_brownie_deployments
from qfzz_chain.chain.deployment import (
    ContractDeployment,
    DeploymentRecord,
    block_hash,
    code_hash,
    find_record,
    now_iso,
    save_record,
)
from qfzz_chain.chain.errors import DeploymentError

def _deployer_address(account) -> str:
    return account.address


def _epoch_seconds(account) -> int:
    return int(os.environ.get("QFZZ_EPOCH_SECONDS", "3600"))


def _curation_address(account) -> str:
    """Where the deployer's next ``CREATE`` lands: the ledger, deployed just before curation, names it."""
    from qfzz_chain.reputation.chain import create_address

    return create_address(account.address, account.nonce + 1)


def _stake_saturation(account) -> int:
    return int(os.environ.get("QFZZ_STAKE_SATURATION_WEI", str(10**18)))


def _seconds(variable: str, default: int):
    return lambda account: int(os.environ.get(variable, str(default)))


def _quorum_bps(account) -> int:
    return int(os.environ.get("QFZZ_CURATION_QUORUM_BPS", "2000"))


# In deployment order: (contract, its constructor's arguments), each argument the name of an
# earlier contract (its address is passed) or a function of the deployer account.
SUITE: tuple[tuple[str, tuple], ...] = (
    ("TrackRegistry", ()),
    ("RecommendationOracle", (_deployer_address, _epoch_seconds)),  # owner, seconds per epoch
    ("Royalties", ("TrackRegistry",)),
    # owner, oracle (epochs, equivocation evidence), curation (the next contract), stake saturation (wei)
    ("ReputationLedger", (_deployer_address, "RecommendationOracle", _curation_address, _stake_saturation)),
    # ledger, registry, royalty splits, commit and reveal phases, quorum (bps), listing length: 1 day, 1 day, 20%, 90 days
    ("EmergingArtistCuration", ("ReputationLedger", "TrackRegistry", "Royalties", _seconds("QFZZ_COMMIT_SECONDS", 86_400),
                                _seconds("QFZZ_REVEAL_SECONDS", 86_400), _quorum_bps,
                                _seconds("QFZZ_LISTING_SECONDS", 90 * 86_400))),
)


def deployer():
    key = os.environ.get("QFZZ_PRIVATE_KEY")
    if key:
        return accounts.add(key)
    account_id = os.environ.get("QFZZ_DEPLOYER_ACCOUNT")
    if account_id:
        return accounts.load(account_id, password=os.environ.get("QFZZ_KEYSTORE_PASSWORD"))
    if len(accounts):
        return accounts[0]
    raise SystemExit("error: no deployer: set QFZZ_PRIVATE_KEY or QFZZ_DEPLOYER_ACCOUNT (a Brownie account id)")


def _container(name: str):
    return project.get_loaded_projects()[0][name]


def deploy_missing(account, live: dict[str, ContractDeployment], suite=None) -> dict[str, ContractDeployment]:
    """Deploy the contracts of ``suite`` (default ``SUITE``) not in ``live``; returns ``live`` plus them."""
    deployed = dict(live)
    for name, arguments in SUITE if suite is None else suite:
        if name in deployed:
            continue
        missing = [a for a in arguments if isinstance(a, str) and a not in deployed]
        if missing:
            raise SystemExit(f"error: {name} needs {', '.join(missing)}, which comes later in SUITE")
        values = [deployed[a].address if isinstance(a, str) else a(account) for a in arguments]
        container = _container(name)
        contract = container.deploy(*values, {"from": account})
        deployed[name] = ContractDeployment(
            name=name,
            address=contract.address,
            transaction=contract.tx.txid,
            block=contract.tx.block_number,
            code_hash=code_hash(web3, contract.address),
            abi=container.abi,
        )
    return deployed


def main(replace: bool | None = None):
    replace = os.environ.get("QFZZ_REDEPLOY") == "1" if replace is None else replace
    if network.show_active() == "qfzz-local" and rpc.is_active() and rpc.is_child():
        raise SystemExit("error: no local chain was running, so Brownie started a throwaway one: run `qfzz chain up` first")
    try:
        found = find_record(web3)
    except DeploymentError as exc:
        raise SystemExit(f"error: {exc}") from None
    live = found[1] if found is not None and not replace else None
    account = deployer()
    contracts = deploy_missing(account, live.contracts if live else {})
    if live is not None and contracts.keys() == live.contracts.keys():
        print(f"Nothing to deploy: the whole suite is live ({found[0]})")
        return live
    anchor = live.anchor_block if live else min(c.block for c in contracts.values())
    record = DeploymentRecord(
        chain_id=web3.eth.chain_id,
        anchor_block=anchor,
        anchor_hash=block_hash(web3, anchor),
        network=network.show_active(),
        deployer=live.deployer if live else account.address,
        deployed_at=now_iso(),
        contracts=contracts,
    )
    path, archived = save_record(record, replaced=found[1] if found is not None and replace else None)
    # what Brownie saved of a live deployment would make its next connect to a reset node fail
    forget_brownie_deployments(record.chain_id)
    if archived:
        print(f"Archived the previous record to {archived}")
    for contract in record.contracts.values():
        kept = live is not None and contract.name in live.contracts
        print(f"{contract.name} at {contract.address} (block {contract.block}){' (kept)' if kept else ''}")
    print(f"Deployment record: {path}")
    return record
