"""Values and checks shared by the contract tests."""

import os
from contextlib import contextmanager

import brownie
import pytest

DAG_PB, RAW, SHA2_256 = 0x70, 0x55, 0x12


def random_digest() -> bytes:
    return os.urandom(32)


def cid_v0(digest: bytes | None = None) -> tuple:
    return (0, DAG_PB, SHA2_256, digest or random_digest())


def cid_v1_raw(digest: bytes | None = None) -> tuple:
    return (1, RAW, SHA2_256, digest or random_digest())


def deadline_in(seconds: int) -> int:
    """A deadline relative to the latest block (snapshots move the chain's clock back)."""
    return brownie.chain[-1].timestamp + seconds


@contextmanager
def reverts_with(error_name: str):
    """Expect a revert with the named custom error (Brownie renders them `Name: args`)."""
    with pytest.raises(brownie.exceptions.VirtualMachineError) as exc_info:
        yield exc_info
    message = exc_info.value.revert_msg or ""
    assert message.split(":")[0] == error_name, f"expected {error_name}, reverted with {message!r}"


def plain(value):
    """Brownie return values (HexString, ReturnValue, EventDict) as plain Python for comparisons."""
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:])
    if isinstance(value, (list, tuple)):
        return tuple(plain(v) for v in value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value
