// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Cheats} from "./Cheats.sol";
import {TrackRegistry} from "../../contracts/TrackRegistry.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice Drives the registry with random commitments, reveals (incl. take-overs by older
/// commitments), derivatives, transfers and time, and keeps a ghost model of who should hold
/// each track. Only the handler is targeted.
contract RegistryHandler is Cheats {
    TrackRegistry public immutable registry;
    address[4] internal artists = [address(0xA1), address(0xA2), address(0xA3), address(0xA4)];
    bytes32[6] internal audio;

    struct Pending {
        bytes32 audioHash;
        address artist;
        bytes32 salt;
        uint40 blockNumber;
    }

    Pending[] internal pending;
    bytes32[] public registered;
    mapping(bytes32 trackId => address) public expectedArtist;
    mapping(bytes32 trackId => bytes32[]) internal parentsOf;
    mapping(bytes32 trackId => bool) internal known;
    uint256 public takeOvers;

    constructor(TrackRegistry registry_) {
        registry = registry_;
        for (uint256 i = 0; i < audio.length; ++i) {
            audio[i] = keccak256(abi.encode("audio", i));
        }
    }

    function registeredCount() external view returns (uint256) {
        return registered.length;
    }

    function parents(bytes32 trackId) external view returns (bytes32[] memory) {
        return parentsOf[trackId];
    }

    function commit(uint8 audioPick, uint8 artistPick, uint8 saltPick) external {
        Pending memory entry = Pending(audio[audioPick % audio.length], artists[artistPick % 4], bytes32(uint256(saltPick % 4)),
            uint40(block.number));
        bytes32 commitment = keccak256(abi.encode(entry.audioHash, entry.artist, entry.salt));
        (uint40 recorded,) = registry.commitmentOf(commitment);
        if (recorded != 0) return;
        registry.commitRegistration(commitment);
        pending.push(entry);
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 13);
    }

    function reveal(uint256 pendingPick, uint256 parentPick, bool withParent) external {
        if (pending.length == 0) return;
        uint256 index = pendingPick % pending.length;
        Pending memory entry = pending[index];
        if (block.number <= entry.blockNumber || block.timestamp > _committedTime(entry) + 1 days) return;
        ITrackRegistry.Parent[] memory declared = new ITrackRegistry.Parent[](0);
        if (withParent && registered.length != 0) {
            bytes32 parentId = registered[parentPick % registered.length];
            if (parentId == entry.audioHash || registry.getTrack(parentId).committedAt >= entry.blockNumber) return;
            declared = new ITrackRegistry.Parent[](1);
            declared[0] = ITrackRegistry.Parent(parentId, ITrackRegistry.Relation(parentPick % 3));
        }
        bool taken = registry.isRegistered(entry.audioHash);
        if (taken && registry.getTrack(entry.audioHash).committedAt <= entry.blockNumber) return;
        vm.prank(entry.artist);
        registry.registerTrack(
            entry.audioHash, entry.salt, ITrackRegistry.Cid(0, 0x70, 0x12, entry.salt | bytes32(uint256(1))),
            ITrackRegistry.Cid(0, 0x70, 0x12, bytes32(uint256(7))), declared
        );
        if (taken) {
            ++takeOvers;
        } else {
            registered.push(entry.audioHash);
        }
        expectedArtist[entry.audioHash] = entry.artist;
        delete parentsOf[entry.audioHash];
        if (declared.length != 0) parentsOf[entry.audioHash].push(declared[0].trackId);
        pending[index] = pending[pending.length - 1];
        pending.pop();
    }

    function transfer(uint256 trackPick, uint8 toPick) external {
        if (registered.length == 0) return;
        bytes32 trackId = registered[trackPick % registered.length];
        address to = artists[toPick % 4];
        vm.prank(registry.getTrack(trackId).artist);
        registry.proposeAttributionTransfer(trackId, to);
        vm.prank(to);
        registry.acceptAttributionTransfer(trackId);
        expectedArtist[trackId] = to;
    }

    function passTime(uint32 seconds_) external {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + seconds_ % 2 days);
    }

    /// @dev The recorded time of a pending commitment, from the registry itself.
    function _committedTime(Pending memory entry) internal view returns (uint256) {
        (, uint40 timestamp) = registry.commitmentOf(keccak256(abi.encode(entry.audioHash, entry.artist, entry.salt)));
        return timestamp;
    }
}

contract TrackRegistryInvariantTest is Cheats {
    TrackRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        registry = new TrackRegistry();
        handler = new RegistryHandler(registry);
    }

    /// @dev forge's invariant runner fuzzes only the contracts this returns.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_everyTrackIsHeldByWhomTheModelSays() public view {
        for (uint256 i = 0; i < handler.registeredCount(); ++i) {
            bytes32 trackId = handler.registered(i);
            check(registry.getTrack(trackId).artist == handler.expectedArtist(trackId), "artist");
        }
    }

    function invariant_parentsAreAlwaysCommittedBeforeTheirChildren() public view {
        for (uint256 i = 0; i < handler.registeredCount(); ++i) {
            bytes32 child = handler.registered(i);
            bytes32[] memory parentIds = handler.parents(child);
            for (uint256 j = 0; j < parentIds.length; ++j) {
                check(registry.getTrack(parentIds[j]).committedAt < registry.getTrack(child).committedAt, "acyclic");
            }
            bytes32 stored = registry.parentsHash(child);
            check((stored == bytes32(0)) == (parentIds.length == 0), "parents hash only with parents");
        }
    }

    function invariant_noTrackCommittedInTheFuture() public view {
        for (uint256 i = 0; i < handler.registeredCount(); ++i) {
            ITrackRegistry.Track memory track = registry.getTrack(handler.registered(i));
            check(track.committedAt < block.number && track.registeredAt <= block.timestamp, "time");
        }
    }
}
