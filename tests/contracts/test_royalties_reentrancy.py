"""Re-entrancy: recipients that call back while being paid, and a token that calls back while it
moves, try every entry point; none takes a wei more than it is owed or breaks the accounting."""

import pytest
from eth_utils import function_abi_to_4byte_selector

from tests.contracts.helpers import reverts_with
from tests.contracts.royalties_helpers import (  # noqa: F401 (fixtures)
    BPS, COMPOSITION, ETH, MASTER, final_track, isolation, owed, registry, royalties, split, stablecoin,
)  # fmt: skip


def selector_of(contract, name: str) -> bytes:
    entry = next(e for e in contract.abi if e.get("name") == name and e["type"] in ("function", "error"))
    return function_abi_to_4byte_selector(entry)


@pytest.fixture
def artist(accounts):
    return accounts[1]


@pytest.fixture
def payer(accounts):
    return accounts[9]


@pytest.fixture
def attacker(RoyaltyAttacker, royalties, accounts):
    return RoyaltyAttacker.deploy(royalties, {"from": accounts[0]})


@pytest.fixture
def track(royalties, registry, artist, attacker):
    track = final_track(registry, artist)[0]
    split(royalties, track, COMPOSITION, {attacker: 5000, artist: 5000}, sender=artist)
    split(royalties, track, MASTER, {attacker: 5000, artist: 5000}, sender=artist)
    return track


def test_withdrawing_again_from_receive_finds_nothing_owed(royalties, track, attacker, payer, artist):
    royalties.pay(track, 5000, {"from": payer, "value": 1000})
    refs = [(track, COMPOSITION, 0), (track, MASTER, 0)]
    attacker.setReentry(royalties.withdraw.encode_input(refs, [ETH]), {"from": payer})
    attacker.call(royalties.withdraw.encode_input(refs, [ETH]), {"from": payer})
    assert attacker.reentered() and not attacker.reentrySucceeded()
    assert bytes(attacker.reentryError())[:4] == selector_of(royalties, "NothingToWithdraw")
    assert attacker.balance() == 500 and royalties.balance() == 500
    assert owed(royalties, track, COMPOSITION, 0, artist) == 250  # the artist's half is untouched


def test_a_second_share_withdrawn_from_receive_is_paid_once(royalties, track, attacker, payer):
    """The nested call may withdraw what the outer one did not list, exactly once."""
    royalties.pay(track, 5000, {"from": payer, "value": 1000})
    attacker.setReentry(royalties.withdraw.encode_input([(track, MASTER, 0)], [ETH]), {"from": payer})
    attacker.call(royalties.withdraw.encode_input([(track, COMPOSITION, 0)], [ETH]), {"from": payer})
    assert attacker.reentrySucceeded() and attacker.balance() == 500
    with reverts_with("NothingToWithdraw", attacker):
        attacker.call(royalties.withdraw.encode_input([(track, COMPOSITION, 0), (track, MASTER, 0)], [ETH]),
                      {"from": payer})  # fmt: skip


@pytest.mark.parametrize("entry", ["pay", "push", "postEpoch"])
def test_paying_from_receive_is_accounted_like_any_payment(royalties, track, attacker, payer, artist, entry):
    royalties.pay(track, BPS, {"from": payer, "value": 1000})
    calls = {
        "pay": royalties.pay.encode_input(track, BPS),  # sends nothing from the attacker: a zero payment
        "push": royalties.push.encode_input(ETH, []),
        "postEpoch": royalties.postEpoch.encode_input(ETH, 1, b"\x01" * 32, 1),
    }
    attacker.setReentry(calls[entry], {"from": payer})
    attacker.call(royalties.withdraw.encode_input([(track, COMPOSITION, 0)], [ETH]), {"from": payer})
    assert attacker.reentered() and not attacker.reentrySucceeded()
    assert attacker.balance() == 500 and royalties.balance() == 500


def test_a_token_cannot_re_enter_while_a_payment_measures_its_balance(
    royalties, track, artist, payer, ReentrantToken, accounts
):  # fmt: skip
    token = ReentrantToken.deploy({"from": payer})
    token.mint(payer, 10**6, {"from": payer})
    token.approve(royalties, 2**256 - 1, {"from": payer})
    royalties.payToken(track, BPS, token, 1000, {"from": payer})
    for reentry in (
        royalties.withdraw.encode_input([(track, COMPOSITION, 0)], [token]),
        royalties.payToken.encode_input(track, BPS, token, 1),
        royalties.postEpoch.encode_input(token, 1, b"\x01" * 32, 1),
        royalties.flushReceiver.encode_input(track, token),
    ):
        token.setReentry(royalties, reentry, {"from": payer})
        royalties.payToken(track, BPS, token, 1000, {"from": payer})
        assert token.reentered() and not token.reentrySucceeded()
        assert bytes(token.reentryError())[:4] == selector_of(royalties, "ReentrancyGuardReentrantCall")
    assert token.balanceOf(royalties) == 5000 == royalties.received(track, COMPOSITION, 0, token)


def test_a_recipient_hook_re_entering_a_token_withdrawal_finds_it_done(
    royalties, track, attacker, artist, payer, ReentrantToken
):  # fmt: skip
    """As an ERC-777 recipient hook would: while the token pays the attacker out, the attacker asks
    for the same withdrawal again."""
    token = ReentrantToken.deploy({"from": payer})
    token.mint(payer, 10**6, {"from": payer})
    token.approve(royalties, 2**256 - 1, {"from": payer})
    royalties.payToken(track, BPS, token, 1000, {"from": payer})
    withdrawal = royalties.withdraw.encode_input([(track, COMPOSITION, 0)], [token])
    token.setReentry(attacker, attacker.call.encode_input(withdrawal), {"from": payer})
    attacker.call(withdrawal, {"from": payer})
    assert token.reentered() and not token.reentrySucceeded()
    assert bytes(token.reentryError())[:4] == selector_of(royalties, "NothingToWithdraw")
    assert token.balanceOf(attacker) == 500
    assert token.balanceOf(royalties) == 500 == owed(royalties, track, COMPOSITION, 0, artist, token)
