// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";

/// @title TrackRegistry
/// @notice Permissionless attribution of tracks to artists by IPFS content CID. There is no
/// owner: a track's artist alone can update its metadata or hand its attribution over.
/// @dev Gas: one new storage slot per track (plus one for a track with parents); everything
/// else is emitted. Relayed signatures carry the artist's nonce as a counter, as Seaport's
/// order counter: it is read, not consumed, because a content CID registers only once and
/// so a signature cannot be replayed; `invalidateNonce` bumps it to void every signature
/// not yet relayed. This keeps relaying a fresh artist's track from writing a second slot.
contract TrackRegistry is ITrackRegistry, EIP712, Nonces {
    /// @inheritdoc ITrackRegistry
    uint256 public constant MAX_PARENTS = 16;

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
        "RegisterTrack(address artist,Cid content,Cid metadata,Parent[] parents,uint256 nonce,uint256 deadline)"
        "Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)"
        "Parent(bytes32 trackId,uint8 relation)"
    );

    mapping(bytes32 trackId => Track) private _tracks;
    mapping(bytes32 trackId => bytes32) private _parentsHash;
    mapping(bytes32 trackId => address) private _pendingArtist;

    constructor() EIP712("QFZZ TrackRegistry", "1") {}

    /// @inheritdoc ITrackRegistry
    function registerTrack(Cid calldata content, Cid calldata metadata, Parent[] calldata parents)
        external
        returns (bytes32 trackId)
    {
        return _register(msg.sender, content, metadata, parents);
    }

    /// @inheritdoc ITrackRegistry
    function registerTrackFor(
        address artist,
        Cid calldata content,
        Cid calldata metadata,
        Parent[] calldata parents,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 trackId) {
        if (artist == address(0)) revert ZeroAddress();
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTER_TRACK_TYPEHASH,
                artist,
                _hashCid(content),
                _hashCid(metadata),
                _hashParents(parents),
                nonces(artist),
                deadline
            )
        );
        if (!SignatureChecker.isValidSignatureNow(artist, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(artist);
        }
        return _register(artist, content, metadata, parents);
    }

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
    function getTrack(bytes32 trackId) external view returns (Track memory) {
        return _registered(trackId);
    }

    /// @inheritdoc ITrackRegistry
    function isRegistered(bytes32 trackId) external view returns (bool) {
        return _tracks[trackId].artist != address(0);
    }

    /// @inheritdoc ITrackRegistry
    function contentCid(bytes32 trackId) external view returns (Cid memory) {
        Track memory track = _registered(trackId);
        return Cid(track.cidVersion, track.codec, track.hashFunction, trackId);
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

    function _register(address artist, Cid calldata content, Cid calldata metadata, Parent[] calldata parents)
        private
        returns (bytes32 trackId)
    {
        if (artist == address(0)) revert ZeroAddress();
        _checkContentCid(content);
        _checkMetadataCid(metadata);
        trackId = content.digest;
        if (_tracks[trackId].artist != address(0)) revert TrackAlreadyRegistered(trackId);
        _checkParents(parents);

        _tracks[trackId] = Track({
            artist: artist,
            registeredAt: uint40(block.timestamp),
            cidVersion: content.version,
            codec: content.codec,
            hashFunction: content.hashFunction,
            metadataVersion: 0
        });
        if (parents.length != 0) _parentsHash[trackId] = keccak256(abi.encode(parents));
        emit TrackRegistered(trackId, artist, msg.sender, content, metadata, parents);
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

    function _checkParents(Parent[] calldata parents) private view {
        if (parents.length > MAX_PARENTS) revert TooManyParents(parents.length, MAX_PARENTS);
        for (uint256 i = 0; i < parents.length; ++i) {
            bytes32 parentId = parents[i].trackId;
            if (_tracks[parentId].artist == address(0)) revert UnknownParent(parentId);
            for (uint256 j = 0; j < i; ++j) {
                if (parents[j].trackId == parentId) revert DuplicateParent(parentId);
            }
        }
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
