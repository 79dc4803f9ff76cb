"""Derivative cascades on anvil: lineage from the registry, covers versus remixes and samples,
every parent paid, the parent list checked against `parentsHash`, the deepest allowed tree."""

import pytest
from eth_abi import encode
from eth_utils import keccak

from qfzz_chain.chain.types import Parent, Relation
from qfzz_chain.royalties import cascade
from tests.contracts.helpers import COVER, REMIX, SAMPLE, plain, register, reverts_with
from tests.contracts.royalties_helpers import (  # noqa: F401 (fixtures)
    BPS, COMPOSITION, ETH, MASTER, final_track, isolation, lineage, owed, pass_finality, registry, royalties, split,
    stablecoin,
)  # fmt: skip

MAX_DEPTH = 8


@pytest.fixture
def payer(accounts):
    return accounts[9]


def original(royalties, registry, artist):
    """A final original with its artist holding both rights."""
    track = final_track(registry, artist)[0]
    split(royalties, track, COMPOSITION, {artist: BPS}, sender=artist)
    split(royalties, track, MASTER, {artist: BPS}, sender=artist)
    return track


def derivative(royalties, registry, artist, parents, upstream=(3000, 3000)):
    """A final derivative with lineage recorded and both splits: `upstream` bps go to the parents."""
    track = final_track(registry, artist, parents=parents)[0]
    lineage(royalties, registry, track, parents)
    has_master = any(relation != COVER for _, relation in parents)
    for right, share in ((COMPOSITION, upstream[0]), (MASTER, upstream[1] if has_master else 0)):
        split(royalties, track, right, {artist: BPS - share} if share < BPS else {}, share, sender=artist)
    return track


def test_a_cover_pays_its_parents_composition_only(royalties, registry, payer, accounts):
    writer, singer = accounts[1], accounts[2]
    song = original(royalties, registry, writer)
    cover = derivative(royalties, registry, singer, [(song, COVER)], upstream=(BPS, 0))  # all of the composition
    royalties.pay(cover, 5000, {"from": payer, "value": 2000})
    tx = royalties.push(ETH, [(cover, COMPOSITION, 0, [(song, COVER)])], {"from": accounts[8]})
    assert plain(tx.events["Pushed"]) == {"trackId": cover, "parentId": song, "right": COMPOSITION, "version": 0,
                                          "token": ETH, "amount": 1000}  # fmt: skip
    assert owed(royalties, song, COMPOSITION, 0, writer) == 1000
    assert owed(royalties, cover, MASTER, 0, singer) == 1000  # the cover's own recording
    with reverts_with("NoUpstreamShare", cover, MASTER, 0):
        royalties.push(ETH, [(cover, MASTER, 0, [(song, COVER)])], {"from": accounts[8]})
    with reverts_with("InvalidUpstreamShare", cover, MASTER, 1):  # no master parent to pay
        split(royalties, cover, MASTER, {singer: BPS - 1}, 1, sender=singer)


def test_a_remix_and_a_sample_pay_both_rights_of_every_parent(royalties, registry, payer, accounts):
    a, b, c, producer = accounts[1], accounts[2], accounts[3], accounts[4]
    first, second, third = (original(royalties, registry, x) for x in (a, b, c))
    parents = [(first, REMIX), (second, SAMPLE), (third, COVER)]
    mashup = derivative(royalties, registry, producer, parents, upstream=(3000, 2000))
    royalties.pay(mashup, 5000, {"from": payer, "value": 20_000})  # 10,000 per right
    tx = royalties.push(ETH, [(mashup, COMPOSITION, 0, parents), (mashup, MASTER, 0, parents)], {"from": payer})
    pushed = [(bytes(e["parentId"]), e["right"], e["amount"]) for e in tx.events["Pushed"]]
    # composition: 3,000 among all three parents; master: 2,000 between the remix and the sample
    assert pushed == [(first, COMPOSITION, 1000), (second, COMPOSITION, 1000), (third, COMPOSITION, 1000),
                      (first, MASTER, 1000), (second, MASTER, 1000)]  # fmt: skip
    assert owed(royalties, third, MASTER, 0, c) == 0
    assert owed(royalties, mashup, COMPOSITION, 0, producer) == 7000
    assert owed(royalties, mashup, MASTER, 0, producer) == 8000
    with reverts_with("NothingToPush"):
        royalties.push(ETH, [(mashup, COMPOSITION, 0, parents)], {"from": payer})


def test_parents_split_a_push_with_no_dust_and_at_most_one_unit_apart(royalties, registry, payer, accounts):
    parents = [(original(royalties, registry, accounts[n]), REMIX) for n in (1, 2, 3)]
    remix = derivative(royalties, registry, accounts[4], parents, upstream=(BPS // 2, BPS // 2))
    for value in (2, 3, 5, 7):  # 1, 1.5, 2.5, 3.5 wei upstream: odd amounts among three parents
        royalties.pay(remix, BPS, {"from": payer, "value": value})
        royalties.push(ETH, [(remix, COMPOSITION, 0, parents)], {"from": payer})
    got = [royalties.received(p, COMPOSITION, 0, ETH) for p, _ in parents]
    assert sum(got) == royalties.withdrawn(remix, COMPOSITION, 0, ETH, ETH) == 9 and max(got) - min(got) <= 1
    assert got == cascade.parent_parts(0, 9, 3)


def test_the_parent_list_is_the_registrys_not_the_callers(royalties, registry, payer, accounts):
    song = original(royalties, registry, accounts[1])
    other = original(royalties, registry, accounts[2])
    remix = derivative(royalties, registry, accounts[3], [(song, REMIX)])
    royalties.pay(remix, BPS, {"from": payer, "value": 1000})
    expected = plain(registry.parentsHash(remix))
    assert expected == keccak(encode(["(bytes32,uint8)[]"], [[(song, REMIX)]]))
    for forged in ([(other, REMIX)], [(song, COVER)], [(song, REMIX), (other, REMIX)]):
        given = keccak(encode(["(bytes32,uint8)[]"], [forged]))
        with reverts_with("ParentsMismatch", remix, expected, given):
            royalties.push(ETH, [(remix, COMPOSITION, 0, forged)], {"from": payer})
    unrecorded = final_track(registry, accounts[3], parents=[(song, REMIX)])[0]
    with reverts_with("ParentsMismatch", unrecorded, plain(registry.parentsHash(unrecorded)), bytes(32)):
        royalties.recordLineage(unrecorded, [], {"from": payer})


def test_lineage_needs_a_final_registration_and_recorded_parents(royalties, registry, payer, accounts):
    song = final_track(registry, accounts[1])[0]
    remix, tx = register(registry, accounts[2], parents=[(song, REMIX)])
    with reverts_with("RegistrationNotFinal", remix, tx.timestamp + 86_401):
        royalties.recordLineage(remix, [(song, REMIX)], {"from": payer})
    pass_finality()
    with reverts_with("LineageNotRecorded", song):
        royalties.recordLineage(remix, [(song, REMIX)], {"from": payer})
    tx = royalties.recordLineage(song, [], {"from": payer})  # anyone may record what the registry says
    assert plain(tx.events["LineageRecorded"]) == {"trackId": song, "depth": 0, "parentCount": 0}
    tx = royalties.recordLineage(remix, [(song, REMIX)], {"from": payer})
    assert plain(tx.events["LineageRecorded"]) == {"trackId": remix, "depth": 1, "parentCount": 1}
    with reverts_with("LineageAlreadyRecorded", remix):
        royalties.recordLineage(remix, [(song, REMIX)], {"from": payer})
    assert plain(royalties.trackState(remix))[:4] == (True, 1, True, True)


def test_money_pushed_to_a_parent_without_a_split_waits_for_its_first_split(royalties, registry, payer, accounts):
    writer = accounts[1]
    song = final_track(registry, writer)[0]
    lineage(royalties, registry, song)
    remix = derivative(royalties, registry, accounts[2], [(song, REMIX)])
    royalties.pay(remix, BPS, {"from": payer, "value": 1000})
    royalties.push(ETH, [(remix, COMPOSITION, 0, [(song, REMIX)])], {"from": payer})
    assert royalties.received(song, COMPOSITION, 0, ETH) == 300
    with reverts_with("SplitNotSet", song, COMPOSITION):  # nobody can pay it directly yet
        royalties.pay(song, BPS, {"from": payer, "value": 1})
    split(royalties, song, COMPOSITION, {writer: BPS}, sender=writer)
    assert owed(royalties, song, COMPOSITION, 0, writer) == 300


def test_the_deepest_allowed_tree_is_pushed_end_to_end_in_one_call(royalties, registry, payer, accounts):
    """A chain of MAX_CASCADE_DEPTH derivatives below an original, the top one with 16 parents (the
    registry's most): one payment to the deepest, one push call, every ancestor paid. One more
    generation is refused."""
    artist = accounts[1]
    roots = [register(registry, artist)[0] for _ in range(16)]  # no splits: their money waits for them
    chain = [register(registry, artist, parents=[(r, REMIX) for r in roots])[0]]
    for _ in range(MAX_DEPTH - 1):
        chain.append(register(registry, artist, parents=[(chain[-1], SAMPLE)])[0])
    pass_finality()
    for root in roots:
        lineage(royalties, registry, root)
    for i, track in enumerate(chain):
        lineage(royalties, registry, track, [(r, REMIX) for r in roots] if i == 0 else [(chain[i - 1], SAMPLE)])
        for right in (COMPOSITION, MASTER):
            split(royalties, track, right, {artist: 5000}, 5000, sender=artist)
    assert plain(royalties.trackState(chain[-1]))[1] == MAX_DEPTH
    royalties.pay(chain[-1], 5000, {"from": payer, "value": 2**20})
    nodes = [(t, right, 0, [(r, REMIX) for r in roots] if t == chain[0] else [(chain[i - 1], SAMPLE)])
             for i, t in reversed(list(enumerate(chain))) for right in (COMPOSITION, MASTER)]  # fmt: skip
    tx = royalties.push(ETH, nodes, {"from": payer})
    assert len(tx.events["Pushed"]) == 2 * (MAX_DEPTH - 1) + 2 * 16
    assert tx.gas_used < 2_000_000, tx.gas_used
    # each generation keeps half of what reaches it; the sixteen originals share 2^20 / 2^9 per right
    for i, t in enumerate(chain):
        assert royalties.received(t, COMPOSITION, 0, ETH) == 2**19 >> (MAX_DEPTH - 1 - i)
    assert sum(royalties.received(r, MASTER, 0, ETH) for r in roots) == 2**19 >> MAX_DEPTH
    too_deep = final_track(registry, artist, parents=[(chain[-1], REMIX)])[0]
    with reverts_with("LineageTooDeep", too_deep, MAX_DEPTH + 1, MAX_DEPTH):
        royalties.recordLineage(too_deep, [(chain[-1], REMIX)], {"from": payer})


def test_the_simulation_predicts_every_push_of_a_cascade(royalties, registry, payer, accounts):
    """The Python core's `simulate` against the contract: a remix of a cover of an original, with a
    version change on the way."""
    a, b, c = accounts[1], accounts[2], accounts[3]
    song = original(royalties, registry, a)
    cover = derivative(royalties, registry, b, [(song, COVER)], upstream=(4000, 0))
    remix = derivative(royalties, registry, c, [(cover, REMIX)], upstream=(2500, 1000))
    royalties.pay(remix, 6000, {"from": payer, "value": 77_777})
    royalties.pay(cover, 3000, {"from": payer, "value": 5_555})
    from qfzz_chain.royalties.splits import Right, Split

    splits = {
        (song, 0): Split((a.address,), (BPS,)), (song, 1): Split((a.address,), (BPS,)),
        (cover, 0): Split((b.address,), (6000,), 4000), (cover, 1): Split((b.address,), (BPS,)),
        (remix, 0): Split((c.address,), (7500,), 2500), (remix, 1): Split((c.address,), (9000,), 1000),
    }  # fmt: skip
    versions = [cascade.VersionState(t, Right(r), 0, s, royalties.received(t, r, 0, ETH)) for (t, r), s in splits.items()]
    parents = {cover: (Parent(song, Relation.COVER),), remix: (Parent(cover, Relation.REMIX),)}
    after, steps = cascade.simulate(versions, parents, {(t, Right(r)): 0 for t, r in splits})
    nodes = [(s.track_id, int(s.right), s.version, [p.as_tuple() for p in s.parents]) for s in steps]
    royalties.push(ETH, nodes, {"from": payer})
    for (track, right), _ in splits.items():
        assert royalties.received(track, right, 0, ETH) == after[(track, Right(right), 0)].received
        assert royalties.owed(track, right, 0, ETH, ETH) == 0  # nothing left to push anywhere
