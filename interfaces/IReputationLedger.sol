// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRecommendationOracle} from "./IRecommendationOracle.sol";
import {ITrackRegistry} from "./ITrackRegistry.sol";

/// @title IReputationLedger
/// @notice Who may weigh in on QFZZ curation, and how much: the identity registry, the stakes and
/// the reputation ledger of curators and oracle nodes (docs/curation.md gives the reasons and the
/// figures).
///
/// **Identities.** An attester (a personhood provider) posts the Merkle root of the identities
/// it verified: an OpenZeppelin standard tree of leaves `(address account, bytes32 identityId)`,
/// one leaf per account it ties to a person (a person may hold several accounts). An account
/// binds its identity by proving its leaf; one account per identity votes at a time (binding
/// another moves it, and an identity bound after a proposal was made cannot vote on it). An
/// account without an identity has no weight, whatever it stakes.
///
/// **Reputation.** A score in `[0, REP_SCALE]` per curator identity and per oracle member, from
/// the seed's four factors (historical agreement, preference stability, network validation,
/// recommendation diversity) computed off-chain from anchored data; the updater posts a target
/// per subject and epoch (the oracle's epochs), and the ledger moves the score towards it by at
/// most `MAX_STEP`, once per epoch, after decaying the part above `PRIOR_SCORE` by `DECAY_BPS`
/// per epoch elapsed. A fresh identity starts at `PRIOR_SCORE`. A compromised updater can thus
/// move any score by `MAX_STEP` per epoch and no faster.
///
/// **Weight.** `weight = MAX_WEIGHT · (√r + √(r·s)) / 2` with `r = score / REP_SCALE` and
/// `s = min(stake, stakeSaturation) / stakeSaturation`: concave in reputation and stake (square
/// roots), zero without reputation, at most `MAX_WEIGHT` per identity (reached at full reputation
/// and full stake), and zero without an identity.
///
/// **Slashing.** An oracle member proven (two BLS signatures checked here) to have signed two
/// different batches for one epoch loses all its reputation and `EQUIVOCATION_SLASH_BPS` of its
/// stake; a curator who committed a vote and never revealed it loses `NON_REVEAL_PENALTY` of
/// reputation and `NON_REVEAL_SLASH_BPS` of its stake (reported by the curation contract). The
/// reporter of a slash is credited `REPORTER_SHARE_BPS` of the stake taken; the rest is burned
/// (kept here forever, counted in `burned`).
///
/// @dev Units: scores in millionths (`REP_SCALE` = 1e6 == full reputation), weights in
/// millionths of `MAX_WEIGHT` (1e6), basis points 1e4 == 100%, stake in wei, epochs as the
/// recommendation oracle counts them.
interface IReputationLedger {
    /// @notice Whose reputation: a curator (keyed by identity index) or an oracle committee member
    /// (keyed by its member index in the recommendation oracle).
    enum Role {
        Curator,
        OracleNode
    }

    /// @notice A score update for one subject: move towards `target`; for a curator also set its
    /// listener segment (`NO_SEGMENT` for none), the community its listening places it in.
    struct ScoreUpdate {
        Role role;
        uint32 subject;
        uint32 target;
        uint8 segment;
    }

    /// @notice What a vote is weighed with, read in one storage slot.
    /// @param identity The account's identity index (0: none).
    /// @param weight The identity's weight now.
    /// @param boundAt When the account bound the identity (Unix time).
    /// @param segment The identity's listener segment (`NO_SEGMENT` for none).
    struct Voter {
        uint32 identity;
        uint48 weight;
        uint40 boundAt;
        uint8 segment;
    }

    /// @notice Proof that oracle member `member` signed two different batches of one epoch: its
    /// 256-byte G2 key (checked against the oracle's stored hash) and, per batch, its fields and
    /// the member's own 128-byte G1 signature over `oracle.batchMessage(batch)`.
    struct Equivocation {
        uint256 member;
        bytes publicKey;
        IRecommendationOracle.Batch first;
        bytes firstSignature;
        IRecommendationOracle.Batch second;
        bytes secondSignature;
    }

    // ---- events ----------------------------------------------------------------------------

    /// @notice The owner named the attester, who posts identity roots.
    event AttesterSet(address indexed attester);
    /// @notice The owner named the updater, who posts score targets.
    event UpdaterSet(address indexed updater);
    /// @notice The owner defined listener segment `segment` (a genre, culture or region tag).
    event SegmentAdded(uint8 indexed segment, string name);
    /// @notice The attester posted the root of `identities` verified identities; the tree's dump is at `tree`.
    event IdentityRootPosted(bytes32 indexed root, uint256 identities, ITrackRegistry.Cid tree);
    /// @notice `account` bound identity `identityId` (index `identity`); `previous` lost it (zero: none).
    event IdentityBound(uint32 indexed identity, bytes32 indexed identityId, address indexed account, address previous);
    /// @notice The attester revoked the identity: it has no weight and can never be bound again.
    event IdentityRevoked(uint32 indexed identity, bytes32 indexed identityId, address account);
    /// @notice The identity's weight changed; `totalWeight` is the sum over every bound identity.
    event WeightChanged(uint32 indexed identity, uint256 weight, uint256 totalWeight);
    /// @notice `amount` wei was staked for the subject by `from`.
    event Staked(Role indexed role, uint32 indexed subject, address indexed from, uint256 amount);
    /// @notice `amount` wei stops counting now and can be withdrawn from `releaseAt` on.
    event UnstakeRequested(Role indexed role, uint32 indexed subject, uint256 amount, uint256 releaseAt);
    /// @notice Unbonded stake went to `to`.
    event StakeWithdrawn(Role indexed role, uint32 indexed subject, address indexed to, uint256 amount);
    /// @notice The updater's target for `epoch` moved the score from `previous` (decayed to the
    /// epoch) to `score`; for a curator, `segment` is its segment now.
    event ScoreUpdated(
        Role indexed role, uint32 indexed subject, uint64 indexed epoch, uint32 previous, uint32 target, uint32 score,
        uint8 segment
    );
    /// @notice The score's part above the prior decayed from `previous` to `score` by `epoch`.
    event ScoreDecayed(Role indexed role, uint32 indexed subject, uint64 indexed epoch, uint32 previous, uint32 score);
    /// @notice Oracle member `member` signed two batches of `epoch`: its score went to zero and
    /// `stakeSlashed` wei of its stake was taken; `reporter` was credited its share.
    event EquivocationSlashed(
        uint256 indexed member, uint64 indexed epoch, address operator, bytes32 firstMessage, bytes32 secondMessage,
        uint32 scoreLost, uint256 stakeSlashed, address reporter
    );
    /// @notice The curator committed a vote on `proposalId` and never revealed it.
    event NonRevealPenalized(
        uint32 indexed identity, uint256 indexed proposalId, uint32 scoreLost, uint256 stakeSlashed, address reporter
    );
    /// @notice `account` was paid its reporter rewards.
    event RewardWithdrawn(address indexed account, uint256 amount);

    // ---- errors ----------------------------------------------------------------------------

    /// @notice `caller` is not the attester.
    error NotAttester(address caller);
    /// @notice `caller` is not the updater.
    error NotUpdater(address caller);
    /// @notice `caller` is not the curation contract.
    error NotCuration(address caller);
    /// @notice The proof does not prove `(account, identityId)` under the current identity root.
    error InvalidIdentityProof(address account, bytes32 identityId);
    /// @notice The identity was revoked by the attester.
    error IdentityIsRevoked(bytes32 identityId);
    /// @notice `account` is already bound to identity `identity` (unbinding is the attester's revocation).
    error AccountAlreadyBound(address account, uint32 identity);
    /// @notice No identity has index `identity`, or no identity is bound under `identityId`.
    error UnknownIdentity(uint32 identity);
    /// @notice No identity with this id was ever bound.
    error UnboundIdentityId(bytes32 identityId);
    /// @notice No oracle member has index `member`.
    error UnknownMember(uint256 member);
    /// @notice `caller` does not control the subject's stake (the identity's account, or the
    /// member's operator).
    error NotStakeController(Role role, uint32 subject, address caller);
    /// @notice Nothing to stake, unstake, withdraw or pay.
    error ZeroAmount();
    /// @notice Unstaking `amount` wei needs that much active stake; `active` is there.
    error InsufficientStake(uint256 amount, uint256 active);
    /// @notice The unbonded stake can be withdrawn from `releaseAt` on.
    error StakeLocked(uint256 releaseAt);
    /// @notice A stake total would pass `max` wei.
    error StakeTooLarge(uint256 amount, uint256 max);
    /// @notice Sending `amount` wei to `to` failed.
    error EthTransferFailed(address to, uint256 amount);
    /// @notice Scores are posted for the current epoch, `currentEpoch`, not `epoch`.
    error WrongEpoch(uint64 epoch, uint64 currentEpoch);
    /// @notice The subject's score was already updated in `epoch`: one step per epoch.
    error AlreadyUpdated(Role role, uint32 subject, uint64 epoch);
    /// @notice A target above `REP_SCALE`.
    error InvalidScore(uint256 score);
    /// @notice Segment `segment` is not defined (`count` are), or an oracle node was given one.
    error InvalidSegment(uint256 segment, uint256 count);
    /// @notice The segment table is full (64 segments) or the name is empty or too long (64 bytes).
    error InvalidSegmentName(string name);
    /// @notice The key passed is not member `member`'s.
    error PublicKeyMismatch(uint256 member);
    /// @notice The two batches are of different epochs, or they are the same batch.
    error NotEquivocation(uint64 firstEpoch, uint64 secondEpoch);
    /// @notice A signature does not verify under the member's key (`which`: 0 first, 1 second).
    error InvalidEquivocationSignature(uint256 which);
    /// @notice Member `member`'s equivocation in `epoch` was already slashed.
    error AlreadySlashed(uint256 member, uint64 epoch);
    /// @notice A BLS point has the wrong length (`expected` bytes).
    error InvalidPointLength(uint256 length, uint256 expected);

    // ---- administration --------------------------------------------------------------------

    /// @notice Name the attester (owner only). Emits {AttesterSet}. Reverts {ZeroAddress}.
    /// @param attester Who posts identity roots and revokes identities.
    function setAttester(address attester) external;

    /// @notice Name the updater (owner only). Emits {UpdaterSet}. Reverts {ZeroAddress}.
    /// @param updater Who posts score targets each epoch.
    function setUpdater(address updater) external;

    /// @notice Define the next listener segment (owner only; at most 64, never renamed).
    /// Emits {SegmentAdded}. Reverts {InvalidSegmentName}.
    /// @param name A tag such as `genre:jazz`, `region:west-africa` (1 to 64 bytes).
    /// @return segment Its index, the bit proposals name it by.
    function addSegment(string calldata name) external returns (uint8 segment);

    // ---- identities ------------------------------------------------------------------------

    /// @notice Post the root of the verified identities (attester only); proofs are checked
    /// against the latest root, bindings already made stay.
    /// Emits {IdentityRootPosted}. Reverts {NotAttester}.
    /// @param root The OpenZeppelin standard-tree root of `(address account, bytes32 identityId)` leaves.
    /// @param identities How many leaves the tree holds (for readers).
    /// @param tree The CID of the tree's `standard-v1` dump, from which accounts take their proofs.
    function postIdentityRoot(bytes32 root, uint256 identities, ITrackRegistry.Cid calldata tree) external;

    /// @notice Bind the sender to an identity it is attested to, moving the identity from the
    /// account that held it, if any. A new identity starts at `PRIOR_SCORE`; an identity keeps its
    /// reputation and stake across accounts.
    /// Emits {IdentityBound}, {WeightChanged}. Reverts {InvalidIdentityProof}, {IdentityIsRevoked},
    /// {AccountAlreadyBound}.
    /// @param identityId The identity the attester ties the sender to.
    /// @param proof The leaf's proof under the current root.
    /// @return identity The identity's index.
    function bind(bytes32 identityId, bytes32[] calldata proof) external returns (uint32 identity);

    /// @notice Revoke an identity for good (attester only): it is unbound and has no weight; its
    /// stake can still be withdrawn by its last account.
    /// Emits {IdentityRevoked}, {WeightChanged}. Reverts {NotAttester}, {UnboundIdentityId}.
    /// @param identityId The identity.
    function revoke(bytes32 identityId) external;

    // ---- stake -----------------------------------------------------------------------------

    /// @notice Add `msg.value` to the subject's stake (its controller only: the curator identity's
    /// account, or the oracle member's operator).
    /// Emits {Staked}, and {WeightChanged} for a curator. Reverts {ZeroAmount},
    /// {NotStakeController}, {UnknownIdentity}, {UnknownMember}, {StakeTooLarge}.
    /// @param role The subject's role.
    /// @param subject The identity index or member index.
    function stake(Role role, uint32 subject) external payable;

    /// @notice Stop `amount` of the active stake counting now; it can be withdrawn after
    /// `UNBONDING_SECONDS` (longer than any vote lasts, so it is still slashable for a vote cast
    /// with it). A new request adds to what unbonds and restarts the wait.
    /// Emits {UnstakeRequested}, and {WeightChanged} for a curator. Reverts {ZeroAmount},
    /// {NotStakeController}, {InsufficientStake}.
    /// @param role The subject's role.
    /// @param subject The identity index or member index.
    /// @param amount Wei to unbond.
    function requestUnstake(Role role, uint32 subject, uint256 amount) external;

    /// @notice Send the unbonded stake to the controller once its wait is over.
    /// Emits {StakeWithdrawn}. Reverts {NotStakeController}, {ZeroAmount}, {StakeLocked},
    /// {EthTransferFailed}.
    /// @param role The subject's role.
    /// @param subject The identity index or member index.
    function withdrawStake(Role role, uint32 subject) external;

    // ---- reputation ------------------------------------------------------------------------

    /// @notice Post score targets for the current epoch (updater only): each subject's score is
    /// decayed to the epoch, then moved towards its target by at most `MAX_STEP`.
    /// Emits {ScoreUpdated} per subject, {WeightChanged} per curator. Reverts {NotUpdater},
    /// {WrongEpoch}, {AlreadyUpdated}, {InvalidScore}, {InvalidSegment}, {UnknownIdentity}, {UnknownMember}.
    /// @param epoch The current epoch (a stale batch fails instead of landing in another epoch).
    /// @param updates One per subject.
    function postScores(uint64 epoch, ScoreUpdate[] calldata updates) external;

    /// @notice Apply the decay due since each subject's last update (anyone may), so weights and
    /// `totalWeight` do not lag behind time.
    /// Emits {ScoreDecayed} and {WeightChanged} per curator whose score changed.
    /// @param role The subjects' role.
    /// @param subjects Identity or member indices.
    function applyDecay(Role role, uint32[] calldata subjects) external;

    // ---- slashing --------------------------------------------------------------------------

    /// @notice Slash an oracle member proven to have signed two different batches of one epoch.
    /// Anyone may; the reporter is credited `REPORTER_SHARE_BPS` of the stake taken.
    /// Emits {EquivocationSlashed} (the score is set to zero, whatever the step bound).
    /// Reverts {UnknownMember}, {PublicKeyMismatch}, {InvalidPointLength}, {NotEquivocation},
    /// {InvalidEquivocationSignature}, {AlreadySlashed}.
    /// @param proof The member, its key, both batches and both signatures.
    function slashEquivocation(Equivocation calldata proof) external;

    /// @notice Penalize a curator who committed a vote on `proposalId` and never revealed it
    /// (the curation contract only, which checked it).
    /// Emits {NonRevealPenalized}, {WeightChanged}. Reverts {NotCuration}.
    /// @param identity The curator's identity index.
    /// @param proposalId The proposal it did not reveal on.
    /// @param reporter Who reported it (credited its share of the stake taken).
    function penalizeNonReveal(uint32 identity, uint256 proposalId, address reporter) external;

    /// @notice Pay the sender its reporter rewards.
    /// Emits {RewardWithdrawn}. Reverts {ZeroAmount}, {EthTransferFailed}.
    function withdrawReward() external;

    // ---- views -----------------------------------------------------------------------------

    /// @notice The voting record of `account` in one slot (identity 0 and weight 0 when unbound).
    function voterOf(address account) external view returns (Voter memory);

    /// @notice An identity by index: its id, current account (zero when revoked), when it was
    /// bound there, its segment and whether it was revoked.
    function identity(uint32 index)
        external
        view
        returns (bytes32 identityId, address account, uint40 boundAt, uint8 segment, bool revoked);

    /// @notice The index of an identity id (0 when never bound).
    function indexOf(bytes32 identityId) external view returns (uint32);

    /// @notice How many identities were ever bound (indices are 1 .. count).
    function identityCount() external view returns (uint32);

    /// @notice Whether `(account, identityId)` is a leaf of the current identity root.
    function isAttested(address account, bytes32 identityId, bytes32[] calldata proof) external view returns (bool);

    /// @notice A subject's score now (decayed to the current epoch), the stored score and the
    /// epoch it is as of, and the epoch of its last posted update (0: never; else epoch + 1).
    function reputationOf(Role role, uint32 subject)
        external
        view
        returns (uint32 score, uint32 stored, uint64 asOfEpoch, uint64 lastPostedEpochPlusOne);

    /// @notice A subject's stake: counting now, unbonding, and when the unbonding part is free.
    function stakeOf(Role role, uint32 subject) external view returns (uint256 active, uint256 unbonding, uint256 releaseAt);

    /// @notice The weight of an identity now (zero when unbound or revoked).
    function weightOf(uint32 identity) external view returns (uint256);

    /// @notice The sum of the weights of every bound identity (a proposal's eligible weight is
    /// taken from it when the proposal is made).
    function totalWeight() external view returns (uint256);

    /// @notice The weight formula: `MAX_WEIGHT · (√r + √(r·s)) / 2` for a score and active stake.
    function computeWeight(uint256 score, uint256 activeStake) external view returns (uint256);

    /// @notice The score the decay leaves of `score` after `epochs` epochs: the part above
    /// `PRIOR_SCORE` shrinks by `DECAY_BPS` per epoch, a score at or below the prior stays.
    function decayed(uint256 score, uint256 epochs) external pure returns (uint256);

    /// @notice The oracle's epoch now (the ledger's epochs are the oracle's).
    function currentEpoch() external view returns (uint64);

    /// @notice How many segments are defined; their indices are 0 .. count - 1.
    function segmentCount() external view returns (uint8);

    /// @notice A segment's name.
    function segmentName(uint8 segment) external view returns (string memory);

    /// @notice The reporter rewards `account` can withdraw.
    function rewardOf(address account) external view returns (uint256);

    /// @notice Wei taken by slashing and not paid to reporters: locked here forever.
    function burned() external view returns (uint256);

    /// @notice The current identity root.
    function identityRoot() external view returns (bytes32);

    /// @notice Who posts identity roots.
    function attester() external view returns (address);

    /// @notice Who posts score targets.
    function updater() external view returns (address);

    /// @notice The recommendation oracle whose members are rated and whose epochs the ledger counts.
    function oracle() external view returns (IRecommendationOracle);

    /// @notice The curation contract that reports non-revealers.
    function curation() external view returns (address);

    /// @notice The stake at which the stake term of the weight saturates, in wei.
    function stakeSaturation() external view returns (uint256);

    /// @notice 1e6: a full score.
    function REP_SCALE() external view returns (uint256);
    /// @notice A fresh identity's score (and where decay stops): 0.2 of `REP_SCALE`.
    function PRIOR_SCORE() external view returns (uint256);
    /// @notice The most a posted update moves a score in one epoch: 0.05 of `REP_SCALE`.
    function MAX_STEP() external view returns (uint256);
    /// @notice The share of the score above the prior lost per epoch, in basis points.
    function DECAY_BPS() external view returns (uint256);
    /// @notice The most weight one identity has.
    function MAX_WEIGHT() external view returns (uint256);
    /// @notice Reputation a non-revealer loses (absolute, in score units).
    function NON_REVEAL_PENALTY() external view returns (uint256);
    /// @notice The share of its stake a non-revealer loses, in basis points.
    function NON_REVEAL_SLASH_BPS() external view returns (uint256);
    /// @notice The share of its stake an equivocating oracle member loses, in basis points.
    function EQUIVOCATION_SLASH_BPS() external view returns (uint256);
    /// @notice The share of a slash credited to its reporter, in basis points.
    function REPORTER_SHARE_BPS() external view returns (uint256);
    /// @notice Seconds unstaked wei waits before it can be withdrawn.
    function UNBONDING_SECONDS() external view returns (uint256);
    /// @notice The segment value meaning "none".
    function NO_SEGMENT() external view returns (uint8);
}
