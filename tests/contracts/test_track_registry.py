"""TrackRegistry on anvil: registration (direct and relayed), metadata, transfers, every revert."""

import brownie
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from qfzz_chain.chain.signatures import register_track_typed_data, sign_typed_data
from qfzz_chain.chain.types import CidParts, Parent, Relation
from tests.contracts.helpers import cid_v0, cid_v1_raw, deadline_in, plain, random_digest, reverts_with

REMIX, SAMPLE, COVER = int(Relation.REMIX), int(Relation.SAMPLE), int(Relation.COVER)


@pytest.fixture
def artist(accounts):
    return accounts[1]


@pytest.fixture
def signer():
    """An artist with a key of their own and no ether: relayed registration needs none."""
    return Account.create()


def register(registry, sender, content=None, metadata=None, parents=()):
    content = content or cid_v0()
    tx = registry.registerTrack(content, metadata or cid_v0(), list(parents), {"from": sender})
    return content[3], tx


def relayed_args(registry, artist_key, content, metadata, parents=(), nonce=None, deadline=None):
    artist = Account.from_key(artist_key.key).address
    deadline = deadline if deadline is not None else deadline_in(3600)
    typed = register_track_typed_data(
        chain_id=brownie.chain.id,
        registry=registry.address,
        artist=artist,
        content=CidParts.from_tuple(content),
        metadata=CidParts.from_tuple(metadata),
        parents=[Parent(p[0], Relation(p[1])) for p in parents],
        nonce=registry.nonces(artist) if nonce is None else nonce,
        deadline=deadline,
    )
    signature = sign_typed_data(artist_key.key, typed)
    return [artist, content, metadata, list(parents), deadline, signature]


# ---- direct registration -------------------------------------------------------------------


def test_register_stores_packed_record_and_emits_everything(registry, artist):
    content, metadata = cid_v1_raw(), cid_v0()
    track_id, tx = register(registry, artist, content, metadata)

    stored = registry.getTrack(track_id)
    assert stored["artist"] == artist
    assert stored["registeredAt"] == tx.timestamp
    assert (stored["cidVersion"], stored["codec"], stored["hashFunction"]) == content[:3]
    assert stored["metadataVersion"] == 0
    assert registry.isRegistered(track_id)
    assert plain(registry.contentCid(track_id)) == content

    event = tx.events["TrackRegistered"]
    assert plain(event["trackId"]) == track_id
    assert event["artist"] == artist and event["relayer"] == artist
    assert plain(event["content"]) == content and plain(event["metadata"]) == metadata
    assert event["parents"] == ()


def test_content_cid_rebuilds_the_exact_cid_string(registry, artist):
    from multiformats import CID

    for text in ("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
                 "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"):
        parts = CidParts.from_cid(CID.decode(text))
        track_id, _ = register(registry, artist, parts.as_tuple())
        assert str(CidParts.from_tuple(registry.contentCid(track_id))) == text


def test_duplicate_content_reverts(registry, artist, accounts):
    content = cid_v0()
    register(registry, artist, content)
    with reverts_with("TrackAlreadyRegistered"):
        register(registry, accounts[2], content)


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
    with reverts_with("InvalidCid"):
        registry.registerTrack(content, metadata, [], {"from": artist})


@pytest.mark.parametrize("codec", [0x71, 0x0129])  # dag-cbor, dag-json
def test_metadata_may_be_an_ipld_document_but_audio_may_not(registry, artist, codec):
    document = (1, codec, 0x12, random_digest())
    registry.registerTrack(cid_v0(), document, [], {"from": artist})
    with reverts_with("InvalidCid"):
        registry.registerTrack(document, cid_v0(), [], {"from": artist})


def test_unknown_track_reads_revert(registry):
    assert not registry.isRegistered(random_digest())
    with reverts_with("TrackNotRegistered"):
        registry.getTrack(random_digest())
    with reverts_with("TrackNotRegistered"):
        registry.contentCid(random_digest())


# ---- parents: the attribution graph ----------------------------------------------------------


def test_parents_are_checked_hashed_and_emitted(registry, artist, accounts):
    original, _ = register(registry, artist)
    sampled, _ = register(registry, accounts[2])
    parents = [(original, REMIX), (sampled, SAMPLE)]
    remix, tx = register(registry, accounts[3], parents=parents)

    assert plain(tx.events["TrackRegistered"]["parents"]) == tuple(parents)
    expected = keccak(encode(["(bytes32,uint8)[]"], [parents]))
    assert plain(registry.parentsHash(remix)) == expected
    assert plain(registry.parentsHash(original)) == b"\x00" * 32


def test_unknown_parent_reverts(registry, artist):
    with reverts_with("UnknownParent"):
        register(registry, artist, parents=[(random_digest(), COVER)])


def test_duplicate_parent_reverts(registry, artist):
    original, _ = register(registry, artist)
    with reverts_with("DuplicateParent"):
        register(registry, artist, parents=[(original, REMIX), (original, SAMPLE)])


def test_too_many_parents_reverts(registry, artist):
    limit = registry.MAX_PARENTS()
    parents = [(register(registry, artist)[0], REMIX) for _ in range(limit + 1)]
    register(registry, artist, parents=parents[:limit])
    with reverts_with("TooManyParents"):
        register(registry, artist, parents=parents)


def test_a_track_cannot_be_its_own_parent(registry, artist):
    content = cid_v0()
    with reverts_with("UnknownParent"):
        register(registry, artist, content, parents=[(content[3], REMIX)])


# ---- relayed registration (EIP-712) ----------------------------------------------------------


def test_relayed_registration_attributes_to_the_signer(registry, signer, accounts):
    relayer = accounts[5]
    content, metadata = cid_v1_raw(), cid_v0()
    tx = registry.registerTrackFor(*relayed_args(registry, signer, content, metadata), {"from": relayer})

    assert registry.getTrack(content[3])["artist"] == signer.address
    event = tx.events["TrackRegistered"]
    assert event["artist"] == signer.address and event["relayer"] == relayer
    assert registry.nonces(signer.address) == 0  # a counter, not consumed: see invalidateNonce


def test_relayed_registration_with_parents(registry, signer, artist, accounts):
    original, _ = register(registry, artist)
    content = cid_v0()
    args = relayed_args(registry, signer, content, cid_v0(), parents=[(original, COVER)])
    registry.registerTrackFor(*args, {"from": accounts[5]})
    assert plain(registry.parentsHash(content[3])) == keccak(encode(["(bytes32,uint8)[]"], [[(original, COVER)]]))


def test_expired_signature_reverts(registry, signer, accounts):
    args = relayed_args(registry, signer, cid_v0(), cid_v0(), deadline=deadline_in(-1))
    with reverts_with("ExpiredSignature"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_signature_by_someone_else_reverts(registry, signer, accounts):
    args = relayed_args(registry, signer, cid_v0(), cid_v0())
    args[0] = accounts[2].address  # claim the track for another artist with the signer's signature
    with reverts_with("InvalidSignature"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


@pytest.mark.parametrize("tampered", ["content", "metadata", "parents", "deadline"])
def test_tampered_fields_revert(registry, signer, artist, accounts, tampered):
    original, _ = register(registry, artist)
    args = relayed_args(registry, signer, cid_v0(), cid_v0())
    if tampered == "content":
        args[1] = cid_v0()
    elif tampered == "metadata":
        args[2] = cid_v0()
    elif tampered == "parents":
        args[3] = [(original, REMIX)]
    else:
        args[4] += 1
    with reverts_with("InvalidSignature"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_replayed_signature_reverts(registry, signer, accounts):
    content = cid_v0()
    args = relayed_args(registry, signer, content, cid_v0())
    registry.registerTrackFor(*args, {"from": accounts[5]})
    with reverts_with("TrackAlreadyRegistered"):  # a CID registers once: the signature is spent
        registry.registerTrackFor(*args, {"from": accounts[6]})


def test_signatures_at_one_nonce_relay_in_any_order(registry, signer, accounts):
    first, second = cid_v0(), cid_v1_raw()
    first_args = relayed_args(registry, signer, first, cid_v0())
    second_args = relayed_args(registry, signer, second, cid_v0())
    registry.registerTrackFor(*second_args, {"from": accounts[5]})
    registry.registerTrackFor(*first_args, {"from": accounts[6]})
    assert registry.getTrack(first[3])["artist"] == registry.getTrack(second[3])["artist"] == signer.address


def test_invalidated_nonce_voids_every_outstanding_signature(registry, signer, accounts):
    outstanding = [relayed_args(registry, signer, cid_v0(), cid_v0()) for _ in range(2)]
    accounts[0].transfer(signer.address, "1 ether")
    brownie.accounts.add(signer.key.hex())
    tx = registry.invalidateNonce({"from": signer.address})
    assert tx.events["NonceInvalidated"]["nonce"] == 0
    assert registry.nonces(signer.address) == 1
    for args in outstanding:
        with reverts_with("InvalidSignature"):
            registry.registerTrackFor(*args, {"from": accounts[5]})
    fresh = relayed_args(registry, signer, cid_v0(), cid_v0())  # signed at the new nonce
    registry.registerTrackFor(*fresh, {"from": accounts[5]})


def test_zero_artist_reverts(registry, signer, accounts):
    args = relayed_args(registry, signer, cid_v0(), cid_v0())
    args[0] = brownie.ZERO_ADDRESS
    with reverts_with("ZeroAddress"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_malleable_high_s_signature_reverts(registry, signer, accounts):
    secp256k1_n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    args = relayed_args(registry, signer, cid_v0(), cid_v0())
    signature = args[5]
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    args[5] = r + (secp256k1_n - s).to_bytes(32, "big") + bytes([55 - v])  # the twin signature: same signer
    with reverts_with("InvalidSignature"):
        registry.registerTrackFor(*args, {"from": accounts[5]})


def test_eip712_domain_matches_the_python_signer(registry):
    from eth_account.messages import encode_typed_data

    from qfzz_chain.chain.signatures import DOMAIN_NAME, DOMAIN_VERSION

    _, name, version, chain_id, verifying_contract, _, _ = registry.eip712Domain()
    assert (name, version, chain_id, verifying_contract) == (DOMAIN_NAME, DOMAIN_VERSION, brownie.chain.id, registry.address)
    typed = register_track_typed_data(chain_id=brownie.chain.id, registry=registry.address, artist=registry.address,
                                      content=CidParts.from_tuple(cid_v0()), metadata=CidParts.from_tuple(cid_v0()),
                                      parents=[], nonce=0, deadline=0)  # fmt: skip
    assert plain(registry.DOMAIN_SEPARATOR()) == bytes(encode_typed_data(full_message=typed).header)


# ---- metadata versions -----------------------------------------------------------------------


def test_artist_publishes_metadata_versions(registry, artist):
    track_id, _ = register(registry, artist)
    for version in (1, 2):
        metadata = cid_v1_raw()
        tx = registry.updateMetadata(track_id, metadata, {"from": artist})
        event = tx.events["TrackMetadataUpdated"]
        assert plain((event["trackId"], event["metadataVersion"], event["metadata"])) == (track_id, version, metadata)
    assert registry.getTrack(track_id)["metadataVersion"] == 2


def test_only_the_artist_updates_metadata(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    with reverts_with("NotArtist"):
        registry.updateMetadata(track_id, cid_v0(), {"from": accounts[2]})
    with reverts_with("TrackNotRegistered"):
        registry.updateMetadata(random_digest(), cid_v0(), {"from": artist})
    with reverts_with("InvalidCid"):
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
    with reverts_with("NotArtist"):
        registry.updateMetadata(track_id, cid_v0(), {"from": artist})
    registry.updateMetadata(track_id, cid_v0(), {"from": heir})


def test_transfer_reverts(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    with reverts_with("NotArtist"):
        registry.proposeAttributionTransfer(track_id, accounts[3], {"from": accounts[2]})
    with reverts_with("TrackNotRegistered"):
        registry.proposeAttributionTransfer(random_digest(), accounts[3], {"from": artist})
    registry.proposeAttributionTransfer(track_id, accounts[3], {"from": artist})
    with reverts_with("NotPendingArtist"):
        registry.acceptAttributionTransfer(track_id, {"from": accounts[2]})
    with reverts_with("NotPendingArtist"):
        registry.acceptAttributionTransfer(random_digest(), {"from": accounts[3]})


def test_withdrawn_offer_cannot_be_accepted(registry, artist, accounts):
    track_id, _ = register(registry, artist)
    registry.proposeAttributionTransfer(track_id, accounts[3], {"from": artist})
    tx = registry.proposeAttributionTransfer(track_id, brownie.ZERO_ADDRESS, {"from": artist})
    assert tx.events["AttributionTransferProposed"]["to"] == brownie.ZERO_ADDRESS
    with reverts_with("NotPendingArtist"):
        registry.acceptAttributionTransfer(track_id, {"from": accounts[3]})
