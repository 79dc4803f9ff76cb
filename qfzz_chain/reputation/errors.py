"""Errors of reputation and identity, under ``QfzzError``."""

from qfzz_chain.errors import QfzzError


class ReputationError(QfzzError):
    """A reputation, identity or stake request is malformed or impossible."""


class IdentityError(ReputationError):
    """An identity cannot be attested, found or bound (no leaf for the account, a damaged tree)."""


class EvidenceError(ReputationError):
    """Evidence for a score or a slash is missing, malformed or proves nothing."""
