"""RecommendationOracle on anvil: committees with proofs of possession, model versions, anchors of
BLS-aggregated batches, and every refusal with its arguments."""

import os

import brownie
import pytest
from eth_utils import keccak

from qfzz_chain.oracle.chain import BatchHeader, batch_message
from qfzz_chain.zk import bls
from tests.contracts.helpers import plain, reverts_with, set_next_block_time

EPOCH = 3600
MANIFEST = (1, 0x55, 0x12, keccak(b"manifest v1"))
INFINITY_G2 = bytes(256)


class Member:
    def __init__(self, seed: int, operator):
        self.secret = bls.keygen(keccak(b"member" + bytes([seed])))
        self.public = bls.public_key(self.secret)
        self.key = bls.to_eip2537(self.public)
        self.pop = bls.to_eip2537(bls.prove_possession(self.secret))
        self.operator = operator


def aggregate_key(members) -> bytes:
    return bls.to_eip2537(bls.aggregate_public_keys([m.public for m in members])) if members else INFINITY_G2


def next_epoch(oracle) -> None:
    start = oracle.genesisTime() + (oracle.currentEpoch() + 1) * EPOCH
    set_next_block_time(max(start, brownie.chain[-1].timestamp + 1))
    brownie.chain.mine()


@pytest.fixture(scope="module")
def oracle(RecommendationOracle, accounts):
    return RecommendationOracle.deploy(accounts[0], EPOCH, {"from": accounts[0]})


@pytest.fixture(scope="module")
def members(accounts):
    return [Member(i, accounts[2 + i]) for i in range(4)]


def join_all(oracle, members, owner) -> None:
    joined = []
    for member in members:
        oracle.approveOperator(member.operator, {"from": owner})
        oracle.join(member.key, member.pop, aggregate_key(joined), {"from": member.operator})
        joined.append(member)


@pytest.fixture
def live(oracle, members, accounts):
    """Four members joined in epoch 0, model version 1 active from epoch 1; the chain at epoch 2."""
    join_all(oracle, members, accounts[0])
    oracle.registerModelVersion(1, MANIFEST, 1, {"from": accounts[0]})
    next_epoch(oracle)
    next_epoch(oracle)
    return oracle


def header(epoch: int = 1, root: bytes | None = None, leaves: int = 1000, version: int = 1) -> BatchHeader:
    return BatchHeader(epoch, root or os.urandom(32), leaves, version, keccak(b"inputs" + bytes([epoch])))


def signed(oracle, members, batch: BatchHeader, signers=None) -> dict:
    """The anchor's arguments with ``signers`` (default: everyone) signing ``batch``."""
    signers = members if signers is None else signers
    message = batch_message(brownie.chain.id, oracle.address, batch)
    signature = bls.aggregate_signatures([bls.sign(m.secret, message) for m in signers])
    committee_id, (_, bitmap, *_) = oracle.committeeAt(batch.epoch)
    chosen = sum(1 << members.index(m) for m in signers)
    serving = [m for i, m in enumerate(members) if bitmap >> i & 1]
    missing = b"".join(m.key for m in serving if m not in signers)
    return {"batch": batch.as_tuple(), "committeeId": committee_id, "signers": chosen,
            "signature": bls.to_eip2537(signature), "aggregatePublicKey": aggregate_key(serving),
            "nonSignerKeys": missing}  # fmt: skip


def anchor(oracle, arguments: dict, sender):
    return oracle.anchor(*arguments.values(), {"from": sender})


# ---- anchoring -------------------------------------------------------------------------------


def test_every_member_signing_anchors_the_batch(live, members, accounts):
    batch = header()
    tx = anchor(live, signed(live, members, batch), accounts[9])
    assert plain(tx.events["BatchAnchored"]) == {
        "epoch": 1, "root": batch.root, "leafCount": 1000, "modelVersion": 1, "inputs": batch.inputs,
        "signers": 0b1111, "committeeId": 1, "anchoredBy": accounts[9].address,
    }  # fmt: skip
    assert plain(live.anchoredRoot(1)) == batch.root
    assert plain(live.batchMessage(batch.as_tuple())) == batch_message(brownie.chain.id, live.address, batch)


def test_a_quorum_with_a_non_signer_anchors(live, members, accounts):
    tx = anchor(live, signed(live, members, header(), members[1:]), accounts[9])
    assert tx.events["BatchAnchored"]["signers"] == 0b1110


def test_below_two_thirds_is_refused(live, members, accounts):
    with reverts_with("QuorumNotReached", 2, 4):
        anchor(live, signed(live, members, header(), members[:2]), accounts[9])


def test_a_batch_is_anchored_once(live, members, accounts):
    batch = header()
    anchor(live, signed(live, members, batch), accounts[9])
    with reverts_with("AlreadyAnchored", 1, batch.root):
        anchor(live, signed(live, members, batch), accounts[8])
    with reverts_with("AlreadyAnchored", 1, batch.root):
        anchor(live, signed(live, members, header(root=os.urandom(32))), accounts[8])


def test_an_open_epoch_cannot_be_anchored(live, members, accounts):
    with reverts_with("EpochNotClosed", 2, 2):
        anchor(live, signed(live, members, header(epoch=2)), accounts[9])
    with reverts_with("EpochNotClosed", 7, 2):  # nor one that has not begun
        anchor(live, signed(live, members, header(epoch=7)), accounts[9])


def test_empty_batches_are_refused(live, members, accounts):
    for empty in (header(root=bytes(32)), header(leaves=0)):
        with reverts_with("EmptyBatch"):
            anchor(live, signed(live, members, empty), accounts[9])


def test_a_signature_over_other_fields_is_refused(live, members, accounts):
    arguments = signed(live, members, header())
    arguments["batch"] = header(root=os.urandom(32)).as_tuple()  # signed one root, claims another
    with reverts_with("InvalidAggregateSignature"):
        anchor(live, arguments, accounts[9])
    forged = signed(live, members, header(), members[1:])
    forged["signers"] = 0b1111  # claims the fourth member signed too, without its key subtracted
    forged["nonSignerKeys"] = b""
    with reverts_with("InvalidAggregateSignature"):
        anchor(live, forged, accounts[9])


def test_the_message_binds_this_contract(live, members, accounts, RecommendationOracle):
    other = RecommendationOracle.deploy(accounts[0], EPOCH, {"from": accounts[0]})
    batch = header()
    arguments = signed(live, members, batch)
    message = batch_message(brownie.chain.id, other.address, batch)  # signed for another oracle
    arguments["signature"] = bls.to_eip2537(bls.aggregate_signatures([bls.sign(m.secret, message) for m in members]))
    with reverts_with("InvalidAggregateSignature"):
        anchor(live, arguments, accounts[9])


def test_short_and_malformed_points_are_refused(live, members, accounts):
    arguments = signed(live, members, header())
    with reverts_with("InvalidKeyLength", 64, 128):
        anchor(live, arguments | {"signature": arguments["signature"][:64]}, accounts[9])
    with reverts_with("AggregateKeyMismatch", 1):
        anchor(live, arguments | {"aggregatePublicKey": aggregate_key(members[:3])}, accounts[9])


def test_signers_outside_the_committee_are_refused(live, members, accounts):
    arguments = signed(live, members, header())
    with reverts_with("UnknownSigners", 1 << 7):
        anchor(live, arguments | {"signers": 0b1111 | 1 << 7}, accounts[9])


def test_non_signer_keys_must_be_the_committees(live, members, accounts):
    arguments = signed(live, members, header(), members[1:])
    with reverts_with("NonSignerKeysMismatch", 0):
        anchor(live, arguments | {"nonSignerKeys": b""}, accounts[9])
    with reverts_with("NonSignerKeysMismatch", 0):
        anchor(live, arguments | {"nonSignerKeys": members[1].key}, accounts[9])
    with reverts_with("NonSignerKeysMismatch", 0):  # the right key, and one too many
        anchor(live, arguments | {"nonSignerKeys": members[0].key + members[1].key}, accounts[9])


def test_the_committee_must_be_the_epochs(live, members, accounts):
    arguments = signed(live, members, header())
    with reverts_with("WrongCommittee", 0, 1):
        anchor(live, arguments | {"committeeId": 0}, accounts[9])
    with reverts_with("WrongCommittee", 5, 1):
        anchor(live, arguments | {"committeeId": 5}, accounts[9])
    with reverts_with("WrongCommittee", 2, 1):  # one past the last committee (0 empty, 1 the four)
        anchor(live, arguments | {"committeeId": 2}, accounts[9])
    next_epoch(live)  # epoch 2 closes: committee 0 ended at epoch 1, before it
    with reverts_with("WrongCommittee", 0, 2):
        anchor(live, signed(live, members, header(epoch=2)) | {"committeeId": 0}, accounts[9])


# ---- model versions --------------------------------------------------------------------------


def test_a_batch_names_the_version_active_in_its_epoch(live, members, accounts):
    live.registerModelVersion(2, (1, 0x55, 0x12, keccak(b"manifest v2")), 3, {"from": accounts[0]})
    assert live.activeModelVersion(2) == 1 and live.activeModelVersion(3) == 2
    assert plain(live.modelVersion(1)) == (1, 3)
    next_epoch(live)
    next_epoch(live)  # epoch 4: epochs 1-3 are closed
    with reverts_with("ModelVersionNotActive", 2, 2):
        anchor(live, signed(live, members, header(epoch=2, version=2)), accounts[9])
    with reverts_with("ModelVersionNotActive", 1, 3):
        anchor(live, signed(live, members, header(epoch=3, version=1)), accounts[9])
    with reverts_with("ModelVersionNotActive", 9, 3):
        anchor(live, signed(live, members, header(epoch=3, version=9)), accounts[9])
    anchor(live, signed(live, members, header(epoch=2, version=1)), accounts[9])
    anchor(live, signed(live, members, header(epoch=3, version=2)), accounts[9])
    next_epoch(live)  # epoch 5: epoch 4 is closed, a version after version 1 was superseded
    with reverts_with("ModelVersionNotActive", 1, 4):
        anchor(live, signed(live, members, header(epoch=4, version=1)), accounts[9])


def test_model_versions_count_up_and_activate_in_the_future(live, accounts):
    current = live.currentEpoch()
    manifest = (1, 0x55, 0x12, keccak(b"v2"))
    with reverts_with("InvalidModelVersion", 3, 1, current + 1):
        live.registerModelVersion(3, manifest, current + 1, {"from": accounts[0]})
    with reverts_with("InvalidModelVersion", 2, 1, current):
        live.registerModelVersion(2, manifest, current, {"from": accounts[0]})
    with reverts_with("InvalidModelVersion", 2, 1, current + 1):
        live.registerModelVersion(2, (1, 0x55, 0x13, keccak(b"v2")), current + 1, {"from": accounts[0]})
    with reverts_with("OwnableUnauthorizedAccount", accounts[1].address):
        live.registerModelVersion(2, manifest, current + 1, {"from": accounts[1]})
    tx = live.registerModelVersion(2, manifest, current + 1, {"from": accounts[0]})
    assert plain(tx.events["ModelVersionRegistered"]) == {"version": 2, "manifest": manifest, "activationEpoch": current + 1}


# ---- the committee ---------------------------------------------------------------------------


def test_joining_takes_effect_at_the_next_epoch(oracle, members, accounts):
    first = members[0]
    oracle.approveOperator(first.operator, {"from": accounts[0]})
    tx = oracle.join(first.key, first.pop, INFINITY_G2, {"from": first.operator})
    assert plain(tx.events["MemberJoined"]) == {"index": 0, "operator": first.operator.address, "publicKey": first.key,
                                                "fromEpoch": 1}  # fmt: skip
    assert plain(tx.events["CommitteeScheduled"]) == {"committeeId": 1, "fromEpoch": 1, "members": 1, "size": 1,
                                                      "aggregatePublicKey": first.key}  # fmt: skip
    assert oracle.committeeAt(0)[1]["size"] == 0 and oracle.committeeAt(1)[1]["size"] == 1
    second = members[1]
    oracle.approveOperator(second.operator, {"from": accounts[0]})
    tx = oracle.join(second.key, second.pop, first.key, {"from": second.operator})
    assert tx.events["CommitteeScheduled"]["committeeId"] == 1  # the same pending committee, amended
    assert plain(oracle.member(1)) == (second.operator.address, keccak(second.key))
    committee_id, committee = oracle.committeeAt(1)
    assert (committee_id, committee["members"], committee["size"]) == (1, 0b11, 2)
    assert plain(committee["apkHash"]) == keccak(aggregate_key(members[:2]))


def test_only_approved_operators_join_with_a_proof_of_possession(oracle, members, accounts):
    member = members[0]
    with reverts_with("NotApprovedOperator", member.operator.address):
        oracle.join(member.key, member.pop, INFINITY_G2, {"from": member.operator})
    oracle.approveOperator(member.operator, {"from": accounts[0]})
    with reverts_with("InvalidProofOfPossession"):
        oracle.join(member.key, members[1].pop, INFINITY_G2, {"from": member.operator})
    with reverts_with("InvalidProofOfPossession"):
        oracle.join(INFINITY_G2, bytes(128), INFINITY_G2, {"from": member.operator})
    with reverts_with("InvalidKeyLength", 96, 256):
        oracle.join(bytes(member.public), member.pop, INFINITY_G2, {"from": member.operator})
    with reverts_with("AggregateKeyMismatch", 0):
        oracle.join(member.key, member.pop, members[1].key, {"from": member.operator})
    oracle.join(member.key, member.pop, INFINITY_G2, {"from": member.operator})
    with reverts_with("NotApprovedOperator", member.operator.address):  # once a member, not twice
        oracle.join(member.key, member.pop, member.key, {"from": member.operator})
    oracle.approveOperator(member.operator, {"from": accounts[0]})  # approving a member again changes nothing
    with reverts_with("NotApprovedOperator", member.operator.address):
        oracle.join(members[1].key, members[1].pop, member.key, {"from": member.operator})


def test_a_rogue_key_cannot_join(oracle, members, accounts):
    """The rogue-key attack: a key chosen as (attacker's key − honest key) would let the attacker
    sign alone for both, and it has no proof of possession."""
    from py_ecc.bls.g2_primitives import G2_to_signature, signature_to_G2
    from py_ecc.optimized_bls12_381 import add, neg

    honest, attacker = members[0], members[1]
    join_all(oracle, [honest], accounts[0])
    # keys are G2 points, which py-ecc (min-pubkey-size) serialises as "signatures"
    rogue = G2_to_signature(add(signature_to_G2(attacker.public), neg(signature_to_G2(honest.public))))
    oracle.approveOperator(attacker.operator, {"from": accounts[0]})
    for proof in (attacker.pop, honest.pop, bls.to_eip2537(bls.sign(attacker.secret, bls.to_eip2537(rogue)))):
        with reverts_with("InvalidProofOfPossession"):
            oracle.join(bls.to_eip2537(rogue), proof, honest.key, {"from": attacker.operator})
    # without the PoP check, the aggregate of (honest, rogue) is the attacker's key alone:
    aggregate = bls.aggregate_public_keys([honest.public, rogue])
    assert aggregate == attacker.public


def test_leaving_takes_effect_at_the_next_epoch(live, members, accounts):
    leaving = members[3]
    tx = live.leave(3, leaving.key, aggregate_key(members), {"from": leaving.operator})
    assert plain(tx.events["MemberLeft"]) == {"index": 3, "operator": leaving.operator.address, "fromEpoch": 3}
    assert live.committeeAt(2)[1]["size"] == 4 and live.committeeAt(3)[1]["size"] == 3
    assert plain(live.committeeAt(3)[1]["apkHash"]) == keccak(aggregate_key(members[:3]))
    next_epoch(live)
    next_epoch(live)  # epoch 4
    two_of_three = members[1:3]  # exactly two thirds of epoch 3's committee: a quorum
    anchor(live, signed(live, members, header(epoch=3), two_of_three), accounts[9])
    anchor(live, signed(live, members, header(epoch=2), members[1:]), accounts[9])  # epoch 2 still had four


def test_leave_refusals(live, members, accounts):
    with reverts_with("NotMember", 0, accounts[9].address):
        live.leave(0, members[0].key, aggregate_key(members), {"from": accounts[9]})
    with reverts_with("PublicKeyMismatch", 0):
        live.leave(0, members[1].key, aggregate_key(members), {"from": members[0].operator})
    live.leave(0, members[0].key, aggregate_key(members), {"from": accounts[0]})  # the owner removes
    with reverts_with("NotMember", 0, members[0].operator.address):
        live.leave(0, members[0].key, aggregate_key(members[1:]), {"from": members[0].operator})
    for index in (1, 2):
        live.leave(index, members[index].key, aggregate_key(members[index:]), {"from": members[index].operator})
    with reverts_with("LastMember", 3):
        live.leave(3, members[3].key, members[3].key, {"from": members[3].operator})
