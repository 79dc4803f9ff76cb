// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IReputationLedger} from "./IReputationLedger.sol";
import {IRoyaltySplits} from "./IRoyaltySplits.sol";
import {ITrackRegistry} from "./ITrackRegistry.sol";

/// @title IEmergingArtistCuration
/// @notice Consensus on emerging artists (seed §6.3): a curator with weight proposes an artist
/// (their registered tracks) for listener segments; identities vote on the seed's scale,
/// committed then revealed, so nobody sees the trend while voting; a proposal that passes puts
/// the artist in the on-chain emerging-artist index the recommender boosts.
///
/// **No self-dealing.** The artist, whoever the royalty splits of the proposed tracks pay or let
/// change them, and the artists of those tracks' registered parents are *tied* to the proposal:
/// their identities (as the ledger binds them when the proposal is made) can neither propose
/// nor vote on it, and during the commit phase anyone may prove, from the attester's tree, that
/// a tied account belongs to an identity bound elsewhere, excluding that identity too. The
/// proposer hands the tracks' parent lists and split lists back as calldata; each is checked
/// against the registry's `parentsHash` and the royalties contract's `splitHash`.
///
/// **Votes.** `commitment = keccak256(abi.encode(address(this), proposalId, identity, vote, salt))`,
/// bound to the proposal and the identity (a copied commitment reveals nothing for its copier).
/// An identity votes with the weight it has when it commits, in the segment it has then; an
/// identity bound after the proposal was made does not vote on it.
///
/// **Pass rule.** After the reveal phase: revealed weight at least `quorumBps` of the eligible
/// weight (the ledger's total when the proposal was made, less the tied identities'); agreement
/// (strongly agree + agree) more than `AGREEMENT_BPS` (60%) of revealed weight; and the same
/// still true with any one segment's votes taken out (votes of identities in no targeted
/// segment count as one more segment), so one segment's votes alone never carry a proposal.
/// Results are reported per segment; a segment *passes* when its own agreement is over 60%.
///
/// @dev Gas: commit and reveal read one slot of the proposal and one of the ledger (an
/// identity's index, weight, bind time and segment packed together) and write one vote slot
/// (commitment truncated to 192 bits, weight, segment, state); a reveal adds one tally slot,
/// pre-set when the proposal is made so no reveal pays for a zero-to-nonzero write. Targets
/// ≤ 60,000 each (benchmarks/results/curation.json).
interface IEmergingArtistCuration {
    /// @notice The seed's scale.
    enum Vote {
        StronglyAgree,
        Agree,
        Neutral,
        Disagree
    }

    /// @notice Where a proposal is: voting (commit phase, then reveal phase), or settled.
    enum Status {
        None,
        Open,
        Passed,
        Rejected
    }

    /// @notice Why a proposal settled as it did.
    enum Outcome {
        Pending,
        Passed,
        NoQuorum,
        NoAgreement,
        OneSegment
    }

    /// @notice A split version handed back as calldata (as `IRoyalties.setSplit` took it).
    struct SplitList {
        address[] recipients;
        uint16[] bps;
        uint16 upstreamBps;
    }

    /// @notice A proposed track with what ties it to others: its registered parents and the
    /// current split of each right (empty lists where no split is set).
    struct TrackTies {
        bytes32 trackId;
        ITrackRegistry.Parent[] parents;
        SplitList composition;
        SplitList master;
    }

    /// @notice A proposal's stored state.
    /// @param createdAt When it was made; commits until `createdAt + commitSeconds`, reveals
    /// until `createdAt + commitSeconds + revealSeconds`.
    /// @param status Where it is.
    /// @param outcome Why it settled (Pending while open).
    /// @param segments Bit i set: targeted at segment i of the ledger.
    /// @param eligibleWeight The weight that could vote: the ledger's total at creation, less the tied.
    /// @param proposer The proposer's identity.
    /// @param artist The proposed artist.
    /// @param passedSegments Bit i set: segment i's own revealed agreement was over 60%.
    /// @param trackCount How many tracks were proposed.
    /// @param tracksHash `keccak256(abi.encode(bytes32[] trackIds))`.
    /// @param tiedHash `keccak256(abi.encode(address[] tied))`, the tied accounts as emitted.
    struct Proposal {
        uint40 createdAt;
        Status status;
        Outcome outcome;
        uint64 segments;
        uint64 eligibleWeight;
        uint32 proposer;
        address artist;
        uint64 passedSegments;
        uint16 trackCount;
        bytes32 tracksHash;
        bytes32 tiedHash;
    }

    /// @notice Revealed weight per vote in one bucket (a targeted segment, or every other voter).
    struct Tally {
        uint56 stronglyAgree;
        uint56 agree;
        uint56 neutral;
        uint56 disagree;
        uint24 voters;
        bool initialized;
    }

    /// @notice An artist in the emerging-artist index.
    /// @param proposalId The proposal that passed.
    /// @param listedAt When it passed.
    /// @param until When the listing ends (an artist stops being emerging; it may be proposed again).
    /// @param segments The segments whose own agreement passed (where to boost it first).
    struct Listing {
        uint32 proposalId;
        uint40 listedAt;
        uint40 until;
        uint64 segments;
    }

    // ---- events ----------------------------------------------------------------------------

    /// @notice Proposal `proposalId`: `artist`'s `tracks` for `segments`; the `tied` accounts
    /// (artist, split recipients and controllers, parents' artists) and `excludedWeight` of
    /// their identities' weight are out of the vote.
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed artist,
        uint32 indexed proposer,
        uint64 segments,
        bytes32[] tracks,
        address[] tied,
        uint256 eligibleWeight,
        uint256 excludedWeight,
        uint256 commitEnd,
        uint256 revealEnd
    );

    /// @notice Identity `identity` tied to the proposal through `account` is out of its vote.
    event TiedIdentityExcluded(uint256 indexed proposalId, uint32 indexed identity, address account, uint256 weight);

    /// @notice Identity `identity` committed to a vote.
    event VoteCommitted(uint256 indexed proposalId, uint32 indexed identity, bytes32 commitment);

    /// @notice Identity `identity` revealed `vote` with `weight`, counted in `segment`'s results
    /// (`NO_SEGMENT` outside the targeted ones).
    event VoteRevealed(uint256 indexed proposalId, uint32 indexed identity, Vote vote, uint256 weight, uint8 segment);

    /// @notice One bucket's revealed tally at settlement (`segment` = `OUTSIDE_SEGMENTS` for
    /// identities in no targeted segment); `passed` when its own agreement is over 60%.
    event SegmentResult(uint256 indexed proposalId, uint8 indexed segment, Tally tally, bool passed);

    /// @notice The proposal settled: `outcome`, with the overall tally and the eligible weight.
    event ProposalFinalized(
        uint256 indexed proposalId,
        address indexed artist,
        Outcome outcome,
        uint256 agreeWeight,
        uint256 revealedWeight,
        uint256 eligibleWeight,
        uint64 passedSegments
    );

    /// @notice `artist` entered the emerging-artist index until `until`.
    event ArtistListed(address indexed artist, uint256 indexed proposalId, uint64 segments, uint256 until);

    /// @notice Identity `identity` committed on the proposal and never revealed: reported by `reporter`.
    event NonRevealReported(uint256 indexed proposalId, uint32 indexed identity, address reporter);

    // ---- errors ----------------------------------------------------------------------------

    /// @notice The ledger names another curation contract than this one.
    error LedgerMismatch(address ledgerCuration);
    /// @notice A voting phase must last between one second and `MAX_PHASE_SECONDS`, a quorum be
    /// at most 100%, a listing last at least a day.
    error InvalidSettings();
    /// @notice `account` has no voting weight (no identity bound, or a weight of zero).
    error NoVotingWeight(address account);
    /// @notice `account`'s identity `identity` is tied to the proposed artist (`artist`).
    error SelfDealing(uint256 proposalId, uint32 identity, address account);
    /// @notice The identity was bound at `boundAt`, not before the proposal was made at `createdAt`.
    error IdentityTooNew(uint32 identity, uint256 boundAt, uint256 createdAt);
    /// @notice No proposal `proposalId`.
    error UnknownProposal(uint256 proposalId);
    /// @notice Commits ended at `commitEnd`.
    error CommitPhaseOver(uint256 proposalId, uint256 commitEnd);
    /// @notice Reveals run from `commitEnd` to `revealEnd`.
    error NotRevealPhase(uint256 proposalId, uint256 commitEnd, uint256 revealEnd);
    /// @notice The reveal phase ends at `revealEnd`: the proposal cannot settle yet.
    error VotingNotOver(uint256 proposalId, uint256 revealEnd);
    /// @notice The proposal already settled.
    error AlreadySettled(uint256 proposalId);
    /// @notice Identity `identity` already committed on the proposal.
    error AlreadyCommitted(uint256 proposalId, uint32 identity);
    /// @notice Identity `identity` has no committed vote to reveal on the proposal (none, already
    /// revealed, or excluded as tied).
    error NothingToReveal(uint256 proposalId, uint32 identity);
    /// @notice The vote and salt do not open identity `identity`'s commitment.
    error RevealMismatch(uint256 proposalId, uint32 identity);
    /// @notice None of the identities given committed without revealing.
    error NothingToReport(uint256 proposalId);
    /// @notice The artist is zero.
    error InvalidArtist();
    /// @notice `artist` has proposal `proposalId` open.
    error ProposalAlreadyOpen(address artist, uint256 proposalId);
    /// @notice `artist` is in the index until `until`.
    error AlreadyListed(address artist, uint256 until);
    /// @notice A proposal names 1 to `max` tracks, each once (`count` given).
    error InvalidTrackCount(uint256 count, uint256 max);
    /// @notice Track `trackId` is listed twice.
    error DuplicateTrack(bytes32 trackId);
    /// @notice Track `trackId` is attributed to `attributed`, not to the proposed artist.
    error NotArtistTrack(bytes32 trackId, address attributed);
    /// @notice Track `trackId`'s registration can still be taken over: wait until it is final.
    error TrackNotFinal(bytes32 trackId);
    /// @notice The parent list of `trackId` hashes to `given`, the registry holds `expected`.
    error ParentsMismatch(bytes32 trackId, bytes32 expected, bytes32 given);
    /// @notice The split list of `trackId`'s `right` hashes to `given`; its current version holds `expected`.
    error SplitMismatch(bytes32 trackId, IRoyaltySplits.Right right, bytes32 expected, bytes32 given);
    /// @notice More than `max` tied accounts (`count`).
    error TooManyTies(uint256 count, uint256 max);
    /// @notice The segment mask is empty, names more than `max` segments, or an undefined one
    /// (`defined` segments exist).
    error InvalidSegments(uint64 segments, uint256 max, uint256 defined);
    /// @notice The tied list passed is not the proposal's.
    error TiedListMismatch(uint256 proposalId);
    /// @notice `account` is attested to identity `identityId`, which was never bound (or the proof fails).
    error NotTiedIdentity(address account, bytes32 identityId);
    /// @notice Identity `identity` is already out of the proposal's vote.
    error AlreadyExcluded(uint256 proposalId, uint32 identity);

    // ---- proposals -------------------------------------------------------------------------

    /// @notice Propose `artist` (their tracks, with the parents and splits that tie them to
    /// others) for `segments`. The sender needs voting weight and must not be tied to the artist.
    /// Emits {ProposalCreated}. Reverts {NoVotingWeight}, {SelfDealing}, {InvalidArtist},
    /// {ProposalAlreadyOpen}, {AlreadyListed}, {InvalidTrackCount}, {DuplicateTrack},
    /// {NotArtistTrack}, {TrackNotFinal}, {ParentsMismatch}, {SplitMismatch}, {TooManyTies},
    /// {InvalidSegments}, {TrackNotRegistered}.
    /// @param artist The artist (an address the registry attributes the tracks to).
    /// @param tracks 1 to `MAX_TRACKS` of their final registrations, with parents and splits.
    /// @param segments The listener segments (ledger segment bits) the artist is proposed for.
    /// @return proposalId The proposal's number (1, 2, ...).
    function propose(address artist, TrackTies[] calldata tracks, uint64 segments)
        external
        returns (uint256 proposalId);

    /// @notice During the commit phase, exclude the identity a tied account is attested to (it
    /// may be bound from another account of the same person). Anyone may.
    /// Emits {TiedIdentityExcluded}. Reverts {UnknownProposal}, {CommitPhaseOver},
    /// {TiedListMismatch}, {NotTiedIdentity}, {AlreadyExcluded}.
    /// @param proposalId The proposal.
    /// @param tied The proposal's tied accounts, exactly as emitted.
    /// @param position The tied account's position in `tied`.
    /// @param identityId The identity the attester ties it to.
    /// @param proof Its leaf's proof under the ledger's current identity root.
    function excludeTiedIdentity(
        uint256 proposalId,
        address[] calldata tied,
        uint256 position,
        bytes32 identityId,
        bytes32[] calldata proof
    ) external;

    // ---- votes -----------------------------------------------------------------------------

    /// @notice Commit to a vote during the commit phase: `makeCommitment(proposalId, identity,
    /// vote, salt)` with a fresh 32-byte salt kept until the reveal.
    /// Emits {VoteCommitted}. Reverts {UnknownProposal}, {CommitPhaseOver}, {NoVotingWeight},
    /// {IdentityTooNew}, {SelfDealing}, {AlreadyCommitted}.
    /// @param proposalId The proposal.
    /// @param commitment The hash of the vote and salt.
    function commit(uint256 proposalId, bytes32 commitment) external;

    /// @notice Reveal the sender's identity's committed vote during the reveal phase.
    /// Emits {VoteRevealed}. Reverts {UnknownProposal}, {NotRevealPhase}, {NoVotingWeight},
    /// {NothingToReveal}, {RevealMismatch}.
    /// @param proposalId The proposal.
    /// @param vote The vote committed to.
    /// @param salt The salt committed with.
    function reveal(uint256 proposalId, Vote vote, bytes32 salt) external;

    /// @notice Settle a proposal after its reveal phase (anyone may): apply the pass rule, report
    /// each segment, and list the artist when it passed.
    /// Emits {SegmentResult} per bucket, {ProposalFinalized}, and {ArtistListed} when it passed.
    /// Reverts {UnknownProposal}, {VotingNotOver}, {AlreadySettled}.
    /// @param proposalId The proposal.
    function finalize(uint256 proposalId) external;

    /// @notice After the reveal phase, report identities that committed and never revealed
    /// (anyone may): each loses reputation and stake at the ledger; the reporter is credited a share.
    /// Identities that revealed, never committed or were already reported are skipped.
    /// Emits {NonRevealReported} per identity. Reverts {UnknownProposal}, {VotingNotOver}, {NothingToReport}.
    /// @param proposalId The proposal.
    /// @param identities Identity indices.
    function reportNonReveals(uint256 proposalId, uint32[] calldata identities) external;

    // ---- views -----------------------------------------------------------------------------

    /// @notice `keccak256(abi.encode(address(this), proposalId, identity, vote, salt))`.
    function makeCommitment(uint256 proposalId, uint32 identity, Vote vote, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice A proposal (status None for an unknown id).
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice When commits end and reveals end.
    function phases(uint256 proposalId) external view returns (uint256 commitEnd, uint256 revealEnd);

    /// @notice One bucket's tally: a targeted segment, or `OUTSIDE_SEGMENTS`.
    function tally(uint256 proposalId, uint8 segment) external view returns (Tally memory);

    /// @notice An identity's vote record: 0 none, 1 committed (not revealed), 2 excluded as tied;
    /// with the weight and segment it committed with and the commitment's first 24 bytes.
    function voteOf(uint256 proposalId, uint32 identity)
        external
        view
        returns (uint8 state, uint256 weight, uint8 segment, bytes24 commitmentPrefix);

    /// @notice How many proposals were made (ids are 1 .. count).
    function proposalCount() external view returns (uint256);

    /// @notice The open proposal of `artist` (0: none).
    function openProposalOf(address artist) external view returns (uint256);

    /// @notice An artist's listing (proposalId 0: never listed).
    function listingOf(address artist) external view returns (Listing memory);

    /// @notice Whether `artist` is in the index now.
    function isEmerging(address artist) external view returns (bool);

    /// @notice How many artists were ever listed.
    function listedCount() external view returns (uint256);

    /// @notice The `index`-th artist listed (in order of listing; re-listings are not repeated).
    function listedArtist(uint256 index) external view returns (address);

    /// @notice The reputation ledger weights come from.
    function ledger() external view returns (IReputationLedger);

    /// @notice The track registry attributing tracks to artists.
    function registry() external view returns (ITrackRegistry);

    /// @notice The royalties contract whose splits tie artists to collaborators.
    function royalties() external view returns (IRoyaltySplits);

    /// @notice Seconds of the commit phase.
    function commitSeconds() external view returns (uint256);

    /// @notice Seconds of the reveal phase.
    function revealSeconds() external view returns (uint256);

    /// @notice The share of eligible weight that must reveal, in basis points.
    function quorumBps() external view returns (uint256);

    /// @notice Seconds an artist stays in the index.
    function listingSeconds() external view returns (uint256);

    /// @notice 6,000: agreement must be more than 60% of revealed weight.
    function AGREEMENT_BPS() external view returns (uint256);

    /// @notice The most tracks a proposal names.
    function MAX_TRACKS() external view returns (uint256);

    /// @notice The most segments a proposal targets.
    function MAX_SEGMENTS() external view returns (uint256);

    /// @notice The most tied accounts a proposal may have.
    function MAX_TIED() external view returns (uint256);

    /// @notice The longest a voting phase may be set to last (7 days), shorter than the ledger's unbonding.
    function MAX_PHASE_SECONDS() external view returns (uint256);

    /// @notice The bucket of votes from identities in no targeted segment (64).
    function OUTSIDE_SEGMENTS() external view returns (uint8);
}
