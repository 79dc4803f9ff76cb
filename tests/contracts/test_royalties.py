"""Royalties on anvil: splits (who may set them, locking, control), payments in ETH and tokens,
withdrawals, every refusal with its arguments, tokens that take fees or rebase, ERC-2981."""

import brownie
import pytest
from eth_abi import encode
from eth_utils import keccak

from qfzz_chain.royalties.splits import Split
from tests.contracts.helpers import REMIX, plain, register, reverts_with
from tests.contracts.royalties_helpers import (  # noqa: F401 (fixtures)
    BPS, COMPOSITION, DAY, ETH, MASTER, final_track, isolation, owed, pass_finality, registry, royalties, split,
    stablecoin,
)  # fmt: skip


@pytest.fixture
def artist(accounts):
    return accounts[1]


@pytest.fixture
def payer(accounts):
    return accounts[9]


@pytest.fixture
def track(registry, artist):
    return final_track(registry, artist)[0]


def both_splits(royalties, track, artist, composition, master=None):
    split(royalties, track, COMPOSITION, composition, sender=artist)
    split(royalties, track, MASTER, master or composition, sender=artist)


# ---- who sets splits -------------------------------------------------------------------------


def test_the_first_split_is_the_artists_on_a_final_registration(royalties, registry, artist, accounts):
    fresh, tx = register(registry, artist)
    final_at = tx.timestamp + DAY + 1
    with reverts_with("RegistrationNotFinal", fresh, final_at):
        split(royalties, fresh, COMPOSITION, {accounts[2]: BPS}, sender=artist)
    pass_finality()
    with reverts_with("NotArtist", fresh, accounts[2]):
        split(royalties, fresh, COMPOSITION, {accounts[2]: BPS}, sender=accounts[2])
    unknown = keccak(b"never registered")
    with reverts_with("TrackNotRegistered", unknown):
        split(royalties, unknown, COMPOSITION, {accounts[2]: BPS}, sender=artist)

    tx = split(royalties, fresh, COMPOSITION, {accounts[2]: 6000, accounts[3]: 4000}, sender=artist)
    recipients, bps = [accounts[2].address, accounts[3].address], [6000, 4000]
    expected_hash = keccak(encode(["address[]", "uint16[]", "uint16"], [recipients, bps, 0]))
    assert plain(tx.events["SplitSet"]) == {
        "trackId": fresh, "right": COMPOSITION, "version": 0, "recipients": tuple(recipients), "bps": tuple(bps),
        "upstreamBps": 0, "splitHash": expected_hash,
    }  # fmt: skip
    assert plain(tx.events["LineageRecorded"]) == {"trackId": fresh, "depth": 0, "parentCount": 0}  # an original
    assert plain(royalties.splitHash(fresh, COMPOSITION, 0)) == expected_hash == Split(tuple(recipients), (6000, 4000)).hash
    assert royalties.shareOf(fresh, COMPOSITION, 0, accounts[3]) == 4000
    assert royalties.shareOf(fresh, COMPOSITION, 0, accounts[4]) == 0
    assert plain(royalties.controllerOf(fresh, COMPOSITION)) == (artist.address, ETH)
    state = plain(royalties.trackState(fresh))
    assert state == (True, 0, False, False, (True, False), (False, False), (0, 0))


@pytest.mark.parametrize(
    "shares, upstream, error",
    [
        ({2: 6000, 3: 3000}, 0, ("InvalidSplitSum", 9000, BPS)),
        ({2: 6000, 3: 5000}, 0, ("InvalidSplitSum", 11000, BPS)),
        ({2: 10000, 3: 0}, 0, ("ZeroShare", 3)),
        ({2: 5000, 0: 5000}, 0, ("ZeroAddress",)),
        ({2: 10000}, 1, ("InvalidUpstreamShare", "track", COMPOSITION, 1)),  # an original has no parents
    ],
)
def test_bad_splits_are_refused_by_name(royalties, track, artist, accounts, shares, upstream, error):
    who = {n: (ETH if n == 0 else accounts[n]) for n in shares}
    name, *arguments = error
    arguments = [track if a == "track" else accounts[a] if name in ("ZeroShare",) else a for a in arguments]
    with reverts_with(name, *arguments):
        split(royalties, track, COMPOSITION, {who[n]: bps for n, bps in shares.items()}, upstream, sender=artist)


def test_duplicates_lengths_and_counts_are_refused(royalties, track, artist, accounts):
    a, b = accounts[2], accounts[3]
    with reverts_with("DuplicateRecipient", a):
        royalties.setSplit(track, COMPOSITION, [a, b, a], [4000, 3000, 3000], 0, {"from": artist})
    with reverts_with("LengthMismatch", 2, 1):
        royalties.setSplit(track, COMPOSITION, [a, b], [BPS], 0, {"from": artist})
    many = [brownie.accounts.add().address for _ in range(101)]
    with reverts_with("TooManyRecipients", 101, 100):
        royalties.setSplit(track, COMPOSITION, many, [1] * 101, 0, {"from": artist})


def test_the_controller_changes_a_split_and_each_version_keeps_its_money(royalties, track, artist, payer, accounts):
    a, b, c = accounts[2], accounts[3], accounts[4]
    both_splits(royalties, track, artist, {a: 5000, b: 5000})
    royalties.pay(track, BPS, {"from": payer, "value": 1000})
    with reverts_with("NotController", track, COMPOSITION, a):
        split(royalties, track, COMPOSITION, {c: BPS}, sender=a)
    tx = split(royalties, track, COMPOSITION, {c: BPS}, sender=artist)
    assert tx.events["SplitSet"]["version"] == 1
    royalties.pay(track, BPS, {"from": payer, "value": 300})
    assert royalties.received(track, COMPOSITION, 0, ETH) == 1000
    assert royalties.received(track, COMPOSITION, 1, ETH) == 300
    assert [owed(royalties, track, COMPOSITION, 0, x) for x in (a, b, c)] == [500, 500, 0]
    assert owed(royalties, track, COMPOSITION, 1, c) == 300
    # the master split never changed: still version 0
    assert plain(royalties.trackState(track))[6] == (1, 0)


def test_control_moves_in_two_steps_and_a_lock_is_forever(royalties, track, artist, accounts):
    label, stranger = accounts[5], accounts[6]
    split(royalties, track, MASTER, {artist: BPS}, sender=artist)
    tx = royalties.transferControl(track, MASTER, label, {"from": artist})
    assert plain(tx.events["ControlTransferProposed"]) == {"trackId": track, "right": MASTER, "from": artist, "to": label}
    with reverts_with("NotPendingController", track, MASTER, stranger):
        royalties.acceptControl(track, MASTER, {"from": stranger})
    tx = royalties.acceptControl(track, MASTER, {"from": label})
    assert plain(tx.events["ControlTransferred"]) == {"trackId": track, "right": MASTER, "from": artist, "to": label}
    with reverts_with("NotController", track, MASTER, artist):  # the artist gave control away
        split(royalties, track, MASTER, {artist: BPS}, sender=artist)
    split(royalties, track, MASTER, {label: 2000, artist: 8000}, sender=label)
    tx = royalties.lockSplit(track, MASTER, {"from": label})
    assert plain(tx.events["SplitLocked"]) == {"trackId": track, "right": MASTER, "version": 1}
    assert plain(royalties.controllerOf(track, MASTER)) == (ETH, ETH)
    with reverts_with("SplitIsLocked", track, MASTER):
        split(royalties, track, MASTER, {label: BPS}, sender=label)
    with reverts_with("SplitIsLocked", track, MASTER):
        royalties.transferControl(track, MASTER, artist, {"from": label})
    with reverts_with("SplitNotSet", track, COMPOSITION):
        royalties.lockSplit(track, COMPOSITION, {"from": artist})


def test_an_attribution_transfer_leaves_the_splits_with_their_controller(royalties, registry, track, artist, accounts):
    heir = accounts[7]
    split(royalties, track, COMPOSITION, {artist: BPS}, sender=artist)
    registry.proposeAttributionTransfer(track, heir, {"from": artist})
    registry.acceptAttributionTransfer(track, {"from": heir})
    with reverts_with("NotController", track, COMPOSITION, heir):
        split(royalties, track, COMPOSITION, {heir: BPS}, sender=heir)
    split(royalties, track, MASTER, {heir: BPS}, sender=heir)  # an unset right is the new artist's to set
    with reverts_with("NotArtist", track, artist):
        royalties.setSaleRoyalty(track, 1000, 5000, {"from": artist})


# ---- paying --------------------------------------------------------------------------------


def test_a_payment_divides_by_the_declared_ratio_and_every_wei_is_withdrawn(royalties, track, artist, payer, accounts):
    writer, performer = accounts[2], accounts[3]
    both_splits(royalties, track, artist, {writer: 7000, artist: 3000}, {performer: 5000, artist: 5000})
    tx = royalties.pay(track, 2500, {"from": payer, "value": 10_001})
    assert plain(tx.events["Paid"]) == {"trackId": track, "payer": payer, "token": ETH, "composition": 2500,
                                        "master": 7501}  # fmt: skip
    royalties.pay(track, BPS, {"from": payer, "value": 3})  # composition only
    royalties.pay(track, 0, {"from": payer, "value": 4})  # master only
    assert owed(royalties, track, COMPOSITION, 0, writer) + owed(royalties, track, COMPOSITION, 0, artist) == 2503
    assert owed(royalties, track, MASTER, 0, performer) + owed(royalties, track, MASTER, 0, artist) == 7505

    before = artist.balance()
    refs = [(track, COMPOSITION, 0), (track, MASTER, 0)]
    due = owed(royalties, track, COMPOSITION, 0, artist) + owed(royalties, track, MASTER, 0, artist)
    tx = royalties.withdraw(refs, [ETH], {"from": artist})
    assert plain(tx.events["Withdrawn"]) == {"recipient": artist, "token": ETH, "amount": due}
    assert artist.balance() == before + due
    royalties.withdraw([refs[0]], [ETH], {"from": writer})
    royalties.withdraw([refs[1]], [ETH], {"from": performer})
    assert royalties.balance() == 0  # nothing created, nothing left behind
    with reverts_with("NothingToWithdraw", artist):
        royalties.withdraw(refs, [ETH], {"from": artist})
    with reverts_with("UnknownShare", track, MASTER, 0, writer):
        royalties.withdraw(refs, [ETH], {"from": writer})


def test_zero_unknown_unset_and_bad_ratio_payments_are_refused(royalties, registry, track, artist, payer, accounts):
    with reverts_with("SplitNotSet", track, COMPOSITION):
        royalties.pay(track, BPS, {"from": payer, "value": 1})
    split(royalties, track, COMPOSITION, {artist: BPS}, sender=artist)
    with reverts_with("SplitNotSet", track, MASTER):
        royalties.pay(track, 5000, {"from": payer, "value": 2})
    with reverts_with("ZeroPayment"):
        royalties.pay(track, BPS, {"from": payer, "value": 0})
    with reverts_with("InvalidRatio", 10001):
        royalties.pay(track, 10_001, {"from": payer, "value": 5})
    unknown = keccak(b"unknown")
    with reverts_with("TrackNotRegistered", unknown):
        royalties.pay(unknown, BPS, {"from": payer, "value": 5})
    with reverts_with("UnexpectedEther", payer):
        payer.transfer(royalties, 1)


def test_the_allocation_leaves_no_dust_and_never_takes_back(royalties, track, artist, payer, accounts):
    """Three recipients at 3333/3333/3334 bps, paid one wei at a time: what they may withdraw only
    grows, always sums to what was paid, and matches the Python core."""
    people = accounts[2:5]
    shares = {people[0]: 3333, people[1]: 3333, people[2]: 3334}
    split(royalties, track, COMPOSITION, shares, sender=artist)
    core = Split(tuple(p.address for p in people), (3333, 3333, 3334))
    last = [0, 0, 0]
    for paid in range(1, 8):
        royalties.pay(track, BPS, {"from": payer, "value": 1})
        now = [owed(royalties, track, COMPOSITION, 0, p) for p in people]
        assert sum(now) == paid and all(n >= m for n, m in zip(now, last))
        assert now == [core.allocate(paid)[p.address] for p in people]
        last = now
    royalties.pay(track, BPS, {"from": payer, "value": 10**18 - 7})
    assert [owed(royalties, track, COMPOSITION, 0, p) for p in people] == [
        333_300_000_000_000_000, 333_300_000_000_000_000, 333_400_000_000_000_000]


def test_a_token_payment_and_a_fee_on_transfer_token_credit_what_arrived(
    royalties, track, artist, payer, stablecoin, FeeOnTransferToken, accounts
):  # fmt: skip
    both_splits(royalties, track, artist, {artist: BPS})
    stablecoin.mint(payer, 10**9, {"from": payer})
    stablecoin.approve(royalties, 2**256 - 1, {"from": payer})
    tx = royalties.payToken(track, 4000, stablecoin, 5_000_000, {"from": payer})
    assert plain(tx.events["Paid"]) == {"trackId": track, "payer": payer, "token": stablecoin, "composition": 2_000_000,
                                        "master": 3_000_000}  # fmt: skip
    fee_token = FeeOnTransferToken.deploy(100, {"from": payer})  # 1% burnt on every transfer
    fee_token.mint(payer, 10**6, {"from": payer})
    fee_token.approve(royalties, 2**256 - 1, {"from": payer})
    tx = royalties.payToken(track, BPS, fee_token, 100_000, {"from": payer})
    assert tx.events["Paid"]["composition"] == 99_000  # the fee was the payer's, the split got what arrived
    assert fee_token.balanceOf(royalties) == 99_000 == owed(royalties, track, COMPOSITION, 0, artist, fee_token)
    royalties.withdraw([(track, COMPOSITION, 0), (track, MASTER, 0)], [stablecoin, fee_token, ETH], {"from": artist})
    assert stablecoin.balanceOf(artist) == 5_000_000 and stablecoin.balanceOf(royalties) == 0
    assert fee_token.balanceOf(royalties) == 0 and fee_token.balanceOf(artist) == 98_010  # 1% again on the way out
    with reverts_with("ZeroAddress"):
        royalties.payToken(track, BPS, ETH, 1, {"from": payer})
    with reverts_with("ZeroPayment"):
        royalties.payToken(track, BPS, stablecoin, 0, {"from": payer})
    with reverts_with("TokenCallFailed", accounts[5]):  # not a contract: no balance to read
        royalties.payToken(track, BPS, accounts[5], 1, {"from": payer})


def test_repeat_token_payments_refuse_and_credit_exactly_as_the_first(
    royalties, track, artist, payer, stablecoin, FeeOnTransferToken, accounts
):  # fmt: skip
    """A repeat token payment is credited by payToken's one-pass path (both splits set, the token
    word at both current versions); its every refusal, and the first payment after a new version,
    must be what the general path does."""
    writer = accounts[2]
    both_splits(royalties, track, artist, {artist: BPS})
    stablecoin.mint(payer, 2**113, {"from": payer})
    stablecoin.approve(royalties, 2**256 - 1, {"from": payer})
    royalties.payToken(track, 5000, stablecoin, 1_000, {"from": payer})
    with reverts_with("InvalidRatio", 10001):  # 1 * 10,001 / 10,000 is 1: the ratio itself is refused
        royalties.payToken(track, 10_001, stablecoin, 1, {"from": payer})
    with reverts_with("ZeroPayment"):
        royalties.payToken(track, 5000, stablecoin, 0, {"from": payer})
    with reverts_with("AmountTooLarge", 2**112 - 1 + 500, 2**112 - 1):  # the composition's new total
        royalties.payToken(track, BPS, stablecoin, 2**112 - 1, {"from": payer})
    tx = royalties.payToken(track, 3000, stablecoin, 2_000, {"from": payer})
    assert plain(tx.events["Paid"]) == {"trackId": track, "payer": payer, "token": stablecoin, "composition": 600,
                                        "master": 1_400}  # fmt: skip
    assert royalties.received(track, COMPOSITION, 0, stablecoin) == 1_100
    assert royalties.received(track, MASTER, 0, stablecoin) == 1_900
    # a new composition version: the next payment closes version 0 at what it received
    split(royalties, track, COMPOSITION, {writer: BPS}, sender=artist)
    royalties.payToken(track, 5000, stablecoin, 10, {"from": payer})
    royalties.payToken(track, 5000, stablecoin, 20, {"from": payer})
    assert [royalties.received(track, COMPOSITION, v, stablecoin) for v in (0, 1)] == [1_100, 15]
    assert royalties.received(track, MASTER, 0, stablecoin) == 1_915
    assert owed(royalties, track, COMPOSITION, 1, writer, stablecoin) == 15
    assert stablecoin.balanceOf(royalties) == 1_100 + 1_915 + 15  # exactly what is owed
    # a fee-on-transfer token paid again and again: always what arrived, never what was sent
    fee_token = FeeOnTransferToken.deploy(250, {"from": payer})  # 2.5% burnt on every transfer
    fee_token.mint(payer, 10**9, {"from": payer})
    fee_token.approve(royalties, 2**256 - 1, {"from": payer})
    for amount in (40_000, 40_000, 123_457):
        tx = royalties.payToken(track, 5000, fee_token, amount, {"from": payer})
        paid = tx.events["Paid"]
        assert paid["composition"] + paid["master"] == amount - amount * 250 // BPS
    held = fee_token.balanceOf(royalties)
    assert held == sum(a - a * 250 // BPS for a in (40_000, 40_000, 123_457))
    assert held == sum(royalties.received(track, right, v, fee_token) for right, v in ((COMPOSITION, 1), (MASTER, 0)))


def test_a_payment_naming_one_right_needs_only_that_split(royalties, track, artist, payer, stablecoin):
    split(royalties, track, COMPOSITION, {artist: BPS}, sender=artist)
    stablecoin.mint(payer, 10**6, {"from": payer})
    stablecoin.approve(royalties, 2**256 - 1, {"from": payer})
    for _ in range(2):
        royalties.payToken(track, BPS, stablecoin, 100, {"from": payer})
    with reverts_with("SplitNotSet", track, MASTER):
        royalties.payToken(track, 9_999, stablecoin, 100, {"from": payer})
    assert royalties.received(track, COMPOSITION, 0, stablecoin) == 200 == stablecoin.balanceOf(royalties)


def test_a_rebasing_token_is_confined_to_its_own_balance(royalties, track, artist, payer, RebasingToken, accounts):
    """Documented, not supported: a balance that moves without a transfer. Accounting stays at what
    was paid; a negative rebase makes the last withdrawal of that token fail, never another token's."""
    writer = accounts[2]
    both_splits(royalties, track, artist, {artist: 5000, writer: 5000})
    token = RebasingToken.deploy({"from": payer})
    token.mint(payer, 10**6, {"from": payer})
    token.approve(royalties, 2**256 - 1, {"from": payer})
    royalties.payToken(track, BPS, token, 1000, {"from": payer})
    royalties.pay(track, BPS, {"from": payer, "value": 1000})
    token.rebase(1, 2, {"from": payer})  # every balance halves
    assert owed(royalties, track, COMPOSITION, 0, artist, token) == 500  # what was paid, not what is held
    royalties.withdraw([(track, COMPOSITION, 0)], [token], {"from": artist})
    with brownie.reverts():
        royalties.withdraw([(track, COMPOSITION, 0)], [token], {"from": writer})
    royalties.withdraw([(track, COMPOSITION, 0)], [ETH], {"from": writer})  # ETH is untouched
    assert writer.balance() > 0 and royalties.balance() == 500


def test_many_tracks_and_tokens_in_one_withdrawal(royalties, registry, artist, payer, stablecoin, accounts):
    tracks = [final_track(registry, artist)[0] for _ in range(3)]
    stablecoin.mint(payer, 10**9, {"from": payer})
    stablecoin.approve(royalties, 2**256 - 1, {"from": payer})
    for n, track in enumerate(tracks):
        both_splits(royalties, track, artist, {artist: 2500, accounts[2]: 7500})
        royalties.pay(track, 5000, {"from": payer, "value": 1000 * (n + 1)})
        royalties.payToken(track, 5000, stablecoin, 100 * (n + 1), {"from": payer})
    refs = [(t, right, 0) for t in tracks for right in (COMPOSITION, MASTER)]
    core = Split((artist.address, accounts[2].address), (2500, 7500))  # a block of 4 units, the artist's first
    token_due = sum(2 * core.allocate(50 * (n + 1))[artist.address] for n in range(3))
    assert token_due == 2 * (13 + 25 + 38)  # 25% of 150 rounds to 38: the artist's unit comes first in each block
    before = artist.balance()
    tx = royalties.withdraw(refs, [ETH, stablecoin], {"from": artist})
    assert [plain(e) for e in tx.events["Withdrawn"]] == [
        {"recipient": artist, "token": ETH, "amount": 1500}, {"recipient": artist, "token": stablecoin, "amount": token_due}]
    assert artist.balance() == before + 1500 and stablecoin.balanceOf(artist) == token_due
    assert royalties.withdrawn(tracks[2], MASTER, 0, artist, stablecoin) == 38


def test_a_recipient_that_refuses_ether_blocks_nobody_else(royalties, track, artist, payer, RoyaltyAttacker, accounts):
    refuser = RoyaltyAttacker.deploy(royalties, {"from": accounts[0]})
    refuser.setRefuseEther(True, {"from": accounts[0]})
    split(royalties, track, COMPOSITION, {refuser: 5000, artist: 5000}, sender=artist)
    royalties.pay(track, BPS, {"from": payer, "value": 1000})
    with reverts_with("EthTransferFailed", refuser, 500):
        refuser.call(royalties.withdraw.encode_input([(track, COMPOSITION, 0)], [ETH]), {"from": payer})
    royalties.withdraw([(track, COMPOSITION, 0)], [ETH], {"from": artist})
    assert owed(royalties, track, COMPOSITION, 0, refuser) == 500  # still there for when it can take it


# ---- ERC-2981 ------------------------------------------------------------------------------


def test_royalty_info_names_a_receiver_that_takes_a_transfer_and_flushes_into_the_splits(
    royalties, registry, track, artist, payer, stablecoin, TestMarketplace, TrackReceiver, accounts
):  # fmt: skip
    token_id = int.from_bytes(track, "big")
    assert royalties.supportsInterface("0x2a55205a") and royalties.supportsInterface("0x01ffc9a7")
    assert plain(royalties.royaltyInfo(token_id, 10**18)) == (ETH, 0)  # no sale royalty set
    with reverts_with("SaleRoyaltyNotSet", track):
        royalties.flushReceiver(track, ETH, {"from": payer})
    both_splits(royalties, track, artist, {artist: BPS})
    tx = royalties.setSaleRoyalty(track, 1000, 6000, {"from": artist})  # 10%, 60% of it to the composition
    assert plain(tx.events["SaleRoyaltySet"]) == {"trackId": track, "royaltyBps": 1000, "compositionBps": 6000}
    receiver = royalties.receiverOf(track)
    assert plain(royalties.royaltyInfo(token_id, 2 * 10**18)) == (receiver, 2 * 10**17)
    assert brownie.web3.eth.get_code(receiver) == b""  # paid before it exists
    market = TestMarketplace.deploy({"from": accounts[0]})
    market.settle(royalties, token_id, {"from": payer, "value": 10**18})  # `transfer` to an empty address
    tx = royalties.flushReceiver(track, ETH, {"from": accounts[8]})
    assert plain(tx.events["ReceiverDeployed"]) == {"trackId": track, "receiver": receiver}
    assert plain(tx.events["Paid"]) == {"trackId": track, "payer": receiver, "token": ETH,
                                        "composition": 6 * 10**16, "master": 4 * 10**16}  # fmt: skip
    market.settle(royalties, token_id, {"from": payer, "value": 10**18})  # now a contract: 2,300 gas suffice
    stablecoin.mint(receiver, 777, {"from": payer})
    royalties.flushReceiver(track, ETH, {"from": payer})
    royalties.flushReceiver(track, stablecoin, {"from": payer})
    assert royalties.received(track, COMPOSITION, 0, ETH) == 12 * 10**16
    assert royalties.received(track, MASTER, 0, stablecoin) == 311 and stablecoin.balanceOf(receiver) == 0
    with reverts_with("ZeroPayment"):
        royalties.flushReceiver(track, ETH, {"from": payer})
    with reverts_with("NotRoyalties", payer):
        TrackReceiver.at(receiver).forward(payer, 0, b"", {"from": payer})
    with reverts_with("InvalidRatio", 10001):
        royalties.setSaleRoyalty(track, 10_001, 0, {"from": artist})


def test_the_registry_is_required(Royalties, accounts):
    with reverts_with("ZeroAddress"):
        Royalties.deploy(ETH, {"from": accounts[0]})


def test_parents_must_be_recorded_before_a_derivative_sets_splits(royalties, registry, artist, accounts):
    original = final_track(registry, artist)[0]
    remix = final_track(registry, accounts[2], parents=[(original, REMIX)])[0]
    with reverts_with("LineageNotRecorded", remix):
        split(royalties, remix, COMPOSITION, {accounts[2]: 9000}, 1000, sender=accounts[2])
    with reverts_with("LineageNotRecorded", original):
        royalties.recordLineage(remix, [(original, REMIX)], {"from": accounts[5]})
