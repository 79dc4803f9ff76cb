// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RoyaltiesBase} from "./RoyaltiesBase.sol";
import {TrackRegistry} from "../../contracts/TrackRegistry.sol";
import {Royalties} from "../../contracts/Royalties.sol";
import {IRoyalties} from "../../interfaces/IRoyalties.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice Fuzz tests of the allocation, written from the interface's rounding rule: for any split
/// and any sequence of payments, what the holders may withdraw sums to what was paid, never goes
/// down, and each holder is within one run (its basis points over the split's gcd) of pro rata.
contract RoyaltiesFuzzTest is RoyaltiesBase {
    TrackRegistry internal registry;
    Royalties internal royalties;
    address internal constant ARTIST = address(0xA11CE);
    bytes32 internal track = keccak256("fuzzed track");
    address[4] internal holders = [address(0xB0B), address(0xCA7), address(0xD06), address(0xE1F)];

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        registry = new TrackRegistry();
        royalties = new Royalties(registry);
        _register(registry, ARTIST, track, _none());
        _passFinality();
    }

    /// @dev Up to four holders with random positive shares summing to 10,000.
    function _split(uint16[4] memory cuts, uint8 count) internal returns (address[] memory who, uint16[] memory bps) {
        uint256 n = bound(count, 1, 4);
        who = new address[](n);
        bps = new uint16[](n);
        uint256 left = 10_000;
        for (uint256 i = 0; i < n; ++i) {
            who[i] = holders[i];
            uint256 share = i == n - 1 ? left : bound(cuts[i], 1, left - (n - 1 - i));
            bps[i] = uint16(share);
            left -= share;
        }
        vm.prank(ARTIST);
        royalties.setSplit(track, IRoyalties.Right.Composition, who, bps, 0);
    }

    function testFuzz_everyWeiIsAllocatedAndNothingIsTakenBack(uint16[4] memory cuts, uint8 count, uint64[3] memory pays)
        public
    {
        (address[] memory who, uint16[] memory bps) = _split(cuts, count);
        uint256[] memory last = new uint256[](who.length);
        uint256 paid = 0;
        for (uint256 p = 0; p < pays.length; ++p) {
            uint256 amount = bound(pays[p], 1, 1e24);
            royalties.pay{value: amount}(track, 10_000);
            paid += amount;
            uint256 sum = 0;
            for (uint256 i = 0; i < who.length; ++i) {
                uint256 due = royalties.owed(track, IRoyalties.Right.Composition, 0, who[i], address(0));
                check(due >= last[i], "monotone");
                // within one run of pro rata: below 10,000 wei, the block's size
                uint256 exact = paid * bps[i] / 10_000;
                check(due + 10_000 > exact && due < exact + 10_000, "near pro rata");
                last[i] = due;
                sum += due;
            }
            check(sum == paid, "sums to what was paid");
        }
        // and what is owed is what is withdrawn, to the wei
        for (uint256 i = 0; i < who.length; ++i) {
            uint256 before = who[i].balance;
            if (last[i] == 0) continue;
            vm.prank(who[i]);
            royalties.withdraw(_ref(track, IRoyalties.Right.Composition, 0), _eth());
            check(who[i].balance == before + last[i], "withdrawn");
        }
        check(address(royalties).balance == 0, "nothing left");
    }

    function testFuzz_aPaymentDividesByItsRatio(uint96 amount, uint16 ratio) public {
        amount = uint96(bound(amount, 1, type(uint96).max));
        ratio = uint16(bound(ratio, 0, 10_000));
        vm.prank(ARTIST);
        royalties.setSplit(track, IRoyalties.Right.Composition, _one(ARTIST), _bps(10_000), 0);
        vm.prank(ARTIST);
        royalties.setSplit(track, IRoyalties.Right.Master, _one(ARTIST), _bps(10_000), 0);
        royalties.pay{value: amount}(track, ratio);
        uint256 composition = royalties.received(track, IRoyalties.Right.Composition, 0, address(0));
        uint256 master = royalties.received(track, IRoyalties.Right.Master, 0, address(0));
        check(composition == uint256(amount) * ratio / 10_000, "composition rounds down");
        check(composition + master == amount, "the master gets the rest");
    }

    function testFuzz_aRatioAboveOneHundredPercentIsRefused(uint16 ratio) public {
        ratio = uint16(bound(ratio, 10_001, type(uint16).max));
        vm.prank(ARTIST);
        royalties.setSplit(track, IRoyalties.Right.Composition, _one(ARTIST), _bps(10_000), 0);
        vm.expectRevert(abi.encodeWithSelector(IRoyalties.InvalidRatio.selector, ratio));
        royalties.pay{value: 1}(track, ratio);
    }

    function testFuzz_parentsSplitAPushWithinOneUnit(uint64 amount, uint8 parentCount) public {
        uint256 n = bound(parentCount, 1, 16);
        ITrackRegistry.Parent[] memory parents = new ITrackRegistry.Parent[](n);
        for (uint256 i = 0; i < n; ++i) {
            parents[i] = ITrackRegistry.Parent(keccak256(abi.encode("parent", i)), ITrackRegistry.Relation.Remix);
            _register(registry, ARTIST, parents[i].trackId, _none());
        }
        bytes32 remix = keccak256("remix");
        _register(registry, ARTIST, remix, parents);
        _passFinality();
        for (uint256 i = 0; i < n; ++i) {
            royalties.recordLineage(parents[i].trackId, _none());
        }
        royalties.recordLineage(remix, parents);
        vm.prank(ARTIST);
        royalties.setSplit(remix, IRoyalties.Right.Composition, new address[](0), new uint16[](0), 10_000);
        uint256 value = bound(amount, 1, 1e24);
        royalties.pay{value: value}(remix, 10_000);
        IRoyalties.Push[] memory pushes = new IRoyalties.Push[](1);
        pushes[0] = IRoyalties.Push(remix, IRoyalties.Right.Composition, 0, parents);
        royalties.push(address(0), pushes);
        uint256 sum = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 got = royalties.received(parents[i].trackId, IRoyalties.Right.Composition, 0, address(0));
            check(got == value / n || got == value / n + 1, "equal parts");
            sum += got;
        }
        check(sum == value, "every wei pushed");
    }
}
