// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IRoyaltySplits
/// @notice The part of the royalties contract (`IRoyalties`, contracts/Royalties.sol) that says
/// who a track's royalties go to: what curation reads to find an artist's collaborators.
/// Splits are stored as hashes, the lists emitted (the 0xSplits pattern): a caller hands the
/// lists back as calldata and checks them against `splitHash` of the current version.
/// @dev The selectors and the event topic are `IRoyalties`'s own (an enum is a `uint8` in a
/// signature), so this subset calls the real contract and reads its logs; curation depends on
/// the three views it uses and nothing else.
interface IRoyaltySplits {
    /// @notice The two rights of a track (as `IRoyalties.Right`).
    enum Right {
        Composition,
        Master
    }

    /// @notice Version `version` of a right's split: `recipients` hold `bps`, `upstreamBps` goes to
    /// the parents; `splitHash` is `keccak256(abi.encode(recipients, bps, upstreamBps))` (as
    /// `IRoyalties.SplitSet`: the same topic, so readers of this ABI read the real contract's logs).
    event SplitSet(
        bytes32 indexed trackId,
        Right indexed right,
        uint16 version,
        address[] recipients,
        uint16[] bps,
        uint16 upstreamBps,
        bytes32 splitHash
    );

    /// @notice A track's royalty state: lineage, and per right whether a split is set, locked,
    /// and its current version.
    function trackState(bytes32 trackId)
        external
        view
        returns (
            bool lineageRecorded,
            uint8 depth,
            bool hasParents,
            bool hasMasterParents,
            bool[2] memory splitSet,
            bool[2] memory locked,
            uint16[2] memory versions
        );

    /// @notice `keccak256(abi.encode(recipients, bps, upstreamBps))` of a split version (zero if none).
    function splitHash(bytes32 trackId, Right right, uint16 version) external view returns (bytes32);

    /// @notice The controller and pending controller of a right's split (zero when locked or unset).
    function controllerOf(bytes32 trackId, Right right) external view returns (address controller, address pending);
}
