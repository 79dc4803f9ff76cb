// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IEmergingArtistCuration} from "../interfaces/IEmergingArtistCuration.sol";
import {IReputationLedger} from "../interfaces/IReputationLedger.sol";
import {IRoyaltySplits} from "../interfaces/IRoyaltySplits.sol";
import {ITrackRegistry} from "../interfaces/ITrackRegistry.sol";

/// @title EmergingArtistCuration
/// @notice Reputation-weighted, Sybil-resistant commit-reveal votes on emerging artists, and the
/// on-chain emerging-artist index that passing proposals fill.
/// @dev Gas: a commit reads the proposal's first slot and the sender's `Voter` record at the
/// ledger, and writes one vote slot (~22k of its ~50k); a reveal reads the same two slots and
/// the vote slot, clears the vote (a refund) and adds to one tally slot that `propose` set
/// nonzero, so no voter pays for a fresh slot. `propose` pays for the tied identities' vote
/// slots and the tallies (one per targeted segment plus the outside bucket).
contract EmergingArtistCuration is IEmergingArtistCuration {
    // ---- constants -----------------------------------------------------------------------------

    /// @inheritdoc IEmergingArtistCuration
    uint256 public constant AGREEMENT_BPS = 6_000;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public constant MAX_TRACKS = 8;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public constant MAX_SEGMENTS = 8;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public constant MAX_TIED = 64;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public constant MAX_PHASE_SECONDS = 7 days;
    /// @inheritdoc IEmergingArtistCuration
    uint8 public constant OUTSIDE_SEGMENTS = 64;

    uint256 private constant BPS = 10_000;
    uint8 private constant NO_SEGMENT = 255;

    // A vote slot: state (bits 0-7), segment (8-15), weight (16-63), commitment's first 24 bytes (64-255).
    uint256 private constant COMMITTED = 1;
    uint256 private constant EXCLUDED = 2;
    uint256 private constant STATE_MASK = 0xff;

    // ---- storage -------------------------------------------------------------------------------

    /// @inheritdoc IEmergingArtistCuration
    IReputationLedger public immutable ledger;
    /// @inheritdoc IEmergingArtistCuration
    ITrackRegistry public immutable registry;
    /// @inheritdoc IEmergingArtistCuration
    IRoyaltySplits public immutable royalties;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public immutable commitSeconds;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public immutable revealSeconds;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public immutable quorumBps;
    /// @inheritdoc IEmergingArtistCuration
    uint256 public immutable listingSeconds;

    uint256 private _proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(uint32 identity => uint256 packed)) private _votes;
    mapping(uint256 proposalId => mapping(uint8 bucket => Tally)) private _tallies;
    mapping(address artist => uint256 proposalId) private _openProposals;
    mapping(address artist => Listing) private _listings;
    address[] private _listed;

    /// @param ledger_ The reputation ledger (it must name this contract as its curation).
    /// @param registry_ The track registry.
    /// @param royalties_ The royalties contract whose splits tie collaborators.
    /// @param commitSeconds_ Seconds of the commit phase (1 to 7 days).
    /// @param revealSeconds_ Seconds of the reveal phase (1 to 7 days).
    /// @param quorumBps_ The share of eligible weight that must reveal (at most 10,000).
    /// @param listingSeconds_ Seconds an artist stays in the index (at least a day).
    constructor(
        IReputationLedger ledger_,
        ITrackRegistry registry_,
        IRoyaltySplits royalties_,
        uint256 commitSeconds_,
        uint256 revealSeconds_,
        uint256 quorumBps_,
        uint256 listingSeconds_
    ) {
        if (address(registry_) == address(0) || address(royalties_) == address(0)) revert ITrackRegistry.ZeroAddress();
        if (ledger_.curation() != address(this)) revert LedgerMismatch(ledger_.curation());
        if (commitSeconds_ == 0 || commitSeconds_ > MAX_PHASE_SECONDS || revealSeconds_ == 0
            || revealSeconds_ > MAX_PHASE_SECONDS || quorumBps_ > BPS || listingSeconds_ < 1 days) {
            revert InvalidSettings();
        }
        ledger = ledger_;
        registry = registry_;
        royalties = royalties_;
        commitSeconds = commitSeconds_;
        revealSeconds = revealSeconds_;
        quorumBps = quorumBps_;
        listingSeconds = listingSeconds_;
    }

    // ---- proposals -----------------------------------------------------------------------------

    /// @inheritdoc IEmergingArtistCuration
    function propose(address artist, TrackTies[] calldata tracks, uint64 segments)
        external
        returns (uint256 proposalId)
    {
        IReputationLedger.Voter memory proposer = ledger.voterOf(msg.sender);
        if (proposer.identity == 0 || proposer.weight == 0) revert NoVotingWeight(msg.sender);
        if (artist == address(0)) revert InvalidArtist();
        uint256 open = _openProposals[artist];
        if (open != 0) revert ProposalAlreadyOpen(artist, open);
        uint256 until = _listings[artist].until;
        if (until > block.timestamp) revert AlreadyListed(artist, until);
        uint256 segmentCount = _checkSegments(segments);

        proposalId = ++_proposalCount;
        (bytes32[] memory trackIds, address[] memory tied) = _ties(artist, tracks);
        uint256 excluded = _excludeTied(proposalId, tied);
        if (_votes[proposalId][proposer.identity] & STATE_MASK == EXCLUDED) {
            revert SelfDealing(proposalId, proposer.identity, msg.sender);
        }
        uint256 eligible = ledger.totalWeight() - excluded;

        // the tallies a reveal adds to, set nonzero now so that no voter pays for a fresh slot
        for (uint8 segment = 0; segment < segmentCount; ++segment) {
            if (segments >> segment & 1 != 0) _tallies[proposalId][segment].initialized = true;
        }
        _tallies[proposalId][OUTSIDE_SEGMENTS].initialized = true;

        _proposals[proposalId] = Proposal({
            createdAt: uint40(block.timestamp),
            status: Status.Open,
            outcome: Outcome.Pending,
            segments: segments,
            eligibleWeight: uint64(eligible),
            proposer: proposer.identity,
            artist: artist,
            passedSegments: 0,
            trackCount: uint16(trackIds.length),
            tracksHash: keccak256(abi.encode(trackIds)),
            tiedHash: keccak256(abi.encode(tied))
        });
        _openProposals[artist] = proposalId;
        emit ProposalCreated(
            proposalId, artist, proposer.identity, segments, trackIds, tied, eligible, excluded,
            block.timestamp + commitSeconds, block.timestamp + commitSeconds + revealSeconds
        );
    }

    /// @inheritdoc IEmergingArtistCuration
    function excludeTiedIdentity(
        uint256 proposalId,
        address[] calldata tied,
        uint256 position,
        bytes32 identityId,
        bytes32[] calldata proof
    ) external {
        Proposal storage stored = _open(proposalId);
        uint256 commitEnd = stored.createdAt + commitSeconds;
        if (block.timestamp >= commitEnd) revert CommitPhaseOver(proposalId, commitEnd);
        if (keccak256(abi.encode(tied)) != stored.tiedHash || position >= tied.length) {
            revert TiedListMismatch(proposalId);
        }
        address account = tied[position];
        uint32 index = ledger.indexOf(identityId);
        if (index == 0 || !ledger.isAttested(account, identityId, proof)) revert NotTiedIdentity(account, identityId);
        uint256 weight = _exclude(proposalId, index, stored.createdAt);
        uint256 eligible = stored.eligibleWeight;
        stored.eligibleWeight = uint64(eligible - (weight < eligible ? weight : eligible));
        emit TiedIdentityExcluded(proposalId, index, account, weight);
    }

    // ---- votes ---------------------------------------------------------------------------------

    /// @inheritdoc IEmergingArtistCuration
    function commit(uint256 proposalId, bytes32 commitment) external {
        uint256 createdAt = _proposals[proposalId].createdAt;
        // slither-disable-next-line incorrect-equality (0: no proposal, a sentinel, not a balance)
        if (createdAt == 0) revert UnknownProposal(proposalId);
        uint256 commitEnd = createdAt + commitSeconds;
        if (block.timestamp >= commitEnd) revert CommitPhaseOver(proposalId, commitEnd);
        IReputationLedger.Voter memory voter = ledger.voterOf(msg.sender);
        if (voter.identity == 0 || voter.weight == 0) revert NoVotingWeight(msg.sender);
        if (voter.boundAt >= createdAt) revert IdentityTooNew(voter.identity, voter.boundAt, createdAt);
        uint256 packed = _votes[proposalId][voter.identity];
        if (packed != 0) {
            if (packed & STATE_MASK == EXCLUDED) revert SelfDealing(proposalId, voter.identity, msg.sender);
            revert AlreadyCommitted(proposalId, voter.identity);
        }
        // the commitment's first 24 bytes: opening it to another vote needs a 192-bit second preimage
        _votes[proposalId][voter.identity] = (uint256(commitment) >> 64 << 64) | (uint256(voter.weight) << 16)
            | (uint256(voter.segment) << 8) | COMMITTED;
        emit VoteCommitted(proposalId, voter.identity, commitment);
    }

    /// @inheritdoc IEmergingArtistCuration
    function reveal(uint256 proposalId, Vote vote, bytes32 salt) external {
        Proposal storage stored = _proposals[proposalId];
        (uint256 createdAt, uint64 segments) = (stored.createdAt, stored.segments);
        if (createdAt == 0) revert UnknownProposal(proposalId);
        _requireRevealPhase(proposalId, createdAt);
        uint32 index = ledger.voterOf(msg.sender).identity;
        if (index == 0) revert NoVotingWeight(msg.sender);
        uint256 packed = _votes[proposalId][index];
        if (packed & STATE_MASK != COMMITTED) revert NothingToReveal(proposalId, index);
        if (uint256(makeCommitment(proposalId, index, vote, salt)) >> 64 != packed >> 64) {
            revert RevealMismatch(proposalId, index);
        }
        delete _votes[proposalId][index];
        uint8 segment = _addVote(proposalId, segments, packed, vote);
        emit VoteRevealed(proposalId, index, vote, uint48(packed >> 16), segment);
    }

    /// @inheritdoc IEmergingArtistCuration
    function finalize(uint256 proposalId) external {
        Proposal storage stored = _open(proposalId);
        _requireVotingOver(proposalId, stored.createdAt);
        Count memory counted = _count(proposalId, stored.segments);
        uint256 eligible = stored.eligibleWeight;
        Outcome outcome = _outcome(counted, eligible);

        address artist = stored.artist;
        (stored.status, stored.outcome, stored.passedSegments) =
            (outcome == Outcome.Passed ? Status.Passed : Status.Rejected, outcome, counted.passedSegments);
        delete _openProposals[artist];
        emit ProposalFinalized(
            proposalId, artist, outcome, counted.agree, counted.revealed, eligible, counted.passedSegments
        );
        if (outcome == Outcome.Passed) {
            uint256 until = block.timestamp + listingSeconds;
            if (_listings[artist].proposalId == 0) _listed.push(artist);
            _listings[artist] = Listing(uint32(proposalId), uint40(block.timestamp), uint40(until), counted.passedSegments);
            emit ArtistListed(artist, proposalId, counted.passedSegments, until);
        }
    }

    /// @inheritdoc IEmergingArtistCuration
    function reportNonReveals(uint256 proposalId, uint32[] calldata identities) external {
        Proposal storage stored = _proposals[proposalId];
        if (stored.status == Status.None) revert UnknownProposal(proposalId);
        _requireVotingOver(proposalId, stored.createdAt);
        uint256 reported = 0;
        for (uint256 i = 0; i < identities.length; ++i) {
            uint32 index = identities[i];
            if (_votes[proposalId][index] & STATE_MASK != COMMITTED) continue;
            delete _votes[proposalId][index];
            ++reported;
            emit NonRevealReported(proposalId, index, msg.sender);
            // slither-disable-next-line reentrancy-no-eth (the ledger is immutable and ours; the vote is deleted before the call)
            ledger.penalizeNonReveal(index, proposalId, msg.sender);
        }
        if (reported == 0) revert NothingToReport(proposalId);
    }

    // ---- views ---------------------------------------------------------------------------------

    /// @inheritdoc IEmergingArtistCuration
    function makeCommitment(uint256 proposalId, uint32 identity, Vote vote, bytes32 salt)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(address(this), proposalId, identity, vote, salt));
    }

    /// @inheritdoc IEmergingArtistCuration
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc IEmergingArtistCuration
    function phases(uint256 proposalId) external view returns (uint256 commitEnd, uint256 revealEnd) {
        uint256 createdAt = _proposals[proposalId].createdAt;
        // slither-disable-next-line incorrect-equality (0: no proposal, a sentinel, not a balance)
        if (createdAt == 0) revert UnknownProposal(proposalId);
        commitEnd = createdAt + commitSeconds;
        revealEnd = commitEnd + revealSeconds;
    }

    /// @inheritdoc IEmergingArtistCuration
    function tally(uint256 proposalId, uint8 segment) external view returns (Tally memory) {
        return _tallies[proposalId][segment];
    }

    /// @inheritdoc IEmergingArtistCuration
    function voteOf(uint256 proposalId, uint32 identity)
        external
        view
        returns (uint8 state, uint256 weight, uint8 segment, bytes24 commitmentPrefix)
    {
        uint256 packed = _votes[proposalId][identity];
        return (uint8(packed), uint48(packed >> 16), uint8(packed >> 8), bytes24(bytes32(packed >> 64 << 64)));
    }

    /// @inheritdoc IEmergingArtistCuration
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IEmergingArtistCuration
    function openProposalOf(address artist) external view returns (uint256) {
        return _openProposals[artist];
    }

    /// @inheritdoc IEmergingArtistCuration
    function listingOf(address artist) external view returns (Listing memory) {
        return _listings[artist];
    }

    /// @inheritdoc IEmergingArtistCuration
    function isEmerging(address artist) external view returns (bool) {
        return _listings[artist].until > block.timestamp;
    }

    /// @inheritdoc IEmergingArtistCuration
    function listedCount() external view returns (uint256) {
        return _listed.length;
    }

    /// @inheritdoc IEmergingArtistCuration
    function listedArtist(uint256 index) external view returns (address) {
        return _listed[index];
    }

    // ---- private -------------------------------------------------------------------------------

    /// @dev The revealed weight of a proposal: overall and per bucket (the targeted segments in
    /// order, then the outside bucket), with the segments whose own agreement passed.
    struct Count {
        uint256 agree;
        uint256 revealed;
        uint64 passedSegments;
        uint256[] agreeBy;
        uint256[] revealedBy;
    }

    /// @dev Sum the buckets (at most 9), emitting each one's result.
    function _count(uint256 proposalId, uint64 segments) private returns (Count memory counted) {
        uint256 buckets = 1;
        for (uint64 rest = segments; rest != 0; rest &= rest - 1) ++buckets;
        (counted.agreeBy, counted.revealedBy) = (new uint256[](buckets), new uint256[](buckets));
        uint256 position = 0;
        for (uint64 rest = segments; position < buckets; ++position) {
            uint8 bucket = OUTSIDE_SEGMENTS;
            if (rest != 0) {
                bucket = _lowestBit(rest);
                rest &= rest - 1;
            }
            Tally memory bucketTally = _tallies[proposalId][bucket];
            uint256 yes = uint256(bucketTally.stronglyAgree) + bucketTally.agree;
            uint256 all = yes + bucketTally.neutral + bucketTally.disagree;
            bool passed = _agrees(yes, all);
            if (passed && bucket != OUTSIDE_SEGMENTS) counted.passedSegments |= uint64(1) << bucket;
            emit SegmentResult(proposalId, bucket, bucketTally, passed);
            (counted.agreeBy[position], counted.revealedBy[position]) = (yes, all);
            (counted.agree, counted.revealed) = (counted.agree + yes, counted.revealed + all);
        }
    }

    /// @dev The pass rule: quorum, agreement over 60%, and still over 60% without any one bucket.
    function _outcome(Count memory counted, uint256 eligible) private view returns (Outcome) {
        if (counted.revealed == 0 || counted.revealed * BPS < quorumBps * eligible) return Outcome.NoQuorum;
        if (!_agrees(counted.agree, counted.revealed)) return Outcome.NoAgreement;
        for (uint256 i = 0; i < counted.agreeBy.length; ++i) {
            if (counted.revealedBy[i] == 0) continue;
            if (!_agrees(counted.agree - counted.agreeBy[i], counted.revealed - counted.revealedBy[i])) {
                return Outcome.OneSegment;
            }
        }
        return Outcome.Passed;
    }

    function _lowestBit(uint64 bits) private pure returns (uint8 index) {
        while (bits & 1 == 0) {
            bits >>= 1;
            ++index;
        }
    }

    function _open(uint256 proposalId) private view returns (Proposal storage stored) {
        stored = _proposals[proposalId];
        if (stored.status == Status.None) revert UnknownProposal(proposalId);
        if (stored.status != Status.Open) revert AlreadySettled(proposalId);
    }

    function _requireVotingOver(uint256 proposalId, uint256 createdAt) private view {
        uint256 revealEnd = createdAt + commitSeconds + revealSeconds;
        if (block.timestamp < revealEnd) revert VotingNotOver(proposalId, revealEnd);
    }

    /// @dev Exclude a tied identity found after the proposal was made; returns the weight it takes
    /// out of the eligible weight (which counted it only if it was bound before the proposal).
    /// A commitment already made is voided with it.
    function _exclude(uint256 proposalId, uint32 index, uint256 createdAt) private returns (uint256 weight) {
        uint256 packed = _votes[proposalId][index];
        if (packed & STATE_MASK == EXCLUDED) revert AlreadyExcluded(proposalId, index);
        // slither-disable-next-line unused-return (only the bind time is needed)
        (,, uint40 boundAt,,) = ledger.identity(index);
        weight = packed & STATE_MASK == COMMITTED ? uint48(packed >> 16) : ledger.weightOf(index);
        if (boundAt > createdAt) weight = 0;
        _votes[proposalId][index] = EXCLUDED;
    }

    function _requireRevealPhase(uint256 proposalId, uint256 createdAt) private view {
        uint256 commitEnd = createdAt + commitSeconds;
        uint256 revealEnd = commitEnd + revealSeconds;
        if (block.timestamp < commitEnd || block.timestamp >= revealEnd) {
            revert NotRevealPhase(proposalId, commitEnd, revealEnd);
        }
    }

    /// @dev Add a revealed vote to its bucket: the segment it was committed in when the proposal
    /// targets it, else the outside bucket. Returns the segment reported (`NO_SEGMENT` outside).
    function _addVote(uint256 proposalId, uint64 segments, uint256 packed, Vote vote) private returns (uint8) {
        uint56 weight = uint56(uint48(packed >> 16));
        uint8 segment = uint8(packed >> 8);
        uint8 bucket = segment < OUTSIDE_SEGMENTS && segments >> segment & 1 != 0 ? segment : OUTSIDE_SEGMENTS;
        Tally memory counted = _tallies[proposalId][bucket];
        if (vote == Vote.StronglyAgree) counted.stronglyAgree += weight;
        else if (vote == Vote.Agree) counted.agree += weight;
        else if (vote == Vote.Neutral) counted.neutral += weight;
        else counted.disagree += weight;
        counted.voters += 1;
        _tallies[proposalId][bucket] = counted;
        return bucket == OUTSIDE_SEGMENTS ? NO_SEGMENT : segment;
    }

    /// @dev Agreement strictly above 60% of a nonzero revealed weight.
    function _agrees(uint256 agree, uint256 revealed) private pure returns (bool) {
        return revealed != 0 && agree * BPS > AGREEMENT_BPS * revealed;
    }

    /// @dev 1 to MAX_SEGMENTS defined segments; returns how many segments the ledger defines.
    function _checkSegments(uint64 segments) private view returns (uint256 defined) {
        defined = ledger.segmentCount();
        uint256 count = 0;
        for (uint64 rest = segments; rest != 0; rest &= rest - 1) ++count;
        if (count == 0 || count > MAX_SEGMENTS || (defined < 64 && segments >> defined != 0)) {
            revert InvalidSegments(segments, MAX_SEGMENTS, defined);
        }
    }

    /// @dev The track ids, checked to be the artist's final registrations with their parents and
    /// splits as stored, and the tied accounts: the artist, each split's recipients and
    /// controllers (and pending controllers), and the parents' artists.
    function _ties(address artist, TrackTies[] calldata tracks)
        private
        view
        returns (bytes32[] memory trackIds, address[] memory tied)
    {
        if (tracks.length == 0 || tracks.length > MAX_TRACKS) revert InvalidTrackCount(tracks.length, MAX_TRACKS);
        trackIds = new bytes32[](tracks.length);
        tied = new address[](MAX_TIED);
        tied[0] = artist;
        uint256 count = 1;
        for (uint256 i = 0; i < tracks.length; ++i) {
            TrackTies calldata track = tracks[i];
            bytes32 trackId = track.trackId;
            for (uint256 j = 0; j < i; ++j) {
                if (trackIds[j] == trackId) revert DuplicateTrack(trackId);
            }
            trackIds[i] = trackId;
            address attributed = registry.getTrack(trackId).artist;
            if (attributed != artist) revert NotArtistTrack(trackId, attributed);
            if (!registry.isFinal(trackId)) revert TrackNotFinal(trackId);
            count = _parentTies(track, tied, count);
            // slither-disable-next-line unused-return (only which splits are set and their versions are needed)
            (,,,, bool[2] memory splitSet,, uint16[2] memory versions) = royalties.trackState(trackId);
            count = _splitTies(trackId, IRoyaltySplits.Right.Composition, track.composition, splitSet[0], versions[0],
                tied, count);
            count = _splitTies(trackId, IRoyaltySplits.Right.Master, track.master, splitSet[1], versions[1], tied, count);
        }
        assembly ("memory-safe") {
            mstore(tied, count) // shorten to the accounts written
        }
    }

    function _parentTies(TrackTies calldata track, address[] memory tied, uint256 count)
        private
        view
        returns (uint256)
    {
        bytes32 expected = registry.parentsHash(track.trackId);
        bytes32 given = track.parents.length == 0 ? bytes32(0) : keccak256(abi.encode(track.parents));
        if (given != expected) revert ParentsMismatch(track.trackId, expected, given);
        for (uint256 k = 0; k < track.parents.length; ++k) {
            count = _push(tied, count, registry.getTrack(track.parents[k].trackId).artist);
        }
        return count;
    }

    function _splitTies(
        bytes32 trackId,
        IRoyaltySplits.Right right,
        SplitList calldata split,
        bool isSet,
        uint16 version,
        address[] memory tied,
        uint256 count
    ) private view returns (uint256) {
        bytes32 expected = isSet ? royalties.splitHash(trackId, right, version) : bytes32(0);
        bytes32 given = split.recipients.length == 0 && split.bps.length == 0 && split.upstreamBps == 0
            ? bytes32(0)
            : keccak256(abi.encode(split.recipients, split.bps, split.upstreamBps));
        if (given != expected) revert SplitMismatch(trackId, right, expected, given);
        for (uint256 k = 0; k < split.recipients.length; ++k) {
            count = _push(tied, count, split.recipients[k]);
        }
        if (isSet) {
            (address controller, address pending) = royalties.controllerOf(trackId, right);
            if (controller != address(0)) count = _push(tied, count, controller);
            if (pending != address(0)) count = _push(tied, count, pending);
        }
        return count;
    }

    function _push(address[] memory tied, uint256 count, address account) private pure returns (uint256) {
        if (count == MAX_TIED) revert TooManyTies(count + 1, MAX_TIED);
        tied[count] = account;
        return count + 1;
    }

    /// @dev Mark every bound identity among the tied accounts as excluded (once each); returns
    /// the weight they take out of the eligible weight.
    function _excludeTied(uint256 proposalId, address[] memory tied) private returns (uint256 excluded) {
        for (uint256 i = 0; i < tied.length; ++i) {
            IReputationLedger.Voter memory voter = ledger.voterOf(tied[i]);
            if (voter.identity == 0 || _votes[proposalId][voter.identity] == EXCLUDED) continue;
            _votes[proposalId][voter.identity] = EXCLUDED;
            excluded += voter.weight;
        }
    }
}
