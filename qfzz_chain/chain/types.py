"""Typed values that cross the boundary between Python and the contracts."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from multiformats import CID

from qfzz_chain.errors import InvalidCidError


class Relation(enum.IntEnum):
    """How a track derives from a parent (mirrors ``ITrackRegistry.Relation``)."""

    REMIX = 0
    SAMPLE = 1
    COVER = 2


@dataclass(frozen=True)
class CidParts:
    """What rebuilds a CID string exactly (mirrors ``ITrackRegistry.Cid``)."""

    version: int
    codec: int
    hash_function: int
    digest: bytes

    @classmethod
    def from_cid(cls, cid: CID) -> "CidParts":
        if len(cid.raw_digest) != 32:
            raise InvalidCidError(f"{cid}: the registry takes 32-byte digests, this one has {len(cid.raw_digest)}")
        return cls(cid.version, cid.codec.code, cid.hashfun.code, bytes(cid.raw_digest))

    @classmethod
    def from_tuple(cls, value) -> "CidParts":
        """From the contract's struct as a tuple, or as the mapping web3 decodes events into."""
        if hasattr(value, "keys"):
            value = (value["version"], value["codec"], value["hashFunction"], value["digest"])
        version, codec, hash_function, digest = value
        return cls(int(version), int(codec), int(hash_function), bytes(digest))

    def as_tuple(self) -> tuple[int, int, int, bytes]:
        return (self.version, self.codec, self.hash_function, self.digest)

    def to_cid(self) -> CID:
        base = "base58btc" if self.version == 0 else "base32"
        return CID(base, self.version, self.codec, (self.hash_function, self.digest))

    def __str__(self) -> str:
        return str(self.to_cid())


@dataclass(frozen=True)
class Parent:
    """A declared parent track: its id and how this track derives from it."""

    track_id: bytes
    relation: Relation

    @classmethod
    def from_tuple(cls, value) -> "Parent":
        if hasattr(value, "keys"):
            value = (value["trackId"], value["relation"])
        track_id, relation = value
        return cls(bytes(track_id), Relation(relation))

    def as_tuple(self) -> tuple[bytes, int]:
        return (self.track_id, int(self.relation))
