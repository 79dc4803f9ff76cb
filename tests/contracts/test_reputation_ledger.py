"""ReputationLedger on anvil: identities from the attester's tree, stakes with unbonding, scores
posted with a bounded step and decay, weights, and slashing of oracle equivocation (BLS checked
on-chain) and curator non-reveals, each refusal with its arguments."""

import os

import brownie
import pytest
from eth_utils import keccak

from qfzz_chain.oracle.chain import BatchHeader, batch_message
from qfzz_chain.reputation import rules
from qfzz_chain.reputation.identity import Attestation
from qfzz_chain.zk import bls
from tests.contracts.curation_helpers import NO_SEGMENT, STAKE_SATURATION, World, identity_of, tree_isolation, world  # noqa: F401
from tests.contracts.helpers import cid_v0, plain, reverts_with

CURATOR, ORACLE_NODE = 0, 1
PRIOR_WEIGHT = rules.compute_weight(rules.PRIOR_SCORE, 0, STAKE_SATURATION)


@pytest.fixture(scope="module")
def bound(world: World):
    """Four people attested (a fifth attested but unbound), the first four bound."""
    people = world.people[:5]
    world.post_tree([Attestation(p.address, identity_of(p)) for p in people])
    for person in people[:4]:
        world.bind(person)
    return people


# ---- identities ------------------------------------------------------------------------------


def test_binding_an_attested_identity_gives_the_prior_weight(world, bound):
    person = world.people[4]
    tx = world.bind(person)
    index = tx.return_value
    assert index == 5
    assert plain(tx.events["IdentityBound"]) == {
        "identity": 5, "identityId": identity_of(person), "account": person.address, "previous": brownie.ZERO_ADDRESS}
    assert tx.events["WeightChanged"]["weight"] == PRIOR_WEIGHT == 223_606
    voter = world.ledger.voterOf(person)
    assert (voter["identity"], voter["weight"], voter["boundAt"], voter["segment"]) == (5, PRIOR_WEIGHT, tx.timestamp,
                                                                                        NO_SEGMENT)
    assert world.ledger.totalWeight() == 5 * PRIOR_WEIGHT
    assert world.ledger.reputationOf(CURATOR, 5)[0] == rules.PRIOR_SCORE


def test_an_account_without_identity_has_no_weight_and_no_proof_helps(world, bound, accounts):
    sybil = brownie.accounts.add()
    accounts[0].transfer(sybil, "1 ether")
    assert world.ledger.voterOf(sybil)["weight"] == 0
    fake = identity_of(sybil)
    with reverts_with("InvalidIdentityProof", sybil, fake):
        world.ledger.bind(fake, world.tree.proof(bound[0].address), {"from": sybil})
    # someone else's leaf and proof bind nobody but that account
    with reverts_with("InvalidIdentityProof", sybil, identity_of(bound[4])):
        world.ledger.bind(identity_of(bound[4]), world.tree.proof(bound[4].address), {"from": sybil})


def test_an_account_binds_one_identity(world, bound):
    with reverts_with("AccountAlreadyBound", bound[0], 1):
        world.bind(bound[0])


def test_an_identity_moves_to_another_account_with_its_reputation(world, bound):
    person, second = bound[0], world.people[6]
    ident = identity_of(person)
    world.post_tree([Attestation(p.address, identity_of(p)) for p in bound] + [Attestation(second.address, ident)])
    world.post([(CURATOR, 1, 900_000, 1)])
    tx = world.bind(second, ident)
    assert tx.return_value == 1
    assert tx.events["IdentityBound"]["previous"] == person.address
    assert world.ledger.voterOf(person)["identity"] == 0
    moved = world.ledger.voterOf(second)
    assert (moved["identity"], moved["segment"]) == (1, 1)
    assert moved["weight"] == rules.compute_weight(rules.PRIOR_SCORE + rules.MAX_STEP, 0, STAKE_SATURATION)
    assert world.ledger.totalWeight() == 3 * PRIOR_WEIGHT + moved["weight"]


def test_a_revoked_identity_loses_its_weight_for_good(world, bound):
    ident = identity_of(bound[1])
    with reverts_with("NotAttester", world.owner):
        world.ledger.revoke(ident, {"from": world.owner})
    tx = world.ledger.revoke(ident, {"from": world.attester})
    assert plain(tx.events["IdentityRevoked"]) == {"identity": 2, "identityId": ident, "account": bound[1].address}
    assert world.ledger.weightOf(2) == 0 and world.ledger.voterOf(bound[1])["identity"] == 0
    assert world.ledger.totalWeight() == 3 * PRIOR_WEIGHT
    with reverts_with("IdentityIsRevoked", ident):
        world.bind(bound[1])
    with reverts_with("IdentityIsRevoked", ident):
        world.ledger.revoke(ident, {"from": world.attester})
    with reverts_with("UnboundIdentityId", identity_of(bound[4])):
        world.ledger.revoke(identity_of(bound[4]), {"from": world.attester})


def test_only_the_attester_posts_roots_and_only_the_owner_names_roles(world):
    with reverts_with("NotAttester", world.updater):
        world.ledger.postIdentityRoot(os.urandom(32), 1, cid_v0(), {"from": world.updater})
    with pytest.raises(brownie.exceptions.VirtualMachineError):
        world.ledger.setAttester(world.updater, {"from": world.updater})
    with reverts_with("ZeroAddress"):
        world.ledger.setUpdater(brownie.ZERO_ADDRESS, {"from": world.owner})


def test_segments_are_defined_once_with_bounded_names(world):
    assert world.ledger.segmentCount() == 4
    assert world.ledger.segmentName(2) == "region:west-africa"
    with reverts_with("InvalidSegmentName", ""):
        world.ledger.addSegment("", {"from": world.owner})
    with reverts_with("InvalidSegment", 4, 4):
        world.ledger.segmentName(4)


# ---- weight ----------------------------------------------------------------------------------


def test_the_weight_formula_is_the_documented_one(world):
    for score in (0, 1, 200_000, 640_000, 999_999, 1_000_000):
        for stake in (0, 1, 10**17, 25 * 10**16, STAKE_SATURATION - 1, STAKE_SATURATION, 5 * STAKE_SATURATION):
            assert world.ledger.computeWeight(score, stake) == rules.compute_weight(score, stake, STAKE_SATURATION)


def test_weight_is_concave_in_stake_and_capped(world):
    weights = [rules.compute_weight(rules.REP_SCALE, k * STAKE_SATURATION // 4, STAKE_SATURATION) for k in range(6)]
    gains = [b - a for a, b in zip(weights, weights[1:])]
    assert weights[0] == 500_000 and weights[4] == weights[5] == rules.MAX_WEIGHT
    assert all(later <= earlier for earlier, later in zip(gains, gains[1:]))
    assert rules.compute_weight(0, 5 * STAKE_SATURATION, STAKE_SATURATION) == 0  # no reputation, no weight


# ---- stake -----------------------------------------------------------------------------------


def test_stake_raises_weight_and_unbonds_before_it_can_leave(world, bound):
    person = bound[0]
    with reverts_with("NotStakeController", CURATOR, 1, bound[1]):
        world.ledger.stake(CURATOR, 1, {"from": bound[1], "value": 10**17})
    with reverts_with("ZeroAmount"):
        world.ledger.stake(CURATOR, 1, {"from": person, "value": 0})
    with reverts_with("UnknownIdentity", 9):
        world.ledger.stake(CURATOR, 9, {"from": person, "value": 1})
    tx = world.ledger.stake(CURATOR, 1, {"from": person, "value": STAKE_SATURATION})
    staked = rules.compute_weight(rules.PRIOR_SCORE, STAKE_SATURATION, STAKE_SATURATION)
    assert tx.events["WeightChanged"]["weight"] == staked == 447_213
    with reverts_with("InsufficientStake", 2 * STAKE_SATURATION, STAKE_SATURATION):
        world.ledger.requestUnstake(CURATOR, 1, 2 * STAKE_SATURATION, {"from": person})
    tx = world.ledger.requestUnstake(CURATOR, 1, STAKE_SATURATION // 2, {"from": person})
    release = tx.timestamp + rules.UNBONDING_SECONDS
    assert tx.events["UnstakeRequested"]["releaseAt"] == release
    assert world.ledger.weightOf(1) == rules.compute_weight(rules.PRIOR_SCORE, STAKE_SATURATION // 2, STAKE_SATURATION)
    with reverts_with("StakeLocked", release):
        world.ledger.withdrawStake(CURATOR, 1, {"from": person})
    brownie.chain.sleep(rules.UNBONDING_SECONDS)
    before = person.balance()
    tx = world.ledger.withdrawStake(CURATOR, 1, {"from": person})
    assert person.balance() == before + STAKE_SATURATION // 2 - tx.gas_used * tx.gas_price
    assert plain(world.ledger.stakeOf(CURATOR, 1)) == (STAKE_SATURATION // 2, 0, release)
    with reverts_with("ZeroAmount"):
        world.ledger.withdrawStake(CURATOR, 1, {"from": person})


def test_an_oracle_member_stakes_through_its_operator(world, accounts):
    member = Member(0, accounts[3])
    join(world, [member])
    with reverts_with("UnknownMember", 1):
        world.ledger.stake(ORACLE_NODE, 1, {"from": accounts[3], "value": 1})
    with reverts_with("NotStakeController", ORACLE_NODE, 0, accounts[4]):
        world.ledger.stake(ORACLE_NODE, 0, {"from": accounts[4], "value": 1})
    world.ledger.stake(ORACLE_NODE, 0, {"from": accounts[3], "value": 10**18})
    assert world.ledger.stakeOf(ORACLE_NODE, 0)[0] == 10**18


# ---- scores ----------------------------------------------------------------------------------


def test_a_posted_target_moves_the_score_one_bounded_step_per_epoch(world, bound):
    epoch = world.epoch()
    tx = world.post([(CURATOR, 1, 1_000_000, 2), (CURATOR, 2, 0, NO_SEGMENT), (CURATOR, 3, 210_000, 0)])
    events = [plain(e) for e in tx.events["ScoreUpdated"]]
    assert [(e["subject"], e["previous"], e["target"], e["score"], e["segment"]) for e in events] == [
        (1, 200_000, 1_000_000, 250_000, 2), (2, 200_000, 0, 150_000, NO_SEGMENT), (3, 200_000, 210_000, 210_000, 0)]
    assert world.ledger.voterOf(bound[0])["segment"] == 2
    assert world.ledger.weightOf(1) == rules.compute_weight(250_000, 0, STAKE_SATURATION)
    assert world.ledger.totalWeight() == sum(world.ledger.weightOf(i) for i in range(1, 5))
    with reverts_with("AlreadyUpdated", CURATOR, 1, epoch):
        world.post([(CURATOR, 1, 1_000_000, 2)])
    with reverts_with("WrongEpoch", epoch + 1, epoch):
        world.post([(CURATOR, 1, 1_000_000, 2)], epoch=epoch + 1)


def test_postings_are_checked(world, bound):
    with reverts_with("NotUpdater", world.attester):
        world.ledger.postScores(world.epoch(), [(CURATOR, 1, 1, NO_SEGMENT)], {"from": world.attester})
    with reverts_with("InvalidScore", 1_000_001):
        world.post([(CURATOR, 1, 1_000_001, NO_SEGMENT)])
    with reverts_with("InvalidSegment", 4, 4):
        world.post([(CURATOR, 1, 1, 4)])
    with reverts_with("UnknownIdentity", 9):
        world.post([(CURATOR, 9, 1, NO_SEGMENT)])
    with reverts_with("UnknownMember", 0):
        world.post([(ORACLE_NODE, 0, 1, NO_SEGMENT)])


def test_the_score_above_the_prior_decays_and_a_penalty_is_not_forgiven(world, bound):
    expected_high, expected_low, last = rules.PRIOR_SCORE, rules.PRIOR_SCORE, None
    for _ in range(6):
        epoch = world.epoch()
        since = 0 if last is None else epoch - last
        expected_high = rules.posted(expected_high, since, 1_000_000)
        expected_low = rules.posted(expected_low, since, 0)
        world.post([(CURATOR, 1, 1_000_000, NO_SEGMENT), (CURATOR, 2, 0, NO_SEGMENT)])
        last = epoch
        world.next_epoch()
    high, low = world.ledger.reputationOf(CURATOR, 1), world.ledger.reputationOf(CURATOR, 2)
    assert (high["stored"], low["stored"]) == (expected_high, expected_low) == (492_597, 0)
    for _ in range(30):
        world.next_epoch()
    epochs = world.epoch() - high["asOfEpoch"]
    assert world.ledger.reputationOf(CURATOR, 1)["score"] == rules.decayed(expected_high, epochs) < expected_high
    assert world.ledger.reputationOf(CURATOR, 2)["score"] == 0
    stale = world.ledger.totalWeight()
    tx = world.ledger.applyDecay(CURATOR, [1, 2], {"from": world.people[9]})
    assert [plain(e)["subject"] for e in tx.events["ScoreDecayed"]] == [1]
    now = rules.decayed(expected_high, epochs)
    assert world.ledger.weightOf(1) == rules.compute_weight(now, 0, STAKE_SATURATION)
    assert world.ledger.totalWeight() < stale
    # the next posting starts from the decayed score
    tx = world.post([(CURATOR, 1, 1_000_000, NO_SEGMENT)])
    assert tx.events["ScoreUpdated"]["previous"] == now


def test_decay_matches_the_python_rules(world):
    for score in (0, 199_999, 200_000, 200_001, 654_321, 1_000_000):
        for epochs in (0, 1, 2, 7, 69, 100, 1000, 4095, 4096, 10**6):
            assert world.ledger.decayed(score, epochs) == rules.decayed(score, epochs)
    assert rules.decayed(1_000_000, 69) - rules.PRIOR_SCORE == 399_869  # the excess halves in ~69 epochs


# ---- slashing --------------------------------------------------------------------------------


class Member:
    def __init__(self, seed: int, operator):
        self.secret = bls.keygen(keccak(b"ledger member" + bytes([seed])))
        self.public = bls.public_key(self.secret)
        self.key = bls.to_eip2537(self.public)
        self.pop = bls.to_eip2537(bls.prove_possession(self.secret))
        self.operator = operator

    def sign(self, oracle, header: BatchHeader) -> bytes:
        return bls.to_eip2537(bls.sign(self.secret, batch_message(brownie.chain.id, oracle.address, header)))


def join(world, members):
    joined = []
    for member in members:
        world.oracle.approveOperator(member.operator, {"from": world.owner})
        aggregate = bls.to_eip2537(bls.aggregate_public_keys([m.public for m in joined])) if joined else bytes(256)
        world.oracle.join(member.key, member.pop, aggregate, {"from": member.operator})
        joined.append(member)


def batch(epoch=3, root=None) -> BatchHeader:
    return BatchHeader(epoch, root or os.urandom(32), 100, 1, keccak(b"inputs"))


def equivocation(world, member, index, first, second, key=None, signer=None):
    signer = signer or member
    return (index, key or member.key, first.as_tuple(), member.sign(world.oracle, first), second.as_tuple(),
            signer.sign(world.oracle, second))  # fmt: skip


def test_an_oracle_member_signing_two_roots_for_one_epoch_is_slashed(world, accounts):
    members = [Member(i, accounts[3 + i]) for i in range(2)]
    join(world, members)
    world.ledger.stake(ORACLE_NODE, 1, {"from": accounts[4], "value": 10**18})
    first, second = batch(), batch()
    reporter = world.people[7]
    tx = world.ledger.slashEquivocation(equivocation(world, members[1], 1, first, second), {"from": reporter})
    event = plain(tx.events["EquivocationSlashed"])
    assert event == {
        "member": 1, "epoch": 3, "operator": accounts[4].address,
        "firstMessage": batch_message(brownie.chain.id, world.oracle.address, first),
        "secondMessage": batch_message(brownie.chain.id, world.oracle.address, second),
        "scoreLost": rules.PRIOR_SCORE, "stakeSlashed": 10**18, "reporter": reporter.address}  # fmt: skip
    assert world.ledger.reputationOf(ORACLE_NODE, 1)[0] == 0
    assert plain(world.ledger.stakeOf(ORACLE_NODE, 1))[:2] == (0, 0)
    assert world.ledger.rewardOf(reporter) == 10**17 and world.ledger.burned() == 9 * 10**17
    before = reporter.balance()
    tx = world.ledger.withdrawReward({"from": reporter})
    assert reporter.balance() == before + 10**17 - tx.gas_used * tx.gas_price
    with reverts_with("AlreadySlashed", 1, 3):
        world.ledger.slashEquivocation(equivocation(world, members[1], 1, first, batch()), {"from": reporter})
    # the updater cannot lift an equivocator's score
    world.next_epoch()
    tx = world.post([(ORACLE_NODE, 1, 1_000_000, NO_SEGMENT), (ORACLE_NODE, 0, 1_000_000, NO_SEGMENT)])
    assert [plain(e)["score"] for e in tx.events["ScoreUpdated"]] == [0, rules.PRIOR_SCORE + rules.MAX_STEP]


def test_an_equivocation_needs_two_different_batches_of_one_epoch_signed_by_the_member(world, accounts):
    members = [Member(i, accounts[3 + i]) for i in range(2)]
    join(world, members)
    one = batch()
    with reverts_with("NotEquivocation", 3, 3):
        world.ledger.slashEquivocation(equivocation(world, members[0], 0, one, one))
    with reverts_with("NotEquivocation", 3, 4):
        world.ledger.slashEquivocation(equivocation(world, members[0], 0, one, batch(epoch=4)))
    with reverts_with("InvalidEquivocationSignature", 1):
        world.ledger.slashEquivocation(equivocation(world, members[0], 0, one, batch(), signer=members[1]))
    with reverts_with("PublicKeyMismatch", 0):
        world.ledger.slashEquivocation(equivocation(world, members[0], 0, one, batch(), key=members[1].key))
    with reverts_with("UnknownMember", 5):
        world.ledger.slashEquivocation(equivocation(world, members[0], 5, one, batch()))
    proof = list(equivocation(world, members[0], 0, one, batch()))
    proof[3] = proof[3][:96]
    with reverts_with("InvalidPointLength", 96, 128):
        world.ledger.slashEquivocation(proof)


def test_only_curation_reports_non_revealers(world, bound):
    with reverts_with("NotCuration", bound[0]):
        world.ledger.penalizeNonReveal(1, 1, bound[0], {"from": bound[0]})
