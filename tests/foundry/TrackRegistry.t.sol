// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Cheats} from "./Cheats.sol";
import {TrackRegistry} from "../../contracts/TrackRegistry.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";
import {ERC1271Wallet} from "../../contracts/test/ERC1271Wallet.sol";

/// @notice Fuzz tests of the registry's boundaries: the reveal window to the second, the signature
/// deadline to the second, which CIDs are files, the earliest commitment winning, and relaying
/// for EOAs and ERC-1271 wallets. Each property is written from the spec (ITrackRegistry), not
/// from the implementation, so a planted off-by-one or a dropped branch fails it.
contract TrackRegistryFuzzTest is Cheats {
    bytes32 private constant CID_TYPEHASH =
        keccak256("Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)");
    bytes32 private constant REGISTER_TRACK_TYPEHASH = keccak256(
        "RegisterTrack(address artist,bytes32 audioHash,Cid content,Cid metadata,Parent[] parents,uint256 nonce,uint256 deadline)"
        "Cid(uint8 version,uint16 codec,uint16 hashFunction,bytes32 digest)"
        "Parent(bytes32 trackId,uint8 relation)"
    );

    TrackRegistry internal registry;
    address internal constant ARTIST = address(0xA11CE);
    address internal constant RELAYER = address(0xBEEF);

    function setUp() public {
        registry = new TrackRegistry();
        vm.warp(1_700_000_000);
        vm.roll(100);
    }

    // ---- helpers ------------------------------------------------------------------------------

    function _cid(bytes32 digest) internal pure returns (ITrackRegistry.Cid memory) {
        return ITrackRegistry.Cid(0, 0x70, 0x12, digest == bytes32(0) ? bytes32(uint256(1)) : digest);
    }

    function _noParents() internal pure returns (ITrackRegistry.Parent[] memory) {
        return new ITrackRegistry.Parent[](0);
    }

    function _commit(bytes32 audioHash, address artist, bytes32 salt) internal returns (bytes32 commitment) {
        commitment = keccak256(abi.encode(audioHash, artist, salt));
        vm.prank(RELAYER);
        registry.commitRegistration(commitment);
    }

    function _nextBlock(uint256 seconds_) internal {
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + seconds_);
    }

    function _reveal(address artist, bytes32 audioHash, bytes32 salt) internal {
        vm.prank(artist);
        registry.registerTrack(audioHash, salt, _cid(audioHash), _cid(salt), _noParents());
    }

    function _signedReveal(uint256 key, address artist, bytes32 audioHash, uint256 deadline)
        internal
        view
        returns (bytes memory)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                REGISTER_TRACK_TYPEHASH,
                artist,
                audioHash,
                _hashCid(_cid(audioHash)),
                _hashCid(_cid(audioHash)),
                keccak256(""),
                registry.nonces(artist),
                deadline
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", registry.DOMAIN_SEPARATOR(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _hashCid(ITrackRegistry.Cid memory cid) internal pure returns (bytes32) {
        return keccak256(abi.encode(CID_TYPEHASH, cid.version, cid.codec, cid.hashFunction, cid.digest));
    }

    // ---- properties ---------------------------------------------------------------------------

    function testFuzz_commitThenRevealRegistersTheArtist(bytes32 audioHash, bytes32 salt, address artist) public {
        vm.assume(audioHash != bytes32(0) && artist != address(0));
        _commit(audioHash, artist, salt);
        uint40 committedAt = uint40(block.number);
        _nextBlock(12);
        _reveal(artist, audioHash, salt);
        ITrackRegistry.Track memory track = registry.getTrack(audioHash);
        check(track.artist == artist, "artist");
        check(track.committedAt == committedAt, "committedAt");
        check(track.registeredAt == block.timestamp, "registeredAt");
        (uint40 left,) = registry.commitmentOf(keccak256(abi.encode(audioHash, artist, salt)));
        check(left == 0, "the reveal consumes its commitment");
    }

    function testFuzz_revealIsRefusedInTheCommitmentsBlock(bytes32 audioHash, bytes32 salt) public {
        vm.assume(audioHash != bytes32(0));
        bytes32 commitment = _commit(audioHash, ARTIST, salt);
        vm.expectRevert(abi.encodeWithSelector(ITrackRegistry.CommitmentTooNew.selector, commitment, uint40(block.number)));
        _reveal(ARTIST, audioHash, salt);
    }

    function testFuzz_revealWindowEndsExactlyOneDayAfterTheCommitment(bytes32 audioHash, uint256 delay) public {
        vm.assume(audioHash != bytes32(0));
        delay = bound(delay, 1, 3 days);
        bytes32 commitment = _commit(audioHash, ARTIST, bytes32(delay));
        uint256 committedAt = block.timestamp;
        _nextBlock(delay);
        if (delay > registry.MAX_COMMITMENT_AGE()) {
            vm.expectRevert(
                abi.encodeWithSelector(ITrackRegistry.CommitmentExpired.selector, commitment, committedAt + 1 days)
            );
        }
        _reveal(ARTIST, audioHash, bytes32(delay));
    }

    function testFuzz_onlyFileCidsAreContent(uint8 version, uint16 codec, uint16 hashFunction, bytes32 digest) public {
        version = uint8(bound(version, 0, 2));
        bool sha256Digest = hashFunction == 0x12 && digest != bytes32(0);
        bool fileCodec = codec == 0x70 || (version == 1 && codec == 0x55);
        bool valid = version <= 1 && fileCodec && sha256Digest;
        bytes32 audioHash = keccak256(abi.encode(version, codec, hashFunction, digest));
        _commit(audioHash, ARTIST, 0);
        _nextBlock(1);
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidCid.selector, version, codec, hashFunction, digest));
        }
        vm.prank(ARTIST);
        registry.registerTrack(
            audioHash, 0, ITrackRegistry.Cid(version, codec, hashFunction, digest), _cid(audioHash), _noParents()
        );
    }

    function testFuzz_everyFileCidVariantRegisters(bytes32 digest, uint8 variant) public {
        vm.assume(digest != bytes32(0));
        ITrackRegistry.Cid[3] memory variants = [
            ITrackRegistry.Cid(0, 0x70, 0x12, digest), // CIDv0
            ITrackRegistry.Cid(1, 0x70, 0x12, digest), // CIDv1 dag-pb (raw-leaves=false)
            ITrackRegistry.Cid(1, 0x55, 0x12, digest) // CIDv1 raw leaf
        ];
        _commit(digest, ARTIST, 0);
        _nextBlock(1);
        vm.prank(ARTIST);
        registry.registerTrack(digest, 0, variants[variant % 3], _cid(digest), _noParents());
        check(registry.isRegistered(digest), "registered");
    }

    function testFuzz_theEarliestCommitmentWins(bytes32 audioHash, uint8 gapBlocks, bool olderRevealsFirst) public {
        vm.assume(audioHash != bytes32(0));
        address older = address(0x01D);
        address newer = address(0x2E3);
        uint256 gap = gapBlocks % 50; // 0: both commitments in one block, a tie
        _commit(audioHash, older, "older");
        vm.roll(block.number + gap);
        _commit(audioHash, newer, "newer");
        _nextBlock(1);
        address first = olderRevealsFirst ? older : newer;
        address second = olderRevealsFirst ? newer : older;
        _reveal(first, audioHash, olderRevealsFirst ? bytes32("older") : bytes32("newer"));
        if (gap == 0 || olderRevealsFirst) {
            // a tie or a newer commitment never takes a registration over
            vm.expectRevert(abi.encodeWithSelector(ITrackRegistry.TrackAlreadyRegistered.selector, audioHash, first));
        }
        _reveal(second, audioHash, olderRevealsFirst ? bytes32("newer") : bytes32("older"));
        address holder = gap == 0 ? first : older;
        check(registry.getTrack(audioHash).artist == holder, "the earliest commitment holds the track");
    }

    function testFuzz_signatureIsValidUntilItsDeadlineSecond(uint256 keySeed, bytes32 audioHash, uint256 lateBy) public {
        vm.assume(audioHash != bytes32(0));
        uint256 key = bound(keySeed, 1, 2 ** 128);
        address artist = vm.addr(key);
        lateBy = bound(lateBy, 0, 2);
        _commit(audioHash, artist, 0);
        _nextBlock(1);
        uint256 deadline = block.timestamp + 1 - lateBy; // lateBy 0: a second left; 1: the last second; 2: expired
        bytes memory signature = _signedReveal(key, artist, audioHash, deadline);
        if (block.timestamp > deadline) {
            vm.expectRevert(abi.encodeWithSelector(ITrackRegistry.ExpiredSignature.selector, deadline));
        }
        vm.prank(RELAYER);
        registry.registerTrackFor(artist, audioHash, 0, _cid(audioHash), _cid(audioHash), _noParents(), deadline, signature);
    }

    function testFuzz_aContractWalletsOwnerSignsForIt(uint256 keySeed, uint256 otherSeed, bytes32 audioHash) public {
        vm.assume(audioHash != bytes32(0));
        uint256 key = bound(keySeed, 1, 2 ** 128);
        uint256 other = bound(otherSeed, 1, 2 ** 128);
        vm.assume(key != other);
        address wallet = address(new ERC1271Wallet(vm.addr(key)));
        _commit(audioHash, wallet, 0);
        _nextBlock(1);
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory forged = _signedReveal(other, wallet, audioHash, deadline);
        vm.expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, wallet));
        vm.prank(RELAYER);
        registry.registerTrackFor(wallet, audioHash, 0, _cid(audioHash), _cid(audioHash), _noParents(), deadline, forged);
        bytes memory signature = _signedReveal(key, wallet, audioHash, deadline);
        vm.prank(RELAYER);
        registry.registerTrackFor(wallet, audioHash, 0, _cid(audioHash), _cid(audioHash), _noParents(), deadline, signature);
        check(registry.getTrack(audioHash).artist == wallet, "the wallet is the artist");
    }
}
