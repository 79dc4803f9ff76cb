"""The links (tag-42 CIDs) inside a dag-cbor block, found without building Python values.

``libipld.decode_dag_cbor`` checks a block is strict dag-cbor, but returns a CID link as plain
``bytes``, the same as a byte string, so the links cannot be told from data in its result.
This scanner walks the CBOR items themselves and yields exactly the tag-42 byte strings
(less their 0x00 multibase prefix), in document order.
"""

from __future__ import annotations

from typing import Iterator


def _head(data: bytes, offset: int) -> tuple[int, int, int]:
    """(major type, argument, offset after the head) of the CBOR item at ``offset``."""
    if offset >= len(data):
        raise ValueError("truncated dag-cbor")
    initial = data[offset]
    major, info = initial >> 5, initial & 0x1F
    offset += 1
    if info < 24:
        return major, info, offset
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise ValueError("indefinite lengths are not dag-cbor")
    size = sizes[info]
    if offset + size > len(data):
        raise ValueError("truncated dag-cbor")
    return major, int.from_bytes(data[offset : offset + size], "big"), offset + size


def cbor_links(data: bytes) -> Iterator[bytes]:
    """Every CID linked from a dag-cbor block (binary CIDs); ``ValueError`` if it is malformed."""
    offset = 0
    pending = 1  # items still to read; containers add their children
    while pending:
        pending -= 1
        major, argument, offset = _head(data, offset)
        if major in (0, 1, 7):
            continue  # integers, simple values and floats carry their value in the head
        if major in (2, 3):
            offset += argument
            if offset > len(data):
                raise ValueError("truncated dag-cbor")
        elif major == 4:
            pending += argument
        elif major == 5:
            pending += 2 * argument
        elif major == 6:
            if argument != 42:
                raise ValueError(f"tag {argument} is not allowed in dag-cbor")
            inner, size, offset = _head(data, offset)
            if inner != 2 or size < 1 or offset + size > len(data) or data[offset] != 0:
                raise ValueError("tag 42 must hold a byte string with a 0x00 prefix")
            yield data[offset + 1 : offset + size]
            offset += size
    if offset != len(data):
        raise ValueError("trailing bytes after the dag-cbor item")
