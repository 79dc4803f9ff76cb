"""Deployment records: which node a record belongs to, growing and replacing it, never clobbering another's."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from eth_utils import keccak

from qfzz_chain.chain import deployment
from qfzz_chain.chain.deployment import (
    RECORD_SCHEMA,
    DeploymentRecord,
    block_hash,
    code_hash,
    deployments_dir,
    find_record,
    load_record,
    now_iso,
    record_path,
    records_for_chain,
    save_record,
)
from qfzz_chain.chain.errors import DeploymentError
from tests.chain.conftest import deploy


def test_records_live_in_qfzz_home_unless_told_otherwise(home, monkeypatch, tmp_path):
    assert deployments_dir() == home / "deployments"
    monkeypatch.setenv("QFZZ_DEPLOYMENTS", "~/elsewhere")
    assert deployments_dir() == (tmp_path / "x").home() / "elsewhere"


def test_a_record_round_trips_through_json(record):
    text = record.to_json()
    assert text.endswith("}\n") and json.loads(text)["schema"] == RECORD_SCHEMA == 2
    assert DeploymentRecord.from_json(text) == record
    assert list(json.loads(text)) == sorted(json.loads(text))  # stable key order: diffs stay small


def test_a_record_of_another_schema_is_refused(record):
    data = json.loads(record.to_json())
    data["schema"] = 1
    with pytest.raises(ValueError, match="schema 1, expected 2"):
        DeploymentRecord.from_json(json.dumps(data))
    del data["schema"]
    with pytest.raises(ValueError, match="schema None, expected 2"):
        DeploymentRecord.from_json(json.dumps(data))


def test_the_file_is_named_by_chain_and_anchor(record):
    assert record.file_name == f"{record.chain_id}-{record.anchor_hash[2:10]}.json"
    assert re.fullmatch(r"31337-[0-9a-f]{8}\.json", record.file_name)
    assert record_path(record) == deployments_dir() / record.file_name


def test_a_missing_contract_is_named_with_the_way_to_add_it(record):
    assert record.contract("TrackRegistry") is record.contracts["TrackRegistry"]
    with pytest.raises(DeploymentError, match="has no RoyaltySplitter yet: run `qfzz chain deploy`"):
        record.contract("RoyaltySplitter")


def test_code_and_block_hashes(w3, record):
    deployed = record.contracts["TrackRegistry"]
    assert code_hash(w3, deployed.address.lower()) == "0x" + keccak(bytes(w3.eth.get_code(deployed.address))).hex()
    assert code_hash(w3, deployed.address) == deployed.code_hash
    assert block_hash(w3, record.anchor_block) == w3.eth.get_block(record.anchor_block)["hash"].to_0x_hex()
    assert block_hash(w3, 10**9) is None


def test_this_nodes_record_is_found_and_checked(w3, record):
    assert find_record(w3) is None
    with pytest.raises(DeploymentError, match=r"no deployment on chain 31337 \(no record in .*\): deploy with"):
        load_record(w3)
    path, archived = save_record(record)
    assert (path, archived) == (record_path(record), None) and path.read_text() == record.to_json()
    assert find_record(w3) == (path, record) and load_record(w3) == record
    assert records_for_chain(31337) == [(path, record)] and records_for_chain(1) == []


def test_another_nodes_record_is_not_this_ones(w3, record):
    other = dataclasses.replace(record, anchor_hash="0x" + "ab" * 32)
    other_chain = dataclasses.replace(record, chain_id=1)
    save_record(other)
    save_record(other_chain)
    assert find_record(w3) is None
    with pytest.raises(DeploymentError) as raised:
        load_record(w3)
    assert f"({other.file_name})" in str(raised.value) and "belong to other nodes" in str(raised.value)
    save_record(record)
    assert find_record(w3)[1] == record
    assert [p.name for p, _ in records_for_chain(31337)] == sorted([other.file_name, record.file_name])


def test_a_node_that_lost_a_contracts_code_is_damaged_not_redeployable(w3, record):
    save_record(record)
    address = record.contracts["TrackRegistry"].address
    w3.provider.make_request("anvil_setCode", [address, "0x00"])
    with pytest.raises(DeploymentError, match="the code of TrackRegistry is no longer at its address"):
        find_record(w3)


def test_an_unreadable_record_is_skipped_not_fatal(record):
    save_record(record)
    (deployments_dir() / "31337-deadbeef.json").write_text("{not json")
    assert [r for _, r in records_for_chain(31337)] == [record]
    with pytest.raises(DeploymentError, match="is not a deployment record this version reads"):
        deployment._read(deployments_dir() / "31337-deadbeef.json")


def test_growing_keeps_the_file_and_replacing_archives_it(w3, record):
    path, _ = save_record(record)
    wallet = deploy(w3, "ERC1271Wallet", w3.eth.accounts[0])
    grown = dataclasses.replace(record, contracts={**record.contracts, "ERC1271Wallet": wallet})
    assert save_record(grown) == (path, None)
    assert load_record(w3).contracts["ERC1271Wallet"] == wallet
    assert not (deployments_dir() / "archive").exists()

    stamp = record.deployed_at.replace(":", "")
    first = save_record(grown, replaced=grown)[1]
    assert first == deployments_dir() / "archive" / f"{path.stem}-{stamp}.json"
    assert DeploymentRecord.from_json(first.read_text()) == grown
    second = save_record(grown, replaced=grown)[1]  # again within the second: both archives kept
    assert second.name == f"{path.stem}-{stamp}-1.json" and first.exists()
    assert save_record(grown, replaced=grown)[1].name == f"{path.stem}-{stamp}-2.json"
    assert path.exists() and not list(deployments_dir().glob("*.tmp"))


def test_replacing_a_record_never_written_archives_nothing(record):
    never = dataclasses.replace(record, anchor_hash="0x" + "cd" * 32)
    assert save_record(record, replaced=never)[1] is None


def test_now_iso_is_utc_to_the_second():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_iso())
