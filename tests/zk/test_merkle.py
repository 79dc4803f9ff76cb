"""qfzz_chain.zk.merkle against its references: eth_abi's encoding, OpenZeppelin's JS library
(@openzeppelin/merkle-tree, run with node) and OpenZeppelin's MerkleProof on-chain; hypothesis
properties for proofs of any tree."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from eth_abi import encode as eth_abi_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qfzz_chain.config import PROJECT_ROOT
from qfzz_chain.zk.errors import MerkleError
from qfzz_chain.zk.merkle import LeafEncoder, StandardMerkleTree, abi_encode, hash_pair, keccak256, leaf_hash, verify

RECEIPT_TYPES = ["bytes32", "uint64", "address", "bool", "bytes", "int32", "string"]

# generation speed, not correctness: a contended 2-core machine can trip these
SLOW_MACHINE = [HealthCheck.too_slow, HealthCheck.data_too_large]


def receipt(i: int) -> tuple:
    """A receipt-shaped value: commitment, epoch, sponsor, sponsored, CID bytes, score, note."""
    return (keccak256(i.to_bytes(8, "big")), 7 + i % 3, bytes([i % 256]) * 20, i % 4 == 0, os.urandom(i % 70),
            (-1) ** i * i * 1000, f"rank {i} · ♪")  # fmt: skip


# ---- ABI encoding ------------------------------------------------------------------------------

_VALUE = {
    "uint8": st.integers(0, 2**8 - 1), "uint16": st.integers(0, 2**16 - 1), "uint32": st.integers(0, 2**32 - 1),
    "uint64": st.integers(0, 2**64 - 1), "uint128": st.integers(0, 2**128 - 1), "uint256": st.integers(0, 2**256 - 1),
    "int8": st.integers(-(2**7), 2**7 - 1), "int32": st.integers(-(2**31), 2**31 - 1),
    "int256": st.integers(-(2**255), 2**255 - 1), "address": st.binary(min_size=20, max_size=20),
    "bool": st.booleans(), "bytes1": st.binary(min_size=1, max_size=1), "bytes4": st.binary(min_size=4, max_size=4),
    "bytes20": st.binary(max_size=20), "bytes32": st.binary(min_size=32, max_size=32), "bytes": st.binary(max_size=100),
    "string": st.text(max_size=40),
}  # fmt: skip


@st.composite
def typed_values(draw):
    types = draw(st.lists(st.sampled_from(sorted(_VALUE)), min_size=1, max_size=8))
    return types, [draw(_VALUE[t]) for t in types]


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(typed_values())
def test_the_compiled_encoder_writes_eth_abis_bytes(case):
    types, values = case
    assert abi_encode(types, values) == eth_abi_encode(types, values)


def test_other_types_fall_back_to_eth_abi():
    types, values = ["uint256[]", "(uint8,bool)", "bytes32"], [[1, 2, 3], (7, True), b"\x01" * 32]
    assert abi_encode(types, values) == eth_abi_encode(types, values)


def test_hex_strings_and_decimal_strings_are_read_as_the_dump_writes_them():
    types = ["address", "bytes32", "uint256", "bytes"]
    as_json = ["0x" + "ab" * 20, "0x" + "01" * 32, "12", "0xbeef"]
    assert abi_encode(types, as_json) == eth_abi_encode(types, [b"\xab" * 20, b"\x01" * 32, 12, b"\xbe\xef"])


@pytest.mark.parametrize(("types", "value", "message"), [
    (["uint8"], [256], "out of range for uint8"),
    (["uint256"], [-1], "out of range for uint256"),
    (["int8"], [128], "out of range for int8"),
    (["uint64"], [True], "expected an integer"),
    (["uint64"], ["seven"], "not an integer"),
    (["address"], [b"\x00" * 19], "20 bytes"),
    (["bytes4"], [b"\x00" * 5], "do not fit bytes4"),
    (["bytes32"], ["0xzz"], "not a hex string"),
    (["bool"], [1], "expected a bool"),
    (["string"], [b"bytes"], "expected a str"),
    (["uint8", "bool"], [1], "2 fields"),
    (["uint8"], 5, "1 fields"),
])  # fmt: skip
def test_values_that_do_not_fit_their_types_are_refused_naming_the_field(types, value, message):
    with pytest.raises(MerkleError, match=message):
        LeafEncoder(types).encode(value)


@pytest.mark.parametrize("abi_type", ["uint7", "uint264", "bytes33", "bytes0", "int0"])
def test_unknown_types_are_refused(abi_type):
    with pytest.raises(MerkleError, match="not an ABI type"):
        LeafEncoder([abi_type])


# ---- the tree ------------------------------------------------------------------------------------


def test_the_openzeppelin_readme_tree_has_its_published_root():
    values = [["0x1111111111111111111111111111111111111111", 5000000000000000000],
              ["0x2222222222222222222222222222222222222222", 2500000000000000000]]  # fmt: skip
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    assert tree.root.hex() == "d4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"


def test_leaves_are_double_hashed_and_pairs_sorted():
    values = [receipt(i) for i in range(3)]
    tree = StandardMerkleTree.of(values, RECEIPT_TYPES)
    leaves = [keccak256(keccak256(eth_abi_encode(RECEIPT_TYPES, list(v)))) for v in values]
    assert sorted(tree.leaf(i) for i in range(3)) == sorted(leaves)
    assert tree.leaf(1) == leaf_hash(RECEIPT_TYPES, values[1])
    assert hash_pair(leaves[0], leaves[1]) == hash_pair(leaves[1], leaves[0])
    assert tree.tree[2:] == sorted(leaves, reverse=True)  # sorted ascending, laid out reversed at n − 1


def test_a_single_leaf_is_its_own_root_with_an_empty_proof():
    tree = StandardMerkleTree.of([receipt(1)], RECEIPT_TYPES)
    assert tree.root == tree.leaf(0) and tree.proof(0) == () and tree.proofs() == [()]
    assert verify(tree.root, tree.leaf(0), ())


def test_no_leaves_or_a_missing_index_is_refused():
    with pytest.raises(MerkleError, match="at least one leaf"):
        StandardMerkleTree.of([], RECEIPT_TYPES)
    with pytest.raises(MerkleError, match="no leaf 3"):
        StandardMerkleTree.of([receipt(i) for i in range(3)], RECEIPT_TYPES).proof(3)


_TREES = st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 2**64 - 1)), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(values=_TREES, sort_leaves=st.booleans(), data=st.data())
def test_every_proof_verifies_and_any_tampering_fails(values, sort_leaves, data):
    types = ["bytes32", "uint64"]
    tree = StandardMerkleTree.of(values, types, sort_leaves=sort_leaves)
    proofs = tree.proofs()
    for i, value in enumerate(values):
        assert proofs[i] == tree.proof(i)
        assert verify(tree.root, tree.leaf(i), proofs[i])
        assert StandardMerkleTree.verify(tree.root, types, value, proofs[i])
    i = data.draw(st.integers(0, len(values) - 1))
    value, proof = values[i], proofs[i]
    tampered_value = (value[0], value[1] ^ 1)
    if tampered_value not in values:
        assert not tree.verify_value(tampered_value, proof)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        flipped = bytearray(proof[k])
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert not verify(tree.root, tree.leaf(i), proof[:k] + (bytes(flipped),) + proof[k + 1 :])
        assert not verify(tree.root, tree.leaf(i), proof[:-1])
    assert not verify(tree.root, tree.leaf(i), proof + (tree.root,))
    assert not verify(keccak256(tree.root), tree.leaf(i), proof)


def test_duplicate_values_each_get_a_leaf_and_a_proof():
    values = [receipt(1), receipt(2), receipt(1)]
    tree = StandardMerkleTree.of(values, RECEIPT_TYPES)
    assert len({tree.tree_indices[0], tree.tree_indices[2]}) == 2
    assert all(verify(tree.root, tree.leaf(i), tree.proof(i)) for i in range(3))


def test_dump_and_load_round_trip_and_load_refuses_tampering():
    tree = StandardMerkleTree.of([receipt(i) for i in range(9)], RECEIPT_TYPES)
    dump = json.loads(json.dumps(tree.dump()))
    loaded = StandardMerkleTree.load(dump)
    assert loaded.root == tree.root and loaded.proof(4) == tree.proof(4)
    changed_value = json.loads(json.dumps(dump))
    changed_value["values"][2]["value"][1] = "999"
    with pytest.raises(MerkleError, match="value 2 does not hash to its leaf"):
        StandardMerkleTree.load(changed_value)
    changed_node = json.loads(json.dumps(dump))
    changed_node["tree"][1] = "0x" + "00" * 32
    with pytest.raises(MerkleError, match="node 0 is not the hash of its children"):
        StandardMerkleTree.load(changed_node)
    with pytest.raises(MerkleError, match="unknown Merkle tree format"):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})
    with pytest.raises(MerkleError, match="missing"):
        StandardMerkleTree.load({"format": "standard-v1"})


# ---- OpenZeppelin's JS library ---------------------------------------------------------------


CASES = [(count, sort_leaves) for count in (1, 2, 3, 16, 37) for sort_leaves in (True, False)]


@pytest.fixture(scope="module")
def trees_and_references() -> list[tuple[StandardMerkleTree, dict]]:
    """Our trees for CASES, and what @openzeppelin/merkle-tree makes of the same values (one node run)."""
    trees = [StandardMerkleTree.of([receipt(i) for i in range(count)], RECEIPT_TYPES, sort_leaves=sort_leaves)
             for count, sort_leaves in CASES]  # fmt: skip
    payload = []
    for tree, (_, sort_leaves) in zip(trees, CASES):
        dump = tree.dump()
        payload.append({"leafEncoding": dump["leafEncoding"], "values": [v["value"] for v in dump["values"]],
                        "sortLeaves": sort_leaves, "dump": dump,
                        "pythonProofs": [["0x" + s.hex() for s in p] for p in tree.proofs()]})  # fmt: skip
    script = PROJECT_ROOT / "tests" / "zk" / "oz_merkle_tree.js"
    result = subprocess.run(["node", str(script)], input=json.dumps(payload), capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=120, check=True)  # fmt: skip
    return list(zip(trees, json.loads(result.stdout)))


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{n}-{'sorted' if s else 'unsorted'}" for n, s in CASES])
def test_openzeppelins_js_library_builds_the_same_tree_and_accepts_our_proofs(trees_and_references, case):
    tree, reference = trees_and_references[case]
    assert reference["root"] == "0x" + tree.root.hex()
    assert reference["tree"] == ["0x" + node.hex() for node in tree.tree]
    assert reference["treeIndices"] == tree.tree_indices
    assert reference["proofs"] == [["0x" + s.hex() for s in proof] for proof in tree.proofs()]
    assert reference["pythonProofsVerify"] == [True] * len(tree)
    assert reference["loadedRoot"] == "0x" + tree.root.hex()


# ---- OpenZeppelin's MerkleProof on-chain -------------------------------------------------------


def test_merkle_proof_verify_accepts_every_proof_on_chain(merkle_harness):
    values = [receipt(i) for i in range(21)]
    tree = StandardMerkleTree.of(values, RECEIPT_TYPES)
    for i, value in enumerate(values):
        proof = list(tree.proof(i))
        assert merkle_harness.verify(proof, tree.root, tree.leaf(i)) is True
        assert merkle_harness.verifyCalldata(proof, tree.root, tree.leaf(i)) is True
        assert bytes(merkle_harness.processProof(proof, tree.leaf(i))) == tree.root
        # the leaf computed by Solidity's own abi.encode of the typed value
        assert bytes(merkle_harness.receiptLeaf(*value)) == tree.leaf(i)
        assert bytes(merkle_harness.standardLeaf(abi_encode(RECEIPT_TYPES, value))) == tree.leaf(i)
        assert merkle_harness.verifyReceipt(proof, tree.root, *value) is True


def test_merkle_proof_verify_refuses_tampering_on_chain(merkle_harness):
    values = [receipt(i) for i in range(8)]
    tree = StandardMerkleTree.of(values, RECEIPT_TYPES)
    proof = list(tree.proof(3))
    assert merkle_harness.verify(proof, tree.root, tree.leaf(4)) is False
    assert merkle_harness.verify(proof[:-1], tree.root, tree.leaf(3)) is False
    tampered = list(values[3])
    tampered[5] += 1  # the score
    assert merkle_harness.verifyReceipt(proof, tree.root, *tampered) is False
