"""The pure royalty cores without a chain: splits and their allocation, cascade math, epoch
amounts, the OpenZeppelin standard tree, amounts and flow tables."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from qfzz_chain.chain.types import Parent, Relation
from qfzz_chain.royalties import cascade, epochs, flows
from qfzz_chain.royalties.amounts import AmountError, format_amount, parse_amount
from qfzz_chain.royalties.contract import Payment, PushEvent
from qfzz_chain.royalties.errors import CascadeError, EpochInputError, MerkleTreeError, RoyaltiesError, SplitInputError
from qfzz_chain.royalties.merkle import StandardMerkleTree, hash_pair, leaf_hash, process_proof
from qfzz_chain.royalties.splits import BPS, UPSTREAM, Right, Split, divide_payment, parse_bps, parse_split

A, B, C = (Web3.to_checksum_address("0x" + f"{n:040x}") for n in (0xA, 0xB, 0xC))


@st.composite
def splits(draw, max_people=5):
    """A random valid split: 1..max_people recipients and perhaps an upstream share."""
    upstream = draw(st.sampled_from([0, 0, 1, 2500, 5000, 9999]))
    count = draw(st.integers(1, max_people)) if upstream < BPS else 0
    left = BPS - upstream
    count = min(count, left)
    cuts = sorted(draw(st.sets(st.integers(1, left - 1), min_size=count - 1, max_size=count - 1))) if count > 1 else []
    bounds = [0, *cuts, left]
    bps = tuple(b - a for a, b in zip(bounds, bounds[1:])) if count else ()
    people = tuple(Web3.to_checksum_address("0x" + f"{n + 1:040x}") for n in range(len(bps)))
    return Split(people, bps, upstream)


# ---- splits ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(split=splits(), totals=st.lists(st.integers(0, 10**24), min_size=1, max_size=6))
def test_the_allocation_is_exact_monotone_and_near_pro_rata(split, totals):
    last = None
    for total in sorted(totals):
        shares = split.allocate(total)
        assert sum(shares.values()) == total
        for holder, run in split.runs().items():
            exact = Fraction(total * run.units, run.block)
            assert abs(shares[holder] - exact) < run.units
        if last is not None:
            assert all(shares[h] >= last[h] for h in shares)
        last = shares


def test_a_fifty_fifty_split_alternates_single_wei():
    split = Split((A, B), (5000, 5000))
    assert [tuple(split.allocate(t).values()) for t in range(5)] == [(0, 0), (1, 0), (1, 1), (2, 1), (2, 2)]
    assert split.runs()[A].block == 2


def test_the_upstream_run_comes_first():
    split = Split((A,), (7000,), 3000)
    assert split.runs()[UPSTREAM].offset == 0 and split.runs()[A].offset == 3
    assert split.allocate(5) == {UPSTREAM: 3, A: 2}  # block of ten units: 3 upstream, then 7


@pytest.mark.parametrize(
    "recipients, bps, upstream, message",
    [
        ((A, B), (6000, 3000), 0, "add up to 9000 bps"),
        ((A, A), (5000, 5000), 0, "listed twice"),
        ((A, B), (10000, 0), 0, "no share"),
        ((A,), (5000, 5000), 0, "1 recipients but 2 shares"),
        ((UPSTREAM,), (10000,), 0, "zero address"),
        ((A,), (10000,), 10001, "outside 0..10000"),
    ],
)
def test_bad_splits_are_refused_with_the_contracts_reasons(recipients, bps, upstream, message):
    with pytest.raises(SplitInputError, match=message):
        Split(recipients, bps, upstream)


def test_split_text_takes_basis_points_and_percentages():
    split = parse_split(f"{A.lower()}=33.33%, {B}=3334,{C}=3333", 0)
    assert split.recipients == (A, B, C) and split.bps == (3333, 3334, 3333)
    assert parse_bps("25%") == 2500 and parse_bps("0.01%") == 1 and parse_bps("100") == 100
    for bad in ("25.001%", "x", "-5"):
        with pytest.raises(SplitInputError):
            parse_bps(bad)
    with pytest.raises(SplitInputError, match="ADDRESS=BPS"):
        parse_split(A, 0)
    with pytest.raises(SplitInputError, match="not an address"):
        parse_split("0x12=100%", 0)


def test_a_payment_divides_as_the_contract_does():
    assert divide_payment(10_001, 2500) == (2500, 7501)
    assert divide_payment(3, BPS) == (3, 0) and divide_payment(3, 0) == (0, 3)
    with pytest.raises(SplitInputError):
        divide_payment(0, 5000)
    with pytest.raises(SplitInputError):
        divide_payment(5, BPS + 1)


# ---- cascade ---------------------------------------------------------------------------------


def t(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_a_cover_reaches_its_parents_composition_only():
    parents = [Parent(t(1), Relation.COVER), Parent(t(2), Relation.REMIX), Parent(t(3), Relation.SAMPLE)]
    assert cascade.eligible_parents(parents, Right.COMPOSITION) == [t(1), t(2), t(3)]
    assert cascade.eligible_parents(parents, Right.MASTER) == [t(2), t(3)]


@given(before=st.integers(0, 10**9), grow=st.integers(0, 10**9), count=st.integers(1, 16))
def test_parents_get_equal_parts_at_most_one_unit_apart(before, grow, count):
    parts = cascade.parent_parts(before, before + grow, count)
    assert sum(parts) == grow
    totals = [cascade.run_of(before + grow, j, count) for j in range(count)]
    assert max(totals) - min(totals) <= 1


def test_depths_follow_the_longest_chain_and_refuse_cycles():
    parents = {t(2): (Parent(t(1), Relation.REMIX),), t(3): (Parent(t(2), Relation.SAMPLE), Parent(t(1), Relation.COVER))}
    assert cascade.depths(parents) == {t(1): 0, t(2): 1, t(3): 2}
    with pytest.raises(CascadeError, match="cycle"):
        cascade.depths({t(1): (Parent(t(2), Relation.REMIX),), t(2): (Parent(t(1), Relation.REMIX),)})
    with pytest.raises(CascadeError, match="9 generations"):
        cascade.check_depth(t(9), 9)


def test_simulation_carries_money_up_two_generations():
    """E samples D, D remixes A and covers B; a payment to E's composition reaches A and B."""
    a, b, d, e = t(1), t(2), t(4), t(5)
    parents = {d: (Parent(a, Relation.REMIX), Parent(b, Relation.COVER)), e: (Parent(d, Relation.SAMPLE),)}
    versions = [
        cascade.VersionState(e, Right.COMPOSITION, 0, Split((A,), (5000,), 5000), received=1000),
        cascade.VersionState(d, Right.COMPOSITION, 0, Split((B,), (6000,), 4000), received=0),
        cascade.VersionState(e, Right.MASTER, 0, Split((A,), (9000,), 1000), received=1000),
        cascade.VersionState(d, Right.MASTER, 0, Split((B,), (8000,), 2000), received=0),
    ]
    current = {(x, r): 0 for x in (a, b, d, e) for r in Right}
    after, steps = cascade.simulate(versions, parents, current)
    assert [(s.track_id, s.right, s.amount) for s in steps] == [
        (e, Right.COMPOSITION, 500), (e, Right.MASTER, 100), (d, Right.COMPOSITION, 200), (d, Right.MASTER, 20)]
    assert after[(a, Right.COMPOSITION, 0)].received == 100 and after[(b, Right.COMPOSITION, 0)].received == 100
    assert after[(a, Right.MASTER, 0)].received == 20 and (b, Right.MASTER, 0) not in after  # a cover: no master
    assert versions[0].pushed == 0  # the input is not changed


# ---- epochs ---------------------------------------------------------------------------------


@given(pool=st.integers(0, 10**15), weights=st.dictionaries(st.integers(0, 50), st.integers(0, 10**6), min_size=1))
def test_apportionment_is_exact(pool, weights):
    if not any(weights.values()):
        return
    shares = epochs.apportion(pool, weights)
    assert sum(shares.values()) == pool
    total = sum(weights.values())
    for key, weight in weights.items():
        assert abs(shares[key] - Fraction(pool * weight, total)) < 1


def test_pro_rata_and_user_centric_on_a_small_world():
    listens = [("heavy", "hit", 900), ("heavy", "niche", 100), ("light", "niche", 10)]
    assert epochs.pro_rata({"hit": 900, "niche": 110}, 1010) == {"hit": 900, "niche": 110}
    # each listener's 505 follows that listener: the light listener's all goes to the niche track
    assert epochs.user_centric(listens, 1010) == {"hit": 455, "niche": 555}
    with pytest.raises(EpochInputError, match="nothing was played"):
        epochs.user_centric([], 5)
    with pytest.raises(EpochInputError, match="negative"):
        epochs.apportion(5, {"x": -1})


def test_ties_go_to_the_smaller_key_so_every_machine_agrees():
    assert epochs.apportion(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}


def test_the_epoch_tree_holds_each_track_once_in_id_order():
    tree = epochs.epoch_tree({t(3): 10, t(1): 5, t(2): 0}, 2000)
    assert tree.values == ((0, t(1), 1, 4), (1, t(3), 2, 8))
    assert epochs.tree_total(tree) == 15
    for position in range(len(tree)):
        assert tree.verify(position, tree.proof(position))
    with pytest.raises(EpochInputError):
        epochs.epoch_tree({b"short": 5}, 0)
    with pytest.raises(EpochInputError):
        epochs.epoch_tree({t(1): 0}, 0)


def test_head_and_tail_groups_cover_every_track_once():
    plays = {n: 1000 // (n + 1) for n in range(200)}
    pro = epochs.pro_rata(plays, 10**6)
    groups = epochs.head_tail(plays, pro, pro)
    assert sum(g.tracks for g in groups) == 200
    assert abs(sum(g.pro_rata_share for g in groups) - 1) < 1e-12 and all(g.moved == 0 for g in groups)


# ---- the OpenZeppelin standard tree ------------------------------------------------------------

# `StandardMerkleTree.of([[addr, "0"], [addr, "1"], [addr, "2"]], ["address", "uint256"]).dump()`
# from @openzeppelin/merkle-tree, as published with a project that uses it
PUBLISHED_DUMP = {
    "format": "standard-v1",
    "tree": [
        "0x0fecce441c7468f17e3fe4a5f211b77a15b27c9ab3d33317df385dfbe5487034",
        "0x636ab2686ee3036244cf3d6b5574e051e4b20a3577b008975dbcca6dde2897d2",
        "0xd90245da324d7908326a3d56a9659741551a4603c397bf4dd373976bd85660e7",
        "0x36fb17c97ec80bb961ff0adff1af4a2a34847ecc40653c162e327117a76e3ec9",
        "0x1867c4ebd455913e429523a5c2d4b3a79f58068b5a25af911956245ed03a659d",
    ],
    "values": [
        {"value": ["0x80d628ff4AC2aFf620C3474663F1e559234bbE0c", "0"], "treeIndex": 4},
        {"value": ["0x80d628ff4AC2aFf620C3474663F1e559234bbE0c", "1"], "treeIndex": 3},
        {"value": ["0x80d628ff4AC2aFf620C3474663F1e559234bbE0c", "2"], "treeIndex": 2},
    ],
    "leafEncoding": ["address", "uint256"],
}


def test_the_tree_matches_the_javascript_librarys_dump():
    built = StandardMerkleTree.of([["0x80d628ff4AC2aFf620C3474663F1e559234bbE0c", n] for n in range(3)],
                                  ["address", "uint256"])  # fmt: skip
    assert built.dump() == {k: PUBLISHED_DUMP[k] for k in ("format", "leafEncoding", "tree", "values")}
    loaded = StandardMerkleTree.load(json.loads(json.dumps(PUBLISHED_DUMP)))
    assert loaded.root == built.root and loaded.proof(0) == built.proof(0)
    assert process_proof(leaf_hash(["address", "uint256"], loaded.values[2]), loaded.proof(2)) == loaded.root


def test_an_edited_dump_is_refused():
    edited = json.loads(json.dumps(PUBLISHED_DUMP))
    edited["values"][0]["value"][1] = "7"
    with pytest.raises(MerkleTreeError, match="do not match"):
        StandardMerkleTree.load(edited)
    with pytest.raises(MerkleTreeError):
        StandardMerkleTree.load({"format": "other"})
    with pytest.raises(MerkleTreeError):
        StandardMerkleTree.of([], ["uint256"])


@given(count=st.integers(1, 70))
def test_every_proof_of_every_size_verifies(count):
    tree = StandardMerkleTree.of([[n, t(n)] for n in range(count)], ["uint256", "bytes32"])
    for position in range(count):
        assert tree.verify(position, tree.proof(position))
    assert len(tree.proof(0)) <= count.bit_length()
    assert hash_pair(b"\x01" * 32, b"\x02" * 32) == hash_pair(b"\x02" * 32, b"\x01" * 32)


# ---- amounts and flows ----------------------------------------------------------------------


def test_amounts_are_exact_decimals():
    assert parse_amount("0.05", 18) == 5 * 10**16 and parse_amount("12.5", 6) == 12_500_000
    assert parse_amount("1000wei", 18) == 1000 and parse_amount("1_000", 0) == 1000
    assert format_amount(1_234_500, 6, "TUSD") == "1.2345 TUSD" and format_amount(10**18, 18) == "1"
    for bad, message in (("0", "positive"), ("1.0000001", "more than 6 decimals"), ("lots", "not an amount")):
        with pytest.raises(AmountError, match=message):
            parse_amount(bad, 6)


def test_a_flow_table_balances_or_names_the_gap():
    track = t(7)
    payments = [Payment(track, A, "ETH", 40, 60, 1, "0x1")]
    pushes_out = [PushEvent(track, t(1), Right.COMPOSITION, 0, "ETH", 12, 2, "0x2")]
    versions = [
        flows.VersionFlows(Right.COMPOSITION, 0, "ETH", 40, (flows.HolderState(UPSTREAM, 12, 0),
                                                              flows.HolderState(B, 20, 8))),
        flows.VersionFlows(Right.MASTER, 0, "ETH", 60, (flows.HolderState(B, 0, 60),)),
    ]  # fmt: skip
    rows = flows.track_flows(track, payments, [], pushes_out, [], versions)
    flows.check_balanced(rows)
    assert flows.totals(rows) == {"ETH": {"in": 100, "out": 100}}
    assert [(r.destination, r.state, r.amount) for r in rows if r.direction == "out"] == [
        ("parent " + flows.short(t(1)), "pushed", 12), (flows.short(B), "withdrawn", 20), (flows.short(B), "owed", 8),
        (flows.short(B), "owed", 60)]
    with pytest.raises(RoyaltiesError, match="do not balance"):
        flows.check_balanced(rows[:-1])
