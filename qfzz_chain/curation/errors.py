"""Errors of curation, under ``QfzzError``: each names the problem in the user's terms."""

from qfzz_chain.errors import QfzzError


class CurationError(QfzzError):
    """A curation request is malformed or cannot be carried out."""


class VoteError(CurationError):
    """A vote cannot be cast or revealed (unknown value, no salt kept, the wrong phase)."""


class SelfDealingError(CurationError):
    """The sender is tied to the proposed artist (the artist, a collaborator, a parent's artist)."""


class NoIdentityError(CurationError):
    """The sender has no identity bound, or no voting weight."""


class PhaseError(CurationError):
    """The proposal is not in the phase the request needs (voting closed, reveals not open yet)."""
