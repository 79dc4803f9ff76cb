// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title RebasingToken
/// @notice Test only: balances are shares times an index that `rebase` moves, as stETH or AMPL
/// move every holder's balance without a transfer.
contract RebasingToken {
    uint256 public index = 1e18;
    mapping(address => uint256) public shares;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function balanceOf(address holder) public view returns (uint256) {
        return shares[holder] * index / 1e18;
    }

    function mint(address to, uint256 amount) external {
        shares[to] += amount * 1e18 / index;
    }

    /// @notice Multiply every balance by `numerator / denominator`.
    function rebase(uint256 numerator, uint256 denominator) external {
        index = index * numerator / denominator;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        allowance[from][msg.sender] -= amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 moved = amount * 1e18 / index;
        shares[from] -= moved;
        shares[to] += moved;
        emit Transfer(from, to, amount);
    }
}
