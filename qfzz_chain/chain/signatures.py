"""EIP-712 messages an artist signs so that anyone can relay for them: ``RegisterTrack`` (the reveal of
a commitment) and ``InvalidateNonce`` (voiding every signature not yet relayed)."""

from __future__ import annotations

from typing import Sequence

from eth_account import Account
from eth_account.messages import encode_typed_data

from qfzz_chain.chain.types import CidParts, Parent

DOMAIN_NAME = "QFZZ TrackRegistry"
DOMAIN_VERSION = "2"

_TYPES = {
    "RegisterTrack": [
        {"name": "artist", "type": "address"},
        {"name": "audioHash", "type": "bytes32"},
        {"name": "content", "type": "Cid"},
        {"name": "metadata", "type": "Cid"},
        {"name": "parents", "type": "Parent[]"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "InvalidateNonce": [
        {"name": "artist", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
    "Cid": [
        {"name": "version", "type": "uint8"},
        {"name": "codec", "type": "uint16"},
        {"name": "hashFunction", "type": "uint16"},
        {"name": "digest", "type": "bytes32"},
    ],
    "Parent": [
        {"name": "trackId", "type": "bytes32"},
        {"name": "relation", "type": "uint8"},
    ],
}


def _cid_message(cid: CidParts) -> dict:
    return {"version": cid.version, "codec": cid.codec, "hashFunction": cid.hash_function, "digest": cid.digest}


def _domain(chain_id: int, registry: str) -> dict:
    return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": registry}


def _types(primary: str) -> dict:
    """``primary`` and the types it refers to (EIP-712 encodes exactly those)."""
    needed = {"RegisterTrack": ("RegisterTrack", "Cid", "Parent"), "InvalidateNonce": ("InvalidateNonce",)}[primary]
    return {name: _TYPES[name] for name in needed}


def register_track_typed_data(
    *,
    chain_id: int,
    registry: str,
    artist: str,
    audio_hash: bytes,
    content: CidParts,
    metadata: CidParts,
    parents: Sequence[Parent],
    nonce: int,
    deadline: int,
) -> dict:
    """The full EIP-712 typed data (domain, types, message) an artist signs for ``registerTrackFor``."""
    return {
        "domain": _domain(chain_id, registry),
        "types": _types("RegisterTrack"),
        "primaryType": "RegisterTrack",
        "message": {
            "artist": artist,
            "audioHash": audio_hash,
            "content": _cid_message(content),
            "metadata": _cid_message(metadata),
            "parents": [{"trackId": p.track_id, "relation": int(p.relation)} for p in parents],
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def invalidate_nonce_typed_data(*, chain_id: int, registry: str, artist: str, nonce: int, deadline: int) -> dict:
    """The EIP-712 typed data an artist signs for ``invalidateNonceFor``."""
    return {
        "domain": _domain(chain_id, registry),
        "types": _types("InvalidateNonce"),
        "primaryType": "InvalidateNonce",
        "message": {"artist": artist, "nonce": nonce, "deadline": deadline},
    }


def sign_typed_data(private_key: bytes | str, typed_data: dict) -> bytes:
    """Sign EIP-712 typed data locally; returns the 65-byte r‖s‖v signature."""
    signed = Account.sign_message(encode_typed_data(full_message=typed_data), private_key)
    return bytes(signed.signature)


ERC1271_MAGIC = bytes.fromhex("1626ba7e")
_ERC1271_ABI = [{"type": "function", "name": "isValidSignature", "stateMutability": "view",
                 "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
                 "outputs": [{"name": "", "type": "bytes4"}]}]  # fmt: skip


def signature_is_valid(w3, artist: str, typed_data: dict, signature: bytes) -> bool:
    """What the contract's SignatureChecker will answer: the EOA's signature, or an ERC-1271
    wallet's ``isValidSignature``. Checked before a relayer spends gas on a doomed request."""
    from eth_utils import keccak
    from web3 import Web3

    message = encode_typed_data(full_message=typed_data)
    artist = Web3.to_checksum_address(artist)
    if bytes(w3.eth.get_code(artist)):
        digest = keccak(b"\x19" + message.version + message.header + message.body)
        wallet = w3.eth.contract(address=artist, abi=_ERC1271_ABI)
        try:
            return bytes(wallet.functions.isValidSignature(digest, signature).call()) == ERC1271_MAGIC
        except Exception:  # a wallet that reverts or answers garbage refuses the signature
            return False
    try:
        return Account.recover_message(message, signature=signature) == artist
    except Exception:  # malformed signature bytes
        return False
