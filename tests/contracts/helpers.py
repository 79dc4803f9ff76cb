"""Values and checks shared by the contract tests."""

import os
from contextlib import contextmanager

import brownie
import pytest
from eth_account import Account

from qfzz_chain.chain.signatures import invalidate_nonce_typed_data, register_track_typed_data, sign_typed_data
from qfzz_chain.chain.track_registry import make_commitment
from qfzz_chain.chain.types import CidParts, Parent, Relation

DAG_PB, RAW, SHA2_256 = 0x70, 0x55, 0x12
REMIX, SAMPLE, COVER = int(Relation.REMIX), int(Relation.SAMPLE), int(Relation.COVER)


def random_digest() -> bytes:
    return os.urandom(32)


def cid_v0(digest: bytes | None = None) -> tuple:
    return (0, DAG_PB, SHA2_256, digest or random_digest())


def cid_v1_raw(digest: bytes | None = None) -> tuple:
    return (1, RAW, SHA2_256, digest or random_digest())


def deadline_in(seconds: int) -> int:
    """A deadline relative to the latest block (snapshots move the chain's clock back)."""
    return brownie.chain[-1].timestamp + seconds


def set_next_block_time(timestamp: int) -> None:
    brownie.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def _brownie_repr(value) -> str:
    """An argument as Brownie renders it in a custom error's revert message."""
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value))
    address = getattr(value, "address", value)
    if isinstance(address, str) and len(address) == 42 and address.startswith("0x"):
        return address.lower()
    return str(value)


@contextmanager
def reverts_with(error_name: str, *arguments):
    """Expect a revert with the named custom error and, when given, exactly these arguments."""
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc_info:
        yield exc_info
    message = exc_info.value.revert_msg or ""
    name, _, rendered = message.partition(": ")
    assert name == error_name, f"expected {error_name}, reverted with {message!r}"
    if arguments:
        assert rendered == ", ".join(_brownie_repr(a) for a in arguments), f"{error_name} arguments: {message!r}"


def plain(value):
    """Brownie return values (HexString, ReturnValue, EventDict) as plain Python for comparisons."""
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value


def commit(registry, artist: str, sender, audio_hash: bytes | None = None, salt: bytes | None = None):
    """Commit a registration of ``audio_hash`` for ``artist``; returns (audio_hash, salt, tx)."""
    audio_hash, salt = audio_hash or random_digest(), salt or random_digest()
    tx = registry.commitRegistration(make_commitment(audio_hash, str(artist), salt), {"from": sender})
    return audio_hash, salt, tx


def register(registry, sender, audio_hash=None, content=None, metadata=None, parents=()):
    """Commit, then reveal in the next block (automine): returns (track id, reveal tx)."""
    audio_hash, salt, _ = commit(registry, sender, sender, audio_hash)
    tx = registry.registerTrack(audio_hash, salt, content or cid_v0(), metadata or cid_v0(), list(parents),
                                {"from": sender})  # fmt: skip
    return audio_hash, tx


def relayed_args(registry, artist_key, audio_hash, content, metadata, parents=(), nonce=None, deadline=None,
                 artist=None, salt=b"\x00" * 32):  # fmt: skip
    """``registerTrackFor`` arguments signed by ``artist_key`` (for ``artist``: its own address by default)."""
    artist = artist or Account.from_key(artist_key.key).address
    deadline = deadline if deadline is not None else deadline_in(3600)
    typed = register_track_typed_data(
        chain_id=brownie.chain.id, registry=registry.address, artist=artist, audio_hash=audio_hash,
        content=CidParts.from_tuple(content), metadata=CidParts.from_tuple(metadata),
        parents=[Parent(p[0], Relation(p[1])) for p in parents],
        nonce=registry.nonces(artist) if nonce is None else nonce, deadline=deadline,
    )  # fmt: skip
    return [artist, audio_hash, salt, content, metadata, list(parents), deadline, sign_typed_data(artist_key.key, typed)]


def relay(registry, artist_key, relayer, audio_hash=None, content=None, metadata=None, parents=(), artist=None):
    """A gasless artist's registration: the relayer commits and reveals. Returns (track id, reveal tx)."""
    artist = artist or Account.from_key(artist_key.key).address
    audio_hash, salt, _ = commit(registry, artist, relayer, audio_hash)
    args = relayed_args(registry, artist_key, audio_hash, content or cid_v0(), metadata or cid_v0(), parents,
                        artist=artist, salt=salt)  # fmt: skip
    return audio_hash, registry.registerTrackFor(*args, {"from": relayer})


def invalidation_args(registry, artist_key, deadline=None, nonce=None):
    artist = Account.from_key(artist_key.key).address
    deadline = deadline if deadline is not None else deadline_in(3600)
    typed = invalidate_nonce_typed_data(chain_id=brownie.chain.id, registry=registry.address, artist=artist,
                                        nonce=registry.nonces(artist) if nonce is None else nonce, deadline=deadline)
    return [artist, deadline, sign_typed_data(artist_key.key, typed)]
