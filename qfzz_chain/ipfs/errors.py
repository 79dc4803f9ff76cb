"""IPFS errors a user can cause; each is one clear line through the CLI (``QfzzError``)."""

from __future__ import annotations

from qfzz_chain.errors import InvalidCidError, IpfsError

__all__ = [
    "BlockCorruptedError",
    "BlockNotFoundError",
    "CarFormatError",
    "InvalidCidError",
    "IpfsError",
    "NodeUnavailableError",
    "NotAFileError",
    "IsDirectoryError",
    "PublishError",
    "PathNotFoundError",
]


class BlockNotFoundError(IpfsError):
    """A block the DAG links to is not in the store (never added, or garbage-collected)."""

    def __init__(self, cid: str, *, peers: list[str] | None = None):
        if peers:
            where = "; ".join(peers)
            super().__init__(f"block {cid} not found in the store nor on any peer ({where})")
        else:
            super().__init__(f"block {cid} not found in the store")
        self.cid = cid
        self.peers = peers or []


class BlockCorruptedError(IpfsError):
    """A stored block's bytes do not hash to its CID: the disk copy was altered or truncated."""

    def __init__(self, cid: str, reason: str = "its bytes do not match its hash"):
        super().__init__(f"block {cid} is corrupted: {reason}")
        self.cid = cid


class PathNotFoundError(IpfsError):
    """A name in an IPFS path (``CID/album/track.wav``) is not in its directory."""


class NotAFileError(IpfsError):
    """The CID names something other than a UnixFS file (a directory, or a non-UnixFS node)."""


class CarFormatError(IpfsError):
    """A CAR file is truncated, malformed, or holds a block that does not match its CID."""


class NodeUnavailableError(IpfsError):
    """The configured IPFS node cannot be reached or answered something unexpected."""


class IsDirectoryError(NotAFileError):
    """The path names a UnixFS directory where a file was needed (kubo: "this dag node is a directory")."""


class PublishError(IpfsError):
    """Content could not be published to the configured remote (kubo RPC or pinning service)."""
