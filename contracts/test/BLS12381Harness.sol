// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BLS12381} from "../lib/BLS12381.sol";

/// @title BLS12381Harness
/// @notice Test only: every function of the {BLS12381} library as an external view, and the gas
/// each one takes measured around the library call alone (`gasleft()` before and after, inside
/// the call: no calldata, ABI decoding or transaction overhead), for tests/zk and
/// benchmarks/bench_bls.py.
contract BLS12381Harness {
    // ---- the library, function by function ----------------------------------------------------

    function hashToG1(bytes memory message, bytes memory dst) external view returns (bytes memory) {
        return BLS12381.hashToG1(message, dst);
    }

    function hashToField(bytes memory message, bytes memory dst) external view returns (bytes memory) {
        return BLS12381.hashToField(message, dst);
    }

    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        external
        view
        returns (bytes memory)
    {
        return BLS12381.expandMessageXmd(message, dst, lenInBytes);
    }

    function mapFpToG1(bytes memory element) external view returns (bytes memory) {
        return BLS12381.mapFpToG1(element);
    }

    function g1Add(bytes memory a, bytes memory b) external view returns (bytes memory) {
        return BLS12381.g1Add(a, b);
    }

    function g2Add(bytes memory a, bytes memory b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    function g2Negate(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.g2Negate(point);
    }

    function g2Compress(bytes memory point) external pure returns (bytes memory) {
        return BLS12381.g2Compress(point);
    }

    function pairingCheck2(bytes memory g1a, bytes memory g2a, bytes memory g1b, bytes memory g2b)
        external
        view
        returns (bool)
    {
        return BLS12381.pairingCheck2(g1a, g2a, g1b, g2b);
    }

    function verify(bytes memory signature, bytes memory publicKey, bytes memory message, bytes memory dst)
        external
        view
        returns (bool)
    {
        return BLS12381.verify(signature, publicKey, message, dst);
    }

    /// @notice {BLS12381.verify} with the ciphersuite's signature DST, as a caller would use it.
    function verifySignature(bytes memory signature, bytes memory publicKey, bytes memory message)
        external
        view
        returns (bool)
    {
        return BLS12381.verify(signature, publicKey, message, BLS12381.SIGNATURE_DST);
    }

    function verifyPossession(bytes memory publicKey, bytes memory proof) external view returns (bool) {
        return BLS12381.verifyPossession(publicKey, proof);
    }

    function signatureDst() external pure returns (bytes memory) {
        return BLS12381.SIGNATURE_DST;
    }

    function popDst() external pure returns (bytes memory) {
        return BLS12381.POP_DST;
    }

    function negG2Generator() external pure returns (bytes memory) {
        return BLS12381.NEG_G2_GENERATOR;
    }

    /// @notice The selectors the library's assembly reverts with, beside the compiler's own.
    function errorSelectors()
        external
        pure
        returns (bytes4 failed, bytes4 failedExpected, bytes4 outputLength, bytes4 outputLengthExpected)
    {
        return (
            bytes4(uint32(BLS12381.PRECOMPILE_FAILED_SELECTOR)),
            BLS12381.PrecompileFailed.selector,
            bytes4(uint32(BLS12381.PRECOMPILE_OUTPUT_LENGTH_SELECTOR)),
            BLS12381.PrecompileOutputLength.selector
        );
    }

    // ---- gas of the library call alone ---------------------------------------------------------

    function hashToG1Gas(bytes memory message, bytes memory dst) external view returns (uint256 gasUsed) {
        uint256 start = gasleft();
        BLS12381.hashToG1(message, dst);
        gasUsed = start - gasleft();
    }

    function verifyGas(bytes memory signature, bytes memory publicKey, bytes memory message)
        external
        view
        returns (bool ok, uint256 gasUsed)
    {
        bytes memory dst = BLS12381.SIGNATURE_DST; // loaded outside the measurement, as a caller's constant
        uint256 start = gasleft();
        ok = BLS12381.verify(signature, publicKey, message, dst);
        gasUsed = start - gasleft();
    }

    function verifyPossessionGas(bytes memory publicKey, bytes memory proof)
        external
        view
        returns (bool ok, uint256 gasUsed)
    {
        uint256 start = gasleft();
        ok = BLS12381.verifyPossession(publicKey, proof);
        gasUsed = start - gasleft();
    }

    function g2AddGas(bytes memory a, bytes memory b) external view returns (uint256 gasUsed) {
        uint256 start = gasleft();
        BLS12381.g2Add(a, b);
        gasUsed = start - gasleft();
    }

    function g1AddGas(bytes memory a, bytes memory b) external view returns (uint256 gasUsed) {
        uint256 start = gasleft();
        BLS12381.g1Add(a, b);
        gasUsed = start - gasleft();
    }

    function g2NegateGas(bytes memory point) external view returns (uint256 gasUsed) {
        uint256 start = gasleft();
        BLS12381.g2Negate(point);
        gasUsed = start - gasleft();
    }
}
