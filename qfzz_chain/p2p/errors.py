"""Errors the gossip recommender raises on purpose; the CLI prints each as one ``error: ...`` line."""

from __future__ import annotations

from qfzz_chain.errors import QfzzError


class P2PError(QfzzError):
    """Root of every peer-to-peer error: bad input, a wire message that breaks the format, a network fault."""


class MessageTooLargeError(P2PError):
    """A message would exceed (on send) or exceeds (on receive) the size limit M."""

    def __init__(self, size: int, limit: int):
        super().__init__(f"message of {size} bytes exceeds the {limit}-byte limit")
        self.size = size
        self.limit = limit


class MalformedMessageError(P2PError):
    """A datagram that is not a well-formed message of a known protocol version."""


class InvalidConfigError(P2PError):
    """A protocol or simulation parameter outside its range (summary bytes, fanout, shares)."""


class HistoryFileError(P2PError):
    """A listening-history file that is missing, unreadable or not ``artist_id<TAB>plays`` lines."""


class PortInUseError(P2PError):
    """The UDP port a node should listen on is already taken."""


class BootstrapUnreachableError(P2PError):
    """The bootstrap peer did not answer (refused, or silent past the timeout)."""


class NodeUnreachableError(P2PError):
    """A running node asked for its recommendations did not answer."""
