// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";

import {IRoyalties} from "../interfaces/IRoyalties.sol";
import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";
import {ReceiverFactory, TrackReceiver} from "./TrackReceiver.sol";

/// @title Royalties
/// @notice Composition and master splits of registered tracks, paid at a cost that does not grow
/// with the number of recipients, with derivative cascades and listening-epoch pools.
/// @dev Gas: a payment adds to the track's running total of the right (ETH: the track's own
/// state slot, one SSTORE; a token: one slot per track and token) and emits the amounts. Each
/// recipient's share of a split version is one slot written when the split is set (its units,
/// run offset and block size, and the ETH it withdrew), so a withdrawal reads two slots and
/// writes one whatever the recipients; the split's lists live in its {SplitSet} event and its
/// hash. A split version that stops receiving keeps its final total: ETH is closed when the next
/// version is set, a token lazily by the first credit after it (tagged totals).
contract Royalties is IRoyalties, IERC2981, ERC165, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using TransientSlot for *;

    // ---- constants -----------------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    uint256 public constant BPS = 10_000;
    /// @inheritdoc IRoyalties
    uint256 public constant MAX_RECIPIENTS = 100;
    /// @inheritdoc IRoyalties
    /// @dev Eight generations: a share of a share, eight times over, is below 0.4% at a 50%
    /// upstream share, and the deepest chain is pushed end to end in one call of ~0.3M gas.
    uint256 public constant MAX_CASCADE_DEPTH = 8;

    address private constant ETH = address(0);
    /// @dev The upstream share is kept as the share of a pseudo-recipient no split may list.
    address private constant UPSTREAM = address(0);

    uint8 private constant LINEAGE = 1;
    uint8 private constant HAS_PARENTS = 2;
    uint8 private constant HAS_MASTER_PARENTS = 4;
    uint8 private constant COMPOSITION_SET = 8;
    uint8 private constant MASTER_SET = 16;
    uint8 private constant COMPOSITION_LOCKED = 32;
    uint8 private constant MASTER_LOCKED = 64;
    uint8 private constant BOTH_SET = 24; // COMPOSITION_SET | MASTER_SET

    uint256 private constant MAX_ETH = type(uint104).max;
    uint256 private constant MAX_TOKEN = type(uint112).max;
    uint256 private constant MAX_EPOCH = type(uint96).max;
    uint256 private constant MAX_HALF = type(uint128).max;
    uint256 private constant TAGS = 0xffff | 0xffff << 128;

    /// @dev Transient: the receiver whose ETH `receive` accepts during a flush.
    bytes32 private constant EXPECTED_RECEIVER = bytes32(uint256(keccak256("qfzz.royalties.expected-receiver")) - 1);

    // ---- storage -------------------------------------------------------------------------------

    /// @dev One slot per track: what a payment in ETH reads and writes, and nothing else.
    struct TrackState {
        uint16 compositionVersion;
        uint16 masterVersion;
        uint8 flags;
        uint8 depth;
        uint104 compositionEth; // running total of the current composition version
        uint104 masterEth;
    }

    /// @dev One slot per recipient and split version: its run in each block and its ETH withdrawn.
    struct Share {
        uint16 units;
        uint16 offset;
        uint16 blockSize;
        uint208 withdrawnEth;
    }

    struct Control {
        address controller;
        address pending;
    }

    struct SaleRoyalty {
        bool set;
        uint16 royaltyBps;
        uint16 compositionBps;
    }

    struct Epoch {
        bytes32 root;
        address token;
        uint96 remaining;
    }

    /// @inheritdoc IRoyalties
    ITrackRegistry public immutable registry;
    /// @notice Deploys the tracks' ERC-2981 receivers (it holds their code, this contract does not).
    ReceiverFactory public immutable receiverFactory;
    bytes32 private immutable _receiverCodeHash;

    mapping(bytes32 trackId => TrackState) private _tracks;
    /// @dev One word per track and token: each right's half (composition low, master high) holds its
    /// version tag in 16 bits and its running total in the 112 above.
    mapping(bytes32 trackId => mapping(address token => uint256)) private _tokenTotals;
    /// @dev Split versions are keyed by `keccak256(abi.encode(trackId, right, version))`.
    mapping(bytes32 splitKey => mapping(address token => uint256)) private _closedTotal;
    mapping(bytes32 splitKey => mapping(address recipient => Share)) private _shares;
    mapping(bytes32 splitKey => mapping(address recipient => mapping(address token => uint256))) private _withdrawnToken;
    mapping(bytes32 splitKey => bytes32) private _splitHashes;
    mapping(bytes32 trackId => mapping(Right right => Control)) private _control;
    mapping(bytes32 trackId => SaleRoyalty) private _sales;
    mapping(uint256 epochId => Epoch) private _epochs;
    /// @dev Bit set = leaf not claimed yet; set for every leaf when the epoch is posted, so a
    /// claim never pays for a zero-to-nonzero write.
    mapping(uint256 epochId => mapping(uint256 word => uint256)) private _unclaimed;
    uint256 private _epochCount;

    constructor(ITrackRegistry registry_) {
        if (address(registry_) == address(0)) revert ITrackRegistry.ZeroAddress();
        registry = registry_;
        receiverFactory = new ReceiverFactory();
        _receiverCodeHash = receiverFactory.receiverCodeHash();
    }

    /// @dev Ether arrives only from a track's receiver being flushed; payments go through `pay`.
    receive() external payable {
        if (msg.sender != EXPECTED_RECEIVER.asAddress().tload()) revert UnexpectedEther(msg.sender);
    }

    // ---- lineage and splits --------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    function recordLineage(bytes32 trackId, ITrackRegistry.Parent[] calldata parents) external {
        TrackState storage state = _tracks[trackId];
        if (state.flags & LINEAGE != 0) revert LineageAlreadyRecorded(trackId);
        _requireFinal(trackId, registry.getTrack(trackId));
        _checkParents(trackId, parents);
        uint256 depth = 0;
        uint8 flags = LINEAGE;
        for (uint256 i = 0; i < parents.length; ++i) {
            TrackState storage parent = _tracks[parents[i].trackId];
            if (parent.flags & LINEAGE == 0) revert LineageNotRecorded(parents[i].trackId);
            depth = Math.max(depth, uint256(parent.depth) + 1);
            flags |= HAS_PARENTS;
            if (parents[i].relation != ITrackRegistry.Relation.Cover) flags |= HAS_MASTER_PARENTS;
        }
        if (depth > MAX_CASCADE_DEPTH) revert LineageTooDeep(trackId, depth, MAX_CASCADE_DEPTH);
        state.flags |= flags;
        state.depth = uint8(depth);
        emit LineageRecorded(trackId, uint8(depth), parents.length);
    }

    /// @inheritdoc IRoyalties
    function setSplit(
        bytes32 trackId,
        Right right,
        address[] calldata recipients,
        uint16[] calldata bps,
        uint16 upstreamBps
    ) external {
        TrackState memory state = _tracks[trackId];
        uint16 version = _versionOf(state, right);
        if (state.flags & _setFlag(right) == 0) {
            // the first split of a right: the registry's artist, on a final registration
            ITrackRegistry.Track memory track = registry.getTrack(trackId);
            if (track.artist != msg.sender) revert ITrackRegistry.NotArtist(trackId, msg.sender);
            _requireFinal(trackId, track);
            if (state.flags & LINEAGE == 0) {
                // an original needs no parents recorded first; a derivative's lineage does
                if (registry.parentsHash(trackId) != bytes32(0)) revert LineageNotRecorded(trackId);
                state.flags |= LINEAGE;
                emit LineageRecorded(trackId, 0, 0);
            }
            _control[trackId][right].controller = msg.sender;
            state.flags |= _setFlag(right);
        } else {
            _onlyController(trackId, right, state);
            if (version == type(uint16).max) revert TooManyVersions(trackId, right);
            // close the running ETH total: the old version keeps what it received
            bytes32 closing = _splitKey(trackId, right, version);
            uint256 total = _ethOf(state, right);
            if (total != 0) _closedTotal[closing][ETH] = total;
            version += 1;
            if (right == Right.Composition) {
                state.compositionVersion = version;
                state.compositionEth = 0;
            } else {
                state.masterVersion = version;
                state.masterEth = 0;
            }
        }
        bool hasParents = state.flags & (right == Right.Composition ? HAS_PARENTS : HAS_MASTER_PARENTS) != 0;
        if (hasParents ? upstreamBps == 0 : upstreamBps != 0) revert InvalidUpstreamShare(trackId, right, upstreamBps);
        _tracks[trackId] = state;

        bytes32 key = _splitKey(trackId, right, version);
        _writeShares(key, recipients, bps, upstreamBps);
        bytes32 hash = keccak256(abi.encode(recipients, bps, upstreamBps));
        _splitHashes[key] = hash;
        emit SplitSet(trackId, right, version, recipients, bps, upstreamBps, hash);
    }

    /// @inheritdoc IRoyalties
    function lockSplit(bytes32 trackId, Right right) external {
        TrackState memory state = _tracks[trackId];
        _onlyController(trackId, right, state);
        _tracks[trackId].flags = state.flags | (right == Right.Composition ? COMPOSITION_LOCKED : MASTER_LOCKED);
        delete _control[trackId][right];
        emit SplitLocked(trackId, right, _versionOf(state, right));
    }

    /// @inheritdoc IRoyalties
    function transferControl(bytes32 trackId, Right right, address newController) external {
        _onlyController(trackId, right, _tracks[trackId]);
        _control[trackId][right].pending = newController;
        emit ControlTransferProposed(trackId, right, msg.sender, newController);
    }

    /// @inheritdoc IRoyalties
    function acceptControl(bytes32 trackId, Right right) external {
        Control storage control = _control[trackId][right];
        if (msg.sender != control.pending || msg.sender == address(0)) {
            revert NotPendingController(trackId, right, msg.sender);
        }
        address previous = control.controller;
        control.controller = msg.sender;
        control.pending = address(0);
        emit ControlTransferred(trackId, right, previous, msg.sender);
    }

    /// @inheritdoc IRoyalties
    function setSaleRoyalty(bytes32 trackId, uint16 royaltyBps, uint16 compositionBps) external {
        ITrackRegistry.Track memory track = registry.getTrack(trackId);
        if (track.artist != msg.sender) revert ITrackRegistry.NotArtist(trackId, msg.sender);
        _requireFinal(trackId, track);
        if (royaltyBps > BPS) revert InvalidRatio(royaltyBps);
        if (compositionBps > BPS) revert InvalidRatio(compositionBps);
        _sales[trackId] = SaleRoyalty(true, royaltyBps, compositionBps);
        emit SaleRoyaltySet(trackId, royaltyBps, compositionBps);
    }

    // ---- payments ------------------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    function pay(bytes32 trackId, uint16 compositionBps) external payable {
        (uint256 composition, uint256 master) = _divide(msg.value, compositionBps);
        _credit(trackId, ETH, composition, master, true);
        emit Paid(trackId, msg.sender, ETH, composition, master);
    }

    /// @inheritdoc IRoyalties
    /// @dev Gas: the repeat payment (both splits set, the track's token word at both rights'
    /// current versions) is divided and credited in one assembly pass, ~650 gas under `_divide` and
    /// `_credit` (53,406 -> 52,755 on the benchmark's repeat payment); anything else (a refusal, a
    /// version that stopped receiving, a total past 2^112) goes through them, which decide alone.
    function payToken(bytes32 trackId, uint16 compositionBps, address token, uint256 amount) external nonReentrant {
        // token == ETH is refused by `_pull` (address zero has no balance to read): ~35 gas saved here
        uint256 arrived = _pull(token, amount);
        bool done;
        uint256 composition;
        uint256 master;
        (uint256 maxToken, uint256 tags) = (MAX_TOKEN, TAGS);
        assembly ("memory-safe") {
            // below 2^112 and at a ratio of at most 10,000 (checked below, before anything is
            // written): the product and the sums cannot wrap
            composition := div(mul(arrived, compositionBps), 10000)
            master := sub(arrived, composition)
            mstore(0x00, trackId)
            mstore(0x20, _tracks.slot)
            let state := sload(keccak256(0x00, 0x40))
            mstore(0x20, _tokenTotals.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, token)
            let slot := keccak256(0x00, 0x40)
            let packed := sload(slot)
            // both splits set (their flags at bit 32 of the state), both tags (bits 0 and 128 of the
            // word) the current versions (bits 0 and 16 of the state), 1 <= arrived <= 2^112 - 1
            // (`sub` wraps zero to the top), a ratio of at most 10,000, both new totals below 2^112
            let current := or(and(state, 0xffff), shl(128, and(shr(16, state), 0xffff)))
            let c := add(and(shr(16, packed), maxToken), composition)
            let m := add(shr(144, packed), master)
            done := and(eq(and(shr(32, state), BOTH_SET), BOTH_SET), eq(and(packed, tags), current))
            done := and(done, and(lt(sub(arrived, 1), maxToken), lt(compositionBps, 10001)))
            done := and(done, iszero(shr(112, or(c, m))))
            if done { sstore(slot, or(current, or(shl(16, c), shl(144, m)))) }
        }
        if (!done) {
            // zero amounts and bad ratios are refused here, after the pull (which then moved nothing)
            (composition, master) = _divide(arrived, compositionBps);
            _credit(trackId, token, composition, master, true);
        }
        // emit Paid(trackId, msg.sender, token, composition, master), written past the free memory
        // pointer: ~50 gas under `emit`
        bytes32 topic = Paid.selector;
        assembly ("memory-safe") {
            let data := mload(0x40)
            mstore(data, token)
            mstore(add(data, 0x20), composition)
            mstore(add(data, 0x40), master)
            log3(data, 0x60, topic, trackId, caller())
        }
    }

    /// @inheritdoc IRoyalties
    function flushReceiver(bytes32 trackId, address token) external nonReentrant {
        SaleRoyalty memory sale = _sales[trackId];
        if (!sale.set) revert SaleRoyaltyNotSet(trackId);
        address receiver = receiverOf(trackId);
        if (receiver.code.length == 0) {
            emit ReceiverDeployed(trackId, receiverFactory.deploy(trackId));
        }
        uint256 arrived;
        if (token == ETH) {
            // a call with value either moves exactly that value or reverts: no balance to measure
            arrived = receiver.balance;
            EXPECTED_RECEIVER.asAddress().tstore(receiver);
            TrackReceiver(payable(receiver)).forward(address(this), arrived, "");
            EXPECTED_RECEIVER.asAddress().tstore(address(0));
        } else {
            uint256 before = IERC20(token).balanceOf(address(this));
            uint256 held = IERC20(token).balanceOf(receiver);
            TrackReceiver(payable(receiver)).forward(token, 0, abi.encodeCall(IERC20.transfer, (address(this), held)));
            arrived = IERC20(token).balanceOf(address(this)) - before;
        }
        (uint256 composition, uint256 master) = _divide(arrived, sale.compositionBps);
        _credit(trackId, token, composition, master, true);
        emit Paid(trackId, receiver, token, composition, master);
    }

    // ---- distribution --------------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    function push(address token, Push[] calldata pushes) external {
        uint256 total = 0;
        for (uint256 i = 0; i < pushes.length; ++i) {
            total += _push(token, pushes[i]);
        }
        if (total == 0) revert NothingToPush();
    }

    /// @inheritdoc IRoyalties
    function withdraw(ShareRef[] calldata shares, address[] calldata tokens) external {
        // effects come before every transfer, so a withdrawal needs no lock of its own; it must not
        // run inside a payment that measures a token balance around its transfer (an ERC-777 hook)
        if (_reentrancyGuardEntered()) revert ReentrancyGuardReentrantCall();
        address recipient = msg.sender;
        uint256[] memory amounts = new uint256[](tokens.length);
        bool any = false;
        for (uint256 i = 0; i < shares.length; ++i) {
            if (_collect(shares[i], recipient, tokens, amounts)) any = true;
        }
        if (!any) revert NothingToWithdraw(recipient);
        for (uint256 j = 0; j < tokens.length; ++j) {
            if (amounts[j] == 0) continue;
            emit Withdrawn(recipient, tokens[j], amounts[j]);
            _send(tokens[j], amounts[j]);
        }
    }

    // ---- listening epochs ----------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    function postEpoch(address token, uint256 amount, bytes32 root, uint256 leafCount)
        external
        payable
        nonReentrant
        returns (uint256 epochId)
    {
        if (amount == 0) revert ZeroPayment();
        if (root == bytes32(0) || leafCount == 0) revert EmptyEpoch();
        if (amount > MAX_EPOCH) revert AmountTooLarge(amount, MAX_EPOCH);
        if (token == ETH) {
            if (msg.value != amount) revert EthAmountMismatch(msg.value, amount);
        } else {
            if (msg.value != 0) revert EthAmountMismatch(msg.value, 0);
            uint256 arrived = _pull(token, amount);
            if (arrived != amount) revert TokenTransferShort(token, amount, arrived);
        }
        epochId = _epochCount++;
        _epochs[epochId] = Epoch(root, token, uint96(amount));
        mapping(uint256 word => uint256) storage unclaimed = _unclaimed[epochId];
        uint256 fullWords = leafCount >> 8;
        for (uint256 word = 0; word < fullWords; ++word) {
            unclaimed[word] = type(uint256).max;
        }
        if (leafCount & 255 != 0) unclaimed[fullWords] = (uint256(1) << (leafCount & 255)) - 1;
        emit EpochPosted(epochId, msg.sender, token, amount, root, leafCount);
    }

    /// @inheritdoc IRoyalties
    function claimEpoch(
        uint256 epochId,
        uint256 index,
        bytes32 trackId,
        uint256 composition,
        uint256 master,
        bytes32[] calldata proof
    ) external {
        Epoch storage posted = _epochs[epochId];
        // the OpenZeppelin standard tree's leaf: the values ABI-encoded, hashed twice
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(index, trackId, composition, master))));
        _useLeaf(epochId, index, posted.root, leaf, proof);
        uint256 amount = composition + master;
        if (amount == 0) revert ZeroPayment();
        uint256 remaining = posted.remaining;
        if (amount > remaining) revert EpochOverdrawn(epochId, amount, remaining);
        posted.remaining = uint96(remaining - amount);
        _credit(trackId, posted.token, composition, master, true);
        emit EpochClaimed(epochId, trackId, index, composition, master);
    }

    // ---- views ---------------------------------------------------------------------------------

    /// @inheritdoc IRoyalties
    function trackState(bytes32 trackId)
        external
        view
        returns (
            bool lineageRecorded,
            uint8 depth,
            bool hasParents,
            bool hasMasterParents,
            bool[2] memory splitSet,
            bool[2] memory locked,
            uint16[2] memory versions
        )
    {
        TrackState memory state = _tracks[trackId];
        uint8 flags = state.flags;
        return (
            flags & LINEAGE != 0,
            state.depth,
            flags & HAS_PARENTS != 0,
            flags & HAS_MASTER_PARENTS != 0,
            [flags & COMPOSITION_SET != 0, flags & MASTER_SET != 0],
            [flags & COMPOSITION_LOCKED != 0, flags & MASTER_LOCKED != 0],
            [state.compositionVersion, state.masterVersion]
        );
    }

    /// @inheritdoc IRoyalties
    function controllerOf(bytes32 trackId, Right right) external view returns (address controller, address pending) {
        Control memory control = _control[trackId][right];
        return (control.controller, control.pending);
    }

    /// @inheritdoc IRoyalties
    function splitHash(bytes32 trackId, Right right, uint16 version) external view returns (bytes32) {
        return _splitHashes[_splitKey(trackId, right, version)];
    }

    /// @inheritdoc IRoyalties
    function shareOf(bytes32 trackId, Right right, uint16 version, address recipient) external view returns (uint256) {
        Share memory share = _shares[_splitKey(trackId, right, version)][recipient];
        return share.units == 0 ? 0 : uint256(share.units) * BPS / share.blockSize;
    }

    /// @inheritdoc IRoyalties
    function received(bytes32 trackId, Right right, uint16 version, address token) public view returns (uint256) {
        return _received(trackId, right, version, token, _splitKey(trackId, right, version));
    }

    /// @inheritdoc IRoyalties
    function withdrawn(bytes32 trackId, Right right, uint16 version, address recipient, address token)
        public
        view
        returns (uint256)
    {
        bytes32 key = _splitKey(trackId, right, version);
        return token == ETH ? _shares[key][recipient].withdrawnEth : _withdrawnToken[key][recipient][token];
    }

    /// @inheritdoc IRoyalties
    function owed(bytes32 trackId, Right right, uint16 version, address recipient, address token)
        external
        view
        returns (uint256)
    {
        Share memory share = _shares[_splitKey(trackId, right, version)][recipient];
        if (share.units == 0) return 0;
        return _entitled(received(trackId, right, version, token), share)
            - withdrawn(trackId, right, version, recipient, token);
    }

    /// @inheritdoc IRoyalties
    function receiverOf(bytes32 trackId) public view returns (address) {
        return Create2.computeAddress(trackId, _receiverCodeHash, address(receiverFactory));
    }

    /// @inheritdoc IRoyalties
    function saleRoyaltyOf(bytes32 trackId) external view returns (bool set, uint16 royaltyBps, uint16 compositionBps) {
        SaleRoyalty memory sale = _sales[trackId];
        return (sale.set, sale.royaltyBps, sale.compositionBps);
    }

    /// @inheritdoc IERC2981
    /// @dev `tokenId` is the track id as a number; an NFT of a track delegates its royaltyInfo here.
    function royaltyInfo(uint256 tokenId, uint256 salePrice) external view returns (address, uint256) {
        SaleRoyalty memory sale = _sales[bytes32(tokenId)];
        if (!sale.set) return (address(0), 0);
        return (receiverOf(bytes32(tokenId)), Math.mulDiv(salePrice, sale.royaltyBps, BPS));
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) public view override(ERC165, IERC165) returns (bool) {
        return interfaceId == type(IERC2981).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc IRoyalties
    function epoch(uint256 epochId) external view returns (bytes32 root, address token, uint256 remaining) {
        Epoch memory posted = _epochs[epochId];
        return (posted.root, posted.token, posted.remaining);
    }

    /// @inheritdoc IRoyalties
    function epochCount() external view returns (uint256) {
        return _epochCount;
    }

    /// @inheritdoc IRoyalties
    function isClaimed(uint256 epochId, uint256 index) external view returns (bool) {
        return _unclaimed[epochId][index >> 8] & (uint256(1) << (index & 255)) == 0;
    }

    // ---- private -------------------------------------------------------------------------------

    function _splitKey(bytes32 trackId, Right right, uint16 version) private pure returns (bytes32) {
        return keccak256(abi.encode(trackId, right, version));
    }

    function _setFlag(Right right) private pure returns (uint8) {
        return right == Right.Composition ? COMPOSITION_SET : MASTER_SET;
    }

    function _versionOf(TrackState memory state, Right right) private pure returns (uint16) {
        return right == Right.Composition ? state.compositionVersion : state.masterVersion;
    }

    function _ethOf(TrackState memory state, Right right) private pure returns (uint256) {
        return right == Right.Composition ? state.compositionEth : state.masterEth;
    }

    function _requireFinal(bytes32 trackId, ITrackRegistry.Track memory track) private view {
        if (!registry.isFinal(trackId)) {
            revert RegistrationNotFinal(trackId, uint256(track.registeredAt) + registry.MAX_COMMITMENT_AGE() + 1);
        }
    }

    function _checkParents(bytes32 trackId, ITrackRegistry.Parent[] calldata parents) private view {
        bytes32 expected = registry.parentsHash(trackId);
        bytes32 given = parents.length == 0 ? bytes32(0) : keccak256(abi.encode(parents));
        if (given != expected) revert ParentsMismatch(trackId, expected, given);
    }

    function _onlyController(bytes32 trackId, Right right, TrackState memory state) private view {
        if (state.flags & _setFlag(right) == 0) revert SplitNotSet(trackId, right);
        if (state.flags & (right == Right.Composition ? COMPOSITION_LOCKED : MASTER_LOCKED) != 0) {
            revert SplitIsLocked(trackId, right);
        }
        if (_control[trackId][right].controller != msg.sender) revert NotController(trackId, right, msg.sender);
    }

    /// @dev Checks the lists and writes one share slot per recipient (and one for the upstream
    /// share), in allocation order: the upstream run first, then the recipients as listed.
    function _writeShares(bytes32 key, address[] calldata recipients, uint16[] calldata bps, uint16 upstreamBps)
        private
    {
        uint256 divisor = _checkShares(recipients, bps, upstreamBps);
        // a block holds BPS / gcd units: a 50/50 split alternates single units
        uint16 blockSize = uint16(BPS / divisor);
        uint256 offset = upstreamBps / divisor;
        if (offset != 0) _shares[key][UPSTREAM] = Share(uint16(offset), 0, blockSize, 0);
        for (uint256 i = 0; i < recipients.length; ++i) {
            if (recipients[i] == address(0)) revert ITrackRegistry.ZeroAddress();
            Share storage share = _shares[key][recipients[i]];
            // reading the slot first costs nothing extra: the write that follows is then warm
            if (share.units != 0) revert DuplicateRecipient(recipients[i]);
            uint256 units = bps[i] / divisor;
            _shares[key][recipients[i]] = Share(uint16(units), uint16(offset), blockSize, 0);
            offset += units;
        }
    }

    /// @dev The gcd of the split's basis points, after checking they are positive and sum to BPS.
    function _checkShares(address[] calldata recipients, uint16[] calldata bps, uint16 upstreamBps)
        private
        pure
        returns (uint256 divisor)
    {
        uint256 count = recipients.length;
        if (count != bps.length) revert LengthMismatch(count, bps.length);
        if (count > MAX_RECIPIENTS) revert TooManyRecipients(count, MAX_RECIPIENTS);
        uint256 sum = upstreamBps;
        divisor = upstreamBps;
        for (uint256 i = 0; i < count; ++i) {
            if (bps[i] == 0) revert ZeroShare(recipients[i]);
            sum += bps[i];
            divisor = _gcd(divisor, bps[i]);
        }
        if (sum != BPS) revert InvalidSplitSum(sum, BPS);
    }

    function _gcd(uint256 a, uint256 b) private pure returns (uint256) {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// @dev The share of a running total `total` that a run of `units` at `offset` in every block owns.
    function _entitled(uint256 total, Share memory share) private pure returns (uint256) {
        uint256 rest = total % share.blockSize;
        uint256 inRun = rest > share.offset ? Math.min(rest - share.offset, share.units) : 0;
        // (total - rest) is whole blocks: the division is exact
        return (total - rest) * share.units / share.blockSize + inRun;
    }

    /// @dev Everything split version `version` of a right received of `token`.
    function _received(bytes32 trackId, Right right, uint16 version, address token, bytes32 key)
        private
        view
        returns (uint256)
    {
        if (token == ETH) {
            TrackState memory state = _tracks[trackId];
            uint16 current = _versionOf(state, right);
            if (version == current) return _ethOf(state, right);
            return version < current ? _closedTotal[key][ETH] : 0;
        }
        // a token's totals carry their version: no need to read the track's state
        uint256 half = _tokenTotals[trackId][token] >> (right == Right.Composition ? 0 : 128) & MAX_HALF;
        uint256 tag = half & 0xffff;
        if (tag == version) return half >> 16;
        return tag > version ? _closedTotal[key][token] : 0;
    }

    function _divide(uint256 amount, uint16 compositionBps) private pure returns (uint256, uint256) {
        // a payment of nothing is refused, whether it was asked for or is what a balance delta shows
        // slither-disable-next-line incorrect-equality
        if (amount == 0) revert ZeroPayment();
        if (compositionBps > BPS) revert InvalidRatio(compositionBps);
        uint256 composition = amount * compositionBps / BPS;
        return (composition, amount - composition);
    }

    /// @dev Add to the running totals of the track's current split versions. A payment requires
    /// the paid rights' splits; a cascade credits a parent whose split may come later.
    function _credit(bytes32 trackId, address token, uint256 composition, uint256 master, bool requireSplit)
        private
    {
        TrackState storage stored = _tracks[trackId];
        uint256 state;
        // the packed slot, read once: versions at bits 0 and 16, flags at 32, ETH totals at 48 and 152
        assembly ("memory-safe") {
            state := sload(stored.slot)
        }
        if (requireSplit) {
            // the paid rights' split flags, tested together (a refusal names the composition first)
            uint256 needed = (composition != 0 ? COMPOSITION_SET : 0) | (master != 0 ? MASTER_SET : 0);
            if (state >> 32 & needed != needed) {
                _refuse(trackId, needed & ~(state >> 32) & COMPOSITION_SET != 0 ? Right.Composition : Right.Master);
            }
        }
        if (token == ETH) {
            uint256 compositionEth = (state >> 48 & MAX_ETH) + composition;
            uint256 masterEth = (state >> 152) + master;
            if (Math.max(compositionEth, masterEth) > MAX_ETH) {
                revert AmountTooLarge(Math.max(compositionEth, masterEth), MAX_ETH);
            }
            state = (state & 0xffffffffffff) | compositionEth << 48 | masterEth << 152;
            assembly ("memory-safe") {
                sstore(stored.slot, state)
            }
            return;
        }
        mapping(address token => uint256) storage totals = _tokenTotals[trackId];
        uint256 slot;
        uint256 packed;
        assembly ("memory-safe") {
            // the slot of totals[token], hashed once for its read and its write
            mstore(0x00, token)
            mstore(0x20, totals.slot)
            slot := keccak256(0x00, 0x40)
            packed := sload(slot)
        }
        uint256 current = (state & 0xffff) | (state >> 16 & 0xffff) << 128;
        if (packed & TAGS == current) {
            // a repeat credit: both halves carry their right's current version, so both only grow
            // (one pass instead of two `_addTagged`: ~420 gas less on an epoch claim)
            uint256 compositionTotal = (packed >> 16 & MAX_TOKEN) + composition;
            uint256 masterTotal = (packed >> 144) + master;
            uint256 larger = compositionTotal > masterTotal ? compositionTotal : masterTotal;
            if (larger > MAX_TOKEN) revert AmountTooLarge(larger, MAX_TOKEN);
            packed = current | compositionTotal << 16 | masterTotal << 144;
            assembly ("memory-safe") {
                sstore(slot, packed)
            }
            return;
        }
        if (composition != 0) {
            uint256 half = _addTagged(trackId, token, Right.Composition, packed & MAX_HALF, state & 0xffff, composition);
            packed = (packed & ~MAX_HALF) | half;
        }
        if (master != 0) {
            uint256 half = _addTagged(trackId, token, Right.Master, packed >> 128, state >> 16 & 0xffff, master);
            packed = (packed & MAX_HALF) | half << 128;
        }
        _tokenTotals[trackId][token] = packed;
    }

    /// @dev Add `amount` to one right's half of a token's totals (version tag, running total). A
    /// tag other than the current version is a version that stopped receiving: its final total
    /// is kept and the current version's starts.
    function _addTagged(bytes32 trackId, address token, Right right, uint256 half, uint256 current, uint256 amount)
        private
        returns (uint256)
    {
        uint256 tag = half & 0xffff;
        uint256 total = half >> 16;
        if (tag != current) {
            if (total != 0) _closedTotal[_splitKey(trackId, right, uint16(tag))][token] = total;
            total = 0;
        }
        total += amount;
        if (total > MAX_TOKEN) revert AmountTooLarge(total, MAX_TOKEN);
        return total << 16 | current;
    }

    function _refuse(bytes32 trackId, Right right) private view {
        if (!registry.isRegistered(trackId)) revert ITrackRegistry.TrackNotRegistered(trackId);
        revert SplitNotSet(trackId, right);
    }

    /// @dev One cascade step: what the split version owes upstream now goes to its eligible
    /// parents in equal parts, each part a run of the pushed running total (no dust).
    function _push(address token, Push calldata node) private returns (uint256 amount) {
        bytes32 key = _splitKey(node.trackId, node.right, node.version);
        Share memory upstream = _shares[key][UPSTREAM];
        if (upstream.units == 0) revert NoUpstreamShare(node.trackId, node.right, node.version);
        _checkParents(node.trackId, node.parents);
        uint256 entitled =
            _entitled(_received(node.trackId, node.right, node.version, token, key), upstream);
        uint256 pushed = token == ETH ? upstream.withdrawnEth : _withdrawnToken[key][UPSTREAM][token];
        if (entitled <= pushed) return 0;
        amount = entitled - pushed;
        if (token == ETH) _shares[key][UPSTREAM].withdrawnEth = uint208(entitled);
        else _withdrawnToken[key][UPSTREAM][token] = entitled;

        _creditParents(token, node, pushed, entitled);
    }

    /// @dev Divide the pushed running total's growth from `before` to `total` among the eligible parents.
    function _creditParents(address token, Push calldata node, uint256 before, uint256 total) private {
        bool composition = node.right == Right.Composition;
        uint256 eligible = 0;
        for (uint256 i = 0; i < node.parents.length; ++i) {
            if (composition || node.parents[i].relation != ITrackRegistry.Relation.Cover) ++eligible;
        }
        uint256 part = 0;
        for (uint256 i = 0; i < node.parents.length; ++i) {
            ITrackRegistry.Parent calldata parent = node.parents[i];
            if (!composition && parent.relation == ITrackRegistry.Relation.Cover) continue;
            // parent `part` owns units part, part + eligible, part + 2 * eligible, ... of the total
            uint256 share = _runOf(total, part, eligible) - _runOf(before, part, eligible);
            ++part;
            if (share == 0) continue;
            _credit(parent.trackId, token, composition ? share : 0, composition ? 0 : share, false);
            emit Pushed(node.trackId, parent.trackId, node.right, node.version, token, share);
        }
    }

    /// @dev Check that leaf `index` is unclaimed and proven under `root`, and mark it claimed.
    function _useLeaf(uint256 epochId, uint256 index, bytes32 root, bytes32 leaf, bytes32[] calldata proof) private {
        if (root == bytes32(0)) revert UnknownEpoch(epochId);
        mapping(uint256 word => uint256) storage unclaimed = _unclaimed[epochId];
        uint256 word = unclaimed[index >> 8];
        uint256 bit = uint256(1) << (index & 255);
        if (word & bit == 0) revert AlreadyClaimed(epochId, index);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof(epochId, index);
        unclaimed[index >> 8] = word & ~bit;
    }

    function _runOf(uint256 total, uint256 index, uint256 count) private pure returns (uint256) {
        return total / count + (index < total % count ? 1 : 0);
    }

    /// @dev Mark what `recipient` is owed by one split version in each token as withdrawn, adding
    /// it to `amounts`; true when anything was owed.
    function _collect(ShareRef calldata ref, address recipient, address[] calldata tokens, uint256[] memory amounts)
        private
        returns (bool any)
    {
        bytes32 key = _splitKey(ref.trackId, ref.right, ref.version);
        Share memory share = _shares[key][recipient];
        if (share.units == 0) revert UnknownShare(ref.trackId, ref.right, ref.version, recipient);
        uint256 withdrawnEth = share.withdrawnEth;
        for (uint256 j = 0; j < tokens.length; ++j) {
            uint256 amount;
            (amount, withdrawnEth) = _collectToken(ref, key, share, recipient, tokens[j], withdrawnEth);
            if (amount == 0) continue;
            amounts[j] += amount;
            any = true;
        }
        // one write per share: the ETH withdrawn shares the slot that was just read
        if (withdrawnEth != share.withdrawnEth) _shares[key][recipient].withdrawnEth = uint208(withdrawnEth);
    }

    /// @dev What one share owes in one token, marked withdrawn (ETH: in the returned running total).
    function _collectToken(
        ShareRef calldata ref,
        bytes32 key,
        Share memory share,
        address recipient,
        address token,
        uint256 withdrawnEth
    ) private returns (uint256 amount, uint256) {
        uint256 entitled = _entitled(_received(ref.trackId, ref.right, ref.version, token, key), share);
        uint256 paid = token == ETH ? withdrawnEth : _withdrawnToken[key][recipient][token];
        if (entitled <= paid) return (0, withdrawnEth);
        amount = entitled - paid;
        if (token == ETH) withdrawnEth = entitled;
        else _withdrawnToken[key][recipient][token] = entitled;
        return (amount, withdrawnEth);
    }

    /// @dev Pull `amount` from the sender and return what arrived (less, for a fee-on-transfer
    /// token). Assembly: three calls with the scratch space as their only memory, ~600 gas under
    /// the high-level calls; a token returning nothing (USDT) or true passes, false fails.
    function _pull(address token, uint256 amount) private returns (uint256 arrived) {
        bool ok;
        assembly ("memory-safe") {
            let freePointer := mload(0x40)
            // before := token.balanceOf(this)
            mstore(0x00, 0x70a08231)
            mstore(0x20, address())
            ok := and(gt(returndatasize(), 0x1f), staticcall(gas(), token, 0x1c, 0x24, 0x00, 0x20))
            let before := mload(0x00)
            // token.transferFrom(caller, this, amount): reverts bubble up, false fails
            mstore(0x00, 0x23b872dd)
            mstore(0x20, caller())
            mstore(0x40, address())
            mstore(0x60, amount)
            let done := call(gas(), token, 0, 0x1c, 0x64, 0x00, 0x20)
            if iszero(done) {
                returndatacopy(0x00, 0x00, returndatasize())
                revert(0x00, returndatasize())
            }
            ok := and(ok, or(and(eq(mload(0x00), 1), gt(returndatasize(), 0x1f)), iszero(returndatasize())))
            // arrived := token.balanceOf(this) - before
            mstore(0x00, 0x70a08231)
            mstore(0x20, address())
            ok := and(ok, and(gt(returndatasize(), 0x1f), staticcall(gas(), token, 0x1c, 0x24, 0x00, 0x20)))
            ok := and(ok, iszero(lt(mload(0x00), before)))
            arrived := sub(mload(0x00), before)
            mstore(0x40, freePointer)
            mstore(0x60, 0)
        }
        if (!ok) {
            // nothing was credited: the zero address (ETH) is named as such
            if (token == ETH) revert ITrackRegistry.ZeroAddress();
            revert TokenCallFailed(token);
        }
    }

    /// @dev Pay the sender (a withdrawal only ever pays the recipient who asks).
    function _send(address token, uint256 amount) private {
        if (token == ETH) {
            // the caller's own money, marked withdrawn before this call (docs/security.md)
            // slither-disable-next-line arbitrary-send-eth
            (bool sent,) = payable(msg.sender).call{value: amount}("");
            if (!sent) revert EthTransferFailed(msg.sender, amount);
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }
}
