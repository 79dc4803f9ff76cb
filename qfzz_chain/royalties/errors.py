"""Errors of royalties, under ``QfzzError``: each names what is wrong in the artist's terms."""

from __future__ import annotations

from qfzz_chain.errors import QfzzError


class RoyaltiesError(QfzzError):
    """Root of the royalty errors."""


class SplitInputError(RoyaltiesError):
    """A split is malformed: recipients, basis points, upstream share, ratio or right."""


class MerkleTreeError(RoyaltiesError):
    """A Merkle tree cannot be built, loaded or proven."""


class EpochInputError(RoyaltiesError):
    """Play counts or an epoch file are malformed, or an epoch cannot be posted or claimed."""


class CascadeError(RoyaltiesError):
    """A track's lineage cannot be followed (unknown parent, too deep, not final)."""
