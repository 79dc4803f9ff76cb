// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrackRegistry} from "./ITrackRegistry.sol";

/// @title IRecommendationOracle
/// @notice Anchors of recommendation batches: for each closed epoch, the Merkle root of the
/// recommendation receipts an oracle committee computed, signed by at least two thirds of the
/// epoch's committee with one aggregate BLS signature, under the model version active in that
/// epoch. A listener proves a receipt against the anchored root with an OpenZeppelin Merkle proof.
/// @dev Ciphersuite BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_ (signatures in G1, keys in G2),
/// verified through the EIP-2537 precompiles with RFC 9380 hash-to-curve on-chain. The signed
/// message is `keccak256(abi.encode(block.chainid, oracle, epoch, root, leafCount, modelVersion))`.
/// Committee changes take effect at the next epoch boundary; each epoch's committee is a snapshot
/// (members bitmap, size, hash of the aggregate public key) fixed before the epoch starts.
interface IRecommendationOracle {
    /// @notice A committee member: its BLS key's hash (the key is emitted) and its operator.
    struct Member {
        address operator;
        bytes32 keyHash;
    }

    /// @notice The committee of epochs `[fromEpoch, untilEpoch)` (`untilEpoch` 0: until changed).
    /// @param apkHash keccak256 of the 256-byte EIP-2537 encoding of the members' aggregate key.
    /// @param members Bit i set: member i belongs (at most 256 members).
    struct Committee {
        bytes32 apkHash;
        uint256 members;
        uint64 fromEpoch;
        uint64 untilEpoch;
        uint16 size;
    }

    /// @notice What a batch is: an epoch's receipts under a model version, computed from inputs.
    /// @param epoch The epoch the receipts belong to.
    /// @param root The OpenZeppelin standard-tree Merkle root of the receipts.
    /// @param leafCount The number of receipts.
    /// @param modelVersion The model version they were computed with.
    /// @param inputs SHA-256 of the epoch's inputs document (its raw CIDv1 digest), from which
    /// every member recomputed the receipts.
    struct Batch {
        uint64 epoch;
        bytes32 root;
        uint64 leafCount;
        uint32 modelVersion;
        bytes32 inputs;
    }

    /// @notice A model version: from `activationEpoch` until the next version's activation.
    struct ModelVersion {
        uint64 activationEpoch;
        uint64 supersededAtEpoch;
    }

    /// @notice The owner approved `operator` to join the committee with a key of its own.
    event OperatorApproved(address indexed operator);
    /// @notice Member `index` (operator, 256-byte G2 key) joins from `fromEpoch`.
    event MemberJoined(uint256 indexed index, address indexed operator, bytes publicKey, uint64 fromEpoch);
    /// @notice Member `index` leaves from `fromEpoch` on (its own choice, or the owner's removal).
    event MemberLeft(uint256 indexed index, address indexed operator, uint64 fromEpoch);
    /// @notice Committee `committeeId` (members bitmap, size, aggregate key) serves from `fromEpoch`.
    event CommitteeScheduled(
        uint256 indexed committeeId, uint64 fromEpoch, uint256 members, uint16 size, bytes aggregatePublicKey
    );
    /// @notice Model version `version` (its manifest on IPFS) is active from `activationEpoch`.
    event ModelVersionRegistered(uint32 indexed version, ITrackRegistry.Cid manifest, uint64 activationEpoch);
    /// @notice The receipts of `epoch` are anchored: their Merkle root, count, model and signers.
    event BatchAnchored(
        uint64 indexed epoch,
        bytes32 root,
        uint64 leafCount,
        uint32 indexed modelVersion,
        bytes32 inputs,
        uint256 signers,
        uint256 committeeId,
        address anchoredBy
    );

    /// @notice `epoch` is not over yet (the current epoch is `currentEpoch`).
    error EpochNotClosed(uint64 epoch, uint64 currentEpoch);
    /// @notice `epoch` is already anchored, with `root`.
    error AlreadyAnchored(uint64 epoch, bytes32 root);
    /// @notice A batch needs a non-zero root and at least one receipt.
    error EmptyBatch();
    /// @notice Model `version` is not the active one at `epoch` (never registered, not yet active or superseded).
    error ModelVersionNotActive(uint32 version, uint64 epoch);
    /// @notice Committee `committeeId` does not serve `epoch`.
    error WrongCommittee(uint256 committeeId, uint64 epoch);
    /// @notice The aggregate key passed is not the committee's.
    error AggregateKeyMismatch(uint256 committeeId);
    /// @notice `signers` names members outside the epoch's committee (`unknown` holds their bits).
    error UnknownSigners(uint256 unknown);
    /// @notice `count` signers of a committee of `size`: less than two thirds.
    error QuorumNotReached(uint256 count, uint256 size);
    /// @notice The keys of the non-signers were not passed in full, in member order.
    error NonSignerKeysMismatch(uint256 member);
    /// @notice The aggregate signature does not verify for these fields and signers.
    error InvalidAggregateSignature();
    /// @notice The key passed is not member `index`'s.
    error PublicKeyMismatch(uint256 index);
    /// @notice `caller` may not join (not approved by the owner, or already a member).
    error NotApprovedOperator(address caller);
    /// @notice The proof of possession does not verify for this key: it could be a rogue key.
    error InvalidProofOfPossession();
    /// @notice `caller` is not member `index`'s operator, or the member already left.
    error NotMember(uint256 index, address caller);
    /// @notice The committee is full (256 members).
    error CommitteeFull();
    /// @notice Leaving would leave the next epoch without a committee.
    error LastMember(uint256 index);
    /// @notice Model versions are numbered upwards (`latest` is the last) and activate in a
    /// future epoch no earlier than the previous version's.
    error InvalidModelVersion(uint32 version, uint32 latest, uint64 activationEpoch);
    /// @notice A BLS point has the wrong length (`expected` bytes).
    error InvalidKeyLength(uint256 length, uint256 expected);

    /// @notice Anchor the receipts of a closed epoch. Anyone may send it (the committee's leader
    /// does); the aggregate signature is the authority.
    /// Emits {BatchAnchored}. Reverts {EpochNotClosed}, {AlreadyAnchored}, {EmptyBatch},
    /// {ModelVersionNotActive}, {WrongCommittee}, {AggregateKeyMismatch}, {UnknownSigners},
    /// {QuorumNotReached}, {NonSignerKeysMismatch}, {InvalidAggregateSignature}, {InvalidKeyLength}.
    /// @param batch The epoch, root, receipt count, model version and inputs digest.
    /// @param committeeId The committee serving the epoch.
    /// @param signers Bitmap of the members whose signatures are aggregated.
    /// @param signature The aggregate G1 signature (128 bytes, EIP-2537).
    /// @param aggregatePublicKey The committee's aggregate G2 key (256 bytes), checked by hash.
    /// @param nonSignerKeys The G2 keys (256 bytes each) of the committee's non-signers, in member order.
    function anchor(
        Batch calldata batch,
        uint256 committeeId,
        uint256 signers,
        bytes calldata signature,
        bytes calldata aggregatePublicKey,
        bytes calldata nonSignerKeys
    ) external;

    /// @notice Join the committee from the next epoch with a BLS key, proving possession of it.
    /// Emits {MemberJoined}, {CommitteeScheduled}. Reverts {NotApprovedOperator},
    /// {InvalidProofOfPossession}, {AggregateKeyMismatch}, {CommitteeFull}, {InvalidKeyLength}.
    /// @param publicKey The member's G2 key (256 bytes, EIP-2537).
    /// @param proofOfPossession The key's PoP signature (128 bytes, G1).
    /// @param aggregatePublicKey The aggregate key of the latest scheduled committee (256 bytes).
    /// @return index The member's index (its bit in signer bitmaps).
    function join(bytes calldata publicKey, bytes calldata proofOfPossession, bytes calldata aggregatePublicKey)
        external
        returns (uint256 index);

    /// @notice Leave the committee from the next epoch (the member's operator, or the owner removing it).
    /// Emits {MemberLeft}, {CommitteeScheduled}. Reverts {NotMember}, {LastMember}, {AggregateKeyMismatch}.
    /// @param index The member.
    /// @param publicKey The member's key (checked by hash), subtracted from the aggregate.
    /// @param aggregatePublicKey The aggregate key of the latest scheduled committee.
    function leave(uint256 index, bytes calldata publicKey, bytes calldata aggregatePublicKey) external;

    /// @notice Let `operator` join (owner only). Emits {OperatorApproved}.
    /// @param operator The node operator's address.
    function approveOperator(address operator) external;

    /// @notice Register the next model version, active from `activationEpoch` (owner only; a future epoch).
    /// Emits {ModelVersionRegistered}. Reverts {InvalidModelVersion}.
    /// @param version The version number, one above the latest.
    /// @param manifest The CID of the model manifest (arrays, settings, code version, catalogue, checksums).
    /// @param activationEpoch The first epoch this version serves.
    function registerModelVersion(uint32 version, ITrackRegistry.Cid calldata manifest, uint64 activationEpoch)
        external;

    /// @notice The epoch at `block.timestamp`.
    /// @return The current epoch number.
    function currentEpoch() external view returns (uint64);

    /// @notice The anchored root of `epoch`, zero when none.
    /// @param epoch The epoch.
    /// @return The root.
    function anchoredRoot(uint64 epoch) external view returns (bytes32);

    /// @notice The committee serving `epoch` and its id.
    /// @param epoch The epoch.
    /// @return committeeId The id to pass to {anchor}.
    /// @return committee The committee.
    function committeeAt(uint64 epoch) external view returns (uint256 committeeId, Committee memory committee);

    /// @notice A member by index.
    /// @param index The member.
    /// @return The member.
    function member(uint256 index) external view returns (Member memory);

    /// @notice The model version serving `epoch` (0 when none).
    /// @param epoch The epoch.
    /// @return The version number.
    function activeModelVersion(uint64 epoch) external view returns (uint32);

    /// @notice A model version's activation span.
    /// @param version The version.
    /// @return The version's record.
    function modelVersion(uint32 version) external view returns (ModelVersion memory);

    /// @notice The message members sign for a batch (what `anchor` verifies).
    /// @param batch The batch.
    /// @return The 32-byte message hashed to G1.
    function batchMessage(Batch calldata batch) external view returns (bytes32);

    /// @notice Unix time epoch 0 started at.
    /// @return The time.
    function genesisTime() external view returns (uint64);

    /// @notice Seconds per epoch.
    /// @return The length.
    function epochLength() external view returns (uint64);
}
