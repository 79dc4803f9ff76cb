// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BLS12381
/// @notice BLS signatures on BLS12-381 through the EIP-2537 precompiles, in the IETF ciphersuite
/// `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_` (draft-irtf-cfrg-bls-signature-05): minimal
/// signature size (signatures in G1, public keys in G2), proof-of-possession scheme, messages
/// hashed to G1 on-chain by RFC 9380 `BLS12381G1_XMD:SHA-256_SSWU_RO_`. Python counterpart:
/// `qfzz_chain/zk/bls.py`; formats and figures: docs/zk.md.
/// @dev Encodings are EIP-2537's, uncompressed, as `bytes memory`: an Fp element is 64 bytes
/// big-endian whose top 16 bytes are zero; G1 = x ‖ y (128 bytes); G2 = x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1
/// (256 bytes); the point at infinity is all zeros. G1ADD and G2ADD check that points are on the
/// curve but not that they are in the subgroup; PAIRING_CHECK checks both, so `verify` and
/// `verifyPossession` refuse any point outside its subgroup (they revert {PrecompileFailed}).
/// Every precompile call checks success and the length of what came back: a chain without
/// EIP-2537 answers a call to 0x0b-0x11 with empty success ({PrecompileOutputLength}).
/// A failing precompile consumes all the gas forwarded to it (63/64 of what is left).
///
/// Gas (anvil 1.7.1, Osaka prices; benchmarks/bench_bls.py, pinned in tests/zk): `hashToG1` of a
/// 32-byte message 15,461 = 2 MAP_FP_TO_G1 (11,200 with the calls) + G1ADD (475) + 2 MODEXP
/// (1,200) + 5 SHA-256 (1,004) + 1,582 of copying and call set-up; `verify` 119,420 adds one
/// two-pair PAIRING_CHECK (103,000): 116,879 of it is precompile calls.
library BLS12381 {
    // ---- errors --------------------------------------------------------------------------------

    /// @notice The precompile at `precompile` reported failure: an input was not a valid
    /// encoding, a point was not on the curve or (PAIRING_CHECK) not in its subgroup.
    error PrecompileFailed(address precompile);
    /// @notice The precompile at `precompile` returned `length` bytes instead of its fixed output
    /// size: 0 is what a chain without EIP-2537 answers.
    error PrecompileOutputLength(address precompile, uint256 length);
    /// @notice A point was `length` bytes long where its encoding takes `expected`
    /// (G1 128, G2 256, Fp 64).
    error InvalidPointLength(uint256 length, uint256 expected);
    /// @notice A 64-byte field element (`high` ‖ `low`) is not below the modulus p, or its top 16
    /// bytes are not zero.
    error FieldElementNotReduced(uint256 high, uint256 low);
    /// @notice expand_message_xmd cannot produce `lenInBytes` bytes: RFC 9380 caps it at
    /// 255 SHA-256 blocks (8,160 bytes).
    error InvalidExpandLength(uint256 lenInBytes);

    // ---- constants -----------------------------------------------------------------------------

    /// @dev EIP-2537 (final addresses, as in the Prague/Pectra hard fork) and the two precompiles
    /// hash-to-field needs.
    address internal constant SHA256 = 0x0000000000000000000000000000000000000002;
    address internal constant MODEXP = 0x0000000000000000000000000000000000000005;
    address internal constant G1ADD = 0x000000000000000000000000000000000000000b;
    address internal constant G2ADD = 0x000000000000000000000000000000000000000d;
    address internal constant PAIRING_CHECK = 0x000000000000000000000000000000000000000F;
    address internal constant MAP_FP_TO_G1 = 0x0000000000000000000000000000000000000010;

    /// @dev Byte lengths of the EIP-2537 encodings and of a compressed G2 point (ZCash format).
    uint256 internal constant FP_LENGTH = 64;
    uint256 internal constant G1_LENGTH = 128;
    uint256 internal constant G2_LENGTH = 256;
    uint256 internal constant G2_COMPRESSED_LENGTH = 96;

    /// @notice Domain separation tag of signatures (the ciphersuite's ID, draft section 4.2.3).
    bytes internal constant SIGNATURE_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
    /// @notice Domain separation tag of proofs of possession (draft section 4.2.3).
    bytes internal constant POP_DST = "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

    /// @notice −G2: the negated generator of G2, EIP-2537 encoded (x unchanged, y ↦ p − y).
    bytes internal constant NEG_G2_GENERATOR =
        hex"00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
        hex"0000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        hex"000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bcb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa"
        hex"0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed";

    /// @dev NEG_G2_GENERATOR word by word: stored with eight PUSH32s instead of copying the
    /// `bytes` constant (which allocates and copies it on every use).
    uint256 private constant NEG_G2_0 = 0x00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051;
    uint256 private constant NEG_G2_1 = 0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 private constant NEG_G2_2 = 0x0000000000000000000000000000000013e02b6052719f607dacd3a088274f65;
    uint256 private constant NEG_G2_3 = 0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 private constant NEG_G2_4 = 0x000000000000000000000000000000000d1b3cc2c7027888be51d9ef691d77bc;
    uint256 private constant NEG_G2_5 = 0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    uint256 private constant NEG_G2_6 = 0x0000000000000000000000000000000013fa4d4a0ad8b1ce186ed5061789213d;
    uint256 private constant NEG_G2_7 = 0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    /// @dev The base field modulus p (381 bits) as the two words of its 64-byte encoding, and
    /// (p − 1) / 2, the largest "lexicographically smaller" value of the ZCash sign flag.
    uint256 private constant P_HIGH = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LOW = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant HALF_P_HIGH = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_P_LOW = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;

    /// @dev RFC 9380 for this suite: hash_to_field draws 2 elements (random oracle) of L = 64
    /// bytes each; expand_message_xmd makes at most 255 SHA-256 blocks.
    uint256 private constant HASH_TO_FIELD_LENGTH = 128;
    uint256 private constant MAX_EXPAND_BLOCKS = 255;

    /// @dev The two precompile errors' selectors, for the assembly that raises them (every
    /// precompile call is checked inside its assembly block: a checked Solidity helper per call
    /// cost 3,300 gas more per verification). BLS12381Harness.errorSelectors() and the revert tests pin them to
    /// `PrecompileFailed.selector` and `PrecompileOutputLength.selector`.
    uint256 internal constant PRECOMPILE_FAILED_SELECTOR = 0xeb8d043a;
    uint256 internal constant PRECOMPILE_OUTPUT_LENGTH_SELECTOR = 0x77c817f8;

    // ---- hash to curve (RFC 9380) ---------------------------------------------------------------

    /// @notice RFC 9380 hash_to_curve with the suite BLS12381G1_XMD:SHA-256_SSWU_RO_ and domain
    /// separation tag `dst`: the 128-byte EIP-2537 encoding of the G1 point.
    /// @dev hash_to_field (expand_message_xmd, then two 64-byte reductions mod p by MODEXP),
    /// map_to_curve and clear_cofactor by MAP_FP_TO_G1 for each, one G1ADD. Reverts
    /// {PrecompileFailed}, {PrecompileOutputLength}.
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory point) {
        point = _allocateBytes(G1_LENGTH);
        _hashToG1(message, dst, _data(point));
    }

    /// @notice RFC 9380 hash_to_field for G1 (count 2): u0 ‖ u1, each a 64-byte field element.
    function hashToField(bytes memory message, bytes memory dst) internal view returns (bytes memory elements) {
        elements = _allocateBytes(2 * FP_LENGTH);
        _hashToField(message, dst, _data(elements));
    }

    /// @notice RFC 9380 expand_message_xmd with SHA-256: `lenInBytes` uniform bytes. A `dst`
    /// longer than 255 bytes is first shortened to SHA-256("H2C-OVERSIZE-DST-" ‖ dst), as
    /// section 5.3.3 prescribes. Reverts {InvalidExpandLength} past 8,160 bytes.
    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes)
        internal
        view
        returns (bytes memory uniform)
    {
        if (lenInBytes > MAX_EXPAND_BLOCKS << 5) revert InvalidExpandLength(lenInBytes);
        uint256 blocks = (lenInBytes + 31) >> 5;
        uniform = _allocateBytes(blocks << 5);
        if (blocks == 0) return uniform; // substr(uniform_bytes, 0, 0)
        _expandMessageXmd(message, dst, lenInBytes, _data(uniform));
        assembly ("memory-safe") {
            mstore(uniform, lenInBytes) // the last block's tail is cut off
        }
    }

    /// @notice MAP_FP_TO_G1: map_to_curve (simplified SWU with the 11-isogeny) then
    /// clear_cofactor of one 64-byte field element. Reverts {InvalidPointLength},
    /// {PrecompileFailed} (for an element not below p), {PrecompileOutputLength}.
    function mapFpToG1(bytes memory element) internal view returns (bytes memory point) {
        _checkLength(element, FP_LENGTH);
        point = _allocateBytes(G1_LENGTH);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let ok := staticcall(gas(), MAP_FP_TO_G1, add(element, 0x20), 0x40, add(point, 0x20), 0x80)
            if iszero(and(ok, eq(returndatasize(), 0x80))) { fail(ok, MAP_FP_TO_G1) }
        }
    }

    // ---- group operations ---------------------------------------------------------------------

    /// @notice a + b in G1. Reverts {InvalidPointLength}, {PrecompileFailed} (a point not on the
    /// curve; subgroup membership is not checked), {PrecompileOutputLength}.
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        _checkLength(a, G1_LENGTH);
        _checkLength(b, G1_LENGTH);
        sum = _allocateBytes(G1_LENGTH);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let input := mload(0x40) // temporary, past the free pointer
            mcopy(input, add(a, 0x20), 0x80)
            mcopy(add(input, 0x80), add(b, 0x20), 0x80)
            let ok := staticcall(gas(), G1ADD, input, 0x100, add(sum, 0x20), 0x80)
            if iszero(and(ok, eq(returndatasize(), 0x80))) { fail(ok, G1ADD) }
        }
    }

    /// @notice a + b in G2 (public keys aggregate this way). Reverts {InvalidPointLength},
    /// {PrecompileFailed} (a point not on the curve; subgroup membership is not checked),
    /// {PrecompileOutputLength}.
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory sum) {
        _checkLength(a, G2_LENGTH);
        _checkLength(b, G2_LENGTH);
        sum = _allocateBytes(G2_LENGTH);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let input := mload(0x40)
            mcopy(input, add(a, 0x20), 0x100)
            mcopy(add(input, 0x100), add(b, 0x20), 0x100)
            let ok := staticcall(gas(), G2ADD, input, 0x200, add(sum, 0x20), 0x100)
            if iszero(and(ok, eq(returndatasize(), 0x100))) { fail(ok, G2ADD) }
        }
    }

    /// @notice −point in G2: y ↦ p − y coordinate-wise, x unchanged; infinity stays infinity.
    /// Only y is read as field elements (x is copied; a precompile checks it when the point is
    /// used). Reverts {InvalidPointLength}, {FieldElementNotReduced}.
    function g2Negate(bytes memory point) internal pure returns (bytes memory negated) {
        _checkLength(point, G2_LENGTH);
        negated = _allocateBytes(G2_LENGTH);
        uint256 source = _data(point);
        uint256 target = _data(negated);
        assembly ("memory-safe") {
            mcopy(target, source, 0x80)
        }
        _negateFp(source + 0x80, target + 0x80);
        _negateFp(source + 0xc0, target + 0xc0);
    }

    /// @notice The 96-byte compressed (ZCash) serialization of a G2 point: x.c1 ‖ x.c0, 48 bytes
    /// each, with the compression flag (0x80), the infinity flag (0x40) and the sign of y (0x20:
    /// y is the larger of ±y, comparing c1 first, c0 when c1 = 0) in the first byte. This is the
    /// draft's point_to_octets_E2, the message a proof of possession signs.
    /// @dev Pure arithmetic on the encoding: it does not check the point is on the curve.
    /// Reverts {InvalidPointLength}, {FieldElementNotReduced}.
    function g2Compress(bytes memory point) internal pure returns (bytes memory compressed) {
        _checkLength(point, G2_LENGTH);
        compressed = _allocateBytes(G2_COMPRESSED_LENGTH);
        _compressG2(_data(point), _data(compressed));
    }

    // ---- pairing and signatures -----------------------------------------------------------------

    /// @notice True iff e(g1a, g2a) · e(g1b, g2b) = 1. Reverts {InvalidPointLength},
    /// {PrecompileFailed} (a point not on the curve or not in its subgroup),
    /// {PrecompileOutputLength}.
    function pairingCheck2(bytes memory g1a, bytes memory g2a, bytes memory g1b, bytes memory g2b)
        internal
        view
        returns (bool)
    {
        _checkLength(g1a, G1_LENGTH);
        _checkLength(g2a, G2_LENGTH);
        _checkLength(g1b, G1_LENGTH);
        _checkLength(g2b, G2_LENGTH);
        uint256 input = _allocate(2 * (G1_LENGTH + G2_LENGTH));
        assembly ("memory-safe") {
            mcopy(input, add(g1a, 0x20), 0x80)
            mcopy(add(input, 0x80), add(g2a, 0x20), 0x100)
            mcopy(add(input, 0x180), add(g1b, 0x20), 0x80)
            mcopy(add(input, 0x200), add(g2b, 0x20), 0x100)
        }
        return _pairing(input);
    }

    /// @notice CoreVerify of the draft (section 2.7): true iff `signature` (G1) is a signature of
    /// `message` under `publicKey` (G2) with domain separation tag `dst` (pass {SIGNATURE_DST};
    /// an aggregate key and aggregate signature verify the same way, FastAggregateVerify).
    /// Checks e(signature, −G2) · e(H(message), publicKey) = 1. A public key at infinity is
    /// refused (false), as KeyValidate requires.
    /// @dev Gas: hashToG1 + one two-pair pairing; the pairing input is assembled in place.
    /// Reverts {InvalidPointLength}, {PrecompileFailed} (a point not on the curve or not in its
    /// subgroup), {PrecompileOutputLength}.
    function verify(bytes memory signature, bytes memory publicKey, bytes memory message, bytes memory dst)
        internal
        view
        returns (bool)
    {
        _checkLength(signature, G1_LENGTH);
        _checkLength(publicKey, G2_LENGTH);
        if (_isInfinityG2(publicKey)) return false;
        return _verify(signature, publicKey, message, dst);
    }

    /// @notice PopVerify of the draft (section 3.3.3): true iff `proof` (G1) is a proof of
    /// possession of the secret key of `publicKey` (G2), i.e. a signature with {POP_DST} of the
    /// key's 96-byte compressed serialization, which is derived here from the EIP-2537 encoding
    /// (see {g2Compress}) so callers pass only the uncompressed key. A key at infinity is refused
    /// (false). Reverts {InvalidPointLength}, {FieldElementNotReduced}, {PrecompileFailed} (a
    /// point not on the curve or not in its subgroup), {PrecompileOutputLength}.
    function verifyPossession(bytes memory publicKey, bytes memory proof) internal view returns (bool) {
        _checkLength(publicKey, G2_LENGTH);
        _checkLength(proof, G1_LENGTH);
        if (_isInfinityG2(publicKey)) return false;
        bytes memory compressed = _allocateBytes(G2_COMPRESSED_LENGTH);
        _compressG2(_data(publicKey), _data(compressed));
        return _verify(proof, publicKey, compressed, POP_DST);
    }

    // ---- private -------------------------------------------------------------------------------

    function _verify(bytes memory signature, bytes memory publicKey, bytes memory message, bytes memory dst)
        private
        view
        returns (bool)
    {
        uint256 input = _allocate(2 * (G1_LENGTH + G2_LENGTH));
        assembly ("memory-safe") {
            mcopy(input, add(signature, 0x20), 0x80)
            mstore(add(input, 0x080), NEG_G2_0)
            mstore(add(input, 0x0a0), NEG_G2_1)
            mstore(add(input, 0x0c0), NEG_G2_2)
            mstore(add(input, 0x0e0), NEG_G2_3)
            mstore(add(input, 0x100), NEG_G2_4)
            mstore(add(input, 0x120), NEG_G2_5)
            mstore(add(input, 0x140), NEG_G2_6)
            mstore(add(input, 0x160), NEG_G2_7)
            mcopy(add(input, 0x200), add(publicKey, 0x20), 0x100)
        }
        _hashToG1(message, dst, input + 0x180); // H(message) lands in the second pair's G1 slot
        return _pairing(input);
    }

    /// @dev PAIRING_CHECK of the two pairs at `input` (768 bytes); its 32-byte answer is written
    /// over the first word of the input, which is spent by then.
    function _pairing(uint256 input) private view returns (bool holds) {
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let ok := staticcall(gas(), PAIRING_CHECK, input, 0x300, input, 0x20)
            if iszero(and(ok, eq(returndatasize(), 0x20))) { fail(ok, PAIRING_CHECK) }
            holds := eq(mload(input), 1)
        }
    }

    /// @dev hash_to_curve into the 128 bytes at `out`: u0 ‖ u1 by {_hashToField}, then
    /// MAP_FP_TO_G1 of each into temporary memory and their G1ADD into `out`.
    function _hashToG1(bytes memory message, bytes memory dst, uint256 out) private view {
        uint256 elements = _allocate(HASH_TO_FIELD_LENGTH);
        _hashToField(message, dst, elements);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let mapped := mload(0x40) // Q0 ‖ Q1, temporary
            let ok := staticcall(gas(), MAP_FP_TO_G1, elements, 0x40, mapped, 0x80)
            if iszero(and(ok, eq(returndatasize(), 0x80))) { fail(ok, MAP_FP_TO_G1) }
            ok := staticcall(gas(), MAP_FP_TO_G1, add(elements, 0x40), 0x40, add(mapped, 0x80), 0x80)
            if iszero(and(ok, eq(returndatasize(), 0x80))) { fail(ok, MAP_FP_TO_G1) }
            ok := staticcall(gas(), G1ADD, mapped, 0x100, out, 0x80)
            if iszero(and(ok, eq(returndatasize(), 0x80))) { fail(ok, G1ADD) }
        }
    }

    /// @dev hash_to_field (count 2, L = 64): expand to 128 bytes at `out`, then reduce each half
    /// mod p in place with MODEXP(base, 1, p): u0 ‖ u1 as EIP-2537 Fp encodings.
    function _hashToField(bytes memory message, bytes memory dst, uint256 out) private view {
        _expandMessageXmd(message, dst, HASH_TO_FIELD_LENGTH, out);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            // MODEXP input: lengths (base 64, exponent 32, modulus 64), base, exponent 1, p
            let input := mload(0x40)
            mstore(input, 0x40)
            mstore(add(input, 0x20), 0x20)
            mstore(add(input, 0x40), 0x40)
            mcopy(add(input, 0x60), out, 0x40)
            mstore(add(input, 0xa0), 1)
            mstore(add(input, 0xc0), P_HIGH)
            mstore(add(input, 0xe0), P_LOW)
            let ok := staticcall(gas(), MODEXP, input, 0x100, out, 0x40)
            if iszero(and(ok, eq(returndatasize(), 0x40))) { fail(ok, MODEXP) }
            mcopy(add(input, 0x60), add(out, 0x40), 0x40)
            ok := staticcall(gas(), MODEXP, input, 0x100, add(out, 0x40), 0x40)
            if iszero(and(ok, eq(returndatasize(), 0x40))) { fail(ok, MODEXP) }
        }
    }

    /// @dev expand_message_xmd: ceil(lenInBytes / 32) SHA-256 blocks written at `out` (the
    /// caller reserved them; at least one). msg_prime = Z_pad(64) ‖ msg ‖ I2OSP(len, 2) ‖ 0x00 ‖
    /// DST_prime is laid out in temporary memory; b_i hashes (b_0 ⊕ b_{i−1}) ‖ I2OSP(i, 1) ‖
    /// DST_prime, built over msg_prime's last 33 bytes before its DST_prime (spent once b_0 is
    /// known), so the DST is copied once.
    function _expandMessageXmd(bytes memory message, bytes memory dst, uint256 lenInBytes, uint256 out)
        private
        view
    {
        if (dst.length > 255) dst = _oversizeDst(dst);
        assembly ("memory-safe") {
            // the cold path of every call: `PrecompileFailed` or `PrecompileOutputLength`
            function fail(ok, precompile) {
                if iszero(ok) {
                    mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                    mstore(0x04, precompile)
                    revert(0x00, 0x24)
                }
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, precompile)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
            let messageLength := mload(message)
            let dstLength := mload(dst)
            let buffer := mload(0x40) // temporary: nothing else allocates until this block ends
            mstore(buffer, 0) // Z_pad
            mstore(add(buffer, 0x20), 0)
            mcopy(add(buffer, 0x40), add(message, 0x20), messageLength)
            let tail := add(add(buffer, 0x40), messageLength)
            mstore(tail, shl(240, lenInBytes)) // I2OSP(len_in_bytes, 2) ‖ 0x00 (and zeros after)
            let dstPrime := add(tail, 3)
            mcopy(dstPrime, add(dst, 0x20), dstLength)
            mstore8(add(dstPrime, dstLength), dstLength)
            let primeLength := add(sub(dstPrime, buffer), add(dstLength, 1))
            let ok := staticcall(gas(), SHA256, buffer, primeLength, out, 0x20)
            if iszero(and(ok, eq(returndatasize(), 0x20))) { fail(ok, SHA256) }
            let bZero := mload(out)
            let blockInput := sub(dstPrime, 33)
            let blockLength := add(dstLength, 34)
            mstore(blockInput, bZero)
            mstore8(add(blockInput, 0x20), 1)
            ok := staticcall(gas(), SHA256, blockInput, blockLength, out, 0x20) // b_1 over b_0
            if iszero(and(ok, eq(returndatasize(), 0x20))) { fail(ok, SHA256) }
            let blocks := shr(5, add(lenInBytes, 31))
            for { let i := 2 } iszero(gt(i, blocks)) { i := add(i, 1) } {
                let previous := add(out, shl(5, sub(i, 2)))
                mstore(blockInput, xor(bZero, mload(previous)))
                mstore8(add(blockInput, 0x20), i)
                ok := staticcall(gas(), SHA256, blockInput, blockLength, add(previous, 0x20), 0x20)
                if iszero(and(ok, eq(returndatasize(), 0x20))) { fail(ok, SHA256) }
            }
        }
    }

    /// @dev RFC 9380 section 5.3.3: DST = SHA-256("H2C-OVERSIZE-DST-" ‖ DST) for a DST > 255 bytes.
    function _oversizeDst(bytes memory dst) private view returns (bytes memory short) {
        bytes memory input = bytes.concat("H2C-OVERSIZE-DST-", dst);
        short = _allocateBytes(32);
        assembly ("memory-safe") {
            if iszero(staticcall(gas(), SHA256, add(input, 0x20), mload(input), add(short, 0x20), 0x20)) {
                mstore(0x00, shl(224, PRECOMPILE_FAILED_SELECTOR))
                mstore(0x04, SHA256)
                revert(0x00, 0x24)
            }
            if iszero(eq(returndatasize(), 0x20)) {
                let length := returndatasize()
                mstore(0x00, shl(224, PRECOMPILE_OUTPUT_LENGTH_SELECTOR))
                mstore(0x04, SHA256)
                mstore(0x24, length)
                revert(0x00, 0x44)
            }
        }
    }

    /// @dev Writes p − (the 64-byte element at `source`) at `target`, 0 staying 0.
    function _negateFp(uint256 source, uint256 target) private pure {
        (uint256 high, uint256 low) = _loadFp(source);
        if (high | low != 0) {
            unchecked {
                uint256 borrow = low > P_LOW ? 1 : 0;
                high = P_HIGH - high - borrow;
                low = P_LOW - low; // wraps modulo 2^256 exactly when it borrows
            }
        }
        assembly ("memory-safe") {
            mstore(target, high)
            mstore(add(target, 0x20), low)
        }
    }

    /// @dev ZCash compression of the G2 point at `source` into the 96 bytes at `target`.
    function _compressG2(uint256 source, uint256 target) private pure {
        (uint256 x0High, uint256 x0Low) = _loadFp(source);
        (uint256 x1High, uint256 x1Low) = _loadFp(source + 0x40);
        (uint256 y0High, uint256 y0Low) = _loadFp(source + 0x80);
        (uint256 y1High, uint256 y1Low) = _loadFp(source + 0xc0);
        uint256 flags;
        if (x0High | x0Low | x1High | x1Low | y0High | y0Low | y1High | y1Low == 0) {
            flags = 0xc0; // compressed, infinity
        } else {
            bool largest = (y1High | y1Low) != 0 ? _aboveHalf(y1High, y1Low) : _aboveHalf(y0High, y0Low);
            flags = largest ? 0xa0 : 0x80;
        }
        assembly ("memory-safe") {
            // x.c1 then x.c0, 48 significant bytes each (bytes 16..63 of their encodings)
            mcopy(target, add(source, 0x50), 0x30)
            mcopy(add(target, 0x30), add(source, 0x10), 0x30)
            mstore8(target, or(byte(0, mload(target)), flags))
        }
    }

    /// @dev The two words of the 64-byte field element at `source`; reverts
    /// {FieldElementNotReduced} unless it is below p (which also means its top 16 bytes are 0).
    function _loadFp(uint256 source) private pure returns (uint256 high, uint256 low) {
        assembly ("memory-safe") {
            high := mload(source)
            low := mload(add(source, 0x20))
        }
        if (high > P_HIGH || (high == P_HIGH && low >= P_LOW)) revert FieldElementNotReduced(high, low);
    }

    function _aboveHalf(uint256 high, uint256 low) private pure returns (bool) {
        return high > HALF_P_HIGH || (high == HALF_P_HIGH && low > HALF_P_LOW);
    }

    function _checkLength(bytes memory point, uint256 expected) private pure {
        if (point.length != expected) revert InvalidPointLength(point.length, expected);
    }

    /// @dev True iff the 256 bytes of a G2 encoding (length checked by the caller) are all zero.
    function _isInfinityG2(bytes memory point) private pure returns (bool zero) {
        assembly ("memory-safe") {
            let data := add(point, 0x20)
            zero := iszero(
                or(
                    or(or(mload(data), mload(add(data, 0x20))), or(mload(add(data, 0x40)), mload(add(data, 0x60)))),
                    or(
                        or(mload(add(data, 0x80)), mload(add(data, 0xa0))),
                        or(mload(add(data, 0xc0)), mload(add(data, 0xe0)))
                    )
                )
            )
        }
    }

    /// @dev A `bytes` of `length` bytes, not zeroed (cheaper than `new bytes`): each caller
    /// writes every byte before it is read (g2Negate's zero coordinates are written explicitly).
    function _allocateBytes(uint256 length) private pure returns (bytes memory buffer) {
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(buffer, length)
            mstore(0x40, add(add(buffer, 0x20), and(add(length, 0x1f), not(0x1f))))
        }
    }

    /// @dev `size` bytes of fresh memory (not zeroed: every user writes what it reads).
    function _allocate(uint256 size) private pure returns (uint256 pointer) {
        assembly ("memory-safe") {
            pointer := mload(0x40)
            mstore(0x40, add(pointer, and(add(size, 0x1f), not(0x1f))))
        }
    }

    function _data(bytes memory buffer) private pure returns (uint256 pointer) {
        assembly ("memory-safe") {
            pointer := add(buffer, 0x20)
        }
    }
}
