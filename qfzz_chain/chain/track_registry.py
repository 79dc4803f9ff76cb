"""Client of the ``TrackRegistry`` contract: typed reads, writes and event history."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from qfzz_chain.chain.contract import ContractClient
from qfzz_chain.chain.abi import load_abi
from qfzz_chain.chain.errors import DeploymentError, TransactionReverted, UnknownTrackError
from qfzz_chain.chain.signatures import DOMAIN_NAME, DOMAIN_VERSION
from qfzz_chain.chain.signer import Sender
from qfzz_chain.chain.transactions import Receipt, call, transact
from qfzz_chain.chain.types import CidParts, Parent



def make_commitment(audio_hash: bytes, artist: str, salt: bytes) -> bytes:
    """``keccak256(abi.encode(audioHash, artist, salt))``, as the contract's ``makeCommitment``."""
    return keccak(encode(["bytes32", "address", "bytes32"], [audio_hash, Web3.to_checksum_address(artist), salt]))


@dataclass(frozen=True)
class TrackRecord:
    """The registry's stored record of a track, read back from the chain."""

    track_id: bytes
    artist: str
    registered_at: int
    committed_at: int
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


@dataclass
class TrackHistory:
    """A track as its events tell it: registration, metadata versions, attribution changes.

    ``superseded`` holds earlier registrations that an older commitment took over; the history
    proper starts at the current registration.
    """

    registration: Registration
    metadata_versions: list[MetadataVersion] = field(default_factory=list)
    attribution_changes: list[AttributionChange] = field(default_factory=list)
    superseded: list[Registration] = field(default_factory=list)

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


class TrackRegistry(ContractClient):
    """Bound to one deployment of the registry on one chain."""

    CONTRACT = "TrackRegistry"

    def __init__(self, w3: Web3, address: str, abi: list | None = None, first_block: int = 0):
        super().__init__(w3, address, abi, first_block)
        self._timestamps: dict[int, int] = {}

    @classmethod
    def at(cls, w3: Web3, address: str) -> "TrackRegistry":
        """The registry at ``address`` without a deployment record, checked by its EIP-712 domain."""
        if not Web3.is_address(address):
            raise DeploymentError(f"{address!r} is not an address")
        registry = cls(w3, address, load_abi(cls.CONTRACT))
        if not bytes(w3.eth.get_code(registry.address)):
            raise DeploymentError(f"no contract at {registry.address} on chain {w3.eth.chain_id}")
        try:
            _, name, version, chain_id, verifying, _, _ = registry.contract.functions.eip712Domain().call()
        except Exception as exc:  # any contract without the function, or another ABI
            raise DeploymentError(f"{registry.address} is not a QFZZ TrackRegistry") from exc
        if (name, version, chain_id, Web3.to_checksum_address(verifying)) != (
            DOMAIN_NAME, DOMAIN_VERSION, w3.eth.chain_id, registry.address
        ):  # fmt: skip
            raise DeploymentError(f"{registry.address} is not a QFZZ TrackRegistry version {DOMAIN_VERSION}")
        return registry

    # ---- reads -----------------------------------------------------------------------------

    def is_registered(self, track_id: bytes) -> bool:
        return call(self.abi, self.contract.functions.isRegistered(track_id))

    def get(self, track_id: bytes) -> TrackRecord:
        try:
            artist, registered_at, committed_at, metadata_version = call(
                self.abi, self.contract.functions.getTrack(track_id)
            )
        except TransactionReverted as exc:
            if exc.error == "TrackNotRegistered":
                raise UnknownTrackError(f"no track 0x{track_id.hex()} is registered on this chain") from None
            raise
        return TrackRecord(track_id, artist, registered_at, committed_at, metadata_version)

    def is_final(self, track_id: bytes) -> bool:
        return call(self.abi, self.contract.functions.isFinal(track_id))

    def nonce(self, artist: str) -> int:
        return call(self.abi, self.contract.functions.nonces(Web3.to_checksum_address(artist)))

    def commitment_of(self, commitment: bytes) -> tuple[int, int]:
        """(block, timestamp) the commitment was recorded at; (0, 0) when it is not (or was revealed)."""
        block, timestamp = call(self.abi, self.contract.functions.commitmentOf(commitment))
        return int(block), int(timestamp)

    def max_commitment_age(self) -> int:
        return call(self.abi, self.contract.functions.MAX_COMMITMENT_AGE())

    def pending_artist(self, track_id: bytes) -> str:
        return call(self.abi, self.contract.functions.pendingArtist(track_id))

    # ---- writes ----------------------------------------------------------------------------

    def commit(self, sender: Sender, commitment: bytes) -> Receipt:
        return transact(self.w3, sender, self.abi, self.contract.functions.commitRegistration(commitment))

    def register(
        self, sender: Sender, audio_hash: bytes, salt: bytes, content: CidParts, metadata: CidParts,
        parents: tuple[Parent, ...] = (),
    ) -> Receipt:  # fmt: skip
        """Reveal the sender's commitment of ``audio_hash`` with ``salt``: the track is the sender's."""
        function = self.contract.functions.registerTrack(
            audio_hash, salt, content.as_tuple(), metadata.as_tuple(), [p.as_tuple() for p in parents]
        )
        # a reveal is valid from the block after its commitment's: estimate it in the next block
        return transact(self.w3, sender, self.abi, function, estimate_block="pending")

    def register_for(
        self, sender: Sender, *, artist: str, audio_hash: bytes, salt: bytes, content: CidParts, metadata: CidParts,
        parents: tuple[Parent, ...], deadline: int, signature: bytes,
    ) -> Receipt:  # fmt: skip
        function = self.contract.functions.registerTrackFor(
            Web3.to_checksum_address(artist), audio_hash, salt, content.as_tuple(), metadata.as_tuple(),
            [p.as_tuple() for p in parents], deadline, signature,
        )  # fmt: skip
        return transact(self.w3, sender, self.abi, function, estimate_block="pending")

    def update_metadata(self, sender: Sender, track_id: bytes, metadata: CidParts) -> Receipt:
        return transact(self.w3, sender, self.abi, self.contract.functions.updateMetadata(track_id, metadata.as_tuple()))

    def propose_transfer(self, sender: Sender, track_id: bytes, new_artist: str) -> Receipt:
        function = self.contract.functions.proposeAttributionTransfer(track_id, Web3.to_checksum_address(new_artist))
        return transact(self.w3, sender, self.abi, function)

    def accept_transfer(self, sender: Sender, track_id: bytes) -> Receipt:
        return transact(self.w3, sender, self.abi, self.contract.functions.acceptAttributionTransfer(track_id))

    def invalidate_nonce(self, sender: Sender) -> Receipt:
        return transact(self.w3, sender, self.abi, self.contract.functions.invalidateNonce())

    def invalidate_nonce_for(self, sender: Sender, *, artist: str, deadline: int, signature: bytes) -> Receipt:
        function = self.contract.functions.invalidateNonceFor(Web3.to_checksum_address(artist), deadline, signature)
        return transact(self.w3, sender, self.abi, function)

    # ---- history from events ---------------------------------------------------------------

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

    def histories(self, track_id: bytes | None = None, *, to_block: int | None = None) -> dict[bytes, TrackHistory]:
        """Every track's history (or one track's), oldest registration first; as of ``to_block`` if given.

        One scan per event type, merged in chain order (block, log index): a later
        ``TrackRegistered`` of the same id (an older commitment taking it over) starts its
        history anew, so metadata and transfers of the superseded registration do not carry over.
        """
        filters = {"trackId": track_id} if track_id is not None else {}
        logs = [
            (log.blockNumber, log.logIndex, kind, log)
            for kind in ("TrackRegistered", "TrackMetadataUpdated", "AttributionTransferred")
            for log in self.logs(kind, filters, to_block)
        ]
        histories: dict[bytes, TrackHistory] = {}
        for _, _, kind, log in sorted(logs, key=lambda entry: entry[:2]):
            key = bytes(log.args.trackId)
            if kind == "TrackRegistered":
                previous = histories.pop(key, None)
                superseded = [*previous.superseded, previous.registration] if previous else []
                histories[key] = TrackHistory(self._registration(log), superseded=superseded)
            elif kind == "TrackMetadataUpdated":
                histories[key].metadata_versions.append(MetadataVersion(
                    log.args.metadataVersion, CidParts.from_tuple(log.args.metadata), log.blockNumber,
                    log.transactionHash.to_0x_hex(),
                ))  # fmt: skip
            else:
                histories[key].attribution_changes.append(
                    AttributionChange(log.args["from"], log.args.to, log.blockNumber, log.transactionHash.to_0x_hex())
                )
        return histories

    def history(self, track_id: bytes) -> TrackHistory:
        found = self.histories(track_id)
        if track_id not in found:
            raise UnknownTrackError(f"no track 0x{track_id.hex()} is registered on this chain")
        return found[track_id]
