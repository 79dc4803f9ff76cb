"""OpenZeppelin's *standard* Merkle tree (``@openzeppelin/merkle-tree`` format ``standard-v1``),
the format OpenZeppelin's ``MerkleProof`` verifies on-chain, built in pure Python.

The format, specified here once:

- a leaf is ``keccak256(keccak256(abi.encode(values...)))`` (hashed twice, so no 64-byte leaf
  can pass for an inner node);
- an inner node is ``keccak256(min(a, b) ++ max(a, b))`` (sorted pair: a proof needs no
  left/right flags);
- the leaves are sorted by hash and the tree is a complete binary tree in one array: the root
  at 0, the children of ``i`` at ``2i + 1`` and ``2i + 2``, and the ``k``-th smallest leaf at
  ``len(tree) - 1 - k``;
- a dump is ``{"format": "standard-v1", "leafEncoding": [...], "tree": [...], "values":
  [{"value": [...], "treeIndex": n}]}``, values in the order they were given, numbers as
  decimal strings, so a tree written here loads in the JavaScript library and back.

A proof is the sibling of each node on the path from the leaf to the root; for N leaves it has
``floor(log2 N)`` or ``ceil(log2 N)`` hashes (15 for the 17,632 Last.fm artists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from eth_abi import encode
from eth_utils import keccak

from qfzz_chain.royalties.errors import MerkleTreeError

FORMAT = "standard-v1"


def leaf_hash(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """``keccak256(bytes.concat(keccak256(abi.encode(values))))``, as the contract computes it."""
    return keccak(keccak(encode(list(types), list(values))))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """The sorted-pair inner node ``MerkleProof`` rebuilds."""
    return keccak(a + b if a <= b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to from ``leaf`` (``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


@dataclass(frozen=True)
class StandardMerkleTree:
    """A built tree: the node array, the values in input order and each value's node index."""

    leaf_encoding: tuple[str, ...]
    tree: tuple[bytes, ...]
    values: tuple[tuple[Any, ...], ...]
    tree_indices: tuple[int, ...]

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str]) -> "StandardMerkleTree":
        """Build the tree of ``values`` (each a row of ``leaf_encoding`` types); at least one row."""
        if not values:
            raise MerkleTreeError("a Merkle tree needs at least one leaf")
        rows = tuple(tuple(row) for row in values)
        hashed = [(leaf_hash(leaf_encoding, row), position) for position, row in enumerate(rows)]
        hashed.sort(key=lambda entry: entry[0])
        size = 2 * len(rows) - 1
        tree: list[bytes] = [b""] * size
        indices = [0] * len(rows)
        for rank, (digest, position) in enumerate(hashed):
            tree[size - 1 - rank] = digest
            indices[position] = size - 1 - rank
        for node in range(size - 1 - len(rows), -1, -1):
            tree[node] = hash_pair(tree[2 * node + 1], tree[2 * node + 2])
        return cls(tuple(leaf_encoding), tuple(tree), rows, tuple(indices))

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def __len__(self) -> int:
        return len(self.values)

    def proof(self, position: int) -> list[bytes]:
        """The proof of the ``position``-th value (input order)."""
        if not 0 <= position < len(self.values):
            raise MerkleTreeError(f"no value {position} in a tree of {len(self.values)}")
        node = self.tree_indices[position]
        proof = []
        while node > 0:
            proof.append(self.tree[node - 1 if node % 2 == 0 else node + 1])
            node = (node - 1) // 2
        return proof

    def verify(self, position: int, proof: Sequence[bytes]) -> bool:
        return process_proof(leaf_hash(self.leaf_encoding, self.values[position]), proof) == self.root

    # ---- the JavaScript library's dump format ---------------------------------------------------

    def dump(self) -> dict:
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": ["0x" + node.hex() for node in self.tree],
            "values": [
                {"value": [_dump_value(v) for v in row], "treeIndex": index}
                for row, index in zip(self.values, self.tree_indices)
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.dump(), indent=1) + "\n"

    @classmethod
    def load(cls, data: dict) -> "StandardMerkleTree":
        """A dumped tree, checked: every node is recomputed, so an edited file fails here."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MerkleTreeError(f"not a {FORMAT} Merkle tree dump")
        try:
            encoding = tuple(data["leafEncoding"])
            rows = [tuple(_load_value(t, v) for t, v in zip(encoding, entry["value"])) for entry in data["values"]]
            stored = [bytes.fromhex(node[2:]) for node in data["tree"]]
            indices = [int(entry["treeIndex"]) for entry in data["values"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise MerkleTreeError(f"malformed Merkle tree dump: {exc}") from exc
        rebuilt = cls.of(rows, encoding)
        if list(rebuilt.tree) != stored or list(rebuilt.tree_indices) != indices:
            raise MerkleTreeError("the dump's nodes do not match its values (edited or corrupt)")
        return rebuilt

    @classmethod
    def from_json(cls, text: str) -> "StandardMerkleTree":
        try:
            return cls.load(json.loads(text))
        except ValueError as exc:
            raise MerkleTreeError(f"not JSON: {exc}") from exc


def _dump_value(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


def _load_value(kind: str, value: Any) -> Any:
    if kind.startswith("bytes"):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if kind.startswith(("uint", "int")):
        return int(value)
    return value
