"""Errors of the oracle: committee nodes, batches, receipts and their verification."""

from __future__ import annotations

from qfzz_chain.errors import QfzzError


class OracleError(QfzzError):
    """Root of the oracle's errors."""


class ReceiptFormatError(OracleError):
    """A receipt file is not one `qfzz oracle receipts` wrote (a field is missing or malformed)."""


class VerificationError(OracleError):
    """A link of a receipt's chain of custody is broken; ``link`` names which one."""

    def __init__(self, link: str, message: str):
        super().__init__(f"{link}: {message}")
        self.link = link


class NodeError(OracleError):
    """A committee node cannot start or answer (port in use, bad configuration, unreachable peer)."""


class BatchError(OracleError):
    """An epoch's batch cannot be computed (inputs that do not match their hash, an inactive model)."""
