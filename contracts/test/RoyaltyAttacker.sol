// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRoyalties} from "../../interfaces/IRoyalties.sol";

/// @title RoyaltyAttacker
/// @notice Test only: a split recipient that re-enters Royalties from its `receive` while being
/// paid, with a call the test chooses (withdraw again, pay, push, claim ...), and records whether
/// the nested call succeeded and what it reverted with.
contract RoyaltyAttacker {
    IRoyalties public immutable royalties;
    bytes public reentry;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryError;
    bool public refuseEther;

    constructor(IRoyalties royalties_) {
        royalties = royalties_;
    }

    /// @notice The call `receive` makes into Royalties (empty: none).
    function setReentry(bytes calldata data) external {
        reentry = data;
    }

    /// @notice Make `receive` revert, as a recipient that cannot take ether does.
    function setRefuseEther(bool refuse) external {
        refuseEther = refuse;
    }

    /// @notice Call Royalties as this contract (to withdraw its own share, for example).
    function call(bytes calldata data) external payable returns (bytes memory) {
        (bool done, bytes memory result) = address(royalties).call{value: msg.value}(data);
        if (!done) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    receive() external payable {
        if (refuseEther) revert("no ether");
        if (reentry.length == 0 || reentered) return;
        reentered = true;
        (reentrySucceeded, reentryError) = address(royalties).call(reentry);
    }
}
