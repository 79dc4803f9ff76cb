"""Client of the ``TrackRegistry`` contract: typed reads, writes and event history."""

from __future__ import annotations

from dataclasses import dataclass, field

from web3 import Web3

from qfzz_chain.chain.deployment import DeploymentRecord
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, call, transact
from qfzz_chain.chain.types import CidParts, Parent
from qfzz_chain.errors import QfzzError, TransactionReverted

LOG_CHUNK_BLOCKS = 10_000  # public RPCs cap eth_getLogs ranges


class UnknownTrackError(QfzzError):
    """No track is registered under the given id."""


@dataclass(frozen=True)
class TrackRecord:
    """The registry's stored record of a track, read back from the chain."""

    track_id: bytes
    artist: str
    registered_at: int
    content: CidParts
    metadata_version: int


@dataclass(frozen=True)
class Registration:
    """A ``TrackRegistered`` event: the fields the artist registered, and where."""

    track_id: bytes
    artist: str
    relayer: str
    content: CidParts
    metadata: CidParts
    parents: tuple[Parent, ...]
    block: int
    transaction: str
    timestamp: int


@dataclass(frozen=True)
class MetadataVersion:
    version: int
    metadata: CidParts
    block: int
    transaction: str


@dataclass(frozen=True)
class AttributionChange:
    from_artist: str
    to_artist: str
    block: int
    transaction: str


class TrackRegistry:
    """Bound to one deployment of the registry on one chain."""

    CONTRACT = "TrackRegistry"

    def __init__(self, w3: Web3, record: DeploymentRecord):
        deployment = record.contract(self.CONTRACT)
        self.w3 = w3
        self.abi = deployment.abi
        self.address = deployment.address
        self.first_block = deployment.block
        self.contract = w3.eth.contract(address=Web3.to_checksum_address(deployment.address), abi=deployment.abi)
        self._timestamps: dict[int, int] = {}

    # ---- reads -----------------------------------------------------------------------------

    def is_registered(self, track_id: bytes) -> bool:
        return call(self.abi, self.contract.functions.isRegistered(track_id))

    def get(self, track_id: bytes) -> TrackRecord:
        try:
            artist, registered_at, version, codec, hash_function, metadata_version = call(
                self.abi, self.contract.functions.getTrack(track_id)
            )
        except TransactionReverted as exc:
            if exc.reason.startswith("TrackNotRegistered("):
                raise UnknownTrackError(f"no track 0x{track_id.hex()} is registered on this chain") from None
            raise
        return TrackRecord(
            track_id, artist, registered_at, CidParts(version, codec, hash_function, track_id), metadata_version
        )

    def nonce(self, artist: str) -> int:
        return call(self.abi, self.contract.functions.nonces(Web3.to_checksum_address(artist)))

    # ---- writes ----------------------------------------------------------------------------

    def register(self, sender: Sender, content: CidParts, metadata: CidParts, parents: tuple[Parent, ...] = ()) -> Receipt:
        function = self.contract.functions.registerTrack(
            content.as_tuple(), metadata.as_tuple(), [p.as_tuple() for p in parents]
        )
        return transact(self.w3, sender, self.abi, function)

    def register_for(
        self,
        sender: Sender,
        *,
        artist: str,
        content: CidParts,
        metadata: CidParts,
        parents: tuple[Parent, ...],
        deadline: int,
        signature: bytes,
    ) -> Receipt:
        function = self.contract.functions.registerTrackFor(
            Web3.to_checksum_address(artist), content.as_tuple(), metadata.as_tuple(),
            [p.as_tuple() for p in parents], deadline, signature,
        )  # fmt: skip
        return transact(self.w3, sender, self.abi, function)

    def update_metadata(self, sender: Sender, track_id: bytes, metadata: CidParts) -> Receipt:
        return transact(self.w3, sender, self.abi, self.contract.functions.updateMetadata(track_id, metadata.as_tuple()))

    # ---- history from events ---------------------------------------------------------------

    def _logs(self, event_name: str, filters: dict) -> list:
        event = getattr(self.contract.events, event_name)
        latest = self.w3.eth.block_number
        logs = []
        for start in range(self.first_block, latest + 1, LOG_CHUNK_BLOCKS):
            end = min(start + LOG_CHUNK_BLOCKS - 1, latest)
            logs.extend(event.get_logs(from_block=start, to_block=end, argument_filters=filters))
        return logs

    def _registration(self, log) -> Registration:
        return Registration(
            track_id=bytes(log.args.trackId),
            artist=log.args.artist,
            relayer=log.args.relayer,
            content=CidParts.from_tuple(log.args.content),
            metadata=CidParts.from_tuple(log.args.metadata),
            parents=tuple(Parent.from_tuple(p) for p in log.args.parents),
            block=log.blockNumber,
            transaction=log.transactionHash.to_0x_hex(),
            timestamp=self._block_timestamp(log.blockNumber),
        )

    def _block_timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            self._timestamps[block] = self.w3.eth.get_block(block)["timestamp"]
        return self._timestamps[block]

    def registrations(self, *, artist: str | None = None) -> list[Registration]:
        """Registrations in chain order, optionally of one original artist."""
        filters = {"artist": Web3.to_checksum_address(artist)} if artist is not None else {}
        return [self._registration(log) for log in self._logs("TrackRegistered", filters)]

    def histories(self, track_id: bytes | None = None) -> dict[bytes, "TrackHistory"]:
        """Every track's history (or one track's), from one scan of each event type, in chain order."""
        filters = {"trackId": track_id} if track_id is not None else {}
        histories = {
            registration.track_id: TrackHistory(registration)
            for registration in map(self._registration, self._logs("TrackRegistered", filters))
        }
        for log in self._logs("TrackMetadataUpdated", filters):
            histories[bytes(log.args.trackId)].metadata_versions.append(MetadataVersion(
                log.args.metadataVersion, CidParts.from_tuple(log.args.metadata), log.blockNumber,
                log.transactionHash.to_0x_hex(),
            ))  # fmt: skip
        for log in self._logs("AttributionTransferred", filters):
            histories[bytes(log.args.trackId)].attribution_changes.append(
                AttributionChange(log.args["from"], log.args.to, log.blockNumber, log.transactionHash.to_0x_hex())
            )
        return histories

    def history(self, track_id: bytes) -> "TrackHistory":
        found = self.histories(track_id)
        if track_id not in found:
            raise UnknownTrackError(f"no track 0x{track_id.hex()} is registered on this chain")
        return found[track_id]


@dataclass
class TrackHistory:
    """A track as its events tell it: registration, metadata versions, attribution changes."""

    registration: Registration
    metadata_versions: list[MetadataVersion] = field(default_factory=list)
    attribution_changes: list[AttributionChange] = field(default_factory=list)

    @property
    def artist(self) -> str:
        """The artist now: the last transfer's recipient, else the registering artist."""
        return self.attribution_changes[-1].to_artist if self.attribution_changes else self.registration.artist

    @property
    def metadata(self) -> MetadataVersion:
        """The current metadata version (version 0 is the registration's)."""
        if self.metadata_versions:
            return self.metadata_versions[-1]
        first = self.registration
        return MetadataVersion(0, first.metadata, first.block, first.transaction)
