// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";

/// @title TrackRegistry
/// @notice Permissionless attribution of tracks to artists, keyed by the SHA-256 of the audio and
/// registered by commit-reveal. There is no owner: a track's artist alone can update its metadata
/// or hand its attribution over.
/// @dev Gas: a commitment is one new slot, cleared by its reveal (refund); a track is one new
/// slot (plus one for a track with parents); CIDs, metadata and history are emitted. Relayed
/// signatures carry the artist's nonce as a counter, as Seaport's order counter: it is read, not
/// consumed, because each reveal consumes its commitment and so cannot be replayed;
/// `invalidateNonce` bumps it to void every signature not yet relayed.
contract TrackRegistry is ITrackRegistry, EIP712, Nonces {
    // ---- constants -----------------------------------------------------------------------------

    /// @inheritdoc ITrackRegistry
    uint256 public constant MAX_PARENTS = 16;
    /// @inheritdoc ITrackRegistry
    uint256 public constant MAX_COMMITMENT_AGE = 1 days;

    uint8 private constant CID_V0 = 0;
    uint8 private constant CID_V1 = 1;
    uint16 private constant DAG_PB = 0x70;
    uint16 private constant RAW = 0x55;
    uint16 private constant DAG_CBOR = 0x71;
    uint16 private constant DAG_JSON = 0x0129;
    uint16 private constant SHA2_256 = 0x12;

    bytes32 private constant CID_TYPEHASH =
        keccak256("Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)");
    bytes32 private constant PARENT_TYPEHASH = keccak256("Parent(bytes32 trackId,uint8 relation)");
    bytes32 private constant REGISTER_TRACK_TYPEHASH = keccak256(
        "RegisterTrack(address artist,bytes32 audioHash,Cid content,Cid metadata,Parent[] parents,uint256 nonce,uint256 deadline)"
        "Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)"
        "Parent(bytes32 trackId,uint8 relation)"
    );
    bytes32 private constant INVALIDATE_NONCE_TYPEHASH =
        keccak256("InvalidateNonce(address artist,uint256 nonce,uint256 deadline)");

    // ---- storage -------------------------------------------------------------------------------

    struct Commitment {
        uint40 blockNumber;
        uint40 timestamp;
    }

    mapping(bytes32 trackId => Track) private _tracks;
    mapping(bytes32 trackId => bytes32) private _parentsHash;
    mapping(bytes32 trackId => address) private _pendingArtist;
    mapping(bytes32 commitment => Commitment) private _commitments;

    constructor() EIP712("QFZZ TrackRegistry", "2") {}

    // ---- registration --------------------------------------------------------------------------

    /// @inheritdoc ITrackRegistry
    function commitRegistration(bytes32 commitment) external {
        Commitment storage recorded = _commitments[commitment];
        if (recorded.blockNumber != 0) revert CommitmentExists(commitment, recorded.blockNumber);
        recorded.blockNumber = uint40(block.number);
        recorded.timestamp = uint40(block.timestamp);
        emit RegistrationCommitted(commitment, msg.sender);
    }

    /// @inheritdoc ITrackRegistry
    function registerTrack(
        bytes32 audioHash,
        bytes32 salt,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents
    ) external returns (bytes32 trackId) {
        return _reveal(msg.sender, audioHash, salt, content, metadata, parents);
    }

    /// @inheritdoc ITrackRegistry
    function registerTrackFor(
        address artist,
        bytes32 audioHash,
        bytes32 salt,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 trackId) {
        _checkSignature(artist, _registerTrackHash(artist, audioHash, content, metadata, parents, deadline), deadline, signature);
        return _reveal(artist, audioHash, salt, content, metadata, parents);
    }

    // ---- the artist's changes ------------------------------------------------------------------

    /// @inheritdoc ITrackRegistry
    function updateMetadata(bytes32 trackId, Cid calldata metadata) external {
        Track storage track = _onlyArtist(trackId);
        _checkMetadataCid(metadata);
        uint16 version = track.metadataVersion + 1;
        track.metadataVersion = version;
        emit TrackMetadataUpdated(trackId, version, metadata);
    }

    /// @inheritdoc ITrackRegistry
    function proposeAttributionTransfer(bytes32 trackId, address newArtist) external {
        _onlyArtist(trackId);
        _pendingArtist[trackId] = newArtist;
        emit AttributionTransferProposed(trackId, msg.sender, newArtist);
    }

    /// @inheritdoc ITrackRegistry
    function acceptAttributionTransfer(bytes32 trackId) external {
        if (msg.sender != _pendingArtist[trackId]) {
            revert NotPendingArtist(trackId, msg.sender);
        }
        Track storage track = _tracks[trackId];
        address previous = track.artist;
        track.artist = msg.sender;
        delete _pendingArtist[trackId];
        emit AttributionTransferred(trackId, previous, msg.sender);
    }

    /// @inheritdoc ITrackRegistry
    function invalidateNonce() external {
        emit NonceInvalidated(msg.sender, _useNonce(msg.sender));
    }

    /// @inheritdoc ITrackRegistry
    function invalidateNonceFor(address artist, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(INVALIDATE_NONCE_TYPEHASH, artist, nonces(artist), deadline));
        _checkSignature(artist, structHash, deadline, signature);
        emit NonceInvalidated(artist, _useNonce(artist));
    }

    // ---- views ---------------------------------------------------------------------------------

    /// @inheritdoc ITrackRegistry
    function makeCommitment(bytes32 audioHash, address artist, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(audioHash, artist, salt));
    }

    /// @inheritdoc ITrackRegistry
    function commitmentOf(bytes32 commitment) external view returns (uint40 blockNumber, uint40 timestamp) {
        Commitment memory recorded = _commitments[commitment];
        return (recorded.blockNumber, recorded.timestamp);
    }

    /// @inheritdoc ITrackRegistry
    function getTrack(bytes32 trackId) external view returns (Track memory) {
        return _registered(trackId);
    }

    /// @inheritdoc ITrackRegistry
    function isRegistered(bytes32 trackId) external view returns (bool) {
        return _tracks[trackId].artist != address(0);
    }

    /// @inheritdoc ITrackRegistry
    function isFinal(bytes32 trackId) external view returns (bool) {
        return block.timestamp > _registered(trackId).registeredAt + MAX_COMMITMENT_AGE;
    }

    /// @inheritdoc ITrackRegistry
    function parentsHash(bytes32 trackId) external view returns (bytes32) {
        return _parentsHash[trackId];
    }

    /// @inheritdoc ITrackRegistry
    function pendingArtist(bytes32 trackId) external view returns (address) {
        return _pendingArtist[trackId];
    }

    /// @inheritdoc ITrackRegistry
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc ITrackRegistry
    function nonces(address artist) public view override(ITrackRegistry, Nonces) returns (uint256) {
        return super.nonces(artist);
    }

    // ---- private -------------------------------------------------------------------------------

    function _reveal(
        address artist,
        bytes32 audioHash,
        bytes32 salt,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents
    ) private returns (bytes32) {
        if (audioHash == bytes32(0)) revert InvalidAudioHash();
        _checkContentCid(content);
        _checkMetadataCid(metadata);

        bytes32 commitment = makeCommitment(audioHash, artist, salt);
        Commitment memory committed = _commitments[commitment];
        if (committed.blockNumber == 0) revert UnknownCommitment(commitment);
        // at least one block between commit and reveal: a copied reveal holds no commitment yet
        if (block.number <= committed.blockNumber) revert CommitmentTooNew(commitment, committed.blockNumber);
        uint256 expiredAt = uint256(committed.timestamp) + MAX_COMMITMENT_AGE;
        if (block.timestamp > expiredAt) revert CommitmentExpired(commitment, expiredAt);

        Track storage track = _tracks[audioHash];
        address previous = track.artist;
        // the earliest commitment wins; on a tie (same block) the registration stands
        if (previous != address(0) && track.committedAt <= committed.blockNumber) {
            revert TrackAlreadyRegistered(audioHash, previous);
        }
        _checkParents(audioHash, parents, committed.blockNumber);

        delete _commitments[commitment];
        if (previous != address(0)) {
            emit RegistrationSuperseded(audioHash, previous, track.committedAt, committed.blockNumber);
            delete _pendingArtist[audioHash];
            if (parents.length == 0) delete _parentsHash[audioHash];
        }
        _tracks[audioHash] = Track({
            artist: artist,
            registeredAt: uint40(block.timestamp),
            committedAt: committed.blockNumber,
            metadataVersion: 0
        });
        if (parents.length != 0) _parentsHash[audioHash] = keccak256(abi.encode(parents));
        emit TrackRegistered(audioHash, artist, msg.sender, content, metadata, parents);
        return audioHash;
    }

    function _checkSignature(address artist, bytes32 structHash, uint256 deadline, bytes calldata signature)
        private
        view
    {
        if (artist == address(0)) revert ZeroAddress();
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        if (!SignatureChecker.isValidSignatureNow(artist, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(artist);
        }
    }

    function _registered(bytes32 trackId) private view returns (Track memory track) {
        track = _tracks[trackId];
        if (track.artist == address(0)) revert TrackNotRegistered(trackId);
    }

    function _onlyArtist(bytes32 trackId) private view returns (Track storage track) {
        track = _tracks[trackId];
        if (track.artist == address(0)) revert TrackNotRegistered(trackId);
        if (track.artist != msg.sender) revert NotArtist(trackId, msg.sender);
    }

    /// @dev Audio is a file as `ipfs add` makes it: UnixFS dag-pb, or a raw leaf in CIDv1.
    function _checkContentCid(Cid calldata cid) private pure {
        bool fileCodec = cid.codec == DAG_PB || (cid.version == CID_V1 && cid.codec == RAW);
        _requireCid(cid, fileCodec);
    }

    /// @dev Metadata may also be an IPLD document (dag-cbor, dag-json) in CIDv1.
    function _checkMetadataCid(Cid calldata cid) private pure {
        bool codec = cid.codec == DAG_PB
            || (cid.version == CID_V1 && (cid.codec == RAW || cid.codec == DAG_CBOR || cid.codec == DAG_JSON));
        _requireCid(cid, codec);
    }

    function _requireCid(Cid calldata cid, bool codecAllowed) private pure {
        bool valid = codecAllowed && cid.hashFunction == SHA2_256 && cid.digest != bytes32(0)
            && (cid.version == CID_V0 || cid.version == CID_V1);
        if (!valid) revert InvalidCid(cid.version, cid.codec, cid.hashFunction, cid.digest);
    }

    /// @dev Every parent is another registered track committed strictly before this registration's
    /// commitment: edges point to older commitments, so the graph stays acyclic even when an older
    /// commitment takes a registration over.
    function _checkParents(bytes32 trackId, Parent[] calldata parents, uint40 committedAt) private view {
        if (parents.length > MAX_PARENTS) revert TooManyParents(parents.length, MAX_PARENTS);
        for (uint256 i = 0; i < parents.length; ++i) {
            bytes32 parentId = parents[i].trackId;
            Track storage parent = _tracks[parentId];
            if (parent.artist == address(0) || parentId == trackId) revert UnknownParent(parentId);
            if (parent.committedAt >= committedAt) revert ParentNotOlder(parentId, parent.committedAt, committedAt);
            for (uint256 j = 0; j < i; ++j) {
                if (parents[j].trackId == parentId) revert DuplicateParent(parentId);
            }
        }
    }

    function _registerTrackHash(
        address artist,
        bytes32 audioHash,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents,
        uint256 deadline
    ) private view returns (bytes32) {
        return keccak256(
            abi.encode(
                REGISTER_TRACK_TYPEHASH,
                artist,
                audioHash,
                _hashCid(content),
                _hashCid(metadata),
                _hashParents(parents),
                nonces(artist),
                deadline
            )
        );
    }

    function _hashCid(Cid calldata cid) private pure returns (bytes32) {
        return keccak256(abi.encode(CID_TYPEHASH, cid.version, cid.codec, cid.hashFunction, cid.digest));
    }

    function _hashParents(Parent[] calldata parents) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](parents.length);
        for (uint256 i = 0; i < parents.length; ++i) {
            hashes[i] = keccak256(abi.encode(PARENT_TYPEHASH, parents[i].trackId, parents[i].relation));
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
