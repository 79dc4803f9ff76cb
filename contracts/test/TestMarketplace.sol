// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";

/// @title TestMarketplace
/// @notice Test only: settles a sale as many NFT marketplaces do, asking `royaltyInfo` and paying
/// the receiver with Solidity's `transfer` (2,300 gas, the strictest way ether is sent).
contract TestMarketplace {
    function settle(IERC2981 royalties, uint256 tokenId) external payable returns (address receiver, uint256 amount) {
        (receiver, amount) = royalties.royaltyInfo(tokenId, msg.value);
        payable(receiver).transfer(amount);
        payable(msg.sender).transfer(msg.value - amount);
    }
}
