"""An epoch's receipts as an OpenZeppelin standard Merkle tree (``qfzz_chain.zk.merkle``)."""

from __future__ import annotations

from collections.abc import Sequence

from qfzz_chain.oracle.receipts import LEAF_TYPES, Receipt
from qfzz_chain.zk import merkle


class ReceiptTree:
    """The tree of ``receipts``; ``proof(i)`` proves ``receipts[i]`` against ``root``."""

    def __init__(self, receipts: Sequence[Receipt]):
        self._tree = merkle.StandardMerkleTree.of([r.values() for r in receipts], LEAF_TYPES)

    @property
    def root(self) -> bytes:
        return self._tree.root

    def proof(self, index: int) -> tuple[bytes, ...]:
        return self._tree.proof(index)

    def proofs(self) -> list[tuple[bytes, ...]]:
        return self._tree.proofs()


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """``MerkleProof.verify`` of a receipt's leaf hash."""
    return merkle.verify(root, leaf, proof)
