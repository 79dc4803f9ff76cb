"""Recommendation receipts: one per recommended item, the leaves of an epoch's Merkle batch.

A receipt says: in ``epoch``, under model ``model_version``, the listener behind
``listener_commitment`` was recommended ``item_id`` at ``rank`` with ``score``, for the reasons in
the explanation document (``explanation_hash`` = keccak-256 of its canonical JSON, located on
IPFS as the CIDv1 raw sha2-256 ``explanation_cid`` of the same bytes), and whether the placement
was paid for (``sponsored``, ``sponsor``).

Leaf format (specified here once): OpenZeppelin's standard Merkle tree leaf,
``keccak256(bytes.concat(keccak256(abi.encode(LEAF_TYPES, values))))``, with

    uint64 epoch, uint32 modelVersion, bytes32 listenerCommitment, bytes32 itemId, uint16 rank,
    int64 score, bytes32 explanationHash, bytes32 explanationCid, bool sponsored, address sponsor

Every field is a static ABI type, so ``abi.encode`` is ten 32-byte words, which
``qfzz_chain.zk.merkle`` writes without eth_abi. ``score`` is fixed point, ``SCORE_SCALE`` = 10^6 per unit, rounded half to even.

Item ids are 32 bytes: a registered track's id (the SHA-256 of its audio), or for the Last.fm
artists the models are fitted on, ``keccak256("qfzz.lastfm-2k.artist:" + decimal id)``.
Listener commitments are ``keccak256(abi.encode(bytes32 salt, bytes listener))``
(``qfzz_chain.zk.commitments``): the chain reveals nobody; the listener keeps the salt.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from tiny_keccak import keccak256 as keccak  # the per-receipt hashes: a fifth of eth_utils.keccak's time

from qfzz_chain.oracle.errors import ReceiptFormatError
from qfzz_chain.zk import merkle

LEAF_TYPES = ("uint64", "uint32", "bytes32", "bytes32", "uint16", "int64", "bytes32", "bytes32", "bool", "address")
SCORE_SCALE = 10**6
LASTFM_ITEM_PREFIX = b"qfzz.lastfm-2k.artist:"
RECEIPT_SCHEMA = "qfzz.receipt/1"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def lastfm_item_id(artist_id: int) -> bytes:
    """The 32-byte item id of a Last.fm artist of the dataset the models are fitted on."""
    return keccak(LASTFM_ITEM_PREFIX + str(int(artist_id)).encode())


def fixed_point(score: float) -> int:
    value = round(score * SCORE_SCALE)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"score {score} does not fit int64 at scale {SCORE_SCALE}")
    return value


@dataclass(frozen=True)
class Receipt:
    """One recommendation, as anchored. Bytes fields are 32 bytes; ``sponsor`` is a 20-byte address."""

    epoch: int
    model_version: int
    listener_commitment: bytes
    item_id: bytes
    rank: int
    score: int
    explanation_hash: bytes
    explanation_cid: bytes
    sponsored: bool = False
    sponsor: bytes = bytes(20)

    def values(self) -> tuple:
        """The leaf's values in ``LEAF_TYPES`` order (for eth_abi or the JS library)."""
        return (self.epoch, self.model_version, self.listener_commitment, self.item_id, self.rank, self.score,
                self.explanation_hash, self.explanation_cid, self.sponsored, "0x" + self.sponsor.hex())  # fmt: skip


def leaf_hash(receipt: Receipt) -> bytes:
    """The standard-tree leaf: keccak256 of keccak256 of the ABI encoding (second-preimage safe)."""
    return merkle.leaf_hash(LEAF_TYPES, receipt.values())


# ---- the file a listener keeps and `qfzz verify` checks --------------------------------------


@dataclass(frozen=True)
class ReceiptFile:
    """A receipt as handed to its listener: the leaf's fields, where it is anchored, its proof,
    the listener's own id and salt (never sent anywhere), and a readable name for the item."""

    chain_id: int
    oracle: str
    receipt: Receipt
    root: bytes
    leaf_count: int
    proof: tuple[bytes, ...]
    listener: str
    salt: bytes
    item_name: str = ""
    item_kind: str = ""  # "lastfm-artist" (with lastfm_id) or "track"
    lastfm_id: int | None = None

    def to_json(self) -> str:
        receipt = {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in asdict(self.receipt).items()}
        document = {
            "schema": RECEIPT_SCHEMA, "chain_id": self.chain_id, "oracle": self.oracle, "receipt": receipt,
            "root": "0x" + self.root.hex(), "leaf_count": self.leaf_count, "proof": ["0x" + p.hex() for p in self.proof],
            "listener": self.listener, "salt": "0x" + self.salt.hex(),
            "item": {"name": self.item_name, "kind": self.item_kind, "lastfm_id": self.lastfm_id},
        }  # fmt: skip
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ReceiptFile":
        """Parse and type-check every field: a damaged file is named before anything is checked."""
        try:
            data = json.loads(text)
            if data.get("schema") != RECEIPT_SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}, expected {RECEIPT_SCHEMA}")
            fields = data["receipt"]
            receipt = Receipt(
                epoch=_int(fields["epoch"]), model_version=_int(fields["model_version"]),
                listener_commitment=_word(fields["listener_commitment"]), item_id=_word(fields["item_id"]),
                rank=_int(fields["rank"]), score=_int(fields["score"], signed=True),
                explanation_hash=_word(fields["explanation_hash"]), explanation_cid=_word(fields["explanation_cid"]),
                sponsored=_bool(fields["sponsored"]), sponsor=_bytes(fields["sponsor"], 20),
            )  # fmt: skip
            item = data.get("item") or {}
            return cls(
                chain_id=_int(data["chain_id"]), oracle=_address(data["oracle"]), receipt=receipt,
                root=_word(data["root"]), leaf_count=_int(data["leaf_count"]),
                proof=tuple(_word(p) for p in data["proof"]), listener=str(data["listener"]), salt=_word(data["salt"]),
                item_name=str(item.get("name", "")), item_kind=str(item.get("kind", "")),
                lastfm_id=None if item.get("lastfm_id") is None else _int(item["lastfm_id"]),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ReceiptFormatError(f"not a receipt written by `qfzz oracle receipts`: {exc}") from exc


def _int(value: Any, signed: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (value < 0 and not signed):
        raise ValueError(f"{value!r} is not a{'n' if signed else ' non-negative'} integer")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _bytes(value: Any, length: int) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{value!r} is not 0x-hex")
    raw = bytes.fromhex(value[2:])
    if len(raw) != length:
        raise ValueError(f"{value!r} is not {length} bytes")
    return raw


def _word(value: Any) -> bytes:
    return _bytes(value, 32)


def _address(value: Any) -> str:
    return "0x" + _bytes(value, 20).hex()
