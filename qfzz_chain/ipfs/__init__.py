"""IPFS for QFZZ: kubo-compatible content addressing without needing a kubo daemon.

``open_store()`` returns the one ``ContentStore`` to use: the embedded on-disk store by default,
or a kubo node over its RPC API when ``QFZZ_IPFS_API`` (or ``api_url``) names one. Both give the
CIDs ``ipfs add`` gives (256 KiB chunks, balanced DAG of at most 174 links, CIDv0 by default,
CIDv1 with raw leaves).
"""

from qfzz_chain.ipfs.cid import parse_cid
from qfzz_chain.ipfs.errors import (
    BlockCorruptedError,
    BlockNotFoundError,
    CarFormatError,
    InvalidCidError,
    IpfsError,
    NodeUnavailableError,
    NotAFileError,
)
from qfzz_chain.ipfs.store import (
    AddResult,
    ContentStore,
    ImportedRoot,
    ImportResult,
    Progress,
    open_store,
)

__all__ = [
    "AddResult",
    "BlockCorruptedError",
    "BlockNotFoundError",
    "CarFormatError",
    "ContentStore",
    "ImportResult",
    "ImportedRoot",
    "InvalidCidError",
    "IpfsError",
    "NodeUnavailableError",
    "NotAFileError",
    "Progress",
    "open_store",
    "parse_cid",
]
