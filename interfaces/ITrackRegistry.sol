// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ITrackRegistry
/// @notice Attribution of music tracks to artists, keyed by the IPFS content identifier of the
/// audio. The registry stores one packed slot per track (what contracts must read back: the
/// artist and what rebuilds the CID string); metadata, parents and history live in events.
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

    /// @notice The stored record of a track, packed in one slot. The track id is the content
    /// CID's digest, so `Cid(cidVersion, codec, hashFunction, trackId)` is the content CID.
    struct Track {
        address artist;
        uint40 registeredAt;
        uint8 cidVersion;
        uint16 codec;
        uint16 hashFunction;
        uint16 metadataVersion;
    }

    /// @notice A track was registered; `relayer` is the sender when it carried the artist's signature.
    event TrackRegistered(
        bytes32 indexed trackId,
        address indexed artist,
        address indexed relayer,
        Cid content,
        Cid metadata,
        Parent[] parents
    );

    /// @notice The artist published metadata version `metadataVersion` (registration is version 0).
    event TrackMetadataUpdated(bytes32 indexed trackId, uint16 indexed metadataVersion, Cid metadata);

    /// @notice The artist offered the attribution to `to`; `to` is zero when an offer is withdrawn.
    event AttributionTransferProposed(bytes32 indexed trackId, address indexed from, address indexed to);

    /// @notice `to` accepted the attribution of the track from `from`.
    event AttributionTransferred(bytes32 indexed trackId, address indexed from, address indexed to);

    /// @notice `artist` moved their nonce on from `nonce`, voiding every signature made with it.
    event NonceInvalidated(address indexed artist, uint256 nonce);

    /// @notice A track with this content digest is already registered.
    error TrackAlreadyRegistered(bytes32 trackId);
    /// @notice No track is registered under this id.
    error TrackNotRegistered(bytes32 trackId);
    /// @notice A declared parent is not a registered track.
    error UnknownParent(bytes32 parentId);
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

    /// @notice Register a track of the sender's.
    /// @param content The CID of the audio; its digest becomes the track id.
    /// @param metadata The CID of the metadata JSON (title, artist name, duration, ISRC, ...).
    /// @param parents Registered tracks this one remixes, samples or covers.
    /// @return trackId The content CID's digest.
    function registerTrack(Cid calldata content, Cid calldata metadata, Parent[] calldata parents)
        external
        returns (bytes32 trackId);

    /// @notice Register a track for `artist`, who signed the fields (EIP-712) and pays no gas.
    /// The signature covers the artist's current nonce, which registering does not consume: the
    /// content CID registers once, so a signature cannot be replayed, and an artist can sign many
    /// registrations for a relayer to submit in any order. `invalidateNonce` voids them all.
    /// @param artist The artist who signed and to whom the track is attributed.
    /// @param content The CID of the audio.
    /// @param metadata The CID of the metadata JSON.
    /// @param parents Registered tracks this one derives from.
    /// @param deadline Unix time after which the signature is void.
    /// @param signature The artist's EIP-712 `RegisterTrack` signature (EOA or ERC-1271 wallet).
    /// @return trackId The content CID's digest.
    function registerTrackFor(
        address artist,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 trackId);

    /// @notice Publish a new metadata version; only the track's artist may.
    /// @param trackId The track.
    /// @param metadata The CID of the new metadata JSON.
    function updateMetadata(bytes32 trackId, Cid calldata metadata) external;

    /// @notice Offer the attribution of a track to `newArtist`, who must accept it; zero withdraws.
    /// @param trackId The track.
    /// @param newArtist The proposed artist, or zero to withdraw a pending offer.
    function proposeAttributionTransfer(bytes32 trackId, address newArtist) external;

    /// @notice Accept a pending attribution offer made to the sender.
    /// @param trackId The track.
    function acceptAttributionTransfer(bytes32 trackId) external;

    /// @notice Move the sender's nonce on, voiding every signature not yet relayed.
    function invalidateNonce() external;

    /// @notice The stored record of a track; reverts `TrackNotRegistered` for an unknown id.
    /// @param trackId The track.
    /// @return The packed track record.
    function getTrack(bytes32 trackId) external view returns (Track memory);

    /// @notice Whether a track is registered under `trackId`.
    /// @param trackId The content digest.
    /// @return True when registered.
    function isRegistered(bytes32 trackId) external view returns (bool);

    /// @notice The content CID parts of a registered track.
    /// @param trackId The track.
    /// @return The CID that rebuilds the exact content CID string.
    function contentCid(bytes32 trackId) external view returns (Cid memory);

    /// @notice keccak256(abi.encode(parents)) as registered; zero for a track without parents.
    /// @param trackId The track.
    /// @return The parents' hash, for contracts that are handed the parent list.
    function parentsHash(bytes32 trackId) external view returns (bytes32);

    /// @notice The pending attribution offer of a track, zero when none.
    /// @param trackId The track.
    /// @return The address the attribution is offered to.
    function pendingArtist(bytes32 trackId) external view returns (address);

    /// @notice The artist's current nonce, which `registerTrackFor` signatures must carry.
    /// @param artist The artist.
    /// @return The nonce (moved on only by `invalidateNonce`).
    function nonces(address artist) external view returns (uint256);

    /// @notice The EIP-712 domain separator `registerTrackFor` signatures are made over.
    /// @return The separator for this chain and contract.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice The maximum number of parents a track may declare.
    /// @return The bound.
    function MAX_PARENTS() external view returns (uint256);
}
