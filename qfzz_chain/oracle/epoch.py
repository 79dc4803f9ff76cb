"""An epoch's inputs: the listening requests a committee batches, committed by hash.

Specified here once. The document is canonical JSON (``recommender.explain.canonical_json``):

    {"schema": "qfzz.epoch-inputs/1", "epoch": E, "model_version": V,
     "requests": [{"listener": "lastfm:2", "commitment": "0x…", "listens": [[89, 3], …], "n": 10,
                   "served_by": 1}, …],           # sorted by (listener, commitment)
     "sponsorships": [{"item": "0x…", "sponsor": "0x…", "rank": 3, "listeners": ["lastfm:2", …]}, …],
     "catalogue_block": B,
     "tracks": [{"id": "0x…", "title": "…", "artist": "0x…", "tags": ["ambient", …]}, …]}   # sorted by id

Its digest is the SHA-256 of those bytes, so the document is the raw CIDv1 ``bafkrei…`` of the
same digest: the committee signs it with the root (``inputs`` of the anchored batch), and whoever
holds the document can recompute the whole batch. It names listeners, so it is shared among the
committee, not published. A request's ``listens`` are the plays the listener reports for the
epoch (artist id, play count); ``n`` is how many recommendations they asked for. ``tracks`` are
the tracks registered on-chain with tags by block ``catalogue_block`` (``oracle.catalogue``): every
member reads the registry at that block and refuses inputs that list others, so the anchored
digest commits to the catalogue the batch was served from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from qfzz_chain.oracle.errors import BatchError
from qfzz_chain.recommender.explain import canonical_json

INPUTS_SCHEMA = "qfzz.epoch-inputs/1"
MAX_RECOMMENDATIONS = 50


@dataclass(frozen=True)
class Request:
    """One listener's request in an epoch: their new listens and how many recommendations."""

    listener: str
    commitment: str
    listens: tuple[tuple[int, float], ...] = ()
    n: int = 10
    served_by: int = 0

    @property
    def user_id(self) -> int:
        """The Last.fm user id behind ``lastfm:<id>``."""
        kind, _, number = self.listener.partition(":")
        if kind != "lastfm" or not number.isdigit():
            raise BatchError(f"listener {self.listener!r} is not lastfm:<user id>")
        return int(number)

    def to_json(self) -> dict:
        return {"listener": self.listener, "commitment": self.commitment, "n": self.n, "served_by": self.served_by,
                "listens": [[int(a), float(p)] for a, p in self.listens]}  # fmt: skip

    @classmethod
    def from_json(cls, value: dict) -> "Request":
        try:
            request = cls(str(value["listener"]), str(value["commitment"]),
                          tuple((int(a), float(p)) for a, p in value.get("listens", ())), int(value.get("n", 10)),
                          int(value.get("served_by", 0)))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise BatchError(f"malformed request {value!r}: {exc}") from exc
        if not 1 <= request.n <= MAX_RECOMMENDATIONS:
            raise BatchError(f"a request asks for 1 to {MAX_RECOMMENDATIONS} recommendations, not {request.n}")
        if not (request.commitment.startswith("0x") and len(request.commitment) == 66):
            raise BatchError(f"commitment {request.commitment!r} is not 32 bytes of 0x-hex")
        if any(plays <= 0 for _, plays in request.listens):
            raise BatchError(f"{request.listener}: play counts must be positive")
        request.user_id  # noqa: B018  the listener's form is checked here
        return request


@dataclass(frozen=True)
class Sponsorship:
    """A paid placement: ``item`` at ``rank`` in the lists of ``listeners``, paid by ``sponsor``."""

    item: str
    sponsor: str
    rank: int
    listeners: tuple[str, ...]

    def to_json(self) -> dict:
        return {"item": self.item, "sponsor": self.sponsor, "rank": self.rank, "listeners": sorted(self.listeners)}

    @classmethod
    def from_json(cls, value: dict) -> "Sponsorship":
        try:
            return cls(str(value["item"]), str(value["sponsor"]).lower(), int(value["rank"]),
                       tuple(str(v) for v in value["listeners"]))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise BatchError(f"malformed sponsorship {value!r}: {exc}") from exc


@dataclass(frozen=True)
class RegisteredTrack:
    """A track of the on-chain registry as the catalogue serves it: its id, who it is by, its tags."""

    track_id: bytes
    title: str
    artist: str
    tags: tuple[str, ...]

    def to_json(self) -> dict:
        return {"id": "0x" + self.track_id.hex(), "title": self.title, "artist": self.artist, "tags": list(self.tags)}

    @classmethod
    def from_json(cls, value: dict) -> "RegisteredTrack":
        try:
            track_id = bytes.fromhex(str(value["id"]).removeprefix("0x"))
            if len(track_id) != 32:
                raise ValueError(f"track id {value['id']!r} is not 32 bytes")
            return cls(track_id, str(value["title"]), str(value["artist"]), tuple(str(t) for t in value["tags"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise BatchError(f"malformed catalogue track {value!r}: {exc}") from exc


def _artist_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"emerging artist {value!r} is not a Last.fm artist id")
    return value


@dataclass(frozen=True)
class EpochInputs:
    epoch: int
    model_version: int
    requests: tuple[Request, ...]
    sponsorships: tuple[Sponsorship, ...] = field(default=())
    catalogue_block: int = 0
    tracks: tuple[RegisteredTrack, ...] = field(default=())
    #: Last.fm artist ids the emerging-artist index lists at ``catalogue_block`` (curation): boosted
    emerging: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        requests = sorted(self.requests, key=lambda r: (r.listener, r.commitment))
        return {"schema": INPUTS_SCHEMA, "epoch": self.epoch, "model_version": self.model_version,
                "requests": [r.to_json() for r in requests],
                "sponsorships": [s.to_json() for s in sorted(self.sponsorships, key=lambda s: (s.item, s.sponsor))],
                "catalogue_block": self.catalogue_block,
                "tracks": [t.to_json() for t in sorted(self.tracks, key=lambda t: t.track_id)],
                "emerging": sorted(self.emerging)}

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: the raw CIDv1 digest the committee signs."""
        return hashlib.sha256(self.canonical_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes, expected_digest: bytes | None = None) -> "EpochInputs":
        """Parse a document, checking it against the digest it was proposed under."""
        if expected_digest is not None and hashlib.sha256(data).digest() != expected_digest:
            raise BatchError(f"the inputs do not hash to 0x{expected_digest.hex()}: refusing to compute them")
        try:
            value = json.loads(data)
            if value.get("schema") != INPUTS_SCHEMA:
                raise ValueError(f"schema {value.get('schema')!r}")
            inputs = cls(int(value["epoch"]), int(value["model_version"]),
                         tuple(Request.from_json(r) for r in value["requests"]),
                         tuple(Sponsorship.from_json(s) for s in value.get("sponsorships", ())),
                         int(value.get("catalogue_block", 0)),
                         tuple(RegisteredTrack.from_json(t) for t in value.get("tracks", ())),
                         tuple(_artist_id(a) for a in value.get("emerging", ())))  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BatchError(f"not an epoch inputs document: {exc}") from exc
        if inputs.canonical_bytes() != data:
            raise BatchError("the inputs document is not in canonical form")
        return inputs
