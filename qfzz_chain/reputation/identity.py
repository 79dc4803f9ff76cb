"""The attester's tree of verified identities, and the proofs accounts bind with.

Format (specified here once): an OpenZeppelin standard Merkle tree (``qfzz_chain.zk.merkle``)
of leaves ``(address account, bytes32 identityId)``, one per account the attester ties to a
person; a person with several accounts has several leaves with one ``identityId``. The ledger
keeps only the root (``postIdentityRoot``); the tree's ``standard-v1`` dump is published (on
IPFS, its CID in the event) so that every account takes its own proof from it, and so that a
watcher can prove that a tied account of a proposal belongs to an identity bound elsewhere.

``identity_id`` derives an id from the attester's own reference for a person (a credential
number, a pseudonymous handle) under a namespace, so ids from two attesters never collide and
the reference itself is not published: ``keccak256("qfzz.identity/1:" + namespace + ":" + reference)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from eth_utils import keccak
from web3 import Web3

from qfzz_chain.reputation.errors import IdentityError
from qfzz_chain.zk.errors import MerkleError
from qfzz_chain.zk.merkle import StandardMerkleTree

LEAF_ENCODING = ("address", "bytes32")
ID_PREFIX = b"qfzz.identity/1:"


def identity_id(namespace: str, reference: str) -> bytes:
    """The 32-byte identity id of a person the attester knows as ``reference``."""
    if not namespace or not reference:
        raise IdentityError("an identity needs a namespace and a reference")
    return keccak(ID_PREFIX + namespace.encode() + b":" + reference.encode())


@dataclass(frozen=True)
class Attestation:
    """One leaf: ``account`` belongs to the person ``identity_id``."""

    account: str
    identity_id: bytes

    def value(self) -> tuple[str, bytes]:
        return (self.account, self.identity_id)


class IdentityTree:
    """The attester's tree; ``proof(account)`` is what ``bind`` takes."""

    def __init__(self, tree: StandardMerkleTree):
        self.tree = tree
        self.attestations = [Attestation(Web3.to_checksum_address(a), _bytes32(i)) for a, i in tree.values]
        self._positions: dict[str, int] = {}
        for position, attestation in enumerate(self.attestations):
            if attestation.account in self._positions:
                raise IdentityError(f"account {attestation.account} is attested twice")
            self._positions[attestation.account] = position

    @classmethod
    def build(cls, attestations: Iterable[Attestation]) -> "IdentityTree":
        values = [(Web3.to_checksum_address(a.account), bytes(a.identity_id)) for a in attestations]
        if not values:
            raise IdentityError("an identity tree needs at least one attestation")
        for account, ident in values:
            if len(ident) != 32:
                raise IdentityError(f"identity id of {account} is {len(ident)} bytes, not 32")
        return cls(StandardMerkleTree.of(values, LEAF_ENCODING))

    @property
    def root(self) -> bytes:
        return self.tree.root

    def __len__(self) -> int:
        return len(self.tree.values)

    def identity_of(self, account: str) -> bytes:
        return self.attestations[self._position(account)].identity_id

    def accounts_of(self, ident: bytes) -> list[str]:
        """Every account the attester ties to ``ident``."""
        return [a.account for a in self.attestations if a.identity_id == bytes(ident)]

    def proof(self, account: str) -> list[bytes]:
        return [bytes(node) for node in self.tree.proof(self._position(account))]

    def _position(self, account: str) -> int:
        if not Web3.is_address(account):
            raise IdentityError(f"{account!r} is not an address")
        try:
            return self._positions[Web3.to_checksum_address(account)]
        except KeyError:
            raise IdentityError(f"the attester's tree has no identity for {Web3.to_checksum_address(account)}") from None

    def dump(self) -> dict:
        return self.tree.dump()

    def to_json(self) -> str:
        return json.dumps(self.dump(), indent=1, sort_keys=True) + "\n"

    @classmethod
    def load(cls, data: dict) -> "IdentityTree":
        try:
            tree = StandardMerkleTree.load(data)
        except (MerkleError, KeyError, TypeError, ValueError) as exc:
            raise IdentityError(f"not an identity tree dump: {exc}") from exc
        if tuple(tree.leaf_encoding) != LEAF_ENCODING:
            raise IdentityError(f"an identity tree has leaves {LEAF_ENCODING}, this one {tuple(tree.leaf_encoding)}")
        return cls(tree)

    @classmethod
    def read(cls, path: Path) -> "IdentityTree":
        try:
            return cls.load(json.loads(Path(path).read_text()))
        except OSError as exc:
            raise IdentityError(f"cannot read {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise IdentityError(f"{path} is not JSON: {exc}") from exc


def _bytes32(value) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


def read_attestations(path: Path) -> list[Attestation]:
    """The attester's list: a JSON array of ``{"account": "0x…", "identity": "0x…"}`` or of
    ``{"account": "0x…", "namespace": "…", "reference": "…"}`` (the id derived by :func:`identity_id`)."""
    try:
        rows = json.loads(Path(path).read_text())
    except OSError as exc:
        raise IdentityError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise IdentityError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(rows, list) or not rows:
        raise IdentityError(f"{path} must hold a non-empty JSON array of attestations")
    found = []
    for row in rows:
        if not isinstance(row, dict) or not Web3.is_address(row.get("account", "")):
            raise IdentityError(f"{path}: attestation {row!r} has no valid account")
        if "identity" in row:
            text = str(row["identity"])
            try:
                ident = bytes.fromhex(text.removeprefix("0x"))
            except ValueError:
                ident = b""
            if len(ident) != 32:
                raise IdentityError(f"{path}: identity {text!r} is not 32 bytes of 0x-hex")
        else:
            ident = identity_id(str(row.get("namespace", "")), str(row.get("reference", "")))
        found.append(Attestation(Web3.to_checksum_address(row["account"]), ident))
    return found
