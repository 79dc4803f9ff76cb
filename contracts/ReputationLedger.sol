// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IRecommendationOracle} from "../interfaces/IRecommendationOracle.sol";
import {IReputationLedger} from "../interfaces/IReputationLedger.sol";
import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";
import {BLS12381} from "./lib/BLS12381.sol";

/// @title ReputationLedger
/// @notice Identities attested by a personhood provider, optional stakes, and the reputation of
/// curators and oracle nodes, with the weight curation votes carry and the slashing of provable faults.
/// @dev Gas: curation's hot path (`voterOf`) reads one slot per account, the `Voter` record,
/// which repeats the identity's weight and segment so a commit or reveal needs nothing else
/// from here; every change of reputation, stake or binding rewrites it and `totalWeight`.
/// Decay is applied when a score is touched (posted, slashed, or `applyDecay`), so reads of a
/// stored weight lag by at most the epochs since its last touch (the updater touches every
/// active subject each epoch).
contract ReputationLedger is IReputationLedger, Ownable2Step {
    // ---- constants -----------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    uint256 public constant REP_SCALE = 1_000_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant PRIOR_SCORE = 200_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant MAX_STEP = 50_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant DECAY_BPS = 100;
    /// @inheritdoc IReputationLedger
    uint256 public constant MAX_WEIGHT = 1_000_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant NON_REVEAL_PENALTY = 50_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant NON_REVEAL_SLASH_BPS = 500;
    /// @inheritdoc IReputationLedger
    uint256 public constant EQUIVOCATION_SLASH_BPS = 10_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant REPORTER_SHARE_BPS = 1_000;
    /// @inheritdoc IReputationLedger
    uint256 public constant UNBONDING_SECONDS = 21 days;
    /// @inheritdoc IReputationLedger
    uint8 public constant NO_SEGMENT = 255;

    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_SEGMENTS = 64;
    uint256 private constant MAX_SEGMENT_NAME_BYTES = 64;
    /// @dev 0.99^4096 < 1e-17: past this many epochs the excess over the prior is gone.
    uint256 private constant MAX_DECAY_EPOCHS = 4096;
    uint256 private constant WAD = 1e18;
    uint256 private constant G1_LENGTH = 128;
    uint256 private constant G2_LENGTH = 256;
    uint256 private constant MAX_ACTIVE_STAKE = type(uint112).max;
    uint256 private constant MAX_UNBONDING_STAKE = type(uint104).max;

    // ---- storage -------------------------------------------------------------------------------

    /// @dev The record an identity keeps across accounts. `account` is the bound account, or the
    /// last one once revoked (it still controls the stake).
    struct Identity {
        address account;
        uint48 weight;
        uint8 segment;
        bool revoked;
    }

    /// @dev A score as of epoch `asOf`; `postedPlusOne` is the epoch of the last posted update
    /// plus one (0: never); `frozen` after an equivocation (updates leave it at zero).
    struct Score {
        uint32 value;
        uint32 asOf;
        uint32 postedPlusOne;
        bool initialized;
        bool frozen;
    }

    struct Stake {
        uint112 active;
        uint104 unbonding;
        uint40 releaseAt;
    }

    /// @inheritdoc IReputationLedger
    IRecommendationOracle public immutable oracle;
    /// @inheritdoc IReputationLedger
    address public immutable curation;
    /// @inheritdoc IReputationLedger
    uint256 public immutable stakeSaturation;
    uint64 private immutable _genesisTime;
    uint64 private immutable _epochLength;

    /// @inheritdoc IReputationLedger
    address public attester;
    /// @inheritdoc IReputationLedger
    address public updater;
    /// @inheritdoc IReputationLedger
    bytes32 public identityRoot;
    /// @inheritdoc IReputationLedger
    uint256 public totalWeight;
    /// @inheritdoc IReputationLedger
    uint256 public burned;

    uint32 private _identityCount;
    mapping(address account => Voter) private _voters;
    mapping(uint32 index => Identity) private _identities;
    mapping(uint32 index => bytes32 identityId) private _identityIds;
    mapping(bytes32 identityId => uint32 index) private _indices;
    mapping(Role role => mapping(uint32 subject => Score)) private _scores;
    mapping(Role role => mapping(uint32 subject => Stake)) private _stakes;
    mapping(uint256 member => mapping(uint64 epoch => bool)) private _equivocations;
    mapping(address account => uint256) private _rewards;
    string[] private _segments;

    /// @param owner_ Who names the attester and updater and defines segments.
    /// @param oracle_ The recommendation oracle: its members are the oracle nodes rated here, its
    /// epochs the ledger's.
    /// @param curation_ The curation contract that will report non-revealers (deployed next; it
    /// checks that this ledger names it).
    /// @param stakeSaturation_ Wei of stake at which the stake term of the weight is full.
    constructor(address owner_, IRecommendationOracle oracle_, address curation_, uint256 stakeSaturation_)
        Ownable(owner_)
    {
        if (address(oracle_) == address(0) || curation_ == address(0)) revert ITrackRegistry.ZeroAddress();
        if (stakeSaturation_ == 0) revert ZeroAmount();
        oracle = oracle_;
        curation = curation_;
        stakeSaturation = stakeSaturation_;
        _genesisTime = oracle_.genesisTime();
        _epochLength = oracle_.epochLength();
    }

    // ---- administration ------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function setAttester(address attester_) external onlyOwner {
        if (attester_ == address(0)) revert ITrackRegistry.ZeroAddress();
        attester = attester_;
        emit AttesterSet(attester_);
    }

    /// @inheritdoc IReputationLedger
    function setUpdater(address updater_) external onlyOwner {
        if (updater_ == address(0)) revert ITrackRegistry.ZeroAddress();
        updater = updater_;
        emit UpdaterSet(updater_);
    }

    /// @inheritdoc IReputationLedger
    function addSegment(string calldata name) external onlyOwner returns (uint8 segment) {
        uint256 length = bytes(name).length;
        if (length == 0 || length > MAX_SEGMENT_NAME_BYTES || _segments.length == MAX_SEGMENTS) {
            revert InvalidSegmentName(name);
        }
        segment = uint8(_segments.length);
        _segments.push(name);
        emit SegmentAdded(segment, name);
    }

    // ---- identities ----------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function postIdentityRoot(bytes32 root, uint256 identities, ITrackRegistry.Cid calldata tree) external {
        if (msg.sender != attester) revert NotAttester(msg.sender);
        identityRoot = root;
        emit IdentityRootPosted(root, identities, tree);
    }

    /// @inheritdoc IReputationLedger
    function bind(bytes32 identityId, bytes32[] calldata proof) external returns (uint32 index) {
        if (!_isAttested(msg.sender, identityId, proof)) revert InvalidIdentityProof(msg.sender, identityId);
        uint32 held = _voters[msg.sender].identity;
        if (held != 0) revert AccountAlreadyBound(msg.sender, held);
        index = _indices[identityId];
        address previous;
        if (index == 0) {
            index = ++_identityCount;
            _indices[identityId] = index;
            _identityIds[index] = identityId;
            _identities[index].segment = NO_SEGMENT;
            _scores[Role.Curator][index] = Score(uint32(PRIOR_SCORE), uint32(currentEpoch()), 0, true, false);
        }
        Identity storage record = _identities[index];
        if (record.revoked) revert IdentityIsRevoked(identityId);
        previous = record.account;
        if (previous != address(0)) delete _voters[previous];
        record.account = msg.sender;
        // the weight moves with the identity: the total is unchanged until the refresh below
        _voters[msg.sender] = Voter(index, record.weight, uint40(block.timestamp), record.segment);
        emit IdentityBound(index, identityId, msg.sender, previous);
        _refreshWeight(index);
    }

    /// @inheritdoc IReputationLedger
    function revoke(bytes32 identityId) external {
        if (msg.sender != attester) revert NotAttester(msg.sender);
        uint32 index = _indices[identityId];
        if (index == 0) revert UnboundIdentityId(identityId);
        Identity storage record = _identities[index];
        if (record.revoked) revert IdentityIsRevoked(identityId);
        record.revoked = true;
        delete _voters[record.account];
        emit IdentityRevoked(index, identityId, record.account);
        _refreshWeight(index);
    }

    // ---- stake ---------------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function stake(Role role, uint32 subject) external payable {
        if (msg.value == 0) revert ZeroAmount();
        _onlyStakeController(role, subject);
        Stake storage held = _stakes[role][subject];
        uint256 active = held.active + msg.value;
        if (active > MAX_ACTIVE_STAKE) revert StakeTooLarge(active, MAX_ACTIVE_STAKE);
        held.active = uint112(active);
        emit Staked(role, subject, msg.sender, msg.value);
        if (role == Role.Curator) _refreshWeight(subject);
    }

    /// @inheritdoc IReputationLedger
    function requestUnstake(Role role, uint32 subject, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _onlyStakeController(role, subject);
        Stake storage held = _stakes[role][subject];
        if (amount > held.active) revert InsufficientStake(amount, held.active);
        uint256 unbonding = held.unbonding + amount;
        if (unbonding > MAX_UNBONDING_STAKE) revert StakeTooLarge(unbonding, MAX_UNBONDING_STAKE);
        uint256 releaseAt = block.timestamp + UNBONDING_SECONDS;
        (held.active, held.unbonding, held.releaseAt) = (uint112(held.active - amount), uint104(unbonding), uint40(releaseAt));
        emit UnstakeRequested(role, subject, amount, releaseAt);
        if (role == Role.Curator) _refreshWeight(subject);
    }

    /// @inheritdoc IReputationLedger
    function withdrawStake(Role role, uint32 subject) external {
        _onlyStakeController(role, subject);
        Stake storage held = _stakes[role][subject];
        uint256 amount = held.unbonding;
        if (amount == 0) revert ZeroAmount();
        if (block.timestamp < held.releaseAt) revert StakeLocked(held.releaseAt);
        held.unbonding = 0;
        emit StakeWithdrawn(role, subject, msg.sender, amount);
        _sendEth(msg.sender, amount);
    }

    // ---- reputation ----------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function postScores(uint64 epoch, ScoreUpdate[] calldata updates) external {
        if (msg.sender != updater) revert NotUpdater(msg.sender);
        uint64 current = currentEpoch();
        if (epoch != current) revert WrongEpoch(epoch, current);
        uint256 segmentCount_ = _segments.length;
        for (uint256 i = 0; i < updates.length; ++i) {
            ScoreUpdate calldata update = updates[i];
            if (update.target > REP_SCALE) revert InvalidScore(update.target);
            bool curator = update.role == Role.Curator;
            if (curator ? update.segment >= segmentCount_ && update.segment != NO_SEGMENT : update.segment != NO_SEGMENT) {
                revert InvalidSegment(update.segment, segmentCount_);
            }
            Score storage score = _touch(update.role, update.subject);
            if (score.postedPlusOne == epoch + 1) revert AlreadyUpdated(update.role, update.subject, epoch);
            uint256 previous = decayed(score.value, epoch - score.asOf);
            // an equivocator stays at zero whatever is posted: its operator must leave the committee
            uint256 next = score.frozen ? 0 : _stepTowards(previous, update.target);
            (score.value, score.asOf, score.postedPlusOne) = (uint32(next), uint32(epoch), uint32(epoch + 1));
            if (curator) {
                _identities[update.subject].segment = update.segment;
                address account = _identities[update.subject].account;
                if (_voters[account].identity == update.subject) _voters[account].segment = update.segment;
                _refreshWeight(update.subject);
            }
            emit ScoreUpdated(
                update.role, update.subject, epoch, uint32(previous), update.target, uint32(next), update.segment
            );
        }
    }

    /// @inheritdoc IReputationLedger
    function applyDecay(Role role, uint32[] calldata subjects) external {
        uint64 current = currentEpoch();
        for (uint256 i = 0; i < subjects.length; ++i) {
            Score storage score = _touch(role, subjects[i]);
            uint256 previous = score.value;
            uint256 next = decayed(previous, current - score.asOf);
            score.asOf = uint32(current);
            if (next == previous) continue;
            score.value = uint32(next);
            emit ScoreDecayed(role, subjects[i], current, uint32(previous), uint32(next));
            if (role == Role.Curator) _refreshWeight(subjects[i]);
        }
    }

    // ---- slashing ------------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function slashEquivocation(Equivocation calldata proof) external {
        IRecommendationOracle.Member memory member = oracle.member(proof.member);
        if (member.operator == address(0)) revert UnknownMember(proof.member);
        if (proof.publicKey.length != G2_LENGTH) revert InvalidPointLength(proof.publicKey.length, G2_LENGTH);
        if (keccak256(proof.publicKey) != member.keyHash) revert PublicKeyMismatch(proof.member);
        uint64 epoch = proof.first.epoch;
        bytes32 firstMessage = oracle.batchMessage(proof.first);
        bytes32 secondMessage = oracle.batchMessage(proof.second);
        if (epoch != proof.second.epoch || firstMessage == secondMessage) {
            revert NotEquivocation(epoch, proof.second.epoch);
        }
        if (_equivocations[proof.member][epoch]) revert AlreadySlashed(proof.member, epoch);
        _verifyMemberSignature(proof.firstSignature, proof.publicKey, firstMessage, 0);
        _verifyMemberSignature(proof.secondSignature, proof.publicKey, secondMessage, 1);
        _equivocations[proof.member][epoch] = true;

        uint32 subject = uint32(proof.member);
        Score storage score = _touch(Role.OracleNode, subject);
        uint64 current = currentEpoch();
        uint256 lost = decayed(score.value, current - score.asOf);
        (score.value, score.asOf, score.frozen) = (0, uint32(current), true);
        uint256 taken = _slashStake(Role.OracleNode, subject, EQUIVOCATION_SLASH_BPS, msg.sender);
        emit EquivocationSlashed(
            proof.member, epoch, member.operator, firstMessage, secondMessage, uint32(lost), taken, msg.sender
        );
    }

    /// @inheritdoc IReputationLedger
    function penalizeNonReveal(uint32 index, uint256 proposalId, address reporter) external {
        if (msg.sender != curation) revert NotCuration(msg.sender);
        Score storage score = _touch(Role.Curator, index);
        uint64 current = currentEpoch();
        uint256 previous = decayed(score.value, current - score.asOf);
        uint256 lost = Math.min(previous, NON_REVEAL_PENALTY);
        (score.value, score.asOf) = (uint32(previous - lost), uint32(current));
        uint256 taken = _slashStake(Role.Curator, index, NON_REVEAL_SLASH_BPS, reporter);
        emit NonRevealPenalized(index, proposalId, uint32(lost), taken, reporter);
        _refreshWeight(index);
    }

    /// @inheritdoc IReputationLedger
    function withdrawReward() external {
        uint256 amount = _rewards[msg.sender];
        if (amount == 0) revert ZeroAmount();
        _rewards[msg.sender] = 0;
        emit RewardWithdrawn(msg.sender, amount);
        _sendEth(msg.sender, amount);
    }

    // ---- views ---------------------------------------------------------------------------------

    /// @inheritdoc IReputationLedger
    function voterOf(address account) external view returns (Voter memory) {
        return _voters[account];
    }

    /// @inheritdoc IReputationLedger
    function identity(uint32 index)
        external
        view
        returns (bytes32 identityId, address account, uint40 boundAt, uint8 segment, bool revoked)
    {
        Identity memory record = _identities[index];
        Voter memory voter = _voters[record.account];
        // slither-disable-next-line incorrect-equality (identity indices, not balances)
        boundAt = voter.identity == index ? voter.boundAt : 0;
        return (_identityIds[index], record.account, boundAt, record.segment, record.revoked);
    }

    /// @inheritdoc IReputationLedger
    function indexOf(bytes32 identityId) external view returns (uint32) {
        return _indices[identityId];
    }

    /// @inheritdoc IReputationLedger
    function identityCount() external view returns (uint32) {
        return _identityCount;
    }

    /// @inheritdoc IReputationLedger
    function isAttested(address account, bytes32 identityId, bytes32[] calldata proof) external view returns (bool) {
        return _isAttested(account, identityId, proof);
    }

    /// @inheritdoc IReputationLedger
    function reputationOf(Role role, uint32 subject)
        external
        view
        returns (uint32 score, uint32 stored, uint64 asOfEpoch, uint64 lastPostedEpochPlusOne)
    {
        Score memory record = _scores[role][subject];
        if (!record.initialized) {
            uint64 current = currentEpoch();
            return (uint32(PRIOR_SCORE), uint32(PRIOR_SCORE), current, 0);
        }
        score = uint32(decayed(record.value, currentEpoch() - record.asOf));
        return (score, record.value, record.asOf, record.postedPlusOne);
    }

    /// @inheritdoc IReputationLedger
    function stakeOf(Role role, uint32 subject)
        external
        view
        returns (uint256 active, uint256 unbonding, uint256 releaseAt)
    {
        Stake memory held = _stakes[role][subject];
        return (held.active, held.unbonding, held.releaseAt);
    }

    /// @inheritdoc IReputationLedger
    function weightOf(uint32 index) external view returns (uint256) {
        return _identities[index].weight;
    }

    /// @inheritdoc IReputationLedger
    // slither-disable-next-line divide-before-multiply (the share is truncated to millionths by design, as rules.compute_weight)
    function computeWeight(uint256 score, uint256 activeStake) public view returns (uint256) {
        score = Math.min(score, REP_SCALE);
        uint256 saturation = stakeSaturation;
        uint256 stakeShare = activeStake >= saturation ? REP_SCALE : activeStake * REP_SCALE / saturation;
        // √(r)·1e6 = √(score·1e6) and √(r·s)·1e6 = √(score·share), both in REP_SCALE units;
        // MAX_WEIGHT == REP_SCALE, so their mean is already the weight
        return (Math.sqrt(score * REP_SCALE) + Math.sqrt(score * stakeShare)) / 2;
    }

    /// @inheritdoc IReputationLedger
    // slither-disable-next-line divide-before-multiply,incorrect-equality (18-decimal powers rounded down each step, as rules.decayed)
    function decayed(uint256 score, uint256 epochs) public pure returns (uint256) {
        if (score <= PRIOR_SCORE || epochs == 0) return score;
        if (epochs >= MAX_DECAY_EPOCHS) return PRIOR_SCORE;
        // (1 - DECAY_BPS / BPS)^epochs in 18 decimals, by squaring (at most 12 rounds)
        uint256 factor = WAD;
        uint256 base = WAD * (BPS - DECAY_BPS) / BPS;
        for (uint256 exponent = epochs; exponent != 0; exponent >>= 1) {
            if (exponent & 1 != 0) factor = factor * base / WAD;
            base = base * base / WAD;
        }
        return PRIOR_SCORE + (score - PRIOR_SCORE) * factor / WAD;
    }

    /// @inheritdoc IReputationLedger
    function currentEpoch() public view returns (uint64) {
        return (uint64(block.timestamp) - _genesisTime) / _epochLength;
    }

    /// @inheritdoc IReputationLedger
    function segmentCount() external view returns (uint8) {
        return uint8(_segments.length);
    }

    /// @inheritdoc IReputationLedger
    function segmentName(uint8 segment) external view returns (string memory) {
        if (segment >= _segments.length) revert InvalidSegment(segment, _segments.length);
        return _segments[segment];
    }

    /// @inheritdoc IReputationLedger
    function rewardOf(address account) external view returns (uint256) {
        return _rewards[account];
    }

    // ---- private -------------------------------------------------------------------------------

    function _isAttested(address account, bytes32 identityId, bytes32[] calldata proof) private view returns (bool) {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, identityId))));
        return MerkleProof.verifyCalldata(proof, identityRoot, leaf);
    }

    /// @dev The subject's score record, checked to exist; an oracle member's starts at the prior.
    function _touch(Role role, uint32 subject) private returns (Score storage score) {
        score = _scores[role][subject];
        if (score.initialized) return score;
        if (role == Role.Curator) revert UnknownIdentity(subject);
        if (oracle.member(subject).operator == address(0)) revert UnknownMember(subject);
        (score.value, score.asOf, score.initialized) = (uint32(PRIOR_SCORE), uint32(currentEpoch()), true);
    }

    function _stepTowards(uint256 from, uint256 target) private pure returns (uint256) {
        if (target > from) return Math.min(target, from + MAX_STEP);
        return from - Math.min(from - target, MAX_STEP);
    }

    /// @dev Recompute an identity's weight from its score (as stored) and active stake, and keep
    /// its account's record and the total in step.
    function _refreshWeight(uint32 index) private {
        Identity storage record = _identities[index];
        uint256 weight = 0;
        if (!record.revoked && record.account != address(0)) {
            weight = computeWeight(_scores[Role.Curator][index].value, _stakes[Role.Curator][index].active);
        }
        uint256 old = record.weight;
        // slither-disable-next-line incorrect-equality (weights are exact integers: unchanged means nothing to write)
        if (weight == old) return;
        record.weight = uint48(weight);
        Voter storage voter = _voters[record.account];
        if (voter.identity == index) voter.weight = uint48(weight);
        uint256 total = totalWeight - old + weight;
        totalWeight = total;
        emit WeightChanged(index, weight, total);
    }

    function _onlyStakeController(Role role, uint32 subject) private view {
        address controller;
        if (role == Role.Curator) {
            if (subject == 0 || subject > _identityCount) revert UnknownIdentity(subject);
            controller = _identities[subject].account;
        } else {
            controller = oracle.member(subject).operator;
            if (controller == address(0)) revert UnknownMember(subject);
        }
        if (controller != msg.sender) revert NotStakeController(role, subject, msg.sender);
    }

    /// @dev Take `bps` of the subject's stake (active first, then unbonding), credit the reporter
    /// its share and burn the rest.
    // slither-disable-next-line divide-before-multiply (the reward is a share of what was taken, both rounded down)
    function _slashStake(Role role, uint32 subject, uint256 bps, address reporter) private returns (uint256 taken) {
        Stake storage held = _stakes[role][subject];
        uint256 active = held.active;
        uint256 unbonding = held.unbonding;
        taken = (active + unbonding) * bps / BPS;
        if (taken == 0) return 0;
        uint256 fromActive = Math.min(active, taken);
        (held.active, held.unbonding) = (uint112(active - fromActive), uint104(unbonding - (taken - fromActive)));
        uint256 reward = taken * REPORTER_SHARE_BPS / BPS;
        _rewards[reporter] += reward;
        burned += taken - reward;
    }

    function _verifyMemberSignature(bytes calldata signature, bytes calldata publicKey, bytes32 message, uint256 which)
        private
        view
    {
        if (signature.length != G1_LENGTH) revert InvalidPointLength(signature.length, G1_LENGTH);
        if (!BLS12381.verify(signature, publicKey, abi.encodePacked(message), BLS12381.SIGNATURE_DST)) {
            revert InvalidEquivocationSignature(which);
        }
    }

    function _sendEth(address to, uint256 amount) private {
        // slither-disable-next-line arbitrary-send-eth (to: the caller's own stake or reward, checked by the caller)
        (bool sent,) = to.call{value: amount}("");
        if (!sent) revert EthTransferFailed(to, amount);
    }
}
