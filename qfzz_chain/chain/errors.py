"""Errors of the chain edge, under ``QfzzError``: each names what went wrong in the user's terms.

A revert keeps the contract's custom error structured (``exc.error == "TrackNotRegistered"``,
``exc.args_by_name["trackId"]``), as web3.py's ``ContractCustomError`` keeps its ``data``, so
callers branch on names and arguments, never on message prefixes.
"""

from __future__ import annotations

from typing import Any

from qfzz_chain.errors import QfzzError


class ChainError(QfzzError):
    """The chain cannot be reached, or answered something unexpected."""


class DeploymentError(ChainError):
    """No usable deployment record for the connected node, or a record would be clobbered."""


class NoFundsError(ChainError):
    """The sending account cannot pay for gas."""


class TransactionReverted(ChainError):
    """A transaction or call reverted.

    ``error`` is the custom error's name (``""`` when the revert carried none we know) and
    ``arguments`` its decoded arguments by name; ``str(exc)`` renders ``Name(arg=value, ...)``.
    """

    def __init__(self, error: str, arguments: dict[str, Any] | None = None, *, message: str | None = None):
        self.error = error
        self.arguments = dict(arguments or {})
        rendered = ", ".join(f"{name}={_render(value)}" for name, value in self.arguments.items())
        super().__init__(message or (f"{error}({rendered})" if error else "the transaction reverted"))

    @property
    def reason(self) -> str:
        return str(self)


def _render(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, tuple):
        return "(" + ", ".join(_render(v) for v in value) + ")"
    return str(value)


class UnknownTrackError(ChainError):
    """No track is registered under the given id."""


class TrackAlreadyRegisteredError(ChainError):
    """The audio is already registered (by anyone)."""


class CommitmentError(ChainError):
    """A registration commitment cannot be revealed (unknown, expired, or already used)."""
