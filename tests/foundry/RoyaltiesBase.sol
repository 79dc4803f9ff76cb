// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Cheats} from "./Cheats.sol";
import {TrackRegistry} from "../../contracts/TrackRegistry.sol";
import {Royalties} from "../../contracts/Royalties.sol";
import {IRoyalties} from "../../interfaces/IRoyalties.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice Registering final tracks for the royalty tests: commit, reveal a block later, and let
/// the day pass after which no older commitment can take a registration over.
abstract contract RoyaltiesBase is Cheats {
    function _cid(bytes32 digest) internal pure returns (ITrackRegistry.Cid memory) {
        return ITrackRegistry.Cid(0, 0x70, 0x12, digest == bytes32(0) ? bytes32(uint256(1)) : digest);
    }

    /// @dev Register `audioHash` as `artist`'s with `parents`; not final yet.
    function _register(TrackRegistry registry, address artist, bytes32 audioHash, ITrackRegistry.Parent[] memory parents)
        internal
    {
        bytes32 salt = keccak256(abi.encode("salt", audioHash));
        vm.prank(artist);
        registry.commitRegistration(keccak256(abi.encode(audioHash, artist, salt)));
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
        vm.prank(artist);
        registry.registerTrack(audioHash, salt, _cid(audioHash), _cid(salt), parents);
    }

    function _passFinality() internal {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 1 days + 1);
    }

    function _parent(bytes32 trackId, ITrackRegistry.Relation relation)
        internal
        pure
        returns (ITrackRegistry.Parent[] memory parents)
    {
        parents = new ITrackRegistry.Parent[](1);
        parents[0] = ITrackRegistry.Parent(trackId, relation);
    }

    function _none() internal pure returns (ITrackRegistry.Parent[] memory) {
        return new ITrackRegistry.Parent[](0);
    }

    function _one(address who) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = who;
    }

    function _bps(uint16 value) internal pure returns (uint16[] memory list) {
        list = new uint16[](1);
        list[0] = value;
    }

    function _ref(bytes32 trackId, IRoyalties.Right right, uint16 version)
        internal
        pure
        returns (IRoyalties.ShareRef[] memory refs)
    {
        refs = new IRoyalties.ShareRef[](1);
        refs[0] = IRoyalties.ShareRef(trackId, right, version);
    }

    function _eth() internal pure returns (address[] memory tokens) {
        tokens = new address[](1);
    }

    receive() external payable {}
}
