// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test only: an ERC-20 whose transfers call back into a target with calldata the test
/// chooses, once, recording the outcome: a malicious token trying to re-enter Royalties while it
/// pulls a payment or pays a withdrawal.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public reentry;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryError;

    constructor() ERC20("Reentrant", "REN") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setReentry(address target_, bytes calldata data) external {
        target = target_;
        reentry = data;
        reentered = false;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (reentry.length != 0 && !reentered && from != address(0)) {
            reentered = true;
            (reentrySucceeded, reentryError) = target.call(reentry);
        }
    }
}
