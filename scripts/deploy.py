"""Deploy the QFZZ contract suite and write the deployment record the CLI and oracle read.

    qfzz chain deploy                                    # to the chain in use, choosing the network
    brownie run scripts/deploy.py --network qfzz-local  # the chain of `qfzz chain up`
    brownie run scripts/deploy.py                       # Brownie's throwaway development chain

The deployer is, in order: QFZZ_PRIVATE_KEY, the Brownie account QFZZ_DEPLOYER_ACCOUNT, or the
node's first unlocked account (a local anvil's). An existing record whose contracts still live
on this chain is never replaced unless QFZZ_REDEPLOY=1 (the old record is then archived).
"""

import os

from brownie import TrackRegistry, accounts, network, rpc, web3

from qfzz_chain.chain.connection import genesis_hash
from qfzz_chain.chain.deployment import (
    ContractDeployment,
    DeploymentRecord,
    check_replaceable,
    code_hash,
    now_iso,
    save_record,
)
from qfzz_chain.errors import DeploymentError

# In deployment order; a later contract's constructor may take an earlier one's address.
SUITE = (TrackRegistry,)


def deployer():
    key = os.environ.get("QFZZ_PRIVATE_KEY")
    if key:
        return accounts.add(key)
    account_id = os.environ.get("QFZZ_DEPLOYER_ACCOUNT")
    if account_id:
        return accounts.load(account_id, password=os.environ.get("QFZZ_KEYSTORE_PASSWORD"))
    if len(accounts):
        return accounts[0]
    raise SystemExit("no deployer: set QFZZ_PRIVATE_KEY or QFZZ_DEPLOYER_ACCOUNT (a Brownie account id)")


def deploy_suite(account) -> dict:
    deployed = {}
    for container in SUITE:
        contract = container.deploy({"from": account})
        deployed[container._name] = ContractDeployment(
            name=container._name,
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
        check_replaceable(web3, replace=replace)
    except DeploymentError as exc:
        raise SystemExit(f"error: {exc}") from None
    account = deployer()
    record = DeploymentRecord(
        chain_id=web3.eth.chain_id,
        genesis_hash=genesis_hash(web3),
        network=network.show_active(),
        deployer=account.address,
        deployed_at=now_iso(),
        contracts=deploy_suite(account),
    )
    path, archived = save_record(web3, record, replace=replace)
    if archived:
        print(f"Archived the previous record to {archived}")
    for contract in record.contracts.values():
        print(f"{contract.name} at {contract.address} (block {contract.block})")
    print(f"Deployment record: {path}")
    return record
