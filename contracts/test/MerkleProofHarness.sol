// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title MerkleProofHarness
/// @notice Test only: OpenZeppelin's `MerkleProof` and the standard-tree leaf computed by
/// Solidity's own `abi.encode`, to check that the trees and commitments `qfzz_chain/zk` makes
/// are the ones contracts accept.
contract MerkleProofHarness {
    function verify(bytes32[] memory proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verify(proof, root, leaf);
    }

    function verifyCalldata(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function processProof(bytes32[] memory proof, bytes32 leaf) external pure returns (bytes32) {
        return MerkleProof.processProof(proof, leaf);
    }

    /// @notice The StandardMerkleTree leaf of an already ABI-encoded value.
    function standardLeaf(bytes memory encoded) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(encoded)));
    }

    /// @notice The leaf of a receipt-shaped value, encoded on-chain: static words, a `bytes` and
    /// a `string` tail, a signed integer.
    function receiptLeaf(
        bytes32 commitment,
        uint64 epoch,
        address sponsor,
        bool sponsored,
        bytes calldata cid,
        int32 score,
        string calldata note
    ) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(commitment, epoch, sponsor, sponsored, cid, score, note))));
    }

    /// @notice A receipt-shaped value proved against `root`, as a contract consuming receipts would.
    function verifyReceipt(
        bytes32[] calldata proof,
        bytes32 root,
        bytes32 commitment,
        uint64 epoch,
        address sponsor,
        bool sponsored,
        bytes calldata cid,
        int32 score,
        string calldata note
    ) external pure returns (bool) {
        return MerkleProof.verifyCalldata(
            proof, root, receiptLeaf(commitment, epoch, sponsor, sponsored, cid, score, note)
        );
    }

    /// @notice The salted commitment format of `qfzz_chain/zk/commitments.py`.
    function commitment(bytes32 salt, bytes calldata value) external pure returns (bytes32) {
        return keccak256(abi.encode(salt, value));
    }
}
