// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";
import {IRecommendationOracle} from "../interfaces/IRecommendationOracle.sol";
import {BLS12381} from "./lib/BLS12381.sol";

/// @title RecommendationOracle
/// @notice Anchors BLS-signed Merkle roots of recommendation receipts, one per closed epoch, for
/// the committee and model version of that epoch.
/// @dev Gas: the common path (every member signs) reads four slots — the epoch's anchor, the
/// model version and the committee snapshot (two) — and writes one, the root; the committee's
/// aggregate key comes as calldata checked against its stored hash (256 bytes of calldata, ~4k
/// gas, where eight storage slots would cost 16.8k). Each non-signer adds its key (calldata),
/// one storage read of its key hash and a G2 addition. Everything else is emitted.
contract RecommendationOracle is IRecommendationOracle, Ownable2Step {
    // ---- constants -----------------------------------------------------------------------------

    uint256 private constant G1_LENGTH = 128;
    uint256 private constant G2_LENGTH = 256;
    uint256 private constant MAX_MEMBERS = 256;
    uint16 private constant SHA2_256 = 0x12;

    uint8 private constant OPERATOR_NONE = 0;
    uint8 private constant OPERATOR_APPROVED = 1;
    uint8 private constant OPERATOR_MEMBER = 2;

    // ---- storage -------------------------------------------------------------------------------

    /// @inheritdoc IRecommendationOracle
    uint64 public immutable genesisTime;
    /// @inheritdoc IRecommendationOracle
    uint64 public immutable epochLength;

    mapping(uint64 epoch => bytes32 root) private _anchors;
    mapping(uint256 index => Member) private _members;
    mapping(address operator => uint8 status) private _operators;
    uint256 private _memberCount;
    Committee[] private _committees;
    mapping(uint32 version => ModelVersion) private _versions;
    uint32 private _latestVersion;

    /// @param owner_ Who approves operators and registers model versions.
    /// @param epochLength_ Seconds per epoch; epoch 0 starts at deployment.
    constructor(address owner_, uint64 epochLength_) Ownable(owner_) {
        genesisTime = uint64(block.timestamp);
        epochLength = epochLength_;
        // The committee before anyone joined: no members; its aggregate key is the point at infinity.
        _committees.push(Committee(keccak256(new bytes(G2_LENGTH)), 0, 0, 0, 0));
    }

    // ---- anchoring -----------------------------------------------------------------------------

    /// @inheritdoc IRecommendationOracle
    function anchor(
        Batch calldata batch,
        uint256 committeeId,
        uint256 signers,
        bytes calldata signature,
        bytes calldata aggregatePublicKey,
        bytes calldata nonSignerKeys
    ) external {
        _requireAnchorable(batch);
        bytes memory signersKey = _signersKey(batch.epoch, committeeId, signers, aggregatePublicKey, nonSignerKeys);
        _requireLength(signature, G1_LENGTH);
        if (!BLS12381.verify(signature, signersKey, abi.encodePacked(batchMessage(batch)), BLS12381.SIGNATURE_DST)) {
            revert InvalidAggregateSignature();
        }
        _anchors[batch.epoch] = batch.root;
        emit BatchAnchored(
            batch.epoch, batch.root, batch.leafCount, batch.modelVersion, batch.inputs, signers, committeeId, msg.sender
        );
    }

    /// @dev A closed epoch not anchored yet, a batch with receipts, the epoch's model version.
    function _requireAnchorable(Batch calldata batch) private view {
        uint64 epoch = batch.epoch;
        uint64 current = currentEpoch();
        if (epoch >= current) revert EpochNotClosed(epoch, current);
        bytes32 anchored = _anchors[epoch];
        if (anchored != bytes32(0)) revert AlreadyAnchored(epoch, anchored);
        if (batch.root == bytes32(0) || batch.leafCount == 0) revert EmptyBatch();
        ModelVersion memory model = _versions[batch.modelVersion];
        if (model.activationEpoch == 0 || epoch < model.activationEpoch
            || (model.supersededAtEpoch != 0 && epoch >= model.supersededAtEpoch)) {
            revert ModelVersionNotActive(batch.modelVersion, epoch);
        }
    }

    /// @dev The aggregate key of `signers`: the committee's, minus each non-signer's.
    function _signersKey(
        uint64 epoch,
        uint256 committeeId,
        uint256 signers,
        bytes calldata aggregatePublicKey,
        bytes calldata nonSignerKeys
    ) private view returns (bytes memory key) {
        if (committeeId >= _committees.length) revert WrongCommittee(committeeId, epoch);
        Committee storage committee = _committees[committeeId];
        uint64 until = committee.untilEpoch;
        if (epoch < committee.fromEpoch || (until != 0 && epoch >= until)) revert WrongCommittee(committeeId, epoch);
        if (keccak256(aggregatePublicKey) != committee.apkHash) revert AggregateKeyMismatch(committeeId);
        uint256 members = committee.members;
        if (signers & ~members != 0) revert UnknownSigners(signers & ~members);
        uint256 count = _popcount(signers);
        uint256 size = committee.size;
        // at least two thirds, and never zero: an empty signer set would verify the identity
        if (count == 0 || count * 3 < size * 2) revert QuorumNotReached(count, size);

        key = aggregatePublicKey;
        uint256 missing = members & ~signers;
        if (nonSignerKeys.length != (size - count) * G2_LENGTH) revert NonSignerKeysMismatch(_lowestBit(missing));
        uint256 offset = 0;
        for (uint256 index = 0; missing != 0; ++index) {
            if (missing & 1 != 0) {
                bytes calldata nonSigner = nonSignerKeys[offset:offset + G2_LENGTH];
                if (keccak256(nonSigner) != _members[index].keyHash) revert NonSignerKeysMismatch(index);
                key = BLS12381.g2Add(key, BLS12381.g2Negate(nonSigner));
                offset += G2_LENGTH;
            }
            missing >>= 1;
        }
    }

    // ---- the committee -------------------------------------------------------------------------

    /// @inheritdoc IRecommendationOracle
    function approveOperator(address operator) external onlyOwner {
        if (_operators[operator] == OPERATOR_NONE) _operators[operator] = OPERATOR_APPROVED;
        emit OperatorApproved(operator);
    }

    /// @inheritdoc IRecommendationOracle
    function join(bytes calldata publicKey, bytes calldata proofOfPossession, bytes calldata aggregatePublicKey)
        external
        returns (uint256 index)
    {
        if (_operators[msg.sender] != OPERATOR_APPROVED) revert NotApprovedOperator(msg.sender);
        _requireLength(publicKey, G2_LENGTH);
        _requireLength(proofOfPossession, G1_LENGTH);
        if (keccak256(publicKey) == keccak256(new bytes(G2_LENGTH))) revert InvalidProofOfPossession();
        if (!BLS12381.verifyPossession(publicKey, proofOfPossession)) revert InvalidProofOfPossession();
        index = _memberCount;
        if (index == MAX_MEMBERS) revert CommitteeFull();
        Committee storage latest = _latestCommittee(aggregatePublicKey);

        _memberCount = index + 1;
        _members[index] = Member(msg.sender, keccak256(publicKey));
        _operators[msg.sender] = OPERATOR_MEMBER;
        uint64 next = currentEpoch() + 1;
        emit MemberJoined(index, msg.sender, publicKey, next);
        _schedule(latest, latest.members | (uint256(1) << index), latest.size + 1,
            BLS12381.g2Add(aggregatePublicKey, publicKey));
    }

    /// @inheritdoc IRecommendationOracle
    function leave(uint256 index, bytes calldata publicKey, bytes calldata aggregatePublicKey) external {
        Member storage leaving = _members[index];
        Committee storage latest = _latestCommittee(aggregatePublicKey);
        uint256 bit = index < MAX_MEMBERS ? uint256(1) << index : 0;
        if ((msg.sender != leaving.operator && msg.sender != owner()) || latest.members & bit == 0) {
            revert NotMember(index, msg.sender);
        }
        if (keccak256(publicKey) != leaving.keyHash) revert PublicKeyMismatch(index);
        if (latest.size == 1) revert LastMember(index);
        _operators[leaving.operator] = OPERATOR_APPROVED;
        emit MemberLeft(index, leaving.operator, currentEpoch() + 1);
        _schedule(latest, latest.members & ~bit, latest.size - 1,
            BLS12381.g2Add(aggregatePublicKey, BLS12381.g2Negate(publicKey)));
    }

    /// @dev The latest scheduled committee, its aggregate key checked against `aggregatePublicKey`.
    function _latestCommittee(bytes calldata aggregatePublicKey) private view returns (Committee storage latest) {
        _requireLength(aggregatePublicKey, G2_LENGTH);
        uint256 id = _committees.length - 1;
        latest = _committees[id];
        if (keccak256(aggregatePublicKey) != latest.apkHash) revert AggregateKeyMismatch(id);
    }

    /// @dev Schedule the committee for the next epoch: amend it when one is already scheduled for
    /// it, else end the latest at the boundary and start a new one.
    function _schedule(Committee storage latest, uint256 members, uint16 size, bytes memory aggregateKey) private {
        uint64 next = currentEpoch() + 1;
        bytes32 apkHash = keccak256(aggregateKey);
        uint256 id = _committees.length - 1;
        // slither-disable-next-line incorrect-equality (epochs are counters, not balances: equal means scheduled for next)
        if (latest.fromEpoch == next) {
            (latest.apkHash, latest.members, latest.size) = (apkHash, members, size);
        } else {
            latest.untilEpoch = next;
            _committees.push(Committee(apkHash, members, next, 0, size));
            ++id;
        }
        emit CommitteeScheduled(id, next, members, size, aggregateKey);
    }

    // ---- model versions ------------------------------------------------------------------------

    /// @inheritdoc IRecommendationOracle
    function registerModelVersion(uint32 version, ITrackRegistry.Cid calldata manifest, uint64 activationEpoch)
        external
        onlyOwner
    {
        uint32 latest = _latestVersion;
        bool ordered = version == latest + 1 && activationEpoch > currentEpoch()
            && (latest == 0 || activationEpoch > _versions[latest].activationEpoch);
        if (!ordered || manifest.hashFunction != SHA2_256 || manifest.digest == bytes32(0)) {
            revert InvalidModelVersion(version, latest, activationEpoch);
        }
        if (latest != 0) _versions[latest].supersededAtEpoch = activationEpoch;
        _versions[version] = ModelVersion(activationEpoch, 0);
        _latestVersion = version;
        emit ModelVersionRegistered(version, manifest, activationEpoch);
    }

    // ---- views ---------------------------------------------------------------------------------

    /// @inheritdoc IRecommendationOracle
    function currentEpoch() public view returns (uint64) {
        return (uint64(block.timestamp) - genesisTime) / epochLength;
    }

    /// @inheritdoc IRecommendationOracle
    function batchMessage(Batch calldata batch) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), batch));
    }

    /// @inheritdoc IRecommendationOracle
    function anchoredRoot(uint64 epoch) external view returns (bytes32) {
        return _anchors[epoch];
    }

    /// @inheritdoc IRecommendationOracle
    function committeeAt(uint64 epoch) external view returns (uint256 committeeId, Committee memory committee) {
        for (committeeId = _committees.length - 1; _committees[committeeId].fromEpoch > epoch; --committeeId) {}
        committee = _committees[committeeId];
    }

    /// @inheritdoc IRecommendationOracle
    function member(uint256 index) external view returns (Member memory) {
        return _members[index];
    }

    /// @inheritdoc IRecommendationOracle
    function activeModelVersion(uint64 epoch) external view returns (uint32 version) {
        for (version = _latestVersion; version != 0 && _versions[version].activationEpoch > epoch; --version) {}
    }

    /// @inheritdoc IRecommendationOracle
    function modelVersion(uint32 version) external view returns (ModelVersion memory) {
        return _versions[version];
    }

    // ---- private -------------------------------------------------------------------------------

    function _requireLength(bytes calldata point, uint256 expected) private pure {
        if (point.length != expected) revert InvalidKeyLength(point.length, expected);
    }

    function _popcount(uint256 bits) private pure returns (uint256 count) {
        for (; bits != 0; ++count) {
            bits &= bits - 1;
        }
    }

    function _lowestBit(uint256 bits) private pure returns (uint256 index) {
        if (bits == 0) return 0;
        for (; bits & 1 == 0; ++index) {
            bits >>= 1;
        }
    }
}
