// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Cheats} from "./Cheats.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice A registry on a fresh chain (block 100, a 2023 clock) and the steps of using it: CIDs,
/// commitments, reveals, EIP-712 signatures. Hashes and the domain are computed here from the
/// spec (ITrackRegistry, EIP-712), never read back from the contract under test.
abstract contract RegistryTest is Cheats {
    bytes32 internal constant CID_TYPEHASH =
        keccak256("Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)");
    bytes32 internal constant PARENT_TYPEHASH = keccak256("Parent(bytes32 trackId,uint8 relation)");
    bytes32 internal constant REGISTER_TRACK_TYPEHASH = keccak256(
        "RegisterTrack(address artist,bytes32 audioHash,Cid content,Cid metadata,Parent[] parents,uint256 nonce,uint256 deadline)"
        "Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)" "Parent(bytes32 trackId,uint8 relation)"
    );
    bytes32 internal constant INVALIDATE_NONCE_TYPEHASH =
        keccak256("InvalidateNonce(address artist,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    uint16 internal constant DAG_PB = 0x70;
    uint16 internal constant RAW = 0x55;
    uint16 internal constant DAG_CBOR = 0x71;
    uint16 internal constant DAG_JSON = 0x0129;
    uint16 internal constant SHA2_256 = 0x12;

    uint256 internal constant START_BLOCK = 100;
    uint256 internal constant START_TIME = 1_700_000_000;
    uint256 internal constant ARTIST_KEY = 0xA11CE;
    address internal constant RELAYER = address(0xBEEF);

    ITrackRegistry internal registry;
    address internal artist;
    uint256 private _audioCounter;

    function setUp() public virtual {
        vm.roll(START_BLOCK);
        vm.warp(START_TIME);
        registry = deployRegistry();
        artist = vm.addr(ARTIST_KEY);
    }

    // ---- values ----------------------------------------------------------------------------

    function cidV0(bytes32 digest) internal pure returns (ITrackRegistry.Cid memory) {
        return ITrackRegistry.Cid(0, DAG_PB, SHA2_256, digest);
    }

    function cid(uint8 version, uint16 codec, bytes32 digest) internal pure returns (ITrackRegistry.Cid memory) {
        return ITrackRegistry.Cid(version, codec, SHA2_256, digest);
    }

    /// @dev A new audio hash per call, as distinct files have.
    function newAudio() internal returns (bytes32) {
        return keccak256(abi.encode("audio", ++_audioCounter));
    }

    function noParents() internal pure returns (ITrackRegistry.Parent[] memory) {
        return new ITrackRegistry.Parent[](0);
    }

    function parentList(bytes32 first, ITrackRegistry.Relation relation)
        internal
        pure
        returns (ITrackRegistry.Parent[] memory parents)
    {
        parents = new ITrackRegistry.Parent[](1);
        parents[0] = ITrackRegistry.Parent(first, relation);
    }

    function commitmentOf(bytes32 audioHash, address who, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(audioHash, who, salt));
    }

    // ---- steps -----------------------------------------------------------------------------

    /// @dev A relayer records the commitment of (audioHash, who, salt) in the current block.
    function commit(bytes32 audioHash, address who, bytes32 salt) internal returns (bytes32 commitment) {
        commitment = commitmentOf(audioHash, who, salt);
        vm.prank(RELAYER);
        registry.commitRegistration(commitment);
    }

    function nextBlock() internal {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
    }

    function reveal(address who, bytes32 audioHash, bytes32 salt, ITrackRegistry.Parent[] memory parents)
        internal
        returns (bytes32)
    {
        vm.prank(who);
        return registry.registerTrack(audioHash, salt, cidV0(audioHash), cidV0(salt), parents);
    }

    /// @dev Commit, then reveal in the next block; returns the commitment's block.
    function register(address who, bytes32 audioHash, ITrackRegistry.Parent[] memory parents)
        internal
        returns (uint256 committedAt)
    {
        committedAt = block.number;
        commit(audioHash, who, "salt");
        nextBlock();
        reveal(who, audioHash, "salt", parents);
    }

    function registerNew(address who) internal returns (bytes32 audioHash) {
        audioHash = newAudio();
        register(who, audioHash, noParents());
    }

    // ---- EIP-712 -------------------------------------------------------------------------------

    function domainSeparator() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("QFZZ TrackRegistry"), keccak256("2"), block.chainid, address(registry)
            )
        );
    }

    function hashCid(ITrackRegistry.Cid memory value) internal pure returns (bytes32) {
        return keccak256(abi.encode(CID_TYPEHASH, value.version, value.codec, value.hashFunction, value.digest));
    }

    function hashParents(ITrackRegistry.Parent[] memory parents) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](parents.length);
        for (uint256 i = 0; i < parents.length; ++i) {
            hashes[i] = keccak256(abi.encode(PARENT_TYPEHASH, parents[i].trackId, parents[i].relation));
        }
        return keccak256(abi.encodePacked(hashes));
    }

    struct Request {
        address artist;
        bytes32 audioHash;
        bytes32 salt;
        ITrackRegistry.Cid content;
        ITrackRegistry.Cid metadata;
        ITrackRegistry.Parent[] parents;
        uint256 nonce;
        uint256 deadline;
    }

    function signRequest(uint256 key, Request memory request) internal view returns (bytes memory) {
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTER_TRACK_TYPEHASH,
                request.artist,
                request.audioHash,
                hashCid(request.content),
                hashCid(request.metadata),
                hashParents(request.parents),
                request.nonce,
                request.deadline
            )
        );
        return _sign(key, structHash);
    }

    function signInvalidation(uint256 key, address who, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, keccak256(abi.encode(INVALIDATE_NONCE_TYPEHASH, who, nonce, deadline)));
    }

    function _sign(uint256 key, bytes32 structHash) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash)));
        return abi.encodePacked(r, s, v);
    }

    function relay(Request memory request, bytes memory signature) internal returns (bytes32) {
        vm.prank(RELAYER);
        return registry.registerTrackFor(
            request.artist,
            request.audioHash,
            request.salt,
            request.content,
            request.metadata,
            request.parents,
            request.deadline,
            signature
        );
    }

    // ---- expectations --------------------------------------------------------------------------

    function expectRevert(bytes memory data) internal {
        vm.expectRevert(data);
    }

    function expectEmit() internal {
        vm.expectEmit(true, true, true, true, address(registry));
    }

    function checkTrack(
        bytes32 trackId,
        address holder,
        uint256 registeredAt,
        uint256 committedAt,
        uint256 metadataVersion,
        string memory what
    ) internal view {
        ITrackRegistry.Track memory track = registry.getTrack(trackId);
        check(track.artist == holder, string.concat(what, ": artist"));
        check(track.registeredAt == registeredAt, string.concat(what, ": registeredAt"));
        check(track.committedAt == committedAt, string.concat(what, ": committedAt"));
        check(track.metadataVersion == metadataVersion, string.concat(what, ": metadataVersion"));
    }
}
