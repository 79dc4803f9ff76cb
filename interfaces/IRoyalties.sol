// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrackRegistry} from "./ITrackRegistry.sol";

/// @title IRoyalties
/// @notice Royalties of registered tracks: two rights per track, as the music industry has them,
/// the **composition** (writers, publishers) and the **master** recording (performers, label),
/// each with its own split of recipients in basis points (`BPS` = 10,000 == 100%).
///
/// Anyone pays a track in ETH or an ERC-20 token, naming the right or both by a ratio; the
/// payment only adds to the track's running total (constant gas, whatever the recipients), and
/// each recipient withdraws its share later, for many tracks and tokens in one call.
///
/// A derivative (a track registered with parents) declares in each split the share it routes
/// upstream. Anyone pushes that share to the parents (`push`), checked against the registry's
/// `parentsHash`: a cover pays its parents' composition only, a remix or a sample pays both
/// rights, and every eligible parent gets an equal part. Listening epochs pay tracks from a pool
/// by a Merkle root of per-track amounts (OpenZeppelin standard tree), claimed once per track.
///
/// **Splits are set on final registrations only.** A registration can be taken over within
/// `MAX_COMMITMENT_AGE` by an older commitment (another artist, other parents), so the first split
/// of a right may be set only by the registry's current artist of a final track, and the lineage
/// a cascade follows is recorded only from final registrations. Money credited to a track before
/// its split exists (from a derivative's push) waits for the first split of that right.
///
/// **Rounding.** A split version allocates its running total `C` exactly: the upstream share
/// first, then the recipients in list order, each owns a fixed run of units in every block of
/// `BPS / g` units, g the gcd of the split's basis points. A recipient's entitlement is
/// `(C / block) * units + min(max(C % block - offset, 0), units)`: it never decreases as `C`
/// grows, the entitlements sum to `C` exactly (no dust is left unassigned), and each differs
/// from the exact pro-rata share by less than one recipient's units per block (under 10,000 wei).
interface IRoyalties {
    /// @notice The two rights of a track.
    enum Right {
        Composition,
        Master
    }

    /// @notice One split version a recipient withdraws from.
    struct ShareRef {
        bytes32 trackId;
        Right right;
        uint16 version;
    }

    /// @notice One node of a cascade push: the derivative, which right and split version, and its
    /// registered parent list (checked against the registry's `parentsHash`).
    struct Push {
        bytes32 trackId;
        Right right;
        uint16 version;
        ITrackRegistry.Parent[] parents;
    }

    // ---- events ----------------------------------------------------------------------------

    /// @notice The lineage of a final registration was recorded: `depth` is the longest chain of
    /// parents above it (0 for an original), at most `MAX_CASCADE_DEPTH`.
    event LineageRecorded(bytes32 indexed trackId, uint8 depth, uint256 parentCount);

    /// @notice Version `version` of a right's split: `recipients` hold `bps`, `upstreamBps` goes to
    /// the parents; `splitHash` is `keccak256(abi.encode(recipients, bps, upstreamBps))`.
    event SplitSet(
        bytes32 indexed trackId,
        Right indexed right,
        uint16 version,
        address[] recipients,
        uint16[] bps,
        uint16 upstreamBps,
        bytes32 splitHash
    );

    /// @notice The split of a right is locked forever at `version`; it has no controller now.
    event SplitLocked(bytes32 indexed trackId, Right indexed right, uint16 version);

    /// @notice The controller offered control of a right's split to `to` (zero withdraws an offer).
    event ControlTransferProposed(bytes32 indexed trackId, Right indexed right, address indexed from, address to);

    /// @notice `to` accepted control of a right's split from `from`.
    event ControlTransferred(bytes32 indexed trackId, Right indexed right, address indexed from, address to);

    /// @notice The artist set the ERC-2981 sale royalty: `royaltyBps` of a sale price, of which
    /// `compositionBps` is credited to the composition and the rest to the master.
    event SaleRoyaltySet(bytes32 indexed trackId, uint16 royaltyBps, uint16 compositionBps);

    /// @notice The track's ERC-2981 receiver was deployed at its predicted address.
    event ReceiverDeployed(bytes32 indexed trackId, address receiver);

    /// @notice `payer` paid the track `composition` and `master` of `token` (zero: ETH). For a
    /// fee-on-transfer token the amounts are what arrived.
    event Paid(bytes32 indexed trackId, address indexed payer, address token, uint256 composition, uint256 master);

    /// @notice The upstream share of `trackId`'s split version `version` moved `amount` of `token`
    /// to parent `parentId`'s split of the same right.
    event Pushed(
        bytes32 indexed trackId, bytes32 indexed parentId, Right right, uint16 version, address token, uint256 amount
    );

    /// @notice `recipient` was paid `amount` of `token` (zero: ETH) by one withdrawal; what each
    /// split version has paid it is `withdrawn(trackId, right, version, recipient, token)`.
    event Withdrawn(address indexed recipient, address indexed token, uint256 amount);

    /// @notice `operator` funded listening epoch `epochId` with `amount` of `token` for the
    /// `leafCount` per-track amounts committed to by `root`.
    event EpochPosted(
        uint256 indexed epochId, address indexed operator, address token, uint256 amount, bytes32 root, uint256 leafCount
    );

    /// @notice Leaf `index` of epoch `epochId` credited the track `composition` and `master`.
    event EpochClaimed(
        uint256 indexed epochId, bytes32 indexed trackId, uint256 index, uint256 composition, uint256 master
    );

    // ---- errors ----------------------------------------------------------------------------

    /// @notice A payment, pool or claim of nothing.
    error ZeroPayment();
    /// @notice A ratio in basis points above `BPS`.
    error InvalidRatio(uint256 bps);
    /// @notice The track has no split of this right yet, so it cannot be paid under it.
    error SplitNotSet(bytes32 trackId, Right right);
    /// @notice The registration can still be taken over by an older commitment until `finalAt`.
    error RegistrationNotFinal(bytes32 trackId, uint256 finalAt);
    /// @notice The track's lineage is not recorded yet (`recordLineage`, parents first).
    error LineageNotRecorded(bytes32 trackId);
    /// @notice The track's lineage is already recorded.
    error LineageAlreadyRecorded(bytes32 trackId);
    /// @notice The track is `depth` generations below an original; royalties follow at most `maxDepth`.
    error LineageTooDeep(bytes32 trackId, uint256 depth, uint256 maxDepth);
    /// @notice The parent list hashes to `given`, the registry holds `expected` for the track.
    error ParentsMismatch(bytes32 trackId, bytes32 expected, bytes32 given);
    /// @notice The recipients' and upstream basis points add up to `sum`, not `expected`.
    error InvalidSplitSum(uint256 sum, uint256 expected);
    /// @notice A recipient is listed twice.
    error DuplicateRecipient(address recipient);
    /// @notice A recipient is listed with no share.
    error ZeroShare(address recipient);
    /// @notice More recipients than `max`.
    error TooManyRecipients(uint256 count, uint256 max);
    /// @notice `recipients` and `shares` lists of different lengths.
    error LengthMismatch(uint256 recipients, uint256 shares);
    /// @notice The upstream share must be at least 1 bps where the right has parents to pay (every
    /// parent for the composition, remix and sample parents for the master) and 0 where it has none.
    error InvalidUpstreamShare(bytes32 trackId, Right right, uint256 upstreamBps);
    /// @notice The split of this right is locked forever.
    error SplitIsLocked(bytes32 trackId, Right right);
    /// @notice `caller` does not control the split of this right.
    error NotController(bytes32 trackId, Right right, address caller);
    /// @notice `caller` has no pending offer of control of this right's split.
    error NotPendingController(bytes32 trackId, Right right, address caller);
    /// @notice The split of this right has changed `type(uint16).max` times.
    error TooManyVersions(bytes32 trackId, Right right);
    /// @notice `recipient` holds no share in this split version.
    error UnknownShare(bytes32 trackId, Right right, uint16 version, address recipient);
    /// @notice Nothing is owed to `recipient` in the given splits and tokens.
    error NothingToWithdraw(address recipient);
    /// @notice No upstream share in the given splits is owed to the parents.
    error NothingToPush();
    /// @notice This split version routes nothing upstream.
    error NoUpstreamShare(bytes32 trackId, Right right, uint16 version);
    /// @notice A running total would pass `max` (2^104 - 1 wei of ETH, 2^112 - 1 token units per
    /// split version, 2^96 - 1 units per epoch).
    error AmountTooLarge(uint256 amount, uint256 max);
    /// @notice Sending `amount` wei to `to` failed (it reverted or refuses ether).
    error EthTransferFailed(address to, uint256 amount);
    /// @notice `received` of `token` arrived where `expected` was sent: an epoch pool must be
    /// funded in full (fee-on-transfer tokens cannot fund one).
    error TokenTransferShort(address token, uint256 expected, uint256 received);
    /// @notice A call to `token` failed or returned false (a transfer) or malformed data (a balance).
    error TokenCallFailed(address token);
    /// @notice Ether sent to the contract outside a payment.
    error UnexpectedEther(address sender);
    /// @notice The ETH sent (`sent`) differs from the amount declared (`amount`).
    error EthAmountMismatch(uint256 sent, uint256 amount);
    /// @notice The track's artist has not set its ERC-2981 sale royalty.
    error SaleRoyaltyNotSet(bytes32 trackId);
    /// @notice No epoch `epochId` was posted.
    error UnknownEpoch(uint256 epochId);
    /// @notice An epoch needs a nonzero root and at least one leaf.
    error EmptyEpoch();
    /// @notice Leaf `index` of epoch `epochId` was claimed already (or is past the posted leaf count).
    error AlreadyClaimed(uint256 epochId, uint256 index);
    /// @notice The proof does not prove leaf `index` with these values under the epoch's root.
    error InvalidProof(uint256 epochId, uint256 index);
    /// @notice Claiming `amount` would take more than the `remaining` of epoch `epochId`.
    error EpochOverdrawn(uint256 epochId, uint256 amount, uint256 remaining);

    // ---- lineage and splits ----------------------------------------------------------------

    /// @notice Record a final registration's lineage, so that its splits can route a share to its
    /// parents. Anyone may: the parents are checked against the registry's `parentsHash`, and each
    /// parent's lineage must be recorded first (originals need none above them).
    /// Emits {LineageRecorded}. Reverts {TrackNotRegistered}, {RegistrationNotFinal},
    /// {LineageAlreadyRecorded}, {ParentsMismatch}, {LineageNotRecorded}, {LineageTooDeep}.
    /// @param trackId The track.
    /// @param parents The track's registered parents, exactly as registered (empty for an original).
    function recordLineage(bytes32 trackId, ITrackRegistry.Parent[] calldata parents) external;

    /// @notice Set a new version of a right's split. The first split of a right is set by the
    /// track's artist (per the registry) on a final registration and makes the artist its
    /// controller; later versions by the controller, while the split is not locked. Money already
    /// credited stays with the version it was credited under.
    /// Emits {SplitSet}. Reverts {LineageNotRecorded}, {NotArtist}, {RegistrationNotFinal},
    /// {SplitIsLocked}, {NotController}, {LengthMismatch}, {TooManyRecipients}, {ZeroAddress},
    /// {ZeroShare}, {DuplicateRecipient}, {InvalidSplitSum}, {InvalidUpstreamShare}, {TooManyVersions}.
    /// @param trackId The track.
    /// @param right The right this split divides.
    /// @param recipients Who is paid, in the order dust-free allocation fills each block.
    /// @param bps Each recipient's share in basis points.
    /// @param upstreamBps The share routed to the parents (0 for an original); with `bps` it sums to `BPS`.
    function setSplit(
        bytes32 trackId,
        Right right,
        address[] calldata recipients,
        uint16[] calldata bps,
        uint16 upstreamBps
    ) external;

    /// @notice Lock a right's split forever: no controller can change it again.
    /// Emits {SplitLocked}. Reverts {SplitNotSet}, {SplitIsLocked}, {NotController}.
    /// @param trackId The track.
    /// @param right The right.
    function lockSplit(bytes32 trackId, Right right) external;

    /// @notice Offer control of a right's split to `newController`, who must accept; zero withdraws.
    /// Emits {ControlTransferProposed}. Reverts {SplitNotSet}, {SplitIsLocked}, {NotController}.
    /// @param trackId The track.
    /// @param right The right.
    /// @param newController The proposed controller, or zero to withdraw a pending offer.
    function transferControl(bytes32 trackId, Right right, address newController) external;

    /// @notice Accept control of a right's split offered to the sender.
    /// Emits {ControlTransferred}. Reverts {NotPendingController}.
    /// @param trackId The track.
    /// @param right The right.
    function acceptControl(bytes32 trackId, Right right) external;

    /// @notice Set the ERC-2981 royalty of the track (its artist, on a final registration).
    /// Emits {SaleRoyaltySet}. Reverts {NotArtist}, {RegistrationNotFinal}, {InvalidRatio}.
    /// @param trackId The track.
    /// @param royaltyBps The share of a sale price marketplaces pay, in basis points.
    /// @param compositionBps The part of what the receiver collects credited to the composition.
    function setSaleRoyalty(bytes32 trackId, uint16 royaltyBps, uint16 compositionBps) external;

    // ---- payments --------------------------------------------------------------------------

    /// @notice Pay the track `msg.value` wei: `compositionBps` of it (rounded down) to the
    /// composition, the rest to the master (`BPS` pays the composition only, 0 the master only).
    /// Emits {Paid}. Reverts {ZeroPayment}, {InvalidRatio}, {SplitNotSet}, {TrackNotRegistered}, {AmountTooLarge}.
    /// @param trackId The track.
    /// @param compositionBps The composition's part of the payment.
    function pay(bytes32 trackId, uint16 compositionBps) external payable;

    /// @notice Pay the track `amount` of `token` (pulled with `transferFrom`; approve first),
    /// divided as `pay` divides ETH. What arrives is credited: a fee-on-transfer token's fee is
    /// the payer's loss, never the recipients'.
    /// Emits {Paid}. Reverts as {pay}, and {ZeroAddress}, {TokenCallFailed}.
    /// @param trackId The track.
    /// @param compositionBps The composition's part of the payment.
    /// @param token The ERC-20 token.
    /// @param amount The amount to pull from the sender.
    function payToken(bytes32 trackId, uint16 compositionBps, address token, uint256 amount) external;

    /// @notice Credit what the track's ERC-2981 receiver holds of `token` (zero: ETH) to the track,
    /// divided by its sale royalty's `compositionBps`; deploys the receiver first if needed. Anyone may.
    /// Emits {Paid} (with the receiver as payer), {ReceiverDeployed} on first use.
    /// Reverts {SaleRoyaltyNotSet}, {ZeroPayment}, {SplitNotSet}.
    /// @param trackId The track.
    /// @param token The token to collect, zero for ETH.
    function flushReceiver(bytes32 trackId, address token) external;

    // ---- distribution ----------------------------------------------------------------------

    /// @notice Push what derivatives owe their parents, in the order given (a derivative before
    /// its parents carries what it just received further up in the same call). Anyone may.
    /// Emits {Pushed} per parent paid. Reverts {NoUpstreamShare}, {ParentsMismatch}, {NothingToPush}.
    /// @param token The token to push, zero for ETH.
    /// @param pushes The derivatives' split versions with their registered parents.
    function push(address token, Push[] calldata pushes) external;

    /// @notice Pay the sender everything it is owed in `shares` for every token in `tokens` (zero:
    /// ETH). Only a recipient withdraws its own money, so nobody chooses for it when it is paid.
    /// Emits {Withdrawn} per token paid. Reverts {UnknownShare}, {NothingToWithdraw},
    /// {EthTransferFailed}, {ReentrancyGuardReentrantCall} (inside a token payment).
    /// @param shares The split versions the sender holds shares in.
    /// @param tokens The tokens to withdraw.
    function withdraw(ShareRef[] calldata shares, address[] calldata tokens) external;

    // ---- listening epochs ------------------------------------------------------------------

    /// @notice Fund a listening epoch with `amount` of `token` (zero: ETH, sent as `msg.value`) and
    /// commit to its per-track amounts: `root` of an OpenZeppelin standard Merkle tree of leaves
    /// `(uint256 index, bytes32 trackId, uint256 composition, uint256 master)`, indices
    /// `0 .. leafCount - 1`, whose amounts sum to `amount`.
    /// Emits {EpochPosted}. Reverts {ZeroPayment}, {EmptyEpoch}, {AmountTooLarge},
    /// {EthAmountMismatch}, {TokenTransferShort}.
    /// @return epochId The epoch's number (0, 1, ...).
    function postEpoch(address token, uint256 amount, bytes32 root, uint256 leafCount)
        external
        payable
        returns (uint256 epochId);

    /// @notice Credit a track its amounts of an epoch, proven by `proof`; each leaf once. Anyone may.
    /// Emits {EpochClaimed}. Reverts {UnknownEpoch}, {AlreadyClaimed}, {InvalidProof},
    /// {ZeroPayment}, {EpochOverdrawn}, {SplitNotSet}.
    function claimEpoch(
        uint256 epochId,
        uint256 index,
        bytes32 trackId,
        uint256 composition,
        uint256 master,
        bytes32[] calldata proof
    ) external;

    // ---- views -----------------------------------------------------------------------------

    /// @notice The registry whose tracks and parents this contract pays.
    function registry() external view returns (ITrackRegistry);

    /// @notice A track's royalty state: whether its lineage is recorded and at what depth, and
    /// per right whether a split is set, locked, and its current version.
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
        );

    /// @notice The controller and pending controller of a right's split (zero when locked or unset).
    function controllerOf(bytes32 trackId, Right right) external view returns (address controller, address pending);

    /// @notice `keccak256(abi.encode(recipients, bps, upstreamBps))` of a split version (zero if none).
    function splitHash(bytes32 trackId, Right right, uint16 version) external view returns (bytes32);

    /// @notice A recipient's share of a split version in basis points (zero if none); `recipient`
    /// zero reads the upstream share.
    function shareOf(bytes32 trackId, Right right, uint16 version, address recipient) external view returns (uint256 bps);

    /// @notice Everything a split version has received of `token` (zero: ETH).
    function received(bytes32 trackId, Right right, uint16 version, address token) external view returns (uint256);

    /// @notice What a split version has paid out of `token` to `recipient` (zero: pushed upstream).
    function withdrawn(bytes32 trackId, Right right, uint16 version, address recipient, address token)
        external
        view
        returns (uint256);

    /// @notice What `recipient` can withdraw of `token` from a split version now (zero recipient:
    /// what waits to be pushed upstream).
    function owed(bytes32 trackId, Right right, uint16 version, address recipient, address token)
        external
        view
        returns (uint256);

    /// @notice The track's ERC-2981 receiver (a CREATE2 address, deployed on first flush).
    function receiverOf(bytes32 trackId) external view returns (address);

    /// @notice The track's sale royalty: `royaltyBps` of a sale, `compositionBps` of it to the composition.
    function saleRoyaltyOf(bytes32 trackId) external view returns (bool set, uint16 royaltyBps, uint16 compositionBps);

    /// @notice A listening epoch: its root, token and what is left to claim.
    function epoch(uint256 epochId) external view returns (bytes32 root, address token, uint256 remaining);

    /// @notice How many epochs were posted.
    function epochCount() external view returns (uint256);

    /// @notice Whether leaf `index` of epoch `epochId` can no longer be claimed.
    function isClaimed(uint256 epochId, uint256 index) external view returns (bool);

    /// @notice 10,000 basis points: 100%.
    function BPS() external view returns (uint256);

    /// @notice The most recipients a split may list.
    function MAX_RECIPIENTS() external view returns (uint256);

    /// @notice The most generations below an original a track may be and still take part in royalties.
    function MAX_CASCADE_DEPTH() external view returns (uint256);
}
