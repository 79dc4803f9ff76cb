// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title TrackReceiver
/// @notice The ERC-2981 receiver of one track: marketplaces send a sale's royalty here (ETH or
/// tokens, by any means, even `transfer` with its 2,300 gas), and `Royalties.flushReceiver`
/// credits it to the track's splits. Deployed by a {ReceiverFactory} with CREATE2 (salt: the
/// track id), so its address is known, and can be paid, before it exists.
/// @dev A full contract, not a delegating clone: a clone's delegatecall costs more than the
/// 2,300 gas `transfer` gives, and would turn those payments away. It does one thing for the
/// Royalties contract, a call, so it stays small: Royalties measures what arrives itself.
contract TrackReceiver {
    /// @notice The only caller of `forward`: the Royalties contract of the factory that deployed this.
    address public immutable royalties;

    /// @notice `caller` is not the Royalties contract.
    error NotRoyalties(address caller);
    /// @notice The forwarded call reverted.
    error ForwardFailed();

    constructor() {
        royalties = ReceiverFactory(msg.sender).royalties();
    }

    receive() external payable {}

    /// @notice Make one call for the Royalties contract: send it the ETH held (`target` is the
    /// Royalties contract, `value` the balance) or a token (`target` the token, `data` its transfer).
    /// Reverts {NotRoyalties}, {ForwardFailed}.
    /// @param target The contract called.
    /// @param value The wei sent with the call.
    /// @param data The calldata.
    function forward(address target, uint256 value, bytes calldata data) external {
        if (msg.sender != royalties) revert NotRoyalties(msg.sender);
        // a token that returns false instead of reverting is caught by the caller's balance check
        (bool done,) = target.call{value: value}(data);
        if (!done) revert ForwardFailed();
    }
}

/// @title ReceiverFactory
/// @notice Deploys the {TrackReceiver} of a track at its CREATE2 address. Deployed by the
/// Royalties contract in its constructor, so that the receiver's code lives here and not in
/// Royalties, whose own code stays under the 24,576-byte limit.
contract ReceiverFactory {
    /// @notice The Royalties contract the receivers serve.
    address public immutable royalties;
    /// @notice keccak256 of the receiver's creation code, for address prediction.
    bytes32 public immutable receiverCodeHash;

    constructor() {
        royalties = msg.sender;
        receiverCodeHash = keccak256(type(TrackReceiver).creationCode);
    }

    /// @notice Deploy the receiver of `trackId` (anyone may; it only ever serves Royalties).
    /// @param trackId The track.
    /// @return receiver Its address.
    function deploy(bytes32 trackId) external returns (address receiver) {
        return address(new TrackReceiver{salt: trackId}());
    }
}
