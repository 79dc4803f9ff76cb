// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRoyaltySplits} from "../../interfaces/IRoyaltySplits.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice Test stand-in for the royalties contract until branch `roy` lands: the split records
/// curation reads, kept as `Royalties` keeps them (hash of `(recipients, bps, upstreamBps)` per
/// version, first split by the registry's artist of a final track, later versions and control
/// transfers by the controller, `SplitSet` with the lists). No money moves here.
contract RoyaltySplitsStandIn is IRoyaltySplits {
    event SplitSet(
        bytes32 indexed trackId,
        Right indexed right,
        uint16 version,
        address[] recipients,
        uint16[] bps,
        uint16 upstreamBps,
        bytes32 splitHash
    );

    error NotController(bytes32 trackId, Right right, address caller);
    error RegistrationNotFinal(bytes32 trackId, uint256 finalAt);

    struct Record {
        bool set;
        uint16 version;
        address controller;
        address pending;
    }

    ITrackRegistry public immutable registry;
    mapping(bytes32 trackId => mapping(Right right => Record)) private _records;
    mapping(bytes32 trackId => mapping(Right right => mapping(uint16 version => bytes32))) private _hashes;

    constructor(ITrackRegistry registry_) {
        registry = registry_;
    }

    function setSplit(bytes32 trackId, Right right, address[] calldata recipients, uint16[] calldata bps, uint16 upstreamBps)
        external
    {
        Record storage record = _records[trackId][right];
        if (!record.set) {
            if (registry.getTrack(trackId).artist != msg.sender) revert NotController(trackId, right, msg.sender);
            if (!registry.isFinal(trackId)) revert RegistrationNotFinal(trackId, 0);
            (record.set, record.controller) = (true, msg.sender);
        } else {
            if (record.controller != msg.sender) revert NotController(trackId, right, msg.sender);
            record.version += 1;
        }
        bytes32 hash = keccak256(abi.encode(recipients, bps, upstreamBps));
        _hashes[trackId][right][record.version] = hash;
        emit SplitSet(trackId, right, record.version, recipients, bps, upstreamBps, hash);
    }

    function transferControl(bytes32 trackId, Right right, address newController) external {
        Record storage record = _records[trackId][right];
        if (record.controller != msg.sender) revert NotController(trackId, right, msg.sender);
        record.pending = newController;
    }

    function acceptControl(bytes32 trackId, Right right) external {
        Record storage record = _records[trackId][right];
        if (record.pending != msg.sender) revert NotController(trackId, right, msg.sender);
        (record.controller, record.pending) = (msg.sender, address(0));
    }

    function trackState(bytes32 trackId)
        external
        view
        returns (bool, uint8, bool, bool, bool[2] memory splitSet, bool[2] memory locked, uint16[2] memory versions)
    {
        Record memory composition = _records[trackId][Right.Composition];
        Record memory master = _records[trackId][Right.Master];
        splitSet = [composition.set, master.set];
        versions = [composition.version, master.version];
        return (composition.set || master.set, 0, false, false, splitSet, locked, versions);
    }

    function splitHash(bytes32 trackId, Right right, uint16 version) external view returns (bytes32) {
        return _hashes[trackId][right][version];
    }

    function controllerOf(bytes32 trackId, Right right) external view returns (address controller, address pending) {
        Record memory record = _records[trackId][right];
        return (record.controller, record.pending);
    }
}
