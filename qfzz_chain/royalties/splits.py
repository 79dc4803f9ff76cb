"""Splits: who holds a right of a track, in basis points, and how a running total is allocated.

Pure: no chain, no files. The rules mirror ``contracts/Royalties.sol`` exactly (a test runs both
on the same inputs), so what the CLI shows is what the contract pays:

- a split lists recipients with basis points (``BPS`` = 10,000 == 100%) plus the share routed
  upstream to the track's parents; together they sum to exactly 10,000;
- a split version allocates its running total ``C`` without dust: with ``g`` the gcd of the
  split's basis points, every block of ``BPS / g`` units is cut into runs, the upstream run
  first and then one run per recipient in list order, each ``bps / g`` units long. A run's owner
  is entitled to ``(C // block) * units + min(max(C % block - offset, 0), units)``.

That entitlement never decreases as ``C`` grows (so a withdrawal can never be clawed back), the
entitlements add up to ``C`` exactly (no wei is left unassigned), and each is within one run
(``bps / g`` units, at most 9,999 wei) of the exact pro-rata share. For a 50/50 split the block
is two units: the two recipients are never more than one wei apart.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from qfzz_chain.royalties.errors import SplitInputError

BPS = 10_000
MAX_RECIPIENTS = 100
MAX_CASCADE_DEPTH = 8
ETH = "0x0000000000000000000000000000000000000000"
# the contract keeps a split's upstream share as the share of the zero address, which no split lists
UPSTREAM = ETH


class Right(IntEnum):
    """The two rights of a track (mirrors ``IRoyalties.Right``)."""

    COMPOSITION = 0
    MASTER = 1

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Right":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise SplitInputError(f"unknown right {text!r}: composition or master") from None


@dataclass(frozen=True)
class Run:
    """A share's place in the allocation: ``units`` of every ``block`` units, from ``offset``."""

    units: int
    offset: int
    block: int

    def entitled(self, total: int) -> int:
        """What this run owns of a running total ``total`` (exact integer, monotone in ``total``)."""
        blocks, rest = divmod(total, self.block)
        return blocks * self.units + min(max(rest - self.offset, 0), self.units)


@dataclass(frozen=True)
class Split:
    """One version of a right's split: recipients (checksummed) with basis points, plus upstream."""

    recipients: tuple[str, ...]
    bps: tuple[int, ...]
    upstream_bps: int = 0

    def __post_init__(self) -> None:
        check_split(self.recipients, self.bps, self.upstream_bps)

    @property
    def hash(self) -> bytes:
        """``keccak256(abi.encode(recipients, bps, upstreamBps))``, as the contract stores it."""
        return split_hash(self.recipients, self.bps, self.upstream_bps)

    def runs(self) -> dict[str, Run]:
        """Each holder's run: the upstream share under ``UPSTREAM`` (the zero address) first."""
        divisor = 0
        for value in (self.upstream_bps, *self.bps):
            divisor = math.gcd(divisor, value)
        block = BPS // divisor
        runs: dict[str, Run] = {}
        offset = 0
        if self.upstream_bps:
            runs[UPSTREAM] = Run(self.upstream_bps // divisor, 0, block)
            offset = self.upstream_bps // divisor
        for recipient, bps in zip(self.recipients, self.bps):
            units = bps // divisor
            runs[recipient] = Run(units, offset, block)
            offset += units
        return runs

    def allocate(self, total: int) -> dict[str, int]:
        """The whole running total ``total`` by holder (upstream under ``UPSTREAM``); sums to ``total``."""
        return {holder: run.entitled(total) for holder, run in self.runs().items()}

    def share_of(self, recipient: str) -> int:
        """A recipient's basis points (0 when absent)."""
        key = _checksum(recipient)
        return dict(zip(self.recipients, self.bps)).get(key, 0)


def _checksum(address: str) -> str:
    if not isinstance(address, str) or not Web3.is_address(address):
        raise SplitInputError(f"{address!r} is not an address")
    return Web3.to_checksum_address(address)


def check_split(recipients: Iterable[str], bps: Iterable[int], upstream_bps: int = 0) -> None:
    """Refuse what the contract refuses, with the same words (one error naming the problem)."""
    recipients, bps = list(recipients), list(bps)
    if len(recipients) != len(bps):
        raise SplitInputError(f"{len(recipients)} recipients but {len(bps)} shares")
    if len(recipients) > MAX_RECIPIENTS:
        raise SplitInputError(f"{len(recipients)} recipients: a split lists at most {MAX_RECIPIENTS}")
    if not 0 <= upstream_bps <= BPS:
        raise SplitInputError(f"the upstream share {upstream_bps} bps is outside 0..{BPS}")
    seen: set[str] = set()
    for recipient, share in zip(recipients, bps):
        if recipient == UPSTREAM:
            raise SplitInputError("the zero address cannot be a recipient")
        if recipient in seen:
            raise SplitInputError(f"{recipient} is listed twice")
        seen.add(recipient)
        if not isinstance(share, int) or share <= 0:
            raise SplitInputError(f"{recipient} is listed with no share ({share} bps)")
    total = sum(bps) + upstream_bps
    if total != BPS:
        raise SplitInputError(f"the shares add up to {total} bps, not {BPS} (100%)")


def split_hash(recipients: Iterable[str], bps: Iterable[int], upstream_bps: int) -> bytes:
    return keccak(encode(["address[]", "uint16[]", "uint16"], [list(recipients), list(bps), upstream_bps]))


_PERCENT = re.compile(r"^(\d+(?:\.\d{1,2})?)%$")


def parse_bps(text: str) -> int:
    """``2500`` (basis points) or ``25%`` / ``33.33%`` (percent, to the basis point)."""
    text = text.strip()
    match = _PERCENT.match(text)
    if match:
        whole, _, cents = match.group(1).partition(".")
        return int(whole) * 100 + int((cents + "00")[:2])
    if text.isdigit():
        return int(text)
    raise SplitInputError(f"{text!r} is not a share: give basis points (2500) or a percentage (25%)")


def parse_split(text: str, upstream_bps: int = 0) -> Split:
    """``ADDR=BPS,ADDR=25%,...`` in allocation order, plus the upstream share, as a checked split."""
    recipients, shares = [], []
    for part in (p for p in text.split(",") if p.strip()):
        address, sep, share = part.partition("=")
        if not sep:
            raise SplitInputError(f"{part.strip()!r}: write each recipient as ADDRESS=BPS or ADDRESS=PERCENT%")
        recipients.append(_checksum(address.strip()))
        shares.append(parse_bps(share))
    return Split(tuple(recipients), tuple(shares), upstream_bps)


def divide_payment(amount: int, composition_bps: int) -> tuple[int, int]:
    """A payment's (composition, master): the composition's part rounded down, as ``pay`` divides it."""
    if amount <= 0:
        raise SplitInputError("a payment of nothing")
    if not 0 <= composition_bps <= BPS:
        raise SplitInputError(f"the composition ratio {composition_bps} bps is outside 0..{BPS}")
    composition = amount * composition_bps // BPS
    return composition, amount - composition
