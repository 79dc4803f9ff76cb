"""The project's exception hierarchy: every error a user can cause derives from ``QfzzError``.

The CLI turns a ``QfzzError`` into one line on stderr and a non-zero exit; anything else is a bug
and keeps its traceback.
"""


class QfzzError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigError(QfzzError):
    """A setting, key or environment variable is missing or malformed."""


class ChainError(QfzzError):
    """The chain cannot be reached, or answered something unexpected."""


class DeploymentError(ChainError):
    """No usable deployment record for the connected chain, or a record would be clobbered."""


class TransactionReverted(ChainError):
    """A transaction or call reverted; ``reason`` names the contract's custom error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class IpfsError(QfzzError):
    """Content could not be added, found or verified."""


class InvalidCidError(IpfsError):
    """A string is not a valid CID."""


class RecommenderError(QfzzError):
    """Bad input to the recommender: data files, users, items or parameters."""
