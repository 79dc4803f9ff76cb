// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "./Cheats.sol";
import {RegistryTest} from "./RegistryTest.sol";
import {ITrackRegistry} from "../../interfaces/ITrackRegistry.sol";

/// @notice Every function of the registry against its spec (ITrackRegistry): the stored record
/// field by field, every event whole, every revert with its arguments, each bound at its edge.
/// They are what `make mutation` measures: a mutant that changes what a caller can observe
/// fails one of these (docs/mutation.md lists the few that cannot be observed).
contract TrackRegistryUnitTest is RegistryTest {
    address internal constant COPIER = address(0xC0C0);
    address internal constant HEIR = address(0x4E14);

    // ---- commitments ---------------------------------------------------------------------------

    function test_aCommitmentIsRecordedOnceWithItsBlockAndTime() public {
        bytes32 commitment = commitmentOf(newAudio(), artist, "salt");
        check(registry.makeCommitment(newAudio(), artist, "salt") != commitment, "the audio is committed to");
        check(registry.makeCommitment(0, address(0), 0) == keccak256(abi.encode(0, address(0), 0)), "zero encoding");
        expectEmit();
        emit ITrackRegistry.RegistrationCommitted(commitment, RELAYER);
        vm.prank(RELAYER);
        registry.commitRegistration(commitment);
        (uint40 blockNumber, uint40 timestamp) = registry.commitmentOf(commitment);
        check(blockNumber == START_BLOCK && timestamp == START_TIME, "recorded block and time");
        nextBlock();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.CommitmentExists.selector, commitment, uint40(START_BLOCK)));
        registry.commitRegistration(commitment);
        (blockNumber, timestamp) = registry.commitmentOf(commitment);
        check(blockNumber == START_BLOCK && timestamp == START_TIME, "a copy does not move it");
    }

    function test_makeCommitmentIsTheSpecsHash(bytes32 audioHash, address who, bytes32 salt) public view {
        check(registry.makeCommitment(audioHash, who, salt) == commitmentOf(audioHash, who, salt), "commitment");
    }

    function test_anUnknownCommitmentIsNamed() public {
        bytes32 audioHash = newAudio();
        commit(audioHash, artist, "salt");
        nextBlock();
        // another sender, another salt: neither matches the recorded commitment
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownCommitment.selector, commitmentOf(audioHash, COPIER, "salt")));
        reveal(COPIER, audioHash, "salt", noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownCommitment.selector, commitmentOf(audioHash, artist, "other")));
        reveal(artist, audioHash, "other", noParents());
    }

    // ---- registration --------------------------------------------------------------------------

    function test_aRevealStoresTheRecordAndEmitsTheRegistration() public {
        bytes32 audioHash = newAudio();
        bytes32 commitment = commit(audioHash, artist, "salt");
        vm.roll(START_BLOCK + 5);
        vm.warp(START_TIME + 60);
        ITrackRegistry.Cid memory content = cid(1, RAW, audioHash);
        ITrackRegistry.Cid memory metadata = cid(1, DAG_CBOR, "metadata");
        vm.recordLogs();
        vm.prank(artist);
        bytes32 trackId = registry.registerTrack(audioHash, "salt", content, metadata, noParents());
        check(trackId == audioHash, "the track id is the audio hash");

        Vm.Log[] memory logs = vm.getRecordedLogs();
        check(logs.length == 1 && logs[0].emitter == address(registry), "one event");
        check(logs[0].topics[0] == ITrackRegistry.TrackRegistered.selector, "TrackRegistered");
        check(logs[0].topics[1] == audioHash, "trackId topic");
        check(logs[0].topics[2] == bytes32(uint256(uint160(artist))), "artist topic");
        check(logs[0].topics[3] == bytes32(uint256(uint160(artist))), "relayer topic: the sender");
        check(keccak256(logs[0].data) == keccak256(abi.encode(content, metadata, noParents())), "event data");

        checkTrack(audioHash, artist, START_TIME + 60, START_BLOCK, 0, "record");
        check(registry.isRegistered(audioHash), "registered");
        check(!registry.isFinal(audioHash), "not final yet");
        check(registry.parentsHash(audioHash) == bytes32(0), "no parents");
        check(registry.pendingArtist(audioHash) == address(0), "no offer");
        (uint40 blockNumber, uint40 timestamp) = registry.commitmentOf(commitment);
        check(blockNumber == 0 && timestamp == 0, "the reveal consumed its commitment");
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownCommitment.selector, commitment));
        vm.prank(artist);
        registry.registerTrack(audioHash, "salt", content, metadata, noParents());
    }

    function test_aRevealIsOpenUntilOneDayAfterTheCommitmentToTheSecond() public {
        bytes32 onTime = newAudio();
        bytes32 late = newAudio();
        commit(onTime, artist, "salt");
        bytes32 lateCommitment = commit(late, artist, "salt");
        vm.roll(block.number + 1);
        vm.warp(START_TIME + 1 days);
        reveal(artist, onTime, "salt", noParents());
        vm.warp(START_TIME + 1 days + 1);
        expectRevert(
            abi.encodeWithSelector(ITrackRegistry.CommitmentExpired.selector, lateCommitment, START_TIME + 1 days)
        );
        reveal(artist, late, "salt", noParents());
    }

    function test_aRevealInTheCommitmentsBlockIsTooNew() public {
        bytes32 audioHash = newAudio();
        bytes32 commitment = commit(audioHash, artist, "salt");
        vm.warp(block.timestamp + 12); // a later time does not make a later block
        expectRevert(abi.encodeWithSelector(ITrackRegistry.CommitmentTooNew.selector, commitment, uint40(START_BLOCK)));
        reveal(artist, audioHash, "salt", noParents());
        vm.roll(block.number + 1);
        reveal(artist, audioHash, "salt", noParents());
    }

    function test_theZeroAudioHashIsRefused() public {
        commit(0, artist, "salt");
        nextBlock();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidAudioHash.selector));
        vm.prank(artist);
        registry.registerTrack(0, "salt", cidV0("content"), cidV0("metadata"), noParents());
    }

    function test_unknownTracksReadAsUnregistered() public {
        bytes32 unknown = newAudio();
        check(!registry.isRegistered(unknown), "not registered");
        check(registry.parentsHash(unknown) == bytes32(0) && registry.pendingArtist(unknown) == address(0), "empty");
        bytes memory notRegistered = abi.encodeWithSelector(ITrackRegistry.TrackNotRegistered.selector, unknown);
        expectRevert(notRegistered);
        registry.getTrack(unknown);
        expectRevert(notRegistered);
        registry.isFinal(unknown);
    }

    function test_constants() public view {
        check(registry.MAX_PARENTS() == 16, "MAX_PARENTS");
        check(registry.MAX_COMMITMENT_AGE() == 1 days, "MAX_COMMITMENT_AGE");
    }

    function test_aRegistrationIsFinalOneDayAfterItsReveal() public {
        bytes32 trackId = registerNew(artist);
        uint256 registeredAt = block.timestamp;
        vm.warp(registeredAt + 1 days);
        check(!registry.isFinal(trackId), "an older commitment may still be revealed");
        vm.warp(registeredAt + 1 days + 1);
        check(registry.isFinal(trackId), "final");
    }

    /// @dev Every CID shape, as content and as metadata: the spec's rule decides, the contract must agree.
    function test_whichCidsAreContentAndWhichAreMetadata() public {
        uint16[6] memory codecs = [DAG_PB, RAW, DAG_CBOR, DAG_JSON, uint16(0x78), uint16(0)];
        uint16[3] memory hashes = [SHA2_256, uint16(0x13), uint16(0)];
        for (uint8 version = 0; version <= 2; ++version) {
            for (uint256 c = 0; c < codecs.length; ++c) {
                for (uint256 h = 0; h < hashes.length; ++h) {
                    for (uint256 d = 0; d < 2; ++d) {
                        ITrackRegistry.Cid memory value =
                            ITrackRegistry.Cid(version, codecs[c], hashes[h], d == 0 ? bytes32(0) : newAudio());
                        bool wellFormed = version <= 1 && value.hashFunction == SHA2_256 && value.digest != 0;
                        bool file = value.codec == DAG_PB || (version == 1 && value.codec == RAW);
                        bool document = version == 1 && (value.codec == DAG_CBOR || value.codec == DAG_JSON);
                        _tryCid(value, true, wellFormed && file);
                        _tryCid(value, false, wellFormed && (file || document));
                    }
                }
            }
        }
    }

    function _tryCid(ITrackRegistry.Cid memory value, bool asContent, bool valid) private {
        bytes32 audioHash = newAudio();
        commit(audioHash, artist, "salt");
        nextBlock();
        ITrackRegistry.Cid memory other = cidV0(audioHash);
        if (!valid) {
            expectRevert(
                abi.encodeWithSelector(
                    ITrackRegistry.InvalidCid.selector, value.version, value.codec, value.hashFunction, value.digest
                )
            );
        }
        vm.prank(artist);
        registry.registerTrack(audioHash, "salt", asContent ? value : other, asContent ? other : value, noParents());
        check(registry.isRegistered(audioHash) == valid, "registered exactly when the CID is valid");
    }

    // ---- the earliest commitment wins ----------------------------------------------------------

    function test_anOlderCommitmentTakesTheRegistrationOverAndStartsItsHistoryAnew() public {
        bytes32 older = registerNew(artist); // a parent, committed before everything below
        bytes32 audioHash = newAudio();
        uint40 artistAt = uint40(block.number);
        commit(audioHash, artist, "artist");
        nextBlock();
        uint40 copierAt = uint40(block.number);
        commit(audioHash, COPIER, "copier");
        nextBlock();
        reveal(COPIER, audioHash, "copier", parentList(older, ITrackRegistry.Relation.Sample));
        vm.prank(COPIER);
        registry.proposeAttributionTransfer(audioHash, HEIR);
        vm.prank(COPIER);
        registry.updateMetadata(audioHash, cidV0("v1"));
        check(registry.parentsHash(audioHash) != bytes32(0), "the copy declared a parent");
        nextBlock();

        vm.recordLogs();
        reveal(artist, audioHash, "artist", noParents());
        Vm.Log[] memory logs = vm.getRecordedLogs();
        check(logs.length == 2, "superseded, then registered");
        check(logs[0].topics[0] == ITrackRegistry.RegistrationSuperseded.selector, "RegistrationSuperseded first");
        check(logs[0].topics[1] == audioHash && logs[0].topics[2] == bytes32(uint256(uint160(COPIER))), "topics");
        check(keccak256(logs[0].data) == keccak256(abi.encode(copierAt, artistAt)), "commitment blocks");
        check(logs[1].topics[0] == ITrackRegistry.TrackRegistered.selector, "TrackRegistered second");

        checkTrack(audioHash, artist, block.timestamp, artistAt, 0, "the artist's record, metadata version 0");
        check(registry.parentsHash(audioHash) == bytes32(0), "the copy's parents are gone");
        check(registry.pendingArtist(audioHash) == address(0), "the copy's offer is gone");
        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotPendingArtist.selector, audioHash, HEIR));
        vm.prank(HEIR);
        registry.acceptAttributionTransfer(audioHash);
        check(registry.getTrack(older).artist == artist, "other tracks are untouched");
    }

    function test_aCommitmentInTheSameBlockDoesNotTakeOver() public {
        bytes32 audioHash = newAudio();
        commit(audioHash, artist, "artist");
        commit(audioHash, COPIER, "copier");
        nextBlock();
        reveal(COPIER, audioHash, "copier", noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.TrackAlreadyRegistered.selector, audioHash, COPIER));
        reveal(artist, audioHash, "artist", noParents());
        nextBlock();
        bytes32 newer = newAudio();
        commit(newer, COPIER, "copier");
        nextBlock();
        commit(newer, artist, "artist");
        nextBlock();
        reveal(COPIER, newer, "copier", noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.TrackAlreadyRegistered.selector, newer, COPIER));
        reveal(artist, newer, "artist", noParents());
        check(registry.getTrack(audioHash).artist == COPIER && registry.getTrack(newer).artist == COPIER, "held");
    }

    function test_aTakeOverWithParentsStoresItsOwnParents() public {
        bytes32 first = registerNew(artist);
        bytes32 second = registerNew(artist);
        bytes32 audioHash = newAudio();
        commit(audioHash, artist, "artist");
        nextBlock();
        commit(audioHash, COPIER, "copier");
        nextBlock();
        reveal(COPIER, audioHash, "copier", parentList(first, ITrackRegistry.Relation.Remix));
        ITrackRegistry.Parent[] memory parents = parentList(second, ITrackRegistry.Relation.Cover);
        reveal(artist, audioHash, "artist", parents);
        check(registry.parentsHash(audioHash) == keccak256(abi.encode(parents)), "the artist's parents");
    }

    function test_aTrackIsNeverItsOwnParentEvenWhenTakenOver() public {
        bytes32 audioHash = newAudio();
        commit(audioHash, artist, "artist");
        nextBlock();
        register(COPIER, audioHash, noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownParent.selector, audioHash));
        reveal(artist, audioHash, "artist", parentList(audioHash, ITrackRegistry.Relation.Remix));
    }

    // ---- parents -------------------------------------------------------------------------------

    function test_parentsAreStoredAsTheirHashAndEmitted() public {
        bytes32 first = registerNew(artist);
        bytes32 second = registerNew(COPIER);
        ITrackRegistry.Parent[] memory parents = new ITrackRegistry.Parent[](2);
        parents[0] = ITrackRegistry.Parent(first, ITrackRegistry.Relation.Remix);
        parents[1] = ITrackRegistry.Parent(second, ITrackRegistry.Relation.Cover);
        bytes32 child = newAudio();
        commit(child, HEIR, "salt");
        nextBlock();
        expectEmit();
        emit ITrackRegistry.TrackRegistered(child, HEIR, HEIR, cidV0(child), cidV0("salt"), parents);
        reveal(HEIR, child, "salt", parents);
        check(registry.parentsHash(child) == keccak256(abi.encode(parents)), "parents hash");
    }

    function test_sixteenParentsAtMost() public {
        ITrackRegistry.Parent[] memory parents = new ITrackRegistry.Parent[](17);
        for (uint256 i = 0; i < parents.length; ++i) {
            parents[i] = ITrackRegistry.Parent(registerNew(artist), ITrackRegistry.Relation(i % 3));
        }
        bytes32 child = newAudio();
        commit(child, artist, "salt");
        nextBlock();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.TooManyParents.selector, 17, 16));
        reveal(artist, child, "salt", parents);
        assembly {
            mstore(parents, 16) // the first sixteen
        }
        reveal(artist, child, "salt", parents);
        check(registry.parentsHash(child) == keccak256(abi.encode(parents)), "sixteen parents");
    }

    function test_everyParentIsCheckedAndNamed() public {
        bytes32 first = registerNew(artist);
        bytes32 second = registerNew(artist);
        bytes32 unknown = newAudio();
        bytes32 child = newAudio();
        uint40 committedAt = uint40(block.number);
        commit(child, artist, "salt");
        nextBlock();
        ITrackRegistry.Parent[] memory parents = new ITrackRegistry.Parent[](3);
        parents[0] = ITrackRegistry.Parent(first, ITrackRegistry.Relation.Remix);
        parents[1] = ITrackRegistry.Parent(second, ITrackRegistry.Relation.Sample);

        parents[2] = ITrackRegistry.Parent(unknown, ITrackRegistry.Relation.Cover); // the last one unknown
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownParent.selector, unknown));
        reveal(artist, child, "salt", parents);

        parents[2] = ITrackRegistry.Parent(first, ITrackRegistry.Relation.Cover); // a duplicate, not adjacent
        expectRevert(abi.encodeWithSelector(ITrackRegistry.DuplicateParent.selector, first));
        reveal(artist, child, "salt", parents);

        parents[2] = ITrackRegistry.Parent(second, ITrackRegistry.Relation.Cover); // an adjacent duplicate
        expectRevert(abi.encodeWithSelector(ITrackRegistry.DuplicateParent.selector, second));
        reveal(artist, child, "salt", parents);

        parents[0] = ITrackRegistry.Parent(unknown, ITrackRegistry.Relation.Cover); // the first one unknown
        expectRevert(abi.encodeWithSelector(ITrackRegistry.UnknownParent.selector, unknown));
        reveal(artist, child, "salt", parents);

        // a parent registered after the child's commitment (and one committed in the same block)
        bytes32 later = newAudio();
        uint40 laterAt = uint40(block.number);
        register(COPIER, later, noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ParentNotOlder.selector, later, laterAt, committedAt));
        reveal(artist, child, "salt", parentList(later, ITrackRegistry.Relation.Remix));
        check(!registry.isRegistered(child), "nothing registered");
    }

    function test_aParentCommittedInTheSameBlockIsNotOlder() public {
        bytes32 parent = newAudio();
        bytes32 child = newAudio();
        uint40 committedAt = uint40(block.number);
        commit(parent, COPIER, "salt");
        commit(child, artist, "salt");
        nextBlock();
        reveal(COPIER, parent, "salt", noParents());
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ParentNotOlder.selector, parent, committedAt, committedAt));
        reveal(artist, child, "salt", parentList(parent, ITrackRegistry.Relation.Remix));
    }

    // ---- relayed registration ------------------------------------------------------------------

    function _request(bytes32 audioHash, ITrackRegistry.Parent[] memory parents) internal view returns (Request memory) {
        return Request(artist, audioHash, "salt", cid(1, DAG_PB, audioHash), cid(1, DAG_JSON, "metadata"), parents,
            registry.nonces(artist), block.timestamp + 1 hours);
    }

    function _twoParents() internal returns (ITrackRegistry.Parent[] memory parents) {
        parents = new ITrackRegistry.Parent[](2);
        parents[0] = ITrackRegistry.Parent(registerNew(COPIER), ITrackRegistry.Relation.Sample);
        parents[1] = ITrackRegistry.Parent(registerNew(COPIER), ITrackRegistry.Relation.Cover);
    }

    function test_aRelayedRegistrationIsTheSigners() public {
        Request memory request = _request(newAudio(), _twoParents());
        commit(request.audioHash, artist, request.salt);
        nextBlock();
        expectEmit();
        emit ITrackRegistry.TrackRegistered(
            request.audioHash, artist, RELAYER, request.content, request.metadata, request.parents
        );
        bytes32 trackId = relay(request, signRequest(ARTIST_KEY, request));
        check(trackId == request.audioHash, "returns the track id");
        check(registry.getTrack(trackId).artist == artist, "the signer is the artist");
        check(registry.parentsHash(trackId) == keccak256(abi.encode(request.parents)), "parents");
        check(registry.nonces(artist) == 0, "registering does not consume the nonce");
    }

    function test_theDomainIsTheSpecs() public view {
        check(registry.DOMAIN_SEPARATOR() == domainSeparator(), "EIP-712 domain");
    }

    /// @dev The signature covers every field: a change to any one of them (to another valid value) is refused.
    function test_everySignedFieldIsBound() public {
        ITrackRegistry.Parent[] memory parents = _twoParents();
        for (uint256 field = 0; field < 11; ++field) {
            Request memory request = _request(newAudio(), parents);
            bytes memory signature = signRequest(ARTIST_KEY, request);
            if (field == 0) request.artist = COPIER;
            if (field == 1) request.audioHash = newAudio();
            if (field == 2) request.content.version = 0;
            if (field == 3) request.content.codec = RAW;
            if (field == 4) request.content.digest = "other";
            if (field == 5) request.metadata.codec = DAG_CBOR;
            if (field == 6) request.metadata.digest = "other";
            if (field == 7) request.parents = parentList(parents[0].trackId, parents[0].relation);
            if (field == 8) request.parents = parentList(parents[0].trackId, ITrackRegistry.Relation.Remix);
            if (field == 9) request.deadline += 1;
            if (field == 10) request.parents = _swapped(parents);
            commit(request.audioHash, request.artist, request.salt);
            nextBlock();
            expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, request.artist));
            relay(request, signature);
        }
    }

    function _swapped(ITrackRegistry.Parent[] memory parents) private pure returns (ITrackRegistry.Parent[] memory out) {
        out = new ITrackRegistry.Parent[](2);
        (out[0], out[1]) = (parents[1], parents[0]);
    }

    function test_aSignatureAtAnotherNonceIsRefused() public {
        Request memory request = _request(newAudio(), noParents());
        request.nonce = 1;
        bytes memory signature = signRequest(ARTIST_KEY, request);
        commit(request.audioHash, artist, request.salt);
        nextBlock();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, artist));
        relay(request, signature);
    }

    function test_theZeroArtistIsRefused() public {
        Request memory request = _request(newAudio(), noParents());
        bytes memory signature = signRequest(ARTIST_KEY, request);
        request.artist = address(0);
        commit(request.audioHash, address(0), request.salt);
        nextBlock();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ZeroAddress.selector));
        relay(request, signature);
    }

    function test_anExpiredSignatureIsNamed() public {
        Request memory request = _request(newAudio(), noParents());
        request.deadline = block.timestamp + 12;
        bytes memory signature = signRequest(ARTIST_KEY, request);
        commit(request.audioHash, artist, request.salt);
        vm.roll(block.number + 1);
        vm.warp(request.deadline + 1);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ExpiredSignature.selector, request.deadline));
        relay(request, signature);
        vm.warp(request.deadline);
        relay(request, signature);
    }

    // ---- nonces --------------------------------------------------------------------------------

    function test_invalidatingTheNonceVoidsOutstandingSignatures() public {
        Request memory request = _request(newAudio(), noParents());
        bytes memory outstanding = signRequest(ARTIST_KEY, request);
        commit(request.audioHash, artist, request.salt);
        nextBlock();
        expectEmit();
        emit ITrackRegistry.NonceInvalidated(artist, 0);
        vm.prank(artist);
        registry.invalidateNonce();
        check(registry.nonces(artist) == 1, "nonce moved on");
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, artist));
        relay(request, outstanding);
        request.nonce = 1;
        relay(request, signRequest(ARTIST_KEY, request));
        expectEmit();
        emit ITrackRegistry.NonceInvalidated(artist, 1);
        vm.prank(artist);
        registry.invalidateNonce();
        check(registry.nonces(artist) == 2 && registry.nonces(COPIER) == 0, "per artist");
    }

    function test_aGaslessArtistInvalidatesThroughARelayer() public {
        uint256 deadline = block.timestamp + 100;
        bytes memory signature = signInvalidation(ARTIST_KEY, artist, 0, deadline);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, COPIER));
        registry.invalidateNonceFor(COPIER, deadline, signature);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, artist));
        registry.invalidateNonceFor(artist, deadline + 1, signature);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ZeroAddress.selector));
        registry.invalidateNonceFor(address(0), deadline, signature);
        vm.warp(deadline + 1);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.ExpiredSignature.selector, deadline));
        registry.invalidateNonceFor(artist, deadline, signature);
        vm.warp(deadline);
        expectEmit();
        emit ITrackRegistry.NonceInvalidated(artist, 0);
        vm.prank(RELAYER);
        registry.invalidateNonceFor(artist, deadline, signature);
        check(registry.nonces(artist) == 1, "nonce moved on");
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidSignature.selector, artist));
        registry.invalidateNonceFor(artist, deadline, signature); // consumed: no replay
        bytes memory next = signInvalidation(ARTIST_KEY, artist, 1, deadline);
        registry.invalidateNonceFor(artist, deadline, next);
        check(registry.nonces(artist) == 2, "the next nonce");
    }

    // ---- metadata ------------------------------------------------------------------------------

    function test_theArtistPublishesMetadataVersions() public {
        bytes32 trackId = registerNew(artist);
        uint256 registeredAt = block.timestamp;
        for (uint16 version = 1; version <= 3; ++version) {
            ITrackRegistry.Cid memory metadata = cid(1, DAG_CBOR, bytes32(uint256(version)));
            expectEmit();
            emit ITrackRegistry.TrackMetadataUpdated(trackId, version, metadata);
            vm.prank(artist);
            registry.updateMetadata(trackId, metadata);
        }
        checkTrack(trackId, artist, registeredAt, START_BLOCK, 3, "three versions");
    }

    function test_onlyTheArtistUpdatesMetadataAndOnlyWithAValidCid() public {
        bytes32 trackId = registerNew(artist);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotArtist.selector, trackId, COPIER));
        vm.prank(COPIER);
        registry.updateMetadata(trackId, cidV0("v1"));
        bytes32 unknown = newAudio();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.TrackNotRegistered.selector, unknown));
        vm.prank(artist);
        registry.updateMetadata(unknown, cidV0("v1"));
        expectRevert(abi.encodeWithSelector(ITrackRegistry.InvalidCid.selector, uint8(0), RAW, SHA2_256, bytes32("v1")));
        vm.prank(artist);
        registry.updateMetadata(trackId, ITrackRegistry.Cid(0, RAW, SHA2_256, "v1"));
        check(registry.getTrack(trackId).metadataVersion == 0, "no version published");
    }

    // ---- attribution transfers -----------------------------------------------------------------

    function test_aTransferIsOfferedThenAccepted() public {
        bytes32 trackId = registerNew(artist);
        expectEmit();
        emit ITrackRegistry.AttributionTransferProposed(trackId, artist, HEIR);
        vm.prank(artist);
        registry.proposeAttributionTransfer(trackId, HEIR);
        check(registry.pendingArtist(trackId) == HEIR, "offered");
        check(registry.getTrack(trackId).artist == artist, "nothing moves before acceptance");

        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotPendingArtist.selector, trackId, COPIER));
        vm.prank(COPIER);
        registry.acceptAttributionTransfer(trackId);

        expectEmit();
        emit ITrackRegistry.AttributionTransferred(trackId, artist, HEIR);
        vm.prank(HEIR);
        registry.acceptAttributionTransfer(trackId);
        check(registry.getTrack(trackId).artist == HEIR, "the heir holds it");
        check(registry.pendingArtist(trackId) == address(0), "the offer is used");
        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotPendingArtist.selector, trackId, HEIR));
        vm.prank(HEIR);
        registry.acceptAttributionTransfer(trackId);

        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotArtist.selector, trackId, artist));
        vm.prank(artist);
        registry.updateMetadata(trackId, cidV0("v1"));
        vm.prank(HEIR);
        registry.updateMetadata(trackId, cidV0("v1"));
    }

    function test_onlyTheArtistOffersAndAWithdrawnOfferCannotBeAccepted() public {
        bytes32 trackId = registerNew(artist);
        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotArtist.selector, trackId, COPIER));
        vm.prank(COPIER);
        registry.proposeAttributionTransfer(trackId, COPIER);
        bytes32 unknown = newAudio();
        expectRevert(abi.encodeWithSelector(ITrackRegistry.TrackNotRegistered.selector, unknown));
        vm.prank(artist);
        registry.proposeAttributionTransfer(unknown, HEIR);

        vm.prank(artist);
        registry.proposeAttributionTransfer(trackId, HEIR);
        expectEmit();
        emit ITrackRegistry.AttributionTransferProposed(trackId, artist, address(0));
        vm.prank(artist);
        registry.proposeAttributionTransfer(trackId, address(0));
        expectRevert(abi.encodeWithSelector(ITrackRegistry.NotPendingArtist.selector, trackId, HEIR));
        vm.prank(HEIR);
        registry.acceptAttributionTransfer(trackId);
        check(registry.getTrack(trackId).artist == artist, "still the artist's");
    }
}
