"""TrackRegistry on anvil: commit-reveal registration (direct and relayed), metadata, transfers,
every revert with its arguments."""

import brownie
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from qfzz_chain.chain.signatures import register_track_typed_data
from qfzz_chain.chain.track_registry import make_commitment
from qfzz_chain.chain.types import CidParts
from tests.contracts.helpers import (
    COVER, DAG_PB, REMIX, SAMPLE, SHA2_256, cid_v0, cid_v1_raw, commit, deadline_in, invalidation_args, plain,
    random_digest, register, relay, relayed_args, reverts_with, set_next_block_time,
)  # fmt: skip

ZERO = b"\x00" * 32


@pytest.fixture
def artist(accounts):
    return accounts[1]


@pytest.fixture
def signer():
    """An artist with a key of their own and no ether: relayed registration needs none."""
    return Account.create()


# ---- commitments -----------------------------------------------------------------------------


def test_commitment_is_recorded_once_with_its_block_and_time(registry, artist, accounts):
    audio_hash, salt = random_digest(), random_digest()
    commitment = make_commitment(audio_hash, artist.address, salt)
    assert plain(registry.makeCommitment(audio_hash, artist, salt)) == commitment
    tx = registry.commitRegistration(commitment, {"from": accounts[5]})  # anyone may send it
    assert plain(tx.events["RegistrationCommitted"]) == {"commitment": commitment, "sender": accounts[5]}
    assert plain(registry.commitmentOf(commitment)) == (tx.block_number, tx.timestamp)
    with reverts_with("CommitmentExists", commitment, tx.block_number):  # a copy cannot move it later
        registry.commitRegistration(commitment, {"from": accounts[6]})


def test_reveal_in_the_commitments_block_reverts(registry, artist):
    audio_hash, salt, tx = commit(registry, artist, artist)
    commitment = make_commitment(audio_hash, artist.address, salt)
    # a call runs in the latest block, the commitment's own
    with reverts_with("CommitmentTooNew", commitment, tx.block_number):
        registry.registerTrack.call(audio_hash, salt, cid_v0(), cid_v0(), [], {"from": artist})


def test_reveal_is_open_for_one_day_to_the_second(registry, artist):
    window = registry.MAX_COMMITMENT_AGE()
    assert window == 86_400
    late_hash, late_salt, late_tx = commit(registry, artist, artist)
    on_time_hash, on_time_salt, on_time_tx = commit(registry, artist, artist)
    set_next_block_time(on_time_tx.timestamp + window)
    registry.registerTrack(on_time_hash, on_time_salt, cid_v0(), cid_v0(), [], {"from": artist})
    commitment = make_commitment(late_hash, artist.address, late_salt)
    set_next_block_time(late_tx.timestamp + window + 1)
    with reverts_with("CommitmentExpired", commitment, late_tx.timestamp + window):
        registry.registerTrack(late_hash, late_salt, cid_v0(), cid_v0(), [], {"from": artist})


def test_reveal_needs_the_senders_own_commitment_and_salt(registry, artist, accounts):
    audio_hash, salt, _ = commit(registry, artist, artist)
    for sender, used_salt in ((accounts[2], salt), (artist, random_digest())):
        with reverts_with("UnknownCommitment", make_commitment(audio_hash, sender.address, used_salt)):
            registry.registerTrack(audio_hash, used_salt, cid_v0(), cid_v0(), [], {"from": sender})


def test_a_commitment_is_revealed_once(registry, artist):
    audio_hash, salt, _ = commit(registry, artist, artist)
    registry.registerTrack(audio_hash, salt, cid_v0(), cid_v0(), [], {"from": artist})
    commitment = make_commitment(audio_hash, artist.address, salt)
    assert plain(registry.commitmentOf(commitment)) == (0, 0)
    with reverts_with("UnknownCommitment", commitment):
        registry.registerTrack(audio_hash, salt, cid_v0(), cid_v0(), [], {"from": artist})


# ---- registration ----------------------------------------------------------------------------


def test_register_stores_packed_record_and_emits_everything(registry, artist):
    content, metadata = cid_v1_raw(), cid_v0()
    audio_hash, salt, commit_tx = commit(registry, artist, artist)
    tx = registry.registerTrack(audio_hash, salt, content, metadata, [], {"from": artist})

    assert plain(tx.return_value) == audio_hash
    stored = registry.getTrack(audio_hash)
    assert plain(stored) == (artist.address, tx.timestamp, commit_tx.block_number, 0)
    assert registry.isRegistered(audio_hash) and not registry.isFinal(audio_hash)
    assert plain(tx.events["TrackRegistered"]) == {
        "trackId": audio_hash, "artist": artist.address, "relayer": artist.address, "content": content,
        "metadata": metadata, "parents": (),
    }  # fmt: skip
    assert "RegistrationSuperseded" not in tx.events


def test_registration_is_final_once_no_older_commitment_can_be_revealed(registry, artist):
    track_id, tx = register(registry, artist)
    set_next_block_time(tx.timestamp + registry.MAX_COMMITMENT_AGE())
    brownie.chain.mine()
    assert not registry.isFinal(track_id)
    set_next_block_time(tx.timestamp + registry.MAX_COMMITMENT_AGE() + 1)
    brownie.chain.mine()
    assert registry.isFinal(track_id)
    with reverts_with("TrackNotRegistered", ZERO):
        registry.isFinal(ZERO)


def test_same_audio_under_any_cid_registers_once(registry, artist, accounts):
    """The id is the audio's SHA-256: a CIDv1 re-add of the same bytes names the existing track."""
    audio_hash, _ = register(registry, artist, content=cid_v0())
    for content in (cid_v1_raw(), (1, DAG_PB, SHA2_256, random_digest())):
        with reverts_with("TrackAlreadyRegistered", audio_hash, artist.address):
            register(registry, accounts[2], audio_hash, content=content)


def test_zero_audio_hash_reverts(registry, artist):
    with reverts_with("InvalidAudioHash"):
        register(registry, artist, ZERO)


@pytest.mark.parametrize("content", [(0, DAG_PB, SHA2_256, None), (1, DAG_PB, SHA2_256, None), (1, 0x55, SHA2_256, None)])
def test_every_file_cid_ipfs_add_makes_is_content(registry, artist, content):
    """CIDv0, CIDv1 dag-pb (`ipfs add --cid-version 1 --raw-leaves=false`) and CIDv1 raw leaves."""
    content = content[:3] + (random_digest(),)
    track_id, tx = register(registry, artist, content=content)
    assert plain(tx.events["TrackRegistered"]["content"]) == content


@pytest.mark.parametrize(
    "bad_cid",
    [
        (2, 0x70, 0x12, b"\x01" * 32),  # unknown CID version
        (0, 0x55, 0x12, b"\x01" * 32),  # CIDv0 is always dag-pb
        (0, 0x70, 0x13, b"\x01" * 32),  # CIDv0 is always sha2-256
        (1, 0x55, 0x1E, b"\x01" * 32),  # blake3: the digest would name other bytes than kubo's CID
        (1, 0x55, 0x12, b"\x00" * 32),  # zero digest
        (1, 0x78, 0x12, b"\x01" * 32),  # git-raw is no file codec
    ],
)
@pytest.mark.parametrize("field", ["content", "metadata"])
def test_malformed_cid_reverts(registry, artist, bad_cid, field):
    content, metadata = (bad_cid, cid_v0()) if field == "content" else (cid_v0(), bad_cid)
    with reverts_with("InvalidCid", *bad_cid):
        register(registry, artist, content=content, metadata=metadata)


@pytest.mark.parametrize("codec", [0x71, 0x0129])  # dag-cbor, dag-json
def test_metadata_may_be_an_ipld_document_but_audio_may_not(registry, artist, codec):
    document = (1, codec, 0x12, random_digest())
    register(registry, artist, metadata=document)
    with reverts_with("InvalidCid", *document):
        register(registry, artist, content=document)


def test_unknown_track_reads_revert(registry):
    digest = random_digest()
    assert not registry.isRegistered(digest)
    with reverts_with("TrackNotRegistered", digest):
        registry.getTrack(digest)


# ---- parents: the attribution graph ----------------------------------------------------------


def test_parents_are_checked_hashed_and_emitted(registry, artist, accounts):
    original, _ = register(registry, artist)
    sampled, _ = register(registry, accounts[2])
    parents = [(original, REMIX), (sampled, SAMPLE)]
    remix, tx = register(registry, accounts[3], parents=parents)

    assert plain(tx.events["TrackRegistered"]["parents"]) == tuple(parents)
    expected = keccak(encode(["(bytes32,uint8)[]"], [parents]))
    assert plain(registry.parentsHash(remix)) == expected
    assert plain(registry.parentsHash(original)) == ZERO


def test_unknown_parent_reverts(registry, artist):
    parent = random_digest()
    with reverts_with("UnknownParent", parent):
        register(registry, artist, parents=[(parent, COVER)])


def test_duplicate_parent_reverts(registry, artist):
    original, _ = register(registry, artist)
    with reverts_with("DuplicateParent", original):
        register(registry, artist, parents=[(original, REMIX), (original, SAMPLE)])


def test_too_many_parents_reverts(registry, artist):
    limit = registry.MAX_PARENTS()
    parents = [(register(registry, artist)[0], REMIX) for _ in range(limit + 1)]
    register(registry, artist, parents=parents[:limit])
    with reverts_with("TooManyParents", limit + 1, limit):
        register(registry, artist, parents=parents)


def test_a_parent_committed_after_its_child_reverts(registry, artist, accounts):
    """Parents come first: a remix committed before its original was cannot name it."""
    remix_hash, remix_salt, remix_commit = commit(registry, artist, artist)
    original, original_tx = register(registry, accounts[2])
    original_committed = registry.getTrack(original)["committedAt"]
    with reverts_with("ParentNotOlder", original, original_committed, remix_commit.block_number):
        registry.registerTrack(remix_hash, remix_salt, cid_v0(), cid_v0(), [(original, REMIX)], {"from": artist})


def test_a_track_cannot_be_its_own_parent(registry, artist, accounts):
    """Not at registration (it is not registered yet) nor when an older commitment takes it over."""
    audio_hash = random_digest()
    with reverts_with("UnknownParent", audio_hash):
        register(registry, artist, audio_hash, parents=[(audio_hash, REMIX)])
    older_hash, older_salt, _ = commit(registry, accounts[2], accounts[2], audio_hash)
    register(registry, artist, audio_hash)
    with reverts_with("UnknownParent", audio_hash):
        registry.registerTrack(audio_hash, older_salt, cid_v0(), cid_v0(), [(audio_hash, REMIX)], {"from": accounts[2]})


# ---- the earliest commitment wins ------------------------------------------------------------


def test_an_older_commitment_takes_the_registration_over(registry, artist, accounts):
    """Someone who copied the audio registers first, from a later commitment; the artist's older
    commitment, revealed within its window, takes the track back, and its history starts anew."""
    copier = accounts[2]
    audio_hash, artist_salt, artist_commit = commit(registry, artist, artist)
    track_id, copier_tx = register(registry, copier, audio_hash)
    copier_committed = registry.getTrack(track_id)["committedAt"]
    original = register(registry, copier)[0]
    registry.proposeAttributionTransfer(track_id, accounts[3], {"from": copier})
    registry.updateMetadata(track_id, cid_v0(), {"from": copier})

    tx = registry.registerTrack(audio_hash, artist_salt, cid_v0(), cid_v0(), [], {"from": artist})
    assert plain(tx.events["RegistrationSuperseded"]) == {
        "trackId": track_id, "previousArtist": copier.address, "previousCommittedAt": copier_committed,
        "committedAt": artist_commit.block_number,
    }  # fmt: skip
    assert plain(registry.getTrack(track_id)) == (artist.address, tx.timestamp, artist_commit.block_number, 0)
    assert registry.pendingArtist(track_id) == brownie.ZERO_ADDRESS
    with reverts_with("NotPendingArtist", track_id, accounts[3].address):
        registry.acceptAttributionTransfer(track_id, {"from": accounts[3]})
    assert registry.isRegistered(original)


def test_a_newer_commitment_cannot_take_a_registration_over(registry, artist, accounts):
    audio_hash, salt, _ = commit(registry, artist, artist)
    later_hash, later_salt, _ = commit(registry, accounts[2], accounts[2], audio_hash)
    registry.registerTrack(audio_hash, salt, cid_v0(), cid_v0(), [], {"from": artist})
    with reverts_with("TrackAlreadyRegistered", audio_hash, artist.address):
        registry.registerTrack(audio_hash, later_salt, cid_v0(), cid_v0(), [], {"from": accounts[2]})


def test_taking_over_replaces_the_parents(registry, artist, accounts):
    parent = register(registry, accounts[4])[0]
    audio_hash, salt, _ = commit(registry, artist, artist)
    register(registry, accounts[2], audio_hash, parents=[(parent, COVER)])
    registry.registerTrack(audio_hash, salt, cid_v0(), cid_v0(), [], {"from": artist})
    assert plain(registry.parentsHash(audio_hash)) == ZERO


# ---- relayed registration (EIP-712) ----------------------------------------------------------


def test_relayed_registration_attributes_to_the_signer(registry, signer, accounts):
    relayer = accounts[5]
    content, metadata = cid_v1_raw(), cid_v0()
    track_id, tx = relay(registry, signer, relayer, content=content, metadata=metadata)
    assert registry.getTrack(track_id)["artist"] == signer.address
    event = tx.events["TrackRegistered"]
    assert event["artist"] == signer.address and event["relayer"] == relayer
    assert registry.nonces(signer.address) == 0  # a counter, not consumed: see invalidateNonce


def test_relayed_registration_for_a_contract_wallet(registry, ERC1271Wallet, signer, accounts):
    """ERC-1271: a wallet contract (a multisig, an account-abstraction wallet) is the artist."""
    wallet = ERC1271Wallet.deploy(signer.address, {"from": accounts[0]})
    track_id, _ = relay(registry, signer, accounts[5], artist=wallet.address)
    assert registry.getTrack(track_id)["artist"] == wallet.address
    stranger = Account.create()
    audio_hash, salt, _ = commit(registry, wallet.address, accounts[5])
    args = relayed_args(registry, stranger, audio_hash, cid_v0(), cid_v0(), artist=wallet.address, salt=salt)
    with reverts_with("InvalidSignature", wallet.address):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_relayed_registration_with_parents(registry, signer, artist, accounts):
    original, _ = register(registry, artist)
    track_id, _ = relay(registry, signer, accounts[5], parents=[(original, COVER)])
    assert plain(registry.parentsHash(track_id)) == keccak(encode(["(bytes32,uint8)[]"], [[(original, COVER)]]))


def _committed_relay_args(registry, signer, relayer, **changes):
    audio_hash, salt, _ = commit(registry, signer.address, relayer)
    return relayed_args(registry, signer, audio_hash, cid_v0(), cid_v0(), salt=salt, **changes)


def test_signature_valid_until_its_deadline_second(registry, signer, accounts):
    deadline = deadline_in(100)
    args = _committed_relay_args(registry, signer, accounts[5], deadline=deadline)
    set_next_block_time(deadline + 1)
    with reverts_with("ExpiredSignature", deadline):
        registry.registerTrackFor(*args, {"from": accounts[5]})
    args = _committed_relay_args(registry, signer, accounts[5], deadline=deadline_in(100))
    set_next_block_time(args[6])
    registry.registerTrackFor(*args, {"from": accounts[5]})


def test_signature_by_someone_else_reverts(registry, signer, accounts):
    args = _committed_relay_args(registry, signer, accounts[5])
    args[0] = accounts[2].address  # claim the track for another artist with the signer's signature
    with reverts_with("InvalidSignature", accounts[2].address):
        registry.registerTrackFor(*args, {"from": accounts[5]})


@pytest.mark.parametrize("tampered", ["audio", "content", "metadata", "parents", "deadline"])
def test_tampered_fields_revert(registry, signer, artist, accounts, tampered):
    original, _ = register(registry, artist)
    args = _committed_relay_args(registry, signer, accounts[5])
    index = {"audio": 1, "content": 3, "metadata": 4, "parents": 5, "deadline": 6}[tampered]
    args[index] = {"audio": random_digest(), "content": cid_v0(), "metadata": cid_v0(),
                   "parents": [(original, REMIX)], "deadline": args[6] + 1}[tampered]  # fmt: skip
    if tampered == "audio":  # the commitment must match too, or UnknownCommitment would hide the check
        registry.commitRegistration(make_commitment(args[1], signer.address, args[2]), {"from": accounts[5]})
    with reverts_with("InvalidSignature", signer.address):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_replayed_reveal_reverts(registry, signer, accounts):
    args = _committed_relay_args(registry, signer, accounts[5])
    registry.registerTrackFor(*args, {"from": accounts[5]})
    commitment = make_commitment(args[1], signer.address, args[2])
    with reverts_with("UnknownCommitment", commitment):  # the reveal consumed its commitment
        registry.registerTrackFor(*args, {"from": accounts[6]})


def test_signatures_at_one_nonce_relay_in_any_order(registry, signer, accounts):
    first = _committed_relay_args(registry, signer, accounts[5])
    second = _committed_relay_args(registry, signer, accounts[6])
    registry.registerTrackFor(*second, {"from": accounts[6]})
    registry.registerTrackFor(*first, {"from": accounts[5]})
    assert registry.getTrack(first[1])["artist"] == registry.getTrack(second[1])["artist"] == signer.address


def test_invalidated_nonce_voids_every_outstanding_signature(registry, signer, accounts):
    outstanding = [_committed_relay_args(registry, signer, accounts[5]) for _ in range(2)]
    accounts[0].transfer(signer.address, "1 ether")
    brownie.accounts.add(signer.key.hex())
    tx = registry.invalidateNonce({"from": signer.address})
    assert plain(tx.events["NonceInvalidated"]) == {"artist": signer.address, "nonce": 0}
    assert registry.nonces(signer.address) == 1
    for args in outstanding:
        with reverts_with("InvalidSignature", signer.address):
            registry.registerTrackFor(*args, {"from": accounts[5]})
    fresh = _committed_relay_args(registry, signer, accounts[5])  # signed at the new nonce
    registry.registerTrackFor(*fresh, {"from": accounts[5]})


def test_a_gasless_artist_invalidates_through_a_relayer(registry, signer, accounts):
    outstanding = _committed_relay_args(registry, signer, accounts[5])
    args = invalidation_args(registry, signer)
    tx = registry.invalidateNonceFor(*args, {"from": accounts[6]})
    assert plain(tx.events["NonceInvalidated"]) == {"artist": signer.address, "nonce": 0}
    with reverts_with("InvalidSignature", signer.address):  # consumed: no replay
        registry.invalidateNonceFor(*args, {"from": accounts[6]})
    with reverts_with("InvalidSignature", signer.address):
        registry.registerTrackFor(*outstanding, {"from": accounts[5]})


def test_invalidation_signature_checks(registry, signer, accounts):
    deadline = deadline_in(50)
    artist, _, signature = invalidation_args(registry, signer, deadline=deadline)
    with reverts_with("InvalidSignature", accounts[2].address):
        registry.invalidateNonceFor(accounts[2].address, deadline, signature, {"from": accounts[6]})
    set_next_block_time(deadline + 1)
    with reverts_with("ExpiredSignature", deadline):
        registry.invalidateNonceFor(artist, deadline, signature, {"from": accounts[6]})
    with reverts_with("ZeroAddress"):
        registry.invalidateNonceFor(brownie.ZERO_ADDRESS, deadline_in(50), signature, {"from": accounts[6]})


def test_zero_artist_reverts(registry, signer, accounts):
    args = _committed_relay_args(registry, signer, accounts[5])
    args[0] = brownie.ZERO_ADDRESS
    with reverts_with("ZeroAddress"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_malleable_high_s_signature_reverts(registry, signer, accounts):
    secp256k1_n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    args = _committed_relay_args(registry, signer, accounts[5])
    signature = args[7]
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    args[7] = r + (secp256k1_n - s).to_bytes(32, "big") + bytes([55 - v])  # the twin signature: same signer
    with reverts_with("InvalidSignature", signer.address):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_eip712_domain_matches_the_python_signer(registry):
    from eth_account.messages import encode_typed_data

    from qfzz_chain.chain.signatures import DOMAIN_NAME, DOMAIN_VERSION

    _, name, version, chain_id, verifying_contract, _, _ = registry.eip712Domain()
    assert (name, version, chain_id, verifying_contract) == (DOMAIN_NAME, DOMAIN_VERSION, brownie.chain.id, registry.address)
    typed = register_track_typed_data(chain_id=brownie.chain.id, registry=registry.address, artist=registry.address,
                                      audio_hash=ZERO, content=CidParts.from_tuple(cid_v0()),
                                      metadata=CidParts.from_tuple(cid_v0()), parents=[], nonce=0, deadline=0)  # fmt: skip
    assert plain(registry.DOMAIN_SEPARATOR()) == bytes(encode_typed_data(full_message=typed).header)


# ---- metadata versions -----------------------------------------------------------------------


def test_artist_publishes_metadata_versions(registry, artist):
    track_id, _ = register(registry, artist)
    for version in (1, 2):
        metadata = cid_v1_raw()
        tx = registry.updateMetadata(track_id, metadata, {"from": artist})
        assert plain(tx.events["TrackMetadataUpdated"]) == {"trackId": track_id, "metadataVersion": version,
                                                            "metadata": metadata}  # fmt: skip
    assert registry.getTrack(track_id)["metadataVersion"] == 2


def test_only_the_artist_updates_metadata(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    with reverts_with("NotArtist", track_id, accounts[2].address):
        registry.updateMetadata(track_id, cid_v0(), {"from": accounts[2]})
    unknown = random_digest()
    with reverts_with("TrackNotRegistered", unknown):
        registry.updateMetadata(unknown, cid_v0(), {"from": artist})
    with reverts_with("InvalidCid", 3, 0, 0, b"\x01" * 32):
        registry.updateMetadata(track_id, (3, 0, 0, b"\x01" * 32), {"from": artist})


# ---- two-step attribution transfer -----------------------------------------------------------


def test_two_step_transfer(registry, artist, accounts):
    heir = accounts[2]
    track_id, _ = register(registry, artist)
    tx = registry.proposeAttributionTransfer(track_id, heir, {"from": artist})
    assert plain(tx.events["AttributionTransferProposed"]) == {"trackId": track_id, "from": artist, "to": heir}
    assert registry.pendingArtist(track_id) == heir
    assert registry.getTrack(track_id)["artist"] == artist  # nothing moves before acceptance

    tx = registry.acceptAttributionTransfer(track_id, {"from": heir})
    assert plain(tx.events["AttributionTransferred"]) == {"trackId": track_id, "from": artist, "to": heir}
    assert registry.getTrack(track_id)["artist"] == heir
    assert registry.pendingArtist(track_id) == brownie.ZERO_ADDRESS
    with reverts_with("NotArtist", track_id, artist.address):
        registry.updateMetadata(track_id, cid_v0(), {"from": artist})
    registry.updateMetadata(track_id, cid_v0(), {"from": heir})


def test_transfer_reverts(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    with reverts_with("NotArtist", track_id, accounts[2].address):
        registry.proposeAttributionTransfer(track_id, accounts[3], {"from": accounts[2]})
    unknown = random_digest()
    with reverts_with("TrackNotRegistered", unknown):
        registry.proposeAttributionTransfer(unknown, accounts[3], {"from": artist})
    registry.proposeAttributionTransfer(track_id, accounts[3], {"from": artist})
    with reverts_with("NotPendingArtist", track_id, accounts[2].address):
        registry.acceptAttributionTransfer(track_id, {"from": accounts[2]})
    with reverts_with("NotPendingArtist", unknown, accounts[3].address):
        registry.acceptAttributionTransfer(unknown, {"from": accounts[3]})


def test_withdrawn_offer_cannot_be_accepted(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    registry.proposeAttributionTransfer(track_id, accounts[3], {"from": artist})
    tx = registry.proposeAttributionTransfer(track_id, brownie.ZERO_ADDRESS, {"from": artist})
    assert tx.events["AttributionTransferProposed"]["to"] == brownie.ZERO_ADDRESS
    with reverts_with("NotPendingArtist", track_id, accounts[3].address):
        registry.acceptAttributionTransfer(track_id, {"from": accounts[3]})
