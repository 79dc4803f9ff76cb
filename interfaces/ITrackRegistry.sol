// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITrackRegistry
/// @notice Attribution of music tracks to artists. A track's id is the SHA-256 of its audio file's
/// bytes (what `sha256sum` prints), so the same audio has one id however it was chunked or which
/// IPFS CID version or leaf encoding located it; the content CID is the locator, emitted with the
/// registration and checked against the id by whoever fetches it.
/// Registration is commit-reveal, as ENS's: the artist first commits
/// `keccak256(abi.encode(audioHash, artist, salt))`, then reveals at least one block later and
/// within `MAX_COMMITMENT_AGE`. Someone who copies a pending reveal from the mempool holds no
/// older commitment, and the earliest commitment wins: a reveal whose commitment is older than the
/// one a track was registered under takes the registration over. There is no one-transaction path.
interface ITrackRegistry {
    /// @notice The parts of a CID that rebuild its exact string: `version` 0 is base58btc dag-pb
    /// sha2-256, `version` 1 is base32 with `codec` (multicodec code, e.g. 0x70 dag-pb, 0x55 raw)
    /// and `hashFunction` (multihash code, e.g. 0x12 sha2-256) over a 32-byte `digest`.
    struct Cid {
        uint8 version;
        uint16 codec;
        uint16 hashFunction;
        bytes32 digest;
    }

    /// @notice How a track derives from a parent track.
    enum Relation {
        Remix,
        Sample,
        Cover
    }

    /// @notice A declared parent of a track: the edge of the attribution graph royalties follow.
    struct Parent {
        bytes32 trackId;
        Relation relation;
    }

    /// @notice The stored record of a track, packed in one slot.
    /// @param artist The artist the track is attributed to now.
    /// @param registeredAt Unix time of the registering reveal.
    /// @param committedAt Block number of the commitment the registration was revealed from; a
    /// parent's is always lower than its children's, so the parent graph has no cycle.
    /// @param metadataVersion The current metadata version (0 is the registration's).
    struct Track {
        address artist;
        uint40 registeredAt;
        uint40 committedAt;
        uint16 metadataVersion;
    }

    /// @notice A commitment was recorded at the current block; `sender` may be a relayer.
    event RegistrationCommitted(bytes32 indexed commitment, address indexed sender);

    /// @notice A track was registered; `relayer` is the sender when it carried the artist's signature.
    event TrackRegistered(
        bytes32 indexed trackId,
        address indexed artist,
        address indexed relayer,
        Cid content,
        Cid metadata,
        Parent[] parents
    );

    /// @notice A reveal from an older commitment took the registration of `trackId` over from
    /// `previousArtist`; the {TrackRegistered} that follows starts the track's history anew.
    event RegistrationSuperseded(
        bytes32 indexed trackId, address indexed previousArtist, uint40 previousCommittedAt, uint40 committedAt
    );

    /// @notice The artist published metadata version `metadataVersion` (registration is version 0).
    event TrackMetadataUpdated(bytes32 indexed trackId, uint16 indexed metadataVersion, Cid metadata);

    /// @notice The artist offered the attribution to `to`; `to` is zero when an offer is withdrawn.
    event AttributionTransferProposed(bytes32 indexed trackId, address indexed from, address indexed to);

    /// @notice `to` accepted the attribution of the track from `from`.
    event AttributionTransferred(bytes32 indexed trackId, address indexed from, address indexed to);

    /// @notice `artist` moved their nonce on from `nonce`, voiding every signature made with it.
    event NonceInvalidated(address indexed artist, uint256 nonce);

    /// @notice `trackId` (the audio's SHA-256) is registered to `artist` from a commitment no newer
    /// than the one revealed.
    error TrackAlreadyRegistered(bytes32 trackId, address artist);
    /// @notice No track is registered under this id.
    error TrackNotRegistered(bytes32 trackId);
    /// @notice The audio hash is zero: no file hashes to it.
    error InvalidAudioHash();
    /// @notice A declared parent is not a registered track (a track is never its own parent).
    error UnknownParent(bytes32 parentId);
    /// @notice A declared parent was committed at block `parentCommittedAt`, not before this
    /// registration's commitment at `committedAt`: parents come first, so no cycle can form.
    error ParentNotOlder(bytes32 parentId, uint40 parentCommittedAt, uint40 committedAt);
    /// @notice The same parent is declared twice.
    error DuplicateParent(bytes32 parentId);
    /// @notice More parents than `max` were declared.
    error TooManyParents(uint256 count, uint256 max);
    /// @notice The CID is not one the registry takes: content must be sha2-256 dag-pb (v0 or v1) or
    /// a raw leaf (v1), as `ipfs add` makes files; metadata may also be dag-cbor or dag-json (v1).
    error InvalidCid(uint8 version, uint16 codec, uint16 hashFunction, bytes32 digest);
    /// @notice An address that must be set is zero.
    error ZeroAddress();
    /// @notice `caller` is not the artist of the track.
    error NotArtist(bytes32 trackId, address caller);
    /// @notice `caller` has no pending attribution offer for the track.
    error NotPendingArtist(bytes32 trackId, address caller);
    /// @notice The relayed signature expired at `deadline`.
    error ExpiredSignature(uint256 deadline);
    /// @notice The signature was not made by `artist` over these fields and the artist's nonce.
    error InvalidSignature(address artist);
    /// @notice This commitment is already recorded (at `committedAt`); recording it again would move it later.
    error CommitmentExists(bytes32 commitment, uint40 committedAt);
    /// @notice No commitment matches `keccak256(abi.encode(audioHash, artist, salt))` (never made,
    /// already revealed, or made for another artist or salt).
    error UnknownCommitment(bytes32 commitment);
    /// @notice The commitment was made in block `committedAt`; a reveal must come in a later block.
    error CommitmentTooNew(bytes32 commitment, uint40 committedAt);
    /// @notice The commitment could be revealed until Unix time `expiredAt`.
    error CommitmentExpired(bytes32 commitment, uint256 expiredAt);

    /// @notice Record a registration commitment at the current block. Anyone may send one (a
    /// relayer for a gasless artist): it hides the audio and binds the artist, so it needs no
    /// signature. Emits {RegistrationCommitted}. Reverts {CommitmentExists}.
    /// @param commitment `makeCommitment(audioHash, artist, salt)` with a fresh random salt.
    function commitRegistration(bytes32 commitment) external;

    /// @notice Reveal a commitment of the sender's and register the track as theirs.
    /// Emits {TrackRegistered} (after {RegistrationSuperseded} when an older commitment takes a
    /// registration over). Reverts {UnknownCommitment}, {CommitmentTooNew}, {CommitmentExpired},
    /// {TrackAlreadyRegistered}, {InvalidAudioHash}, {InvalidCid}, {UnknownParent}, {ParentNotOlder},
    /// {DuplicateParent}, {TooManyParents}.
    /// @param audioHash SHA-256 of the audio file's bytes: the track id.
    /// @param salt The salt of the commitment.
    /// @param content The IPFS CID of the audio file (the locator; its bytes hash to `audioHash`).
    /// @param metadata The CID of the metadata JSON (title, artist name, duration, fingerprint, ...).
    /// @param parents Registered tracks this one remixes, samples or covers.
    /// @return trackId `audioHash`.
    function registerTrack(
        bytes32 audioHash,
        bytes32 salt,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents
    ) external returns (bytes32 trackId);

    /// @notice Reveal `artist`'s commitment and register the track for them; the artist signed the
    /// fields (EIP-712 `RegisterTrack`) and pays no gas. The signature covers the artist's nonce,
    /// which registering does not consume: the reveal consumes its commitment, so a signature
    /// cannot be replayed, and `invalidateNonce` voids every one not yet relayed.
    /// Emits {TrackRegistered}. Reverts as {registerTrack}, and {ZeroAddress}, {ExpiredSignature},
    /// {InvalidSignature}.
    /// @param artist The artist who signed and to whom the track is attributed.
    /// @param audioHash SHA-256 of the audio file's bytes.
    /// @param salt The salt of the artist's commitment.
    /// @param content The CID of the audio.
    /// @param metadata The CID of the metadata JSON.
    /// @param parents Registered tracks this one derives from.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The artist's EIP-712 `RegisterTrack` signature (EOA or ERC-1271 wallet).
    /// @return trackId `audioHash`.
    function registerTrackFor(
        address artist,
        bytes32 audioHash,
        bytes32 salt,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 trackId);

    /// @notice Publish a new metadata version; only the track's artist may.
    /// Emits {TrackMetadataUpdated}. Reverts {TrackNotRegistered}, {NotArtist}, {InvalidCid}.
    /// @param trackId The track.
    /// @param metadata The CID of the new metadata JSON.
    function updateMetadata(bytes32 trackId, Cid calldata metadata) external;

    /// @notice Offer the attribution of a track to `newArtist`, who must accept it; zero withdraws.
    /// Emits {AttributionTransferProposed}. Reverts {TrackNotRegistered}, {NotArtist}.
    /// @param trackId The track.
    /// @param newArtist The proposed artist, or zero to withdraw a pending offer.
    function proposeAttributionTransfer(bytes32 trackId, address newArtist) external;

    /// @notice Accept a pending attribution offer made to the sender.
    /// Emits {AttributionTransferred}. Reverts {NotPendingArtist}.
    /// @param trackId The track.
    function acceptAttributionTransfer(bytes32 trackId) external;

    /// @notice Move the sender's nonce on, voiding every signature not yet relayed.
    /// Emits {NonceInvalidated}.
    function invalidateNonce() external;

    /// @notice Move `artist`'s nonce on for them: they signed EIP-712 `InvalidateNonce` with their
    /// current nonce (which this consumes, so it cannot be replayed) and pay no gas.
    /// Emits {NonceInvalidated}. Reverts {ExpiredSignature}, {InvalidSignature}.
    /// @param artist The artist whose signatures are voided.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The artist's EIP-712 `InvalidateNonce` signature (EOA or ERC-1271 wallet).
    function invalidateNonceFor(address artist, uint256 deadline, bytes calldata signature) external;

    /// @notice The commitment a registration reveals: `keccak256(abi.encode(audioHash, artist, salt))`.
    /// @param audioHash SHA-256 of the audio file.
    /// @param artist The artist the track will be attributed to.
    /// @param salt A random 32-byte secret, kept until the reveal.
    /// @return The commitment.
    function makeCommitment(bytes32 audioHash, address artist, bytes32 salt) external pure returns (bytes32);

    /// @notice When a commitment was recorded, zero for one not recorded (or already revealed).
    /// @param commitment The commitment.
    /// @return blockNumber The block it was recorded in.
    /// @return timestamp That block's Unix time; the reveal window ends `MAX_COMMITMENT_AGE` later.
    function commitmentOf(bytes32 commitment) external view returns (uint40 blockNumber, uint40 timestamp);

    /// @notice The stored record of a track; reverts `TrackNotRegistered` for an unknown id.
    /// @param trackId The track.
    /// @return The packed track record.
    function getTrack(bytes32 trackId) external view returns (Track memory);

    /// @notice Whether a track is registered under `trackId`.
    /// @param trackId The audio hash.
    /// @return True when registered.
    function isRegistered(bytes32 trackId) external view returns (bool);

    /// @notice Whether no older commitment can still take the registration over: true from
    /// `registeredAt + MAX_COMMITMENT_AGE` on (any older commitment expired by then). Contracts
    /// that act on attribution (payouts, votes) can wait for it.
    /// @param trackId The track.
    /// @return True when the registration is final.
    function isFinal(bytes32 trackId) external view returns (bool);

    /// @notice keccak256(abi.encode(parents)) as registered; zero for a track without parents.
    /// @param trackId The track.
    /// @return The parents' hash, for contracts that are handed the parent list.
    function parentsHash(bytes32 trackId) external view returns (bytes32);

    /// @notice The pending attribution offer of a track, zero when none.
    /// @param trackId The track.
    /// @return The address the attribution is offered to.
    function pendingArtist(bytes32 trackId) external view returns (address);

    /// @notice The artist's current nonce, which relayed signatures must carry.
    /// @param artist The artist.
    /// @return The nonce (moved on only by `invalidateNonce` / `invalidateNonceFor`).
    function nonces(address artist) external view returns (uint256);

    /// @notice The EIP-712 domain separator relayed signatures are made over.
    /// @return The separator for this chain and contract.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The maximum number of parents a track may declare.
    /// @return The bound.
    function MAX_PARENTS() external view returns (uint256);

    /// @notice Seconds after its block within which a commitment can be revealed (one day).
    /// @return The window.
    function MAX_COMMITMENT_AGE() external view returns (uint256);
}
