"""`qfzz reputation slash` takes the evidence file a committee node keeps (qfzz_chain/oracle/node.py
`_keep_evidence`: two batches of one epoch, each with the member's compressed signature) and the
ledger checks it by BLS on-chain."""

import json
import os

import brownie
import pytest
from click.testing import CliRunner
from eth_utils import keccak

from qfzz_chain.chain.deployment import ContractDeployment, DeploymentRecord, block_hash, code_hash, now_iso, save_record
from qfzz_chain.cli import cli
from qfzz_chain.oracle.chain import BatchHeader, batch_message
from qfzz_chain.reputation.rules import PRIOR_SCORE
from qfzz_chain.zk import bls
from tests.contracts.curation_helpers import deploy_world

ORACLE_NODE = 1


@pytest.fixture(scope="module")
def world(accounts, module_isolation):
    return deploy_world(accounts, people=0)


@pytest.fixture(scope="module")
def home(world, tmp_path_factory):
    """A QFZZ_HOME whose deployment record names the world's contracts."""
    path = tmp_path_factory.mktemp("slash-home")
    w3 = brownie.web3
    contracts = {}
    for name, contract in (("RecommendationOracle", world.oracle), ("ReputationLedger", world.ledger),
                           ("TrackRegistry", world.registry), ("Royalties", world.royalties),
                           ("EmergingArtistCuration", world.curation)):  # fmt: skip
        tx = contract.tx
        contracts[name] = ContractDeployment(name, contract.address, tx.txid, tx.block_number,
                                             code_hash(w3, contract.address), contract.abi)  # fmt: skip
    anchor = min(c.block for c in contracts.values())
    previous = os.environ.get("QFZZ_HOME")
    os.environ["QFZZ_HOME"] = str(path)
    try:
        save_record(DeploymentRecord(w3.eth.chain_id, anchor, block_hash(w3, anchor), "development",
                                     world.owner.address, now_iso(), contracts))  # fmt: skip
    finally:
        if previous is None:
            os.environ.pop("QFZZ_HOME")
        else:
            os.environ["QFZZ_HOME"] = previous
    return path


def qfzz(home, *args):
    env = {"QFZZ_HOME": str(home), "QFZZ_RPC_URL": brownie.web3.provider.endpoint_uri}
    return CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=True)


def evidence(world, secret, index, headers) -> dict:
    """The node's evidence format, signatures compressed (48 bytes) as the node keeps them."""
    public = bls.public_key(secret)
    batches = []
    for header in headers:
        message = batch_message(brownie.chain.id, world.oracle.address, header)
        batches.append({"fields": {"epoch": header.epoch, "root": header.root.hex(), "leaf_count": header.leaf_count,
                                   "model_version": header.model_version, "inputs": header.inputs.hex()},
                        "message": message.hex(), "signature": bytes(bls.sign(secret, message)).hex()})  # fmt: skip
    return {"member": index, "epoch": headers[0].epoch, "public_key": bls.to_eip2537(public).hex(),
            "oracle": world.oracle.address, "chain_id": brownie.chain.id, "batches": batches}


def test_equivocation_evidence_from_a_node_slashes_the_member(world, home, accounts, tmp_path):
    secret = bls.keygen(keccak(b"slash cli member"))
    operator = accounts[5]
    world.oracle.approveOperator(operator, {"from": world.owner})
    world.oracle.join(bls.to_eip2537(bls.public_key(secret)), bls.to_eip2537(bls.prove_possession(secret)), bytes(256),
                      {"from": operator})  # fmt: skip
    world.ledger.stake(ORACLE_NODE, 0, {"from": operator, "value": 10**18})
    same = BatchHeader(3, os.urandom(32), 100, 1, keccak(b"inputs"))
    refused = tmp_path / "same.json"
    refused.write_text(json.dumps(evidence(world, secret, 0, [same, same])))
    result = qfzz(home, "reputation", "slash", str(refused), "--from", accounts[6].address)
    assert result.exception is not None and "NotEquivocation" in str(result.exception)

    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(evidence(world, secret, 0, [same, BatchHeader(3, os.urandom(32), 100, 1, keccak(b"inputs"))])))
    result = qfzz(home, "reputation", "slash", str(path), "--from", accounts[6].address)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["member"] == 0
    shown = json.loads(qfzz(home, "reputation", "show", "--member", "0").stdout)
    assert shown["score"] == 0 and shown["stake"] == 0 and PRIOR_SCORE > 0
    assert world.ledger.rewardOf(accounts[6]) == 10**17
    before = accounts[6].balance()
    result = qfzz(home, "reputation", "withdraw-reward", "--from", accounts[6].address)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["withdrawn"] == 10**17 and world.ledger.rewardOf(accounts[6]) == 0
    assert accounts[6].balance() > before + 10**17 - 10**15  # less the gas
    result = qfzz(home, "reputation", "withdraw-reward", "--from", accounts[6].address)
    assert result.exit_code == 1 and "owes" in str(result.exception) + result.output
