"""Merkle trees in OpenZeppelin's standard format (``@openzeppelin/merkle-tree``, ``standard-v1``).

The format, exactly as the JS library builds it, so ``MerkleProof.verify`` on-chain and
``StandardMerkleTree.verify`` in JS accept every proof made here:

- **Leaf** = keccak256(keccak256(abi.encode(leaf_encoding, value))): the ABI encoding of the
  value's fields, hashed twice (a leaf can never be read as an internal node's 64-byte preimage).
- **Node** = keccak256(min(a, b) ‖ max(a, b)): sorted pairs, so a proof is just the siblings.
- **Layout**: leaves sorted by hash (ascending, stable; ``sort_leaves=False`` keeps the given
  order), placed in reverse at the end of a ``2n − 1`` array; node ``i`` hashes children
  ``2i + 1`` and ``2i + 2``; the root is ``tree[0]``. A proof lists siblings from the leaf up.
- **Dump**: ``{"format": "standard-v1", "leafEncoding": [...], "tree": [hex...],
  "values": [{"value": [...], "treeIndex": i}]}``, which ``StandardMerkleTree.load`` reads.

Speed: the oracle's budget is ≥ 50,000 receipts/s end to end on one core, so leaves, tree and
proofs must take well under 10 µs per leaf. Leaves are encoded by a ``LeafEncoder`` compiled once
per leaf type list (static types and ``bytes``/``string`` written directly, 32-byte words; the
same bytes as ``eth_abi.encode``, tests/zk/test_merkle.py checks), keccak256 is one call into
``tiny_keccak``, and all proofs are built top-down sharing each parent's list. Figures:
benchmarks/results/bls.json (``merkle_*_us_per_leaf``).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from tiny_keccak import keccak256

from qfzz_chain.zk.errors import MerkleError

__all__ = [
    "LeafEncoder",
    "StandardMerkleTree",
    "abi_encode",
    "hash_pair",
    "keccak256",
    "leaf_hash",
    "process_proof",
    "verify",
    "Proof",
]

FORMAT = "standard-v1"
_WORD = 32
_ZERO_WORD = bytes(_WORD)
_INT_TYPE = re.compile(r"^(u?)int(\d*)$")
_BYTES_TYPE = re.compile(r"^bytes(\d+)$")


# ---- ABI encoding of a leaf's fields ---------------------------------------------------------------


def _as_bytes(value: Any, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            raise MerkleError(f"{what}: {value!r} is not a hex string") from None
    raise MerkleError(f"{what}: expected bytes or a 0x-hex string, got {type(value).__name__}")


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MerkleError(f"{what}: expected an integer, got {type(value).__name__}")
    if isinstance(value, str):  # JSON dumps carry integers as strings (decimal or 0x-hex)
        try:
            return int(value, 0)
        except ValueError:
            raise MerkleError(f"{what}: {value!r} is not an integer") from None
    return value


def _uint_word(bits: int, what: str) -> Callable[[Any], bytes]:
    bound = 1 << bits

    def encode(value: Any) -> bytes:
        if type(value) is not int:
            value = _as_int(value, what)
        if not 0 <= value < bound:
            raise MerkleError(f"{what}: {value} is out of range for uint{bits}")
        return value.to_bytes(_WORD, "big")

    return encode


def _int_word(bits: int, what: str) -> Callable[[Any], bytes]:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def encode(value: Any) -> bytes:
        if type(value) is not int:
            value = _as_int(value, what)
        if not low <= value < high:
            raise MerkleError(f"{what}: {value} is out of range for int{bits}")
        return value.to_bytes(_WORD, "big", signed=True)

    return encode


def _address_word(what: str) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        raw = _as_bytes(value, what)
        if len(raw) != 20:
            raise MerkleError(f"{what}: an address is 20 bytes, got {len(raw)}")
        return b"\x00" * 12 + raw

    return encode


def _bool_word(what: str) -> Callable[[Any], bytes]:
    true, false = (1).to_bytes(_WORD, "big"), _ZERO_WORD

    def encode(value: Any) -> bytes:
        if value is True:
            return true
        if value is False:
            return false
        raise MerkleError(f"{what}: expected a bool, got {value!r}")

    return encode


def _fixed_bytes_word(size: int, what: str) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        raw = value if type(value) is bytes else _as_bytes(value, what)
        if len(raw) == _WORD:
            return raw
        if len(raw) > size:
            raise MerkleError(f"{what}: {len(raw)} bytes do not fit bytes{size}")
        return raw + bytes(_WORD - len(raw))  # right-padded, as abi.encode does

    return encode


def _dynamic_tail(kind: str, what: str) -> Callable[[Any], bytes]:
    """The tail of a ``bytes`` or ``string``: its length word, then the data right-padded to words."""

    def encode(value: Any) -> bytes:
        if kind == "string":
            if not isinstance(value, str):
                raise MerkleError(f"{what}: expected a str, got {type(value).__name__}")
            raw = value.encode("utf-8")
        else:
            raw = value if type(value) is bytes else _as_bytes(value, what)
        padding = -len(raw) % _WORD
        return len(raw).to_bytes(_WORD, "big") + raw + bytes(padding)

    return encode


def _static_encoder(abi_type: str, what: str) -> Callable[[Any], bytes] | None:
    if abi_type == "address":
        return _address_word(what)
    if abi_type == "bool":
        return _bool_word(what)
    match = _INT_TYPE.match(abi_type)
    if match:
        bits = int(match.group(2) or 256)
        if bits % 8 or not 8 <= bits <= 256:
            raise MerkleError(f"{what}: {abi_type} is not an ABI type")
        return _uint_word(bits, what) if match.group(1) else _int_word(bits, what)
    match = _BYTES_TYPE.match(abi_type)
    if match:
        size = int(match.group(1))
        if not 1 <= size <= 32:
            raise MerkleError(f"{what}: {abi_type} is not an ABI type")
        return _fixed_bytes_word(size, what)
    return None


class LeafEncoder:
    """``abi.encode`` of one fixed list of ABI types, compiled once and called per value.

    Static types (``uintN``, ``intN``, ``address``, ``bool``, ``bytesN``) are one 32-byte word
    each; ``bytes`` and ``string`` are an offset word in the head and a length-prefixed, padded
    tail. The per-value function is generated for the type list (as ``dataclasses`` generates
    ``__init__``): each field's common case (an ``int`` in range, ``bytes`` of the exact size) is
    an inline expression, the rest goes to that field's validating encoder, which converts hex
    strings and raises ``MerkleError`` naming the field. For 10 static fields this is 2.4× faster
    than one call per field. Other types (arrays, tuples) go through ``eth_abi.encode``.
    """

    def __init__(self, types: Sequence[str]):
        self.types = tuple(types)
        if not self.types:
            raise MerkleError("a leaf needs at least one ABI type")
        self._fields: list[tuple[str, Callable[[Any], bytes], int]] = []  # (kind, validating encoder, size)
        for position, abi_type in enumerate(self.types):
            what = f"field {position} ({abi_type})"
            if abi_type in ("bytes", "string"):
                self._fields.append(("dynamic", _dynamic_tail(abi_type, what), 0))
                continue
            encoder = _static_encoder(abi_type, what)
            if encoder is None:
                self.encode = self._encode_with_eth_abi  # type: ignore[method-assign]
                self.leaf_hash = self._leaf_hash_with_eth_abi  # type: ignore[method-assign]
                return
            self._fields.append(_field_kind(abi_type, encoder))
        self.encode, self.leaf_hash = self._compile()  # type: ignore[method-assign]

    # Both replaced per instance by the compiled functions.
    def encode(self, value: Sequence[Any]) -> bytes:
        """The ABI encoding of ``value``, one entry per type; ``MerkleError`` if it does not fit."""
        raise NotImplementedError

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        """keccak256(keccak256(abi.encode(types, value))), hashed inside the compiled function."""
        raise NotImplementedError

    def _compile(self) -> tuple[Callable[[Sequence[Any]], bytes], Callable[[Sequence[Any]], bytes]]:
        count = len(self._fields)
        names = [f"f{i}" for i in range(count)]
        lines = ["    try:", f"        {', '.join(names)}, = value",
                 "    except (TypeError, ValueError):", "        arity(value)"]  # fmt: skip
        head: list[str] = []
        tails: list[str] = []
        dynamic = [i for i, (kind, _, _) in enumerate(self._fields) if kind == "dynamic"]
        if dynamic:
            lines.append(f"    o = {_WORD * count}")
        for i, (kind, _, size) in enumerate(self._fields):
            f, slow = names[i], f"W[{i}]({names[i]})"
            if kind == "dynamic":
                lines += [f"    t{i} = {slow}", f"    h{i} = o.to_bytes(32, 'big')", f"    o += len(t{i})"]
                head.append(f"h{i}")
                tails.append(f"t{i}")
            elif kind == "uint":
                head.append(f"({f}.to_bytes(32, 'big') if type({f}) is int and 0 <= {f} < {1 << size} else {slow})")
            elif kind == "int":
                low, high = -(1 << (size - 1)), 1 << (size - 1)
                head.append(f"({f}.to_bytes(32, 'big', signed=True) if type({f}) is int and {low} <= {f} < {high} "
                            f"else {slow})")  # fmt: skip
            elif kind == "address":
                head.append(f"(Z12 + {f} if type({f}) is bytes and len({f}) == 20 else {slow})")
            elif kind == "bool":
                head.append(f"(TRUE if {f} is True else FALSE if {f} is False else {slow})")
            elif size == _WORD:  # bytes32
                head.append(f"({f} if type({f}) is bytes and len({f}) == 32 else {slow})")
            else:  # bytesN, right-padded
                head.append(f"({f} + PAD[{i}] if type({f}) is bytes and len({f}) == {size} else {slow})")
        joined = f"b''.join(({', '.join(head + tails)},))"
        body = "\n".join(lines)
        source = (f"def encode(value):\n{body}\n    return {joined}\n\n"
                  f"def leaf(value):\n{body}\n    return K(K({joined}))\n")  # fmt: skip

        def arity(value: Any) -> None:
            got = len(value) if hasattr(value, "__len__") else type(value).__name__
            raise MerkleError(f"a leaf has {count} fields ({', '.join(self.types)}), got {got}")

        namespace = {
            "W": [encoder for _, encoder, _ in self._fields],
            "PAD": [bytes(_WORD - size) if kind == "bytesN" else b"" for kind, _, size in self._fields],
            "Z12": bytes(12),
            "TRUE": (1).to_bytes(_WORD, "big"),
            "FALSE": _ZERO_WORD,
            "arity": arity,
            "K": keccak256,
        }
        exec(source, namespace)  # noqa: S102 - source built above from the type list only
        return namespace["encode"], namespace["leaf"]

    def _leaf_hash_with_eth_abi(self, value: Sequence[Any]) -> bytes:
        return keccak256(keccak256(self._encode_with_eth_abi(value)))

    def _encode_with_eth_abi(self, value: Sequence[Any]) -> bytes:
        from eth_abi import encode
        from eth_abi.exceptions import EncodingError

        try:
            return encode(list(self.types), list(value))
        except (EncodingError, ValueError, TypeError, OverflowError) as exc:
            raise MerkleError(f"cannot encode {value!r} as ({', '.join(self.types)}): {exc}") from None


def _field_kind(abi_type: str, encoder: Callable[[Any], bytes]) -> tuple[str, Callable[[Any], bytes], int]:
    if abi_type in ("address", "bool"):
        return abi_type, encoder, 0
    match = _INT_TYPE.match(abi_type)
    if match:
        return ("int" if not match.group(1) else "uint"), encoder, int(match.group(2) or 256)
    return "bytesN", encoder, int(_BYTES_TYPE.match(abi_type).group(1))  # type: ignore[union-attr]


@lru_cache(maxsize=64)
def _encoder_for(types: tuple[str, ...]) -> LeafEncoder:
    return LeafEncoder(types)


def abi_encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """``abi.encode(values)`` for ``types``: ``eth_abi.encode``'s bytes without its per-call cost."""
    return _encoder_for(tuple(types)).encode(values)


def leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """The standard leaf: keccak256(keccak256(abi.encode(leaf_encoding, value)))."""
    return _encoder_for(tuple(leaf_encoding)).leaf_hash(value)


# ---- nodes and proofs --------------------------------------------------------------------------


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two 32-byte nodes in ascending order (OpenZeppelin's ``Hashes.commutativeKeccak256``)."""
    return keccak256(a + b if a < b else b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to from ``leaf``, as ``MerkleProof.processProof`` computes it."""
    node = bytes(leaf)
    for sibling in proof:
        node = keccak256(node + sibling if node < sibling else sibling + node)
    return node


def verify(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """``MerkleProof.verify``: does ``proof`` lead from the leaf hash ``leaf`` to ``root``?"""
    if len(leaf) != _WORD or len(root) != _WORD or any(len(sibling) != _WORD for sibling in proof):
        return False
    return process_proof(leaf, proof) == bytes(root)


def _build_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """OpenZeppelin's ``makeMerkleTree``: leaves reversed at the end, node i = H(2i + 1, 2i + 2)."""
    count = len(leaves)
    tree: list[bytes] = [b""] * (count - 1) + list(reversed(leaves))
    hash_ = keccak256
    for i in range(count - 2, -1, -1):
        left, right = tree[2 * i + 1], tree[2 * i + 2]
        tree[i] = hash_(left + right if left < right else right + left)
    return tree


# ---- the tree ------------------------------------------------------------------------------------

Proof = tuple[bytes, ...]  # sibling hashes, leaf level first


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while millions of acyclic objects (bytes, tuples) are made.

    Each young-generation pass would otherwise rescan them: building a 1M-leaf tree spends about
    a third of its time in the collector. Re-enabled on exit, as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class StandardMerkleTree:
    """``StandardMerkleTree`` of @openzeppelin/merkle-tree 1.0, built and read in Python.

    ``values`` keep the caller's order (``proof(i)`` is the proof of ``values[i]``); the tree
    array and each value's ``tree_index`` follow the JS library byte for byte.
    """

    def __init__(self, tree: list[bytes], values: list[tuple[Any, ...]], leaf_encoding: Sequence[str],
                 tree_indices: list[int]):  # fmt: skip
        self.tree = tree
        self.values = values
        self.leaf_encoding = tuple(leaf_encoding)
        self.tree_indices = tree_indices
        self._encoder = _encoder_for(self.leaf_encoding)

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str], *,
           sort_leaves: bool = True) -> StandardMerkleTree:  # fmt: skip
        """Build the tree of ``values`` (each a sequence matching ``leaf_encoding``)."""
        if not values:
            raise MerkleError("a Merkle tree needs at least one leaf")
        leaf = _encoder_for(tuple(leaf_encoding)).leaf_hash
        with _gc_paused():
            hashes = [leaf(value) for value in values]
            count = len(hashes)
            order = sorted(range(count), key=hashes.__getitem__) if sort_leaves else range(count)
            tree = _build_tree([hashes[i] for i in order])
            last = 2 * count - 2
            tree_indices = [0] * count
            for position, value_index in enumerate(order):
                tree_indices[value_index] = last - position
            return cls(tree, [tuple(v) for v in values], leaf_encoding, tree_indices)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def __len__(self) -> int:
        return len(self.values)

    def leaf(self, index: int) -> bytes:
        """The leaf hash of ``values[index]``."""
        return self.tree[self.tree_indices[index]]

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        return self._encoder.leaf_hash(value)

    def proof(self, index: int) -> Proof:
        """Siblings from ``values[index]``'s leaf up to (not including) the root."""
        if not 0 <= index < len(self.values):
            raise MerkleError(f"no leaf {index}: the tree has {len(self.values)}")
        node, tree, proof = self.tree_indices[index], self.tree, []
        while node > 0:
            proof.append(tree[node + 1 if node % 2 else node - 1])
            node = (node - 1) // 2
        return tuple(proof)

    def proofs(self) -> list[Proof]:
        """Every value's proof, in ``values`` order: ``proofs()[i] == proof(i)``.

        Top-down: a node's proof is its sibling followed by its parent's proof, one C-level tuple
        concatenation per node instead of a Python loop up the tree (3× faster at 128k leaves).
        Tuples of bytes hold no cycles; the collector is paused meanwhile (a third less time).
        """
        tree = self.tree
        internal = len(tree) // 2  # nodes 0 .. n − 2 have children; n − 1 .. 2n − 2 are leaves
        if not internal:  # a single leaf is the root: its proof is empty
            return [() for _ in self.tree_indices]
        with _gc_paused():
            paths: list[Proof] = [()] * internal
            for node in range(1, internal):
                paths[node] = (tree[node + 1 if node % 2 else node - 1],) + paths[(node - 1) >> 1]
            return [(tree[node + 1 if node % 2 else node - 1],) + paths[(node - 1) >> 1] for node in self.tree_indices]

    def verify_value(self, value: Sequence[Any], proof: Sequence[bytes]) -> bool:
        """Does ``proof`` prove ``value`` against this tree's root?"""
        return verify(self.root, self.leaf_hash(value), proof)

    @staticmethod
    def verify(root: bytes, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Sequence[bytes]) -> bool:
        """``StandardMerkleTree.verify(root, leafEncoding, value, proof)`` of the JS library."""
        return verify(root, leaf_hash(leaf_encoding, value), proof)

    def validate(self) -> None:
        """Check every value's leaf and every node; ``MerkleError`` names the first that is wrong."""
        for index, value in enumerate(self.values):
            tree_index = self.tree_indices[index]
            if not 0 <= tree_index < len(self.tree) or 2 * tree_index + 1 < len(self.tree):
                raise MerkleError(f"value {index}: tree index {tree_index} is not a leaf")
            if self.tree[tree_index] != self.leaf_hash(value):
                raise MerkleError(f"value {index} does not hash to its leaf {tree_index}")
        for node in range(len(self.tree)):
            if len(self.tree[node]) != _WORD:
                raise MerkleError(f"node {node} is not 32 bytes")
            left = 2 * node + 1
            if left + 1 < len(self.tree):
                if self.tree[node] != hash_pair(self.tree[left], self.tree[left + 1]):
                    raise MerkleError(f"node {node} is not the hash of its children")
            elif left < len(self.tree):
                raise MerkleError(f"node {node} has one child: not a standard tree")

    def entries(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        return iter(enumerate(self.values))

    # -- JSON, as @openzeppelin/merkle-tree dumps and loads it

    def dump(self) -> dict[str, Any]:
        """The ``standard-v1`` dump: integers as decimal strings, bytes as 0x-hex (JSON-safe)."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": ["0x" + node.hex() for node in self.tree],
            "values": [{"value": [_json_field(field) for field in value], "treeIndex": tree_index}
                       for value, tree_index in zip(self.values, self.tree_indices)],  # fmt: skip
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Read a ``standard-v1`` dump (ours or the JS library's) and validate it whole."""
        if data.get("format") != FORMAT:
            raise MerkleError(f"unknown Merkle tree format {data.get('format')!r}: expected {FORMAT!r}")
        try:
            leaf_encoding = list(data["leafEncoding"])
            tree = [_as_bytes(node, "tree node") for node in data["tree"]]
            values = [tuple(entry["value"]) for entry in data["values"]]
            tree_indices = [int(entry["treeIndex"]) for entry in data["values"]]
        except (KeyError, TypeError) as exc:
            raise MerkleError(f"not a standard-v1 Merkle tree dump: missing {exc}") from None
        loaded = cls(tree, values, leaf_encoding, tree_indices)
        loaded.validate()
        return loaded


def _json_field(field: Any) -> Any:
    if isinstance(field, bool) or isinstance(field, str):
        return field
    if isinstance(field, int):
        return str(field)
    if isinstance(field, (bytes, bytearray, memoryview)):
        return "0x" + bytes(field).hex()
    if isinstance(field, (list, tuple)):
        return [_json_field(item) for item in field]
    return field
