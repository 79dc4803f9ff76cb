// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The few Foundry cheatcodes these tests use, at forge's fixed cheatcode address.
/// @dev forge-std would provide these, but the registries here offer only an unofficial, years-old
/// copy of it (npm `forge-std` 1.1.2); the cheatcodes themselves are forge's, called directly.
interface Vm {
    function prank(address sender) external;
    function roll(uint256 blockNumber) external;
    function warp(uint256 timestamp) external;
    function expectRevert(bytes calldata revertData) external;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
    function assume(bool condition) external pure;
}

/// @notice A base for forge tests: the cheatcodes, bounded inputs and failing assertions.
abstract contract Cheats {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertionFailed(string what);

    function bound(uint256 value, uint256 low, uint256 high) internal pure returns (uint256) {
        return low + value % (high - low + 1);
    }

    function check(bool condition, string memory what) internal pure {
        if (!condition) revert AssertionFailed(what);
    }
}
