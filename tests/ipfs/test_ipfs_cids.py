"""CID compatibility with kubo: published CIDs, go-ipfs importer vectors, and DAG shape."""

from __future__ import annotations

import io

import multiformats
import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes

from qfzz_chain.ipfs import InvalidCidError, parse_cid
from qfzz_chain.ipfs.cid import cid_text
from qfzz_chain.ipfs.dagpb import Link, decode_node, decode_unixfs, encode_file_branch
from qfzz_chain.ipfs.unixfs import MAX_LINKS, file_blocks, read_chunks

# Published by kubo (issue 3, TOOLCHAIN.md): `ipfs add` and `ipfs add --cid-version 1`.
KUBO_VECTORS = [
    (b"hello world\n", 0, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"),
    (b"", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
    (b"hello world\n", 1, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"),
    (b"", 1, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
]

# go-ipfs results for small chunk sizes, as recorded in rust-ipfs's importer tests
# (unixfs/src/file/adder.rs). With small chunks these exercise the same balanced layout that a
# 256 KiB-chunk file of hundreds of MB needs: two levels, a full 174-link node, a lone child.
LOREM = (
    b"Lorem ipsum dolor sit amet, sit enim montes aliquam. Cras non lorem, rhoncus condimentum, "
    b"irure et ante. Pulvinar suscipit odio ante, et tellus a enim, wisi ipsum, vel rhoncus eget "
    b"faucibus varius, luctus turpis nibh vel odio nulla pede."
)
GO_IPFS_SMALL_CHUNK_VECTORS = [
    # (content, chunk size, root CID, block count)
    (LOREM, 1, "QmRQ6NZNUs4JrCT2y7tmCC1wUhjqYuTssB8VXbbN3rMffg", 240),  # 239 chunks: 2 levels
    (LOREM, 32, "QmYSLcVQqxKygiq7x9w1XGYxU29EShB8ZemiaQ8GAAw17h", 9),
    (b"foobar\n", 2, "QmRJHYTNvC3hmd9gJQARxLR1QMEincccBV53bBw524yyq6", 5),
    (bytes(174 * 2 + 1), 2, "QmcHNWF1d56uCDSfJPA7t9fadZRV9we5HGSTGSmwuqmMP9", 178),  # 174 + 1 chunks
]


def _blocks(content: bytes, chunk_size: int = CHUNK, cid_version: int = 0):
    return list(file_blocks(read_chunks(io.BytesIO(content), chunk_size), cid_version=cid_version))


@pytest.mark.parametrize(("content", "cid_version", "expected"), KUBO_VECTORS)
def test_published_kubo_cids(store, content, cid_version, expected):
    assert store.add_bytes(content, cid_version=cid_version).cid == expected
    assert store.add_bytes(content, cid_version=cid_version, only_hash=True).cid == expected
    assert store.read_bytes(expected) == content


@pytest.mark.parametrize(("content", "chunk_size", "expected", "count"), GO_IPFS_SMALL_CHUNK_VECTORS)
def test_go_ipfs_balanced_layout_vectors(content, chunk_size, expected, count):
    blocks = _blocks(content, chunk_size)
    assert cid_text(blocks[-1].cid) == expected
    assert len(blocks) == count


def test_foobar_leaves_in_go_ipfs_order():
    cids = [cid_text(block.cid) for block in _blocks(b"foobar\n", 2)]
    assert cids == [
        "QmfVyMoStzTvdnUR7Uotzh82gmL427q9z3xW5Y8fUoszi4",
        "QmdPyW4CWE3QBkgjWfjM5f7Tjb3HukxVuBXZtkqAGwsMnm",
        "QmNhDQpphvMWhdCzP74taRzXDaEfPGq8vWfFRzD7mEgePM",
        "Qmc5m94Gu7z62RC8waSKkZUrCCBJPyHbkpmGzEePxy2oXJ",
        "QmRJHYTNvC3hmd9gJQARxLR1QMEincccBV53bBw524yyq6",
    ]


@pytest.mark.parametrize("cid_version", [0, 1])
def test_one_chunk_and_one_byte_makes_a_two_leaf_root(cid_version):
    content = pseudo_random_bytes(CHUNK + 1)
    blocks = _blocks(content, cid_version=cid_version)
    assert len(blocks) == 3
    root = decode_node(blocks[-1].data)
    unixfs = decode_unixfs(root.data)
    assert [link.cid for link in root.links] == [blocks[0].cid, blocks[1].cid]
    assert unixfs.blocksizes == (CHUNK, 1)
    assert unixfs.filesize == CHUNK + 1
    if cid_version == 1:
        assert blocks[0].data == content[:CHUNK]  # raw leaf: the chunk itself
        assert cid_text(blocks[-1].cid).startswith("bafybei")
    else:
        assert cid_text(blocks[-1].cid).startswith("Qm")
    # Tsize counts each child's whole DAG; the root's DAG size adds its own bytes.
    assert [link.tsize for link in root.links] == [len(blocks[0].data), len(blocks[1].data)]
    assert blocks[-1].dag_size == len(blocks[-1].data) + len(blocks[0].data) + len(blocks[1].data)


def test_more_than_174_chunks_needs_a_second_level():
    """175 chunks: root -> [full 174-leaf node, node with the 175th leaf] (go-unixfs balanced)."""
    chunks = [bytes([index % 251]) * 3 for index in range(MAX_LINKS + 1)]
    blocks = list(file_blocks(iter(chunks)))
    root = decode_node(blocks[-1].data)
    assert len(root.links) == 2
    by_cid = {block.cid: block for block in blocks}
    first, second = (decode_node(by_cid[link.cid].data) for link in root.links)
    assert len(first.links) == MAX_LINKS
    assert len(second.links) == 1
    assert decode_unixfs(root.data).blocksizes == (MAX_LINKS * 3, 3)


def test_branch_encoding_is_canonical_dag_pb():
    """Links (field 2) come before Data (field 1), and the empty link name is written (12 00)."""
    child = b"\x12\x20" + bytes(32)
    encoded = encode_file_branch([Link(cid=child, tsize=7)], [5])
    assert encoded.startswith(b"\x12\x28\x0a\x22" + child + b"\x12\x00\x18\x07")
    assert encoded.endswith(b"\x0a\x06\x08\x02\x18\x05\x20\x05")


@pytest.mark.parametrize("text", ["", "nonsense", "Qm123", "bafy!!!", "/ipfs/"])
def test_parse_cid_names_the_bad_string(text):
    with pytest.raises(InvalidCidError, match="is not a valid CID") as caught:
        parse_cid(text)
    assert repr(text) in str(caught.value)


def test_parse_cid_accepts_ipfs_paths_and_other_bases():
    v1 = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    assert str(parse_cid(f"/ipfs/{v1}")) == v1
    for base in ("base58btc", "base36", "base16", "base32upper"):  # any multibase, shown in base32
        other_form = str(multiformats.CID.decode(v1).set(base=base))
        assert str(parse_cid(other_form)) == v1
