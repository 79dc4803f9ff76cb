"""CAR v1 export and import: round trips into an empty store, and bad CARs change nothing."""

from __future__ import annotations

import io

import dag_cbor
import pytest
from ipfs_test_support import CHUNK, pseudo_random_bytes, repo_snapshot
from multiformats import CID, varint

from qfzz_chain.ipfs import CarFormatError
from qfzz_chain.ipfs.car import (
    encode_header,
    encode_section,
    read_header,
    read_sections,
)
from qfzz_chain.ipfs.cid import block_cid, cid_bytes, cid_text
from qfzz_chain.ipfs.embedded import EmbeddedStore


def _export(store: EmbeddedStore, cid: str) -> bytes:
    out = io.BytesIO()
    store.export_car(cid, out)
    return out.getvalue()


@pytest.mark.parametrize("cid_version", [0, 1])
def test_export_then_import_into_an_empty_store(store, tmp_path, cid_version):
    content = pseudo_random_bytes(5 * CHUNK + 9, seed=cid_version)
    added = store.add_bytes(content, cid_version=cid_version)
    car = _export(store, added.cid)

    fresh = EmbeddedStore(tmp_path / "fresh")
    result = fresh.import_car(io.BytesIO(car))
    assert [root.cid for root in result.roots] == [added.cid]
    assert result.roots[0].pin_error == ""
    assert result.blocks == 7  # 6 leaves and the root
    assert fresh.pin_ls() == [added.cid]
    assert fresh.read_bytes(added.cid) == content
    assert _export(fresh, added.cid) == car  # the same DAG exports to the same bytes


def test_car_layout_is_header_then_blocks_depth_first(store):
    added = store.add_bytes(pseudo_random_bytes(2 * CHUNK + 1), cid_version=1)
    car = _export(store, added.cid)
    header_length, prefix, _ = varint.decode_raw(car)
    header = dag_cbor.decode(car[prefix : prefix + header_length])
    assert header == {"roots": [CID.decode(added.cid)], "version": 1}
    stream = io.BytesIO(car)
    assert [cid_text(root) for root in read_header(stream)] == [added.cid]
    sections = list(read_sections(stream))
    assert cid_text(sections[0].cid) == added.cid  # root first, then its children in link order
    assert [len(section.data) for section in sections[1:]] == [CHUNK, CHUNK, 1]


def test_a_multi_root_car_pins_complete_roots_and_reports_the_rest(store, tmp_path):
    complete = b"complete"
    complete_cid = block_cid(complete, codec=0x55, version=1)
    dangling_branch = store.add_bytes(pseudo_random_bytes(CHUNK + 1))  # only its root is shipped
    branch_bytes = store.get_block(dangling_branch.cid)
    car = (
        encode_header([complete_cid, cid_bytes(dangling_branch.cid)])
        + encode_section(complete_cid, complete)
        + encode_section(cid_bytes(dangling_branch.cid), branch_bytes)
    )
    fresh = EmbeddedStore(tmp_path / "fresh")
    result = fresh.import_car(io.BytesIO(car))
    errors = {root.cid: root.pin_error for root in result.roots}
    assert errors[cid_text(complete_cid)] == ""
    assert "not found" in errors[dangling_branch.cid]
    assert fresh.pin_ls() == [cid_text(complete_cid)]


def _bad_cars(store: EmbeddedStore) -> dict[str, bytes]:
    added = store.add_bytes(pseudo_random_bytes(3 * CHUNK), cid_version=1)
    car = _export(store, added.cid)
    stream = io.BytesIO(car)
    roots = read_header(stream)
    sections = list(read_sections(stream))
    tampered = bytearray(car)
    tampered[-1] ^= 0x01
    wrong_block = encode_header(roots) + b"".join(
        encode_section(section.cid, b"not the block" if index == 2 else section.data)
        for index, section in enumerate(sections)
    )
    v2_pragma = dag_cbor.encode({"version": 2})
    return {
        "truncated in the last block": car[:-100],
        "truncated in the header": car[:20],
        "tampered byte": bytes(tampered),
        "block that does not match its CID": wrong_block,
        "empty file": b"",
        "not a CAR": b"ID3\x04\x00 this is an mp3",
        "CAR v2": varint.encode(len(v2_pragma)) + v2_pragma + bytes(40) + car,
    }


@pytest.mark.parametrize(
    "case",
    [
        "truncated in the last block",
        "truncated in the header",
        "tampered byte",
        "block that does not match its CID",
        "empty file",
        "not a CAR",
        "CAR v2",
    ],
)
def test_a_bad_car_is_refused_and_changes_nothing(store, tmp_path, case):
    source = EmbeddedStore(tmp_path / "source")
    bad = _bad_cars(source)[case]
    store.add_bytes(b"already here")
    snapshot = repo_snapshot(store.repo)
    with pytest.raises(CarFormatError) as caught:
        store.import_car(io.BytesIO(bad))
    if case == "CAR v2":
        assert "CAR v2 is not supported" in str(caught.value)
    assert repo_snapshot(store.repo) == snapshot
    assert list((store.repo / "tmp").iterdir()) == []  # no scratch files left behind either


def test_exporting_unknown_content_writes_nothing(store):
    out = io.BytesIO()
    with pytest.raises(Exception, match="not found"):
        store.export_car("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", out)
    assert out.getvalue() == b""
