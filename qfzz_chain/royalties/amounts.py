"""Amounts as people write them (``0.05`` ether, ``12.5`` of a 6-decimal token, ``42wei``) and
back, exactly: decimal strings, never floats, so no payment is off by a rounding error."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from qfzz_chain.royalties.errors import RoyaltiesError

_BASE_UNITS = re.compile(r"^(\d+)\s*(wei|units?)$")


class AmountError(RoyaltiesError):
    """An amount is not a positive number of the token's units."""


def parse_amount(text: str, decimals: int) -> int:
    """Whole units with up to ``decimals`` decimals (``1.5``), or base units (``1500000wei``)."""
    text = text.strip().lower().replace("_", "")
    match = _BASE_UNITS.match(text)
    if match:
        value = int(match.group(1))
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"{text!r} is not an amount: write 0.5, 12 or 1000wei") from None
        scaled = number.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise AmountError(f"{text} has more than {decimals} decimals, the token's smallest unit")
        value = int(scaled)
    if value <= 0:
        raise AmountError(f"{text!r}: an amount must be positive")
    return value


def format_amount(value: int, decimals: int, symbol: str = "") -> str:
    """``1234500`` with 6 decimals is ``1.2345``; trailing zeros dropped, exact."""
    whole, fraction = divmod(abs(value), 10**decimals) if decimals else (abs(value), 0)
    text = str(whole)
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    text = ("-" if value < 0 else "") + text
    return f"{text} {symbol}" if symbol else text
