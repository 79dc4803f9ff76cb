// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RoyaltiesBase} from "./RoyaltiesBase.sol";
import {TrackRegistry} from "../../contracts/TrackRegistry.sol";
import {Royalties} from "../../contracts/Royalties.sol";
import {IRoyalties} from "../../interfaces/IRoyalties.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";
import {TestStablecoin} from "../../contracts/test/TestStablecoin.sol";
import {FeeOnTransferToken} from "../../contracts/test/FeeOnTransferToken.sol";

/// @notice Drives Royalties with random payments (ETH, a token, and a token that burns 3% of every
/// transfer; any ratio), new split versions, cascade pushes and withdrawals over an original A, an
/// original B, a derivative D (remix of A, cover of B) and E (sample of D), and keeps a ghost ledger
/// of everything paid in and out (for the fee token: what arrived, and what left the contract).
contract RoyaltiesHandler is RoyaltiesBase {
    Royalties public immutable royalties;
    TestStablecoin public immutable token;
    FeeOnTransferToken public immutable feeToken;
    address internal constant ARTIST = address(0xA11CE);
    address[3] internal people = [address(0xB0B), address(0xCA7), address(0xD06)];
    bytes32[4] public tracks;
    mapping(bytes32 trackId => ITrackRegistry.Parent[]) internal parentsOf;
    uint16[2][4] public versions;

    mapping(address token => uint256) public paidIn;
    mapping(address token => uint256) public paidOut;
    uint256 public pushes;

    constructor(Royalties royalties_, TestStablecoin token_, FeeOnTransferToken feeToken_, bytes32[4] memory tracks_)
        payable
    {
        royalties = royalties_;
        token = token_;
        feeToken = feeToken_;
        tracks = tracks_;
        parentsOf[tracks_[2]].push(ITrackRegistry.Parent(tracks_[0], ITrackRegistry.Relation.Remix));
        parentsOf[tracks_[2]].push(ITrackRegistry.Parent(tracks_[1], ITrackRegistry.Relation.Cover));
        parentsOf[tracks_[3]].push(ITrackRegistry.Parent(tracks_[2], ITrackRegistry.Relation.Sample));
        token_.mint(address(this), 1e30);
        token_.approve(address(royalties_), type(uint256).max);
        feeToken_.mint(address(this), 1e30);
        feeToken_.approve(address(royalties_), type(uint256).max);
    }

    /// @dev ETH, the stablecoin or the fee token.
    function currency(uint256 pick) public view returns (address) {
        uint256 k = pick % 3;
        return k == 0 ? address(0) : k == 1 ? address(token) : address(feeToken);
    }

    function pay(uint8 trackPick, uint16 ratio, uint64 amount, uint8 currencyPick) external {
        bytes32 trackId = tracks[trackPick % 4];
        uint256 value = bound(amount, 1, 1e21);
        ratio = uint16(bound(ratio, 0, 10_000));
        address which = currency(currencyPick);
        if (which != address(0)) {
            // a fee-on-transfer payment is owed what reached the contract, not what was sent
            uint256 before = FeeOnTransferToken(which).balanceOf(address(royalties));
            royalties.payToken(trackId, ratio, which, value);
            paidIn[which] += FeeOnTransferToken(which).balanceOf(address(royalties)) - before;
        } else {
            royalties.pay{value: value}(trackId, ratio);
            paidIn[address(0)] += value;
        }
    }

    /// @dev A new version of a split (the artist controls them all), random shares among `people`.
    function resplit(uint8 trackPick, bool master, uint16 cut, uint16 upstream) external {
        uint256 t = trackPick % 4;
        IRoyalties.Right right = master ? IRoyalties.Right.Master : IRoyalties.Right.Composition;
        // D and E are derivatives: both rights reach a parent (a remix, a sample), so both route upstream
        uint256 up = t >= 2 ? bound(upstream, 1, 9_000) : 0;
        uint256 first = bound(cut, 1, 10_000 - up - 1);
        address[] memory who = new address[](2);
        uint16[] memory bps = new uint16[](2);
        (who[0], who[1]) = (people[cut % 3], people[(uint256(cut) + 1) % 3]);
        (bps[0], bps[1]) = (uint16(first), uint16(10_000 - up - first));
        vm.prank(ARTIST);
        royalties.setSplit(tracks[t], right, who, bps, uint16(up));
        versions[t][master ? 1 : 0] += 1;
    }

    function push(uint8 trackPick, bool master, uint8 currencyPick, uint16 versionPick) external {
        uint256 t = 2 + trackPick % 2;
        uint16 version = uint16(versionPick % (uint256(versions[t][master ? 1 : 0]) + 1));
        IRoyalties.Push[] memory nodes = new IRoyalties.Push[](1);
        nodes[0] = IRoyalties.Push(
            tracks[t], master ? IRoyalties.Right.Master : IRoyalties.Right.Composition, version, parentsOf[tracks[t]]
        );
        address which = currency(currencyPick);
        if (royalties.owed(tracks[t], nodes[0].right, version, address(0), which) == 0) return;
        royalties.push(which, nodes);
        ++pushes;
    }

    /// @dev One holder (or the artist) withdraws every share it ever held, in every currency.
    function withdraw(uint8 who) external {
        address recipient = who % 4 == 3 ? ARTIST : people[who % 4];
        IRoyalties.ShareRef[] memory refs = _refsOf(recipient);
        if (refs.length == 0) return;
        address[] memory all = new address[](3);
        uint256[3] memory due;
        uint256 sum = 0;
        for (uint256 k = 0; k < 3; ++k) {
            all[k] = currency(k);
            due[k] = _due(recipient, refs, all[k]);
            sum += due[k];
        }
        if (sum == 0) return;
        vm.prank(recipient);
        royalties.withdraw(refs, all);
        // the fee token's fee comes out of what the recipient receives, not the contract's books
        for (uint256 k = 0; k < 3; ++k) {
            paidOut[all[k]] += due[k];
        }
    }

    function _refsOf(address recipient) internal view returns (IRoyalties.ShareRef[] memory refs) {
        uint256 count = 0;
        IRoyalties.ShareRef[] memory all = new IRoyalties.ShareRef[](512);
        for (uint256 t = 0; t < 4; ++t) {
            for (uint256 r = 0; r < 2; ++r) {
                for (uint16 v = 0; v <= versions[t][r]; ++v) {
                    IRoyalties.Right right = IRoyalties.Right(r);
                    if (royalties.shareOf(tracks[t], right, v, recipient) != 0) {
                        all[count++] = IRoyalties.ShareRef(tracks[t], right, v);
                    }
                }
            }
        }
        refs = new IRoyalties.ShareRef[](count);
        for (uint256 i = 0; i < count; ++i) {
            refs[i] = all[i];
        }
    }

    function _due(address recipient, IRoyalties.ShareRef[] memory refs, address which) internal view returns (uint256 sum) {
        for (uint256 i = 0; i < refs.length; ++i) {
            sum += royalties.owed(refs[i].trackId, refs[i].right, refs[i].version, recipient, which);
        }
    }

    /// @dev Everything still owed in `which`: every holder's and every upstream share, every version.
    function totalOwed(address which) external view returns (uint256 sum) {
        for (uint256 t = 0; t < 4; ++t) {
            for (uint256 r = 0; r < 2; ++r) {
                for (uint16 v = 0; v <= versions[t][r]; ++v) {
                    IRoyalties.Right right = IRoyalties.Right(r);
                    sum += royalties.owed(tracks[t], right, v, address(0), which);
                    for (uint256 h = 0; h < 3; ++h) {
                        sum += royalties.owed(tracks[t], right, v, people[h], which);
                    }
                    sum += royalties.owed(tracks[t], right, v, ARTIST, which);
                }
            }
        }
    }
}

contract RoyaltiesInvariantTest is RoyaltiesBase {
    TrackRegistry internal registry;
    Royalties internal royalties;
    TestStablecoin internal token;
    FeeOnTransferToken internal feeToken;
    RoyaltiesHandler internal handler;
    address internal constant ARTIST = address(0xA11CE);

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        registry = new TrackRegistry();
        royalties = new Royalties(registry);
        token = new TestStablecoin();
        feeToken = new FeeOnTransferToken(300); // 3% burnt on every transfer
        bytes32[4] memory tracks =
            [keccak256("A"), keccak256("B"), keccak256("D remixes A, covers B"), keccak256("E samples D")];
        _register(registry, ARTIST, tracks[0], _none());
        _register(registry, ARTIST, tracks[1], _none());
        ITrackRegistry.Parent[] memory ofD = new ITrackRegistry.Parent[](2);
        ofD[0] = ITrackRegistry.Parent(tracks[0], ITrackRegistry.Relation.Remix);
        ofD[1] = ITrackRegistry.Parent(tracks[1], ITrackRegistry.Relation.Cover);
        _register(registry, ARTIST, tracks[2], ofD);
        _register(registry, ARTIST, tracks[3], _parent(tracks[2], ITrackRegistry.Relation.Sample));
        _passFinality();
        royalties.recordLineage(tracks[0], _none());
        royalties.recordLineage(tracks[1], _none());
        royalties.recordLineage(tracks[2], ofD);
        royalties.recordLineage(tracks[3], _parent(tracks[2], ITrackRegistry.Relation.Sample));
        // every right starts as the artist's alone (a derivative routes 30% upstream)
        for (uint256 t = 0; t < 4; ++t) {
            uint16 up = t >= 2 ? 3_000 : 0;
            vm.prank(ARTIST);
            royalties.setSplit(tracks[t], IRoyalties.Right.Composition, _one(ARTIST), _bps(10_000 - up), up);
            vm.prank(ARTIST);
            royalties.setSplit(tracks[t], IRoyalties.Right.Master, _one(ARTIST), _bps(10_000 - up), up);
        }
        handler = new RoyaltiesHandler{value: 1e27}(royalties, token, feeToken, tracks);
    }

    /// @dev forge's invariant runner fuzzes only the contracts this returns.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_noWeiIsLostOrCreated() public view {
        for (uint256 k = 0; k < 3; ++k) {
            address which = handler.currency(k);
            uint256 balance = k == 0 ? address(royalties).balance : TestStablecoin(which).balanceOf(address(royalties));
            uint256 owed = handler.totalOwed(which);
            // everything withdrawable plus everything withdrawn equals everything paid
            check(owed + handler.paidOut(which) == handler.paidIn(which), "withdrawable + withdrawn == paid");
            check(balance == owed, "the contract holds exactly what it owes");
        }
    }
}
